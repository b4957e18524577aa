"""The release archive under the gate, with real gpg and real releases cut by ``release``.

- derived files (``releases/index.json``, ``releases/feed.atom``) are byte-identical to what
  the release folders give, or refused; ``build`` and ``verify releases/`` take the newest
  release from the verified folders, never from the index;
- ``release`` knows every rule the gate knows: the latest release is a floor for removals
  and serials with or without ``--base``;
- a forged release folder gives one problem per offending file, and the gate goes on;
- the clock model: a release cut with ``SOURCE_DATE_EPOCH`` in the past never poisons the
  archive; an archived release is judged while it was valid;
- the longest validity a release may claim is capped on the user's side.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import gpgtools
from conftest import ROOT
from directory247 import pinned
from directory247.cli import main
from directory247.formats.common import dumps
from directory247.release.verify import examine_archived, verify_archived, verify_release
from test_check import Repo, make_repo

BIN = ROOT / ".venv" / "bin"


@pytest.fixture
def gate_repo(tmp_path: Path, keyhome: tuple[Path, str, dict[str, str]]) -> Repo:
    return make_repo(tmp_path, keyhome)


@pytest.fixture
def released(gate_repo: Repo) -> Repo:
    """Two releases cut by ``release`` (NO changed between them) and committed."""
    assert gate_repo.release(None) == []
    gate_repo.bump("NO", "+4740612345", "+4740612346")
    gate_repo.sign_entry("NO")
    assert gate_repo.release(None) == []
    gate_repo.commit()
    return gate_repo


def versions(repo: Repo) -> list[str]:
    return sorted(p.name for p in (repo.path / "releases").iterdir() if p.is_dir())


def both(repo: Repo) -> tuple[list[str], list[str]]:
    """The gate's errors against HEAD and on the working tree alone."""
    return repo.check("HEAD"), repo.check(None)


# --------------------------------------------------------------------------- derived files


def test_index_pointing_latest_at_an_older_release_is_refused(released: Repo) -> None:
    first, _ = versions(released)
    index = json.loads(released.read("releases/index.json"))
    index["latest"] = first
    released.write("releases/index.json", dumps(index))
    expected = ["releases/index.json: (release): is not what the release folders give (it is derived from them and "
                "may not be edited by hand); run 'directory247 release --when-needed' (it rewrites index.json and "
                "feed.atom from the release folders)"]
    assert both(released) == (expected, expected)


def test_index_announcing_a_version_that_does_not_exist_is_refused(released: Repo) -> None:
    index = json.loads(released.read("releases/index.json"))
    index["releases"].insert(0, dict(index["releases"][0], version="2099.01.1", serial=99))
    index["latest"] = "2099.01.1"
    released.write("releases/index.json", dumps(index))
    (problem,) = released.check()
    assert problem.startswith("releases/index.json: (release): is not what the release folders give")


def test_feed_with_an_injected_entry_is_refused(released: Repo) -> None:
    feed = released.read("releases/feed.atom").decode()
    forged = ("<entry><id>urn:forged</id><title>URGENT: new 24/7 number for NO: +4799999999</title>"
              "<updated>2026-12-01T00:00:00Z</updated></entry>")
    released.write("releases/feed.atom", feed.replace("<entry>", forged + "<entry>", 1).encode())
    (problem,) = released.check()
    assert problem.startswith("releases/feed.atom: (release): is not what the release folders give")


def test_deleted_derived_file_and_index_before_any_release_are_refused(released: Repo, gate_repo: Repo) -> None:
    (released.path / "releases" / "feed.atom").unlink()
    assert released.check() == ["releases/feed.atom: (release): missing; run 'directory247 release --when-needed' "
                                "(it rewrites index.json and feed.atom from the release folders)"]


def test_index_without_a_release_is_refused(gate_repo: Repo) -> None:
    gate_repo.write("releases/index.json", b'{"latest": "2026.11.1", "releases": []}\n')
    assert gate_repo.check() == ["releases/index.json: (release): there is no release yet, so there is nothing to "
                                 "list; remove it"]


def test_stray_files_under_releases_are_refused(released: Repo) -> None:
    released.write("releases/README.md", b"see https://phishing.example\n")
    released.write("releases/2026.12.x/directory.json", b"{}\n")
    errors = released.check()
    assert errors == [
        "releases/2026.12.x: (release): releases/ holds only release folders (named by their version, e.g. "
        "2026.11.1, with files only), index.json and feed.atom; remove it",
        "releases/README.md: (release): releases/ holds only release folders (named by their version, e.g. "
        "2026.11.1, with files only), index.json and feed.atom; remove it",
    ]


