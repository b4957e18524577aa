"""The one way a data value reaches a page: escaped text inside a raw HTML block.

Every generated page is Markdown whose data sits in raw HTML blocks. Python-Markdown passes
such a block through untouched as long as ``md_in_html`` is off, so no inline syntax (links,
emphasis, ``attr_list``'s ``{ ... }``, tables, templates) applies to data. ``escape`` is
still written so that its output is inert in *any* Markdown or HTML context, text or
attribute: the HTML specials are escaped, every character Markdown or its extensions treat
as syntax becomes a numeric character reference, line breaks cannot end the HTML block,
and control and bidirectional formatting characters (which could hide or reorder what a
duty officer reads) become U+FFFD. Anything not built here is a fixed string of this package.

``tel_href`` and ``mailto_href`` build link targets only from values of the shape validation
accepts, and return ``None`` otherwise, so a hostile value is shown as text, never linked.
Web addresses from data (treaty sources, an authority's site) are shown as text, never as
links: the site links only to itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# One table, applied in one pass, so no reference produced here is escaped again: the HTML
# specials by name, every Markdown (or extension) syntax character as a numeric reference.
_REFERENCES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    "\\": "&#92;", "`": "&#96;", "*": "&#42;", "_": "&#95;", "{": "&#123;", "}": "&#125;",
    "[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "#": "&#35;", "|": "&#124;",
    "!": "&#33;", "~": "&#126;", "^": "&#94;", "=": "&#61;", "+": "&#43;", ":": "&#58;",
    "$": "&#36;", "%": "&#37;", "@": "&#64;",
    "\n": "&#10;", "\t": "&#9;",
}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u0085\u2028\u2029\r")


def _inert(char: str) -> str:
    if char in _REFERENCES:
        return _REFERENCES[char]
    if char in _LINE_SEPARATORS:
        return "&#10;"
    if char in _BIDI or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
        return "\ufffd"
    return char


class _Table(dict[int, str]):
    """``_inert`` of every character, filled as characters are first met, for ``str.translate``."""

    def __missing__(self, ordinal: int) -> str:
        self[ordinal] = replacement = _inert(chr(ordinal))
        return replacement


_TABLE = _Table()
#: The same for ASCII, as a list: ``str.translate`` indexes it without a mapping lookup.
_ASCII = [_inert(chr(ordinal)) for ordinal in range(128)]


def escape(value: object) -> str:
    """``value`` as text that is inert in HTML text, HTML attributes and Markdown."""
    text = str(value).replace("\r\n", "\n")
    return text.translate(_ASCII if text.isascii() else _TABLE)


def join(values: Iterable[object], separator: str = ", ") -> str:
    """Escaped values joined by a fixed separator."""
    return separator.join(escape(v) for v in values)


_E164 = re.compile(r"\+[1-9][0-9]{3,14}")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_ZONE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")


def tel_href(number: str) -> str | None:
    """``tel:`` target for an E.164 number (the only form validation accepts), else None."""
    return "tel:" + escape(number) if _E164.fullmatch(number) else None


def mailto_href(address: str) -> str | None:
    """``mailto:`` target for a plain address of the form validation accepts, else None."""
    return "mailto:" + escape(address) if _EMAIL.fullmatch(address) else None


def time_zone_attr(zone: str) -> str | None:
    """An IANA zone name for a ``data-`` attribute read by the local-time script, else None."""
    return escape(zone) if _ZONE.fullmatch(zone) else None


def link(href: str | None, label: str) -> str:
    """``<a>`` when a checked target exists, otherwise the label alone; ``label`` is already escaped."""
    return f'<a href="{href}">{label}</a>' if href else label


_TITLE_PUNCTUATION = frozenset(" '-.,()\u2019")


def title_text(value: str) -> str:
    """A page title from data, reduced to letters, marks, digits and a little punctuation.

    Material and MkDocs put page titles unescaped into ``<title>``, the header and the search
    index (after ``striptags``, which also decodes references), so a title keeps only
    characters that are harmless there.
    """
    kept = "".join(c for c in value if unicodedata.category(c)[0] in "LMN" or c in _TITLE_PUNCTUATION)
    return " ".join(kept.split())
