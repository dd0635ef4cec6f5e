#!/usr/bin/env bash
# The guest's lwIP port + netif glue + redis server (lwip_tap_server, a host
# process on a TAP device) against unmodified redis-cli and redis-benchmark:
# ping, commands, 50 clients with and without -P 16, a restart from the
# same disk. Needs root (a private network namespace) and redis-tools.
set -uo pipefail
server="$1"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
for t in ip redis-cli redis-benchmark; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
ns="lwr$$"
dir=$(mktemp -d)
fail=0
pid=""
cleanup() {
  exec 3>&- 2>/dev/null
  [ -n "$pid" ] && { for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill "$pid" 2>/dev/null; }
  ip netns del "$ns" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
check() {  # check DESCRIPTION CMD...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns" || exit 1
in_ns ip link set lo up
in_ns ip tuntap add tap0 mode tap
in_ns ip addr add 198.18.250.1/24 dev tap0
in_ns ip link set tap0 up

start() {  # the server keeps running while fd 3 (its stdin) is open
  mkfifo "$dir/stdin.$1"
  in_ns "$server" tap0 "ip=198.18.250.2/24 gw=198.18.250.1" "$dir/disk.img" \
    < "$dir/stdin.$1" > "$dir/server.$1.log" 2>&1 &
  pid=$!
  exec 3>"$dir/stdin.$1"
  for _ in $(seq 50); do grep -q serving "$dir/server.$1.log" && return 0; sleep 0.1; done
  cat "$dir/server.$1.log"; return 1
}
stop() {
  exec 3>&-
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid"; local rc=$?; pid=""; cat "$dir/server.$1.log"; return $rc
}
cli() { in_ns timeout 20 redis-cli -h 198.18.250.2 "$@"; }
bench() {  # bench ARGS...: exit 0 and no error line
  local out; out=$(in_ns timeout 60 redis-benchmark -h 198.18.250.2 --csv "$@" 2>&1)
  local rc=$?; echo "$out" | tail -n 4
  [ $rc -eq 0 ] && ! echo "$out" | grep -qiE "error|warning"
}

check "server starts" start 1
check "ping" in_ns ping -c 2 -W 2 198.18.250.2
check "PING" test "$(cli PING)" = PONG
check "SET" test "$(cli SET greeting 'hello world')" = OK
check "GET" test "$(cli GET greeting)" = "hello world"
check "INCR" test "$(cli INCR n)" = 1
check "benchmark, 50 clients" bench -t set,get,incr -n 20000 -c 50
check "benchmark, 50 clients, -P 16" bench -t set,get,incr -n 50000 -c 50 -P 16
check "benchmark, 4 KB values" bench -t set,get -n 2000 -c 10 -d 4096
check "every INCR counted" test "$(cli GET counter:__rand_int__)" = 70000
check "server stops cleanly" stop 1
check "server restarts from the disk" start 2
check "data survived" test "$(cli GET greeting)" = "hello world"
check "counter survived" test "$(cli GET counter:__rand_int__)" = 70000
check "server stops cleanly" stop 2
echo "lwip_tap_test: $([ $fail -eq 0 ] && echo passed || echo failed)"
exit $fail
