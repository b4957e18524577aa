"""The one exception base for expected failures.

Every ``DirectoryError`` carries a message written for the person at the keyboard: what
went wrong and what to do next. The CLI catches it once, prints it, and exits 1 (or 2 for
``UsageError``). An ``OSError`` reaching the CLI is environmental (a full disk, a read-only
file system, a missing folder), not a bug: ``describe_os_error`` turns it into one line.
Anything else reaching the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import shutil


class DirectoryError(Exception):
    """An expected failure, explained to the user."""

    exit_code = 1


class UsageError(DirectoryError):
    """The command was called wrongly (missing file, bad option value)."""

    exit_code = 2


class SignatureError(DirectoryError):
    """A signature does not meet the acceptance policy."""


class TrustError(DirectoryError):
    """Keys or authorisations cannot be read or are not signed by the root."""


class ReleaseError(DirectoryError):
    """A release could not be cut or does not verify."""


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: the CLI raises this from its signal handler so the run
    unwinds like a failure and every ``finally`` removes what it staged.

    A ``BaseException``, like ``KeyboardInterrupt``: an ``except Exception`` must not swallow it.
    """

    def __init__(self, signal_number: int, name: str) -> None:
        super().__init__(name)
        self.signal_number = signal_number
        self.name = name


#: What to do about the environmental failures a user can fix, by errno (after the system's words).
_ADVICE = {
    errno.ENOSPC: "free some space (or use a folder on another disk), then run the command again",
    errno.EDQUOT: "free some space or ask for a larger quota, then run the command again",
    errno.EROFS: "run the command where it may write, or remount the file system read-write",
    errno.EFBIG: "a file would exceed this process's file-size limit (ulimit -f); raise the limit, then run the "
                 "command again",
    errno.EACCES: "run the command as a user who may read and write there, or change the permissions",
    errno.EPERM: "run the command as a user who may do this, or change the permissions",
    errno.ENOENT: "check the path (a folder on it may be missing)",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EIO: "the disk or network file system failed; check it, then run the command again",
}


def describe_os_error(error: OSError) -> str:
    """One line for an I/O failure: the path(s) it is about, what happened, what to do."""
    if isinstance(error, shutil.Error):  # copytree gathers one (source, target, reason) per file
        problems = error.args[0] if error.args and isinstance(error.args[0], list) else []
        if problems and isinstance(problems[0], tuple) and len(problems[0]) == 3:
            _, target, reason = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return f"{target}: cannot be copied: {reason}{more}"
        return str(error)
    cause = error.strerror or str(error) or type(error).__name__
    advice = _ADVICE.get(error.errno or 0)
    if advice:
        cause = f"{cause}; {advice}"
    paths = [os.fsdecode(name) if isinstance(name, str | bytes) else str(name)
             for name in (error.filename, error.filename2) if name is not None]
    return f"{' -> '.join(paths)}: {cause}" if paths else cause
