"""The verification cache: gpgv's verdicts, remembered between runs of ``check``.

Keys are digests of everything a verdict depends on (policy version, the whole trusted
base — root key, authorisations, their signature and every authorised key —, the State's key
files, the signature file and the entry, all as given), so changing one byte of any of them
misses the cache; the time-dependent rules (expiry, revocation, "not from the future") are
never cached but applied again on every run (see ``verifier.verify``). Beside the
verdicts, ``key_material`` keeps gpg's reading of each authorised key (fingerprints, expiry
time, revoked or not) under a digest of the key's bytes and the day, and ``parsed`` the
strict reading of the authorisations under a digest of their bytes, the schema and the
policy version, so a warm run starts no gpg at all.

The cache is a JSON file in the user's own cache folder (``$XDG_CACHE_HOME/directory247`` or
``~/.cache/directory247``, private to the user), rewritten atomically and pruned to what the
last run used. It never lives in the checkout: a change under review could otherwise bring
its own pre-computed "verdicts" (their keys are digests of public bytes, anyone can compute
them). The pull-request gate runs with ``--no-cache``; the cache is a speed-up for a
maintainer's machine only.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from ..publish import write_atomic

CACHE_NAME = "verify-status-v2.json"


def default_cache_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/directory247/`` or ``~/.cache/directory247/``: the user's, never the checkout's."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "directory247" / CACHE_NAME

Lines = list[list[str]]


def _section(loaded: Any) -> dict[str, Lines]:
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, list)}


class CacheSection(MutableMapping[str, Lines]):
    """A thread-safe mapping that remembers which of its stored values this run used."""

    def __init__(self, stored: dict[str, Lines]) -> None:
        self._lock = threading.Lock()
        self._stored = stored
        self._used: dict[str, Lines] = {}
        self.hits = 0
        self.misses = 0

    def __getitem__(self, key: str) -> Lines:
        with self._lock:
            value = self._used.get(key) or self._stored.get(key)
            if value is None:
                self.misses += 1
                raise KeyError(key)
            self.hits += 1
            self._used[key] = value
            return value

    def __contains__(self, key: object) -> bool:
        """Whether a value is there; unlike a lookup, not counted as a hit or miss."""
        with self._lock:
            return key in self._used or key in self._stored

    def __setitem__(self, key: str, value: Lines) -> None:
        with self._lock:
            self._used[key] = value

    def __delitem__(self, key: str) -> None:
        with self._lock:
            self._used.pop(key, None)
            self._stored.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(dict(self._used))

    def __len__(self) -> int:
        return len(self._used)

    def used(self) -> dict[str, Lines]:
        with self._lock:
            return dict(self._used)

    def unchanged(self) -> bool:
        """Whether this run used exactly what was stored, no more and no less."""
        with self._lock:
            return self._used == self._stored


class StatusCache(CacheSection):
    """gpgv's verdicts (this mapping) and key readings (``key_material``), persisted as one
    JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}  # a missing or damaged cache is only a slower run
        if not isinstance(loaded, dict):
            loaded = {}
        super().__init__(_section(loaded.get("verdicts")))
        self.key_material = CacheSection(_section(loaded.get("key_material")))
        #: strict readings of files that cost more to parse than to look up (the authorisations)
        self.parsed = CacheSection(_section(loaded.get("parsed")))

    def save(self) -> None:
        """Keep what this run used (pruning stale entries), atomically; nothing is written
        when that is exactly what the file holds already."""
        if self.unchanged() and self.key_material.unchanged() and self.parsed.unchanged():
            return
        data = {"verdicts": self.used(), "key_material": self.key_material.used(), "parsed": self.parsed.used()}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), mode=0o600)
