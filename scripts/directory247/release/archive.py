"""The release archive (``releases/``): the published folders read for numbering and for the
newest release, and the files derived from them, ``index.json`` and ``feed.atom``.

``published_versions`` reads the manifests without verifying signatures: for numbering and
the index, never for trust. ``latest_release`` verifies the newest folder first when given a
release key. The derived files are a pure function of the folders (``derived_files``); the
gate checks them byte for byte and ``refresh_index`` rewrites them atomically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import publish
from ..entry.model import Release, timestamp
from ..errors import DirectoryError, ReleaseError
from ..formats import atom, changelog, json_export
from ..formats.common import dumps
from . import manifest as manifests
from .manifest import MANIFEST, VERSION_FOLDER, Manifest
from .verify import verify_archived

INDEX = "index.json"
FEED = atom.FEED_NAME



def published_versions(releases_dir: Path) -> list[Manifest]:
    """The manifests of every published release, oldest first (by serial).

    Read from our own archive without verifying signatures: for numbering and the index,
    never for trust. A folder whose manifest cannot be read is an error, not skipped, so a
    damaged archive cannot make a version number be given out twice.
    """
    if not releases_dir.is_dir():
        return []
    found = []
    for folder in sorted(releases_dir.iterdir()):
        if not folder.is_dir() or folder.is_symlink() or not VERSION_FOLDER.fullmatch(folder.name):
            continue
        try:
            data = (folder / MANIFEST).read_bytes()
        except OSError as error:
            raise ReleaseError(f"{folder / MANIFEST}: cannot be read ({error.strerror}); "
                               "the release archive is damaged") from None
        manifest = manifests.parse(data)
        if manifest.version != folder.name:
            raise ReleaseError(f"{folder / MANIFEST}: says version {manifest.version}; the archive is damaged")
        found.append(manifest)
    found.sort(key=lambda m: m.serial)
    serials = [m.serial for m in found]
    if len(set(serials)) != len(serials):
        raise ReleaseError(f"{releases_dir}: two releases share a serial; the archive is damaged")
    return found


def latest_release(releases_dir: Path, *, release_key: bytes | None = None,
                   release_fingerprint: str | None = None, now: dt.datetime | None = None) -> Release | None:
    """The latest published release as a model, or None before the first release; with a
    release fingerprint, only after it verifies as it stood while valid (``verify_archived``
    at ``now``, by default the real time)."""
    published = published_versions(releases_dir)
    if not published:
        return None
    newest = published[-1]
    folder = releases_dir / newest.version
    if release_fingerprint is not None:
        # The previous release feeds the signed changelog of the next: it must be genuine.
        verify_archived(folder, release_key=release_key, fingerprint=release_fingerprint, now=now)
    try:
        data = (folder / "directory.json").read_bytes()
    except OSError as error:
        raise ReleaseError(f"{folder / 'directory.json'}: cannot be read ({error.strerror})") from None
    record = newest.record("directory.json")
    if record is None:
        raise ReleaseError(f"{folder / MANIFEST}: does not list directory.json")
    manifests.check_content(record, data)
    try:
        return json_export.parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{folder / 'directory.json'}: cannot be read ({error})") from None


def newest_release(releases_dir: Path, keys: Mapping[str, bytes | None], *,
                   now: dt.datetime | None = None) -> tuple[Release | None, str | None]:
    """The newest release and, when no key in ``keys`` (fingerprint -> key material, None to
    use the folder's own ``release-key.asc``) verifies it, why not.

    A release signed by a release key that has since been rotated out or revoked is still a
    record of what was published: it is returned (its ``directory.json`` checked against its
    manifest) with the reason, for the caller to note. A damaged folder raises."""
    errors: list[str] = []
    for fingerprint, key in keys.items():
        try:
            return latest_release(releases_dir, release_key=key, release_fingerprint=fingerprint, now=now), None
        except DirectoryError as error:
            errors.append(str(error))
    try:
        release = latest_release(releases_dir)
    except DirectoryError as error:
        newest = published_versions(releases_dir)[-1].version
        raise ReleaseError(f"release {newest} is damaged: {error}") from None
    if release is None:
        return None, None
    reason = errors[0] if errors else "no release key is authorised"
    return release, (f"release {release.version} cannot be verified with an authorised release key ({reason}); "
                     "it still counts as the record of what was published")


def render_index(published: Sequence[Manifest]) -> bytes:
    """``releases/index.json``: every release, newest first, and which one is latest."""
    releases = [{"version": m.version, "serial": m.serial, "released": timestamp(m.released),
                 "expires": timestamp(m.expires), "demo": m.demo}
                for m in sorted(published, key=lambda m: m.serial, reverse=True)]
    return dumps({"latest": releases[0]["version"] if releases else None, "releases": releases})


def derived_files(releases_dir: Path) -> dict[str, bytes]:
    """``index.json`` and ``feed.atom`` as the published folders give them (nothing before the
    first release): derived data, never edited by hand, checked byte for byte by the gate."""
    published = published_versions(releases_dir)
    if not published:
        return {}
    return {INDEX: render_index(published), FEED: render_feed(releases_dir, published)}


def refresh_index(releases_dir: Path) -> bool:
    """Rewrite ``index.json`` and ``feed.atom`` from the published folders (atomically);
    whether anything changed."""
    changed = False
    for name, data in derived_files(releases_dir).items():
        path = releases_dir / name
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        publish.write_atomic(path, data)
        changed = True
    return changed


#: The feed announces the newest releases only: a reader polls it, and an archive of years
#: must not grow it without bound (the gate reads files of at most 4 MiB).
FEED_RELEASES = 100


def render_feed(releases_dir: Path, published: Sequence[Manifest]) -> bytes:
    """``releases/feed.atom``: the newest ``FEED_RELEASES`` releases with their summaries of
    changes (``index.json`` lists them all)."""
    summaries = []
    for manifest in published[-FEED_RELEASES:]:
        record = manifest.record(changelog.NAME)
        if record is None:  # a release without changes.json still gets its entry
            summaries.append(atom.ReleaseSummary(manifest.version, manifest.serial, manifest.released))
            continue
        path = releases_dir / manifest.version / changelog.NAME
        try:
            data = path.read_bytes()
            manifests.check_content(record, data)
            summaries.append(atom.ReleaseSummary.from_changes_json(
                manifest.version, manifest.serial, manifest.released, data))
        except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
            raise ReleaseError(f"{path}: cannot be read for the feed ({error}); the archive is damaged") from None
    return atom.render(summaries, demo=published[-1].demo)
