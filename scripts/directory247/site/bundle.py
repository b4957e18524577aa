"""What the site serves besides its pages: the offline bundle of each release (its web build
with the version selector taken out, zipped reproducibly), each release's files under
``downloads/``, ``versions.json`` for the selector, and redirect pages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .. import publish
from .load import LATEST, SiteError
from .pages.published import PublishedRelease

#: zlib's fastest level: on these pages a fifth larger than the default level 6, in 40% of its time.
ZIP_LEVEL = 1


#: What the version selector adds to every page of the web build; the offline bundle has no
#: selector (``versions.json`` cannot be fetched from file://). Each must occur exactly once in
#: every page, or the build stops: tests/test_site.py checks the result byte for byte against
#: a real MkDocs build without the selector.
SELECTOR_EDITS: tuple[tuple[bytes, bytes], ...] = (
    (b', "version": {"default": "latest", "provider": "mike"}}</script>', b', "version": null}</script>'),
    (b'      <div data-md-color-scheme="default" data-md-component="outdated" hidden>\n        \n      </div>\n    \n',
     b""),
)


def offline_page(data: bytes, name: str) -> bytes:
    """A page of the web build as the offline build makes it: the version selector taken out."""
    for web, offline in SELECTOR_EDITS:
        if data.count(web) != 1:
            raise SiteError(f"{name}: the page does not have the expected version selector markup once; "
                            "the theme changed, update SELECTOR_EDITS in site.py")
        data = data.replace(web, offline)
    return data


def offline_files(web_build: Path) -> Iterator[tuple[str, bytes]]:
    """The offline bundle's files of one version (Material's offline plugin is on in every build,
    so the search index is already inlined in ``search/search_index.js``), sorted by name."""
    for path in _files_under(web_build):
        name = path.relative_to(web_build).as_posix()
        data = path.read_bytes()
        yield name, offline_page(data, name) if name.endswith(".html") else data


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    t = moment.astimezone(dt.UTC)
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


def _files_under(root: Path) -> Iterable[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def write_zip(files: Iterable[tuple[str, bytes]], target: Path, *, top: str, moment: dt.datetime) -> None:
    """Deterministic zip of ``(name, data)`` under folder ``top``: names in the order given (sorted
    by the callers), fixed times and modes."""
    stamp = _zip_time(moment)
    with publish.naming(target), zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                                                 compresslevel=ZIP_LEVEL) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=ZIP_LEVEL)


def redirect_page(target: str, label: str) -> str:
    """A static page that sends the reader on (works without scripts and from file://)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{label}</title>\n<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"
        f"<link rel=\"canonical\" href=\"{target}\">\n</head>\n<body>\n"
        f"<p><a href=\"{target}\">{label}</a></p>\n</body>\n</html>\n"
    )


def versions_json(archive: Sequence[PublishedRelease]) -> bytes:
    """mike's ``versions.json``: newest first, the newest aliased ``latest``."""
    newest = archive[-1].version
    items = [{"version": r.version, "title": r.version, "aliases": [LATEST] if r.version == newest else []}
             for r in reversed(archive)]
    return (json.dumps(items, indent=2) + "\n").encode("utf-8")


def copy_downloads(archive: Sequence[PublishedRelease], releases_dir: Path, target: Path) -> None:
    for item in archive:
        folder = target / item.version
        folder.mkdir(parents=True, exist_ok=True)
        for name in item.files:
            shutil.copyfile(releases_dir / item.version / name, folder / name)


def link_or_copy(source: str, target: str) -> None:
    """``latest/`` holds the same files as the newest version: hard links where the file
    system has them (the bytes are the same; a copy of the site copies them as files)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
