# What the tests on the multi-host test network (scripts/testnet.sh)
# share. A test sets `testnet` (the path of testnet.sh) and sources this:
#
#   testnet="$1" ftvm="$2" kernel="$3"
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   require_root; require_kvm; require_tool redis-cli
#   net_init xy dir       # $p, $fail and a scratch directory $dir
#   trap 'net_cleanup $vm' EXIT
#   net_up
#
# and reports with ok, bad and expect; its exit status is $fail.
#
# Variables go both ways between this file and the tests:
# shellcheck shell=bash disable=SC2034,SC2154

# The addresses testnet.sh gives: the guest's on the lan (chosen by the
# tests), and hosts 1 and 2 on the FT network.
vm_ip=198.18.0.100
h1_ft=198.19.0.11
h2_ft=198.19.0.12

skip() {  # skip WHY: the test cannot run here (meson's exit code 77)
  echo "SKIP: $*"
  exit 77
}
require_root() { [ "$(id -u)" -eq 0 ] || skip "network namespaces need root"; }
require_kvm() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm is not usable"
}
require_tool() {  # require_tool COMMAND [PACKAGE]
  command -v "$1" >/dev/null || skip "${2:-$1} not installed"
}

# net_init TAG [dir]: the test's namespace prefix $p (TAG and this shell's
# pid, 8 characters at most, so that tests run side by side) and $fail=0;
# with "dir", a scratch directory $dir too.
net_init() {
  p="$1$$"
  p="${p:0:8}"
  fail=0
  dir=""
  [ "${2:-}" != dir ] || dir=$(mktemp -d)
}

# tree PID: PID and every process below it, parents first. A background
# `ns h1 ftvm ... &` is a subshell running `testnet.sh exec`, which runs
# ftvm as its child: ftvm is the job's grandchild.
tree() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1"); do tree "$child"; done
}

# stop_trees PID...: stops these processes and everything they started
# (SIGTERM, then SIGKILL for what still runs 10 s later).
stop_trees() {
  local pid="" all=() i
  for pid in "$@"; do mapfile -t -O "${#all[@]}" all < <(tree "$pid"); done
  [ "${#all[@]}" -gt 0 ] || return 0
  kill "${all[@]}" 2>/dev/null
  for i in $(seq 100); do
    for pid in "${all[@]}"; do kill -0 "$pid" 2>/dev/null && break; pid=""; done
    [ -n "$pid" ] || return 0
    sleep 0.1
  done
  kill -KILL "${all[@]}" 2>/dev/null
}

# net_cleanup PID...: for the EXIT trap. Stops the test's background
# processes and all they started (a test that failed must not leave a VM
# running), takes the test network down and removes $dir, if any.
net_cleanup() {
  stop_trees "$@"
  "$testnet" down -p "$p"
  [ -z "$dir" ] || rm -rf "$dir"
}

# net_up: the test network with two hosts and a TAP vmtap0 on host 1's
# bridge, for the guest. Exits 1 if it cannot.
net_up() {
  "$testnet" up -p "$p" -n 2 >/dev/null || exit 1
  "$testnet" tap -p "$p" h1 vmtap0 || exit 1
}

ns() { "$testnet" exec -p "$p" "$@"; }  # ns NAMESPACE CMD... (cl, h1, h2)

ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*"
  fail=1
}
expect() {  # expect DESCRIPTION WANTED CMD...: CMD prints WANTED
  local what=$1 want=$2
  shift 2
  local got
  got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then ok "$what"; else bad "$what: got '$got', want '$want'"; fi
}

# wait_for_pong [PID]: until redis on the guest answers the client's PING
# (30 s at most), or PID (the VM), if given, has ended.
wait_for_pong() {
  for _ in $(seq 300); do
    [ "$(ns cl redis-cli -h $vm_ip PING 2>/dev/null)" = PONG ] && return 0
    [ -z "${1:-}" ] || kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_for_text FILE TEXT [SECONDS]: until FILE has a line with TEXT (a
# grep pattern), 10 s at most.
wait_for_text() {
  for _ in $(seq "$((${3:-10} * 10))"); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_exit PID [SECONDS]: waits for the background process PID (60 s at
# most) and returns its exit status, or 124 if it is still running.
wait_exit() {
  for _ in $(seq "$((${2:-60} * 10))"); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      return $?
    fi
    sleep 0.1
  done
  return 124
}

new_secret() {  # new_secret FILE: a random secret only its owner can read
  (umask 077; openssl rand -hex 32 >"$1")
}

metric() {  # metric FILE NAME: the value of NAME in a Prometheus text file
  awk -v m="$2" '$1 == m { print $2 }' "$1" 2>/dev/null
}
