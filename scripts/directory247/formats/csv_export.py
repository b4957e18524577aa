"""``directory.csv``: one row per contact point, for spreadsheets and quick scripts.

Owns the CSV layout (``COLUMNS``, in that fixed order), the neutralisation of cells that a
spreadsheet would run as a formula, and ``parse``, which reads the file back and undoes
that neutralisation so a release can compare every row with the entry it came from.
``directory.json`` stays the canonical export; this one flattens an entry and leaves out
what does not fit one row per contact point (treaty dates, reservations, related
authorities, notes).

Layout: UTF-8 without a byte order mark, RFC 4180 (CRLF after every row, a header row,
``"`` doubled inside a cell), **every** cell quoted (``QUOTE_ALL``) so that a reader never
has to guess whether ``true``, ``0041`` or ``2026-05-02`` is text. Rows are ordered by
State code, then the primary contact point, then the secondary ones in entry order; the
``contact_point`` column is the index of the contact point in the entry's
``contact_points`` list (as in ``directory.json``), so ``(code, contact_point)`` is unique.
Empty cell means "not given". Booleans are ``true``/``false``.

List cells (``phones``, ``emails``, ``languages``, ``secure_channels``,
``request_languages``, ``request_channels``) join items with ``;``; an item made of several
parts joins them with ``:`` (``24/7:+4721234567``; ``interpol-i247:NCB Oslo``;
``other:ID-7:Name of network``). Inside an item, ``\\``, ``;`` and ``:`` of free text are
escaped with a backslash; ``split_list`` and ``split_item`` undo that.

Formula neutralisation (OWASP "CSV Injection"): a cell whose text begins with ``=``, ``+``,
``-``, ``@``, tab or carriage return is written with a single quote ``'`` in front, so a
spreadsheet shows it as text instead of evaluating it. We go slightly further than OWASP,
because every extra case costs nothing and each closes a known variant: also a leading
line feed, the full-width forms U+FF1D, U+FF0B, U+FF0D, U+FF20 (some spreadsheets fold them to ASCII), a
trigger character after leading white space (some importers trim it), and a leading ``'``
itself -- the last one makes the rule reversible: ``parse`` drops exactly one leading
``'`` from every cell that has one, and gets the original text back, always.

Phone numbers: E.164 numbers begin with ``+``, which OWASP's rule would prefix, leaving
``'+4721234567`` in the cell -- a number a duty officer cannot dial or paste as it is.
So numbers never *begin* a cell: ``phone_24_7`` holds the RFC 3966 URI
``tel:+4721234567`` (clickable, dialable, and begins with a letter) and ``phones`` holds
``kind:number`` items that begin with the kind. The neutralisation above still runs over
every cell, phone cells included, so a future column cannot reopen the hole.

Unsafe, and therefore not promised: the quote prefix protects only readers that honour it
(Excel, LibreOffice, Google Sheets do). A program that reads the CSV must use ``parse`` or
undo the prefix itself, and must not pass any cell to a shell, a formula engine or HTML
unescaped. Data values are never trusted here beyond that: they are only quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from ..entry.model import ContactPoint, Entry, Release
from .common import contact_point_order
from .export import Build, Export, first_difference, mismatch, unreadable

NAME = "directory.csv"

#: The columns of ``directory.csv``, in file order. Changing this list is a format change.
COLUMNS: tuple[str, ...] = (
    "code", "name", "native_name", "status", "demo", "serial", "confirmed",
    "contact_point", "role", "authority", "unit", "authority_type", "available_24_7",
    "phone_24_7", "phones", "emails", "languages", "time_zone", "office_hours",
    "openpgp_fingerprint", "secure_channels",
    "request_languages", "request_channels",
    "preservation_template", "subscriber_template", "encryption_required",
    "expedited_disclosure", "emergency_disclosure", "preservation_days",
)

#: Characters that make a spreadsheet read a cell as a formula (OWASP), plus line feed and
#: the full-width forms that some spreadsheets fold to ASCII before they parse.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
QUOTE_PREFIX = "'"

_LIST_SEPARATOR = ";"
_PART_SEPARATOR = ":"
_ESCAPE = "\\"


class CsvFormatError(ValueError):
    """The bytes are not a ``directory.csv`` as this module writes it."""


def needs_prefix(cell: str) -> bool:
    """Whether ``cell`` must be written with ``QUOTE_PREFIX`` in front (see the module doc)."""
    if not cell:
        return False
    if cell[0] == QUOTE_PREFIX or cell[0] in FORMULA_TRIGGERS:
        return True
    # " =cmd" is trimmed to "=cmd" by some importers before they decide what it is.
    stripped = cell.lstrip(" \t\r\n\u00a0\u3000")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def neutralise(cell: str) -> str:
    return QUOTE_PREFIX + cell if needs_prefix(cell) else cell


def restore(cell: str) -> str:
    """Undo ``neutralise``: every prefixed cell begins with ``'`` and every cell that begins
    with ``'`` was prefixed, so dropping one quote is exact."""
    return cell[1:] if cell.startswith(QUOTE_PREFIX) else cell


