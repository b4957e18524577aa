"""Many entry signatures checked by one gpg per core: a fast path in front of ``verify``.

A check verifies one signature per entry. One ``gpgv`` per entry pays, every time, for a
process start, reading its keyring and checking the key's self-signatures; that is most of
what it costs. Here the States are split into one group per core; each group's authorised
key files are imported once into a private, throwaway GnuPG home, as gpgv reads them (no
repair, local signatures kept, no agent started), gpg lists them (the key
material ``verify`` needs: expiry and revocation of each key and subkey), and ONE
``gpg --verify-files`` checks all the group's entries, each given as its detached signature
followed by a literal data packet holding exactly the entry's bytes.

Only a verdict that gpgv, given the State's own keys, would give the same is kept:

- exactly one ``NEWSIG``, one ``GOODSIG`` and one ``VALIDSIG`` of a version 4, binary-mode
  (class 00) signature, and nothing but the informational lines of a good signature
  (``_GOOD_LINES``): any error, bad, expired or revoked result, or anything unknown, is left
  to gpgv;
- the primary key that made it is in one of that State's OWN authorised key files (in a
  shared home another State's key verifies too; the policy refuses that, and gpgv's own
  reading then says why), and no primary key is in two key files of the group (gpg would
  merge them on import).

Every entry not kept, and every entry of a group where anything went wrong (import, listing,
output that cannot be attributed), goes to gpgv as before, so every refusal is reported from
gpgv's reading. A kept verdict is stored where gpgv's would be: under the verification cache
key of the State's own key files, the signature file and the data
(``signatures.status_cache_key``); ``signatures.verify`` then applies the whole policy to it,
at ``now``, as to gpgv's.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import SignatureError, TrustError
from .signatures import (
    _MEMORY_FOLDER,
    _attributable,
    _claim,
    _dearmor_key,
    _key_id,
    _KeyMaterial,
    _material_rows,
    _parse_listing,
    _parsed_keys,
    _parsed_keys_lock,
    _ParsedKey,
    _pending_keys,
    _run,
    _signature_packets,
    _status,
    material_cache_key,
    status_cache_key,
)

#: Below this many unverified entries gpgv alone is as fast: no batch.
BATCH_MIN = 16

#: Status keywords a good signature may carry besides NEWSIG, GOODSIG and VALIDSIG.
_GOOD_LINES = frozenset({
    "KEY_CONSIDERED", "SIG_ID", "PLAINTEXT", "PLAINTEXT_LENGTH", "NOTATION_NAME", "NOTATION_FLAGS",
    "NOTATION_DATA", "POLICY_URL", "TRUST_UNDEFINED", "TRUST_NEVER", "TRUST_MARGINAL", "TRUST_FULLY",
    "TRUST_ULTIMATE", "VERIFICATION_COMPLIANCE_MODE",
})  # fmt: skip
_RESULT_LINES = frozenset({"NEWSIG", "GOODSIG", "VALIDSIG"})
_LITERAL_PACKET = 11

#: The largest data given to the batch: far above any entry (the loader refuses entries of
#: more than 256 KiB), far below what one literal packet length can say (4 GiB).
_LARGEST = 1 << 30

StatusLines = list[list[str]]
_KeyId = tuple[str, bytes]


@dataclass(frozen=True)
class BatchItem:
    """One entry to check: its State's authorised key files, its signature and its bytes."""

    state: str
    keys: tuple[bytes, ...]
    signature: bytes
    data: bytes


def packet(tag: int, body: bytes) -> bytes:
    """An OpenPGP packet in the new format (RFC 4880 4.2.2)."""
    size = len(body)
    if size < 192:
        header = bytes([size])
    elif size < 8384:
        header = bytes([((size - 192) >> 8) + 192, (size - 192) & 0xFF])
    else:
        header = b"\xff" + size.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + header + body


def literal_packet(data: bytes) -> bytes:
    """``data`` as an OpenPGP literal data packet (RFC 4880 5.9): binary, no name, no date.
    A version 4 signature covers the data only, not these fields."""
    return packet(_LITERAL_PACKET, b"b\x00\x00\x00\x00\x00" + data)


