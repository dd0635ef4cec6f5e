#!/usr/bin/env bash
# An FT pair on the multi-host test network, as an operator would run it:
# the secondary in host 2's namespace listening on its FT address, the
# primary in host 1's with the guest's TAP on host 1's bridge, the clients
# in the client namespace. redis-benchmark and redis-cli run against the
# primary's guest; every answer must be the expected one; at the end the
# guest shuts down and the secondary must have replayed the whole log with
# zero divergences and the primary's final state digest. Needs root,
# /dev/kvm, redis-tools.
set -uo pipefail
testnet="$1" ftvm="$2" kernel="$3"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root; require_kvm; require_tool redis-benchmark redis-tools
net_init fp dir
vm="" sec=""
trap 'net_cleanup $vm $sec' EXIT

new_secret "$dir/secret"
new_secret "$dir/other"
net_up
truncate -s 64M "$dir/disk.img"

# A primary with another secret is refused, and both sides say why.
ns h2 "$ftvm" secondary --listen "$h2_ft:7401" \
  --ft-secret-file "$dir/secret" --accept-timeout 20s >/dev/null 2>"$dir/bad-sec.err" &
sec=$!
wait_for_text "$dir/bad-sec.err" "waiting for the primary"
ns h1 "$ftvm" primary --ft-local "$h1_ft" \
  --ft-peer "$h2_ft:7401" --ft-secret-file "$dir/other" --kernel "$kernel" \
  --cmdline workload=hello >/dev/null 2>"$dir/bad-pri.err"
bstatus=$?
wait_exit "$sec"; sstatus=$?
sec=""
if [ "$bstatus" -eq 125 ] && grep -qi "secret" "$dir/bad-pri.err" &&
   [ "$sstatus" -eq 125 ] && grep -qi "secret" "$dir/bad-sec.err"; then
  ok "a wrong secret is refused on both sides: $(tail -1 "$dir/bad-pri.err")"
else
  bad "wrong secret: primary $bstatus '$(cat "$dir/bad-pri.err")', secondary $sstatus '$(cat "$dir/bad-sec.err")'"
fi

ns h2 "$ftvm" secondary --listen "$h2_ft:7400" \
  --ft-secret-file "$dir/secret" --metrics-file "$dir/sec.prom" --replay-nice 10 \
  >"$dir/sec.out" 2>"$dir/sec.err" &
sec=$!
wait_for_text "$dir/sec.err" "waiting for the primary"
ns h1 "$ftvm" primary --ft-local "$h1_ft" \
  --ft-peer "$h2_ft:7400" --ft-secret-file "$dir/secret" --stats \
  --metrics-file "$dir/pri.prom" \
  --kernel "$kernel" --mem 128M --disk "$dir/disk.img" --net tap=vmtap0 \
  --cmdline "workload=redis ip=$vm_ip/24" >"$dir/vm.log" 2>&1 &
vm=$!
wait_for_pong "$vm"
expect "PING through the primary" PONG ns cl redis-cli -h $vm_ip PING
grep -q "FT: protected" "$dir/vm.log" && ok "the primary is protected" ||
  bad "the primary did not report protection"

# --replay-nice: the replay's vCPU runs at nice 10, the channel's reader,
# which acknowledges the log, at the process's own 0.
thread_nice() {  # thread_nice PID NAME: the nice value of PID's thread NAME
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && sed 's/.*) //' "$t/stat" | awk '{ print $17 }'
  done | head -1
}
secpid=""
for pid in $(pgrep -x ftvm); do
  grep -qa -- "$dir/sec.prom" "/proc/$pid/cmdline" 2>/dev/null && secpid=$pid
done
vcpu_nice=$(thread_nice "$secpid" ftvm-vcpu0) reader_nice=$(thread_nice "$secpid" lcr-secondary)
if [ "$vcpu_nice" = 10 ] && [ "$reader_nice" = 0 ]; then
  ok "--replay-nice 10: the replay's vCPU at nice 10, the acknowledging reader at 0"
