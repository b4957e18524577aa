"""The directory index (one filterable table of every State) and the print view of all entries.

The index filters without a server: each row carries its name, status, region, languages and
what needs attention (``freshness.ATTENTION``: confirmation overdue at release time, a contact
point that failed its last reachability test) in ``data-`` attributes, read by
``assets/javascripts/directory247.js``. The filter form is hidden until that script runs; the
home page's "find a State" box submits ``?q=`` to it and its counts link ``?attention=any``.
Without scripts the markers still show in each row, as a sign and words.
"""

from __future__ import annotations

from ...entry.model import Entry, Release
from ...freshness.reachability import LastTests
from .common import (
    REGIONS,
    STATUS_LABELS,
    STATUS_ORDER,
    block,
    day,
    demo_banner,
    front_matter,
    href,
    language_name,
    languages,
    region,
    release_banner,
    state_page,
    status_label,
)
from .markup import escape
from .overdue import ATTENTION, attention, badges, failed, overdue
from .state import display_name, email_html, phone_html

PAGE = "directory.md"
PRINT_PAGE = "print.md"


def _entry_languages(entry: Entry) -> tuple[str, ...]:
    seen: list[str] = []
    for code in (*entry.request_intake.languages, *entry.primary.languages):
        if code not in seen:
            seen.append(code)
    return tuple(seen)


def _confirmed(entry: Entry, release: Release, tests: LastTests | None) -> str:
    """The confirmation date with the markers that apply (overdue, failed test)."""
    marks = badges(entry, release, tests)
    return f"{escape(day(entry.confirmed))} {marks}" if marks else escape(day(entry.confirmed))


def _row(entry: Entry, release: Release, tests: LastTests | None) -> str:
    cp = entry.primary
    phone = cp.phone_24_7
    codes = _entry_languages(entry)
    names = " ".join(filter(None, (entry.name, entry.native_name, entry.code)))
    link = escape(href(PAGE, state_page(entry.code)[:-3] + ".html"))
    return (
        f'<tr data-name="{escape(names)}" data-status="{escape(entry.status)}" '
        f'data-region="{escape(region(entry.code))}" data-languages="{escape(" ".join(codes))}" '
        f'data-attention="{escape(" ".join(attention(entry, release, tests)))}">'
        f'<td><a href="{link}">{display_name(entry)}</a></td>'
        f"<td>{status_label(entry.status)}</td>"
        f"<td>{escape(region(entry.code))}</td>"
        f"<td>{phone_html(phone) if phone else 'none'}</td>"
        f"<td>{'<br>'.join(email_html(e) for e in cp.emails)}</td>"
        f'<td title="{escape(", ".join(language_name(c) for c in codes))}">{escape(", ".join(codes))}</td>'
        f"<td>{_confirmed(entry, release, tests)}</td>"
        "</tr>"
    )


def _options(values: list[tuple[str, str]]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in values)


def _filter_form(release: Release) -> str:
    statuses = [(s, STATUS_LABELS[s]) for s in STATUS_ORDER if any(e.status == s for e in release.entries)]
    regions = [(r, r) for r in REGIONS if any(region(e.code) == r for e in release.entries)]
    codes = sorted({c for e in release.entries for c in _entry_languages(e)}, key=lambda c: (language_name(c), c))
    return block(
        '<form class="d247-filter d247-needs-js" id="d247-filter" role="search">',
        '<label>Name <input type="search" name="q" id="d247-q" autocomplete="off" '
        'placeholder="English or native name, or code"></label>',
        f'<label>Status <select name="status" id="d247-status"><option value="">all</option>'
        f"{_options(statuses)}</select></label>",
        f'<label>Region <select name="region" id="d247-region"><option value="">all</option>'
        f"{_options(regions)}</select></label>",
        f'<label>Language <select name="language" id="d247-language"><option value="">all</option>'
        f"{_options([(c, f'{language_name(c)} ({c})') for c in codes])}</select></label>",
        '<label>Attention <select name="attention" id="d247-attention"><option value="">all States</option>'
        f'<option value="any">only entries needing attention</option>{_options(list(ATTENTION))}</select></label>',
        f'<p class="d247-count" id="d247-count" aria-live="polite">{len(release.entries)} States</p>',
        "</form>",
    )


