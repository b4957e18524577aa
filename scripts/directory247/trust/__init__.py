"""Trust: when a detached OpenPGP signature is accepted, and the GnuPG behind it.

The package is cut on its seams, each a module (a reader of the tree sees them in order):

- ``openpgp``: armor, CRC-24, packets read and written, the shape of a signature file; pure;
- ``status``: GnuPG's status lines and key listings, read; pure;
- ``gnupg``: the gpg/gpgv processes and their private keyrings: status lines for these keys,
  this signature, these bytes (``gpgv_status``), or for many (``SharedHome``);
- ``keys``: gpg's reading of the authorised keys, shared by threads (``preload_keys``);
- ``policy``: the acceptance policy, small named rules and one pure ``judge``;
- ``verifier``: ``verify``, which orders the steps and owns the verification cache's keys;
- ``batch``: many signatures checked by one gpg per core, kept only when ``judge`` accepts;
- ``cache``: the verification cache file; ``signer``: ``GnuPG``, to sign with one's own key.

The rest of the project imports from here.
"""

from __future__ import annotations

from .cache import StatusCache, default_cache_path
from .keys import forget_keys, preload_keys
from .policy import FUTURE_TOLERANCE, POLICY_VERSION, STRONG_HASHES, Refusal, Verified, judge
from .signer import GnuPG
from .status import StatusLines
from .verifier import has_cached_verdict, status_cache_key, verify

__all__ = [
    "FUTURE_TOLERANCE",
    "POLICY_VERSION",
    "STRONG_HASHES",
    "GnuPG",
    "Refusal",
    "StatusCache",
    "StatusLines",
    "Verified",
    "default_cache_path",
    "forget_keys",
    "has_cached_verdict",
    "judge",
    "preload_keys",
    "status_cache_key",
    "verify",
]
