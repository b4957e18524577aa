"""The export writers: golden bytes for a small awkward release, read-back of every export of
the demo directory, formula neutralisation, vCard escaping and folding, and changes.

Golden files live in tests/golden/. After a deliberate format change, rewrite them with
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_writers.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from conftest import ROOT, TODAY
from directory247.entry import changes
from directory247.entry.model import ContactPoint, Entry, Release, Signer
from directory247.entry.validation import validate_files
from directory247.formats import atom, csv_export, datapackage, json_export, vcard

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
RELEASED = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)
EXPIRES = RELEASED + dt.timedelta(days=45)


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)"


# --------------------------------------------------------------------------- golden release


def _contact_point(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "role": "primary", "authority": "Police", "authority_type": "police", "available_24_7": True,
        "phones": [{"number": "+4721234567", "kind": "24/7"}], "emails": ["desk@police.no.example"],
        "languages": ["en"], "time_zone": "Europe/Oslo",
    }
    base.update(fields)
    return base


def _entry(code: str, name: str, contact_points: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {
        "schema_version": "1", "code": code, "name": name, "demo": True, "serial": 1, "confirmed": "2026-05-02",
        "status": "party", "treaty": {"source": "https://example.invalid/treaty"},
        "contact_points": contact_points,
        "request_intake": {
            "languages": ["en"], "channels": ["phone", "email"], "preservation_template": True,
            "subscriber_template": False, "encryption_required": False, "preservation_days": 90,
            "expedited_disclosure": True, "emergency_disclosure": False,
        },
    }
    tree.update(fields)
    return tree


def golden_trees() -> dict[str, dict[str, Any]]:
    """Three entries whose text exercises every escaping rule of every writer."""
    norway = _entry("NO", "Norway", [
        _contact_point(
            authority='=HYPERLINK("http://evil.example";"Kripos")',
            unit="-Cyber; Desk, \"NC3\"\\night shift\nSecond line",
            phones=[{"number": "+4721234568", "kind": "24/7"}, {"number": "+4790000000", "kind": "mobile"}],
            emails=["-desk@kripos.no.example", "24-7@kripos.no.example"],
            languages=["nb", "en"],
            openpgp_fingerprint="B24DBEA001D3F413C91A1AD9FCF595FCC7FD4958",
            secure_channels=[{"channel": "interpol-i247", "address": "NCB Oslo; room 3:B"},
                             {"channel": "other", "name": "Nordic net\\work"}],
        ),
        _contact_point(role="secondary", authority="+47 Riksadvokaten", unit="@Cyber prosecution",
                       authority_type="prosecution", available_24_7=False,
                       phones=[{"number": "+4722000000", "kind": "office"}, {"number": "+4722000001", "kind": "fax"}],
                       emails=["office@riksadvokaten.no.example"], office_hours="\tMon-Fri 08:00-16:00"),
    ], native_name="Norge; Noreg", serial=5)
    iceland = _entry("IS", "Iceland", [
        _contact_point(authority="Ríkislögreglustjóri — Netbrotadeild ÆÐÞ, Reykjavík", unit="\rNight desk",
                       phones=[{"number": "+3545442000", "kind": "24/7"}], emails=["vakt@logreglan.is.example"],
                       languages=["is", "en"], time_zone="Atlantic/Reykjavik"),
        _contact_point(role="secondary", authority="Héraðssaksóknari", authority_type="prosecution",
                       available_24_7=False, phones=[{"number": "+3545442100", "kind": "office"}],
                       emails=["'quoted@saksoknari.is.example"], languages=["is"],
                       time_zone="Atlantic/Reykjavik", office_hours="'=not a formula"),
    ], native_name="Ísland", serial=3)
    japan = _entry("JP", "Japan", [
        _contact_point(authority="警察庁サイバー警察局 (National Police Agency, Cyber Affairs Bureau) 🚓 24時間",
                       unit="サイバー特別捜査部\u3000国際連携室", phones=[{"number": "+81335810141", "kind": "24/7"}],
                       emails=["cyber@npa.jp.example"], languages=["ja", "en"], time_zone="Asia/Tokyo"),
    ], native_name="日本", status="signatory", demo=False)
    japan["request_intake"] = dict(japan["request_intake"], notes="Send in English; \"urgent\" in the subject.")
    del japan["request_intake"]["preservation_days"]
    return {"IS": iceland, "JP": japan, "NO": norway}


def previous_trees() -> dict[str, dict[str, Any]]:
    """The release before: NO had another 24/7 number and serial 4, IS one contact point,
    SE existed, JP did not."""
    trees = golden_trees()
    norway = json.loads(json.dumps(trees["NO"]))
    norway["serial"] = 4
    norway["contact_points"][0]["phones"][0]["number"] = "+4721234567"
    iceland = json.loads(json.dumps(trees["IS"]))
    iceland["serial"] = 2
    iceland["contact_points"] = iceland["contact_points"][:1]
    sweden = _entry("SE", "Sweden", [_contact_point(time_zone="Europe/Stockholm")])
    return {"IS": iceland, "NO": norway, "SE": sweden}


def make_release(trees: dict[str, dict[str, Any]], version: str = "2026.11.2", serial: int = 2) -> Release:
    entries = tuple(Entry.from_dict(trees[code]) for code in sorted(trees))
    signers = tuple((e.code, Signer("0123456789ABCDEF0123456789ABCDEF01234567", RELEASED - dt.timedelta(days=1)))
                    for e in entries)
    return Release(version=version, serial=serial, released=RELEASED, expires=EXPIRES, entries=entries,
                   signers=signers, release_key="89ABCDEF0123456789ABCDEF0123456789ABCDEF")


@pytest.fixture(scope="module")
def golden_release() -> Release:
    return make_release(golden_trees())


def render_all(release: Release) -> dict[str, bytes]:
    files = {
        "directory.json": json_export.render(release),
        "directory.csv": csv_export.render(release),
        "directory.vcf": vcard.render(release),
    }
    files["datapackage.json"] = datapackage.render(release, files)
    return files


def test_golden_exports(golden_release: Release) -> None:
    for name, data in render_all(golden_release).items():
        check_golden(name, data)


def test_golden_changes() -> None:
    found = changes.diff_entries(previous_trees(), golden_trees())
    check_golden("changes.json", json_export.dumps(changes.to_object(found, "2026.11.1", "2026.11.2")))


def _feed_summaries() -> list[atom.ReleaseSummary]:
    first = changes.diff_entries({}, previous_trees())
    second = changes.diff_entries(previous_trees(), golden_trees())
    return [
        atom.ReleaseSummary("2026.11.1", 1, RELEASED - dt.timedelta(days=7), changes.summarise(first),
                            changes.counts(first)),
        atom.ReleaseSummary("2026.11.2", 2, RELEASED, changes.summarise(second), changes.counts(second)),
    ]


def test_golden_feed() -> None:
    check_golden("feed.atom", atom.render(_feed_summaries(), demo=True))


def test_every_writer_is_deterministic(golden_release: Release) -> None:
    again = make_release(golden_trees())
    assert render_all(golden_release) == render_all(again)
    assert atom.render(_feed_summaries()) == atom.render(list(reversed(_feed_summaries())))


# --------------------------------------------------------------------------- CSV


TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "'", "\uff1d", " =", "\u00a0@"]


@pytest.mark.parametrize("first", TRIGGERS, ids=[repr(t) for t in TRIGGERS])
def test_csv_neutralises_a_leading_trigger_and_reads_it_back(first: str) -> None:
    value = first + "1+1 cmd|' /C calc'!A0"
    trees = golden_trees()
    trees["NO"]["contact_points"][0]["unit"] = value
    trees["NO"]["contact_points"][0]["office_hours"] = value
    trees["NO"]["native_name"] = value
    release = make_release(trees)
    data = csv_export.render(release)
    raw_rows = [row for row in _raw_cells(data) if row[0] == "NO"]
    for column in ("unit", "office_hours", "native_name"):
        cell = raw_rows[0][csv_export.COLUMNS.index(column)]
        assert cell == "'" + value, column
    row = next(r for r in csv_export.parse(data) if r["code"] == "NO")
    assert row["unit"] == row["office_hours"] == row["native_name"] == value


def _raw_cells(data: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]


@pytest.mark.parametrize("value", ["plain", "", "a=b", "x-1", "tel:+4721234567", "24/7:+4721234567", "日本"])
def test_csv_leaves_harmless_cells_alone(value: str) -> None:
    assert csv_export.neutralise(value) == value
    assert csv_export.restore(csv_export.neutralise(value)) == value


def test_csv_layout(golden_release: Release) -> None:
    data = csv_export.render(golden_release)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    # Every row, and the header, is quoted cell by cell (QUOTE_ALL).
    assert data.startswith(b'"code","name",')
    rows = csv_export.parse(data)
    assert [(r["code"], r["contact_point"], r["role"]) for r in rows] == [
        ("IS", "0", "primary"), ("IS", "1", "secondary"), ("JP", "0", "primary"),
        ("NO", "0", "primary"), ("NO", "1", "secondary")]


def test_csv_phone_numbers_are_dialable_without_a_quote(golden_release: Release) -> None:
    data = csv_export.render(golden_release)
    for row in _raw_cells(data):
        for column in ("phone_24_7", "phones"):
            assert not row[csv_export.COLUMNS.index(column)].startswith("'")
    no = next(row for row in _raw_cells(data) if row[0] == "NO")
    assert no[csv_export.COLUMNS.index("phone_24_7")] == "tel:+4721234568"
    assert no[csv_export.COLUMNS.index("phones")] == "24/7:+4721234568;mobile:+4790000000"


def test_csv_list_cells_escape_separators(golden_release: Release) -> None:
    row = next(r for r in csv_export.parse(csv_export.render(golden_release)) if r["code"] == "NO")
    items = [csv_export.split_item(item) for item in csv_export.split_list(row["secure_channels"])]
    assert items == [["interpol-i247", "NCB Oslo; room 3:B"], ["other", "", "Nordic net\\work"]]
    assert csv_export.split_values(row["emails"]) == ["-desk@kripos.no.example", "24-7@kripos.no.example"]


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbf" + b'"code"\r\n', b"\xff\xfe", b'"code","name"\r\n', b"",
], ids=["bom", "not-utf8", "wrong-header", "empty"])
def test_csv_parse_refuses_other_files(data: bytes) -> None:
    with pytest.raises(csv_export.CsvFormatError):
        csv_export.parse(data)


def test_csv_parse_refuses_a_short_row(golden_release: Release) -> None:
    data = csv_export.render(golden_release) + b'"XX","only two"\r\n'
    with pytest.raises(csv_export.CsvFormatError, match="row 7"):
        csv_export.parse(data)


# --------------------------------------------------------------------------- vCard


AWKWARD = "Back\\slash, comma; semi\nnew line — Ísland 日本 🚓"


def test_vcard_escapes_text() -> None:
    assert vcard.escape_text("a\\b,c;d\ne\r\nf\rg") == "a\\\\b\\,c\\;d\\ne\\nf\\ng"
    assert vcard.unescape_text(vcard.escape_text(AWKWARD)) == AWKWARD
    assert vcard.unescape_text("\\N") == "\n"


def test_vcard_refuses_control_characters() -> None:
    with pytest.raises(ValueError, match=r"U\+0007"):
        vcard.escape_text("bell\x07")


@pytest.mark.parametrize("prefix", range(70, 76))
@pytest.mark.parametrize("char", ["é", "日", "🚓"])
def test_vcard_folds_at_75_octets_between_characters(prefix: int, char: str) -> None:
    line = "NOTE:" + "x" * (prefix - 5) + char * 40
    folded = vcard.fold(line).encode("utf-8")
    physical = folded.split(b"\r\n")
    assert physical[-1] == b""
    for number, part in enumerate(physical[:-1]):
        assert len(part) <= 75
        part.decode("utf-8")  # no multi-byte sequence was cut
        assert number == 0 or part.startswith(b" ")
    # The first line is as full as the next character allows.
    assert 75 - len(char.encode()) < len(physical[0]) <= 75
    assert vcard.unfold(folded) == [line]


def test_vcard_never_folds_inside_an_escape() -> None:
    line = "NOTE:" + "x" * 69 + "\\n" + "y" * 10
    first, second, _ = vcard.fold(line).split("\r\n")
    assert first.endswith("x") and second.startswith(" \\n")


def _lines(text: str) -> str:
    """vCard keeps line breaks but not their style: CRLF and CR read back as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_vcard_round_trip_of_awkward_text(golden_release: Release) -> None:
    data = vcard.render(golden_release)
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert any(len(line) < 74 and line and not line.isascii() for line in lines), "a fold met a multi-byte char"
    cards = vcard.parse(data)
    cps = [(e, i, cp) for e in golden_release.entries for i, cp in csv_export.contact_point_order(e)]
    assert len(cards) == len(cps)
    for card, (entry, _, cp) in zip(cards, cps, strict=True):
        assert card["ORG"] == [_lines(cp.authority)] + ([_lines(cp.unit)] if cp.unit else [])
        assert card["FN"] == [_lines(cp.authority + (f" - {cp.unit}" if cp.unit else ""))]
        assert card["CATEGORIES"][:3] == [entry.code, entry.status, cp.role]
    norway = cards[3]
    assert norway["ORG"][1] == "-Cyber; Desk, \"NC3\"\\night shift\nSecond line"
    assert "Secure channels: interpol-i247: NCB Oslo; room 3:B; other (Nordic net\\work)" in norway["NOTE"][0]
    assert cards[2]["ORG"][0].startswith("警察庁サイバー警察局")


