"""Validation of entries: strict load, schema, semantic rules, all problems collected.

``validate_entry`` is pure (bytes in, result out). ``validate_files`` is the thin I/O layer
that reads files, refusing anything that is not a regular file, and never stops at the
first bad one.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..problems import Problem, Severity, has_errors
from .coerce import coerce
from .loader import Document, load_entry
from .rules import Context, check_rules
from .schema import check_schema, load_schema

if TYPE_CHECKING:
    from ..progress import Progress

_FILE_NAME = re.compile(r"([a-z]{2})\.yaml")


@dataclass
class EntryResult:
    """The outcome for one entry file."""

    source: str
    data: bytes
    document: Document | None
    entry: dict[str, Any] | None  # the coerced tree, when it could be loaded
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.entry is not None and not has_errors(self.problems)


def file_code(name: str) -> str | None:
    match = _FILE_NAME.fullmatch(name)
    return match.group(1).upper() if match else None


def validate_entry(data: bytes, source: str, *, today: dt.date, strict: bool = False) -> EntryResult:
    """Load and check one entry; ``source`` is the path shown in problems."""
    loaded = load_entry(data, source)
    problems = list(loaded.problems)
    name = Path(source).name
    code = file_code(name)
    if code is None:
        problems.append(Problem(source, 1, 1, Severity.ERROR, "(file)",
                                f"file name '{name}' must be the State's ISO 3166-1 alpha-2 code "
                                "in lower case with .yaml (e.g. no.yaml)"))
    doc = loaded.document
    if doc is None:
        return EntryResult(source, data, None, None, sorted(problems))
    entry = coerce(doc, load_schema())
    problems.extend(check_schema(doc, entry))
    problems.extend(check_rules(Context(doc, entry, code, today, strict)))
    return EntryResult(source, data, doc, entry, sorted(set(_one_per_placeholder(problems))))


def _one_per_placeholder(problems: list[Problem]) -> list[Problem]:
    """A scaffold placeholder also breaks the field's form; saying "replace it" once is clearer."""
    fields = {p.field for p in problems if p.message.startswith("placeholder ") and "directory247 new" in p.message}
    return [p for p in problems if p.field not in fields or p.message.startswith("placeholder ")]


def entry_files(directory: Path) -> list[Path]:
    """The entry files of a directory folder, sorted; other files are left to the caller."""
    return sorted(p for p in directory.iterdir() if p.name.endswith(".yaml"))


def read_entry_file(path: Path, shown: str) -> tuple[bytes | None, Problem | None]:
    """Read a file as an entry, refusing symlinks, devices and oversized files."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None, Problem(shown, 1, 1, Severity.ERROR, "(file)", "file does not exist")
    except OSError as exc:
        return None, Problem(shown, 1, 1, Severity.ERROR, "(file)", f"cannot read: {exc.strerror}")
    if stat.S_ISLNK(info.st_mode):
        return None, Problem(shown, 1, 1, Severity.ERROR, "(file)",
                             "is a symbolic link; entries must be regular files")
    if not stat.S_ISREG(info.st_mode):
        return None, Problem(shown, 1, 1, Severity.ERROR, "(file)", "is not a regular file")
    from .loader import MAX_BYTES

    if info.st_size > MAX_BYTES:
        return None, Problem(shown, 1, 1, Severity.ERROR, "(entry)",
                             f"file is {info.st_size} bytes; an entry may be at most {MAX_BYTES} bytes")
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1), None
    except OSError as exc:
        return None, Problem(shown, 1, 1, Severity.ERROR, "(file)", f"cannot read: {exc.strerror}")


def validate_files(paths: Sequence[Path], *, today: dt.date, strict: bool = False,
                   shown: Iterable[str] | None = None, progress: Progress | None = None,
                   keep_documents: bool = True) -> list[EntryResult]:
    """Validate each file; ``progress`` (optional) hears ``("validating entries", done, total)``.

    Without ``keep_documents`` a result keeps its problems and coerced entry but not the
    file's bytes and positions (most of its memory), for callers that only report."""
    names = list(shown) if shown is not None else [str(p) for p in paths]
    results = []
    for done, (path, name) in enumerate(zip(paths, names, strict=True), start=1):
        data, problem = read_entry_file(path, name)
        if problem is not None or data is None:
            results.append(EntryResult(name, b"", None, None, [problem] if problem else []))
        else:
            result = validate_entry(data, name, today=today, strict=strict)
            if not keep_documents:
                result = EntryResult(result.source, b"", None, result.entry, result.problems)
            results.append(result)
        if progress is not None:
            progress("validating entries", done, len(paths))
    return results
