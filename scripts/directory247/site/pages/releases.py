"""The releases page: every release up to the one shown, its changelog, downloads and checksums.

Downloads link to ``../downloads/<version>/`` (see ``common.download_href``); the checksums are
the ones of the release's signed ``manifest.json``. The offline bundle of each release is built
with the site, so it is offered beside the signed files but is not itself in the manifest.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .common import block, download_href, front_matter, href, html_of, moment, release_banner, state_page, value_html
from .markup import escape
from .published import PublishedRelease

PAGE = "releases.md"
SUMMARY_SHOWN = 12  # longer summaries (a first release lists every State) start folded


def bundle_name(version: str) -> str:
    """File name of a release's offline bundle, in ``downloads/`` beside the release folders.

    Not inside ``downloads/<version>/``: that folder holds exactly the signed release, so it
    verifies as it is (``directory247 verify`` refuses extra files).
    """
    return f"directory247-site-{version}.zip"


def _size(count: int) -> str:
    return f"{count:,} bytes".replace(",", "\u202f")


def _downloads(item: PublishedRelease) -> str:
    rows = []
    present = set(item.files)
    for name in item.files:
        if name.endswith(".asc") and name.removesuffix(".asc") in present:
            continue  # offered beside the file it signs
        meta = item.checksum(name)
        target = escape(download_href(PAGE, f"{item.version}/{name}"))
        signature = f"{name}.asc" if f"{name}.asc" in present else None
        sig = ""
        if signature:
            sig_href = escape(download_href(PAGE, f"{item.version}/{signature}"))
            sig = f'<a href="{sig_href}" download>{escape(signature)}</a>'
        sha = f"<code>{escape(meta.sha256)}</code>" if meta else "not listed in the manifest"
        size = escape(_size(meta.bytes)) if meta else ""
        rows.append(f'<tr><td><a href="{target}" download>{escape(name)}</a></td><td>{sig}</td><td>{size}</td>'
                    f"<td>{sha}</td></tr>")
    bundle = bundle_name(item.version)
    rows.append(f'<tr><td><a href="{escape(download_href(PAGE, bundle))}" download>'
                f'{escape(bundle)}</a></td><td></td><td></td><td>offline copy of this site for release '
                f"{escape(item.version)}: unzip, open index.html; built from the signed release, "
                "not itself signed</td></tr>")
    return block("<h3>Downloads</h3>", '<table class="d247-downloads">',
                 "<thead><tr><th>File</th><th>Signature</th><th>Size</th><th>SHA-256 (from manifest.json)</th>"
                 "</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>")


def _changes(item: PublishedRelease) -> str:
    log = item.changelog
    if log is None:
        return block("<p>No changelog was published with this release.</p>")
    parts = []
    origin = f"Changes from {escape(log.from_version)}" if log.from_version else "First release"
    summary = "".join(f"<li>{escape(line)}</li>" for line in log.summary)
    if len(log.summary) > SUMMARY_SHOWN:
        summary = (f'<details class="d247-summary"><summary>{len(log.summary)} lines of summary</summary>'
                   f"<ul>{summary}</ul></details>")
    elif summary:
        summary = f"<ul>{summary}</ul>"
    parts.append(block(f"<p>{origin}.</p>", summary))
    if log.from_version is not None and log.changes:
        rows = []
        for change in log.changes:
            entry = item.release.entry(change.code)
            state = (f'<a href="{escape(href(PAGE, html_of(state_page(change.code))))}">{escape(change.code)}</a>'
                     if entry is not None else escape(change.code))
            rows.append(f"<tr><td>{state}</td><td><code>{escape(change.field)}</code></td><td>{escape(change.kind)}"
                        f"</td><td>{value_html(change.old)}</td><td>{value_html(change.new)}</td></tr>")
        parts.append(block('<table class="d247-history">',
                           "<thead><tr><th>State</th><th>Field</th><th>Change</th><th>Before</th><th>After</th>"
                           "</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>"))
    return "".join(parts)


def fingerprint_groups(fingerprint: str) -> str:
    """``01A8 6462 ... 418E``: a fingerprint as people compare it."""
    groups = [fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4)]
    return " ".join(groups[:5]) + ("  " + " ".join(groups[5:]) if len(groups) > 5 else "")


def _verification(item: PublishedRelease, guides: Collection[str]) -> str:
    key = item.release.release_key
    folder = f"downloads/{item.version}/"
    commands = [
        "# with this project's tool (exit 0 = verified)",
        f"directory247 verify {folder}",
        "",
        "# with plain GnuPG, in the release folder, once you trust the release key's fingerprint",
        "gpg --verify manifest.json.asc manifest.json",
    ]
    if "SHA256SUMS" in item.files:
        commands += ["gpg --verify SHA256SUMS.asc SHA256SUMS", "sha256sum --check SHA256SUMS"]
    else:
        commands += ["sha256sum directory.json   # and compare each sum with manifest.json"]
    lines = [
        "<p>Each release is signed by the Secretariat's release key. Check a download before you rely on it; "
        "trust the fingerprint, not a key file that came with the download.</p>",
        f'<p>Release key fingerprint: <code class="d247-fingerprint">{escape(fingerprint_groups(key))}</code></p>'
        if key else
        "<p>This release does not name its release key; check the fingerprint published by the Secretariat.</p>",
        "<pre><code>" + escape("\n".join(commands) + "\n") + "</code></pre>",
    ]
    if "verify.md" in guides:
        lines.append('<p>Step by step: <a href="verify.html">Verifying a download</a>.</p>')
    if "exports.md" in guides:
        lines.append('<p>What each file holds: <a href="exports.html">The exports</a>.</p>')
    return block(*lines)


def render(published: Sequence[PublishedRelease], guides: Collection[str] = ()) -> tuple[str, str]:
    current = published[-1]
    parts = [
        front_matter("Releases and downloads"),
        "# Releases and downloads\n",
        release_banner(current.release),
        "## Verifying a download\n",
        _verification(current, guides),
    ]
    for item in reversed(published):
        release = item.release
        here = item is current
        parts.append(f"## Release {escape(item.version)}\n")
        browse = ("this site shows this release" if here else
                  f'<a href="../{escape(item.version)}/index.html">browse this release</a>')
        parts.append(block(
            f"<p>Released {escape(moment(release.released))}, valid until {escape(moment(release.expires))}, "
            f"release serial {escape(release.serial)}, {len(release.entries)} entries"
            f"{', demonstration data' if release.demo else ''} &middot; {browse}</p>",
        ))
        parts.append(_changes(item))
        parts.append(_downloads(item))
    return PAGE, "\n".join(parts)
