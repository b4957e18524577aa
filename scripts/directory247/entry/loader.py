"""Strict loading of one entry file: bytes in, a position-aware tree of strings out.

YAML is a large language and most of it is a hazard for data that decides where an urgent
request goes: ``NO`` read as ``false``, ``0041...`` read as an octal number, anchors that
make a file expand to gigabytes, tags that build arbitrary objects, a second document
hidden after ``---``. This module accepts only the small subset an entry needs:

- UTF-8 without a byte order mark, no NUL or other control characters and no raw line or
  paragraph separator (YAML reads U+0085, U+2028 and U+2029 as line breaks where an editor
  shows none, so a comment could hide a field), at most ``MAX_BYTES``; each such character is
  reported against the field that holds it;
- exactly one document whose top level is a mapping, nested at most ``MAX_DEPTH`` deep;
- no duplicate keys, no anchors, aliases, merge keys or tags; mapping keys are plain
  scalars;
- every scalar is read as a *string*. Only ``coerce.coerce`` turns a string into a boolean or an
  integer, and only where the schema asks for one.

The tree is built from parser events with an explicit stack (no recursion), so deep
nesting gives a problem, never a crash. Nothing here reads files or prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..problems import FieldPath, Problem, Severity, field_name
from .characters import hidden_character, invisible_at, one_line_problem

MAX_BYTES = 256 * 1024
MAX_DEPTH = 12

_BOM = b"\xef\xbb\xbf"
# What may not stand raw in a file: the above, and the separators YAML takes for line breaks.
_RAW_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u2028\u2029]")
# Stands in for a forbidden character while the file is parsed only to say where it is.
_MASK = "x"
#: Reported as the field of a character found in a comment.
COMMENT = "(comment)"


try:  # the C parser is much faster; the pure-Python one behaves the same.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass
class Document:
    """A loaded entry: plain values plus where each came from."""

    source: str
    value: dict[str, Any]
    #: field path -> (line, col) of the value node, 1-based
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    #: field path -> (line, col) of the mapping key that introduced it
    key_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    #: field paths of scalars written quoted or as block scalars (never coerced)
    quoted: set[FieldPath] = field(default_factory=set)
    #: field path -> ((line, col), (line, col)) start and end of each scalar
    spans: dict[FieldPath, tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=dict)
    #: field path -> ((line, col), (line, col)) start and end of the mapping key that introduced it
    key_spans: dict[FieldPath, tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=dict)

    def position(self, path: FieldPath) -> tuple[int, int]:
        """Where to point for ``path``: the node itself, else its nearest existing parent."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))

    def key_position(self, path: FieldPath) -> tuple[int, int]:
        return self.key_positions.get(tuple(path)) or self.position(path)


@dataclass
class LoadResult:
    document: Document | None
    problems: list[Problem]


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _offset_position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Frame:
    __slots__ = ("container", "key", "path")

    def __init__(self, container: dict[str, Any] | list[Any], path: FieldPath) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None  # for mappings: the key waiting for its value


class _Stop(Exception):
    """Loading cannot go on past this problem."""


