"""``make bench``: time each stage of the pipeline against a plain baseline, on the same files.

For N synthetic entries (``bench.generate``; default 1,000, ``N=10000 make bench`` for the
large run) each run times, every stage in a fresh subprocess of its own (so its peak memory,
``max(RUSAGE_SELF, RUSAGE_CHILDREN)``, is its own):

=====================  =============================================================
ours                   baseline, on the same files
=====================  =============================================================
validate               ``check-jsonschema --schemafile schema/entry.schema.json``
signatures, cold       a plain shell loop of one ``gpgv`` per entry, in sequence
signatures, warm       the cold run (the verification cache's share)
gate (``check``)       check-jsonschema + the gpgv loop
release                (none; listed for its time and memory)
site build             bare mkdocs-material building the same pages, State pages out of
                       the navigation (and, for N <= 1,000, in one flat navigation)
release + build        bare mkdocs-material + the gpgv loop
=====================  =============================================================

Our stages are timed inside their process, after imports (Python start-up and imports,
~0.3 s, are left out); baselines are timed as the tools run, start-up included, because
that is how they are used. Several runs (``--runs``, default 3); the table gives the median
of each time and the largest peak, and is printed and written to ``build/bench/results.md``.
Performance claims live here only; ``tests/test_bench.py`` just runs it small.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import generate

PROJECT = generate.PROJECT
BIN = Path(sys.executable).parent
OUT = PROJECT / "build" / "bench"
#: Above this many entries the flat-navigation baseline is skipped (it grows quadratically).
FLAT_LIMIT = 1000


# --------------------------------------------------------------------------- stages (child side)


@dataclass
class StageResult:
    seconds: float | None  # None: skipped
    peak_kib: int = 0
    note: str = ""
    cpu: float = 0.0  # CPU seconds (user + system) of the stage and its subprocesses


def _cpu(children_only: bool) -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = used.ru_utime + used.ru_stime
    if not children_only:
        own = resource.getrusage(resource.RUSAGE_SELF)
        total += own.ru_utime + own.ru_stime
    return total


def _start() -> tuple[float, float, float]:
    return time.perf_counter(), _cpu(True), _cpu(False)


def _done(start: tuple[float, float, float], *, children_only: bool) -> StageResult:
    cpu = _cpu(children_only) - (start[1] if children_only else start[2])
    return StageResult(time.perf_counter() - start[0], _peak_kib(children_only), cpu=cpu)


def _peak_kib(children_only: bool) -> int:
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return children if children_only else max(children, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """What the commands print is not what is measured."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def _run_tool(command: Sequence[str | Path], *, what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(part) for part in command], capture_output=True, check=False, env=env)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{output}")


def _site_available() -> bool:
    from directory247 import cli

    return "build" in cli.VERBS and importlib.util.find_spec("directory247.commands.build") is not None


def _forget_keys() -> None:
    """Networks share their State keys; each is measured as if it ran in its own process."""
    from directory247.trust import forget_keys

    forget_keys()


def stage_validate(fixture: generate.Fixture, work: Path) -> StageResult:
    from directory247 import cli
    from directory247.commands import validate  # noqa: F401 - imported before the clock starts

    files = [str(path) for path in fixture.entry_files()]
    start = _start()
    with _quiet():
        code = cli.main(["validate", *files])
    result = _done(start, children_only=False)
    if code != 0:
        raise RuntimeError(f"directory247 validate exited {code} on the generated entries")
    return result


def stage_check_jsonschema(fixture: generate.Fixture, work: Path) -> StageResult:
    files = fixture.entry_files()
    start = _start()
    _run_tool([BIN / "check-jsonschema", "--schemafile", PROJECT / "schema" / "entry.schema.json", *files],
              what="check-jsonschema")
    return _done(start, children_only=True)


def stage_gpgv_loop(fixture: generate.Fixture, work: Path) -> StageResult:
    start = _start()
    _run_tool(["sh", fixture.gpgv_loop], what="the gpgv loop")
    return _done(start, children_only=True)


