"""End-user verification of a downloaded release folder: the core of ``directory247 verify``.

``verify_release`` accepts a release folder only when ALL of these hold, checked in this
order, and otherwise raises ``ReleaseError`` (or ``SignatureError``) whose message is one
line starting with the file at fault:

1. ``manifest.json`` and ``manifest.json.asc`` are regular files of sane size;
2. ``manifest.json.asc`` passes the whole signature policy of ``trust.verify`` with the
   pinned release-key fingerprint as the ONLY allowed signer; the key material given is used
   only as a carrier for that fingerprint, so a swapped key file cannot help;
3. the manifest parses, names the pinned key as its ``release_key``, claims a validity
   (``expires`` minus ``released``) no longer than the network's policy allows
   (``pinned.MAX_RELEASE_VALIDITY``: a release key cannot make one release live for years),
   is not released in the future and has not expired (freeze protection: a mirror that
   keeps serving an old release is caught within the validity period);
4. it is not older than the newest release this user verified before (rollback
   protection; remembered per release key in the state folder), unless the caller
   deliberately accepts a reset;
5. the folder holds exactly ``manifest.expected_names``: nothing missing, nothing extra,
   every one a regular file (never a symbolic link);
6. every listed file has the listed size (all sizes before any hash, so a file is never
   read past what the signed manifest promises), then the listed SHA-256;
7. every listed file that has a signature passes the same policy as the manifest.

Only after all of that is the state folder updated. Nothing is trusted before step 2: the
manifest is not even parsed until its signature verified.

The clock (docs/adr/0005-clock-model.md): a user's download is judged at the real time. An
archived release (``verify_archived``: the gate, ``release`` and ``build`` reading earlier
releases) is judged at the real time while it is valid, and after that at the last moment
it was valid: its signatures must have been made before it expired, and its expiry says
nothing about whether it is genuine. The release time in the manifest (``released``, which
``SOURCE_DATE_EPOCH`` may set in the past) is never used as "now" for its own signatures,
which carry the real time at which they were made.

``examine_archived`` applies the same checks but reports every offending file of a folder
instead of stopping at the first (the gate's view of a release folder in a pull request).

Not owned here: where the pinned fingerprint comes from (``pinned`` or the caller), printing,
exit codes. Unsafe, and therefore never done: using the user's GnuPG keyring (a key the
user happens to hold proves nothing), following symbolic links inside the release folder,
lowering the remembered version without an explicit request.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import pinned
from ..entry.model import timestamp
from ..errors import DirectoryError, ReleaseError, TrustError, UsageError
from ..trust import FUTURE_TOLERANCE, verify
from . import manifest as manifests
from .last_seen import LastSeen, check_rollback, read_last_seen, remember
from .manifest import MANIFEST, MANIFEST_SIGNATURE, Manifest

#: The file a release ships its public release key in (the default key for ``verify``).
RELEASE_KEY_FILE = "release-key.asc"
#: A detached signature of one packet is a few hundred bytes; anything huge is not one.
MAX_SIGNATURE_BYTES = 64 * 1024
#: A public key file with a few subkeys and signatures stays far below this.
MAX_KEY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class VerifiedRelease:
    """A release folder that passed every check."""

    folder: Path
    manifest: Manifest
    previous: LastSeen | None  # what the user had verified before, if remembered

    @property
    def version(self) -> str:
        return self.manifest.version


def release_folder(path: Path) -> Path:
    """The release folder named by ``path``: the folder itself, its ``manifest.json``, or a
    release archive (a folder of release folders), whose newest release by serial is meant.

    The newest is found from the folders themselves, never from an index file; whichever
    folder that is, it is verified in full afterwards, so a forged folder claiming a higher
    serial makes verification fail instead of being skipped."""
    if path.is_dir():
        if (path / MANIFEST).exists() or (path / MANIFEST).is_symlink():
            return path
        newest = _newest_in_archive(path)
        return newest if newest is not None else path
    if path.name == MANIFEST and (path.is_file() or path.is_symlink()):
        return path.parent
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path}: no such file or folder")
    raise UsageError(f"{path}: give a release folder or its {MANIFEST}")


def _newest_in_archive(archive: Path) -> Path | None:
    """The release folder of ``archive`` whose manifest names the highest serial, if any."""
    from .archive import published_versions  # the archive reading verifies through this module

    try:
        newest = published_versions(archive)
    except OSError as error:
        raise ReleaseError(f"{archive}: cannot be listed ({error.strerror})") from None
    return archive / newest[-1].version if newest else None


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _read(folder: Path, name: str, limit: int) -> bytes:
    """Read a regular file of the release, at most ``limit`` bytes, never through a link."""
    path = folder / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ReleaseError(f"{name}: missing") from None
    except OSError as error:
        raise ReleaseError(f"{name}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ReleaseError(f"{name}: is {_kind(info.st_mode)}; a release holds regular files only")
    if info.st_size > limit:
        raise ReleaseError(f"{name}: is {info.st_size} bytes, more than the {limit} expected")
    try:
        # O_NOFOLLOW: the file may have been swapped for a link since lstat.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise ReleaseError(f"{name}: cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise ReleaseError(f"{name}: grew while it was read")
    return data


def _listing(folder: Path) -> dict[str, int]:
    """Every name in the folder with its mode (not following links)."""
    try:
        with os.scandir(folder) as found:
            return {item.name: item.stat(follow_symlinks=False).st_mode for item in found}
    except OSError as error:
        raise ReleaseError(f"{folder}: cannot be listed ({error.strerror})") from None


def _signature(data: bytes, signature: bytes, *, key: bytes, fingerprint: str, now: dt.datetime,
               label: str, key_label: str) -> None:
    try:
        verify(data, signature, keys=[key], allowed={fingerprint}, now=now, label=label)
    except TrustError as error:
        # The key file is broken or is not a public key: say which file, not "authorised key #1".
        raise ReleaseError(f"{key_label}: cannot be used as the release key ({error})") from None


def archive_moment(manifest: Manifest, now: dt.datetime) -> dt.datetime:
    """When an archived release is judged: ``now`` while it is valid, else the last moment it
    was valid (see the module docstring)."""
    # No clock-skew tolerance past the end: a signature dated after the release expired,
    # even by a minute, was not made while it was valid.
    return min(now, manifest.expires - FUTURE_TOLERANCE - dt.timedelta(seconds=1))


def verify_archived(folder: Path, *, release_key: bytes | None, fingerprint: str,
                    now: dt.datetime | None = None,
                    max_validity: dt.timedelta = pinned.MAX_RELEASE_VALIDITY) -> VerifiedRelease:
    """Verify an archived release as it stood while it was valid: every signature, size and
    hash, judged at ``archive_moment`` (an old release has expired since, which says nothing
    about whether it is genuine). For the pipeline reading earlier releases, never instead
    of ``verify_release`` for a user's download. ``now`` defaults to the real time."""
    data = _read(folder, MANIFEST, manifests.MAX_MANIFEST_BYTES)
    moment = archive_moment(manifests.parse(data), now or dt.datetime.now(dt.UTC))
    return verify_release(folder, release_key=release_key, fingerprint=fingerprint, now=moment,
                          max_validity=max_validity)


