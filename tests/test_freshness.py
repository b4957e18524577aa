"""Freshness: confirm (byte-exact edit, signed, passes the gate), stale (as-of, window, formats,
mail drafts), root-signed reachability records (forged, unsigned, wrongly signed refused), and
the iCalendar reminders, with real gpg and a real iCalendar parser."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import icalendar
import pytest

import gpgtools
from conftest import ROOT, git
from directory247.cli import main
from directory247.entry.confirmation import add_months, confirmation_due
from directory247.entry.model import Entry
from directory247.entry.validation import entry_files, validate_files
from directory247.entry.yaml_writer import dump
from directory247.errors import DirectoryError
from directory247.formats.icalendar import escape_text, fold, render
from directory247.freshness.reachability import (
    REACHABILITY,
    REACHABILITY_SIGNATURE,
    Reachability,
    ReachabilityError,
    Result,
    last_results,
    load_reachability,
    parse_reachability,
)
from directory247.freshness.standing import Standing, confirm_edit, standing
from directory247.gate.check import run_check
from directory247.trust.authorisations import Trust, load_trust
from directory247.trust.snapshots import Snapshot, Special, WorkTree

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
NORWAY_CONFIRMED = b'confirmed: "2026-04-21"'


# --- helpers ---------------------------------------------------------------------------

@cache
def demo_entries() -> tuple[Entry, ...]:
    paths = entry_files(ROOT / "directory")
    results = validate_files(paths, today=TODAY)
    assert all(r.ok and r.entry is not None for r in results)
    return tuple(Entry.from_dict(r.entry) for r in results if r.entry is not None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@dataclass
class Repo:
    path: Path
    home: Path
    root: str
    keys: dict[str, str]

    def read(self, rel: str) -> bytes:
        return (self.path / rel).read_bytes()

    def write(self, rel: str, data: bytes) -> None:
        (self.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.path / rel).write_bytes(data)

    def sign(self, rel: str, fpr: str) -> None:
        self.write(rel + ".asc", gpgtools.sign(self.home, fpr, self.read(rel)))

    def problems(self, base: str | None = "HEAD") -> list[str]:
        # Errors only: a confirmation falling due as the calendar moves on is not what these cases test.
        return [f"{p.path}: {p.field}: {p.message}" for p in run_check(self.path, base=base, now=NOW).problems
                if p.severity == "error"]


@pytest.fixture
def repo(tmp_path: Path, keyhome: tuple[Path, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """NO and SE signed with test keys, committed as the trusted base; the CLI runs inside it."""
    home, root, keys = keyhome
    path = tmp_path / "repo"
    (path / "directory").mkdir(parents=True)
    git(path, "init", "-q")
    r = Repo(path, home, root, dict(keys))
    tree = {"schema_version": "1", "serial": 1, "network": "demo", "root": root, "release_keys": [root],
            "states": {code: [fpr] for code, fpr in keys.items()}}
    r.write("keys/authorisations.yaml", dump(tree).encode())
    r.sign("keys/authorisations.yaml", root)
    r.write("keys/root.asc", gpgtools.export_public(home, root))
    for fpr in (root, *keys.values()):
        r.write(f"keys/pubkeys/{fpr}.asc", gpgtools.export_public(home, fpr))
    for code, fpr in keys.items():
        shutil.copy(ROOT / "directory" / f"{code.lower()}.yaml", path / "directory")
        r.sign(f"directory/{code.lower()}.yaml", fpr)
    # Known values, whatever the demo entry says today.
    norway = re.sub(rb"(?m)^confirmed: .*$", NORWAY_CONFIRMED, r.read("directory/no.yaml"))
    r.write("directory/no.yaml", re.sub(rb"(?m)^serial: .*$", b"serial: 1", norway))
    r.sign("directory/no.yaml", keys["NO"])
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    monkeypatch.setenv("DIRECTORY247_ROOT", str(path))
    monkeypatch.chdir(path)
    yield r


def reachability_yaml(*tests: str, demo: bool = True) -> bytes:
    head = f'schema_version: "1"\nserial: 1\ndemo: {str(demo).lower()}\ntests:\n'
    return (head + "".join(f"  - {t}\n" for t in tests)).encode()


# --- confirm ---------------------------------------------------------------------------

def test_confirm_changes_only_the_two_values_and_passes_the_gate(repo: Repo,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    before = repo.read("directory/no.yaml")
    assert NORWAY_CONFIRMED in before and b"\nserial: 1\n" in before
    code, out, err = run(capsys, "confirm", "directory/no.yaml", "--gnupghome", str(repo.home),
                         "--key", repo.keys["NO"])
    assert code == 0, err
    after = repo.read("directory/no.yaml")
    assert after == before.replace(NORWAY_CONFIRMED, f'confirmed: "{TODAY.isoformat()}"'.encode()).replace(
        b"\nserial: 1\n", b"\nserial: 2\n")
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert changed == [(b"serial: 1", b"serial: 2"), (NORWAY_CONFIRMED, f'confirmed: "{TODAY}"'.encode())]
    assert "serial 1 -> 2" in out and f"next confirmation due {confirmation_due(TODAY)}" in out
    assert repo.problems() == []  # signature, serial above the base, validation: the PR would pass


def test_confirm_keeps_quoting_comments_and_line_endings(repo: Repo) -> None:
    text = repo.read("directory/no.yaml").decode()
    text = text.replace('confirmed: "2026-04-21"', "confirmed: '2026-04-21'   # checked by phone")
    text = text.replace("serial: 1\n", "serial: 41 # raise on every change\n").replace("\n", "\r\n")
    edited = confirm_edit(text.encode(), "directory/no.yaml", dt.date(2026, 5, 2))
    expected = text.replace("'2026-04-21'", "'2026-05-02'").replace("serial: 41 #", "serial: 42 #")
    assert edited.data == expected.encode()
    assert (edited.old_serial, edited.new_serial, edited.old_confirmed) == (41, 42, "2026-04-21")
    plain = text.replace("'2026-04-21'", "2026-04-21")
    assert confirm_edit(plain.encode(), "no.yaml", dt.date(2026, 5, 2)).data == expected.replace(
        "'2026-05-02'", "2026-05-02").encode()


def test_confirm_refuses_a_value_it_cannot_edit_in_place(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    data = repo.read("directory/no.yaml").replace(NORWAY_CONFIRMED, b'confirmed: "2026\\u002d04-21"')
    with pytest.raises(DirectoryError, match="written in a form 'confirm' does not edit"):
        confirm_edit(data, "directory/no.yaml", TODAY)


@pytest.mark.parametrize(("extra", "code", "message"), [
    (["--key", "SE"], 1, "not authorised for NO"),
    (["--date", "2026-01-01"], 2, "is before the last confirmation (2026-04-21)"),
    (["--date", "2999-01-01"], 2, "is in the future"),
])
def test_confirm_failure_writes_nothing(repo: Repo, capsys: pytest.CaptureFixture[str], extra: list[str],
                                        code: int, message: str) -> None:
    extra = [repo.keys["SE"] if arg == "SE" else arg for arg in extra]
    before, signature = repo.read("directory/no.yaml"), repo.read("directory/no.yaml.asc")
    result, _, err = run(capsys, "confirm", "directory/no.yaml", "--gnupghome", str(repo.home), *extra)
    assert (result, message in err) == (code, True), err
    assert "Traceback" not in err
    assert repo.read("directory/no.yaml") == before
    assert repo.read("directory/no.yaml.asc") == signature
    assert [p.name for p in (repo.path / "directory").iterdir() if p.name.startswith(".")] == []


def test_confirm_refuses_an_invalid_entry(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("directory/no.yaml", repo.read("directory/no.yaml").replace(b"Europe/Oslo", b"Europe/Atlantis"))
    before = repo.read("directory/no.yaml")
    code, out, err = run(capsys, "confirm", "directory/no.yaml", "--gnupghome", str(repo.home))
    assert code == 1
    assert "'Europe/Atlantis' is not an IANA time zone" in out and "does not validate" in err
    assert repo.read("directory/no.yaml") == before


def test_sign_still_signs_through_the_shared_core(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("directory/se.yaml", repo.read("directory/se.yaml").replace(b"\nserial: 1\n", b"\nserial: 2\n"))
    code, out, _ = run(capsys, "sign", "directory/se.yaml", "--gnupghome", str(repo.home))
    assert code == 0 and "verified under the gate's policy" in out
    assert repo.problems() == []


# --- the freshness core ----------------------------------------------------------------

def test_standing_boundaries() -> None:
    confirmed = dt.date(2026, 2, 28)
    due = confirmation_due(confirmed)
    assert due == dt.date(2027, 2, 28)
    assert standing(confirmed, due) is Standing.DUE  # the due day itself is not yet overdue
    assert standing(confirmed, due + dt.timedelta(days=1)) is Standing.OVERDUE
    assert standing(confirmed, due - dt.timedelta(days=30), 30) is Standing.DUE
    assert standing(confirmed, due - dt.timedelta(days=31), 30) is Standing.CURRENT
    assert standing(confirmed, due, 0) is Standing.DUE


# --- stale on the demo directory -------------------------------------------------------

@pytest.fixture
def at_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("DIRECTORY247_ROOT", raising=False)


def stale_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "stale", "--format", "json", *argv)
    assert code in (0, 1), err
    return code, json.loads(out)


def test_thirteen_months_after_the_newest_confirmation_every_state_is_overdue(
        at_demo: None, demo_trust: Trust, capsys: pytest.CaptureFixture[str]) -> None:
    newest = max(e.confirmed for e in demo_entries())
    as_of = add_months(newest, 13).isoformat()
    code, out, _ = run(capsys, "stale", "--as-of", as_of)
    assert code == 1
    listed = [line.split("  ")[0] for line in out.splitlines() if ": overdue, confirmed" in line]
    assert sorted(listed) == sorted(e.code for e in demo_entries())
    assert len(listed) == 92
    assert out.rstrip().endswith("92 entries: 92 overdue, 0 due within 30 days, "
                                 "1 with a contact point that failed its last reachability test")
    code, payload = stale_json(capsys, "--as-of", as_of)
    entries = payload["entries"]
    assert isinstance(entries, list) and len(entries) == 92
    assert {e["standing"] for e in entries} == {"overdue"}
    norway = next(e for e in entries if e["code"] == "NO")
    assert norway["signers"] == list(demo_trust.authorisations.signers_for("NO"))
    assert norway["due"] == confirmation_due(dt.date.fromisoformat(norway["confirmed"])).isoformat()


def test_within_boundary(at_demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    first = min(demo_entries(), key=lambda e: (confirmation_due(e.confirmed), e.code))
    due = confirmation_due(first.confirmed)
    as_of = (due - dt.timedelta(days=10)).isoformat()
    code, payload = stale_json(capsys, "--as-of", as_of, "--within", "10", "--no-reachability")
    listed = {e["code"]: e for e in payload["entries"]}
    assert listed[first.code]["standing"] == "due" and listed[first.code]["days_left"] == 10
    assert code == 0  # due soon is a reminder, not a failure
    code, payload = stale_json(capsys, "--as-of", as_of, "--within", "9", "--no-reachability")
    assert payload["entries"] == [] and code == 0
    code, _, err = run(capsys, "stale", "--within", "-1")
    assert code == 2 and "not a number of days" in err


def test_failed_reachability_test_flags_the_state(at_demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = stale_json(capsys, "--as-of", "2026-11-28")
    assert code == 1
    (malta,) = payload["entries"]
    assert (malta["code"], malta["standing"], malta["unreachable"]) == ("MT", "current", True)
    point = malta["contact_points"][0]
    assert point["failed"] is True and point["last_test"]["date"] == "2026-10-20"
    assert payload["summary"] == {"entries": 92, "overdue": 0, "due": 0, "unreachable": 1, "invalid": 0,
                                  "failing": True}
    # As of the day of France's failed test, France is flagged; its re-test the next day clears it.
    code, payload = stale_json(capsys, "--as-of", "2026-02-11")
    assert [e["code"] for e in payload["entries"]] == ["FR"]
    code, payload = stale_json(capsys, "--as-of", "2026-02-12")
    assert payload["entries"] == [] and code == 0


def test_github_format(at_demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    first = min(demo_entries(), key=lambda e: (confirmation_due(e.confirmed), e.code))
    as_of = (confirmation_due(first.confirmed) + dt.timedelta(days=1)).isoformat()
    code, out, _ = run(capsys, "stale", "--as-of", as_of, "--format", "github")
    assert code == 1
    path = f"directory/{first.code.lower()}.yaml"
    line = next(i for i, text in enumerate((ROOT / path).read_text().splitlines(), 1)
                if text.startswith("confirmed:"))
    assert f"::error file={path},line={line},col=12,title=confirmed::{first.code} ({first.name}): " \
           "confirmation overdue" in out
    assert "::error file=directory/mt.yaml,line=" in out and "title=contact_points[0]::MT (Malta): last test " \
                                                          "2026-10-20 by phone: NOT ANSWERED" in out


def test_mail_drafts_for_due_and_overdue_only(at_demo: None, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    dates = sorted(confirmation_due(e.confirmed) for e in demo_entries())
    as_of = dates[len(dates) // 3].isoformat()
    drafts = tmp_path / "drafts"
    _, payload = stale_json(capsys, "--as-of", as_of, "--within", "14", "--mail-drafts", str(drafts))
    entries = payload["entries"]
    assert isinstance(entries, list)
    wanted = {e["code"] for e in entries if e["standing"] in ("due", "overdue")}
    assert {"overdue", "due"} <= {e["standing"] for e in entries}
    assert "MT" not in wanted and any(e["code"] == "MT" for e in entries)  # flagged, but no reminder
    assert sorted(p.name for p in drafts.iterdir()) == sorted(f"{c.lower()}.txt" for c in wanted)
    sample = next(e for e in entries if e["code"] in wanted)
    text = (drafts / f"{sample['code'].lower()}.txt").read_text(encoding="utf-8")
    assert text.startswith(f"To: {sample['email']}\nSubject: 24/7 Directory: ")
    assert f"directory247 confirm directory/{sample['code'].lower()}.yaml" in text
    assert sample["due"] in text and "docs/guide-freshness.md" in text and "DEMONSTRATION DATA" in text
    again = tmp_path / "again"
    stale_json(capsys, "--as-of", as_of, "--within", "14", "--mail-drafts", str(again))
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in drafts.iterdir())  # deterministic


# --- reachability: root-signed, or refused ---------------------------------------------

class Files(Snapshot):
    def __init__(self, files: dict[str, bytes]) -> None:
        self.label = "test snapshot"
        self._files = files

    def files(self, folder: str) -> dict[str, bytes]:
        return {p: d for p, d in self._files.items() if p.startswith(folder + "/")}

    def specials(self, folder: str) -> list[Special]:
        return []


@pytest.fixture(scope="module")
def demo_trust() -> Trust:
    return load_trust(WorkTree(ROOT), now=NOW)


@pytest.fixture(scope="module")
def party_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding Norway's public demo key: authorised for an entry, never for the records."""
    home = gpgtools.make_home(tmp_path_factory.mktemp("party"))
    gpgtools.run_gpg(home, "--import", str(ROOT / "demo-keys" / "no.asc"))
    return home


