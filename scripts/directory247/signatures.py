"""OpenPGP signatures: the whole acceptance policy, in one place.

This module owns the rules for when a detached signature over an entry (or a release file)
is accepted, and the small interface over the real ``gpg``/``gpgv`` binaries that signs and
checks. ``verify`` accepts a signature only when ALL of these hold, and otherwise raises
``SignatureError`` with a message that starts with the file's label and names the rule:

1. the signature file is exactly one ASCII-armored block ``-----BEGIN PGP SIGNATURE-----``
   holding nothing but signature packets (no cleartext or inline signed message);
2. it holds exactly one signature;
3. the signature verifies over the exact bytes given;
4. it is a binary-mode signature (class 00), never text mode (class 01);
5. its hash is SHA-256, SHA-384 or SHA-512;
6. the PRIMARY fingerprint of the signing key is in ``allowed``;
7. the key (primary and signing subkey) is neither revoked nor expired, both at the real
   time (GnuPG's view) and at ``now`` (read from the key material);
8. the signature is not dated after ``now`` plus ``FUTURE_TOLERANCE``.

The decision is made from GnuPG's machine-readable status lines, never from its exit code:
``gpgv`` exits 0 for a file with two good signatures, for a signature by an expired key
(``EXPKEYSIG``), and for one by a revoked key (``REVKEYSIG``).

What this module does NOT own: which keys are authorised for which State (the caller reads
them from the trusted base and passes exactly those), the serial rule, and file I/O.

Unsafe, and therefore never done here: verifying against the user's own keyring or
``GNUPGHOME`` (a key the user happens to hold proves nothing; each check gets a throwaway
keyring with only the keys passed in); trusting python-gnupg's ``valid`` (it reflects the
last signature in the file only, and knows nothing of class, hash or authorisation);
accepting text-mode signatures (they still verify after the line endings of the data were
changed, so the bytes signed are not the bytes published).
"""

from __future__ import annotations

import binascii
import fcntl
import functools
import hashlib
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from directory247.errors import SignatureError, TrustError

__all__ = [
    "FUTURE_TOLERANCE",
    "POLICY_VERSION",
    "STRONG_HASHES",
    "GnuPG",
    "Verified",
    "has_cached_verdict",
    "preload_keys",
    "verify",
]

#: How far a signature may be dated after ``now``, for clock skew between machines.
FUTURE_TOLERANCE = timedelta(minutes=5)

#: OpenPGP hash algorithm ids (RFC 4880 9.4) that the policy accepts.
STRONG_HASHES: dict[int, str] = {8: "SHA256", 9: "SHA384", 10: "SHA512"}

_HASH_NAMES: dict[int, str] = {
    1: "MD5", 2: "SHA1", 3: "RIPEMD160", 8: "SHA256", 9: "SHA384", 10: "SHA512",
    11: "SHA224", 12: "SHA3-256", 14: "SHA3-512",
}  # fmt: skip

_SIGNATURE_PACKET = 2
_NOT_DETACHED = "contains OpenPGP data that is not a detached signature"
_TIMEOUT_SECONDS = 60
_ARMOR_LINE = re.compile(r"^-----(BEGIN|END) PGP ([A-Z0-9 ,/]+)-----$")
_STATUS_PREFIX = "[GNUPG:] "
# ERRSIG return code (gpg doc/DETAILS) for "no public key"; 4/5 (unsupported or rejected
# algorithm, e.g. MD5) and 6 (key newer than the clock) are told apart by their fields.
_ERRSIG_NO_PUBKEY = "9"


@dataclass(frozen=True)
class Verified:
    """What an accepted signature proves."""

    primary_fingerprint: str  # upper-case hex of the primary key
    signing_fingerprint: str  # the (sub)key that made the signature
    created: datetime  # signature creation time, UTC aware
    hash_algorithm: int  # OpenPGP hash algorithm id
    signature_class: str  # "00" for binary


# --------------------------------------------------------------------------- armor


class _ArmorError(Exception):
    """Armor could not be read; the message completes "<label>: ..."."""


def _crc24_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return tuple(table)


_CRC24_TABLE = _crc24_table()


def _crc24(data: bytes) -> int:
    """The armor checksum (RFC 4880 6.1), a byte at a time from a table."""
    crc = 0xB704CE
    table = _CRC24_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ byte]
    return crc


def _decode_body(lines: list[str]) -> bytes:
    """Decode the lines between BEGIN and END: optional headers, base64, optional CRC."""
    index = 0
    while index < len(lines) and ":" in lines[index]:  # "Key: value"; ':' is not base64
        index += 1
    body = [line for line in lines[index:] if line]
    checksum = None
    if body and body[-1].startswith("=") and len(body[-1]) == 5:
        checksum = body.pop()
    try:
        packets = binascii.a2b_base64("".join(body).encode("ascii"), strict_mode=True)
        expected = int.from_bytes(binascii.a2b_base64(checksum[1:], strict_mode=True), "big") if checksum else None
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise _ArmorError("armor is damaged (invalid base64)") from error
    if not packets:
        raise _ArmorError("armor is truncated (no data between BEGIN and END)")
    if expected is not None and expected != _crc24(packets):
        raise _ArmorError("armor is damaged or truncated (checksum mismatch)")
    return packets


