"""Reachability tests: the Secretariat's signed record of test calls and mails to contact points.

Layout in the repository (read from a ``Snapshot``, normally the trusted base)::

    reachability/tests.yaml       the records (format: schema/reachability.schema.json)
    reachability/tests.yaml.asc   detached signature of that file by the ROOT key

A record says that on ``date`` the Secretariat tested one contact point of ``state`` (by
``contact_point`` index or by ``role``) over ``channel`` (phone, email, other), whether it
``answered``, and in how many ``response_minutes``, with an optional ``note``.

The records are the Secretariat's word about a Party, so they count only when the root key
named in the trusted authorisations signed them, under the full policy of
``trust.verify``. ``load_reachability`` verifies the signature *before* it reads the
content, and refuses (``ReachabilityError``) a file that is unsigned, changed after
signing, signed by any other key, or marked demo/production against the network of the
trust. A missing file (and signature) is no error: no test has been recorded yet.

For the site and ``stale``::

    reach = load_reachability(WorkTree(root), trust, now)      # or a Path, or GitRevision
    last = reach.last_results(entries, as_of=today)            # {(code, index): Result}
    result = last.get(("NO", 0))                               # None: never tested
    if result is not None and result.failed: ...               # flag the contact point

What a release publishes (``reachability.json``, written by ``formats.reachability_export``)
is ``last_tests``: the last test of each contact point of the release's entries, as of the
release time, as ``LastTests``; the site reads it back from each release folder.

What this module does not own: whether a change to ``reachability/`` may land (a reviewer
and the root signature decide), and how results are shown (``stale``, the site).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..entry.coerce import coerce
from ..entry.confirmation import parse_date
from ..entry.loader import Document, load_entry
from ..entry.model import Entry, Release
from ..errors import SignatureError, TrustError
from ..paths import schema_dir
from ..problems import FieldPath, Problem, Severity, field_name
from ..trust import Verified, verify
from ..trust.authorisations import Trust
from ..trust.snapshots import Snapshot, WorkTree

REACHABILITY = "reachability/tests.yaml"
REACHABILITY_SIGNATURE = REACHABILITY + ".asc"
SCHEMA = "reachability.schema.json"

#: A contact point, as the site and ``stale`` address it: (State code, index in contact_points).
ContactKey = tuple[str, int]


class ReachabilityError(TrustError):
    """The reachability records cannot be used: not signed by the root, or not well formed.

    ``problems`` holds every located problem when the content itself is at fault.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Result:
    """One recorded test of one contact point."""

    state: str
    date: dt.date
    channel: str  # "phone" | "email" | "other"
    answered: bool
    contact_point: int | None = None  # index in the entry's contact_points, or
    role: str | None = None  # "primary" | "secondary"
    response_minutes: int | None = None
    note: str | None = None
    #: position of the record in the file (0-based): on the same date, the later record wins
    order: int = 0
    #: line of the record in reachability/tests.yaml, for messages
    line: int = 0

    def __post_init__(self) -> None:
        if (self.contact_point is None) == (self.role is None):
            raise ValueError("a test names its contact point by index or by role, exactly one")
        if self.answered != (self.response_minutes is not None):
            raise ValueError("response_minutes is given exactly when the test was answered")

    @property
    def failed(self) -> bool:
        """The contact point did not answer this test."""
        return not self.answered

    def to_dict(self) -> dict[str, Any]:
        """The record as in the file (JSON-ready; ``date`` as YYYY-MM-DD)."""
        out: dict[str, Any] = {"state": self.state}
        if self.contact_point is not None:
            out["contact_point"] = self.contact_point
        if self.role is not None:
            out["role"] = self.role
        out.update({"date": self.date.isoformat(), "channel": self.channel, "answered": self.answered})
        if self.response_minutes is not None:
            out["response_minutes"] = self.response_minutes
        if self.note is not None:
            out["note"] = self.note
        return out

    def resolve(self, entry: Entry) -> int | None:
        """The index of the contact point this test names in ``entry``; None if it names none
        (index out of range, or a role held by no or several contact points)."""
        if self.contact_point is not None:
            return self.contact_point if self.contact_point < len(entry.contact_points) else None
        matches = [i for i, cp in enumerate(entry.contact_points) if cp.role == self.role]
        return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True)
