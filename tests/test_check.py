"""The PR gate with real gpg: a small repository (NO and SE) with keys made in the test,
committed as the trusted base; each case changes the working tree and must fail with its
own message, or pass, both with gpgv per entry and with the batch fast path."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import gpgtools
from conftest import ROOT, git
from directory247.cli import main
from directory247.entry.yaml_writer import dump
from directory247.gate.check import run_check
from directory247.gate.release_job import GateRefused, run_release

NOW = dt.datetime.now(dt.UTC)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True, params=["gpgv", "batch"])
def verifier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case twice: with gpgv per entry, and with the batch fast path (trust.batch) on for
    any number of entries. The verdicts and messages must be the same."""
    from directory247.trust import batch

    monkeypatch.setattr(batch, "BATCH_MIN", 1 if request.param == "batch" else 10**9)
    return str(request.param)


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}


@dataclass
class Repo:
    path: Path
    home: Path
    root: str
    keys: dict[str, str]  # code -> fpr
    #: "check": ``check`` runs the gate; "release": it runs ``release`` (same gate, then a
    #: release cut with the root key, which the fixture authorises as release key).
    mode: str = "check"

    def write(self, rel: str, data: bytes) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def read(self, rel: str) -> bytes:
        return (self.path / rel).read_bytes()

    def sign_entry(self, code: str, fpr: str | None = None, **kwargs: object) -> None:
        rel = f"directory/{code.lower()}.yaml"
        self.write(rel + ".asc", gpgtools.sign(self.home, fpr or self.keys[code], self.read(rel), **kwargs))  # type: ignore[arg-type]

    def bump(self, code: str, old: str = "", new: str = "", serial: int | None = None) -> None:
        rel = f"directory/{code.lower()}.yaml"
        text = self.read(rel).decode()
        current = int(text.split("\nserial: ")[1].split("\n")[0])
        text = text.replace(f"\nserial: {current}\n", f"\nserial: {serial or current + 1}\n")
        if old:
            assert old in text
            text = text.replace(old, new)
        self.write(rel, text.encode())

    def authorise(self, states: dict[str, list[str]], serial: int, removals: list[dict[str, str]] | None = None,
                  signer: str | None = None) -> None:
        tree: dict[str, object] = {"schema_version": "1", "serial": serial, "network": "demo", "root": self.root,
                                   "release_keys": [self.root], "states": states}
        if removals:
            tree["removals"] = removals
        data = dump(tree).encode()
        self.write("keys/authorisations.yaml", data)
        self.write("keys/authorisations.yaml.asc", gpgtools.sign(self.home, signer or self.root, data))
        for fprs in states.values():
            for fpr in fprs:
                self.write(f"keys/pubkeys/{fpr}.asc", gpgtools.export_public(self.home, fpr))
        self.write(f"keys/pubkeys/{self.root}.asc", gpgtools.export_public(self.home, self.root))

    def commit(self) -> None:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", "base")

    def check(self, base: str | None = "HEAD") -> list[str]:
        if self.mode == "release":
            return self.release(base)
        outcome = run_check(self.path, base=base, now=NOW)
        # Warnings (a confirmation falling due as the calendar moves on) are not what these cases test.
        return [f"{p.path}: {p.field}: {p.message}" for p in outcome.problems if p.severity == "error"]


    def release(self, base: str | None = "HEAD") -> list[str]:
        """``release`` refuses exactly what the gate refuses, with the same problems, and
        publishes nothing then; what the gate accepts, it releases."""
        before = _listing(self.path / "releases")
        moment = dt.datetime.now(dt.UTC)
        try:
            run_release(self.path, base=base, now=moment, released=moment.replace(microsecond=0),
                        gnupghome=str(self.home))
        except GateRefused as refused:
            assert _listing(self.path / "releases") == before, "a refused release changed releases/"
            return [f"{p.path}: {p.field}: {p.message}" for p in refused.problems if p.severity == "error"]
        assert _listing(self.path / "releases") != before
        return []