def _verify(fixture: generate.Fixture, work: Path) -> StageResult:
    from directory247.gate.check import ENTRY_NAME, load_trusted
    from directory247.gate.verification import SignatureJob, verify_signatures
    from directory247.trust import StatusCache, Verified
    from directory247.trust.snapshots import WorkTree

    now = dt.datetime.now(dt.UTC)
    start = _start()
    for network in fixture.networks:
        _forget_keys()
        tree = WorkTree(network)
        cache = StatusCache(work / "verify-cache" / f"{network.name}.json")
        trust = load_trusted(tree, now=now, cache=cache)
        entries = tree.files("directory")
        jobs = [SignatureJob(path, path[len("directory/"):-len(".yaml")].upper(), data, entries[path + ".asc"])
                for path, data in entries.items() if ENTRY_NAME.fullmatch(path)]
        verdicts = verify_signatures(jobs, trust, now=now, cache=cache)
        refused = [str(verdict) for verdict in verdicts.values() if not isinstance(verdict, Verified)]
        if refused or len(verdicts) != len(jobs):
            raise RuntimeError(f"{network.name}: signatures refused: {refused[:3]}")
        cache.save()
    return _done(start, children_only=False)


def _check(fixture: generate.Fixture, work: Path) -> StageResult:
    from directory247.gate.check import run_check
    from directory247.trust import StatusCache

    now = dt.datetime.now(dt.UTC)
    start = _start()
    for network in fixture.networks:
        _forget_keys()
        cache = StatusCache(work / "check-cache" / f"{network.name}.json")
        outcome = run_check(network, base=None, now=now, cache=cache)
        if not outcome.ok or len(outcome.accepted) != outcome.files:
            raise RuntimeError(f"{network.name}: the gate refused the generated entries: {outcome.problems[:3]}")
        cache.save()
    return _done(start, children_only=False)


def stage_release(fixture: generate.Fixture, work: Path) -> StageResult:
    from directory247 import cli
    from directory247.commands import release  # noqa: F401 - imported before the clock starts

    start = _start()
    try:
        for network in fixture.networks:
            _forget_keys()
            os.environ["DIRECTORY247_ROOT"] = str(network)
            with _quiet():
                code = cli.main(["release", "--releases", str(work / "releases" / network.name),
                                 "--gnupghome", str(fixture.gnupghome)])
            if code != 0:
                raise RuntimeError(f"{network.name}: directory247 release exited {code}")
    finally:
        os.environ.pop("DIRECTORY247_ROOT", None)
        generate.stop_agent(fixture.gnupghome)
    return _done(start, children_only=False)


def stage_build(fixture: generate.Fixture, work: Path) -> StageResult:
    if not _site_available():
        return StageResult(None, note="'directory247 build' is not available yet; site stages skipped")
    from directory247 import cli
    from directory247.commands import build  # noqa: F401 - imported before the clock starts

    start = _start()
    for network in fixture.networks:
        with _quiet():
            code = cli.main(["build", "--out", str(work / "site" / network.name),
                             "--releases", str(work / "releases" / network.name),
                             "--fingerprint", fixture.release_fingerprint])
        if code != 0:
            raise RuntimeError(f"{network.name}: directory247 build exited {code}")
    return _done(start, children_only=False)


def _bare_mkdocs(fixture: generate.Fixture, work: Path, *, flat: bool) -> StageResult:
    """The same pages as the site build, built by mkdocs-material with nothing of ours."""
    if not _site_available():
        return StageResult(None, note="no site build to compare with")
    if flat and fixture.n > FLAT_LIMIT:
        return StageResult(None, note=f"flat navigation measured only up to N = {FLAT_LIMIT}")
    try:  # the site's own page renderer, so the pages are exactly the site's
        from directory247.site import pages as site_pages
        from directory247.site.load import load_archive
        from directory247.site.mkdocs import guides_in

        nav_pages, render_pages = site_pages.NAV, site_pages.render_pages
    except (ImportError, AttributeError) as error:
        return StageResult(None, note=f"bare mkdocs baselines skipped: the site's page API changed ({error})")
    states = getattr(site_pages, "STATES_FOLDER", "states")
    docs_dir = PROJECT / "docs"
    guides = guides_in(docs_dir)
    configs = []
    for network in fixture.networks:
        folder = work / ("mkdocs-flat" if flat else "mkdocs-bare") / network.name
        pages = render_pages(load_archive(work / "releases" / network.name), guides=guides)
        for name in guides:
            pages[name] = (docs_dir / name).read_text(encoding="utf-8")
        for path, text in pages.items():
            target = folder / "docs" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        nav: list[dict[str, str]] = [{title: page} for title, page in nav_pages] + [{name: name} for name in guides]
        lines = ["site_name: bare mkdocs-material baseline", "theme:", "  name: material"]
        if flat:
            nav += [{path: path} for path in sorted(pages) if path.startswith(states + "/")]
        else:
            lines += ["not_in_nav: |", f"  /{states}/"]
        lines.append(f"nav: {json.dumps(nav)}")  # JSON is YAML
        config = folder / "mkdocs.yml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        configs.append(config)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = _start()
    for config in configs:
        _run_tool([BIN / "mkdocs", "build", "--quiet", "--config-file", config], what=f"mkdocs build {config}",
                  env=env)
    return _done(start, children_only=True)


