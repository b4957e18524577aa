"""The ``directory247`` command: one verb per capability, each a thin ``main(argv)``.

This is the only place that catches ``DirectoryError``: expected failures are printed as
one line and turned into the exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from . import __version__
from .errors import DirectoryError

VERBS = {
    "new": "scaffold an entry for a State",
    "validate": "strict load + schema + semantic checks, every problem at once",
    "build": "the site for the latest release (and the archive), atomically",
    "sign": "sign an entry with your State's key, then verify it",
    "check": "the PR gate: validation + signatures + rules against the trusted base",
    "release": "cut the next version: exports, changelog, manifest, signatures, archive",
    "verify": "verify a downloaded release as an end user would",
    "diff": "field-level summary of what a change does, for reviewers",
    "confirm": "the Party's 'still correct': new confirmed date, higher serial, signed",
    "stale": "entries whose confirmation is overdue or due soon; failed reachability tests",
}

USAGE = "usage: directory247 [--version] VERB [ARGS...]\n\nverbs:\n" + "".join(
    f"  {verb:<10} {summary}\n" for verb, summary in VERBS.items()
) + "\nRun 'directory247 VERB --help' for a verb's options.\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        (sys.stdout if args else sys.stderr).write(USAGE)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"directory247 {__version__}")
        return 0
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        sys.stderr.write(f"directory247: unknown verb '{verb}'\n\n{USAGE}")
        return 2
    module = importlib.import_module(f".commands.{verb}", __package__)
    try:
        code: int = module.main(rest)
    except DirectoryError as exc:
        sys.stderr.write(f"directory247 {verb}: error: {exc}\n")
        return exc.exit_code
    except SystemExit as exc:  # argparse's usage errors
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        sys.stderr.write("directory247: interrupted\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
