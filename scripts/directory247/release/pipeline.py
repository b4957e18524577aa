"""Cutting a release: accepted entries in, one signed, verified, append-only folder out.

The pipeline, in order (``cut_release``)::

    next version -> Release model -> render exports -> read every export back and compare
    (nothing lost) -> SHA256SUMS + manifest -> staging folder -> manifest checked both ways
    -> sign -> verify the staging folder exactly as a user would -> one rename into
    releases/<version>/ -> rewrite releases/index.json and releases/feed.atom

A release folder holds ``default_exports()`` (directory.json, directory.csv, directory.vcf,
changes.json, datapackage.json, reminders.ics, reachability.json), ``release-key.asc``,
``SHA256SUMS`` (for users with only gpg and ``sha256sum``), ``manifest.json``, and a detached
``.asc`` by the release key for the manifest, every export and SHA256SUMS
(``manifest.expected_names`` is the exact rule).

A failure anywhere before the rename leaves no trace: the staging folder is removed and
earlier releases are never touched. ``releases/index.json`` and ``releases/feed.atom`` are
derived from the published folders, so they can always be rebuilt (``refresh_index``).

Versions are ``YYYY.MM.N`` (N counts the releases of that month, from 1) with an integer
``serial`` that grows by one per release; both only ever increase. A release expires
``VALIDITY`` (45 days) after it is released, so users notice a directory that stopped being
published (freeze protection): the Secretariat must cut a release at least that often, even
when nothing changed.

Reproducible: the exports and the manifest are a pure function of the entries, their
signers, the previous release, the reachability records and the release time
(``SOURCE_DATE_EPOCH`` in the command). Only the ``.asc`` signatures differ between two builds.

Not owned here: deciding which entries are accepted (``gate.check.run_check``), where the
secret key lives (the ``sign`` callable), printing. This module never prints or exits.
Unsafe, and therefore refused: publishing over an existing version, publishing a folder
that was not verified with the release key, and trusting a writer's output unread.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pinned, publish
from ..entry.model import Entry, Release, Signer, timestamp
from ..errors import ReleaseError
from ..formats import changelog, csv_export, datapackage, icalendar, json_export, reachability_export, vcard
from ..formats.export import Build, Export
from ..freshness.reachability import Reachability
from ..trust import FUTURE_TOLERANCE
from . import manifest as manifests
from .archive import refresh_index
from .manifest import MANIFEST, SIGNATURE_SUFFIX, Manifest
from .verify import RELEASE_KEY_FILE, verify_release

if TYPE_CHECKING:
    from ..progress import Progress

#: How long a release stays valid; see the module docstring (freeze protection).
VALIDITY = pinned.RELEASE_VALIDITY
CHANGES = changelog.NAME
CHECKSUMS = "SHA256SUMS"
REMINDERS = icalendar.NAME
_PUBLIC_KEY = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"

Sign = Callable[[bytes], bytes]


@dataclass(frozen=True)
class PublishedRelease:
    folder: Path
    manifest: Manifest


# --------------------------------------------------------------------------- versions


def next_version(previous: Release | None, released: dt.datetime) -> tuple[str, int]:
    """``(version, serial)`` of the release after ``previous``, released at ``released``."""
    year, month = released.astimezone(dt.UTC).year, released.astimezone(dt.UTC).month
    if previous is None:
        return f"{year:04d}.{month:02d}.1", 1
    if released < previous.released:
        raise ReleaseError(f"the release time {timestamp(released)} is before release {previous.version} "
                           f"({timestamp(previous.released)}); check the clock or SOURCE_DATE_EPOCH")
    last_year, last_month, number = manifests.version_key(previous.version)
    number = number + 1 if (year, month) == (last_year, last_month) else 1
    return f"{year:04d}.{month:02d}.{number}", previous.serial + 1


# --------------------------------------------------------------------------- exports


# --------------------------------------------------------------------------- pipeline


def _check_inputs(accepted: Sequence[tuple[Entry, Signer]], released: dt.datetime, now: dt.datetime,
                  release_key: bytes, fingerprint: str) -> None:
    if released.tzinfo is None or now.tzinfo is None:
        raise ValueError("released and now must be timezone-aware")
    if released > now + FUTURE_TOLERANCE:
        raise ReleaseError(f"the release time {timestamp(released)} is in the future (now is {timestamp(now)}); "
                           "check the clock or SOURCE_DATE_EPOCH")
    if released + VALIDITY <= now + FUTURE_TOLERANCE:
        raise ReleaseError(f"the release time {timestamp(released)} is so long ago that the release would "
                           f"already have expired ({VALIDITY.days} days); check SOURCE_DATE_EPOCH")
    if VALIDITY > pinned.MAX_RELEASE_VALIDITY:
        raise ReleaseError(f"a release valid for {VALIDITY.days} days exceeds the network's cap of "
                           f"{pinned.MAX_RELEASE_VALIDITY.days} days; users' verify would refuse it")
    if not accepted:
        raise ReleaseError("no accepted entries; a release needs at least one")
    codes = [entry.code for entry, _ in accepted]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ReleaseError(f"entry {duplicates[0]} was accepted twice")
    if not release_key.lstrip().startswith(_PUBLIC_KEY):
        raise ReleaseError("the release key must be an armored public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)")
    if not re.fullmatch(r"[0-9A-F]{40}|[0-9A-F]{64}", fingerprint):
        raise ReleaseError(f"release key fingerprint {fingerprint!r} is not upper-case hex")


def build_release(accepted: Sequence[tuple[Entry, Signer]], previous: Release | None, released: dt.datetime,
                  fingerprint: str) -> Release:
    """The ``Release`` model of the next version (pure)."""
    version, serial = next_version(previous, released)
    pairs = sorted(accepted, key=lambda pair: pair[0].code)
    released = released.astimezone(dt.UTC).replace(microsecond=0)
    return Release(
        version=version, serial=serial, released=released, expires=released + VALIDITY,
        entries=tuple(entry for entry, _ in pairs),
        signers=tuple((entry.code, signer) for entry, signer in pairs),
        release_key=fingerprint,
    )


def default_exports() -> tuple[Export, ...]:
    """Every export of a release, in the order they are rendered (datapackage after the
    exports it describes); each format module holds its writer and its read-back."""
    return (json_export.EXPORT, csv_export.EXPORT, vcard.EXPORT, changelog.EXPORT, datapackage.EXPORT,
            icalendar.EXPORT, reachability_export.EXPORT)


def render_release(release: Release, previous: Release | None, release_key: bytes,
                   exports: Sequence[Export], reachability: Reachability | None = None,
                   progress: Progress | None = None) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """Every file of the release but its signatures: ``(files, names to sign)`` (pure).

    Each export is read back and compared before anything is written or signed.
    """
    files: dict[str, bytes] = {}
    for done, export in enumerate(exports):
        if progress is not None:
            progress("rendering and reading back exports", done, len(exports))
        if export.name in files or export.name in (MANIFEST, RELEASE_KEY_FILE, CHECKSUMS):
            raise ValueError(f"export {export.name} is defined twice")
        try:
            data = export.render(Build(release, previous, dict(files), reachability or Reachability()))
        except ValueError as error:  # a value the format cannot carry: refuse, never publish half
            raise ReleaseError(f"{export.name}: cannot be written ({error}); fix the entry, nothing was "
                               "released") from None
        if export.read_back is not None:
            export.read_back(Build(release, previous, dict(files), reachability or Reachability()), data)
        files[export.name] = data
    if progress is not None:
        progress("rendering and reading back exports", len(exports), len(exports))
    # The key travels with the release for convenience only: verification pins its fingerprint.
    files[RELEASE_KEY_FILE] = release_key
    files[CHECKSUMS] = render_checksums(files)
    signed = (*(export.name for export in exports), CHECKSUMS)
    manifest = manifests.build(
        version=release.version, serial=release.serial, released=release.released, expires=release.expires,
        release_key=release.release_key or "", demo=release.demo, files=files, signed=signed,
    )
    files[MANIFEST] = manifests.render(manifest)
    return files, signed


def render_checksums(files: Mapping[str, bytes]) -> bytes:
    """``SHA256SUMS``: the same digests as the manifest, in the format ``sha256sum -c`` reads,
    so a user with nothing but gpg and coreutils can check a release (docs/verify.md)."""
    return "".join(f"{manifests.digest(data)}  {name}\n" for name, data in sorted(files.items())).encode("ascii")


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def cut_release(
    *,
    accepted: Sequence[tuple[Entry, Signer]],
    previous: Release | None,
    released: dt.datetime,
    now: dt.datetime,
    sign: Sign,
    release_key: bytes,
    release_fingerprint: str,
    releases_dir: Path,
    exports: Sequence[Export] | None = None,
    reachability: Reachability | None = None,
    progress: Progress | None = None,
) -> PublishedRelease:
    """Build, sign, verify and publish the next release into ``releases_dir/<version>/``.

    ``accepted`` are the entries the gate accepted with who signed each; ``previous`` the
    latest published release (``latest_release``) or None; ``released`` the release time
    (``SOURCE_DATE_EPOCH``); ``now`` the clock the result is verified at; ``sign`` makes a
    detached armored signature with the release key; ``release_key`` is that key's armored
    public key and ``release_fingerprint`` its primary fingerprint; ``reachability`` the
    root-verified records (``freshness.reachability.load_reachability``) whose last test per contact
    point goes into ``reachability.json`` (None: no records, an empty list is published);
    ``progress`` (optional) hears ``(stage, done, total)`` of the long steps.
    """
    fingerprint = release_fingerprint.replace(" ", "").upper()
    _check_inputs(accepted, released, now, release_key, fingerprint)
    release = build_release(accepted, previous, released, fingerprint)
    files, signed = render_release(release, previous, release_key,
                                   default_exports() if exports is None else exports, reachability, progress)
    final = releases_dir / release.version
    if final.exists() or final.is_symlink():
        raise ReleaseError(f"{final}: already exists; a published release is never rewritten")

    with publish.staging(releases_dir) as stage:
        publish.write_files(stage, files)
        # What is on disk, not what we meant to write, is what gets signed.
        on_disk = _read_folder(stage)
        manifest = manifests.parse(on_disk[MANIFEST])
        manifests.check_files(manifest, on_disk, signatures=False)
        signatures = {}
        for done, name in enumerate((*signed, MANIFEST), start=1):
            signatures[name + SIGNATURE_SUFFIX] = sign(on_disk[name])
            if progress is not None:
                progress("signing the release", done, len(signed) + 1)
        publish.write_files(stage, signatures)
        # With the key shipped in the folder, as a user without --keyring would.
        verify_release(stage, release_key=None, fingerprint=fingerprint, now=now)
        publish.publish_folder(stage, final)
    refresh_index(releases_dir)
    return PublishedRelease(folder=final, manifest=manifest)




