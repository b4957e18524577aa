"""Cutting a release: accepted entries in, one signed, verified, append-only folder out.

The pipeline, in order (``cut_release``)::

    next version -> Release model -> render exports -> read every export back and compare
    (nothing lost) -> SHA256SUMS + manifest -> staging folder -> manifest checked both ways
    -> sign -> verify the staging folder exactly as a user would -> one rename into
    releases/<version>/ -> rewrite releases/index.json and releases/feed.atom

A release folder holds ``default_exports()`` (directory.json, directory.csv, directory.vcf,
changes.json, datapackage.json, reminders.ics, reachability.json), ``release-key.asc``,
``SHA256SUMS`` (for users with only gpg and ``sha256sum``), ``manifest.json``, and a detached
``.asc`` by the release key for the manifest, every export and SHA256SUMS
(``manifest.expected_names`` is the exact rule).

A failure anywhere before the rename leaves no trace: the staging folder is removed and
earlier releases are never touched. ``releases/index.json`` and ``releases/feed.atom`` are
derived from the published folders, so they can always be rebuilt (``refresh_index``).

Versions are ``YYYY.MM.N`` (N counts the releases of that month, from 1) with an integer
``serial`` that grows by one per release; both only ever increase. A release expires
``VALIDITY`` (45 days) after it is released, so users notice a directory that stopped being
published (freeze protection): the Secretariat must cut a release at least that often, even
when nothing changed.

Reproducible: the exports and the manifest are a pure function of the entries, their
signers, the previous release, the reachability records and the release time
(``SOURCE_DATE_EPOCH`` in the command). Only the ``.asc`` signatures differ between two builds.

Not owned here: deciding which entries are accepted (``check.run_check``), where the
secret key lives (the ``sign`` callable), printing. This module never prints or exits.
Unsafe, and therefore refused: publishing over an existing version, publishing a folder
that was not verified with the release key, and trusting a writer's output unread.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import changes, pinned, publish
from . import manifest as manifests
from .errors import ReleaseError
from .manifest import MANIFEST, SIGNATURE_SUFFIX, VERSION_FOLDER, Manifest
from .model import Entry, Release, Signer, timestamp
from .reachability import Reachability, last_tests
from .rules import confirmation_due
from .signatures import FUTURE_TOLERANCE
from .verify import RELEASE_KEY_FILE, verify_archived, verify_release
from .writers import atom, csv_export, datapackage, icalendar, json_export, reachability_export, vcard
from .writers.json_export import dumps

if TYPE_CHECKING:
    from .progress import Progress

#: How long a release stays valid; see the module docstring (freeze protection).
VALIDITY = pinned.RELEASE_VALIDITY
INDEX = "index.json"
FEED = atom.FEED_NAME
CHANGES = "changes.json"
CHECKSUMS = "SHA256SUMS"
REMINDERS = "reminders.ics"
_PUBLIC_KEY = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"

Sign = Callable[[bytes], bytes]


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


@dataclass(frozen=True)
class PublishedRelease:
    folder: Path
    manifest: Manifest


# --------------------------------------------------------------------------- versions


def next_version(previous: Release | None, released: dt.datetime) -> tuple[str, int]:
    """``(version, serial)`` of the release after ``previous``, released at ``released``."""
    year, month = released.astimezone(dt.UTC).year, released.astimezone(dt.UTC).month
    if previous is None:
        return f"{year:04d}.{month:02d}.1", 1
    if released < previous.released:
        raise ReleaseError(f"the release time {timestamp(released)} is before release {previous.version} "
                           f"({timestamp(previous.released)}); check the clock or SOURCE_DATE_EPOCH")
    last_year, last_month, number = manifests.version_key(previous.version)
    number = number + 1 if (year, month) == (last_year, last_month) else 1
    return f"{year:04d}.{month:02d}.{number}", previous.serial + 1


# --------------------------------------------------------------------------- read back


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


def _mismatch(name: str, where: str) -> ReleaseError:
    return ReleaseError(f"{name}: does not carry the accepted entries: {where}; the release was not published")


def _by_code(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {str(entry.get("code")): entry for entry in entries}


def read_back_json(build: Build, data: bytes) -> None:
    """``directory.json`` holds every accepted entry and every field, and reads back whole."""
    name, release = "directory.json", build.release
    try:
        raw = json.loads(data.decode("utf-8"))
        parsed = json_export.parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected = json_export.to_object(release)
    found = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(found, list) or not all(isinstance(entry, dict) for entry in found):
        raise _mismatch(name, "entries (not a list of entries)")
    # Compare entries by code first so a message names the State, then everything else.
    where = first_difference(_by_code(expected["entries"]), _by_code(found), "entries")
    where = where or first_difference(expected, raw)
    if where:
        raise _mismatch(name, where)
    if parsed != release or parsed.signers != release.signers:
        raise _mismatch(name, "the parsed release differs from the accepted entries")


# --------------------------------------------------------------------------- exports


def _json(build: Build) -> bytes:
    return json_export.render(build.release)


def _csv(build: Build) -> bytes:
    return csv_export.render(build.release)


def _vcard(build: Build) -> bytes:
    return vcard.render(build.release)


def _changes_object(build: Build) -> dict[str, Any]:
    old = {e.code: e.to_dict() for e in build.previous.entries} if build.previous else {}
    new = {e.code: e.to_dict() for e in build.release.entries}
    from_version = build.previous.version if build.previous else None
    return changes.to_object(changes.diff_entries(old, new), from_version, build.release.version)


def _changes(build: Build) -> bytes:
    return dumps(_changes_object(build))


def _datapackage(build: Build) -> bytes:
    return datapackage.render(build.release, build.files)


def default_exports() -> tuple[Export, ...]:
    """Every export of a release, in the order they are rendered (datapackage last: it
    describes the others)."""
    return (
        Export("directory.json", _json, read_back_json),
        Export("directory.csv", _csv, read_back_csv),
        Export("directory.vcf", _vcard, read_back_vcard),
        Export(CHANGES, _changes, read_back_changes),
        Export("datapackage.json", _datapackage, read_back_datapackage),
        Export(REMINDERS, _reminders, read_back_reminders),
        Export(reachability_export.NAME, _reachability, read_back_reachability),
    )


def _reachability(build: Build) -> bytes:
    return reachability_export.render(last_tests(build.reachability, build.release))


def read_back_reachability(build: Build, data: bytes) -> None:
    """``reachability.json`` holds exactly the last test of each contact point as of the release."""
    name = reachability_export.NAME
    try:
        found = reachability_export.parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected = last_tests(build.reachability, build.release)
    where = first_difference(reachability_export.to_object(expected), reachability_export.to_object(found))
    if where or found != expected:
        raise _mismatch(name, where or "the parsed results differ from the reachability records")


def _reminders(build: Build) -> bytes:
    return icalendar.render(build.release.entries, build.release.released)


def read_back_reminders(build: Build, data: bytes) -> None:
    """One event per State, each on its confirmation due date."""
    text = data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    uids = [line[len("UID:"):] for line in text.split("\r\n") if line.startswith("UID:")]
    expected = [f"confirm-{e.code.lower()}-{confirmation_due(e.confirmed).isoformat()}@directory247"
                for e in build.release.entries]
    if sorted(uids) != sorted(expected):
        missing = sorted(set(expected) - set(uids)) or sorted(set(uids) - set(expected))
        raise _mismatch(REMINDERS, f"events do not match the entries' due dates ({', '.join(missing[:3])})")


def _csv_expected(entry: Entry, index: int) -> dict[str, Any]:
    """What one row of ``directory.csv`` must say, as plain values, straight from the model."""
    cp = entry.contact_points[index]
    intake = entry.request_intake
    return {
        "code": entry.code, "name": entry.name, "native_name": entry.native_name, "status": entry.status,
        "demo": entry.demo, "serial": entry.serial, "confirmed": entry.confirmed.isoformat(),
        "role": cp.role, "authority": cp.authority, "unit": cp.unit, "authority_type": cp.authority_type,
        "available_24_7": cp.available_24_7,
        "phone_24_7": cp.phone_24_7.number if cp.phone_24_7 else None,
        "phones": [[p.kind, p.number] for p in cp.phones], "emails": list(cp.emails),
        "languages": list(cp.languages), "time_zone": cp.time_zone, "office_hours": cp.office_hours,
        "openpgp_fingerprint": cp.openpgp_fingerprint,
        "secure_channels": [[c.channel, c.address, c.name] for c in cp.secure_channels],
        "request_languages": list(intake.languages), "request_channels": list(intake.channels),
        "preservation_template": intake.preservation_template, "subscriber_template": intake.subscriber_template,
        "encryption_required": intake.encryption_required, "expedited_disclosure": intake.expedited_disclosure,
        "emergency_disclosure": intake.emergency_disclosure, "preservation_days": intake.preservation_days,
    }


def _csv_found(row: Mapping[str, str]) -> dict[str, Any]:
    """The same plain values, decoded from one parsed row (the reverse of the writer)."""
    split_item, split_list, split_values = csv_export.split_item, csv_export.split_list, csv_export.split_values

    def text(column: str) -> str | None:
        return row[column] or None

    def flag(column: str) -> bool | str:
        return {"true": True, "false": False}.get(row[column], row[column])

    def number(column: str) -> int | str | None:
        return int(row[column]) if row[column].isdigit() else text(column)

    def channel(item: str) -> list[str | None]:
        parts = split_item(item)
        return [parts[0], (parts[1] or None) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None]

    tel = row["phone_24_7"]
    return {
        "code": row["code"], "name": row["name"], "native_name": text("native_name"), "status": row["status"],
        "demo": flag("demo"), "serial": number("serial"), "confirmed": row["confirmed"],
        "role": row["role"], "authority": row["authority"], "unit": text("unit"),
        "authority_type": row["authority_type"], "available_24_7": flag("available_24_7"),
        "phone_24_7": tel.removeprefix("tel:") if tel.startswith("tel:") else text("phone_24_7"),
        "phones": [split_item(item) for item in split_list(row["phones"])], "emails": split_values(row["emails"]),
        "languages": split_values(row["languages"]), "time_zone": row["time_zone"],
        "office_hours": text("office_hours"), "openpgp_fingerprint": text("openpgp_fingerprint"),
        "secure_channels": [channel(item) for item in split_list(row["secure_channels"])],
        "request_languages": split_values(row["request_languages"]),
        "request_channels": split_values(row["request_channels"]),
        "preservation_template": flag("preservation_template"), "subscriber_template": flag("subscriber_template"),
        "encryption_required": flag("encryption_required"), "expedited_disclosure": flag("expedited_disclosure"),
        "emergency_disclosure": flag("emergency_disclosure"), "preservation_days": number("preservation_days"),
    }


def read_back_csv(build: Build, data: bytes) -> None:
    """``directory.csv`` has one row per contact point of every entry, each carrying its
    contact point's fields (the columns the CSV layout keeps), in the documented order."""
    name, release = "directory.csv", build.release
    try:
        rows = csv_export.parse(data)
    except ValueError as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected_keys = [(entry.code, index) for entry in release.entries
                     for index, _ in csv_export.contact_point_order(entry)]
    found_keys = [(row["code"], int(row["contact_point"]) if row["contact_point"].isdigit() else -1)
                  for row in rows]
    if found_keys != expected_keys:
        missing = sorted(set(expected_keys) - set(found_keys))
        where = (f"contact point {missing[0][1]} of {missing[0][0]} (missing)" if missing
                 else "rows are not one per contact point in entry order")
        raise _mismatch(name, where)
    entries = {entry.code: entry for entry in release.entries}
    for row, (code, index) in zip(rows, expected_keys, strict=True):
        difference = first_difference(_csv_expected(entries[code], index), _csv_found(row))
        if difference:
            raise _mismatch(name, f"{code} contact point {index}: {difference}")


