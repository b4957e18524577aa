"""``directory247 validate [FILE...]``: every problem of every entry, in one run."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import report
from ..entry.validation import entry_files, validate_files
from ..errors import UsageError
from ..paths import directory_dir
from ..progress import terminal_progress
from . import add_format, date_argument, parser, today


def main(argv: list[str]) -> int:
    p = parser("validate", "Check entries: strict YAML, schema and semantic rules. "
                           "Exit 0 clean, 1 problems, 2 usage error.")
    p.add_argument("files", nargs="*", metavar="FILE", help="entry files (default: every entry in directory/)")
    p.add_argument("--strict", action="store_true", help="treat an overdue confirmation as an error")
    p.add_argument("--as-of", type=date_argument, metavar="DATE", help="judge dates as of DATE (default: today)")
    add_format(p)
    args = p.parse_args(argv)

    if args.files:
        paths = [Path(f) for f in args.files]
        for path in paths:
            if not path.exists() and not path.is_symlink():
                raise UsageError(f"{path}: no such file")
            if path.is_dir():
                raise UsageError(f"{path}: is a folder; give entry files, or no argument for directory/")
        shown = [str(f) for f in args.files]
    else:
        folder = directory_dir()
        if not folder.is_dir():
            raise UsageError(f"{folder}: no directory/ folder here; run from the repository or give files")
        paths = entry_files(folder)
        shown = [_relative(p) for p in paths]
    with terminal_progress(sys.stderr) as progress:
        results = validate_files(paths, today=args.as_of or today(), strict=args.strict, shown=shown,
                                 progress=progress, keep_documents=False)
    problems = sorted(p for r in results for p in r.problems)
    sys.stdout.write(report.render(args.format, problems, len(results), "entries"))
    return 1 if any(not r.ok for r in results) else 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
