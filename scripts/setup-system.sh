#!/usr/bin/env bash
# Installs the Debian packages bounty needs when they are missing: the venv module, the
# text-layout libraries and fonts WeasyPrint renders PDFs with, and Chromium, which the
# browser tests drive through Playwright (Playwright's own browser download is not used), and
# wrk, the load generator of `make bench`. Needs root (or sudo) only
# when something is missing; prints what it would install otherwise.
set -euo pipefail

packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium wrk)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# python3-venv is only needed when the interpreter in use lacks ensurepip (Debian's own python3).
if python3 -c 'import ensurepip' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "setup: please install ${missing[*]} with your system's package manager" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