def _vcard_expected(entry: Entry, index: int) -> dict[str, list[str]]:
    """The properties of one card that carry entry data, as the vCard layout documents them."""
    cp = entry.contact_points[index]
    return {
        "ORG": [cp.authority] + ([cp.unit] if cp.unit is not None else []),
        "TEL": [f"tel:{phone.number}" for phone in cp.phones],
        "EMAIL": list(cp.emails),
        "LANG": list(cp.languages),
        "TZ": [cp.time_zone],
        "KEY": [f"openpgp4fpr:{cp.openpgp_fingerprint}"] if cp.openpgp_fingerprint else [],
        "CATEGORIES": [entry.code, entry.status, cp.role] + (["demonstration"] if entry.demo else []),
    }


def read_back_vcard(build: Build, data: bytes) -> None:
    """``directory.vcf`` has one card per contact point, in ``directory.csv`` row order, each
    with its organisation, every phone, e-mail and language, time zone and key."""
    name, release = "directory.vcf", build.release
    try:
        cards = vcard.parse(data)
    except ValueError as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected = [(entry, index) for entry in release.entries for index, _ in csv_export.contact_point_order(entry)]
    if len(cards) != len(expected):
        raise _mismatch(name, f"{len(cards)} cards, expected one per contact point ({len(expected)})")
    for card, (entry, index) in zip(cards, expected, strict=True):
        want = _vcard_expected(entry, index)
        where = first_difference(want, {key: card.get(key, []) for key in want})
        if where:
            raise _mismatch(name, f"{entry.code} contact point {index}: {where}")


