"""Semantic rules an entry must meet beyond its schema.

Each rule is a small function over the coerced tree of one entry that yields problems; the
rules are listed in ``RULES`` and run in that order. They read the tree defensively: the
schema may already have rejected a field's type, and a rule then stays silent rather than
reporting the same mistake twice. Rules never read files or the clock; ``today`` comes in
(the tz database and Unicode tables they consult are package data, read once per process).

Contact data must be what it seems to a duty officer abroad: a phone number or time zone of
another country is refused unless the entry says so in the field made for it (``abroad``,
``time_zone_abroad``); a domain or address that mixes scripts or can pass for an ASCII one
(Unicode UTS #39) is refused wherever it is written; one-line fields hold one line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import email_validator
import idna
import phonenumbers
import pycountry

from .loader import Document, one_line_problem
from .problems import FieldPath, Problem, Severity, field_name
from .schema import field_pattern, text_fields

#: A Party must re-confirm its entry at least this often.
CONFIRMATION_POLICY_MONTHS = 12


@dataclass(frozen=True)
class Context:
    doc: Document
    entry: dict[str, Any]
    file_code: str | None  # the code the file name says, upper case
    today: dt.date
    strict: bool

    def problem(self, path: FieldPath, message: str, severity: Severity = Severity.ERROR) -> Problem:
        line, col = self.doc.position(path)
        return Problem(self.doc.source, line, col, severity, field_name(path), message)


Rule = Callable[[Context], Iterator[Problem]]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_COUNTRY_FORM = re.compile(r"[A-Z]{2}")


def _state(ctx: Context) -> str | None:
    """The entry's State, for the rules that compare contact data with it: its code, when it
    is a country code and the file name agrees (otherwise those rules stay silent: the code
    rules report the mismatch)."""
    code = _str(ctx.entry.get("code"))
    if code is None or not _COUNTRY_FORM.fullmatch(code) or pycountry.countries.get(alpha_2=code) is None:
        return None
    if ctx.file_code is not None and ctx.file_code != code:
        return None
    return code


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The short English name of a country code, as a Party reads it (``Norway``)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return str(name)


def _country_code(value: Any) -> str | None:
    """``value`` when it is written as a country code (the schema reports any other form)."""
    return value if isinstance(value, str) and _COUNTRY_FORM.fullmatch(value) else None


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


# --- identity ---------------------------------------------------------------------------

def rule_code_matches_file(ctx: Context) -> Iterator[Problem]:
    code = _str(ctx.entry.get("code"))
    if code is None or ctx.file_code is None:
        return
    if code != ctx.file_code:
        yield ctx.problem(("code",), f"code '{code}' does not match the file name "
                                     f"'{ctx.file_code.lower()}.yaml'; rename the file or fix the code")


def rule_country(ctx: Context) -> Iterator[Problem]:
    code = _str(ctx.entry.get("code"))
    if code is None or len(code) != 2:
        return
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        yield ctx.problem(("code",), f"'{code}' is not an ISO 3166-1 alpha-2 country code")
        return
    name = _str(ctx.entry.get("name"))
    if not name:
        return
    accepted: set[str] = {n for attr in ("name", "common_name", "official_name")
                          if isinstance(n := getattr(country, attr, None), str)}
    if name not in accepted:
        yield ctx.problem(("name",), f"'{name}' is not the ISO 3166-1 name of {code}; "
                                     f"use {' or '.join(repr(n) for n in sorted(accepted))}")


# --- dates ------------------------------------------------------------------------------

#: date fields and whether a future date is meaningful for them
_DATE_FIELDS: tuple[tuple[FieldPath, bool], ...] = (
    (("confirmed",), False),
    (("treaty", "signature"), False),
    (("treaty", "ratification"), False),
    (("treaty", "entry_into_force"), True),  # a deposit today takes effect months later
    (("treaty", "as_of"), False),
    (("second_protocol", "signature"), False),
    (("second_protocol", "ratification"), False),
)


def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _value(tree: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(tree, dict) and isinstance(part, str):
            tree = tree.get(part)
        else:
            return None
    return tree


def rule_dates(ctx: Context) -> Iterator[Problem]:
    for path, future_ok in _DATE_FIELDS:
        text = _str(_value(ctx.entry, path))
        if text is None or len(text) != 10:
            continue
        day = parse_date(text)
        if day is None:
            yield ctx.problem(path, f"'{text}' is not a real calendar date")
        elif not future_ok and day > ctx.today:
            yield ctx.problem(path, f"{text} is in the future")
    treaty = _dict(ctx.entry.get("treaty"))
    order = [(k, parse_date(_str(treaty.get(k)) or "")) for k in ("signature", "ratification", "entry_into_force")]
    known = [(k, d) for k, d in order if d is not None]
    for (k1, d1), (k2, d2) in itertools.pairwise(known):
        if d1 is not None and d2 is not None and d2 < d1 and not (k1 == "signature" and k2 == "ratification"):
            yield ctx.problem(("treaty", k2), f"{k2} {d2} is before {k1} {d1}")


def rule_status_dates(ctx: Context) -> Iterator[Problem]:
    status = _str(ctx.entry.get("status"))
    treaty = _dict(ctx.entry.get("treaty"))
    if status == "signatory" and "ratification" in treaty:
        yield ctx.problem(("treaty", "ratification"), "a signatory has no ratification date; "
                                                       "set status to party or remove the date")
    if status == "invited" and ("ratification" in treaty or "signature" in treaty):
        key = "ratification" if "ratification" in treaty else "signature"
        yield ctx.problem(("treaty", key), "a State invited to accede has neither signed nor ratified; "
                                           "fix the status or remove the date")


def rule_confirmed(ctx: Context) -> Iterator[Problem]:
    text = _str(ctx.entry.get("confirmed"))
    day = parse_date(text) if text else None
    if day is None or day > ctx.today:
        return
    due = confirmation_due(day)
    if due < ctx.today:
        severity = Severity.ERROR if ctx.strict else Severity.WARNING
        yield ctx.problem(("confirmed",), f"last confirmed {day}; re-confirmation was due {due} "
                                          f"under the {CONFIRMATION_POLICY_MONTHS}-month policy "
                                          f"(run 'directory247 confirm')", severity)


# --- contact points ---------------------------------------------------------------------

def rule_primary(ctx: Context) -> Iterator[Problem]:
    points = ctx.entry.get("contact_points")
    if not isinstance(points, list) or not points:
        return
    primaries = [i for i, cp in enumerate(points) if isinstance(cp, dict) and cp.get("role") == "primary"]
    if not primaries:
        yield ctx.problem(("contact_points",), "no primary contact point; exactly one must have role: primary")
    for index in primaries[1:]:
        yield ctx.problem(("contact_points", index, "role"),
                          f"more than one primary contact point (the first is contact_points[{primaries[0]}])")
    for index, cp in enumerate(points):
        if not isinstance(cp, dict):
            continue
        available = cp.get("available_24_7")
        kinds = [p.get("kind") for p in _list(cp.get("phones")) if isinstance(p, dict)]
        if cp.get("role") == "primary" and available is False:
            yield ctx.problem((("contact_points", index, "available_24_7")),
                              "the primary contact point must be available 24/7")
        if available is True and kinds and "24/7" not in kinds:
            yield ctx.problem(("contact_points", index, "phones"),
                              "a contact point available 24/7 needs a phone of kind 24/7")
        if available is False and "office_hours" not in cp:
            yield ctx.problem(("contact_points", index),
                              "a contact point not available 24/7 must give its office_hours",
                              Severity.WARNING)


def _phones(entry: dict[str, Any]) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every phone of the entry: contact points' (primary and secondary) and related authorities'."""
    for i, cp in enumerate(_list(entry.get("contact_points"))):
        for j, phone in enumerate(_list(_dict(cp).get("phones"))):
            yield ("contact_points", i, "phones", j), _dict(phone)
    related = _dict(entry.get("related_authorities"))
    for name in ("mla_central_authority", "extradition_authority"):
        for j, phone in enumerate(_list(_dict(related.get(name)).get("phones"))):
            yield ("related_authorities", name, "phones", j), _dict(phone)


