"""Freshness: when each entry must be re-confirmed, which are stale, and the confirm edit.

This module is a pure core (no files, no clock, no printing). It owns:

- the standing of one entry on a given day (``assess``): *current*, *due* (its confirmation
  falls due within the look-ahead window) or *overdue* (the due date has passed), under the
  12-month policy of ``confirmation.confirmation_due``. The due date itself is still *due*, not
  *overdue*, exactly as ``validate`` judges it;
- the stale report (``stale_report``): every entry that is due or overdue, or whose contact
  point failed its last reachability test, with its authorised signers and the last test of
  each contact point, most urgent first;
- the text of a reminder mail to one State (``reminder_mail``), a draft for the Secretariat;
- the ``confirm`` edit (``confirm_edit``): a new ``confirmed`` date and ``serial + 1``
  written into the entry's own bytes at the positions the strict loader reports, so every
  other byte (comments, order, quoting, line endings) stays as the Party wrote it.

Not owned here: reading entries or the reachability records (``validation``,
``reachability``), signing (``trust.party_signing``), and output formats (the ``stale`` command and
``formats``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..entry.confirmation import (
    CONFIRMATION_POLICY_MONTHS,
    GUIDE,
    confirm_command,
    confirmation_due,
    entry_path,
    parse_date,
)
from ..entry.loader import Document, load_entry
from ..entry.model import Entry
from ..errors import DirectoryError, UsageError
from ..problems import Problem
from .reachability import ContactKey, Result

#: How many days ahead ``stale`` looks for confirmations falling due, unless told otherwise.
DEFAULT_WITHIN_DAYS = 30



class Standing(StrEnum):
    """Where an entry stands in the confirmation cycle on a given day."""

    CURRENT = "current"
    DUE = "due"  # falls due within the look-ahead window (the due day included)
    OVERDUE = "overdue"  # the due date has passed


@dataclass(frozen=True)
class Confirmation:
    """One entry's place in the confirmation cycle as of a day."""

    code: str
    name: str
    confirmed: dt.date
    due: dt.date
    standing: Standing
    #: days from the as-of day to the due date; negative once overdue
    days_left: int


def standing(confirmed: dt.date, as_of: dt.date, within_days: int = DEFAULT_WITHIN_DAYS) -> Standing:
    """The standing of an entry confirmed on ``confirmed``, judged on ``as_of``."""
    if within_days < 0:
        raise ValueError("within_days must not be negative")
    due = confirmation_due(confirmed)
    if due < as_of:
        return Standing.OVERDUE
    if due <= as_of + dt.timedelta(days=within_days):
        return Standing.DUE
    return Standing.CURRENT


def assess(entry: Entry, as_of: dt.date, within_days: int = DEFAULT_WITHIN_DAYS) -> Confirmation:
    """The standing of ``entry`` on ``as_of``; what the site shows next to each State."""
    due = confirmation_due(entry.confirmed)
    return Confirmation(entry.code, entry.name, entry.confirmed, due,
                        standing(entry.confirmed, as_of, within_days), (due - as_of).days)


# --- the stale report --------------------------------------------------------------------

@dataclass(frozen=True)
class ContactPointTest:
    """A contact point and the last reachability test recorded for it (None: never tested)."""

    index: int
    role: str
    authority: str
    last_test: Result | None

    @property
    def failed(self) -> bool:
        return self.last_test is not None and not self.last_test.answered


@dataclass(frozen=True)
class StaleEntry:
    """One line of the stale report."""

    confirmation: Confirmation
    path: str
    #: primary fingerprints authorised to sign for the State (trusted authorisations)
    signers: tuple[str, ...]
    #: the primary contact point's first e-mail, where a reminder goes
    email: str | None
    contact_points: tuple[ContactPointTest, ...]
    #: the entry is demonstration data (said plainly in every reminder)
    demo: bool = False

    @property
    def code(self) -> str:
        return self.confirmation.code

    @property
    def reminder_due(self) -> bool:
        """Whether a reminder to confirm should go out (due or overdue)."""
        return self.confirmation.standing is not Standing.CURRENT

    @property
    def unreachable(self) -> bool:
        """Whether any contact point failed its last reachability test."""
        return any(cp.failed for cp in self.contact_points)