def escape_part(text: str) -> str:
    return "".join(_ESCAPE + c if c in (_ESCAPE, _LIST_SEPARATOR, _PART_SEPARATOR) else c for c in text)


def join_item(parts: Iterable[str]) -> str:
    return _PART_SEPARATOR.join(escape_part(p) for p in parts)


def join_list(items: Iterable[str]) -> str:
    """Join already escaped items (``join_item`` or ``escape_part``)."""
    return _LIST_SEPARATOR.join(items)


def _split(text: str, separator: str) -> list[str]:
    """Split on unescaped ``separator``, keeping escapes (they are undone once, at the end)."""
    out: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for c in chars:
        if c == _ESCAPE:
            current.append(c)
            current.append(next(chars, ""))
        elif c == separator:
            out.append("".join(current))
            current = []
        else:
            current.append(c)
    out.append("".join(current))
    return out


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for c in chars:
        out.append(next(chars, "") if c == _ESCAPE else c)
    return "".join(out)


def split_list(cell: str) -> list[str]:
    """The items of a list cell, each still in its escaped form (pass it to ``split_item``)."""
    return [] if cell == "" else _split(cell, _LIST_SEPARATOR)


def split_item(item: str) -> list[str]:
    """The parts of one item of a list cell, unescaped."""
    return [_unescape(p) for p in _split(item, _PART_SEPARATOR)]


def split_values(cell: str) -> list[str]:
    """A list cell of one-part items (emails, languages, channels), unescaped."""
    return [_unescape(i) for i in split_list(cell)]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _optional(value: str | None) -> str:
    return "" if value is None else value


def _row(entry: Entry, index: int, cp: ContactPoint) -> list[str]:
    intake = entry.request_intake
    phone_24_7 = cp.phone_24_7
    channels = []
    for channel in cp.secure_channels:
        parts = [channel.channel]
        if channel.address is not None or channel.name is not None:
            parts.append(_optional(channel.address))
        if channel.name is not None:
            parts.append(channel.name)
        channels.append(join_item(parts))
    cells = {
        "code": entry.code,
        "name": entry.name,
        "native_name": _optional(entry.native_name),
        "status": entry.status,
        "demo": _bool(entry.demo),
        "serial": str(entry.serial),
        "confirmed": entry.confirmed.isoformat(),
        "contact_point": str(index),
        "role": cp.role,
        "authority": cp.authority,
        "unit": _optional(cp.unit),
        "authority_type": cp.authority_type,
        "available_24_7": _bool(cp.available_24_7),
        "phone_24_7": f"tel:{phone_24_7.number}" if phone_24_7 else "",
        "phones": join_list(join_item((p.kind, p.number)) for p in cp.phones),
        "emails": join_list(escape_part(e) for e in cp.emails),
        "languages": join_list(escape_part(lang) for lang in cp.languages),
        "time_zone": cp.time_zone,
        "office_hours": _optional(cp.office_hours),
        "openpgp_fingerprint": _optional(cp.openpgp_fingerprint),
        "secure_channels": join_list(channels),
        "request_languages": join_list(escape_part(lang) for lang in intake.languages),
        "request_channels": join_list(escape_part(c) for c in intake.channels),
        "preservation_template": _bool(intake.preservation_template),
        "subscriber_template": _bool(intake.subscriber_template),
        "encryption_required": _bool(intake.encryption_required),
        "expedited_disclosure": _bool(intake.expedited_disclosure),
        "emergency_disclosure": _bool(intake.emergency_disclosure),
        "preservation_days": "" if intake.preservation_days is None else str(intake.preservation_days),
    }
    return [neutralise(cells[column]) for column in COLUMNS]


def render(release: Release) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in release.entries:
        for index, cp in contact_point_order(entry):
            writer.writerow(_row(entry, index, cp))
    return buffer.getvalue().encode("utf-8")


