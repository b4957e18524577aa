"""What the pages say about freshness: confirmations overdue and failed reachability tests.

Both are judged from the release alone, so a rebuild of an old release says what it said
then: an entry is *overdue* when its re-confirmation fell due before the release was cut,
and a contact point *failed its last test* when the release's ``reachability.json``
(``PublishedRelease.reachability``) says its last test was not answered. A release without
that file (older than the format) shows "no reachability test recorded".

Owns the markers shared by the index, the print view, the State pages and the home page: the
``data-attention`` words the index filter reads, the badges (a word and a sign, never colour
alone) and the warning admonitions. Every data value goes through ``markup.escape``.
"""

from __future__ import annotations

from ...entry.confirmation import CONFIRMATION_POLICY_MONTHS, confirmation_due
from ...entry.model import Entry, Release
from ...freshness.reachability import LastTest, LastTests
from .common import block, day
from .markup import escape

NO_TEST = "no reachability test recorded"
CHANNELS = {"phone": "phone", "email": "e-mail", "other": "other means"}

#: The words of a row's ``data-attention``, in the index filter's order, with their labels.
ATTENTION = (("overdue", "confirmation overdue"), ("failed", "failed reachability test"))


def overdue(entry: Entry, release: Release) -> bool:
    """Whether re-confirmation was due before the release was cut (so the build is deterministic)."""
    return confirmation_due(entry.confirmed) < release.released.date()


def failed(tests: LastTests | None, code: str) -> tuple[LastTest, ...]:
    """The contact points of ``code`` whose last published test was not answered."""
    return tests.failed(code) if tests is not None else ()


def attention(entry: Entry, release: Release, tests: LastTests | None) -> tuple[str, ...]:
    """The ``ATTENTION`` words that apply to ``entry`` in ``release``."""
    words = []
    if overdue(entry, release):
        words.append("overdue")
    if failed(tests, entry.code):
        words.append("failed")
    return tuple(words)


def role_name(entry: Entry, index: int) -> str:
    """"primary contact point" / "secondary contact point 2" (1-based, as the State page numbers them)."""
    if index >= len(entry.contact_points):
        return f"contact point {index + 1}"
    role = entry.contact_points[index].role
    return "primary contact point" if role == "primary" else f"secondary contact point {index + 1}"


def outcome_text(test: LastTest) -> str:
    """Plain text (not escaped) of a test's outcome: "not answered", "answered in 38 min"."""
    if not test.answered:
        return "not answered"
    minutes = test.response_minutes
    return "answered at once" if minutes == 0 else f"answered in {minutes} min"


def last_test_html(test: LastTest | None) -> str:
    """One escaped line about a contact point's last test, for its table on the State page."""
    if test is None:
        return escape(NO_TEST)
    outcome = escape(outcome_text(test))
    if test.failed:
        outcome = f"{failed_badge()} <strong>{outcome}</strong>"
    note = f'<br><span class="d247-text">{escape(test.note)}</span>' if test.note else ""
    return (f'<span class="d247-test" data-answered="{"true" if test.answered else "false"}">'
            f"{escape(day(test.date))} by {escape(CHANNELS.get(test.channel, test.channel))}: {outcome}</span>{note}")


def failed_badge(title: str = "") -> str:
    """The failed-test marker: a sign and words, styled as a badge (``title`` already escaped)."""
    tip = f' title="{title}"' if title else ""
    return f'<span class="d247-failed"{tip}>&#9888; failed test</span>'


def overdue_badge(entry: Entry) -> str:
    return (f'<span class="d247-overdue" title="re-confirmation due {escape(day(confirmation_due(entry.confirmed)))}">'
            "&#9888; overdue</span>")


def badges(entry: Entry, release: Release, tests: LastTests | None) -> str:
    """The markers of an index or print row: overdue and failed test, space-separated ('' if none)."""
    marks = []
    if overdue(entry, release):
        marks.append(overdue_badge(entry))
    tests_failed = failed(tests, entry.code)
    if tests_failed:
        title = "; ".join(f"{role_name(entry, t.contact_point)}: last test {day(t.date)} "
                          f"by {CHANNELS.get(t.channel, t.channel)} not answered" for t in tests_failed)
        marks.append(failed_badge(escape(title)))
    return " ".join(marks)


def _admonition(kind: str, css: str, title: str, *paragraphs: str) -> str:
    return block(f'<div class="admonition {kind} {css}">', f'<p class="admonition-title">{escape(title)}</p>',
                 *(f"<p>{p}</p>" for p in paragraphs), "</div>")


def overdue_warning(entry: Entry, release: Release) -> str:
    """The State page's warning when the entry was overdue at release time ('' otherwise)."""
    if not overdue(entry, release):
        return ""
    due = confirmation_due(entry.confirmed)
    return _admonition(
        "warning", "d247-overdue-warning", "Re-confirmation overdue",
        f"{escape(entry.name)} last confirmed this entry on {escape(day(entry.confirmed))}. Under the "
        f"{CONFIRMATION_POLICY_MONTHS}-month policy its re-confirmation was due on {escape(day(due))}, before "
        "this release was cut: some details may be out of date.",
    )


def failed_warning(entry: Entry, tests: LastTests | None) -> str:
    """The State page's warning, near the top, when a contact point failed its last test."""
    found = failed(tests, entry.code)
    if not found:
        return ""
    lines = [f"The {escape(role_name(entry, t.contact_point))} did not answer the Secretariat's last reachability "
             f"test ({escape(day(t.date))}, by {escape(CHANNELS.get(t.channel, t.channel))})."
             for t in found]
    return _admonition("warning", "d247-failed-warning", "Failed reachability test", *lines,
                       "Try the other numbers and channels below as well, and tell the Secretariat if you "
                       "cannot get through.")


def contact_point_warning(test: LastTest | None) -> str:
    """The warning in a contact point's section when its last test was not answered ('' otherwise)."""
    if test is None or test.answered:
        return ""
    note = f" Note: {escape(test.note)}" if test.note else ""
    return _admonition("warning", "d247-failed-warning",
                       "This contact point failed its last reachability test",
                       f"Tested {escape(day(test.date))} by {escape(CHANNELS.get(test.channel, test.channel))}: "
                       f"not answered.{note}")
