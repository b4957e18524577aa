"""``directory247 check [--base REF]``: the pull-request gate."""

from __future__ import annotations

import datetime as dt
import sys

from .. import report
from ..errors import UsageError
from ..gate.check import run_check
from ..paths import project_root
from ..progress import terminal_progress
from ..trust import StatusCache, default_cache_path
from . import add_format, parser


def main(argv: list[str]) -> int:
    p = parser("check", "The PR gate: validate every entry and verify its State's signature; with --base, "
                        "read keys and published serials from REF. Exit 0 pass, 1 problems, 2 usage.")
    p.add_argument("--base", metavar="REF", help="trusted base revision (e.g. origin/main); keys, authorisations "
                                                 "and serials are read from it, never from the change")
    p.add_argument("--strict", action="store_true", help="treat an overdue confirmation as an error")
    p.add_argument("--no-cache", action="store_true", help="verify every signature with gpgv, ignoring the cache "
                                                            "of earlier verdicts (in ~/.cache/directory247/); "
                                                            "the pull-request gate always runs with it")
    add_format(p)
    args = p.parse_args(argv)
    if args.base is not None and not args.base.strip():
        raise UsageError("--base needs a revision (e.g. origin/main); leave it out to trust the working tree")
    root = project_root()
    cache = None if args.no_cache else StatusCache(default_cache_path())
    with terminal_progress(sys.stderr) as progress:
        outcome = run_check(root, base=args.base, now=dt.datetime.now(dt.UTC), strict=args.strict, cache=cache,
                            progress=progress)
    if cache is not None:
        try:
            cache.save()
        except OSError:
            pass  # a read-only checkout just runs without a cache next time
    sys.stdout.write(report.render(args.format, outcome.problems, outcome.files, "signed entries"))
    return 0 if outcome.ok else 1
