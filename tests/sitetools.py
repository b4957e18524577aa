"""Release folders for the site tests, made from the demo entries without the release command.

``make_archive(root)`` writes two releases under ``root``: ``2026.11.1`` and ``2026.11.2``,
the second with one changed phone (Norway's 24/7 number), so the history and the version
selector have content. Each folder holds the canonical ``directory.json`` (written by
``json_export.render``) and small stand-ins for the other files of a release: ``changes.json``,
``manifest.json`` (real sha256 and sizes), ``directory.csv`` and a placeholder signature. The
second also holds ``reachability.json``, made from the demo ``reachability/tests.yaml`` (Malta's
primary contact point failed its last test; France failed, then passed a re-test); the first
is older than that file and has none. ``hostile_entry`` is an entry whose every free-text
field tries to inject something.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from conftest import ROOT, TODAY
from directory247.entry.model import ContactPoint, Entry, Phone, Release, SecureChannel, Signer, timestamp
from directory247.entry.validation import entry_files, validate_files
from directory247.formats import json_export, reachability_export
from directory247.freshness.reachability import REACHABILITY, LastTests, Reachability, last_tests, parse_reachability

FIRST = "2026.11.1"
SECOND = "2026.11.2"
NORWAY_NEW_PHONE = "+4722225555"
DEMO_SIGNER = "0123456789ABCDEF0123456789ABCDEF01234567"
RELEASE_KEY = "FEDCBA9876543210FEDCBA9876543210FEDCBA98"

HOSTILE_TEXT = '<script>alert("x")</script> { onclick=alert(1) } | cell | [x](javascript:alert(1)) {{ config }}'


@lru_cache(maxsize=1)
def demo_entries() -> tuple[Entry, ...]:
    results = validate_files(entry_files(ROOT / "directory"), today=TODAY)
    bad = [r.source for r in results if not r.ok]
    assert not bad, f"demo entries do not validate: {bad}"
    return tuple(sorted((Entry.from_dict(r.entry) for r in results if r.entry is not None), key=lambda e: e.code))


def norway() -> Entry:
    return next(e for e in demo_entries() if e.code == "NO")


def norway_old_phone() -> str:
    """Norway's 24/7 number in the demo data, as in the first test release."""
    phone = norway().primary.phone_24_7
    assert phone is not None and phone.number != NORWAY_NEW_PHONE
    return phone.number


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def make_release(version: str, serial: int, entries: tuple[Entry, ...], released: str) -> Release:
    moment = _moment(released)
    signers = tuple((e.code, Signer(DEMO_SIGNER, moment - dt.timedelta(days=1))) for e in entries)
    return Release(version=version, serial=serial, released=moment, expires=moment + dt.timedelta(days=90),
                   entries=tuple(sorted(entries, key=lambda e: e.code)), signers=signers, release_key=RELEASE_KEY)


def with_phone(entry: Entry, number: str) -> Entry:
    primary = entry.primary
    phones = tuple(Phone(number, p.kind) if p.kind == "24/7" else p for p in primary.phones)
    points = tuple(dataclasses.replace(cp, phones=phones) if cp is primary else cp for cp in entry.contact_points)
    return dataclasses.replace(entry, contact_points=points, serial=entry.serial + 1)


def hostile_entry(template: Entry) -> Entry:
    """An entry built directly (validation would refuse it) whose texts try every injection."""
    point = ContactPoint(
        role="primary", authority=HOSTILE_TEXT, unit="<img src=x onerror=alert(1)>", authority_type="police",
        available_24_7=True, phones=(Phone('+1" onmouseover="alert(1)', "24/7"), Phone("+4721234567", "24/7")),
        emails=('x@y.example" onclick="alert(1)', "javascript:alert(1)"), languages=("en", "<b>"),
        time_zone='Europe/Oslo" onload="alert(1)', office_hours="# Heading\n\n<script>alert(2)</script>",
        secure_channels=(SecureChannel(channel="{{ x }}", address="*bold* _em_ `code`"),),
    )
    return dataclasses.replace(
        template, code="XX", name="Hostile <script>alert(1)</script> [x](javascript:alert(1))",
        native_name="{ onclick=alert(1) } | a | b |", contact_points=(point, *template.contact_points[1:]),
        notes="line one\n\n</div><script>alert(3)</script>\n| a | b |\n|---|---|\n{% raw %}{{ 7*7 }}",
        request_intake=dataclasses.replace(template.request_intake, notes="[click](javascript:alert(1))"),
    )


FAILED_STATE = "MT"  # the demo records' one contact point whose last test was not answered
ROOT_SIGNER = "0000000000000000000000000000000000000000"


def demo_reachability() -> Reachability:
    """The demo records, parsed (not verified: the site tests are not about signatures)."""
    parsed = parse_reachability((ROOT / REACHABILITY).read_bytes())
    return dataclasses.replace(parsed, signer=ROOT_SIGNER)


def _sha(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_release(folder: Path, release: Release, previous: Release | None, changes: list[dict[str, object]],
                  summary: list[str], reachability: LastTests | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "directory.json": json_export.render(release),
        "directory.csv": ("code,name\n" + "".join(f"{e.code},{e.name}\n" for e in release.entries)).encode(),
        "changes.json": json_export.dumps({"from": previous.version if previous else None, "to": release.version,
                                           "changes": changes, "summary": summary}),
    }
    if reachability is not None:
        files[reachability_export.NAME] = reachability_export.render(reachability)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {"version": release.version, "serial": release.serial,
                "released": timestamp(release.released),
                "expires": timestamp(release.expires),
                "files": {name: _sha(data) for name, data in sorted(files.items())}}
    (folder / "manifest.json").write_bytes(json_export.dumps(manifest))
    (folder / "manifest.json.asc").write_text("-----BEGIN PGP SIGNATURE-----\nstand-in\n-----END PGP SIGNATURE-----\n")
    return folder


def make_archive(root: Path, *, extra: tuple[Entry, ...] = ()) -> Path:
    """Two releases of the demo directory (plus ``extra`` entries in both) under ``root``."""
    entries = demo_entries() + extra
    first = make_release(FIRST, 1, entries, "2026-11-20T12:00:00")
    write_release(root / FIRST, first, None, [], [f"{len(entries)} entries published"])
    norway = next(e for e in entries if e.code == "NO")
    old_phone = norway_old_phone()
    changed = tuple(with_phone(e, NORWAY_NEW_PHONE) if e.code == "NO" else e for e in entries)
    second = make_release(SECOND, 2, changed, "2026-11-28T12:00:00")
    field = "contact_points[0].phones[0].number"
    write_release(root / SECOND, second, first,
                  [{"code": "NO", "field": field, "kind": "changed",
                    "old": old_phone, "new": NORWAY_NEW_PHONE},
                   {"code": "NO", "field": "serial", "kind": "changed",
                    "old": norway.serial, "new": norway.serial + 1}],
                  ["NO: 24/7 phone changed"], last_tests(demo_reachability(), second))
    return root


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def build(out: Path, releases: Path) -> Path:
    """The real build pipeline, with the project's docs and base config."""
    from directory247.site.build import build_site

    build_site(out, releases, docs_dir=ROOT / "docs", base_config=ROOT / "mkdocs.yml")
    return out


_BUILT: dict[str, Path] = {}


def demo_site(tmp_root: Path) -> Path:
    """The demo archive's site, built once per test session (shared by the test modules)."""
    if "demo" not in _BUILT:
        releases = make_archive(tmp_root / "releases")
        _BUILT["demo"] = build(tmp_root / "site", releases)
    return _BUILT["demo"]
