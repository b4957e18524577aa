"""``directory247 verify PATH``: verify a downloaded release as an end user would.

Exit 0 verified, 1 not verified (the reason in one line), 2 usage. The core is
``directory247.verify``; this adapter only picks the pinned fingerprint, the key file and
the state folder, and prints the verdict.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

from .. import pinned
from ..entry.model import timestamp
from ..errors import DirectoryError, ReleaseError, UsageError
from ..release.last_seen import default_state_dir
from ..release.verify import MAX_KEY_BYTES, release_folder, verify_release
from . import parser

_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")


def main(argv: list[str]) -> int:
    p = parser("verify", "Verify a release folder (or its manifest.json): the manifest's signature by the pinned "
                         "release key, every file's size, SHA-256 and signature, no file missing or extra, not "
                         "expired, not older than the last release you verified. "
                         "Exit 0 verified, 1 not verified, 2 usage error.")
    p.add_argument("path", metavar="PATH", help="a release folder, e.g. releases/2026.11.1, or its manifest.json; "
                                                "or a folder of releases (e.g. releases/): its newest release by "
                                                "serial, found from the folders, never from an index")
    p.add_argument("--fingerprint", metavar="FPR", default=pinned.RELEASE_KEY_FINGERPRINT,
                   help="the release key's primary fingerprint to trust "
                        f"(default: the one shipped with this tool, {pinned.RELEASE_KEY_FINGERPRINT})")
    p.add_argument("--keyring", metavar="FILE", type=Path,
                   help="public key file (armored or binary) holding the release key "
                        "(default: release-key.asc in the release folder; only the pinned fingerprint counts)")
    p.add_argument("--state-dir", metavar="DIR", type=Path,
                   help="where the last verified version is remembered "
                        "(default: $XDG_STATE_HOME/directory247 or ~/.local/state/directory247)")
    p.add_argument("--accept-rollback", action="store_true",
                   help="accept a release older than the last one verified (a deliberate reset) and remember it")
    args = p.parse_args(argv)

    fingerprint = args.fingerprint.replace(" ", "").upper()
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise UsageError(f"--fingerprint {args.fingerprint!r}: give the full 40 (or 64) hex digit fingerprint")
    try:
        folder = release_folder(Path(args.path))
    except ReleaseError as exc:
        sys.stderr.write(f"not verified: {exc}\n")
        return 1
    key = _read_keyring(args.keyring) if args.keyring is not None else None
    try:
        verified = verify_release(
            folder, release_key=key, fingerprint=fingerprint, now=dt.datetime.now(dt.UTC),
            key_label=str(args.keyring) if args.keyring is not None else "release-key.asc",
            state_dir=args.state_dir or default_state_dir(), accept_rollback=args.accept_rollback,
        )
    except UsageError:
        raise
    except DirectoryError as exc:  # the verdict, not a crash: one line, exit 1
        sys.stderr.write(f"not verified: {exc}\n")
        return 1
    manifest = verified.manifest
    signed = sum(1 for record in manifest.files if record.signature)
    sys.stdout.write(
        f"verified: release {manifest.version} (serial {manifest.serial}), released {timestamp(manifest.released)}, "
        f"expires {timestamp(manifest.expires)}; {len(manifest.files)} files, {signed + 1} signatures "
        f"by release key {manifest.release_key}\n"
    )
    if manifest.demo:
        sys.stdout.write("note: this release holds DEMONSTRATION DATA; its contacts are fictional\n")
    return 0


def _read_keyring(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise UsageError(f"--keyring {path}: no such file")
        if path.stat().st_size > MAX_KEY_BYTES:
            raise UsageError(f"--keyring {path}: larger than {MAX_KEY_BYTES} bytes; not a public key file")
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"--keyring {path}: cannot be read ({error.strerror})") from None
