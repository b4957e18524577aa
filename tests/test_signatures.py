"""The signature acceptance policy, against real gpg/gpgv in throwaway homes (no mocks)."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import gpgtools
from directory247.errors import SignatureError, TrustError
from directory247.trust import GnuPG, Verified, verify

# CRLF and LF both present, so a text-mode signature verifies over different bytes.
ENTRY = b"code: NO\r\nname: Norway\nserial: 3\n"
LABEL = "directory/no.yaml.asc"


@dataclass(frozen=True)
class Keyset:
    home: Path
    no: str  # authorised for NO
    se: str  # authorised for SE
    stranger: str  # authorised for nobody
    expired: str  # expired a year ago
    revoked: str
    soon: str  # expires in two days (real time)
    future: str  # created (by the clock of its machine) a year from now
    with_subkey: str  # primary of a key whose signing subkey signs
    subkey: str
    public: dict[str, bytes]
    expired_signature: bytes
    revoked_signature: bytes
    future_key_signature: bytes


@pytest.fixture(scope="session")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> Keyset:
    home = gpgtools.make_home(tmp_path_factory.mktemp("keys"))
    real = datetime.now(UTC)
    no = gpgtools.generate_key(home, "NO 24/7 <no@test.example>")
    se = gpgtools.generate_key(home, "SE 24/7 <se@test.example>")
    stranger = gpgtools.generate_key(home, "Stranger <x@test.example>")
    past = real - timedelta(days=730)
    expired = gpgtools.generate_key(home, "Old <old@test.example>", "1y", faked_time=past)
    expired_signature = gpgtools.sign(home, expired, ENTRY, faked_time=past + timedelta(days=100))
    revoked = gpgtools.generate_key(home, "Revoked <rev@test.example>")
    revoked_signature = gpgtools.sign(home, revoked, ENTRY)
    gpgtools.revoke(home, revoked)
    soon = gpgtools.generate_key(home, "Soon <soon@test.example>", "2d")
    ahead = real + timedelta(days=365)
    future = gpgtools.generate_key(home, "Future <f@test.example>", faked_time=ahead)
    future_key_signature = gpgtools.sign(home, future, ENTRY, faked_time=ahead)
    with_subkey = gpgtools.generate_key(home, "Sub <sub@test.example>")
    subkey = gpgtools.add_signing_subkey(home, with_subkey)
    fingerprints = [no, se, stranger, expired, revoked, soon, future, with_subkey]
    return Keyset(
        home=home,
        no=no,
        se=se,
        stranger=stranger,
        expired=expired,
        revoked=revoked,
        soon=soon,
        future=future,
        with_subkey=with_subkey,
        subkey=subkey,
        public={fpr: gpgtools.export_public(home, fpr) for fpr in fingerprints},
        expired_signature=expired_signature,
        revoked_signature=revoked_signature,
        future_key_signature=future_key_signature,
    )


def check(
    ks: Keyset,
    signature: bytes,
    *,
    signer: str,
    data: bytes = ENTRY,
    keys: Sequence[str] | None = None,
    allowed: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Verified:
    """Verify as the NO entry would be: by default ``signer`` is the one authorised key."""
    passed = keys if keys is not None else [signer]
    return verify(
        data,
        signature,
        keys=[ks.public[fpr] for fpr in passed],
        allowed=allowed if allowed is not None else passed,
        now=now or datetime.now(UTC),
        label=LABEL,
        state="NO",
    )


def refusal(ks: Keyset, signature: bytes, **kwargs: object) -> str:
    with pytest.raises(SignatureError) as excinfo:
        check(ks, signature, **kwargs)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert message.startswith(f"{LABEL}: ")
    return message.removeprefix(f"{LABEL}: ")


def armor(packets: bytes) -> bytes:
    """Armor binary signature packets the way gpg does (with CRC-24)."""
    crc = 0xB704CE
    for byte in packets:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    body = base64.b64encode(packets).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    checksum = base64.b64encode((crc & 0xFFFFFF).to_bytes(3, "big")).decode()
    text = "\n".join(["-----BEGIN PGP SIGNATURE-----", "", *lines, "=" + checksum])
    return (text + "\n-----END PGP SIGNATURE-----\n").encode()


# --------------------------------------------------------------------------- accepted


def test_good_signature_is_accepted(keyset: Keyset) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    verified = check(keyset, gpgtools.sign(keyset.home, keyset.no, ENTRY), signer=keyset.no)
    assert verified.primary_fingerprint == keyset.no
    assert verified.signing_fingerprint == keyset.no
    assert verified.hash_algorithm == 8
    assert verified.signature_class == "00"
    assert before <= verified.created <= datetime.now(UTC)
    assert verified.created.tzinfo is not None


@pytest.mark.parametrize(("digest", "algorithm"), [("SHA384", 9), ("SHA512", 10)])
def test_other_strong_hashes_are_accepted(keyset: Keyset, digest: str, algorithm: int) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, digest=digest)
    assert check(keyset, signature, signer=keyset.no).hash_algorithm == algorithm


def test_subkey_signature_is_judged_by_its_primary(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.with_subkey, ENTRY)
    verified = check(keyset, signature, signer=keyset.with_subkey)
    assert verified.primary_fingerprint == keyset.with_subkey
    assert verified.signing_fingerprint == keyset.subkey
    # Authorising the subkey's own fingerprint is not enough: authorisation is by primary.
    message = refusal(keyset, signature, signer=keyset.with_subkey, allowed=[keyset.subkey])
    assert message == f"signed by {keyset.with_subkey}, which is not authorised for NO"


def test_signature_within_clock_skew_tolerance_is_accepted(keyset: Keyset) -> None:
    ahead = datetime.now(UTC) + timedelta(minutes=2)
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, faked_time=ahead)
    assert check(keyset, signature, signer=keyset.no).created > datetime.now(UTC)


def test_allowed_fingerprints_are_normalised(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    spaced = " ".join(keyset.no[i : i + 4] for i in range(0, 40, 4)).lower()
    assert check(keyset, signature, signer=keyset.no, allowed=[spaced]).primary_fingerprint


# --------------------------------------------------------------------------- who signed


def test_valid_signature_by_another_states_key_is_not_authorised(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.se, ENTRY)
    message = refusal(keyset, signature, signer=keyset.se, keys=[keyset.no, keyset.se], allowed=[keyset.no])
    assert message == f"signed by {keyset.se}, which is not authorised for NO"


def test_another_states_key_not_passed_is_unknown(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.se, ENTRY)
    message = refusal(keyset, signature, signer=keyset.se, keys=[keyset.no])
    assert message == f"signed by unknown key {keyset.se}, which is not authorised for NO"


def test_unknown_key(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.stranger, ENTRY)
    message = refusal(keyset, signature, signer=keyset.stranger, keys=[keyset.no, keyset.se])
    assert message == f"signed by unknown key {keyset.stranger}, which is not authorised for NO"


def test_no_keys_at_all(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    message = refusal(keyset, signature, signer=keyset.no, keys=[], allowed=[keyset.no])
    assert message == f"signed by unknown key {keyset.no}, which is not authorised for NO"


def test_users_own_gnupghome_is_never_consulted(
    keyset: Keyset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A home whose default gpgv keyring holds the NO key: gpgv alone would trust it.
    home = gpgtools.make_home(tmp_path)
    trusted = str(home / "trustedkeys.kbx")
    gpgtools.run_gpg(
        home,
        "--no-default-keyring",
        "--keyring",
        trusted,
        "--import",
        data=keyset.public[keyset.no],
    )
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    (tmp_path / "entry.asc").write_bytes(signature)
    monkeypatch.setenv("GNUPGHOME", str(home))
    plain = subprocess.run(
        ["gpgv", "--status-fd", "1", str(tmp_path / "entry.asc"), "-"],
        input=ENTRY,
        capture_output=True,
        check=False,
    )
    assert b"[GNUPG:] GOODSIG" in plain.stdout  # the trap is armed
    message = refusal(keyset, signature, signer=keyset.no, keys=[], allowed=[keyset.no])
    assert message.startswith(f"signed by unknown key {keyset.no}")


# --------------------------------------------------------------------------- what was signed


def test_tampered_byte(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    tampered = ENTRY.replace(b"serial: 3", b"serial: 4")
    assert refusal(keyset, signature, signer=keyset.no, data=tampered) == (
        "BAD signature: the signed file was changed after signing (or the signature belongs to another file)"
    )


TEXT_MODE = (
    "is a text-mode signature (class 01); a binary-mode signature (class 00) is required, "
    "e.g. from `gpg --detach-sign --armor`"
)


def test_text_mode_signature_over_changed_line_endings(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, textmode=True)
    unix = ENTRY.replace(b"\r\n", b"\n")
    assert unix != ENTRY
    assert refusal(keyset, signature, signer=keyset.no, data=unix) == TEXT_MODE


def test_text_mode_signature_over_same_bytes(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, textmode=True)
    assert refusal(keyset, signature, signer=keyset.no) == TEXT_MODE


@pytest.mark.parametrize("digest", ["SHA1", "SHA224", "RIPEMD160", "MD5"])
def test_weak_hash(keyset: Keyset, digest: str) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, digest=digest)
    assert refusal(keyset, signature, signer=keyset.no) == (
        f"uses the weak hash {digest}; SHA256, SHA384 or SHA512 is required"
    )


# --------------------------------------------------------------------------- key state, time


def test_expired_key(keyset: Keyset) -> None:
    message = refusal(keyset, keyset.expired_signature, signer=keyset.expired)
    expiry = datetime.now(UTC) - timedelta(days=365)
    assert message.startswith(f"signed by {keyset.expired}, which expired on ")
    stated = datetime.strptime(message[-10:], "%Y-%m-%d").replace(tzinfo=UTC)
    assert abs(stated - expiry) < timedelta(days=3)


def test_key_expired_at_now_but_not_at_real_time(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.soon, ENTRY)
    assert check(keyset, signature, signer=keyset.soon).primary_fingerprint == keyset.soon
    later = datetime.now(UTC) + timedelta(days=3)
    message = refusal(keyset, signature, signer=keyset.soon, now=later)
    assert message.startswith(f"signed by {keyset.soon}, which expired on ")


def test_revoked_key(keyset: Keyset) -> None:
    message = refusal(keyset, keyset.revoked_signature, signer=keyset.revoked)
    assert message == f"signed by {keyset.revoked}, which has been revoked"


def test_future_dated_signature(keyset: Keyset) -> None:
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY, faked_time=ahead)
    message = refusal(keyset, signature, signer=keyset.no)
    assert message.startswith(f"signature is dated in the future ({ahead:%Y-%m-%d %H:%M:%S} UTC")


def test_future_dated_signature_relative_to_now(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    message = refusal(keyset, signature, signer=keyset.no, now=yesterday)
    assert message.startswith("signature is dated in the future")


def test_future_dated_signature_by_a_key_from_the_future(keyset: Keyset) -> None:
    # gpgv itself refuses this one (ERRSIG "Bad public key"): the key is newer than its clock.
    message = refusal(keyset, keyset.future_key_signature, signer=keyset.future)
    assert message.startswith("signature is dated in the future")


# --------------------------------------------------------------------------- the file's shape


def two_signature_packets(keyset: Keyset) -> bytes:
    first = gpgtools.run_gpg(keyset.home, "-u", keyset.no, "--detach-sign", data=ENTRY)
    second = gpgtools.run_gpg(keyset.home, "-u", keyset.se, "--detach-sign", data=ENTRY)
    return first + second


def test_two_signatures_in_one_block(keyset: Keyset) -> None:
    signature = armor(two_signature_packets(keyset))
    message = refusal(keyset, signature, signer=keyset.no, keys=[keyset.no, keyset.se])
    assert message == "contains 2 signatures; exactly one is required"


def test_two_signatures_by_the_same_key(keyset: Keyset) -> None:
    one = gpgtools.run_gpg(keyset.home, "-u", keyset.no, "--detach-sign", data=ENTRY)
    message = refusal(keyset, armor(one + one), signer=keyset.no)
    assert message == "contains 2 signatures; exactly one is required"


def test_two_armored_blocks(keyset: Keyset) -> None:
    one = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    message = refusal(keyset, one + one, signer=keyset.no)
    assert message == "contains 2 armored blocks; exactly one signature is required"


def test_cleartext_signed_message(keyset: Keyset) -> None:
    signature = gpgtools.run_gpg(keyset.home, "-u", keyset.no, "--clearsign", data=ENTRY)
    assert refusal(keyset, signature, signer=keyset.no) == (
        "is a cleartext-signed message (BEGIN PGP SIGNED MESSAGE); "
        "a detached, armored, binary-mode signature is required"
    )


def test_inline_signed_message(keyset: Keyset) -> None:
    signature = gpgtools.run_gpg(keyset.home, "-u", keyset.no, "--sign", "--armor", data=ENTRY)
    assert refusal(keyset, signature, signer=keyset.no) == (
        "is an inline signed message (BEGIN PGP MESSAGE); a detached, armored, binary-mode signature is required"
    )


def test_inline_message_relabelled_as_signature(keyset: Keyset) -> None:
    message = gpgtools.run_gpg(keyset.home, "-u", keyset.no, "--sign", data=ENTRY)
    assert refusal(keyset, armor(message), signer=keyset.no) == (
        "contains OpenPGP data that is not a detached signature"
    )


def test_truncated_armor(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    assert refusal(keyset, signature[: len(signature) // 2], signer=keyset.no) == (
        "armor is truncated (no -----END PGP SIGNATURE----- line)"
    )


def test_armor_with_a_line_missing(keyset: Keyset) -> None:
    lines = gpgtools.sign(keyset.home, keyset.no, ENTRY).splitlines(keepends=True)
    shortened = b"".join(lines[:3] + lines[4:])  # drop the second base64 line, keep CRC and END
    assert refusal(keyset, shortened, signer=keyset.no) == ("armor is damaged or truncated (checksum mismatch)")
    without_crc = b"".join(line for line in lines[:3] + lines[4:] if not line.startswith(b"="))
    assert refusal(keyset, without_crc, signer=keyset.no) == "signature is truncated"


@pytest.mark.parametrize("empty", [b"", b"\n  \n"])
def test_empty_signature(keyset: Keyset, empty: bytes) -> None:
    assert refusal(keyset, empty, signer=keyset.no) == "signature file is empty"


@pytest.mark.parametrize("garbage", [b"hello\n", b"\x88\x75\x04\x00", b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n"])
def test_garbage(keyset: Keyset, garbage: bytes) -> None:
    assert refusal(keyset, garbage, signer=keyset.no) == (
        "is not an armored detached signature (it must start with -----BEGIN PGP SIGNATURE-----)"
    )


def test_text_after_the_signature(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY) + b"trailing words\n"
    assert refusal(keyset, signature, signer=keyset.no) == "has text outside the armored block"


def test_invalid_base64(keyset: Keyset) -> None:
    lines = gpgtools.sign(keyset.home, keyset.no, ENTRY).splitlines(keepends=True)
    lines[2] = b"!!!!" + lines[2][4:]
    assert refusal(keyset, b"".join(lines), signer=keyset.no) == ("armor is damaged (invalid base64)")


# --------------------------------------------------------------------------- the interface


def test_label_and_state_appear_in_messages(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.se, ENTRY)
    with pytest.raises(SignatureError) as excinfo:
        verify(
            ENTRY,
            signature,
            keys=[keyset.public[keyset.no], keyset.public[keyset.se]],
            allowed=[keyset.no],
            now=datetime.now(UTC),
            label="release/1.0.0/directory.json.asc",
        )
    assert str(excinfo.value) == (
        f"release/1.0.0/directory.json.asc: signed by {keyset.se}, which is not authorised to sign this file"
    )


def test_unreadable_key_is_a_trust_error(keyset: Keyset) -> None:
    signature = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    broken = keyset.public[keyset.no].replace(b"-----END PGP PUBLIC KEY BLOCK-----", b"")
    with pytest.raises(TrustError, match="authorised key #1 cannot be read: armor is truncated"):
        verify(ENTRY, signature, keys=[broken], allowed=[keyset.no], now=datetime.now(UTC), label=LABEL)


def test_naive_now_is_a_bug(keyset: Keyset) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(ENTRY, b"", keys=[], allowed=[], now=datetime.now(), label=LABEL)


def test_gnupg_sign_round_trip(keyset: Keyset) -> None:
    gnupg = GnuPG(gnupghome=str(keyset.home))
    signature = gnupg.sign(ENTRY, key=keyset.no)
    assert signature.startswith(b"-----BEGIN PGP SIGNATURE-----")
    verified = gnupg.verify(
        ENTRY,
        signature,
        keys=[keyset.public[keyset.no]],
        allowed=[keyset.no],
        now=datetime.now(UTC),
        label=LABEL,
        state="NO",
    )
    assert verified.signature_class == "00"
    assert verified.hash_algorithm == 10  # SHA-512, whatever gpg.conf says


def test_gnupg_sign_overrides_a_risky_gpg_conf(tmp_path: Path) -> None:
    home = gpgtools.make_home(tmp_path)
    fpr = gpgtools.generate_key(home, "NO 24/7 <no@test.example>")
    (home / "gpg.conf").write_text("textmode\ndigest-algo SHA1\n")
    signature = GnuPG(gnupghome=str(home)).sign(ENTRY)
    verified = verify(
        ENTRY,
        signature,
        keys=[gpgtools.export_public(home, fpr)],
        allowed=[fpr],
        now=datetime.now(UTC),
        label=LABEL,
    )
    assert (verified.signature_class, verified.hash_algorithm) == ("00", 10)


def test_gnupg_lists_usable_secret_keys(keyset: Keyset) -> None:
    fingerprints = GnuPG(gnupghome=str(keyset.home)).fingerprint_of_secret_keys()
    assert {keyset.no, keyset.se, keyset.with_subkey} <= set(fingerprints)
    assert keyset.expired not in fingerprints
    assert keyset.revoked not in fingerprints


def test_gnupg_sign_without_secret_key(tmp_path: Path) -> None:
    home = gpgtools.make_home(tmp_path)
    with pytest.raises(SignatureError) as excinfo:
        GnuPG(gnupghome=str(home)).sign(ENTRY)
    assert str(excinfo.value) == (
        f"cannot sign: no usable secret key in {home}; import your State's signing key "
        "(gpg --import) or name the key to sign with"
    )


def test_gnupg_missing_binary() -> None:
    with pytest.raises(SignatureError, match="'no-such-gpg' was not found; install GnuPG"):
        GnuPG(gpg_binary="no-such-gpg").sign(ENTRY)


def test_verify_from_several_threads(keyset: Keyset) -> None:
    good = gpgtools.sign(keyset.home, keyset.no, ENTRY)
    foreign = gpgtools.sign(keyset.home, keyset.se, ENTRY)

    def one(index: int) -> str:
        signature = good if index % 2 else foreign
        try:
            return check(keyset, signature, signer=keyset.no).primary_fingerprint
        except SignatureError as error:
            return str(error)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(64)))
    elapsed = time.perf_counter() - started
    assert results[1::2] == [keyset.no] * 32
    assert all("signed by unknown key" in result for result in results[0::2])
    assert elapsed < 30, f"64 verifications took {elapsed:.1f}s"