def parse(data: bytes) -> list[dict[str, str]]:
    """Read ``directory.csv`` back: one dict per row, keyed by ``COLUMNS``, neutralisation undone.

    Raises ``CsvFormatError`` when the bytes are not UTF-8, carry a byte order mark, or the
    header or a row does not have exactly the columns of ``COLUMNS``.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise CsvFormatError("directory.csv must not begin with a byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"directory.csv is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise CsvFormatError(f"directory.csv is not valid CSV: {exc}") from exc
    if not rows or tuple(rows[0]) != COLUMNS:
        raise CsvFormatError("directory.csv does not begin with the expected header row")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise CsvFormatError(f"directory.csv row {number} has {len(row)} cells, expected {len(COLUMNS)}")
        out.append({column: restore(cell) for column, cell in zip(COLUMNS, row, strict=True)})
    return out


def render_export(build: Build) -> bytes:
    return render(build.release)


def _csv_expected(entry: Entry, index: int) -> dict[str, Any]:
    """What one row of ``directory.csv`` must say, as plain values, straight from the model."""
    cp = entry.contact_points[index]
    intake = entry.request_intake
    return {
        "code": entry.code, "name": entry.name, "native_name": entry.native_name, "status": entry.status,
        "demo": entry.demo, "serial": entry.serial, "confirmed": entry.confirmed.isoformat(),
        "role": cp.role, "authority": cp.authority, "unit": cp.unit, "authority_type": cp.authority_type,
        "available_24_7": cp.available_24_7,
        "phone_24_7": cp.phone_24_7.number if cp.phone_24_7 else None,
        "phones": [[p.kind, p.number] for p in cp.phones], "emails": list(cp.emails),
        "languages": list(cp.languages), "time_zone": cp.time_zone, "office_hours": cp.office_hours,
        "openpgp_fingerprint": cp.openpgp_fingerprint,
        "secure_channels": [[c.channel, c.address, c.name] for c in cp.secure_channels],
        "request_languages": list(intake.languages), "request_channels": list(intake.channels),
        "preservation_template": intake.preservation_template, "subscriber_template": intake.subscriber_template,
        "encryption_required": intake.encryption_required, "expedited_disclosure": intake.expedited_disclosure,
        "emergency_disclosure": intake.emergency_disclosure, "preservation_days": intake.preservation_days,
    }


def _csv_found(row: Mapping[str, str]) -> dict[str, Any]:
    """The same plain values, decoded from one parsed row (the reverse of the writer)."""

    def text(column: str) -> str | None:
        return row[column] or None

    def flag(column: str) -> bool | str:
        return {"true": True, "false": False}.get(row[column], row[column])

    def number(column: str) -> int | str | None:
        return int(row[column]) if row[column].isdigit() else text(column)

    def channel(item: str) -> list[str | None]:
        parts = split_item(item)
        return [parts[0], (parts[1] or None) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None]

    tel = row["phone_24_7"]
    return {
        "code": row["code"], "name": row["name"], "native_name": text("native_name"), "status": row["status"],
        "demo": flag("demo"), "serial": number("serial"), "confirmed": row["confirmed"],
        "role": row["role"], "authority": row["authority"], "unit": text("unit"),
        "authority_type": row["authority_type"], "available_24_7": flag("available_24_7"),
        "phone_24_7": tel.removeprefix("tel:") if tel.startswith("tel:") else text("phone_24_7"),
        "phones": [split_item(item) for item in split_list(row["phones"])], "emails": split_values(row["emails"]),
        "languages": split_values(row["languages"]), "time_zone": row["time_zone"],
        "office_hours": text("office_hours"), "openpgp_fingerprint": text("openpgp_fingerprint"),
        "secure_channels": [channel(item) for item in split_list(row["secure_channels"])],
        "request_languages": split_values(row["request_languages"]),
        "request_channels": split_values(row["request_channels"]),
        "preservation_template": flag("preservation_template"), "subscriber_template": flag("subscriber_template"),
        "encryption_required": flag("encryption_required"), "expedited_disclosure": flag("expedited_disclosure"),
        "emergency_disclosure": flag("emergency_disclosure"), "preservation_days": number("preservation_days"),
    }


def read_back(build: Build, data: bytes) -> None:
    """``directory.csv`` has one row per contact point of every entry, each carrying its
    contact point's fields (the columns the CSV layout keeps), in the documented order."""
    name, release = NAME, build.release
    try:
        rows = parse(data)
    except ValueError as error:
        raise unreadable(name, error) from None
    expected_keys = [(entry.code, index) for entry in release.entries
                     for index, _ in contact_point_order(entry)]
    found_keys = [(row["code"], int(row["contact_point"]) if row["contact_point"].isdigit() else -1)
                  for row in rows]
    if found_keys != expected_keys:
        missing = sorted(set(expected_keys) - set(found_keys))
        where = (f"contact point {missing[0][1]} of {missing[0][0]} (missing)" if missing
                 else "rows are not one per contact point in entry order")
        raise mismatch(name, where)
    entries = {entry.code: entry for entry in release.entries}
    for row, (code, index) in zip(rows, expected_keys, strict=True):
        difference = first_difference(_csv_expected(entries[code], index), _csv_found(row))
        if difference:
            raise mismatch(name, f"{code} contact point {index}: {difference}")


EXPORT = Export(NAME, render_export, read_back)
