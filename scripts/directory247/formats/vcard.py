"""``directory.vcf``: every contact point as a vCard 4.0 (RFC 6350), for address books and phones.

Owns the card layout, RFC 6350 text escaping, line folding, and ``parse`` (unfold +
unescape) used to read the file back in tests and by the release's read-back check.

One card per contact point, in the row order of ``directory.csv`` (State code, primary
first). A card holds::

    BEGIN, VERSION:4.0, PRODID, UID, REV, KIND:org, FN, ORG, TEL..., EMAIL..., LANG...,
    TZ, KEY (OpenPGP fingerprint, if any), CATEGORIES, NOTE, END

- ``UID`` is ``urn:uuid:`` + a name-based UUID (version 5) of ``<code>/<index>``, the index
  being the contact point's place in the entry: the same contact point keeps its UID from
  one release to the next, so an address book updates the card instead of adding one.
- ``REV`` is the release time, never the clock, so two builds give the same bytes.
- ``TEL`` values are ``tel:`` URIs (``VALUE=uri``). A 24/7 number is
  ``TYPE=voice,x-24-7;PREF=1`` (``PREF=1``: the number to call first); office numbers are
  ``voice,work``, mobile ``cell``, fax ``fax``.
- ``KEY`` is ``openpgp4fpr:<fingerprint>`` (``VALUE=uri``): a reference to the key, not the
  key; the fingerprint is repeated in ``NOTE`` for people to compare by eye.
- ``NOTE`` says, in words, what a duty officer needs and the card cannot say otherwise:
  the demonstration notice, availability or office hours, secure channels, request intake.

Encoding: UTF-8, CRLF after every line, lines folded at 75 *octets* (RFC 6350 3.2) and never
inside a UTF-8 sequence or a backslash escape; a continuation line begins with one space.
Text values escape ``\\``, ``,``, ``;`` and newlines (``\\n``; CRLF and CR become ``\\n``,
so a value's line-ending style is the one thing not kept). In ``ORG`` each component is
escaped and the components are joined by an unescaped ``;``. Parameters never carry data
values, only fixed words and numbers, so no parameter is ever quoted.

Unsafe, and therefore refused: text holding a control character other than tab, LF or CR
(vCard has no way to write one; the loader never lets one into an entry) raises
``ValueError``. Address-book programs render ``NOTE`` and ``FN`` as they like; nothing here
can stop a program from turning text into links.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from ..entry.model import ContactPoint, Entry, Release
from .common import DEMO_NOTICE, contact_point_order
from .export import Build, Export, first_difference, mismatch, unreadable

NAME = "directory.vcf"

#: Namespace of the name-based UIDs of contact points; never change it, or every UID changes.
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://directory247.invalid/vcard/contact-point")
PRODID = "-//directory247//24/7 Directory vCard export//EN"
FOLD_OCTETS = 75
CRLF = "\r\n"

_TEL_TYPE = {"24/7": "voice,x-24-7", "office": "voice,work", "mobile": "cell", "fax": "fax"}
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Compound properties: components separated by ";". Text-list properties: values by ",".
_COMPOUND = frozenset({"ORG", "N", "ADR", "GENDER", "CLIENTPIDMAP"})
_TEXT_LIST = frozenset({"CATEGORIES", "NICKNAME"})
# Properties this module writes as URIs: their values are not text-escaped.
_URI = frozenset({"TEL", "UID", "KEY", "URL", "SOURCE", "PHOTO", "LOGO", "SOUND", "MEMBER", "RELATED"})


#: A backslash escape, as ``_units`` pairs them (left to right, never overlapping).
_ESCAPE = re.compile(r"\\.", re.DOTALL)


class VCardFormatError(ValueError):
    """The bytes are not vCard text as this module writes it."""


def escape_text(value: str) -> str:
    """RFC 6350 3.4 escaping of one text value (or one component of a compound value)."""
    bad = _REFUSED.search(value)
    if bad:
        raise ValueError(f"control character U+{ord(bad.group()):04X} cannot be written in a vCard")
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def unescape_text(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for c in chars:
        if c != "\\":
            out.append(c)
            continue
        following = next(chars, "")
        out.append("\n" if following in ("n", "N") else following)
    return "".join(out)


def _units(line: str) -> Iterator[str]:
    """The line in pieces that folding must not cut: one character, or a backslash escape."""
    chars = iter(line)
    for c in chars:
        yield c + next(chars, "") if c == "\\" else c


def fold(line: str) -> str:
    """Fold one logical line so that no physical line exceeds 75 octets of UTF-8."""
    if line.isascii():  # one octet per character: cut by position, never inside an escape
        if "\\" not in line:
            step = FOLD_OCTETS - 1  # a continuation line starts with a space
            pieces = [line[:FOLD_OCTETS]] + [" " + line[at:at + step] for at in range(FOLD_OCTETS, len(line), step)]
            return CRLF.join(pieces) + CRLF
        inside = {match.start() + 1 for match in _ESCAPE.finditer(line)}  # cutting here splits "\\x"
        pieces, start, room = [], 0, FOLD_OCTETS
        while len(line) - start > room:
            cut = start + room - (1 if start + room in inside else 0)
            pieces.append(line[start:cut])
            start, room = cut, FOLD_OCTETS - 1
        pieces.append(line[start:])
        return CRLF.join(pieces[:1] + [" " + piece for piece in pieces[1:]]) + CRLF
    lines: list[str] = []
    current: list[str] = []
    size = 0
    for unit in _units(line):
        octets = len(unit.encode("utf-8"))
        if size + octets > FOLD_OCTETS:
            lines.append("".join(current))
            current, size = [" "], 1  # the space of a continuation line counts
        current.append(unit)
        size += octets
    lines.append("".join(current))
    return CRLF.join(lines) + CRLF


def _uid(entry: Entry, index: int) -> str:
    return f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, f'{entry.code}/{index}')}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _note(release: Release, entry: Entry, cp: ContactPoint) -> str:
    lines = []
    if entry.demo:
        lines.append(DEMO_NOTICE)
    lines.append(f"{entry.name} ({entry.code}), {entry.status}: {cp.role} contact point")
    hours = cp.office_hours or "not given"
    lines.append("Available 24/7." if cp.available_24_7 else f"Office hours (local time): {hours}")
    if cp.secure_channels:
        channels = []
        for channel in cp.secure_channels:
            label = channel.channel if channel.name is None else f"{channel.channel} ({channel.name})"
            channels.append(label if channel.address is None else f"{label}: {channel.address}")
        lines.append("Secure channels: " + "; ".join(channels))
    if cp.openpgp_fingerprint:
        lines.append(f"OpenPGP key fingerprint: {cp.openpgp_fingerprint}")
    intake = entry.request_intake
    lines.append(f"Requests accepted in: {', '.join(intake.languages)}; by: {', '.join(intake.channels)}")
    days = f"{intake.preservation_days} days" if intake.preservation_days is not None else "period not given"
    lines.append(f"Preservation (Art. 29): {days}; T-CY preservation template: {_yes(intake.preservation_template)}; "
                 f"subscriber template: {_yes(intake.subscriber_template)}")
    lines.append(f"Expedited disclosure (Art. 30): {_yes(intake.expedited_disclosure)}; "
                 f"emergency disclosure (CETS 224): {_yes(intake.emergency_disclosure)}; "
                 f"encryption required: {_yes(intake.encryption_required)}")
    lines.append(f"Directory release {release.version}; entry serial {entry.serial}, "
                 f"confirmed {entry.confirmed.isoformat()}")
    return "\n".join(lines)


def card_lines(release: Release, entry: Entry, index: int, cp: ContactPoint) -> list[str]:
    """The logical (unfolded) content lines of one card."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"PRODID:{escape_text(PRODID)}",
        f"UID:{_uid(entry, index)}",
        f"REV:{release.released.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}",
        "KIND:org",
        "FN:" + escape_text(cp.authority if cp.unit is None else f"{cp.authority} - {cp.unit}"),
        "ORG:" + ";".join(escape_text(c) for c in (cp.authority, cp.unit) if c is not None),
    ]
    seen_24_7 = False
    for phone in cp.phones:
        params = f";VALUE=uri;TYPE={_TEL_TYPE.get(phone.kind, 'voice')}"
        if phone.kind == "24/7" and not seen_24_7:
            params += ";PREF=1"
            seen_24_7 = True
        lines.append(f"TEL{params}:tel:{phone.number}")
    for number, email in enumerate(cp.emails, start=1):
        lines.append(f"EMAIL;TYPE=work{';PREF=1' if number == 1 else ''}:{escape_text(email)}")
    for number, language in enumerate(cp.languages, start=1):
        lines.append(f"LANG;PREF={number}:{escape_text(language)}")
    lines.append(f"TZ:{escape_text(cp.time_zone)}")
    if cp.openpgp_fingerprint:
        lines.append(f"KEY;VALUE=uri:openpgp4fpr:{cp.openpgp_fingerprint}")
    categories = [entry.code, entry.status, cp.role] + (["demonstration"] if entry.demo else [])
    lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in categories))
    lines.append("NOTE:" + escape_text(_note(release, entry, cp)))
    lines.append("END:VCARD")
    return lines


