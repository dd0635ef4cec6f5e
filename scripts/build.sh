#!/usr/bin/env bash
# Configures (once) and builds ftvm in ./build. Extra arguments go to
# `meson setup` the first time, e.g. -Dwerror=true.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build "$@" >/dev/null
elif [ $# -gt 0 ]; then
  meson configure build "$@" >/dev/null
fi
ninja -C build
