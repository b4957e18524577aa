"""Many entry signatures checked by one gpg per core: a fast path in front of ``verify``.

A check verifies one signature per entry. One ``gpgv`` per entry pays, every time, for a
process start, reading its keyring and checking the key's self-signatures; that is most of
what it costs. Here the States are split into one group per core; each group's authorised
key files are imported once into a private, throwaway GnuPG home (``gnupg.SharedHome``), as
gpgv reads them, gpg lists them (the key material the policy needs: expiry and revocation of
each key and subkey), and ONE ``gpg --verify-files`` checks all the group's entries.

A verdict is kept only when BOTH hold:

- the policy accepts it: ``policy.judge`` on gpg's lines and gpg's reading of the State's own
  keys, at the real time (or ``now``), the same function ``verify`` applies;
- the batch's own attribution conditions (``attributed``), which are not policy but make gpg's
  lines in a shared home stand for gpgv's with the State's keys alone: nothing but the
  informational lines of a good signature; a version 4 signature (its literal packet's
  fields are not signed); GOODSIG's key id that of VALIDSIG's key; and the primary key that
  made it in one of that State's OWN key files (in a shared home another State's key
  verifies too), no primary key being in two key files of the group (gpg merges them).

Every entry not kept, and every entry of a group where anything went wrong (import, listing,
output that cannot be attributed), goes to gpgv as before, so every refusal is reported from
gpgv's reading. A kept verdict is stored where gpgv's would be: under the verification cache
key of the State's own key files, the signature file and the data
(``verifier.status_cache_key``); ``verify`` then judges it again, at its own ``now``, with
the authorisation of the State, as it judges gpgv's.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from directory247.errors import SignatureError, TrustError

from .gnupg import SharedHome
from .keys import claim_keys
from .openpgp import dearmor_key, keyblock_primaries, signature_packets
from .policy import Verified, judge
from .status import KeyMaterial, StatusLines, parse_listing
from .verifier import status_cache_key

__all__ = ["BATCH_MIN", "BatchItem", "attributed", "prefill", "split"]

#: Below this many unverified entries gpgv alone is as fast: no batch.
BATCH_MIN = 16

#: Status keywords a good signature may carry besides NEWSIG, GOODSIG and VALIDSIG.
_GOOD_LINES = frozenset({
    "KEY_CONSIDERED", "SIG_ID", "PLAINTEXT", "PLAINTEXT_LENGTH", "NOTATION_NAME", "NOTATION_FLAGS",
    "NOTATION_DATA", "POLICY_URL", "TRUST_UNDEFINED", "TRUST_NEVER", "TRUST_MARGINAL", "TRUST_FULLY",
    "TRUST_ULTIMATE", "VERIFICATION_COMPLIANCE_MODE",
})  # fmt: skip
_RESULT_LINES = frozenset({"NEWSIG", "GOODSIG", "VALIDSIG"})

#: The largest data given to the batch: far above any entry (the loader refuses entries of
#: more than 256 KiB), far below what one literal packet length can say (4 GiB).
_LARGEST = 1 << 30

_Work = Sequence[tuple[int, "BatchItem", bytes]]  # (item number, item, signature packets)


@dataclass(frozen=True)
class BatchItem:
    """One entry to check: its State's authorised key files, its signature and its bytes."""

    state: str
    keys: tuple[bytes, ...]
    signature: bytes
    data: bytes


def attributed(segment: StatusLines, own_primaries: set[str]) -> bool:
    """Whether gpg's lines on one message, in the shared home, say what gpgv would say with
    the State's own keys alone: only the lines of a good signature, one GOODSIG naming the
    key of the one VALIDSIG, a version 4 signature by one of ``own_primaries``. Not policy:
    ``judge`` must accept the lines too."""
    if any(fields[0] not in _GOOD_LINES and fields[0] not in _RESULT_LINES for fields in segment):
        return False
    goodsig = [fields[1:] for fields in segment if fields[0] == "GOODSIG"]
    validsig = [fields[1:] for fields in segment if fields[0] == "VALIDSIG"]
    if len(goodsig) != 1 or len(validsig) != 1 or not goodsig[0]:
        return False
    # VALIDSIG fpr date time expire version reserved pkalgo hashalgo class primary-fpr
    fields = validsig[0]
    # GOODSIG long-key-id user-id: the key id is the signing key's, as gpg says in VALIDSIG.
    return (len(fields) == 10 and fields[4] == "4" and fields[9].upper() in own_primaries
            and len(fields[0]) == 40 and goodsig[0][0].upper() == fields[0].upper()[-16:])


def _ownership(files: dict[bytes, bytes]) -> tuple[dict[bytes, set[str]], set[str]] | None:
    """The primary fingerprints of each key file, and those in more than one file; None when a
    file is not whole v4 keyblocks (then gpgv reads the group's keys as always)."""
    primaries: dict[bytes, set[str]] = {}
    holders: dict[str, set[bytes]] = {}
    for key, binary in files.items():
        fingerprints = keyblock_primaries(binary)
        if fingerprints is None:
            return None
        primaries[key] = fingerprints
        for fingerprint in fingerprints:
            holders.setdefault(fingerprint, set()).add(binary)
    return primaries, {fingerprint for fingerprint, files in holders.items() if len(files) > 1}


