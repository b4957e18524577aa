"""The verification cache: gpgv's verdicts, remembered between runs of ``check``.

Keys are digests of everything a verdict depends on (policy version, keyring bytes,
signature packets, entry bytes), so changing one byte of any of them misses the cache; the
time-dependent rules are never cached (see ``signatures.verify``). The cache is a JSON file
under ``.cache/`` of the checkout, rewritten atomically and pruned to what the last run
used. It is a speed-up for a maintainer's machine: CI starts without one, and anyone who can
write to the checkout could also change the code that reads it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from .publish import write_atomic

CACHE_FILE = Path(".cache") / "directory247" / "verify-status-v1.json"


class StatusCache(MutableMapping[str, list[list[str]]]):
    """A thread-safe mapping persisted as one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stored: dict[str, list[list[str]]] = {}
        self._used: dict[str, list[list[str]]] = {}
        self.hits = 0
        self.misses = 0
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._stored = {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, list)}
        except (OSError, ValueError):
            self._stored = {}  # a missing or damaged cache is only a slower run

    def __getitem__(self, key: str) -> list[list[str]]:
        with self._lock:
            value = self._used.get(key) or self._stored.get(key)
            if value is None:
                self.misses += 1
                raise KeyError(key)
            self.hits += 1
            self._used[key] = value
            return value

    def __setitem__(self, key: str, value: list[list[str]]) -> None:
        with self._lock:
            self._used[key] = value

    def __delitem__(self, key: str) -> None:
        with self._lock:
            self._used.pop(key, None)
            self._stored.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._used))

    def __len__(self) -> int:
        return len(self._used)

    def save(self) -> None:
        """Keep what this run used (pruning stale verdicts), atomically."""
        with self._lock:
            data = json.dumps(self._used, sort_keys=True, separators=(",", ":")).encode()
        write_atomic(self.path, data)
