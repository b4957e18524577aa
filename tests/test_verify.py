"""``directory247 verify``: a downloaded release, checked as an end user would, in-process.

Every way a release can be wrong gets its own case and its own one-line reason. The
releases are cut by the real pipeline and signed by real gpg with a key made for the test.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import gpgtools
from directory247 import pinned
from directory247.cli import main
from directory247.errors import ReleaseError
from directory247.formats.common import dumps
from directory247.release.last_seen import STATE_FILE, default_state_dir
from directory247.release.verify import verify_release
from test_release import ReleaseKey, cut, load_entries, now


@dataclass(frozen=True)
class World:
    key: ReleaseKey
    other: ReleaseKey
    first: Path  # an older release
    second: Path  # the newer release of the same archive


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    home = gpgtools.make_home(tmp_path_factory.mktemp("verify-keys"))
    fpr = gpgtools.generate_key(home, "Test release key <release@test.example>")
    other = gpgtools.generate_key(home, "Not the release key <other@test.example>")
    key = ReleaseKey(home, fpr, gpgtools.export_public(home, fpr))
    other_key = ReleaseKey(home, other, gpgtools.export_public(home, other))
    releases = tmp_path_factory.mktemp("archive") / "releases"
    accepted = load_entries(4)
    first = cut(releases, key, accepted, released=now().replace(microsecond=0) - dt.timedelta(hours=2))
    second = cut(releases, key, accepted[:3])
    return World(key, other_key, first.folder, second.folder)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "download" / folder.name
    shutil.copytree(folder, target)
    return target


def resign(folder: Path, key: ReleaseKey, change: Callable[[dict[str, object]], None]) -> None:
    """Rewrite the manifest as an attacker holding ``key`` (or a buggy release) would."""
    manifest = json.loads((folder / "manifest.json").read_bytes())
    change(manifest)
    data = dumps(manifest)
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.json.asc").write_bytes(key.sign(data))


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- verified


def test_round_trip_verifies_and_remembers(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    code, out, err = run(capsys, str(world.second), "--fingerprint", world.key.fingerprint, "--state-dir", str(state))
    assert (code, err) == (0, "")
    version = world.second.name
    assert out.startswith(f"verified: release {version} (serial 2), released ")
    assert f"by release key {world.key.fingerprint}" in out
    assert "DEMONSTRATION DATA" in out
    remembered = json.loads((state / STATE_FILE).read_bytes())
    assert remembered[world.key.fingerprint]["version"] == version
    # The same release again is fine; so is naming its manifest.json instead of the folder.
    code, _, err = run(capsys, str(world.second / "manifest.json"), "--fingerprint", world.key.fingerprint,
                       "--state-dir", str(state))
    assert (code, err) == (0, "")


def test_fingerprint_with_spaces_and_keyring_file(world: World, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    keyring = tmp_path / "release.gpg"
    keyring.write_bytes(gpgtools.run_gpg(world.key.home, "--export", world.key.fingerprint))  # binary
    spaced = " ".join(world.key.fingerprint[i:i + 4] for i in range(0, 40, 4)).lower()
    code, _, err = run(capsys, str(world.second), "--fingerprint", spaced, "--keyring", str(keyring),
                       "--state-dir", str(tmp_path / "state"))
    assert (code, err) == (0, "")


def test_default_state_dir_follows_xdg(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    code, _, err = run(capsys, str(world.second), "--fingerprint", world.key.fingerprint)
    assert (code, err) == (0, "")
    assert (tmp_path / "xdg" / "directory247" / STATE_FILE).is_file()
    assert default_state_dir({"XDG_STATE_HOME": "relative/ignored", "HOME": "/h"}) != Path("relative/ignored")
    assert default_state_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/directory247")


def test_core_verifies_without_state(world: World) -> None:
    verified = verify_release(world.first, release_key=world.key.public, fingerprint=world.key.fingerprint,
                              now=now())
    assert verified.version == world.first.name
    assert verified.previous is None


# --------------------------------------------------------------------------- not verified


def _flip_byte(folder: Path) -> None:
    data = bytearray((folder / "directory.json").read_bytes())
    data[10] ^= 0x01
    (folder / "directory.json").write_bytes(bytes(data))


def _append(folder: Path) -> None:
    with (folder / "directory.json").open("ab") as handle:
        handle.write(b" ")


def _truncate(folder: Path) -> None:
    signature = (folder / "manifest.json.asc").read_bytes()
    (folder / "manifest.json.asc").write_bytes(signature[: len(signature) // 2])


def _symlink(folder: Path) -> None:
    outside = folder.parent / "elsewhere.json"
    (folder / "directory.json").rename(outside)
    (folder / "directory.json").symlink_to(outside)


def _edit_manifest(folder: Path) -> None:
    path = folder / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"demo": true', b'"demo": false'))


# name -> (how to spoil the copy, expected reason after "not verified: ")
Spoil = Callable[[Path, World], object]
CASES: dict[str, tuple[Spoil, str]] = {
    "altered-file": (lambda f, w: _flip_byte(f), "directory.json: sha256 mismatch"),
    "altered-size": (lambda f, w: _append(f), "directory.json: size mismatch ("),
    "extra-file": (lambda f, w: (f / "notes.txt").write_text("hi"),
                   "notes.txt: extra file, not listed in manifest.json"),
    "extra-signature": (lambda f, w: (f / "release-key.asc.asc").write_text("x"),
                        "release-key.asc.asc: extra file, not listed in manifest.json"),
    "extra-folder": (lambda f, w: (f / "more").mkdir(), "more: extra file, not listed in manifest.json"),
    "missing-file": (lambda f, w: (f / "directory.json").unlink(), "directory.json: missing (listed in manifest.json)"),
    "missing-export-signature": (lambda f, w: (f / "directory.json.asc").unlink(),
                                 "directory.json.asc: missing (listed in manifest.json)"),
    "missing-manifest-signature": (lambda f, w: (f / "manifest.json.asc").unlink(), "manifest.json.asc: missing"),
    "missing-manifest": (lambda f, w: (f / "manifest.json").unlink(), "manifest.json: missing"),
    "missing-key-file": (lambda f, w: (f / "release-key.asc").unlink(),
                         "release-key.asc: missing; the release folder is incomplete, download it again"),
    "symlinked-file": (lambda f, w: _symlink(f), "directory.json: is a symbolic link; a release holds regular files"),
    "manifest-edited": (lambda f, w: _edit_manifest(f), "manifest.json: BAD signature"),
    "export-signature-swapped": (lambda f, w: shutil.copy(f / "manifest.json.asc", f / "directory.json.asc"),
                                 "directory.json: BAD signature"),
    "truncated-signature": (lambda f, w: _truncate(f), "manifest.json: armor is truncated"),
    "key-file-swapped": (lambda f, w: (f / "release-key.asc").write_bytes(w.other.public),
                         "manifest.json: signed by unknown key "),
    "signed-by-another-key": (lambda f, w: resign(f, w.other, lambda m: None), "manifest.json: signed by {other}, "
                              "which is not authorised to sign this file"),
    "names-another-key": (lambda f, w: resign(f, w.key, lambda m: m.update(release_key=w.other.fingerprint)),
                          "manifest.json: names release key {other}, not the pinned {key}"),
    "expired": (lambda f, w: resign(f, w.key, lambda m: m.update(released=stamp(now() - dt.timedelta(days=50)),
                                                                 expires=stamp(now() - dt.timedelta(days=5)))),
                "manifest.json: release {version} expired on "),
    "released-in-future": (lambda f, w: resign(f, w.key, lambda m: m.update(
        released=stamp(now() + dt.timedelta(days=1)), expires=stamp(now() + dt.timedelta(days=46)))),
        "manifest.json: is released in the future"),
    "unknown-format": (lambda f, w: resign(f, w.key, lambda m: m.update(format=2)),
                       "manifest.json: is malformed: has format 2"),
}


@pytest.mark.parametrize("case", CASES)
def test_not_verified(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    folder = copy(world.second, tmp_path)
    spoil, reason = CASES[case]
    spoil(folder, world)
    args = [str(folder), "--fingerprint", world.key.fingerprint, "--state-dir", str(tmp_path / "state")]
    if case == "signed-by-another-key":
        # The user's keyring holds the other key too: a good signature by it still fails.
        keyring = tmp_path / "both.asc"
        keyring.write_bytes(world.key.public + world.other.public)
        args += ["--keyring", str(keyring)]
    code, out, err = run(capsys, *args)
    expected = reason.format(other=world.other.fingerprint, key=world.key.fingerprint, version=folder.name)
    assert code == 1, out
    assert out == ""
    assert err.startswith(f"not verified: {expected}"), err
    assert err.count("\n") == 1, "the reason is one line"
    assert not (tmp_path / "state" / STATE_FILE).exists(), "a failure is never remembered"


def test_keyring_holding_another_key(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyring = tmp_path / "other.asc"
    keyring.write_bytes(world.other.public)
    code, _, err = run(capsys, str(world.second), "--fingerprint", world.key.fingerprint, "--keyring", str(keyring),
                       "--state-dir", str(tmp_path / "state"))
    assert code == 1
    assert err.startswith("not verified: manifest.json: signed by unknown key ")


def test_keyring_that_is_not_a_key(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyring = tmp_path / "not-a-key.asc"
    keyring.write_bytes((world.second / "manifest.json.asc").read_bytes())
    code, _, err = run(capsys, str(world.second), "--fingerprint", world.key.fingerprint, "--keyring", str(keyring),
                       "--state-dir", str(tmp_path / "state"))
    assert code == 1
    assert err.startswith(f"not verified: {keyring}: cannot be used as the release key")
    assert err.count("\n") == 1


def test_only_the_pinned_fingerprint_counts_by_default(world: World, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Without --fingerprint the tool's own pin applies: a release by any other key fails,
    even though the key shipped inside the folder matches the signature."""
    assert world.key.fingerprint != pinned.RELEASE_KEY_FINGERPRINT
    code, _, err = run(capsys, str(world.second), "--state-dir", str(tmp_path / "state"))
    assert code == 1
    assert err == (f"not verified: manifest.json: signed by {world.key.fingerprint}, "
                   "which is not authorised to sign this file\n")


