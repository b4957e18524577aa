"""``directory247 stale [--within DAYS] [--as-of DATE] [--format F] [--mail-drafts DIR]``.

Lists the entries whose confirmation is overdue or falls due within DAYS (default 30), and
the entries with a contact point that did not answer its last reachability test, with the
State, the due date, the fingerprints authorised to sign for it and the last test of each
contact point. Exit 1 when any entry is overdue, any contact point failed its last test, an
entry does not validate, or the reachability records are refused; 0 otherwise; 2 usage.

Keys, authorisations and the reachability records are read from the checkout it runs in
(the protected branch, when the Secretariat runs it); tests dated after ``--as-of`` are
ignored so a report as of a past day can be made again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .. import report
from ..errors import UsageError
from ..freshness.report import as_json, as_problems, as_text, stale_run, write_drafts
from ..freshness.standing import DEFAULT_WITHIN_DAYS
from ..paths import project_root
from . import add_format, date_argument, parser, today


def _days(text: str) -> int:
    if not text.isdigit() or len(text) > 4 or int(text) > MAX_WITHIN_DAYS:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days from 0 to {MAX_WITHIN_DAYS}")
    return int(text)


#: Ten years: anything further is a typo, and would overflow date arithmetic.
MAX_WITHIN_DAYS = 3660


def main(argv: list[str]) -> int:
    p = parser("stale", "Entries whose confirmation is overdue or due soon, and contact points that failed their "
                        "last reachability test. Exit 0 none overdue or failed, 1 otherwise, 2 usage.")
    p.add_argument("--within", type=_days, default=DEFAULT_WITHIN_DAYS, metavar="DAYS",
                   help=f"also list confirmations falling due within DAYS days (default {DEFAULT_WITHIN_DAYS})")
    p.add_argument("--as-of", type=date_argument, metavar="DATE", help="judge as of DATE (default: today, UTC)")
    p.add_argument("--mail-drafts", metavar="DIR",
                   help="write one reminder per due or overdue State to DIR/<cc>.txt (never sends anything)")
    p.add_argument("--no-reachability", action="store_true",
                   help="ignore reachability/tests.yaml (confirmation dates only)")
    add_format(p)
    args = p.parse_args(argv)
    drafts = Path(args.mail_drafts) if args.mail_drafts else None
    if drafts is not None and drafts.exists() and not drafts.is_dir():
        raise UsageError(f"{drafts}: not a folder")

    outcome = stale_run(project_root(), as_of=args.as_of or today(), within_days=args.within,
                        use_reachability=not args.no_reachability, now=dt.datetime.now(dt.UTC))
    sys.stdout.write(report.render(args.format, as_problems(outcome), outcome.files, "entries",
                                   text_view=as_text(outcome), json_view=as_json(outcome)))
    if drafts is not None:
        written = write_drafts(outcome, drafts)
        sys.stderr.write(f"wrote {written} reminder draft{'s' if written != 1 else ''} to {drafts} "
                         "(nothing was sent)\n")
    return 1 if outcome.failing else 0


