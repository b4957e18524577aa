"""``directory247 sign FILE [--key FPR]``: validate, sign with the Party's own key, verify."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from .. import report
from ..paths import project_root
from ..trust import GnuPG
from ..trust.authorisations import load_trust
from ..trust.party_signing import EntryNotValid, entry_code, read_entry, sign_entry, write_signed
from ..trust.snapshots import WorkTree
from . import parser


def main(argv: list[str]) -> int:
    p = parser("sign", "Sign an entry with your State's key (detached, armored, binary mode: FILE.asc), "
                       "then verify it under the same policy as 'check'.")
    p.add_argument("file", metavar="FILE", help="the entry, e.g. directory/no.yaml")
    p.add_argument("--key", metavar="FPR", help="fingerprint of the secret key to sign with "
                                                "(default: your secret key that is authorised for the State)")
    p.add_argument("--gnupghome", metavar="DIR", help="GnuPG home holding your secret key (default: gpg's own)")
    args = p.parse_args(argv)
    path = Path(args.file)
    code = entry_code(path)
    data = read_entry(path)
    now = dt.datetime.now(dt.UTC)
    trust = load_trust(WorkTree(project_root()), now=now)
    try:
        signed = sign_entry(data, str(path), trust=trust, gnupg=GnuPG(gnupghome=args.gnupghome), key=args.key,
                            now=now)
    except EntryNotValid as exc:
        sys.stdout.write(report.text(exc.problems, 1))
        raise
    write_signed(path, signed, previous=None)
    sys.stdout.write(f"signed {path} -> {path}.asc with {signed.verified.primary_fingerprint} "
                     f"(authorised for {code}); verified under the gate's policy\n")
    return 0