# --------------------------------------------------------------------------- pipeline


def read_back_changes(build: Build, data: bytes) -> None:
    """``changes.json`` goes from the previous release to this one, and holds exactly the
    differences between their entries."""
    name = CHANGES
    try:
        found = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected = json.loads(json.dumps(_changes_object(build)))  # as JSON reads it back
    where = first_difference(expected, found)
    if where:
        raise _mismatch(name, where)


def read_back_datapackage(build: Build, data: bytes) -> None:
    """``datapackage.json`` describes exactly the exports before it, with their sizes and hashes."""
    name = "datapackage.json"
    try:
        resources = json.loads(data.decode("utf-8"))["resources"]
        described = {str(r["path"]): (r["bytes"], r["hash"]) for r in resources}
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{name}: cannot be read back ({error}); the release was not published") from None
    expected = {path: (len(content), "sha256:" + manifests.digest(content)) for path, content in build.files.items()}
    where = first_difference(expected, described, "resources")
    if where:
        raise _mismatch(name, where)


def _check_inputs(accepted: Sequence[tuple[Entry, Signer]], released: dt.datetime, now: dt.datetime,
                  release_key: bytes, fingerprint: str) -> None:
    if released.tzinfo is None or now.tzinfo is None:
        raise ValueError("released and now must be timezone-aware")
    if released > now + FUTURE_TOLERANCE:
        raise ReleaseError(f"the release time {timestamp(released)} is in the future (now is {timestamp(now)}); "
                           "check the clock or SOURCE_DATE_EPOCH")
    if released + VALIDITY <= now + FUTURE_TOLERANCE:
        raise ReleaseError(f"the release time {timestamp(released)} is so long ago that the release would "
                           f"already have expired ({VALIDITY.days} days); check SOURCE_DATE_EPOCH")
    if VALIDITY > pinned.MAX_RELEASE_VALIDITY:
        raise ReleaseError(f"a release valid for {VALIDITY.days} days exceeds the network's cap of "
                           f"{pinned.MAX_RELEASE_VALIDITY.days} days; users' verify would refuse it")
    if not accepted:
        raise ReleaseError("no accepted entries; a release needs at least one")
    codes = [entry.code for entry, _ in accepted]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ReleaseError(f"entry {duplicates[0]} was accepted twice")
    if not release_key.lstrip().startswith(_PUBLIC_KEY):
        raise ReleaseError("the release key must be an armored public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)")
    if not re.fullmatch(r"[0-9A-F]{40}|[0-9A-F]{64}", fingerprint):
        raise ReleaseError(f"release key fingerprint {fingerprint!r} is not upper-case hex")