def _listed(listing: bytes, expected: set[str]) -> dict[str, dict[str, KeyMaterial]] | None:
    """gpg's listing of the home by primary fingerprint; None unless it lists each expected
    primary key once and nothing else."""
    material: dict[str, dict[str, KeyMaterial]] = {}
    for primary, keys in parse_listing(listing):
        if primary in material:
            return None
        material[primary] = keys
    return material if set(material) == expected else None


@dataclass(frozen=True)
class _Checked:
    """What one gpg run in a shared home said of a group: its lines on each message (by
    position), the primary fingerprints of each key file, those in two files, and gpg's
    reading of the keys by primary fingerprint."""

    segments: dict[int, StatusLines]
    primaries: dict[bytes, set[str]]
    shared: set[str]
    material: dict[str, dict[str, KeyMaterial]]

    def own(self, item: BatchItem) -> set[str]:
        """The primary keys in the item's own key files, and in no other file of the group."""
        return {fingerprint for key in item.keys for fingerprint in self.primaries[key]} - self.shared

    def reading(self, primaries: set[str]) -> dict[str, KeyMaterial]:
        return {fingerprint: m for primary in sorted(primaries) for fingerprint, m in self.material[primary].items()}


def _check_group(work: _Work, gpg_binary: str,
                 material_cache: MutableMapping[str, StatusLines] | None) -> _Checked | None:
    """Import the group's keys, read them, verify its entries; None when any of it failed
    (then gpgv, entry by entry, says what is wrong)."""
    files: dict[bytes, bytes] = {}  # key file -> its binary packets
    for _number, item, _packets in work:
        for key in item.keys:
            if key not in files:
                files[key] = dearmor_key(0, key)
    ownership = _ownership(files)
    if ownership is None:
        return None
    primaries, shared = ownership
    claim = claim_keys(files, gpg_binary, material_cache)
    try:
        with SharedHome(gpg_binary) as home:
            listing = home.import_keys(b"".join(dict.fromkeys(files.values())))
            every = {fingerprint for fingerprints in primaries.values() for fingerprint in fingerprints}
            material = _listed(listing, every) if listing is not None else None
            if material is None:
                return None  # gpg failed, left a key out, or listed one no file holds
            checked = _Checked({}, primaries, shared, material)
            for key in files:
                if claim.holds(key) and not primaries[key] & shared:
                    claim.read(key, checked.reading(primaries[key]))
            segments = home.status_many([(packets, item.data) for _number, item, packets in work])
    except (SignatureError, OSError):
        return None  # no gpg, or it failed
    finally:
        claim.settle()
    return _Checked(segments, primaries, shared, material)


def _group(work: _Work, gpg_binary: str, material_cache: MutableMapping[str, StatusLines] | None,
           now: datetime) -> dict[int, StatusLines]:
    """The kept status lines of the group's items, by item number: accepted by the policy
    AND attributed."""
    checked = _check_group(work, gpg_binary, material_cache)
    if checked is None:
        return {}
    kept: dict[int, StatusLines] = {}
    for position, (number, item, _packets) in enumerate(work):
        segment = checked.segments.get(position)
        own = checked.own(item)
        if segment is None or not attributed(segment, own):
            continue
        verdict = judge(segment, checked.reading(own), allowed=own, now=now, state=item.state)
        if isinstance(verdict, Verified):
            kept[number] = segment
    return kept


def split(states: Sequence[str], groups: int) -> list[list[int]]:
    """Item numbers in at most ``groups`` groups of whole States, about equal in items."""
    by_state: dict[str, list[int]] = {}
    for number, state in enumerate(states):
        by_state.setdefault(state, []).append(number)
    parts: list[list[int]] = [[] for _ in range(max(1, groups))]
    for state in sorted(by_state, key=lambda s: (-len(by_state[s]), s)):
        min(parts, key=len).extend(by_state[state])
    return [sorted(part) for part in parts if part]


def prefill(items: Sequence[BatchItem], statuses: MutableMapping[str, StatusLines], *, context: bytes = b"",
            groups: int = 2, gpg_binary: str = "gpg", material_cache: MutableMapping[str, StatusLines] | None = None,
            now: datetime | None = None) -> int:
    """Check ``items`` in ``groups`` parallel gpg runs; store each kept verdict in ``statuses``
    (a verification cache, or a plain dict for one run) under the key ``verify`` looks up
    with this ``context``. The policy is applied at ``now`` (default: the real time) only to
    choose what to keep; ``verify`` applies it at its own. Returns how many were kept; the
    others are for gpgv."""
    moment = now if now is not None else datetime.now(UTC)
    packets: dict[int, bytes] = {}
    for number, item in enumerate(items):
        if len(item.data) > _LARGEST:
            continue  # more than a literal packet of one length field holds: gpgv alone
        try:
            packets[number] = signature_packets("", item.signature)
        except SignatureError:
            continue  # refused by rule 1 or 2 before any gpg runs
    if len(packets) < BATCH_MIN:
        return 0
    work = [[(number, items[number], packets[number]) for number in part if number in packets]
            for part in split([item.state for item in items], groups)]
    results: list[dict[int, StatusLines]] = [{} for _ in work]

    def run(index: int) -> None:
        try:
            results[index] = _group(work[index], gpg_binary, material_cache, moment)
        except TrustError:  # a key file that cannot be read: gpgv's path reports it in its place
            results[index] = {}

    threads = [threading.Thread(target=run, args=(index,), name="directory247-batch") for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = 0
    for result in results:
        for number, segment in result.items():
            item = items[number]
            statuses[status_cache_key(item.keys, item.signature, item.data, context)] = segment
            kept += 1
    return kept
