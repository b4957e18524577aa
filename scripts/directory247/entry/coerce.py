"""From strings to the types the schema asks for: the loader reads every scalar as a string,
and only this module turns one into a boolean or an integer, only where the schema says so.

``SchemaWalker`` follows the schema's local ``$ref`` links (also used by the scaffold).
"""

from __future__ import annotations

import re
from typing import Any

from ..problems import FieldPath
from .loader import Document


def coerce(doc: Document, schema: dict[str, Any]) -> dict[str, Any]:
    """Turn plain scalars into booleans or integers where the schema asks for them.

    Only the spellings ``true``/``false`` and unsigned decimal integers without leading
    zeros are converted; anything else stays a string so the schema reports it. Quoted
    scalars are never converted.
    """
    resolver = SchemaWalker(schema)
    # Iterative walk: (container, key, schema node, path)
    root = doc.value
    work: list[tuple[Any, dict[str, Any], FieldPath]] = [(root, schema, ())]
    while work:
        node, sch, path = work.pop()
        sch = resolver.resolve(sch)
        if isinstance(node, dict):
            props = sch.get("properties", {})
            for key, child in node.items():
                if key in props:
                    child_schema = resolver.resolve(props[key])
                    converted = _convert(child, child_schema, (*path, key), doc)
                    node[key] = converted
                    if isinstance(converted, (dict, list)):
                        work.append((converted, child_schema, (*path, key)))
        elif isinstance(node, list):
            items = sch.get("items")
            if isinstance(items, dict):
                item_schema = resolver.resolve(items)
                for index, child in enumerate(node):
                    converted = _convert(child, item_schema, (*path, index), doc)
                    node[index] = converted
                    if isinstance(converted, (dict, list)):
                        work.append((converted, item_schema, (*path, index)))
    return root


_INTEGER = re.compile(r"(0|[1-9][0-9]{0,17})")


def _convert(value: Any, schema: dict[str, Any], path: FieldPath, doc: Document) -> Any:
    if not isinstance(value, str) or path in doc.quoted:
        return value
    kind = schema.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    return value


class SchemaWalker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node and seen < 10:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            target: Any = self.schema
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
            seen += 1
        return node
