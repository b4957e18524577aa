"""Reachability results in a release: ``reachability.json`` carries the last test of each
contact point as of the release time, is read back before signing, and the release command
uses the records only when the trusted root key signed them.

The core is cut with a test release key (as in ``test_release``); the command runs the real
gate over a small copy of the demo repository, signed with the public demo keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

import gpgtools
from conftest import ROOT
from directory247.cli import main
from directory247.entry.model import Entry, Release, Signer
from directory247.errors import ReleaseError
from directory247.formats import reachability_export
from directory247.formats.common import dumps
from directory247.formats.export import Build, Export
from directory247.freshness.reachability import (
    REACHABILITY,
    REACHABILITY_SIGNATURE,
    LastTest,
    LastTests,
    Reachability,
    Result,
    last_test_results,
    parse_reachability,
)
from directory247.release.archive import latest_release
from directory247.release.pipeline import PublishedRelease, cut_release, default_exports
from directory247.release.reachability_results import reachability_unchanged, read_published
from test_release import ReleaseKey, load_entries, now

CODES = ("FR", "MT", "NO", "SE")
SCHEMA = ROOT / "schema" / "reachability-export.schema.json"


@pytest.fixture(scope="module")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> ReleaseKey:
    home = gpgtools.make_home(tmp_path_factory.mktemp("release-key"))
    fpr = gpgtools.generate_key(home, "Test release key <release@test.example>")
    return ReleaseKey(home, fpr, gpgtools.export_public(home, fpr))


@pytest.fixture(scope="module")
def accepted() -> list[tuple[Entry, Signer]]:
    return [pair for pair in load_entries() if pair[0].code in CODES]


def demo_records() -> Reachability:
    """The demo records as ``load_reachability`` returns them (the signature is not under test here)."""
    parsed = parse_reachability((ROOT / REACHABILITY).read_bytes())
    return dataclasses.replace(parsed, signer="0" * 40)


def cut(releases: Path, key: ReleaseKey, accepted: list[tuple[Entry, Signer]], *,
        released: dt.datetime | None = None, exports: tuple[Export, ...] | None = None,
        reachability: Reachability | None = None) -> PublishedRelease:
    moment = now()
    previous: Release | None = latest_release(releases)
    return cut_release(
        accepted=accepted, previous=previous,
        released=released or moment.replace(microsecond=0) - dt.timedelta(minutes=1),
        now=moment, sign=key.sign, release_key=key.public, release_fingerprint=key.fingerprint, releases_dir=releases,
        exports=exports, reachability=reachability,
    )


def published(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / reachability_export.NAME).read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- the core


def test_release_publishes_the_last_test_of_each_contact_point(tmp_path: Path, release_key: ReleaseKey,
                                                                accepted: list[tuple[Entry, Signer]]) -> None:
    release = cut(tmp_path / "releases", release_key, accepted, reachability=demo_records())
    assert release.manifest.record("reachability.json") is not None
    assert (release.folder / "reachability.json.asc").is_file()
    found = published(release.folder)
    Draft202012Validator(json.loads(SCHEMA.read_text()), format_checker=FormatChecker()).validate(found)
    assert found["as_of"] == release.manifest.to_dict()["released"]
    assert (found["version"], found["source_serial"], found["demo"]) == (release.manifest.version, 1, True)
    results = found["results"]
    assert isinstance(results, list)
    assert [(r["code"], r["contact_point"]) for r in results] == [("FR", 0), ("MT", 0), ("NO", 0), ("SE", 0),
                                                                  ("SE", 1)]
    malta = next(r for r in results if r["code"] == "MT")
    assert malta == {"code": "MT", "contact_point": 0, "date": "2026-10-20", "channel": "phone", "answered": False,
                     "response_minutes": None,
                     "note": "24/7 line did not answer (three attempts over 20 minutes, 02:40-03:00 CET)"}
    france = next(r for r in results if r["code"] == "FR")
    assert (france["date"], france["answered"], france["response_minutes"]) == ("2026-02-12", True, 0)
    # the file reads back into the same value, and the canonical bytes are stable
    data = (release.folder / "reachability.json").read_bytes()
    parsed = reachability_export.parse(data)
    assert reachability_export.render(parsed) == data
    assert [t.key for t in parsed.failed("MT")] == [("MT", 0)] and parsed.failed("FR") == ()


def test_without_records_an_empty_list_is_published(tmp_path: Path, release_key: ReleaseKey,
                                                    accepted: list[tuple[Entry, Signer]]) -> None:
    release = cut(tmp_path / "releases", release_key, accepted)
    found = published(release.folder)
    assert (found["results"], found["source_serial"]) == ([], None)


def test_tests_after_the_release_day_are_not_published(tmp_path: Path, release_key: ReleaseKey,
                                                        accepted: list[tuple[Entry, Signer]]) -> None:
    released = now().replace(microsecond=0) - dt.timedelta(days=2)
    records = Reachability((
        Result("NO", released.date(), "phone", True, role="primary", response_minutes=3, order=0),
        Result("NO", released.date() + dt.timedelta(days=1), "phone", False, role="primary", order=1),
    ), serial=7, demo=True, signer="0" * 40)
    release = cut(tmp_path / "releases", release_key, accepted, released=released, reachability=records)
    results = published(release.folder)["results"]
    assert results == [{"code": "NO", "contact_point": 0, "date": released.date().isoformat(), "channel": "phone",
                        "answered": True, "response_minutes": 3, "note": None}]


def _flip_malta(build: Build, data: bytes) -> bytes:
    return data.replace(b'"answered": false', b'"answered": true', 1).replace(
        b'"response_minutes": null', b'"response_minutes": 0', 1)


def _drop_last(build: Build, data: bytes) -> bytes:
    obj = json.loads(data)
    obj["results"].pop()
    return dumps(obj)


def _unknown_field(build: Build, data: bytes) -> bytes:
    return data.replace(b'"results": [', b'"extra": 1, "results": [', 1)


@pytest.mark.parametrize(("spoil", "message"), [
    (_flip_malta, r"reachability\.json: does not carry the accepted entries: results\[1\]\.answered"),
    (_drop_last, r"reachability\.json: does not carry the accepted entries: results \(4 items, expected 5\)"),
    (_unknown_field, r"reachability\.json: cannot be read back \(reachability\.json: unknown field extra\)"),
], ids=["failed-test-shown-as-answered", "result-lost", "unknown-field"])
def test_read_back_catches_a_mismatch(tmp_path: Path, release_key: ReleaseKey, accepted: list[tuple[Entry, Signer]],
                                      spoil: object, message: str) -> None:
    def lossy(export: Export) -> Export:
        return Export(export.name, lambda build: spoil(build, export.render(build)),  # type: ignore[operator]
                      export.read_back)

    exports = tuple(lossy(e) if e.name == "reachability.json" else e for e in default_exports())
    with pytest.raises(ReleaseError, match=message):
        cut(tmp_path / "releases", release_key, accepted, exports=exports, reachability=demo_records())
    assert not (tmp_path / "releases").exists() or list((tmp_path / "releases").iterdir()) == []


@pytest.mark.parametrize(("change", "error"), [
    (lambda o: o.update(version=3), TypeError),
    (lambda o: o["results"][0].update(contact_point=True), TypeError),
    (lambda o: o["results"][0].update(channel="fax"), ValueError),
    (lambda o: o["results"][0].pop("note"), KeyError),
    (lambda o: o["results"].reverse(), ValueError),
    (lambda o: o["results"][1].update(answered=False), ValueError),  # not answered, yet a response time
], ids=["version-type", "bool-index", "unknown-channel", "missing-note", "unsorted", "inconsistent"])
def test_parse_is_strict(change: object, error: type[Exception]) -> None:
    tests = LastTests("2026.11.1", dt.datetime(2026, 11, 28, tzinfo=dt.UTC), True, 1, (
        LastTest("MT", 0, dt.date(2026, 10, 20), "phone", False, note="no answer"),
        LastTest("NO", 0, dt.date(2026, 9, 14), "email", True, 38),
    ))
    obj = reachability_export.to_object(tests)
    assert reachability_export.parse(reachability_export.render(tests)) == tests
    change(obj)  # type: ignore[operator]
    with pytest.raises(error):
        reachability_export.parse(json.dumps(obj).encode())


def test_reachability_unchanged_compares_what_would_be_published(tmp_path: Path) -> None:
    entries = [entry for entry, _ in load_entries() if entry.code in CODES]
    released = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    folder = tmp_path / "2026.11.1"
    folder.mkdir()
    assert read_published(folder) is None
    assert reachability_unchanged(folder, Reachability(), entries, released)  # older release, no records: nothing new
    assert not reachability_unchanged(folder, demo_records(), entries, released)
    tests = LastTests("2026.11.1", released, True, 1, last_test_results(demo_records(), entries, released))
    (folder / "reachability.json").write_bytes(reachability_export.render(tests))
    assert reachability_unchanged(folder, demo_records(), entries, released)
    later = dataclasses.replace(demo_records(), results=(*demo_records().results, Result(
        "MT", dt.date(2026, 11, 27), "phone", True, role="primary", response_minutes=1, order=99)))
    assert not reachability_unchanged(folder, later, entries, released)
    (folder / "reachability.json").write_bytes(b"{")
    assert not reachability_unchanged(folder, demo_records(), entries, released)


# --------------------------------------------------------------------------- the command


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with four demo entries, the demo keys and the demo records; the CLI runs in it."""
    root = tmp_path / "project"
    (root / "directory").mkdir(parents=True)
    for code in CODES:
        for suffix in (".yaml", ".yaml.asc"):
            shutil.copy(ROOT / "directory" / f"{code.lower()}{suffix}", root / "directory")
    shutil.copytree(ROOT / "keys", root / "keys")
    shutil.copytree(ROOT / "reachability", root / "reachability")
    monkeypatch.setenv("DIRECTORY247_ROOT", str(root))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public demo release and root keys (secret halves included: they are throwaway keys)."""
    home = gpgtools.make_home(tmp_path_factory.mktemp("demo-keys"))
    for name in ("release.asc", "root.asc"):
        gpgtools.run_gpg(home, "--import", str(ROOT / "demo-keys" / name))
    return home


def release(capsys: pytest.CaptureFixture[str], project: Path, home: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["release", "--releases", str(project / "releases"), "--gnupghome", str(home), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _root_sign(home: Path, project: Path) -> None:
    lines = (project / "keys" / "authorisations.yaml").read_text(encoding="utf-8").splitlines()
    root = next(line.split(": ", 1)[1].strip() for line in lines if line.startswith("root: "))
    data = (project / REACHABILITY).read_bytes()
    (project / REACHABILITY_SIGNATURE).write_bytes(gpgtools.sign(home, root + "!", data, digest="SHA512"))


def test_command_publishes_the_root_signed_records(project: Path, demo_home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = release(capsys, project, demo_home)
    assert code == 0, out + err
    (folder,) = [p for p in (project / "releases").iterdir() if p.is_dir()]
    found = published(folder)
    assert [(r["code"], r["answered"]) for r in found["results"] if r["code"] == "MT"] == [("MT", False)]
    assert main(["verify", str(folder), "--state-dir", str(project.parent / "state")]) == 0
    capsys.readouterr()
    # nothing new: --when-needed cuts nothing ...
    code, out, _ = release(capsys, project, demo_home, "--when-needed")
    assert code == 0 and "nothing to release" in out
    # ... until a new test is recorded (and signed by the root): the failure must reach the site
    records = (project / REACHABILITY).read_bytes() + (
        b'  - {state: "NO", role: primary, date: "2026-11-20", channel: phone, answered: false}\n')
    (project / REACHABILITY).write_bytes(records.replace(b"serial: 1", b"serial: 2"))
    _root_sign(demo_home, project)
    code, out, err = release(capsys, project, demo_home, "--when-needed")
    assert code == 0 and "released" in out, out + err
    newest = max((p for p in (project / "releases").iterdir() if p.is_dir()), key=lambda p: p.name)
    assert newest != folder
    norway = [r for r in published(newest)["results"] if r["code"] == "NO"]
    assert [(r["date"], r["answered"]) for r in norway] == [("2026-11-20", False)]
    assert published(newest)["source_serial"] == 2


@pytest.mark.parametrize(("spoil", "message"), [
    (lambda p: (p / REACHABILITY).write_bytes((p / REACHABILITY).read_bytes().replace(
        b'channel: phone, answered: false,\n     note: "24/7 line did not answer',
        b'channel: phone, answered: true, response_minutes: 1,\n     note: "24/7 line did not answer')),
     "BAD signature"),
    (lambda p: (p / REACHABILITY_SIGNATURE).unlink(), "is not signed"),
], ids=["forged", "unsigned"])
def test_command_refuses_records_not_signed_by_the_root(project: Path, demo_home: Path,
                                                        capsys: pytest.CaptureFixture[str], spoil: object,
                                                        message: str) -> None:
    spoil(project)  # type: ignore[operator]
    code, _, err = release(capsys, project, demo_home)
    assert code == 1
    assert message in err and "nothing was released" in err and "root key" in err
    assert "Traceback" not in err
    assert not (project / "releases").exists() or not [p for p in (project / "releases").iterdir() if p.is_dir()]
