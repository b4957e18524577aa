"""Which characters a value may hold: the judgement of hidden, control, bidi, separator and
special-space characters in decoded text, for the loader (every value and key) and the rules
(one-line fields). Pure functions over strings.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls other than tab, LF and CR; DEL; C1 controls; non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


# Characters that make text display differently from what it is (Trojan Source, hidden
# characters in phone numbers or addresses).
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


_HIDDEN_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Cn", "Co", "Cs"})


def hidden_character(text: str) -> str | None:
    r"""Why a decoded value or key may not hold what it holds, or None. Catches what escapes
    (``"\x1b"``, ``"\r"``, ``"\u2028"``) put into a value although the file's text has none:
    control characters, carriage returns, format, separator, unassigned and private-use
    characters (a zero-width joiner after a virama excepted, see ``invisible_at``)."""
    control = _CONTROL.search(text) or re.search("\r", text)
    if control:
        return f"control character U+{ord(control.group()):04X} is not allowed (written as an escape)"
    if text.isascii():
        return None
    offsets = invisible_at(text)
    if offsets:
        return f"invisible or bidi-control character U+{ord(text[offsets[0]]):04X} is not allowed"
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category in _HIDDEN_CATEGORIES:
            if char in "\u200c\u200d" and index > 0 and unicodedata.combining(text[index - 1]) == 9:
                continue
            return f"character U+{ord(char):04X} (Unicode category {category}) is not allowed"
    return None


def invisible_at(text: str) -> list[int]:
    """Offsets of hidden characters in ``text``. A zero-width (non-)joiner right after a
    virama is how Brahmic scripts are written (Sinhala's name of Sri Lanka needs one), so
    it is allowed there, as IDNA's CONTEXTJ rule (RFC 5892, A.1-A.2) allows it."""
    found = []
    for match in INVISIBLE.finditer(text):
        offset = match.start()
        if match.group() in "\u200c\u200d" and offset > 0 and unicodedata.combining(text[offset - 1]) == 9:
            continue
        found.append(offset)
    return found


def one_line_problem(text: str, where: str = " in a one-line field") -> str | None:
    """Why ``text`` cannot stand in a one-line field (a field name, or any value but free
    text), or None. Judges only what ``hidden_character`` lets through: the tab, the line
    feed, and space separators other than U+0020 (no-break, thin, ideographic...), which make
    two values that look the same differ and break one-line exports."""
    if text.isprintable():
        return None
    for char in text:
        if char == "\t":
            return f"a tab (U+0009) is not allowed{where}; write a space"
        if char == "\n":
            return f"a line break is not allowed{where}; write the value on one line"
        if char != " " and unicodedata.category(char) == "Zs":
            return (f"space character U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')}) is not allowed"
                    f"{where}; write a plain space")
    return None
