"""The site build pipeline: published releases -> Markdown -> MkDocs -> one folder, swapped in.

Read as a straight pipeline (``build_site``):

1. ``load_archive``: read every ``releases/<version>/`` folder (``directory.json`` through
   ``json_export.parse``, ``changes.json``, ``manifest.json``, and ``reachability.json`` where
   the release has it), oldest release first. Pages are made from released data only, never
   from the YAML under review (nor from ``reachability/tests.yaml``).
2. For each release, ``pages.render_pages`` gives its Markdown; it is written into a staging
   docs folder together with the hand-written guides and assets of ``docs/``, beside a
   staging ``mkdocs.yml`` that INHERITs the project's base config.
3. ``mkdocs build --strict`` runs once per release, in subprocesses (two at a time), into
   ``<out>/<version>/``, with Material's offline plugin on (plain ``.html`` URLs, the search
   index also inlined as a script). The offline bundle
   ``downloads/directory247-site-<version>.zip`` is that build with the version selector taken
   out of each page (``offline_page``), which is byte for byte what MkDocs builds without it.
4. Each release's files are copied, exactly, to ``downloads/<version>/`` (so the folder
   verifies as published); ``latest/`` is a copy of the
   newest version, ``versions.json`` is written in mike's format for Material's selector, and
   the root ``index.html`` sends the reader to ``latest/``.
5. The staging folder replaces ``--out`` by renames on one file system.

Interrupted builds: the build holds an exclusive lock on the folder that holds ``--out``
(``publish.exclusive``) and, when it takes it, repairs what an interrupted build left there:
a site moved aside but never replaced (``.<out>.old-*`` with no ``<out>``) is put back, and
leftover ``.<out>.staging-*`` and ``.<out>.old-*`` folders are removed, each with a note
(``BuildResult.notes``). An exception or SIGTERM (the CLI turns it into ``Terminated``)
stops the MkDocs subprocesses, removes the staging folder and leaves the old site in place.
In the archive, hidden folders (``.staging-*`` of an interrupted or running release) are
never read as releases, only noted: the build never removes anything in ``releases/``.
Every ``OSError`` leaving the build names its path, so the CLI reports it in one line.

Determinism: MkDocs reads ``SOURCE_DATE_EPOCH`` (set to the release time) for the sitemap,
zip entries carry the release time and fixed permissions, and everything is written in a
sorted order, so the same releases give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import publish
from ..errors import DirectoryError, UsageError
from ..formats import json_export
from ..freshness.published import read_published
from .pages import NAV, render_pages
from .pages.common import GUIDES
from .pages.published import PublishedRelease, parse_changes, parse_manifest
from .pages.releases import bundle_name

VERSION_FORM = re.compile(r"[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,4}")
FILE_NAME_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MARKER = ".directory247-site"
LATEST = "latest"
#: zlib's fastest level: on these pages a fifth larger than the default level 6, in 40% of its time.
ZIP_LEVEL = 1
#: An ``OSError`` as Python prints it, in MkDocs' output: errno, cause, and the path(s) when given
#: (a copy names its source and target: ``'a' -> 'b'``).
_OS_ERROR = re.compile(r"\[Errno (?P<errno>\d+)\] (?P<cause>[^:\n]+)"
                       r"(?:: '(?P<path>[^'\n]+)'(?: -> '(?P<target>[^'\n]+)')?)?")


class SiteError(DirectoryError):
    """The site could not be built from the releases as they are."""


@dataclass(frozen=True)
class BuildResult:
    out: Path
    versions: tuple[str, ...]  # oldest first
    seconds: float
    #: what the build ignored or repaired on its way (leftovers of interrupted runs), one line each
    notes: tuple[str, ...] = field(default=())

    @property
    def latest(self) -> str:
        return self.versions[-1]


# --- 1. the archive ---------------------------------------------------------------------

def _read(path: Path) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise SiteError(f"{path}: not a regular file")
    return path.read_bytes()


def load_release(folder: Path) -> PublishedRelease:
    """One release folder, checked: its name is its version, its file names are plain."""
    if not VERSION_FORM.fullmatch(folder.name):
        raise SiteError(f"{folder}: a release folder is named by its version (e.g. 2026.11.1)")
    try:
        release = json_export.parse(_read(folder / "directory.json"))
        changes = folder / "changes.json"
        changelog = parse_changes(_read(changes)) if changes.exists() else None
        manifest_path = folder / "manifest.json"
        manifest = parse_manifest(_read(manifest_path)) if manifest_path.exists() else ()
        reachability = read_published(folder)
    except (KeyError, ValueError, TypeError) as exc:
        raise SiteError(f"{folder}: cannot read the release ({type(exc).__name__}: {exc}); "
                        "rebuild it with 'directory247 release'") from None
    if release.version != folder.name:
        raise SiteError(f"{folder}: directory.json says version {release.version}; "
                        "the folder must carry the same name")
    if reachability is not None and reachability.version != release.version:
        raise SiteError(f"{folder}: reachability.json says version {reachability.version}; "
                        "it must belong to the release of its folder")
    files = []
    for path in sorted(folder.iterdir()):
        if not FILE_NAME_FORM.fullmatch(path.name) or path.is_symlink() or not path.is_file():
            raise SiteError(f"{path}: unexpected entry in a release folder (only plain files with plain names)")
        files.append(path.name)
    return PublishedRelease(release=release, changelog=changelog, manifest=manifest, files=tuple(files),
                            reachability=reachability)


def archive_folders(releases_dir: Path) -> tuple[list[Path], list[str]]:
    """The release folders under ``releases_dir`` (those holding ``directory.json``), and a
    note for each hidden folder passed over: ``.staging-*`` folders belong to a release that
    is running or was interrupted (the next release removes those), and no release is ever
    hidden."""
    folders, notes = [], []
    for path in sorted(releases_dir.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith("."):
            if path.name.startswith(publish.STAGING_PREFIX):
                notes.append(f"ignored {path}: the staging folder of a running or interrupted release "
                             "(the next release removes a leftover one)")
            elif (path / "directory.json").exists():
                notes.append(f"ignored {path}: a hidden folder is never a release")
            continue
        if (path / "directory.json").exists():
            folders.append(path)
    return folders, notes


def load_archive(releases_dir: Path) -> list[PublishedRelease]:
    """Every release under ``releases_dir``, oldest (lowest serial) first."""
    if not releases_dir.is_dir():
        raise UsageError(f"{releases_dir}: no releases folder; cut a release first ('directory247 release')")
    folders, _ = archive_folders(releases_dir)
    if not folders:
        raise UsageError(f"{releases_dir}: holds no release; cut one first ('directory247 release')")
    archive = sorted((load_release(f) for f in folders), key=lambda r: r.release.serial)
    serials = [r.release.serial for r in archive]
    if len(set(serials)) != len(serials):
        raise SiteError(f"{releases_dir}: two releases share a serial")
    return archive


# --- 2. staging -------------------------------------------------------------------------

def guides_in(docs_dir: Path) -> tuple[str, ...]:
    return tuple(name for name, _ in GUIDES if (docs_dir / name).is_file())


def _nav(guides: Sequence[str]) -> list[object]:
    nav: list[object] = [{title: page} for title, page in NAV]
    titles = dict(GUIDES)
    if guides:
        nav.append({"Guides": [{titles[g]: g} for g in guides]})
    return nav


def stage_docs(target: Path, docs_dir: Path, pages: dict[str, str]) -> None:
    """The hand-written ``docs/`` plus the generated pages; a guide may not shadow a generated page."""
    if docs_dir.is_dir():
        shutil.copytree(docs_dir, target, symlinks=False)
    else:
        target.mkdir(parents=True)
    for path in sorted(pages):
        out = target / path
        if out.exists():
            raise SiteError(f"{docs_dir / path}: the site generates this page; rename the hand-written one")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(pages[path], encoding="utf-8")


def _yaml(value: object) -> str:
    # JSON is YAML: the staging config needs no YAML writer and stays unambiguous.
    return json.dumps(value, ensure_ascii=True)


def staging_config(base_config: Path, docs: Path, site_dir: Path, guides: Sequence[str], *, versioned: bool) -> str:
    lines = [
        f"INHERIT: {_yaml(str(base_config.resolve()))}",
        f"docs_dir: {_yaml(str(docs))}",
        f"site_dir: {_yaml(str(site_dir))}",
        f"nav: {_yaml(_nav(guides))}",
    ]
    if versioned:
        lines.append(f"extra: {_yaml({'version': {'provider': 'mike', 'default': LATEST}})}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MkDocsRun:
    config: Path
    epoch: int
    #: where this run writes (named in the error when the disk or a limit stops it)
    site_dir: Path | None = None


class MkDocsRunning:
    """The MkDocs subprocesses of one build, so that a failure or SIGTERM stops them all
    at once instead of waiting for each to finish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[str]] = set()
        self._stopped = False

    def start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
        with self._lock:
            if self._stopped:
                raise SiteError("the build was stopped")
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            self._processes.add(process)
            return process

    def finished(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._processes.discard(process)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for process in self._processes:
                process.terminate()


def run_mkdocs(job: MkDocsRun, running: MkDocsRunning | None = None) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(job.epoch))
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(job.config)]
    running = running or MkDocsRunning()
    process = running.start(command, env)
    try:
        output, _ = process.communicate()
    finally:
        running.finished(process)
    if process.returncode == 0:
        return
    where = job.site_dir or job.config.parent
    if process.returncode == -signal.SIGXFSZ:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(where))
    if process.returncode < 0:
        raise SiteError(f"mkdocs build for {job.config.parent.name} was stopped by "
                        f"{signal.Signals(-process.returncode).name}")
    output = output.strip()
    found = list(_OS_ERROR.finditer(output))
    if found:  # the disk or the system stopped it, not the pages: report it as such
        last = found[-1]
        raise OSError(int(last["errno"]), last["cause"], last["path"] or str(where), None, last["target"])
    raise SiteError(f"mkdocs build --strict failed for {job.config.parent.name}:\n{output[-4000:]}")


