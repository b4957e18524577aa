"""How signatures are checked fast without checking less: every authorised key read with one gpg call
(``trust.keys.preload_keys``) gives, for every key set, exactly what reading that set alone gives, or is
not used at all; gpgv gets its inputs through pipes (or files, when large) and exactly those bytes."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import gpgtools
from directory247 import trust
from directory247.errors import SignatureError, TrustError
from directory247.trust import gnupg
from directory247.trust.keys import (
    Keyring,
    keyring,
    material_cache_key,
    preload_keys,
    read_keyring,
    remembered_key_files,
)


def _forget() -> None:
    trust.forget_keys()


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    _forget()
    yield
    _forget()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    home = gpgtools.make_home(tmp_path_factory.mktemp("keys"))
    plain = gpgtools.generate_key(home, "plain <plain@test.example>")
    with_sub = gpgtools.generate_key(home, "sub <sub@test.example>", expire="2y")
    gpgtools.add_signing_subkey(home, with_sub, expire="1y")
    revoked = gpgtools.generate_key(home, "revoked <revoked@test.example>")
    gpgtools.revoke(home, revoked)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    expired = gpgtools.generate_key(home, "expired <expired@test.example>", expire="7d", faked_time=past)
    found = {name: gpgtools.export_public(home, fpr)
             for name, fpr in (("plain", plain), ("with_sub", with_sub), ("revoked", revoked), ("expired", expired))}
    found["two_in_one"] = gpgtools.run_gpg(home, "--armor", "--export", plain, expired)
    found["binary_plain"] = gpgtools.run_gpg(home, "--export", plain)  # the same key as "plain", other bytes
    return found


def _alone(key_set: tuple[bytes, ...]) -> Keyring:
    return read_keyring(key_set, "gpg")


def test_every_key_set_reads_the_same_after_one_batch(keys: dict[str, bytes]) -> None:
    sets = [(key,) for key in keys.values()] + list(itertools.combinations(keys.values(), 2))
    expected = [_alone(key_set) for key_set in sets]
    _forget()
    preload_keys(keys.values())
    batched = remembered_key_files()
    # "plain", "binary_plain" and "two_in_one" share a key, as do "expired" and "two_in_one":
    # those four cannot be attributed from one batch and are read the old way.
    assert batched == 2
    assert [keyring(key_set, "gpg") for key_set in sets] == expected
    revoked = keyring((keys["revoked"],), "gpg")
    assert [m.revoked for m in revoked.keys.values()] == [True]
    expired = keyring((keys["expired"],), "gpg")
    assert all(m.expires is not None and m.expires < dt.datetime.now(dt.UTC) for m in expired.keys.values())
    assert len(keyring((keys["with_sub"],), "gpg").keys) == 2


def test_an_unreadable_key_is_still_reported_with_its_number(keys: dict[str, bytes]) -> None:
    broken = keys["plain"].replace(b"\n=", b"\n=AAAA", 1)
    preload_keys([keys["with_sub"], broken])
    with pytest.raises(TrustError, match=r"authorised key #2 cannot be read: armor is damaged"):
        keyring((keys["with_sub"], broken), "gpg")


def test_keys_read_in_the_background_are_waited_for(keys: dict[str, bytes]) -> None:
    sets = [(keys["with_sub"],), (keys["revoked"], keys["expired"])]
    expected = [_alone(key_set) for key_set in sets]
    _forget()
    thread = preload_keys([keys["with_sub"], keys["revoked"], keys["expired"]], background=True)
    assert thread is not None
    results: dict[int, Keyring] = {}

    def read(index: int) -> None:
        results[index] = keyring(sets[index], "gpg")

    readers = [threading.Thread(target=read, args=(index,)) for index in range(len(sets))]
    for reader in readers:
        reader.start()
    for reader in [*readers, thread]:
        reader.join()
    assert [results[index] for index in range(len(sets))] == expected


def test_key_readings_come_from_the_cache_for_the_day(keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    cache: dict[str, list[list[str]]] = {}
    preload_keys([keys["with_sub"], keys["revoked"]], cache=cache)
    expected = [keyring((keys["with_sub"],), "gpg"), keyring((keys["revoked"],), "gpg")]
    assert len(cache) == 2
    _forget()

    def no_gpg(binary: bytes, gpg_binary: str) -> None:
        raise AssertionError("gpg was started although the cache holds every key")

    monkeypatch.setattr(gnupg, "show_keys", no_gpg)
    preload_keys([keys["with_sub"], keys["revoked"]], cache=cache)
    assert [keyring((keys["with_sub"],), "gpg"), keyring((keys["revoked"],), "gpg")] == expected
    today = dt.date(2026, 11, 28)
    assert material_cache_key("gpg", keys["plain"], today) != material_cache_key(
        "gpg", keys["plain"], today + dt.timedelta(days=1))


# --- gpgv started without subprocess: pipes, large inputs, missing binary ---------------------

@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bytes]:
    home = gpgtools.make_home(tmp_path_factory.mktemp("signer"))
    fpr = gpgtools.generate_key(home, "signer <signer@test.example>")
    return home, fpr, gpgtools.export_public(home, fpr)


@pytest.mark.parametrize("size", [0, 1000, 70_000, 300_000])  # empty, a pipe's worth, and more than a pipe holds
def test_any_size_of_data_is_verified_exactly(signer: tuple[Path, str, bytes], size: int) -> None:
    home, fpr, public = signer
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    signature = gpgtools.sign(home, fpr, data)
    now = dt.datetime.now(dt.UTC)
    verified = trust.verify(data, signature, keys=[public], allowed={fpr}, now=now, label="f")
    assert verified.primary_fingerprint == fpr
    with pytest.raises(SignatureError, match="BAD signature"):
        trust.verify(data + b"!", signature, keys=[public], allowed={fpr}, now=now, label="f")


def test_a_missing_gpgv_is_an_explained_error(signer: tuple[Path, str, bytes]) -> None:
    home, fpr, public = signer
    signature = gpgtools.sign(home, fpr, b"data")
    with pytest.raises(SignatureError, match="'no-such-gpgv' was not found; install GnuPG"):
        trust.verify(b"data", signature, keys=[public], allowed={fpr}, now=dt.datetime.now(dt.UTC),
                          label="f", gpgv_binary="no-such-gpgv")


def test_descriptors_handed_to_gpgv_stay_clear_of_its_own() -> None:
    low = os.open(os.devnull, os.O_RDONLY)
    moved = gnupg.move_high(low)
    try:
        assert moved >= gnupg.FIRST_PASSED_FD
        assert not os.get_inheritable(moved)
    finally:
        os.close(moved)
    pipe = gnupg.filled_pipe(b"abc")
    assert pipe is not None and pipe >= gnupg.FIRST_PASSED_FD
    assert os.read(pipe, 10) == b"abc"
    os.close(pipe)
    assert gnupg.filled_pipe(b"x" * 10_000_000) is None  # more than any pipe holds: a file is used


def test_keys_read_in_the_background_without_gpg_leave_the_error_to_verify(
        keys: dict[str, bytes], signer: tuple[Path, str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    home, fpr, public = signer
    thread = preload_keys([public], "no-such-gpg", background=True)
    assert thread is not None
    thread.join()
    assert capsys.readouterr().err == ""  # no traceback from the reader thread
    signature = gpgtools.sign(home, fpr, b"data")
    with pytest.raises(SignatureError, match="cannot read the authorised keys: 'no-such-gpg' was not found"):
        trust.verify(b"data", signature, keys=[public], allowed={fpr}, now=dt.datetime.now(dt.UTC), label="f",
                          gpg_binary="no-such-gpg")
