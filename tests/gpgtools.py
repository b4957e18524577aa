"""Throwaway GnuPG homes and ed25519 keys for tests, driving the real gpg binary.

API (all paths are ``pathlib.Path``, fingerprints upper-case hex, times aware datetimes)::

    home = make_home(tmp_path)                       # fresh private home under tmp_path
    fpr = generate_key(home, "NO test <no@test.example>", expire="1y", faked_time=None)
    sub = add_signing_subkey(home, fpr)              # fingerprint of a new signing subkey
    armored = export_public(home, fpr)               # bytes, armored public key
    revoke(home, fpr)                                # import the key's revocation certificate
    signature = sign(home, fpr, data, textmode=False, faked_time=None, digest="SHA256")
    output = run_gpg(home, "--clearsign", data=data) # anything else, with --batch, stdout bytes

``expire`` uses gpg's syntax ("1y", "2d", "2030-01-01"; ``None`` = never). ``faked_time``
runs gpg as if the clock said that time, to make old, expired or future-dated material.
Every home's gpg-agent is stopped when the interpreter exits.
"""

from __future__ import annotations

import atexit
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

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
        command += ["--faked-system-time", str(int(faked_time.timestamp()))]
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
