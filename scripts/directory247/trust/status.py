"""GnuPG's machine-readable output, read: status lines (``--status-fd``), colon listings of
keys (``--with-colons``), their time fields, and the status lines of many files checked in one
run. Pure: bytes in, values out.

What this module does NOT do: run GnuPG (``gnupg``), or judge what the lines say (``policy``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "STATUS_PREFIX",
    "KeyMaterial",
    "StatusLines",
    "complaint",
    "file_segments",
    "output_lines",
    "parse_listing",
    "status_lines",
    "timestamp",
]

STATUS_PREFIX = "[GNUPG:] "

#: GnuPG's status lines, each split on spaces, without the "[GNUPG:] " prefix.
StatusLines = list[list[str]]


@dataclass(frozen=True)
class KeyMaterial:
    """What the key material says about one primary key or subkey, independent of the clock."""

    fingerprint: str
    primary_fingerprint: str
    expires: datetime | None
    revoked: bool


def output_lines(output: bytes) -> list[str]:
    """GnuPG's output lines, split on LF only: gpg escapes control bytes in what it quotes,
    but not U+2028, U+2029 or U+0085, which ``str.splitlines`` would take for line breaks
    (a user ID could then forge status lines)."""
    return [line.removesuffix(b"\r").decode("utf-8", "replace") for line in output.split(b"\n")]


def status_lines(output: bytes) -> StatusLines:
    """The status lines in ``output``; every other line is left out."""
    return [line[len(STATUS_PREFIX) :].split(" ") for line in output_lines(output) if line.startswith(STATUS_PREFIX)]


def complaint(stderr: bytes) -> str:
    """GnuPG's last human-readable complaint, for error messages."""
    lines = [
        line for line in stderr.decode("utf-8", "replace").splitlines() if line and not line.startswith(STATUS_PREFIX)
    ]
    return lines[-1] if lines else "no message"


def timestamp(field: str) -> datetime | None:
    """A GnuPG colon/status time field: seconds since the epoch, ISO 8601 basic, or empty."""
    if not field or field == "0":
        return None
    if "T" in field:
        return datetime.strptime(field, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(field), tz=UTC)


def parse_listing(stdout: bytes) -> list[tuple[str, dict[str, KeyMaterial]]]:
    """A colon listing as ``(primary fingerprint, material of that key and its subkeys)``, in order."""
    groups: list[tuple[str, dict[str, KeyMaterial]]] = []
    primary = ""
    record: list[str] = []
    for line in output_lines(stdout):
        fields = line.split(":")
        if fields[0] in {"pub", "sub"}:
            record = fields
        elif fields[0] == "fpr" and record and len(fields) > 9 and len(record) > 6:
            fingerprint = fields[9].upper()
            if record[0] == "pub":
                primary = fingerprint
                groups.append((primary, {}))
            elif not groups:
                groups.append((primary, {}))
            groups[-1][1][fingerprint] = KeyMaterial(
                fingerprint=fingerprint,
                primary_fingerprint=primary,
                expires=timestamp(record[6]),
                revoked=record[1] == "r",
            )
            record = []
    return groups


def file_segments(output: bytes, count: int, folder: str) -> tuple[dict[int, StatusLines], int | None]:
    """The status lines of ``gpg --verify-files`` on the files ``folder/0`` .. ``folder/<count-1>``,
    by number, and the number of the last file gpg started; a file whose lines cannot be told
    apart for certain (another path, never done, seen twice) is left out."""
    found: dict[int, StatusLines] = {}
    current: int | None = None
    started: int | None = None
    lines: StatusLines = []
    for fields in status_lines(output):
        if fields[0] == "FILE_START":
            path = " ".join(fields[2:])
            name = os.path.basename(path)
            valid = os.path.dirname(path) == folder and name.isdigit() and int(name) < count
            current, lines = (int(name) if valid else None), []
            started = current if current is not None else started
        elif fields[0] == "FILE_DONE":
            if current is not None and current not in found:
                found[current] = lines
            current, lines = None, []
        elif current is not None:
            lines.append(fields)
    return found, started
