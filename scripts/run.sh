#!/usr/bin/env bash
# The main job on this one machine: install, build, then
#
#   scripts/run.sh                 the redis guest under ftvm on the test
#                                  network (scripts/testnet.sh), driven from
#                                  the client namespace by redis-cli and a
#                                  short redis-benchmark (with and without
#                                  pipelining), then shut down cleanly
#   scripts/run.sh GUEST-CMDLINE   any other workload, e.g.
#                                  scripts/run.sh workload=memdirty seconds=3
#
# Needs root (network namespaces). Environment: REQUESTS (default 20000) per
# redis-benchmark test, KEEP=1 leaves the VM's disk image in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
ftvm=build/tools/ftvm
kernel=build/guest/ftguest.elf

if [ $# -gt 0 ]; then
  echo "run: $ftvm run --kernel $kernel --mem 256M --cmdline '$*'" >&2
  exec "$ftvm" run --kernel "$kernel" --mem 256M --cmdline "$*" --stats
fi

[ "$(id -u)" -eq 0 ] || { echo "run: the redis demo needs root (network namespaces)" >&2; exit 1; }
prefix=ftrun
vm_ip=198.18.0.100
requests="${REQUESTS:-20000}"
dir=$(mktemp -d /tmp/ftvm-run.XXXXXX)
vm_pid=""
cleanup() {
  if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then kill "$vm_pid"; wait "$vm_pid" || true; fi
  scripts/testnet.sh down -p "$prefix" || true
  if [ "${KEEP:-0}" = 1 ]; then echo "run: disk image kept in $dir/disk.img"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
client() { scripts/testnet.sh exec -p "$prefix" cl "$@"; }

scripts/testnet.sh down -p "$prefix" 2>/dev/null || true
scripts/testnet.sh up -p "$prefix" -n 1
scripts/testnet.sh tap -p "$prefix" h1 vmtap0
truncate -s 256M "$dir/disk.img"

cmdline="workload=redis ip=$vm_ip/24"
echo "run: [host $prefix-h1] $ftvm run --kernel $kernel --mem 256M --disk $dir/disk.img --net tap=vmtap0 --cmdline '$cmdline' --stats" >&2
scripts/testnet.sh exec -p "$prefix" h1 "$ftvm" run --kernel "$kernel" --mem 256M \
  --disk "$dir/disk.img" --net tap=vmtap0 --cmdline "$cmdline" --stats \
  > >(sed 's/^/  vm | /') 2>&1 &
vm_pid=$!

for _ in $(seq 100); do
  [ "$(client redis-cli -h "$vm_ip" PING 2>/dev/null)" = PONG ] && break
  kill -0 "$vm_pid" 2>/dev/null || { echo "run: the VM exited before answering" >&2; exit 1; }
  sleep 0.1
done
echo "run: [client] redis-cli PING / SET / GET / INCR"
client redis-cli -h "$vm_ip" PING
client redis-cli -h "$vm_ip" SET greeting "hello from the client namespace"
client redis-cli -h "$vm_ip" GET greeting
client redis-cli -h "$vm_ip" INCR visits
echo "run: [client] redis-benchmark -n $requests -c 50 -t set,get,incr"
client redis-benchmark -h "$vm_ip" -n "$requests" -c 50 -t set,get,incr -q 2>&1 | tr '\r' '\n' | grep "requests per second"
echo "run: [client] redis-benchmark -n $((requests * 5)) -c 50 -P 16 -t set,get,incr"
client redis-benchmark -h "$vm_ip" -n "$((requests * 5))" -c 50 -P 16 -t set,get,incr -q 2>&1 | tr '\r' '\n' | grep "requests per second"
echo "run: [client] redis-cli DBSIZE, then SHUTDOWN"
client redis-cli -h "$vm_ip" DBSIZE
client redis-cli -h "$vm_ip" SHUTDOWN || true
status=0
wait "$vm_pid" || status=$?
vm_pid=""
echo "run: the VM exited with status $status"
exit "$status"