_E164_FORM = re.compile(r"\+[1-9][0-9]{3,14}")


def rule_phones(ctx: Context) -> Iterator[Problem]:
    state = _state(ctx)
    for path, phone in _phones(ctx.entry):
        number = phone.get("number")
        if not isinstance(number, str) or not _E164_FORM.fullmatch(number):
            continue  # the schema reports the form
        message = check_phone(number)
        if message:
            yield ctx.problem((*path, "number"), message)
            continue
        abroad = _country_code(phone.get("abroad"))
        if state is None or (abroad is None and "abroad" in phone):
            continue
        found = check_phone_country(number, state, abroad)
        if found:
            yield ctx.problem((*path, found[0]), found[1])


def check_phone(number: str) -> str | None:
    return _phone_facts(number)[0]


@lru_cache(maxsize=4096)
def _phone_facts(number: str) -> tuple[str | None, str]:
    """What is wrong with ``number`` (or None), and the region it belongs to. The region is
    found once, as ``is_valid_number`` finds it: phonenumbers compiles a region's patterns
    on each match, so asking twice costs as much again."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        return f"'{number}' is not a phone number: {exc}", phonenumbers.UNKNOWN_REGION
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.UNKNOWN_REGION
    if not phonenumbers.is_valid_number_for_region(parsed, region):
        region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        return (f"'{number}' is not a valid number for region {region} (country code +{parsed.country_code})",
                region)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164 != number:
        return f"'{number}' is not in E.164 form; write {e164}", region
    return None, region


@lru_cache(maxsize=4096)
def check_phone_country(number: str, state: str, abroad: str | None) -> tuple[str, str] | None:
    """Whether a valid ``number`` belongs to the entry's ``state``, or to the country its
    ``abroad`` names: None, or the field to fix (``number`` or ``abroad``) and what to write.

    Calling codes are shared (+1, +7, +44 with dependencies, +47 with Svalbard), so the
    number is judged by the numbering plan of each country, not by its code. Numbers of no
    country (+800, +870 Inmarsat, +881 satellite...) are not another country's, and a State
    with no numbering plan of its own (Antarctica, Bouvet Island...) can only give numbers of
    others: there, as for a State the tz database lists no zone for, nothing is asked."""
    parsed = phonenumbers.parse(number, None)
    region = _phone_facts(number)[1]
    # A number is valid for the first region of its calling code whose plan matches; ask
    # the State's own plan only for a number found to be another's (rare, and costly).
    home = region == state or phonenumbers.is_valid_number_for_region(parsed, state)
    no_country = region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
    owner = f"{country_name(region)} (+{parsed.country_code})"
    if abroad is None:
        if home or no_country or not phonenumbers.country_code_for_region(state):
            return None
        return ("number", f"'{number}' is a number of {owner}, not of {country_name(state)}; give a number of "
                          f"{country_name(state)}, or, if this number abroad is deliberate, add 'abroad: {region}' "
                          "to this phone")
    if pycountry.countries.get(alpha_2=abroad) is None:
        hint = "" if no_country else f"; write 'abroad: {region}'"
        return ("abroad", f"'{abroad}' is not an ISO 3166-1 alpha-2 country code{hint}")
    if abroad == state:
        return ("abroad", f"'abroad: {abroad}' names the entry's own State; remove it")
    if home:
        return ("abroad", f"'{number}' is a number of {country_name(state)} itself; remove 'abroad: {abroad}'")
    if no_country:
        return ("abroad", f"'{number}' is an international number of no country (+{parsed.country_code}); "
                          f"remove 'abroad: {abroad}'")
    if not phonenumbers.is_valid_number_for_region(parsed, abroad):
        return ("abroad", f"'{number}' is a number of {owner}, not of {country_name(abroad)}; "
                          f"write 'abroad: {region}'")
    return None


def _email_paths(entry: dict[str, Any]) -> Iterator[tuple[FieldPath, Any]]:
    for i, cp in enumerate(_list(entry.get("contact_points"))):
        for j, email in enumerate(_list(_dict(cp).get("emails"))):
            yield ("contact_points", i, "emails", j), email
    related = _dict(entry.get("related_authorities"))
    for name in ("mla_central_authority", "extradition_authority"):
        for j, email in enumerate(_list(_dict(related.get(name)).get("emails"))):
            yield ("related_authorities", name, "emails", j), email


def rule_emails(ctx: Context) -> Iterator[Problem]:
    demo_flag = ctx.entry.get("demo", False)
    for path, email in _email_paths(ctx.entry):
        if not isinstance(email, str) or len(email) < 3:
            continue
        message = check_email(email)
        if message:
            yield ctx.problem(path, message)
            continue
        if not isinstance(demo_flag, bool):
            continue  # the schema reports the flag; do not guess which rule applies
        demo = demo_flag
        domain = email.rpartition("@")[2].lower()
        example = domain == "example" or domain.endswith(".example")
        if demo and not example:
            yield ctx.problem(path, f"'{email}' is a real-looking address in demonstration data; "
                                    "use a domain under .example")
        elif not demo and example:
            yield ctx.problem(path, f"'{email}' is a placeholder address (.example); "
                                    "give the real address or mark the entry demo: true")


@lru_cache(maxsize=4096)
def check_email(email: str) -> str | None:
    try:
        result = email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return f"'{email}' is not a valid e-mail address: {exc}"
    # Before the normal form: an xn-- domain normalises to its Unicode form, which must not be
    # suggested when it is a look-alike.
    lookalike = lookalike_address(result.local_part, result.domain)
    if lookalike:
        return f"'{email}': {lookalike}"
    if result.normalized != email:
        return f"'{email}' is not in normal form; write {result.normalized}"
    return None


# --- look-alike domains and addresses (Unicode UTS #39) ---------------------------------
#
# Policy. An ASCII domain is accepted as it is. A label written with other letters (or as
# xn--, judged by what it decodes to) is accepted only when it cannot pass for another:
#   - its letters are of one script, or of a set that is written together (Han with Hiragana
#     and Katakana, with Bopomofo, with Hangul; each may have Latin too), UTS #39 "highly
#     restrictive";
#   - in a label with Latin letters, no non-ASCII letter looks like one ASCII letter or digit
#     (a Cyrillic o, U+043E, in "police"; a Latin dotless i, U+0131, in "police");
#   - a label of another script is not made only of letters that look like ASCII ones (the
#     Cyrillic U+0441 U+043E U+0441 U+043E reads as "coco": a whole-script confusable).
# Diacritics are not look-alikes (UTS #39 keeps them apart: "bücher" is not "bucher").
# The same holds for the part of an e-mail address before the @. The look-alike letters are
# the confusables of Unicode's confusables.txt and the scripts those of Scripts.txt, as the
# confusable-homoglyphs package ships them. Such a domain is refused in every field, also
# written as xn--, so a duty officer is never shown one, whichever form a writer shows.

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


def _strings(tree: Any) -> Iterator[tuple[FieldPath, str]]:
    work: list[tuple[FieldPath, Any]] = [((), tree)]
    while work:
        path, node = work.pop()
        if isinstance(node, dict):
            work.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            work.extend(((*path, i), v) for i, v in enumerate(node))
        elif isinstance(node, str):
            yield path, node


def rule_lookalike_text(ctx: Context) -> Iterator[Problem]:
    """Links, addresses and domains in every text field but the e-mail lists (``rule_emails``
    judges those): an authority's url, treaty sources, an address on a secure channel, notes."""
    for path, text in _strings(ctx.entry):
        if len(path) >= 2 and path[-2] == "emails":
            continue
        for message in text_lookalikes(text):
            yield ctx.problem(path, message)


