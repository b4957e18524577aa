"""Authorised keys as the policy needs them: gpg's reading of each key file (expiry and
revocation of every primary key and subkey), shared by the threads of this process.

A directory has hundreds of States and one gpg call per State costs ~7 ms, so key files are
read many at a time (``preload_keys``, and the batch through ``claim_keys``), each reading
remembered by the digest of the file's bytes, and, with a verification cache, kept there for
the day. ``keyring`` gives the reading of a key set: from what is remembered when every file
of the set is, else with one gpg call of its own, exactly as it always did.

What this module does NOT own: which keys are authorised (the caller passes them), or what
their state means for a signature (``policy``).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from directory247.errors import SignatureError, TrustError

from . import gnupg
from .openpgp import dearmor_key, keyblock_primaries
from .policy import POLICY_VERSION
from .status import KeyMaterial, complaint, parse_listing, timestamp

__all__ = [
    "KeyClaim",
    "Keyring",
    "claim_keys",
    "forget_keys",
    "keyring",
    "keyring_binary",
    "material_cache_key",
    "preload_keys",
    "read_keyring",
    "remembered_key_files",
]

_KEY_CACHE_SIZE = 4096
#: Keys per gpg call when reading in the background: the first States' keys are ready at
#: once, and the readers share the cores with gpgv instead of holding up the first verdicts.
_BACKGROUND_CHUNK = 32
_KeyId = tuple[str, bytes]  # (gpg binary, sha256 of the key file's bytes)
_Cache = MutableMapping[str, list[list[str]]]


@dataclass(frozen=True)
class Keyring:
    """gpg's reading of a key set: the material of each primary key and subkey, by fingerprint."""

    keys: dict[str, KeyMaterial]


_parsed_keys: dict[_KeyId, Keyring] = {}
_pending_keys: dict[_KeyId, threading.Event] = {}
_parsed_keys_lock = threading.Lock()


def _key_id(gpg_binary: str, key: bytes) -> _KeyId:
    return gpg_binary, hashlib.sha256(key).digest()


def material_cache_key(gpg_binary: str, key: bytes, day: date) -> str:
    """Where gpg's reading of one key file is kept in a verification cache.

    The reading is a function of the key's bytes; the day is part of the key so that gpg's
    view of the key (which self-signature is current) is refreshed at least once a day."""
    digest = hashlib.sha256()
    for part in (POLICY_VERSION.encode(), gpg_binary.encode(), day.isoformat().encode(), key):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "key-material:" + digest.hexdigest()


def _material_rows(material: Mapping[str, KeyMaterial]) -> list[list[str]]:
    return [[m.fingerprint, m.primary_fingerprint, str(int(m.expires.timestamp())) if m.expires else "",
             "revoked" if m.revoked else ""] for m in material.values()]


def _material_from_rows(rows: list[list[str]]) -> dict[str, KeyMaterial] | None:
    material: dict[str, KeyMaterial] = {}
    for row in rows:
        if len(row) != 4 or not all(isinstance(field, str) for field in row):
            return None
        fingerprint, primary, expires, revoked = row
        if expires and not expires.isdigit():
            return None
        material[fingerprint] = KeyMaterial(fingerprint, primary, timestamp(expires), revoked == "revoked")
    return material or None


class KeyClaim:
    """Key files that one caller has undertaken to read: nobody else reads them meanwhile, and
    ``keyring`` waits for them until the claim is settled. The caller records what it read
    (``read``), then ALWAYS calls ``settle``, which publishes the readings and releases the
    rest, to be read the usual way."""

    def __init__(self, claimed: dict[_KeyId, bytes], gpg_binary: str, cache: _Cache | None) -> None:
        self._claimed = claimed
        self._readings: dict[_KeyId, Keyring] = {}
        self._day = datetime.now(UTC).date()
        self.gpg_binary = gpg_binary
        self.cache = cache

    @property
    def key_files(self) -> list[bytes]:
        return list(self._claimed.values())

    def holds(self, key: bytes) -> bool:
        return _key_id(self.gpg_binary, key) in self._claimed

    def chunks(self, size: int) -> list[KeyClaim]:
        items = list(self._claimed.items())
        return [KeyClaim(dict(items[start:start + size]), self.gpg_binary, self.cache)
                for start in range(0, len(items), size)]

    def cached(self, key: bytes) -> dict[str, KeyMaterial] | None:
        """The cache's reading of ``key`` for today, if it holds one."""
        rows = self.cache.get(material_cache_key(self.gpg_binary, key, self._day)) if self.cache is not None else None
        return _material_from_rows(rows) if isinstance(rows, list) else None

    def read(self, key: bytes, material: Mapping[str, KeyMaterial], *, from_cache: bool = False) -> None:
        """Record gpg's reading of the claimed ``key`` (kept in the cache, unless it came from there)."""
        self._readings[_key_id(self.gpg_binary, key)] = Keyring(dict(material))
        if self.cache is not None and not from_cache:
            self.cache[material_cache_key(self.gpg_binary, key, self._day)] = _material_rows(material)

    def settle(self) -> None:
        with _parsed_keys_lock:
            _parsed_keys.update(self._readings)
            while len(_parsed_keys) > _KEY_CACHE_SIZE:
                del _parsed_keys[next(iter(_parsed_keys))]
            for ident in self._claimed:
                event = _pending_keys.pop(ident, None)
                if event is not None:
                    event.set()