@dataclass(frozen=True)
class ReleaseFinding:
    """One offending file of a release folder: its name in the folder and what is wrong."""

    name: str
    message: str


def _finding(folder: Path, error: DirectoryError) -> ReleaseFinding:
    # Every message of this module starts with the file at fault ("manifest.json: ...").
    name, sep, rest = str(error).partition(": ")
    if sep and manifests.is_plain_name(name):
        return ReleaseFinding(name, rest)
    return ReleaseFinding("", str(error))


def examine_archived(folder: Path, *, release_key: bytes | None, fingerprint: str,
                     now: dt.datetime | None = None,
                     max_validity: dt.timedelta = pinned.MAX_RELEASE_VALIDITY) -> list[ReleaseFinding]:
    """Every offending file of an archived release folder, judged as ``verify_archived``
    judges it; empty when the folder is a genuine release. When the manifest itself cannot
    be trusted, that is the one finding: nothing else can be judged without it."""
    try:
        data = _read(folder, MANIFEST, manifests.MAX_MANIFEST_BYTES)
        moment = archive_moment(manifests.parse(data), now or dt.datetime.now(dt.UTC))
        pinned_fpr, key, key_label = _release_key(folder, release_key, fingerprint, RELEASE_KEY_FILE)
        manifest = _trusted_manifest(folder, key=key, pinned=pinned_fpr, now=moment, key_label=key_label,
                                     max_validity=max_validity)
    except DirectoryError as error:
        return [_finding(folder, error)]
    findings: list[ReleaseFinding] = []
    _check_files(folder, manifest, key=key, pinned=pinned_fpr, now=moment, key_label=key_label,
                 report=lambda error: findings.append(_finding(folder, error)))
    return findings


