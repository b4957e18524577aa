"""Shared fixtures: the repository root and a fixed 'today' so date rules are reproducible."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

import gpgtools

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def root() -> Path:
    return ROOT


def git(path: Path, *args: str) -> None:
    """Run git in a test repository, with a fixed identity and no output."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.example", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t.example")
    subprocess.run(["git", "-C", str(path), *args], check=True, env=env, capture_output=True)


@pytest.fixture(scope="module")
def keyhome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """A throwaway GnuPG home with a root key and one key each for NO and SE."""
    home = gpgtools.make_home(tmp_path_factory.mktemp("keys"))
    root = gpgtools.generate_key(home, "root <root@test.example>")
    keys = {code: gpgtools.generate_key(home, f"{code} <{code.lower()}@test.example>") for code in ("NO", "SE")}
    return home, root, keys
