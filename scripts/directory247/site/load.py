"""The published releases as the site reads them: every release folder, checked, oldest first.

Pages are made from released data only (``directory.json`` through ``json_export.parse``,
``changes.json``, ``manifest.json``, ``reachability.json`` where the release has it), never
from the YAML under review. Hidden folders in the archive (a release's staging folder) are
never read as releases, only noted.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import publish
from ..errors import DirectoryError, UsageError
from ..formats import json_export
from ..release.reachability_results import read_published
from .pages.published import PublishedRelease, parse_changes, parse_manifest

VERSION_FORM = re.compile(r"[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,4}")


FILE_NAME_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class SiteError(DirectoryError):
    """The site could not be built from the releases as they are."""


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
        if path.is_symlink():
            raise SiteError(f"{path}: is a symbolic link; a release folder and the files beside it are never links")
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


LATEST = "latest"
