"""Snapshots of the directory repository: the working tree, or a trusted git revision.

The PR gate reads the change under review from the working tree and everything it trusts
(keys, authorisations, the published serials) from a base revision, through the same small
interface. Only regular files are returned; symlinks and other special files are reported,
never followed, so a link cannot smuggle a file from elsewhere into an entry or a key.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

#: Size limit for any one file read through a snapshot (entries are capped lower by the loader).
MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Special:
    """A path that is not a regular file (symlink, folder where a file belongs, device...)."""

    path: str
    kind: str


class Snapshot:
    """The files of a repository under some top-level folders, as bytes, by relative path."""

    label: str

    def files(self, folder: str) -> dict[str, bytes]:
        raise NotImplementedError

    def specials(self, folder: str) -> list[Special]:
        raise NotImplementedError

    def read(self, path: str) -> bytes | None:
        folder = path.split("/", 1)[0]
        return self.files(folder).get(path)


class WorkTree(Snapshot):
    """The checked-out files, read without following symlinks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = "working tree"
        self._cache: dict[str, tuple[dict[str, bytes], list[Special]]] = {}

    def _scan(self, folder: str) -> tuple[dict[str, bytes], list[Special]]:
        if folder in self._cache:
            return self._cache[folder]
        found: dict[str, bytes] = {}
        specials: list[Special] = []
        root = os.fspath(self.root)
        top = os.path.join(root, folder)
        skip = len(os.path.join(root, ""))  # the root and its separator, off each path

        def relative(full: str) -> str:
            return full[skip:].replace(os.sep, "/")

        if os.path.islink(top):
            specials.append(Special(folder, "symbolic link"))
        elif os.path.isdir(top):
            # Plain strings, not pathlib: a check reads hundreds of files this way.
            for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
                for name in sorted(dirnames):
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        specials.append(Special(relative(full), "symbolic link"))
                for name in sorted(filenames):
                    full = os.path.join(dirpath, name)
                    rel = relative(full)
                    info = os.lstat(full)
                    if stat.S_ISLNK(info.st_mode):
                        specials.append(Special(rel, "symbolic link"))
                    elif not stat.S_ISREG(info.st_mode):
                        specials.append(Special(rel, "special file"))
                    elif info.st_size > MAX_FILE_BYTES:
                        specials.append(Special(rel, f"file of {info.st_size} bytes"))
                    else:
                        with open(full, "rb") as handle:
                            found[rel] = handle.read()
        self._cache[folder] = (dict(sorted(found.items())), specials)
        return self._cache[folder]

    def files(self, folder: str) -> dict[str, bytes]:
        return self._scan(folder)[0]

    def specials(self, folder: str) -> list[Special]:
        return self._scan(folder)[1]


class GitRevision(Snapshot):
    """The files of a commit, read with ``git cat-file --batch`` (one process per folder)."""

    def __init__(self, root: Path, ref: str) -> None:
        self.root = root
        self.ref = ref
        self.label = ref
        try:
            self.commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
        except _GitFailed:
            raise UsageError(f"'{ref}' is not a commit of the repository at {root}") from None
        self._cache: dict[str, tuple[dict[str, bytes], list[Special]]] = {}

    def _scan(self, folder: str) -> tuple[dict[str, bytes], list[Special]]:
        if folder in self._cache:
            return self._cache[folder]
        listing = _git(self.root, "ls-tree", "-r", "-z", "--full-tree", self.commit, "--", folder)
        blobs: list[tuple[str, str]] = []
        specials: list[Special] = []
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            path = raw_path.decode("utf-8", errors="replace")
            if kind == "blob" and mode in ("100644", "100755"):
                blobs.append((path, sha))
            else:
                specials.append(Special(path, "symbolic link" if mode == "120000" else f"git {kind} {mode}"))
        contents = _cat_blobs(self.root, [sha for _, sha in blobs])
        found = {path: contents[sha] for path, sha in blobs}
        self._cache[folder] = (found, specials)
        return self._cache[folder]

    def files(self, folder: str) -> dict[str, bytes]:
        return self._scan(folder)[0]

    def specials(self, folder: str) -> list[Special]:
        return self._scan(folder)[1]


class _GitFailed(Exception):
    pass


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, check=False,
                              timeout=300)
    except FileNotFoundError:
        raise UsageError("git is needed for --base; install git") from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode(errors="replace").strip())
    return done.stdout


def _cat_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    if not shas:
        return {}
    unique = sorted(set(shas))
    out = _git(root, "cat-file", "--batch", stdin=("\n".join(unique) + "\n").encode())
    result: dict[str, bytes] = {}
    pos = 0
    for _ in unique:
        header_end = out.index(b"\n", pos)
        sha, _kind, size = out[pos:header_end].decode().split()
        start = header_end + 1
        result[sha] = out[start:start + int(size)]
        pos = start + int(size) + 1
    return result
