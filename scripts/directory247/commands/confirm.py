"""``directory247 confirm FILE [--key FPR] [--gnupghome DIR] [--date DATE]``: "still correct", signed.

Sets ``confirmed`` to today (or DATE) and raises ``serial`` by one, in place, leaving every
other byte of the entry alone; then validates, signs and verifies exactly as ``sign`` does.
The entry and its signature are written only once the new signature has passed the gate's
policy, so a failure leaves both files as they were. Exit 0 done, 1 not (the entry does not
validate, no authorised key, the signature fails), 2 usage.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from .. import report
from ..entry.confirmation import confirmation_due
from ..errors import UsageError
from ..freshness.standing import EntryNotLoadable, confirm_edit
from ..paths import project_root
from ..trust import GnuPG
from ..trust.authorisations import load_trust
from ..trust.party_signing import EntryNotValid, entry_code, read_entry, sign_entry, write_signed
from ..trust.snapshots import WorkTree
from . import date_argument, parser


def main(argv: list[str]) -> int:
    p = parser("confirm", "Confirm that an entry is still correct: set 'confirmed' to today, raise 'serial' by "
                          "one, then validate, sign and verify as 'sign' does. Nothing else in the file changes.")
    p.add_argument("file", metavar="FILE", help="the entry, e.g. directory/no.yaml")
    p.add_argument("--key", metavar="FPR", help="fingerprint of the secret key to sign with "
                                                "(default: your secret key that is authorised for the State)")
    p.add_argument("--gnupghome", metavar="DIR", help="GnuPG home holding your secret key (default: gpg's own)")
    p.add_argument("--date", type=date_argument, metavar="DATE",
                   help="the confirmation date, YYYY-MM-DD (default: today, UTC); not in the future")
    args = p.parse_args(argv)
    path = Path(args.file)
    code = entry_code(path)
    now = dt.datetime.now(dt.UTC)
    day: dt.date = args.date or now.date()
    if day > now.date():
        raise UsageError(f"--date {day.isoformat()} is in the future; a State confirms on the day it checks")
    before = read_entry(path)
    try:
        edit = confirm_edit(before, str(path), day)
    except EntryNotLoadable as exc:
        sys.stdout.write(report.text(exc.problems, 1))
        raise
    trust = load_trust(WorkTree(project_root()), now=now)
    try:
        signed = sign_entry(edit.data, str(path), trust=trust, gnupg=GnuPG(gnupghome=args.gnupghome),
                            key=args.key, now=now)
    except EntryNotValid as exc:
        sys.stdout.write(report.text(exc.problems, 1))
        raise
    write_signed(path, signed, previous=before)
    sys.stdout.write(
        f"confirmed {path}: confirmed {edit.old_confirmed} -> {day.isoformat()}, serial {edit.old_serial} -> "
        f"{edit.new_serial}\nsigned {path} -> {path}.asc with {signed.verified.primary_fingerprint} "
        f"(authorised for {code}); verified under the gate's policy\n"
        f"next confirmation due {confirmation_due(day).isoformat()}\n")
    return 0