def claim_keys(keys: Iterable[bytes], gpg_binary: str, cache: _Cache | None = None) -> KeyClaim:
    """Claim the key files nobody has read or is reading (see ``KeyClaim``)."""
    claimed: dict[_KeyId, bytes] = {}
    with _parsed_keys_lock:
        for key in keys:
            ident = _key_id(gpg_binary, key)
            if ident in _parsed_keys or ident in _pending_keys or ident in claimed:
                continue
            _pending_keys[ident] = threading.Event()
            claimed[ident] = key
    return KeyClaim(claimed, gpg_binary, cache)


def _publish_cached(keys: Iterable[bytes], gpg_binary: str, cache: _Cache) -> None:
    """Publish gpg's reading of the key files the cache holds (for today) and nobody has read
    or is reading yet."""
    day = datetime.now(UTC).date()
    found: dict[_KeyId, Keyring] = {}
    for key in keys:
        ident = _key_id(gpg_binary, key)
        if ident in _parsed_keys or ident in _pending_keys:  # a racy peek; settled under the lock below
            continue
        where = material_cache_key(gpg_binary, key, day)
        rows = cache.get(where) if where in cache else None
        material = _material_from_rows(rows) if isinstance(rows, list) else None
        if material is not None:  # only ever stored for key bytes gpg could read
            found[ident] = Keyring(material)
    with _parsed_keys_lock:
        for ident, parsed in found.items():
            if ident not in _parsed_keys and ident not in _pending_keys:
                _parsed_keys[ident] = parsed


def _unread(claim: KeyClaim) -> dict[bytes, tuple[bytes, set[str]]]:
    """The claimed key files the cache does not hold, as ``(binary, primary fingerprints)``;
    those that cannot be attributed in a batch are left out (read the usual way)."""
    pending: dict[bytes, tuple[bytes, set[str]]] = {}
    for key in claim.key_files:
        try:
            binary = dearmor_key(0, key)
        except TrustError:
            continue  # reported, with the key's number, when a key set holding it is used
        material = claim.cached(key)
        if material is not None:
            claim.read(key, material, from_cache=True)
            continue
        fingerprints = keyblock_primaries(binary)
        if fingerprints is not None:
            pending[key] = (binary, fingerprints)
    return pending


def _read_with_gpg(claim: KeyClaim, pending: dict[bytes, tuple[bytes, set[str]]]) -> None:
    """Read ``pending`` with ONE gpg call and record each file's reading, when it can be
    attributed exactly: every primary key of the file listed, none in another file."""
    owners: dict[str, list[bytes]] = {}
    for key, (_binary, fingerprints) in pending.items():
        for fingerprint in fingerprints:
            owners.setdefault(fingerprint, []).append(key)
    try:
        listing = gnupg.show_keys(b"".join(binary for binary, _ in pending.values()), claim.gpg_binary)
    except SignatureError:  # no gpg: reading the key set the usual way will say so, in its place
        return
    if listing.returncode != 0:
        return
    found: dict[bytes, dict[str, KeyMaterial]] = {key: {} for key in pending}
    listed: dict[bytes, set[str]] = {key: set() for key in pending}
    for primary, group in parse_listing(listing.stdout):
        holders = owners.get(primary, [])
        if not holders:
            return  # gpg listed a key no file was found to hold: attribute nothing
        if len(holders) != 1:
            for key in holders:
                found.pop(key, None)
            continue
        if holders[0] in found:
            found[holders[0]].update(group)
            listed[holders[0]].add(primary)
    for key, material in found.items():
        if listed[key] == pending[key][1]:
            claim.read(key, material)


def _read_claimed(claim: KeyClaim) -> None:
    """Read the claimed key files (from the cache, else with one gpg call), then release them."""
    try:
        pending = _unread(claim)
        if pending:
            _read_with_gpg(claim, pending)
    finally:
        claim.settle()


