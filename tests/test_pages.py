"""The generated Markdown and the build pipeline, without a browser.

Fast checks first: the one escaping function (table-driven, and through Python-Markdown with
the site's own extensions), link targets, titles, the pages of the demo releases, a hostile
entry. Then the real build (shared with the browser tests, once per session): strict and
clean, nothing from another host, the layout of versions and downloads, byte-identical
rebuilds, and the guard that keeps ``--out`` from replacing a folder it did not build.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import markdown
import pytest
import yaml

import sitetools
from conftest import ROOT
from directory247.cli import main
from directory247.site.bundle import versions_json
from directory247.site.load import load_archive
from directory247.site.pages import render_pages
from directory247.site.pages.common import GUIDES, regions
from directory247.site.pages.markup import escape, mailto_href, tel_href, time_zone_attr, title_text
from directory247.site.pages.published import PublishedRelease, parse_changes, parse_manifest

MARKDOWN_SPECIALS = "\\`*_{}[]()#|!<>&\"'~^=+:@$%"

# --- escape -----------------------------------------------------------------------------

HOSTILE_VALUES = [
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "' onclick='alert(1)",
    "{ onclick=alert(1) }",
    "{: .class #id onclick=alert(1) }",
    "| a | b |",
    "[x](javascript:alert(1))",
    "![img](x)",
    "<https://evil.example/>",
    "{{ config.extra }} {% include 'x' %}",
    "**bold** __strong__ *em* _em_ `code` ~~del~~ ==mark== ^^ins^^",
    "# heading",
    "line\n\n</div><script>alert(2)</script>",
    "line\r\nnext\u2028sep\u0085nel",
    "--8<-- '/etc/passwd'",
    "\\<escaped\\>",
    "&lt;already escaped&gt; &amp;",
    "\x02wzxhzdk:0\x03",
    "abc\u202edcba",
    "Côte d'Ivoire / Հայաստան / 日本",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_escape_leaves_no_syntax_character(value: str) -> None:
    out = escape(value)
    bare = re.sub(r"&(?:#[0-9]+|amp|lt|gt|quot);", "", out)
    assert not set(bare) & set(MARKDOWN_SPECIALS), out
    assert "\n" not in out and "\r" not in out


@pytest.mark.parametrize("value", [v for v in HOSTILE_VALUES if "\x02" not in v and "\u202e" not in v])
def test_escape_round_trips_to_the_same_text(value: str) -> None:
    expected = value.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u0085", "\n").replace("\r", "\n")
    assert html.unescape(escape(value)) == expected


def test_escape_replaces_controls_and_bidi_overrides() -> None:
    assert escape("a\x00b\x02c\u202ed") == "a\ufffdb\ufffdc\ufffdd"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def site_markdown() -> markdown.Markdown:
    """Python-Markdown with the extensions of the site's mkdocs.yml."""

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_constructor("!ENV", lambda loader, node: False)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    names, configs = [], {}
    for item in config["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        names.append(name)
        configs[name] = options or {}
    return markdown.Markdown(extensions=names, extension_configs=configs)


def parse_html(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    parser.close()
    return parser


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_escaped_value_renders_as_text_through_markdown(value: str) -> None:
    md = site_markdown()
    for source in (f"<div><p>{escape(value)}</p></div>", f"<table><tr><td>{escape(value)}</td></tr></table>",
                   f'<div data-x="{escape(value)}"><p>x</p></div>', f"text {escape(value)} text"):
        rendered = md.reset().convert(source)
        found = parse_html(rendered)
        assert set(found.tags) <= {"div", "p", "table", "tr", "td", "tbody"}, rendered
        assert all(name == "data-x" for name, _ in found.attrs), rendered


# --- link targets and titles ------------------------------------------------------------

@pytest.mark.parametrize(("number", "ok"), [("+4721234567", True), ("4721234567", False), ("+47 21", False),
                                            ('+1" onclick="x', False), ("+0123456", False), ("javascript:1", False)])
def test_tel_href_only_for_e164(number: str, ok: bool) -> None:
    assert (tel_href(number) is not None) is ok
    if ok:
        assert html.unescape(tel_href(number) or "") == f"tel:{number}"


@pytest.mark.parametrize(("address", "ok"), [("cyber@police.no.example", True), ('a@b.example" x="y', False),
                                             ("javascript:alert(1)", False), ("a@b.example?cc=x@y", False),
                                             ("a b@c.example", False)])
def test_mailto_href_only_for_plain_addresses(address: str, ok: bool) -> None:
    assert (mailto_href(address) is not None) is ok


def test_time_zone_attribute_only_for_zone_names() -> None:
    assert time_zone_attr("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos&#95;Aires"
    assert time_zone_attr('Europe/Oslo" onload="x') is None


def test_titles_keep_only_harmless_characters() -> None:
    assert title_text("Côte d'Ivoire (Côte d\u2019Ivoire)") == "Côte d'Ivoire (Côte d\u2019Ivoire)"
    assert title_text("<script>alert(1)</script> &lt;/title&gt;") == "scriptalert(1)script lttitlegt"
    assert title_text("日本 {{ x }} | [y]") == "日本 x y"


def test_every_demo_state_has_a_region() -> None:
    codes = {e.code for e in sitetools.demo_entries()}
    table = regions()
    assert codes <= set(table)
    assert set(table.values()) == {"Africa", "Americas", "Asia", "Europe", "Oceania"}


# --- pages of the demo releases ---------------------------------------------------------

def _published(tmp_path: Path) -> list[PublishedRelease]:
    return load_archive(sitetools.make_archive(tmp_path / "releases"))


def test_pages_of_the_demo_release(tmp_path: Path) -> None:
    archive = _published(tmp_path)
    pages = render_pages(archive, guides={"verify.md"})
    entries = sitetools.demo_entries()
    assert {"index.md", "directory.md", "releases.md", "print.md"} <= set(pages)
    assert {f"states/{e.code.lower()}.md" for e in entries} <= set(pages)
    norway = pages["states/no.md"]
    assert f'href="tel:{escape(sitetools.NORWAY_NEW_PHONE)}"' in norway
    assert 'title: "Norway (Norge)"' in norway
    assert sitetools.DEMO_SIGNER in norway and "first published" in norway
    assert escape(sitetools.norway_old_phone()) in norway  # the history's "before"
    assert 'data-tz="Europe/Oslo"' in norway
    assert "Demonstration data" in pages["index.md"] and "Demonstration data" in norway
    index = pages["directory.md"]
    assert index.count("<tr data-name=") == len(entries)
    assert 'data-name="Norway Norge NO"' in index and 'data-region="Europe"' in index
    releases = pages["releases.md"]
    assert "../downloads/2026.11.2/directory.json" in releases and "../downloads/2026.11.1/manifest.json" in releases
    directory_json = (tmp_path / "releases" / "2026.11.2" / "directory.json").read_bytes()
    assert hashlib.sha256(directory_json).hexdigest() in releases
    assert 'href="verify.html"' in releases and "exports.html" not in releases


def test_pages_are_deterministic(tmp_path: Path) -> None:
    archive = _published(tmp_path)
    assert render_pages(archive) == render_pages(list(archive))


def test_overdue_is_judged_at_release_time(tmp_path: Path) -> None:
    norway = next(e for e in sitetools.demo_entries() if e.code == "NO")
    old = dataclasses.replace(norway, confirmed=dt.date(2025, 11, 1))
    published = [PublishedRelease(sitetools.make_release("2026.11.1", 1, (old,), "2026-11-20T12:00:00"),
                                  None, (), ())]
    page = render_pages(published)["states/no.md"]
    assert "re-confirmation overdue since 2026-11-01" in html.unescape(page)
    fresh = [PublishedRelease(sitetools.make_release("2026.11.1", 1, (old,), "2026-10-20T12:00:00"), None, (), ())]
    assert "overdue" not in render_pages(fresh)["states/no.md"]


def test_hostile_entry_pages_render_inert_through_markdown() -> None:
    norway = next(e for e in sitetools.demo_entries() if e.code == "NO")
    hostile = sitetools.hostile_entry(norway)
    release = sitetools.make_release("2026.11.1", 1, (norway, hostile), "2026-11-20T12:00:00")
    log = parse_changes(json.dumps({"from": None, "to": "2026.11.1", "changes": [],
                                    "summary": ["<script>alert(1)</script>"]}).encode())
    pages = render_pages([PublishedRelease(release, log, (), ())])
    md = site_markdown()
    for path, text in pages.items():
        front, _, body = text.partition("\n---\n")
        title = yaml.safe_load(front.removeprefix("---\n"))["title"]
        assert title == title_text(title), path
        rendered = md.reset().convert(body)
        found = parse_html(rendered)
        assert "script" not in found.tags and "img" not in found.tags, path
        assert not [n for n, _ in found.attrs if n.startswith("on")], path
        hrefs = [v or "" for n, v in found.attrs if n == "href"]
        assert not [h for h in hrefs if h.lower().startswith(("javascript", "data", "vbscript"))], path
        assert not [h for h in hrefs if urlsplit(h).netloc], path
    state = pages["states/xx.md"]
    assert 'title: "Hostile scriptalert(1)script x(javascriptalert(1))' in state
    assert state.count('href="tel:') == 1  # the hostile number is shown, not linked
    assert 'href="mailto:x' not in state and 'href="mailto:javascript' not in state


def test_parse_changes_and_manifest() -> None:
    log = parse_changes(b'{"from": "2026.11.1", "to": "2026.11.2", "changes": [{"code": "NO", '
                        b'"field": "serial", "kind": "changed", "old": 1, "new": 2}], "summary": ["x"]}')
    assert log.for_entry("NO")[0].new == 2 and log.summary == ("x",)
    files = parse_manifest(b'{"files": {"b.csv": {"sha256": "00", "bytes": 3}, '
                           b'"a.json": {"sha256": "11", "bytes": 1}}}')
    assert [f.name for f in files] == ["a.json", "b.csv"]
    with pytest.raises(TypeError):
        parse_manifest(b'{"files": {"a": {"sha256": "1", "bytes": "3"}}}')


def test_versions_json_in_mikes_format(tmp_path: Path) -> None:
    assert json.loads(versions_json(_published(tmp_path))) == [
        {"version": "2026.11.2", "title": "2026.11.2", "aliases": ["latest"]},
        {"version": "2026.11.1", "title": "2026.11.1", "aliases": []},
    ]


# --- the real build ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sitetools.demo_site(tmp_path_factory.mktemp("demo-site"))


class _Loads(HTMLParser):
    """Every URL a page would load or link to: src, href, action, srcset, poster, data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "formaction") and value:
                self.urls.append((tag, name, value.strip()))


def test_build_layout(site: Path) -> None:
    assert json.loads((site / "versions.json").read_text())[0] == {
        "version": "2026.11.2", "title": "2026.11.2", "aliases": ["latest"]}
    for version in ("2026.11.1", "2026.11.2"):
        assert (site / version / "index.html").is_file()
        assert (site / version / "states" / "no.html").is_file()
        assert (site / "downloads" / version / "directory.json").is_file()
        assert sorted(p.name for p in (site / "downloads" / version).iterdir()) == sorted(
            p.name for p in (site.parent / "releases" / version).iterdir())  # exactly the release: it verifies
        bundle = site / "downloads" / f"directory247-site-{version}.zip"
        with zipfile.ZipFile(bundle) as archive:
            names = set(archive.namelist())
        top = f"directory247-site-{version}"
        assert {f"{top}/index.html", f"{top}/{version}/index.html", f"{top}/{version}/search/search_index.js",
                f"{top}/downloads/{version}/directory.json"} <= names
    latest, newest = site / "latest" / "states" / "no.html", site / "2026.11.2" / "states" / "no.html"
    assert latest.read_bytes() == newest.read_bytes()
    assert 'url=latest/index.html' in (site / "index.html").read_text()
    nav = (site / "latest" / "index.html").read_text()
    assert "states/no.html" not in nav.split('class="md-content"')[0]  # State pages stay out of the navigation


def test_offline_bundle_is_what_mkdocs_builds_without_the_version_selector(site: Path, tmp_path: Path) -> None:
    """The bundle is the web build with the selector taken out; that must be exactly what a
    second MkDocs build without the selector gives (it guards SELECTOR_EDITS against the theme)."""
    from directory247.site import build as site_build

    archive = load_archive(site.parent / "releases")
    newest = archive[-1]
    guides = site_build.guides_in(ROOT / "docs")
    docs = tmp_path / "docs"
    site_build.stage_docs(docs, ROOT / "docs", render_pages(archive, guides=guides))
    config = tmp_path / "mkdocs.yml"
    config.write_text(site_build.staging_config(ROOT / "mkdocs.yml", docs, tmp_path / "built", guides,
                                                versioned=False), encoding="utf-8")
    site_build.run_mkdocs(site_build.MkDocsRun(config, int(newest.release.released.timestamp())))
    expected = _tree(tmp_path / "built")
    top = f"directory247-site-{newest.version}/{newest.version}/"
    with zipfile.ZipFile(site / "downloads" / f"directory247-site-{newest.version}.zip") as bundle:
        found = {name[len(top):]: bundle.read(name) for name in bundle.namelist() if name.startswith(top)}
    assert found.keys() == expected.keys()
    assert [name for name in expected if found[name] != expected[name]] == []
    web = (site / newest.version / "index.html").read_bytes()
    assert b'"provider": "mike"' in web and b'"provider": "mike"' not in found["index.html"]


def test_a_page_without_the_selector_markup_stops_the_bundle() -> None:
    from directory247.site.bundle import offline_page
    from directory247.site.load import SiteError

    with pytest.raises(SiteError, match=r"index\.html: the page does not have the expected version selector"):
        offline_page(b"<html>no selector</html>", "index.html")


def test_nothing_loads_from_another_host(site: Path) -> None:
    """No page loads anything from another host; generated pages do not even link to one
    (hand-written guides may link to a specification)."""
    guides = {name.removesuffix(".md") + ".html" for name, _ in GUIDES}
    outside = []
    for page in sorted(site.rglob("*.html")):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, name, url in parser.urls:
            parts = urlsplit(url)
            if tag == "a" and (parts.scheme in ("tel", "mailto") or page.name in guides):
                continue
            if parts.scheme or parts.netloc or url.startswith("//"):
                outside.append(f"{page.relative_to(site)}: <{tag} {name}={url}>")
    assert not outside, outside[:20]
    for css_or_js in sorted(site.rglob("*.css")):
        assert "fonts.googleapis" not in css_or_js.read_text(encoding="utf-8", errors="replace")


class _Anchors(HTMLParser):
    """The ids a page defines and the links it makes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name):
                self.ids.add(str(values[name]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))


def test_every_internal_link_and_anchor_resolves(site: Path) -> None:
    """MkDocs does not check anchors (it would cost a fifth of a large build): every link
    from one page of the site to another, and to an #anchor in it, is checked here."""
    parsed: dict[Path, _Anchors] = {}

    def page(path: Path) -> _Anchors:
        if path not in parsed:
            parser = _Anchors()
            parser.feed(path.read_text(encoding="utf-8"))
            parsed[path] = parser
        return parsed[path]

    broken = []
    checked = 0
    for path in sorted((site / "latest").rglob("*.html")):
        if path.name == "404.html":
            continue  # served at any address, so its links are absolute
        for link in page(path).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not (parts.path.endswith(".html") or not parts.path):
                continue
            target = (path.parent / parts.path).resolve() if parts.path else path
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link} (no such page)")
            elif parts.fragment and parts.fragment not in page(target).ids:
                broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
            checked += 1
    assert not broken, broken[:20]
    assert checked > 1000


def test_search_index_and_sitemap_are_release_dated(site: Path) -> None:
    sitemap = (site / "2026.11.1" / "sitemap.xml").read_text()
    assert "<lastmod>2026-11-20</lastmod>" in sitemap or "<url>" not in sitemap
    index = json.loads((site / "latest" / "search" / "search_index.json").read_text())
    assert any(doc["location"] == "states/no.html" and doc["title"] == "Norway (Norge)" for doc in index["docs"])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_twice_gives_identical_bytes(tmp_path: Path) -> None:
    norway = next(e for e in sitetools.demo_entries() if e.code == "NO")
    sweden = next(e for e in sitetools.demo_entries() if e.code == "SE")
    release = sitetools.make_release("2026.11.1", 1, (norway, sweden), "2026-11-20T12:00:00")
    releases = tmp_path / "releases"
    sitetools.write_release(releases / "2026.11.1", release, None, [], ["first"])
    first = _tree(sitetools.build(tmp_path / "one", releases))
    second = _tree(sitetools.build(tmp_path / "two", releases))
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    # and rebuilding into the same place swaps the new site in
    sitetools.build(tmp_path / "one", releases)
    assert _tree(tmp_path / "one") == first


def test_cli_build_refuses_what_it_did_not_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("x")
    releases = tmp_path / "releases"
    releases.mkdir()
    assert main(["build", "--out", str(precious), "--releases", str(releases)]) == 2
    assert "not a site built by directory247" in capsys.readouterr().err
    assert (precious / "thesis.tex").exists()
    assert main(["build", "--out", str(tmp_path / "site"), "--releases", str(releases)]) == 2
    assert "holds no release" in capsys.readouterr().err
    assert main(["build", "--out", str(tmp_path / "site"), "--releases", str(tmp_path / "none")]) == 2


def test_cli_build_reports_a_bad_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "releases" / "2026.11.1"
    folder.mkdir(parents=True)
    (folder / "directory.json").write_text('{"version": "2026.11.1"}')
    assert main(["build", "--out", str(tmp_path / "site"), "--releases", str(tmp_path / "releases")]) == 1
    assert "not a genuine release (manifest.json: missing)" in capsys.readouterr().err


def test_cli_build_refuses_a_tampered_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    releases = tmp_path / "releases"
    shutil.copytree(ROOT / "releases", releases)
    latest = json.loads((releases / "index.json").read_text())["latest"]
    data = (releases / latest / "directory.json").read_bytes()
    (releases / latest / "directory.json").write_bytes(data.replace(b"+4721234568", b"+4721234569", 1))
    assert main(["build", "--out", str(tmp_path / "site"), "--releases", str(releases)]) == 1
    err = capsys.readouterr().err
    assert f"{latest}: not a genuine release (directory.json: sha256 mismatch)" in err
    assert not (tmp_path / "site").exists()
    assert not (tmp_path / "site").exists()
