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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pycountry

from ..problems import FieldPath, Problem, Severity, field_name
from .characters import one_line_problem
from .confirmation import CONFIRMATION_POLICY_MONTHS, confirmation_due, parse_date
from .loader import Document
from .lookalike import text_lookalikes
from .reference import check_email, check_phone, check_phone_country, check_zone_country, is_language, time_zones
from .schema import field_pattern, text_fields


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


def _country_code(value: Any) -> str | None:
    """``value`` when it is written as a country code (the schema reports any other form)."""
    return value if isinstance(value, str) and _COUNTRY_FORM.fullmatch(value) else None


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


def rule_time_zones(ctx: Context) -> Iterator[Problem]:
    state = _state(ctx)
    for i, cp in enumerate(_list(ctx.entry.get("contact_points"))):
        cp = _dict(cp)
        zone = _str(cp.get("time_zone"))
        if not zone:
            continue
        if zone not in time_zones():
            yield ctx.problem(("contact_points", i, "time_zone"),
                              f"'{zone}' is not an IANA time zone (e.g. Europe/Oslo)")
            continue
        abroad = _country_code(cp.get("time_zone_abroad"))
        if state is None or (abroad is None and "time_zone_abroad" in cp):
            continue
        found = check_zone_country(zone, state, abroad)
        if found:
            yield ctx.problem(("contact_points", i, found[0]), found[1])


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