def _blocks(text: bytes) -> list[tuple[str, bytes]]:
    """Split armored text into (kind, binary) blocks; anything outside a block is refused."""
    try:
        # UTF-8, not ASCII: armor header values (Comment: ...) may be UTF-8; the base64 body is
        # checked on its own.
        lines = [line.rstrip() for line in text.decode("utf-8").splitlines()]
    except UnicodeDecodeError as error:
        raise _ArmorError("is not text armor (binary content)") from error
    blocks: list[tuple[str, bytes]] = []
    kind: str | None = None
    start = 0
    for number, line in enumerate(lines):
        marker = _ARMOR_LINE.match(line)
        if kind is None:
            if marker and marker.group(1) == "BEGIN":
                kind, start = marker.group(2), number + 1
            elif line:
                raise _ArmorError("has text outside the armored block")
        elif marker:
            if marker.group(1) != "END" or marker.group(2) != kind:
                raise _ArmorError(f"armor is malformed (unexpected {line!r})")
            blocks.append((kind, _decode_body(lines[start:number])))
            kind = None
    if kind is not None:
        raise _ArmorError(f"armor is truncated (no -----END PGP {kind}----- line)")
    return blocks


def _packets(packets: bytes) -> list[tuple[int, bytes]]:
    """``(tag, body)`` of each OpenPGP packet in ``packets`` (RFC 4880 4.2), refusing what we
    can't frame.

    Counting packets ourselves, rather than trusting gpgv's NEWSIG lines alone, means a
    second signature gpgv chooses to skip (unknown version, say) still counts as a second one.
    """
    found: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(packets):
        header = packets[offset]
        if not header & 0x80:
            raise _ArmorError("contains data that is not an OpenPGP packet")
        if header & 0x40:  # new format
            tag, first = header & 0x3F, packets[offset + 1 : offset + 2]
            if not first:
                raise _ArmorError("signature is truncated")
            if first[0] < 192:
                size, offset = first[0], offset + 2
            elif first[0] < 224:
                rest = packets[offset + 2 : offset + 3] or b"\0"
                size, offset = ((first[0] - 192) << 8) + rest[0] + 192, offset + 3
            elif first[0] == 255:
                size, offset = int.from_bytes(packets[offset + 2 : offset + 6], "big"), offset + 6
            else:  # partial body lengths only frame streamed data, never a signature
                raise _ArmorError(_NOT_DETACHED)
        else:  # old format
            tag, length_type = (header >> 2) & 0x0F, header & 0x03
            if length_type == 3:  # indeterminate length: streamed data, never a signature
                raise _ArmorError(_NOT_DETACHED)
            width = (1, 2, 4)[length_type]
            size = int.from_bytes(packets[offset + 1 : offset + 1 + width], "big")
            offset += 1 + width
        if offset + size > len(packets):
            raise _ArmorError("signature is truncated")
        found.append((tag, packets[offset : offset + size]))
        offset += size
    return found


def _packet_tags(packets: bytes) -> list[int]:
    return [tag for tag, _body in _packets(packets)]


def _signature_packets(label: str, signature: bytes) -> bytes:
    """Rule 1 and 2: one armored block of exactly one signature packet, returned binary."""
    # A check reads each signature twice (is its verdict cached? then verify); remember small ones.
    found = _read_small_signature(signature) if len(signature) <= 16384 else _read_signature(signature)
    if isinstance(found, str):
        raise SignatureError(f"{label}: {found}")
    return found


def _read_signature(signature: bytes) -> bytes | str:
    """The packets of a signature file, or why it is refused (to follow "<label>: ")."""
    head = signature.lstrip()[:64]
    if not head:
        return "signature file is empty"
    if head.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----"):
        return ("is a cleartext-signed message (BEGIN PGP SIGNED MESSAGE); "
                "a detached, armored, binary-mode signature is required")
    if head.startswith(b"-----BEGIN PGP MESSAGE-----"):
        return ("is an inline signed message (BEGIN PGP MESSAGE); "
                "a detached, armored, binary-mode signature is required")
    if not head.startswith(b"-----BEGIN PGP SIGNATURE-----"):
        return "is not an armored detached signature (it must start with -----BEGIN PGP SIGNATURE-----)"
    try:
        blocks = _blocks(signature)
        if len(blocks) != 1:
            raise _ArmorError(f"contains {len(blocks)} armored blocks; exactly one signature is required")
        kind, packets = blocks[0]
        tags = _packet_tags(packets)
    except _ArmorError as error:
        return str(error)
    if kind != "SIGNATURE" or any(tag != _SIGNATURE_PACKET for tag in tags):
        return _NOT_DETACHED
    if len(tags) != 1:
        return f"contains {len(tags)} signatures; exactly one is required"
    return packets


_read_small_signature = functools.lru_cache(maxsize=1024)(_read_signature)


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class _KeyMaterial:
    """What the key material says about one primary key or subkey, independent of the clock."""

    fingerprint: str
    primary_fingerprint: str
    expires: datetime | None
    revoked: bool


@dataclass(frozen=True)
class _Keyring:
    keys: dict[str, _KeyMaterial]  # by fingerprint of primary keys and subkeys


def _environment() -> dict[str, str]:
    """The caller's environment without anything that points GnuPG at the user's own home."""
    return {k: v for k, v in os.environ.items() if k not in {"GNUPGHOME", "GPG_AGENT_INFO"}}


