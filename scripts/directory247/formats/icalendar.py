"""``reminders.ics``: each State's confirmation due date as an iCalendar (RFC 5545) event.

One all-day ``VEVENT`` per entry, on the day its confirmation falls due under the 12-month
policy, so the Secretariat and each Party can subscribe to the dates in any calendar.

Reproducible on purpose: ``DTSTAMP`` is the ``generated`` time given by the caller (the
release time), never the clock; events are sorted by State code; a ``UID`` is
``confirm-<cc>-<due date>@directory247``, stable for as long as the due date stays the same
and new once the State confirms (a new reminder, not an edit of the old one).

Owns the wire details: TEXT escaping (backslash, semicolon, comma, newline; RFC 5545
3.3.11), line folding at 75 octets without splitting a UTF-8 character (3.1), CRLF line
ends. Does not own when an entry is due (``confirmation.confirmation_due``) nor publishing the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..entry.confirmation import CONFIRMATION_POLICY_MONTHS, GUIDE, confirm_command, confirmation_due
from ..entry.model import Entry
from .export import Build, Export, mismatch

NAME = "reminders.ics"

PRODID = "-//directory247//Directory of 24/7 contact points: confirmation reminders//EN"
CALENDAR_NAME = "24/7 Directory: confirmation due dates"
_MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value escaped per RFC 5545 3.3.11 (CRLF and CR count as a newline)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def unfold(text: str) -> str:
    """The content lines of folded iCalendar text (RFC 5545 3.1): a CRLF followed by one
    space or tab joins the next line to the one before."""
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def fold(line: str) -> str:
    """``line`` folded into CRLF-separated pieces of at most 75 octets each (RFC 5545 3.1).

    Each continuation starts with one space, which counts toward its 75 octets. A piece
    never ends inside a multi-octet UTF-8 character.
    """
    pieces: list[str] = []
    current, size, limit = "", 0, _MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, _MAX_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _event(entry: Entry, stamp: str) -> list[str]:
    due = confirmation_due(entry.confirmed)
    description = (
        f"The entry of {entry.name} ({entry.code}) in the Directory of 24/7 contact points was last confirmed "
        f"on {entry.confirmed.isoformat()}. Under the {CONFIRMATION_POLICY_MONTHS}-month policy it must be "
        f"re-confirmed by {due.isoformat()}.\n"
        "Check every field of the entry. If it is still correct, run:\n"
        f"{confirm_command(entry.code)}\n"
        "and open a pull request with the entry and its signature. If something changed, edit the entry, "
        f"raise its serial and sign it (directory247 sign).\nGuide: {GUIDE}"
    )
    if entry.demo:
        description += "\nDEMONSTRATION DATA: this entry is fictional."
    return [
        "BEGIN:VEVENT",
        f"UID:confirm-{entry.code.lower()}-{due.isoformat()}@directory247",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_date(due)}",
        f"DTEND;VALUE=DATE:{_date(due + dt.timedelta(days=1))}",
        f"SUMMARY:{escape_text(f'Confirm the 24/7 Directory entry of {entry.name}')}",
        f"DESCRIPTION:{escape_text(description)}",
        "TRANSP:TRANSPARENT",  # a reminder, not a meeting: it never blocks time
        "END:VEVENT",
    ]


def render(entries: Sequence[Entry], generated: dt.datetime) -> bytes:
    """The calendar of confirmation due dates of ``entries``; ``generated`` (aware) is DTSTAMP."""
    if generated.tzinfo is None:
        raise ValueError("generated must be timezone-aware")
    stamp = generated.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = CALENDAR_NAME + (" (demonstration data)" if any(e.demo for e in entries) else "")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape_text(name)}"]
    for entry in sorted(entries, key=lambda e: e.code):
        lines.extend(_event(entry, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def render_export(build: Build) -> bytes:
    return render(build.release.entries, build.release.released)


def read_back(build: Build, data: bytes) -> None:
    """One event per State, each on its confirmation due date."""
    text = unfold(data.decode("utf-8"))
    uids = [line[len("UID:"):] for line in text.split("\r\n") if line.startswith("UID:")]
    expected = [f"confirm-{e.code.lower()}-{confirmation_due(e.confirmed).isoformat()}@directory247"
                for e in build.release.entries]
    if sorted(uids) != sorted(expected):
        missing = sorted(set(expected) - set(uids)) or sorted(set(uids) - set(expected))
        raise mismatch(NAME, f"events do not match the entries' due dates ({', '.join(missing[:3])})")


EXPORT = Export(NAME, render_export, read_back)
