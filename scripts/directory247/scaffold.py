"""A new entry for a State, shaped by the schema and commented from its descriptions.

The scaffold has every field of the schema, each preceded by its description, and values
that show the expected form. Contact details are placeholders under ``.invalid`` so that
``validate`` refuses the entry until the Party has filled in real ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
import pycountry

from .entry_yaml import dump
from .errors import UsageError
from .loader import _SchemaWalker
from .problems import FieldPath


def template(code: str, today: dt.date) -> dict[str, Any]:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise UsageError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    example = phonenumbers.example_number_for_type(code, phonenumbers.PhoneNumberType.FIXED_LINE)
    phone = (phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
             if example is not None else "+10000000000")
    placeholder = f"{code.lower()}.invalid"
    return {
        "schema_version": "1",
        "code": code,
        "name": country.name,
        "serial": 1,
        "confirmed": today.isoformat(),
        "status": "party",
        "treaty": {
            "signature": "2001-11-23",
            "ratification": "2001-11-23",
            "entry_into_force": "2001-11-23",
            "source": "https://www.coe.int/en/web/conventions/full-list?module=signatures-by-treaty&treatynum=185",
            "as_of": today.isoformat(),
        },
        "contact_points": [{
            "role": "primary",
            "authority": "Name of the authority",
            "unit": "Name of the 24/7 unit",
            "authority_type": "police",
            "available_24_7": True,
            "phones": [{"number": phone, "kind": "24/7"}],
            "emails": [f"replace-me@{placeholder}"],
            "languages": ["en"],
            "time_zone": "Etc/UTC",
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
            "mla_central_authority": {"name": "Name of the central authority for mutual assistance",
                                      "emails": [f"replace-me@{placeholder}"]},
        },
    }


def descriptions(entry: dict[str, Any], schema: dict[str, Any]) -> dict[FieldPath, str]:
    """The schema description of every field present in ``entry``."""
    walker = _SchemaWalker(schema)
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
              "# Replace every placeholder (names, phones, replace-me@...invalid addresses), then run\n"
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
    walker = _SchemaWalker(schema)
    out: list[tuple[str, str]] = []
    work: list[tuple[str, dict[str, Any], int]] = [("", schema, 0)]
    while work:
        prefix, node, depth = work.pop(0)
        node = walker.resolve(node)
        if depth > 6:
            continue
        for key, prop in node.get("properties", {}).items():
            name = f"{prefix}.{key}" if prefix else key
            out.append((name, walker.resolve(prop).get("description") or prop.get("description", "")))
            target = walker.resolve(prop)
            if isinstance(target.get("items"), dict):
                target = walker.resolve(target["items"])
            if "properties" in target:
                work.append((name, target, depth + 1))
    return out
