#!/usr/bin/env bash
# The main job on this one machine: install, build, boot the ftvm test guest
# under ftvm and run a workload (default: compute; any guest command line can
# be given as arguments, e.g. `scripts/run.sh workload=memdirty seconds=3`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
cmdline="${*:-workload=compute}"
echo "run: ftvm run --kernel build/guest/ftguest.elf --mem 256M --cmdline '$cmdline'" >&2
exec build/tools/ftvm run --kernel build/guest/ftguest.elf --mem 256M --cmdline "$cmdline" --stats
