"""Verification of one signature: the shape of the file, gpgv's status lines (or a verdict
kept in a verification cache), gpg's reading of the keys, then the policy.

``verify`` is the one call the rest of the project makes. It owns the verification cache's
keys for verdicts (``status_cache_key``) and the order of the steps; the decision itself is
``policy.judge``'s, the processes are ``gnupg``'s, and key readings ``keys``'.

What this module does NOT own: which keys are authorised for which State (the caller reads
them from the trusted base and passes exactly those), the serial rule, and file I/O.

Unsafe, and therefore never done here: verifying against the user's own keyring or
``GNUPGHOME`` (a key the user happens to hold proves nothing; each check gets a throwaway
keyring with only the keys passed in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, MutableMapping, Sequence
from datetime import datetime

from .gnupg import gpgv_status
from .keys import keyring, keyring_binary
from .openpgp import signature_packets
from .policy import POLICY_VERSION, Refusal, Verified, judge
from .status import StatusLines

__all__ = ["has_cached_verdict", "status_cache_key", "verify"]


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


def _status(key_set: tuple[bytes, ...], signature: bytes, data: bytes, *, label: str, gpgv_binary: str,
            cache: MutableMapping[str, list[list[str]]] | None, cache_context: bytes) -> StatusLines:
    """gpgv's status lines on the signature: from ``cache`` when it holds them, else from gpgv
    after rules 1 and 2 (and then kept in ``cache``)."""
    key = status_cache_key(key_set, signature, data, cache_context) if cache is not None else ""
    cached = cache.get(key) if cache is not None and key in cache else None
    if cached is not None:
        return cached  # stored only after rules 1 and 2 passed for these very bytes
    packets = signature_packets(label, signature)  # rules 1 and 2
    status = gpgv_status(gpgv_binary, keyring_binary(key_set), packets, data)
    if cache is not None:
        cache[key] = status
    return status


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
    """Apply the acceptance policy (``policy``); raise SignatureError naming ``label`` and the
    failed rule.

    ``cache`` (optional) remembers gpgv's status lines under a digest of everything they
    depend on: ``POLICY_VERSION``, the key files, the signature file and the data as given,
    and of ``cache_context`` (``check`` passes a digest of the whole trusted base: root key,
    authorisations, their signature and every authorised key, so any change there misses).
    Only the cryptographic verdict is reused; every rule, including key expiry and
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
    key_set = tuple(bytes(key) for key in keys)
    status = _status(key_set, signature, data, label=label, gpgv_binary=gpgv_binary, cache=cache,
                     cache_context=cache_context)
    # Read after gpgv ran, so a key reading started by preload_keys overlaps with it; before
    # any rule, so a key set gpg cannot read is reported as such.
    material = keyring(key_set, gpg_binary)
    verdict = judge(status, material.keys, allowed=allowed, now=now, state=state)
    if isinstance(verdict, Refusal):
        raise verdict.error(label)
    return verdict
