#!/usr/bin/env bash
# Installs what ftvm needs to build, test and benchmark on Debian 12.
# Idempotent: does nothing (and needs no network) when all is present.
set -euo pipefail

packages=(
  # build
  meson ninja-build g++ pkg-config binutils python3 dpkg-dev xz-utils
  libabsl-dev capnproto libcapnp-dev libibverbs-dev libssl-dev libzstd-dev
  # tests, fuzzing, style
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  # the reference peer the guest is checked and benchmarked against
  qemu-system-x86
  # the test network (scripts/testnet.sh) and the tools run on it
  iproute2 iputils-ping
  # redis-cli and redis-benchmark, the clients of the guest's redis server
  redis-tools
  # the TCP baseline the log channel's throughput is compared with
  # (bench/ft_overhead.sh)
  iperf3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
here="$(dirname "$0")"
if [ ${#missing[@]} -eq 0 ]; then
  exec "$here/fetch-lwip.sh"
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
"$here/fetch-lwip.sh"
