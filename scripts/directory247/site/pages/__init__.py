"""Markdown pages of the site, generated from published releases. Pure: models in, text out.

``render_pages`` returns ``{path: markdown}`` for the release shown (the last one given) and
never reads files, prints or exits; the build pipeline (``site.py``) writes the pages next to
the hand-written guides and runs MkDocs. Every data value goes through ``markup.escape`` and
sits in a raw HTML block, so no entry can inject markup, links, table cells or template syntax.

One module per page kind: ``home``, ``directory`` (index and print view), ``state`` (with
``request_templates``) and ``releases``; ``published`` holds the typed inputs and
``overdue`` the overdue and failed-test markers they share.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from . import directory, home, releases, state
from .published import PublishedRelease

#: The generated pages of the global navigation, in order; State pages are kept out of it.
NAV: tuple[tuple[str, str], ...] = (
    ("Home", home.PAGE),
    ("Directory", directory.PAGE),
    ("Releases and downloads", releases.PAGE),
    ("Print view", directory.PRINT_PAGE),
)


def render_pages(published: Sequence[PublishedRelease], *, guides: Collection[str] = ()) -> dict[str, str]:
    """Every generated page for the last release of ``published`` (oldest first).

    ``guides`` names the hand-written pages that exist (``verify.md``...), so pages link to them
    only when they are there.
    """
    if not published:
        raise ValueError("no release to render")
    current, tests = published[-1].release, published[-1].reachability
    pages = dict([
        home.render(current, guides, tests),
        directory.render_index(current, tests),
        directory.render_print(current, tests),
        releases.render(published, guides),
    ])
    for entry in current.entries:
        path, text = state.render(entry, published)
        pages[path] = text
    return pages


__all__ = ["NAV", "PublishedRelease", "render_pages"]