def build_release(accepted: Sequence[tuple[Entry, Signer]], previous: Release | None, released: dt.datetime,
                  fingerprint: str) -> Release:
    """The ``Release`` model of the next version (pure)."""
    version, serial = next_version(previous, released)
    pairs = sorted(accepted, key=lambda pair: pair[0].code)
    released = released.astimezone(dt.UTC).replace(microsecond=0)
    return Release(
        version=version, serial=serial, released=released, expires=released + VALIDITY,
        entries=tuple(entry for entry, _ in pairs),
        signers=tuple((entry.code, signer) for entry, signer in pairs),
        release_key=fingerprint,
    )


def render_release(release: Release, previous: Release | None, release_key: bytes,
                   exports: Sequence[Export], reachability: Reachability | None = None,
                   progress: Progress | None = None) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """Every file of the release but its signatures: ``(files, names to sign)`` (pure).

    Each export is read back and compared before anything is written or signed.
    """
    files: dict[str, bytes] = {}
    for done, export in enumerate(exports):
        if progress is not None:
            progress("rendering and reading back exports", done, len(exports))
        if export.name in files or export.name in (MANIFEST, RELEASE_KEY_FILE, CHECKSUMS):
            raise ValueError(f"export {export.name} is defined twice")
        try:
            data = export.render(Build(release, previous, dict(files), reachability or Reachability()))
        except ValueError as error:  # a value the format cannot carry: refuse, never publish half
            raise ReleaseError(f"{export.name}: cannot be written ({error}); fix the entry, nothing was "
                               "released") from None
        if export.read_back is not None:
            export.read_back(Build(release, previous, dict(files), reachability or Reachability()), data)
        files[export.name] = data
    if progress is not None:
        progress("rendering and reading back exports", len(exports), len(exports))
    # The key travels with the release for convenience only: verification pins its fingerprint.
    files[RELEASE_KEY_FILE] = release_key
    files[CHECKSUMS] = render_checksums(files)
    signed = (*(export.name for export in exports), CHECKSUMS)
    manifest = manifests.build(
        version=release.version, serial=release.serial, released=release.released, expires=release.expires,
        release_key=release.release_key or "", demo=release.demo, files=files, signed=signed,
    )
    files[MANIFEST] = manifests.render(manifest)
    return files, signed


