"""``datapackage.json``: a Frictionless Data Package (v2) that describes the exports of a release.

Owns the package descriptor: which files of a release it lists, how each is described, and
the Table Schema of ``directory.csv`` (``TABLE_SCHEMA``, one field per ``csv_export.COLUMNS``
entry, in that order; a test keeps the two lists equal). It takes the bytes of the files
it describes from the caller and never reads a file; each resource carries the file's size
and ``sha256:<hex>`` digest, so the package must be rendered *after* the files it lists.

The descriptor is canonical JSON (``json_export.dumps``) and depends only on the release
and the bytes it is given: no clock (``created`` is the release time), no host names.

Not a trust anchor: the package's digests are only as good as ``manifest.json`` and its
signature, which list this file too. A consumer must verify the release first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..entry.model import Release, timestamp
from .common import DEMO_NOTICE, EXPORT_SCHEMA_ID, TITLE, dumps
from .export import Build, Export, first_difference, mismatch, unreadable

NAME = "datapackage.json"

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
TABLE_SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
TABLE_DIALECT_PROFILE = "https://datapackage.org/profiles/2.0/tabledialect.json"
PACKAGE_NAME = "directory-24-7-contact-points"

#: The licence the package declares. The directory's data licence is the Secretariat's
#: decision; a caller passes its own with ``licenses=``.
DEFAULT_LICENSES: tuple[Mapping[str, str], ...] = (
    {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
     "title": "Creative Commons Attribution 4.0 International"},
)

_BOOLEAN = {"type": "boolean", "trueValues": ["true"], "falseValues": ["false"]}
_LIST_NOTE = ("Items are separated by ';', the parts of an item by ':'; a '\\', ';' or ':' inside a part "
              "is escaped with '\\'.")


def _field(name: str, title: str, description: str, **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "title": title, "description": description, "type": "string"}
    field.update(extra)
    return field


def _required(**constraints: Any) -> dict[str, Any]:
    return {"constraints": {"required": True, **constraints}}


# One entry per column of directory.csv, in file order. Patterns allow the leading "'" that
# formula neutralisation may add only where a value could begin with a trigger character.
TABLE_FIELDS: tuple[dict[str, Any], ...] = (
    _field("code", "State code", "ISO 3166-1 alpha-2 code of the State, upper case.",
           **_required(pattern="[A-Z]{2}")),
    _field("name", "State", "English short name of the State.", **_required()),
    _field("native_name", "Native name", "Name of the State in its own language(s); empty if not given."),
    _field("status", "Status", "Relation of the State to the Convention.",
           **_required(enum=["party", "signatory", "invited"])),
    _field("demo", "Demonstration", "true on fictional sample data: never use such a row to send a request.",
           **_BOOLEAN, **_required()),
    _field("serial", "Entry serial", "Change counter of the entry; grows on every change.",
           type="integer", **_required(minimum=1)),
    _field("confirmed", "Confirmed", "Date on which the State last confirmed the entry.",
           type="date", **_required()),
    _field("contact_point", "Contact point index",
           "Index (from 0) of the contact point in the entry's contact_points list in directory.json.",
           type="integer", **_required(minimum=0)),
    _field("role", "Role", "primary: the 24/7 point of contact under Art. 35; secondary: any other.",
           **_required(enum=["primary", "secondary"])),
    _field("authority", "Authority", "Authority the contact point belongs to.", **_required()),
    _field("unit", "Unit", "Unit within the authority; empty if not given."),
    _field("authority_type", "Authority type", "Kind of authority.",
           **_required(enum=["police", "prosecution", "other"])),
    _field("available_24_7", "Available 24/7", "Whether the contact point answers at all hours.",
           **_BOOLEAN, **_required()),
    _field("phone_24_7", "24/7 phone", "First 24/7 phone number as an RFC 3966 URI (tel:+<E.164>); "
           "empty if the contact point has none.", constraints={"pattern": r"tel:\+[1-9][0-9]{3,14}"}),
    _field("phones", "Phones", "Every phone number as kind:number (E.164), kind one of 24/7, office, mobile, "
           "fax. " + _LIST_NOTE, **_required()),
    _field("emails", "E-mail addresses", "E-mail addresses of the contact point. " + _LIST_NOTE, **_required()),
    _field("languages", "Languages", "Languages spoken at the contact point (ISO 639 codes). " + _LIST_NOTE,
           **_required(pattern="[a-z]{2,3}(;[a-z]{2,3})*")),
    _field("time_zone", "Time zone", "IANA time zone of the contact point.", **_required()),
    _field("office_hours", "Office hours", "Office hours in local time, for a contact point not available "
           "24/7; empty if not given."),
    _field("openpgp_fingerprint", "OpenPGP fingerprint", "Fingerprint of the unit's mail key; empty if none.",
           constraints={"pattern": "[0-9A-F]{40}"}),
    _field("secure_channels", "Secure channels", "Secure channels as channel[:address[:name]], channel one of "
           "interpol-i247, siena, other. " + _LIST_NOTE),
    _field("request_languages", "Request languages", "Languages in which the State accepts requests. "
           + _LIST_NOTE, **_required(pattern="[a-z]{2,3}(;[a-z]{2,3})*")),
    _field("request_channels", "Request channels", "Channels through which the State accepts requests. "
           + _LIST_NOTE, **_required()),
    _field("preservation_template", "T-CY preservation template",
           "Whether the T-CY template for a preservation request (Art. 29) is accepted.", **_BOOLEAN,
           **_required()),
    _field("subscriber_template", "T-CY subscriber template",
           "Whether the T-CY template for a subscriber information request (Art. 31) is accepted.", **_BOOLEAN,
           **_required()),
    _field("encryption_required", "Encryption required",
           "Whether requests by e-mail must be OpenPGP-encrypted.", **_BOOLEAN, **_required()),
    _field("expedited_disclosure", "Expedited disclosure (Art. 30)",
           "Whether expedited partial disclosure of preserved traffic data is available.", **_BOOLEAN,
           **_required()),
    _field("emergency_disclosure", "Emergency disclosure (CETS 224)",
           "Whether emergency disclosure under the Second Additional Protocol (Arts. 9-10) is available.",
           **_BOOLEAN, **_required()),
    _field("preservation_days", "Preservation days", "Days for which data is preserved on an Art. 29 request; "
           "empty if not given.", type="integer", constraints={"minimum": 1}),
)

# "fieldsMatch" is left at its default ("exact"): the published 2.0 profile wrongly wants an
# array there (fixed in 2.1), so writing it would fail one validator or the other.
TABLE_SCHEMA: dict[str, Any] = {
    "$schema": TABLE_SCHEMA_PROFILE,
    "fields": list(TABLE_FIELDS),
    "missingValues": [""],
    "primaryKey": ["code", "contact_point"],
}

TABLE_DIALECT: dict[str, Any] = {
    "$schema": TABLE_DIALECT_PROFILE,
    "header": True,
    "delimiter": ",",
    "lineTerminator": "\r\n",
    "quoteChar": '"',
    "doubleQuote": True,
}

_CSV_DESCRIPTION = (
    "One row per contact point, entries by State code, the primary contact point first. Every cell is quoted. "
    "Formula-injection safe: a cell beginning with =, +, -, @, tab, CR, LF, a full-width =+-@, a trigger after "
    "leading white space, or a single quote is written with one single quote (') in front; drop exactly one "
    "leading single quote from any cell that has one to get the value back. Phone numbers never begin a cell: "
    "phone_24_7 is a tel: URI, phones are kind:number items."
)

#: The files a package may describe, in the order it lists them.
RESOURCES: dict[str, dict[str, Any]] = {
    "directory.json": {
        "name": "directory-json", "title": "Directory (canonical JSON)", "format": "json",
        "mediatype": "application/json",
        "description": f"The canonical export: every entry as the entry schema describes it, with who signed it. "
                       f"Described by the JSON Schema {EXPORT_SCHEMA_ID}.",
    },
    "directory.csv": {
        "name": "directory-csv", "title": "Directory (CSV, one row per contact point)", "type": "table",
        "format": "csv", "mediatype": "text/csv", "description": _CSV_DESCRIPTION,
        "dialect": TABLE_DIALECT, "schema": TABLE_SCHEMA,
    },
    "directory.vcf": {
        "name": "directory-vcard", "title": "Directory (vCard 4.0, one card per contact point)", "format": "vcf",
        "mediatype": "text/vcard",
        "description": "Every contact point as a vCard 4.0 (RFC 6350) for address books and phones.",
    },
    "changes.json": {
        "name": "changes", "title": "Changes since the previous release", "format": "json",
        "mediatype": "application/json",
        "description": "Field-level changes of every entry since the previous release.",
    },
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def to_object(release: Release, files: Mapping[str, bytes], *,
              licenses: tuple[Mapping[str, str], ...] = DEFAULT_LICENSES) -> dict[str, Any]:
    """The descriptor of a package listing ``files`` (name -> bytes), which must be names of
    ``RESOURCES``; raises ``ValueError`` for any other name, so no file goes undescribed."""
    unknown = sorted(set(files) - set(RESOURCES))
    if unknown:
        raise ValueError(f"datapackage: no description for {', '.join(unknown)}; known: {', '.join(RESOURCES)}")
    resources = []
    for name, resource in RESOURCES.items():
        if name not in files:
            continue
        data = files[name]
        resources.append({"$schema": RESOURCE_PROFILE, **resource, "path": name, "encoding": "utf-8",
                          "bytes": len(data), "hash": sha256(data)})
    title = TITLE + (" (DEMONSTRATION DATA)" if release.demo else "")
    description = (f"Release {release.version} (serial {release.serial}) of the directory, valid until "
                   f"{timestamp(release.expires)}. Verify manifest.json.asc with the pinned release key "
                   f"before trusting any file.")
    if release.demo:
        description = DEMO_NOTICE + " " + description
    return {
        "$schema": PROFILE,
        "name": PACKAGE_NAME,
        "title": title,
        "description": description,
        "version": release.version,
        "created": timestamp(release.released),
        "licenses": [dict(licence) for licence in licenses],
        "keywords": ["Convention on Cybercrime", "CETS 185", "Article 35", "24/7 network", "points of contact"],
        "resources": resources,
    }


def render(release: Release, files: Mapping[str, bytes], *,
           licenses: tuple[Mapping[str, str], ...] = DEFAULT_LICENSES) -> bytes:
    return dumps(to_object(release, files, licenses=licenses))


def csv_field_names() -> tuple[str, ...]:
    """The Table Schema's field names, for the check that they match ``csv_export.COLUMNS``."""
    return tuple(field["name"] for field in TABLE_FIELDS)


def render_export(build: Build) -> bytes:
    return render(build.release, build.files)


def read_back(build: Build, data: bytes) -> None:
    """``datapackage.json`` describes exactly the exports before it, with their sizes and hashes."""
    name = NAME
    try:
        resources = json.loads(data.decode("utf-8"))["resources"]
        described = {str(r["path"]): (r["bytes"], r["hash"]) for r in resources}
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise unreadable(name, error) from None
    expected = {path: (len(content), "sha256:" + hashlib.sha256(content).hexdigest())
                for path, content in build.files.items()}
    where = first_difference(expected, described, "resources")
    if where:
        raise mismatch(name, where)


EXPORT = Export(NAME, render_export, read_back)
