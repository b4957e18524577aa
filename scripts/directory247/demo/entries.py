"""The demonstration directory: one fictional entry per State in ``data/ets185_states.csv``.

Treaty facts (status, dates, source, as-of date) come from the project's own copies of the
Treaty Office facts in ``data/``; everything about contact points is invented and marked
``demo: true``, with e-mail domains under the reserved ``.example`` TLD and phone numbers
taken from the numbering plan's documented example numbers. The output is a pure function
of the data files, so regenerating it changes nothing unless the facts change.

Run ``python -m directory247.demo.entries [--serial-bump CODES]`` (``make demo``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import unicodedata
from pathlib import Path
from typing import Any

import phonenumbers
from babel import Locale, UnknownLocaleError, languages
from babel.core import get_global

from ..entry.reference import is_language
from ..entry.yaml_writer import dump
from ..paths import project_root

# A main time zone where a State spans several (the others stay reachable via office notes).
_MAIN_ZONE = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CL": "America/Santiago", "CY": "Asia/Nicosia", "DE": "Europe/Berlin",
    "EC": "America/Guayaquil", "ES": "Europe/Madrid", "KI": "Pacific/Tarawa", "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland", "PG": "Pacific/Port_Moresby", "PT": "Europe/Lisbon", "UA": "Europe/Kyiv",
    "US": "America/New_York",
}


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def _example_number(code: str, kind: Any) -> str | None:
    number = phonenumbers.example_number_for_type(code, kind)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _languages(code: str) -> list[str]:
    found: list[str] = []
    for tag in languages.get_official_languages(code, de_facto=True):
        base = tag.split("_")[0]
        if base not in found and is_language(base):
            found.append(base)
    if "en" not in found:
        found.append("en")
    return found[:3]


def _native_name(code: str, english: str) -> str | None:
    for tag in languages.get_official_languages(code, de_facto=True):
        try:
            name = Locale.parse(f"{tag}_{code}").territories.get(code)
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            name = unicodedata.normalize("NFC", name)
            return None if name == english else name
    return None


def _zone(code: str) -> str:
    zones: list[str] = get_global("territory_zones").get(code, [])
    return _MAIN_ZONE.get(code, zones[0] if zones else "Etc/UTC")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def build_entry(state: dict[str, str], protocol: dict[str, str] | None, serial: int = 1) -> dict[str, Any]:
    code, name = state["iso2"], state["name"]
    domain = f"{code.lower()}.example"
    seed = _digest(code)
    langs = _languages(code)
    zone = _zone(code)
    confirmed_month = 1 + seed % 11
    confirmed = f"2026-{confirmed_month:02d}-{1 + (seed >> 8) % 28:02d}"

    fixed = _example_number(code, phonenumbers.PhoneNumberType.FIXED_LINE) or _example_number(
        code, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    mobile = _example_number(code, phonenumbers.PhoneNumberType.MOBILE)
    phones = [{"number": fixed, "kind": "24/7"}] if fixed else []
    if mobile and mobile != fixed:
        phones.append({"number": mobile, "kind": "mobile"})

    entry: dict[str, Any] = {"schema_version": "1", "code": code, "name": name}
    native = _native_name(code, name)
    if native:
        entry["native_name"] = native
    entry.update({"demo": True, "serial": serial, "confirmed": confirmed, "status": state["status"]})
    treaty = {key: state[column] for key, column in (("signature", "signature"),
                                                      ("ratification", "ratification_or_accession"),
                                                      ("entry_into_force", "entry_into_force"))
              if state[column]}
    treaty["source"] = state["source"]
    if state["as_of"]:
        treaty["as_of"] = state["as_of"]
    entry["treaty"] = treaty
    ratified_224 = bool(protocol and protocol.get("ratification"))
    if protocol:
        second = {k: protocol[k] for k in ("signature", "ratification") if protocol.get(k)}
        second["source"] = protocol["source"]
        entry["second_protocol"] = second
    if seed % 4 == 0:
        entry["reservations"] = [{
            "article": "29(4)",
            "summary": "Dual criminality may be required before preserving data for offences other "
                       "than those established under Articles 2-11 (fictional demonstration text).",
        }]

    primary: dict[str, Any] = {
        "role": "primary",
        "authority": f"National Police of {name} (demonstration)",
        "unit": "Cybercrime Centre, 24/7 Desk",
        "authority_type": "police",
        "available_24_7": True,
        "phones": phones,
        "emails": [f"cyber-24-7@police.{domain}"],
        "languages": langs,
        "time_zone": zone,
    }
    if seed % 2 == 0:
        primary["openpgp_fingerprint"] = hashlib.sha256(f"demo-mail-key-{code}".encode()).hexdigest()[:40].upper()
    primary["secure_channels"] = [{"channel": "interpol-i247", "address": f"NCB {name}"}]
    points = [primary]
    if seed % 3 == 0 and fixed:
        points.append({
            "role": "secondary",
            "authority": f"Public Prosecution Service of {name} (demonstration)",
            "unit": "Cybercrime Prosecution Office",
            "authority_type": "prosecution",
            "available_24_7": False,
            "phones": [{"number": fixed, "kind": "office"}],
            "emails": [f"cybercrime@prosecution.{domain}"],
            "languages": langs[:2],
            "time_zone": zone,
            "office_hours": "Mon-Fri 08:00-16:00",
        })
    entry["contact_points"] = points
    intake: dict[str, Any] = {
        "languages": langs,
        "channels": ["phone", "email", "interpol-i247"],
        "preservation_template": True,
        "subscriber_template": seed % 5 != 0,
        "encryption_required": seed % 2 == 0,
        "preservation_days": (90, 60, 120, 180)[seed % 4],
        "expedited_disclosure": seed % 7 != 0,
        "emergency_disclosure": ratified_224,
    }
    entry["request_intake"] = intake
    entry["related_authorities"] = {
        "mla_central_authority": {
            "name": f"Ministry of Justice of {name}, International Co-operation (demonstration)",
            "emails": [f"mla@justice.{domain}"],
        },
    }
    entry["notes"] = "Demonstration data: every contact detail in this entry is fictional."
    return entry


def generate(root: Path, serials: dict[str, int] | None = None, force: bool = False) -> list[Path]:
    """Write the demo entry of every State that has none yet (all of them with ``force``):
    entries edited since, like those changed for the demo releases, are kept."""
    states = read_csv(root / "data" / "ets185_states.csv")
    protocols = {row["iso2"]: row for row in read_csv(root / "data" / "cets224_status.csv")}
    out = root / "directory"
    out.mkdir(exist_ok=True)
    written = []
    for state in states:
        serial = (serials or {}).get(state["iso2"], 1)
        entry = build_entry(state, protocols.get(state["iso2"]), serial)
        path = out / f"{state['iso2'].lower()}.yaml"
        if path.exists() and not force:
            continue
        header = (f"# {state['name']}: demonstration entry of the 24/7 Directory. Fictional contact data.\n"
                  f"# Edit, raise serial, then run: directory247 validate directory/{path.name} && "
                  f"directory247 sign directory/{path.name}\n")
        path.write_text(header + dump(entry), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory247.demo.entries",
                                     description="Regenerate the demonstration directory from data/.")
    parser.add_argument("--root", type=Path, default=None, help="repository root (default: this checkout)")
    parser.add_argument("--force", action="store_true", help="rewrite every entry, even edited ones")
    args = parser.parse_args(argv)
    written = generate(args.root or project_root(), force=args.force)
    print(f"wrote {len(written)} demonstration entries")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
