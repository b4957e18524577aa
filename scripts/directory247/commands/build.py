"""``directory247 build [--out DIR] [--releases DIR]``: the site of every published release."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import pinned, report
from ..errors import ReleaseError
from ..paths import project_root
from ..release.verify import verify_archived
from ..site.build import build_site
from . import parser


def main(argv: list[str]) -> int:
    p = parser("build", "Build the site from the published releases (the newest is shown, every older one "
                        "stays browsable) and swap it into --out. Exit 0 built, 1 failed, 2 usage error.")
    p.add_argument("--out", type=Path, metavar="DIR", help="where the site goes (default: site/)")
    p.add_argument("--releases", type=Path, metavar="DIR", help="the published releases (default: releases/)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="MkDocs builds run at once (default: 2)")
    p.add_argument("--fingerprint", metavar="FPR", help="release-key fingerprint the releases must be signed "
                                                        "with (default: the one pinned in the tool)")
    args = p.parse_args(argv)

    root = project_root()
    fingerprint = args.fingerprint or pinned.RELEASE_KEY_FINGERPRINT

    def genuine(folder: Path) -> None:
        # Only releases signed by the pinned release key are published, however old.
        try:
            verify_archived(folder, release_key=None, fingerprint=fingerprint)
        except ReleaseError as error:
            raise ReleaseError(f"{folder}: not a genuine release ({error}); nothing was built") from None

    result = build_site(args.out or root / "site", args.releases or root / "releases",
                        docs_dir=root / "docs", base_config=root / "mkdocs.yml", jobs=args.jobs,
                        check_release=genuine)
    for note in result.notes:  # leftovers of interrupted runs: ignored in releases/, repaired beside --out
        sys.stderr.write(report.printable(note) + "\n")
    print(f"built the site of release {result.latest} ({len(result.versions)} release(s)) "
          f"in {result.seconds:.1f} s: {result.out}")
    print(f"serve it with: python -m http.server -d {result.out} 8000, then open http://127.0.0.1:8000/")
    bundle = result.out / "downloads" / f"directory247-site-{result.latest}.zip"
    print(f"offline copy: {bundle} (unzip, open index.html)")
    return 0