def test_vcard_marks_the_24_7_number(golden_release: Release) -> None:
    cards = vcard.parse_cards(vcard.render(golden_release))
    norway = cards[3]
    tels = [c for c in norway if c.name == "TEL"]
    assert [(t.value, t.param("TYPE"), t.param("PREF")) for t in tels] == [
        ("tel:+4721234568", "voice,x-24-7", "1"), ("tel:+4790000000", "cell", None)]
    assert all(t.param("VALUE") == "uri" for t in tels)
    key = next(c for c in norway if c.name == "KEY")
    assert key.value == "openpgp4fpr:B24DBEA001D3F413C91A1AD9FCF595FCC7FD4958"


def test_vcard_uids_are_stable_and_unique(golden_release: Release) -> None:
    uids = [card["UID"][0] for card in vcard.parse(vcard.render(golden_release))]
    assert len(set(uids)) == len(uids)
    assert all(uid.startswith("urn:uuid:") for uid in uids)
    # The same contact point of another release keeps its UID.
    later = make_release(golden_trees(), version="2027.01.1", serial=9)
    assert [card["UID"][0] for card in vcard.parse(vcard.render(later))] == uids


@pytest.mark.parametrize("data", [b"BEGIN:VCARD\nEND:VCARD\n", b"END:VCARD\r\n", b"BEGIN:VCARD\r\n",
                                  b"BEGIN:VCARD\r\nFN\r\nEND:VCARD\r\n", b"\xff\r\n"],
                         ids=["bare-lf", "end-without-begin", "no-end", "no-colon", "not-utf8"])