def _attention_summary(release: Release, tests: LastTests | None) -> str:
    late = sum(1 for e in release.entries if overdue(e, release))
    failing = sum(1 for e in release.entries if failed(tests, e.code))
    tested = ("no reachability test results are published with this release" if tests is None else
              f"{failing} with a contact point that failed its last reachability test")
    return block(f'<p class="d247-attention-summary">Needing attention at release time: {late} '
                 f"with re-confirmation overdue, {escape(tested)}.</p>")


def render_index(release: Release, tests: LastTests | None = None) -> tuple[str, str]:
    """The index of ``release``; ``tests`` its published reachability results (None: none)."""
    rows = [_row(e, release, tests) for e in sorted(release.entries, key=lambda e: e.name)]
    parts = [
        front_matter("Directory", hide_toc=True),
        "# Directory of 24/7 contact points\n",
        release_banner(release),
        demo_banner(release),
        block("<p>Every State in the directory, with its primary 24/7 contact point. "
              "Open a State for every contact point, local time, request intake and templates.</p>"),
        _attention_summary(release, tests),
        _filter_form(release),
        block(
            '<table id="d247-directory">',
            "<thead><tr><th>State</th><th>Status</th><th>Region</th><th>24/7 phone</th><th>E-mail</th>"
            "<th>Languages</th><th>Confirmed, tests</th></tr></thead>",
            "<tbody>", *rows, "</tbody>", "</table>",
        ),
        block('<p class="d247-empty" id="d247-empty" hidden>No State matches the filter.</p>'),
    ]
    return PAGE, "\n".join(parts)


def _print_entry(entry: Entry, release: Release, tests: LastTests | None) -> str:
    cp = entry.primary
    phones = "<br>".join(phone_html(p) for p in cp.phones) or "none"
    others = [c for c in entry.contact_points if c.role != "primary"]
    secondary = "".join(
        f"<br>Also: {escape(c.authority)}: {', '.join(phone_html(p) for p in c.phones)}" for c in others)
    return (
        f'<tr><td><strong>{display_name(entry)}</strong><br>{status_label(entry.status)}</td>'
        f"<td>{escape(cp.authority)}{'<br>' + escape(cp.unit) if cp.unit else ''}{secondary}</td>"
        f"<td>{phones}</td>"
        f"<td>{'<br>'.join(email_html(e) for e in cp.emails)}</td>"
        f"<td>{languages(entry.request_intake.languages)}</td>"
        f"<td>{escape(cp.time_zone)}</td>"
        f"<td>{_confirmed(entry, release, tests)}</td></tr>"
    )


def render_print(release: Release, tests: LastTests | None = None) -> tuple[str, str]:
    rows = [_print_entry(e, release, tests) for e in sorted(release.entries, key=lambda e: e.name)]
    parts = [
        front_matter("Print view", hide_toc=True, hide_nav=True),
        "# Directory of 24/7 contact points: print view\n",
        release_banner(release),
        demo_banner(release),
        block('<p class="d247-needs-js"><button type="button" class="md-button" id="d247-print">Print</button> '
              "the whole directory; the print layout leaves out the site's menus.</p>"),
        block(
            '<table id="d247-print-table">',
            "<thead><tr><th>State</th><th>Primary contact point</th><th>Phones</th><th>E-mail</th>"
            "<th>Request languages</th><th>Time zone</th><th>Confirmed, tests</th></tr></thead>",
            "<tbody>", *rows, "</tbody>", "</table>",
        ),
    ]
    return PRINT_PAGE, "\n".join(parts)
