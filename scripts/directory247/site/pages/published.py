"""A published release as the site sees it: the release, its changelog, its manifest, its files
and its reachability results.

Pure: ``parse_changes`` and ``parse_manifest`` take the bytes of ``changes.json`` and
``manifest.json`` and return typed values (raising ``KeyError``/``ValueError``/``TypeError``
on malformed input); reading the release folder is the build pipeline's job (``site.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...entry.model import Release
from ...freshness.reachability import LastTests


@dataclass(frozen=True)
class Change:
    """One field-level change of one entry between two releases."""

    code: str
    field: str
    kind: str  # "added" | "removed" | "changed"
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class Changelog:
    """``changes.json``: what changed from the previous release to this one."""

    from_version: str | None
    to_version: str
    changes: tuple[Change, ...]
    summary: tuple[str, ...]

    def for_entry(self, code: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.code == code)


@dataclass(frozen=True)
class ManifestFile:
    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class PublishedRelease:
    """One folder of ``releases/``: the parsed release and what the site shows about it."""

    release: Release
    changelog: Changelog | None
    manifest: tuple[ManifestFile, ...]  # sorted by name
    files: tuple[str, ...]  # every file of the folder, sorted: what the site offers to download
    #: ``reachability.json``: the last test of each contact point; None for a release without it
    reachability: LastTests | None = None

    @property
    def version(self) -> str:
        return self.release.version

    def checksum(self, name: str) -> ManifestFile | None:
        return next((f for f in self.manifest if f.name == name), None)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    return value


def parse_changes(data: bytes) -> Changelog:
    obj = json.loads(data.decode("utf-8"))
    from_version = obj["from"]
    changes = tuple(
        Change(code=_text(c["code"], "code"), field=_text(c["field"], "field"), kind=_text(c["kind"], "kind"),
               old=c.get("old"), new=c.get("new"))
        for c in obj["changes"]
    )
    return Changelog(
        from_version=None if from_version is None else _text(from_version, "from"),
        to_version=_text(obj["to"], "to"),
        changes=changes,
        summary=tuple(_text(line, "summary") for line in obj.get("summary", ())),
    )


def parse_manifest(data: bytes) -> tuple[ManifestFile, ...]:
    obj = json.loads(data.decode("utf-8"))
    files = obj["files"]
    if not isinstance(files, dict):
        raise TypeError("manifest files must be an object")
    out = []
    for name, meta in sorted(files.items()):
        size = meta["bytes"]
        if not isinstance(size, int):
            raise TypeError("manifest bytes must be an integer")
        out.append(ManifestFile(name=_text(name, "file name"), sha256=_text(meta["sha256"], "sha256"), bytes=size))
    return tuple(out)
