"""The contract between the release pipeline and the export formats.

An ``Export`` is one file of a release: how to render it from a ``Build`` and how to read it
back and prove it lost nothing (``read_back`` raises ``ReleaseError`` naming the file and the
first field that differs). Each format module defines its own ``EXPORT`` beside its writer;
``release.default_exports`` lists them in rendering order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..entry.model import Release
from ..errors import ReleaseError
from ..freshness.reachability import Reachability


@dataclass(frozen=True)
class Build:
    """What an export is rendered from: the release, the one before, and earlier exports."""

    release: Release
    previous: Release | None
    files: Mapping[str, bytes]  # the exports already rendered, in default_exports() order
    #: the root-verified reachability records (``reachability.load_reachability``); empty: none
    reachability: Reachability = field(default_factory=Reachability)


@dataclass(frozen=True)
class Export:
    """One file of a release: how to render it and how to prove it lost nothing.

    ``read_back(build, data)`` parses the rendered bytes and raises ``ReleaseError``
    naming the file and field when they do not carry what ``build`` holds.
    """

    name: str
    render: Callable[[Build], bytes]
    read_back: Callable[[Build, bytes], None] | None = None


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """The path of the first field where ``actual`` differs from ``expected``, or None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() | actual.keys(), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                return f"{where} (missing)"
            if key not in expected:
                return f"{where} (unexpected)"
            found = first_difference(expected[key], actual[key], where)
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(want, got, f"{path}[{index}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path} ({len(actual)} items, expected {len(expected)})"
        return None
    # bool is an int in Python: True == 1 must still count as a difference.
    if expected != actual or type(expected) is not type(actual):
        return path or "(value)"
    return None


def mismatch(name: str, where: str) -> ReleaseError:
    return ReleaseError(f"{name}: does not carry the accepted entries: {where}; the release was not published")


def by_code(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {str(entry.get("code")): entry for entry in entries}



def unreadable(name: str, error: Exception) -> ReleaseError:
    """A rendered file that its own parser cannot read."""
    return ReleaseError(f"{name}: cannot be read back ({error}); the release was not published")
