"""One page per State: every field of its entry, as a duty officer reads it at night.

Order on the page: who to call (primary 24/7 phone, e-mail, languages, local time), what the
State can do, each contact point, request intake, templates, treaty facts, related
authorities, trust and freshness (signing key, confirmation), and the entry's history. Warnings come
right after "who to call": re-confirmation overdue at release time, and a contact point that
failed its last reachability test (``freshness``); each contact point shows its last test.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...entry.confirmation import CONFIRMATION_POLICY_MONTHS, confirmation_due
from ...entry.model import Authority, ContactPoint, Entry, Phone, Release
from ...freshness.reachability import LastTest
from . import request_templates
from .common import (
    AUTHORITY_TYPES,
    PHONE_KINDS,
    block,
    day,
    demo_banner,
    front_matter,
    href,
    languages,
    moment,
    region,
    release_banner,
    state_page,
    status_label,
    value_html,
)
from .markup import escape, join, link, mailto_href, tel_href, time_zone_attr, title_text
from .overdue import NO_TEST, contact_point_warning, failed_warning, last_test_html, overdue, overdue_warning
from .published import Change, PublishedRelease

CHANNEL_LABELS = {"interpol-i247": "INTERPOL I-24/7", "siena": "Europol SIENA", "email": "e-mail", "phone": "phone"}


def display_name(entry: Entry) -> str:
    """Escaped ``Name (native name)``."""
    if entry.native_name and entry.native_name != entry.name:
        return f"{escape(entry.name)} <span class=\"d247-native\">({escape(entry.native_name)})</span>"
    return escape(entry.name)


def page_title(entry: Entry) -> str:
    if entry.native_name and entry.native_name != entry.name:
        return title_text(f"{entry.name} ({entry.native_name})") or entry.code
    return title_text(entry.name) or title_text(entry.code) or "State"


def phone_html(phone: Phone) -> str:
    kind = escape(PHONE_KINDS.get(phone.kind, phone.kind))
    return f'{link(tel_href(phone.number), escape(phone.number))} <span class="d247-kind">{kind}</span>'


def email_html(address: str) -> str:
    return link(mailto_href(address), escape(address))


def local_time_html(zone: str) -> str:
    attr = time_zone_attr(zone)
    clock = (f'<span class="d247-localtime" data-tz="{attr}">local time shown when scripts run</span> '
             if attr else "")
    return f'{clock}<span class="d247-zone">({escape(zone)})</span>'


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value}</td></tr>"


def _table(*rows: str, css: str = "d247-fields") -> str:
    return block(f'<table class="{css}">', "<tbody>", *rows, "</tbody>", "</table>")


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _summary(entry: Entry, release: Release) -> str:
    cp = entry.primary
    phone = cp.phone_24_7
    due = confirmation_due(entry.confirmed)
    freshness = f"confirmed {escape(day(entry.confirmed))}"
    if overdue(entry, release):
        freshness += f' <span class="d247-overdue">re-confirmation overdue since {escape(day(due))}</span>'
    return block(
        '<div class="d247-card" id="call">',
        '<p class="d247-call">24/7 phone: '
        + (f'<strong class="d247-phone">{phone_html(phone)}</strong>' if phone else "none given") + "</p>",
        "<p>E-mail: " + (", ".join(email_html(e) for e in cp.emails) or "none given") + "</p>",
        f"<p>Languages: {languages(cp.languages)}</p>",
        f"<p>Local time: {local_time_html(cp.time_zone)}</p>",
        f"<p>Status: {status_label(entry.status)} &middot; {escape(region(entry.code))} &middot; {freshness}</p>",
        "</div>",
    )


def _capabilities(entry: Entry) -> str:
    intake = entry.request_intake
    ratified_224 = entry.second_protocol is not None and entry.second_protocol.ratification is not None
    period = (f", preservation offered for {escape(intake.preservation_days)} days"
              if intake.preservation_days is not None else "")
    rows = [
        ("Art. 29: expedited preservation of stored data",
         f"{'accepts' if intake.preservation_template else 'does not say it accepts'} "
         f"the T-CY preservation template{period}"),
        ("Art. 30: expedited disclosure of preserved traffic data", _yes_no(intake.expedited_disclosure)),
        ("Art. 31: mutual assistance, stored data (subscriber information)",
         f"{'accepts' if intake.subscriber_template else 'does not say it accepts'} "
         "the T-CY subscriber information template"),
        ("CETS 224 Arts. 9-10: emergency disclosure",
         _yes_no(intake.emergency_disclosure)
         + ("" if ratified_224 else " (Second Additional Protocol not ratified)")),
    ]
    return _table(*(_row(label, value) for label, value in rows), css="d247-fields d247-capabilities")


def _contact_point(cp: ContactPoint, index: int, test: LastTest | None, published: bool) -> str:
    """One contact point's section; ``test`` is its last reachability test, ``published`` says
    whether the release publishes reachability results at all."""
    role = "Primary" if cp.role == "primary" else "Secondary"
    rows = [
        _row("Authority", escape(cp.authority)),
        _row("Unit", escape(cp.unit)) if cp.unit else "",
        _row("Authority type", escape(AUTHORITY_TYPES.get(cp.authority_type, cp.authority_type))),
        _row("Available 24/7", _yes_no(cp.available_24_7)),
        _row("Office hours", escape(cp.office_hours)) if cp.office_hours else "",
        _row("Phones", "<br>".join(phone_html(p) for p in cp.phones) or "none given"),
        _row("E-mail", "<br>".join(email_html(e) for e in cp.emails) or "none given"),
        _row("Languages", languages(cp.languages)),
        _row("Time zone", local_time_html(cp.time_zone)),
        _row("OpenPGP key (mail)", f"<code>{escape(cp.openpgp_fingerprint)}</code>") if cp.openpgp_fingerprint else "",
        _row("Secure channels", "<br>".join(
            escape(CHANNEL_LABELS.get(c.channel, c.channel))
            + (f": {escape(c.name)}" if c.name else "") + (f" ({escape(c.address)})" if c.address else "")
            for c in cp.secure_channels)) if cp.secure_channels else "",
        _row("Last reachability test", last_test_html(test) if published or test is not None
             else f"{escape(NO_TEST)} (this release publishes no reachability results)"),
    ]
    return (block(f'<div class="d247-contact" id="contact-{index + 1}">',
                  f"<h3>{escape(role)} contact point</h3>", "</div>")
            + contact_point_warning(test) + _table(*rows))


def _intake(entry: Entry) -> str:
    intake = entry.request_intake
    rows = [
        _row("Languages", languages(intake.languages)),
        _row("Channels", join(CHANNEL_LABELS.get(c, c) for c in intake.channels) or "none given"),
        _row("T-CY preservation template accepted", _yes_no(intake.preservation_template)),
        _row("T-CY subscriber information template accepted", _yes_no(intake.subscriber_template)),
        _row("Encryption required", _yes_no(intake.encryption_required)),
        _row("Preservation period offered", f"{escape(intake.preservation_days)} days"
             if intake.preservation_days is not None else "not stated"),
        _row("Expedited disclosure (Art. 30)", _yes_no(intake.expedited_disclosure)),
        _row("Emergency disclosure (CETS 224)", _yes_no(intake.emergency_disclosure)),
        _row("Notes", f'<span class="d247-text">{escape(intake.notes)}</span>') if intake.notes else "",
    ]
    return _table(*rows)


def _templates(entry: Entry) -> str:
    parts = []
    for title, text in (("Art. 29 preservation request", request_templates.preservation(entry)),
                        ("Art. 31 subscriber information request", request_templates.subscriber_information(entry))):
        parts.append(block('<div class="d247-template">', f"<h3>{escape(title)}</h3>",
                           f"<pre><code>{escape(text)}</code></pre>", "</div>"))
    return "".join(parts)


def _treaty(entry: Entry) -> str:
    treaty = entry.treaty
    rows = [
        _row("Status", status_label(entry.status)),
        _row("Signature", escape(day(treaty.signature))),
        _row("Ratification or accession", escape(day(treaty.ratification))),
        _row("Entry into force", escape(day(treaty.entry_into_force))),
        _row("Status as of", escape(day(treaty.as_of))),
        _row("Source", f'<span class="d247-url">{escape(treaty.source)}</span>'),
    ]
    protocol = entry.second_protocol
    if protocol is not None:
        rows += [
            _row("Second Additional Protocol (CETS 224): signature", escape(day(protocol.signature))),
            _row("Second Additional Protocol (CETS 224): ratification", escape(day(protocol.ratification))),
            _row("Second Additional Protocol: source", f'<span class="d247-url">{escape(protocol.source)}</span>'),
        ]
    else:
        rows.append(_row("Second Additional Protocol (CETS 224)", "not signed"))
    for reservation in entry.reservations:
        rows.append(_row(f"Reservation: {reservation.article}", escape(reservation.summary)))
    return _table(*rows)


def _authority(title: str, authority: Authority | None) -> str:
    if authority is None:
        return _row(title, "not given")
    parts = [f"<strong>{escape(authority.name)}</strong>"]
    parts += [phone_html(p) for p in authority.phones]
    parts += [email_html(e) for e in authority.emails]
    if authority.address:
        parts.append(f'<span class="d247-text">{escape(authority.address)}</span>')
    if authority.postcode:
        parts.append(escape(authority.postcode))
    if authority.url:
        parts.append(f'<span class="d247-url">{escape(authority.url)}</span>')
    return _row(title, "<br>".join(parts))


def _trust(entry: Entry, release: Release) -> str:
    signer = release.signer(entry.code)
    due = confirmation_due(entry.confirmed)
    state = (f'<span class="d247-overdue">overdue</span> (due {escape(day(due))}, before this release)'
             if overdue(entry, release) else f"current (next due {escape(day(due))})")
    rows = [
        _row("Entry serial", escape(entry.serial)),
        _row("Confirmed by the Party", escape(day(entry.confirmed))),
        _row("Confirmation", f"{state}; policy: every {CONFIRMATION_POLICY_MONTHS} months"),
        _row("Signed by key", f"<code>{escape(signer.fingerprint)}</code> on {escape(moment(signer.created))}"
             if signer else "no signature recorded in this release"),
        _row("Demonstration data", _yes_no(entry.demo)),
        _row("Schema version", escape(entry.schema_version)),
        _row("Notes", f'<span class="d247-text">{escape(entry.notes)}</span>') if entry.notes else "",
    ]
    return _table(*rows)


def history(code: str, published: Sequence[PublishedRelease]) -> list[tuple[str, Change | None]]:
    """(version, change) pairs for one entry, newest release first; ``None`` marks a first publication."""
    rows: list[tuple[str, Change | None]] = []
    for item in reversed(published):
        log = item.changelog
        if log is None:
            continue
        if log.from_version is None:
            if item.release.entry(code) is not None:
                rows.append((item.version, None))
            continue
        rows.extend((item.version, change) for change in log.for_entry(code))
    return rows


def _history(code: str, published: Sequence[PublishedRelease]) -> str:
    rows = history(code, published)
    if not rows:
        return block("<p>No change recorded in the published releases.</p>")
    body = []
    for version, change in rows:
        if change is None:
            body.append(f'<tr><td>{escape(version)}</td><td colspan="4">first published</td></tr>')
        else:
            body.append(f"<tr><td>{escape(version)}</td><td><code>{escape(change.field)}</code></td>"
                        f"<td>{escape(change.kind)}</td><td>{value_html(change.old)}</td><td>{value_html(change.new)}</td></tr>")
    return block('<table class="d247-history">',
                  "<thead><tr><th>Release</th><th>Field</th><th>Change</th><th>Before</th><th>After</th></tr></thead>",
                  "<tbody>", *body, "</tbody>", "</table>")


def render(entry: Entry, published: Sequence[PublishedRelease]) -> tuple[str, str]:
    """(page path, Markdown) of ``entry``'s page; the last of ``published`` is the release shown."""
    release, tests = published[-1].release, published[-1].reachability
    page = state_page(entry.code)
    back = href(page, "directory.html")
    parts = [
        front_matter(page_title(entry)),
        block(f'<h1 class="d247-state" data-code="{escape(entry.code)}">{display_name(entry)}</h1>'),
        release_banner(release),
        demo_banner(release),
        _summary(entry, release),
        overdue_warning(entry, release),
        failed_warning(entry, tests),
        "## What it can do\n",
        _capabilities(entry),
        "## Contact points\n",
        *(_contact_point(cp, i, tests.get(entry.code, i) if tests else None, tests is not None)
          for i, cp in enumerate(entry.contact_points)),
        "## Request intake\n",
        _intake(entry),
        "## Request templates\n",
        block("<p>Plain text to copy into your message; fill in the blanks.</p>"),
        _templates(entry),
        "## Treaty\n",
        _treaty(entry),
        "## Related authorities\n",
        _table(_authority("Central authority for mutual assistance (Art. 27)", entry.mla_central_authority),
               _authority("Extradition authority (Art. 24)", entry.extradition_authority)),
        "## Signature and confirmation\n",
        _trust(entry, release),
        "## History\n",
        _history(entry.code, published),
        block(f'<p><a href="{escape(back)}">Back to the directory</a></p>'),
    ]
    return page, "\n".join(parts)