class Reachability:
    """The verified reachability records (empty when none have been recorded)."""

    results: tuple[Result, ...] = ()
    serial: int = 0
    demo: bool = False
    #: primary fingerprint of the root key that signed the file; None when there is no file
    signer: str | None = None
    signed: dt.datetime | None = None

    @property
    def present(self) -> bool:
        return self.signer is not None

    def last_results(self, entries: Iterable[Entry], as_of: dt.date | None = None) -> dict[ContactKey, Result]:
        return last_results(self.results, entries, as_of)

    def unmatched(self, entries: Iterable[Entry], as_of: dt.date | None = None) -> list[Result]:
        """Records that name no contact point of the given entries (State absent, index out of
        range, ambiguous role): worth telling the Secretariat, never silently attached elsewhere."""
        by_code = {entry.code: entry for entry in entries}
        return [r for r in self.results if (as_of is None or r.date <= as_of)
                and (r.state not in by_code or r.resolve(by_code[r.state]) is None)]


def last_results(results: Iterable[Result], entries: Iterable[Entry],
                 as_of: dt.date | None = None) -> dict[ContactKey, Result]:
    """The last test of each contact point of ``entries``: latest date, then latest in the file.

    Tests after ``as_of`` are ignored (so a report "as of" a day is reproducible), and so are
    tests that name no contact point of ``entries``.
    """
    by_code = {entry.code: entry for entry in entries}
    last: dict[ContactKey, Result] = {}
    for result in results:
        entry = by_code.get(result.state)
        if entry is None or (as_of is not None and result.date > as_of):
            continue
        index = result.resolve(entry)
        if index is None:
            continue
        key = (result.state, index)
        current = last.get(key)
        if current is None or (result.date, result.order) > (current.date, current.order):
            last[key] = result
    return dict(sorted(last.items()))


# --- parsing -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads((schema_dir() / SCHEMA).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _message(error: ValidationError) -> str:
    # The two cross-field rules are written as oneOf / if-else in the schema; jsonschema's own
    # wording for them names schemas, not what to do.
    if error.validator == "oneOf":
        return "name the contact point by contact_point (its index) or by role, exactly one of them"
    if error.validator == "not" and "else" in error.schema_path:
        return "response_minutes is given only when answered is true"
    if error.validator == "required" and "then" in error.schema_path:
        return "a test that was answered needs response_minutes"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field")
    return error.message


def _problem(doc: Document, path: FieldPath, message: str) -> Problem:
    line, col = doc.position(path)
    return Problem(doc.source, line, col, Severity.ERROR, field_name(path), message)