# --- 3. the offline bundle, from the web build ------------------------------------------

#: What the version selector adds to every page of the web build; the offline bundle has no
#: selector (``versions.json`` cannot be fetched from file://). Each must occur exactly once in
#: every page, or the build stops: tests/test_site.py checks the result byte for byte against
#: a real MkDocs build without the selector.
SELECTOR_EDITS: tuple[tuple[bytes, bytes], ...] = (
    (b', "version": {"default": "latest", "provider": "mike"}}</script>', b', "version": null}</script>'),
    (b'      <div data-md-color-scheme="default" data-md-component="outdated" hidden>\n        \n      </div>\n    \n',
     b""),
)


def offline_page(data: bytes, name: str) -> bytes:
    """A page of the web build as the offline build makes it: the version selector taken out."""
    for web, offline in SELECTOR_EDITS:
        if data.count(web) != 1:
            raise SiteError(f"{name}: the page does not have the expected version selector markup once; "
                            "the theme changed, update SELECTOR_EDITS in site.py")
        data = data.replace(web, offline)
    return data


def offline_files(web_build: Path) -> Iterator[tuple[str, bytes]]:
    """The offline bundle's files of one version (Material's offline plugin is on in every build,
    so the search index is already inlined in ``search/search_index.js``), sorted by name."""
    for path in _files_under(web_build):
        name = path.relative_to(web_build).as_posix()
        data = path.read_bytes()
        yield name, offline_page(data, name) if name.endswith(".html") else data


