"""What the world's reference data says of a value: numbering plans (phonenumbers), the tz
database (tzdata's ``zone.tab``, ``zone1970.tab`` and its links), ISO 3166 countries and
ISO 639 languages (pycountry), and e-mail syntax (email-validator).

Pure functions over values, each cached per process; the tables are package data read once.
``rules`` turns their answers into problems at the right field.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import email_validator
import phonenumbers
import pycountry

from .lookalike import lookalike_address


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The short English name of a country code, as a Party reads it (``Norway``)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return str(name)


def check_phone(number: str) -> str | None:
    return _phone_facts(number)[0]


@lru_cache(maxsize=4096)
def _phone_facts(number: str) -> tuple[str | None, str]:
    """What is wrong with ``number`` (or None), and the region it belongs to. The region is
    found once, as ``is_valid_number`` finds it: phonenumbers compiles a region's patterns
    on each match, so asking twice costs as much again."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        return f"'{number}' is not a phone number: {exc}", phonenumbers.UNKNOWN_REGION
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.UNKNOWN_REGION
    if not phonenumbers.is_valid_number_for_region(parsed, region):
        region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        return (f"'{number}' is not a valid number for region {region} (country code +{parsed.country_code})",
                region)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164 != number:
        return f"'{number}' is not in E.164 form; write {e164}", region
    return None, region


@lru_cache(maxsize=4096)
def check_phone_country(number: str, state: str, abroad: str | None) -> tuple[str, str] | None:
    """Whether a valid ``number`` belongs to the entry's ``state``, or to the country its
    ``abroad`` names: None, or the field to fix (``number`` or ``abroad``) and what to write.

    Calling codes are shared (+1, +7, +44 with dependencies, +47 with Svalbard), so the
    number is judged by the numbering plan of each country, not by its code. Numbers of no
    country (+800, +870 Inmarsat, +881 satellite...) are not another country's, and a State
    with no numbering plan of its own (Antarctica, Bouvet Island...) can only give numbers of
    others: there, as for a State the tz database lists no zone for, nothing is asked."""
    parsed = phonenumbers.parse(number, None)
    region = _phone_facts(number)[1]
    # A number is valid for the first region of its calling code whose plan matches; ask
    # the State's own plan only for a number found to be another's (rare, and costly).
    home = region == state or phonenumbers.is_valid_number_for_region(parsed, state)
    no_country = region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
    owner = f"{country_name(region)} (+{parsed.country_code})"
    if abroad is None:
        if home or no_country or not phonenumbers.country_code_for_region(state):
            return None
        return ("number", f"'{number}' is a number of {owner}, not of {country_name(state)}; give a number of "
                          f"{country_name(state)}, or, if this number abroad is deliberate, add 'abroad: {region}' "
                          "to this phone")
    if pycountry.countries.get(alpha_2=abroad) is None:
        hint = "" if no_country else f"; write 'abroad: {region}'"
        return ("abroad", f"'{abroad}' is not an ISO 3166-1 alpha-2 country code{hint}")
    if abroad == state:
        return ("abroad", f"'abroad: {abroad}' names the entry's own State; remove it")
    if home:
        return ("abroad", f"'{number}' is a number of {country_name(state)} itself; remove 'abroad: {abroad}'")
    if no_country:
        return ("abroad", f"'{number}' is an international number of no country (+{parsed.country_code}); "
                          f"remove 'abroad: {abroad}'")
    if not phonenumbers.is_valid_number_for_region(parsed, abroad):
        return ("abroad", f"'{number}' is a number of {owner}, not of {country_name(abroad)}; "
                          f"write 'abroad: {region}'")
    return None


@lru_cache(maxsize=4096)
def check_email(email: str) -> str | None:
    try:
        result = email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return f"'{email}' is not a valid e-mail address: {exc}"
    # Before the normal form: an xn-- domain normalises to its Unicode form, which must not be
    # suggested when it is a look-alike.
    lookalike = lookalike_address(result.local_part, result.domain)
    if lookalike:
        return f"'{email}': {lookalike}"
    if result.normalized != email:
        return f"'{email}' is not in normal form; write {result.normalized}"
    return None


@lru_cache(maxsize=1024)
def is_language(code: str) -> bool:
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    return pycountry.languages.get(alpha_3=code) is not None


@dataclass(frozen=True)
class ZoneTable:
    """The tz database's view of countries: each country's zones (``zone.tab``, one line
    per country and zone, so a State that shares a zone with its neighbours in
    ``zone1970.tab`` still has its own, e.g. Norway: Europe/Oslo), which country a zone is
    listed for, and the old names that are only aliases of another zone."""

    zones: dict[str, tuple[str, ...]]
    country: dict[str, str]
    alias: dict[str, str]


