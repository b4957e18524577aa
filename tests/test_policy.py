"""The acceptance policy as a table: gpgv's status lines and gpg's reading of the keys,
captured from real gpg by tests/capture_status.py into tests/fixtures/status/, each with the
verdict its case expects. ``judge`` is pure, so the table runs without gpg; the capture
itself is run once more below, and tests/test_signatures.py verifies end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import capture_status
from directory247.trust import Refusal, Verified, judge
from directory247.trust.batch import attributed
from directory247.trust.policy import POLICY, all_of, not_bad, one_signature
from directory247.trust.status import KeyMaterial, StatusLines, status_lines

FIXTURES = Path(__file__).parent / "fixtures" / "status"


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _status(case: dict[str, Any]) -> StatusLines:
    return status_lines("".join(line + "\n" for line in case["status"]).encode())


def _keys(case: dict[str, Any]) -> dict[str, KeyMaterial]:
    return {key["fingerprint"]: KeyMaterial(key["fingerprint"], key["primary"],
                                            _time(key["expires"]) if key["expires"] else None, key["revoked"])
            for key in case["keys"]}


def _verdict(case: dict[str, Any], status: StatusLines | None = None) -> Verified | Refusal:
    return judge(_status(case) if status is None else status, _keys(case), allowed=case["allowed"],
                 now=_time(case["now"]), state=case["state"])


def _expected(case: dict[str, Any]) -> Verified | Refusal:
    if "accepted" in case["expect"]:
        accepted = case["expect"]["accepted"]
        return Verified(primary_fingerprint=accepted["primary"], signing_fingerprint=accepted["signing"],
                        created=_time(accepted["created"]), hash_algorithm=accepted["hash_algorithm"],
                        signature_class=accepted["signature_class"])
    return Refusal(case["expect"]["refused"]["rule"], case["expect"]["refused"]["message"])


def _load(name: str, folder: Path = FIXTURES) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return case


CASES = [case.name for case in capture_status.CASES]


@pytest.mark.parametrize("name", CASES)
def test_each_captured_case_gets_its_verdict(name: str) -> None:
    case = _load(name)
    assert _verdict(case) == _expected(case)


def test_every_case_has_a_fixture_and_every_fixture_a_case() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.json")) == sorted(CASES)


def test_the_batch_keeps_what_the_policy_accepts_when_gpg_lines_are_attributed() -> None:
    """The batch keeps a verdict only when ``judge`` accepts it AND ``attributed`` holds; on
    gpgv's own lines the attribution holds for every accepted case, so the two agree."""
    for name in CASES:
        case = _load(name)
        own = set(case["allowed"])
        kept = attributed(_status(case), own) and isinstance(_verdict(case), Verified)
        assert kept == ("accepted" in case["expect"]), name
        assert not attributed(_status(case), set())  # never for a key outside the State's own files


# Cases made from captured lines, for what gpg does not say on its own.
def _doubled(status: StatusLines) -> StatusLines:
    return [*status, *[fields for fields in status if fields[0] == "VALIDSIG"]]


def _without(word: str) -> Callable[[StatusLines], StatusLines]:
    return lambda status: [fields for fields in status if fields[0] != word]


def _plus(*fields: str) -> Callable[[StatusLines], StatusLines]:
    return lambda status: [*status, list(fields)]


DERIVED = [
    ("good", _doubled, "one_result_each", "gpgv reported two results for one signature; it cannot be accepted"),
    ("good", _without("NEWSIG"), "one_signature", "gpgv found 0 readable signatures; exactly one is required"),
    ("good", _without("VALIDSIG"), "verified_by_gpgv", "signature could not be verified by gpgv"),
    ("good", _without("GOODSIG"), "verified_by_gpgv", "signature could not be verified by gpgv"),
    ("good", _plus("KEYREVOKED"), "key_not_revoked", "signed by {primary}, which has been revoked"),
    ("good", _plus("SIGEXPIRED"), "signature_not_expired", "signature has expired"),
    ("bad", _plus("NEWSIG"), "one_signature", "gpgv found 2 readable signatures; exactly one is required"),
]


@pytest.mark.parametrize(("name", "change", "rule", "message"), DERIVED)
def test_derived_cases(name: str, change: Callable[[StatusLines], StatusLines], rule: str, message: str) -> None:
    case = _load(name)
    verdict = _verdict(case, change(_status(case)))
    assert verdict == Refusal(rule, message.format(primary=case["allowed"][0]))


def test_refusal_names_the_label() -> None:
    error = Refusal("not_bad", "BAD signature").error("directory/no.yaml.asc")
    assert str(error) == "directory/no.yaml.asc: BAD signature"


def test_allowed_fingerprints_are_normalised() -> None:
    case = _load("good")
    spaced = " ".join(case["allowed"][0][i : i + 4] for i in range(0, 40, 4)).lower()
    assert isinstance(judge(_status(case), _keys(case), allowed=[spaced], now=_time(case["now"])), Verified)


def test_naive_now_is_a_bug() -> None:
    case = _load("good")
    with pytest.raises(ValueError, match="timezone-aware"):
        judge(_status(case), _keys(case), allowed=case["allowed"], now=datetime.now())


def test_rules_compose() -> None:
    """A policy is any composition of rules: a smaller one refuses less, in its own order."""
    bad = _load("bad")
    status, keys, now = _status(bad), _keys(bad), _time(bad["now"])
    assert judge(status, keys, allowed=bad["allowed"], now=now, policy=POLICY) == Refusal("not_bad", capture_status.BAD)
    only_count = all_of(one_signature)
    # Without the rules that read VALIDSIG, no verdict can be given: refused, never accepted.
    assert judge(status, keys, allowed=bad["allowed"], now=now, policy=only_count) == Refusal(
        "verified_by_gpgv", "signature could not be verified by gpgv")
    assert not_bad.__name__ == "not_bad"


def test_the_capture_script_reproduces_every_verdict(tmp_path: Path) -> None:
    """The script behind the fixtures, run again with the gpg of this machine."""
    written = capture_status.capture(tmp_path)
    assert sorted(path.stem for path in written) == sorted(CASES)
    for name in CASES:
        case = _load(name, tmp_path)
        assert _verdict(case) == _expected(case), name
        assert _time(case["now"]) - datetime.now(UTC) < timedelta(days=11)