def rule_one_line(ctx: Context) -> Iterator[Problem]:
    """Every text field but free text (notes, addresses) holds one line: no tab, line break or
    special space. Other control and separator characters the loader refuses everywhere."""
    multi_line = text_fields()
    for path, text in _strings(ctx.entry):
        if text.isprintable() or field_pattern(path) in multi_line:
            continue
        reason = one_line_problem(text)
        if reason:
            yield ctx.problem(path, reason)


def rule_languages(ctx: Context) -> Iterator[Problem]:
    places: list[tuple[FieldPath, Any]] = []
    for i, cp in enumerate(_list(ctx.entry.get("contact_points"))):
        places.append((("contact_points", i, "languages"), _dict(cp).get("languages")))
    places.append((("request_intake", "languages"), _dict(ctx.entry.get("request_intake")).get("languages")))
    for path, languages in places:
        for k, code in enumerate(_list(languages)):
            if isinstance(code, str) and 2 <= len(code) <= 3 and not is_language(code):
                yield ctx.problem((*path, k), f"'{code}' is not an ISO 639 language code")


@lru_cache(maxsize=1024)
def is_language(code: str) -> bool:
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    return pycountry.languages.get(alpha_3=code) is not None


@dataclass(frozen=True)
class ZoneTable:
    """The tz database's view of countries: each country's zones (``zone.tab``, one line
    per country and zone, so a State that shares a zone with its neighbours in
    ``zone1970.tab`` still has its own, e.g. Norway: Europe/Oslo), which country a zone is
    listed for, and the old names that are only aliases of another zone."""

    zones: dict[str, tuple[str, ...]]
    country: dict[str, str]
    alias: dict[str, str]