def _timestamp(field: str) -> datetime | None:
    """A GnuPG colon/status time field: seconds since the epoch, ISO 8601 basic, or empty."""
    if not field or field == "0":
        return None
    if "T" in field:
        return datetime.strptime(field, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(field), tz=UTC)


def _dearmor_key(number: int, key: bytes) -> bytes:
    """One authorised key as binary packets: gpgv reads only binary keyrings, so armor is
    removed and binary kept as is. ``number`` names the key in errors."""
    if not key.lstrip().startswith(b"-----BEGIN"):
        return key
    try:
        blocks = _blocks(key)
    except _ArmorError as error:
        raise TrustError(f"authorised key #{number} cannot be read: {error}") from None
    binary = bytearray()
    for kind, packets in blocks:
        if kind != "PUBLIC KEY BLOCK":
            raise TrustError(f"authorised key #{number} is a {kind}, not a public key")
        binary += packets
    return bytes(binary)


def _show_keys(binary: bytes, gpg_binary: str) -> subprocess.CompletedProcess[bytes]:
    """gpg's colon listing of the keys in ``binary``, read in a throwaway home, as gpgv reads
    them (and as ``gpgbatch`` imports them): local (non-exportable) self-signatures such as a
    revocation kept, which gpg would otherwise drop, and nothing repaired."""
    with tempfile.TemporaryDirectory(prefix="directory247-keys-") as home:
        return _run(
            [gpg_binary, "--homedir", home, "--no-options", "--batch", "--no-autostart", "--with-colons",
             "--import-options", "import-local-sigs,no-repair-keys", "--show-keys"],
            binary,
            what="read the authorised keys",
        )


def _parse_listing(stdout: bytes) -> list[tuple[str, dict[str, _KeyMaterial]]]:
    """The listing as ``(primary fingerprint, material of that key and its subkeys)``, in order."""
    groups: list[tuple[str, dict[str, _KeyMaterial]]] = []
    primary = ""
    record: list[str] = []
    for line in _lines(stdout):
        fields = line.split(":")
        if fields[0] in {"pub", "sub"}:
            record = fields
        elif fields[0] == "fpr" and record and len(fields) > 9 and len(record) > 6:
            fingerprint = fields[9].upper()
            if record[0] == "pub":
                primary = fingerprint
                groups.append((primary, {}))
            elif not groups:
                groups.append((primary, {}))
            groups[-1][1][fingerprint] = _KeyMaterial(
                fingerprint=fingerprint,
                primary_fingerprint=primary,
                expires=_timestamp(record[6]),
                revoked=record[1] == "r",
            )
            record = []
    return groups


def _read_keys(binary: bytes, gpg_binary: str) -> dict[str, _KeyMaterial]:
    listing = _show_keys(binary, gpg_binary)
    if listing.returncode != 0:
        raise TrustError(f"the authorised keys cannot be read by gpg: {_tail(listing.stderr)}")
    material: dict[str, _KeyMaterial] = {}
    for _primary, group in _parse_listing(listing.stdout):
        material.update(group)  # a key listed twice: the later listing wins, as it always did
    return material


# A key file whose packets are all of these kinds, starting with a primary public key, is a
# run of whole keyblocks: gpg reads it the same alone or after other keys (RFC 4880 11.1).
_PUBLIC_KEY_PACKET = 6
_KEYBLOCK_PACKETS = frozenset({_PUBLIC_KEY_PACKET, 2, 12, 13, 14, 17})  # + signature, trust, user id, subkey
_KEY_CACHE_SIZE = 4096
_KeyId = tuple[str, bytes]  # (gpg binary, sha256 of the key file's bytes)


@dataclass(frozen=True)
class _ParsedKey:
    keys: dict[str, _KeyMaterial]


_parsed_keys: dict[_KeyId, _ParsedKey] = {}
_pending_keys: dict[_KeyId, threading.Event] = {}
_parsed_keys_lock = threading.Lock()


def _key_id(gpg_binary: str, key: bytes) -> _KeyId:
    return gpg_binary, hashlib.sha256(key).digest()


def _v4_fingerprint(body: bytes) -> str | None:
    """The fingerprint of a version 4 key packet (RFC 4880 12.2); None for other versions."""
    if not body or body[0] != 4:
        return None
    # SHA-1 is what a v4 fingerprint is; it only matches gpg's listing to the key files here,
    # and two files claiming one fingerprint are never attributed (see preload_keys).
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body, usedforsecurity=False).hexdigest().upper()


def material_cache_key(gpg_binary: str, key: bytes, day: date) -> str:
    """Where ``preload_keys`` keeps gpg's reading of one key file in a verification cache.

    The reading is a function of the key's bytes; the day is part of the key so that gpg's
    view of the key (which self-signature is current) is refreshed at least once a day."""
    digest = hashlib.sha256()
    for part in (POLICY_VERSION.encode(), gpg_binary.encode(), day.isoformat().encode(), key):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "key-material:" + digest.hexdigest()


def _material_rows(material: dict[str, _KeyMaterial]) -> list[list[str]]:
    return [[m.fingerprint, m.primary_fingerprint, str(int(m.expires.timestamp())) if m.expires else "",
             "revoked" if m.revoked else ""] for m in material.values()]


