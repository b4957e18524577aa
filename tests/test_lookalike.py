"""Look-alike and inconsistent contact data, as a class: every field of the schema that holds
a domain, URL, phone or time zone, and every one-line text field, found from the schema
itself, so a field added later is covered without a new test. The single cases (with the
exact messages) are folders under cases/."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import ROOT, TODAY
from directory247.entry import lookalike, reference
from directory247.entry.characters import one_line_problem
from directory247.entry.loader import load_entry
from directory247.entry.schema import ANY_ITEM, load_schema, text_fields
from directory247.entry.validation import validate_entry
from directory247.entry.yaml_writer import dump

DEMO = ROOT / "tests" / "cases" / "valid" / "demo-norway" / "no.yaml"
STATES = [row["iso2"] for row in csv.DictReader((ROOT / "data" / "ets185_states.csv").open(encoding="utf-8"))]


def _demo_tree() -> dict[str, Any]:
    loaded = load_entry(DEMO.read_bytes(), "no.yaml")
    assert loaded.document is not None
    result = validate_entry(DEMO.read_bytes(), "no.yaml", today=TODAY)
    assert result.ok and result.entry is not None
    return result.entry


def _string_fields(schema: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """Every text field the entry schema defines, as a pattern (list items as ``*``)."""
    work: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while work:
        node, pattern = work.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("$ref"), str):
            target: Any = schema
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        if node.get("type") == "string" and pattern:
            yield pattern
        for key, child in (node.get("properties") or {}).items():
            work.append((child, (*pattern, key)))
        if isinstance(node.get("items"), dict):
            work.append((node["items"], (*pattern, ANY_ITEM)))


STRING_FIELDS = sorted(set(_string_fields(load_schema())))
ONE_LINE = [p for p in STRING_FIELDS if p not in text_fields()]
PHONE_FIELDS = [p for p in STRING_FIELDS if p[-3:] == ("phones", ANY_ITEM, "number")]
EMAIL_FIELDS = [p for p in STRING_FIELDS if p[-2:] == ("emails", ANY_ITEM)]
ZONE_FIELDS = [p for p in STRING_FIELDS if p[-1] == "time_zone"]
OTHER_TEXT = [p for p in STRING_FIELDS if p not in EMAIL_FIELDS]


def _name(pattern: tuple[str, ...]) -> str:
    return ".".join(pattern).replace(".*", "[0]")


def _with(tree: dict[str, Any], pattern: tuple[str, ...], value: str) -> dict[str, Any]:
    """A copy of ``tree`` with ``value`` at ``pattern`` (first list item), parents made."""
    out = copy.deepcopy(tree)
    node: Any = out
    for part, following in zip(pattern, (*pattern[1:], None), strict=True):
        key: Any = 0 if part == ANY_ITEM else part
        if following is None:
            if isinstance(node, list) and not node:
                node.append(value)
            else:
                node[key] = value
            break
        fresh: Any = [] if following == ANY_ITEM else {}
        if isinstance(node, list):
            if not node:
                node.append(fresh)
        elif key not in node or not isinstance(node[key], type(fresh)):
            node[key] = fresh
        node = node[key]
    return out


def _findings(tree: dict[str, Any]) -> list[tuple[str, str]]:
    text = dump(tree)
    result = validate_entry(text.encode("utf-8"), "no.yaml", today=TODAY)
    return [(p.field, p.message) for p in result.problems]


def test_the_schema_has_the_fields_this_class_is_about() -> None:
    assert len(PHONE_FIELDS) == 3  # contact points, MLA and extradition authorities
    assert len(EMAIL_FIELDS) == 3
    assert ZONE_FIELDS == [("contact_points", ANY_ITEM, "time_zone")]
    assert ("related_authorities", "mla_central_authority", "url") in OTHER_TEXT
    assert ("contact_points", ANY_ITEM, "authority") in ONE_LINE


# --- one-line fields -------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ONE_LINE, ids=_name)
def test_every_one_line_field_refuses_a_tab(pattern: tuple[str, ...]) -> None:
    found = _findings(_with(_demo_tree(), pattern, "Cyber\tcrime"))
    assert (_name(pattern), "a tab (U+0009) is not allowed in a one-line field; write a space") in found


@pytest.mark.parametrize("pattern", sorted(text_fields()), ids=_name)
def test_free_text_keeps_tabs_and_line_breaks(pattern: tuple[str, ...]) -> None:
    found = _findings(_with(_demo_tree(), pattern, "First line\n\tsecond line"))
    assert [f for f in found if f[0] == _name(pattern)] == []


@pytest.mark.parametrize("char", ["\t", "\n", "\u00a0", "\u2007", "\u202f", "\u3000", "\u1680"])
def test_one_line_refuses_tabs_breaks_and_special_spaces(char: str) -> None:
    assert one_line_problem(f"a{char}b")
    assert one_line_problem("plain words, with spaces") is None
    assert one_line_problem("\u0dc1\u0dca\u200d\u0dbb\u0dd3") is None  # Sinhala: joiner after virama


_RAW = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]]


@pytest.mark.parametrize("char", _RAW, ids=lambda c: f"U+{ord(c):04X}")
def test_every_raw_control_or_separator_names_its_field(char: str) -> None:
    text = DEMO.read_text(encoding="utf-8")
    places = {
        "contact_points[0].unit": ("unit: Cybercrime Centre", f"unit: Cyber{char}crime Centre"),
        "contact_points[0].emails[0]": ("[cyber-24-7@police", f"[cyber{char}-24-7@police"),
        "contact_points[0].languages[1]": ('["no", nb, nn]\n    time', f'["no", n{char}b, nn]\n    time'),
        f"contact_points[0].un{repr(char)[1:-1]}it": ("    unit: Cyber", f"    un{char}it: Cyber"),
        "(comment)": ("# Edit, then run:", f"# Edit,{char} then run:"),
    }
    for field, (old, new) in places.items():
        result = validate_entry(text.replace(old, new, 1).encode("utf-8"), "no.yaml", today=TODAY)
        assert [p.field for p in result.problems] == [field], (field, result.problems)
        assert not result.ok


def test_a_line_separator_in_a_comment_hides_no_field() -> None:
    text = DEMO.read_text(encoding="utf-8").replace("# Edit, then run:", "# Edit\u2028status: invited\n#", 1)
    result = validate_entry(text.encode("utf-8"), "no.yaml", today=TODAY)
    assert result.entry is None and [p.field for p in result.problems] == ["(comment)"]


# --- domains and addresses -------------------------------------------------------------

@pytest.mark.parametrize("pattern", EMAIL_FIELDS, ids=_name)
def test_every_email_field_refuses_a_lookalike_domain(pattern: tuple[str, ...]) -> None:
    found = _findings(_with(_demo_tree(), pattern, "mla@p\u043elice.no.example"))
    assert any(field == _name(pattern) and "can pass for another" in message for field, message in found)


@pytest.mark.parametrize("pattern", OTHER_TEXT, ids=_name)
def test_every_other_text_field_refuses_a_lookalike_link(pattern: tuple[str, ...]) -> None:
    found = _findings(_with(_demo_tree(), pattern, "https://p\u043elice.no.example/x"))
    assert any(field == _name(pattern) and "can pass for another domain" in message for field, message in found)


@pytest.mark.parametrize("label", ["police", "b\u00fccher", "\u043f\u043e\u043b\u0438\u0446\u0438\u044f",
                                   "\u65e5\u672c\u8a9e\u30c9\u30e1\u30a4\u30f3", "\ud55c\uad6d",
                                   "\u03b5\u03bb\u03bb\u03ac\u03b4\u03b1", "politi-24-7", "\u00e6r\u00f8"])
def test_one_script_labels_that_are_no_lookalikes_pass(label: str) -> None:
    assert lookalike.lookalike_label(label) is None


@pytest.mark.parametrize(("label", "reason"), [
    ("p\u043elice", "mixes Latin and Cyrillic letters"),           # one Cyrillic o
    ("\u0440\u0430\u0443\u0440\u0430l", "mixes Cyrillic and Latin letters"),  # Cyrillic with one Latin l
    ("\u0441\u043e\u0441\u043e", "only with Cyrillic letters that look like ASCII ones (it reads as 'coco')"),
    ("\u03bf\u03c3\u03bf", "only with Greek letters that look like ASCII ones"),
    ("pol\u0131ce", "U+0131 LATIN SMALL LETTER DOTLESS I, which looks like the ASCII 'i'"),
    ("p\u0251ypal", "looks like the ASCII 'a'"),
    ("\u0570\u0585\u0574e", "mixes"),                                # Armenian with Latin
    ("pol\uff11ce", "U+FF11 FULLWIDTH DIGIT ONE, which looks like the ASCII '1'"),
    ("\ufb01nance", "U+FB01 LATIN SMALL LIGATURE FI, which looks like the ASCII 'fi'"),
    ("\U0001d429\U0001d428\U0001d425", "only with letters that look like ASCII ones (it reads as 'pol')"),
])
def test_lookalike_labels_are_refused(label: str, reason: str) -> None:
    found = lookalike.lookalike_label(label)
    assert found is not None and reason in found


def test_the_ascii_form_of_a_lookalike_is_refused_too() -> None:
    assert lookalike.lookalike_host("xn--plice-jye.no.example") is not None  # p, Cyrillic o, lice
    assert lookalike.lookalike_host("xn--h1alffa9f.xn--p1ai") is None  # one script, no look-alike
    assert lookalike.lookalike_host("xn--zz-broken") is not None


def test_a_user_name_before_the_host_of_a_link_is_refused() -> None:
    (found,) = lookalike.text_lookalikes("https://police.no.example@evil.example/login")
    assert "leads to 'evil.example', not to 'police.no.example'" in found


@pytest.mark.parametrize("prose", ["\u0442.\u0435. \u0433.\u041c\u043e\u0441\u043a\u0432\u0430",
                                   "Kay\u0131t.No 12", "\u03c0.\u03c7. \u03ba\u03c4\u03bb."])
def test_abbreviations_in_prose_are_no_domains(prose: str) -> None:
    assert lookalike.text_lookalikes(prose) == ()


def test_the_confusables_table_is_read_only_when_needed() -> None:
    code = ("import sys, datetime as dt, pathlib\n"
            "from directory247.entry.validation import validate_entry\n"
            f"r = validate_entry(pathlib.Path({str(DEMO)!r}).read_bytes(), 'no.yaml', today=dt.date(2026, 5, 1))\n"
            "assert r.ok, r.problems\n"
            "print('confusable_homoglyphs' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


# --- phones ----------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", PHONE_FIELDS, ids=_name)
def test_every_phone_field_refuses_another_countrys_number(pattern: tuple[str, ...]) -> None:
    tree = _with(_demo_tree(), pattern, "+46812345678")
    kind = (*pattern[:-1], "kind")
    found = _findings(_with(tree, kind, "24/7"))
    assert (_name(pattern), "'+46812345678' is a number of Sweden (+46), not of Norway; give a number of Norway, or, "
                            "if this number abroad is deliberate, add 'abroad: SE' to this phone") in found
    abroad = _with(_with(tree, kind, "24/7"), (*pattern[:-1], "abroad"), "SE")
    assert [f for f in _findings(abroad) if f[0].startswith(_name(pattern[:-1]))] == []


@pytest.mark.parametrize(("state", "number", "region"), [
    ("US", "+14165550123", "CA"),    # +1 is shared: Toronto is in Canada
    ("GB", "+441481712345", "GG"),   # +44 with Guernsey
    ("RU", "+77172123456", "KZ"),    # +7 with Kazakhstan
    ("NO", "+4779012345", "SJ"),     # +47 with Svalbard
])
def test_a_shared_calling_code_is_judged_by_the_numbering_plan(state: str, number: str, region: str) -> None:
    found = reference.check_phone_country(number, state, None)
    assert found is not None and f"add 'abroad: {region}'" in found[1]
    assert reference.check_phone_country(number, state, region) is None


def test_numbers_of_no_country_are_nobody_elses() -> None:
    assert reference.check_phone_country("+870773111632", "NO", None) is None


# --- time zones ------------------------------------------------------------------------

@pytest.mark.parametrize("code", STATES)
def test_every_state_has_its_zones_and_its_calling_code(code: str) -> None:
    import phonenumbers

    zones = reference.zone_table().zones.get(code)
    assert zones, f"no zone for {code}"
    for zone in zones:
        assert reference.check_zone_country(zone, code, None) is None
    assert phonenumbers.country_code_for_region(code)


def test_zones_come_from_zone_tab_not_from_the_shared_zone1970_line() -> None:
    table = reference.zone_table()
    assert table.zones["NO"] == ("Europe/Oslo",)  # zone1970.tab gives Norway Europe/Berlin
    assert table.zones["SE"] == ("Europe/Stockholm",)
    assert len(table.zones["US"]) > 20


@pytest.mark.parametrize(("zone", "expected"), [
    ("America/New_York", "is a time zone of United States, not of Norway"),
    ("Europe/Stockholm", "is a time zone of Sweden, not of Norway"),
    ("Europe/Berlin", "is a time zone of Germany, not of Norway"),
    ("Arctic/Longyearbyen", "is a time zone of Svalbard and Jan Mayen, not of Norway"),
    ("CET", "is a legacy name"),
    ("EST5EDT", "is a legacy name"),
    ("Etc/GMT-1", "is a legacy name"),
    ("UTC", "is a legacy name"),
    ("US/Eastern", "is an old alias of America/New_York (United States), not a zone of Norway"),
    ("Europe/Belfast", "is an old alias of Europe/London (United Kingdom), not a zone of Norway"),
])
def test_zones_not_of_the_state_are_refused(zone: str, expected: str) -> None:
    found = reference.check_zone_country(zone, "NO", None)
    assert found is not None and found[0] == "time_zone" and expected in found[1]
    assert "write the zone of Norway: Europe/Oslo" in found[1]


def test_an_alias_of_the_states_own_zone_names_the_zone() -> None:
    assert reference.check_zone_country("US/Eastern", "US", None) == (
        "time_zone", "'US/Eastern' is an old alias of America/New_York; write America/New_York")
    assert reference.check_zone_country("Europe/Kiev", "UA", None) == (
        "time_zone", "'Europe/Kiev' is an old alias of Europe/Kyiv; write Europe/Kyiv")


def test_a_zone_abroad_is_accepted_only_where_the_entry_says_so() -> None:
    assert reference.check_zone_country("America/New_York", "NO", "US") is None
    assert reference.check_zone_country("Europe/Oslo", "NO", "SE") == (
        "time_zone_abroad", "Europe/Oslo is a zone of Norway itself; remove 'time_zone_abroad: SE'")
    found = reference.check_zone_country("America/New_York", "NO", "CA")
    assert found is not None and "write 'time_zone_abroad: US'" in found[1]


def test_every_zone_field_refuses_another_countrys_zone() -> None:
    for pattern in ZONE_FIELDS:
        found = _findings(_with(_demo_tree(), pattern, "Europe/Stockholm"))
        assert any(field == _name(pattern) and "not of Norway" in message for field, message in found)



def test_a_state_without_numbering_plan_or_zone_is_asked_nothing() -> None:
    assert reference.check_phone_country("+4721234567", "BV", None) is None  # Bouvet Island
    assert reference.check_zone_country("Europe/Oslo", "BV", None) is None
    assert reference.check_phone_country("+4721234567", "BV", "SE") is not None  # what is written is checked
