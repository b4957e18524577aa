"""Key authorisations: who may sign for which State, and which key signs releases.

Layout in the repository (read from a ``Snapshot``, normally the trusted base)::

    keys/root.asc                     the Secretariat's root public key
    keys/authorisations.yaml          which fingerprints sign for which State (+ release keys)
    keys/authorisations.yaml.asc      detached signature of that file by the root key
    keys/pubkeys/<FINGERPRINT>.asc    each authorised public key

``load_trust`` accepts the authorisations only when the root key signed them under the full
signature policy; it never looks at a key that the authorisations do not name. What it does
not do: decide whether a *change* to keys is acceptable (``check`` compares base and change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ..entry.coerce import coerce
from ..entry.loader import load_entry
from ..entry.schema import fast_check
from ..errors import TrustError
from ..paths import schema_dir
from . import POLICY_VERSION, verify
from .snapshots import Snapshot

ROOT_KEY = "keys/root.asc"
AUTHORISATIONS = "keys/authorisations.yaml"
AUTHORISATIONS_SIGNATURE = AUTHORISATIONS + ".asc"
AUTHORISATIONS_SCHEMA = "authorisations.schema.json"
PUBKEYS = "keys/pubkeys"


def pubkey_path(fingerprint: str) -> str:
    return f"{PUBKEYS}/{fingerprint}.asc"


@dataclass(frozen=True)
class Removal:
    code: str
    date: str
    reason: str


@dataclass(frozen=True)
class Authorisations:
    """The parsed, root-verified authorisations file."""

    serial: int
    network: str  # "production" | "demo"
    root: str
    release_keys: tuple[str, ...]
    states: dict[str, tuple[str, ...]]
    removals: tuple[Removal, ...]

    @property
    def demo(self) -> bool:
        return self.network == "demo"

    def signers_for(self, code: str) -> tuple[str, ...]:
        return self.states.get(code, ())


@dataclass(frozen=True)
class Trust:
    """Authorisations plus the key material they name, from one snapshot."""

    authorisations: Authorisations
    root_key: bytes
    keys: dict[str, bytes]  # fingerprint -> armored public key
    source: str  # label of the snapshot, for messages
    #: the bytes the trust was built from, so a cache can key on them
    digest_material: bytes

    def keys_for(self, code: str) -> list[bytes]:
        return [self.keys[f] for f in self.authorisations.signers_for(code) if f in self.keys]

    def release_key_material(self) -> list[bytes]:
        return [self.keys[f] for f in self.authorisations.release_keys if f in self.keys]


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads((schema_dir() / AUTHORISATIONS_SCHEMA).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def _reading_digest() -> bytes | None:
    """What the reading of the file depends on besides its bytes: the schema, and the code
    that reads it (this module, the strict loader, the compiled schema check); None when the
    code cannot be read (then nothing is cached)."""
    from ..entry import loader, schema

    digest = hashlib.sha256(POLICY_VERSION.encode())
    try:
        parts = [(schema_dir() / AUTHORISATIONS_SCHEMA).read_bytes()]
        for module in (loader, schema, sys.modules[__name__]):
            if not module.__file__:
                return None
            parts.append(Path(module.__file__).read_bytes())
    except OSError:
        return None
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _parsed_key(data: bytes) -> str | None:
    reading = _reading_digest()
    return None if reading is None else "authorisations:" + hashlib.sha256(reading + data).hexdigest()


def _kept_tree(rows: Any) -> dict[str, Any] | None:
    """A tree kept by ``parse_authorisations`` that still passes the schema, else None (the
    file is then read again)."""
    if not (isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], list) and len(rows[0]) == 1
            and isinstance(rows[0][0], str)):
        return None
    try:
        tree = json.loads(rows[0][0])
    except ValueError:
        return None
    check = fast_check(AUTHORISATIONS_SCHEMA)
    return tree if isinstance(tree, dict) and check is not None and check(tree) else None


def parse_authorisations(data: bytes, label: str = AUTHORISATIONS, *,
                         cache: MutableMapping[str, list[list[str]]] | None = None) -> Authorisations:
    """Strictly parse the authorisations file (same YAML rules as entries). With ``cache``
    (a verification cache's ``parsed`` section), the checked reading of the same bytes, by the
    same code under the same schema, is taken from there (and checked against the schema again)."""
    key = _parsed_key(data) if cache is not None else None
    tree = _kept_tree(cache.get(key)) if cache is not None and key is not None and key in cache else None
    if tree is None:
        tree = _read(data, label)
        if cache is not None and key is not None:
            cache[key] = [[json.dumps(tree, sort_keys=True)]]
    return Authorisations(
        serial=tree["serial"], network=tree["network"], root=tree["root"],
        release_keys=tuple(tree["release_keys"]),
        states={code: tuple(fprs) for code, fprs in sorted(tree["states"].items())},
        removals=tuple(Removal(r["code"], r["date"], r["reason"]) for r in tree.get("removals", ())),
    )


def _read(data: bytes, label: str) -> dict[str, Any]:
    """The file's tree, coerced by the schema and checked against it; TrustError otherwise."""
    loaded = load_entry(data, label)
    if loaded.problems or loaded.document is None:
        first = loaded.problems[0] if loaded.problems else None
        where = f"{first.line}:{first.col}: {first.message}" if first else "cannot be read"
        raise TrustError(f"{label}:{where}")
    schema: dict[str, Any] = _validator().schema  # type: ignore[assignment]
    tree: dict[str, Any] = coerce(loaded.document, schema)
    check = fast_check(AUTHORISATIONS_SCHEMA)  # yes/no in microseconds; jsonschema explains a no
    errors = [] if check is not None and check(tree) else sorted(_validator().iter_errors(tree),
                                                                  key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        line, col = loaded.document.position(tuple(error.absolute_path))
        field = ".".join(str(p) for p in error.absolute_path) or "(file)"
        raise TrustError(f"{label}:{line}:{col}: {field}: {error.message}")
    return tree


def load_trust(snapshot: Snapshot, *, now: dt.datetime, root_fingerprint: str | None = None,
               root_key: bytes | None = None, cache: MutableMapping[str, list[list[str]]] | None = None,
               parsed: MutableMapping[str, list[list[str]]] | None = None) -> Trust:
    """Read and verify the authorisations of ``snapshot``.

    The root key is ``root_key`` when given (the trusted base's, when checking a change to
    keys), else the snapshot's own ``keys/root.asc``; ``root_fingerprint`` pins it further.
    ``cache``: a verification cache for the root signature (see ``trust.verify``);
    ``parsed``: its section for the reading of the authorisations (``parse_authorisations``).
    """
    where = snapshot.label
    root = root_key if root_key is not None else snapshot.read(ROOT_KEY)
    if root is None:
        raise TrustError(f"{ROOT_KEY} is missing in {where}; the Secretariat's root key is needed")
    data = snapshot.read(AUTHORISATIONS)
    signature = snapshot.read(AUTHORISATIONS_SIGNATURE)
    if data is None:
        raise TrustError(f"{AUTHORISATIONS} is missing in {where}")
    if signature is None:
        raise TrustError(f"{AUTHORISATIONS_SIGNATURE} is missing in {where}; "
                         "the authorisations must be signed by the root key")
    authorisations = parse_authorisations(data, cache=parsed)
    pinned = root_fingerprint or authorisations.root
    verify(data, signature, keys=[root], allowed={pinned}, now=now, label=AUTHORISATIONS_SIGNATURE, cache=cache,
           cache_context=AUTHORISATIONS.encode())
    keys: dict[str, bytes] = {}
    wanted = {f for fprs in authorisations.states.values() for f in fprs} | set(authorisations.release_keys)
    for fingerprint in sorted(wanted):
        material = snapshot.read(pubkey_path(fingerprint))
        if material is None:
            raise TrustError(f"{pubkey_path(fingerprint)} is missing in {where}; "
                             "every authorised fingerprint needs its public key")
        keys[fingerprint] = material
    digest = b"\0".join([root, data, signature, *(keys[f] for f in sorted(keys))])
    return Trust(authorisations, root, keys, where, digest)


_UNKNOWN_KEY = re.compile(r"signed by unknown key ([0-9A-F]{16,40}), which is not authorised for ([A-Z]{2})")


def name_other_state(message: str, trust: Trust, code: str) -> str:
    """A key unknown to this State's keyring may be another State's: say so, it is the likelier mistake."""
    match = _UNKNOWN_KEY.fullmatch(message)
    if not match:
        return message
    key_id = match.group(1)
    owners = sorted(other for other, fprs in trust.authorisations.states.items()
                    if any(f.endswith(key_id) for f in fprs))
    if not owners:
        return message
    fpr = next(f for f in trust.authorisations.signers_for(owners[0]) if f.endswith(key_id))
    return f"signed by {fpr}, which is not authorised for {code} (it is authorised for {', '.join(owners)})"