def render(release: Release) -> bytes:
    out: list[str] = []
    for entry in release.entries:
        for index, cp in contact_point_order(entry):
            out.extend(fold(line) for line in card_lines(release, entry, index, cp))
    return "".join(out).encode("utf-8")


# --- reading back -------------------------------------------------------------------------

@dataclass(frozen=True)
class ContentLine:
    """One unfolded content line: upper-case name, parameters as written, value still escaped."""

    name: str
    params: tuple[tuple[str, str], ...]
    value: str

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name.upper()), None)


def _split_outside_quotes(text: str, separator: str, limit: int = -1) -> list[str]:
    if '"' not in text:
        return text.split(separator, limit)
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
        if c == separator and not quoted and (limit < 0 or len(parts) < limit):
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return parts


def parse_line(line: str) -> ContentLine:
    head_value = _split_outside_quotes(line, ":", limit=1)
    if len(head_value) != 2:
        raise VCardFormatError(f"content line without ':': {line[:40]!r}")
    head, value = head_value
    name, *raw_params = _split_outside_quotes(head, ";")
    params = []
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params.append((key.upper(), param_value.strip('"')))
    return ContentLine(name.rsplit(".", 1)[-1].upper(), tuple(params), value)


def unfold(data: bytes) -> list[str]:
    """The logical lines of vCard bytes: folds removed (on octets, before decoding), CRLF split."""
    unfolded = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
    try:
        text = unfolded.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VCardFormatError(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    if text and not text.endswith(CRLF):
        raise VCardFormatError("the last line does not end with CRLF")
    lines = text.split(CRLF)[:-1] if text else []
    for line in lines:
        if "\n" in line or "\r" in line:
            raise VCardFormatError("a line ends with a bare LF or CR; vCard lines end with CRLF")
    return lines


def parse_cards(data: bytes) -> list[list[ContentLine]]:
    """Every card, as its content lines between BEGIN:VCARD and END:VCARD (both excluded)."""
    cards: list[list[ContentLine]] = []
    current: list[ContentLine] | None = None
    for line in unfold(data):
        content = parse_line(line)
        if content.name == "BEGIN" and content.value.upper() == "VCARD":
            if current is not None:
                raise VCardFormatError("BEGIN:VCARD inside a card")
            current = []
        elif content.name == "END" and content.value.upper() == "VCARD":
            if current is None:
                raise VCardFormatError("END:VCARD without BEGIN:VCARD")
            cards.append(current)
            current = None
        elif current is None:
            raise VCardFormatError(f"{content.name} outside a card")
        else:
            current.append(content)
    if current is not None:
        raise VCardFormatError("the last card has no END:VCARD")
    return cards


def values(content: ContentLine) -> list[str]:
    """The unescaped values of one content line: compound components and text-list items
    apart, URIs as written."""
    if content.name in _URI or (content.param("VALUE") or "").lower() == "uri":
        return [content.value]
    if content.name in _COMPOUND:
        return [unescape_text(c) for c in _split_escaped(content.value, ";")]
    if content.name in _TEXT_LIST:
        return [unescape_text(c) for c in _split_escaped(content.value, ",")]
    return [unescape_text(content.value)]


def _split_escaped(value: str, separator: str) -> list[str]:
    if "\\" not in value:
        return value.split(separator)
    parts: list[str] = []
    current: list[str] = []
    for unit in _units(value):
        if unit == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(unit)
    parts.append("".join(current))
    return parts


def parse(data: bytes) -> list[dict[str, list[str]]]:
    """Read ``directory.vcf`` back: per card, each property name with all its values, unescaped."""
    out = []
    for card in parse_cards(data):
        properties: dict[str, list[str]] = {}
        for content in card:
            properties.setdefault(content.name, []).extend(values(content))
        out.append(properties)
    return out


def render_export(build: Build) -> bytes:
    return render(build.release)


def _vcard_expected(entry: Entry, index: int) -> dict[str, list[str]]:
    """The properties of one card that carry entry data, as the vCard layout documents them."""
    cp = entry.contact_points[index]
    return {
        "ORG": [cp.authority] + ([cp.unit] if cp.unit is not None else []),
        "TEL": [f"tel:{phone.number}" for phone in cp.phones],
        "EMAIL": list(cp.emails),
        "LANG": list(cp.languages),
        "TZ": [cp.time_zone],
        "KEY": [f"openpgp4fpr:{cp.openpgp_fingerprint}"] if cp.openpgp_fingerprint else [],
        "CATEGORIES": [entry.code, entry.status, cp.role] + (["demonstration"] if entry.demo else []),
    }


def read_back(build: Build, data: bytes) -> None:
    """``directory.vcf`` has one card per contact point, in ``directory.csv`` row order, each
    with its organisation, every phone, e-mail and language, time zone and key."""
    name, release = NAME, build.release
    try:
        cards = parse(data)
    except ValueError as error:
        raise unreadable(name, error) from None
    expected = [(entry, index) for entry in release.entries for index, _ in contact_point_order(entry)]
    if len(cards) != len(expected):
        raise mismatch(name, f"{len(cards)} cards, expected one per contact point ({len(expected)})")
    for card, (entry, index) in zip(cards, expected, strict=True):
        want = _vcard_expected(entry, index)
        where = first_difference(want, {key: card.get(key, []) for key in want})
        if where:
            raise mismatch(name, f"{entry.code} contact point {index}: {where}")


EXPORT = Export(NAME, render_export, read_back)
