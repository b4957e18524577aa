"""The acceptance policy: when a detached signature over an entry (or a release file) is
accepted, as a pure function from GnuPG's status lines on it and gpg's reading of the keys to
a verdict. Every path that accepts a signature (``verifier.verify``, and the batch in
``batch``) calls ``judge``; nothing else decides.

A signature is accepted only when ALL of these hold (rules 1 and 2 are about the file's bytes
and are checked before gpgv runs, by ``openpgp.signature_packets``):

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

Each rule below is a small named function of the ``Evidence``; ``POLICY`` composes them with
``all_of``, in the order that decides which refusal a signature that breaks several gets.
The decision is made from the status lines, never from an exit code: gpgv exits 0 for a file
with two good signatures, for a signature by an expired key (``EXPKEYSIG``), and for one by a
revoked key (``REVKEYSIG``).

Unsafe, and therefore never done: trusting python-gnupg's ``valid`` (it reflects the last
signature in the file only, and knows nothing of class, hash or authorisation); accepting
text-mode signatures (they still verify after the line endings of the data were changed, so
the bytes signed are not the bytes published).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from directory247.errors import SignatureError

from .status import KeyMaterial, timestamp

__all__ = [
    "FUTURE_TOLERANCE", "POLICY", "POLICY_VERSION", "STRONG_HASHES", "Evidence", "Refusal", "Rule", "SignatureFacts",
    "Verified", "all_of", "errsig_rule", "judge", "rule", "signature_rule",
]

#: Raise when the policy, the meaning of cached gpgv output or the reading of a cached file
#: (``authorisations.parse_authorisations``) changes: it invalidates caches.
POLICY_VERSION = "4"

#: How far a signature may be dated after ``now``, for clock skew between machines.
FUTURE_TOLERANCE = timedelta(minutes=5)

#: OpenPGP hash algorithm ids (RFC 4880 9.4) that the policy accepts.
STRONG_HASHES: dict[int, str] = {8: "SHA256", 9: "SHA384", 10: "SHA512"}

_HASH_NAMES: dict[int, str] = {
    1: "MD5", 2: "SHA1", 3: "RIPEMD160", 8: "SHA256", 9: "SHA384", 10: "SHA512",
    11: "SHA224", 12: "SHA3-256", 14: "SHA3-512",
}  # fmt: skip

#: Status lines that say what became of a signature: each at most once for one signature.
_ONE_RESULT = ("GOODSIG", "VALIDSIG", "BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG")
_RESULTS = frozenset({"GOODSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG"})
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


@dataclass(frozen=True)
class Refusal:
    """Why a signature is refused: the rule that refused it, and a reason that completes "<label>: "."""

    rule: str
    reason: str

    def error(self, label: str) -> SignatureError:
        return SignatureError(f"{label}: {self.reason}")


@dataclass(frozen=True)
class SignatureFacts:
    """What gpg's VALIDSIG line says of the signature (fpr date time expire version reserved
    pkalgo hashalgo class primary-fpr)."""

    signing: str
    primary: str
    created: datetime | None
    expires: datetime | None
    hash_algorithm: int
    signature_class: str

    @classmethod
    def from_validsig(cls, fields: Sequence[str]) -> SignatureFacts:
        return cls(signing=fields[0].upper(), primary=fields[9].upper(), created=timestamp(fields[2]),
                   expires=timestamp(fields[3]), hash_algorithm=int(fields[7]), signature_class=fields[8])


@dataclass(frozen=True)
class Evidence:
    """Everything the policy judges: GnuPG's status lines on ONE signature, gpg's reading of
    the keys (by fingerprint of primary keys and subkeys), the authorised primary fingerprints
    (normalised), the moment of judgement and the State, if any, for messages; and what
    ``read`` takes from them once: ``seen`` (the fields of each keyword's last line),
    ``counts`` (lines per keyword), ``signature`` (the VALIDSIG facts, when gpg gave a full
    and readable line; rules about the signature refuse nothing without one,
    ``verified_by_gpgv`` does) and ``material`` (gpg's reading of its primary and signing
    keys, None where gpg read none)."""

    status: Sequence[Sequence[str]]
    keys: Mapping[str, KeyMaterial]
    allowed: frozenset[str]
    now: datetime
    state: str | None
    seen: Mapping[str, Sequence[str]]
    counts: Mapping[str, int]
    signature: SignatureFacts | None
    material: tuple[KeyMaterial | None, ...]

    @classmethod
    def read(cls, status: Sequence[Sequence[str]], keys: Mapping[str, KeyMaterial], allowed: frozenset[str],
             now: datetime, state: str | None = None) -> Evidence:
        seen = {fields[0]: fields[1:] for fields in status}
        counts: dict[str, int] = {}
        for fields in status:
            counts[fields[0]] = counts.get(fields[0], 0) + 1
        validsig = seen.get("VALIDSIG")
        try:
            signature = SignatureFacts.from_validsig(validsig) if validsig is not None and len(validsig) >= 10 else None
        except ValueError:  # not what gpg writes: no verdict can be read from it
            signature = None
        material = (keys.get(signature.primary), keys.get(signature.signing)) if signature is not None else ()
        return cls(status, keys, allowed, now, state, seen, counts, signature, material)

    @property
    def whose(self) -> str:
        return f"for {self.state}" if self.state else "to sign this file"


#: A rule: None when it has nothing against the signature, else the refusal.
Rule = Callable[[Evidence], Refusal | None]


def rule(check: Callable[[Evidence], str | None]) -> Rule:
    """A named rule from a check that returns why it refuses (or None)."""

    @wraps(check)
    def named(evidence: Evidence) -> Refusal | None:
        reason = check(evidence)
        return None if reason is None else Refusal(check.__name__, reason)

    return named


def signature_rule(check: Callable[[Evidence, SignatureFacts], str | None]) -> Rule:
    """A named rule about the signature gpg verified (its VALIDSIG facts); without one it
    refuses nothing (``verified_by_gpgv`` does)."""

    @wraps(check)
    def named(evidence: Evidence) -> Refusal | None:
        facts = evidence.signature
        reason = check(evidence, facts) if facts is not None else None
        return None if reason is None else Refusal(check.__name__, reason)

    return named


def errsig_rule(check: Callable[[Evidence, list[str]], str | None]) -> Rule:
    """A named rule about a signature gpg could not check: ``check`` gets ERRSIG's fields
    (keyid pkalgo hashalgo class time rc [fingerprint]), padded; without ERRSIG it refuses nothing."""

    @wraps(check)
    def named(evidence: Evidence) -> Refusal | None:
        fields = evidence.seen.get("ERRSIG")
        reason = check(evidence, [*fields, *[""] * 7]) if fields is not None else None
        return None if reason is None else Refusal(check.__name__, reason)

    return named


def all_of(*rules: Rule) -> Rule:
    """The rules in order: the first refusal, or None when none refuses."""

    def every(evidence: Evidence) -> Refusal | None:
        for one in rules:
            refusal = one(evidence)
            if refusal is not None:
                return refusal
        return None

    return every


def _hash_name(algorithm: int) -> str:
    return _HASH_NAMES.get(algorithm, f"hash algorithm {algorithm}")


def _weak(algorithm: int) -> str:
    return f"uses the weak hash {_hash_name(algorithm)}; SHA256, SHA384 or SHA512 is required"


def _from_the_future(created: datetime, now: datetime) -> str | None:
    # gpgv itself accepts a signature from the future if the key is older than the real time.
    if created <= now + FUTURE_TOLERANCE:
        return None
    return (f"signature is dated in the future ({created:%Y-%m-%d %H:%M:%S} UTC, "
            f"now is {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)")




# --------------------------------------------------------------------------- the signature gpgv saw


@rule
def one_signature(evidence: Evidence) -> str | None:
    signatures = evidence.counts.get("NEWSIG", 0)
    # Rule 2 was checked on the packets; gpgv disagreeing means it skipped one.
    return None if signatures == 1 else f"gpgv found {signatures} readable signatures; exactly one is required"


@rule
def one_result_each(evidence: Evidence) -> str | None:
    if any(evidence.counts.get(word, 0) > 1 for word in _ONE_RESULT):
        return "gpgv reported two results for one signature; it cannot be accepted"
    return None


@rule
def not_bad(evidence: Evidence) -> str | None:
    if "BADSIG" in evidence.seen:
        return ("BAD signature: the signed file was changed after signing "
                "(or the signature belongs to another file)")
    return None


@errsig_rule
def checkable_key_not_from_the_future(evidence: Evidence, fields: list[str]) -> str | None:
    created = timestamp(fields[4])
    # gpgv refuses a key created after the real time with "Bad public key" (rc 6).
    return _from_the_future(created, evidence.now) if created is not None else None


@errsig_rule
def checkable_known_key(evidence: Evidence, fields: list[str]) -> str | None:
    if fields[5] != _ERRSIG_NO_PUBKEY:
        return None
    return f"signed by unknown key {fields[6] or fields[0]}, which is not authorised {evidence.whose}"


@errsig_rule
def checkable_strong_hash(evidence: Evidence, fields: list[str]) -> str | None:
    return _weak(int(fields[2])) if fields[2].isdigit() and int(fields[2]) not in STRONG_HASHES else None


@errsig_rule
def checkable(evidence: Evidence, fields: list[str]) -> str | None:
    return f"signature cannot be checked (gpg error code {fields[5]})"


@rule
def verified_by_gpgv(evidence: Evidence) -> str | None:
    if len(_RESULTS & evidence.seen.keys()) != 1 or evidence.signature is None:
        return "signature could not be verified by gpgv"
    return None


# --------------------------------------------------------------------------- the signature itself


@signature_rule
def has_creation_time(evidence: Evidence, facts: SignatureFacts) -> str | None:
    return "signature has no creation time" if facts.created is None else None


@signature_rule
def binary_mode(evidence: Evidence, facts: SignatureFacts) -> str | None:
    if facts.signature_class == "00":
        return None
    kind = "a text-mode signature" if facts.signature_class == "01" else "a signature"
    return (f"is {kind} (class {facts.signature_class}); a binary-mode "
            "signature (class 00) is required, e.g. from `gpg --detach-sign --armor`")


@signature_rule
def strong_hash(evidence: Evidence, facts: SignatureFacts) -> str | None:
    return None if facts.hash_algorithm in STRONG_HASHES else _weak(facts.hash_algorithm)


@signature_rule
def authorised_signer(evidence: Evidence, facts: SignatureFacts) -> str | None:
    if facts.primary in evidence.allowed:
        return None
    return f"signed by {facts.primary}, which is not authorised {evidence.whose}"


# --------------------------------------------------------------------------- the key, the clock


@signature_rule
def key_read_in_full(evidence: Evidence, facts: SignatureFacts) -> str | None:
    if None not in evidence.material:
        return None
    # Expiry and revocation at `now` come from gpg's reading of the key: without it, no verdict.
    return (f"signed by {facts.primary}, whose key gpg did not read in full "
            "(its expiry and revocation are unknown)")


@signature_rule
def key_not_revoked(evidence: Evidence, facts: SignatureFacts) -> str | None:
    revoked = {"REVKEYSIG", "KEYREVOKED"} & evidence.seen.keys()
    if revoked or any(m is not None and m.revoked for m in evidence.material):
        return f"signed by {facts.primary}, which has been revoked"
    return None


@signature_rule
def key_not_expired(evidence: Evidence, facts: SignatureFacts) -> str | None:
    # gpgv judges expiry at the real time (EXPKEYSIG, KEYEXPIRED); the key material
    # lets us judge it at `now` as well. Either one expired is enough to refuse.
    expiries = [m.expires for m in evidence.material if m is not None and m.expires is not None]
    if "KEYEXPIRED" in evidence.seen and (moment := timestamp(evidence.seen["KEYEXPIRED"][0])):
        expiries.append(moment)
    if {"EXPKEYSIG", "KEYEXPIRED"} & evidence.seen.keys() or any(when <= evidence.now for when in expiries):
        when = f" on {min(expiries):%Y-%m-%d}" if expiries else ""
        return f"signed by {facts.primary}, which expired{when}"
    return None


@signature_rule
def not_from_the_future(evidence: Evidence, facts: SignatureFacts) -> str | None:
    return _from_the_future(facts.created, evidence.now) if facts.created is not None else None


@signature_rule
def signature_not_expired(evidence: Evidence, facts: SignatureFacts) -> str | None:
    if {"EXPSIG", "SIGEXPIRED"} & evidence.seen.keys() or (facts.expires and facts.expires <= evidence.now):
        return "signature has expired"
    return None


#: The whole policy, in the order that names the refusal.
POLICY: Rule = all_of(
    one_signature,
    one_result_each,
    not_bad,
    all_of(checkable_key_not_from_the_future, checkable_known_key, checkable_strong_hash, checkable),
    verified_by_gpgv,
    has_creation_time,
    binary_mode,
    strong_hash,
    authorised_signer,
    key_read_in_full,
    key_not_revoked,
    key_not_expired,
    not_from_the_future,
    signature_not_expired,
)


def judge(status: Sequence[Sequence[str]], keys: Mapping[str, KeyMaterial], *, allowed: Collection[str],
          now: datetime, state: str | None = None, policy: Rule = POLICY) -> Verified | Refusal:
    """The verdict of ``policy`` on one signature: GnuPG's ``status`` lines on it, gpg's
    reading of the ``keys`` it was checked against, the authorised PRIMARY fingerprints
    ``allowed`` (spaces and case ignored), at ``now`` (aware). Pure: no I/O, no clock."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    authorised = frozenset(fingerprint.replace(" ", "").upper() for fingerprint in allowed)
    evidence = Evidence.read(status, keys, authorised, now, state)
    refusal = policy(evidence)
    if refusal is not None:
        return refusal
    facts = evidence.signature
    if facts is None or facts.created is None:  # a policy without verified_by_gpgv/has_creation_time
        return Refusal("verified_by_gpgv", "signature could not be verified by gpgv")
    return Verified(
        primary_fingerprint=facts.primary,
        signing_fingerprint=facts.signing,
        created=facts.created,
        hash_algorithm=facts.hash_algorithm,
        signature_class=facts.signature_class,
    )
