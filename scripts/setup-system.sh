#!/bin/sh
# Install the Debian packages the project needs, only those that are missing.
# Usage: scripts/setup-system.sh [browser]   (browser: also Chromium for the site tests)
set -eu
need=""
command -v gpg >/dev/null 2>&1 || need="$need gnupg"
command -v gpgv >/dev/null 2>&1 || need="$need gpgv"
command -v git >/dev/null 2>&1 || need="$need git"
python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need="$need python3-venv"
fi
if [ "${1:-}" = "browser" ]; then
    command -v chromium >/dev/null 2>&1 || need="$need chromium fonts-dejavu-core"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "missing system packages:$need (install them with your package manager)" >&2
    exit 1
fi
echo "installing Debian packages:$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
