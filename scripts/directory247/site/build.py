"""The site build pipeline: published releases -> Markdown -> MkDocs -> one folder, swapped in.

Read as a straight pipeline (``build_site``):

1. ``archive.load_archive``: read every ``releases/<version>/`` folder (``directory.json`` through
   ``json_export.parse``, ``changes.json``, ``manifest.json``, and ``reachability.json`` where
   the release has it), oldest release first. Pages are made from released data only, never
   from the YAML under review (nor from ``reachability/tests.yaml``).
2. For each release, ``pages.render_pages`` gives its Markdown; it is written into a staging
   docs folder together with the hand-written guides and assets of ``docs/``, beside a
   staging ``mkdocs.yml`` that INHERITs the project's base config (``mkdocs``).
3. ``mkdocs build --strict`` runs once per release, in subprocesses (two at a time), into
   ``<out>/<version>/``, with Material's offline plugin on (plain ``.html`` URLs, the search
   index also inlined as a script). The offline bundle
   ``downloads/directory247-site-<version>.zip`` is that build with the version selector taken
   out of each page (``bundle.offline_page``), which is byte for byte what MkDocs builds without it.
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

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import publish
from ..errors import UsageError
from .bundle import copy_downloads, link_or_copy, offline_files, redirect_page, versions_json, write_zip
from .load import LATEST, SiteError, archive_folders, load_archive, load_release
from .mkdocs import MkDocsRun, MkDocsRunning, guides_in, run_mkdocs, stage_docs, staging_config
from .pages import render_pages
from .pages.published import PublishedRelease
from .pages.releases import bundle_name

MARKER = ".directory247-site"


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


# --- 2. staging -------------------------------------------------------------------------


# --- 3. the offline bundle, from the web build ------------------------------------------


# --- 4. downloads, bundle, versions -----------------------------------------------------


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
        shutil.copytree(site_root / newest, site_root / LATEST, copy_function=link_or_copy)
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
