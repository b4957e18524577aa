"""Synthetic, valid, signed directories for ``make bench``: N entries, deterministic from a seed.

An entry file is named by a real ISO 3166-1 alpha-2 code (``<cc>.yaml``, the name the ISO
name), so one directory holds at most ``len(pycountry.countries)`` (249) entries, and the
production rules stay as they are. N entries are therefore spread over
``ceil(N / 249)`` *networks*: complete, independent directory repositories of at most 249
entries each (``directory/``, ``keys/`` with their own root-signed authorisations), built
and measured together. Each entry is a fictional State unit of that network (names, units,
e-mail domains, serials and dates vary with the network and the seed; ``demo: true``,
``.example`` domains); its size grows with one to three contact points.

Keys: gpg cannot generate keys from a seed, and 10,000 keys would take minutes, so there is
one ed25519 key per State code, shared by the networks (each network's authorisations name
it for that State), one root key and one release key. Every entry still has its own
signature over its own bytes: one gpgv per entry, as in production.

Fixtures are cached in ``build/bench-cache/n<N>-s<seed>/`` (written to a temporary folder,
renamed when complete), so a rerun starts at once. Everything but the key material and the
signatures is a pure function of (N, seed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry

from directory247.demo.entries import build_entry
from directory247.demo.keys import run_gpg  # the demo keys' gpg call: batch, no passphrase
from directory247.entry.yaml_writer import dump

PROJECT = Path(__file__).resolve().parents[1]
CACHE = PROJECT / "build" / "bench-cache"
#: Raise when the generator's output changes, so cached fixtures are rebuilt.
FORMAT = 1
CODES: tuple[str, ...] = tuple(sorted(country.alpha_2 for country in pycountry.countries))
PER_NETWORK = len(CODES)
_STAMP = "fixture.json"
_UNITS = ("Cybercrime Centre, 24/7 Desk", "National Cyber Crime Unit", "High-Tech Crime Unit",
          "Digital Evidence Unit", "Computer Crime Office")
_AUTHORITIES = (("National Police", "police"), ("Criminal Investigation Department", "police"),
                ("Public Prosecution Service", "prosecution"), ("Cyber Security Agency", "other"))


@dataclass(frozen=True)
class Fixture:
    """A generated set of networks, with the keys that sign them."""

    root: Path
    n: int
    seed: int
    networks: tuple[Path, ...]
    gnupghome: Path  # secret halves of the root, release and State keys
    release_fingerprint: str

    def entry_files(self) -> list[Path]:
        return [path for network in self.networks for path in sorted((network / "directory").glob("*.yaml"))]

    @property
    def gpgv_loop(self) -> Path:
        """A plain shell script: one sequential ``gpgv`` per entry, the verification baseline."""
        return self.root / "gpgv-loop.sh"


def network_sizes(n: int) -> list[int]:
    """``n`` entries over as few networks as the 249 codes allow, as evenly as possible."""
    if n < 1:
        raise ValueError("N must be at least 1")
    count = math.ceil(n / PER_NETWORK)
    return [n // count + (1 if index < n % count else 0) for index in range(count)]


def network_codes(seed: int, network: int, size: int) -> list[str]:
    """Which States a network holds: a seeded sample of the ISO codes, sorted."""
    codes = list(CODES)
    random.Random(f"codes:{seed}:{network}").shuffle(codes)  # noqa: S311 - test data, not secrets
    return sorted(codes[:size])


def _date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def synthetic_entry(seed: int, network: int, code: str) -> dict[str, Any]:
    """One fictional, valid entry of State ``code`` in ``network``."""
    rng = random.Random(f"entry:{seed}:{network}:{code}")  # noqa: S311 - test data, not secrets
    country = pycountry.countries.get(alpha_2=code)
    assert country is not None
    status = rng.choice(("party", "party", "party", "signatory", "invited"))
    signature = _date(rng, dt.date(2001, 11, 23), dt.date(2020, 12, 31))
    ratification = signature + dt.timedelta(days=rng.randrange(60, 2000))
    state = {
        "iso2": code, "name": country.name, "status": status,
        "signature": signature.isoformat() if status != "invited" else "",
        "ratification_or_accession": ratification.isoformat() if status == "party" else "",
        "entry_into_force": (ratification + dt.timedelta(days=92)).isoformat() if status == "party" else "",
        "source": f"https://treaties.bench.example/{seed}/{network}/{code.lower()}",
        "as_of": "2025-06-30",
    }
    protocol = None
    if status == "party" and rng.random() < 0.4:
        signed = _date(rng, dt.date(2022, 5, 12), dt.date(2025, 6, 30))
        protocol = {"signature": signed.isoformat(), "source": state["source"] + "/224"}
        if rng.random() < 0.5:
            protocol["ratification"] = (signed + dt.timedelta(days=rng.randrange(30, 300))).isoformat()
    entry = build_entry(state, protocol, serial=rng.randrange(1, 40))
    domain = f"n{network}.{code.lower()}.example"
    entry["confirmed"] = _date(rng, dt.date(2026, 1, 5), dt.date(2026, 10, 31)).isoformat()
    points: list[dict[str, Any]] = entry["contact_points"][:1]
    primary = points[0]
    if not primary["phones"]:  # no numbering plan for this code (AQ, BV, ...): borrow a valid one
        primary["phones"] = [{"number": "+4721234567", "kind": "24/7"}]
    primary["unit"] = rng.choice(_UNITS)
    primary["authority"] = f"National Police of {country.name}, network {network} (demonstration)"
    primary["emails"] = [f"cyber-24-7@police.{domain}"]
    for index in range(rng.randrange(3)):
        authority, kind = rng.choice(_AUTHORITIES)
        points.append({
            "role": "secondary",
            "authority": f"{authority} of {country.name}, network {network} (demonstration)",
            "unit": rng.choice(_UNITS),
            "authority_type": kind,
            "available_24_7": False,
            "phones": [{"number": primary["phones"][0]["number"], "kind": "office"}],
            "emails": [f"unit{index + 1}@{kind}.{domain}"],
            "languages": primary["languages"][:2],
            "time_zone": primary["time_zone"],
            "office_hours": rng.choice(("Mon-Fri 08:00-16:00", "Mon-Fri 09:00-17:00", "Mon-Sat 07:00-19:00")),
        })
    entry["contact_points"] = points
    entry["related_authorities"]["mla_central_authority"]["emails"] = [f"mla@justice.{domain}"]
    entry["related_authorities"]["mla_central_authority"]["name"] = (
        f"Ministry of Justice of {country.name}, network {network} (demonstration)")
    return entry


# --------------------------------------------------------------------------- gpg


def _new_key(home: Path, uid: str) -> str:
    status = run_gpg(home, "--status-fd", "1", "--quick-generate-key", uid, "ed25519", "sign", "never").decode()
    return next(line.split()[3] for line in status.splitlines() if line.startswith("[GNUPG:] KEY_CREATED "))


def stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def _detach_sign(home: Path, fingerprint: str, path: Path) -> None:
    signature = run_gpg(home, "--armor", "--detach-sign", "--no-textmode", "--digest-algo", "SHA512",
                     "--local-user", f"{fingerprint}!", "--output", "-", str(path))
    path.with_name(path.name + ".asc").write_bytes(signature)


# --------------------------------------------------------------------------- fixture


def fixture_dir(n: int, seed: int, cache: Path = CACHE) -> Path:
    return cache / f"n{n}-s{seed}"


def load(n: int, seed: int, cache: Path = CACHE) -> Fixture | None:
    """The cached fixture for (n, seed), or None when there is none (or an outdated one)."""
    root = fixture_dir(n, seed, cache)
    try:
        stamp = json.loads((root / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp.get("format") != FORMAT or stamp.get("n") != n or stamp.get("seed") != seed:
        return None
    return Fixture(root=root, n=n, seed=seed,
                   networks=tuple(root / name for name in stamp["networks"]),
                   gnupghome=root / "gnupg", release_fingerprint=stamp["release"])


def generate(n: int, seed: int, cache: Path = CACHE, *, jobs: int = 2, log: Any = None) -> Fixture:
    """The fixture for (n, seed): from the cache, else generated (keys, entries, signatures)."""
    found = load(n, seed, cache)
    if found is not None:
        return found
    final = fixture_dir(n, seed, cache)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache))
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    say = log or (lambda message: None)
    try:
        sizes = network_sizes(n)
        plan = [(index, network_codes(seed, index, size)) for index, size in enumerate(sizes)]
        codes = sorted({code for _, codes in plan for code in codes})
        say(f"generating {len(codes) + 2} keys")
        root_fpr = _new_key(home, "bench root (BENCHMARK KEY) <root@bench.directory247.example>")
        release_fpr = _new_key(home, "bench release (BENCHMARK KEY) <release@bench.directory247.example>")
        # One at a time: concurrent key generation in one home trips over the keybox lock.
        fprs = {code: _new_key(home, f"bench signer for {code} <{code.lower()}@bench.directory247.example>")
                for code in codes}
        public = {fpr: run_gpg(home, "--armor", "--export", fpr) for fpr in [root_fpr, release_fpr, *fprs.values()]}
        keyrings = work / "keyrings"
        keyrings.mkdir()
        for code, fpr in fprs.items():  # binary keyrings for the plain gpgv loop
            (keyrings / f"{code.lower()}.gpg").write_bytes(run_gpg(home, "--export", fpr))

        say(f"writing {n} entries in {len(plan)} network(s)")
        signing: list[tuple[str, Path]] = []
        names = []
        for index, network_codes_ in plan:
            net = work / f"net-{index:03d}"
            names.append(net.name)
            (net / "directory").mkdir(parents=True)
            (net / "keys" / "pubkeys").mkdir(parents=True)
            (net / "keys" / "root.asc").write_bytes(public[root_fpr])
            for fpr in [release_fpr, *(fprs[code] for code in network_codes_)]:
                (net / "keys" / "pubkeys" / f"{fpr}.asc").write_bytes(public[fpr])
            authorisations = {
                "schema_version": "1", "serial": 1, "network": "demo", "root": root_fpr,
                "release_keys": [release_fpr], "states": {code: [fprs[code]] for code in network_codes_},
            }
            path = net / "keys" / "authorisations.yaml"
            path.write_text(f"# Benchmark network {index} (seed {seed}): synthetic keys.\n" + dump(authorisations),
                            encoding="utf-8")
            _detach_sign(home, root_fpr, path)
            for code in network_codes_:
                path = net / "directory" / f"{code.lower()}.yaml"
                header = f"# Synthetic benchmark entry (network {index}, seed {seed}). Fictional contact data.\n"
                path.write_text(header + dump(synthetic_entry(seed, index, code)), encoding="utf-8")
                signing.append((fprs[code], path))

        say(f"signing {len(signing)} entries")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(lambda job: _detach_sign(home, *job), signing))

        loop = ["#!/bin/sh", "# One plain gpgv per entry, in sequence: the verification baseline.", "set -e",
                'home=$(mktemp -d)', 'trap \'rm -rf "$home"\' EXIT']
        for _fpr, path in signing:
            keyring = keyrings / f"{path.stem}.gpg"
            loop.append(f"gpgv --homedir \"$home\" --keyring {_final(keyring, work, final)} "
                        f"{_final(path.with_name(path.name + '.asc'), work, final)} "
                        f"{_final(path, work, final)} 2>/dev/null")
        (work / "gpgv-loop.sh").write_text("\n".join(loop) + "\n", encoding="utf-8")
        stamp = {"format": FORMAT, "n": n, "seed": seed, "networks": names, "release": release_fpr,
                 "root": root_fpr, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        (work / _STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        stop_agent(home)
        shutil.rmtree(work, ignore_errors=True)
        raise
    stop_agent(home)
    if final.exists():
        shutil.rmtree(final)
    os.replace(work, final)
    fixture = load(n, seed, cache)
    assert fixture is not None
    return fixture


def _final(path: Path, work: Path, final: Path) -> str:
    """``path`` as it will be once ``work`` is renamed to ``final``, quoted for sh."""
    moved = final / path.relative_to(work)
    return "'" + str(moved).replace("'", "'\\''") + "'"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="number of entries (default: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default: 1)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"fixture cache (default: {CACHE})")
    args = parser.parse_args(argv)
    fixture = generate(args.n, args.seed, args.cache, log=lambda message: print(message, file=sys.stderr))
    print(f"{fixture.root}: {fixture.n} entries in {len(fixture.networks)} network(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
