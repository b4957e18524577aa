"""``releases/feed.atom``: an Atom 1.0 (RFC 4287) feed of the releases, newest first.

Owns the feed layout and ``ReleaseSummary``, the little it needs to know of a release.
Pure: summaries in, bytes out; no clock (``updated`` is the newest release time), no files.
The feed is rebuilt from every published release, so it never has to be edited in place.

Layout: the feed and each entry have an ``id`` that is a name-based UUID (``urn:uuid:``,
version 5) of a fixed key (``feed_key``, plus ``#demonstration`` for demonstration data,
so a demonstration feed and the real one never share ids) and of the version: the same
release keeps the same id in every rebuild and on any host. Each entry links to its release
folder: ``<version>/`` relative to the feed (which sits in ``releases/``), or
``<site_url>releases/<version>/`` when ``site_url`` is given. The summary is plain text
(``type="text"``): counts, then one line per State from ``changes.summarise``.

Safety: the tree is built with ``xml.etree.ElementTree``, which escapes ``&``, ``<``, ``>``
and quotes; no value is ever pasted into markup. Characters XML 1.0 cannot carry (C0
controls other than tab, LF, CR; surrogates; U+FFFE/U+FFFF) become U+FFFD. A feed reader
still decides how to show the text; nothing here is markup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from ..entry.model import timestamp
from .common import DEMO_NOTICE, TITLE

ATOM_NS = "http://www.w3.org/2005/Atom"
DEFAULT_FEED_KEY = "https://directory247.invalid/releases/feed.atom"
DEFAULT_AUTHOR = "Secretariat of the 24/7 Directory (Council of Europe, Cybercrime Division)"
FEED_NAME = "feed.atom"

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ReleaseSummary:
    """What the feed says about one release. ``changes`` are ``changes.summarise`` lines;
    ``counts`` the ``counts`` object of ``changes.json`` when known."""

    version: str
    serial: int
    released: dt.datetime
    changes: Sequence[str] = ()
    counts: Mapping[str, int] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # A list would let a caller change a frozen summary after the fact.
        object.__setattr__(self, "changes", tuple(self.changes))

    @classmethod
    def from_changes_json(cls, version: str, serial: int, released: dt.datetime, data: bytes) -> ReleaseSummary:
        """Build a summary from the bytes of a release's ``changes.json`` (as ``changes.to_object``
        writes it); raises ``KeyError``/``TypeError``/``ValueError`` when malformed."""
        obj = json.loads(data.decode("utf-8"))
        lines = obj["summary"]
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise TypeError("changes.json summary must be a list of strings")
        counts = obj.get("counts")
        if counts is not None and not (isinstance(counts, dict)
                                       and all(isinstance(v, int) for v in counts.values())):
            raise TypeError("changes.json counts must map names to integers")
        return cls(version=version, serial=serial, released=released, changes=tuple(lines), counts=counts)


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_text(summary: ReleaseSummary) -> str:
    """The plain-text summary of one release: a count line, then the per-State lines."""
    if summary.counts is not None:
        c = summary.counts
        head = (f"States: {c.get('states_changed', 0)} changed, {c.get('states_added', 0)} added, "
                f"{c.get('states_removed', 0)} removed; {_plural(c.get('field_changes', 0), 'field change')}.")
    elif summary.changes:
        head = f"{_plural(len(summary.changes), 'State')} with changes."
    else:
        head = "No entry changed."
    return "\n".join((head, *summary.changes))


def _feed_uuid(feed_key: str, demo: bool) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, feed_key + ("#demonstration" if demo else ""))


def _base(site_url: str) -> str:
    return site_url if site_url.endswith("/") else site_url + "/"


def render(releases: Sequence[ReleaseSummary], site_url: str | None = None, *, demo: bool = False,
           title: str = TITLE, author: str = DEFAULT_AUTHOR, feed_key: str = DEFAULT_FEED_KEY) -> bytes:
    """The feed of ``releases`` (any order; written newest first). Raises ``ValueError`` with
    no release (a feed needs an ``updated`` time) or two releases of one version or serial."""
    if not releases:
        raise ValueError("a feed needs at least one release")
    if len({r.version for r in releases}) != len(releases) or len({r.serial for r in releases}) != len(releases):
        raise ValueError("two releases share a version or a serial")
    ordered = sorted(releases, key=lambda r: r.serial, reverse=True)
    feed_uuid = _feed_uuid(feed_key, demo)

    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", feed_uuid.urn)
    _sub(feed, "title", title + (" (demonstration data)" if demo else ""))
    _sub(feed, "subtitle", DEMO_NOTICE if demo else "Releases of the directory, newest first.")
    _sub(feed, "updated", timestamp(ordered[0].released))
    _sub(_sub(feed, "author"), "name", author)
    if site_url is not None:
        base = _base(site_url)
        _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}releases/{FEED_NAME}")
        _sub(feed, "link", rel="alternate", type="text/html", href=base)
    for release in ordered:
        folder = quote(release.version, safe="") + "/"
        href = f"{_base(site_url)}releases/{folder}" if site_url is not None else folder
        entry = _sub(feed, "entry")
        _sub(entry, "id", uuid.uuid5(feed_uuid, release.version).urn)
        _sub(entry, "title", f"Release {release.version}")
        _sub(entry, "published", timestamp(release.released))
        _sub(entry, "updated", timestamp(release.released))
        _sub(entry, "link", rel="alternate", href=href)
        _sub(entry, "summary", summary_text(release), type="text")
        if demo:
            _sub(entry, "category", term="demonstration")
    ET.indent(feed, space="  ")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