def _release_key(folder: Path, release_key: bytes | None, fingerprint: str,
                 key_label: str) -> tuple[str, bytes, str]:
    """``(pinned fingerprint, key material, its label)``; the material only carries the
    pinned fingerprint, so the copy shipped in the folder is as good as any."""
    pinned_fpr = fingerprint.replace(" ", "").upper()
    if release_key is None:
        if not (folder / RELEASE_KEY_FILE).exists() and not (folder / RELEASE_KEY_FILE).is_symlink():
            raise ReleaseError(f"{RELEASE_KEY_FILE}: missing; the release folder is incomplete, download it again")
        release_key, key_label = _read(folder, RELEASE_KEY_FILE, MAX_KEY_BYTES), RELEASE_KEY_FILE
    if len(release_key) > MAX_KEY_BYTES:
        raise ReleaseError(f"{key_label}: is larger than {MAX_KEY_BYTES} bytes; not a release key")
    return pinned_fpr, release_key, key_label


def check_validity(manifest: Manifest, max_validity: dt.timedelta) -> None:
    """The network's cap on how long one release may claim to be valid (point 3 above)."""
    claimed = manifest.expires - manifest.released
    if claimed > max_validity:
        raise ReleaseError(
            f"{MANIFEST}: claims to be valid for {_days(claimed)} (released {timestamp(manifest.released)}, "
            f"expires {timestamp(manifest.expires)}), longer than the {_days(max_validity)} this network's policy "
            "allows; a release claiming more could keep users on old data, so it is refused")


def _days(span: dt.timedelta) -> str:
    days = span / dt.timedelta(days=1)
    return f"{days:g} days" if days == int(days) else f"{days:.1f} days"


def _trusted_manifest(folder: Path, *, key: bytes, pinned: str, now: dt.datetime, key_label: str,
                      max_validity: dt.timedelta) -> Manifest:
    """Steps 1-3: the manifest, only once its signature verified with the pinned key."""
    manifest_data = _read(folder, MANIFEST, manifests.MAX_MANIFEST_BYTES)
    manifest_signature = _read(folder, MANIFEST_SIGNATURE, MAX_SIGNATURE_BYTES)
    _signature(manifest_data, manifest_signature, key=key, fingerprint=pinned, now=now,
               label=MANIFEST, key_label=key_label)
    manifest = manifests.parse(manifest_data)
    if manifest.release_key != pinned:
        raise ReleaseError(f"{MANIFEST}: names release key {manifest.release_key}, not the pinned {pinned}")
    check_validity(manifest, max_validity)
    if manifest.released > now + FUTURE_TOLERANCE:
        raise ReleaseError(f"{MANIFEST}: is released in the future ({timestamp(manifest.released)}, "
                           f"now is {timestamp(now)}); check this computer's clock")
    if manifest.expires <= now:
        raise ReleaseError(f"{MANIFEST}: release {manifest.version} expired on {timestamp(manifest.expires)}; "
                           "fetch the latest release (an expired one may hide newer changes)")
    return manifest