def test_symbolic_links_under_releases_are_refused(released: Repo, tmp_path: Path) -> None:
    """A link in releases/ (a whole release folder, or a derived file) is never followed."""
    _, second = versions(released)
    outside = tmp_path / "elsewhere"
    shutil.copytree(released.path / "releases" / second, outside)
    (released.path / "releases" / "2026.12.9").symlink_to(outside, target_is_directory=True)
    index = released.path / "releases" / "index.json"
    (tmp_path / "index.json").write_bytes(index.read_bytes())
    index.unlink()
    index.symlink_to(tmp_path / "index.json")
    for base in ("HEAD", None):
        errors = released.check(base)
        assert "releases/2026.12.9: (file): is a symbolic link; only regular files are accepted here" in errors
        assert "releases/index.json: (file): is a symbolic link; only regular files are accepted here" in errors
    # The site never reads a linked release folder either.
    from directory247.site.load import SiteError, load_archive

    with pytest.raises(SiteError, match="is a symbolic link"):
        load_archive(released.path / "releases")


def test_leftover_staging_folder_warns_on_the_tree_and_is_refused_in_a_change(released: Repo) -> None:
    released.write("releases/.staging-abc123/manifest.json", b"{}\n")
    outcome_warnings = [p for p in _problems(released, None) if p.severity == "warning" and p.field == "(release)"]
    assert [(p.path, p.message) for p in outcome_warnings] == [
        ("releases/.staging-abc123", "left over from an interrupted release; the next 'directory247 release' "
                                     "removes it")]
    assert released.check(None) == []
    assert released.check("HEAD") == ["releases/.staging-abc123: (release): a staging folder of an interrupted "
                                      "release may not be committed; remove it"]
    # So is the temporary file of an interrupted rewrite of index.json; both go with the next release.
    released.write("releases/.index.json.k2j4ab7x.tmp", b"{")
    assert released.check(None) == []
    assert len(released.check("HEAD")) == 2
    assert released.release(None) == []
    assert sorted(p.name for p in (released.path / "releases").iterdir() if p.name.startswith(".")) == []


def _problems(repo: Repo, base: str | None) -> list[object]:
    from directory247.gate.check import run_check

    return list(run_check(repo.path, base=base, now=dt.datetime.now(dt.UTC)).problems)


