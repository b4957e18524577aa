"""Pieces every generated page shares: labels, regions, language names, links, banners.

Links between generated pages are relative, written for ``use_directory_urls: false`` (a page
``states/no.md`` is ``states/no.html``), so the same pages work served and from ``file://``.
A release's downloads live beside the version folders, at ``../downloads/<version>/`` from a
version's root, both on the site and in the offline bundle.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import posixpath
from functools import lru_cache
from importlib import resources

import pycountry

from ...entry.model import Release
from ...formats.common import DEMO_NOTICE
from .markup import escape

STATUS_LABELS = {"party": "Party", "signatory": "Signatory", "invited": "Invited to accede"}
STATUS_ORDER = ("party", "signatory", "invited")
AUTHORITY_TYPES = {"police": "Police", "prosecution": "Prosecution", "other": "Other"}
PHONE_KINDS = {"24/7": "24/7", "office": "office", "mobile": "mobile", "fax": "fax"}
REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")

#: Hand-written guides of ``docs/``, in navigation order, with their titles; each is linked
#: (navigation, home page) only when it exists.
GUIDES: tuple[tuple[str, str], ...] = (
    ("guide-party.md", "Guide for a Party's officer"),
    ("guide-secretariat.md", "Guide for the Secretariat"),
    ("guide-freshness.md", "Keeping entries fresh"),
    ("verify.md", "Verifying a download"),
    ("exports.md", "The exports and their formats"),
    ("bench.md", "Build and scale"),
)


def status_label(status: str) -> str:
    return escape(STATUS_LABELS.get(status, status))


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """State code -> UN M49 region, from the table shipped in ``directory247/data``."""
    text = resources.files("directory247").joinpath("data/regions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(keepends=True)
                                              if not line.startswith("#"))))
    return {row["code"]: row["region"] for row in rows}


def region(code: str) -> str:
    return regions().get(code, "Other")


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    """English name of an ISO 639 code (as given in the entry), the code itself if unknown."""
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    name = getattr(found, "name", None) if found is not None else None
    return name if isinstance(name, str) else code


def languages(codes: tuple[str, ...]) -> str:
    """Escaped ``Name (code)`` list."""
    return ", ".join(f"{escape(language_name(c))} ({escape(c)})" for c in codes) or "none given"


def href(page: str, target: str) -> str:
    """Relative link from generated page ``page`` (``states/no.md``) to ``target`` (``index.html``)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def download_href(page: str, path: str) -> str:
    """Link from generated page ``page`` to ``path`` under the site's ``downloads/``."""
    return "../" * (page.count("/") + 1) + f"downloads/{path}"


def state_page(code: str) -> str:
    return f"states/{code.lower()}.md"


def html_of(page: str) -> str:
    return page[:-3] + ".html"


def day(value: dt.date | None) -> str:
    return value.isoformat() if value else "not given"


def moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def value_html(value: object) -> str:
    """A changed value from ``changes.json``: text as is, anything else as compact JSON; escaped."""
    if value is None:
        return "&mdash;"
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False, sort_keys=True))


def block(*lines: str) -> str:
    """A raw HTML block: no blank line inside, blank lines around, so Markdown passes it through."""
    body = "\n".join(line for line in lines if line)
    return f"\n{body}\n\n"


def release_banner(release: Release) -> str:
    return block(
        '<div class="d247-release">',
        f'<p>Release <strong class="d247-version">{escape(release.version)}</strong>'
        f" &middot; released {escape(moment(release.released))}"
        f" &middot; valid until {escape(moment(release.expires))}</p>",
        "</div>",
    )


def demo_banner(release: Release) -> str:
    if not release.demo:
        return ""
    return block(
        '<div class="admonition danger d247-demo">',
        '<p class="admonition-title">Demonstration data</p>',
        f"<p>{escape(DEMO_NOTICE)}</p>",
        "</div>",
    )


def front_matter(title: str, *, hide_toc: bool = False, hide_nav: bool = False) -> str:
    """YAML front matter; ``title`` must already be a plain title (see ``markup.title_text``)."""
    hidden = [name for name, hide in (("navigation", hide_nav), ("toc", hide_toc)) if hide]
    lines = ["---", f"title: {_yaml_string(title)}"]
    if hidden:
        lines.append("hide:")
        lines.extend(f"  - {name}" for name in hidden)
    lines.append("---")
    return "\n".join(lines) + "\n"


def _yaml_string(text: str) -> str:
    # A double-quoted YAML scalar with every non-ASCII character as \\u: JSON's own escaping.
    return json.dumps(text, ensure_ascii=True)