def load_entry(data: bytes, source: str) -> LoadResult:
    """Load one entry strictly. Every problem found is returned; ``document`` is None when
    the file could not be read as a tree at all."""
    problems: list[Problem] = []

    def report(line: int, col: int, path: FieldPath | str, message: str) -> None:
        shown = path if isinstance(path, str) else field_name(path)
        problems.append(Problem(source, line, col, Severity.ERROR, shown, message))

    if len(data) > MAX_BYTES:
        report(1, 1, (), f"file is {len(data)} bytes; an entry may be at most {MAX_BYTES} bytes")
        return LoadResult(None, problems)
    if data.startswith(_BOM):
        report(1, 1, (), "file starts with a byte order mark; save it as UTF-8 without BOM")
        return LoadResult(None, problems)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _offset_position(data, exc.start)
        readable = data.decode("utf-8", errors="replace")
        report(line, col, _place(_shadow(readable, source), readable.split("\n"), (line, col)),
               f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return LoadResult(None, problems)
    if _RAW_FORBIDDEN.search(text):
        _report_raw_forbidden(text, source, report)
        return LoadResult(None, problems)
    if not text.strip():
        report(1, 1, (), "file is empty; an entry is a YAML mapping")
        return LoadResult(None, problems)

    doc = Document(source=source, value={})
    try:
        _build(text, doc, report)
    except _Stop:
        return LoadResult(None, problems)

    _check_invisible(text, doc, report)
    return LoadResult(doc, problems)


def _build(text: str, doc: Document, report: Any) -> None:
    stack: list[_Frame] = []
    documents = 0
    root: dict[str, Any] | None = None
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line, col = _mark(event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    report(line, col, (), "more than one YAML document; an entry is exactly one")
                    raise _Stop
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            parent = stack[-1] if stack else None
            path = _child_path(parent)
            if isinstance(event, yaml.AliasEvent):
                report(line, col, path, "aliases (*name) are not allowed; write the value out")
                raise _Stop
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            node_event: Any = event
            if node_event.anchor is not None:
                report(line, col, path, f"anchors (&{node_event.anchor}) are not allowed; write the value out")
                raise _Stop
            if node_event.tag is not None:
                report(line, col, path, f"tags ({node_event.tag}) are not allowed; remove the tag")
                raise _Stop
            if parent is not None and isinstance(parent.container, dict) and parent.key is None:
                # This node is a mapping key.
                if not isinstance(event, yaml.ScalarEvent):
                    report(line, col, parent.path, "mapping keys must be plain names")
                    raise _Stop
                key = event.value
                if key == "<<" and not event.style:
                    report(line, col, parent.path, "merge keys (<<) are not allowed; write the fields out")
                    raise _Stop
                if key in parent.container:
                    first = doc.key_positions.get((*parent.path, key), (0, 0))
                    report(line, col, (*parent.path, key), f"duplicate key '{key}' (first defined at line {first[0]})")
                    raise _Stop
                doc.key_positions[(*parent.path, key)] = (line, col)
                doc.key_spans[(*parent.path, key)] = ((line, col), _mark(event.end_mark))
                reason = hidden_character(key) or one_line_problem(key, where="")
                if reason:
                    report(line, col, key_field(parent.path, key), f"in a field name: {reason}")
                    raise _Stop
                parent.key = key
                continue

            if isinstance(event, yaml.ScalarEvent):
                value: Any = event.value
                doc.spans[path] = ((line, col), _mark(event.end_mark))
                if event.style:  # "" or None is plain
                    doc.quoted.add(path)
            elif isinstance(event, yaml.MappingStartEvent):
                value = {}
            elif isinstance(event, yaml.SequenceStartEvent):
                value = []
            else:  # pragma: no cover - no other node events exist
                raise _Stop
            doc.positions[path] = (line, col)

            if parent is None:
                if not isinstance(value, dict):
                    report(line, col, (), "the top level of an entry must be a mapping of fields")
                    raise _Stop
                root = value
            elif isinstance(parent.container, dict):
                assert parent.key is not None
                parent.container[parent.key] = value
                parent.key = None
            else:
                parent.container.append(value)

            if isinstance(value, (dict, list)):
                if len(stack) >= MAX_DEPTH:
                    report(line, col, path, f"nested more than {MAX_DEPTH} levels deep")
                    raise _Stop
                stack.append(_Frame(value, path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _mark(mark) if mark is not None else (1, 1)
        path = _child_path(stack[-1]) if stack else ()
        message = (exc.problem or "invalid YAML").strip()
        report(line, col, path, f"invalid YAML: {message}")
        raise _Stop from None
    except yaml.YAMLError as exc:
        report(1, 1, (), f"invalid YAML: {exc}")
        raise _Stop from None
    except RecursionError:  # pragma: no cover - the parser is iterative; belt and braces
        report(1, 1, (), "nesting too deep")
        raise _Stop from None
    if root is None:
        report(1, 1, (), "file holds no YAML document; an entry is a YAML mapping")
        raise _Stop
    doc.value = root


def _child_path(parent: _Frame | None) -> FieldPath:
    if parent is None:
        return ()
    if isinstance(parent.container, dict):
        return (*parent.path, parent.key) if parent.key is not None else parent.path
    return (*parent.path, len(parent.container))


def _check_invisible(text: str, doc: Document, report: Any) -> None:
    """Bidi controls and zero-width characters anywhere, comments included, and escaped
    ones (``"\\u202e"``) inside quoted values."""
    lines = text.split("\n")
    seen_paths: set[FieldPath] = set()
    for offset in invisible_at(text):
        line, col = _text_position(text, offset)
        place = _place(doc, lines, (line, col))
        if not isinstance(place, str):
            seen_paths.add(place)
        report(line, col, place, f"invisible or bidi-control character U+{ord(text[offset]):04X} is not allowed")
    for path, (start, _end) in doc.spans.items():
        if path in seen_paths:
            continue
        value = _get(doc.value, path)
        if isinstance(value, str):
            # What the value decodes to, not only the file's text: escapes hide characters.
            reason = hidden_character(value)
            if reason:
                report(start[0], start[1], path, reason)


#: At most this many forbidden raw characters are reported for one file.
_MAX_RAW_REPORTED = 20


def _report_raw_forbidden(text: str, source: str, report: Any) -> None:
    """Report every control or separator character that stands raw in the file, each against
    the field that holds it; the entry is not loaded."""
    shadow = _shadow(text, source)
    lines = text.split("\n")
    for match in list(_RAW_FORBIDDEN.finditer(text))[:_MAX_RAW_REPORTED]:
        line, col = _text_position(text, match.start())
        report(line, col, _place(shadow, lines, (line, col)), _raw_reason(match.group()))


def _shadow(text: str, source: str) -> Document:
    """Where the fields of a file that cannot be loaded are, to name the field a problem is in:
    the file parsed with each forbidden character replaced by a letter (never loaded)."""
    shadow = Document(source=source, value={})
    try:
        _build(_RAW_FORBIDDEN.sub(_MASK, text), shadow, lambda *_args: None)
    except _Stop:
        pass  # the fields read before the stop still place the characters in them
    return shadow


def _raw_reason(char: str) -> str:
    if char in "\u2028\u2029\x85":
        kind = {"\u2028": "line separator", "\u2029": "paragraph separator"}.get(char, "control character")
        return (f"{kind} U+{ord(char):04X} is not allowed: YAML reads it as a line break that editors do not "
                "show; remove it")
    return f"control character U+{ord(char):04X} is not allowed; remove it"


def _place(doc: Document, lines: list[str], pos: tuple[int, int]) -> FieldPath | str:
    """The field that holds the character at ``pos``: the value around it, the field name it
    is part of (shown escaped), a comment, or else the field whose line it is on."""
    for path, (start, end) in doc.spans.items():
        if start <= pos < end:
            return path
    for path, (start, end) in doc.key_spans.items():
        if start <= pos < end:
            key = path[-1]
            if start[0] == end[0] and isinstance(key, str):
                written = lines[start[0] - 1][start[1] - 1:end[1] - 1]
                key = written[1:-1] if written[:1] in ("'", '"') and len(written) > 1 else written
            return key_field(path[:-1], str(key))
    line_text = lines[pos[0] - 1] if 0 < pos[0] <= len(lines) else ""
    if re.search(r"(?:^|[ \t])#", line_text[:pos[1] - 1]):
        return COMMENT
    best: FieldPath = ()
    for path, key_pos in doc.key_positions.items():
        if key_pos[0] == pos[0] and key_pos <= pos:
            best = path
    return best


def key_field(parent: FieldPath, key: str) -> str:
    """How a finding names a field name: its path, with characters that cannot be shown
    written as escapes (the name itself is what is wrong)."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] if c != "'" else c for c in key)
    return field_name((*parent, shown))


def _get(tree: Any, path: FieldPath) -> Any:
    for part in path:
        try:
            tree = tree[part]
        except (KeyError, IndexError, TypeError):
            return None
    return tree