def _tab_rows(text: str) -> Iterator[tuple[list[str], str]]:
    for line in text.splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        yield fields[0].split(","), fields[2]


@lru_cache(maxsize=1)
def zone_table() -> ZoneTable:
    base = resources.files("tzdata.zoneinfo")
    zones: dict[str, list[str]] = {}
    for codes, zone in _tab_rows((base / "zone.tab").read_text(encoding="utf-8")):
        for code in codes:
            zones.setdefault(code, []).append(zone)
    listed = set(zones)
    # A country zone.tab would lack (it is kept for compatibility) keeps zone1970.tab's zones.
    for codes, zone in _tab_rows((base / "zone1970.tab").read_text(encoding="utf-8")):
        for code in codes:
            if code not in listed:
                zones.setdefault(code, []).append(zone)
    country = {zone: code for code, names in zones.items() for zone in names}
    links: dict[str, str] = {}
    for line in (base / "tzdata.zi").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    alias = {}
    for name, target in links.items():
        for _ in range(8):  # a link to a link
            target = links.get(target, target)
        alias[name] = target
    return ZoneTable({code: tuple(names) for code, names in zones.items()}, country, alias)


#: Names in the zone database that are not places: a contact point's zone must be one.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


#: How many zones a message lists before it says how many more there are.
_ZONES_SHOWN = 12


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def zones_of(code: str) -> str:
    """``Norway: Europe/Oslo``; a long list is cut (the United States have 29 zones)."""
    names = zone_table().zones.get(code, ())
    shown = ", ".join(names[:_ZONES_SHOWN])
    more = f" and {len(names) - _ZONES_SHOWN} more listed in the tz database's zone.tab" \
        if len(names) > _ZONES_SHOWN else ""
    return f"{country_name(code)}: {shown}{more}"


def _write_zone(code: str) -> str:
    one = len(zone_table().zones.get(code, ())) == 1
    return f"write {'the zone' if one else 'a zone'} of {zones_of(code)}"


@lru_cache(maxsize=1024)
def check_zone_country(zone: str, state: str, abroad: str | None) -> tuple[str, str] | None:
    """Whether the IANA ``zone`` is one the tz database lists for ``state``, or for the
    country ``abroad`` names: None, or the field to fix (``time_zone`` or
    ``time_zone_abroad``) and what to write. Legacy names (CET, EST5EDT, Etc/GMT+1) and
    aliases (US/Eastern, Europe/Belfast) are no country's zone: they are refused even where
    they tell the right time today, since they say nothing of the place and may change."""
    table = zone_table()
    if abroad is not None:
        if pycountry.countries.get(alpha_2=abroad) is None:
            return ("time_zone_abroad", f"'{abroad}' is not an ISO 3166-1 alpha-2 country code")
        if abroad == state:
            return ("time_zone_abroad", f"'time_zone_abroad: {abroad}' names the entry's own State; remove it")
        if zone in table.zones.get(state, ()):
            return ("time_zone_abroad", f"{zone} is a zone of {country_name(state)} itself; "
                                        f"remove 'time_zone_abroad: {abroad}'")
        if not table.zones.get(abroad):
            return ("time_zone_abroad", f"the tz database lists no time zone for {country_name(abroad)} "
                                        f"({abroad}); write the country whose time the contact point keeps")
    place = abroad or state
    if not table.zones.get(place) or zone in table.zones[place]:
        return None
    owner = table.country.get(zone)
    if owner is None:
        target = table.alias.get(zone)
        if target in table.zones[place]:
            return ("time_zone", f"'{zone}' is an old alias of {target}; write {target}")
        if target is not None and "/" in zone and not zone.startswith("Etc/") and target in table.country:
            return ("time_zone", f"'{zone}' is an old alias of {target} ({country_name(table.country[target])}), "
                                 f"not a zone of {country_name(place)}; {_write_zone(place)}")
        return ("time_zone", f"'{zone}' is a legacy name, not the zone of a place; {_write_zone(place)}")
    if abroad is not None:
        return ("time_zone", f"'{zone}' is a time zone of {country_name(owner)}, not of {country_name(abroad)} "
                             f"(time_zone_abroad: {abroad}); {_write_zone(abroad)}, or write "
                             f"'time_zone_abroad: {owner}'")
    return ("time_zone", f"'{zone}' is a time zone of {country_name(owner)}, not of {country_name(state)}; "
                         f"{_write_zone(state)}, or, if the contact point deliberately keeps the time of "
                         f"{country_name(owner)}, add 'time_zone_abroad: {owner}' to it")
