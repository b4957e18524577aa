"""Publishing: the one place that writes files, and it writes them atomically.

This module owns how bytes reach the disk:

- ``write_atomic(path, data)`` writes a temporary file in the same folder, flushes it to
  disk (``fsync``) and renames it over ``path`` (``os.replace``): a reader sees the old file
  or the new one, never half of one, even if the machine stops in the middle;
- ``staging(parent)`` gives a fresh hidden folder (``.staging-*``) inside ``parent`` and
  removes it again if anything inside the ``with`` block fails;
- ``publish_folder(staging, final)`` moves a finished staging folder into place with one
  ``os.rename`` and refuses to replace an existing folder: published releases are
  append-only.

Staging lives beside its final place on purpose: ``os.rename`` is atomic only within one
file system, and a temporary folder elsewhere (``/tmp``) may be on another one.

Not owned here: what the files contain (the writers and ``release``) and deciding whether a
folder is complete (``manifest``). Unsafe, and therefore refused: following a symbolic link
at the final path, and replacing anything in a published release folder. A process killed
with SIGKILL can leave a ``.staging-*`` folder behind; it is never read as a release
(its name starts with a dot) and may be removed by hand.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import ReleaseError

STAGING_PREFIX = ".staging-"


def _fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (the entry lives in the folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms where folders cannot be opened (Windows)
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a folder
        pass
    finally:
        os.close(descriptor)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` in one step; on failure ``path`` is unchanged.

    ``mode`` is the new file's permission bits (0o600 for anything secret).
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; a published file is for everyone to read.
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``; refuse if anything is there already (O_EXCL)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write new files into a (staging) folder, each durable before the folder is moved."""
    for name, data in files.items():
        write_new(folder / name, data)
    _fsync_folder(folder)


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A fresh, empty staging folder inside ``parent``, removed if the block raises.

    On success the block is expected to have moved the folder away (``publish_folder``);
    whatever is still there afterwards is removed too, so no staging folder outlives it.
    """
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    try:
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def publish_folder(staging_folder: Path, final: Path) -> None:
    """Move a finished staging folder to ``final`` in one step, never over an existing one."""
    if staging_folder.parent.resolve() != final.parent.resolve():
        raise ValueError("staging and final folders must be siblings (one file system, one rename)")
    # os.rename silently replaces an EMPTY folder on POSIX; the check refuses that, and
    # the rename itself refuses a non-empty one if another process wins the race.
    if final.exists() or final.is_symlink():
        raise ReleaseError(f"{final}: already exists; a published release is never rewritten")
    # mkdtemp makes it 0700; a published release is for everyone to read.
    os.chmod(staging_folder, 0o755)  # noqa: S103
    try:
        os.rename(staging_folder, final)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise ReleaseError(f"{final}: already exists; a published release is never rewritten") from None
        raise ReleaseError(f"{final}: cannot move the release into place: {error.strerror}") from None
    _fsync_folder(final.parent)
