"""Signing an entry as a Party does it: validate, sign with the user's own GnuPG, verify, write.

This module owns the one sequence shared by ``sign`` and ``confirm``:

1. ``sign_entry`` validates the exact bytes about to be published, picks the user's secret
   key that the trusted authorisations allow for the State (or the one named), signs with
   the user's own GnuPG, and verifies the new signature under the gate's policy
   (``trust.verify`` with only that State's authorised keys). Nothing is written.
2. ``write_signed`` puts the entry (when its bytes changed) and ``<file>.asc`` on disk, each
   atomically; if the second write fails, the entry is put back, so the pair on disk is
   always one that was signed together.

Signing happens before any write on purpose: a ``confirm`` whose signing fails (no key,
wrong key, agent locked) must not leave an edited entry behind with a stale signature.

Not owned here: reading and parsing command-line arguments, printing (the commands do
that), the acceptance policy itself (``trust``), and which keys are authorised
(``authorisations``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..entry.validation import file_code, read_entry_file, validate_entry
from ..errors import DirectoryError, SignatureError, UsageError
from ..problems import Problem
from ..publish import write_atomic
from . import GnuPG, Verified, verify
from .authorisations import AUTHORISATIONS, Trust, name_other_state


class EntryNotValid(DirectoryError):
    """The entry has validation errors, so it was not signed; ``problems`` says which."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class SignedEntry:
    """Entry bytes and the signature made over exactly them, verified under the gate's policy."""

    code: str
    data: bytes
    signature: bytes
    verified: Verified


def entry_code(path: Path) -> str:
    """The State code an entry path names; refuses what cannot be an entry file."""
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path}: no such file (entries are in directory/, e.g. directory/no.yaml)")
    if not path.is_file() or path.is_symlink():
        raise UsageError(f"{path}: not a regular file")
    code = file_code(path.name)
    if code is None:
        raise UsageError(f"{path}: an entry is named <cc>.yaml (e.g. no.yaml)")
    return code


def read_entry(path: Path) -> bytes:
    """The bytes of an entry file, read the way ``validate`` reads it (no symlinks, size cap)."""
    data, problem = read_entry_file(path, str(path))
    if problem is not None or data is None:
        raise UsageError(f"{path}: {problem.message if problem else 'cannot be read'}")
    return data


def choose_key(gnupg: GnuPG, trust: Trust, code: str, key: str | None) -> str:
    """The key to sign with: ``key`` when given (verification judges it), else the user's first
    secret key that the trusted authorisations allow for ``code``."""
    authorised = trust.authorisations.signers_for(code)
    if not authorised:
        raise DirectoryError(f"no key is authorised for {code} in {AUTHORISATIONS}; ask the Secretariat")
    if key is not None:
        return key
    own = set(gnupg.fingerprint_of_secret_keys())
    usable = [f for f in authorised if f in own]
    if not usable:
        raise DirectoryError(f"none of your secret keys is authorised for {code} (authorised: "
                             f"{', '.join(authorised)}); import your State's signing key or use --key")
    return usable[0]


def sign_entry(data: bytes, source: str, *, trust: Trust, gnupg: GnuPG, key: str | None,
               now: dt.datetime) -> SignedEntry:
    """Validate ``data`` (the entry at ``source``), sign it and verify the signature as the gate will.

    Raises ``EntryNotValid`` (with the problems) when the entry does not validate, and
    ``DirectoryError`` when no authorised key signs or the signature would not pass the gate.
    """
    code = file_code(Path(source).name)
    if code is None:
        raise UsageError(f"{source}: an entry is named <cc>.yaml (e.g. no.yaml)")
    result = validate_entry(data, source, today=now.date())
    if not result.ok:
        raise EntryNotValid(f"{source} does not validate, so it was not signed; fix the problems above",
                            result.problems)
    chosen = choose_key(gnupg, trust, code, key)
    signature = gnupg.sign(data, key=chosen)
    try:
        verified = verify(data, signature, keys=trust.keys_for(code),
                          allowed=set(trust.authorisations.signers_for(code)), now=now,
                          label=f"{source}.asc", state=code)
    except SignatureError as exc:
        label = f"{source}.asc: "
        reason = name_other_state(str(exc).removeprefix(label), trust, code)
        raise DirectoryError(f"the new signature does not pass the gate, so nothing was written: "
                             f"{label}{reason}") from None
    return SignedEntry(code, data, signature, verified)


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".asc")


def write_signed(path: Path, signed: SignedEntry, *, previous: bytes | None) -> None:
    """Write ``signed`` to ``path`` and ``path.asc``, each atomically.

    ``previous`` is the entry's bytes as read before signing (None: the file is not
    rewritten, only its signature). If the signature cannot be written after the entry
    was, the previous entry is restored, which its old signature still matches.
    """
    rewrite = previous is not None and previous != signed.data
    if rewrite:
        try:
            write_atomic(path, signed.data)
        except OSError as exc:
            raise DirectoryError(f"{path}: cannot write: {exc.strerror}; nothing was changed") from None
    try:
        write_atomic(signature_path(path), signed.signature)
    except BaseException as exc:
        if rewrite and previous is not None:
            write_atomic(path, previous)
        if isinstance(exc, OSError):
            raise DirectoryError(f"{signature_path(path)}: cannot write: {exc.strerror}; "
                                 f"{path} was left as it was") from None
        raise
