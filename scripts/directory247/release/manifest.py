"""``manifest.json``: what a release folder holds, and the checks of a folder against it.

This module owns the manifest's format and the rule of which files a release folder may
hold. It is pure: it builds manifest bytes from file bytes and checks names, sizes and
digests that the caller read; it never opens a file, runs gpg or looks at a clock.

A manifest lists every file of the release except ``manifest.json`` itself and the detached
signatures (``.asc``): signatures are not reproducible, so listing them would make the
manifest differ between two builds of the same inputs; each one is checked by verifying it.
A listed file with ``"signature"`` must have that detached signature beside it. A release
folder holds exactly (``expected_names``)::

    manifest.json, manifest.json.asc, every listed file, and every listed file's signature

and nothing else. Every value in a manifest is checked when it is parsed (names are plain
file names, digests are 64 hex digits, sizes are non-negative integers), so a caller may
join a listed name to the folder path without fear of ``../`` or absolute paths.

Unsafe, and therefore left to the caller: trusting any of it before ``manifest.json.asc`` has
been verified with the pinned release key (``verify.verify_release`` does that first).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..entry.model import parse_timestamp, timestamp
from ..errors import ReleaseError
from ..formats.common import dumps

MANIFEST = "manifest.json"
SIGNATURE_SUFFIX = ".asc"
MANIFEST_SIGNATURE = MANIFEST + SIGNATURE_SUFFIX
#: Bumped when the manifest's meaning changes, so an old verifier refuses what it cannot judge.
FORMAT = 1
#: The largest manifest a verifier reads: a release lists a handful of files.
MAX_MANIFEST_BYTES = 1024 * 1024

# A listed name is one plain file name: no folder, no leading dot, nothing a shell or a
# path join could read as something else.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
_VERSION = re.compile(r"([0-9]{4})\.([0-9]{2})\.([1-9][0-9]*)")
#: A release folder is named by its version.
VERSION_FOLDER = re.compile(r"[0-9]{4}\.[0-9]{2}\.[1-9][0-9]*")
_RESERVED = frozenset({MANIFEST, MANIFEST_SIGNATURE})


@dataclass(frozen=True)
class FileRecord:
    """One listed file: its size and SHA-256, and the name of its detached signature if any."""

    name: str
    bytes: int
    sha256: str
    signature: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or self.name in _RESERVED:
            raise ValueError(f"{self.name!r} is not a plain file name a release may list")
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.name}: sha256 must be 64 lower-case hex digits")
        if isinstance(self.bytes, bool) or not isinstance(self.bytes, int) or self.bytes < 0:
            raise ValueError(f"{self.name}: bytes must be a non-negative integer")
        if self.signature is not None and self.signature != self.name + SIGNATURE_SUFFIX:
            raise ValueError(f"{self.name}: its signature must be named {self.name}{SIGNATURE_SUFFIX}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bytes": self.bytes, "sha256": self.sha256}
        if self.signature is not None:
            out["signature"] = self.signature
        return out


@dataclass(frozen=True)
class Manifest:
    """The signed description of one release."""

    version: str
    serial: int
    released: dt.datetime
    expires: dt.datetime
    release_key: str  # primary fingerprint, upper-case hex
    demo: bool
    files: tuple[FileRecord, ...]  # sorted by name

    def __post_init__(self) -> None:
        version_key(self.version)
        if isinstance(self.serial, bool) or not isinstance(self.serial, int) or self.serial < 1:
            raise ValueError("serial must be a positive integer")
        if self.expires <= self.released:
            raise ValueError("a release must expire after it is released")
        if not _FINGERPRINT.fullmatch(self.release_key):
            raise ValueError("release_key must be an upper-case hex fingerprint")
        names = [record.name for record in self.files]
        if names != sorted(set(names)):
            raise ValueError("files must be unique and sorted by name")
        clashes = set(names) & {record.signature for record in self.files if record.signature}
        if clashes:
            raise ValueError(f"{sorted(clashes)[0]} is listed both as a file and as a signature")

    @property
    def version_key(self) -> tuple[int, int, int]:
        """The version as numbers, for ordering (``2026.11.10`` after ``2026.11.9``)."""
        return version_key(self.version)

    def record(self, name: str) -> FileRecord | None:
        return next((record for record in self.files if record.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "serial": self.serial,
            "released": timestamp(self.released),
            "expires": timestamp(self.expires),
            "release_key": self.release_key,
            "demo": self.demo,
            "files": {record.name: record.to_dict() for record in self.files},
        }


def version_key(version: str) -> tuple[int, int, int]:
    match = _VERSION.fullmatch(version)
    if not match:
        raise ValueError(f"version {version!r} is not YYYY.MM.N")
    year, month, number = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"version {version!r} has no month {month}")
    return year, month, number


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(
    *,
    version: str,
    serial: int,
    released: dt.datetime,
    expires: dt.datetime,
    release_key: str,
    demo: bool,
    files: Mapping[str, bytes],
    signed: Iterable[str],
) -> Manifest:
    """The manifest of ``files``; each name in ``signed`` gets a required ``.asc`` signature."""
    signed = set(signed)
    unknown = signed - set(files)
    if unknown:
        raise ValueError(f"cannot sign unlisted files: {sorted(unknown)}")
    records = tuple(
        FileRecord(name, len(data), digest(data), name + SIGNATURE_SUFFIX if name in signed else None)
        for name, data in sorted(files.items())
    )
    return Manifest(version=version, serial=serial, released=released, expires=expires,
                    release_key=release_key, demo=demo, files=records)


def render(manifest: Manifest) -> bytes:
    return dumps(manifest.to_dict())


def parse(data: bytes) -> Manifest:
    """Read manifest bytes, refusing anything unexpected (raises ReleaseError)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ReleaseError(f"{MANIFEST}: is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        obj = json.loads(data.decode("utf-8"))
        if not isinstance(obj, dict):
            raise ValueError("is not a JSON object")
        if obj.get("format") != FORMAT:
            raise ValueError(f"has format {obj.get('format')!r}; this tool reads format {FORMAT} "
                             "(a newer directory247 may be needed)")
        expected = {"format", "version", "serial", "released", "expires", "release_key", "demo", "files"}
        if set(obj) != expected:
            raise ValueError(f"has fields {sorted(obj)}, expected {sorted(expected)}")
        files = obj["files"]
        if not isinstance(files, dict) or not isinstance(obj["demo"], bool):
            raise ValueError("files must be an object and demo a boolean")
        records = []
        for name, record in sorted(files.items()):
            if not isinstance(record, dict) or not set(record) <= {"bytes", "sha256", "signature"}:
                raise ValueError(f"{name}: a file record holds bytes, sha256 and signature only")
            records.append(FileRecord(name, record["bytes"], record["sha256"], record.get("signature")))
        return Manifest(
            version=obj["version"], serial=obj["serial"],
            released=parse_timestamp(obj["released"]), expires=parse_timestamp(obj["expires"]),
            release_key=obj["release_key"], demo=obj["demo"], files=tuple(records),
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"{MANIFEST}: is not UTF-8 JSON ({error})") from None
    except (KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{MANIFEST}: is malformed: {error}") from None


def expected_names(manifest: Manifest, *, signatures: bool = True) -> frozenset[str]:
    """Exactly the names a release folder holds: no more, no fewer. ``signatures=False``
    gives the names of a folder not signed yet (the release pipeline, before signing)."""
    names = {MANIFEST}
    if signatures:
        names.add(MANIFEST_SIGNATURE)
    for record in manifest.files:
        names.add(record.name)
        if record.signature and signatures:
            names.add(record.signature)
    return frozenset(names)


def name_problems(manifest: Manifest, present: Iterable[str], *, signatures: bool = True) -> list[ReleaseError]:
    """Both ways: every expected file that is missing, then every file present but not
    expected, one error each."""
    present = set(present)
    expected = expected_names(manifest, signatures=signatures)
    return ([ReleaseError(f"{name}: missing (listed in {MANIFEST})") for name in sorted(expected - present)]
            + [ReleaseError(f"{name}: extra file, not listed in {MANIFEST}") for name in sorted(present - expected)])


def check_names(manifest: Manifest, present: Iterable[str], *, signatures: bool = True) -> None:
    """Both ways: every expected file present, nothing else present (missing first)."""
    problems = name_problems(manifest, present, signatures=signatures)
    if problems:
        raise problems[0]


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is a plain file name a release folder may hold."""
    return bool(_NAME.fullmatch(name))


def check_size(record: FileRecord, size: int) -> None:
    if size != record.bytes:
        raise ReleaseError(f"{record.name}: size mismatch ({size} bytes, {MANIFEST} says {record.bytes})")


def check_content(record: FileRecord, data: bytes) -> None:
    check_size(record, len(data))
    if digest(data) != record.sha256:
        raise ReleaseError(f"{record.name}: sha256 mismatch")


def check_files(manifest: Manifest, files: Mapping[str, bytes], *, signatures: bool = True) -> None:
    """A whole folder's bytes against the manifest, both ways: sizes first, then digests."""
    check_names(manifest, files, signatures=signatures)
    for record in manifest.files:
        check_size(record, len(files[record.name]))
    for record in manifest.files:
        check_content(record, files[record.name])