STAGES: dict[str, Callable[[generate.Fixture, Path], StageResult]] = {
    "validate": stage_validate,
    "check-jsonschema": stage_check_jsonschema,
    "gpgv-loop": stage_gpgv_loop,
    "verify-cold": _verify,
    "verify-warm": _verify,  # the same, with the cache the cold run saved
    "check-cold": _check,
    "check-warm": _check,
    "release": stage_release,
    "build": stage_build,
    "mkdocs-bare": lambda fixture, work: _bare_mkdocs(fixture, work, flat=False),
    "mkdocs-flat": lambda fixture, work: _bare_mkdocs(fixture, work, flat=True),
}


def run_stage(name: str, fixture: generate.Fixture, work: Path, result_file: Path) -> None:
    """Child side: run one stage, write its ``StageResult`` as JSON."""
    result = STAGES[name](fixture, work)
    result_file.write_text(json.dumps(result.__dict__), encoding="utf-8")


# --------------------------------------------------------------------------- runs (parent side)


def measure(name: str, fixture: generate.Fixture, work: Path) -> StageResult:
    result_file = work / f".{name}.json"
    command = [sys.executable, "-m", "bench.run", "--stage", name, "--n", str(fixture.n), "--seed",
               str(fixture.seed), "--cache", str(fixture.root.parent), "--work", str(work)]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"stage {name} failed:\n{(done.stdout + done.stderr)[-4000:]}")
    data: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return StageResult(**data)


def one_run(fixture: generate.Fixture, work: Path, log: Callable[[str], None]) -> dict[str, StageResult]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    results: dict[str, StageResult] = {}
    for name in STAGES:
        result = measure(name, fixture, work)
        results[name] = result
        log(f"  {name:<17} {'skipped' if result.seconds is None else f'{result.seconds:8.2f} s'}"
            f"{'  ' + result.note if result.note else ''}")
    shutil.rmtree(work)
    return results


@dataclass
class Row:
    stage: str
    ours: list[str]  # stage names summed for our time
    baseline_label: str = ""
    baseline: list[str] = field(default_factory=list)
    target: float | None = None  # the ratio must be at most this
    memory_limit_mib: float | None = None


ROWS = (
    Row("load + validate (`directory247 validate`)", ["validate"], "check-jsonschema, entry schema",
        ["check-jsonschema"], 1.0),
    Row("signatures, cold cache (gpgv in a pool)", ["verify-cold"], "sequential gpgv loop", ["gpgv-loop"], 0.6),
    Row("signatures, warm cache", ["verify-warm"], "signatures, cold cache", ["verify-cold"], 0.10),
    Row("gate `check`, cold cache (validate + verify)", ["check-cold"], "check-jsonschema + gpgv loop",
        ["check-jsonschema", "gpgv-loop"]),
    Row("gate `check`, warm cache", ["check-warm"], "gate, cold cache", ["check-cold"]),
    Row("release (gate, exports, read-back, signing, verify)", ["release"]),
    Row("site build (`directory247 build`)", ["build"], "bare mkdocs-material, State pages out of nav",
        ["mkdocs-bare"]),
    Row("release + build", ["release", "build"], "bare mkdocs-material + gpgv loop", ["mkdocs-bare", "gpgv-loop"],
        1.3, 1024.0),
    Row("bare mkdocs-material, flat navigation", ["mkdocs-flat"], "bare mkdocs-material, out of nav",
        ["mkdocs-bare"]),
)


def _total(run: dict[str, StageResult], names: Sequence[str], cpu: bool = False) -> float | None:
    results = [run[name] for name in names]
    if any(result.seconds is None for result in results):
        return None
    return sum(result.cpu if cpu else result.seconds or 0.0 for result in results)


def _median(runs: Sequence[dict[str, StageResult]], names: Sequence[str], cpu: bool = False) -> float | None:
    totals = [_total(run, names, cpu) for run in runs]
    known = [t for t in totals if t is not None]
    return statistics.median(known) if known and len(known) == len(totals) else None


def _peak(runs: Sequence[dict[str, StageResult]], names: Sequence[str]) -> float | None:
    peaks = [run[name].peak_kib for run in runs for name in names if run[name].seconds is not None]
    return max(peaks) / 1024 if peaks else None


def _number(value: float | None, empty: str = "-") -> str:
    return empty if value is None else f"{value:.2f}"


