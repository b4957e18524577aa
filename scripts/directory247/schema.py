"""The entry schema: loading it once and turning its verdicts into located problems.

Owns the mapping from jsonschema's errors to ``Problem`` values with the line and column
of the offending YAML node. Does not know any rule that the schema cannot express; those
live in ``rules``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .loader import Document
from .paths import schema_dir
from .problems import FieldPath, Problem, Severity, field_name

ENTRY_SCHEMA = "entry.schema.json"


@lru_cache(maxsize=4)
def load_schema(name: str = ENTRY_SCHEMA, directory: str | None = None) -> dict[str, Any]:
    path = Path(directory) if directory else schema_dir()
    schema: dict[str, Any] = json.loads((path / name).read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=4)
def _validator(name: str = ENTRY_SCHEMA) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_schema(doc: Document, value: dict[str, Any]) -> list[Problem]:
    """Every schema violation of ``value`` (the coerced tree of ``doc``), located."""
    problems: list[Problem] = []
    for error in _validator().iter_errors(value):
        problems.extend(_to_problems(doc, error))
    return problems


def _to_problems(doc: Document, error: ValidationError) -> list[Problem]:
    path: FieldPath = tuple(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        out = []
        for key in sorted(k for k in error.instance if k not in allowed):
            line, col = doc.key_position((*path, key))
            hint = ", ".join(sorted(allowed))
            out.append(_problem(doc, line, col, (*path, key),
                                f"unknown field '{key}'; allowed here: {hint}"))
        return out
    line, col = doc.position(path)
    return [_problem(doc, line, col, path, _message(error))]


def _problem(doc: Document, line: int, col: int, path: FieldPath, message: str) -> Problem:
    return Problem(doc.source, line, col, Severity.ERROR, field_name(path), message)


def _message(error: ValidationError) -> str:
    validator = error.validator
    value: Any = error.validator_value
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field '{missing}'"
    if validator == "type":
        return f"expected {_article(str(value))}, got {_describe(instance)}"
    if validator == "enum":
        choices = ", ".join(str(v) if not isinstance(v, bool) else str(v).lower() for v in value)
        return f"{_describe(instance)} is not one of: {choices}"
    if validator == "const":
        return f"must be {json.dumps(value)}, got {_describe(instance)}"
    if validator == "pattern":
        description = schema.get("description") or ""
        hint = f" ({description})" if description else ""
        return f"{_describe(instance)} is not in the expected form{hint}"
    if validator == "minLength" and value == 1:
        return "must not be empty"
    if validator == "minItems":
        return f"needs at least {value} item{'s' if value != 1 else ''}"
    if validator == "maxItems":
        return f"may have at most {value} items"
    if validator == "maxLength":
        return f"is longer than {value} characters"
    if validator == "uniqueItems":
        return "has duplicate items"
    if validator in ("minimum", "maximum"):
        return f"{instance} is {'below the minimum' if validator == 'minimum' else 'above the maximum'} {value}"
    return error.message


def _article(kind: str) -> str:
    names = {"boolean": "true or false", "integer": "a whole number", "string": "a text",
             "object": "a mapping of fields", "array": "a list"}
    return names.get(kind, kind)


def _describe(instance: Any) -> str:
    if isinstance(instance, bool):
        return "true" if instance else "false"
    if isinstance(instance, str):
        shown = instance if len(instance) <= 60 else instance[:57] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    return str(instance)
