"""Capture, from real gpg and gpgv, the status lines and key readings of every policy case:
the fixtures of tests/test_policy.py (``tests/fixtures/status/<case>.json``).

    .venv/bin/python tests/capture_status.py [FOLDER]

Each case makes its keys and its signature in a throwaway GnuPG home (``gpgtools``), runs
gpgv as ``verify`` does (a keyring of the case's key files and nothing else) and gpg's
reading of those key files, and writes them with the moment to judge at and the verdict the
case expects. The expectation is written here, from what the case made (fingerprints,
times, gpg's reading of the keys), never from the policy under test. Rules 1 and 2 (the
shape of the signature file) are not the policy's: the two-signature case is given to gpgv
as it is, to capture what gpgv says of it.

Regenerate after a GnuPG upgrade, or to add a case; the fixtures then name that GnuPG.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpgtools
from directory247.trust.gnupg import gpgv_status
from directory247.trust.keys import keyring_binary, read_keyring
from directory247.trust.openpgp import armor_blocks

FOLDER = Path(__file__).resolve().parent / "fixtures" / "status"
ENTRY = b"code: NO\r\nname: Norway\nserial: 3\n"  # CRLF and LF: text mode changes what is signed
TEXT_MODE = ("is a text-mode signature (class 01); a binary-mode signature (class 00) is required, "
             "e.g. from `gpg --detach-sign --armor`")
BAD = "BAD signature: the signed file was changed after signing (or the signature belongs to another file)"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _future(created: datetime, now: datetime) -> str:
    return f"signature is dated in the future ({created:%Y-%m-%d %H:%M:%S} UTC, now is {now:%Y-%m-%d %H:%M:%S} UTC)"


@dataclass
class Keys:
    """Every key the cases need, made once in one home; times are whole seconds."""

    home: Path
    real: datetime  # the capture's "now"

    def __post_init__(self) -> None:
        make = gpgtools.generate_key
        self.signed = self.real - timedelta(minutes=1)  # when the good signatures are made
        self.past = self.real - timedelta(days=730)
        self.ahead = self.real + timedelta(days=365)
        self.no = make(self.home, "NO 24/7 <no@test.example>", faked_time=self.past)
        self.se = make(self.home, "SE 24/7 <se@test.example>", faked_time=self.past)
        self.stranger = make(self.home, "Stranger <x@test.example>", faked_time=self.past)
        self.expired = make(self.home, "Old <old@test.example>", "1y", faked_time=self.past)
        self.soon = make(self.home, "Soon <soon@test.example>", "2d", faked_time=self.past + timedelta(days=729))
        self.revoked = make(self.home, "Revoked <rev@test.example>", faked_time=self.past)
        self.local = make(self.home, "Revoked locally <local@test.example>", faked_time=self.past)
        self.future = make(self.home, "Future <f@test.example>", faked_time=self.ahead)
        self.with_subkey = make(self.home, "Sub <sub@test.example>", faked_time=self.past)
        self.subkey = gpgtools.add_signing_subkey(self.home, self.with_subkey, faked_time=self.past)
        # A revoked key signs nothing: its signatures are made before it is revoked.
        self.revoked_signature = self.sign(self.revoked)
        gpgtools.revoke(self.home, self.revoked)
        self.local_signature = self.sign(self.local)
        self.local_key_file = gpgtools.revoke_locally(self.home, self.local)  # gpg --export would drop it

    def sign(self, fpr: str, data: bytes = ENTRY, *, at: datetime | None = None, textmode: bool = False,
             digest: str = "SHA256", expires: str | None = None) -> bytes:
        if expires is None:
            return gpgtools.sign(self.home, fpr, data, textmode=textmode, faked_time=at or self.signed, digest=digest)
        return gpgtools.run_gpg(self.home, "--local-user", fpr, "--digest-algo", digest, "--no-textmode",
                                "--default-sig-expire", expires, "--armor", "--detach-sign", data=data,
                                faked_time=at or self.signed)

    def key_files(self, *fingerprints: str) -> tuple[bytes, ...]:
        return tuple(self.local_key_file if fpr == self.local else gpgtools.export_public(self.home, fpr)
                     for fpr in fingerprints)


@dataclass(frozen=True)
class Case:
    name: str
    about: str
    make: Callable[[Keys], tuple[bytes, bytes, tuple[bytes, ...]]]  # signature, data, the keyring's key files
    allowed: Callable[[Keys], list[str]]
    expect: Callable[[Keys, dict[str, Any]], dict[str, Any]]  # from the keys and the captured fixture
    state: str | None = "NO"
    judged: Callable[[Keys], datetime] = lambda keys: keys.real
    forget_keys: bool = False  # record no key reading at all


def _accepted(primary: str, signing: str, hash_algorithm: int,
              created: Callable[[Keys], datetime]) -> Callable[[Keys, dict[str, Any]], dict[str, Any]]:
    def expect(keys: Keys, _fixture: dict[str, Any]) -> dict[str, Any]:
        return {"accepted": {"primary": getattr(keys, primary), "signing": getattr(keys, signing),
                             "created": _stamp(created(keys)), "hash_algorithm": hash_algorithm,
                             "signature_class": "00"}}
    return expect


def _refused(rule: str | Callable[[dict[str, Any]], str],
             message: Callable[[Keys, dict[str, Any]], str]) -> Callable[[Keys, dict[str, Any]], dict[str, Any]]:
    def expect(keys: Keys, fixture: dict[str, Any]) -> dict[str, Any]:
        named = rule if isinstance(rule, str) else rule(fixture)
        return {"refused": {"rule": named, "message": message(keys, fixture)}}
    return expect


def _weak_rule(fixture: dict[str, Any]) -> str:
    """gpgv refuses some weak hashes itself (ERRSIG) and checks others (VALIDSIG)."""
    return "checkable_strong_hash" if any(" ERRSIG " in f"{line} " for line in fixture["status"]) else "strong_hash"


def _expiry(fpr: str) -> Callable[[Keys, dict[str, Any]], str]:
    def message(keys: Keys, fixture: dict[str, Any]) -> str:
        primary = getattr(keys, fpr)
        expires = min(key["expires"] for key in fixture["keys"] if key["primary"] == primary and key["expires"])
        return f"signed by {getattr(keys, fpr)}, which expired on {expires[:10]}"
    return message


def _two_signatures(keys: Keys) -> tuple[bytes, bytes, tuple[bytes, ...]]:
    first, second = (armor_blocks(keys.sign(fpr))[0][1] for fpr in (keys.no, keys.se))
    return first + second, ENTRY, keys.key_files(keys.no, keys.se)


def _one(signer: str, **options: Any) -> Callable[[Keys], tuple[bytes, bytes, tuple[bytes, ...]]]:
    """A signature by ``signer`` over the entry, checked against ``signer``'s key alone."""
    return lambda keys: (keys.sign(getattr(keys, signer), **options), ENTRY, keys.key_files(getattr(keys, signer)))


