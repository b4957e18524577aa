"""``directory247 check [--base REF]``: the pull-request gate."""

from __future__ import annotations

import datetime as dt
import sys

from .. import report
from ..check import run_check
from ..paths import project_root
from . import add_format, parser


def main(argv: list[str]) -> int:
    p = parser("check", "The PR gate: validate every entry and verify its State's signature; with --base, "
                        "read keys and published serials from REF. Exit 0 pass, 1 problems, 2 usage.")
    p.add_argument("--base", metavar="REF", help="trusted base revision (e.g. origin/main); keys, authorisations "
                                                 "and serials are read from it, never from the change")
    p.add_argument("--strict", action="store_true", help="treat an overdue confirmation as an error")
    add_format(p)
    args = p.parse_args(argv)
    outcome = run_check(project_root(), base=args.base, now=dt.datetime.now(dt.UTC), strict=args.strict)
    sys.stdout.write(report.REPORTERS[args.format](outcome.problems, outcome.files, "signed entries"))
    return 0 if outcome.ok else 1
