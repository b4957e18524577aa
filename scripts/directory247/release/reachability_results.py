"""Reachability results across releases: what a published release folder holds, and whether
the next release would publish the same.

``read_published(folder)`` reads ``reachability.json`` of one release folder (None when the
release is older than that file); ``reachability_unchanged`` tells ``release --when-needed``
whether a new release is needed for the reachability results alone (a contact point failing
its test must reach the site without waiting for an entry to change).

Not owned here: which tests count and who signed them (``reachability``), the file format
(``formats.reachability_export``), cutting the release (``release``). Nothing here verifies a
signature: the folders read are our own archive, used for "is there news", never for trust.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from ..entry.model import Entry
from ..formats import reachability_export
from ..freshness.reachability import LastTests, Reachability, last_test_results


def read_published(folder: Path) -> LastTests | None:
    """The results published in release ``folder``; None when it has no ``reachability.json``.

    Raises ``OSError``, ``KeyError``, ``TypeError`` or ``ValueError`` when the file is there
    but cannot be read.
    """
    path = folder / reachability_export.NAME
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    return reachability_export.parse(path.read_bytes())


def reachability_unchanged(folder: Path, reach: Reachability, entries: Iterable[Entry], released: dt.datetime) -> bool:
    """Whether a release of ``entries`` at ``released`` would publish the same last tests as
    the release in ``folder`` (a release without the file published none). Unreadable: False."""
    try:
        published = read_published(folder)
    except (OSError, KeyError, TypeError, ValueError):
        return False
    before = published.results if published is not None else ()
    return before == last_test_results(reach, entries, released)
