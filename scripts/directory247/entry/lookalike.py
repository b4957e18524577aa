"""Look-alike domains and addresses (Unicode UTS #39): can this text pass for another?

Policy. An ASCII domain is accepted as it is. A label written with other letters (or as
xn--, judged by what it decodes to) is accepted only when it cannot pass for another:

- its letters are of one script, or of a set that is written together (Han with Hiragana
  and Katakana, with Bopomofo, with Hangul; each may have Latin too), UTS #39 "highly
  restrictive";
- in a label with Latin letters, no non-ASCII letter looks like one ASCII letter or digit
  (a Cyrillic o, U+043E, in "police"; a Latin dotless i, U+0131, in "police");
- a label of another script is not made only of letters that look like ASCII ones (the
  Cyrillic U+0441 U+043E U+0441 U+043E reads as "coco": a whole-script confusable).

Diacritics are not look-alikes (UTS #39 keeps them apart: "bücher" is not "bucher"). The
same holds for the part of an e-mail address before the @. The look-alike letters are the
confusables of Unicode's confusables.txt and the scripts those of Scripts.txt, as the
confusable-homoglyphs package ships them. Pure functions over strings; ``rules`` applies
them to every field, so a duty officer is never shown such a domain, whichever form a writer
shows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import idna

_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


_SCRIPTS_TOGETHER = (frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}), frozenset({"LATIN", "HAN", "BOPOMOFO"}),
                     frozenset({"LATIN", "HAN", "HANGUL"}))


@lru_cache(maxsize=1)
def _unicode_security() -> tuple[Callable[[str], str], dict[str, list[dict[str, str]]]]:
    """The script of a character and the confusables table (loaded once, only when a value
    holds a non-ASCII or xn-- domain: the table is large)."""
    from confusable_homoglyphs import categories, confusables  # type: ignore[import-untyped]

    return categories.alias, confusables.confusables_data


def _script(char: str) -> str:
    return str(_unicode_security()[0](char))


@lru_cache(maxsize=8192)
def ascii_lookalike(char: str) -> str | None:
    """The ASCII letters or digits ``char`` can be mistaken for (U+043E -> ``o``), or None."""
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKC", char)  # fullwidth, mathematical, circled forms
    if folded.isascii() and folded.isalnum():
        return folded.lower()
    best: str | None = None
    for glyph in _unicode_security()[1].get(char, ()):
        text = glyph.get("c", "")
        if text.isascii() and text.isalnum() and (best is None or len(text) < len(best)):
            best = text.lower()
    return best


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def _script_name(script: str) -> str:
    return script.replace("_", " ").title()


@lru_cache(maxsize=4096)
def lookalike_label(label: str, strict: bool = True) -> str | None:
    """Why one label (of a domain, or of an address before the @) can pass for another, or
    None. Not ``strict``: only mixed scripts, for a word with dots in prose, which may be an
    abbreviation in another script (Russian "t.e." or "g.Moskva", written in Cyrillic) rather
    than a domain."""
    if label.isascii():
        return None
    label = unicodedata.normalize("NFC", label)
    by_script: dict[str, list[str]] = {}
    for char in dict.fromkeys(label):
        by_script.setdefault(_script(char), []).append(char)
    scripts = set(by_script) - _NEUTRAL_SCRIPTS
    if len(scripts) > 1 and not any(scripts <= together for together in _SCRIPTS_TOGETHER):
        main = max(scripts, key=lambda script: (sum(label.count(c) for c in by_script[script]), script == "LATIN"))
        others = sorted(scripts - {main})
        odd = [char for script in others for char in by_script[script]][:3]
        names = " and ".join(_script_name(s) for s in [main, *others])
        return f"label '{label}' mixes {names} letters ({', '.join(_describe(c) for c in odd)})"
    if not strict:
        return None
    # Common-script characters count here: fullwidth digits and mathematical letters look
    # like ASCII ones too. Combining marks (Inherited) go with the letter they mark.
    letters = [char for char in dict.fromkeys(label) if not char.isascii() and _script(char) != "INHERITED"]
    if "LATIN" in scripts:
        for char in letters:
            alike = ascii_lookalike(char)
            # One letter for one (not ae for the Danish letter ae), or a compatibility form.
            if alike is not None and (len(alike) == 1 or unicodedata.normalize("NFKC", char).lower() == alike):
                return f"label '{label}' has {_describe(char)}, which looks like the ASCII '{alike}'"
        return None
    if letters and all(ascii_lookalike(char) is not None for char in letters):
        script = f"{_script_name(next(iter(scripts)))} " if len(scripts) == 1 else ""
        return f"label '{label}' is written only with {script}letters that look like ASCII ones " \
               f"(it reads as '{ascii_reading(label)}')"
    return None


def ascii_reading(text: str) -> str:
    """``text`` with each look-alike letter replaced by the ASCII it can be taken for."""
    return "".join(char if char.isascii() else (ascii_lookalike(char) or char)
                   for char in unicodedata.normalize("NFC", text))


@lru_cache(maxsize=4096)
def lookalike_host(host: str, strict: bool = True) -> str | None:
    """Why a host name can pass for another, or None; labels written as xn-- are judged by
    what they decode to, so the ASCII form of a look-alike is refused too."""
    for written in host.rstrip(".").split("."):
        label = written
        if written.lower().startswith("xn--"):
            try:
                label = idna.decode(written.lower())
            except (idna.IDNAError, UnicodeError):
                return f"label '{written}' is not a valid internationalised (xn--) label"
        reason = lookalike_label(label, strict)
        if reason:
            return reason + (f", written as '{written}'" if written != label else "")
    return None


def _reading_hint(text: str) -> str:
    reading = ascii_reading(text)
    return f" ({reading} if that is it)" if reading != text and reading.isascii() else ""


#: What every look-alike finding ends with.
_NEVER_PUBLISHED = "a look-alike is never published"


def lookalike_address(local_part: str, domain: str) -> str | None:
    """Why an e-mail address can pass for another, or None."""
    if not (domain.isascii() and "xn--" not in domain.lower()):
        reason = lookalike_host(domain)
        if reason:
            return (f"the domain can pass for another: {reason}; write the real domain{_reading_hint(domain)}; "
                    f"{_NEVER_PUBLISHED}")
    if not local_part.isascii():
        for part in re.split(r"[^\w]+", local_part):
            reason = lookalike_label(part)
            if reason:
                return (f"the part before @ can pass for another: {reason}; write the real mailbox name"
                        f"{_reading_hint(local_part)}; {_NEVER_PUBLISHED}")
    return None


_URL_AUTHORITY = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://([^\s/?#<>\"'\\]*)")


_ADDRESS = re.compile(r"([^\s@<>()\[\]\\,;:\"'/]+)@([^\s@<>()\[\]\\,;:\"'/]+)")


_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+")


@lru_cache(maxsize=8192)
def text_lookalikes(text: str) -> tuple[str, ...]:
    """What in a text (a URL, a source, an address on a channel, notes) can pass for another
    domain or address. Hosts of links and addresses are judged like e-mail domains; other
    words with dots only for mixed scripts."""
    if text.isascii() and "xn--" not in text.lower() and "://" not in text:
        return ()
    found: list[str] = []
    hosts: dict[str, bool] = {}  # host -> judged strictly
    for match in _URL_AUTHORITY.finditer(text):
        user, at, host = match.group(1).rpartition("@")
        if at:
            found.append(f"the link to '{match.group(1)}' leads to '{host}', not to '{user}' (the part before @ "
                         "is a user name that can pass for the host); write the link without a user name")
        hosts[host.rpartition(":")[0] if host.count(":") == 1 else host] = True
    for match in _ADDRESS.finditer(text):
        local_part, domain = match.group(1), match.group(2).rstrip(".")
        hosts[domain] = True
        if local_part.isascii():
            continue
        for part in re.split(r"[^\w]+", local_part):
            reason = lookalike_label(part)
            if reason:
                found.append(f"'{local_part}@{domain}': the part before @ can pass for another: {reason}; write the "
                             f"real mailbox name{_reading_hint(local_part)}; {_NEVER_PUBLISHED}")
                break
    for match in _HOST.finditer(text):
        hosts.setdefault(match.group(), False)
    for host, strict in hosts.items():
        lowered = host.lower()
        if lowered.isascii() and "xn--" not in lowered:
            continue
        reason = lookalike_host(lowered, strict)
        if reason:
            found.append(f"'{host}' can pass for another domain: {reason}; write the real domain"
                         f"{_reading_hint(lowered)}; {_NEVER_PUBLISHED}")
    return tuple(dict.fromkeys(found))
