"""The entry schema: loading it once and turning its verdicts into located problems.

Owns the mapping from jsonschema's errors to ``Problem`` values with the line and column
of the offending YAML node. Does not know any rule that the schema cannot express; those
live in ``rules``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..paths import schema_dir
from ..problems import FieldPath, Problem, Severity, field_name
from .loader import Document

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


#: The definition of free text: the only fields that may hold several lines.
TEXT_DEFINITION = "#/$defs/text"
#: Stands for any list index in a field pattern.
ANY_ITEM = "*"


@lru_cache(maxsize=4)
def text_fields(name: str = ENTRY_SCHEMA) -> frozenset[tuple[str, ...]]:
    """Field patterns (list indexes as ``ANY_ITEM``) of every field whose schema is the free-text
    definition. Any other text field is one line: a field the schema gains later is one line
    unless it is declared free text."""
    schema = load_schema(name)
    found: set[tuple[str, ...]] = set()
    work: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while work:
        node, pattern = work.pop()
        if not isinstance(node, dict) or len(pattern) > 16:
            continue
        if node.get("$ref") == TEXT_DEFINITION:
            found.add(pattern)
            continue
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target: Any = schema
            for part in node["$ref"][2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            work.append((target, pattern))
        for key, child in (node.get("properties") or {}).items():
            work.append((child, (*pattern, key)))
        if isinstance(node.get("items"), dict):
            work.append((node["items"], (*pattern, ANY_ITEM)))
    return frozenset(found)


def field_pattern(path: FieldPath) -> tuple[str, ...]:
    """``path`` with its list indexes as ``ANY_ITEM``, to compare with ``text_fields``."""
    return tuple(ANY_ITEM if isinstance(part, int) else part for part in path)


def check_schema(doc: Document, value: dict[str, Any]) -> list[Problem]:
    """Every schema violation of ``value`` (the coerced tree of ``doc``), located.

    An entry the compiled check (``fast_check``) finds valid has no violation; any other
    entry goes through jsonschema, which finds and explains every one."""
    fast = fast_check()
    if fast is not None and fast(value):
        return []
    problems: list[Problem] = []
    for error in _validator().iter_errors(value):
        problems.extend(_to_problems(doc, error))
    return problems


# --------------------------------------------------------------------------- compiled check

Check = Callable[[Any], bool]

# Keywords that only describe: they never make an instance invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})
_TYPES: dict[str, tuple[type, ...]] = {
    # Exact types, no subclasses: bool is not an integer here, as in JSON Schema.
    "string": (str,), "integer": (int,), "boolean": (bool,), "object": (dict,), "array": (list,),
    "number": (int, float), "null": (type(None),),
}
_SCALARS = (str, int, bool, float, type(None))
# Bounds and what they apply to: other types pass, as in JSON Schema (the type keyword catches them).
_BOUNDS: dict[str, tuple[type, ...]] = {
    "minLength": (str,), "maxLength": (str,), "minItems": (list,), "maxItems": (list,),
    "minimum": (int, float), "maximum": (int, float),
}


class _Unsupported(Exception):
    """The schema uses something the compiled check does not implement."""


@lru_cache(maxsize=4)
def fast_check(name: str = ENTRY_SCHEMA) -> Check | None:
    """A compiled yes/no check of the schema ``name``, or None when it uses a keyword the
    compiler does not know.

    Sound, not complete: when it says yes, jsonschema finds no violation (each keyword is
    implemented at least as strictly as Draft 2020-12 defines it; types are exact, so a
    float is never an integer); when it says no, jsonschema decides. It exists for speed:
    jsonschema walks an entry in ~2 ms, this in a few hundredths of that.
    """
    try:
        return _Compiler(load_schema(name)).compile(load_schema(name))
    except _Unsupported:
        return None


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: Any) -> Check:
        if not isinstance(pointer, str) or not pointer.startswith("#/"):
            raise _Unsupported(f"$ref {pointer!r}")
        if pointer not in self.refs:
            compiled: list[Check] = []
            self.refs[pointer] = lambda value: compiled[0](value)  # for a schema that refers to itself
            target: Any = self.root
            for part in pointer[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise _Unsupported(f"$ref {pointer!r}")
                target = target[part]
            compiled.append(self.compile(target))
            self.refs[pointer] = compiled[0]
        return self.refs[pointer]

    def compile(self, node: Any) -> Check:
        if node is True:
            return lambda value: True
        if node is False:
            return lambda value: False
        if not isinstance(node, dict):
            raise _Unsupported(repr(node))
        checks: list[Check] = []
        for keyword, argument in node.items():
            if keyword in _ANNOTATIONS:
                continue
            checks.append(self.keyword(keyword, argument, node))
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def keyword(self, keyword: str, argument: Any, node: dict[str, Any]) -> Check:  # one branch per keyword
        if keyword == "$ref":
            return self.ref(argument)
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else argument
            if not isinstance(names, list) or any(n not in _TYPES for n in names):
                raise _Unsupported(f"type {argument!r}")
            allowed = tuple(t for n in names for t in _TYPES[n])
            return lambda value: type(value) in allowed
        if keyword in ("enum", "const"):
            choices = argument if keyword == "enum" else [argument]
            if not isinstance(choices, list) or any(type(c) not in _SCALARS for c in choices):
                raise _Unsupported(keyword)
            pairs = frozenset((type(c), c) for c in choices)
            return lambda value: type(value) in _SCALARS and (type(value), value) in pairs
        if keyword == "pattern":
            pattern = re.compile(argument)
            return lambda value: type(value) is not str or pattern.search(value) is not None
        if keyword in _BOUNDS:
            if type(argument) is not int:
                raise _Unsupported(keyword)
            bound, kinds, lower = argument, _BOUNDS[keyword], keyword.startswith("min")
            measure: Callable[[Any], Any] = len if kinds != (int, float) else (lambda number: number)
            if lower:
                return lambda value: type(value) not in kinds or measure(value) >= bound
            return lambda value: type(value) not in kinds or measure(value) <= bound
        if keyword == "uniqueItems":
            if argument is False:
                return lambda value: True
            # Only lists of strings are judged here; anything else is left to jsonschema.
            return lambda value: type(value) is not list or (
                all(type(item) is str for item in value) and len(set(value)) == len(value))
        if keyword == "required":
            if not isinstance(argument, list) or not all(isinstance(k, str) for k in argument):
                raise _Unsupported(keyword)
            required = tuple(argument)
            return lambda value: type(value) is not dict or all(k in value for k in required)
        if keyword == "properties":
            if not isinstance(argument, dict):
                raise _Unsupported(keyword)
            properties = {key: self.compile(sub) for key, sub in argument.items()}
            return lambda value: type(value) is not dict or all(
                check(value[key]) for key, check in properties.items() if key in value)
        if keyword == "additionalProperties":
            if "patternProperties" in node:
                raise _Unsupported(keyword)
            known = frozenset(node.get("properties", {}))
            extra = self.compile(argument)
            return lambda value: type(value) is not dict or all(extra(v) for k, v in value.items() if k not in known)
        if keyword == "items":
            if "prefixItems" in node or not isinstance(argument, dict | bool):
                raise _Unsupported(keyword)
            item = self.compile(argument)
            return lambda value: type(value) is not list or all(item(element) for element in value)
        if keyword == "propertyNames":
            names = self.compile(argument)
            return lambda value: type(value) is not dict or all(names(key) for key in value)
        raise _Unsupported(keyword)


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