def _raise(error: DirectoryError) -> None:
    raise error


def _check_files(folder: Path, manifest: Manifest, *, key: bytes, pinned: str, now: dt.datetime, key_label: str,
                 report: Callable[[DirectoryError], None] = _raise) -> None:
    """Steps 5-7. ``report`` hears each failure; the default raises at the first."""
    listing = _listing(folder)
    try:
        manifests.check_names(manifest, listing)
    except ReleaseError as error:
        report(error)
        for problem in manifests.name_problems(manifest, listing)[1:]:
            report(problem)
    unreadable: set[str] = set()
    for name in sorted(manifests.expected_names(manifest)):
        if name in listing and not stat.S_ISREG(listing[name]):
            unreadable.add(name)
            report(ReleaseError(f"{name}: is {_kind(listing[name])}; a release holds regular files only"))
    unreadable |= set(manifests.expected_names(manifest)) - set(listing)
    for record in manifest.files:
        if record.name in unreadable:
            continue
        try:
            size = (folder / record.name).lstat().st_size
            manifests.check_size(record, size)
        except OSError as error:  # removed since it was listed
            unreadable.add(record.name)
            report(ReleaseError(f"{record.name}: cannot be read ({error.strerror})"))
        except ReleaseError as error:
            unreadable.add(record.name)
            report(error)
    contents: dict[str, bytes] = {}
    for record in manifest.files:
        if record.name in unreadable:
            continue
        try:
            contents[record.name] = _read(folder, record.name, record.bytes)
            manifests.check_content(record, contents[record.name])
        except ReleaseError as error:
            contents.pop(record.name, None)
            report(error)
    for record in manifest.files:
        if record.signature and record.name in contents and record.signature not in unreadable:
            try:
                signature = _read(folder, record.signature, MAX_SIGNATURE_BYTES)
                _signature(contents[record.name], signature, key=key, fingerprint=pinned, now=now,
                           label=record.name, key_label=key_label)
            except DirectoryError as error:
                report(error)


def verify_release(
    folder: Path,
    *,
    release_key: bytes | None,
    fingerprint: str,
    now: dt.datetime,
    key_label: str = RELEASE_KEY_FILE,
    state_dir: Path | None = None,
    accept_rollback: bool = False,
    max_validity: dt.timedelta = pinned.MAX_RELEASE_VALIDITY,
) -> VerifiedRelease:
    """Verify ``folder`` as described in the module docstring; return what it proves.

    ``release_key`` is the public key material (armored or binary), or None to use the
    ``release-key.asc`` shipped in the folder; ``fingerprint`` is the pinned primary
    fingerprint, ``now`` an aware datetime, ``max_validity`` the longest validity a release
    may claim. With ``state_dir`` the rollback check applies and a success is remembered
    there; without it (the release pipeline checking its own staging folder) neither happens.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    pinned_fpr, key, key_label = _release_key(folder, release_key, fingerprint, key_label)
    manifest = _trusted_manifest(folder, key=key, pinned=pinned_fpr, now=now, key_label=key_label,
                                 max_validity=max_validity)
    last = read_last_seen(state_dir, pinned_fpr) if state_dir is not None else None
    if not accept_rollback:
        check_rollback(manifest, last)
    _check_files(folder, manifest, key=key, pinned=pinned_fpr, now=now, key_label=key_label)

    if state_dir is not None:
        try:
            remember(state_dir, pinned_fpr, LastSeen.of(manifest), allow_lower=accept_rollback)
        except OSError as error:
            # Verified, but the next run could not detect a rollback: do not pretend otherwise.
            raise ReleaseError(f"{state_dir}: cannot remember the verified version ({error.strerror}); "
                               "give a writable folder with --state-dir") from None
    return VerifiedRelease(folder=folder, manifest=manifest, previous=last)