def _by(signer: str, *keyring: str, data: bytes = ENTRY,
        at: Callable[[Keys], datetime] | None = None) -> Callable[[Keys], tuple[bytes, bytes, tuple[bytes, ...]]]:
    """A signature by ``signer`` over the entry, checked over ``data`` against the keys named in ``keyring``."""
    def make(keys: Keys) -> tuple[bytes, bytes, tuple[bytes, ...]]:
        signature = keys.sign(getattr(keys, signer), at=at(keys) if at else None)
        return signature, data, keys.key_files(*(getattr(keys, name) for name in keyring))
    return make


def _allowed(*names: str) -> Callable[[Keys], list[str]]:
    return lambda keys: [getattr(keys, name) for name in names]


CASES: Sequence[Case] = (
    Case("good", "a binary-mode SHA256 signature by the State's key", _one("no"), _allowed("no"),
         _accepted("no", "no", 8, lambda k: k.signed)),
    Case("good-sha512", "SHA512", _one("no", digest="SHA512"), _allowed("no"),
         _accepted("no", "no", 10, lambda k: k.signed)),
    Case("good-subkey", "made by a signing subkey; judged by its primary key", _one("with_subkey"),
         _allowed("with_subkey"), _accepted("with_subkey", "subkey", 8, lambda k: k.signed)),
    Case("good-within-clock-skew", "dated two minutes ahead of now", _one("no"),
         _allowed("no"), _accepted("no", "no", 8, lambda k: k.signed),
         judged=lambda k: k.signed - timedelta(minutes=2)),
    Case("bad", "the data changed after signing",
         _by("no", "no", data=ENTRY.replace(b"serial: 3", b"serial: 4")), _allowed("no"),
         _refused("not_bad", lambda k, f: BAD)),
    Case("text-mode", "a text-mode (class 01) signature over the same bytes", _one("no", textmode=True),
         _allowed("no"), _refused("binary_mode", lambda k, f: TEXT_MODE)),
    Case("weak-hash-sha1", "SHA1", _one("no", digest="SHA1"), _allowed("no"),
         _refused(_weak_rule, lambda k, f: "uses the weak hash SHA1; SHA256, SHA384 or SHA512 is required")),
    Case("weak-hash-md5", "MD5", _one("no", digest="MD5"), _allowed("no"),
         _refused(_weak_rule, lambda k, f: "uses the weak hash MD5; SHA256, SHA384 or SHA512 is required")),
    Case("unknown-key", "signed by a key not in the keyring",
         _by("stranger", "no"), _allowed("no"),
         _refused("checkable_known_key",
                  lambda k, f: f"signed by unknown key {k.stranger}, which is not authorised for NO")),
    Case("not-authorised", "signed by another State's key, in the keyring but not allowed",
         _by("se", "no", "se"), _allowed("no"),
         _refused("authorised_signer", lambda k, f: f"signed by {k.se}, which is not authorised for NO")),
    Case("not-authorised-release-file", "as not-authorised, for a file of no State",
         _by("se", "no", "se"), _allowed("no"),
         _refused("authorised_signer", lambda k, f: f"signed by {k.se}, which is not authorised to sign this file"),
         state=None),
    Case("subkey-authorised-by-its-own-fingerprint", "authorisation is by primary fingerprint", _one("with_subkey"),
         _allowed("subkey"),
         _refused("authorised_signer", lambda k, f: f"signed by {k.with_subkey}, which is not authorised for NO")),
    Case("expired-key", "made while valid, by a key that expired a year ago",
         _by("expired", "expired", at=lambda k: k.past + timedelta(days=100)), _allowed("expired"),
         _refused("key_not_expired", _expiry("expired"))),
    Case("key-expired-at-now", "a good signature, judged three days on, after the key's expiry", _one("soon"),
         _allowed("soon"), _refused("key_not_expired", _expiry("soon")), judged=lambda k: k.real + timedelta(days=3)),
    Case("revoked-key", "made before the key was revoked",
         lambda k: (k.revoked_signature, ENTRY, k.key_files(k.revoked)),
         _allowed("revoked"),
         _refused("key_not_revoked", lambda k, f: f"signed by {k.revoked}, which has been revoked")),
    Case("revoked-key-locally", "revoked by a local (non-exportable) revocation",
         lambda k: (k.local_signature, ENTRY, k.key_files(k.local)), _allowed("local"),
         _refused("key_not_revoked", lambda k, f: f"signed by {k.local}, which has been revoked")),
    Case("expired-signature", "made ten days ago, valid for a day (gpgv: EXPSIG)",
         lambda k: (k.sign(k.no, at=k.real - timedelta(days=10), expires="1d"), ENTRY, k.key_files(k.no)),
         _allowed("no"), _refused("signature_not_expired", lambda k, f: "signature has expired")),
    Case("signature-expired-at-now", "valid for a day, judged ten days on", _one("no", expires="1d"),
         _allowed("no"), _refused("signature_not_expired", lambda k, f: "signature has expired"),
         judged=lambda k: k.real + timedelta(days=10)),
    Case("future-signature", "dated a day after now",
         _by("no", "no", at=lambda k: k.real + timedelta(days=1)), _allowed("no"),
         _refused("not_from_the_future", lambda k, f: _future(k.real + timedelta(days=1), k.real))),
    Case("judged-before-signed", "a good signature judged a day before it was made", _one("no"), _allowed("no"),
         _refused("not_from_the_future", lambda k, f: _future(k.signed, k.real - timedelta(days=1))),
         judged=lambda k: k.real - timedelta(days=1)),
    Case("future-key", "by a key made (by its machine's clock) a year from now; gpgv refuses the key",
         _by("future", "future", at=lambda k: k.ahead), _allowed("future"),
         _refused("checkable_key_not_from_the_future", lambda k, f: _future(k.ahead, k.real))),
    Case("two-signatures", "two signature packets in one file, as gpgv reads them", _two_signatures,
         _allowed("no", "se"), _refused("one_signature", lambda k, f: "gpgv found 2 readable signatures; "
                                                                      "exactly one is required")),
    Case("key-not-read", "a good signature, with no reading of the key", _one("no"), _allowed("no"),
         _refused("key_read_in_full", lambda k, f: f"signed by {k.no}, whose key gpg did not read in full "
                                                   "(its expiry and revocation are unknown)"),
         forget_keys=True),
)