def test_vcard_parse_refuses_other_files(data: bytes) -> None:
    with pytest.raises(vcard.VCardFormatError):
        vcard.parse(data)


# --------------------------------------------------------------------------- Data Package


def test_datapackage_describes_every_file(golden_release: Release) -> None:
    files = render_all(golden_release)
    package = json.loads(files.pop("datapackage.json"))
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert package["version"] == "2026.11.2" and package["created"] == "2026-11-28T12:00:00Z"
    assert [r["path"] for r in package["resources"]] == ["directory.json", "directory.csv", "directory.vcf"]
    for resource in package["resources"]:
        data = files[resource["path"]]
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["encoding"] == "utf-8"
    table = package["resources"][1]
    assert [f["name"] for f in table["schema"]["fields"]] == list(csv_export.COLUMNS)
    assert all(f.get("description") and f.get("type") for f in table["schema"]["fields"])


def test_datapackage_refuses_an_undescribed_file(golden_release: Release) -> None:
    with pytest.raises(ValueError, match=r"notes\.txt"):
        datapackage.render(golden_release, {"notes.txt": b"x"})


# --------------------------------------------------------------------------- the demo directory


@cache
def demo_release() -> Release:
    paths = sorted((ROOT / "directory").glob("*.yaml"))
    results = validate_files(paths, today=dt.date(2026, 11, 28))
    assert TODAY == dt.date(2026, 11, 28)
    bad = [p for r in results for p in r.problems if not r.ok]
    assert not bad, bad[:3]
    entries = tuple(Entry.from_dict(r.entry) for r in results if r.entry is not None)
    return Release(version="2026.11.1", serial=1, released=RELEASED, expires=EXPIRES, entries=entries)


