#!/usr/bin/env bash
# Unpacks Debian's lwIP source package (2.1.3) into third_party/lwip (not
# committed; the guest's network stack is built from it). Idempotent.
# Adds a deb-src entry for the machine's own Debian mirror if there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=third_party/lwip
if [ -f "$dest/src/core/tcp.c" ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

has_deb_src() {
  grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_deb_src; then
  # The same mirror the binary packages come from.
  mirror=$(grep -rhsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
           awk '{print $2}' | grep -v security | head -n1)
  [ -n "$mirror" ] || mirror=$(grep -hsE '^deb ' /etc/apt/sources.list |
           awk '{print $2}' | grep -v security | head -n1)
  [ -n "$mirror" ] || { echo "fetch-lwip: no Debian mirror configured in /etc/apt" >&2; exit 1; }
  . /etc/os-release
  echo "fetch-lwip: adding deb-src for $mirror ($VERSION_CODENAME)" >&2
  $sudo tee /etc/apt/sources.list.d/ftvm-deb-src.sources >/dev/null <<SRC
Types: deb-src
URIs: $mirror
Suites: $VERSION_CODENAME
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $sudo apt-get update -q
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
(cd "$work" && apt-get source -q lwip >/dev/null)
src=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'lwip-*' | head -n1)
[ -n "$src" ] && [ -f "$src/src/core/tcp.c" ] || { echo "fetch-lwip: unpacking failed" >&2; exit 1; }
mkdir -p third_party
rm -rf "$dest"
mv "$src" "$dest"
echo "fetch-lwip: $(basename "$src") unpacked in $dest" >&2
