"""Demonstration keys: a public, throwaway root key, release key and one key per State.

The secret halves are committed in ``demo-keys/`` on purpose, so anyone can re-sign the demo
directory after editing it (``make demo-sign``). The authorisations they produce say
``network: demo``, so demo keys can only ever sign entries marked ``demo: true``, and a
directory signed with them can never pass against a production root.

``python -m directory247.demo.keys generate`` makes a fresh set (only needed once);
``python -m directory247.demo.keys sign`` re-signs every entry and the authorisations.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..entry.yaml_writer import dump
from ..errors import DirectoryError
from ..paths import project_root
from ..publish import write_atomic
from ..trust import verify
from ..trust.authorisations import AUTHORISATIONS, ROOT_KEY, parse_authorisations, pubkey_path

DEMO_KEYS_DIR = "demo-keys"
EXPIRY = "2031-12-31"


def run_gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback",
         "--passphrase", "", *args],
        input=data, capture_output=True, check=False, timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace"))
    return done.stdout


def _fingerprint(home: Path, uid: str) -> str:
    listing = run_gpg(home, "--with-colons", "--list-keys", f"={uid}").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def _home() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="d247-demo-")


def _stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def generate(root: Path) -> None:
    states = [row["iso2"] for row in csv.DictReader((root / "data" / "ets185_states.csv").open(encoding="utf-8"))]
    secret = root / DEMO_KEYS_DIR
    secret.mkdir(exist_ok=True)
    with _home() as tmp:
        home = Path(tmp)
        try:
            def make(name: str, label: str) -> str:
                uid = f"{label} (PUBLIC DEMO KEY, NOT FOR REAL USE) <{name}@demo.directory247.example>"
                run_gpg(home, "--quick-generate-key", uid, "ed25519", "sign", EXPIRY)
                fpr = _fingerprint(home, uid)
                write_atomic(secret / f"{name}.asc", run_gpg(home, "--armor", "--export-secret-keys", fpr))
                write_atomic(root / pubkey_path(fpr), run_gpg(home, "--armor", "--export", fpr))
                return fpr

            root_fpr = make("root", "24/7 Directory demo root")
            write_atomic(root / ROOT_KEY, run_gpg(home, "--armor", "--export", root_fpr))
            (root / pubkey_path(root_fpr)).unlink()
            release_fpr = make("release", "24/7 Directory demo release")
            state_keys = {code: [make(code.lower(), f"24/7 Directory demo signer for {code}")] for code in states}
        finally:
            _stop_agent(home)
    authorisations = {
        "schema_version": "1",
        "serial": 1,
        "network": "demo",
        "root": root_fpr,
        "release_keys": [release_fpr],
        "states": dict(sorted(state_keys.items())),
    }
    header = ("# Key authorisations of the 24/7 Directory (DEMONSTRATION keys).\n"
              "# Valid only with keys/authorisations.yaml.asc, a detached signature by the root key.\n")
    write_atomic(root / AUTHORISATIONS, (header + dump(authorisations)).encode())
    sign(root)


def _root_signature_holds(root: Path, fingerprint: str) -> bool:
    signature = root / (AUTHORISATIONS + ".asc")
    if not signature.exists():
        return False
    try:
        verify((root / AUTHORISATIONS).read_bytes(), signature.read_bytes(), keys=[(root / ROOT_KEY).read_bytes()],
               allowed={fingerprint}, now=dt.datetime.now(dt.UTC), label=AUTHORISATIONS + ".asc")
    except DirectoryError:
        return False
    return True


def sign(root: Path, only: list[str] | None = None) -> int:
    """Re-sign the authorisations with the demo root key and entries with their State keys."""
    secret = root / DEMO_KEYS_DIR
    authorisations = parse_authorisations((root / AUTHORISATIONS).read_bytes())
    count = 0
    with _home() as tmp:
        home = Path(tmp)
        try:
            for key in sorted(secret.glob("*.asc")):
                run_gpg(home, "--import", str(key))
            def detach(path: Path, fpr: str) -> None:
                signature = run_gpg(home, "--armor", "--detach-sign", "--no-textmode", "--digest-algo", "SHA512",
                                 "--local-user", f"{fpr}!", "--output", "-", str(path))
                write_atomic(path.with_name(path.name + ".asc"), signature)

            if only is None and not _root_signature_holds(root, authorisations.root):
                # Re-signing an unchanged file would still change keys/, which the gate treats
                # as a change of authorisations; so only sign when the signature is missing or stale.
                detach(root / AUTHORISATIONS, authorisations.root)
            for entry in sorted((root / "directory").glob("*.yaml")):
                code = entry.stem.upper()
                if only is not None and code not in only:
                    continue
                signers = authorisations.signers_for(code)
                if signers:
                    detach(entry, signers[0])
                    count += 1
        finally:
            _stop_agent(home)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory247.demo.keys", description=__doc__)
    parser.add_argument("action", choices=("generate", "sign"))
    parser.add_argument("codes", nargs="*", help="with sign: only these States (default: all + authorisations)")
    args = parser.parse_args(argv)
    root = project_root()
    os.umask(0o022)
    if args.action == "generate":
        generate(root)
        print("generated demo keys and signed the demo directory")
    else:
        count = sign(root, [c.upper() for c in args.codes] or None)
        print(f"signed {count} demo entries")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