def table(runs: Sequence[dict[str, StageResult]], n: int) -> str:
    lines = ["| stage | time (s) | CPU (s) | ms/entry | baseline | baseline (s) | baseline CPU (s) | ratio | target "
             "| peak RSS (MiB) | baseline peak (MiB) |",
             "|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|"]
    for row in ROWS:
        ours, ours_cpu = _median(runs, row.ours), _median(runs, row.ours, cpu=True)
        base = _median(runs, row.baseline) if row.baseline else None
        base_cpu = _median(runs, row.baseline, cpu=True) if row.baseline else None
        ratio = ours / base if ours is not None and base else None
        peak, base_peak = _peak(runs, row.ours), _peak(runs, row.baseline) if row.baseline else None
        target = ""
        if row.target is not None and ratio is not None:
            met = ratio <= row.target and (row.memory_limit_mib is None or (peak or 0) < row.memory_limit_mib)
            limit = f", < {row.memory_limit_mib / 1024:.0f} GiB" if row.memory_limit_mib else ""
            target = f"<= {row.target:g}{limit}: {'met' if met else '**not met**'}"
        per_entry = None if ours is None else ours / n * 1000
        lines.append(
            f"| {row.stage} | {_number(ours, 'skipped')} | {_number(ours_cpu if ours is not None else None)} | "
            f"{_number(per_entry)} | {row.baseline_label or '-'} | {_number(base)} | {_number(base_cpu)} | "
            f"{_number(ratio)} | {target} | {'-' if peak is None else f'{peak:.0f}'} | "
            f"{'-' if base_peak is None else f'{base_peak:.0f}'} |")
    notes = sorted({result.note for run in runs for result in run.values() if result.note})
    return "\n".join(lines + ([""] + [f"Note: {note}." for note in notes] if notes else [])) + "\n"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "absent"


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(fixture: generate.Fixture, runs: int, loads: Sequence[float] = ()) -> str:
    sizes = generate.network_sizes(fixture.n)
    gpg = subprocess.run(["gpg", "--version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    spread = f"{len(sizes)} network(s) of {min(sizes)}-{max(sizes)}" if len(set(sizes)) > 1 else \
        f"{len(sizes)} network(s) of {sizes[0]}"
    return (f"N = {fixture.n} entries ({spread}), seed {fixture.seed}, median of {runs} run(s); "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d}\n\n"
            f"Machine: {os.cpu_count()} cores ({_processor()}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {gpg}, mkdocs {_version('mkdocs')}, "
            f"mkdocs-material {_version('mkdocs-material')}, check-jsonschema {_version('check-jsonschema')}; "
            f"load average at the start of each run: {', '.join(f'{load:.2f}' for load in loads) or 'n/a'} "
            "(other work on the machine slows the parallel stages most)\n")


def bench(n: int, seed: int, runs: int, *, cache: Path, out: Path, log: Callable[[str], None]) -> str:
    """Generate (or reuse) the fixture, run every stage ``runs`` times, write and return the report."""
    log(f"fixture: N = {n}, seed {seed} (cache {cache})")
    fixture = generate.generate(n, seed, cache, log=lambda message: log("  " + message))
    results = []
    loads = []
    for number in range(1, runs + 1):
        loads.append(os.getloadavg()[0])
        log(f"run {number}/{runs} (load average {loads[-1]:.2f})")
        results.append(one_run(fixture, out / "work", log))
    report = f"# directory247 bench\n\n{header(fixture, runs, loads)}\n{table(results, n)}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(report, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(
        {"n": n, "seed": seed, "runs": [{name: r.__dict__ for name, r in run.items()} for run in results]},
        indent=1) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="number of entries (default: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default: 1)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported (default: 3)")
    parser.add_argument("--cache", type=Path, default=generate.CACHE, help="fixture cache (build/bench-cache)")
    parser.add_argument("--out", type=Path, default=OUT, help="results and work folder (default: build/bench)")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:  # child side
        fixture = generate.load(args.n, args.seed, args.cache)
        if fixture is None or args.work is None:
            parser.error("--stage needs a generated fixture and --work")
        run_stage(args.stage, fixture, args.work, args.work / f".{args.stage}.json")
        return 0
    if args.n < 1 or args.runs < 1:
        parser.error("--n and --runs must be at least 1")
    report = bench(args.n, args.seed, args.runs, cache=args.cache, out=args.out,
                   log=lambda message: print(message, file=sys.stderr, flush=True))
    sys.stdout.write(report)
    print(f"\nwritten to {args.out / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
