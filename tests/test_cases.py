"""Table-driven entry cases: every folder under cases/valid must validate with no problem,
every folder under cases/invalid must give exactly the lines in its expected.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TODAY
from directory247 import report
from directory247.entry.validation import validate_files

CASES = Path(__file__).parent / "cases"
VALID = sorted(p for p in (CASES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())


def _run(folder: Path) -> list[str]:
    files = sorted(p for p in folder.iterdir() if p.name != "expected.txt")
    results = validate_files(files, today=TODAY, shown=[p.name for p in files])
    problems = sorted(p for r in results for p in r.problems)
    return report.text(problems, len(files)).splitlines()[:-1]


@pytest.mark.parametrize("folder", VALID, ids=[p.name for p in VALID])
def test_valid_case(folder: Path) -> None:
    assert _run(folder) == []


@pytest.mark.parametrize("folder", INVALID, ids=[p.name for p in INVALID])
def test_invalid_case(folder: Path) -> None:
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert expected, "an invalid case must say what it expects"
    assert _run(folder) == expected


def test_every_hazard_has_a_case() -> None:
    names = {p.name for p in INVALID}
    hazards = {"bom", "not-utf8", "nul-byte", "control-character", "too-large", "two-documents",
               "top-level-list", "duplicate-key", "anchor", "alias", "merge-key", "python-tag",
               "deep-nesting", "very-deep-nesting", "billion-laughs", "bidi-in-value",
               "zero-width-in-phone", "bidi-in-comment", "boolean-yes", "phone-0041-prefix"}
    assert hazards <= names
