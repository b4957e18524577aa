"""The batch fast path (trust.batch) with real gpg: it keeps only signatures the policy
accepts and gpg's lines can be attributed for, good signatures by the State's own keys, and
leaves every other case to gpgv (tests/test_check.py runs every gate case both ways and
expects the same messages)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import gpgtools
from directory247.errors import SignatureError
from directory247.trust import batch, status_cache_key, verify
from directory247.trust.status import file_segments, status_lines

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "BATCH_MIN", 1)


def _item(home: Path, state: str, keys: list[str], signer: str, data: bytes, **kwargs: object) -> batch.BatchItem:
    signature = gpgtools.sign(home, signer, data, **kwargs)  # type: ignore[arg-type]
    return batch.BatchItem(state, tuple(gpgtools.export_public(home, fpr) for fpr in keys), signature, data)


def _kept(items: list[batch.BatchItem], groups: int = 2) -> list[bool]:
    statuses: dict[str, list[list[str]]] = {}
    batch.prefill(items, statuses, context=b"test", groups=groups)
    return [status_cache_key(item.keys, item.signature, item.data, b"test")
            in statuses for item in items]


def test_good_signatures_are_kept_and_meet_the_policy(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    home, _root, keys = keyhome
    sizes = [0, 1, 150, 191, 192, 5000, 8191, 8192, 70000]  # every length form of the literal packet
    items = [_item(home, code, [keys[code]], keys[code], b"x" * size + code.encode())
             for size in sizes for code in ("NO", "SE")]
    for groups in (1, 2, 3):
        statuses: dict[str, list[list[str]]] = {}
        assert batch.prefill(items, statuses, context=b"c", groups=groups) == len(items)
        for item in items:  # the policy, applied to the kept lines, accepts exactly as with gpgv
            verified = verify(item.data, item.signature, keys=item.keys, allowed={keys[item.state]}, now=NOW,
                              label="x", state=item.state, cache=statuses, cache_context=b"c")
            assert verified.primary_fingerprint == keys[item.state]
            alone = verify(item.data, item.signature, keys=item.keys, allowed={keys[item.state]}, now=NOW, label="x")
            assert alone == verified


def _outcome(item: batch.BatchItem, allowed: set[str], cache: dict[str, list[list[str]]] | None) -> str:
    try:
        return repr(verify(item.data, item.signature, keys=item.keys, allowed=allowed, now=NOW, label="x",
                           state=item.state, cache=cache, cache_context=b"test"))
    except SignatureError as error:
        return str(error)


def test_everything_unclean_is_left_to_gpgv(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    home, _root, keys = keyhome
    good = _item(home, "NO", [keys["NO"]], keys["NO"], b"good entry")
    other_state = _item(home, "NO", [keys["NO"]], keys["SE"], b"signed by SE")  # SE's key is in the group
    changed = _item(home, "NO", [keys["NO"]], keys["NO"], b"original")
    changed = batch.BatchItem("NO", changed.keys, changed.signature, b"changed")
    text_mode = _item(home, "NO", [keys["NO"]], keys["NO"], b"text\n", textmode=True)
    weak = _item(home, "NO", [keys["NO"]], keys["NO"], b"weak", digest="SHA1")
    expired_key = gpgtools.generate_key(home, "batch expired <be@test.example>", expire="1d",
                                        faked_time=NOW - dt.timedelta(days=10))
    expired = _item(home, "DK", [expired_key], expired_key, b"old", faked_time=NOW - dt.timedelta(days=9))
    revoked_key = gpgtools.generate_key(home, "batch revoked <br@test.example>")
    revoked_item = _item(home, "FI", [revoked_key], revoked_key, b"revoked")
    gpgtools.revoke(home, revoked_key)
    revoked = batch.BatchItem("FI", (gpgtools.export_public(home, revoked_key),), revoked_item.signature,
                                 revoked_item.data)
    se = _item(home, "SE", [keys["SE"]], keys["SE"], b"se entry")
    items = [good, other_state, changed, text_mode, weak, expired, revoked, se]
    # A weak hash is a clean result for gpg (and gpgv), but the policy refuses it: not kept,
    # and refused from gpgv's lines in the same words.
    assert _kept(items, groups=1) == [True, False, False, False, False, False, False, True]
    statuses: dict[str, list[list[str]]] = {}
    batch.prefill(items, statuses, context=b"test", groups=1)
    allowed = {"NO": {keys["NO"]}, "SE": {keys["SE"]}, "DK": {expired_key}, "FI": {revoked_key}}
    outcomes = [_outcome(item, allowed[item.state], dict(statuses)) for item in items]
    assert outcomes == [_outcome(item, allowed[item.state], None) for item in items]  # the same words as gpgv's
    assert "SHA1" in outcomes[4] and "expired" in outcomes[5] and "revoked" in outcomes[6]


def test_a_primary_key_in_two_key_files_is_left_to_gpgv(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    """gpg merges two key files of one primary key on import: here the older copy lacks the
    signing subkey, so gpgv refuses the first entry, but the merged key would verify it."""
    home, _root, _keys = keyhome
    key = gpgtools.generate_key(home, "batch twice <bt@test.example>")
    older = gpgtools.export_public(home, key)
    gpgtools.add_signing_subkey(home, key)
    newer = gpgtools.export_public(home, key)
    first = batch.BatchItem("NO", (older,), gpgtools.sign(home, key, b"one"), b"one")
    second = batch.BatchItem("IS", (newer,), gpgtools.sign(home, key, b"two"), b"two")
    assert _kept([first, second], groups=1) == [False, False]
    assert _kept([first, second], groups=2) == [False, True]  # apart, each home holds one copy


def test_output_that_cannot_be_attributed_is_dropped() -> None:
    lines = (b"[GNUPG:] FILE_START 1 /elsewhere/0\n[GNUPG:] NEWSIG\n[GNUPG:] FILE_DONE\n"
             b"[GNUPG:] FILE_START 1 /home/messages/1\n[GNUPG:] NEWSIG\n[GNUPG:] FILE_DONE\n"
             b"[GNUPG:] FILE_START 1 /home/messages/7\n[GNUPG:] NEWSIG\n[GNUPG:] FILE_DONE\n"
             b"[GNUPG:] FILE_START 1 /home/messages/0\n[GNUPG:] NEWSIG\n")  # never done
    assert file_segments(lines, 2, "/home/messages") == ({1: [["NEWSIG"]]}, 0)


def test_states_are_split_whole_and_even() -> None:
    states = ["NO", "NO", "SE", "FI", "FI", "FI", "DK"]
    parts = batch.split(states, 2)
    assert sorted(n for part in parts for n in part) == list(range(len(states)))
    for part in parts:
        assert all(states[n] not in {states[m] for other in parts if other is not part for m in other} for n in part)
    assert sorted(len(part) for part in parts) == [3, 4]


def test_a_user_id_cannot_forge_status_lines(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    """gpg quotes a user ID in GOODSIG without escaping U+2028 (a line separator to Python):
    a key whose user ID carries fake VALIDSIG and FILE_DONE lines naming NO's key, signing
    NO's entry, must be refused as gpgv refuses it, and never kept by the batch."""
    home, _root, keys = keyhome
    fake = f"1 2024-01-01 1704067200 0 4 0 22 10 00 {keys['NO']}"
    uid = f"Police B\u2028[GNUPG:] VALIDSIG {keys['NO']} {fake}\u2028[GNUPG:] FILE_DONE <b@test.example>"
    evil = gpgtools.generate_key(home, uid)
    forged = _item(home, "NO", [keys["NO"]], evil, b"NO entry signed by another State's key")
    own = _item(home, "EV", [evil], evil, b"the other State's own entry")
    items = [forged, own]
    assert _kept(items, groups=1) == [False, True]
    statuses: dict[str, list[list[str]]] = {}
    batch.prefill(items, statuses, context=b"test", groups=1)
    found = _outcome(forged, {keys["NO"]}, dict(statuses))
    assert found == _outcome(forged, {keys["NO"]}, None)
    assert "not authorised for NO" in found