@dataclass(frozen=True)
class StaleReport:
    as_of: dt.date
    within_days: int
    #: how many entries were assessed
    entries: int
    #: entries due, overdue or unreachable, most urgent (earliest due date) first
    listed: tuple[StaleEntry, ...]
    #: reachability records that name no existing contact point
    unmatched: tuple[Result, ...] = ()

    def count(self, which: Standing) -> int:
        return sum(1 for item in self.listed if item.confirmation.standing is which)

    @property
    def unreachable(self) -> int:
        return sum(1 for item in self.listed if item.unreachable)

    @property
    def failing(self) -> bool:
        """True when ``stale`` exits 1: an entry is overdue or a contact point failed its last test."""
        return self.count(Standing.OVERDUE) > 0 or self.unreachable > 0


def stale_report(entries: Iterable[Entry], *, as_of: dt.date, within_days: int = DEFAULT_WITHIN_DAYS,
                 signers: Mapping[str, Sequence[str]], last: Mapping[ContactKey, Result],
                 unmatched: Sequence[Result] = ()) -> StaleReport:
    """The entries needing attention on ``as_of``.

    ``signers`` maps a State code to its authorised fingerprints, ``last`` is
    ``reachability.last_results`` (already limited to tests up to ``as_of`` by the caller).
    """
    listed: list[StaleEntry] = []
    count = 0
    for entry in entries:
        count += 1
        confirmation = assess(entry, as_of, within_days)
        tests = tuple(ContactPointTest(index, cp.role, cp.authority, last.get((entry.code, index)))
                      for index, cp in enumerate(entry.contact_points))
        item = StaleEntry(confirmation, entry_path(entry.code), tuple(signers.get(entry.code, ())),
                          entry.primary.emails[0] if entry.primary.emails else None, tests, entry.demo)
        if item.reminder_due or item.unreachable:
            listed.append(item)
    listed.sort(key=lambda item: (item.confirmation.due, item.code))
    return StaleReport(as_of, within_days, count, tuple(listed), tuple(unmatched))


def describe_test(test: Result | None) -> str:
    """One line about a reachability test, for people."""
    if test is None:
        return "no reachability test recorded"
    if test.answered:
        minutes = f" in {test.response_minutes} min" if test.response_minutes is not None else ""
        outcome = f"answered{minutes}"
    else:
        outcome = "NOT ANSWERED"
    note = f"; note: {test.note}" if test.note else ""
    return f"last test {test.date.isoformat()} by {test.channel}: {outcome}{note}"


def reminder_mail(item: StaleEntry, as_of: dt.date) -> str:
    """A plain-text reminder to confirm, with ``To:`` and ``Subject:`` lines, for a person to send."""
    c = item.confirmation
    when = (f"was due on {c.due.isoformat()} ({-c.days_left} days ago)" if c.standing is Standing.OVERDUE
            else f"is due on {c.due.isoformat()}" + (" (today)" if c.days_left == 0 else f" (in {c.days_left} days)"))
    subject = (f"24/7 Directory: the entry of {c.name} is overdue for confirmation" if c.standing is Standing.OVERDUE
               else f"24/7 Directory: please confirm the entry of {c.name} by {c.due.isoformat()}")
    lines = [
        f"To: {item.email or '(no e-mail in the entry: find the address of the primary contact point)'}",
        f"Subject: {subject}",
        "",
        *(["DEMONSTRATION DATA: this reminder concerns a fictional entry; do not send it to a real authority.", ""]
          if item.demo else []),
        "Dear colleagues,",
        "",
        f"The entry of {c.name} ({c.code}) in the Directory of 24/7 contact points under Article 35 of the",
        f"Convention on Cybercrime was last confirmed on {c.confirmed.isoformat()}. Under the directory's",
        f"{CONFIRMATION_POLICY_MONTHS}-month policy its re-confirmation {when}.",
        "",
        "Please check every field of the entry. If something changed, edit it, raise its serial and sign",
        "it (directory247 sign). If everything is still correct, confirm it in one step:",
        "",
        f"    {confirm_command(c.code)}",
        "",
        "This sets the confirmation date to today, raises the serial and signs the entry with your",
        "State's key. Then open a pull request with the entry and its signature. The guide explains",
        f"each step: {GUIDE}",
    ]
    failed = [cp for cp in item.contact_points if cp.failed]
    if failed:
        lines += ["", "Our last reachability test of your contact points was not answered:"]
        lines += [f"  - contact point {cp.index + 1} ({cp.role}, {cp.authority}): {describe_test(cp.last_test)}"
                  for cp in failed]
        lines.append("Please check that the numbers and addresses in the entry still reach the 24/7 service.")
    lines += ["", "With kind regards,", "The Secretariat of the Cybercrime Convention Committee (T-CY)", "",
              f"(Reminder drafted on {as_of.isoformat()} by directory247 stale.)"]
    return "\n".join(lines) + "\n"


