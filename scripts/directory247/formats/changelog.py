"""``changes.json``: what changed between the previous release and this one, field by field.

The differences themselves are computed by ``changes`` (shared with the reviewers' ``diff``);
this module owns the file: its rendering and its read-back.
"""

from __future__ import annotations

import json
from typing import Any

from ..entry import changes
from .common import dumps
from .export import Build, Export, first_difference, mismatch, unreadable

NAME = "changes.json"


def changes_object(build: Build) -> dict[str, Any]:
    old = {e.code: e.to_dict() for e in build.previous.entries} if build.previous else {}
    new = {e.code: e.to_dict() for e in build.release.entries}
    from_version = build.previous.version if build.previous else None
    return changes.to_object(changes.diff_entries(old, new), from_version, build.release.version)


def render_export(build: Build) -> bytes:
    return dumps(changes_object(build))


def read_back(build: Build, data: bytes) -> None:
    """``changes.json`` goes from the previous release to this one, and holds exactly the
    differences between their entries."""
    name = NAME
    try:
        found = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise unreadable(name, error) from None
    expected = json.loads(json.dumps(changes_object(build)))  # as JSON reads it back
    where = first_difference(expected, found)
    if where:
        raise mismatch(name, where)


EXPORT = Export(NAME, render_export, read_back)
