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
import json
import sys
from pathlib import Path
from typing import Any

from .. import report
from ..authorisations import load_trust
from ..errors import DirectoryError, UsageError
from ..formats.common import confirm_command
from ..freshness import (
    DEFAULT_WITHIN_DAYS,
    StaleEntry,
    StaleReport,
    Standing,
    describe_test,
    reminder_mail,
    stale_report,
)
from ..loader import Document
from ..model import Entry
from ..paths import project_root
from ..problems import Problem, Severity
from ..publish import write_atomic
from ..reachability import REACHABILITY, Reachability, load_reachability
from ..repository import WorkTree
from ..rules import CONFIRMATION_POLICY_MONTHS
from ..validation import entry_files, validate_files
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

    root = project_root()
    folder = root / "directory"
    if not folder.is_dir():
        raise UsageError(f"{folder}: no directory/ folder here; run from the repository")
    now = dt.datetime.now(dt.UTC)
    as_of: dt.date = args.as_of or today()
    paths = entry_files(folder)
    # Validity is judged today or at --as-of, whichever is later: a past --as-of must not
    # turn a later confirmation date into an error, only into "not yet due".
    results = validate_files(paths, today=max(as_of, now.date()), shown=[f"directory/{p.name}" for p in paths])
    entries: list[Entry] = []
    documents: dict[str, Document] = {}
    invalid: list[str] = []
    for result in results:
        if not result.ok or result.entry is None or result.document is None:
            invalid.append(result.source)
            continue
        entry = Entry.from_dict(result.entry)
        entries.append(entry)
        documents[entry.code] = result.document

    trust = load_trust(WorkTree(root), now=now)
    reach = None if args.no_reachability else load_reachability(WorkTree(root), trust, now)
    found = stale_report(
        entries, as_of=as_of, within_days=args.within,
        signers=trust.authorisations.states,
        last=reach.last_results(entries, as_of) if reach else {},
        unmatched=reach.unmatched(entries, as_of) if reach else (),
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(_as_json(found, reach, invalid), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "github":
        sys.stdout.write(report.github(_problems(found, documents, invalid), len(results), "entries"))
    else:
        sys.stdout.write(_as_text(found, reach, invalid))

    if drafts is not None:
        written = 0
        for item in found.listed:
            if item.reminder_due:
                try:
                    write_atomic(drafts / f"{item.code.lower()}.txt", reminder_mail(item, as_of).encode("utf-8"))
                except OSError as exc:
                    raise DirectoryError(f"{drafts}: cannot write reminder drafts: {exc.strerror}") from None
                written += 1
        sys.stderr.write(f"wrote {written} reminder draft{'s' if written != 1 else ''} to {drafts} "
                         "(nothing was sent)\n")
    return 1 if found.failing or invalid else 0


def _when(item: StaleEntry) -> str:
    c = item.confirmation
    if c.standing is Standing.OVERDUE:
        return f"due {c.due.isoformat()} ({-c.days_left} days ago)"
    return f"due {c.due.isoformat()} ({'today' if c.days_left == 0 else f'in {c.days_left} days'})"


def _as_text(found: StaleReport, reach: Reachability | None, invalid: list[str]) -> str:
    lines = [f"Confirmation of entries as of {found.as_of.isoformat()} ({CONFIRMATION_POLICY_MONTHS}-month policy; "
             f"listing those due within {found.within_days} days)"]
    if reach is None:
        lines.append("Reachability tests: not read (--no-reachability)")
    elif not reach.present:
        lines.append(f"Reachability tests: none recorded ({REACHABILITY} is absent)")
    else:
        lines.append(f"Reachability tests: {REACHABILITY} serial {reach.serial}, signed by the root key "
                     f"{reach.signer}")
    lines.append("")
    for item in found.listed:
        c = item.confirmation
        lines.append(f"{c.code}  {c.name}: {c.standing.value}, confirmed {c.confirmed.isoformat()}, {_when(item)}")
        if item.reminder_due:
            lines.append(f"    to confirm: {confirm_command(c.code)}")
        lines.append(f"    authorised signers: {', '.join(item.signers) or '(none)'}")
        for cp in item.contact_points:
            flag = "FAILED: " if cp.failed else ""
            lines.append(f"    contact_points[{cp.index}] ({cp.role}): {flag}{describe_test(cp.last_test)}")
    for result in found.unmatched:
        lines.append(f"warning: {REACHABILITY}:{result.line}: a test of {result.state} names no contact point of "
                     "the directory (State, index or role not found); it was not counted")
    for path in invalid:
        lines.append(f"error: {path} does not validate, so its confirmation cannot be judged; "
                     f"run 'directory247 validate {path}'")
    overdue, due = found.count(Standing.OVERDUE), found.count(Standing.DUE)
    lines.append(f"{found.entries} entries: {overdue} overdue, {due} due within {found.within_days} days, "
                 f"{found.unreachable} with a contact point that failed its last reachability test"
                 + (f", {len(invalid)} not valid" if invalid else ""))
    return "\n".join(lines) + "\n"


def _as_json(found: StaleReport, reach: Reachability | None, invalid: list[str]) -> dict[str, Any]:
    def item_json(item: StaleEntry) -> dict[str, Any]:
        c = item.confirmation
        return {
            "code": c.code, "name": c.name, "path": item.path, "standing": c.standing.value,
            "confirmed": c.confirmed.isoformat(), "due": c.due.isoformat(), "days_left": c.days_left,
            "signers": list(item.signers), "email": item.email, "unreachable": item.unreachable,
            "contact_points": [
                {"index": cp.index, "role": cp.role, "authority": cp.authority, "failed": cp.failed,
                 "last_test": cp.last_test.to_dict() if cp.last_test else None}
                for cp in item.contact_points
            ],
        }

    return {
        "as_of": found.as_of.isoformat(),
        "within_days": found.within_days,
        "confirmation_policy_months": CONFIRMATION_POLICY_MONTHS,
        "reachability": None if reach is None else {
            "present": reach.present, "serial": reach.serial if reach.present else None, "signer": reach.signer},
        "entries": [item_json(item) for item in found.listed],
        "unmatched_tests": [dict(result.to_dict(), line=result.line) for result in found.unmatched],
        "invalid": invalid,
        "summary": {"entries": found.entries, "overdue": found.count(Standing.OVERDUE),
                    "due": found.count(Standing.DUE), "unreachable": found.unreachable, "invalid": len(invalid),
                    "failing": found.failing or bool(invalid)},
    }


def _problems(found: StaleReport, documents: dict[str, Document], invalid: list[str]) -> list[Problem]:
    """The report as located findings, for workflow annotations on the entries' lines."""
    problems: list[Problem] = []
    for item in found.listed:
        c = item.confirmation
        doc = documents[c.code]
        if item.reminder_due:
            line, col = doc.position(("confirmed",))
            severity = Severity.ERROR if c.standing is Standing.OVERDUE else Severity.WARNING
            problems.append(Problem(item.path, line, col, severity, "confirmed",
                                    f"{c.code} ({c.name}): confirmation {c.standing.value}, last confirmed "
                                    f"{c.confirmed.isoformat()}, {_when(item)}; authorised signers: "
                                    f"{', '.join(item.signers) or '(none)'}; run '{confirm_command(c.code)}'"))
        for cp in item.contact_points:
            if cp.failed and cp.last_test is not None:
                line, col = doc.position(("contact_points", cp.index))
                problems.append(Problem(item.path, line, col, Severity.ERROR, f"contact_points[{cp.index}]",
                                        f"{c.code} ({c.name}): {describe_test(cp.last_test)}"))
    for result in found.unmatched:
        problems.append(Problem(REACHABILITY, result.line, 1, Severity.WARNING, "tests",
                                f"a test of {result.state} names no contact point of the directory; "
                                "it was not counted"))
    for path in invalid:
        problems.append(Problem(path, 1, 1, Severity.ERROR, "(entry)",
                                f"does not validate, so its confirmation cannot be judged; "
                                f"run 'directory247 validate {path}'"))
    return sorted(problems)
