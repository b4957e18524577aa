"""Throwaway GnuPG homes and ed25519 keys for tests, driving the real gpg binary.

API (all paths are ``pathlib.Path``, fingerprints upper-case hex, times aware datetimes)::

    home = make_home(tmp_path)                       # fresh private home under tmp_path
    fpr = generate_key(home, "NO test <no@test.example>", expire="1y", faked_time=None)
    sub = add_signing_subkey(home, fpr)              # fingerprint of a new signing subkey
    armored = export_public(home, fpr)               # bytes, armored public key
    revoke(home, fpr)                                # import the key's revocation certificate
    local = revoke_locally(home, fpr)                # bytes, armored: revoked by a LOCAL revocation
    signature = sign(home, fpr, data, textmode=False, faked_time=None, digest="SHA256")
    output = run_gpg(home, "--clearsign", data=data) # anything else, with --batch, stdout bytes

``expire`` uses gpg's syntax ("1y", "2d", "2030-01-01"; ``None`` = never). ``faked_time``
runs gpg as if the clock said that time, to make old, expired or future-dated material.
Every home's gpg-agent is stopped when the interpreter exits.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from directory247.trust.openpgp import packet

_HOMES: list[Path] = []
# gpg-agent's socket lives in the home; a Unix socket path must stay under ~108 bytes.
_MAX_HOME_LENGTH = 80


def make_home(tmp_path: Path) -> Path:
    """A new, empty, private (0700) GnuPG home below ``tmp_path`` (or /tmp if that is long)."""
    parent = tmp_path if len(str(tmp_path)) < _MAX_HOME_LENGTH - 16 else None
    home = Path(tempfile.mkdtemp(prefix="gnupg-", dir=parent))
    if not _HOMES:
        atexit.register(_stop_agents)
    _HOMES.append(home)
    return home


def _stop_agents() -> None:
    for home in _HOMES:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def run_gpg(home: Path, *args: str, data: bytes = b"", faked_time: datetime | None = None) -> bytes:
    """Run ``gpg --homedir HOME --batch ARGS``; return stdout, raise with stderr on failure."""
    command = ["gpg", "--homedir", str(home), "--batch", "--no-tty"]
    if faked_time is not None:
        # "!" freezes gpg's clock there: without it the clock runs on from that second, and a
        # signature could be dated a second later than asked when gpg is slow to start.
        command += ["--faked-system-time", f"{int(faked_time.timestamp())}!"]
    result = subprocess.run([*command, *args], input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command + list(args))}: {result.stderr.decode()}")
    return result.stdout


def _created(home: Path, *args: str, faked_time: datetime | None) -> str:
    output = run_gpg(
        home,
        "--status-fd",
        "1",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        *args,
        faked_time=faked_time,
    )
    for line in output.decode().splitlines():
        if line.startswith("[GNUPG:] KEY_CREATED "):
            return line.split()[3]
    raise RuntimeError(f"gpg created no key: {output.decode()}")


def generate_key(home: Path, uid: str, expire: str | None = None, faked_time: datetime | None = None) -> str:
    """Generate an ed25519 signing-only primary key; return its fingerprint. ``--yes``: a
    module's home may already hold a key with this user ID (a test run twice)."""
    return _created(
        home,
        "--yes",
        "--quick-generate-key",
        uid,
        "ed25519",
        "sign",
        expire or "never",
        faked_time=faked_time,
    )


def add_signing_subkey(home: Path, fpr: str, expire: str | None = None, faked_time: datetime | None = None) -> str:
    """Add an ed25519 signing subkey to ``fpr``; return the subkey's fingerprint."""
    return _created(home, "--quick-add-key", fpr, "ed25519", "sign", expire or "never", faked_time=faked_time)


def export_public(home: Path, fpr: str) -> bytes:
    """The armored public key (with subkeys and revocations) of ``fpr``."""
    return run_gpg(home, "--armor", "--export", fpr)


def revoke(home: Path, fpr: str) -> None:
    """Revoke ``fpr`` by importing the revocation certificate gpg stored when generating it."""
    certificate = (home / "openpgp-revocs.d" / f"{fpr}.rev").read_text()
    # gpg prefixes the armor with ':' so that importing it needs a deliberate edit.
    run_gpg(home, "--import", data=certificate.replace(":-----BEGIN", "-----BEGIN").encode())


def sign(
    home: Path,
    fpr: str,
    data: bytes,
    textmode: bool = False,
    faked_time: datetime | None = None,
    digest: str = "SHA256",
) -> bytes:
    """An armored detached signature over ``data`` by ``fpr`` (binary mode unless textmode)."""
    mode = "--textmode" if textmode else "--no-textmode"
    return run_gpg(
        home,
        "--local-user",
        fpr,
        "--digest-algo",
        digest,
        mode,
        "--armor",
        "--detach-sign",
        data=data,
        faked_time=faked_time,
    )


