"""``directory247 diff [--base REF]``: what a change does, field by field, for the reviewer."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from ..entry.changes import diff_entries, summarise
from ..entry.validation import validate_entry
from ..errors import UsageError
from ..gate.check import ENTRY_NAME
from ..paths import project_root
from ..trust.snapshots import GitRevision, Snapshot, WorkTree
from . import parser


def _entries(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Entry trees by code; an entry that does not load shows as empty (check reports why)."""
    today = dt.datetime.now(dt.UTC).date()
    out: dict[str, dict[str, Any]] = {}
    for path, data in snapshot.files("directory").items():
        match = ENTRY_NAME.fullmatch(path)
        if match:
            out[match.group(1).upper()] = validate_entry(data, path, today=today).entry or {}
    return out


def main(argv: list[str]) -> int:
    p = parser("diff", "Summarise, per State and field, what the working tree changes compared with REF.")
    p.add_argument("--base", metavar="REF", default="HEAD", help="revision to compare with (default: HEAD)")
    args = p.parse_args(argv)
    if not args.base.strip():
        raise UsageError("--base needs a revision (e.g. origin/main)")
    root = project_root()
    base, change = GitRevision(root, args.base), WorkTree(root)
    lines = summarise(diff_entries(_entries(base), _entries(change)))
    base_keys, new_keys = base.files("keys"), change.files("keys")
    for path in sorted(set(base_keys) | set(new_keys)):
        if base_keys.get(path) != new_keys.get(path):
            state = "added" if path not in base_keys else "removed" if path not in new_keys else "changed"
            lines.append(f"keys: {path} {state}")
    sys.stdout.write("\n".join(lines) + "\n" if lines else f"no change to entries or keys since {args.base}\n")
    return 0
