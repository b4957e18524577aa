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

Interrupted runs. A failure or a SIGTERM (which the CLI turns into an exception) unwinds
through the ``finally`` blocks here: the temporary file or the staging folder goes. SIGKILL
cannot be caught, so the NEXT run copes: ``archive_lock(parent)`` holds an exclusive lock on
``parent`` (``flock`` on the folder itself: no lock file in the archive) and, when it takes
the lock, removes what an interrupted run left there (``.staging-*`` folders and
``write_atomic``'s temporary files) and says so in notes. The lock makes that safe: every
staging folder is made under the lock, so while we hold it, any staging folder we did not
make belongs to a run that is gone. ``staging`` takes the lock itself; a command that holds
it for the whole release (``with archive_lock(...)``) gets the notes to print. Leftovers are
never read as releases meanwhile: their names start with a dot.

Every ``OSError`` that leaves this module names the path it was about (``OSError.filename``),
so the CLI can report it in one line.

Not owned here: what the files contain (the ``formats`` and ``release.pipeline``) and deciding whether a
folder is complete (``manifest``). Unsafe, and therefore refused: following a symbolic link
at the final path, replacing anything in a published release folder, and removing anything
in the archive that is not one of our own leftovers (a real folder with the staging prefix, a
regular file with the temporary-file form).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .errors import DirectoryError, ReleaseError

STAGING_PREFIX = ".staging-"
#: ``write_atomic``'s temporary files: ``.<name>.<8 random characters>.tmp`` (``tempfile.mkstemp``).
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")

#: Locks this process holds: (device, inode) of the folder -> (descriptor, depth). ``flock``
#: locks belong to an open file, so a second ``open`` + ``flock`` of the same folder by the
#: same process would wait for itself; nested holders share the first one instead.
_HELD: dict[tuple[int, int], tuple[int, int]] = {}


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give an ``OSError`` raised in the block the path it is about, when it has none.

    ``write()`` on a full disk raises ``OSError(ENOSPC)`` without a file name; the person
    reading the error needs to know which file and which disk.
    """
    try:
        yield
    except OSError as error:
        if error.filename is None and not isinstance(error, shutil.Error):
            error.filename = str(path)
        raise


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
    """Replace ``path`` with ``data`` in one step; on failure ``path`` is unchanged and no
    temporary file is left behind.

    ``mode`` is the new file's permission bits (0o600 for anything secret).
    """
    folder = path.parent
    with naming(path):
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
    """Create ``path`` with ``data``; refuse if anything is there already (O_EXCL).

    If the write fails (a full disk, a file-size limit) or is interrupted, the partial file
    is removed: it is ours, O_EXCL made it. ``FileExistsError`` means nothing was written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with naming(path):
        descriptor = os.open(path, flags, 0o644)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            raise


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write new files into a (staging) folder, each durable before the folder is moved."""
    for name, data in files.items():
        write_new(folder / name, data)
    _fsync_folder(folder)


# --------------------------------------------------------------------------- interrupted runs


@contextlib.contextmanager
def exclusive(folder: Path, *, work: str) -> Iterator[bool]:
    """Hold an exclusive lock on ``folder`` (created if missing) for the block.

    Yields True when this call took the lock (the caller may then remove leftovers of an
    interrupted ``work``: a live one would hold the lock), False when this process already
    held it (a nested holder) or the file system has no locks (then nothing may be removed).
    Raises ``DirectoryError`` at once if another process holds it: ``work`` (e.g. "a
    release") is running there.
    """
    with naming(folder):
        folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows has no flock: leftovers are then only ignored
        yield False
        return
    with naming(folder):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    info = os.fstat(descriptor)
    key = (info.st_dev, info.st_ino)
    if key in _HELD:
        os.close(descriptor)
        _HELD[key] = (_HELD[key][0], _HELD[key][1] + 1)
        try:
            yield False
        finally:
            _HELD[key] = (_HELD[key][0], _HELD[key][1] - 1)
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked = True
    except BlockingIOError:
        os.close(descriptor)
        raise DirectoryError(f"{folder}: {work} is running there (another process holds the folder's lock); "
                             "wait for it to finish, then run this again") from None
    except OSError:  # pragma: no cover - a file system without locks (some network mounts)
        locked = False
    if locked:
        _HELD[key] = (descriptor, 1)
    try:
        yield locked
    finally:
        _HELD.pop(key, None)
        os.close(descriptor)  # closing the only descriptor of the open file releases the lock


def _remove(path: Path, folder: bool) -> None:
    if folder:
        shutil.rmtree(path)
    else:
        os.unlink(path)


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of ``write_atomic``'s temporary files (left by a killed run)."""
    return bool(_TEMPORARY.fullmatch(name))


def remove_leftovers(folder: Path, prefixes: Sequence[str], *, work: str) -> list[str]:
    """Remove the leftovers of an interrupted ``work`` in ``folder``; return one note each.

    Only call when ``exclusive(folder)`` yielded True (so no live run owns them). A leftover
    is a real folder (not a symbolic link) whose name starts with one of ``prefixes``, or a
    regular file of ``write_atomic``'s temporary form. Anything else is left alone. A
    leftover that cannot be removed is named in a note and left too: it is never read as a
    release, and failing to tidy up must not stop the run.
    """
    notes: list[str] = []
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return notes
    for name in names:
        path = folder / name
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode) and name.startswith(tuple(prefixes)):
            kind = "folder"
        elif stat.S_ISREG(mode) and _TEMPORARY.fullmatch(name):
            kind = "temporary file"
        else:
            continue
        try:
            _remove(path, folder=kind == "folder")
        except OSError as error:
            notes.append(f"{path}: a leftover {kind} of an interrupted {work} cannot be removed "
                         f"({error.strerror}); it is ignored, remove it by hand")
        else:
            notes.append(f"removed a leftover {kind} of an interrupted {work}: {path}")
    return notes


@contextlib.contextmanager
def archive_lock(parent: Path) -> Iterator[list[str]]:
    """The exclusive right to add releases to ``parent``, for the block.

    Taking it removes what an interrupted release left in ``parent`` and yields one note per
    leftover (none when nested inside another ``archive_lock`` of this process). Raises
    ``DirectoryError`` if another release holds it. Before the first release ``parent`` does
    not exist: nothing is locked or removed then, and nothing is created (``staging``
    creates the folder and takes the lock itself).
    """
    if not parent.is_dir():
        yield []
        return
    with exclusive(parent, work="a release") as first:
        yield remove_leftovers(parent, (STAGING_PREFIX,), work="release") if first else []


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A fresh, empty staging folder inside ``parent``, removed if the block raises.

    Held under ``archive_lock(parent)`` (leftovers of interrupted releases are removed when
    the lock is taken). On success the block is expected to have moved the folder away
    (``publish_folder``); whatever is still there afterwards is removed too, so no staging
    folder outlives it.
    """
    with naming(parent):
        parent.mkdir(parents=True, exist_ok=True)
    with archive_lock(parent):
        with naming(parent):
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
