#!/usr/bin/env bash
# The Output Rule on the wire: while the secondary cannot acknowledge (its
# process is stopped with SIGSTOP, as a stalled host would be), not one
# frame from the guest appears on its TAP, though the guest receives and
# answers; the primary holds the answers (instrumented on both sides: a
# packet capture on the primary's TAP, and the primary's metrics of held
# outputs and acknowledgements received). Once the secondary runs again,
# the held frames go out and the client gets its answer. Needs root,
# /dev/kvm, redis-tools, python3.
set -uo pipefail
testnet="$1" ftvm="$2" kernel="$3"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root; require_kvm; require_tool redis-cli
net_init or dir
vm_mac=52:54:00:0f:70:01
vm="" sec="" secpid=""
cleanup() {
  [ -n "$secpid" ] && kill -CONT "$secpid" 2>/dev/null
  net_cleanup $vm $sec
}
trap cleanup EXIT

new_secret "$dir/secret"
net_up
truncate -s 64M "$dir/disk.img"
ns h2 "$ftvm" secondary --listen "$h2_ft:7400" --ft-secret-file "$dir/secret" \
  >"$dir/sec.out" 2>&1 &
sec=$!
wait_for_text "$dir/sec.out" "waiting for the primary"
ns h1 "$ftvm" primary --ft-local "$h1_ft" --ft-peer "$h2_ft:7400" \
  --ft-secret-file "$dir/secret" --peer-timeout 60s --metrics-file "$dir/pri.prom" \
  --kernel "$kernel" --disk "$dir/disk.img" --net "tap=vmtap0,mac=$vm_mac" \
  --cmdline "workload=redis ip=$vm_ip/24" >"$dir/vm.out" 2>&1 &
vm=$!
wait_for_pong || { bad "the pair did not come up"; cat "$dir/vm.out"; exit 1; }
# The ftvm process itself, not the wrappers that started it in host 2 (nor
# another test's: the secret's path is this test's own).
for pid in $(pgrep -f "secondary --listen $h2_ft:7400 --ft-secret-file $dir/secret"); do
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = ftvm ] && secpid=$pid
done
[ -n "$secpid" ] || { bad "no secondary process"; exit 1; }

# The capture: every frame the guest's MAC sends onto the TAP, timestamped.
ns h1 python3 - "$vm_mac" >"$dir/capture" 2>&1 <<'PY' &
import socket, sys, time
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("vmtap0", 0))
s.settimeout(0.2)
print("ready", flush=True)
end = time.time() + 12
while time.time() < end:
    try:
        frame = s.recv(65536)
    except socket.timeout:
        continue
    if frame[6:12] == mac:
        print("%.3f %d" % (time.time(), len(frame)), flush=True)
PY
cap=$!
wait_for_text "$dir/capture" ready 5

kill -STOP "$secpid"
# Acknowledgements in flight arrive, and the metrics file (rewritten every
# second) catches up; after this, none can come.
sleep 1.5
t_stop=$(date +%s.%N)
acks_before=$(metric "$dir/pri.prom" 'ftvm_logchannel_acks_received_total{channel="primary"}')
# The guest receives the request and answers; the answer must not leave.
if timeout 3 "$testnet" exec -p "$p" cl redis-cli -h $vm_ip PING >/dev/null 2>&1; then
  bad "the client got an answer while the secondary could not acknowledge"
else
  ok "no answer reached the client while the secondary was stopped"
fi
sleep 1.2  # the metrics file is rewritten every second
held=$(metric "$dir/pri.prom" ftvm_outputs_held)
acks_during=$(metric "$dir/pri.prom" 'ftvm_logchannel_acks_received_total{channel="primary"}')
t_cont=$(date +%s.%N)
kill -CONT "$secpid"
[ "${held:-0}" != 0 ] && ok "the primary held $held outputs meanwhile" ||
  bad "the primary held nothing while the secondary was stopped"
[ "$acks_before" = "$acks_during" ] && ok "no acknowledgement arrived meanwhile ($acks_during)" ||
  bad "acknowledgements arrived while the secondary was stopped: $acks_before -> $acks_during"
expect_pong=$(ns cl redis-cli -h $vm_ip PING 2>&1)
[ "$expect_pong" = PONG ] && ok "the client is answered once the secondary acknowledges" ||
  bad "after the secondary resumed: '$expect_pong'"
wait "$cap" 2>/dev/null
during=$(awk -v a="$t_stop" -v b="$t_cont" '$1 != "ready" && $1 > a && $1 < b' "$dir/capture" | wc -l)
after=$(awk -v b="$t_cont" '$1 != "ready" && $1 >= b' "$dir/capture" | wc -l)
[ "$during" -eq 0 ] && ok "no frame from the guest on the wire while stopped" ||
  bad "$during frames from the guest on the wire while the secondary was stopped"
[ "$after" -gt 0 ] && ok "$after frames from the guest on the wire after it resumed" ||
  bad "no frame from the guest after the secondary resumed"
ns cl redis-cli -h $vm_ip SHUTDOWN >/dev/null 2>&1
wait_exit "$vm"; status=$?
vm=""
[ "$status" -eq 0 ] && ok "the primary's guest shut down cleanly" || bad "ftvm primary exited with $status"
wait_exit "$sec"; sstatus=$?
sec="" secpid=""
[ "$sstatus" -eq 0 ] && grep -q "(as the primary's)" "$dir/sec.out" &&
  ok "the secondary reached the primary's final state" || bad "secondary exited with $sstatus"
[ "$fail" -eq 0 ] || { echo "--- primary ---"; cat "$dir/vm.out"; echo "--- capture ---"; cat "$dir/capture"; }
exit "$fail"
