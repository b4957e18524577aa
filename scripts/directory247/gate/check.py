"""The pull-request gate: is every entry provably from its own State, and is the change allowed?

``run_check`` reads the change under review from the working tree and everything it trusts
(root key, authorisations, public keys, published serials) from the trusted base: a git
revision given with ``--base``, or the working tree itself when there is none (a Party's own
checkout, or the protected branch when cutting a release). It collects every problem:

- every entry validates (strict YAML, schema, rules);
- every entry has ``<cc>.yaml.asc``, one signature that meets the policy in ``trust``
  and comes from a key the *base* authorises for that State (so a key added in the same
  change cannot sign, and one State's key cannot sign another State's entry);
- an added or changed entry has a ``serial`` higher than at the base (no replay);
- a change under ``keys/`` carries authorisations signed by the *base* root key, with a
  higher serial; an entry deleted needs a removal listed in those root-signed authorisations;
- only regular files, and only entries with their signatures, in ``directory/``;
- demo keys sign only demo entries, production keys only real ones.

It does not print; the CLI reports ``CheckOutcome.problems``.
"""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..entry.loader import load_entry
from ..entry.model import Entry, Signer
from ..entry.validation import EntryResult, validate_entry
from ..errors import DirectoryError, SignatureError
from ..problems import Problem, Severity, has_errors
from ..trust import StatusCache, preload_keys
from ..trust.authorisations import (
    AUTHORISATIONS,
    AUTHORISATIONS_SIGNATURE,
    ROOT_KEY,
    Trust,
    load_trust,
    name_other_state,
    parse_authorisations,
)
from ..trust.snapshots import GitRevision, Snapshot, WorkTree
from . import archive_rules
from .verification import SignatureJob, Verdict, collect, default_workers, submit

if TYPE_CHECKING:
    from ..progress import Progress

ENTRY_NAME = re.compile(r"directory/([a-z]{2})\.yaml")
SIGNATURE_NAME = re.compile(r"directory/([a-z]{2})\.yaml\.asc")


@dataclass(frozen=True)
class AcceptedEntry:
    """An entry that passed every rule, with the bytes and signature it was accepted from."""

    code: str
    entry: Entry
    data: bytes
    signature: bytes
    signer: Signer


@dataclass
class CheckOutcome:
    problems: list[Problem] = field(default_factory=list)
    accepted: list[AcceptedEntry] = field(default_factory=list)
    trust: Trust | None = None
    files: int = 0
    #: the latest release of the archive, the floor the entries were judged against (None
    #: before the first release, or when the archive's own problems came first)
    latest: archive_rules.Published | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def _problem(path: str, field_name: str, message: str, line: int = 1, col: int = 1,
             severity: Severity = Severity.ERROR) -> Problem:
    return Problem(path, line, col, severity, field_name, message)


def _serial_of(data: bytes | None) -> int | None:
    """The serial of an entry as published at the base (None if absent or unreadable)."""
    if data is None:
        return None
    loaded = load_entry(data, "base")
    if loaded.document is None:
        return None
    value = loaded.document.value.get("serial")
    return int(value) if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value) else None


def load_trusted(snapshot: Snapshot, *, now: dt.datetime, cache: StatusCache | None = None) -> Trust:
    """``load_trust``, with gpgv's verdict on the root signature, gpg's reading of the root
    key and the strict reading of the authorisations taken from ``cache`` when they are there
    (the policy is applied again at ``now``)."""
    root_key = snapshot.read(ROOT_KEY)
    if root_key is not None and cache is not None:
        preload_keys([root_key], cache=cache.key_material)
    return load_trust(snapshot, now=now, cache=cache, parsed=cache.parsed if cache is not None else None)