def _version() -> str:
    return subprocess.run(["gpgv", "--version"], capture_output=True, check=True, text=True).stdout.splitlines()[0]


def capture(folder: Path = FOLDER) -> list[Path]:
    """Make every case with real gpg and write its fixture to ``folder``."""
    with tempfile.TemporaryDirectory(prefix="capture-") as scratch:
        home = gpgtools.make_home(Path(scratch))
        try:
            return _capture(Keys(home, datetime.now(UTC).replace(microsecond=0)), folder)
        finally:
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def _capture(keys: Keys, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        signature, data, files = case.make(keys)
        armored = signature.startswith(b"-----BEGIN")
        packets = b"".join(binary for _kind, binary in armor_blocks(signature)) if armored else signature
        status = gpgv_status("gpgv", keyring_binary(files), packets, data)
        material = {} if case.forget_keys else read_keyring(files, "gpg").keys
        fixture: dict[str, Any] = {
            "case": case.name,
            "about": case.about,
            "gnupg": _version(),
            "now": _stamp(case.judged(keys)),
            "state": case.state,
            "allowed": case.allowed(keys),
            "status": ["[GNUPG:] " + " ".join(fields) for fields in status],
            "keys": [{"fingerprint": m.fingerprint, "primary": m.primary_fingerprint,
                      "expires": _stamp(m.expires) if m.expires else None, "revoked": m.revoked}
                     for m in material.values()],
        }
        fixture["expect"] = case.expect(keys, fixture)
        path = folder / f"{case.name}.json"
        path.write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in capture(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(path)
