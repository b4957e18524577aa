"""``stale``: the confirmation and reachability report, as one run and its views.

``stale_run`` validates the entries, reads the authorisations and (unless told not to) the
root-signed reachability records from the checkout, and judges every entry as of a day
(``standing.stale_report``). ``as_text``, ``as_json`` and ``as_problems`` are the report's
views for ``report.render``. Nothing here prints or exits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..entry.confirmation import CONFIRMATION_POLICY_MONTHS, confirm_command
from ..entry.loader import Document
from ..entry.model import Entry
from ..entry.validation import entry_files, validate_files
from ..errors import DirectoryError, UsageError
from ..problems import Problem, Severity
from ..publish import write_atomic
from ..trust.authorisations import load_trust
from ..trust.snapshots import WorkTree
from .reachability import REACHABILITY, Reachability, load_reachability
from .standing import StaleEntry, StaleReport, Standing, describe_test, reminder_mail, stale_report


@dataclass(frozen=True)
class StaleOutcome:
    """One run of the report: what was found, from which records, and what did not validate."""

    found: StaleReport
    reachability: Reachability | None  # None: not read (--no-reachability)
    invalid: list[str]
    documents: dict[str, Document]  # by code, for the findings' lines
    files: int

    @property
    def failing(self) -> bool:
        return self.found.failing or bool(self.invalid)


def stale_run(root: Path, *, as_of: dt.date, within_days: int, use_reachability: bool,
              now: dt.datetime) -> StaleOutcome:
    """Judge every entry of the checkout at ``root`` as of ``as_of``."""
    folder = root / "directory"
    if not folder.is_dir():
        raise UsageError(f"{folder}: no directory/ folder here; run from the repository")
    paths = entry_files(folder)
    # Validity is judged today or at as_of, whichever is later: a past as_of must not turn a
    # later confirmation date into an error, only into "not yet due".
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
    reach = load_reachability(WorkTree(root), trust, now) if use_reachability else None
    found = stale_report(
        entries, as_of=as_of, within_days=within_days,
        signers=trust.authorisations.states,
        last=reach.last_results(entries, as_of) if reach else {},
        unmatched=reach.unmatched(entries, as_of) if reach else (),
    )
    return StaleOutcome(found, reach, invalid, documents, len(results))


def write_drafts(outcome: StaleOutcome, folder: Path) -> int:
    """One reminder per due or overdue State in ``folder/<cc>.txt`` (never sent); how many."""
    written = 0
    for item in outcome.found.listed:
        if item.reminder_due:
            try:
                write_atomic(folder / f"{item.code.lower()}.txt",
                             reminder_mail(item, outcome.found.as_of).encode("utf-8"))
            except OSError as exc:
                raise DirectoryError(f"{folder}: cannot write reminder drafts: {exc.strerror}") from None
            written += 1
    return written


def _when(item: StaleEntry) -> str:
    c = item.confirmation
    if c.standing is Standing.OVERDUE:
        return f"due {c.due.isoformat()} ({-c.days_left} days ago)"
    return f"due {c.due.isoformat()} ({'today' if c.days_left == 0 else f'in {c.days_left} days'})"


def as_text(outcome: StaleOutcome) -> str:
    """The report as a person reads it."""
    found, reach, invalid = outcome.found, outcome.reachability, outcome.invalid
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


def as_json(outcome: StaleOutcome) -> dict[str, Any]:
    """The report as an object for ``--format json``."""
    found, reach, invalid = outcome.found, outcome.reachability, outcome.invalid

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


def as_problems(outcome: StaleOutcome) -> list[Problem]:
    """The report as located findings, for workflow annotations on the entries' lines."""
    found, documents, invalid = outcome.found, outcome.documents, outcome.invalid
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
