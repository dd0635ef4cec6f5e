#!/usr/bin/env bash
# The redis guest under ftvm on the multi-host test network, as an operator
# would run it: ftvm in host 1's namespace on a TAP bridged to the lan, the
# clients in the client namespace. redis-cli PING/SET/GET/INCR work across
# the switch, the FT network stays unreachable from the client, and the
# guest shuts down cleanly on SHUTDOWN. Needs root, /dev/kvm, redis-tools.
set -uo pipefail
testnet="$1" ftvm="$2" kernel="$3"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root; require_kvm; require_tool redis-cli
net_init rt dir
vm=""
trap 'net_cleanup $vm' EXIT

net_up
truncate -s 64M "$dir/disk.img"
ns h1 "$ftvm" run --kernel "$kernel" --mem 128M \
  --disk "$dir/disk.img" --net tap=vmtap0 \
  --cmdline "workload=redis ip=$vm_ip/24" >"$dir/vm.log" 2>&1 &
vm=$!
wait_for_pong "$vm"
expect "PING from the client namespace" PONG ns cl redis-cli -h $vm_ip PING
expect "SET" OK ns cl redis-cli -h $vm_ip SET where "host 1"
expect "GET" "host 1" ns cl redis-cli -h $vm_ip GET where
expect "INCR" 1 ns cl redis-cli -h $vm_ip INCR hits
expect "INCR again" 2 ns cl redis-cli -h $vm_ip INCR hits
expect "host 2 reaches the guest over the lan" PONG \
  ns h2 redis-cli -h $vm_ip PING
if ns cl ping -c1 -W1 "$h1_ft" >/dev/null 2>&1; then
  bad "the client reaches the FT network"
else
  ok "the FT network stays unreachable from the client"
fi
ns cl redis-cli -h $vm_ip SHUTDOWN >/dev/null 2>&1
wait_exit "$vm" 30; status=$?
vm=""
if [ "$status" -eq 0 ] && grep -q "workload=redis result=.* status=ok" "$dir/vm.log"; then
  ok "the guest shut down cleanly"
else
  bad "ftvm exited with $status"
fi
[ "$fail" -eq 0 ] || { echo "--- vm log ---"; cat "$dir/vm.log"; }
exit "$fail"
