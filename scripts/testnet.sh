#!/usr/bin/env bash
# A test network on this machine, in network namespaces (needs root):
#
#   <P>-sw   switch namespace: bridge "lan" (198.18.0.0/24, the client/VM
#            network) and bridge "ft" (198.19.0.0/24, the dedicated FT
#            network between hosts)
#   <P>-cl   client, lan 198.18.0.2
#   <P>-hN   host N (1..H): lan 198.18.0.(10+N) on bridge "br0" inside the
#            host, where VM TAP devices are attached; ft 198.19.0.(10+N)
#
# Nothing is routed off this machine: the namespaces have no default route
# and no link to the root namespace.
#
#   testnet.sh up   [-p PREFIX] [-n HOSTS]   create (HOSTS default 2)
#   testnet.sh tap  [-p PREFIX] HOST NAME    add a persistent TAP NAME to
#                                            host HOST's br0 (for a VM)
#   testnet.sh down [-p PREFIX]              remove everything with PREFIX
#   testnet.sh exec [-p PREFIX] NS CMD...    run CMD in namespace <P>-NS
#                                            (it replaces this script, so a
#                                            caller's kill reaches CMD)
set -euo pipefail

prefix=ftnet
hosts=2
cmd="${1:-}"
[ -n "$cmd" ] && shift
while getopts "p:n:" opt; do
  case "$opt" in
    p) prefix="$OPTARG" ;;
    n) hosts="$OPTARG" ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))

die() { echo "testnet: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[[ "$prefix" =~ ^[a-z0-9]{1,8}$ ]] || die "prefix must be 1-8 lowercase letters/digits"
[[ "$hosts" =~ ^[1-9]$ ]] || die "hosts must be 1..9"

ns() { echo "$prefix-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# veth pair with one end in the switch's bridge BR and the other in NS as IF.
plug() {
  local node=$1 br=$2 ifname=$3 addr=$4
  local a="v${prefix:0:4}${node}${br:0:1}" b="p${prefix:0:4}${node}${br:0:1}"
  ip link add "$a" type veth peer name "$b"
  ip link set "$a" netns "$(ns sw)"
  ip link set "$b" netns "$(ns "$node")"
  in_ns sw ip link set "$a" master "$br" up
  in_ns "$node" ip link set "$b" name "$ifname"
  if [ -n "$addr" ]; then
    in_ns "$node" ip addr add "$addr" dev "$ifname"
  fi
  in_ns "$node" ip link set "$ifname" up
}

up() {
  ip netns list | grep -q "^$(ns sw)\b" && die "$(ns sw) exists; run 'testnet.sh down -p $prefix' first"
  ip netns add "$(ns sw)"
  in_ns sw ip link set lo up
  for br in lan ft; do
    in_ns sw ip link add "$br" type bridge
    in_ns sw ip link set "$br" up
  done
  ip netns add "$(ns cl)"
  in_ns cl ip link set lo up
  plug cl lan eth0 198.18.0.2/24
  for i in $(seq 1 "$hosts"); do
    local h="h$i"
    ip netns add "$(ns "$h")"
    in_ns "$h" ip link set lo up
    # The host's lan address lives on br0 so that VM TAPs share the segment.
    plug "$h" lan eth0 ""
    in_ns "$h" ip link add br0 type bridge
    in_ns "$h" ip link set eth0 master br0
    in_ns "$h" ip addr add "198.18.0.$((10 + i))/24" dev br0
    in_ns "$h" ip link set br0 up
    plug "$h" ft ft0 "198.19.0.$((10 + i))/24"
  done
  echo "testnet: up: $(ns cl) 198.18.0.2; hosts $(for i in $(seq 1 "$hosts"); do printf '%s ' "$(ns h$i)"; done)"
}

tap() {
  local host=$1 name=$2
  in_ns "$host" ip tuntap add dev "$name" mode tap
  in_ns "$host" ip link set "$name" master br0 up
}

down() {
  for n in $(ip netns list | awk '{print $1}' | grep -E "^$prefix-(sw|cl|h[0-9])$" || true); do
    ip netns del "$n"
  done
}

case "$cmd" in
  up) up ;;
  down) down ;;
  tap) [ $# -eq 2 ] || die "usage: testnet.sh tap [-p PREFIX] HOST NAME"; tap "$1" "$2" ;;
  exec) [ $# -ge 2 ] || die "usage: testnet.sh exec [-p PREFIX] NS CMD..."; n=$1; shift; exec ip netns exec "$(ns "$n")" "$@" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