# --- the confirm edit --------------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmEdit:
    """An entry's bytes after ``confirm``, with what changed."""

    data: bytes
    old_confirmed: str
    new_confirmed: dt.date
    old_serial: int
    new_serial: int


class EntryNotLoadable(DirectoryError):
    """The entry cannot be read strictly; ``problems`` says why."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


_DIGITS = re.compile(r"[0-9]{1,18}")


def _offsets(text: str) -> list[int]:
    """Offset of the start of each line (1-based line n starts at ``starts[n - 1]``)."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def _replacement(text: str, starts: list[int], doc: Document, name: str, new_value: str) -> tuple[int, int, str]:
    """Where in ``text`` the value of top-level ``name`` is written, and what to write there.

    Only the value's characters change: a quoted value keeps its quotes. A value written so
    that its text is not its value (escapes, several lines, a block scalar) is refused
    rather than re-serialised.
    """
    span = doc.spans.get((name,))
    if span is None:
        line, col = doc.position((name,))
        raise DirectoryError(f"{doc.source}:{line}:{col}: {name}: missing, or not a single value; "
                             f"the entry needs {name}: before it can be confirmed")
    (line, col), (end_line, end_col) = span
    start, end = starts[line - 1] + col - 1, starts[end_line - 1] + end_col - 1
    raw, value = text[start:end], doc.value[name]
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0] and raw[1:-1] == value:
        return start + 1, end - 1, new_value
    if (name,) not in doc.quoted and raw == value:
        return start, end, new_value
    raise DirectoryError(f"{doc.source}:{line}:{col}: {name}: written in a form 'confirm' does not edit "
                         f"(escapes, several lines or a block scalar); write it on one line, e.g. "
                         f"{name}: {new_value}")


def confirm_edit(data: bytes, source: str, day: dt.date) -> ConfirmEdit:
    """``data`` with ``confirmed`` set to ``day`` and ``serial`` raised by one; nothing else changes.

    Refuses a ``day`` before the current confirmation (confirmation dates only move forward).
    Validation of the result is the caller's (``trust.party_signing.sign_entry`` does it before signing).
    """
    loaded = load_entry(data, source)
    doc = loaded.document
    if doc is None:
        raise EntryNotLoadable(f"{source} cannot be read; fix the problems above, then confirm",
                               list(loaded.problems))
    serial_text, confirmed_text = doc.value.get("serial"), doc.value.get("confirmed")
    if not isinstance(serial_text, str) or not _DIGITS.fullmatch(serial_text):
        line, col = doc.position(("serial",))
        raise DirectoryError(f"{source}:{line}:{col}: serial: must be a whole number to be raised; fix it, "
                             "then confirm")
    if not isinstance(confirmed_text, str):
        line, col = doc.position(("confirmed",))
        raise DirectoryError(f"{source}:{line}:{col}: confirmed: missing or not a date (YYYY-MM-DD)")
    previous = parse_date(confirmed_text)
    if previous is not None and day < previous:
        raise UsageError(f"{day.isoformat()} is before the last confirmation ({previous.isoformat()}) in {source}; "
                         "confirmation dates only move forward")
    old_serial = int(serial_text)
    text = data.decode("utf-8")  # the strict loader has accepted it as UTF-8
    starts = _offsets(text)
    edits = sorted([_replacement(text, starts, doc, "confirmed", day.isoformat()),
                    _replacement(text, starts, doc, "serial", str(old_serial + 1))], reverse=True)
    for start, end, new in edits:  # from the end, so earlier offsets stay valid
        text = text[:start] + new + text[end:]
    edited = text.encode("utf-8")
    _check_only_two_changed(doc, edited, source)
    return ConfirmEdit(edited, confirmed_text, day, old_serial, old_serial + 1)


def _check_only_two_changed(before: Document, edited: bytes, source: str) -> None:
    # Belt and braces: the edit is positional, so prove that it changed exactly two values.
    after = load_entry(edited, source).document
    if after is None:  # pragma: no cover - replacing a value's characters cannot break the YAML
        raise DirectoryError(f"{source}: the confirm edit made the file unreadable; it was not written")
    same = {k: v for k, v in after.value.items() if k not in ("confirmed", "serial")}
    if same != {k: v for k, v in before.value.items() if k not in ("confirmed", "serial")} \
            or list(after.value) != list(before.value):  # pragma: no cover - see above
        raise DirectoryError(f"{source}: the confirm edit changed more than confirmed and serial; "
                             "it was not written")
