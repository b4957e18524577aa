"""The ``directory247`` command: one verb per capability, each a thin ``main(argv)``.

This is the only place that catches expected failures, each printed as one line and turned
into the exit code: ``DirectoryError`` (its own code); ``OSError``, which is environmental
(a full disk, a read-only file system, a file-size limit, permission denied, a missing
folder: the path, the cause and what to do, exit 1); SIGTERM and SIGHUP (how CI cancels a
job, how a closed terminal ends one), turned into ``Terminated`` so the run unwinds through
every ``finally`` that removes what it staged (exit 128 + the signal's number, as a shell
reports a killed command); Ctrl-C (exit 130). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from . import __version__
from .errors import DirectoryError, Terminated, describe_os_error

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


#: The signals that end a run cleanly (SIGKILL cannot be caught: the next run copes with it).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into ``Terminated`` for the block, then restore the handlers.

    Only the first signal raises: a second one while the run unwinds is ignored, so it
    cannot cut short the cleanup that the first one started. A signal the process was told
    to ignore (``nohup`` ignores SIGHUP) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    fired = False

    def stop(number: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Terminated(number, signal.Signals(number).name)

    # A signal ignored on purpose (SIGHUP under nohup) stays ignored.
    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS
                if signal.getsignal(number) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)  # None: set outside Python


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
        with signals_unwind():
            code: int = module.main(rest)
    except DirectoryError as exc:
        sys.stderr.write(f"directory247 {verb}: error: {exc}\n")
        return exc.exit_code
    except OSError as exc:
        sys.stderr.write(f"directory247 {verb}: error: {describe_os_error(exc)}\n")
        return 1
    except SystemExit as exc:  # argparse's usage errors
        return exc.code if isinstance(exc.code, int) else 2
    except Terminated as exc:
        sys.stderr.write(f"directory247 {verb}: stopped by {exc.name}; what this run had staged was removed\n")
        return 128 + exc.signal_number
    except KeyboardInterrupt:
        sys.stderr.write("directory247: interrupted\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
