"""The model keeps every field: YAML -> Entry -> dict gives back the validated tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, TODAY
from directory247.entry.model import Entry
from directory247.entry.validation import validate_files

#: Every demo entry and every valid case: whatever the schema lets an entry say, the model keeps.
FILES = sorted((ROOT / "directory").glob("*.yaml")) + sorted((ROOT / "tests" / "cases" / "valid").glob("*/*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem if p.parent.name == "directory" else p.parent.name for p in FILES])
def test_round_trip_is_lossless(path: Path) -> None:
    (result,) = validate_files([path], today=TODAY)
    assert result.ok and result.entry is not None
    entry = Entry.from_dict(result.entry)
    assert entry.to_dict() == result.entry
    assert entry.primary.available_24_7


def test_invariant_one_primary() -> None:
    (result,) = validate_files([ROOT / "directory" / "no.yaml"], today=TODAY)
    assert result.entry is not None
    tree = dict(result.entry)
    tree["contact_points"] = [dict(cp, role="secondary") for cp in tree["contact_points"]]
    with pytest.raises(ValueError, match="exactly one primary"):
        Entry.from_dict(tree)
