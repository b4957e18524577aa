"""Cutting releases: versions, nothing lost, atomic publication, reproducible bytes.

Real gpg in throwaway homes signs with a release key made for the test; the pipeline's own
self-verification (``verify.verify_release``) runs on every release cut here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import gpgtools
from conftest import ROOT, TODAY
from directory247 import publish
from directory247.entry.model import Entry, Release, Signer
from directory247.entry.validation import validate_files
from directory247.errors import DirectoryError, ReleaseError, SignatureError
from directory247.formats import json_export
from directory247.formats.export import Build, Export, first_difference
from directory247.formats.json_export import read_back as read_back_json
from directory247.release import manifest as manifests
from directory247.release.archive import latest_release
from directory247.release.pipeline import (
    VALIDITY,
    PublishedRelease,
    cut_release,
    default_exports,
    next_version,
)
from directory247.release.verify import verify_release
from directory247.trust import GnuPG

SIGNED_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- helpers shared with test_verify


@dataclass(frozen=True)
class ReleaseKey:
    home: Path
    fingerprint: str
    public: bytes

    def sign(self, data: bytes) -> bytes:
        return GnuPG(str(self.home)).sign(data, key=self.fingerprint)


def load_entries(count: int | None = None) -> list[tuple[Entry, Signer]]:
    """Demo entries from the repository, each with a made-up signer (the gate is not under test)."""
    paths = sorted((ROOT / "directory").glob("*.yaml"))[:count]
    accepted = []
    for result in validate_files(paths, today=TODAY):
        assert result.ok and result.entry is not None, result.problems
        entry = Entry.from_dict(result.entry)
        accepted.append((entry, Signer(fingerprint=hashlib.sha1(entry.code.encode()).hexdigest().upper(),
                                       created=SIGNED_AT)))
    return accepted


def json_exports() -> tuple[Export, ...]:
    """Only the canonical export: the pipeline without the other writers."""
    return (Export("directory.json", lambda build: json_export.render(build.release), read_back_json),)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cut(releases: Path, key: ReleaseKey, accepted: Sequence[tuple[Entry, Signer]], *,
        released: dt.datetime | None = None, exports: Sequence[Export] | None = None,
        sign: object = None, previous: Release | str | None = "latest") -> PublishedRelease:
    moment = now()
    return cut_release(
        accepted=accepted, previous=latest_release(releases) if previous == "latest" else previous,  # type: ignore[arg-type]
        released=released or moment.replace(microsecond=0) - dt.timedelta(minutes=1), now=moment,
        sign=sign or key.sign,  # type: ignore[arg-type]
        release_key=key.public, release_fingerprint=key.fingerprint, releases_dir=releases,
        exports=default_exports() if exports is None else exports,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> bytes), to prove nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> ReleaseKey:
    home = gpgtools.make_home(tmp_path_factory.mktemp("release-key"))
    fpr = gpgtools.generate_key(home, "Test release key <release@test.example>")
    return ReleaseKey(home, fpr, gpgtools.export_public(home, fpr))


@pytest.fixture(scope="session")
def other_key(release_key: ReleaseKey) -> ReleaseKey:
    """A second key in the same home: valid signatures, but not the release key."""
    fpr = gpgtools.generate_key(release_key.home, "Someone else <else@test.example>")
    return ReleaseKey(release_key.home, fpr, gpgtools.export_public(release_key.home, fpr))


@pytest.fixture(scope="session")
def accepted() -> list[tuple[Entry, Signer]]:
    return load_entries(6)


# --------------------------------------------------------------------------- versions


def _previous(version: str, serial: int, released: dt.datetime) -> Release:
    (entry, signer), *_ = load_entries(1)
    return Release(version=version, serial=serial, released=released, expires=released + VALIDITY,
                   entries=(entry,), signers=((entry.code, signer),))


@pytest.mark.parametrize(("previous", "released", "expected"), [
    (None, dt.datetime(2026, 11, 28, tzinfo=dt.UTC), ("2026.11.1", 1)),
    (("2026.11.1", 1, dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
     ("2026.11.2", 2)),
    (("2026.11.9", 14, dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
     ("2026.11.10", 15)),
    (("2026.11.3", 7, dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
     ("2026.12.1", 8)),
    (("2026.12.3", 7, dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC)), dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
     ("2027.01.1", 8)),
], ids=["first", "same-month", "tenth", "new-month", "new-year"])
def test_next_version(previous: tuple[str, int, dt.datetime] | None, released: dt.datetime,
                      expected: tuple[str, int]) -> None:
    assert next_version(_previous(*previous) if previous else None, released) == expected


def test_release_time_before_previous_is_refused() -> None:
    previous = _previous("2026.11.2", 2, dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    with pytest.raises(ReleaseError, match=r"before release 2026\.11\.2"):
        next_version(previous, dt.datetime(2026, 11, 19, tzinfo=dt.UTC))


@pytest.mark.parametrize(("expected", "actual", "where"), [
    ({"a": 1}, {"a": 1}, None),
    ({"a": 1}, {"a": 2}, "a"),
    ({"a": 1}, {}, "a (missing)"),
    ({}, {"b": 1}, "b (unexpected)"),
    ({"a": [1, 2]}, {"a": [1]}, "a (1 items, expected 2)"),
    ({"a": [{"b": True}]}, {"a": [{"b": 1}]}, "a[0].b"),
], ids=["same", "value", "missing", "unexpected", "short-list", "bool-is-not-int"])
def test_first_difference(expected: object, actual: object, where: str | None) -> None:
    assert first_difference(expected, actual) == where


# --------------------------------------------------------------------------- the pipeline


def test_release_publishes_a_verified_folder(tmp_path: Path, release_key: ReleaseKey,
                                             accepted: list[tuple[Entry, Signer]]) -> None:
    releases = tmp_path / "releases"
    published = cut(releases, release_key, accepted)
    folder = published.folder
    assert folder == releases / published.manifest.version
    names = {p.name for p in folder.iterdir()}
    assert names == manifests.expected_names(published.manifest)
    assert {"directory.json", "directory.json.asc", "manifest.json", "manifest.json.asc",
            "release-key.asc"} <= names
    # Nothing lost: every accepted entry, every field, and who signed it.
    exported = json.loads((folder / "directory.json").read_bytes())
    assert exported["entries"] == [entry.to_dict() for entry, _ in accepted]
    assert exported["signatures"] == {entry.code: signer.to_dict() for entry, signer in accepted}
    manifest = manifests.parse((folder / "manifest.json").read_bytes())
    assert manifest.release_key == release_key.fingerprint
    assert manifest.expires - manifest.released == VALIDITY == dt.timedelta(days=45)
    assert manifest.demo is True  # the demo entries say so, and so does the manifest
    verify_release(folder, release_key=None, fingerprint=release_key.fingerprint, now=now())
    index = json.loads((releases / "index.json").read_bytes())
    assert index == {"latest": manifest.version, "releases": [{
        "version": manifest.version, "serial": 1, "released": exported["released"],
        "expires": exported["expires"], "demo": True}]}
    assert not [p for p in releases.iterdir() if p.name.startswith(".")]


def test_next_release_counts_on_and_keeps_the_first(tmp_path: Path, release_key: ReleaseKey,
                                                    accepted: list[tuple[Entry, Signer]]) -> None:
    releases = tmp_path / "releases"
    first = cut(releases, release_key, accepted, released=now().replace(microsecond=0) - dt.timedelta(hours=2))
    before = snapshot(first.folder)
    second = cut(releases, release_key, accepted[:-1])
    assert second.manifest.serial == 2
    assert manifests.version_key(second.manifest.version) > manifests.version_key(first.manifest.version)
    assert snapshot(first.folder) == before
    index = json.loads((releases / "index.json").read_bytes())
    assert [r["serial"] for r in index["releases"]] == [2, 1]
    assert index["latest"] == second.manifest.version
    latest = latest_release(releases)
    assert latest is not None and latest.version == second.manifest.version
    assert [e.code for e in latest.entries] == [entry.code for entry, _ in accepted[:-1]]


def _assert_nothing_published(releases: Path, before: dict[str, bytes]) -> None:
    assert snapshot(releases) == before
    leftovers = [p.name for p in releases.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


GARBAGE_SIGNATURE = b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n"


def _failing_signer(data: bytes) -> bytes:
    raise SignatureError("cannot sign: the smart card was removed")


def _corrupting_export() -> Export:
    def render(build: Build) -> bytes:
        obj = json_export.to_object(build.release)
        obj["entries"][1]["contact_points"][0]["emails"] = []
        return json_export.dumps(obj)

    return Export("directory.json", render, read_back_json)


@pytest.mark.parametrize("failure", ["signer-raises", "writer-corrupts", "signed-by-another-key",
                                     "signature-garbage", "version-exists"])
def test_failed_release_leaves_no_trace(tmp_path: Path, release_key: ReleaseKey, other_key: ReleaseKey,
                                        accepted: list[tuple[Entry, Signer]], failure: str) -> None:
    releases = tmp_path / "releases"
    cut(releases, release_key, accepted, released=now().replace(microsecond=0) - dt.timedelta(hours=1))
    before = snapshot(releases)
    options: dict[str, object] = {
        "signer-raises": {"sign": _failing_signer},
        "writer-corrupts": {"exports": (_corrupting_export(),)},
        "signed-by-another-key": {"sign": other_key.sign},
        "signature-garbage": {"sign": lambda data: GARBAGE_SIGNATURE},
        # Told there is no previous release, the pipeline picks the version that exists.
        "version-exists": {"previous": None},
    }[failure]  # type: ignore[assignment]
    with pytest.raises(DirectoryError) as caught:
        cut(releases, release_key, accepted, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    expected = {
        "signer-raises": "smart card was removed",
        "writer-corrupts": f"directory.json: does not carry the accepted entries: entries.{accepted[1][0].code}"
                           ".contact_points[0].emails",
        "signed-by-another-key": f"manifest.json: signed by unknown key {other_key.fingerprint}",
        "signature-garbage": "manifest.json: ",
        "version-exists": "already exists; a published release is never rewritten",
    }[failure]
    assert expected in message
    _assert_nothing_published(releases, before)


def test_staging_is_removed_when_the_move_fails(tmp_path: Path, release_key: ReleaseKey,
                                                accepted: list[tuple[Entry, Signer]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    releases = tmp_path / "releases"
    releases.mkdir()

    def refuse(staging: Path, final: Path) -> None:
        raise ReleaseError(f"{final}: cannot move the release into place: disk full")

    monkeypatch.setattr(publish, "publish_folder", refuse)
    with pytest.raises(ReleaseError, match="disk full"):
        cut(releases, release_key, accepted)
    assert list(releases.iterdir()) == []


def test_an_empty_version_folder_is_a_damaged_archive(tmp_path: Path, release_key: ReleaseKey,
                                                      accepted: list[tuple[Entry, Signer]]) -> None:
    releases = tmp_path / "releases"
    (releases / "2026.11.1").mkdir(parents=True)
    with pytest.raises(ReleaseError, match="archive is damaged"):
        cut(releases, release_key, accepted)


@pytest.mark.parametrize("exports", ["json", "all"])
def test_same_inputs_give_the_same_bytes(tmp_path: Path, release_key: ReleaseKey,
                                         accepted: list[tuple[Entry, Signer]], exports: str) -> None:
    released = now().replace(microsecond=0) - dt.timedelta(minutes=5)
    chosen = json_exports() if exports == "json" else default_exports()
    one = cut(tmp_path / "one", release_key, accepted, released=released, exports=chosen)
    two = cut(tmp_path / "two", release_key, list(reversed(accepted)), released=released, exports=chosen)
    files_one, files_two = snapshot(one.folder), snapshot(two.folder)
    assert files_one.keys() == files_two.keys()
    for name in files_one:
        if not name.endswith(".asc") or name == "release-key.asc":
            assert files_one[name] == files_two[name], name
    assert (tmp_path / "one" / "index.json").read_bytes() == (tmp_path / "two" / "index.json").read_bytes()


def test_a_release_time_before_the_last_release_is_refused(tmp_path: Path, release_key: ReleaseKey,
                                                           accepted: list[tuple[Entry, Signer]]) -> None:
    releases = tmp_path / "releases"
    cut(releases, release_key, accepted)
    before = snapshot(releases)
    with pytest.raises(ReleaseError, match="check the clock or SOURCE_DATE_EPOCH"):
        cut(releases, release_key, accepted, released=now() - dt.timedelta(days=3))
    _assert_nothing_published(releases, before)


def test_an_expired_release_is_never_published(tmp_path: Path, release_key: ReleaseKey,
                                               accepted: list[tuple[Entry, Signer]]) -> None:
    releases = tmp_path / "releases"
    with pytest.raises(ReleaseError, match="expired"):
        cut(releases, release_key, accepted, released=now().replace(microsecond=0) - VALIDITY - dt.timedelta(hours=1))
    assert not releases.exists() or list(releases.iterdir()) == []


def test_whole_demo_directory_round_trips(tmp_path: Path, release_key: ReleaseKey) -> None:
    everything = load_entries()
    assert len(everything) == len(list((ROOT / "directory").glob("*.yaml")))
    published = cut(tmp_path / "releases", release_key, everything)
    parsed = json_export.parse((published.folder / "directory.json").read_bytes())
    assert parsed.entries == tuple(entry for entry, _ in everything)
    assert [e.to_dict() for e in parsed.entries] == [entry.to_dict() for entry, _ in everything]


# --------------------------------------------------------------------------- every export


def test_full_release_layout(tmp_path: Path, release_key: ReleaseKey, accepted: list[tuple[Entry, Signer]]) -> None:
    published = cut(tmp_path / "releases", release_key, accepted, exports=default_exports())
    signed = ["SHA256SUMS", "changes.json", "datapackage.json", "directory.csv", "directory.json", "directory.vcf",
              "reachability.json", "reminders.ics"]
    expected = {"manifest.json", "manifest.json.asc", "release-key.asc", *signed, *(f"{n}.asc" for n in signed)}
    assert {p.name for p in published.folder.iterdir()} == expected
    assert [r.name for r in published.manifest.files if r.signature] == signed


def test_plain_gpg_and_sha256sum_verify_a_release(tmp_path: Path, release_key: ReleaseKey,
                                                  accepted: list[tuple[Entry, Signer]]) -> None:
    """The steps of docs/verify.md for users without directory247, run as written there."""
    folder = cut(tmp_path / "releases", release_key, accepted).folder
    listing = subprocess.run(["gpg", "--homedir", str(tmp_path), "--batch", "--with-colons", "--show-keys",
                              "release-key.asc"], cwd=folder, capture_output=True, check=True, text=True).stdout
    assert f"fpr:::::::::{release_key.fingerprint}:" in listing
    subprocess.run(["gpg", "--homedir", str(tmp_path), "--batch", "--yes", "--output", str(tmp_path / "release.gpg"),
                    "--dearmor", "release-key.asc"], cwd=folder, check=True, capture_output=True)
    for signed in ("SHA256SUMS", "manifest.json"):
        done = subprocess.run(["gpgv", "--homedir", str(tmp_path), "--keyring", str(tmp_path / "release.gpg"),
                               f"{signed}.asc", signed], cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0 and "Good signature" in done.stderr, done.stderr
    checked = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True,
                             text=True, check=True).stdout
    listed = sorted(r.name for r in manifests.parse((folder / "manifest.json").read_bytes()).files
                    if r.name != "SHA256SUMS")
    assert sorted(line.split(": ")[0] for line in checked.splitlines()) == listed
    assert all(line.endswith(": OK") for line in checked.splitlines())
    (folder / "directory.csv").write_bytes(b"tampered")
    tampered = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert tampered.returncode == 1 and "directory.csv: FAILED" in tampered.stdout


def _spoil_csv(build: Build, data: bytes) -> bytes:
    return data.replace(b'"cyber-24-7@', b'"cyber-247@', 1)


def _spoil_vcard(build: Build, data: bytes) -> bytes:
    lines = data.split(b"\r\n")
    first_tel = next(i for i, line in enumerate(lines) if line.startswith(b"TEL"))
    return b"\r\n".join(lines[:first_tel] + lines[first_tel + 1:])


def _spoil_datapackage(build: Build, data: bytes) -> bytes:
    return data.replace(b'"hash": "sha256:', b'"hash": "sha256:0', 1)


@pytest.mark.parametrize(("name", "spoil", "message"), [
    ("directory.csv", _spoil_csv, r"directory.csv: does not carry the accepted entries: \w\w contact point 0: "
                                  r"emails\[0\]"),
    ("directory.vcf", _spoil_vcard, r"directory.vcf: does not carry the accepted entries: \w\w contact point 0: TEL"),
    ("datapackage.json", _spoil_datapackage, r"datapackage.json: does not carry the accepted entries: resources\."),
], ids=["csv-loses-an-email", "vcard-loses-a-phone", "datapackage-wrong-hash"])
def test_an_export_that_loses_data_fails_the_release(tmp_path: Path, release_key: ReleaseKey,
                                                     accepted: list[tuple[Entry, Signer]], name: str,
                                                     spoil: object, message: str) -> None:
    def lossy(export: Export) -> Export:
        return Export(export.name, lambda build: spoil(build, export.render(build)),  # type: ignore[operator]
                      export.read_back)

    exports = tuple(lossy(e) if e.name == name else e for e in default_exports())
    with pytest.raises(ReleaseError, match=message):
        cut(tmp_path / "releases", release_key, accepted, exports=exports)
    assert not (tmp_path / "releases").exists() or list((tmp_path / "releases").iterdir()) == []


# --------------------------------------------------------------------------- publish and manifest


def test_write_atomic_replaces_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    publish.write_atomic(target, b"one")
    publish.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "feed.atom"
    target.write_bytes(b"old")

    def fail(source: object, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        publish.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.atom"]


def test_publish_folder_never_replaces_a_release(tmp_path: Path) -> None:
    final = tmp_path / "2026.11.1"
    final.mkdir()  # even an empty one: os.rename would silently replace it
    with publish.staging(tmp_path) as stage:
        (stage / "manifest.json").write_bytes(b"{}")
        with pytest.raises(ReleaseError, match="already exists"):
            publish.publish_folder(stage, final)
    assert list(final.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026.11.1"]


def _manifest(**files: bytes) -> manifests.Manifest:
    return manifests.build(version="2026.11.1", serial=1, released=SIGNED_AT, expires=SIGNED_AT + VALIDITY,
                           release_key="A" * 40, demo=True, files=files, signed=["directory.json"])


def test_manifest_round_trips_and_names_the_allowed_files() -> None:
    manifest = _manifest(**{"directory.json": b"{}\n", "release-key.asc": b"key"})
    assert manifests.parse(manifests.render(manifest)) == manifest
    assert manifests.expected_names(manifest) == {"manifest.json", "manifest.json.asc", "directory.json",
                                                  "directory.json.asc", "release-key.asc"}


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["files"].update({"../etc/passwd": m["files"]["directory.json"]}), "not a plain file name"),
    (lambda m: m["files"].update({"manifest.json": m["files"]["directory.json"]}), "not a plain file name"),
    (lambda m: m["files"]["directory.json"].update(sha256="0" * 63), "sha256 must be"),
    (lambda m: m["files"]["directory.json"].update(bytes=-1), "bytes must be"),
    (lambda m: m["files"]["directory.json"].update(signature="other.asc"), "its signature must be named"),
    (lambda m: m.update(format=2), "a newer directory247"),
    (lambda m: m.update(extra=1), "has fields"),
    (lambda m: m.update(version="2026.13.1"), "no month 13"),
    (lambda m: m.update(expires=m["released"]), "must expire after"),
], ids=["path-traversal", "reserved-name", "short-digest", "negative-size", "odd-signature-name",
        "future-format", "unknown-field", "bad-version", "expires-at-release"])
def test_manifest_parse_refuses(change: object, message: str) -> None:
    obj = _manifest(**{"directory.json": b"{}\n"}).to_dict()
    change(obj)  # type: ignore[operator]
    with pytest.raises(ReleaseError, match=message):
        manifests.parse(json_export.dumps(obj))


@pytest.mark.parametrize(("present", "message"), [
    ({"manifest.json", "manifest.json.asc", "directory.json"}, "directory.json.asc: missing"),
    ({"manifest.json", "manifest.json.asc", "directory.json", "directory.json.asc", "x.txt"},
     "x.txt: extra file, not listed in manifest.json"),
])
def test_check_names_both_ways(present: set[str], message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        manifests.check_names(_manifest(**{"directory.json": b"{}\n"}), present)


def test_check_files_sizes_and_digests() -> None:
    manifest = _manifest(**{"directory.json": b"{}\n"})
    base = {"manifest.json": b"", "directory.json": b"{}\n"}
    manifests.check_files(manifest, base, signatures=False)
    with pytest.raises(ReleaseError, match=r"directory\.json: size mismatch"):
        manifests.check_files(manifest, base | {"directory.json": b"{}\n\n"}, signatures=False)
    with pytest.raises(ReleaseError, match=r"directory\.json: sha256 mismatch"):
        manifests.check_files(manifest, base | {"directory.json": b"[]\n"}, signatures=False)


# --------------------------------------------------------------------------- the command, end to end


def test_release_command_on_the_demo_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The real gate over the real demo directory, the demo release key, then ``verify``
    with nothing but the fingerprint pinned in the tool."""
    from directory247.cli import main

    home = gpgtools.make_home(tmp_path)
    gpgtools.run_gpg(home, "--import", str(ROOT / "demo-keys" / "release.asc"))
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    releases = tmp_path / "releases"
    code = main(["release", "--releases", str(releases), "--gnupghome", str(home)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    (folder,) = [p for p in releases.iterdir() if p.is_dir()]
    assert f"released {folder.name} (serial 1)" in out
    code = main(["verify", str(folder), "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"verified: release {folder.name} (serial 1)")
    assert "DEMONSTRATION DATA" in out
    shutil.rmtree(home, ignore_errors=True)
