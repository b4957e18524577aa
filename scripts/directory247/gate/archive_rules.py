"""The gate's rules for the release archive (``releases/``), and the latest release as a floor.

``check.run_check`` calls these; ``release`` runs the same gate, so no rule here is known to
one verb and not the other. What they enforce:

- ``releases/`` holds only release folders (named by their version), ``index.json`` and
  ``feed.atom``; a leftover ``.staging-*`` folder of an interrupted release is a warning on
  the working tree (the next ``release`` removes it) and an error in a change under review;
- published release folders are append-only, and a folder added by the change verifies with
  an authorised release key (``verify.examine_archived``: one problem per offending file);
- ``index.json`` and ``feed.atom`` are derived files: byte-identical to what the tool derives
  from the release folders (``release.archive.render_index``/``render_feed``), or refused, so a
  change cannot point ``latest`` elsewhere or slip a message into the feed;
- the latest release is a record of what was published, verified with an authorised release
  key: a State published there must still have its entry unless a root-signed removal says
  otherwise, and no entry may go back below the serial it was published with, or change
  without raising it. This holds with or without ``--base`` (a release cut on a working tree
  with a deleted entry is refused like a pull request that deletes it).

Pure of printing; problems are returned as data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..entry.model import Entry, Release
from ..errors import DirectoryError, ReleaseError
from ..problems import Problem, Severity
from ..publish import STAGING_PREFIX, is_temporary
from ..release.manifest import VERSION_FOLDER
from ..trust.authorisations import AUTHORISATIONS, Trust
from ..trust.snapshots import Snapshot

RELEASES = "releases"
INDEX_PATH = f"{RELEASES}/index.json"
FEED_PATH = f"{RELEASES}/feed.atom"
DERIVED = (INDEX_PATH, FEED_PATH)
_REFRESH = "run 'directory247 release --when-needed' (it rewrites index.json and feed.atom from the release folders)"


def _problem(path: str, field_name: str, message: str, severity: Severity = Severity.ERROR) -> Problem:
    return Problem(path, 1, 1, severity, field_name, message)


def _top(path: str) -> str:
    """The first name under ``releases/`` of a path."""
    return path.split("/", 2)[1] if path.count("/") >= 1 else ""


def _leftover(top: str, path: str) -> bool:
    """A staging folder of a killed release, or a temporary file of an interrupted rewrite of
    a derived file (``publish.write_atomic``): the next ``release`` removes both."""
    if top.startswith(STAGING_PREFIX):
        return path.count("/") == 2
    return path.count("/") == 1 and is_temporary(top) and any(
        top.startswith(f".{name.split('/', 1)[1]}.") for name in DERIVED)


def layout_problems(change: Snapshot, *, under_review: bool) -> list[Problem]:
    """Anything under ``releases/`` that is neither a release folder nor a derived file."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for path in change.files(RELEASES):
        top = _top(path)
        if path in DERIVED or (VERSION_FOLDER.fullmatch(top) and path.count("/") == 2) or top in reported:
            continue
        reported.add(top)
        if _leftover(top, path):
            where = f"{RELEASES}/{top}"
            if under_review:
                problems.append(_problem(where, "(release)", "a staging folder of an interrupted release may not be "
                                         "committed; remove it"))
            else:
                problems.append(_problem(where, "(release)", "left over from an interrupted release; the next "
                                         "'directory247 release' removes it", Severity.WARNING))
            continue
        where = path if path.count("/") == 1 else f"{RELEASES}/{top}"
        problems.append(_problem(where, "(release)", "releases/ holds only release folders (named by their "
                                 "version, e.g. 2026.11.1, with files only), index.json and feed.atom; remove it"))
    return problems


def derived_problems(releases: Path, label: str = RELEASES) -> list[Problem]:
    """``index.json`` and ``feed.atom`` of the archive ``releases`` (named ``label`` in
    findings) must be exactly what its release folders give."""
    from ..release.archive import derived_files

    try:
        expected = derived_files(releases)
    except DirectoryError as error:
        return [_problem(label, "(release)", f"the release archive cannot be read: {error}")]
    problems = []
    for path in DERIVED:
        name = path.split("/", 1)[1]
        try:
            found: bytes | None = (releases / name).read_bytes() if (releases / name).is_file() else None
        except OSError:
            found = None
        wanted = expected.get(name)
        if found == wanted:
            continue
        where = f"{label}/{name}"
        if wanted is None:
            problems.append(_problem(where, "(release)", "there is no release yet, so there is nothing to list; "
                                     "remove it"))
        elif found is None:
            problems.append(_problem(where, "(release)", f"missing; {_REFRESH}"))
        else:
            problems.append(_problem(where, "(release)", "is not what the release folders give (it is derived "
                                     f"from them and may not be edited by hand); {_REFRESH}"))
    return problems