def preload_keys(keys: Iterable[bytes], gpg_binary: str = "gpg", *, cache: _Cache | None = None,
                 background: bool = False, readers: int = 2) -> threading.Thread | None:
    """Read many public keys with ONE ``gpg --show-keys`` and remember each by the digest of
    its bytes, so that ``verify`` needs no gpg call of its own for key sets made of them.

    gpg lists the keyblocks of its input one by one, and each listing depends only on its
    own keyblock, so the listing of a batch, split by primary fingerprint, is what gpg says
    of each key file alone. A key file that cannot be attributed exactly (not whole v4
    keyblocks, a primary key in two files of a batch, a key gpg leaves out, a failed call) is
    not remembered: ``verify`` then reads its key set as it always did, with the same result
    and the same errors. With ``cache`` (a verification cache), gpg's reading of each key is
    kept there too, for the day, and taken from there when present.

    With ``background``, the keys are read, in the order given, by ``readers`` threads in
    batches of ``_BACKGROUND_CHUNK``, while the caller goes on; the returned thread ends when
    all are read. ``verify`` runs gpgv first and waits only for the keys it needs, only to
    apply the policy. Safe to call from several threads.
    """
    keys = list(dict.fromkeys(keys))
    if cache is not None:  # what the cache holds is published at once, so nobody waits for it
        _publish_cached(keys, gpg_binary, cache)
    claim = claim_keys(keys, gpg_binary, cache)
    if not background:
        _read_claimed(claim)
        return None
    chunks = claim.chunks(_BACKGROUND_CHUNK)
    lock = threading.Lock()

    def read() -> None:
        while True:
            with lock:
                if not chunks:
                    return
                chunk = chunks.pop(0)
            _read_claimed(chunk)

    def coordinate() -> None:
        threads = [threading.Thread(target=read, daemon=True, name="directory247-keys")
                   for _ in range(max(1, min(readers, len(chunks))))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    coordinator = threading.Thread(target=coordinate, daemon=True, name="directory247-keys")
    coordinator.start()
    return coordinator


@functools.lru_cache(maxsize=256)
def keyring_binary(keys: tuple[bytes, ...]) -> bytes:
    """The key set as one binary keyring for gpgv; unreadable armor raises ``TrustError``."""
    return b"".join(dearmor_key(number, key) for number, key in enumerate(keys, start=1))


def read_keyring(keys: tuple[bytes, ...], gpg_binary: str) -> Keyring:
    """gpg's reading of the key set, with a gpg call of its own and nothing remembered; an
    unreadable key set raises ``TrustError``."""
    binary = keyring_binary(keys)
    if not binary:
        return Keyring(keys={})
    listing = gnupg.show_keys(binary, gpg_binary)
    if listing.returncode != 0:
        raise TrustError(f"the authorised keys cannot be read by gpg: {complaint(listing.stderr)}")
    material: dict[str, KeyMaterial] = {}
    for _primary, group in parse_listing(listing.stdout):
        material.update(group)  # a key listed twice: the later listing wins, as it always did
    return Keyring(keys=material)


@functools.lru_cache(maxsize=256)
def keyring(keys: tuple[bytes, ...], gpg_binary: str) -> Keyring:
    """Parsed expiry/revocation of a key set, cached: keys change once in a while,
    verification happens for every entry (lru_cache is safe to call from several threads).
    Keys read by ``preload_keys`` (or the batch) need no gpg call here; others are read now
    (``read_keyring``), and an unreadable key set raises ``TrustError``."""
    idents = [_key_id(gpg_binary, key) for key in keys]
    with _parsed_keys_lock:
        reading = [event for ident in idents if (event := _pending_keys.get(ident)) is not None]
    for event in reading:
        event.wait()
    with _parsed_keys_lock:
        parsed = [_parsed_keys.get(ident) for ident in idents]
    known = [item for item in parsed if item is not None]
    if known and len(known) == len(parsed):
        material: dict[str, KeyMaterial] = {}
        for item in known:
            material.update(item.keys)
        return Keyring(keys=material)
    return read_keyring(keys, gpg_binary)


def forget_keys() -> None:
    """Forget every key reading of this process (not those kept in a verification cache), as
    a new process starts."""
    keyring.cache_clear()
    keyring_binary.cache_clear()
    with _parsed_keys_lock:
        _parsed_keys.clear()


def remembered_key_files() -> int:
    """How many key files this process has read and remembers."""
    with _parsed_keys_lock:
        return len(_parsed_keys)