def render_checksums(files: Mapping[str, bytes]) -> bytes:
    """``SHA256SUMS``: the same digests as the manifest, in the format ``sha256sum -c`` reads,
    so a user with nothing but gpg and coreutils can check a release (docs/verify.md)."""
    return "".join(f"{manifests.digest(data)}  {name}\n" for name, data in sorted(files.items())).encode("ascii")


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def cut_release(
    *,
    accepted: Sequence[tuple[Entry, Signer]],
    previous: Release | None,
    released: dt.datetime,
    now: dt.datetime,
    sign: Sign,
    release_key: bytes,
    release_fingerprint: str,
    releases_dir: Path,
    exports: Sequence[Export] | None = None,
    reachability: Reachability | None = None,
    progress: Progress | None = None,
) -> PublishedRelease:
    """Build, sign, verify and publish the next release into ``releases_dir/<version>/``.

    ``accepted`` are the entries the gate accepted with who signed each; ``previous`` the
    latest published release (``latest_release``) or None; ``released`` the release time
    (``SOURCE_DATE_EPOCH``); ``now`` the clock the result is verified at; ``sign`` makes a
    detached armored signature with the release key; ``release_key`` is that key's armored
    public key and ``release_fingerprint`` its primary fingerprint; ``reachability`` the
    root-verified records (``reachability.load_reachability``) whose last test per contact
    point goes into ``reachability.json`` (None: no records, an empty list is published);
    ``progress`` (optional) hears ``(stage, done, total)`` of the long steps.
    """
    fingerprint = release_fingerprint.replace(" ", "").upper()
    _check_inputs(accepted, released, now, release_key, fingerprint)
    release = build_release(accepted, previous, released, fingerprint)
    files, signed = render_release(release, previous, release_key,
                                   default_exports() if exports is None else exports, reachability, progress)
    final = releases_dir / release.version
    if final.exists() or final.is_symlink():
        raise ReleaseError(f"{final}: already exists; a published release is never rewritten")

    with publish.staging(releases_dir) as stage:
        publish.write_files(stage, files)
        # What is on disk, not what we meant to write, is what gets signed.
        on_disk = _read_folder(stage)
        manifest = manifests.parse(on_disk[MANIFEST])
        manifests.check_files(manifest, on_disk, signatures=False)
        signatures = {}
        for done, name in enumerate((*signed, MANIFEST), start=1):
            signatures[name + SIGNATURE_SUFFIX] = sign(on_disk[name])
            if progress is not None:
                progress("signing the release", done, len(signed) + 1)
        publish.write_files(stage, signatures)
        # With the key shipped in the folder, as a user without --keyring would.
        verify_release(stage, release_key=None, fingerprint=fingerprint, now=now)
        publish.publish_folder(stage, final)
    refresh_index(releases_dir)
    return PublishedRelease(folder=final, manifest=manifest)


# --------------------------------------------------------------------------- archive


