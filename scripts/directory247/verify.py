"""End-user verification of a downloaded release folder: the core of ``directory247 verify``.

``verify_release`` accepts a release folder only when ALL of these hold, checked in this
order, and otherwise raises ``ReleaseError`` (or ``SignatureError``) whose message is one
line starting with the file at fault:

1. ``manifest.json`` and ``manifest.json.asc`` are regular files of sane size;
2. ``manifest.json.asc`` passes the whole signature policy of ``signatures.verify`` with the
   pinned release-key fingerprint as the ONLY allowed signer; the key material given is used
   only as a carrier for that fingerprint, so a swapped key file cannot help;
3. the manifest parses, names the pinned key as its ``release_key``, is not released in the
   future and has not expired (freeze protection: a mirror that keeps serving an old
   release is caught within the validity period);
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

Not owned here: where the pinned fingerprint comes from (``pinned`` or the caller), printing,
exit codes. Unsafe, and therefore never done: using the user's GnuPG keyring (a key the
user happens to hold proves nothing), following symbolic links inside the release folder,
lowering the remembered version without an explicit request.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import manifest as manifests
from .errors import ReleaseError, TrustError, UsageError
from .manifest import MANIFEST, MANIFEST_SIGNATURE, Manifest
from .model import parse_timestamp, timestamp
from .publish import write_atomic
from .signatures import FUTURE_TOLERANCE, verify
from .writers.json_export import dumps

#: The file a release ships its public release key in (the default key for ``verify``).
RELEASE_KEY_FILE = "release-key.asc"
#: Where a user's last verified release is remembered, inside the state folder.
STATE_FILE = "last-verified.json"
#: A detached signature of one packet is a few hundred bytes; anything huge is not one.
MAX_SIGNATURE_BYTES = 64 * 1024
#: A public key file with a few subkeys and signatures stays far below this.
MAX_KEY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LastSeen:
    """The newest release a user verified for one release key."""

    version: str
    serial: int
    released: dt.datetime

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "serial": self.serial, "released": timestamp(self.released)}

    @classmethod
    def of(cls, manifest: Manifest) -> LastSeen:
        return cls(manifest.version, manifest.serial, manifest.released)


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
    """The release folder named by ``path``: the folder itself or its ``manifest.json``."""
    if path.is_dir():
        return path
    if path.name == MANIFEST and (path.is_file() or path.is_symlink()):
        return path.parent
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path}: no such file or folder")
    raise UsageError(f"{path}: give a release folder or its {MANIFEST}")


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/directory247``, else ``~/.local/state/directory247`` (XDG spec)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative path in the variable is invalid and must be ignored.
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "directory247"


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


def read_last_seen(state_dir: Path, fingerprint: str) -> LastSeen | None:
    """What this user verified last for the release key ``fingerprint``, if anything."""
    remembered = _read_state(state_dir).get(fingerprint)
    if remembered is None:
        return None
    try:
        serial = remembered["serial"]
        if not isinstance(serial, int) or isinstance(serial, bool):
            raise TypeError("serial is not an integer")
        return LastSeen(str(remembered["version"]), serial, parse_timestamp(str(remembered["released"])))
    except (KeyError, TypeError, ValueError):
        raise ReleaseError(f"{state_dir / STATE_FILE}: is damaged; remove it to start afresh "
                           "(rollback protection restarts from the next release verified)") from None


def _read_state(state_dir: Path) -> dict[str, dict[str, object]]:
    path = state_dir / STATE_FILE
    try:
        state = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ReleaseError(f"{path}: cannot be read; remove it to start afresh "
                           "(rollback protection restarts from the next release verified)") from None
    if not isinstance(state, dict) or not all(isinstance(v, dict) for v in state.values()):
        raise ReleaseError(f"{path}: is damaged; remove it to start afresh")
    return state


def remember(state_dir: Path, fingerprint: str, seen: LastSeen, *, allow_lower: bool = False) -> None:
    """Record ``seen`` as the newest release verified for ``fingerprint``.

    Read again just before writing, so a concurrent ``verify`` of a newer release is not
    overwritten by an older one (unless ``allow_lower``: a deliberate reset).
    """
    state = _read_state(state_dir)
    current = state.get(fingerprint)
    if current is not None and not allow_lower:
        serial = current.get("serial")
        if isinstance(serial, int) and serial > seen.serial:
            return
    state[fingerprint] = seen.to_dict()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(state_dir / STATE_FILE, dumps(dict(sorted(state.items()))))


def _check_rollback(manifest: Manifest, last: LastSeen | None) -> None:
    if last is None:
        return
    same = manifest.serial == last.serial and manifest.version == last.version
    newer = manifest.serial > last.serial and manifest.version_key >= manifests.version_key(last.version)
    if not (same or newer):
        raise ReleaseError(
            f"{MANIFEST}: version {manifest.version} (serial {manifest.serial}) is not newer than version "
            f"{last.version} (serial {last.serial}) verified before; this may be an old release replayed "
            "(accept it only after a deliberate reset of the directory, with --accept-rollback)"
        )


def verify_archived(folder: Path, *, release_key: bytes | None, fingerprint: str) -> VerifiedRelease:
    """Verify an archived release as it stood when it was published: every signature, size
    and hash, judged at its own release time (an old release has expired since, which says
    nothing about whether it is genuine). For the pipeline reading earlier releases, never
    instead of ``verify_release`` for a user's download."""
    data = _read(folder, MANIFEST, manifests.MAX_MANIFEST_BYTES)
    released = manifests.parse(data).released
    return verify_release(folder, release_key=release_key, fingerprint=fingerprint,
                          now=released + dt.timedelta(minutes=1))