def change_problems(root: Path, change: Snapshot, trusted: Snapshot, trust: Trust,
                    now: dt.datetime) -> list[Problem]:
    """Published releases never change; a new release folder must verify with a release key."""
    from ..release.verify import ReleaseFinding, examine_archived

    old, new = trusted.files(RELEASES), change.files(RELEASES)
    problems: list[Problem] = []
    added: set[str] = set()
    for path in sorted(set(old) | set(new)):
        folder = _top(path) if path.count("/") >= 2 else ""
        if path in DERIVED or old.get(path) == new.get(path):
            continue
        if path in old or any(p.startswith(f"{RELEASES}/{folder}/") for p in old):
            problems.append(_problem(path, "(release)", "published releases are append-only; this file may not "
                                     "change or disappear"))
        elif VERSION_FOLDER.fullmatch(folder) and path.count("/") == 2:
            added.add(folder)
        # anything else is not a release at all: layout_problems reports it
    keys = trust.authorisations.release_keys
    for folder in sorted(added):
        if not keys:
            problems.append(_problem(f"{RELEASES}/{folder}", "(release)", "not a genuine release: no release key "
                                     f"is authorised in {AUTHORISATIONS}"))
            continue
        first: list[ReleaseFinding] | None = None
        for fingerprint in keys:
            findings = examine_archived(root / RELEASES / folder, release_key=trust.keys.get(fingerprint),
                                        fingerprint=fingerprint, now=now)
            if not findings:
                break
            first = first if first is not None else findings
        else:
            for finding in first or []:
                where = f"{RELEASES}/{folder}/{finding.name}" if finding.name else f"{RELEASES}/{folder}"
                problems.append(_problem(where, "(release)", f"not a genuine release: {finding.message}"))
    return problems


@dataclass(frozen=True)
class Published:
    """The latest release: the floor every entry stands on."""

    release: Release
    #: why no authorised release key verifies it (a key rotated out or revoked), or None
    unverified: str | None = None

    @property
    def version(self) -> str:
        return self.release.version

    @property
    def entries(self) -> dict[str, Entry]:  # by code
        return {entry.code: entry for entry in self.release.entries}


def latest_published(releases: Path, trust: Trust, now: dt.datetime) -> Published | None:
    """The latest release of the archive ``releases`` and, when no authorised release key
    verifies it (a key rotated out or revoked since), why not; None before the first release.

    The floor only ever refuses, so a release the current keys cannot verify still counts
    (with a warning): rotating or revoking the release key must not stop the gate. A damaged
    folder is an error."""
    from ..release.archive import newest_release

    keys = {fingerprint: trust.keys.get(fingerprint) for fingerprint in trust.authorisations.release_keys}
    try:
        release, unverified = newest_release(releases, keys, now=now)
    except DirectoryError as error:
        raise ReleaseError(f"the latest release cannot be read: {error}") from None
    return Published(release, unverified) if release is not None else None


def removal_problems(published: Published, entries: dict[str, bytes], removed: set[str]) -> list[Problem]:
    """A State published in the latest release keeps its entry unless root-signed removal."""
    problems = []
    for code in sorted(published.entries):
        path = f"directory/{code.lower()}.yaml"
        if path not in entries and code not in removed:
            problems.append(_problem(path, "(entry)", f"entry of {code} was published in release "
                                     f"{published.version} and deleted without a removal in root-signed "
                                     f"{AUTHORISATIONS}; ask the Secretariat"))
    return problems


def serial_message(published: Published, entry: Entry) -> str | None:
    """Why an entry may not stand on the latest release's record of it, or None."""
    before = next((e for e in published.release.entries if e.code == entry.code), None)
    if before is None:
        return None
    if entry.serial < before.serial:
        return (f"serial {entry.serial} is lower than {before.serial} in release {published.version}; an older "
                "signed entry cannot be replayed")
    if entry.serial == before.serial and entry.to_dict() != before.to_dict():
        return (f"serial {entry.serial} is the one published in release {published.version}, but the entry "
                "changed; raise it on every change")
    return None
