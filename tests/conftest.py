"""Shared fixtures: the repository root and a fixed 'today' so date rules are reproducible."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def root() -> Path:
    return ROOT
