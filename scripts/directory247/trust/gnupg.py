"""The GnuPG processes behind verification, and where their keyrings live.

Its public face is "GnuPG's status lines for these keys, this signature, these bytes": for one
signature, ``gpgv_status`` (gpgv, a keyring of exactly the keys given, nothing else); for many,
``SharedHome`` (one gpg imports many key files and checks many signatures). Beside them,
``show_keys`` (gpg's colon listing of key files) and ``run`` (a gpg command, for signing).

Never done here: letting gpg or gpgv see the user's ``GNUPGHOME`` or keyrings while verifying
(every process gets a private home of this process), judging what the lines say
(``policy``), or parsing them (``status``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence

from directory247.errors import SignatureError

from .openpgp import literal_packet
from .status import StatusLines, file_segments, status_lines

__all__ = ["FIRST_PASSED_FD", "SharedHome", "filled_pipe", "gpgv_status", "move_high", "run", "show_keys"]

_TIMEOUT_SECONDS = 60
#: Memory-backed, where there is one: a keyring file per State costs ~0.6 ms on a disk.
_MEMORY_FOLDER = "/dev/shm"  # noqa: S108 - only the parent of a private (mkdtemp) folder
#: Descriptors of ours handed to a child are numbered from here, clear of the child's own.
FIRST_PASSED_FD = 10
_DEV_FD = os.path.isdir("/dev/fd")


def _environment() -> dict[str, str]:
    """The caller's environment without anything that points GnuPG at the user's own home."""
    return {k: v for k, v in os.environ.items() if k not in {"GNUPGHOME", "GPG_AGENT_INFO"}}


def _memory_folder() -> str | None:
    """Where private folders go: memory when the system offers a writable one, else the default."""
    memory = os.path.isdir(_MEMORY_FOLDER) and os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK)
    return _MEMORY_FOLDER if memory else None


def run(
    command: list[str], stdin: bytes, *, what: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run gpg or gpgv; unless ``env`` is given, without the user's GnuPG variables. A missing
    binary or a run that does not finish raises ``SignatureError`` ("cannot <what>: ...")."""
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            env=_environment() if env is None else env,
            check=False,
            timeout=_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise SignatureError(f"cannot {what}: {command[0]!r} was not found; install GnuPG 2.2 or later") from None
    except subprocess.TimeoutExpired:
        raise SignatureError(f"cannot {what}: {command[0]} did not finish") from None


def show_keys(binary: bytes, gpg_binary: str) -> subprocess.CompletedProcess[bytes]:
    """gpg's colon listing of the keys in ``binary``, read in a throwaway home, as gpgv reads
    them (and as ``SharedHome`` imports them): local (non-exportable) self-signatures such as
    a revocation kept, which gpg would otherwise drop, and nothing repaired."""
    with tempfile.TemporaryDirectory(prefix="directory247-keys-") as home:
        return run(
            [gpg_binary, "--homedir", home, "--no-options", "--batch", "--no-autostart", "--with-colons",
             "--import-options", "import-local-sigs,no-repair-keys", "--show-keys"],
            binary,
            what="read the authorised keys",
        )


# --------------------------------------------------------------------------- one signature: gpgv


class _Workspace:
    """A private (0700) folder of this process for gpgv: keyrings, each written once under
    the digest of its bytes and never changed. gpgv gets it as its home, so it never sees
    GNUPGHOME or a keyring not written here. In memory when the system offers a writable
    ``/dev/shm``, else in the temporary folder; removed when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._keyrings: dict[bytes, str] = {}

    def folder(self) -> str:
        with self._lock:
            if self._folder is None or not os.path.isdir(self._folder.name):
                self._folder = tempfile.TemporaryDirectory(prefix="directory247-gpgv-", dir=_memory_folder())
                self._keyrings = {}
            return self._folder.name

    def keyring(self, keyring: bytes) -> str:
        folder = self.folder()
        digest = hashlib.sha256(keyring).digest()
        with self._lock:
            path = self._keyrings.get(digest)
        if path is not None and os.path.isfile(path):
            return path
        path = os.path.join(folder, digest.hex() + ".gpg")
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(keyring)
        os.replace(temporary, path)  # complete or absent, for a thread reading it meanwhile
        with self._lock:
            self._keyrings[digest] = path
        return path


_workspace = _Workspace()


def move_high(fd: int) -> int:
    """``fd`` moved to ``FIRST_PASSED_FD`` or above (close-on-exec)."""
    if fd >= FIRST_PASSED_FD:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, FIRST_PASSED_FD)
    os.close(fd)
    return moved


def filled_pipe(content: bytes) -> int | None:
    """The read end of a pipe that already holds all of ``content`` (close-on-exec, numbered
    from ``FIRST_PASSED_FD``), or None when it does not fit in a pipe's buffer."""
    if not _DEV_FD:
        return None
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        written = os.write(write_end, content) if content else 0
    except BlockingIOError:
        written = -1
    finally:
        os.close(write_end)
    if written != len(content):
        os.close(read_end)
        return None
    return move_high(read_end)