def test_demo_records_verify(demo_trust: Trust) -> None:
    reach = load_reachability(ROOT, demo_trust, NOW)
    assert reach.present and reach.signer == demo_trust.authorisations.root and reach.demo
    last = reach.last_results(demo_entries())
    assert last[("MT", 0)].failed and not last[("FR", 0)].failed
    assert {code for code, _ in last} == {"DE", "FR", "JP", "MT", "NO", "SE", "US"}
    assert last[("DE", 1)].role == "secondary" and last[("SE", 1)].response_minutes == 240
    assert all(r.date.year == 2026 for r in reach.results)
    assert reach.unmatched(demo_entries()) == []


def _refused(demo_trust: Trust, files: dict[str, bytes]) -> str:
    with pytest.raises(ReachabilityError) as caught:
        load_reachability(Files(files), demo_trust, NOW)
    return str(caught.value)


def test_forged_records_are_refused(demo_trust: Trust) -> None:
    data, signature = (ROOT / REACHABILITY).read_bytes(), (ROOT / REACHABILITY_SIGNATURE).read_bytes()
    forged = data.replace(b'date: "2026-10-20", channel: phone, answered: false,',
                          b'date: "2026-10-20", channel: phone, answered: true, response_minutes: 1,')
    assert forged != data
    message = _refused(demo_trust, {REACHABILITY: forged, REACHABILITY_SIGNATURE: signature})
    assert "BAD signature" in message and "not the Secretariat's" in message