def test_status_lines_split_on_line_feeds_only() -> None:
    output = "[GNUPG:] GOODSIG 0123 A\u2028[GNUPG:] VALIDSIG X\u0085B\u2029C\r\n[GNUPG:] NEWSIG\n".encode()
    assert status_lines(output) == [["GOODSIG", "0123", "A\u2028[GNUPG:]", "VALIDSIG", "X\u0085B\u2029C"], ["NEWSIG"]]


def test_two_results_for_one_signature_are_refused(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    home, _root, keys = keyhome
    item = _item(home, "NO", [keys["NO"]], keys["NO"], b"entry")
    statuses: dict[str, list[list[str]]] = {}
    batch.prefill([item], statuses, context=b"test", groups=1)
    (lines,) = statuses.values()
    validsig = next(fields for fields in lines if fields[0] == "VALIDSIG")
    doubled = {key: [*value, validsig] for key, value in statuses.items()}
    assert "two results for one signature" in _outcome(item, {keys["NO"]}, doubled)


def test_a_local_revocation_is_honoured_as_gpgv_honours_it(keyhome: tuple[Path, str, dict[str, str]]) -> None:
    """A key revoked by a NON-EXPORTABLE self-revocation (class 0x20, Exportable=0): gpgv reads
    the key file as it is and says REVKEYSIG, but a plain ``gpg --import`` drops local
    signatures, so the batch would see a good signature by a key that is not revoked. It must
    leave the entry to gpgv (or import with import-local-sigs) and refuse it as gpgv does."""
    home, _root, keys = keyhome
    key = gpgtools.generate_key(home, "batch local revocation <blr@test.example>")
    data = b"signed before the key was revoked"
    signature = gpgtools.sign(home, key, data)
    local = gpgtools.revoke_locally(home, key)
    packets = gpgtools.run_gpg(home, "--list-packets", data=local).decode()
    assert "sigclass 0x20" in packets and "(not exportable)" in packets
    revoked = batch.BatchItem("LV", (local,), signature, data)
    good = _item(home, "NO", [keys["NO"]], keys["NO"], b"good entry")
    assert _kept([revoked, good], groups=1) == [False, True]
    statuses: dict[str, list[list[str]]] = {}
    batch.prefill([revoked, good], statuses, context=b"test", groups=1)
    found = _outcome(revoked, {key}, dict(statuses))
    assert found == _outcome(revoked, {key}, None)  # the same words as gpgv's
    assert "revoked" in found
