"""Command-line adapters, one module per verb. Each parses its arguments and calls the core."""

from __future__ import annotations

import argparse
import datetime as dt

from ..errors import UsageError
from ..report import FORMATS


def date_argument(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def parser(verb: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"directory247 {verb}", description=description)


def add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="how to print problems (default: text)")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


__all__ = ["UsageError", "add_format", "date_argument", "parser", "today"]