def run_check(root: Path, *, base: str | None, now: dt.datetime, strict: bool = False,
              workers: int | None = None, cache: StatusCache | None = None,
              progress: Progress | None = None, releases: Path | None = None) -> CheckOutcome:
    """Check the working tree at ``root`` against the trusted ``base`` revision (or itself).

    ``releases`` is the release archive whose latest release is the floor and whose derived
    files are checked (default ``root/releases``; ``release --releases DIR`` passes its own,
    so a release never stands on another archive than the one it extends).

    ``cache`` (see ``trust.cache``) skips gpgv for signatures verified before over the same
    bytes and keys; every other rule runs again. ``progress`` is called with
    ``(stage, done, total)`` as entries are validated and signatures verified."""
    change = WorkTree(root)
    trusted: Snapshot = GitRevision(root, base) if base else change
    outcome = CheckOutcome()
    problems = outcome.problems

    for folder in ("directory", "keys", "reachability", "releases"):
        for special in change.specials(folder):
            problems.append(_problem(special.path, "(file)",
                                     f"is a {special.kind}; only regular files are accepted here"))

    try:
        trust = load_trusted(trusted, now=now, cache=cache)
    except DirectoryError as exc:
        problems.append(_problem(AUTHORISATIONS, "(trust)", f"trusted keys from {trusted.label} "
                                 f"cannot be used: {exc}"))
        return outcome
    outcome.trust = trust

    # A change to keys/ must be signed by the base's root key.
    changed_trust = trust
    if base and change.files("keys") != trusted.files("keys"):
        changed_trust = _check_key_change(change, trust, now, problems) or trust
    # So must a change to the Secretariat's reachability records.
    if base and change.files("reachability") != trusted.files("reachability"):
        _check_reachability_change(change, trusted, trust, now, problems)
    # releases/: only release folders and the files derived from them; published releases are
    # append-only, and only genuine ones may be added (archive_rules).
    problems.extend(archive_rules.layout_problems(change, under_review=bool(base)))
    if base and change.files("releases") != trusted.files("releases"):
        problems.extend(archive_rules.change_problems(root, change, trusted, trust, now))
    # Derived files and the floor are judged from release folders found sound (else those
    # folders' own problems say what to fix first).
    published = None
    if not any(p.path.startswith("releases/") and p.severity == Severity.ERROR for p in problems):
        archive = releases or root / "releases"
        problems.extend(archive_rules.derived_problems(archive, _label(root, archive)))
        # The latest release is a floor for every entry, with or without a base.
        try:
            published = outcome.latest = archive_rules.latest_published(archive, trust, now)
        except DirectoryError as exc:
            problems.append(_problem(_label(root, archive), "(release)", str(exc)))
        if published is not None and published.unverified is not None:
            problems.append(_problem(_label(root, archive), "(release)", published.unverified,
                                     severity=Severity.WARNING))

    entries = change.files("directory")
    base_entries = trusted.files("directory") if base else entries
    today = now.date()

    for path in sorted(entries):
        if ENTRY_NAME.fullmatch(path) or SIGNATURE_NAME.fullmatch(path):
            continue
        problems.append(_problem(path, "(file)", "directory/ holds only entries (<cc>.yaml) and their "
                                 "signatures (<cc>.yaml.asc); move or remove this file"))
    for path in sorted(entries):
        match = SIGNATURE_NAME.fullmatch(path)
        if match and f"directory/{match.group(1)}.yaml" not in entries:
            problems.append(_problem(path, "(signature)", "signature without an entry; remove it"))

    # Deleted entries need a root-signed removal.
    # A removal counts only once the State has no authorised key left: an old removal must not
    # stay a standing licence to delete an entry that was re-admitted since.
    removed = {r.code for r in changed_trust.authorisations.removals
               if r.code not in changed_trust.authorisations.states}
    reported: set[str] = set()
    for path in sorted(base_entries):
        match = ENTRY_NAME.fullmatch(path)
        if match and path not in entries:
            code = match.group(1).upper()
            if code not in removed:
                reported.add(code)
                problems.append(_problem(path, "(entry)", f"entry of {code} was deleted without a removal "
                                         f"in root-signed {AUTHORISATIONS}; ask the Secretariat"))
    if published is not None:
        problems.extend(archive_rules.removal_problems(published, entries, removed | reported))

    entry_paths = [p for p in sorted(entries) if ENTRY_NAME.fullmatch(p)]
    outcome.files = len(entry_paths)
    jobs = [SignatureJob(p, _code(p), entries[p], entries[p + ".asc"]) for p in entry_paths
            if p + ".asc" in entries and trust.authorisations.signers_for(_code(p))]

    workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=workers) as pool, ThreadPoolExecutor(max_workers=1) as starter:
        # gpg and gpgv run while this thread validates: the two overlap on the cores.
        verification = starter.submit(submit, pool, jobs, trust, now, cache, workers)
        results = []
        for done, path in enumerate(entry_paths, start=1):
            results.append(validate_entry(entries[path], path, today=today, strict=strict))
            if progress is not None:
                progress("validating entries", done, len(entry_paths))
        verdicts = collect(verification.result(), progress)

    for result in results:
        problems.extend(result.problems)
        found, accepted = _examine(result, verdicts.get(result.source), entries,
                                   base_entries if base else None, trust, now, published)
        problems.extend(found)
        if accepted is not None:
            outcome.accepted.append(accepted)
    outcome.problems = sorted(set(problems))
    return outcome


def _label(root: Path, archive: Path) -> str:
    """How a finding names the archive: ``releases`` in the repository, else its path."""
    try:
        return archive.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(archive)


def _code(path: str) -> str:
    return path[len("directory/"):-len(".yaml")].upper()


