"""Smoke test of ``make bench``: the generator and every stage at N = 20. No timing claims:
performance lives in ``make bench`` and docs/bench.md only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench import generate, run


def test_network_sizes_keep_each_directory_within_the_iso_codes() -> None:
    assert generate.PER_NETWORK == 249
    assert generate.network_sizes(20) == [20]
    assert generate.network_sizes(249) == [249]
    assert generate.network_sizes(250) == [125, 125]
    assert generate.network_sizes(1000) == [200] * 5
    sizes = generate.network_sizes(10_000)
    assert len(sizes) == 41 and sum(sizes) == 10_000 and max(sizes) - min(sizes) <= 1


def test_entries_are_a_function_of_the_seed() -> None:
    codes = generate.network_codes(7, 0, 30)
    assert codes == generate.network_codes(7, 0, 30) != generate.network_codes(8, 0, 30)
    assert len(set(codes)) == 30
    first = generate.synthetic_entry(7, 0, codes[0])
    assert first == generate.synthetic_entry(7, 0, codes[0])
    assert first != generate.synthetic_entry(7, 1, codes[0])  # another network, another unit


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> generate.Fixture:
    return generate.generate(20, 3, tmp_path_factory.mktemp("bench-cache"))


def test_generated_fixture_is_cached_and_complete(fixture: generate.Fixture) -> None:
    assert generate.load(20, 3, fixture.root.parent) == fixture
    assert generate.load(21, 3, fixture.root.parent) is None
    files = fixture.entry_files()
    assert len(files) == 20
    assert all(file.with_name(file.name + ".asc").is_file() for file in files)
    assert fixture.gpgv_loop.read_text().count("\ngpgv ") == 20


def test_bench_runs_every_stage_and_writes_the_table(fixture: generate.Fixture, tmp_path: Path) -> None:
    report = run.bench(20, 3, 1, cache=fixture.root.parent, out=tmp_path, log=lambda message: None)
    assert (tmp_path / "results.md").read_text() == report
    assert "N = 20 entries (1 network(s) of 20), seed 3, median of 1 run(s)" in report
    for row in run.ROWS:
        assert f"| {row.stage} |" in report
    table = [line for line in report.splitlines() if line.startswith("| ")]
    assert len(table) == len(run.ROWS) + 1
    assert not (tmp_path / "work").exists()