def test_release_rewrites_stale_derived_files(released: Repo, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A release stopped after publishing its folder leaves the index behind; the next run
    (here --when-needed, with nothing to release) rewrites it from the folders."""
    index = released.read("releases/index.json")
    (released.path / "releases" / "index.json").unlink()
    released.write("releases/feed.atom", b"stale")
    monkeypatch.setenv("DIRECTORY247_ROOT", str(released.path))
    code = main(["release", "--gnupghome", str(released.home), "--when-needed"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "nothing to release" in out
    assert "rewrote" in err
    assert released.read("releases/index.json") == index
    assert released.check() == []


def test_verify_and_build_take_the_newest_release_from_the_folders(released: Repo, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first, second = versions(released)
    index = json.loads(released.read("releases/index.json"))
    index["latest"] = first
    released.write("releases/index.json", dumps(index))
    code = main(["verify", str(released.path / "releases"), "--fingerprint", released.root,
                 "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"verified: release {second} (serial 2)")
    monkeypatch.chdir(ROOT)
    code = main(["build", "--out", str(tmp_path / "site"), "--releases", str(released.path / "releases"),
                 "--fingerprint", released.root])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"built the site of release {second}" in out
    assert json.loads((tmp_path / "site" / "versions.json").read_bytes())[0]["version"] == second


def test_verify_of_an_archive_refuses_a_forged_newest_folder(released: Repo, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    _, second = versions(released)
    forged = released.path / "releases" / "2026.12.9"
    shutil.copytree(released.path / "releases" / second, forged)
    manifest = json.loads((forged / "manifest.json").read_bytes())
    manifest.update(version="2026.12.9", serial=9)
    (forged / "manifest.json").write_bytes(dumps(manifest))
    code = main(["verify", str(released.path / "releases"), "--fingerprint", released.root,
                 "--state-dir", str(tmp_path / "state")])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("not verified: manifest.json: BAD signature")


# --------------------------------------------------------------------------- release knows what the gate knows


def test_release_without_base_refuses_an_entry_deleted_without_removal(released: Repo) -> None:
    _, second = versions(released)
    (released.path / "directory" / "se.yaml").unlink()
    (released.path / "directory" / "se.yaml.asc").unlink()
    expected = [f"directory/se.yaml: (entry): entry of SE was published in release {second} and deleted without a "
                "removal in root-signed keys/authorisations.yaml; ask the Secretariat"]
    assert released.release(None) == expected
    assert released.check(None) == expected
    released.authorise({"NO": [released.keys["NO"]]}, serial=2,
                       removals=[{"code": "SE", "date": "2026-11-01", "reason": "test"}])
    assert released.release(None) == []
    published = json.loads((released.path / "releases" / versions(released)[-1] / "directory.json").read_bytes())
    assert [entry["code"] for entry in published["entries"]] == ["NO"]


def test_release_without_base_refuses_a_replayed_entry(released: Repo) -> None:
    first, second = versions(released)
    old = json.loads((released.path / "releases" / first / "directory.json").read_bytes())
    assert [e["serial"] for e in old["entries"] if e["code"] == "NO"] == [1]
    released.bump("NO", "+4740612346", "+4740612345", serial=1)
    released.sign_entry("NO")
    expected = [f"directory/no.yaml: serial: serial 1 is lower than 2 in release {second}; an older signed entry "
                "cannot be replayed"]
    assert released.release(None) == expected
    assert released.check(None) == expected


def test_release_without_base_refuses_a_change_without_serial_bump(released: Repo) -> None:
    _, second = versions(released)
    released.bump("NO", "+4740612346", "+4740612347", serial=2)
    released.sign_entry("NO")
    expected = [f"directory/no.yaml: serial: serial 2 is the one published in release {second}, but the entry "
                "changed; raise it on every change"]
    assert released.release(None) == expected
    assert released.check(None) == expected


def test_latest_release_that_does_not_verify_stops_the_release(released: Repo) -> None:
    _, second = versions(released)
    path = released.path / "releases" / second / "directory.json"
    path.write_bytes(path.read_bytes().replace(b'"NO"', b'"N0"', 1))
    problems = released.release(None)
    assert problems == [f"releases: (release): the latest release cannot be read: release {second} is damaged: "
                        "directory.json: sha256 mismatch"]


# --------------------------------------------------------------------------- forged folders, per file


def test_forged_release_folder_gives_one_problem_per_file_and_the_gate_goes_on(
        released: Repo, keyhome: tuple[Path, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, second = versions(released)
    forged = released.path / "releases" / "2026.12.9"
    shutil.copytree(released.path / "releases" / second, forged)
    for name in ("directory.csv", "directory.vcf"):
        (forged / name).write_bytes((forged / name).read_bytes() + b"\n")
    (forged / "extra.txt").write_bytes(b"x")
    released.bump("SE")  # an unrelated problem the gate must still report: changed, not re-signed
    errors = released.check()
    assert [e for e in errors if e.startswith("releases/2026.12.9")] == [
        "releases/2026.12.9/directory.csv: (release): not a genuine release: size mismatch ("
        f"{(forged / 'directory.csv').stat().st_size} bytes, manifest.json says "
        f"{(forged / 'directory.csv').stat().st_size - 1})",
        "releases/2026.12.9/directory.vcf: (release): not a genuine release: size mismatch ("
        f"{(forged / 'directory.vcf').stat().st_size} bytes, manifest.json says "
        f"{(forged / 'directory.vcf').stat().st_size - 1})",
        "releases/2026.12.9/extra.txt: (release): not a genuine release: extra file, not listed in manifest.json",
    ]
    assert any(e.startswith("directory/se.yaml.asc: (signature): BAD signature") for e in errors)
    monkeypatch.setenv("DIRECTORY247_ROOT", str(released.path))
    for form in ("text", "json", "github"):
        assert main(["check", "--base", "HEAD", "--no-cache", "--format", form]) == 1
        out, err = capsys.readouterr()
        assert err == ""
        assert out.count("releases/2026.12.9/") == 3 and "directory/se.yaml.asc" in out, form
    # The manifest signed by another key: one problem, on the manifest, and the gate goes on.
    other = gpgtools.generate_key(released.home, "not release <nr@test.example>")
    (forged / "manifest.json.asc").write_bytes(gpgtools.sign(released.home, other, (forged / "manifest.json")
                                                             .read_bytes()))
    errors = released.check()
    assert [e for e in errors if e.startswith("releases/")] == [
        f"releases/2026.12.9/manifest.json: (release): not a genuine release: signed by unknown key {other}, "
        "which is not authorised to sign this file"]
    assert any(e.startswith("directory/se.yaml.asc") for e in errors)


# --------------------------------------------------------------------------- the clock model


def _guide_block() -> str:
    """The reproducible-release commands of the Secretariat guide, word for word."""
    text = (ROOT / "docs" / "guide-secretariat.md").read_text(encoding="utf-8")
    section = text.split("### Reproducible releases", 1)[1]
    block = re.search(r"\n\n((?:    .*\n)+)", section)
    assert block is not None
    return "\n".join(line[4:] for line in block.group(1).splitlines())


def test_reproducible_release_as_the_guide_says_never_poisons_the_archive(gate_repo: Repo, tmp_path: Path) -> None:
    """SOURCE_DATE_EPOCH = the last commit's time (two hours ago here): the release is made
    and verified, and afterwards the gate on the commit that adds it, the next release (the
    guide's commands again, then one at the real time) and build all pass."""
    repo = gate_repo
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.example", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t.example", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
               RELEASE_GNUPGHOME=str(repo.home), DIRECTORY247_ROOT=str(repo.path))
    earlier = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(microsecond=0)
    stamp = earlier.strftime("%Y-%m-%dT%H:%M:%S+0000")
    subprocess.run(["git", "-C", str(repo.path), "commit", "-q", "--amend", "--no-edit", "--date", stamp],
                   check=True, env=dict(env, GIT_COMMITTER_DATE=stamp))

    def guide() -> str:
        before = set(versions(repo)) if (repo.path / "releases").is_dir() else set()
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", _guide_block()], cwd=repo.path, env=env,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        (made,) = set(versions(repo)) - before
        return made

    first = guide()
    manifest = json.loads(repo.read(f"releases/{first}/manifest.json"))
    assert manifest["released"] == earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The commit that adds it passes the gate against its parent, and on its own.
    assert repo.check("HEAD~1") == []
    assert repo.check(None) == []
    # The next release, as the guide says (an entry changed and committed), then at the real time.
    repo.bump("SE")
    repo.sign_entry("SE")
    repo.commit()
    guide()
    assert repo.check("HEAD~1") == []
    repo.bump("NO")
    repo.sign_entry("NO")
    assert repo.release("HEAD") == []
    build = subprocess.run([str(BIN / "directory247"), "build", "--out", str(tmp_path / "site"), "--releases",
                            str(repo.path / "releases"), "--fingerprint", repo.root], cwd=ROOT,
                           env=dict(env, DIRECTORY247_ROOT=str(ROOT)), capture_output=True, text=True)
    assert build.returncode == 0, build.stderr


@pytest.mark.parametrize(("offset", "message"), [
    (dt.timedelta(days=2), "is in the future"),
    (-dt.timedelta(days=46), "would already have expired"),
])
def test_release_time_out_of_range_is_refused(released: Repo, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str], offset: dt.timedelta,
                                              message: str) -> None:
    released.bump("NO")
    released.sign_entry("NO")
    before = sorted(p.name for p in (released.path / "releases").iterdir())
    epoch = int((dt.datetime.now(dt.UTC) + offset).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    monkeypatch.setenv("DIRECTORY247_ROOT", str(released.path))
    assert main(["release", "--gnupghome", str(released.home)]) == 1
    _, err = capsys.readouterr()
    assert message in err and "SOURCE_DATE_EPOCH" in err
    assert sorted(p.name for p in (released.path / "releases").iterdir()) == before


@pytest.fixture(scope="module")
def old_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dt.datetime]:
    """A release key made 120 days ago (gpg's clock faked), to sign releases of the past."""
    home = gpgtools.make_home(tmp_path_factory.mktemp("old-release-key"))
    made = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=120)
    return home, gpgtools.generate_key(home, "old release <old@test.example>", faked_time=made), made


def _old_release(tmp_path: Path, old_key: tuple[Path, str, dt.datetime], days_ago: int,
                 sign_at: dt.timedelta = dt.timedelta(minutes=1)) -> Path:
    from test_release import cut_release, load_entries

    home, fpr, _ = old_key
    released = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=days_ago)
    published = cut_release(
        accepted=load_entries(2), previous=None, released=released, now=released + sign_at,
        sign=lambda data: gpgtools.sign(home, fpr, data, faked_time=released + sign_at),
        release_key=gpgtools.export_public(home, fpr), release_fingerprint=fpr, releases_dir=tmp_path / "releases",
    )
    return published.folder


def test_archived_release_is_judged_while_it_was_valid(tmp_path: Path,
                                                       old_key: tuple[Path, str, dt.datetime]) -> None:
    home, fpr, _ = old_key
    folder = _old_release(tmp_path, old_key, days_ago=90)
    # Expired for a user, genuine for the archive.
    with pytest.raises(Exception, match="expired on"):
        verify_release(folder, release_key=None, fingerprint=fpr, now=dt.datetime.now(dt.UTC))
    assert verify_archived(folder, release_key=None, fingerprint=fpr).version == folder.name
    # A manifest re-signed today, long after the release expired, is not genuine.
    data = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json.asc").write_bytes(gpgtools.sign(home, fpr, data))
    (finding,) = examine_archived(folder, release_key=None, fingerprint=fpr)
    assert finding.name == "manifest.json" and "dated in the future" in finding.message


# --------------------------------------------------------------------------- validity cap


def _resign(folder: Path, home: Path, fpr: str, change: dict[str, object], at: dt.datetime | None = None) -> None:
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest.update(change)
    data = dumps(manifest)
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.json.asc").write_bytes(gpgtools.sign(home, fpr, data, faked_time=at))


def test_verify_refuses_a_release_claiming_too_long_a_validity(released: Repo, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, second = versions(released)
    folder = tmp_path / second
    shutil.copytree(released.path / "releases" / second, folder)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    cap = pinned.MAX_RELEASE_VALIDITY
    released_at = dt.datetime.strptime(manifest["released"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)

    def claim(expires: dt.datetime) -> tuple[int, str]:
        _resign(folder, released.home, released.root, {"expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})
        code = main(["verify", str(folder), "--fingerprint", released.root, "--state-dir", str(tmp_path / "s")])
        return code, capsys.readouterr()[1]

    assert claim(released_at + cap)[0] == 0  # exactly the cap
    code, err = claim(dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    assert code == 1
    assert err.startswith("not verified: manifest.json: claims to be valid for ")
    assert f"longer than the {cap.days} days this network's policy allows" in err
    code, err = claim(released_at + cap + dt.timedelta(seconds=1))
    assert code == 1 and "claims to be valid for 45.0 days" in err


def test_gate_and_build_refuse_an_archived_release_claiming_too_long_a_validity(
        released: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, second = versions(released)
    folder = released.path / "releases" / "2026.12.9"
    shutil.copytree(released.path / "releases" / second, folder)
    _resign(folder, released.home, released.root, {"version": "2026.12.9", "serial": 9,
                                                   "expires": "2099-01-01T00:00:00Z"})
    errors = released.check()
    assert [e for e in errors if e.startswith("releases/2026.12.9")] == [
        e for e in errors if "claims to be valid for" in e] != []
    monkeypatch.chdir(ROOT)
    code = main(["build", "--out", str(tmp_path / "site"), "--releases", str(released.path / "releases"),
                 "--fingerprint", released.root])
    assert code == 1
    assert "claims to be valid for" in capsys.readouterr()[1]
    assert not (tmp_path / "site").exists()


def test_cap_is_the_networks_policy() -> None:
    from directory247.release.pipeline import VALIDITY

    assert VALIDITY <= pinned.MAX_RELEASE_VALIDITY == dt.timedelta(days=45)


# --------------------------------------------------------------------------- found in review: neighbours


def _authorise_release_keys(repo: Repo, release_keys: list[str], serial: int) -> None:
    from directory247.entry.yaml_writer import dump

    tree: dict[str, object] = {"schema_version": "1", "serial": serial, "network": "demo", "root": repo.root,
                               "release_keys": release_keys,
                               "states": {code: [fpr] for code, fpr in repo.keys.items()}}
    data = dump(tree).encode()
    repo.write("keys/authorisations.yaml", data)
    repo.write("keys/authorisations.yaml.asc", gpgtools.sign(repo.home, repo.root, data))
    for fpr in release_keys:
        repo.write(f"keys/pubkeys/{fpr}.asc", gpgtools.export_public(repo.home, fpr))


def test_the_release_key_can_be_rotated(released: Repo) -> None:
    """A new release key signs the next release; the releases of the old one stay the floor
    (with a warning once the old key is no longer authorised), never a dead end."""
    new = gpgtools.generate_key(released.home, "new release <new-release@test.example>")
    _authorise_release_keys(released, [released.root, new], serial=2)  # both, then only the new one
    assert released.check("HEAD") == []
    released.commit()
    released.bump("NO")
    released.sign_entry("NO")
    moment = dt.datetime.now(dt.UTC)
    from directory247.gate.release_job import run_release

    made = run_release(released.path, base=None, now=moment, released=moment.replace(microsecond=0),
                       gnupghome=str(released.home), key=new)
    assert made.manifest is not None and made.manifest.release_key == new
    released.commit()
    _authorise_release_keys(released, [new], serial=3)
    assert released.check("HEAD") == []
    released.commit()
    # The old key's releases are the floor still: an older NO entry cannot come back.
    old_no = json.loads(released.read(f"releases/{versions(released)[0]}/directory.json"))
    assert [e["serial"] for e in old_no["entries"] if e["code"] == "NO"] == [1]
    (released.path / "releases" / made.manifest.version).rename(released.path / "moved-away")
    shutil.rmtree(released.path / "moved-away")
    problems = _problems(released, None)
    assert any(p.severity == "warning" and "cannot be verified with an authorised release key" in p.message
               and "still counts as the record" in p.message for p in problems)  # type: ignore[attr-defined]


def test_a_release_into_another_archive_stands_on_that_archive(released: Repo, tmp_path: Path) -> None:
    """release --releases DIR: the floor and the derived files are those of DIR."""
    elsewhere = tmp_path / "archive"
    shutil.copytree(released.path / "releases", elsewhere)
    shutil.rmtree(released.path / "releases")
    released.bump("NO", "+4740612346", "+4740612345", serial=1)
    released.sign_entry("NO")
    before = sorted(p.name for p in elsewhere.iterdir())
    moment = dt.datetime.now(dt.UTC)
    from directory247.gate.release_job import GateRefused, run_release

    with pytest.raises(GateRefused) as refused:
        run_release(released.path, base=None, now=moment, released=moment.replace(microsecond=0),
                    gnupghome=str(released.home), releases_dir=elsewhere)
    assert any("serial 1 is lower than 2 in release" in p.message for p in refused.value.problems)
    assert sorted(p.name for p in elsewhere.iterdir()) == before


def test_a_release_that_would_expire_within_the_renewal_window_is_refused(
        released: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    released.bump("NO")
    released.sign_entry("NO")
    epoch = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    monkeypatch.setenv("DIRECTORY247_ROOT", str(released.path))
    before = versions(released)
    assert main(["release", "--gnupghome", str(released.home)]) == 1
    assert "leaves the release valid for less than 15 days" in capsys.readouterr()[1]
    assert versions(released) == before


def test_one_version_published_twice_is_refused_by_the_user(released: Repo, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A stale checkout re-cut a version with other content: a user who verified the first
    is told, not silently switched."""
    _, second = versions(released)
    state = tmp_path / "state"
    assert main(["verify", str(released.path / "releases" / second), "--fingerprint", released.root,
                 "--state-dir", str(state)]) == 0
    other = tmp_path / second
    shutil.copytree(released.path / "releases" / second, other)
    expires = dt.datetime.strptime(json.loads((other / "manifest.json").read_bytes())["expires"],
                                   "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) - dt.timedelta(hours=1)
    _resign(other, released.home, released.root, {"expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})
    capsys.readouterr()
    assert main(["verify", str(other), "--fingerprint", released.root, "--state-dir", str(state)]) == 1
    assert "one version was published twice with different content" in capsys.readouterr()[1]


def test_the_feed_announces_the_newest_releases_only(released: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed cannot grow past what the gate reads: only the newest releases, however long
    the archive (index.json lists them all)."""
    from directory247.release import archive

    monkeypatch.setattr(archive, "FEED_RELEASES", 1)
    _, second = versions(released)
    feed = archive.derived_files(released.path / "releases")["feed.atom"].decode()
    assert feed.count("<entry>") == 1 and second in feed
