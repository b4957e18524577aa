"""Request templates with the requested State's details filled in, as plain text to copy.

Two templates, following the items the Convention itself lists: expedited preservation of
stored computer data (Art. 29, items of Art. 29(2)) and a mutual assistance request for
subscriber information (Art. 31). Each is built as plain text from the entry and escaped as
a whole when placed in the page, so a value can never become markup.
"""

from __future__ import annotations

from ...entry.model import Authority, ContactPoint, Entry
from .common import language_name

BLANK = "____________________"


def _languages(codes: tuple[str, ...]) -> str:
    return ", ".join(f"{language_name(c)} ({c})" for c in codes) or "not given"


def _authority_line(cp: ContactPoint) -> str:
    return f"{cp.authority}, {cp.unit}" if cp.unit else cp.authority


def _recipient(entry: Entry) -> list[str]:
    cp = entry.primary
    phone = cp.phone_24_7
    intake = entry.request_intake
    state = f"{entry.name} ({entry.native_name})" if entry.native_name else entry.name
    lines = [
        f"To (requested Party):   {state} - 24/7 point of contact (Art. 35)",
        f"Authority:              {_authority_line(cp)}",
        f"24/7 phone:             {phone.number if phone else 'not given'}",
        f"E-mail:                 {', '.join(cp.emails) or 'not given'}",
        f"Channels accepted:      {', '.join(intake.channels) or 'not given'}",
        f"Languages accepted:     {_languages(intake.languages)}",
        f"Encryption required:    {'yes' if intake.encryption_required else 'no'}",
    ]
    if cp.openpgp_fingerprint:
        lines.append(f"OpenPGP key of the unit: {cp.openpgp_fingerprint}")
    for reservation in entry.reservations:
        lines.append(f"Reservation, {reservation.article}: {reservation.summary}")
    return lines


_SENDER = [
    "From (requesting Party):",
    f"  State and authority:  {BLANK}",
    f"  24/7 phone:           {BLANK}",
    f"  E-mail:               {BLANK}",
    f"  Our reference:        {BLANK}",
    f"  Date and time (UTC):  {BLANK}",
]


def preservation(entry: Entry) -> str:
    """Art. 29: request for the expedited preservation of stored computer data."""
    intake = entry.request_intake
    period = (f"{intake.preservation_days} days offered by the requested Party"
              if intake.preservation_days is not None else "not stated by the requested Party")
    lines = [
        "REQUEST FOR EXPEDITED PRESERVATION OF STORED COMPUTER DATA",
        "Convention on Cybercrime (CETS 185), Article 29",
        "",
        *_recipient(entry),
        f"Preservation period:    {period} (Art. 29(7): not less than 60 days)",
        "",
        *_SENDER,
        "",
        f"1. Authority seeking the preservation (Art. 29(2)(a)): {BLANK}",
        f"2. Offence(s) and brief summary of the facts (Art. 29(2)(b)): {BLANK}",
        "3. Stored computer data to be preserved and its relationship to the offence (Art. 29(2)(c)):",
        f"   Service provider or system: {BLANK}",
        f"   Identifiers (account, e-mail address, IP address with date, time and time zone): {BLANK}",
        f"   Period of the data: {BLANK}",
        "4. Information identifying the custodian of the data or the location of the computer system",
        f"   (Art. 29(2)(d)): {BLANK}",
        f"5. Necessity of the preservation (Art. 29(2)(e)): {BLANK}",
        "6. The requesting Party intends to submit a request for mutual assistance for the search or",
        "   similar access, seizure or similar securing, or disclosure of the data (Art. 29(2)(f)): yes",
        "7. If a service provider in another State took part in the transmission, expedited disclosure",
        "   of enough traffic data to identify it is requested (Art. 30): yes / no",
        "8. Confidentiality: please do not inform the subscriber or any third party.",
        "",
        f"Name, function, signature: {BLANK}",
    ]
    return "\n".join(lines) + "\n"


def _authority(title: str, authority: Authority | None) -> list[str]:
    if authority is None:
        return [f"{title}: not given in the directory"]
    lines = [f"{title}: {authority.name}"]
    if authority.phones:
        lines.append(f"  Phone:  {', '.join(p.number for p in authority.phones)}")
    if authority.emails:
        lines.append(f"  E-mail: {', '.join(authority.emails)}")
    if authority.address:
        lines.append(f"  Address: {' '.join(authority.address.split())}")
    return lines


def subscriber_information(entry: Entry) -> str:
    """Art. 31: mutual assistance request for subscriber information."""
    lines = [
        "REQUEST FOR MUTUAL ASSISTANCE: SUBSCRIBER INFORMATION",
        "Convention on Cybercrime (CETS 185), Article 31 (stored computer data), Article 18(3)",
        "",
        *_recipient(entry),
        *_authority("Central authority for mutual assistance (Art. 27)", entry.mla_central_authority),
        "",
        *_SENDER,
        "",
        f"1. Requesting authority and legal basis (CETS 185 Arts. 25, 27 and 31; other treaty if any): {BLANK}",
        f"2. Offence(s), applicable law and summary of the facts: {BLANK}",
        f"3. Service provider holding the information: {BLANK}",
        "4. Identifiers for which subscriber information is sought:",
        f"   IP address(es) with date, time and time zone, or account names: {BLANK}",
        "5. Subscriber information sought (Art. 18(3)): type of service and period, identity, postal",
        "   or geographic address, telephone and other access number, billing and payment information",
        f"6. Link between the information sought and the investigation: {BLANK}",
        f"7. Earlier preservation request (Art. 29), its date and reference: {BLANK}",
        f"8. Urgency and its reasons: {BLANK}",
        "9. Confidentiality: please do not inform the subscriber or any third party.",
        "",
        f"Name, function, signature: {BLANK}",
    ]
    return "\n".join(lines) + "\n"
