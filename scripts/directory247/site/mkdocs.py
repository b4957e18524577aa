"""One MkDocs build per release: the staging docs folder (hand-written guides plus the
generated pages), a staging ``mkdocs.yml`` that INHERITs the project's, and ``mkdocs build
--strict`` in a subprocess that is stopped on any failure or SIGTERM.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .load import LATEST, SiteError
from .pages import NAV
from .pages.common import GUIDES

#: An ``OSError`` as Python prints it, in MkDocs' output: errno, cause, and the path(s) when given
#: (a copy names its source and target: ``'a' -> 'b'``).
_OS_ERROR = re.compile(r"\[Errno (?P<errno>\d+)\] (?P<cause>[^:\n]+)"
                       r"(?:: '(?P<path>[^'\n]+)'(?: -> '(?P<target>[^'\n]+)')?)?")


def guides_in(docs_dir: Path) -> tuple[str, ...]:
    return tuple(name for name, _ in GUIDES if (docs_dir / name).is_file())


def _nav(guides: Sequence[str]) -> list[object]:
    nav: list[object] = [{title: page} for title, page in NAV]
    titles = dict(GUIDES)
    if guides:
        nav.append({"Guides": [{titles[g]: g} for g in guides]})
    return nav


def stage_docs(target: Path, docs_dir: Path, pages: dict[str, str]) -> None:
    """The hand-written ``docs/`` plus the generated pages; a guide may not shadow a generated page."""
    if docs_dir.is_dir():
        shutil.copytree(docs_dir, target, symlinks=False)
    else:
        target.mkdir(parents=True)
    for path in sorted(pages):
        out = target / path
        if out.exists():
            raise SiteError(f"{docs_dir / path}: the site generates this page; rename the hand-written one")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(pages[path], encoding="utf-8")


def _yaml(value: object) -> str:
    # JSON is YAML: the staging config needs no YAML writer and stays unambiguous.
    return json.dumps(value, ensure_ascii=True)


def staging_config(base_config: Path, docs: Path, site_dir: Path, guides: Sequence[str], *, versioned: bool) -> str:
    lines = [
        f"INHERIT: {_yaml(str(base_config.resolve()))}",
        f"docs_dir: {_yaml(str(docs))}",
        f"site_dir: {_yaml(str(site_dir))}",
        f"nav: {_yaml(_nav(guides))}",
    ]
    if versioned:
        lines.append(f"extra: {_yaml({'version': {'provider': 'mike', 'default': LATEST}})}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MkDocsRun:
    config: Path
    epoch: int
    #: where this run writes (named in the error when the disk or a limit stops it)
    site_dir: Path | None = None


class MkDocsRunning:
    """The MkDocs subprocesses of one build, so that a failure or SIGTERM stops them all
    at once instead of waiting for each to finish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[str]] = set()
        self._stopped = False

    def start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
        with self._lock:
            if self._stopped:
                raise SiteError("the build was stopped")
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            self._processes.add(process)
            return process

    def finished(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._processes.discard(process)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for process in self._processes:
                process.terminate()


def run_mkdocs(job: MkDocsRun, running: MkDocsRunning | None = None) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(job.epoch))
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(job.config)]
    running = running or MkDocsRunning()
    process = running.start(command, env)
    try:
        output, _ = process.communicate()
    finally:
        running.finished(process)
    if process.returncode == 0:
        return
    where = job.site_dir or job.config.parent
    if process.returncode == -signal.SIGXFSZ:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(where))
    if process.returncode < 0:
        raise SiteError(f"mkdocs build for {job.config.parent.name} was stopped by "
                        f"{signal.Signals(-process.returncode).name}")
    output = output.strip()
    found = list(_OS_ERROR.finditer(output))
    if found:  # the disk or the system stopped it, not the pages: report it as such
        last = found[-1]
        raise OSError(int(last["errno"]), last["cause"], last["path"] or str(where), None, last["target"])
    raise SiteError(f"mkdocs build --strict failed for {job.config.parent.name}:\n{output[-4000:]}")
