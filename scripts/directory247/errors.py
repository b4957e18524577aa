"""The one exception base for expected failures.

Every ``DirectoryError`` carries a message written for the person at the keyboard: what
went wrong and what to do next. The CLI catches it once, prints it, and exits 1 (or 2 for
``UsageError``). Anything else reaching the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations


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
