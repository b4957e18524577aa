"""Writing entries as YAML a person can edit, in the subset the strict loader reads back.

Used by the scaffold (``new``) and the demo generator. Strings are written plain when that
is unambiguous for the strict loader (which reads every scalar as a string) and otherwise
double-quoted with JSON escaping, which is valid YAML. Output is deterministic: keys keep
the order they are given in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..problems import FieldPath

_PLAIN = re.compile(r"[A-Za-z0-9+][A-Za-z0-9 .,()/'@+_-]*")
_RESERVED = {"true", "false", "null", "~", "yes", "no", "on", "off", ""}


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_PLAIN.fullmatch(text) and text.lower() not in _RESERVED and not text.endswith(" ")
            and not re.fullmatch(r"[0-9.+-][0-9.:+-]*", text)):
        return text
    return json.dumps(text, ensure_ascii=False)


def dump(entry: Mapping[str, Any], comments: Mapping[FieldPath, str] | None = None) -> str:
    """Render ``entry``; ``comments`` puts ``# text`` lines above the field at that path."""
    lines: list[str] = []
    _mapping(entry, 0, (), lines, comments or {}, first_prefix=None)
    return "\n".join(lines) + "\n"


def _comment(lines: list[str], indent: int, path: FieldPath, comments: Mapping[FieldPath, str]) -> None:
    text = comments.get(path)
    if text:
        for part in _wrap(text, 96 - indent):
            lines.append(" " * indent + "# " + part)


def _wrap(text: str, width: int) -> list[str]:
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out


def _mapping(value: Mapping[str, Any], indent: int, path: FieldPath, lines: list[str],
             comments: Mapping[FieldPath, str], first_prefix: str | None) -> None:
    pad = " " * indent
    for n, (key, child) in enumerate(value.items()):
        child_path = (*path, key)
        prefix = first_prefix if (n == 0 and first_prefix is not None) else pad
        _comment(lines, indent - 2 if prefix != pad else indent, child_path, comments)
        if isinstance(child, Mapping):
            lines.append(f"{prefix}{key}:")
            _mapping(child, indent + 2, child_path, lines, comments, None)
        elif isinstance(child, Sequence) and not isinstance(child, str):
            _sequence(key, child, indent, prefix, child_path, lines, comments)
        else:
            lines.append(f"{prefix}{key}: {scalar(child)}")


def _sequence(key: str, items: Sequence[Any], indent: int, prefix: str, path: FieldPath,
              lines: list[str], comments: Mapping[FieldPath, str]) -> None:
    if not items:
        lines.append(f"{prefix}{key}: []")
        return
    if all(not isinstance(i, (Mapping, list)) for i in items):
        lines.append(f"{prefix}{key}: [{', '.join(scalar(i) for i in items)}]")
        return
    lines.append(f"{prefix}{key}:")
    pad = " " * (indent + 2)
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            _mapping(item, indent + 4, (*path, index), lines, comments, first_prefix=pad + "- ")
        else:
            lines.append(f"{pad}- {scalar(item)}")