# --- 4. downloads, bundle, versions -----------------------------------------------------

def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    t = moment.astimezone(dt.UTC)
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


def _files_under(root: Path) -> Iterable[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def write_zip(files: Iterable[tuple[str, bytes]], target: Path, *, top: str, moment: dt.datetime) -> None:
    """Deterministic zip of ``(name, data)`` under folder ``top``: names in the order given (sorted
    by the callers), fixed times and modes."""
    stamp = _zip_time(moment)
    with publish.naming(target), zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                                                 compresslevel=ZIP_LEVEL) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=ZIP_LEVEL)


def redirect_page(target: str, label: str) -> str:
    """A static page that sends the reader on (works without scripts and from file://)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{label}</title>\n<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"
        f"<link rel=\"canonical\" href=\"{target}\">\n</head>\n<body>\n"
        f"<p><a href=\"{target}\">{label}</a></p>\n</body>\n</html>\n"
    )


def versions_json(archive: Sequence[PublishedRelease]) -> bytes:
    """mike's ``versions.json``: newest first, the newest aliased ``latest``."""
    newest = archive[-1].version
    items = [{"version": r.version, "title": r.version, "aliases": [LATEST] if r.version == newest else []}
             for r in reversed(archive)]
    return (json.dumps(items, indent=2) + "\n").encode("utf-8")


def copy_downloads(archive: Sequence[PublishedRelease], releases_dir: Path, target: Path) -> None:
    for item in archive:
        folder = target / item.version
        folder.mkdir(parents=True, exist_ok=True)
        for name in item.files:
            shutil.copyfile(releases_dir / item.version / name, folder / name)