def verify_release(
    folder: Path,
    *,
    release_key: bytes | None,
    fingerprint: str,
    now: dt.datetime,
    key_label: str = RELEASE_KEY_FILE,
    state_dir: Path | None = None,
    accept_rollback: bool = False,
) -> VerifiedRelease:
    """Verify ``folder`` as described in the module docstring; return what it proves.

    ``release_key`` is the public key material (armored or binary), or None to use the
    ``release-key.asc`` shipped in the folder; ``fingerprint`` is the pinned primary
    fingerprint, ``now`` an aware datetime. With ``state_dir`` the rollback check
    applies and a success is remembered there; without it (the release pipeline checking
    its own staging folder) neither happens.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    pinned = fingerprint.replace(" ", "").upper()
    if release_key is None:
        if not (folder / RELEASE_KEY_FILE).exists() and not (folder / RELEASE_KEY_FILE).is_symlink():
            raise ReleaseError(f"{RELEASE_KEY_FILE}: missing; the release folder is incomplete, download it again")
        release_key, key_label = _read(folder, RELEASE_KEY_FILE, MAX_KEY_BYTES), RELEASE_KEY_FILE
    if len(release_key) > MAX_KEY_BYTES:
        raise ReleaseError(f"{key_label}: is larger than {MAX_KEY_BYTES} bytes; not a release key")

    manifest_data = _read(folder, MANIFEST, manifests.MAX_MANIFEST_BYTES)
    manifest_signature = _read(folder, MANIFEST_SIGNATURE, MAX_SIGNATURE_BYTES)
    _signature(manifest_data, manifest_signature, key=release_key, fingerprint=pinned, now=now,
               label=MANIFEST, key_label=key_label)

    manifest = manifests.parse(manifest_data)
    if manifest.release_key != pinned:
        raise ReleaseError(f"{MANIFEST}: names release key {manifest.release_key}, not the pinned {pinned}")
    if manifest.released > now + FUTURE_TOLERANCE:
        raise ReleaseError(f"{MANIFEST}: is released in the future ({timestamp(manifest.released)}, "
                           f"now is {timestamp(now)}); check this computer's clock")
    if manifest.expires <= now:
        raise ReleaseError(f"{MANIFEST}: release {manifest.version} expired on {timestamp(manifest.expires)}; "
                           "fetch the latest release (an expired one may hide newer changes)")
    last = read_last_seen(state_dir, pinned) if state_dir is not None else None
    if not accept_rollback:
        _check_rollback(manifest, last)

    listing = _listing(folder)
    manifests.check_names(manifest, listing)
    for name in sorted(manifests.expected_names(manifest)):
        if not stat.S_ISREG(listing[name]):
            raise ReleaseError(f"{name}: is {_kind(listing[name])}; a release holds regular files only")
    for record in manifest.files:
        try:
            size = (folder / record.name).lstat().st_size
        except OSError as error:  # removed since it was listed
            raise ReleaseError(f"{record.name}: cannot be read ({error.strerror})") from None
        manifests.check_size(record, size)
    contents: dict[str, bytes] = {}
    for record in manifest.files:
        contents[record.name] = _read(folder, record.name, record.bytes)
        manifests.check_content(record, contents[record.name])
    for record in manifest.files:
        if record.signature:
            signature = _read(folder, record.signature, MAX_SIGNATURE_BYTES)
            _signature(contents[record.name], signature, key=release_key, fingerprint=pinned, now=now,
                       label=record.name, key_label=key_label)

    if state_dir is not None:
        try:
            remember(state_dir, pinned, LastSeen.of(manifest), allow_lower=accept_rollback)
        except OSError as error:
            # Verified, but the next run could not detect a rollback: do not pretend otherwise.
            raise ReleaseError(f"{state_dir}: cannot remember the verified version ({error.strerror}); "
                               "give a writable folder with --state-dir") from None
    return VerifiedRelease(folder=folder, manifest=manifest, previous=last)