def test_rollback_is_refused_unless_accepted(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--fingerprint", world.key.fingerprint, "--state-dir", str(tmp_path / "state")]
    assert run(capsys, str(world.second), *state)[0] == 0
    code, _, err = run(capsys, str(world.first), *state)
    assert code == 1
    assert err.startswith(f"not verified: manifest.json: version {world.first.name} (serial 1) is not newer than "
                          f"version {world.second.name} (serial 2) verified before")
    assert err.count("\n") == 1
    code, out, _ = run(capsys, str(world.first), *state, "--accept-rollback")
    assert code == 0 and out.startswith(f"verified: release {world.first.name}")
    # The deliberate reset is remembered: the older release now verifies, the newer still does.
    assert run(capsys, str(world.first), *state)[0] == 0
    assert run(capsys, str(world.second), *state)[0] == 0
    assert run(capsys, str(world.first), *state)[0] == 1


def test_damaged_state_is_reported(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / STATE_FILE).write_text("{not json")
    code, _, err = run(capsys, str(world.second), "--fingerprint", world.key.fingerprint,
                       "--state-dir", str(tmp_path / "state"))
    assert code == 1
    assert "cannot be read; remove it to start afresh" in err


def test_core_raises_release_error(world: World, tmp_path: Path) -> None:
    folder = copy(world.second, tmp_path)
    _flip_byte(folder)
    with pytest.raises(ReleaseError, match=r"^directory\.json: sha256 mismatch$"):
        verify_release(folder, release_key=None, fingerprint=world.key.fingerprint, now=now())


# --------------------------------------------------------------------------- usage


@pytest.mark.parametrize(("argv", "message"), [
    (["{missing}"], "no such file or folder"),
    (["{folder}/directory.json"], "give a release folder or its manifest.json"),
    (["{folder}", "--fingerprint", "ABCD"], "give the full 40 (or 64) hex digit fingerprint"),
    (["{folder}", "--keyring", "{missing}"], "no such file"),
    (["{folder}", "--no-such-option"], ""),
    ([], ""),
], ids=["no-path", "not-a-manifest", "short-fingerprint", "no-keyring", "unknown-option", "no-argument"])
def test_usage_errors_exit_2(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                             message: str) -> None:
    filled = [a.format(missing=tmp_path / "nothing", folder=world.second) for a in argv]
    code, _, err = run(capsys, *filled)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
