#!/usr/bin/env bash
# What fault tolerance costs (issue 5), all ratios measured in one run on
# the multi-host test network: the primary in host 1's namespace, the
# secondary in host 2's, the clients in the client namespace; plain runs
# are `ftvm run` in host 1 with the same guest. Configurations are
# interleaved, REPS runs each, medians reported:
#   - redis-benchmark (-c 50, SET/GET/INCR; with PIPELINE > 1, -P PIPELINE
#     requests in flight per client): requests/s and p50/p99 latency,
#     FT (encrypted channel) vs plain, and FT plaintext vs FT encrypted (the
#     cost of encryption);
#   - FT with the secondary's replay at nice 10 (ftvm secondary
#     --replay-nice 10): on these two shared cores the primary's guest and
#     the client run first and the replay catches up in idle time, its
#     channel still acknowledging at once;
#   - the same with host 2 as a secondary whose replay runs elsewhere: an
#     ack-only receiver (bench/channel_throughput --listen, which
#     acknowledges on arrival as ftvm secondary does) instead of the
#     replaying secondary. This machine has only 2 cores for the primary,
#     the secondary and the client; this configuration shows what the
#     primary and the Output Rule cost when the replay has a host of its
#     own, as in a real deployment (the full pair's runs show the replay
#     keeping up and matching);
#   - compute: wall time, FT vs plain, at 8 and 64 rounds; the difference
#     between the two sizes is FT's cost while the guest computes, apart
#     from what a run costs once (start, handshake, the final digests);
#   - log bandwidth in Mbit/s per workload (the primary's log bytes over the
#     run's wall time);
#   - the log channel's own throughput (bench/channel_throughput: 64 KiB
#     DATA records for 5 s, each acknowledged on arrival) between the two
#     FT addresses, encrypted and plaintext, against iperf3 (TCP) between
#     the same addresses: channel/iperf3 and encrypted/plaintext.
#   - where the CPU goes: CPU seconds per 1000 redis requests of the
#     primary's (or plain) ftvm process, the secondary's, and the client's,
#     FT vs plain. This machine has 2 cores for all three; on separate
#     hosts the secondary's share would not slow the primary;
#   - what the primary's VM did per 1000 redis requests (its whole run, from
#     --stats): KVM exits, halts and micro-checkpoints, FT vs plain. Exits
#     are this machine's dearest cost (60-80 us each to the VMM), and a
#     redis run needs next to no checkpoints: a jump in either is a
#     regression to look into;
#   - the Output Rule's cost per output: the mean hold of a packet or disk
#     write, from the primary's statistics; and the round trip that bounds
#     it from below, on an idle link: the channel's (4 KiB records sent one
#     at a time, each waiting for its ACK) against bare TCP's between the
#     same addresses (bench/channel_throughput --bare-tcp).
# Every FT run must end with the secondary at the primary's final state
# digest and zero divergences; a run that does not measures nothing.
#
# Usage: ft_overhead.sh TESTNET FTVM KERNEL CHANNEL_THROUGHPUT [REPS] [REQUESTS] [PIPELINE]
# (pipelined runs are fast: give them more requests, 300000 say).
# Needs root, /dev/kvm, redis-tools; iperf3 for the TCP baseline (without
# it, that part alone is skipped).
set -uo pipefail
[ $# -ge 4 ] || { echo "usage: ft_overhead.sh TESTNET FTVM KERNEL CHANNEL_THROUGHPUT [REPS] [REQUESTS] [PIPELINE]" >&2; exit 2; }
testnet="$1" ftvm="$2" kernel="$3" channel_throughput="$4" reps="${5:-3}" requests="${6:-20000}" pipeline="${7:-1}"
for n in "$reps" "$requests" "$pipeline"; do
  [[ "$n" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "ft_overhead: REPS, REQUESTS and PIPELINE are counts from 1, not '$n'" >&2; exit 2; }
done
bench_opts=(-c 50)
[ "$pipeline" -eq 1 ] || bench_opts+=(-P "$pipeline")
# The test network's helpers and addresses, shared with tests/net.
# shellcheck source=../tests/net/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/net/lib.sh"
require_root
require_kvm
require_tool redis-benchmark redis-tools
net_init fb dir
pids=""
trap 'net_cleanup $pids >/dev/null 2>&1' EXIT
die() { echo "ft_overhead: $*" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
record() { echo "$2" >>"$dir/m.$1"; }   # record METRIC VALUE
get() { median <"$dir/m.$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.3f", a / b }'; }
clk_tck=$(getconf CLK_TCK)
# cpu_of PID: its user+system CPU seconds so far (0 if gone).
cpu_of() { awk -v t="$clk_tck" '{ print ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ftvm_pid ROLE: the ftvm process started with our secret (ROLE secondary)
# or the one that runs the guest (ROLE vm).
ftvm_pid() {
  local pid
  for pid in $(pgrep -x ftvm); do
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = ftvm ] || continue
    if grep -qa -- "secondary" "/proc/$pid/cmdline"; then
      [ "$1" = secondary ] && grep -qa -- "$dir/secret" "/proc/$pid/cmdline" && echo "$pid"
    elif grep -qa -- "$dir/disk.img" "/proc/$pid/cmdline"; then
      [ "$1" = vm ] && echo "$pid"
    fi
  done | head -1
}
# receiver_pid: the ack-only receiver standing in for host 2's secondary.
receiver_pid() {
  local pid
  for pid in $(pgrep -f -- "--listen $h2_ft:7400 --secret-file $dir/secret"); do
    case "$(cat /proc/"$pid"/comm 2>/dev/null)" in channel_thr*) echo "$pid" ;; esac
  done | head -1
}

new_secret "$dir/secret"
net_up

# start_vm MODE CMDLINE: boots the guest plainly (plain), as an FT pair
# (ft, ftplain, ftnice: the replay at nice 10), or FT with an ack-only host 2
# (ftack); sets vm= and sec=.
start_vm() {
  local mode=$1 cmdline=$2 ftopts=()
  truncate -s 0 "$dir/disk.img"; truncate -s 1G "$dir/disk.img"  # sparse; the AOF of 3 x 1M requests fits
  # Emptied here, not by the background job's redirection, which may come
  # after the wait below has read the last run's "listening on".
  : >"$dir/sec.out"; : >"$dir/sec.err"
  sec=""
  if [ "$mode" = ftack ]; then
    ns h2 "$channel_throughput" --listen "$h2_ft:7400" --secret-file "$dir/secret" \
      >"$dir/sec.out" 2>"$dir/sec.err" &
    sec=$!; pids="$pids $sec"
    wait_for_text "$dir/sec.err" "listening on" || die "the ack-only receiver did not start: $(cat "$dir/sec.err")"
  elif [ "$mode" != plain ]; then
    [ "$mode" = ftplain ] && ftopts=(--ft-plaintext)
    local secopts=()
    [ "$mode" = ftnice ] && secopts=(--replay-nice 10)
    ns h2 "$ftvm" secondary --listen "$h2_ft:7400" --ft-secret-file "$dir/secret" \
      "${ftopts[@]}" "${secopts[@]}" >"$dir/sec.out" 2>"$dir/sec.err" &
    sec=$!; pids="$pids $sec"
    wait_for_text "$dir/sec.err" "waiting for the primary" || die "the secondary did not start: $(cat "$dir/sec.err")"
  fi
  if [ "$mode" != plain ]; then
    ns h1 "$ftvm" primary --ft-local "$h1_ft" --ft-peer "$h2_ft:7400" \
      --ft-secret-file "$dir/secret" "${ftopts[@]}" --stats --kernel "$kernel" \
      --mem 256M --disk "$dir/disk.img" --net tap=vmtap0 --cmdline "$cmdline" \
      >"$dir/vm.out" 2>&1 &
  else
    ns h1 "$ftvm" run --stats --kernel "$kernel" --mem 256M --disk "$dir/disk.img" \
      --net tap=vmtap0 --cmdline "$cmdline" >"$dir/vm.out" 2>&1 &
  fi
  vm=$!; pids="$pids $vm"
}
# vm_stat PATTERN: a count from the VM's --stats lines ("kvm exits",
# "vmm .* halts"); 0 if it printed none (plain has no recorder).
vm_stat() {
  local v
  v=$(sed -n "s/.*stats $1=\([0-9]*\).*/\1/p" "$dir/vm.out" | tail -1)
  echo "${v:-0}"
}
# finish_vm MODE SECONDS: waits for both sides; checks the secondary's
# verdict; records the log bandwidth.
finish_vm() {
  local mode=$1 seconds=$2 workload=$3
  wait_exit "$vm" 120 || die "ftvm ($mode) exited with $?: $(tail -5 "$dir/vm.out")"
  if [ "$mode" != plain ]; then
    wait_exit "$sec" 120 || die "host 2 ($mode) exited with $?: $(cat "$dir/sec.err")"
    local bytes
    bytes=$(sed -n 's/.*stats ft .*log_bytes=\([0-9]*\).*/\1/p' "$dir/vm.out" | tail -1)
    if [ "$mode" = ftack ]; then
      # Host 2 received the whole log, once.
      grep -q " bytes=$bytes " "$dir/sec.out" || die "the ack-only receiver got other bytes than the primary's $bytes: $(cat "$dir/sec.out")"
    else
      grep -q "^divergences: 0$" "$dir/sec.out" ||
        die "secondary diverged ($mode): $(grep -m3 "DIVERGENCE" "$dir/sec.err")$(tail -4 "$dir/sec.out")"
      grep -q "(as the primary's)" "$dir/sec.out" ||
        die "no matching final digest ($mode): $(tail -4 "$dir/sec.out")"
    fi
    record "mbit.$workload.$mode" "$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { print b * 8 / 1e6 / s }')"
    local held total
    held=$(sed -n 's/.*stats ft .* outputs_held=\([0-9]*\).*/\1/p' "$dir/vm.out" | tail -1)
    total=$(sed -n 's/.*stats ft .* hold_total_us=\([0-9]*\).*/\1/p' "$dir/vm.out" | tail -1)
    [ "${held:-0}" -gt 0 ] && record "hold_us.$workload.$mode" "$(awk -v t="$total" -v n="$held" 'BEGIN { print t / n }')"
  fi
}

echo "ft_overhead: $reps interleaved runs per configuration, $requests requests per redis test (redis-benchmark ${bench_opts[*]})"
for i in $(seq "$reps"); do
  for mode in plain ft ftplain ftnice ftack; do
    start_vm "$mode" "workload=redis ip=$vm_ip/24"
    wait_for_pong "$vm" || die "redis on the guest never answered ($mode): $(tail -5 "$dir/vm.out")"
    vm_pid=$(ftvm_pid vm) sec_pid=""
    [ "$mode" = ftack ] && sec_pid=$(receiver_pid)
    case "$mode" in ft | ftplain | ftnice) sec_pid=$(ftvm_pid secondary) ;; esac
    [ -n "$vm_pid" ] && { [ "$mode" = plain ] || [ -n "$sec_pid" ]; } || die "cannot find the processes to account ($mode)"
    vm_cpu0=$(cpu_of "$vm_pid") sec_cpu0=0
    [ -n "$sec_pid" ] && sec_cpu0=$(cpu_of "$sec_pid")
    : >"$dir/client.cpu"
    start=$(date +%s.%N)
    for t in SET GET INCR; do
      # The client's CPU (bash's time covers the whole command's children).
      line=$( { TIMEFORMAT='%U %S'; time ns cl redis-benchmark -h $vm_ip "${bench_opts[@]}" -n "$requests" \
        -t "${t,,}" --csv 2>/dev/null; } 2>>"$dir/client.cpu" | grep "^\"$t\"")
      [ -n "$line" ] || die "redis-benchmark $t ($mode) failed"
      IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$(tr -d '"' <<<"$line")"
      record "rps.$t.$mode" "$rps"; record "p50.$t.$mode" "$p50"; record "p99.$t.$mode" "$p99"
    done
    end=$(date +%s.%N)
    per_k() { awk -v c="$1" -v n="$((3 * requests))" 'BEGIN { print c * 1000 / n }'; }
    record "cpu.vm.$mode" "$(per_k "$(awk -v a="$vm_cpu0" -v b="$(cpu_of "$vm_pid")" 'BEGIN { print b - a }')")"
    [ -n "$sec_pid" ] && record "cpu.sec.$mode" "$(per_k "$(awk -v a="$sec_cpu0" -v b="$(cpu_of "$sec_pid")" 'BEGIN { print b - a }')")"
    record "cpu.client.$mode" "$(per_k "$(awk '{ s += $1 + $2 } END { print s }' "$dir/client.cpu")")"
    ns cl redis-cli -h $vm_ip SHUTDOWN >/dev/null 2>&1
    finish_vm "$mode" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" redis
    record "kvm_exits.$mode" "$(per_k "$(vm_stat 'kvm exits')")"
    record "halts.$mode" "$(per_k "$(vm_stat 'vmm .* halts')")"
    record "checkpoints.$mode" "$(per_k "$(vm_stat 'record .* checkpoints')")"
  done
  for rounds in 8 64; do
    for mode in plain ft; do
      start=$(date +%s.%N)
      start_vm "$mode" "workload=compute mib=16 rounds=$rounds"
      wait_exit "$vm" 120; status=$?
      end=$(date +%s.%N)
      [ "$status" -eq 0 ] || die "compute ($mode) exited with $status"
      wall=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
      record "wall.compute$rounds.$mode" "$wall"
      finish_vm "$mode" "$wall" "compute$rounds"
    done
  done
done

echo
# vs_plain MODE TITLE: the redis table of MODE against plain.
vs_plain() {
  echo "redis-benchmark ${bench_opts[*]}: $2 vs plain"
  printf "%-5s %10s %10s %7s %14s %14s\n" test "plain r/s" "FT r/s" ratio "p50 plain/FT" "p99 plain/FT"
  for t in SET GET INCR; do
    printf "%-5s %10.0f %10.0f %7s %6s/%-7s %6s/%-7s\n" "$t" "$(get rps.$t.plain)" "$(get rps.$t.$1)" \
      "$(ratio "$(get rps.$t.$1)" "$(get rps.$t.plain)")" \
      "$(get p50.$t.plain)" "$(get p50.$t.$1)" "$(get p99.$t.plain)" "$(get p99.$t.$1)"
  done
}
vs_plain ft "FT (encrypted channel)"
echo "(target: at least 0.95 of plain throughput; VMware reported 0.94-0.99)"
echo
vs_plain ftnice "FT, the secondary's replay at nice 10 (--replay-nice 10)"
echo
vs_plain ftack "FT with an ack-only host 2 (the replay on a host of its own)"
echo
echo "where the CPU goes, CPU seconds per 1000 requests (2 cores for all of it here)"
printf "%-8s %9s %9s %9s %9s\n" mode primary secondary client total
for mode in plain ft ftnice ftack; do
  sec=$( [ "$mode" = plain ] && echo 0 || get cpu.sec.$mode )
  printf "%-8s %9.3f %9.3f %9.3f %9.3f\n" "$mode" "$(get cpu.vm.$mode)" "$sec" "$(get cpu.client.$mode)" \
    "$(awk -v a="$(get cpu.vm.$mode)" -v b="$sec" -v c="$(get cpu.client.$mode)" 'BEGIN { print a + b + c }')"
done
echo "primary's own CPU per request, FT/plain: $(ratio "$(get cpu.vm.ft)" "$(get cpu.vm.plain)")"
echo "primary's own CPU per request, FT with an ack-only host 2/plain: $(ratio "$(get cpu.vm.ftack)" "$(get cpu.vm.plain)")"
printf "mean output hold (redis): FT %.0f us, replay at nice 10 %.0f us, FT with an ack-only host 2 %.0f us\n" \
  "$(get hold_us.redis.ft)" "$(get hold_us.redis.ftnice)" "$(get hold_us.redis.ftack)"
echo
echo "what the primary's VM did per 1000 requests (its whole run, from --stats)"
printf "%-8s %10s %8s %12s\n" mode "KVM exits" halts checkpoints
for mode in plain ft ftnice ftack; do
  printf "%-8s %10.0f %8.0f %12.2f\n" "$mode" "$(get kvm_exits.$mode)" "$(get halts.$mode)" "$(get checkpoints.$mode)"
done
echo
echo "the cost of encryption: FT plaintext channel vs FT encrypted"
for t in SET GET INCR; do
  printf "%-5s encrypted %8.0f r/s, plaintext %8.0f r/s, encrypted/plaintext %s\n" "$t" \
    "$(get rps.$t.ft)" "$(get rps.$t.ftplain)" "$(ratio "$(get rps.$t.ft)" "$(get rps.$t.ftplain)")"
done
echo
for rounds in 8 64; do
  printf "compute, %2d rounds: plain %.2f s, FT %.2f s, FT/plain %s\n" "$rounds" \
    "$(get wall.compute$rounds.plain)" "$(get wall.compute$rounds.ft)" \
    "$(ratio "$(get wall.compute$rounds.ft)" "$(get wall.compute$rounds.plain)")"
done
# Per round from the difference of the sizes; what is left is per run.
per_round() { awk -v a="$(get wall.compute8.$1)" -v b="$(get wall.compute64.$1)" 'BEGIN { print (b - a) / 56 }'; }
once() { awk -v a="$(get wall.compute8.$1)" -v r="$(per_round "$1")" 'BEGIN { print a - 8 * r }'; }
printf "compute per round: plain %.1f ms, FT %.1f ms, FT/plain %s (while the guest computes)\n" \
  "$(awk -v r="$(per_round plain)" 'BEGIN { print r * 1000 }')" \
  "$(awk -v r="$(per_round ft)" 'BEGIN { print r * 1000 }')" "$(ratio "$(per_round ft)" "$(per_round plain)")"
printf "compute per run (start, handshake, end): plain %.2f s, FT %.2f s\n" "$(once plain)" "$(once ft)"
echo
echo "log bandwidth (Mbit/s over the run): redis $(printf %.2f "$(get mbit.redis.ft)"), compute $(printf %.2f "$(get mbit.compute64.ft)") (64 rounds)"
echo "(VMware FT reported 1.5-18 Mbit/s for server workloads)"

# The log channel's own throughput between the FT addresses, against the bare
# TCP path (iperf3) between the same two namespaces, and encrypted against
# plaintext. Interleaved, REPS runs each, medians.
echo
echo "log channel throughput, $h1_ft (host 1) -> $h2_ft (host 2): $reps interleaved runs of 5 s"
have_iperf3=1
if ! command -v iperf3 >/dev/null; then
  have_iperf3=0
  echo "SKIP: iperf3 not installed (scripts/install-deps.sh): no TCP baseline"
fi
# iperf3_run: one 5 s TCP run, host 1 -> host 2; records its Mbit/s.
iperf3_run() {
  ns h2 iperf3 --server --one-off --bind "$h2_ft" --port 5201 >"$dir/iperf3s.out" 2>&1 &
  local srv=$! mbit
  pids="$pids $srv"
  for _ in $(seq 100); do
    [ -n "$(ns h2 ss -Hltn "sport = :5201" 2>/dev/null)" ] && break
    sleep 0.1
  done
  ns h1 iperf3 --client "$h2_ft" --bind "$h1_ft" --port 5201 -t 5 --json \
    >"$dir/iperf3.json" 2>"$dir/iperf3.err" ||
    die "iperf3 failed: $(cat "$dir/iperf3.err") $(grep '"error"' "$dir/iperf3.json")"
  wait_exit "$srv" 120 || die "iperf3 server exited with $?: $(tail -3 "$dir/iperf3s.out")"
  mbit=$(python3 -c 'import json, sys
print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6)' <"$dir/iperf3.json") ||
    die "cannot read iperf3's JSON output"
  record mbit.iperf3 "$mbit"
}
# channel_run MODE (encrypted, plaintext): one 5 s channel_throughput run,
# host 1 -> host 2; records its Mbit/s and acknowledgement round trip.
channel_run() {
  local mode=$1 opts=() rcv line field
  [ "$mode" = plaintext ] && opts=(--plaintext)
  : >"$dir/ctr.out"; : >"$dir/ctr.err"  # as in start_vm
  ns h2 "$channel_throughput" --listen "$h2_ft:7401" --secret-file "$dir/secret" \
    "${opts[@]}" >"$dir/ctr.out" 2>"$dir/ctr.err" &
  rcv=$!; pids="$pids $rcv"
  for _ in $(seq 100); do grep -q "listening on" "$dir/ctr.err" 2>/dev/null && break; sleep 0.1; done
  line=$(ns h1 "$channel_throughput" --connect "$h2_ft:7401" --local "$h1_ft" \
    --secret-file "$dir/secret" "${opts[@]}" --seconds 5 2>"$dir/cts.err" |
    grep "^channel_throughput: mode=$mode ")
  [ -n "$line" ] || die "channel_throughput ($mode) failed: $(cat "$dir/cts.err")"
  wait_exit "$rcv" 120 || die "channel_throughput receiver ($mode) exited with $?: $(cat "$dir/ctr.err")"
  # Everything sent must have arrived, once.
  [ "$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$dir/ctr.out")" = \
    "$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")" ] ||
    die "channel_throughput ($mode): the receiver got other bytes than were sent: $(cat "$dir/ctr.out") / $line"
  for field in mbit_per_s ack_rtt_p50_ms ack_rtt_p99_ms; do
    record "$field.$mode" "$(sed -n "s/.* $field=\([0-9.]*\).*/\1/p" <<<"$line")"
  done
}
# round_trip_run MODE (bare-tcp, encrypted): one 3 s run of records sent one
# at a time, each waited for (bare TCP: an 8-byte answer; the channel: its
# ACK), host 1 -> host 2; records the round trip's p50 and p99. 4 KiB records,
# about a redis run's mean log send.
round_trip_run() {
  local mode=$1 opts=() rcv line field
  if [ "$mode" = bare-tcp ]; then opts=(--bare-tcp); else opts=(--secret-file "$dir/secret"); fi
  : >"$dir/rtr.out"; : >"$dir/rtr.err"  # as in start_vm
  ns h2 "$channel_throughput" --listen "$h2_ft:7402" "${opts[@]}" >"$dir/rtr.out" 2>"$dir/rtr.err" &
  rcv=$!; pids="$pids $rcv"
  for _ in $(seq 100); do grep -q "listening on" "$dir/rtr.err" 2>/dev/null && break; sleep 0.1; done
  [ "$mode" = bare-tcp ] || opts+=(--one-at-a-time)
  line=$(ns h1 "$channel_throughput" --connect "$h2_ft:7402" --local "$h1_ft" "${opts[@]}" \
    --seconds 3 --record-bytes 4096 2>"$dir/rts.err" | grep "^channel_throughput: mode=$mode ")
  [ -n "$line" ] || die "round trips ($mode) failed: $(cat "$dir/rts.err")"
  wait_exit "$rcv" 120 || die "round-trip receiver ($mode) exited with $?: $(cat "$dir/rtr.err")"
  for field in rtt_p50_ms rtt_p99_ms; do
    record "$field.$mode" "$(sed -n "s/.* $field=\([0-9.]*\).*/\1/p" <<<"$line")"
  done
}
for _ in $(seq "$reps"); do
  [ "$have_iperf3" -eq 1 ] && iperf3_run
  channel_run encrypted
  channel_run plaintext
  round_trip_run bare-tcp
  round_trip_run encrypted