def _link_or_copy(source: str, target: str) -> None:
    """``latest/`` holds the same files as the newest version: hard links where the file
    system has them (the bytes are the same; a copy of the site copies them as files)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# --- 5. the swap ------------------------------------------------------------------------

def _check_replaceable(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError(f"{out}: not a site built by directory247 (no {MARKER}); "
                         "refusing to replace it, choose another --out")


def _old_prefix(out: Path) -> str:
    return f".{out.name}.old-"


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.staging-"


def swap_in(staged: Path, out: Path) -> None:
    """Replace ``out`` by ``staged`` with renames on one file system; the old site is removed after.

    If the second rename fails or is interrupted (SIGTERM), the old site is put back. A
    SIGKILL between the renames leaves ``.<out>.old-*`` without ``<out>``: the next build
    puts it back first (``recover_out``).
    """
    if not out.exists():
        os.replace(staged, out)
        return
    old = out.with_name(f"{_old_prefix(out)}{os.getpid()}")
    if old.exists():
        shutil.rmtree(old)
    try:
        os.replace(out, old)
        os.replace(staged, out)
    except BaseException:
        # Checked on disk rather than with a flag: a signal may arrive between a rename and
        # any statement after it.
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    # The new site is in place; an old one that cannot be removed now goes at the next build.
    shutil.rmtree(old, ignore_errors=True)


def recover_out(out: Path) -> list[str]:
    """Repair what an interrupted build left beside ``out``; one note per repair.

    Call only holding the lock of ``out.parent`` (``publish.exclusive`` yielded True).
    """
    notes = []
    olds = sorted((p for p in out.parent.glob(f"{_old_prefix(out)}*") if p.is_dir() and not p.is_symlink()),
                  key=lambda p: p.stat().st_mtime)
    if olds and not out.exists() and not out.is_symlink():
        os.replace(olds[-1], out)  # the most recent site, moved aside by a build killed mid-swap
        notes.append(f"put back {out} from {olds[-1].name}: a build was interrupted while swapping the site in")
    notes += publish.remove_leftovers(out.parent, (_staging_prefix(out), _old_prefix(out)), work="site build")
    return notes


# --- the pipeline -----------------------------------------------------------------------

def build_site(out: Path, releases_dir: Path, *, docs_dir: Path, base_config: Path, jobs: int = 2,
               check_release: Callable[[Path], object] | None = None) -> BuildResult:
    """Build the site; ``check_release(folder)`` (the CLI passes signature verification with
    the pinned release key) runs on every release folder first and raises to refuse one."""
    started = time.monotonic()
    out = out.absolute()
    if not releases_dir.is_dir():
        raise UsageError(f"{releases_dir}: no releases folder; cut a release first ('directory247 release')")
    with publish.exclusive(out.parent, work="a site build") as first:
        notes = recover_out(out) if first else []
        _check_replaceable(out)
        notes += archive_folders(releases_dir)[1]
        if check_release is not None:
            for folder in sorted(p for p in releases_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                check_release(folder)
        archive = load_archive(releases_dir)
        _build(out, releases_dir, archive, docs_dir=docs_dir, base_config=base_config, jobs=jobs)
    return BuildResult(out=out, versions=tuple(r.version for r in archive), seconds=time.monotonic() - started,
                       notes=tuple(notes))


def _write(path: Path, data: bytes) -> None:
    with publish.naming(path):
        path.write_bytes(data)


def _build(out: Path, releases_dir: Path, archive: Sequence[PublishedRelease], *, docs_dir: Path,
           base_config: Path, jobs: int) -> None:
    """Build every release into a staging folder beside ``out`` and swap it in."""
    guides = guides_in(docs_dir)
    with publish.naming(out.parent):
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(out), dir=out.parent))
    try:
        site_root = staging / "site"
        work = staging / "work"
        site_root.mkdir()
        runs: list[MkDocsRun] = []
        for index, item in enumerate(archive):
            docs = work / item.version / "docs"
            stage_docs(docs, docs_dir, render_pages(archive[: index + 1], guides=guides))
            config = work / item.version / "mkdocs.yml"
            _write(config, staging_config(base_config, docs, site_root / item.version, guides,
                                          versioned=True).encode("utf-8"))
            runs.append(MkDocsRun(config=config, epoch=int(item.release.released.timestamp()),
                                  site_dir=site_root / item.version))
        running = MkDocsRunning()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            try:
                list(pool.map(lambda job: run_mkdocs(job, running), runs))
            except BaseException:
                running.stop()  # one failed, or SIGTERM: the others need not finish
                raise

        downloads = site_root / "downloads"
        copy_downloads(archive, releases_dir, downloads)
        for item in archive:
            title = f"Directory of 24/7 contact points, release {item.version}"
            bundle = [(f"{item.version}/{name}", data) for name, data in offline_files(site_root / item.version)]
            bundle += [(f"downloads/{item.version}/{name}", (releases_dir / item.version / name).read_bytes())
                       for name in item.files]
            bundle.append(("index.html", redirect_page(f"{item.version}/index.html", title).encode("utf-8")))
            write_zip(sorted(bundle), downloads / bundle_name(item.version),
                      top=f"directory247-site-{item.version}", moment=item.release.released)

        newest = archive[-1].version
        shutil.copytree(site_root / newest, site_root / LATEST, copy_function=_link_or_copy)
        _write(site_root / "versions.json", versions_json(archive))
        _write(site_root / "index.html",
               redirect_page(f"{LATEST}/index.html", "Directory of 24/7 contact points").encode("utf-8"))
        _write(site_root / MARKER, f"built by directory247 from release {newest}\n".encode())
        swap_in(site_root, out)
    except OSError as error:
        if error.filename is None and not isinstance(error, shutil.Error):
            error.filename = str(staging)  # at least the disk it happened on
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


__all__ = ["BuildResult", "SiteError", "archive_folders", "build_site", "load_archive", "load_release"]
