"""``directory247 release``: run the PR gate, then cut, sign, verify and publish the next release.

Exit 0 released (or, with ``--when-needed``, nothing needed), 1 the directory does not pass
the gate or the release failed (nothing is published then), 2 usage. This adapter parses
the arguments and the release time (``SOURCE_DATE_EPOCH`` when set, for reproducible
builds), calls ``gate.release_job.run_release`` (the gate, the reachability records, the
release key, ``--when-needed``, then ``release.pipeline.cut_release``) and reports.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .. import report
from ..entry.model import timestamp
from ..errors import UsageError
from ..gate.release_job import RENEW_BEFORE, GateRefused, run_release
from ..paths import project_root
from ..progress import terminal_progress
from . import parser


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

    def note(message: str) -> None:
        sys.stderr.write(report.printable(message) + "\n")

    try:
        with terminal_progress(sys.stderr) as progress:
            outcome = run_release(root, base=args.base, now=now, released=released, releases_dir=args.releases,
                                  key=args.key, gnupghome=args.gnupghome, when_needed=args.when_needed,
                                  notes=note, progress=progress)
    except GateRefused as refused:
        sys.stdout.write(report.text(refused.problems, refused.files, "signed entries"))
        raise
    if outcome.current is not None:
        version, expires = outcome.current
        sys.stdout.write(f"release {version} is current (same entries and reachability results, expires "
                         f"{timestamp(expires)}); nothing to release\n")
        return 0
    assert outcome.manifest is not None and outcome.folder is not None
    manifest = outcome.manifest
    sys.stdout.write(f"released {manifest.version} (serial {manifest.serial}) in {outcome.folder}: "
                     f"{outcome.entries} entries, expires {timestamp(manifest.expires)}; "
                     f"signed by {outcome.fingerprint} and verified as a user would\n")
    return 0