def _tab_rows(text: str) -> Iterator[tuple[list[str], str]]:
    for line in text.splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        yield fields[0].split(","), fields[2]


@lru_cache(maxsize=1)
def zone_table() -> ZoneTable:
    base = resources.files("tzdata.zoneinfo")
    zones: dict[str, list[str]] = {}
    for codes, zone in _tab_rows((base / "zone.tab").read_text(encoding="utf-8")):
        for code in codes:
            zones.setdefault(code, []).append(zone)
    listed = set(zones)
    # A country zone.tab would lack (it is kept for compatibility) keeps zone1970.tab's zones.
    for codes, zone in _tab_rows((base / "zone1970.tab").read_text(encoding="utf-8")):
        for code in codes:
            if code not in listed:
                zones.setdefault(code, []).append(zone)
    country = {zone: code for code, names in zones.items() for zone in names}
    links: dict[str, str] = {}
    for line in (base / "tzdata.zi").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    alias = {}
    for name, target in links.items():
        for _ in range(8):  # a link to a link
            target = links.get(target, target)
        alias[name] = target
    return ZoneTable({code: tuple(names) for code, names in zones.items()}, country, alias)


#: Names in the zone database that are not places: a contact point's zone must be one.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})
#: How many zones a message lists before it says how many more there are.
_ZONES_SHOWN = 12


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def zones_of(code: str) -> str:
    """``Norway: Europe/Oslo``; a long list is cut (the United States have 29 zones)."""
    names = zone_table().zones.get(code, ())
    shown = ", ".join(names[:_ZONES_SHOWN])
    more = f" and {len(names) - _ZONES_SHOWN} more listed in the tz database's zone.tab" \
        if len(names) > _ZONES_SHOWN else ""
    return f"{country_name(code)}: {shown}{more}"


