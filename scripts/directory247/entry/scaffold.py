"""A new entry for a State, shaped by the schema and commented from its descriptions.

The scaffold has every field of the schema, each preceded by its description. Every value
only the Party knows is a placeholder starting with ``REPLACE`` (or an address under
``.invalid``), which ``validate`` refuses, so nothing invented can pass as a fact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
import pycountry

from ..errors import UsageError
from ..problems import FieldPath
from .coerce import SchemaWalker
from .reference import zone_table, zones_of
from .rules import PLACEHOLDER
from .yaml_writer import dump


def template(code: str, today: dt.date) -> dict[str, Any]:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise UsageError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    country_code = phonenumbers.country_code_for_region(code)
    phone = f"REPLACE with +{country_code} and the number" if country_code else "REPLACE with +<country code><number>"
    placeholder = f"{code.lower()}.invalid"
    # The zones the tz database lists for the State: validation accepts no other without
    # time_zone_abroad, so the scaffold names them.
    zone = (f"IANA time zone of {zones_of(code)}" if zone_table().zones.get(code)
            else "IANA time zone, e.g. Europe/Oslo")
    replace = PLACEHOLDER
    return {
        "schema_version": "1",
        "code": code,
        "name": country.name,
        "serial": 1,
        "confirmed": today.isoformat(),
        "status": f"{replace}: party, signatory or invited",
        "treaty": {
            "signature": f"{replace}: YYYY-MM-DD, or remove the line",
            "ratification": f"{replace}: YYYY-MM-DD, or remove the line",
            "entry_into_force": f"{replace}: YYYY-MM-DD, or remove the line",
            "source": f"{replace}: where these treaty facts come from (URL of the Treaty Office chart)",
            "as_of": today.isoformat(),
        },
        "contact_points": [{
            "role": "primary",
            "authority": f"{replace}: name of the authority",
            "unit": f"{replace}: name of the 24/7 unit",
            "authority_type": "police",
            "available_24_7": True,
            "phones": [{"number": phone, "kind": "24/7"}],
            "emails": [f"replace-me@{placeholder}"],
            "languages": ["en"],
            "time_zone": f"{replace}: {zone}",
        }],
        "request_intake": {
            "languages": ["en"],
            "channels": ["phone", "email"],
            "preservation_template": True,
            "subscriber_template": True,
            "encryption_required": False,
            "preservation_days": 90,
            "expedited_disclosure": True,
            "emergency_disclosure": False,
        },
        "related_authorities": {
            "mla_central_authority": {"name": f"{replace}: name of the central authority for mutual assistance",
                                      "emails": [f"replace-me@{placeholder}"]},
        },
    }


def descriptions(entry: dict[str, Any], schema: dict[str, Any]) -> dict[FieldPath, str]:
    """The schema description of every field present in ``entry``."""
    walker = SchemaWalker(schema)
    out: dict[FieldPath, str] = {}
    work: list[tuple[Any, dict[str, Any], FieldPath]] = [(entry, schema, ())]
    while work:
        node, sch, path = work.pop()
        sch = walker.resolve(sch)
        if isinstance(node, dict):
            for key, child in node.items():
                prop = sch.get("properties", {}).get(key)
                if prop is None:
                    continue
                if "description" in prop:
                    out[(*path, key)] = prop["description"]
                work.append((child, prop, (*path, key)))
        elif isinstance(node, list) and isinstance(sch.get("items"), dict):
            for index, child in enumerate(node):
                work.append((child, sch["items"], (*path, index)))
    return out


def render(code: str, today: dt.date, schema: dict[str, Any]) -> str:
    entry = template(code, today)
    header = (f"# {entry['name']}: entry of the 24/7 Directory, scaffolded by 'directory247 new'.\n"
              "# Replace every REPLACE placeholder and replace-me@...invalid address, then run\n"
              f"#   directory247 validate directory/{code.lower()}.yaml\n"
              f"#   directory247 sign directory/{code.lower()}.yaml\n")
    present = {".".join(str(k) for k in path if isinstance(k, str))
               for path in descriptions(entry, schema)}
    optional = [(name, text) for name, text in all_fields(schema) if name not in present]
    trailer = ["", "# Optional fields (add them where they apply):"]
    for name, text in optional:
        trailer.append(f"#   {name}: {text}")
    return header + dump(entry, descriptions(entry, schema)) + "\n".join(trailer) + "\n"


def all_fields(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every field the schema defines, as dotted names (list items share their list's name)."""
    walker = SchemaWalker(schema)
    out: list[tuple[str, str]] = []
    work: list[tuple[str, dict[str, Any], int]] = [("", schema, 0)]
    while work:
        prefix, node, depth = work.pop(0)
        node = walker.resolve(node)
        if depth > 6:
            continue
        for key, prop in node.get("properties", {}).items():
            name = f"{prefix}.{key}" if prefix else key
            # The field's own description first: a shared definition's says less (notes is "Free text").
            out.append((name, prop.get("description") or walker.resolve(prop).get("description", "")))
            target = walker.resolve(prop)
            if isinstance(target.get("items"), dict):
                target = walker.resolve(target["items"])
            if "properties" in target:
                work.append((name, target, depth + 1))
    return out
