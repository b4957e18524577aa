"""Where the project's own files are: the checkout that holds ``schema/`` and ``directory/``.

A Party's officer runs the tool from their clone of the directory repository; the tool is
installed from the same tree, so the repository root is found from the working directory
first and from the installed sources second.
"""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("schema") / "entry.schema.json"


def project_root() -> Path:
    """The directory repository in use: ``$DIRECTORY247_ROOT``, else the nearest parent of
    the working directory holding ``schema/entry.schema.json``, else the source tree."""
    configured = os.environ.get("DIRECTORY247_ROOT")
    if configured:
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def schema_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "schema"


def directory_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "directory"
