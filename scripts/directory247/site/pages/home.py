"""The home page: what the network is, a "find a State" box, counts, and the release shown.

The counts include what needs attention at release time: entries overdue for re-confirmation
and States with a contact point that failed its last reachability test (``freshness``), with a
link to the index filtered to them.
"""

from __future__ import annotations

from collections.abc import Collection

from ...entry.model import Release
from ...freshness.reachability import LastTests
from .common import GUIDES, STATUS_LABELS, STATUS_ORDER, block, day, demo_banner, front_matter, moment, release_banner
from .markup import escape
from .overdue import failed, overdue

PAGE = "index.md"
RELEASES_PAGE = "releases.md"


def _counts(release: Release, tests: LastTests | None) -> str:
    rows = [
        f'<tr><td>{escape(STATUS_LABELS[s])}</td><td class="d247-number" data-status-count="{escape(s)}">'
        f"{sum(1 for e in release.entries if e.status == s)}</td></tr>"
        for s in STATUS_ORDER
    ]
    late = sum(1 for e in release.entries if overdue(e, release))
    failing = sum(1 for e in release.entries if failed(tests, e.code))
    tested = str(failing) if tests is not None else "not published in this release"
    return block(
        '<table id="d247-counts">',
        "<thead><tr><th>Status under the Convention</th><th>States</th></tr></thead>",
        "<tbody>", *rows,
        f'<tr><td><strong>All States in the directory</strong></td><td class="d247-number">'
        f"<strong>{len(release.entries)}</strong></td></tr>",
        f'<tr><td>Re-confirmation overdue at release time</td><td class="d247-number" '
        f'data-count="overdue">{late}</td></tr>',
        f"<tr><td>States with a contact point that failed its last reachability test</td>"
        f'<td class="d247-number" data-count="failed">{escape(tested)}</td></tr>',
        "</tbody>", "</table>",
        '<p><a href="directory.html?attention=any">Show the entries needing attention</a></p>'
        if late or failing else "",
    )


def _treaty_as_of(release: Release) -> str:
    dates = sorted(e.treaty.as_of for e in release.entries if e.treaty.as_of is not None)
    if not dates:
        return block("<p>Treaty facts: no status date is given in this release.</p>")
    span = escape(day(dates[0])) if dates[0] == dates[-1] else f"{escape(day(dates[0]))} to {escape(day(dates[-1]))}"
    return block(f"<p>Treaty status (signature, ratification, entry into force) as of {span}, "
                 "as recorded with each entry; each State's page gives its date and source.</p>")


def render(release: Release, guides: Collection[str] = (), tests: LastTests | None = None) -> tuple[str, str]:
    """The home page of ``release``; ``tests`` its published reachability results (None: none)."""
    guide_links = [(page, label) for page, label in GUIDES if page in guides]
    parts = [
        front_matter("Home", hide_toc=True),
        "# Directory of 24/7 contact points\n",
        release_banner(release),
        demo_banner(release),
        block(
            '<form class="d247-finder" action="directory.html" method="get" role="search">',
            '<label for="d247-find">Find a State</label>',
            '<input type="search" id="d247-find" name="q" autocomplete="off" autofocus '
            'placeholder="English or native name, e.g. Norway or Norge">',
            '<button type="submit" class="md-button md-button--primary">Find</button>',
            "</form>",
        ),
        block(
            "<p>Under Article 35 of the Convention on Cybercrime (CETS 185) every Party keeps a point of "
            "contact available 24 hours a day, 7 days a week, for urgent help in investigations of "
            "cybercrime and for collecting electronic evidence: preserving stored computer data (Art. 29), "
            "expedited disclosure of preserved traffic data (Art. 30), mutual assistance (Arts. 27 and 31), "
            "technical advice and locating suspects. This directory lists those contact points for the "
            "Parties, the signatories and the States invited to accede.</p>",
            '<p><a href="directory.html">Open the directory</a> &middot; '
            '<a href="print.html">Print view</a> &middot; <a href="releases.html">Releases and downloads</a></p>',
        ),
        "## The directory in numbers\n",
        _counts(release, tests),
        _treaty_as_of(release),
        "## Release shown\n",
        block(
            f"<p>This site shows release <strong>{escape(release.version)}</strong> "
            f"(release serial {escape(release.serial)}), released {escape(moment(release.released))} and valid "
            f"until {escape(moment(release.expires))}. Older releases stay browsable from the version selector "
            'and the <a href="releases.html">releases page</a>.</p>',
        ),
    ]
    if guide_links:
        parts += ["## Guides\n", block("<ul>", *(f'<li><a href="{escape(p[:-3])}.html">{escape(label)}</a></li>'
                                                  for p, label in guide_links), "</ul>")]
    return PAGE, "\n".join(parts)