def test_unsigned_records_are_refused(demo_trust: Trust) -> None:
    message = _refused(demo_trust, {REACHABILITY: (ROOT / REACHABILITY).read_bytes()})
    assert "is not signed" in message and "were not used" in message


def test_records_signed_by_a_party_key_are_refused(demo_trust: Trust, party_home: Path) -> None:
    data = (ROOT / REACHABILITY).read_bytes()
    norway = demo_trust.authorisations.signers_for("NO")[0]
    signature = gpgtools.sign(party_home, norway, data, digest="SHA512")
    message = _refused(demo_trust, {REACHABILITY: data, REACHABILITY_SIGNATURE: signature})
    assert "signed by unknown key" in message and "not the Secretariat's" in message


def test_records_signed_by_an_unknown_key_are_refused(demo_trust: Trust, keyhome: tuple[Path, str, dict[str, str]]
                                                      ) -> None:
    home, stranger, _ = keyhome
    data = (ROOT / REACHABILITY).read_bytes()
    message = _refused(demo_trust, {REACHABILITY: data, REACHABILITY_SIGNATURE: gpgtools.sign(home, stranger, data)})
    assert "signed by unknown key" in message


def test_no_records_is_not_an_error(demo_trust: Trust) -> None:
    assert load_reachability(Files({}), demo_trust, NOW) == Reachability()
    assert "without" in _refused(demo_trust, {REACHABILITY_SIGNATURE: b"x"})


