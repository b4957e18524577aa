"""Progress lines: on a terminal for stages longer than a second, nothing at all otherwise."""

from __future__ import annotations

import datetime as dt
import io
import os
import select
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, TODAY
from directory247 import progress as progress_module
from directory247.cli import main
from directory247.entry.validation import validate_files
from directory247.gate.check import run_check
from directory247.progress import TerminalProgress, terminal_progress

VALID = sorted((ROOT / "tests" / "cases" / "valid").glob("*/*.yaml"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_quiet_during_the_first_second_then_one_line_rewritten() -> None:
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress(out, clock=clock)
    progress("verifying signatures", 1, 10)
    clock.now = 0.5
    progress("verifying signatures", 2, 10)
    assert out.getvalue() == ""
    clock.now = 1.2
    progress("verifying signatures", 3, 10)
    clock.now = 1.25  # within the redraw interval: skipped
    progress("verifying signatures", 4, 10)
    clock.now = 1.4
    progress("verifying signatures", 5, 10)
    clock.now = 2.0
    progress("verifying signatures", 10, 10)
    assert out.getvalue() == ("\r\x1b[Kverifying signatures: 3/10 (30%)"
                              "\r\x1b[Kverifying signatures: 5/10 (50%)"
                              "\r\x1b[Kverifying signatures: 10/10 (100%) in 2.0 s\n")


def test_a_short_stage_prints_nothing_and_each_stage_has_its_own_second() -> None:
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress(out, clock=clock)
    progress("validating entries", 5, 5)
    clock.now = 3.0
    progress("verifying signatures", 1, 2)  # a new stage starts its own delay
    assert out.getvalue() == ""
    clock.now = 4.5
    progress("verifying signatures", 1, 2)
    progress.close()  # stopped early: the line is cleared, not left half-drawn
    assert out.getvalue() == "\r\x1b[Kverifying signatures: 1/2 (50%)\r\x1b[K"


def test_not_a_terminal_means_no_progress() -> None:
    with terminal_progress(io.StringIO()) as progress:
        assert progress is None


@pytest.fixture
def pty() -> Iterator[tuple[int, io.TextIOWrapper]]:
    """A pseudo-terminal: the master side to read back, the slave side as a text stream."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        yield master, stream
    finally:
        stream.close()
        os.close(master)


def _on_terminal(monkeypatch: pytest.MonkeyPatch, stream: io.TextIOWrapper) -> None:
    # In the test body: pytest puts its own capture back between setup and call.
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setattr("sys.stdout", io.StringIO())  # the report, not looked at here
    monkeypatch.setattr(progress_module, "DELAY", 0.0)  # these runs take about a second


def _read(master: int) -> str:
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_validate_shows_progress_on_a_terminal(pty: tuple[int, io.TextIOWrapper],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    master, stream = pty
    _on_terminal(monkeypatch, stream)
    assert stream.isatty()
    assert main(["validate", "--as-of", TODAY.isoformat(), *map(str, VALID)]) == 0
    stream.flush()
    shown = _read(master)
    assert f"validating entries: {len(VALID)}/{len(VALID)} (100%) in " in shown
    assert "problems" not in shown  # the report itself goes to standard output


def test_validate_prints_nothing_extra_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--as-of", TODAY.isoformat(), *map(str, VALID)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith(f"{len(VALID)} entries checked")


def test_check_shows_both_stages_on_a_terminal(pty: tuple[int, io.TextIOWrapper],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    master, stream = pty
    _on_terminal(monkeypatch, stream)
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("DIRECTORY247_ROOT", raising=False)
    main(["check", "--no-cache"])
    stream.flush()
    shown = _read(master)
    entries = len(list((ROOT / "directory").glob("*.yaml")))
    assert f"validating entries: {entries}/{entries} (100%)" in shown
    assert f"verifying signatures: {entries}/{entries} (100%)" in shown


def test_the_core_reports_every_step_to_its_callback(tmp_path: Path) -> None:
    heard: list[tuple[str, int, int]] = []
    results = validate_files(VALID, today=TODAY, progress=lambda *step: heard.append(step))
    assert len(results) == len(VALID)
    assert heard == [("validating entries", done, len(VALID)) for done in range(1, len(VALID) + 1)]

    heard.clear()
    outcome = run_check(ROOT, base=None, now=dt.datetime.now(dt.UTC), progress=lambda *step: heard.append(step))
    stages = {stage for stage, _, _ in heard}
    assert stages == {"validating entries", "verifying signatures"}
    for stage in stages:
        steps = [done for name, done, _ in heard if name == stage]
        assert steps == list(range(1, outcome.files + 1))