def good(segment: StatusLines, own_primaries: set[str]) -> bool:
    """Whether gpg's lines on one message are a clean good signature by one of ``own_primaries``."""
    keywords = [fields[0] for fields in segment]
    if any(keywords.count(word) != 1 for word in _RESULT_LINES):
        return False
    if any(len(fields) < 2 for fields in segment if fields[0] == "GOODSIG"):
        return False
    if any(word not in _GOOD_LINES and word not in _RESULT_LINES for word in keywords):
        return False
    # VALIDSIG fpr date time expire version reserved pkalgo hashalgo class primary-fpr
    fields = next(fields[1:] for fields in segment if fields[0] == "VALIDSIG")
    # GOODSIG long-key-id user-id: the key id is the signing key's, as gpg says in VALIDSIG.
    key_id = next(fields[1] for fields in segment if fields[0] == "GOODSIG" and len(fields) > 1)
    return (len(fields) == 10 and fields[4] == "4" and fields[8] == "00" and fields[9].upper() in own_primaries
            and len(fields[0]) == 40 and key_id.upper() == fields[0].upper()[-16:])


def _segments(output: bytes, count: int, folder: str) -> tuple[dict[int, StatusLines], int | None]:
    """The status lines of each message, by number, and the number of the last message gpg
    started; a message whose lines cannot be told apart for certain is left out."""
    found: dict[int, StatusLines] = {}
    current: int | None = None
    started: int | None = None
    lines: StatusLines = []
    for fields in _status(output):
        if fields[0] == "FILE_START":
            path = " ".join(fields[2:])
            name = os.path.basename(path)
            valid = os.path.dirname(path) == folder and name.isdigit() and int(name) < count
            current, lines = (int(name) if valid else None), []
            started = current if current is not None else started
        elif fields[0] == "FILE_DONE":
            if current is not None and current not in found:
                found[current] = lines
            current, lines = None, []
        elif current is not None:
            lines.append(fields)
    return found, started


def _verify_files(base: list[str], paths: list[str], folder: str) -> dict[int, StatusLines]:
    """gpg's lines on each message. gpg stops at the first BAD signature; the messages after
    it are given to a new run (the bad one is left to gpgv)."""
    segments: dict[int, StatusLines] = {}
    pending = list(range(len(paths)))
    while pending:
        checked = _run([*base, "--status-fd", "1", "--verify-files"],
                       "".join(paths[number] + "\n" for number in pending).encode(), what="verify signatures")
        found, started = _segments(checked.stdout, len(paths), folder)
        segments.update((number, lines) for number, lines in found.items() if number in pending)
        if started is None or started not in pending:
            break
        pending = pending[pending.index(started) + 1:]
    return segments


def _release(claimed: dict[_KeyId, bytes], parsed: dict[_KeyId, _ParsedKey]) -> None:
    """Publish what was read of the claimed key files; the rest is read the usual way."""
    with _parsed_keys_lock:
        _parsed_keys.update(parsed)
        for ident in claimed:
            event = _pending_keys.pop(ident, None)
            if event is not None:
                event.set()