def _run_reader(command: list[str], *, what: str, inputs: dict[int, int] | None = None) -> bytes:
    """Standard output of a command that reads only what it is given, without the user's
    GnuPG variables: ``inputs`` maps a file descriptor of the command to one of ours (a pipe
    already holding everything it will read); standard input and error are otherwise
    /dev/null.

    ``posix_spawn`` and pipes instead of ``subprocess`` and temporary files: a check starts
    one gpgv per entry, and this costs the parent a fraction of the CPU.
    """
    read_end, write_end = (move_high(fd) for fd in os.pipe())
    # Our descriptors are all >= FIRST_PASSED_FD and close-on-exec, the command's below it:
    # no action overwrites a descriptor another one still needs.
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
    ]
    actions += [(os.POSIX_SPAWN_DUP2, ours, theirs) for theirs, ours in (inputs or {}).items()]
    try:
        pid = os.posix_spawnp(command[0], command, _environment(), file_actions=actions)
    except FileNotFoundError:
        os.close(read_end)
        raise SignatureError(f"cannot {what}: {command[0]!r} was not found; install GnuPG 2.2 or later") from None
    finally:
        os.close(write_end)
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    chunks: list[bytes] = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                raise SignatureError(f"cannot {what}: {command[0]} did not finish")
            chunk = os.read(read_end, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def gpgv_status(gpgv_binary: str, keyring: bytes, packets: bytes, data: bytes) -> StatusLines:
    """Status lines of gpgv checking the signature ``packets`` over ``data`` against the
    binary ``keyring`` only."""
    keyring_path = _workspace.keyring(keyring)
    folder = os.path.dirname(keyring_path)
    inputs: dict[int, int] = {}
    written: list[str] = []
    arguments: list[str] = []
    try:
        # Binary: exactly the bytes we checked. Through a pipe when they fit, else a file.
        for target, content, suffix in ((3, packets, ".sig"), (4, data, ".data")):
            pipe = filled_pipe(content)
            if pipe is not None:
                inputs[target] = pipe
                arguments.append(f"/dev/fd/{target}")
                continue
            handle, path = tempfile.mkstemp(prefix="directory247-gpgv-", suffix=suffix)  # may be large
            written.append(path)
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            arguments.append(path)
        output = _run_reader(
            [gpgv_binary, "--homedir", folder, "--keyring", keyring_path, "--status-fd", "1", *arguments],
            what="verify signatures",
            inputs=inputs,
        )
    finally:
        for pipe in inputs.values():
            os.close(pipe)
        for path in written:
            os.unlink(path)
    return status_lines(output)


# --------------------------------------------------------------------------- many signatures: one gpg


class SharedHome:
    """A throwaway, private GnuPG home (in memory where there is one) in which ONE gpg reads
    many key files and checks many signatures, each given as its detached signature packets
    followed by a literal data packet of exactly its bytes. Used as a context manager; a
    missing gpg raises ``SignatureError``, a folder that cannot be written ``OSError``.

    Unlike gpgv's keyring of one State's keys, every key imported here verifies every
    signature checked here: which lines may be attributed to whom is for the caller."""

    def __init__(self, gpg_binary: str = "gpg") -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="directory247-batch-", dir=_memory_folder())
        # --no-autostart: importing would otherwise start a gpg-agent (to look for secret keys).
        self._base = [gpg_binary, "--homedir", self._folder.name, "--no-options", "--batch", "--no-autostart",
                      "--disable-dirmngr", "--trust-model", "always"]

    def __enter__(self) -> SharedHome:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._folder.cleanup()

    def import_keys(self, binary: bytes) -> bytes | None:
        """Import binary key files and return gpg's colon listing of the home; None if gpg failed."""
        # As gpgv reads the key files: as they are (no-repair-keys, which also spares gpg a
        # second check of every self-signature), local self-signatures included (a
        # non-exportable revocation counts for gpgv; gpg drops it on import otherwise).
        imported = run([*self._base, "--import-options", "no-repair-keys,import-local-sigs", "--import"],
                       binary, what="import the authorised keys")
        if imported.returncode != 0:
            return None
        listing = run([*self._base, "--with-colons", "--list-keys"], b"", what="read the authorised keys")
        return listing.stdout if listing.returncode == 0 else None

    def status_many(self, messages: Sequence[tuple[bytes, bytes]]) -> dict[int, StatusLines]:
        """gpg's status lines on each ``(signature packets, data)``, by position; one whose
        lines cannot be attributed for certain is left out."""
        folder = os.path.join(self._folder.name, "messages")
        os.mkdir(folder, 0o700)
        paths = []
        for position, (packets, data) in enumerate(messages):
            path = os.path.join(folder, str(position))
            with open(path, "wb") as file:
                file.write(packets + literal_packet(data))
            paths.append(path)
        # gpg stops at the first BAD signature; the files after it are given to a new run
        # (the bad one is left out).
        segments: dict[int, StatusLines] = {}
        pending = list(range(len(paths)))
        while pending:
            checked = run([*self._base, "--status-fd", "1", "--verify-files"],
                          "".join(paths[number] + "\n" for number in pending).encode(), what="verify signatures")
            found, started = file_segments(checked.stdout, len(paths), folder)
            segments.update((number, lines) for number, lines in found.items() if number in pending)
            if started is None or started not in pending:
                break
            pending = pending[pending.index(started) + 1:]
        return segments