def test_stale_refuses_forged_records_without_showing_them(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    records = reachability_yaml('{state: "NO", role: primary, date: "2026-06-01", channel: phone, answered: false}')
    repo.write(REACHABILITY, records)
    repo.sign(REACHABILITY, repo.root)
    code, out, _ = run(capsys, "stale", "--as-of", "2026-11-28", "--format", "json")
    assert code == 1 and json.loads(out)["entries"][0]["unreachable"] is True
    repo.write(REACHABILITY, records.replace(b"answered: false", b"answered: true, response_minutes: 3"))
    code, out, err = run(capsys, "stale", "--as-of", "2026-11-28")
    assert code == 1 and out == ""
    assert "reachability/tests.yaml.asc: BAD signature" in err and "not the Secretariat's" in err
    assert "Traceback" not in err
    repo.sign(REACHABILITY, repo.keys["NO"])  # a Party's own key is not the root
    code, out, err = run(capsys, "stale")
    assert code == 1 and out == "" and f"signed by {repo.keys['NO']}" not in out and "not the Secretariat's" in err


def test_demo_records_never_mix_with_production(repo: Repo) -> None:
    records = reachability_yaml('{state: "NO", role: primary, date: "2026-06-01", channel: phone, '
                                'answered: true, response_minutes: 0}', demo=False)
    repo.write(REACHABILITY, records)
    repo.sign(REACHABILITY, repo.root)
    trust = load_trust(WorkTree(repo.path), now=NOW)
    with pytest.raises(ReachabilityError, match="demonstration records and production records never mix"):
        load_reachability(repo.path, trust, NOW)


@pytest.mark.parametrize(("record", "message"), [
    ('{state: "NO", date: "2026-06-01", channel: phone, answered: true, response_minutes: 0}',
     "by contact_point (its index) or by role, exactly one"),
    ('{state: "NO", role: primary, contact_point: 0, date: "2026-06-01", channel: phone, answered: false}',
     "exactly one of them"),
    ('{state: "NO", role: primary, date: "2026-06-01", channel: phone, answered: true}',
     "needs response_minutes"),
    ('{state: "NO", role: primary, date: "2026-06-01", channel: phone, answered: false, response_minutes: 3}',
     "response_minutes is given only when answered is true"),
    ('{state: "NO", role: primary, date: "2026-02-30", channel: phone, answered: false}',
     "is not a real calendar date"),
    ('{state: "NO", role: primary, date: "2999-01-01", channel: phone, answered: false}', "is in the future"),
    ('{state: "NO", role: primary, date: "2026-06-01", channel: fax, answered: false}', "'fax' is not one of"),
    ('{state: "NO", role: primary, date: "2026-06-01", channel: phone, answered: no}', "is not of type 'boolean'"),
    ('{state: "NO", role: primary, date: "2026-06-01", channel: phone, answered: false, by: me}', "unknown field"),
])
def test_malformed_records(record: str, message: str) -> None:
    with pytest.raises(ReachabilityError) as caught:
        parse_reachability(reachability_yaml(record), today=TODAY)
    assert message in str(caught.value)
    assert caught.value.problems[0].line == 5


def test_last_result_rules() -> None:
    norway = next(e for e in demo_entries() if e.code == "NO")
    sweden = next(e for e in demo_entries() if e.code == "SE")

    def test(day: str, answered: bool, order: int, **where: object) -> Result:
        return Result(state=str(where.pop("state", "NO")), date=dt.date.fromisoformat(day), channel="phone",
                      answered=answered, response_minutes=1 if answered else None, order=order,
                      **where)  # type: ignore[arg-type]

    results = [
        test("2026-05-01", True, 0, role="primary"),
        test("2026-05-01", False, 1, contact_point=0),  # same day, later in the file: wins
        test("2026-04-01", True, 2, contact_point=0),  # older, though later in the file
        test("2026-06-01", True, 3, contact_point=5),  # no such contact point
        test("2026-06-01", True, 4, state="SE", role="secondary"),
        test("2026-07-01", False, 5, state="SE", role="secondary"),  # after as-of
        test("2026-06-01", True, 6, state="XX", role="primary"),  # no such State
    ]
    last = last_results(results, [norway, sweden], as_of=dt.date(2026, 6, 30))
    assert last == {("NO", 0): results[1], ("SE", 1): results[4]}
    assert last_results(results, [norway, sweden])[("SE", 1)] is results[5]
    reach = Reachability(tuple(results), serial=1, demo=True, signer="X")
    assert [r.order for r in reach.unmatched([norway, sweden])] == [3, 6]
    with pytest.raises(ValueError, match="exactly one"):
        Result(state="NO", date=dt.date(2026, 1, 1), channel="phone", answered=False)


# --- iCalendar reminders ----------------------------------------------------------------

GENERATED = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)


