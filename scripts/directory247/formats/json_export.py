"""``directory.json``: the canonical export, described by ``schema/export.schema.json``.

Canonical means: UTF-8, keys sorted, two-space indentation, a final newline, entries sorted
by code. The same release always gives the same bytes. ``entries`` holds each entry exactly
as the entry schema describes it; who signed each entry is kept beside it in ``signatures``
so an entry object stays valid against the entry schema.
"""

from __future__ import annotations

import json
from typing import Any

from ..entry.confirmation import CONFIRMATION_POLICY_MONTHS
from ..entry.model import Entry, Release, Signer, parse_timestamp, timestamp
from .common import DEMO_NOTICE, EXPORT_SCHEMA_ID, TITLE, dumps
from .export import Build, Export, by_code, first_difference, mismatch, unreadable

NAME = "directory.json"


def to_object(release: Release) -> dict[str, Any]:
    out: dict[str, Any] = {
        "$schema": EXPORT_SCHEMA_ID,
        "title": TITLE,
        "version": release.version,
        "serial": release.serial,
        "released": timestamp(release.released),
        "expires": timestamp(release.expires),
        "demo": release.demo,
        "confirmation_policy_months": CONFIRMATION_POLICY_MONTHS,
        "entries": [e.to_dict() for e in release.entries],
        "signatures": {code: signer.to_dict() for code, signer in release.signers},
    }
    if release.demo:
        out["notice"] = DEMO_NOTICE
    if release.release_key:
        out["release_key"] = release.release_key
    return out


def render(release: Release) -> bytes:
    return dumps(to_object(release))


def parse(data: bytes) -> Release:
    """Read ``directory.json`` back into a ``Release`` (raises KeyError/ValueError if malformed)."""
    obj = json.loads(data.decode("utf-8"))
    return Release(
        version=obj["version"], serial=obj["serial"],
        released=parse_timestamp(obj["released"]), expires=parse_timestamp(obj["expires"]),
        entries=tuple(Entry.from_dict(e) for e in obj["entries"]),
        signers=tuple(sorted((code, Signer.from_dict(s)) for code, s in obj["signatures"].items())),
        release_key=obj.get("release_key"),
    )


def render_export(build: Build) -> bytes:
    return render(build.release)


def read_back(build: Build, data: bytes) -> None:
    """``directory.json`` holds every accepted entry and every field, and reads back whole."""
    name, release = NAME, build.release
    try:
        raw = json.loads(data.decode("utf-8"))
        parsed = parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise unreadable(name, error) from None
    expected = to_object(release)
    found = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(found, list) or not all(isinstance(entry, dict) for entry in found):
        raise mismatch(name, "entries (not a list of entries)")
    # Compare entries by code first so a message names the State, then everything else.
    where = first_difference(by_code(expected["entries"]), by_code(found), "entries")
    where = where or first_difference(expected, raw)
    if where:
        raise mismatch(name, where)
    if parsed != release or parsed.signers != release.signers:
        raise mismatch(name, "the parsed release differs from the accepted entries")


EXPORT = Export(NAME, render_export, read_back)
