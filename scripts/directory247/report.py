"""Reporters: the same problems as text, JSON, or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from .problems import Problem, Severity


def _counts(problems: Sequence[Problem]) -> tuple[int, int]:
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    return errors, len(problems) - errors


def printable(value: str) -> str:
    """``value`` with every non-printable character shown as an escape, so a file name or a
    value cannot move the cursor, clear the screen or fake a line on the user's terminal."""
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] if c != "'" else c for c in value)


def text(problems: Sequence[Problem], files: int, subject: str = "entries") -> str:
    lines = [printable(f"{p.path}:{p.line}:{p.col}: {p.severity.value}: {p.field}: {p.message}") for p in problems]
    errors, warnings = _counts(problems)
    if errors or warnings:
        lines.append(f"{errors} error{'s' if errors != 1 else ''}, "
                     f"{warnings} warning{'s' if warnings != 1 else ''} in {files} file{'s' if files != 1 else ''}")
    else:
        noun = subject if files != 1 else {"entries": "entry", "signed entries": "signed entry"}.get(subject, subject)
        lines.append(f"{files} {noun} checked: no problems")
    return "\n".join(lines) + "\n"


def as_json(problems: Sequence[Problem], files: int, subject: str = "entries") -> str:
    errors, warnings = _counts(problems)
    payload = {
        "problems": [p.to_dict() for p in problems],
        "summary": {"files": files, "errors": errors, "warnings": warnings},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem], files: int, subject: str = "entries") -> str:
    lines = []
    for p in problems:
        level = "error" if p.severity is Severity.ERROR else "warning"
        lines.append(
            f"::{level} file={_escape_property(p.path)},line={p.line},col={p.col},"
            f"title={_escape_property(p.field)}::{_escape_data(p.message)}"
        )
    errors, warnings = _counts(problems)
    lines.append(f"{errors} errors, {warnings} warnings in {files} files")
    return "\n".join(lines) + "\n"


REPORTERS: dict[str, Callable[[Sequence[Problem], int, str], str]] = {
    "text": text,
    "json": as_json,
    "github": github,
}

#: The formats every verb with ``--format`` offers.
FORMATS = tuple(REPORTERS)


def render(form: str, problems: Sequence[Problem], files: int, subject: str = "entries", *,
           text_view: str | None = None, json_view: object = None) -> str:
    """The one way a verb prints its findings: ``form`` is ``--format``. A verb whose report
    says more than its problems gives that as ``text_view`` (plain text) and ``json_view``
    (a JSON-ready object); workflow annotations are always the located problems."""
    if form == "text" and text_view is not None:
        return text_view
    if form == "json" and json_view is not None:
        return json.dumps(json_view, indent=2, ensure_ascii=False) + "\n"
    return REPORTERS[form](problems, files, subject)
