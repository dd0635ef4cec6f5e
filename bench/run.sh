#!/usr/bin/env bash
# Builds and runs every benchmark, printing their reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
meson test -C build --benchmark --verbose