def published_versions(releases_dir: Path) -> list[Manifest]:
    """The manifests of every published release, oldest first (by serial).

    Read from our own archive without verifying signatures: for numbering and the index,
    never for trust. A folder whose manifest cannot be read is an error, not skipped, so a
    damaged archive cannot make a version number be given out twice.
    """
    if not releases_dir.is_dir():
        return []
    found = []
    for folder in sorted(releases_dir.iterdir()):
        if not folder.is_dir() or folder.is_symlink() or not VERSION_FOLDER.fullmatch(folder.name):
            continue
        try:
            data = (folder / MANIFEST).read_bytes()
        except OSError as error:
            raise ReleaseError(f"{folder / MANIFEST}: cannot be read ({error.strerror}); "
                               "the release archive is damaged") from None
        manifest = manifests.parse(data)
        if manifest.version != folder.name:
            raise ReleaseError(f"{folder / MANIFEST}: says version {manifest.version}; the archive is damaged")
        found.append(manifest)
    found.sort(key=lambda m: m.serial)
    serials = [m.serial for m in found]
    if len(set(serials)) != len(serials):
        raise ReleaseError(f"{releases_dir}: two releases share a serial; the archive is damaged")
    return found


def latest_release(releases_dir: Path, *, release_key: bytes | None = None,
                   release_fingerprint: str | None = None, now: dt.datetime | None = None) -> Release | None:
    """The latest published release as a model, or None before the first release; with a
    release fingerprint, only after it verifies as it stood while valid (``verify_archived``
    at ``now``, by default the real time)."""
    published = published_versions(releases_dir)
    if not published:
        return None
    newest = published[-1]
    folder = releases_dir / newest.version
    if release_fingerprint is not None:
        # The previous release feeds the signed changelog of the next: it must be genuine.
        verify_archived(folder, release_key=release_key, fingerprint=release_fingerprint, now=now)
    try:
        data = (folder / "directory.json").read_bytes()
    except OSError as error:
        raise ReleaseError(f"{folder / 'directory.json'}: cannot be read ({error.strerror})") from None
    record = newest.record("directory.json")
    if record is None:
        raise ReleaseError(f"{folder / MANIFEST}: does not list directory.json")
    manifests.check_content(record, data)
    try:
        return json_export.parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ReleaseError(f"{folder / 'directory.json'}: cannot be read ({error})") from None


def render_index(published: Sequence[Manifest]) -> bytes:
    """``releases/index.json``: every release, newest first, and which one is latest."""
    releases = [{"version": m.version, "serial": m.serial, "released": timestamp(m.released),
                 "expires": timestamp(m.expires), "demo": m.demo}
                for m in sorted(published, key=lambda m: m.serial, reverse=True)]
    return dumps({"latest": releases[0]["version"] if releases else None, "releases": releases})


def derived_files(releases_dir: Path) -> dict[str, bytes]:
    """``index.json`` and ``feed.atom`` as the published folders give them (nothing before the
    first release): derived data, never edited by hand, checked byte for byte by the gate."""
    published = published_versions(releases_dir)
    if not published:
        return {}
    return {INDEX: render_index(published), FEED: render_feed(releases_dir, published)}


def refresh_index(releases_dir: Path) -> bool:
    """Rewrite ``index.json`` and ``feed.atom`` from the published folders (atomically);
    whether anything changed."""
    changed = False
    for name, data in derived_files(releases_dir).items():
        path = releases_dir / name
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        publish.write_atomic(path, data)
        changed = True
    return changed


def render_feed(releases_dir: Path, published: Sequence[Manifest]) -> bytes:
    """``releases/feed.atom``: every published release with its summary of changes."""
    summaries = []
    for manifest in published:
        record = manifest.record(CHANGES)
        if record is None:  # a release without changes.json still gets its entry
            summaries.append(atom.ReleaseSummary(manifest.version, manifest.serial, manifest.released))
            continue
        path = releases_dir / manifest.version / CHANGES
        try:
            data = path.read_bytes()
            manifests.check_content(record, data)
            summaries.append(atom.ReleaseSummary.from_changes_json(
                manifest.version, manifest.serial, manifest.released, data))
        except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
            raise ReleaseError(f"{path}: cannot be read for the feed ({error}); the archive is damaged") from None
    return atom.render(summaries, demo=published[-1].demo)