def _write_zone(code: str) -> str:
    one = len(zone_table().zones.get(code, ())) == 1
    return f"write {'the zone' if one else 'a zone'} of {zones_of(code)}"


def rule_time_zones(ctx: Context) -> Iterator[Problem]:
    state = _state(ctx)
    for i, cp in enumerate(_list(ctx.entry.get("contact_points"))):
        cp = _dict(cp)
        zone = _str(cp.get("time_zone"))
        if not zone:
            continue
        if zone not in _time_zones():
            yield ctx.problem(("contact_points", i, "time_zone"),
                              f"'{zone}' is not an IANA time zone (e.g. Europe/Oslo)")
            continue
        abroad = _country_code(cp.get("time_zone_abroad"))
        if state is None or (abroad is None and "time_zone_abroad" in cp):
            continue
        found = check_zone_country(zone, state, abroad)
        if found:
            yield ctx.problem(("contact_points", i, found[0]), found[1])


@lru_cache(maxsize=1024)
def check_zone_country(zone: str, state: str, abroad: str | None) -> tuple[str, str] | None:
    """Whether the IANA ``zone`` is one the tz database lists for ``state``, or for the
    country ``abroad`` names: None, or the field to fix (``time_zone`` or
    ``time_zone_abroad``) and what to write. Legacy names (CET, EST5EDT, Etc/GMT+1) and
    aliases (US/Eastern, Europe/Belfast) are no country's zone: they are refused even where
    they tell the right time today, since they say nothing of the place and may change."""
    table = zone_table()
    if abroad is not None:
        if pycountry.countries.get(alpha_2=abroad) is None:
            return ("time_zone_abroad", f"'{abroad}' is not an ISO 3166-1 alpha-2 country code")
        if abroad == state:
            return ("time_zone_abroad", f"'time_zone_abroad: {abroad}' names the entry's own State; remove it")
        if zone in table.zones.get(state, ()):
            return ("time_zone_abroad", f"{zone} is a zone of {country_name(state)} itself; "
                                        f"remove 'time_zone_abroad: {abroad}'")
        if not table.zones.get(abroad):
            return ("time_zone_abroad", f"the tz database lists no time zone for {country_name(abroad)} "
                                        f"({abroad}); write the country whose time the contact point keeps")
    place = abroad or state
    if not table.zones.get(place) or zone in table.zones[place]:
        return None
    owner = table.country.get(zone)
    if owner is None:
        target = table.alias.get(zone)
        if target in table.zones[place]:
            return ("time_zone", f"'{zone}' is an old alias of {target}; write {target}")
        if target is not None and "/" in zone and not zone.startswith("Etc/") and target in table.country:
            return ("time_zone", f"'{zone}' is an old alias of {target} ({country_name(table.country[target])}), "
                                 f"not a zone of {country_name(place)}; {_write_zone(place)}")
        return ("time_zone", f"'{zone}' is a legacy name, not the zone of a place; {_write_zone(place)}")
    if abroad is not None:
        return ("time_zone", f"'{zone}' is a time zone of {country_name(owner)}, not of {country_name(abroad)} "
                             f"(time_zone_abroad: {abroad}); {_write_zone(abroad)}, or write "
                             f"'time_zone_abroad: {owner}'")
    return ("time_zone", f"'{zone}' is a time zone of {country_name(owner)}, not of {country_name(state)}; "
                         f"{_write_zone(state)}, or, if the contact point deliberately keeps the time of "
                         f"{country_name(owner)}, add 'time_zone_abroad: {owner}' to it")


