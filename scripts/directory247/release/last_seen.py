"""Rollback protection on the user's side: the newest release each user verified, remembered
per release key in a state folder of their own (``$XDG_STATE_HOME/directory247``), and the
rule that a release older than it is refused unless the user deliberately resets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..entry.model import parse_timestamp, timestamp
from ..errors import ReleaseError
from ..formats.common import dumps
from ..publish import write_atomic
from . import manifest as manifests
from .manifest import MANIFEST, Manifest

#: Where a user's last verified release is remembered, inside the state folder.
STATE_FILE = "last-verified.json"


@dataclass(frozen=True)
class LastSeen:
    """The newest release a user verified for one release key."""

    version: str
    serial: int
    released: dt.datetime
    #: SHA-256 of the manifest's canonical bytes: one version is one release, never two
    #: (None in a state file written before it was kept)
    digest: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"version": self.version, "serial": self.serial,
                                  "released": timestamp(self.released)}
        if self.digest is not None:
            out["manifest_sha256"] = self.digest
        return out

    @classmethod
    def of(cls, manifest: Manifest) -> LastSeen:
        return cls(manifest.version, manifest.serial, manifest.released, manifest_digest(manifest))


def manifest_digest(manifest: Manifest) -> str:
    return manifests.digest(manifests.render(manifest))


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/directory247``, else ``~/.local/state/directory247`` (XDG spec)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative path in the variable is invalid and must be ignored.
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "directory247"


def read_last_seen(state_dir: Path, fingerprint: str) -> LastSeen | None:
    """What this user verified last for the release key ``fingerprint``, if anything."""
    remembered = _read_state(state_dir).get(fingerprint)
    if remembered is None:
        return None
    try:
        serial = remembered["serial"]
        if not isinstance(serial, int) or isinstance(serial, bool):
            raise TypeError("serial is not an integer")
        digest = remembered.get("manifest_sha256")
        return LastSeen(str(remembered["version"]), serial, parse_timestamp(str(remembered["released"])),
                        digest if isinstance(digest, str) else None)
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


def check_rollback(manifest: Manifest, last: LastSeen | None) -> None:
    if last is None:
        return
    same = manifest.serial == last.serial and manifest.version == last.version
    newer = manifest.serial > last.serial and manifest.version_key >= manifests.version_key(last.version)
    if same and last.digest is not None and last.digest != manifest_digest(manifest):
        raise ReleaseError(
            f"{MANIFEST}: release {manifest.version} (serial {manifest.serial}) is not the release of that version "
            "verified before: one version was published twice with different content; do not use it and tell "
            "the Secretariat (accept it only after a deliberate reset, with --accept-rollback)")
    if not (same or newer):
        raise ReleaseError(
            f"{MANIFEST}: version {manifest.version} (serial {manifest.serial}) is not newer than version "
            f"{last.version} (serial {last.serial}) verified before; this may be an old release replayed "
            "(accept it only after a deliberate reset of the directory, with --accept-rollback)"
        )
