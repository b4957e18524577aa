"""``directory247 release``: run the PR gate, then cut, sign, verify and publish the next release.

Exit 0 released, 1 the directory does not pass the gate or the release failed (nothing is
published then), 2 usage. The pipeline itself is ``directory247.release.cut_release``; this
adapter gathers its inputs: the accepted entries (``check.run_check``), the release key
from the trusted authorisations, the reachability records (``reachability/tests.yaml``, used
only when the trusted root key signed them), the secret key (the user's GnuPG home or
``--gnupghome``), and the release time (``SOURCE_DATE_EPOCH`` when set, for reproducible builds).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .. import pinned, report
from ..check import run_check
from ..errors import ReleaseError, UsageError
from ..model import timestamp
from ..paths import project_root
from ..progress import terminal_progress
from ..reachability import ReachabilityError, load_reachability
from ..release import cut_release, latest_release
from ..release_reachability import reachability_unchanged
from ..repository import WorkTree
from ..signatures import GnuPG
from . import parser

#: With --when-needed, a release this close to expiry is renewed even if nothing changed.
RENEW_BEFORE = dt.timedelta(days=15)


def release_time(environ: Mapping[str, str], now: dt.datetime) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org) if set, else ``now`` to the second."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return now.replace(microsecond=0)
    if not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={value!r}: must be whole seconds since 1970-01-01 UTC")
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise UsageError(f"SOURCE_DATE_EPOCH={value!r}: out of range") from None


def main(argv: list[str]) -> int:
    p = parser("release", "Cut the next release: run the PR gate, render every export, read each back, write the "
                          "manifest, sign with the release key, verify as a user would, publish atomically in "
                          "releases/<version>/. Exit 0 released, 1 not released, 2 usage error.")
    p.add_argument("--base", metavar="REF", help="trusted base revision for the gate (default: the working tree, "
                                                 "i.e. run this on the protected branch)")
    p.add_argument("--releases", metavar="DIR", type=Path, help="the release archive (default: releases/)")
    p.add_argument("--key", metavar="FPR", help="the release key to sign with (default: the one authorised in "
                                                "keys/authorisations.yaml)")
    p.add_argument("--gnupghome", metavar="DIR", help="GnuPG home holding the release key's secret half "
                                                      "(default: gpg's own)")
    p.add_argument("--when-needed", action="store_true",
                   help=f"cut a release only if the accepted entries differ from the latest release or it expires "
                        f"within {RENEW_BEFORE.days} days (for a scheduled job: releases must never lapse)")
    args = p.parse_args(argv)
    if args.base is not None and not args.base.strip():
        raise UsageError("--base needs a revision (e.g. origin/main); leave it out to trust the working tree")

    root = project_root()
    now = dt.datetime.now(dt.UTC)
    released = release_time(os.environ, now)
    with terminal_progress(sys.stderr) as progress:
        outcome = run_check(root, base=args.base, now=now, progress=progress)
    if not outcome.ok or outcome.trust is None:
        sys.stdout.write(report.text(outcome.problems, outcome.files, "signed entries"))
        raise ReleaseError("the directory does not pass the gate (problems above); nothing was released")
    try:  # the records count only with the TRUSTED root's signature, as in the gate
        reachability = load_reachability(WorkTree(root), outcome.trust, now)
    except ReachabilityError as error:
        raise ReleaseError(f"{error}; re-sign the records with the root key (or remove reachability/tests.yaml and "
                           "its signature to publish no results); nothing was released") from None

    authorised = outcome.trust.authorisations.release_keys
    fingerprint = (args.key or "").replace(" ", "").upper() or (authorised[0] if len(authorised) == 1 else "")
    if not fingerprint:
        raise UsageError(f"several release keys are authorised ({', '.join(authorised)}); choose one with --key")
    if fingerprint not in authorised:
        raise ReleaseError(f"{fingerprint} is not an authorised release key in keys/authorisations.yaml "
                           f"(authorised: {', '.join(authorised) or 'none'})")
    public_key = outcome.trust.keys.get(fingerprint)
    if public_key is None:
        raise ReleaseError(f"keys/pubkeys/{fingerprint}.asc is missing; the release key's public key is needed")
    if fingerprint != pinned.RELEASE_KEY_FINGERPRINT:
        sys.stderr.write(f"warning: release key {fingerprint} is not the one pinned in this tool "
                         f"({pinned.RELEASE_KEY_FINGERPRINT}); users must verify with --fingerprint {fingerprint}\n")

    gnupg = GnuPG(gnupghome=args.gnupghome)
    releases_dir = args.releases or root / "releases"
    previous = latest_release(releases_dir, release_key=public_key, release_fingerprint=fingerprint)
    if args.when_needed and previous is not None:
        current = [a.entry.to_dict() for a in sorted(outcome.accepted, key=lambda a: a.code)]
        unchanged = [e.to_dict() for e in previous.entries] == current and reachability_unchanged(
            releases_dir / previous.version, reachability, [a.entry for a in outcome.accepted], released)
        if unchanged and previous.expires - now > RENEW_BEFORE:
            sys.stdout.write(f"release {previous.version} is current (same entries and reachability results, expires "
                             f"{timestamp(previous.expires)}); nothing to release\n")
            return 0
    with terminal_progress(sys.stderr) as progress:
        published = cut_release(
            accepted=[(accepted.entry, accepted.signer) for accepted in outcome.accepted],
            previous=previous,
            released=released,
            now=now,
            sign=lambda data: gnupg.sign(data, key=fingerprint),
            release_key=public_key,
            release_fingerprint=fingerprint,
            releases_dir=releases_dir,
            reachability=reachability,
            progress=progress,
        )
    manifest = published.manifest
    sys.stdout.write(f"released {manifest.version} (serial {manifest.serial}) in {published.folder}: "
                     f"{len(outcome.accepted)} entries, expires {timestamp(manifest.expires)}; "
                     f"signed by {fingerprint} and verified as a user would\n")
    return 0