def rule_emergency_disclosure(ctx: Context) -> Iterator[Problem]:
    intake = _dict(ctx.entry.get("request_intake"))
    if intake.get("emergency_disclosure") is True:
        protocol = _dict(ctx.entry.get("second_protocol"))
        if "ratification" not in protocol:
            yield ctx.problem(("request_intake", "emergency_disclosure"),
                              "emergency disclosure under CETS 224 needs second_protocol.ratification")


def rule_demo_marker(ctx: Context) -> Iterator[Problem]:
    if "demo" in ctx.entry and ctx.entry["demo"] is False:
        yield ctx.problem(("demo",), "write demo only on sample data (demo: true); remove it otherwise",
                          Severity.WARNING)


#: What ``directory247 new`` writes where only the Party knows the value.
PLACEHOLDER = "REPLACE"


def rule_placeholders(ctx: Context) -> Iterator[Problem]:
    """Scaffold placeholders left in: every one must be replaced before the entry can pass."""
    work: list[tuple[FieldPath, Any]] = [((), ctx.entry)]
    while work:
        path, node = work.pop()
        if isinstance(node, dict):
            work.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            work.extend(((*path, i), v) for i, v in enumerate(node))
        elif isinstance(node, str) and node.startswith(PLACEHOLDER):
            yield ctx.problem(path, f"placeholder {node!r} left from 'directory247 new'; replace it with the "
                                    "real value")


RULES: tuple[Rule, ...] = (
    rule_placeholders,
    rule_one_line,
    rule_code_matches_file,
    rule_country,
    rule_dates,
    rule_status_dates,
    rule_confirmed,
    rule_primary,
    rule_phones,
    rule_emails,
    rule_lookalike_text,
    rule_languages,
    rule_time_zones,
    rule_emergency_disclosure,
    rule_demo_marker,
)


def check_rules(ctx: Context) -> list[Problem]:
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems
