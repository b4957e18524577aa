"""Faults and interruptions, with real processes and real I/O errors.

Two rules (the "Hardening" issue, points 3 and 4):

- every I/O failure is one line naming the path and the cause, exit 1, no traceback, and
  nothing half-written stays: a full disk (a small tmpfs), a read-only file system (a
  read-only bind mount), a file-size limit (``RLIMIT_FSIZE`` in the child: Python ignores
  SIGXFSZ, so a write gets EFBIG), permission denied (a read-only folder, the child without
  root's capabilities), a missing folder; in ``release``, ``build``, ``verify``, ``new``,
  ``sign``;
- a run killed at ANY point (SIGKILL, which nothing can catch; SIGTERM, how CI cancels a
  job) leaves an archive the next run can use: the published releases verify, the next
  ``release`` and ``build`` work, leftovers are removed or ignored with a note.

Every command runs as a real ``directory247`` process over a small checkout (two demo
entries, the demo keys). Interruptions come from inside that process: ``INTERRUPT`` wraps
the functions that write (``publish.write_new``, ``write_atomic``, ``publish_folder``, the
rename inside ``write_atomic``, the site's swap and MkDocs runs) and, at the N-th such
event, sends the signal to its own process, or pauses there (to run a second process
against a release in the middle of its work). Mounts are made in a private mount namespace
(``unshare``), so nothing outlives the child; where the machine does not allow it, those
tests are skipped with the reason.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import gpgtools
from conftest import ROOT
from directory247 import pinned, publish
from directory247.cli import signals_unwind
from directory247.errors import DirectoryError, describe_os_error
from directory247.release.archive import published_versions
from directory247.release.verify import verify_archived
from directory247.site.build import recover_out

CODES = ("NO", "SE")
TIMEOUT = 120

#: Runs ``directory247 ARGS`` (``cli.main``) in this process and interrupts it at the N-th
#: event inside WATCHED: ``python -c INTERRUPT N ACTION WATCHED ARGS...``; ACTION is a signal
#: name (SIGKILL, SIGTERM) or "pause" (wait for WATCHED/../resume). N = 0: never; the events
#: seen are printed on stderr at the end (``events: a|b|...``).
INTERRUPT = r'''
import os, signal, sys, time
from pathlib import Path

from directory247 import cli, publish
from directory247.site import build as site

stop_at, action, watched = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]).absolute()
events = []


def inside(path):
    path = Path(path).absolute()
    return path == watched or watched in path.parents


def event(name):
    events.append(name)
    if len(events) != stop_at:
        return
    if action == "pause":
        (watched.parent / "paused").write_text(name)
        while not (watched.parent / "resume").exists():
            time.sleep(0.02)
    else:
        os.kill(os.getpid(), getattr(signal, action))


def before(function, label):
    def hooked(path, *args, **kwargs):
        if inside(path):
            event(f"{label} {Path(path).name}")
        return function(path, *args, **kwargs)
    return hooked


publish.write_new = before(publish.write_new, "write")
publish.write_atomic = before(publish.write_atomic, "write")
publish.publish_folder = before(publish.publish_folder, "publish")
site.write_zip = (lambda write: lambda files, target, **kw: (event("zip"), write(files, target, **kw))[1])(
    site.write_zip)
replace = os.replace


def hooked_replace(source, target, *args, **kwargs):
    source, target = Path(source), Path(target)
    if inside(target) and source.name.endswith(".tmp"):
        event(f"replace {target.name}")  # inside write_atomic: the temporary file is complete
    result = replace(source, target, *args, **kwargs)
    if inside(target) and ".old-" in target.name:
        event("site moved aside")  # in swap_in: between the two renames
    return result


os.replace = hooked_replace
start = site.MkDocsRunning.start


def hooked_start(self, command, env):
    process = start(self, command, env)
    event("mkdocs running")
    return process


site.MkDocsRunning.start = hooked_start
code = cli.main(sys.argv[4:])
sys.stderr.write("events: " + "|".join(events) + "\n")
sys.exit(code)
'''

#: Starts ``directory247`` processes quickly: imports the package once (half a second per
#: process otherwise), then for each job (one JSON line on stdin) forks a child that runs
#: ``INTERRUPT`` (or the plain command when ``stop_at`` is None) with the job's working folder,
#: environment and argv, its output in the job's files; answers with the child's exit code
#: (minus the signal number when a signal ended it). The children are separate processes,
#: killed for real: only the start is shared.
FORK_SERVER = r'''
import json, os, sys, traceback

import directory247.cli, directory247.commands.build, directory247.commands.release, directory247.site.build

source = sys.argv[1]
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            for number, path in ((1, job["stdout"]), (2, job["stderr"])):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), number)
            if job["interrupt"] is None:
                code = directory247.cli.main(job["argv"])
            else:
                sys.argv = ["-c", *job["interrupt"], *job["argv"]]
                exec(compile(source, "<interrupt>", "exec"), {"__name__": "__main__"})
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
'''

#: Run in a private mount namespace (``unshare``): make the mounts in SPEC (JSON), run the
#: command, copy out what the test must see after the namespace is gone, exit with its code.
CONFINE = r'''
import json, os, shutil, subprocess, sys

spec = json.loads(sys.argv[1])


def mount(*args):
    subprocess.run(["mount", *args], check=True)


for path, size in spec["tmpfs"]:
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", path)
for source, target in spec["copy_in"]:
    shutil.copytree(source, target, symlinks=True)
for path in spec["read_only"]:
    mount("--bind", path, path)
    mount("-o", "remount,bind,ro", path)
if spec["fill"]:  # leave exactly this many bytes free
    path, leave = spec["fill"]
    with open(path, "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
        filler.truncate(max(0, filler.tell() - leave))
code = subprocess.run(spec["argv"], check=False).returncode
for source, target in spec["copy_out"]:
    shutil.copytree(source, target, symlinks=True)
sys.exit(code)
'''


# --------------------------------------------------------------------------- the checkout and the commands


def make_project(path: Path) -> Path:
    """A checkout with two demo entries, the demo keys and records, and what ``build`` reads."""
    (path / "directory").mkdir(parents=True)
    for code in CODES:
        for suffix in (".yaml", ".yaml.asc"):
            shutil.copy(ROOT / "directory" / f"{code.lower()}{suffix}", path / "directory")
    for folder in ("keys", "reachability", "docs"):
        shutil.copytree(ROOT / folder, path / folder)
    shutil.copy(ROOT / "mkdocs.yml", path)
    return path


def environment(project: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ, DIRECTORY247_ROOT=str(project), GNUPGHOME=str(home),
               XDG_CACHE_HOME=str(project.parent / "cache"), XDG_STATE_HOME=str(project.parent / "state"))
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def directory247(*args: str) -> list[str]:
    return [sys.executable, "-m", "directory247.cli", *args]


class Forks:
    """The ``FORK_SERVER`` of this module's tests."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.jobs = 0
        self.server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, INTERRUPT], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)

    def run(self, project: Path, home: Path, argv: Sequence[str],
            interrupt: Sequence[str] | None = None) -> subprocess.CompletedProcess[str]:
        assert self.server.stdin is not None and self.server.stdout is not None
        self.jobs += 1
        out, err = self.scratch / f"{self.jobs}.out", self.scratch / f"{self.jobs}.err"
        job = {"cwd": str(project), "env": environment(project, home), "argv": list(argv),
               "interrupt": None if interrupt is None else list(interrupt), "stdout": str(out), "stderr": str(err)}
        self.server.stdin.write(json.dumps(job) + "\n")
        self.server.stdin.flush()
        ready, _, _ = select.select([self.server.stdout], [], [], TIMEOUT)
        assert ready, f"directory247 {' '.join(argv)}: no answer in {TIMEOUT} s"
        code = int(self.server.stdout.readline())
        return subprocess.CompletedProcess(argv, code, out.read_text(), err.read_text())

    def close(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait(timeout=TIMEOUT)


FORKS: list[Forks] = []


@pytest.fixture(scope="module", autouse=True)
def forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forks]:
    FORKS.append(Forks(tmp_path_factory.mktemp("forks")))
    yield FORKS[-1]
    FORKS.pop().close()


def run(project: Path, home: Path, argv: Sequence[str], *, prefix: Sequence[str] = (),
        preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """``argv`` (``directory247(...)`` or another command) as a new process, like a user runs it."""
    return subprocess.run([*prefix, *argv], cwd=project, env=environment(project, home), capture_output=True,
                          text=True, timeout=TIMEOUT, preexec_fn=preexec, check=False)


def release(project: Path, home: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    argv = ["release", "--gnupghome", str(home)]
    if kwargs:
        return run(project, home, directory247(*argv), **kwargs)  # type: ignore[arg-type]
    return FORKS[-1].run(project, home, argv)


def build(project: Path, home: Path, out: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    argv = ["build", "--out", str(out)]
    if kwargs:
        return run(project, home, directory247(*argv), **kwargs)  # type: ignore[arg-type]
    return FORKS[-1].run(project, home, argv)


def interrupted(project: Path, home: Path, stop_at: int, action: str, watched: Path,
                *args: str) -> subprocess.CompletedProcess[str]:
    """``directory247 ARGS`` interrupted at the ``stop_at``-th event inside ``watched``."""
    return FORKS[-1].run(project, home, args, interrupt=[str(stop_at), action, str(watched)])


def events_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    line = next(line for line in result.stderr.splitlines() if line.startswith("events: "))
    return line.removeprefix("events: ").split("|")


def release_events(project: Path, home: Path, scratch: Path) -> list[str]:
    """The events of a complete release from ``project`` (run on a copy in ``scratch``)."""
    shutil.copytree(project, scratch)
    complete = interrupted(scratch, home, 0, "SIGKILL", scratch / "releases", "release", "--gnupghome", str(home))
    assert complete.returncode == 0, complete.stdout + complete.stderr
    shutil.rmtree(scratch)
    return events_of(complete)


def messages(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of stderr, without the events line of ``INTERRUPT``."""
    return [line for line in result.stderr.strip().splitlines() if not line.startswith("events: ")]


def one_line_error(result: subprocess.CompletedProcess[str], verb: str) -> str:
    """The run failed with exit 1 and exactly one line on stderr, ``directory247 VERB: error: ...``."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = messages(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"directory247 {verb}: error: "), lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """What an interrupted run may leave: hidden entries other than our own test files."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def assert_kept(releases: Path, before: dict[str, bytes]) -> None:
    """Every release folder published before is there, byte for byte."""
    now = snapshot(releases)
    assert {name: now.get(name) for name in before if "/" in name} == \
        {name: data for name, data in before.items() if "/" in name}


def assert_archive_verifies(releases: Path, before: dict[str, bytes]) -> None:
    """Every release published before is there byte for byte, and every release verifies."""
    assert_kept(releases, before)
    for manifest in published_versions(releases):
        verify_archived(releases / manifest.version, release_key=None, fingerprint=pinned.RELEASE_KEY_FINGERPRINT)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo release key (its secret half too: a throwaway key) and the demo Party keys."""
    home = gpgtools.make_home(tmp_path_factory.mktemp("demo-keys"))
    for code in ("release", "root", *(code.lower() for code in CODES)):
        gpgtools.run_gpg(home, "--import", str(ROOT / "demo-keys" / f"{code}.asc"))
    return home


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Path:
    """A checkout with one release published by the real command: where every test starts."""
    project = make_project(tmp_path_factory.mktemp("published") / "project")
    result = release(project, demo_home)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def project(tmp_path: Path, published: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(published, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def namespace(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The prefix that runs ``CONFINE`` in a private mount namespace, or skip: as root
    ``unshare --mount``, as anyone else with a user namespace (``--map-root-user``)."""
    options = ["--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("no unshare or mount here: cannot make a full disk or a read-only file system")
    probe = tmp_path_factory.mktemp("mount-probe")
    done = subprocess.run(["unshare", *options, "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        pytest.skip(f"no private mount namespace with mounts here: {done.stderr.strip()}")
    return ["unshare", *options, sys.executable, "-c", CONFINE]


def confined(namespace: list[str], argv: Sequence[str], *, tmpfs: Sequence[tuple[Path, str]] = (),
             copy_in: Sequence[tuple[Path, Path]] = (), read_only: Sequence[Path] = (),
             fill: tuple[Path, int] | None = None, copy_out: Sequence[tuple[Path, Path]] = ()) -> list[str]:
    spec = {"tmpfs": [(str(p), size) for p, size in tmpfs], "copy_in": [(str(a), str(b)) for a, b in copy_in],
            "read_only": [str(p) for p in read_only], "fill": [str(fill[0]), fill[1]] if fill else None,
            "argv": list(argv), "copy_out": [(str(a), str(b)) for a, b in copy_out]}
    return [*namespace, json.dumps(spec)]


@pytest.fixture(scope="module")
def unprivileged(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A prefix that runs a command without root's power over permissions, or skip: as root,
    ``setpriv`` drops every capability (the process stays uid 0 and owns the test's files, but
    a folder's mode bits now count); as anyone else, nothing is needed."""
    prefix = [] if os.geteuid() != 0 else ["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                                           "--ambient-caps=-all"]
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder this process may not write")
    folder = tmp_path_factory.mktemp("read-only")
    folder.chmod(0o555)
    try:
        done = subprocess.run([*prefix, "sh", "-c", f"touch {folder}/x"], capture_output=True, check=False)
    finally:
        folder.chmod(0o755)
    if done.returncode == 0:
        pytest.skip("a read-only folder is writable here anyway (file system or capabilities)")
    return prefix


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


# --------------------------------------------------------------------------- point 3: I/O failures, one line


STAGED_FILE = r"/releases/\.staging-[a-z0-9_]+/[A-Za-z0-9._-]+"


def test_release_over_the_file_size_limit(project: Path, demo_home: Path) -> None:
    before = snapshot(project / "releases")
    result = release(project, demo_home, preexec=file_size_limit(8192))
    line = one_line_error(result, "release")
    assert re.search(STAGED_FILE + r": File too large; .*\(ulimit -f\); raise the limit", line), line
    assert leftovers(project / "releases") == []
    assert_archive_verifies(project / "releases", before)
    assert release(project, demo_home).returncode == 0


def test_release_on_a_read_only_file_system(project: Path, demo_home: Path, namespace: list[str]) -> None:
    releases = project / "releases"
    before = snapshot(releases)
    result = run(project, demo_home, confined(namespace, directory247("release", "--gnupghome", str(demo_home)),
                                              read_only=[releases]))
    line = one_line_error(result, "release")
    assert re.search(r"/releases/\.staging-[a-z0-9_]+: Read-only file system; run the command where it may write",
                     line), line
    assert leftovers(releases) == []
    assert_archive_verifies(releases, before)


def test_release_on_a_full_disk(project: Path, demo_home: Path, namespace: list[str]) -> None:
    disk, after = project.parent / "disk", project.parent / "after"
    disk.mkdir()
    before = snapshot(project / "releases")
    command = directory247("release", "--gnupghome", str(demo_home), "--releases", str(disk / "releases"))
    result = run(project, demo_home, confined(
        namespace, command, tmpfs=[(disk, "2m")], copy_in=[(project / "releases", disk / "releases")],
        fill=(disk / "filler", 24 * 1024), copy_out=[(disk / "releases", after)]))
    line = one_line_error(result, "release")
    assert re.search(STAGED_FILE + r": No space left on device; free some space", line), line
    assert leftovers(after) == []
    assert_archive_verifies(after, before)


def test_release_into_a_folder_it_may_not_write(project: Path, demo_home: Path, unprivileged: list[str]) -> None:
    releases = project / "releases"
    before = snapshot(releases)
    releases.chmod(0o555)
    try:
        result = release(project, demo_home, prefix=unprivileged)
    finally:
        releases.chmod(0o755)
    line = one_line_error(result, "release")
    assert re.search(r"/releases/\.staging-[a-z0-9_]+: Permission denied; run the command as a user who may",
                     line), line
    assert leftovers(releases) == []
    assert_archive_verifies(releases, before)


def test_release_into_a_missing_folder(project: Path, demo_home: Path) -> None:
    (project / "a-file").write_text("not a folder\n")
    result = run(project, demo_home, directory247("release", "--gnupghome", str(demo_home), "--releases",
                                                  str(project / "a-file" / "releases")))
    line = one_line_error(result, "release")
    assert line.endswith("/a-file/releases: Not a directory; a part of the path is a file, not a folder; "
                         "check the path"), line


@pytest.fixture
def built(project: Path, demo_home: Path) -> Path:
    """A site already built (by the real command) beside the checkout."""
    out = project.parent / "web" / "site"
    result = build(project, demo_home, out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_build_over_the_file_size_limit_keeps_the_old_site(project: Path, demo_home: Path, built: Path) -> None:
    before = snapshot(built)
    result = build(project, demo_home, built, preexec=file_size_limit(64 * 1024))
    line = one_line_error(result, "build")
    assert re.search(r"/web/\.site\.staging-[a-z0-9_]+/\S+: File too large; ", line), line
    assert snapshot(built) == before
    assert leftovers(built.parent) == []


def test_build_on_a_full_disk(project: Path, demo_home: Path, namespace: list[str]) -> None:
    disk, after = project.parent / "disk", project.parent / "after"
    disk.mkdir()
    result = run(project, demo_home, confined(
        namespace, directory247("build", "--out", str(disk / "site")), tmpfs=[(disk, "3m")],
        copy_out=[(disk, after)]))
    line = one_line_error(result, "build")
    assert re.search(r"/disk/\.site\.staging-[a-z0-9_]+/\S+: No space left on device; free some space", line), line
    assert leftovers(after) == [] and not (after / "site").exists()


def test_build_into_a_read_only_folder_keeps_the_old_site(project: Path, demo_home: Path, built: Path,
                                                         namespace: list[str]) -> None:
    before = snapshot(built)
    result = run(project, demo_home, confined(namespace, directory247("build", "--out", str(built)),
                                              read_only=[built.parent]))
    line = one_line_error(result, "build")
    assert re.search(r"/web/\.site\.staging-[a-z0-9_]+: Read-only file system; ", line), line
    assert snapshot(built) == before
    assert leftovers(built.parent) == []


def test_verify_with_a_read_only_state_folder(project: Path, demo_home: Path, namespace: list[str]) -> None:
    (folder,) = [p for p in (project / "releases").iterdir() if p.is_dir()]
    state = project.parent / "verify-state"
    state.mkdir()
    result = run(project, demo_home, confined(namespace, directory247("verify", str(folder), "--state-dir",
                                                                      str(state)), read_only=[state]))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(state) in line and "Read-only file system" in line, line
    assert list(state.iterdir()) == []


def test_new_entry_in_a_read_only_folder(project: Path, demo_home: Path, namespace: list[str]) -> None:
    result = run(project, demo_home, confined(namespace, directory247("new", "FR"),
                                              read_only=[project / "directory"]))
    line = one_line_error(result, "new")
    assert line.endswith("/directory/fr.yaml: Read-only file system; run the command where it may write, or "
                         "remount the file system read-write"), line
    assert not (project / "directory" / "fr.yaml").exists()


def test_new_entry_in_a_folder_it_may_not_write(project: Path, demo_home: Path, unprivileged: list[str]) -> None:
    (project / "directory").chmod(0o555)
    try:
        result = run(project, demo_home, directory247("new", "FR"), prefix=unprivileged)
    finally:
        (project / "directory").chmod(0o755)
    line = one_line_error(result, "new")
    assert line.endswith("/directory/fr.yaml: Permission denied; run the command as a user who may read and write "
                         "there, or change the permissions"), line


def test_new_entry_where_the_project_is_missing(project: Path, demo_home: Path) -> None:
    env_root = project.parent / "gone"
    result = subprocess.run(directory247("new", "FR"), cwd=project, capture_output=True, text=True, check=False,
                            timeout=TIMEOUT,
                            env=dict(environment(project, demo_home), DIRECTORY247_ROOT=str(env_root)))
    line = one_line_error(result, "new")
    assert line.endswith("/gone/directory: No such file or directory; check the path (a folder on it may be "
                         "missing)"), line


def test_new_entry_over_the_file_size_limit_leaves_no_partial_file(project: Path, demo_home: Path) -> None:
    result = run(project, demo_home, directory247("new", "FR"), preexec=file_size_limit(512))
    line = one_line_error(result, "new")
    assert line.endswith("/directory/fr.yaml: File too large; a file would exceed this process's file-size limit "
                         "(ulimit -f); raise the limit, then run the command again"), line
    assert not (project / "directory" / "fr.yaml").exists()


def test_sign_in_a_read_only_folder(project: Path, demo_home: Path, namespace: list[str]) -> None:
    entry = project / "directory" / "no.yaml"
    signature = entry.with_name("no.yaml.asc").read_bytes()
    result = run(project, demo_home, confined(namespace, directory247("sign", str(entry), "--gnupghome",
                                                                      str(demo_home)),
                                              read_only=[project / "directory"]))
    line = one_line_error(result, "sign")
    assert "no.yaml.asc" in line and "Read-only file system" in line, line
    assert entry.with_name("no.yaml.asc").read_bytes() == signature
    assert leftovers(project / "directory") == []


# --------------------------------------------------------------------------- point 4: killed releases


def test_release_killed_at_every_write(project: Path, demo_home: Path, tmp_path: Path) -> None:
    """SIGKILL before each file written, before the rename into place, and inside each
    atomic rewrite; then the archive verifies, ``release`` works and leaves nothing."""
    before = snapshot(project / "releases")
    events = release_events(project, demo_home, tmp_path / "complete")
    assert events[0] == "write directory.json" and events[-5].startswith("publish") and len(events) >= 20, events
    for stop_at, where in enumerate(events, start=1):
        if where.startswith("replace "):
            continue  # a temporary file left in releases/: see the next test
        copy = tmp_path / f"kill-{stop_at}"
        shutil.copytree(project, copy)
        killed = interrupted(copy, demo_home, stop_at, "SIGKILL", copy / "releases", "release", "--gnupghome",
                             str(demo_home))
        assert killed.returncode == -signal.SIGKILL, (where, killed.stderr)
        assert_archive_verifies(copy / "releases", before)
        after = release(copy, demo_home)
        assert after.returncode == 0, (where, after.stdout + after.stderr)
        assert "Traceback" not in after.stderr
        assert leftovers(copy / "releases") == [], where
        assert_kept(copy / "releases", before)  # the new release verified itself as a user would
        shutil.rmtree(copy)


def test_release_killed_inside_an_atomic_rewrite(project: Path, demo_home: Path, tmp_path: Path) -> None:
    """Killed with the temporary file of index.json or feed.atom complete but not renamed:
    the next release removes it, with a note, before the gate sees it."""
    events = release_events(project, demo_home, tmp_path / "complete")
    points = [n for n, where in enumerate(events, start=1) if where.startswith("replace ")]
    assert points
    for stop_at in points:
        copy = tmp_path / f"kill-{stop_at}"
        shutil.copytree(project, copy)
        killed = interrupted(copy, demo_home, stop_at, "SIGKILL", copy / "releases", "release", "--gnupghome",
                             str(demo_home))
        assert killed.returncode == -signal.SIGKILL
        (temporary,) = leftovers(copy / "releases")
        after = release(copy, demo_home)
        assert after.returncode == 0, after.stdout + after.stderr
        assert f"removed a leftover temporary file of an interrupted release: {copy / 'releases' / temporary}" \
            in after.stderr
        assert leftovers(copy / "releases") == []


def test_release_stopped_by_sigterm_at_every_write(project: Path, demo_home: Path, tmp_path: Path) -> None:
    """SIGTERM at each point: exit 143, one line, nothing staged left; the next release works."""
    before = snapshot(project / "releases")
    events = release_events(project, demo_home, tmp_path / "complete")
    for stop_at, where in enumerate(events, start=1):
        copy = tmp_path / f"term-{stop_at}"
        shutil.copytree(project, copy)
        stopped = interrupted(copy, demo_home, stop_at, "SIGTERM", copy / "releases", "release", "--gnupghome",
                              str(demo_home))
        assert stopped.returncode == 128 + signal.SIGTERM, (where, stopped.stderr)
        assert "Traceback" not in stopped.stderr
        assert messages(stopped) == [
            "directory247 release: stopped by SIGTERM; what this run had staged was removed"], stopped.stderr
        assert leftovers(copy / "releases") == [], where
        assert_archive_verifies(copy / "releases", before)
        if stop_at % 6 == 1 or stop_at == len(events):  # the next release: a sample (the state is the same)
            after = release(copy, demo_home)
            assert after.returncode == 0, (where, after.stdout + after.stderr)
        shutil.rmtree(copy)


def test_build_after_a_killed_release_ignores_its_staging_folder(project: Path, demo_home: Path,
                                                                  tmp_path: Path) -> None:
    """A killed release leaves a staging folder (half written, or complete); ``build`` works
    meanwhile and leaves it alone; so does a release folder published before the index."""
    events = release_events(project, demo_home, tmp_path / "complete")
    publish_at = next(n for n, where in enumerate(events, start=1) if where.startswith("publish"))
    for stop_at in (3, publish_at, publish_at + 1):
        copy = tmp_path / f"kill-{stop_at}"
        shutil.copytree(project, copy)
        killed = interrupted(copy, demo_home, stop_at, "SIGKILL", copy / "releases", "release", "--gnupghome",
                             str(demo_home))
        assert killed.returncode == -signal.SIGKILL
        left = leftovers(copy / "releases")
        assert bool(left) == (stop_at <= publish_at), left
        built = build(copy, demo_home, copy.parent / f"site-{stop_at}")
        assert built.returncode == 0, built.stdout + built.stderr
        assert leftovers(copy / "releases") == left  # never removed by a build: the release may be running
        shutil.rmtree(copy)


def test_a_running_release_keeps_its_staging_folder(project: Path, demo_home: Path) -> None:
    """A second release while one is in the middle of writing: refused in one line, and the
    first one's staging folder is not touched; then the first one completes."""
    releases = project / "releases"
    argv = [sys.executable, "-c", INTERRUPT, "5", "pause", str(releases), "release", "--gnupghome", str(demo_home)]
    first = subprocess.Popen(argv, cwd=project, env=environment(project, demo_home), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (project / "paused").exists():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        (staging,) = leftovers(releases)
        staged = snapshot(releases / staging)
        second = release(project, demo_home)
        line = one_line_error(second, "release")
        assert line.endswith(f"{releases}: a release is running there (another process holds the folder's lock); "
                             "wait for it to finish, then run this again"), line
        assert snapshot(releases / staging) == staged
        (project / "resume").touch()
        _, err = first.communicate(timeout=TIMEOUT)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert leftovers(releases) == []
    assert len(published_versions(releases)) == 2


def test_leftovers_are_named_in_a_note(project: Path, demo_home: Path) -> None:
    releases = project / "releases"
    killed = interrupted(project, demo_home, 4, "SIGKILL", releases, "release", "--gnupghome", str(demo_home))
    assert killed.returncode == -signal.SIGKILL
    (staging,) = leftovers(releases)
    built = build(project, demo_home, project.parent / "site")
    assert built.returncode == 0, built.stderr
    assert f"ignored {releases / staging}: the staging folder of a running or interrupted release" in built.stderr
    after = release(project, demo_home)
    assert after.returncode == 0, after.stderr
    assert f"removed a leftover folder of an interrupted release: {releases / staging}" in after.stderr


# --------------------------------------------------------------------------- point 4: killed builds


@pytest.mark.parametrize(("where", "signal_name"), [
    ("mkdocs running", "SIGKILL"),
    ("zip", "SIGKILL"),
    ("site moved aside", "SIGKILL"),
    ("mkdocs running", "SIGTERM"),
    ("site moved aside", "SIGTERM"),
])
def test_build_interrupted(project: Path, demo_home: Path, built: Path, where: str, signal_name: str) -> None:
    """A build killed while MkDocs runs, while the bundle is zipped, or between the two renames
    of the swap: the next build repairs and builds; SIGTERM stops cleanly (the old site stays)."""
    before = snapshot(built)
    web = built.parent
    complete = interrupted(project, demo_home, 0, "SIGKILL", web, "build", "--out", str(built))
    assert complete.returncode == 0, complete.stderr
    stop_at = events_of(complete).index(where) + 1
    stopped = interrupted(project, demo_home, stop_at, signal_name, web, "build", "--out", str(built))
    if signal_name == "SIGTERM":
        assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert messages(stopped) == ["directory247 build: stopped by SIGTERM; what this run had staged was removed"]
        assert leftovers(web) == [] and snapshot(built) == before
        return
    assert stopped.returncode == -signal.SIGKILL
    left = leftovers(web)
    assert left, "a killed build leaves its staging folder (or the old site) behind"
    if where == "site moved aside":
        assert not built.exists() and any(".site.old-" in name for name in left)
    again = build(project, demo_home, built)
    assert again.returncode == 0, again.stdout + again.stderr
    assert leftovers(web) == []
    assert (built / "versions.json").exists() and (built / "latest" / "index.html").exists()


# --------------------------------------------------------------------------- the parts, in this process


def test_archive_lock_removes_only_leftovers(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    (releases / ".staging-abc12345").mkdir(parents=True)
    (releases / ".staging-abc12345" / "directory.json").write_text("{}")
    (releases / ".index.json.k2j4h5g6.tmp").write_text("{}")
    (releases / "2026.11.1").mkdir()
    (releases / ".staging-file").write_text("not ours: a file")
    (releases / ".hidden").mkdir()
    (releases / ".staging-link").symlink_to(releases / ".hidden")
    (releases / "index.json").write_text("{}")
    with publish.archive_lock(releases) as notes:
        assert notes == [
            f"removed a leftover temporary file of an interrupted release: {releases / '.index.json.k2j4h5g6.tmp'}",
            f"removed a leftover folder of an interrupted release: {releases / '.staging-abc12345'}",
        ]
        with publish.archive_lock(releases) as nested:  # the same process, deeper: nothing more to do
            assert nested == []
    assert sorted(p.name for p in releases.iterdir()) == [
        ".hidden", ".staging-file", ".staging-link", "2026.11.1", "index.json"]
    with publish.archive_lock(tmp_path / "no-releases-yet") as notes:
        assert notes == []
    assert not (tmp_path / "no-releases-yet").exists()


def test_archive_lock_is_refused_while_another_holds_it(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    (releases / ".staging-live").mkdir(parents=True)
    descriptor = os.open(releases, os.O_RDONLY)  # another open file: as another process would hold it
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DirectoryError, match="a release is running there"), publish.staging(releases):
            pass
    finally:
        os.close(descriptor)
    assert (releases / ".staging-live").is_dir()
    with publish.staging(releases) as stage:
        assert not (releases / ".staging-live").exists()
        assert stage.parent == releases
    assert list(releases.iterdir()) == []


def test_write_new_removes_its_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An injected writer failure after some bytes reached the file."""
    def failing_fsync(descriptor: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    target = tmp_path / "entry.yaml"
    with pytest.raises(OSError) as raised:
        publish.write_new(target, b"code: NO\n")
    assert raised.value.filename == str(target)
    assert not target.exists()
    with pytest.raises(OSError) as raised:
        publish.write_atomic(target, b"code: NO\n")
    assert raised.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_recover_out_puts_back_a_site_moved_aside(tmp_path: Path) -> None:
    out = tmp_path / "site"
    (tmp_path / ".site.old-123").mkdir()
    (tmp_path / ".site.old-123" / "index.html").write_text("old site")
    (tmp_path / ".site.staging-abcd").mkdir()
    (tmp_path / ".other.staging-x").mkdir()
    notes = recover_out(out)
    assert notes == [f"put back {out} from .site.old-123: a build was interrupted while swapping the site in",
                     f"removed a leftover folder of an interrupted site build: {tmp_path / '.site.staging-abcd'}"]
    assert (out / "index.html").read_text() == "old site"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.staging-x", "site"]


def test_an_ignored_hangup_stays_ignored() -> None:
    """Under ``nohup`` (SIGHUP ignored) a closed terminal must not stop a release."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals_unwind():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.mark.parametrize(("error", "line"), [
    (OSError(errno.ENOSPC, "No space left on device", "/r/a.json"),
     "/r/a.json: No space left on device; free some space (or use a folder on another disk), then run the "
     "command again"),
    (OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"), "/a -> /b: Invalid cross-device link"),
    (OSError(errno.EIO, "Input/output error"),
     "Input/output error; the disk or network file system failed; check it, then run the command again"),
    (shutil.Error([("/a/x", "/b/x", "[Errno 28] No space left on device")]),
     "/b/x: cannot be copied: [Errno 28] No space left on device"),
], ids=["enospc", "two-paths", "no-path", "copytree"])
def test_describe_os_error(error: OSError, line: str) -> None:
    assert describe_os_error(error) == line
