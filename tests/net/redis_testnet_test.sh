#!/usr/bin/env bash
# The redis guest under ftvm on the multi-host test network, as an operator
# would run it: ftvm in host 1's namespace on a TAP bridged to the lan, the
# clients in the client namespace. redis-cli PING/SET/GET/INCR work across
# the switch, the FT network stays unreachable from the client, and the
# guest shuts down cleanly on SHUTDOWN. Needs root, /dev/kvm, redis-tools.
set -uo pipefail
testnet="$1" ftvm="$2" kernel="$3"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
command -v redis-cli >/dev/null || { echo "SKIP: redis-cli not installed"; exit 77; }
p="rt$$"
p="${p:0:8}"
vm_ip=198.18.0.100
dir=$(mktemp -d)
fail=0
vm=""
cleanup() {
  # testnet.sh runs ftvm as its child: stop both.
  [ -n "$vm" ] && { pkill -P "$vm"; kill "$vm"; } 2>/dev/null
  "$testnet" down -p "$p"
  rm -rf "$dir"
}
trap cleanup EXIT
expect() {  # expect DESCRIPTION WANTED CMD...
  local what=$1 want=$2; shift 2
  local got
  got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then echo "ok: $what"; else echo "FAIL: $what: got '$got', want '$want'"; fail=1; fi
}
cl() { "$testnet" exec -p "$p" cl "$@"; }

"$testnet" up -p "$p" -n 2 >/dev/null || exit 1
"$testnet" tap -p "$p" h1 vmtap0 || exit 1
truncate -s 64M "$dir/disk.img"
"$testnet" exec -p "$p" h1 "$ftvm" run --kernel "$kernel" --mem 128M \
  --disk "$dir/disk.img" --net tap=vmtap0 \
  --cmdline "workload=redis ip=$vm_ip/24" >"$dir/vm.log" 2>&1 &
vm=$!
for _ in $(seq 300); do
  [ "$(cl redis-cli -h $vm_ip PING 2>/dev/null)" = PONG ] && break
  kill -0 "$vm" 2>/dev/null || break
  sleep 0.1
done
expect "PING from the client namespace" PONG cl redis-cli -h $vm_ip PING
expect "SET" OK cl redis-cli -h $vm_ip SET where "host 1"
expect "GET" "host 1" cl redis-cli -h $vm_ip GET where
expect "INCR" 1 cl redis-cli -h $vm_ip INCR hits
expect "INCR again" 2 cl redis-cli -h $vm_ip INCR hits
expect "host 2 reaches the guest over the lan" PONG \
  "$testnet" exec -p "$p" h2 redis-cli -h $vm_ip PING
if cl ping -c1 -W1 198.19.0.11 >/dev/null 2>&1; then
  echo "FAIL: the client reaches the FT network"; fail=1
else
  echo "ok: the FT network stays unreachable from the client"
fi
cl redis-cli -h $vm_ip SHUTDOWN >/dev/null 2>&1
status=124
for _ in $(seq 300); do
  if ! kill -0 "$vm" 2>/dev/null; then wait "$vm"; status=$?; break; fi
  sleep 0.1
done
vm=""
if [ "$status" -eq 0 ] && grep -q "workload=redis result=.* status=ok" "$dir/vm.log"; then
  echo "ok: the guest shut down cleanly"
else
  echo "FAIL: ftvm exited with $status"; fail=1
fi
[ "$fail" -eq 0 ] || { echo "--- vm log ---"; cat "$dir/vm.log"; }
exit "$fail"
