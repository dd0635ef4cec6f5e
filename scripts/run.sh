#!/usr/bin/env bash
# The main job on this one machine: install, build, then
#
#   scripts/run.sh                 the redis guest as an FT pair on the test
#                                  network (scripts/testnet.sh): `ftvm
#                                  primary` in host 1, `ftvm secondary`
#                                  replaying it live in host 2, driven from
#                                  the client namespace by redis-cli and a
#                                  short redis-benchmark (with and without
#                                  pipelining), then shut down cleanly; the
#                                  secondary reports its final state digest
#   scripts/run.sh GUEST-CMDLINE   any other workload, e.g.
#                                  scripts/run.sh workload=memdirty seconds=3
#
# Needs root (network namespaces). Environment: REQUESTS (default 20000) per
# redis-benchmark test, KEEP=1 leaves the VM's disk image in /tmp, FT=0 runs
# the guest plainly (`ftvm run`, no secondary).
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
ft="${FT:-1}"
vm_pid="" sec_pid=""
cleanup() {
  for pid in $vm_pid $sec_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  done
  scripts/testnet.sh down -p "$prefix" || true
  if [ "${KEEP:-0}" = 1 ]; then echo "run: disk image kept in $dir/disk.img"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
client() { scripts/testnet.sh exec -p "$prefix" cl "$@"; }

scripts/testnet.sh down -p "$prefix" 2>/dev/null || true
scripts/testnet.sh up -p "$prefix" -n 2
scripts/testnet.sh tap -p "$prefix" h1 vmtap0
truncate -s 256M "$dir/disk.img"

cmdline="workload=redis ip=$vm_ip/24"
vm_args=(--kernel "$kernel" --mem 256M --disk "$dir/disk.img" --net tap=vmtap0 --cmdline "$cmdline" --stats)
if [ "$ft" = 1 ]; then
  (umask 077; openssl rand -hex 32 >"$dir/ft.secret")
  echo "run: [host $prefix-h2] $ftvm secondary --listen 198.19.0.12:7400 --ft-secret-file $dir/ft.secret" >&2
  scripts/testnet.sh exec -p "$prefix" h2 "$ftvm" secondary --listen 198.19.0.12:7400 \
    --ft-secret-file "$dir/ft.secret" > >(sed 's/^/  secondary | /') 2>&1 &
  sec_pid=$!
  sleep 0.5
  echo "run: [host $prefix-h1] $ftvm primary --ft-local 198.19.0.11 --ft-peer 198.19.0.12:7400 --ft-secret-file $dir/ft.secret ${vm_args[*]}" >&2
  scripts/testnet.sh exec -p "$prefix" h1 "$ftvm" primary --ft-local 198.19.0.11 \
    --ft-peer 198.19.0.12:7400 --ft-secret-file "$dir/ft.secret" "${vm_args[@]}" \
    > >(sed 's/^/  primary | /') 2>&1 &
else
  echo "run: [host $prefix-h1] $ftvm run ${vm_args[*]}" >&2
  scripts/testnet.sh exec -p "$prefix" h1 "$ftvm" run "${vm_args[@]}" \
    > >(sed 's/^/  vm | /') 2>&1 &
fi
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
if [ -n "$sec_pid" ]; then
  sstatus=0
  wait "$sec_pid" || sstatus=$?
  sec_pid=""
  echo "run: the secondary exited with status $sstatus (0: it replayed the whole run, same final state)"
  [ "$status" -eq 0 ] && status=$sstatus
fi
exit "$status"