def _group(items: Sequence[tuple[int, BatchItem, bytes]], gpg_binary: str,
           material_cache: MutableMapping[str, StatusLines] | None) -> dict[int, StatusLines]:
    """Import the group's keys, read them, verify its entries: the kept status lines by item number."""
    files: dict[bytes, bytes] = {}  # key file -> its binary packets
    for _number, item, _packets in items:
        for key in item.keys:
            if key not in files:
                files[key] = _dearmor_key(0, key)
    primaries: dict[bytes, set[str]] = {}
    owners: dict[str, set[bytes]] = {}
    for key, binary in files.items():
        fingerprints = _attributable(binary)
        if fingerprints is None:
            return {}  # not whole v4 keyblocks: gpgv reads this group's keys as always
        primaries[key] = fingerprints
        for fingerprint in fingerprints:
            owners.setdefault(fingerprint, set()).add(binary)
    shared = {fingerprint for fingerprint, holders in owners.items() if len(holders) > 1}
    claimed = _claim(files, gpg_binary)
    parsed: dict[_KeyId, _ParsedKey] = {}
    memory = os.path.isdir(_MEMORY_FOLDER) and os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK)
    try:
        with tempfile.TemporaryDirectory(prefix="directory247-batch-", dir=_MEMORY_FOLDER if memory else None) as home:
            # --no-autostart: importing would otherwise start a gpg-agent (to look for secret keys).
            base = [gpg_binary, "--homedir", home, "--no-options", "--batch", "--no-autostart", "--disable-dirmngr",
                    "--trust-model", "always"]
            # As gpgv reads the key files: as they are (no-repair-keys, which also spares gpg a
            # second check of every self-signature), local self-signatures included (a
            # non-exportable revocation counts for gpgv; gpg drops it on import otherwise).
            imported = _run([*base, "--import-options", "no-repair-keys,import-local-sigs", "--import"],
                            b"".join(dict.fromkeys(files.values())), what="import the authorised keys")
            if imported.returncode != 0:
                return {}
            listing = _run([*base, "--with-colons", "--list-keys"], b"", what="read the authorised keys")
            if listing.returncode != 0:
                return {}
            material: dict[str, dict[str, _KeyMaterial]] = {}
            for primary, keys in _parse_listing(listing.stdout):
                if primary in material:
                    return {}
                material[primary] = keys
            if set(material) != set(owners):
                return {}  # gpg left a key out, or listed one no file holds
            day = datetime.now(UTC).date()
            for key in files:
                ident = _key_id(gpg_binary, key)
                if ident in claimed and not primaries[key] & shared:
                    read: dict[str, _KeyMaterial] = {}
                    for fingerprint in sorted(primaries[key]):
                        read.update(material[fingerprint])
                    parsed[ident] = _ParsedKey(read)
                    if material_cache is not None:
                        material_cache[material_cache_key(gpg_binary, key, day)] = _material_rows(read)

            messages = os.path.join(home, "messages")
            os.mkdir(messages, 0o700)
            names = []
            for position, (_number, item, packets) in enumerate(items):
                path = os.path.join(messages, str(position))
                with open(path, "wb") as file:
                    file.write(packets + literal_packet(item.data))
                names.append(path)
            segments = _verify_files(base, names, messages)
    except (SignatureError, OSError):
        return {}  # no gpg, or it failed: gpgv, entry by entry, says what is wrong
    finally:
        _release(claimed, parsed)
    kept: dict[int, StatusLines] = {}
    for position, (number, item, _packets) in enumerate(items):
        own = {fingerprint for key in item.keys for fingerprint in primaries[key]} - shared
        segment = segments.get(position)
        if segment is not None and good(segment, own):
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
            groups: int = 2, gpg_binary: str = "gpg",
            material_cache: MutableMapping[str, StatusLines] | None = None) -> int:
    """Check ``items`` in ``groups`` parallel gpg runs; store each kept verdict in ``statuses``
    (a verification cache, or a plain dict for one run) under the key ``verify`` looks up
    with this ``context``. Returns how many were kept; the others are for gpgv."""
    packets: dict[int, bytes] = {}
    for number, item in enumerate(items):
        if len(item.data) > _LARGEST:
            continue  # more than a literal packet of one length field holds: gpgv alone
        try:
            packets[number] = _signature_packets("", item.signature)
        except SignatureError:
            continue  # refused by rule 1 or 2 before any gpg runs
    if len(packets) < BATCH_MIN:
        return 0
    work = [[(number, items[number], packets[number]) for number in part if number in packets]
            for part in split([item.state for item in items], groups)]
    results: list[dict[int, StatusLines]] = [{} for _ in work]

    def run(index: int) -> None:
        try:
            results[index] = _group(work[index], gpg_binary, material_cache)
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


__all__ = ["BATCH_MIN", "BatchItem", "good", "literal_packet", "packet", "prefill", "split"]
