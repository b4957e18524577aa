"""``reachability.json``: the last reachability test of each contact point, as a release publishes it.

Owns the wire format of ``reachability.LastTests`` and nothing else: ``render`` gives the
canonical JSON (``json_export.dumps``: keys sorted, two-space indentation, final newline) and
``parse`` reads it back, strictly, into the same value. Described by
``schema/reachability-export.schema.json``::

    {"$schema": ..., "title": ..., "version": "2026.11.2", "as_of": "2026-11-28T12:00:00Z",
     "demo": true, "notice": "...",            # notice only on demonstration data
     "source_serial": 1,                       # serial of reachability/tests.yaml; null: no records
     "results": [{"code": "MT", "contact_point": 0, "date": "2026-10-20", "channel": "phone",
                  "answered": false, "response_minutes": null, "note": "..."}, ...]}

``results`` is sorted by ``(code, contact_point)``; every key is always written (``null``
when not given). A contact point without a result was never tested by ``as_of`` (the release
time). Which tests count, and that the Secretariat's root key signed them, is decided before
(``reachability.load_reachability``, ``reachability.last_tests``); like every export, this
file is trusted only once the release's signatures are verified.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..entry.model import parse_timestamp, timestamp
from ..freshness.reachability import LastTest, LastTests, last_tests
from .common import DEMO_NOTICE, dumps
from .export import Build, Export, first_difference, mismatch, unreadable

NAME = "reachability.json"
SCHEMA_ID = "https://directory247.invalid/schema/reachability-export/v1.json"
TITLE = "Last reachability test of each contact point of the Directory of 24/7 contact points"
CHANNELS = ("phone", "email", "other")

_RESULT_KEYS = {"code", "contact_point", "date", "channel", "answered", "response_minutes", "note"}
_TOP_KEYS = {"$schema", "title", "version", "as_of", "demo", "notice", "source_serial", "results"}


def result_object(result: LastTest) -> dict[str, Any]:
    return {
        "code": result.code, "contact_point": result.contact_point, "date": result.date.isoformat(),
        "channel": result.channel, "answered": result.answered, "response_minutes": result.response_minutes,
        "note": result.note,
    }


def to_object(tests: LastTests) -> dict[str, Any]:
    out: dict[str, Any] = {
        "$schema": SCHEMA_ID,
        "title": TITLE,
        "version": tests.version,
        "as_of": timestamp(tests.as_of),
        "demo": tests.demo,
        "source_serial": tests.source_serial,
        "results": [result_object(result) for result in tests.results],
    }
    if tests.demo:
        out["notice"] = DEMO_NOTICE
    return out


def render(tests: LastTests) -> bytes:
    return dumps(to_object(tests))


# --- parse ----------------------------------------------------------------------------------

def _typed(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    # bool is an int in Python: a count or index must not be given as true/false.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise TypeError(f"{what} has the wrong type")
    return value


def _optional(value: Any, kind: type, what: str) -> Any:
    return None if value is None else _typed(value, kind, what)


def _keys(obj: Any, allowed: set[str], required: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise TypeError(f"{what} must be an object")
    unknown, missing = sorted(set(obj) - allowed), sorted(required - set(obj))
    if unknown:
        raise ValueError(f"{what}: unknown field {unknown[0]}")
    if missing:
        raise KeyError(f"{what}: missing field {missing[0]}")
    return obj


def _result(obj: Any, index: int) -> LastTest:
    where = f"results[{index}]"
    record = _keys(obj, _RESULT_KEYS, _RESULT_KEYS, where)
    channel = _typed(record["channel"], str, f"{where}.channel")
    if channel not in CHANNELS:
        raise ValueError(f"{where}.channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    return LastTest(
        code=_typed(record["code"], str, f"{where}.code"),
        contact_point=_typed(record["contact_point"], int, f"{where}.contact_point"),
        date=dt.date.fromisoformat(_typed(record["date"], str, f"{where}.date")),
        channel=channel,
        answered=_typed(record["answered"], bool, f"{where}.answered"),
        response_minutes=_optional(record["response_minutes"], int, f"{where}.response_minutes"),
        note=_optional(record["note"], str, f"{where}.note"),
    )


def parse(data: bytes) -> LastTests:
    """Read ``reachability.json`` back into ``LastTests``.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` (``UnicodeDecodeError`` is one) when
    the file is not exactly this format: unknown or missing fields, wrong types, unsorted or
    repeated contact points.
    """
    obj = _keys(json.loads(data.decode("utf-8")), _TOP_KEYS, _TOP_KEYS - {"notice"}, NAME)
    if obj["$schema"] != SCHEMA_ID:
        raise ValueError(f"{NAME}: $schema is not {SCHEMA_ID}")
    results = _typed(obj["results"], list, "results")
    return LastTests(
        version=_typed(obj["version"], str, "version"),
        as_of=parse_timestamp(_typed(obj["as_of"], str, "as_of")),
        demo=_typed(obj["demo"], bool, "demo"),
        source_serial=_optional(obj["source_serial"], int, "source_serial"),
        results=tuple(_result(item, index) for index, item in enumerate(results)),
    )


def render_export(build: Build) -> bytes:
    return render(last_tests(build.reachability, build.release))


def read_back(build: Build, data: bytes) -> None:
    """``reachability.json`` holds exactly the last test of each contact point as of the release."""
    name = NAME
    try:
        found = parse(data)
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise unreadable(name, error) from None
    expected = last_tests(build.reachability, build.release)
    where = first_difference(to_object(expected), to_object(found))
    if where or found != expected:
        raise mismatch(name, where or "the parsed results differ from the reachability records")


EXPORT = Export(NAME, render_export, read_back)