done
enc=$(get mbit_per_s.encrypted) plain=$(get mbit_per_s.plaintext)
if [ "$have_iperf3" -eq 1 ]; then
  tcp=$(get mbit.iperf3)
  printf "iperf3 (TCP)        %9.1f Mbit/s\n" "$tcp"
fi
for mode in encrypted plaintext; do
  printf "channel %-10s  %9.1f Mbit/s   ack round trip p50 %s ms, p99 %s ms (under this load: mostly queueing)\n" \
    "$mode" "$(get mbit_per_s.$mode)" "$(get ack_rtt_p50_ms.$mode)" "$(get ack_rtt_p99_ms.$mode)"
done
if [ "$have_iperf3" -eq 1 ]; then
  echo "channel/iperf3: encrypted $(ratio "$enc" "$tcp"), plaintext $(ratio "$plain" "$tcp")"
fi
echo "channel encrypted/plaintext: $(ratio "$enc" "$plain")"
echo
echo "round trip on an idle link, 4 KiB records one at a time (an output's hold without load)"
printf "bare TCP p50 %s ms, p99 %s ms; log channel (encrypted) p50 %s ms, p99 %s ms; channel/bare TCP p50 %s\n" \
  "$(get rtt_p50_ms.bare-tcp)" "$(get rtt_p99_ms.bare-tcp)" "$(get rtt_p50_ms.encrypted)" \
  "$(get rtt_p99_ms.encrypted)" "$(ratio "$(get rtt_p50_ms.encrypted)" "$(get rtt_p50_ms.bare-tcp)")"
