"""OpenPGP bytes, read and written: ASCII armor with its CRC-24, packet framing, the shape of
a signature file (rules 1 and 2 of the policy), authorised key files as binary keyrings, and
the primary fingerprints of a key file. Pure: bytes in, bytes or values out.

What this module does NOT do: any cryptography (gpg and gpgv check signatures), nor decide
whether a signature is accepted (``policy``). It frames and counts packets; it never trusts
what they claim.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re

from directory247.errors import SignatureError, TrustError

__all__ = [
    "PUBLIC_KEY_PACKET",
    "SIGNATURE_PACKET",
    "ArmorError",
    "armor_blocks",
    "crc24",
    "dearmor_key",
    "keyblock_primaries",
    "literal_packet",
    "packet",
    "read_packets",
    "signature_packets",
    "v4_fingerprint",
]

SIGNATURE_PACKET = 2
PUBLIC_KEY_PACKET = 6
_LITERAL_PACKET = 11
# A key file whose packets are all of these kinds, starting with a primary public key, is a
# run of whole keyblocks: gpg reads it the same alone or after other keys (RFC 4880 11.1).
_KEYBLOCK_PACKETS = frozenset({PUBLIC_KEY_PACKET, SIGNATURE_PACKET, 12, 13, 14, 17})  # + trust, user id, subkey

_NOT_DETACHED = "contains OpenPGP data that is not a detached signature"
_ARMOR_LINE = re.compile(r"^-----(BEGIN|END) PGP ([A-Z0-9 ,/]+)-----$")
#: A check reads each signature twice (is its verdict cached? then verify); small ones are remembered.
_REMEMBERED_SIGNATURE_SIZE = 16384


class ArmorError(Exception):
    """Armor or packets could not be read; the message completes "<label>: ..."."""


# --------------------------------------------------------------------------- armor


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


def crc24(data: bytes) -> int:
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
        raise ArmorError("armor is damaged (invalid base64)") from error
    if not packets:
        raise ArmorError("armor is truncated (no data between BEGIN and END)")
    if expected is not None and expected != crc24(packets):
        raise ArmorError("armor is damaged or truncated (checksum mismatch)")
    return packets


def armor_blocks(text: bytes) -> list[tuple[str, bytes]]:
    """Split armored text into (kind, binary) blocks; anything outside a block is refused."""
    try:
        # UTF-8, not ASCII: armor header values (Comment: ...) may be UTF-8; the base64 body is
        # checked on its own.
        lines = [line.rstrip() for line in text.decode("utf-8").splitlines()]
    except UnicodeDecodeError as error:
        raise ArmorError("is not text armor (binary content)") from error
    blocks: list[tuple[str, bytes]] = []
    kind: str | None = None
    start = 0
    for number, line in enumerate(lines):
        marker = _ARMOR_LINE.match(line)
        if kind is None:
            if marker and marker.group(1) == "BEGIN":
                kind, start = marker.group(2), number + 1
            elif line:
                raise ArmorError("has text outside the armored block")
        elif marker:
            if marker.group(1) != "END" or marker.group(2) != kind:
                raise ArmorError(f"armor is malformed (unexpected {line!r})")
            blocks.append((kind, _decode_body(lines[start:number])))
            kind = None
    if kind is not None:
        raise ArmorError(f"armor is truncated (no -----END PGP {kind}----- line)")
    return blocks


# --------------------------------------------------------------------------- packets


def read_packets(packets: bytes) -> list[tuple[int, bytes]]:
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
            raise ArmorError("contains data that is not an OpenPGP packet")
        if header & 0x40:  # new format
            tag, first = header & 0x3F, packets[offset + 1 : offset + 2]
            if not first:
                raise ArmorError("signature is truncated")
            if first[0] < 192:
                size, offset = first[0], offset + 2
            elif first[0] < 224:
                rest = packets[offset + 2 : offset + 3] or b"\0"
                size, offset = ((first[0] - 192) << 8) + rest[0] + 192, offset + 3
            elif first[0] == 255:
                size, offset = int.from_bytes(packets[offset + 2 : offset + 6], "big"), offset + 6
            else:  # partial body lengths only frame streamed data, never a signature
                raise ArmorError(_NOT_DETACHED)
        else:  # old format
            tag, length_type = (header >> 2) & 0x0F, header & 0x03
            if length_type == 3:  # indeterminate length: streamed data, never a signature
                raise ArmorError(_NOT_DETACHED)
            width = (1, 2, 4)[length_type]
            size = int.from_bytes(packets[offset + 1 : offset + 1 + width], "big")
            offset += 1 + width
        if offset + size > len(packets):
            raise ArmorError("signature is truncated")
        found.append((tag, packets[offset : offset + size]))
        offset += size
    return found


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


# --------------------------------------------------------------------------- signature files


def signature_packets(label: str, signature: bytes) -> bytes:
    """Rules 1 and 2 of the policy: one armored block of exactly one signature packet,
    returned binary; otherwise ``SignatureError`` naming ``label`` and what is wrong."""
    if len(signature) <= _REMEMBERED_SIGNATURE_SIZE:
        found = _read_small_signature(signature)
    else:
        found = _read_signature(signature)
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
        blocks = armor_blocks(signature)
        if len(blocks) != 1:
            raise ArmorError(f"contains {len(blocks)} armored blocks; exactly one signature is required")
        kind, packets = blocks[0]
        tags = [tag for tag, _body in read_packets(packets)]
    except ArmorError as error:
        return str(error)
    if kind != "SIGNATURE" or any(tag != SIGNATURE_PACKET for tag in tags):
        return _NOT_DETACHED
    if len(tags) != 1:
        return f"contains {len(tags)} signatures; exactly one is required"
    return packets


_read_small_signature = functools.lru_cache(maxsize=1024)(_read_signature)


# --------------------------------------------------------------------------- key files


def dearmor_key(number: int, key: bytes) -> bytes:
    """One authorised key as binary packets: gpgv reads only binary keyrings, so armor is
    removed and binary kept as is. ``number`` names the key in errors (``TrustError``)."""
    if not key.lstrip().startswith(b"-----BEGIN"):
        return key
    try:
        blocks = armor_blocks(key)
    except ArmorError as error:
        raise TrustError(f"authorised key #{number} cannot be read: {error}") from None
    binary = bytearray()
    for kind, packets in blocks:
        if kind != "PUBLIC KEY BLOCK":
            raise TrustError(f"authorised key #{number} is a {kind}, not a public key")
        binary += packets
    return bytes(binary)


def v4_fingerprint(body: bytes) -> str | None:
    """The fingerprint of a version 4 key packet (RFC 4880 12.2); None for other versions."""
    if not body or body[0] != 4:
        return None
    # SHA-1 is what a v4 fingerprint is; it only matches gpg's listing to the key files here,
    # and two files claiming one fingerprint are never attributed (see keys.preload_keys).
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body, usedforsecurity=False).hexdigest().upper()


def keyblock_primaries(binary: bytes) -> set[str] | None:
    """The primary fingerprints of a binary key file that is whole v4 keyblocks, else None
    (then gpg's listing of it cannot be attributed to it among others)."""
    try:
        packets = read_packets(binary)
    except ArmorError:
        return None
    if not packets or packets[0][0] != PUBLIC_KEY_PACKET or any(t not in _KEYBLOCK_PACKETS for t, _ in packets):
        return None
    fingerprints = [v4_fingerprint(body) for tag, body in packets if tag == PUBLIC_KEY_PACKET]
    found = {fingerprint for fingerprint in fingerprints if fingerprint is not None}
    if len(found) != len(fingerprints):
        return None  # not v4, or one key twice in one file
    return found