def _material_from_rows(rows: list[list[str]]) -> dict[str, _KeyMaterial] | None:
    material: dict[str, _KeyMaterial] = {}
    for row in rows:
        if len(row) != 4 or not all(isinstance(field, str) for field in row):
            return None
        fingerprint, primary, expires, revoked = row
        if expires and not expires.isdigit():
            return None
        material[fingerprint] = _KeyMaterial(fingerprint, primary, _timestamp(expires), revoked == "revoked")
    return material or None


def _attributable(binary: bytes) -> set[str] | None:
    """The primary fingerprints of a key file that is whole v4 keyblocks, else None."""
    try:
        packets = _packets(binary)
    except _ArmorError:
        return None
    if not packets or packets[0][0] != _PUBLIC_KEY_PACKET or any(t not in _KEYBLOCK_PACKETS for t, _ in packets):
        return None
    fingerprints = [_v4_fingerprint(body) for tag, body in packets if tag == _PUBLIC_KEY_PACKET]
    found = {fingerprint for fingerprint in fingerprints if fingerprint is not None}
    if len(found) != len(fingerprints):
        return None  # not v4, or one key twice in one file
    return found


def _claim(keys: Iterable[bytes], gpg_binary: str) -> dict[_KeyId, bytes]:
    """The key files nobody has read or is reading, now marked as being read by the caller."""
    claimed: dict[_KeyId, bytes] = {}
    with _parsed_keys_lock:
        for key in keys:
            ident = _key_id(gpg_binary, key)
            if ident in _parsed_keys or ident in _pending_keys or ident in claimed:
                continue
            _pending_keys[ident] = threading.Event()
            claimed[ident] = key
    return claimed


def _publish_cached(keys: Iterable[bytes], gpg_binary: str, cache: MutableMapping[str, list[list[str]]]) -> None:
    """Publish gpg's reading of the key files the cache holds (for today) and nobody has read
    or is reading yet."""
    day = datetime.now(UTC).date()
    found: dict[_KeyId, _ParsedKey] = {}
    for key in keys:
        ident = _key_id(gpg_binary, key)
        if ident in _parsed_keys or ident in _pending_keys:  # a racy peek; settled under the lock below
            continue
        where = material_cache_key(gpg_binary, key, day)
        rows = cache.get(where) if where in cache else None
        material = _material_from_rows(rows) if isinstance(rows, list) else None
        if material is not None:  # only ever stored for key bytes gpg could read
            found[ident] = _ParsedKey(material)
    with _parsed_keys_lock:
        for ident, parsed in found.items():
            if ident not in _parsed_keys and ident not in _pending_keys:
                _parsed_keys[ident] = parsed


def _read_claimed(claimed: dict[_KeyId, bytes], gpg_binary: str,
                  cache: MutableMapping[str, list[list[str]]] | None) -> None:
    """Read the claimed key files (from the cache, else with one gpg call), then release them."""
    parsed: dict[_KeyId, _ParsedKey] = {}
    try:
        day = datetime.now(UTC).date()
        pending: dict[_KeyId, bytes] = {}
        primaries: dict[_KeyId, set[str]] = {}
        owners: dict[str, list[_KeyId]] = {}
        for ident, key in claimed.items():
            try:
                binary = _dearmor_key(0, key)
            except TrustError:
                continue  # reported, with the key's number, when a key set holding it is used
            rows = cache.get(material_cache_key(gpg_binary, key, day)) if cache is not None else None
            material = _material_from_rows(rows) if isinstance(rows, list) else None
            if material is not None:
                parsed[ident] = _ParsedKey(material)
                continue
            fingerprints = _attributable(binary)
            if fingerprints is None:
                continue
            pending[ident] = binary
            primaries[ident] = fingerprints
            for fingerprint in fingerprints:
                owners.setdefault(fingerprint, []).append(ident)
        if not pending:
            return
        try:
            listing = _show_keys(b"".join(pending.values()), gpg_binary)
        except SignatureError:  # no gpg: reading the key set the old way will say so, in its place
            return
        if listing.returncode != 0:
            return
        found: dict[_KeyId, dict[str, _KeyMaterial]] = {ident: {} for ident in pending}
        listed: dict[_KeyId, set[str]] = {ident: set() for ident in pending}
        for primary, group in _parse_listing(listing.stdout):
            idents = owners.get(primary, [])
            if not idents:
                return  # gpg listed a key no file was found to hold: attribute nothing
            if len(idents) != 1:
                for ident in idents:
                    found.pop(ident, None)
                continue
            if idents[0] in found:
                found[idents[0]].update(group)
                listed[idents[0]].add(primary)
        for ident, material in found.items():
            if listed[ident] == primaries[ident]:  # every key of the file was listed
                parsed[ident] = _ParsedKey(material)
                if cache is not None:
                    cache[material_cache_key(gpg_binary, claimed[ident], day)] = _material_rows(material)
    finally:
        with _parsed_keys_lock:
            _parsed_keys.update(parsed)
            while len(_parsed_keys) > _KEY_CACHE_SIZE:
                del _parsed_keys[next(iter(_parsed_keys))]
            for ident in claimed:
                _pending_keys.pop(ident).set()


#: Keys per gpg call when reading in the background: the first States' keys are ready at
#: once, and the readers share the cores with gpgv instead of holding up the first verdicts.
_BACKGROUND_CHUNK = 32


