"""The typed, immutable model of the directory, mirroring ``schema/entry.schema.json``.

Built only from entries that passed validation (``Entry.from_dict``); ``to_dict`` gives back
exactly the fields that were present, so no field is lost between YAML and the exports.
Wire formats (JSON, CSV, vCard, Markdown) live in their own modules (``formats``, ``pages``), not here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _drop_none(pairs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pairs.items() if v is not None and v != () and v != {}}


@dataclass(frozen=True)
class Phone:
    number: str  # E.164
    kind: str  # "24/7" | "office" | "mobile" | "fax"
    abroad: str | None = None  # the country of a number deliberately not the State's

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Phone:
        return cls(number=d["number"], kind=d["kind"], abroad=d.get("abroad"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"number": self.number, "kind": self.kind, "abroad": self.abroad})


@dataclass(frozen=True)
class SecureChannel:
    channel: str
    address: str | None = None
    name: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SecureChannel:
        return cls(channel=d["channel"], address=d.get("address"), name=d.get("name"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"channel": self.channel, "address": self.address, "name": self.name})


@dataclass(frozen=True)
class ContactPoint:
    role: str  # "primary" | "secondary"
    authority: str
    authority_type: str
    available_24_7: bool
    phones: tuple[Phone, ...]
    emails: tuple[str, ...]
    languages: tuple[str, ...]
    time_zone: str
    unit: str | None = None
    office_hours: str | None = None
    openpgp_fingerprint: str | None = None
    secure_channels: tuple[SecureChannel, ...] = ()
    time_zone_abroad: str | None = None  # the country whose time it deliberately keeps

    def __post_init__(self) -> None:
        if self.role == "primary" and not self.available_24_7:
            raise ValueError("the primary contact point must be available 24/7")

    @property
    def phone_24_7(self) -> Phone | None:
        return next((p for p in self.phones if p.kind == "24/7"), None)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContactPoint:
        return cls(
            role=d["role"], authority=d["authority"], authority_type=d["authority_type"],
            available_24_7=d["available_24_7"],
            phones=tuple(Phone.from_dict(p) for p in d["phones"]),
            emails=tuple(d["emails"]), languages=tuple(d["languages"]), time_zone=d["time_zone"],
            unit=d.get("unit"), office_hours=d.get("office_hours"),
            openpgp_fingerprint=d.get("openpgp_fingerprint"),
            secure_channels=tuple(SecureChannel.from_dict(c) for c in d.get("secure_channels", ())),
            time_zone_abroad=d.get("time_zone_abroad"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "authority": self.authority}
        if self.unit is not None:
            out["unit"] = self.unit
        out.update({
            "authority_type": self.authority_type, "available_24_7": self.available_24_7,
            "phones": [p.to_dict() for p in self.phones], "emails": list(self.emails),
            "languages": list(self.languages), "time_zone": self.time_zone,
        })
        if self.time_zone_abroad is not None:
            out["time_zone_abroad"] = self.time_zone_abroad
        if self.office_hours is not None:
            out["office_hours"] = self.office_hours
        if self.openpgp_fingerprint is not None:
            out["openpgp_fingerprint"] = self.openpgp_fingerprint
        if self.secure_channels:
            out["secure_channels"] = [c.to_dict() for c in self.secure_channels]
        return out


@dataclass(frozen=True)
class Authority:
    name: str
    phones: tuple[Phone, ...] = ()
    emails: tuple[str, ...] = ()
    address: str | None = None
    postcode: str | None = None
    url: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Authority:
        return cls(name=d["name"], phones=tuple(Phone.from_dict(p) for p in d.get("phones", ())),
                   emails=tuple(d.get("emails", ())), address=d.get("address"),
                   postcode=d.get("postcode"), url=d.get("url"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.phones:
            out["phones"] = [p.to_dict() for p in self.phones]
        if self.emails:
            out["emails"] = list(self.emails)
        return out | _drop_none({"address": self.address, "postcode": self.postcode, "url": self.url})


@dataclass(frozen=True)
class RequestIntake:
    languages: tuple[str, ...]
    channels: tuple[str, ...]
    preservation_template: bool
    subscriber_template: bool
    encryption_required: bool
    expedited_disclosure: bool
    emergency_disclosure: bool
    preservation_days: int | None = None
    notes: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RequestIntake:
        return cls(
            languages=tuple(d["languages"]), channels=tuple(d["channels"]),
            preservation_template=d["preservation_template"], subscriber_template=d["subscriber_template"],
            encryption_required=d["encryption_required"], expedited_disclosure=d["expedited_disclosure"],
            emergency_disclosure=d["emergency_disclosure"], preservation_days=d.get("preservation_days"),
            notes=d.get("notes"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "languages": list(self.languages), "channels": list(self.channels),
            "preservation_template": self.preservation_template, "subscriber_template": self.subscriber_template,
            "encryption_required": self.encryption_required,
        }
        if self.preservation_days is not None:
            out["preservation_days"] = self.preservation_days
        out["expedited_disclosure"] = self.expedited_disclosure
        out["emergency_disclosure"] = self.emergency_disclosure
        if self.notes is not None:
            out["notes"] = self.notes
        return out


@dataclass(frozen=True)
class Treaty:
    source: str
    signature: dt.date | None = None
    ratification: dt.date | None = None
    entry_into_force: dt.date | None = None
    as_of: dt.date | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Treaty:
        return cls(source=d["source"], signature=_date(d.get("signature")),
                   ratification=_date(d.get("ratification")),
                   entry_into_force=_date(d.get("entry_into_force")), as_of=_date(d.get("as_of")))

    def to_dict(self) -> dict[str, Any]:
        out = _drop_none({k: getattr(self, k) for k in ("signature", "ratification", "entry_into_force")})
        out = {k: v.isoformat() for k, v in out.items()}
        out["source"] = self.source
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


@dataclass(frozen=True)
class SecondProtocol:
    source: str
    signature: dt.date | None = None
    ratification: dt.date | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SecondProtocol:
        return cls(source=d["source"], signature=_date(d.get("signature")),
                   ratification=_date(d.get("ratification")))

    def to_dict(self) -> dict[str, Any]:
        out = {k: v.isoformat() for k, v in _drop_none(
            {"signature": self.signature, "ratification": self.ratification}).items()}
        out["source"] = self.source
        return out


@dataclass(frozen=True)
class Reservation:
    article: str
    summary: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reservation:
        return cls(article=d["article"], summary=d["summary"])

    def to_dict(self) -> dict[str, Any]:
        return {"article": self.article, "summary": self.summary}


@dataclass(frozen=True)
class Entry:
    """One State's entry."""

    code: str
    name: str
    status: str
    serial: int
    confirmed: dt.date
    treaty: Treaty
    contact_points: tuple[ContactPoint, ...]
    request_intake: RequestIntake
    schema_version: str = "1"
    native_name: str | None = None
    demo: bool = False
    second_protocol: SecondProtocol | None = None
    reservations: tuple[Reservation, ...] = ()
    mla_central_authority: Authority | None = None
    extradition_authority: Authority | None = None
    notes: str | None = None
    #: whether the source said ``demo:`` at all (kept so to_dict is lossless)
    demo_present: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        primaries = [cp for cp in self.contact_points if cp.role == "primary"]
        if len(primaries) != 1:
            raise ValueError(f"{self.code}: exactly one primary contact point is required")

    @property
    def primary(self) -> ContactPoint:
        return next(cp for cp in self.contact_points if cp.role == "primary")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        related = d.get("related_authorities", {})
        return cls(
            schema_version=d["schema_version"], code=d["code"], name=d["name"], status=d["status"],
            serial=d["serial"], confirmed=dt.date.fromisoformat(d["confirmed"]),
            treaty=Treaty.from_dict(d["treaty"]),
            contact_points=tuple(ContactPoint.from_dict(c) for c in d["contact_points"]),
            request_intake=RequestIntake.from_dict(d["request_intake"]),
            native_name=d.get("native_name"), demo=d.get("demo", False), demo_present="demo" in d,
            second_protocol=SecondProtocol.from_dict(d["second_protocol"]) if "second_protocol" in d else None,
            reservations=tuple(Reservation.from_dict(r) for r in d.get("reservations", ())),
            mla_central_authority=(Authority.from_dict(related["mla_central_authority"])
                                   if "mla_central_authority" in related else None),
            extradition_authority=(Authority.from_dict(related["extradition_authority"])
                                   if "extradition_authority" in related else None),
            notes=d.get("notes"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry's fields, in schema order, exactly those that were given."""
        out: dict[str, Any] = {"schema_version": self.schema_version, "code": self.code, "name": self.name}
        if self.native_name is not None:
            out["native_name"] = self.native_name
        if self.demo or self.demo_present:
            out["demo"] = self.demo
        out.update({"serial": self.serial, "confirmed": self.confirmed.isoformat(), "status": self.status,
                    "treaty": self.treaty.to_dict()})
        if self.second_protocol is not None:
            out["second_protocol"] = self.second_protocol.to_dict()
        if self.reservations:
            out["reservations"] = [r.to_dict() for r in self.reservations]
        out["contact_points"] = [c.to_dict() for c in self.contact_points]
        out["request_intake"] = self.request_intake.to_dict()
        related = _drop_none({
            "mla_central_authority": self.mla_central_authority.to_dict() if self.mla_central_authority else None,
            "extradition_authority": self.extradition_authority.to_dict() if self.extradition_authority else None,
        })
        if related:
            out["related_authorities"] = related
        if self.notes is not None:
            out["notes"] = self.notes
        return out


@dataclass(frozen=True)
class Signer:
    """Who signed an accepted entry: the primary key fingerprint and the signature time."""

    fingerprint: str
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "created": _timestamp(self.created)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Signer:
        return cls(fingerprint=d["fingerprint"], created=parse_timestamp(d["created"]))


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Release:
    """One published version of the whole directory."""

    version: str  # e.g. "2026.11.2"
    serial: int  # release counter, +1 on every release
    released: dt.datetime
    expires: dt.datetime
    entries: tuple[Entry, ...]  # sorted by code
    signers: tuple[tuple[str, Signer], ...] = ()  # (code, signer), sorted by code
    release_key: str | None = None

    def __post_init__(self) -> None:
        codes = [e.code for e in self.entries]
        if codes != sorted(set(codes)):
            raise ValueError("release entries must be unique and sorted by code")
        if self.expires <= self.released:
            raise ValueError("a release must expire after it is released")

    @property
    def demo(self) -> bool:
        return any(e.demo for e in self.entries)

    def signer(self, code: str) -> Signer | None:
        return dict(self.signers).get(code)

    def entry(self, code: str) -> Entry | None:
        return next((e for e in self.entries if e.code == code), None)


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 UTC with seconds, the one time format of every export."""
    return _timestamp(moment)
