"""The CLI in-process through ``main([...])``: exit codes and output formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from directory247.cli import main

CASES = Path(__file__).parent / "cases"
GOOD = CASES / "valid" / "demo-norway" / "no.yaml"
BAD = CASES / "invalid" / "duplicate-key" / "no.yaml"
STALE = CASES / "invalid" / "stale-confirmation" / "no.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_demo_directory_passes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28")
    assert code == 0, out
    assert out.strip().endswith("entries checked: no problems")
    # Today as well: overdue confirmations are warnings, never a failure of the demo.
    code, out, _ = run(capsys, "validate")
    assert code == 0, out
    assert len(list((ROOT / "directory").glob("*.yaml"))) == 92


def test_validate_clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", str(GOOD))
    assert code == 0
    assert "no problems" in out


def test_validate_reports_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    other = CASES / "invalid" / "bom" / "no.yaml"
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", str(BAD), str(other), str(GOOD))
    assert code == 1
    assert f"{BAD}:11:1: error: status: duplicate key 'status'" in out
    assert f"{other}:1:1: error: (entry): file starts with a byte order mark" in out
    assert "2 errors, 0 warnings in 3 files" in out


def test_json_format_carries_the_same_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", "--format", "json", str(BAD))
    assert code == 1
    payload = json.loads(out)
    assert payload["summary"] == {"files": 1, "errors": 1, "warnings": 0}
    assert payload["problems"][0] == {
        "path": str(BAD), "line": 11, "col": 1, "severity": "error", "field": "status",
        "message": "duplicate key 'status' (first defined at line 10)",
    }


def test_github_format_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", "--format", "github", str(BAD))
    assert code == 1
    assert out.splitlines()[0] == (
        f"::error file={BAD},line=11,col=1,title=status::duplicate key 'status' (first defined at line 10)")


def test_github_format_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    from directory247.problems import Problem, Severity
    from directory247.report import github

    text = github([Problem("a,b:c.yaml", 1, 2, Severity.WARNING, "x", "50%\nnext")], 1)
    assert text.splitlines()[0] == "::warning file=a%2Cb%3Ac.yaml,line=1,col=2,title=x::50%25%0Anext"


def test_warning_alone_exits_zero_and_strict_makes_it_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", str(STALE))
    assert code == 0
    assert "warning: confirmed:" in out
    code, out, _ = run(capsys, "validate", "--as-of", "2026-11-28", "--strict", str(STALE))
    assert code == 1
    assert "error: confirmed:" in out


@pytest.mark.parametrize("argv", [
    ["validate", "does-not-exist.yaml"],
    ["validate", "--format", "xml"],
    ["validate", "--as-of", "yesterday"],
    ["nonsense"],
    [],
    ["new"],
    ["new", "N0"],
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback" not in err


def test_validate_refuses_symlink(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    link = tmp_path / "no.yaml"
    link.symlink_to(GOOD)
    code, out, _ = run(capsys, "validate", str(link))
    assert code == 1
    assert "is a symbolic link" in out


def test_new_scaffolds_and_refuses_overwrite(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIRECTORY247_ROOT", str(tmp_path))
    code, out, _ = run(capsys, "new", "fr")
    assert code == 0
    path = tmp_path / "directory" / "fr.yaml"
    text = path.read_text(encoding="utf-8")
    assert "code: FR" in text
    assert "# Change counter of this entry." in text
    assert "#   native_name: Name of the State in its own language(s)" in text
    # Shape is right: only the placeholders stop it from validating, each named once.
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    lines = [line for line in out.splitlines() if ": error: " in line]
    assert len(lines) == 12
    assert all("left from 'directory247 new'" in line or "replace-me@fr.invalid" in line for line in lines)
    assert ": error: contact_points[0].time_zone: placeholder 'REPLACE: IANA time zone" in out
    before = path.read_bytes()
    code, _, err = run(capsys, "new", "FR")
    assert code == 2
    assert "already exists" in err
    assert path.read_bytes() == before


def test_new_unknown_country(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIRECTORY247_ROOT", str(tmp_path))
    code, _, err = run(capsys, "new", "XX")
    assert code == 2
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in err
    assert not (tmp_path / "directory" / "xx.yaml").exists()
