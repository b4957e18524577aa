"""The pull-request gate: is every entry provably from its own State, and is the change allowed?

``run_check`` reads the change under review from the working tree and everything it trusts
(root key, authorisations, public keys, published serials) from the trusted base: a git
revision given with ``--base``, or the working tree itself when there is none (a Party's own
checkout, or the protected branch when cutting a release). It collects every problem:

- every entry validates (strict YAML, schema, rules);
- every entry has ``<cc>.yaml.asc``, one signature that meets the policy in ``signatures``
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
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .authorisations import AUTHORISATIONS, AUTHORISATIONS_SIGNATURE, Trust, load_trust, parse_authorisations
from .cache import StatusCache
from .errors import DirectoryError, SignatureError
from .loader import load_entry
from .model import Entry, Signer
from .problems import Problem, Severity, has_errors
from .repository import GitRevision, Snapshot, WorkTree
from .signatures import verify
from .validation import EntryResult, validate_entry

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
    return int(value) if isinstance(value, str) and value.isdigit() else None


def run_check(root: Path, *, base: str | None, now: dt.datetime, strict: bool = False,
              workers: int | None = None, cache: StatusCache | None = None) -> CheckOutcome:
    """Check the working tree at ``root`` against the trusted ``base`` revision (or itself).

    ``cache`` (see ``cache.py``) skips gpgv for signatures verified before over the same
    bytes and keys; every other rule runs again."""
    change = WorkTree(root)
    trusted: Snapshot = GitRevision(root, base) if base else change
    outcome = CheckOutcome()
    problems = outcome.problems

    for folder in ("directory", "keys"):
        for special in change.specials(folder):
            problems.append(_problem(special.path, "(file)",
                                     f"is a {special.kind}; only regular files are accepted here"))

    try:
        trust = load_trust(trusted, now=now)
    except DirectoryError as exc:
        problems.append(_problem(AUTHORISATIONS, "(trust)", f"trusted keys from {trusted.label} "
                                 f"cannot be used: {exc}"))
        return outcome
    outcome.trust = trust

    # A change to keys/ must be signed by the base's root key.
    changed_trust = trust
    if base and change.files("keys") != trusted.files("keys"):
        changed_trust = _check_key_change(change, trust, now, problems) or trust

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
    removed = {r.code for r in changed_trust.authorisations.removals}
    for path in sorted(base_entries):
        match = ENTRY_NAME.fullmatch(path)
        if match and path not in entries:
            code = match.group(1).upper()
            if code not in removed:
                problems.append(_problem(path, "(entry)", f"entry of {code} was deleted without a removal "
                                         f"in root-signed {AUTHORISATIONS}; ask the Secretariat"))

    entry_paths = [p for p in sorted(entries) if ENTRY_NAME.fullmatch(p)]
    outcome.files = len(entry_paths)
    results = [validate_entry(entries[p], p, today=today, strict=strict) for p in entry_paths]
    for result in results:
        problems.extend(result.problems)

    def examine(result: EntryResult) -> tuple[list[Problem], AcceptedEntry | None]:
        return _examine(result, entries, base_entries if base else None, trust, now, cache)

    with ThreadPoolExecutor(max_workers=workers or max(2, (os.cpu_count() or 2) * 2)) as pool:
        for found, accepted in pool.map(examine, results):
            problems.extend(found)
            if accepted is not None:
                outcome.accepted.append(accepted)
    outcome.problems = sorted(set(problems))
    return outcome


def _examine(result: EntryResult, entries: dict[str, bytes], base_entries: dict[str, bytes] | None,
             trust: Trust, now: dt.datetime,
             cache: StatusCache | None) -> tuple[list[Problem], AcceptedEntry | None]:
    path = result.source
    code = path[len("directory/"):-len(".yaml")].upper()
    signature_path = path + ".asc"
    signature = entries.get(signature_path)
    found: list[Problem] = []
    if signature is None:
        found.append(_problem(signature_path, "(signature)",
                              f"missing signature of {code}'s entry; run 'directory247 sign {path}'"))
        return found, None
    authorised = trust.authorisations.signers_for(code)
    if not authorised:
        found.append(_problem(signature_path, "(signature)",
                              f"no key is authorised for {code} in {trust.source}; ask the Secretariat"))
        return found, None
    try:
        verified = verify(result.data, signature, keys=trust.keys_for(code), allowed=set(authorised),
                          now=now, label=signature_path, state=code, cache=cache)
    except SignatureError as exc:
        message = _name_other_state(str(exc).removeprefix(signature_path + ": "), trust, code)
        found.append(_problem(signature_path, "(signature)", message))
        return found, None
    entry_tree = result.entry
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
    if found or not result.ok or entry_tree is None:
        return found, None
    signer = Signer(fingerprint=verified.primary_fingerprint, created=verified.created)
    return found, AcceptedEntry(code, Entry.from_dict(entry_tree), result.data, signature, signer)


_UNKNOWN_KEY = re.compile(r"signed by unknown key ([0-9A-F]{16,40}), which is not authorised for ([A-Z]{2})")


def _name_other_state(message: str, trust: Trust, code: str) -> str:
    """A key unknown to this State's keyring may be another State's: say so, it is the likelier mistake."""
    match = _UNKNOWN_KEY.fullmatch(message)
    if not match:
        return message
    key_id = match.group(1)
    owners = sorted(other for other, fprs in trust.authorisations.states.items()
                    if any(f.endswith(key_id) for f in fprs))
    if not owners:
        return message
    fpr = next(f for f in trust.authorisations.signers_for(owners[0]) if f.endswith(key_id))
    return f"signed by {fpr}, which is not authorised for {code} (it is authorised for {', '.join(owners)})"


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
