"""``directory247 sign FILE [--key FPR]``: validate, sign with the Party's own key, verify."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from .. import report
from ..authorisations import load_trust
from ..errors import DirectoryError, SignatureError, UsageError
from ..paths import project_root
from ..publish import write_atomic
from ..repository import WorkTree
from ..signatures import GnuPG, verify
from ..validation import file_code, validate_files
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
    if not path.is_file() or path.is_symlink():
        raise UsageError(f"{path}: not a regular file")
    code = file_code(path.name)
    if code is None:
        raise UsageError(f"{path}: an entry is named <cc>.yaml (e.g. no.yaml)")
    now = dt.datetime.now(dt.UTC)
    (result,) = validate_files([path], today=now.date())
    if not result.ok:
        sys.stdout.write(report.text(result.problems, 1))
        raise DirectoryError(f"{path} does not validate; fix the problems above, then sign")

    trust = load_trust(WorkTree(project_root()), now=now)
    authorised = trust.authorisations.signers_for(code)
    if not authorised:
        raise DirectoryError(f"no key is authorised for {code} in keys/authorisations.yaml; ask the Secretariat")
    gnupg = GnuPG(gnupghome=args.gnupghome)
    key = args.key
    if key is None:
        own = set(gnupg.fingerprint_of_secret_keys())
        usable = [f for f in authorised if f in own]
        if not usable:
            raise DirectoryError(f"none of your secret keys is authorised for {code} (authorised: "
                                 f"{', '.join(authorised)}); import your State's signing key or use --key")
        key = usable[0]
    signature = gnupg.sign(result.data, key=key)
    try:
        verified = verify(result.data, signature, keys=trust.keys_for(code), allowed=set(authorised), now=now,
                          label=f"{path}.asc", state=code)
    except SignatureError as exc:
        raise DirectoryError(f"the new signature does not pass the gate, so it was not written: {exc}") from None
    write_atomic(path.with_name(path.name + ".asc"), signature)
    sys.stdout.write(f"signed {path} -> {path}.asc with {verified.primary_fingerprint} "
                     f"(authorised for {code}); verified under the gate's policy\n")
    return 0