def test_calendar_parses_with_one_event_per_state() -> None:
    data = render(demo_entries(), GENERATED)
    assert data == render(list(reversed(demo_entries())), GENERATED)  # reproducible
    calendar = icalendar.Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == len(demo_entries()) == 92
    by_uid = {str(e["UID"]): e for e in events}
    assert len(by_uid) == 92
    due = confirmation_due(next(e for e in demo_entries() if e.code == "NO").confirmed)
    norway = by_uid[f"confirm-no-{due.isoformat()}@directory247"]
    assert norway.decoded("DTSTART") == due
    assert norway.decoded("DTEND") == due + dt.timedelta(days=1)
    assert norway.decoded("DTSTAMP") == GENERATED
    assert str(norway["SUMMARY"]) == "Confirm the 24/7 Directory entry of Norway"
    assert "directory247 confirm directory/no.yaml" in str(norway["DESCRIPTION"])
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line and len(line) <= 75 for line in lines)


def test_calendar_escapes_and_folds() -> None:
    norway = next(e for e in demo_entries() if e.code == "NO")
    name = "Nørway; a, b\\c\nnew line " + "é" * 60
    data = render([replace(norway, name=name)], GENERATED)
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # raises if a fold split a UTF-8 character
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"Confirm the 24/7 Directory entry of {name}"
    assert escape_text("a;b,c\\d\r\ne") == "a\\;b\\,c\\\\d\\ne"
    assert fold("X" * 75) == "X" * 75 and fold("X" * 76) == "X" * 75 + "\r\n X"
    with pytest.raises(ValueError, match="timezone-aware"):
        render([norway], dt.datetime(2026, 1, 1))  # a naive time is refused
