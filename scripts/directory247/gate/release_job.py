"""The ``release`` verb's core: the whole gate, then one release cut from what it accepted.

``run_release`` gathers the inputs of ``release.pipeline.cut_release`` and decides whether a release
is needed; the command only parses arguments and reports. In order:

1. the derived files of the archive (``index.json``, ``feed.atom``) are rewritten from the
   release folders, so an earlier run stopped after publishing a folder leaves nothing stale;
2. ``check.run_check`` runs the PR gate with the same rules as ``directory247 check``
   (``--base`` or none: without one, the latest verified release is still the floor for
   serials and removals), and any problem refuses the release (``GateRefused``);
3. the reachability records count only with the trusted root's signature;
4. the release key is one the trusted authorisations name;
5. with ``when_needed``, nothing is cut while the latest release carries the same entries
   and reachability results and is not close to expiry;
6. ``cut_release`` renders, reads back, signs, verifies and publishes.

Never prints; ``notes`` hears what the user should know (a release key not pinned, the
derived files rewritten).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pinned, publish
from ..entry.model import timestamp
from ..errors import ReleaseError, UsageError
from ..freshness.reachability import ReachabilityError, load_reachability
from ..problems import Problem
from ..release.archive import refresh_index
from ..release.manifest import Manifest
from ..release.pipeline import VALIDITY, cut_release
from ..release.reachability_results import reachability_unchanged
from ..trust import GnuPG
from ..trust.snapshots import WorkTree
from .check import run_check

if TYPE_CHECKING:
    from ..progress import Progress

#: With ``when_needed``, a release this close to expiry is renewed even if nothing changed.
RENEW_BEFORE = dt.timedelta(days=15)


class GateRefused(ReleaseError):
    """The directory does not pass the gate; ``problems`` says why. Nothing was released."""

    def __init__(self, problems: list[Problem], files: int) -> None:
        super().__init__("the directory does not pass the gate (problems above); nothing was released")
        self.problems = problems
        self.files = files


@dataclass(frozen=True)
class ReleaseOutcome:
    """A release cut (``manifest`` and ``folder``), or the current one kept (``current``)."""

    entries: int
    fingerprint: str
    manifest: Manifest | None = None
    folder: Path | None = None
    current: tuple[str, dt.datetime] | None = None  # (version, expires) when nothing was needed


def choose_key(authorised: tuple[str, ...] | list[str], wanted: str | None) -> str:
    """The release key to sign with: ``wanted``, or the only one authorised."""
    fingerprint = (wanted or "").replace(" ", "").upper() or (authorised[0] if len(authorised) == 1 else "")
    if not fingerprint:
        raise UsageError(f"several release keys are authorised ({', '.join(authorised)}); choose one with --key")
    if fingerprint not in authorised:
        raise ReleaseError(f"{fingerprint} is not an authorised release key in keys/authorisations.yaml "
                           f"(authorised: {', '.join(authorised) or 'none'})")
    return fingerprint


def run_release(root: Path, *, base: str | None, now: dt.datetime, released: dt.datetime,
                releases_dir: Path | None = None, key: str | None = None, gnupghome: str | None = None,
                when_needed: bool = False, notes: Callable[[str], None] = lambda _: None,
                progress: Progress | None = None) -> ReleaseOutcome:
    """Gate, then cut the next release into ``releases_dir`` (default ``root/releases``);
    see the module docstring. Raises ``GateRefused`` or another ``ReleaseError``."""
    releases_dir = releases_dir or root / "releases"
    # The whole run holds the archive's lock: leftovers of a killed release go before the
    # gate sees them, and no other release can add a folder meanwhile.
    with publish.archive_lock(releases_dir) as leftovers:
        for leftover in leftovers:
            notes(leftover)
        try:
            if releases_dir.is_dir() and refresh_index(releases_dir):
                notes(f"rewrote {releases_dir / 'index.json'} and feed.atom from the release folders")
        except ReleaseError:
            pass  # a damaged archive: the gate below says which folder and file
        outcome = run_check(root, base=base, now=now, progress=progress, releases=releases_dir)
        if not outcome.ok or outcome.trust is None:
            raise GateRefused(outcome.problems, outcome.files)
        try:  # the records count only with the TRUSTED root's signature, as in the gate
            reachability = load_reachability(WorkTree(root), outcome.trust, now)
        except ReachabilityError as error:
            raise ReleaseError(f"{error}; re-sign the records with the root key (or remove reachability/tests.yaml and "
                               "its signature to publish no results); nothing was released") from None

        fingerprint = choose_key(outcome.trust.authorisations.release_keys, key)
        public_key = outcome.trust.keys.get(fingerprint)
        if public_key is None:
            raise ReleaseError(f"keys/pubkeys/{fingerprint}.asc is missing; the release key's public key is needed")
        if fingerprint != pinned.RELEASE_KEY_FINGERPRINT:
            notes(f"warning: release key {fingerprint} is not the one pinned in this tool "
                  f"({pinned.RELEASE_KEY_FINGERPRINT}); users must verify with --fingerprint {fingerprint}")

        # The gate read the latest release (verified with any authorised release key: the one
        # signing now may be a new one); a release only a retired or revoked key verifies
        # still numbers the next and feeds its changelog (the gate warned about it).
        previous = outcome.latest.release if outcome.latest is not None else None
        if outcome.latest is not None and outcome.latest.unverified is not None:
            notes(f"warning: {outcome.latest.unverified}")
        accepted = sorted(outcome.accepted, key=lambda a: a.code)
        if when_needed and previous is not None:
            unchanged = [e.to_dict() for e in previous.entries] == [a.entry.to_dict() for a in accepted] and \
                reachability_unchanged(releases_dir / previous.version, reachability, [a.entry for a in accepted],
                                       released)
            if unchanged and previous.expires - now > RENEW_BEFORE:
                return ReleaseOutcome(len(accepted), fingerprint, current=(previous.version, previous.expires))
        remaining = released + VALIDITY - now
        if dt.timedelta(0) < remaining < RENEW_BEFORE:
            raise ReleaseError(f"the release time {timestamp(released)} leaves the release valid for less than "
                               f"{RENEW_BEFORE.days} days; a scheduled 'release --when-needed' would then cut one "
                               "every day. Set SOURCE_DATE_EPOCH to a later commit's time, or leave it unset")
        gnupg = GnuPG(gnupghome=gnupghome)
        published = cut_release(
            accepted=[(a.entry, a.signer) for a in accepted],
            previous=previous,
            released=released,
            now=now,
            sign=lambda data: gnupg.sign(data, key=fingerprint),
            release_key=public_key,
            release_fingerprint=fingerprint,
            releases_dir=releases_dir,
            reachability=reachability,
            progress=progress,
        )
        return ReleaseOutcome(len(accepted), fingerprint, manifest=published.manifest, folder=published.folder)
