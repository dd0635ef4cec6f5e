#!/usr/bin/env bash
# scripts/testnet.sh builds the topology it promises and removes it again.
set -uo pipefail
testnet="$1"
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: network namespaces need root"
  exit 77
fi
p="tn$$"
p="${p:0:8}"
fail=0
check() {  # check DESCRIPTION CMD...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
check_not() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "FAIL: $what"; fail=1; else echo "ok: $what"; fi
}
trap '"$testnet" down -p "$p"' EXIT

check "up" "$testnet" up -p "$p" -n 3
check "client reaches host 1 on the lan" "$testnet" exec -p "$p" cl ping -c1 -W2 198.18.0.11
check "client reaches host 3 on the lan" "$testnet" exec -p "$p" cl ping -c1 -W2 198.18.0.13
check "host 1 reaches host 2 on the FT network" "$testnet" exec -p "$p" h1 ping -c1 -W2 198.19.0.12
check_not "client cannot reach the FT network" "$testnet" exec -p "$p" cl ping -c1 -W1 198.19.0.12
check_not "namespaces have no default route" "$testnet" exec -p "$p" h1 ip route get 192.0.2.1
check_not "a second up with the same prefix is refused" "$testnet" up -p "$p"
check "tap in host 1" "$testnet" tap -p "$p" h1 vmtap0
check "the tap is on host 1's bridge" bash -c "'$testnet' exec -p '$p' h1 ip -o link show vmtap0 | grep -q 'master br0'"
"$testnet" down -p "$p"
check_not "down removes every namespace" bash -c "ip netns list | grep -q '^$p-'"
trap - EXIT
echo "testnet: $([ $fail -eq 0 ] && echo passed || echo failed)"
exit $fail