else
  bad "--replay-nice 10: vCPU nice '$vcpu_nice', reader nice '$reader_nice' (secondary pid '$secpid')"
fi

# redis-benchmark: every request answered (its CSV has one line per test).
ns cl redis-benchmark -h $vm_ip -c 20 -n 5000 -t set,get,incr -q --csv \
  >"$dir/bench.csv" 2>"$dir/bench.err"
if [ "$(grep -c '^"\(SET\|GET\|INCR\)"' "$dir/bench.csv")" -eq 3 ]; then
  ok "redis-benchmark SET/GET/INCR completed: $(tr '\n' ' ' <"$dir/bench.csv")"
else
  bad "redis-benchmark: $(cat "$dir/bench.csv" "$dir/bench.err")"
fi
expect "SET" OK ns cl redis-cli -h $vm_ip SET pair protected
expect "GET" protected ns cl redis-cli -h $vm_ip GET pair
expect "INCR counts from the benchmark's key space" 1 ns cl redis-cli -h $vm_ip INCR fresh
expect "INCR again" 2 ns cl redis-cli -h $vm_ip INCR fresh
# The benchmark's INCR test ran 5000 increments of counter:__rand_int__.
expect "the benchmark's 5000 INCRs all counted" 5001 \
  ns cl redis-cli -h $vm_ip INCR "counter:__rand_int__"
if ns cl ping -c1 -W1 "$h2_ft" >/dev/null 2>&1; then
  bad "the client reaches the FT network"
else
  ok "the FT network stays unreachable from the client"
fi

ns cl redis-cli -h $vm_ip SHUTDOWN >/dev/null 2>&1
wait_exit "$vm"; status=$?
vm=""
if [ "$status" -eq 0 ] && grep -q "workload=redis result=.* status=ok" "$dir/vm.log"; then
  ok "the primary's guest shut down cleanly"
else
  bad "ftvm primary exited with $status"
fi
grep -q "the secondary acknowledged the whole log" "$dir/vm.log" &&
  ok "the secondary acknowledged the whole log" ||
  bad "the primary did not see the whole log acknowledged"
wait_exit "$sec"; sstatus=$?
sec=""
[ "$sstatus" -eq 0 ] && ok "the secondary reached the primary's end" ||
  bad "ftvm secondary exited with $sstatus"
grep -q "^divergences: 0$" "$dir/sec.out" && ok "zero divergences" ||
  bad "divergences reported"
if grep -q "final state digest: .* (as the primary's)" "$dir/sec.out"; then
  ok "$(grep 'final state digest' "$dir/sec.out")"
else
  bad "no matching final state digest"
fi
grep -q "outputs_held=[1-9]" "$dir/vm.log" && ok "outputs were held for the secondary" ||
  bad "no output was held"
# The TAP's own counters: what it posted, and what it discarded while the
# guest's NIC was not ready (never logged).
if grep -q "stats tap0 rx_frames=[1-9][0-9]* rx_discarded=[0-9]* " "$dir/vm.log"; then
  ok "$(grep -o 'stats tap0 .*' "$dir/vm.log" | tail -1)"
else
  bad "no TAP counters in the primary's stats"
fi
held=$(metric "$dir/pri.prom" ftvm_outputs_held_total)
acks=$(metric "$dir/pri.prom" 'ftvm_logchannel_acks_received_total{channel="primary"}')
recv=$(metric "$dir/sec.prom" 'ftvm_logchannel_data_records_received_total{channel="secondary"}')
if [ "${held:-0}" != 0 ] && [ "${acks:-0}" != 0 ] && [ "${recv:-0}" != 0 ]; then
  ok "metrics: $held outputs held, $acks acks on the primary, $recv records on the secondary"
else
  bad "metrics missing: held=$held acks=$acks recv=$recv"
fi
[ "$fail" -eq 0 ] || {
  echo "--- primary ---"; cat "$dir/vm.log"
  echo "--- secondary ---"; cat "$dir/sec.out" "$dir/sec.err"
}
exit "$fail"