def _examine(result: EntryResult, verdict: Verdict | None, entries: dict[str, bytes],
             base_entries: dict[str, bytes] | None, trust: Trust,
             now: dt.datetime, published: archive_rules.Published | None = None,
             ) -> tuple[list[Problem], AcceptedEntry | None]:
    path = result.source
    code = _code(path)
    signature_path = path + ".asc"
    signature = entries.get(signature_path)
    found: list[Problem] = []
    if signature is None:
        found.append(_problem(signature_path, "(signature)",
                              f"missing signature of {code}'s entry; run 'directory247 sign {path}'"))
        return found, None
    authorised = trust.authorisations.signers_for(code)
    if not authorised or verdict is None:
        found.append(_problem(signature_path, "(signature)",
                              f"no key is authorised for {code} in {trust.source}; ask the Secretariat"))
        return found, None
    if isinstance(verdict, SignatureError):
        message = name_other_state(str(verdict).removeprefix(signature_path + ": "), trust, code)
        found.append(_problem(signature_path, "(signature)", message))
        return found, None
    verified = verdict
    entry_tree = result.entry
    model = Entry.from_dict(entry_tree) if result.ok and entry_tree is not None else None
    if entry_tree is not None and result.document is not None:
        demo = entry_tree.get("demo") is True
        if trust.authorisations.demo and not demo:
            line, col = result.document.position(("demo",))
            found.append(_problem(path, "demo", "signed with demonstration keys, so the entry must say "
                                  "demo: true", line, col))
        elif not trust.authorisations.demo and demo:
            line, col = result.document.position(("demo",))
            found.append(_problem(path, "demo", "demonstration entries cannot be published with "
                                  "production keys", line, col))
        if base_entries is not None and base_entries.get(path) != result.data:
            old = _serial_of(base_entries.get(path))
            new = entry_tree.get("serial")
            if old is not None and isinstance(new, int) and new <= old:
                line, col = result.document.position(("serial",))
                found.append(_problem(path, "serial", f"serial {new} is not higher than {old} at the base; "
                                      "raise it on every change (an older signed entry cannot be replayed)",
                                      line, col))
        if published is not None and model is not None and not any(p.field == "serial" for p in found):
            floor = archive_rules.serial_message(published, model)
            if floor is not None:
                line, col = result.document.position(("serial",))
                found.append(_problem(path, "serial", floor, line, col))
    if found or model is None:
        return found, None
    signer = Signer(fingerprint=verified.primary_fingerprint, created=verified.created)
    return found, AcceptedEntry(code, model, result.data, signature, signer)


def _check_reachability_change(change: Snapshot, trusted: Snapshot, trust: Trust, now: dt.datetime,
                               problems: list[Problem]) -> None:
    """The reachability records change only under the base root's signature, and forward."""
    from ..freshness.reachability import REACHABILITY, load_reachability

    if change.read(REACHABILITY) is None and trusted.read(REACHABILITY) is not None:
        problems.append(_problem(REACHABILITY, "(trust)", "the Secretariat's reachability records were deleted; "
                                 "only a root-signed change may replace them"))
        return
    try:
        new = load_reachability(change, trust, now)
    except DirectoryError as exc:
        problems.append(_problem(REACHABILITY, "(trust)", f"reachability/ changed, but the change is not signed by "
                                 f"the root key of the base: {exc}"))
        return
    try:
        old = load_reachability(trusted, trust, now)
    except DirectoryError:
        return  # the base's own records are broken; a root-signed replacement is the fix
    if new.serial <= old.serial:
        problems.append(_problem(REACHABILITY, "serial", f"serial {new.serial} is not higher than {old.serial} at "
                                 "the base (older records cannot be replayed)"))


def _check_key_change(change: Snapshot, base_trust: Trust, now: dt.datetime,
                      problems: list[Problem]) -> Trust | None:
    """A change to keys/ is accepted only with authorisations signed by the base root key."""
    try:
        new_trust = load_trust(change, now=now, root_fingerprint=base_trust.authorisations.root,
                               root_key=base_trust.root_key)
    except DirectoryError as exc:
        message = str(exc).removeprefix(AUTHORISATIONS_SIGNATURE + ": ")
        problems.append(_problem(AUTHORISATIONS_SIGNATURE, "(trust)",
                                 f"keys/ changed, but the change is not signed by the root key of the base: "
                                 f"{message}"))
        return None
    data = change.read(AUTHORISATIONS)
    if data is not None:
        serial = parse_authorisations(data).serial
        if serial <= base_trust.authorisations.serial:
            problems.append(_problem(AUTHORISATIONS, "serial",
                                     f"serial {serial} is not higher than {base_trust.authorisations.serial} "
                                     "at the base"))
    return new_trust
