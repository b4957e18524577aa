"""``GnuPG``: the one small interface a Party (or the release step) uses, ``sign(bytes) ->
signature`` with the user's own key, and ``verify`` as everywhere else.

Signing uses the user's own GnuPG home (or ``gnupghome``) and its agent, because that is
where the Party's secret key lives. Verification never does: see ``verifier.verify``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Collection, Sequence
from datetime import datetime

from directory247.errors import SignatureError

from .gnupg import run
from .policy import Verified
from .status import complaint, output_lines, status_lines
from .verifier import verify

__all__ = ["GnuPG"]


class GnuPG:
    """One small interface over the real gpg/gpgv binaries."""

    def __init__(self, gnupghome: str | None = None, gpg_binary: str = "gpg", gpgv_binary: str = "gpgv") -> None:
        self.gnupghome = gnupghome
        self.gpg_binary = gpg_binary
        self.gpgv_binary = gpgv_binary

    def _gpg(self, arguments: list[str], stdin: bytes, what: str) -> subprocess.CompletedProcess[bytes]:
        home = ["--homedir", self.gnupghome] if self.gnupghome else []
        command = [self.gpg_binary, *home, "--batch", *arguments]
        return run(command, stdin, what=what, env=dict(os.environ))

    def sign(self, data: bytes, key: str | None = None) -> bytes:
        """A detached, armored, binary-mode signature over ``data`` with SHA-512."""
        # Explicit options override a gpg.conf that says textmode, clearsign or a weak digest.
        arguments = ["--status-fd", "2", "--no-textmode", "--digest-algo", "SHA512"]
        arguments += ["--armor", "--detach-sign", "--output", "-"]
        if key:
            arguments[:0] = ["--local-user", key]
        result = self._gpg(arguments, data, "sign")
        status = status_lines(result.stderr)
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
            raise SignatureError(f"cannot sign: gpg failed: {complaint(result.stderr)}")
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
        for line in output_lines(result.stdout):
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
        """``verifier.verify`` with this instance's binaries; the home is never consulted."""
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
