"""``directory.json``: the canonical export, described by ``schema/export.schema.json``.

Canonical means: UTF-8, keys sorted, two-space indentation, a final newline, entries sorted
by code. The same release always gives the same bytes. ``entries`` holds each entry exactly
as the entry schema describes it; who signed each entry is kept beside it in ``signatures``
so an entry object stays valid against the entry schema.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Entry, Release, Signer, parse_timestamp, timestamp
from ..rules import CONFIRMATION_POLICY_MONTHS

EXPORT_SCHEMA_ID = "https://directory247.invalid/schema/export/v1.json"
TITLE = "Directory of 24/7 contact points under Article 35 of the Convention on Cybercrime (CETS 185)"
DEMO_NOTICE = ("DEMONSTRATION DATA: every contact detail in this release is fictional. "
               "Do not use it to send a request.")


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


def dumps(value: Any) -> bytes:
    """The canonical JSON encoding used by every JSON file of a release."""
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


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