def preload_keys(keys: Iterable[bytes], gpg_binary: str = "gpg", *,
                 cache: MutableMapping[str, list[list[str]]] | None = None,
                 background: bool = False, readers: int = 2) -> threading.Thread | None:
    """Read many public keys with ONE ``gpg --show-keys`` and remember each by the digest of
    its bytes, so that ``verify`` needs no gpg call of its own for key sets made of them
    (one call per State costs ~7 ms; a directory has hundreds).

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
    claimed = _claim(keys, gpg_binary)
    if not background:
        _read_claimed(claimed, gpg_binary, cache)
        return None
    items = list(claimed.items())
    chunks = [dict(items[start:start + _BACKGROUND_CHUNK]) for start in range(0, len(items), _BACKGROUND_CHUNK)]
    lock = threading.Lock()

    def read() -> None:
        while True:
            with lock:
                if not chunks:
                    return
                chunk = chunks.pop(0)
            _read_claimed(chunk, gpg_binary, cache)

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
def _keyring_binary(keys: tuple[bytes, ...]) -> bytes:
    """The key set as one binary keyring for gpgv; unreadable armor raises ``TrustError``."""
    return b"".join(_dearmor_key(number, key) for number, key in enumerate(keys, start=1))


@functools.lru_cache(maxsize=256)
def _keyring(keys: tuple[bytes, ...], gpg_binary: str) -> _Keyring:
    """Parsed expiry/revocation of a key set, cached: keys change once in a while,
    verification happens for every entry (lru_cache is safe to call from several threads).
    Keys read by ``preload_keys`` need no gpg call here; others are read now, and an
    unreadable key set raises ``TrustError``."""
    idents = [_key_id(gpg_binary, key) for key in keys]
    with _parsed_keys_lock:
        reading = [event for ident in idents if (event := _pending_keys.get(ident)) is not None]
    for event in reading:
        event.wait()
    with _parsed_keys_lock:
        parsed = [_parsed_keys.get(ident) for ident in idents]
    known = [item for item in parsed if item is not None]
    if known and len(known) == len(parsed):
        material: dict[str, _KeyMaterial] = {}
        for item in known:
            material.update(item.keys)
        return _Keyring(keys=material)
    binary = _keyring_binary(keys)
    if not binary:
        return _Keyring(keys={})
    return _Keyring(keys=_read_keys(binary, gpg_binary))


# --------------------------------------------------------------------------- gnupg


def _tail(stderr: bytes) -> str:
    """GnuPG's last human-readable complaint, for error messages."""
    lines = [
        line for line in stderr.decode("utf-8", "replace").splitlines() if line and not line.startswith(_STATUS_PREFIX)
    ]
    return lines[-1] if lines else "no message"