def _first_packet(binary: bytes) -> tuple[bytes, int]:
    """The body of the first packet of ``binary`` (old or new format, no partial lengths)
    and where the packet ends."""
    ctb = binary[0]
    if ctb & 0x40:
        first = binary[1]
        if first < 192:
            start, size = 2, first
        elif first < 224:
            start, size = 3, ((first - 192) << 8) + binary[2] + 192
        elif first == 255:
            start, size = 6, int.from_bytes(binary[2:6], "big")
        else:
            raise ValueError("partial length")
    else:
        start = 1 + (1, 2, 4)[ctb & 3]
        size = int.from_bytes(binary[1:start], "big")
    return binary[start : start + size], start + size


def _mpi(value: bytes) -> bytes:
    number = int.from_bytes(value, "big")
    return number.bit_length().to_bytes(2, "big") + number.to_bytes((number.bit_length() + 7) // 8, "big")


def revoke_locally(home: Path, fpr: str, reason: str = "local revocation") -> bytes:
    """Revoke ed25519 key ``fpr`` with a NON-EXPORTABLE key revocation and return its armored
    public key, that revocation included.

    gpg makes no such signature itself (revkey and --generate-revocation always make
    exportable ones; only revocations of certifications can be local), so the revocation
    (class 0x20, SHA256, hashed subpackets: issuer fingerprint, creation time, Exportable=0,
    reason; unhashed: issuer) is laid out here and signed by the key's own gpg-agent
    (SIGKEY, SETHASH, PKSIGN: what gpg does for its own signatures). gpg then checks it: it
    is imported with ``import-local-sigs`` (a bad signature would be rejected and the key
    would not be revoked), and exported with ``export-local-sigs``. A plain ``gpg --import``
    of the result drops the revocation; gpgv, reading the key file as it is, honours it."""
    binary = run_gpg(home, "--export", fpr)
    primary, end = _first_packet(binary)
    issuer = bytes.fromhex(fpr)
    hashed = b"".join(
        bytes([len(value) + 1, kind]) + value
        for kind, value in (
            (33, b"\x04" + issuer),  # issuer fingerprint
            (2, int(time.time()).to_bytes(4, "big")),  # creation time
            (4, b"\x00"),  # exportable: no
            (29, b"\x00" + reason.encode()),  # reason: none given
        )
    )
    head = bytes([4, 0x20, 22, 8]) + len(hashed).to_bytes(2, "big") + hashed  # v4, key revocation, EdDSA, SHA256
    digest = hashlib.sha256(
        b"\x99" + len(primary).to_bytes(2, "big") + primary + head + b"\x04\xff" + len(head).to_bytes(4, "big")
    ).digest()
    listing = run_gpg(home, "--with-colons", "--with-keygrip", "--list-keys", fpr).decode()
    grip = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("grp:"))
    result = subprocess.run(
        ["gpg-connect-agent", "--homedir", str(home)],
        input=f"SIGKEY {grip}\nSETHASH 8 {digest.hex()}\nPKSIGN\n/bye\n".encode(),
        capture_output=True,
        check=True,
    )
    lines = result.stdout.split(b"\n")
    if any(line.startswith(b"ERR") for line in lines):
        raise RuntimeError(f"gpg-agent did not sign: {result.stdout.decode(errors='replace')}")
    sexp = b"".join(
        re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), line[2:])
        for line in lines
        if line.startswith(b"D ")
    )  # (sig-val (eddsa (r ..) (s ..)))
    values, position = [], 0
    for name in (b"r", b"s"):  # in this order, each value read at its own length
        found = re.compile(rb"\(1:" + name + rb"(\d+):").search(sexp, position)
        if found is None:
            raise RuntimeError(f"gpg-agent gave no {name.decode()}: {sexp!r}")
        position = found.end() + int(found[1])
        values.append(sexp[found.end() : position])
    unhashed = bytes([9, 16]) + issuer[-8:]  # issuer key ID
    signature = packet(
        2, head + len(unhashed).to_bytes(2, "big") + unhashed + digest[:2] + _mpi(values[0]) + _mpi(values[1])
    )
    # where a key revocation belongs: right after the primary key
    run_gpg(home, "--import-options", "import-local-sigs", "--import", data=binary[:end] + signature + binary[end:])
    if not any(
        line.startswith("pub:r:") for line in run_gpg(home, "--with-colons", "--list-keys", fpr).decode().splitlines()
    ):
        raise RuntimeError(f"gpg did not accept the local revocation of {fpr}")
    return run_gpg(home, "--armor", "--export-options", "export-local-sigs", "--export", fpr)