def _contact_points(release: Release) -> list[tuple[Entry, int, ContactPoint]]:
    return [(e, i, cp) for e in release.entries for i, cp in csv_export.contact_point_order(e)]


def export_validator() -> Draft202012Validator:
    entry_schema = json.loads((ROOT / "schema" / "entry.schema.json").read_text(encoding="utf-8"))
    export_schema = json.loads((ROOT / "schema" / "export.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(export_schema)
    registry: Registry[Any] = Registry().with_resources([
        (entry_schema["$id"], Resource.from_contents(entry_schema)),
        (export_schema["$id"], Resource.from_contents(export_schema)),
    ])
    return Draft202012Validator(export_schema, registry=registry)


def test_export_schema_ids() -> None:
    export_schema = json.loads((ROOT / "schema" / "export.schema.json").read_text(encoding="utf-8"))
    assert export_schema["$id"] == "https://directory247.invalid/schema/export/v1.json" == json_export.EXPORT_SCHEMA_ID
    assert export_schema["properties"]["entries"]["items"] == {"$ref": "https://directory247.invalid/schema/entry/v1.json"}


def test_demo_json_validates_against_the_export_schema() -> None:
    release = demo_release()
    obj = json.loads(json_export.render(release))
    errors = list(export_validator().iter_errors(obj))
    assert not errors, errors[0].message
    assert len(obj["entries"]) == len(release.entries) > 50
    assert json_export.parse(json_export.render(release)) == release


def test_golden_json_validates_against_the_export_schema(golden_release: Release) -> None:
    errors = list(export_validator().iter_errors(json.loads(json_export.render(golden_release))))
    assert not errors, errors[0].message


@pytest.mark.parametrize("damage", ["extra-field", "demo-without-notice", "bad-signer", "bad-version", "bad-time"])
def test_export_schema_rejects(damage: str, golden_release: Release) -> None:
    obj = json.loads(json_export.render(golden_release))
    if damage == "extra-field":
        obj["surprise"] = 1
    elif damage == "demo-without-notice":
        del obj["notice"]
    elif damage == "bad-signer":
        obj["signatures"]["NO"]["extra"] = "x"
    elif damage == "bad-version":
        obj["version"] = "2026.11.0"
    elif damage == "bad-time":
        obj["released"] = "2026-11-28 12:00"
    assert list(export_validator().iter_errors(obj))


def test_demo_csv_reads_back_every_contact_point() -> None:
    release = demo_release()
    rows = csv_export.parse(csv_export.render(release))
    cps = _contact_points(release)
    assert len(rows) == len(cps) == sum(len(e.contact_points) for e in release.entries)
    for row, (entry, index, cp) in zip(rows, cps, strict=True):
        assert (row["code"], int(row["contact_point"])) == (entry.code, index)
        assert _contact_point_from_row(row) == cp.to_dict()
        assert row["name"] == entry.name and row["native_name"] == (entry.native_name or "")
        assert row["serial"] == str(entry.serial) and row["confirmed"] == entry.confirmed.isoformat()
        assert row["demo"] == ("true" if entry.demo else "false")
        intake = entry.request_intake
        assert csv_export.split_values(row["request_languages"]) == list(intake.languages)
        assert csv_export.split_values(row["request_channels"]) == list(intake.channels)
        assert row["preservation_days"] == ("" if intake.preservation_days is None else str(intake.preservation_days))
        assert row["phone_24_7"] == (f"tel:{cp.phone_24_7.number}" if cp.phone_24_7 else "")


def _contact_point_from_row(row: dict[str, str]) -> dict[str, Any]:
    """Rebuild ``ContactPoint.to_dict()`` from one parsed row: proof that nothing was lost."""
    out: dict[str, Any] = {"role": row["role"], "authority": row["authority"]}
    if row["unit"]:
        out["unit"] = row["unit"]
    out["authority_type"] = row["authority_type"]
    out["available_24_7"] = row["available_24_7"] == "true"
    out["phones"] = [dict(zip(("kind", "number"), csv_export.split_item(item), strict=True))
                     for item in csv_export.split_list(row["phones"])]
    out["phones"] = [{"number": p["number"], "kind": p["kind"]} for p in out["phones"]]
    out["emails"] = csv_export.split_values(row["emails"])
    out["languages"] = csv_export.split_values(row["languages"])
    out["time_zone"] = row["time_zone"]
    if row["office_hours"]:
        out["office_hours"] = row["office_hours"]
    if row["openpgp_fingerprint"]:
        out["openpgp_fingerprint"] = row["openpgp_fingerprint"]
    channels = []
    for item in csv_export.split_list(row["secure_channels"]):
        parts = csv_export.split_item(item)
        channel = {"channel": parts[0]}
        if len(parts) > 1 and parts[1]:
            channel["address"] = parts[1]
        if len(parts) > 2:
            channel["name"] = parts[2]
        channels.append(channel)
    if channels:
        out["secure_channels"] = channels
    return out


def test_golden_csv_reads_back_every_contact_point(golden_release: Release) -> None:
    rows = csv_export.parse(csv_export.render(golden_release))
    for row, (_, _, cp) in zip(rows, _contact_points(golden_release), strict=True):
        assert _contact_point_from_row(row) == cp.to_dict()


def test_demo_vcard_has_one_card_per_contact_point() -> None:
    release = demo_release()
    data = vcard.render(release)
    cards = vcard.parse(data)
    cps = _contact_points(release)
    assert len(cards) == len(cps)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    for card, (entry, _, cp) in zip(cards, cps, strict=True):
        assert card["VERSION"] == ["4.0"] and card["KIND"] == ["org"]
        assert card["ORG"] == [cp.authority] + ([cp.unit] if cp.unit else [])
        assert card["TEL"] == [f"tel:{p.number}" for p in cp.phones]
        assert card["EMAIL"] == list(cp.emails)
        assert card["LANG"] == list(cp.languages)
        assert card["TZ"] == [cp.time_zone]
        assert card["CATEGORIES"][:3] == [entry.code, entry.status, cp.role]
        assert card.get("KEY", []) == ([f"openpgp4fpr:{cp.openpgp_fingerprint}"] if cp.openpgp_fingerprint else [])
        assert card["REV"] == ["20261128T120000Z"]
        if entry.demo:
            assert card["NOTE"][0].startswith("DEMONSTRATION DATA")
    assert len({card["UID"][0] for card in cards}) == len(cards)


def test_demo_datapackage_and_determinism() -> None:
    release = demo_release()
    first = render_all(release)
    assert first == render_all(demo_release())
    package = json.loads(first["datapackage.json"])
    for resource in package["resources"]:
        assert resource["hash"] == "sha256:" + hashlib.sha256(first[resource["path"]]).hexdigest()


def test_demo_changes_from_nothing_add_every_state() -> None:
    release = demo_release()
    trees = {e.code: e.to_dict() for e in release.entries}
    found = changes.diff_entries({}, trees)
    assert [c.code for c in found] == sorted(trees)
    assert all(c.kind == changes.ADDED and c.field == "" for c in found)
    assert changes.diff_entries(trees, trees) == []


# --------------------------------------------------------------------------- changes


def test_changes_of_the_golden_release() -> None:
    found = changes.diff_entries(previous_trees(), golden_trees())
    assert [(c.code, c.field, c.kind, c.old, c.new) for c in found if c.code != "IS"] == [
        ("JP", "", "added", None, golden_trees()["JP"]),
        ("NO", "contact_points[0].phones[0].number", "changed", "+4721234567", "+4721234568"),
        ("NO", "serial", "changed", 4, 5),
        ("SE", "", "removed", previous_trees()["SE"], None),
    ]
    iceland = [c for c in found if c.code == "IS"]
    assert [(c.field, c.kind) for c in iceland] == [("contact_points[1]", "added"), ("serial", "changed")]
    assert iceland[0].new == golden_trees()["IS"]["contact_points"][1]
    assert changes.summarise(found) == [
        'IS: contact_points[1] added secondary contact point Héraðssaksóknari; serial 2 -> 3',
        "JP: State added (Japan, serial 1)",
        "NO: contact_points[0].phones[0].number +4721234567 -> +4721234568; serial 4 -> 5",
        "SE: State removed (Sweden, serial 1)",
    ]
    assert changes.counts(found) == {"states_added": 1, "states_removed": 1, "states_changed": 2,
                                     "field_changes": 4}


def test_changes_contact_point_added_in_front_leaves_the_others_alone() -> None:
    old = golden_trees()
    new = json.loads(json.dumps(old))
    extra = _contact_point(role="secondary", authority="Extra", available_24_7=False, office_hours="Mon")
    new["NO"]["contact_points"].insert(0, extra)
    found = changes.diff_entries(old, new)
    assert [(c.field, c.kind) for c in found] == [("contact_points[0]", "added")]


def test_changes_reordered_contact_points_read_as_a_move() -> None:
    old = golden_trees()
    new = json.loads(json.dumps(old))
    new["NO"]["contact_points"].reverse()
    new["NO"]["contact_points"][0]["unit"] = "Renamed"
    found = changes.diff_entries(old, new)
    assert [(c.field, c.kind, c.old, c.new) for c in found] == [
        ("contact_points[0].unit", "changed", "@Cyber prosecution", "Renamed"), ("contact_points[1]", "moved", 0, 1)]
    assert changes.summarise(found) == [
        'NO: contact_points[0].unit "@Cyber prosecution" -> Renamed; contact_points[0] moved to [1]']


def test_changes_fields_added_removed_and_types() -> None:
    old = golden_trees()
    new = json.loads(json.dumps(old))
    del new["NO"]["native_name"]
    new["NO"]["contact_points"][1]["openpgp_fingerprint"] = "A" * 40
    new["NO"]["contact_points"][0]["languages"] = ["en", "nb"]
    new["NO"]["request_intake"]["preservation_days"] = True  # not the same as 1 or 90
    found = changes.diff_entries(old, new)
    assert [(c.field, c.kind) for c in found] == [
        ("contact_points[0].languages", "changed"), ("contact_points[1].openpgp_fingerprint", "added"),
        ("native_name", "removed"), ("request_intake.preservation_days", "changed")]
    line = changes.summarise(found)[0]
    assert 'native_name removed "Norge; Noreg"' in line
    assert "contact_points[0].languages [nb, en] -> [en, nb]" in line


def test_changes_summary_is_terminal_safe() -> None:
    old = golden_trees()
    new = json.loads(json.dumps(old))
    new["NO"]["name"] = "Nor\x1b[31mway\u202e"
    (line,) = changes.summarise(changes.diff_entries(old, new))
    assert line == 'NO: name Norway -> "Nor\\u001b[31mway\\u202e"'
    assert line.isprintable()


def test_changes_json_round_trip_and_site_reader() -> None:
    found = changes.diff_entries(previous_trees(), golden_trees())
    obj = changes.to_object(found, "2026.11.1", "2026.11.2")
    assert [changes.Change.from_dict(c) for c in obj["changes"]] == found
    assert obj["from"] == "2026.11.1" and obj["to"] == "2026.11.2"
    from directory247.site.pages.published import parse_changes

    changelog = parse_changes(json_export.dumps(obj))
    assert changelog.summary == tuple(changes.summarise(found))
    assert [(c.code, c.field, c.kind) for c in changelog.changes] == [(c.code, c.field, c.kind) for c in found]


# --------------------------------------------------------------------------- Atom


ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_is_atom_newest_first_with_stable_ids() -> None:
    data = atom.render(_feed_summaries(), "https://directory.example/")
    feed = ET.fromstring(data)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Release 2026.11.2", "Release 2026.11.1"]
    assert feed.findtext(f"{ATOM}updated") == "2026-11-28T12:00:00Z"
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert all(i and i.startswith("urn:uuid:") for i in ids) and len(set(ids)) == 2
    links = [e.find(f"{ATOM}link").get("href") for e in entries]  # type: ignore[union-attr]
    assert links == ["https://directory.example/releases/2026.11.2/", "https://directory.example/releases/2026.11.1/"]
    summary = entries[0].findtext(f"{ATOM}summary") or ""
    assert summary.splitlines()[0] == "States: 2 changed, 1 added, 1 removed; 4 field changes."
    assert "NO: contact_points[0].phones[0].number +4721234567 -> +4721234568; serial 4 -> 5" in summary
    # Demonstration feeds never share ids with the real one.
    demo_ids = [e.findtext(f"{ATOM}id") for e in ET.fromstring(atom.render(_feed_summaries(), demo=True))
                .findall(f"{ATOM}entry")]
    assert not set(demo_ids) & set(ids)


def test_feed_relative_links_without_site_url() -> None:
    feed = ET.fromstring(atom.render(_feed_summaries()))
    assert [link.get("href") for link in feed.iter(f"{ATOM}link")] == ["2026.11.2/", "2026.11.1/"]


def test_feed_escapes_markup() -> None:
    summary = atom.ReleaseSummary("2026.12.1", 3, RELEASED, ['XX: name "<script>alert(1)</script> & co"', "bell\x07"])
    data = atom.render([summary])
    assert b"<script>" not in data and b"&lt;script&gt;" in data and b"\x07" not in data
    text = ET.fromstring(data).find(f"{ATOM}entry/{ATOM}summary")
    assert text is not None and '"<script>alert(1)</script> & co"' in (text.text or "")


def test_feed_refuses_nothing_and_duplicates() -> None:
    with pytest.raises(ValueError):
        atom.render([])
    one = _feed_summaries()[0]
    with pytest.raises(ValueError):
        atom.render([one, one])


def test_release_summary_from_changes_json() -> None:
    found = changes.diff_entries(previous_trees(), golden_trees())
    data = json_export.dumps(changes.to_object(found, "2026.11.1", "2026.11.2"))
    summary = atom.ReleaseSummary.from_changes_json("2026.11.2", 2, RELEASED, data)
    assert summary.changes == tuple(changes.summarise(found))
    assert summary.counts == changes.counts(found)


def test_vcard_folding_fast_path_is_the_same_as_folding_by_character() -> None:
    import random

    from directory247.formats import vcard

    def by_character(line: str) -> str:
        lines: list[str] = []
        current: list[str] = []
        size = 0
        for unit in vcard._units(line):
            octets = len(unit.encode("utf-8"))
            if size + octets > vcard.FOLD_OCTETS:
                lines.append("".join(current))
                current, size = [" "], 1
            current.append(unit)
            size += octets
        lines.append("".join(current))
        return vcard.CRLF.join(lines) + vcard.CRLF

    chance = random.Random(7)
    for size in [*range(0, 320), 1000, 5000]:
        for alphabet in ("abc XYZ;:,=", "abc\\\\n;é", "ab\\\\n;,", "\\\\\\\\x"):
            line = "".join(chance.choice(alphabet) for _ in range(size))
            assert vcard.fold(line) == by_character(line), (size, alphabet)


def test_vcard_reading_fast_paths_are_the_same_as_reading_by_character() -> None:
    import random

    from directory247.formats import vcard

    def unescape(value: str) -> str:
        out: list[str] = []
        chars = iter(value)
        for c in chars:
            if c != "\\":
                out.append(c)
                continue
            following = next(chars, "")
            out.append("\n" if following in ("n", "N") else following)
        return "".join(out)

    def split_quoted(text: str, separator: str, limit: int = -1) -> list[str]:
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

    def split_escaped(value: str, separator: str) -> list[str]:
        parts: list[str] = []
        current: list[str] = []
        for unit in vcard._units(value):
            if unit == separator:
                parts.append("".join(current))
                current = []
            else:
                current.append(unit)
        parts.append("".join(current))
        return parts

    chance = random.Random(11)
    for size in range(0, 60):
        for alphabet in ("ab;:,", 'ab;:,"', "ab\\;,n", ";;::,,"):
            text = "".join(chance.choice(alphabet) for _ in range(size))
            assert vcard.unescape_text(text) == unescape(text)
            for separator in ";:,":
                assert vcard._split_escaped(text, separator) == split_escaped(text, separator)
                for limit in (-1, 1):
                    assert vcard._split_outside_quotes(text, separator, limit) == split_quoted(text, separator, limit)