def _run(
    command: list[str], stdin: bytes, *, what: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run gpg or gpgv; unless ``env`` is given, without the user's GnuPG variables."""
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            env=_environment() if env is None else env,
            check=False,
            timeout=_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise SignatureError(f"cannot {what}: {command[0]!r} was not found; install GnuPG 2.2 or later") from None
    except subprocess.TimeoutExpired:
        raise SignatureError(f"cannot {what}: {command[0]} did not finish") from None


def _lines(output: bytes) -> list[str]:
    """GnuPG's output lines, split on LF only: gpg escapes control bytes in what it quotes,
    but not U+2028, U+2029 or U+0085, which ``str.splitlines`` would take for line breaks
    (a user ID could then forge status lines)."""
    return [line.removesuffix(b"\r").decode("utf-8", "replace") for line in output.split(b"\n")]


def _status(stdout: bytes) -> list[list[str]]:
    return [line[len(_STATUS_PREFIX) :].split(" ") for line in _lines(stdout) if line.startswith(_STATUS_PREFIX)]


#: Memory-backed, where there is one: a keyring file per State costs ~0.6 ms on a disk.
_MEMORY_FOLDER = "/dev/shm"  # noqa: S108 - only the parent of a private (mkdtemp) folder


class _Workspace:
    """A private (0700) folder of this process for gpgv: keyrings, each written once under
    the digest of its bytes and never changed. gpgv gets it as its home, so it never sees
    GNUPGHOME or a keyring not written here. In memory when the system offers a writable
    ``/dev/shm``, else in the temporary folder; removed when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._keyrings: dict[bytes, str] = {}

    def folder(self) -> str:
        with self._lock:
            if self._folder is None or not os.path.isdir(self._folder.name):
                memory = os.path.isdir(_MEMORY_FOLDER) and os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK)
                self._folder = tempfile.TemporaryDirectory(prefix="directory247-gpgv-",
                                                           dir=_MEMORY_FOLDER if memory else None)
                self._keyrings = {}
            return self._folder.name

    def keyring(self, keyring: bytes) -> str:
        folder = self.folder()
        digest = hashlib.sha256(keyring).digest()
        with self._lock:
            path = self._keyrings.get(digest)
        if path is not None and os.path.isfile(path):
            return path
        path = os.path.join(folder, digest.hex() + ".gpg")
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(keyring)
        os.replace(temporary, path)  # complete or absent, for a thread reading it meanwhile
        with self._lock:
            self._keyrings[digest] = path
        return path


_workspace = _Workspace()


_FIRST_PASSED_FD = 10
_DEV_FD = os.path.isdir("/dev/fd")


def _high(fd: int) -> int:
    """``fd`` moved to ``_FIRST_PASSED_FD`` or above (close-on-exec)."""
    if fd >= _FIRST_PASSED_FD:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_PASSED_FD)
    os.close(fd)
    return moved


def _run_reader(command: list[str], *, what: str, inputs: dict[int, int] | None = None) -> bytes:
    """Standard output of a command that reads only what it is given, without the user's
    GnuPG variables: ``inputs`` maps a file descriptor of the command to one of ours (a pipe
    already holding everything it will read); standard input and error are otherwise
    /dev/null.

    ``posix_spawn`` and pipes instead of ``subprocess`` and temporary files: a check starts
    one gpgv per entry, and this costs the parent a fraction of the CPU.
    """
    read_end, write_end = (_high(fd) for fd in os.pipe())
    # Our descriptors are all >= _FIRST_PASSED_FD and close-on-exec, the command's below it:
    # no action overwrites a descriptor another one still needs.
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
    ]
    actions += [(os.POSIX_SPAWN_DUP2, ours, theirs) for theirs, ours in (inputs or {}).items()]
    try:
        pid = os.posix_spawnp(command[0], command, _environment(), file_actions=actions)
    except FileNotFoundError:
        os.close(read_end)
        raise SignatureError(f"cannot {what}: {command[0]!r} was not found; install GnuPG 2.2 or later") from None
    finally:
        os.close(write_end)
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    chunks: list[bytes] = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                raise SignatureError(f"cannot {what}: {command[0]} did not finish")
            chunk = os.read(read_end, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def _filled_pipe(content: bytes) -> int | None:
    """The read end of a pipe that already holds all of ``content`` (close-on-exec, numbered
    from ``_FIRST_PASSED_FD``), or None when it does not fit in a pipe's buffer."""
    if not _DEV_FD:
        return None
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        written = os.write(write_end, content) if content else 0
    except BlockingIOError:
        written = -1
    finally:
        os.close(write_end)
    if written != len(content):
        os.close(read_end)
        return None
    return _high(read_end)


def _gpgv(gpgv_binary: str, keyring: bytes, packets: bytes, data: bytes) -> list[list[str]]:
    """Status lines of gpgv checking ``packets`` over ``data`` against ``keyring`` only."""
    keyring_path = _workspace.keyring(keyring)
    folder = os.path.dirname(keyring_path)
    inputs: dict[int, int] = {}
    written: list[str] = []
    arguments: list[str] = []
    try:
        # Binary: exactly the bytes we checked. Through a pipe when they fit, else a file.
        for target, content, suffix in ((3, packets, ".sig"), (4, data, ".data")):
            pipe = _filled_pipe(content)
            if pipe is not None:
                inputs[target] = pipe
                arguments.append(f"/dev/fd/{target}")
                continue
            handle, path = tempfile.mkstemp(prefix="directory247-gpgv-", suffix=suffix)  # may be large
            written.append(path)
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            arguments.append(path)
        output = _run_reader(
            [gpgv_binary, "--homedir", folder, "--keyring", keyring_path, "--status-fd", "1", *arguments],
            what="verify signatures",
            inputs=inputs,
        )
    finally:
        for pipe in inputs.values():
            os.close(pipe)
        for path in written:
            os.unlink(path)
    return _status(output)


# --------------------------------------------------------------------------- policy


def _hash_name(algorithm: int) -> str:
    return _HASH_NAMES.get(algorithm, f"hash algorithm {algorithm}")


def _future(label: str, created: datetime, now: datetime) -> SignatureError:
    # gpgv itself accepts a signature from the future if the key is older than the real time.
    return SignatureError(
        f"{label}: signature is dated in the future ({created:%Y-%m-%d %H:%M:%S} UTC, "
        f"now is {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
    )


#: Raise when the policy, the meaning of cached gpgv output or the reading of a cached file
#: (``authorisations.parse_authorisations``) changes: it invalidates caches.
POLICY_VERSION = "4"

#: Status lines that say what became of a signature: each at most once for one signature.
_ONE_RESULT = ("GOODSIG", "VALIDSIG", "BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG")


def status_cache_key(keys: Sequence[bytes], signature: bytes, data: bytes, context: bytes = b"") -> str:
    """The cache key of one gpgv verdict: a digest of every input it depends on, as given
    (the key files and the signature file, so no armor needs decoding to look a verdict up),
    plus ``context`` (the caller's trust: authorisations, their signature and all keys).

    A verdict is only ever stored for a signature file that passed rules 1 and 2, which
    depend on its bytes alone; so a verdict found under these bytes means they pass."""
    digest = hashlib.sha256()
    for part in (POLICY_VERSION.encode(), context, len(keys).to_bytes(8, "big"), *keys, signature, data):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def has_cached_verdict(data: bytes, signature: bytes, *, keys: Sequence[bytes],
                       cache: Mapping[str, list[list[str]]], cache_context: bytes = b"") -> bool:
    """Whether ``verify`` with this ``cache`` would reuse a verdict rather than start gpgv
    (so the caller can run it at once instead of queueing it behind gpgv runs)."""
    return status_cache_key(keys, signature, data, cache_context) in cache


def verify(
    data: bytes,
    signature: bytes,
    *,
    keys: Sequence[bytes],
    allowed: Collection[str],
    now: datetime,
    label: str,
    state: str | None = None,
    gpg_binary: str = "gpg",
    gpgv_binary: str = "gpgv",
    cache: MutableMapping[str, list[list[str]]] | None = None,
    cache_context: bytes = b"",
) -> Verified:
    """Apply the acceptance policy; raise SignatureError naming ``label`` and the failed rule.

    ``cache`` (optional) remembers gpgv's status lines under a digest of everything they
    depend on: ``POLICY_VERSION``, the key files, the signature file and the data as given,
    and of ``cache_context`` (``check`` passes a digest of the whole trusted base: root key,
    authorisations, their signature and every authorised key, so any change there misses).
    Only the cryptographic verdict is reused; every rule below, including key expiry and
    revocation (read from the key material) and "not from the future", is applied again at
    ``now`` on every call. A cache is only as trustworthy as the place it is stored: keep it
    where only the user running the check can write.

    ``keys`` are the armored or binary public keys authorised for this State (the only ones
    verification will see), ``allowed`` their authorised PRIMARY fingerprints, ``now`` an
    aware datetime at which expiry and "not from the future" are judged. A key that cannot
    be read raises ``TrustError``: the trusted base is broken, not the signature.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    whose = f"for {state}" if state else "to sign this file"
    authorised = {fingerprint.replace(" ", "").upper() for fingerprint in allowed}
    key_set = tuple(bytes(key) for key in keys)
    key = status_cache_key(key_set, signature, data, cache_context) if cache is not None else ""
    cached = cache.get(key) if cache is not None and key in cache else None
    if cached is not None:
        status = cached  # stored only after rules 1 and 2 passed for these very bytes
    else:
        packets = _signature_packets(label, signature)  # rules 1 and 2
        status = _gpgv(gpgv_binary, _keyring_binary(key_set), packets, data)
        if cache is not None:
            cache[key] = status
    # Read after gpgv ran, so a key reading started by preload_keys overlaps with it; before
    # any rule, so a key set gpg cannot read is reported as such.
    keyring = _keyring(key_set, gpg_binary)
    seen = {fields[0]: fields[1:] for fields in status}
    counts = Counter(fields[0] for fields in status)
    signatures = counts["NEWSIG"]
    if signatures != 1:
        # Rule 2 was checked on the packets; gpgv disagreeing means it skipped one.
        raise SignatureError(f"{label}: gpgv found {signatures} readable signatures; exactly one is required")
    if any(counts[word] > 1 for word in _ONE_RESULT):
        raise SignatureError(f"{label}: gpgv reported two results for one signature; it cannot be accepted")

    if "BADSIG" in seen:
        raise SignatureError(
            f"{label}: BAD signature: the signed file was changed after signing "
            "(or the signature belongs to another file)"
        )
    if "ERRSIG" in seen:
        # keyid pkalgo hashalgo class time rc [fingerprint]
        fields = seen["ERRSIG"] + [""] * 7
        created = _timestamp(fields[4])
        if created is not None and created > now + FUTURE_TOLERANCE:
            # gpgv refuses a key created after the real time with "Bad public key" (rc 6).
            raise _future(label, created, now)
        if fields[5] == _ERRSIG_NO_PUBKEY:
            raise SignatureError(
                f"{label}: signed by unknown key {fields[6] or fields[0]}, which is not authorised {whose}"
            )
        if fields[2].isdigit() and int(fields[2]) not in STRONG_HASHES:
            raise SignatureError(
                f"{label}: uses the weak hash {_hash_name(int(fields[2]))}; SHA256, SHA384 or SHA512 is required"
            )
        raise SignatureError(f"{label}: signature cannot be checked (gpg error code {fields[5]})")
    results = {"GOODSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG"} & seen.keys()
    if len(results) != 1 or "VALIDSIG" not in seen or len(seen["VALIDSIG"]) < 10:
        raise SignatureError(f"{label}: signature could not be verified by gpgv")

    # VALIDSIG fpr date time expire version reserved pkalgo hashalgo class primary-fpr
    fields = seen["VALIDSIG"]
    signing, primary = fields[0].upper(), fields[9].upper()
    created = _timestamp(fields[2])
    hash_algorithm = int(fields[7])
    signature_class = fields[8]
    if created is None:
        raise SignatureError(f"{label}: signature has no creation time")
    if signature_class != "00":
        kind = "a text-mode signature" if signature_class == "01" else "a signature"
        raise SignatureError(
            f"{label}: is {kind} (class {signature_class}); a binary-mode "
            "signature (class 00) is required, e.g. from `gpg --detach-sign --armor`"
        )
    if hash_algorithm not in STRONG_HASHES:
        raise SignatureError(
            f"{label}: uses the weak hash {_hash_name(hash_algorithm)}; SHA256, SHA384 or SHA512 is required"
        )
    if primary not in authorised:
        raise SignatureError(f"{label}: signed by {primary}, which is not authorised {whose}")

    material = [keyring.keys.get(fingerprint) for fingerprint in (primary, signing)]
    if any(m is None for m in material):
        # Expiry and revocation at `now` come from gpg's reading of the key: without it, no verdict.
        raise SignatureError(f"{label}: signed by {primary}, whose key gpg did not read in full "
                             "(its expiry and revocation are unknown)")
    if {"REVKEYSIG", "KEYREVOKED"} & seen.keys() or any(m and m.revoked for m in material):
        raise SignatureError(f"{label}: signed by {primary}, which has been revoked")
    # gpgv judges expiry at the real time (EXPKEYSIG, KEYEXPIRED); the key material
    # lets us judge it at `now` as well. Either one expired is enough to refuse.
    expiries = [m.expires for m in material if m and m.expires is not None]
    if "KEYEXPIRED" in seen and (moment := _timestamp(seen["KEYEXPIRED"][0])):
        expiries.append(moment)
    if {"EXPKEYSIG", "KEYEXPIRED"} & seen.keys() or any(when <= now for when in expiries):
        when = f" on {min(expiries):%Y-%m-%d}" if expiries else ""
        raise SignatureError(f"{label}: signed by {primary}, which expired{when}")
    if created > now + FUTURE_TOLERANCE:
        raise _future(label, created, now)
    signature_expires = _timestamp(fields[3])
    if {"EXPSIG", "SIGEXPIRED"} & seen.keys() or (signature_expires and signature_expires <= now):
        raise SignatureError(f"{label}: signature has expired")
    return Verified(
        primary_fingerprint=primary,
        signing_fingerprint=signing,
        created=created,
        hash_algorithm=hash_algorithm,
        signature_class=signature_class,
    )


class GnuPG:
    """One small interface over the real gpg/gpgv binaries.

    Signing uses the user's own GnuPG home (or ``gnupghome``) and its agent, because that is
    where the Party's secret key lives. Verification never does: see ``verify``.
    """

    def __init__(self, gnupghome: str | None = None, gpg_binary: str = "gpg", gpgv_binary: str = "gpgv") -> None:
        self.gnupghome = gnupghome
        self.gpg_binary = gpg_binary
        self.gpgv_binary = gpgv_binary

    def _gpg(self, arguments: list[str], stdin: bytes, what: str) -> subprocess.CompletedProcess[bytes]:
        home = ["--homedir", self.gnupghome] if self.gnupghome else []
        command = [self.gpg_binary, *home, "--batch", *arguments]
        return _run(command, stdin, what=what, env=dict(os.environ))

    def sign(self, data: bytes, key: str | None = None) -> bytes:
        """A detached, armored, binary-mode signature over ``data`` with SHA-512."""
        # Explicit options override a gpg.conf that says textmode, clearsign or a weak digest.
        arguments = ["--status-fd", "2", "--no-textmode", "--digest-algo", "SHA512"]
        arguments += ["--armor", "--detach-sign", "--output", "-"]
        if key:
            arguments[:0] = ["--local-user", key]
        result = self._gpg(arguments, data, "sign")
        status = _status(result.stderr)
        created = [fields for fields in status if fields[0] == "SIG_CREATED"]
        where = self.gnupghome or "your GnuPG home"
        if any(fields[0] == "INV_SGNR" for fields in status) or (
            result.returncode != 0 and b"No secret key" in result.stderr
        ):
            which = f"for {key} " if key else ""
            raise SignatureError(
                f"cannot sign: no usable secret key {which}in {where}; import your State's "
                "signing key (gpg --import) or name the key to sign with"
            )
        if result.returncode != 0 or not created:
            raise SignatureError(f"cannot sign: gpg failed: {_tail(result.stderr)}")
        if len(created) > 1:  # e.g. several local-user lines in gpg.conf
            raise SignatureError(f"cannot sign: gpg made {len(created)} signatures; name the one key to sign with")
        if created[0][1:2] != ["D"] or created[0][4:5] != ["00"]:  # SIG_CREATED type . . class
            raise SignatureError("cannot sign: gpg did not make a detached binary-mode signature")
        if not result.stdout.startswith(b"-----BEGIN PGP SIGNATURE-----"):
            raise SignatureError("cannot sign: gpg did not produce an armored signature")
        return result.stdout

    def fingerprint_of_secret_keys(self) -> list[str]:
        """Primary fingerprints of usable signing keys in the home, to choose a default key."""
        result = self._gpg(["--with-colons", "--list-secret-keys"], b"", "list secret keys")
        fingerprints: list[str] = []
        record: list[str] = []
        for line in _lines(result.stdout):
            fields = line.split(":")
            if fields[0] in {"sec", "ssb"}:
                record = fields
            elif fields[0] == "fpr" and record and len(fields) > 9 and len(record) > 11:
                # Field 12 upper-case "S": the key as a whole (some subkey) can sign.
                if record[0] == "sec" and "S" in record[11] and record[1] not in {"e", "r", "d"}:
                    fingerprints.append(fields[9].upper())
                record = []
        return fingerprints

    def verify(
        self,
        data: bytes,
        signature: bytes,
        *,
        keys: Sequence[bytes],
        allowed: Collection[str],
        now: datetime,
        label: str,
        state: str | None = None,
    ) -> Verified:
        """``verify`` with this instance's binaries; the home is never consulted."""
        return verify(
            data,
            signature,
            keys=keys,
            allowed=allowed,
            now=now,
            label=label,
            state=state,
            gpg_binary=self.gpg_binary,
            gpgv_binary=self.gpgv_binary,
        )
