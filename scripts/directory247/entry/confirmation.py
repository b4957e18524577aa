"""The re-confirmation policy: a Party confirms its entry at least every 12 months, and the
dates that follow from it. Pure date arithmetic, shared by the rules, the freshness report
and the exports (``reminders.ics``, ``directory.json``).
"""

from __future__ import annotations

import datetime as dt

#: A Party must re-confirm its entry at least this often.
CONFIRMATION_POLICY_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's end (29 Feb + 12 -> 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def confirmation_due(confirmed: dt.date) -> dt.date:
    return add_months(confirmed, CONFIRMATION_POLICY_MONTHS)


def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


#: Where a Party reads how to confirm; named in reminders and calendar events.
GUIDE = "docs/guide-freshness.md"


def entry_path(code: str) -> str:
    """Where an entry lives in the repository, as a Party types it."""
    return f"directory/{code.lower()}.yaml"


def confirm_command(code: str) -> str:
    return f"directory247 confirm {entry_path(code)}"
