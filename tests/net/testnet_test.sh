#!/usr/bin/env bash
# scripts/testnet.sh builds the topology it promises and removes it again.
set -uo pipefail
testnet="$1"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
net_init tn
check() {  # check DESCRIPTION CMD...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
check_not() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then bad "$what"; else ok "$what"; fi
}
trap net_cleanup EXIT

check "up" "$testnet" up -p "$p" -n 3
check "client reaches host 1 on the lan" ns cl ping -c1 -W2 198.18.0.11
check "client reaches host 3 on the lan" ns cl ping -c1 -W2 198.18.0.13
check "host 1 reaches host 2 on the FT network" ns h1 ping -c1 -W2 "$h2_ft"
check_not "client cannot reach the FT network" ns cl ping -c1 -W1 "$h2_ft"
check_not "namespaces have no default route" ns h1 ip route get 192.0.2.1
check_not "a second up with the same prefix is refused" "$testnet" up -p "$p"
check "tap in host 1" "$testnet" tap -p "$p" h1 vmtap0
check "the tap is on host 1's bridge" bash -c "'$testnet' exec -p '$p' h1 ip -o link show vmtap0 | grep -q 'master br0'"
# A test's cleanup stops what its background jobs started through `ns`,
# their grandchildren (seen before: a failed benchmark left its VMs running).
naptime=$((1000 + $$ % 1000))
ns h1 sleep "$naptime" >/dev/null 2>&1 &
job=$!
for _ in $(seq 50); do pgrep -fx "sleep $naptime" >/dev/null && break; sleep 0.1; done
check "a job's command runs below it" bash -c "pgrep -fx 'sleep $naptime' >/dev/null"
stop_trees "$job"
check_not "stop_trees stops what the job started" pgrep -fx "sleep $naptime"
"$testnet" down -p "$p"
check_not "down removes every namespace" bash -c "ip netns list | grep -q '^$p-'"
trap - EXIT
echo "testnet: $([ $fail -eq 0 ] && echo passed || echo failed)"
exit $fail