@pytest.fixture(params=["check", "release"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, keyhome: tuple[Path, str, dict[str, str]]) -> Iterator[Repo]:
    """The NO+SE repository; every gate case runs once as ``check`` and once as ``release``."""
    yield make_repo(tmp_path, keyhome, mode=str(request.param))


def make_repo(tmp_path: Path, keyhome: tuple[Path, str, dict[str, str]], mode: str = "check") -> Repo:
    """A repository with NO and SE signed by their keys, committed as the base."""
    home, root, keys = keyhome
    path = tmp_path / "repo"
    (path / "directory").mkdir(parents=True)
    git(path, "init", "-q")
    r = Repo(path, home, root, dict(keys), mode=mode)
    r.write("keys/root.asc", gpgtools.export_public(home, root))
    r.authorise({code: [fpr] for code, fpr in keys.items()}, serial=1)
    for code in keys:
        shutil.copy(FIXTURES / f"{code.lower()}.yaml", path / "directory")
        r.sign_entry(code)
    r.commit()
    return r


def test_clean_base_passes(repo: Repo) -> None:
    assert repo.check() == []
    assert repo.check(base=None) == []


def test_signed_change_with_higher_serial_passes(repo: Repo) -> None:
    repo.bump("NO", "+4740612345", "+4740612346")
    repo.sign_entry("NO")
    assert repo.check() == []


def test_wrong_states_key(repo: Repo) -> None:
    repo.bump("NO")
    repo.sign_entry("NO", repo.keys["SE"])
    assert repo.check() == [
        f"directory/no.yaml.asc: (signature): signed by {repo.keys['SE']}, which is not authorised for NO "
        "(it is authorised for SE)"]


def test_entry_of_another_state_changed(repo: Repo) -> None:
    repo.bump("SE")
    repo.sign_entry("SE", repo.keys["NO"])
    assert repo.check() == [
        f"directory/se.yaml.asc: (signature): signed by {repo.keys['NO']}, which is not authorised for SE "
        "(it is authorised for NO)"]


def test_unknown_key(repo: Repo, tmp_path: Path) -> None:
    other = gpgtools.make_home(tmp_path)
    stranger = gpgtools.generate_key(other, "stranger <x@test.example>")
    repo.bump("NO")
    repo.write("directory/no.yaml.asc", gpgtools.sign(other, stranger, repo.read("directory/no.yaml")))
    (problem,) = repo.check()
    assert problem.startswith("directory/no.yaml.asc: (signature): signed by unknown key")
    assert "not authorised for NO" in problem


def test_tampered_byte(repo: Repo) -> None:
    data = bytearray(repo.read("directory/no.yaml"))
    data[data.index(b"Cybercrime Centre")] = ord("K")
    repo.write("directory/no.yaml", bytes(data))
    (problem,) = repo.check(base=None)
    assert problem.startswith("directory/no.yaml.asc: (signature): BAD signature")


def test_expired_key(repo: Repo) -> None:
    past = NOW - dt.timedelta(days=30)
    old = gpgtools.generate_key(repo.home, "old NO <old@test.example>", expire="7d", faked_time=past)
    repo.authorise({"NO": [old], "SE": [repo.keys["SE"]]}, serial=2)
    repo.bump("NO")
    repo.sign_entry("NO", old, faked_time=past + dt.timedelta(days=1))
    repo.commit()
    (problem,) = repo.check()
    assert problem.startswith(f"directory/no.yaml.asc: (signature): signed by {old}, which expired on")


def test_revoked_key(repo: Repo, keyhome: tuple[Path, str, dict[str, str]]) -> None:
    doomed = gpgtools.generate_key(repo.home, "doomed NO <doomed@test.example>")
    repo.authorise({"NO": [doomed], "SE": [repo.keys["SE"]]}, serial=2)
    repo.bump("NO")
    repo.sign_entry("NO", doomed)
    gpgtools.revoke(repo.home, doomed)
    repo.write(f"keys/pubkeys/{doomed}.asc", gpgtools.export_public(repo.home, doomed))
    repo.authorise({"NO": [doomed], "SE": [repo.keys["SE"]]}, serial=3)
    repo.commit()
    (problem,) = repo.check()
    assert problem == f"directory/no.yaml.asc: (signature): signed by {doomed}, which has been revoked"


def test_future_dated_signature(repo: Repo) -> None:
    repo.bump("NO")
    repo.sign_entry("NO", faked_time=NOW + dt.timedelta(days=2))
    (problem,) = repo.check()
    assert problem.startswith("directory/no.yaml.asc: (signature): signature is dated in the future")


def test_two_signatures(repo: Repo) -> None:
    repo.bump("NO")
    data = repo.read("directory/no.yaml")
    both = gpgtools.run_gpg(repo.home, "--armor", "--detach-sign", "-u", repo.keys["NO"], "-u", repo.keys["SE"],
                            data=data)
    repo.write("directory/no.yaml.asc", both)
    assert repo.check() == ["directory/no.yaml.asc: (signature): contains 2 signatures; exactly one is required"]


def test_cleartext_signature_as_asc(repo: Repo) -> None:
    repo.bump("NO")
    data = repo.read("directory/no.yaml")
    repo.write("directory/no.yaml.asc", gpgtools.run_gpg(repo.home, "--clearsign", "-u", repo.keys["NO"], data=data))
    (problem,) = repo.check()
    assert "is a cleartext-signed message (BEGIN PGP SIGNED MESSAGE)" in problem


def test_inline_signature_as_asc(repo: Repo) -> None:
    repo.bump("NO")
    data = repo.read("directory/no.yaml")
    repo.write("directory/no.yaml.asc", gpgtools.run_gpg(repo.home, "--armor", "--sign", "-u", repo.keys["NO"],
                                                         data=data))
    (problem,) = repo.check()
    assert "is an inline signed message (BEGIN PGP MESSAGE)" in problem


def test_text_mode_signature_over_changed_line_endings(repo: Repo) -> None:
    repo.bump("NO")
    repo.sign_entry("NO", textmode=True)
    repo.write("directory/no.yaml", repo.read("directory/no.yaml").replace(b"\n", b"\r\n"))
    (problem,) = repo.check()
    assert "is a text-mode signature (class 01); a binary-mode signature (class 00) is required" in problem


def test_replay_of_older_signed_entry(repo: Repo) -> None:
    older, older_sig = repo.read("directory/no.yaml"), repo.read("directory/no.yaml.asc")
    repo.bump("NO", "+4740612345", "+4740612346")
    repo.sign_entry("NO")
    repo.commit()
    repo.write("directory/no.yaml", older)
    repo.write("directory/no.yaml.asc", older_sig)
    assert repo.check() == ["directory/no.yaml: serial: serial 1 is not higher than 2 at the base; raise it on "
                            "every change (an older signed entry cannot be replayed)"]


def test_changed_entry_without_serial_bump(repo: Repo) -> None:
    repo.bump("NO", "+4740612345", "+4740612346", serial=1)
    repo.sign_entry("NO")
    assert repo.check() == ["directory/no.yaml: serial: serial 1 is not higher than 1 at the base; raise it on "
                            "every change (an older signed entry cannot be replayed)"]


def test_key_added_in_the_same_change(repo: Repo) -> None:
    fresh = gpgtools.generate_key(repo.home, "new NO <new@test.example>")
    repo.authorise({"NO": [repo.keys["NO"], fresh], "SE": [repo.keys["SE"]]}, serial=2)
    repo.bump("NO")
    repo.sign_entry("NO", fresh)
    assert repo.check() == [
        f"directory/no.yaml.asc: (signature): signed by unknown key {fresh}, which is not authorised for NO"]
    # The same key, once the key change has landed, is accepted.
    repo.commit()
    repo.bump("NO")
    repo.sign_entry("NO", fresh)
    assert repo.check() == []


def test_key_change_without_root_signature(repo: Repo) -> None:
    fresh = gpgtools.generate_key(repo.home, "sneaky <sneak@test.example>")
    repo.authorise({"NO": [fresh], "SE": [repo.keys["SE"]]}, serial=2, signer=repo.keys["NO"])
    (problem,) = repo.check()
    assert problem == ("keys/authorisations.yaml.asc: (trust): keys/ changed, but the change is not signed by the "
                       f"root key of the base: signed by unknown key {repo.keys['NO']}, which is not authorised to "
                       "sign this file")


def test_key_change_replaying_older_authorisations(repo: Repo) -> None:
    repo.authorise({"NO": [repo.keys["NO"], repo.keys["SE"]], "SE": [repo.keys["SE"]]}, serial=1)
    (problem,) = repo.check()
    assert problem == "keys/authorisations.yaml: serial: serial 1 is not higher than 1 at the base"


def test_deleting_an_entry_needs_root_signed_removal(repo: Repo) -> None:
    (repo.path / "directory" / "se.yaml").unlink()
    (repo.path / "directory" / "se.yaml.asc").unlink()
    assert repo.check() == ["directory/se.yaml: (entry): entry of SE was deleted without a removal in root-signed "
                            "keys/authorisations.yaml; ask the Secretariat"]
    repo.authorise({"NO": [repo.keys["NO"]]}, serial=2,
                   removals=[{"code": "SE", "date": "2026-11-01", "reason": "test"}])
    assert repo.check() == []


def test_symlinked_entry(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(repo.read("directory/no.yaml"))
    (repo.path / "directory" / "no.yaml").unlink()
    (repo.path / "directory" / "no.yaml").symlink_to(outside)
    problems = repo.check()
    assert "directory/no.yaml: (file): is a symbolic link; only regular files are accepted here" in problems


def test_missing_signature(repo: Repo) -> None:
    (repo.path / "directory" / "no.yaml.asc").unlink()
    assert repo.check() == [
        "directory/no.yaml.asc: (signature): missing signature of NO's entry; run 'directory247 sign "
        "directory/no.yaml'"]


def test_stray_file_in_directory(repo: Repo) -> None:
    repo.write("directory/notes.txt", b"hello")
    assert repo.check() == ["directory/notes.txt: (file): directory/ holds only entries (<cc>.yaml) and their "
                            "signatures (<cc>.yaml.asc); move or remove this file"]


def test_production_keys_refuse_demo_entries(repo: Repo) -> None:
    data = repo.read("keys/authorisations.yaml").replace(b"network: demo", b"network: production")
    repo.write("keys/authorisations.yaml", data)
    repo.write("keys/authorisations.yaml.asc", gpgtools.sign(repo.home, repo.root, data))
    repo.commit()
    problems = repo.check()
    assert "directory/no.yaml: demo: demonstration entries cannot be published with production keys" in problems


def test_check_cli_exit_codes(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIRECTORY247_ROOT", str(repo.path))
    assert main(["check", "--base", "HEAD"]) == 0
    (repo.path / "directory" / "no.yaml.asc").unlink()
    assert main(["check", "--base", "HEAD", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert "::error file=directory/no.yaml.asc,line=1,col=1,title=(signature)::missing signature" in out
    assert main(["check", "--base", "no-such-ref"]) == 2


def test_sign_verb_signs_and_verifies(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIRECTORY247_ROOT", str(repo.path))
    monkeypatch.chdir(repo.path)
    repo.bump("NO")
    assert main(["sign", "directory/no.yaml", "--gnupghome", str(repo.home), "--key", repo.keys["SE"]]) == 1
    assert "not authorised for NO" in capsys.readouterr().err
    assert main(["sign", "directory/no.yaml", "--gnupghome", str(repo.home), "--key", repo.keys["NO"]]) == 0
    assert "verified under the gate's policy" in capsys.readouterr().out
    assert repo.check() == []


def test_sign_refuses_invalid_entry(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIRECTORY247_ROOT", str(repo.path))
    before = repo.read("directory/no.yaml.asc")
    repo.bump("NO", "time_zone: Europe/Oslo", "time_zone: Europe/Atlantis")
    assert main(["sign", str(repo.path / "directory/no.yaml"), "--gnupghome", str(repo.home)]) == 1
    captured = capsys.readouterr()
    assert "'Europe/Atlantis' is not an IANA time zone" in captured.out
    assert "does not validate" in captured.err
    assert repo.read("directory/no.yaml.asc") == before


def test_demo_directory_passes_check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("DIRECTORY247_ROOT", raising=False)
    assert main(["check", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert " error" not in out and "92" in out


# --- the verification cache never accepts what a cold run rejects -------------------------------

def _cold_and_cached(repo: Repo, cache_path: Path, now: dt.datetime = NOW) -> tuple[list[str], list[str]]:
    from directory247.trust import StatusCache

    cold = [f"{p.path}: {p.message}" for p in run_check(repo.path, base=None, now=now).problems
            if p.severity == "error"]
    cache = StatusCache(cache_path)
    cached = [f"{p.path}: {p.message}" for p in run_check(repo.path, base=None, now=now, cache=cache).problems
              if p.severity == "error"]
    cache.save()
    return cold, cached


@pytest.mark.parametrize("damage", ["entry", "signature", "key", "authorisations", "expiry"])
def test_cache_cannot_accept_what_cold_run_rejects(repo: Repo, tmp_path: Path, damage: str) -> None:
    from directory247.trust import StatusCache

    cache_path = tmp_path / "cache.json"
    if damage == "expiry":
        short = gpgtools.generate_key(repo.home, "short NO <short@test.example>", expire="2d")
        repo.authorise({"NO": [short], "SE": [repo.keys["SE"]]}, serial=2)
        repo.sign_entry("NO", short)
    warm = StatusCache(cache_path)
    assert run_check(repo.path, base=None, now=NOW, cache=warm).ok
    warm.save()
    later = NOW
    if damage == "entry":
        data = bytearray(repo.read("directory/no.yaml"))
        data[data.index(b"Cybercrime Centre")] = ord("K")
        repo.write("directory/no.yaml", bytes(data))
    elif damage == "signature":
        sig = repo.read("directory/no.yaml.asc")
        other = gpgtools.sign(repo.home, repo.keys["NO"], repo.read("directory/se.yaml"))
        assert sig != other
        repo.write("directory/no.yaml.asc", other)
    elif damage == "key":
        # NO's public key file replaced by SE's: same authorisations, different key bytes.
        repo.write(f"keys/pubkeys/{repo.keys['NO']}.asc", gpgtools.export_public(repo.home, repo.keys["SE"]))
    elif damage == "authorisations":
        repo.authorise({"NO": [repo.keys["SE"]], "SE": [repo.keys["SE"]]}, serial=2)
    elif damage == "expiry":
        later = NOW + dt.timedelta(days=3)
    cold, cached = _cold_and_cached(repo, cache_path, later)
    assert cold, "the damage must make a cold run fail"
    assert cached == cold


def test_cache_hits_on_unchanged_entries(repo: Repo, tmp_path: Path) -> None:
    from directory247.trust import StatusCache

    first = StatusCache(tmp_path / "c.json")
    run_check(repo.path, base=None, now=NOW, cache=first)
    first.save()
    second = StatusCache(tmp_path / "c.json")
    assert run_check(repo.path, base=None, now=NOW, cache=second).ok
    assert (second.hits, second.misses) == (3, 0)  # the two entries and the root's signature on the authorisations


def test_diff_summarises_a_change_per_state(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIRECTORY247_ROOT", str(repo.path))
    assert main(["diff", "--base", "HEAD"]) == 0
    assert capsys.readouterr().out == "no change to entries or keys since HEAD\n"
    repo.bump("NO", '- number: "+4721234567"', '- number: "+4721234568"')
    (repo.path / "directory" / "se.yaml").unlink()
    repo.write("keys/authorisations.yaml", repo.read("keys/authorisations.yaml") + b"\n")
    assert main(["diff", "--base", "HEAD"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "NO: contact_points[0].phones[0].number +4721234567 -> +4721234568; serial 1 -> 2"
    assert out[1].startswith("SE: ") and "removed" in out[1]
    assert out[2] == "keys: keys/authorisations.yaml changed"
    assert main(["diff", "--base", "nope"]) == 2


def test_cache_rejudges_a_revoked_key(repo: Repo, tmp_path: Path) -> None:
    from directory247.trust import StatusCache

    doomed = gpgtools.generate_key(repo.home, "doomed NO <doomed2@test.example>")
    repo.authorise({"NO": [doomed], "SE": [repo.keys["SE"]]}, serial=2)
    repo.sign_entry("NO", doomed)
    warm = StatusCache(tmp_path / "cache.json")
    assert run_check(repo.path, base=None, now=NOW, cache=warm).ok
    warm.save()
    gpgtools.revoke(repo.home, doomed)
    repo.write(f"keys/pubkeys/{doomed}.asc", gpgtools.export_public(repo.home, doomed))
    cold, cached = _cold_and_cached(repo, tmp_path / "cache.json")
    assert cold == cached == [f"directory/no.yaml.asc: signed by {doomed}, which has been revoked"]


def test_cache_rejudges_a_signature_from_the_future(repo: Repo, tmp_path: Path) -> None:
    from directory247.trust import StatusCache

    repo.sign_entry("NO", faked_time=NOW + dt.timedelta(days=1))
    later = NOW + dt.timedelta(days=2)
    warm = StatusCache(tmp_path / "cache.json")
    assert run_check(repo.path, base=None, now=later, cache=warm).ok  # accepted, and cached, two days on
    warm.save()
    cold, cached = _cold_and_cached(repo, tmp_path / "cache.json", NOW)  # ...but not today
    assert cold and cached == cold
    assert "signature is dated in the future" in cold[0]


def test_cache_key_covers_the_authorisations(repo: Repo, tmp_path: Path) -> None:
    """Same keys, same entries, same signatures: only keys/authorisations.yaml changed (a new
    serial, re-signed by the root), and no cached verdict is used."""
    from directory247.trust import StatusCache

    first = StatusCache(tmp_path / "c.json")
    assert run_check(repo.path, base=None, now=NOW, cache=first).ok
    first.save()
    repo.authorise({code: [fpr] for code, fpr in repo.keys.items()}, serial=2)
    second = StatusCache(tmp_path / "c.json")
    assert run_check(repo.path, base=None, now=NOW, cache=second).ok
    assert set(first.used()).isdisjoint(second.used())  # every verdict reached anew (gpgv or batch)
    assert len(second.used()) == 3  # the two entries and the new root signature


def test_warm_run_reads_no_key_with_gpg(repo: Repo, tmp_path: Path) -> None:
    from directory247.trust import StatusCache, forget_keys

    def forget() -> None:  # as a new process would start: with no key read yet
        forget_keys()

    forget()
    first = StatusCache(tmp_path / "c.json")
    outcome = run_check(repo.path, base=None, now=NOW, cache=first)
    first.save()
    assert outcome.trust is not None
    keys = len(outcome.trust.keys)
    assert first.key_material.hits == 0 and len(first.key_material.used()) == keys  # all read by gpg, kept
    forget()
    second = StatusCache(tmp_path / "c.json")
    assert run_check(repo.path, base=None, now=NOW, cache=second).ok
    assert (second.key_material.hits, second.key_material.misses) == (keys, 0)
    assert (second.hits, second.misses) == (3, 0)  # the two entries and the root's signature on the authorisations


# --- the Secretariat's reachability records and removals -----------------------------------------

def _records(serial: int, answered: str = "true") -> bytes:
    return (f'schema_version: "1"\nserial: {serial}\ndemo: true\ntests:\n'
            f'  - {{state: "NO", role: primary, date: "2026-03-02", channel: phone, answered: {answered}'
            + (", response_minutes: 0}\n" if answered == "true" else "}\n")).encode()


@pytest.fixture
def repo_with_records(repo: Repo) -> Repo:
    data = _records(1)
    repo.write("reachability/tests.yaml", data)
    repo.write("reachability/tests.yaml.asc", gpgtools.sign(repo.home, repo.root, data))
    repo.commit()
    assert repo.check() == []
    return repo


def test_reachability_records_cannot_be_deleted(repo_with_records: Repo) -> None:
    (repo_with_records.path / "reachability" / "tests.yaml").unlink()
    (repo_with_records.path / "reachability" / "tests.yaml.asc").unlink()
    assert repo_with_records.check() == [
        "reachability/tests.yaml: (trust): the Secretariat's reachability records were deleted; only a root-signed "
        "change may replace them"]


def test_reachability_records_need_the_root_signature(repo_with_records: Repo) -> None:
    data = _records(2, answered="false")
    repo_with_records.write("reachability/tests.yaml", data)
    repo_with_records.write("reachability/tests.yaml.asc", gpgtools.sign(repo_with_records.home,
                                                                        repo_with_records.keys["NO"], data))
    (problem,) = repo_with_records.check()
    assert problem.startswith("reachability/tests.yaml: (trust): reachability/ changed, but the change is not "
                              "signed by the root key of the base")


def test_reachability_records_cannot_be_replayed(repo_with_records: Repo) -> None:
    data = _records(1, answered="false")
    repo_with_records.write("reachability/tests.yaml", data)
    repo_with_records.write("reachability/tests.yaml.asc", gpgtools.sign(repo_with_records.home,
                                                                        repo_with_records.root, data))
    assert repo_with_records.check() == [
        "reachability/tests.yaml: serial: serial 1 is not higher than 1 at the base (older records cannot be "
        "replayed)"]
    data = _records(2, answered="false")
    repo_with_records.write("reachability/tests.yaml", data)
    repo_with_records.write("reachability/tests.yaml.asc", gpgtools.sign(repo_with_records.home,
                                                                        repo_with_records.root, data))
    assert repo_with_records.check() == []


def test_removal_is_no_licence_while_the_state_is_authorised(repo: Repo) -> None:
    repo.authorise({"NO": [repo.keys["NO"]], "SE": [repo.keys["SE"]]}, serial=2,
                   removals=[{"code": "SE", "date": "2020-01-01", "reason": "old decision"}])
    repo.commit()
    (repo.path / "directory" / "se.yaml").unlink()
    (repo.path / "directory" / "se.yaml.asc").unlink()
    assert repo.check() == ["directory/se.yaml: (entry): entry of SE was deleted without a removal in root-signed "
                            "keys/authorisations.yaml; ask the Secretariat"]


def test_cache_lives_outside_the_checkout(tmp_path: Path) -> None:
    from directory247.trust import default_cache_path

    path = default_cache_path({"XDG_CACHE_HOME": str(tmp_path)})
    assert path.parent == tmp_path / "directory247"
    assert ROOT not in path.parents


def test_releases_are_append_only_and_genuine(repo: Repo) -> None:
    repo.write("releases/2026.11.1/directory.json", b"{}\n")
    (problem,) = repo.check()
    assert problem == "releases/2026.11.1/manifest.json: (release): not a genuine release: missing"
    repo.commit()
    repo.write("releases/2026.11.1/directory.json", b'{"forged": true}\n')
    assert repo.check() == ["releases/2026.11.1/directory.json: (release): published releases are append-only; "
                            "this file may not change or disappear"]


def test_cached_reading_of_the_authorisations_is_the_same(repo: Repo, tmp_path: Path) -> None:
    """The warm run takes the authorisations' reading from the cache: the same as a fresh one,
    and a damaged or foreign cached reading is never used."""
    from directory247.trust import StatusCache
    from directory247.trust.authorisations import _parsed_key, parse_authorisations

    data = repo.read("keys/authorisations.yaml")
    fresh = parse_authorisations(data)
    first = StatusCache(tmp_path / "c.json")
    assert parse_authorisations(data, cache=first.parsed) == fresh
    first.save()
    second = StatusCache(tmp_path / "c.json")
    assert parse_authorisations(data, cache=second.parsed) == fresh and second.parsed.hits == 1
    key = _parsed_key(data)
    assert key is not None
    tree = json.loads(first.parsed.used()[key][0][0])
    for damaged in ([["{}"]], [["not json"]], [], "x", [[json.dumps({"serial": True})]],
                    [[json.dumps({**tree, "root": "not a fingerprint"})]], [[json.dumps({**tree, "serial": "1"})]]):
        third = StatusCache(tmp_path / "c.json")
        third.parsed[key] = damaged  # type: ignore[assignment]
        assert parse_authorisations(data, cache=third.parsed) == fresh
    other = parse_authorisations(data.replace(b"serial: 1", b"serial: 7"), cache=second.parsed)
    assert other.serial == 7


def test_authorisations_are_not_cached_when_the_reading_code_cannot_be_read(
        repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from directory247.trust import StatusCache, authorisations

    monkeypatch.setattr(authorisations, "_reading_digest", lambda: None)
    cache = StatusCache(tmp_path / "c.json")
    data = repo.read("keys/authorisations.yaml")
    assert authorisations.parse_authorisations(data, cache=cache.parsed) == authorisations.parse_authorisations(data)
    assert cache.parsed.used() == {}


def test_a_signing_key_gpg_did_not_read_is_refused(repo: Repo, tmp_path: Path) -> None:
    """Expiry and revocation at the time of the check come from gpg's reading of the key: a
    verdict naming a signing key that reading does not hold (here, a cache edited to say so)
    cannot be accepted."""
    from directory247.trust import StatusCache

    first = StatusCache(tmp_path / "c.json")
    assert run_check(repo.path, base=None, now=NOW, cache=first).ok
    first.save()
    stored = json.loads((tmp_path / "c.json").read_text())
    for lines in stored["verdicts"].values():
        for fields in lines:
            if fields[0] == "VALIDSIG" and fields[-1] != repo.root:
                fields[1] = "AB" * 20
    (tmp_path / "c.json").write_text(json.dumps(stored))
    outcome = run_check(repo.path, base=None, now=NOW, cache=StatusCache(tmp_path / "c.json"))
    assert not outcome.ok
    assert any("whose key gpg did not read in full" in problem.message for problem in outcome.problems)
