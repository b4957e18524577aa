"""``directory247 new CC``: scaffold an entry for a State; never overwrites."""

from __future__ import annotations

import sys

from ..entry.scaffold import render
from ..entry.schema import load_schema
from ..errors import UsageError
from ..paths import directory_dir
from ..publish import write_new
from . import parser, today


def main(argv: list[str]) -> int:
    p = parser("new", "Write directory/<cc>.yaml for a State, every field commented from the schema.")
    p.add_argument("code", metavar="CC", help="ISO 3166-1 alpha-2 code of the State (e.g. NO)")
    args = p.parse_args(argv)
    code = args.code.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise UsageError(f"'{args.code}' is not a two-letter ISO 3166-1 code")
    text = render(code, today(), load_schema())
    folder = directory_dir()
    folder.mkdir(exist_ok=True)
    path = folder / f"{code.lower()}.yaml"
    try:
        write_new(path, text.encode("utf-8"))  # refuses to overwrite, even a file appearing meanwhile
    except FileExistsError:
        raise UsageError(f"{path} already exists; edit it instead (nothing was written)") from None
    sys.stdout.write(f"wrote {path}\nnext: fill in the placeholders, then 'directory247 validate {path}'\n")
    return 0
