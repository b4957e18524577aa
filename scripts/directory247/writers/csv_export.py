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
from collections.abc import Iterable

from ..model import ContactPoint, Entry, Release

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


def contact_point_order(entry: Entry) -> list[tuple[int, ContactPoint]]:
    """The contact points of an entry in row order: the primary first, then the others as listed."""
    indexed = list(enumerate(entry.contact_points))
    return sorted(indexed, key=lambda pair: (pair[1].role != "primary", pair[0]))


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
