"""The compiled schema check agrees with jsonschema: on every entry we have, and on thousands of
damaged copies of them (each field retyped, emptied, lengthened, removed, or joined by an
unknown one). It may only ever say "valid" where jsonschema finds nothing."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from directory247.entry import schema
from directory247.entry.coerce import coerce
from directory247.entry.loader import load_entry
from directory247.entry.schema import _Compiler, _Unsupported, _validator, fast_check, load_schema

ENTRIES = sorted((ROOT / "directory").glob("*.yaml")) + sorted((ROOT / "tests" / "cases").glob("*/*/*.yaml"))


def _tree(path: Path) -> dict[str, Any] | None:
    loaded = load_entry(path.read_bytes(), str(path))
    return coerce(loaded.document, load_schema()) if loaded.document is not None else None


def _valid_by_jsonschema(value: Any) -> bool:
    return next(iter(_validator().iter_errors(value)), None) is None


def _paths(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(tree, dict):
        for key, child in tree.items():
            yield from _paths(child, (*path, key))
    elif isinstance(tree, list):
        for index, child in enumerate(tree):
            yield from _paths(child, (*path, index))


def _replacements(value: Any) -> list[Any]:
    found: list[Any] = ["", "x" * 301, "x" * 2001, "NOT-IN-ENUM", 0, -1, 1.0, 1.5, True, False, None, [], {}, ["x"]]
    if isinstance(value, str):
        found += [value + " ", value.upper(), value[:-1]]
    if isinstance(value, int) and not isinstance(value, bool):
        found += [value + 4000, str(value)]
    if isinstance(value, list) and value:
        found += [value + value[:1], value[:1] * 11, value * 31, [*value, 7]]
    if isinstance(value, dict):
        found += [{**value, "unknown_field": "x"}, dict(list(value.items())[1:])]
    return found


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(tree)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _delete(tree: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(tree)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def test_every_entry_we_have_gets_the_same_verdict() -> None:
    check = fast_check()
    assert check is not None
    trees = [tree for path in ENTRIES if (tree := _tree(path)) is not None]
    assert len(trees) > 100
    for tree in trees:
        assert check(tree) == _valid_by_jsonschema(tree)


@pytest.mark.parametrize("name", ["no.yaml", "lk.yaml", "de.yaml"])
def test_damaged_copies_get_the_same_verdict(name: str) -> None:
    check = fast_check()
    assert check is not None
    tree = _tree(ROOT / "directory" / name)
    assert tree is not None and check(tree)
    tried = 0
    for path in _paths(tree):
        variants = [(_set(tree, path, value), isinstance(value, float))
                    for value in _replacements(_value(tree, path))]
        if path:
            variants.append((_delete(tree, path), False))
        for variant, has_float in variants:
            tried += 1
            fast, slow = check(variant), _valid_by_jsonschema(variant)
            assert not (fast and not slow), f"said valid, jsonschema disagrees: {path}"
            # The loader never makes a float; for 1.0 the compiled check is stricter (no integer).
            assert fast == slow or has_float, path
    assert tried > 1000


def _value(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


@pytest.mark.parametrize("keyword", [{"format": "date"}, {"oneOf": [{"type": "string"}]}, {"$ref": "other.json"},
                                     {"exclusiveMinimum": 1}, {"enum": [{"a": 1}]}])
def test_a_keyword_it_does_not_know_means_no_compiled_check(keyword: dict[str, Any]) -> None:
    with pytest.raises(_Unsupported):
        _Compiler({}).compile({"type": "object", "properties": {"field": keyword}})


def test_without_a_compiled_check_jsonschema_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    from directory247.entry.validation import validate_entry

    data = (ROOT / "directory" / "no.yaml").read_bytes().replace(b"serial: ", b"serial: x")
    with_fast = validate_entry(data, "directory/no.yaml", today=dt.date(2026, 11, 28)).problems
    monkeypatch.setattr(schema, "fast_check", lambda name=schema.ENTRY_SCHEMA: None)
    without = validate_entry(data, "directory/no.yaml", today=dt.date(2026, 11, 28)).problems
    assert with_fast == without
    assert any(p.field == "serial" for p in without)


def test_damaged_authorisations_get_the_same_verdict() -> None:
    """The root-signed authorisations go through the same compiled check (with propertyNames)."""
    name = "authorisations.schema.json"
    check = fast_check(name)
    assert check is not None
    loaded = load_entry((ROOT / "keys" / "authorisations.yaml").read_bytes(), "authorisations.yaml")
    assert loaded.document is not None
    tree = coerce(loaded.document, load_schema(name))
    assert check(tree)
    tried = 0
    for path in _paths(tree):
        variants = [(_set(tree, path, value), isinstance(value, float)) for value in _replacements(_value(tree, path))]
        if path:
            variants.append((_delete(tree, path), False))
        for variant, has_float in variants:
            tried += 1
            fast, slow = check(variant), next(iter(_validator(name).iter_errors(variant)), None) is None
            assert not (fast and not slow), f"said valid, jsonschema disagrees: {path}"
            assert fast == slow or has_float, path
    assert tried > 300
