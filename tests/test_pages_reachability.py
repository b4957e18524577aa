"""Freshness on the site: entries overdue at release time and contact points that failed their
last reachability test are marked on the index, the print view, the State pages and the home
page, from the release folder's ``reachability.json`` only (older releases have none).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest

import sitetools
from directory247.formats import reachability_export
from directory247.freshness.reachability import LastTest, LastTests
from directory247.site.load import SiteError, load_archive, load_release
from directory247.site.pages import render_pages
from directory247.site.pages.published import PublishedRelease
from test_pages import parse_html, site_markdown

FAILED_BADGE = "&#9888; failed test"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> list[PublishedRelease]:
    return load_archive(sitetools.make_archive(tmp_path_factory.mktemp("archive") / "releases"))


@pytest.fixture(scope="module")
def pages(archive: list[PublishedRelease]) -> dict[str, str]:
    return render_pages(archive)


def _row(index: str, code: str) -> str:
    return next(line for line in index.splitlines() if line.startswith("<tr data-name=") and f" {code}\"" in line)


def test_the_site_reads_reachability_from_the_release_folder(archive: list[PublishedRelease]) -> None:
    first, second = archive
    assert first.reachability is None  # an older release, without the file
    assert second.reachability is not None and second.reachability.version == sitetools.SECOND
    assert [t.key for t in second.reachability.results if t.failed] == [(sitetools.FAILED_STATE, 0)]


def test_index_marks_the_failed_test_in_words_and_filters_on_it(pages: dict[str, str]) -> None:
    index = pages["directory.md"]
    malta = _row(index, "MT")
    assert 'data-attention="failed"' in malta and FAILED_BADGE in malta
    assert "2026-10-20 by phone not answered" in html.unescape(malta)
    for code in ("FR", "NO", "AL"):  # FR passed its re-test; AL was never tested
        row = _row(index, code)
        assert 'data-attention=""' in row and "d247-failed" not in row and "d247-overdue" not in row
    assert index.count(FAILED_BADGE) == 1
    assert '<select name="attention" id="d247-attention">' in index
    assert '<option value="any">only entries needing attention</option>' in index
    assert '<option value="failed">failed reachability test</option>' in index
    assert "0 with re-confirmation overdue, 1 with a contact point that failed its last reachability test" in index
    printed = next(line for line in pages["print.md"].splitlines() if "<strong>Malta</strong>" in line)
    assert FAILED_BADGE in printed


def test_state_page_shows_the_last_test_of_each_contact_point(pages: dict[str, str]) -> None:
    malta = html.unescape(pages["states/mt.md"])
    assert '<div class="admonition warning d247-failed-warning">' in malta
    assert "The primary contact point did not answer the Secretariat's last reachability test (2026-10-20, " \
           "by phone)." in malta
    assert "This contact point failed its last reachability test" in malta
    assert "<tr><th>Last reachability test</th><td>" in malta and "<strong>not answered</strong>" in malta
    assert "three attempts over 20 minutes" in malta
    assert malta.index("d247-failed-warning") < malta.index("## What it can do")  # near the top
    norway = html.unescape(pages["states/no.md"])
    assert "2026-09-14 by e-mail: answered in 38 min" in norway and "d247-failed-warning" not in norway
    france = html.unescape(pages["states/fr.md"])
    assert "2026-02-12 by phone: answered at once" in france and "switchboard fault" in france
    assert "d247-failed" not in france
    sweden = html.unescape(pages["states/se.md"])
    assert sweden.count("<tr><th>Last reachability test</th>") == 2 and "answered in 240 min" in sweden
    albania = html.unescape(pages["states/al.md"])
    assert "<tr><th>Last reachability test</th><td>no reachability test recorded</td></tr>" in albania


def test_home_page_counts_overdue_and_failed(pages: dict[str, str]) -> None:
    home = pages["index.md"]
    assert 'data-count="overdue">0<' in home and 'data-count="failed">1<' in home
    assert 'href="directory.html?attention=any"' in home


def test_a_release_without_reachability_json_says_so(archive: list[PublishedRelease]) -> None:
    pages = render_pages(archive[:1])
    assert "no reachability test recorded (this release publishes no reachability results)" in pages["states/mt.md"]
    assert "d247-failed" not in pages["states/mt.md"] and "d247-failed" not in pages["directory.md"]
    assert 'data-count="failed">not published in this release<' in pages["index.md"]
    assert "no reachability test results are published with this release" in pages["directory.md"]
    assert "attention=any" not in pages["index.md"]


def test_overdue_is_marked_on_the_index_and_prominent_on_the_state_page() -> None:
    norway = sitetools.norway()
    old = dataclasses.replace(norway, confirmed=dt.date(2025, 11, 1))
    release = sitetools.make_release("2026.11.1", 1, (old,), "2026-11-20T12:00:00")
    tests = LastTests("2026.11.1", release.released, True, 1,
                      (LastTest("NO", 0, dt.date(2026, 11, 2), "email", False),))
    pages = render_pages([PublishedRelease(release, None, (), (), tests)])
    row = _row(pages["directory.md"], "NO")
    assert 'data-attention="overdue failed"' in row
    assert "&#9888; overdue</span>" in row and FAILED_BADGE in row
    state = html.unescape(pages["states/no.md"])
    assert '<p class="admonition-title">Re-confirmation overdue</p>' in state
    assert "its re-confirmation was due on 2026-11-01, before this release was cut" in state
    assert state.index("Re-confirmation overdue") < state.index("## What it can do")
    assert 'data-count="overdue">1<' in pages["index.md"]
    current = sitetools.make_release("2026.11.1", 1, (old,), "2026-10-20T12:00:00")
    fresh = render_pages([PublishedRelease(current, None, (), ())])
    assert "overdue" not in fresh["states/no.md"] and 'data-attention=""' in fresh["directory.md"]


def test_a_hostile_test_note_renders_inert() -> None:
    norway = sitetools.norway()
    hostile = sitetools.hostile_entry(norway)
    release = sitetools.make_release("2026.11.1", 1, (norway, hostile), "2026-11-20T12:00:00")
    tests = LastTests("2026.11.1", release.released, True, 1, (
        LastTest("NO", 0, dt.date(2026, 11, 2), "phone", True, 0, note=sitetools.HOSTILE_TEXT),
        LastTest("XX", 0, dt.date(2026, 11, 2), "other", False, note=sitetools.HOSTILE_TEXT),
    ))
    pages = render_pages([PublishedRelease(release, None, (), (), tests)])
    md = site_markdown()
    for path in ("states/xx.md", "states/no.md", "directory.md", "print.md", "index.md"):
        body = pages[path].partition("\n---\n")[2]
        found = parse_html(md.reset().convert(body))
        assert "script" not in found.tags and "img" not in found.tags, path
        assert not [n for n, _ in found.attrs if n.startswith("on")], path
        assert not [v for n, v in found.attrs if n == "href" and (v or "").startswith("javascript")], path
    state = pages["states/xx.md"]
    assert state.count("d247-failed-warning") == 2 and "<script>" not in state
    assert html.unescape(re.sub(r"<[^>]+>", "", md.reset().convert(state.partition("\n---\n")[2]))).count(
        sitetools.HOSTILE_TEXT) >= 2


def test_load_release_refuses_a_reachability_file_of_another_release(tmp_path: Path) -> None:
    norway = sitetools.norway()
    release = sitetools.make_release("2026.11.1", 1, (norway,), "2026-11-20T12:00:00")
    folder = sitetools.write_release(tmp_path / "2026.11.1", release, None, [], ["first"],
                                     LastTests("2026.11.9", release.released, True, 1, ()))
    with pytest.raises(SiteError, match=r"reachability\.json says version 2026\.11\.9"):
        load_release(folder)
    (folder / reachability_export.NAME).write_text('{"results": []}')
    with pytest.raises(SiteError, match="cannot read the release"):
        load_release(folder)
