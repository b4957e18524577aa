"""Problems as data: what is wrong, where, and how bad.

Every stage (load, schema, rules, signatures) returns ``Problem`` values instead of
printing or raising, so one run can report every problem of every file at once and the
reporters can render the same findings as text, JSON or workflow annotations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

FieldPath = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, located at ``path:line:col`` (1-based) and a field path."""

    path: str
    line: int
    col: int
    severity: Severity
    field: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "severity": self.severity.value,
            "field": self.field,
            "message": self.message,
        }


def field_name(path: FieldPath) -> str:
    """Render a field path the way a person reads it: ``contact_points[0].phones[1].number``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(entry)"


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)