def parse_reachability(data: bytes, label: str = REACHABILITY, *, today: dt.date | None = None) -> Reachability:
    """Strictly parse the records (same YAML rules as entries, then the JSON Schema and dates).

    Every problem is collected; ``ReachabilityError.problems`` holds them all. The result is
    unsigned: only ``load_reachability`` says it is the Secretariat's.
    """
    loaded = load_entry(data, label)
    problems = list(loaded.problems)
    doc = loaded.document
    if doc is None:
        raise _invalid(label, problems)
    schema: dict[str, Any] = _validator().schema  # type: ignore[assignment]
    tree = coerce(doc, schema)
    for error in sorted(_validator().iter_errors(tree), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(_problem(doc, tuple(error.absolute_path), _message(error)))
    if problems:
        raise _invalid(label, problems)
    results: list[Result] = []
    for order, record in enumerate(tree["tests"]):
        day = parse_date(record["date"])
        where: FieldPath = ("tests", order, "date")
        if day is None:
            problems.append(_problem(doc, where, f"'{record['date']}' is not a real calendar date"))
            continue
        if today is not None and day > today:
            problems.append(_problem(doc, where, f"{day} is in the future; record a test once it was made"))
            continue
        results.append(Result(
            state=record["state"], date=day, channel=record["channel"], answered=record["answered"],
            contact_point=record.get("contact_point"), role=record.get("role"),
            response_minutes=record.get("response_minutes"), note=record.get("note"),
            order=order, line=doc.position(("tests", order))[0],
        ))
    if problems:
        raise _invalid(label, problems)
    return Reachability(tuple(results), serial=tree["serial"], demo=tree.get("demo", False))


def _invalid(label: str, problems: list[Problem]) -> ReachabilityError:
    problems = sorted(set(problems))
    first = problems[0] if problems else None
    where = f"{first.line}:{first.col}: {first.field}: {first.message}" if first else "cannot be read"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return ReachabilityError(f"{label}:{where}{more}", problems)


# --- verification ------------------------------------------------------------------------

def verify_reachability(data: bytes, signature: bytes, trust: Trust, *, now: dt.datetime,
                        label: str = REACHABILITY_SIGNATURE) -> Verified:
    """Accept ``signature`` over ``data`` only from the trusted root key (full signature policy)."""
    try:
        return verify(data, signature, keys=[trust.root_key], allowed={trust.authorisations.root}, now=now,
                      label=label)
    except SignatureError as exc:
        raise ReachabilityError(f"{exc}; the reachability records are not the Secretariat's (they must be "
                                "signed by the root key) and were not used") from None
    except TrustError as exc:  # the root key itself cannot be read: the trusted base is broken
        raise ReachabilityError(f"{label}: the root key of {trust.source} cannot be used: {exc}") from None


def load_reachability(source: Snapshot | Path, trust: Trust, now: dt.datetime) -> Reachability:
    """The root-verified reachability records of ``source`` (a snapshot, or a checkout's root).

    Returns an empty ``Reachability`` when neither file exists. Raises ``ReachabilityError``
    when the records are present but unsigned, not signed by the trusted root, changed after
    signing, malformed, or of the other network (demo vs production).
    """
    snapshot = WorkTree(source) if isinstance(source, Path) else source
    specials = snapshot.specials("reachability")
    if specials:
        raise ReachabilityError(f"{specials[0].path} is a {specials[0].kind}; only regular files are read here")
    data = snapshot.read(REACHABILITY)
    signature = snapshot.read(REACHABILITY_SIGNATURE)
    if data is None and signature is None:
        return Reachability()
    if data is None:
        raise ReachabilityError(f"{REACHABILITY_SIGNATURE} without {REACHABILITY} in {snapshot.label}; "
                                "remove the signature or restore the records")
    if signature is None:
        raise ReachabilityError(f"{REACHABILITY} in {snapshot.label} is not signed ({REACHABILITY_SIGNATURE} is "
                                "missing); the records count only with the Secretariat's root signature, "
                                "so they were not used")
    verified = verify_reachability(data, signature, trust, now=now)
    parsed = parse_reachability(data, REACHABILITY, today=now.date())
    if parsed.demo != trust.authorisations.demo:
        raise ReachabilityError(
            f"{REACHABILITY}: says demo: {str(parsed.demo).lower()}, but the trusted keys are "
            f"{trust.authorisations.network} keys; demonstration records and production records never mix")
    return Reachability(parsed.results, parsed.serial, parsed.demo, verified.primary_fingerprint, verified.created)


# --- what a release publishes ------------------------------------------------------------

@dataclass(frozen=True)
class LastTest:
    """The last test of one contact point, as a release publishes it: the contact point is
    always named by its index, never by role, so a reader needs no rule to find it."""

    code: str
    contact_point: int
    date: dt.date
    channel: str  # "phone" | "email" | "other"
    answered: bool
    response_minutes: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.contact_point < 0:
            raise ValueError("contact_point is an index, 0 or more")
        if self.answered != (self.response_minutes is not None):
            raise ValueError("response_minutes is given exactly when the test was answered")

    @property
    def key(self) -> ContactKey:
        return (self.code, self.contact_point)

    @property
    def failed(self) -> bool:
        """The contact point did not answer its last test."""
        return not self.answered


@dataclass(frozen=True)
class LastTests:
    """The last test of each tested contact point of one release, as of its release time.

    ``source_serial`` is the serial of the root-signed ``reachability/tests.yaml`` they come
    from, None when no records existed; a contact point absent from ``results`` was never
    tested (or not by the release time).
    """

    version: str
    as_of: dt.datetime
    demo: bool = False
    source_serial: int | None = None
    results: tuple[LastTest, ...] = ()

    def __post_init__(self) -> None:
        keys = [result.key for result in self.results]
        if keys != sorted(set(keys)):
            raise ValueError("results must be unique per contact point and sorted by (code, contact_point)")

    def get(self, code: str, contact_point: int) -> LastTest | None:
        return next((r for r in self.results if r.key == (code, contact_point)), None)

    def for_entry(self, code: str) -> tuple[LastTest, ...]:
        return tuple(r for r in self.results if r.code == code)

    def failed(self, code: str) -> tuple[LastTest, ...]:
        """The contact points of ``code`` whose last test was not answered."""
        return tuple(r for r in self.results if r.code == code and r.failed)


def last_test_results(reach: Reachability, entries: Iterable[Entry], released: dt.datetime) -> tuple[LastTest, ...]:
    """The last test of each contact point of ``entries``, counting tests dated up to the day
    (UTC) of ``released``, sorted by contact point (pure)."""
    last = last_results(reach.results, entries, released.astimezone(dt.UTC).date())
    return tuple(
        LastTest(code=code, contact_point=index, date=result.date, channel=result.channel,
                 answered=result.answered, response_minutes=result.response_minutes, note=result.note)
        for (code, index), result in sorted(last.items())
    )


def last_tests(reach: Reachability, release: Release) -> LastTests:
    """What ``release`` publishes of the verified records ``reach`` (pure).

    ``reach`` must come from ``load_reachability``: this function does not check who signed it.
    """
    return LastTests(version=release.version, as_of=release.released, demo=release.demo,
                     source_serial=reach.serial if reach.present else None,
                     results=last_test_results(reach, release.entries, release.released))
