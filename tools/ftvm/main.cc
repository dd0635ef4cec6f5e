// ftvm: the virtual machine monitor's command-line front end.
//
//   ftvm run --kernel FILE [--mem SIZE] [--cmdline STR]
//
// Exit status: the guest's own exit code when it powers off; otherwise one of
// the codes below, listed in --help.

#include <signal.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "logchannel/tcp_transport.h"
#include "primary/ft_primary.h"
#include "replay/recorder.h"
#include "replay/run_config.h"
#include "tools/cli/args.h"
#include "tools/ftvm/control_signals.h"
#include "tools/ftvm/ft_options.h"
#include "tools/ftvm/secondary_command.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/machine.h"

namespace ft {
namespace {

constexpr int kExitGuestDied = 124;  // triple fault, halt, KVM failure
constexpr int kExitVmmError = 125;   // bad options, no KVM, bad kernel
constexpr int kExitStopped = 130;    // SIGINT/SIGTERM

constexpr char kTopHelp[] =
    "Usage: ftvm COMMAND [OPTIONS]\n"
    "\n"
    "ftvm runs virtual machines on Linux KVM.\n"
    "\n"
    "Commands:\n"
    "  run        Boot a PVH ELF kernel and run it until it powers off.\n"
    "  primary    Run it as the protected side of an FT pair: its log goes\n"
    "             to a secondary, its outputs wait for the secondary's\n"
    "             acknowledgement.\n"
    "  secondary  Replay a primary's log live, in lockstep, read-only.\n"
    "\n"
    "Run 'ftvm COMMAND --help' for the options of a command.\n";

constexpr char kRunEpilog[] =
    "The guest's serial port (COM1) is copied to standard output; ftvm's own\n"
    "messages go to standard error.\n"
    "\n"
    "Exit status:\n"
    "  N      the guest powered off with exit code N (debug-exit port 0xf4)\n"
    "  124    the guest died (triple fault, halt with no way to wake, KVM "
    "error)\n"
    "  125    ftvm could not start the guest (options, /dev/kvm, kernel file)\n"
    "  130    stopped by SIGINT or SIGTERM\n"
    "\n"
    "SIGUSR1 prints the --stats lines at once, while the guest runs.\n"
    "\n"
    "Example:\n"
    "  ftvm run --kernel build/guest/ftguest.elf --cmdline "
    "'workload=compute'\n";

// One line each, `ftvm: stats <group> key=value ...`, for people and for
// benchmarks that parse them.
void PrintStats(const vmm::Machine& machine) {
  const auto vs = machine.vcpu_stats();
  const auto bs = machine.bus_stats();
  std::fprintf(stderr,
               "ftvm: stats vmm exits=%llu kicks=%llu halts=%llu "
               "io_accesses=%llu unclaimed=%llu interrupts=%llu "
               "deferred_interrupts=%llu\n",
               static_cast<unsigned long long>(vs.exits),
               static_cast<unsigned long long>(vs.interrupted),
               static_cast<unsigned long long>(vs.halts),
               static_cast<unsigned long long>(bs.accesses),
               static_cast<unsigned long long>(bs.unclaimed),
               static_cast<unsigned long long>(machine.interrupts_injected()),
               static_cast<unsigned long long>(machine.interrupts_deferred()));
  absl::StatusOr<std::map<std::string, uint64_t>> kvm =
      machine.kvm_vcpu_stats();
  if (kvm.ok()) {
    std::string line = "ftvm: stats kvm";
    for (const char* name : {"exits", "io_exits", "mmio_exits", "halt_exits",
                             "irq_exits", "irq_window_exits", "signal_exits",
                             "insn_emulation", "irq_injections"}) {
      auto it = kvm->find(name);
      if (it != kvm->end()) absl::StrAppend(&line, " ", name, "=", it->second);
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  } else {
    std::fprintf(stderr, "ftvm: stats kvm unavailable: %s\n",
                 std::string(kvm.status().message()).c_str());
  }
  const std::vector<vmm::VirtioNet::Stats> nets = machine.net_stats();
  for (size_t i = 0; i < nets.size(); ++i) {
    std::fprintf(stderr,
                 "ftvm: stats net%zu rx_frames=%llu rx_dropped=%llu "
                 "tx_frames=%llu tx_dropped=%llu\n",
                 i, static_cast<unsigned long long>(nets[i].rx_frames),
                 static_cast<unsigned long long>(nets[i].rx_dropped),
                 static_cast<unsigned long long>(nets[i].tx_frames),
                 static_cast<unsigned long long>(nets[i].tx_dropped));
  }
  // Frames the TAP read while the guest could not take them are not the
  // device's: it never saw them.
  const std::vector<vmm::TapNetBackend::Stats> taps = machine.tap_stats();
  for (size_t i = 0; i < taps.size(); ++i) {
    std::fprintf(stderr,
                 "ftvm: stats tap%zu rx_frames=%llu rx_discarded=%llu "
                 "rx_paused=%llu tx_frames=%llu tx_dropped=%llu\n",
                 i, static_cast<unsigned long long>(taps[i].rx_frames),
                 static_cast<unsigned long long>(taps[i].rx_discarded),
                 static_cast<unsigned long long>(taps[i].rx_paused),
                 static_cast<unsigned long long>(taps[i].tx_frames),
                 static_cast<unsigned long long>(taps[i].tx_dropped));
  }
}

constexpr char kPrimaryEpilog[] =
    "FT: the primary connects from --ft-local to the secondary listening at\n"
    "--ft-peer (start `ftvm secondary` first), proves the shared secret and\n"
    "streams the execution log, encrypted unless --ft-plaintext is given\n"
    "on both sides. Every packet the guest sends and every disk write waits\n"
    "until the secondary has acknowledged the log before it (the Output\n"
    "Rule); the guest keeps running meanwhile. If the secondary is lost\n"
    "(the channel breaks, it reports a divergence, or it is silent for\n"
    "--peer-timeout), the VM keeps running UNPROTECTED and ftvm says so.\n"
    "\n";

void PrintRecordStats(const replay::Recorder::Stats& rs) {
  std::fprintf(stderr,
               "ftvm: stats record clock_reads=%llu events=%llu "
               "checkpoints=%llu checkpoint_pages=%llu outputs=%llu "
               "digests=%llu log_bytes=%llu\n",
               static_cast<unsigned long long>(rs.clock_reads),
               static_cast<unsigned long long>(rs.events),
               static_cast<unsigned long long>(rs.checkpoints),
               static_cast<unsigned long long>(rs.checkpoint_pages),
               static_cast<unsigned long long>(rs.outputs),
               static_cast<unsigned long long>(rs.digests),
               static_cast<unsigned long long>(rs.log_bytes));
}

void PrintFtStats(const primary::FtPrimary::Stats& s) {
  std::fprintf(
      stderr,
      "ftvm: stats ft protected=%d log_bytes=%llu log_sends=%llu "
      "acked_bytes=%llu "
      "outputs_held=%llu outputs_waiting=%llu hold_total_us=%lld "
      "hold_max_us=%lld backpressure_stalls=%llu backpressure_us=%lld "
      "heartbeats_received=%llu resyncs=%llu\n",
      s.protected_now ? 1 : 0, static_cast<unsigned long long>(s.log_bytes),
      static_cast<unsigned long long>(s.log_sends),
      static_cast<unsigned long long>(s.acked_bytes),
      static_cast<unsigned long long>(s.outputs.outputs_held),
      static_cast<unsigned long long>(s.outputs.waiting),
      static_cast<long long>(absl::ToInt64Microseconds(s.outputs.total_hold)),
      static_cast<long long>(absl::ToInt64Microseconds(s.outputs.longest_hold)),
      static_cast<unsigned long long>(s.channel.backpressure_stalls),
      static_cast<long long>(
          absl::ToInt64Microseconds(s.channel.backpressure_stall_time)),
      static_cast<unsigned long long>(s.channel.heartbeats_received),
      static_cast<unsigned long long>(s.resyncs));
}

int Run(const std::vector<std::string>& args, bool ft_primary) {
  const char* const cmd = ft_primary ? "ftvm primary" : "ftvm run";
  vmm::MachineOptions opts;
  ProcessOptions process;
  bool stats = false;
  cli::ArgParser parser(
      ft_primary
          ? "ftvm primary --ft-local ADDR --ft-peer ADDR:PORT --ft-secret-file "
            "FILE --kernel FILE [run options]"
          : "ftvm run --kernel FILE [--mem SIZE] [--cmdline STR] [--disk "
            "PATH]... [--net tap=IFNAME]...",
      "Boots a PVH-bootable ELF kernel (the ftvm test guest, or a Linux\n"
      "vmlinux built with CONFIG_PVH) on one vCPU with a 16550 serial port,\n"
      "an 8254 timer, a CMOS RTC, an 8259 interrupt controller, a\n"
      "debug-exit port and optionally virtio-blk disks and virtio-net cards\n"
      "(at most 4 together; each is announced on the kernel command line as\n"
      "virtio_mmio.device=512@ADDR:IRQ), and runs it until it powers off.");
  parser.AddString("kernel", "FILE", "PVH ELF kernel to boot (required).",
                   &opts.kernel_path);
  parser.AddSize("mem", "Guest RAM, e.g. 256M or 1G.", &opts.memory_bytes);
  parser.AddString("cmdline", "STR", "Kernel command line.", &opts.cmdline);
  std::vector<std::string> disks;
  parser.AddStringList("disk", "PATH[,readonly]",
                       "Raw disk image, attached as a virtio-blk device.",
                       &disks);
  std::vector<std::string> nets;
  parser.AddStringList(
      "net", "tap=IFNAME[,mac=MAC]",
      "Network card (virtio-net) on TAP interface IFNAME, which is created "
      "if absent (needs CAP_NET_ADMIN). MAC defaults to one derived from "
      "IFNAME (52:54:00:...).",
      &nets);
  std::string record;
  std::string ft_local, ft_peer;
  FtOptions ft_channel;
  std::string peer_timeout = "3s";
  std::string metrics_file;
  if (ft_primary) {
    parser.AddString("ft-local", "ADDR",
                     "This host's address on the FT network; the log "
                     "channel leaves from it and from nowhere else "
                     "(required).",
                     &ft_local);
    parser.AddString("ft-peer", "ADDR:PORT",
                     "Where `ftvm secondary --listen` waits (required).",
                     &ft_peer);
    AddFtOptions(parser, &ft_channel);
    parser.AddString("metrics-file", "FILE",
                     "Write the FT metrics (log channel, outputs held, "
                     "stalls) in the Prometheus text format to FILE every "
                     "second and at exit.",
                     &metrics_file);
    parser.AddString("peer-timeout", "DURATION",
                     "Silence from the secondary after which it counts as "
                     "lost.",
                     &peer_timeout);
  } else {
    parser.AddString(
        "record", "FILE",
        "Record the run's execution log to FILE (a new file), for `ftlog "
        "replay`. The guest sees no difference but timing.",
        &record);
  }
  std::string latency_bound = "2ms";
  parser.AddString(
      "latency-bound", "DURATION",
      "When recording: how long an interrupt or packet may wait for the "
      "guest to exit by itself before the vCPU is kicked out and a "
      "micro-checkpoint taken (e.g. 500us, 2ms).",
      &latency_bound);
  std::string digest_interval = "10s";
  parser.AddString(
      "digest-interval", "DURATION",
      "When recording: how often a state digest (registers and all of guest "
      "memory) goes into the log for the replay to compare (0: only at the "
      "end).",
      &digest_interval);
  AddProcessOptions(parser, &process);
  parser.AddBool("stats",
                 "Print exit, KVM and network counters to stderr when the "
                 "guest stops.",
                 &stats);
  parser.AddEpilog(ft_primary ? std::string(kPrimaryEpilog) + kRunEpilog
                              : std::string(kRunEpilog));

  int exit_code = 0;
  if (!cli::ParseOptions(parser, cmd, args, &exit_code)) return exit_code;
  if (absl::Status s = process.ApplyLogLevel(); !s.ok()) {
    return cli::UsageError(cmd, s);
  }
  if (opts.kernel_path.empty()) {
    return cli::UsageError(cmd, "--kernel FILE is required");
  }

  for (const std::string& disk : disks) {
    absl::StatusOr<vmm::DiskSpec> spec = vmm::ParseDiskSpec(disk);
    if (!spec.ok()) {
      // The parser's messages name the option already.
      return cli::UsageError(cmd, spec.status());
    }
    opts.disks.push_back(*spec);
  }
  for (const std::string& net : nets) {
    absl::StatusOr<vmm::NetSpec> spec = vmm::ParseNetSpec(net);
    if (!spec.ok()) {
      return cli::UsageError(cmd, spec.status());
    }
    opts.nets.push_back(*spec);
  }

  // Every usage error before any KVM or network work.
  const bool recording = ft_primary || !record.empty();
  absl::Duration digest_every;
  if (recording) {
    absl::Duration bound;
    if (!absl::ParseDuration(latency_bound, &bound) ||
        bound <= absl::ZeroDuration() || bound > absl::Seconds(10)) {
      return cli::UsageError(
          cmd,
          absl::StrCat("--latency-bound: '", latency_bound,
                       "' is not a duration between 1ns and 10s (e.g. 2ms)"));
    }
    opts.latency_bound = bound;
    if (!absl::ParseDuration(digest_interval, &digest_every) ||
        digest_every < absl::ZeroDuration()) {
      return cli::UsageError(
          cmd, absl::StrCat("--digest-interval: '", digest_interval,
                            "' is not a duration (e.g. 10s, or 0)"));
    }
    opts.log_dirty_pages = true;
  }
  metrics::Registry registry;
  primary::PrimaryOptions ft{.metrics = &registry};
  logchannel::TcpConnectOptions connect;
  if (ft_primary) {
    if (ft_local.empty()) {
      return cli::UsageError(cmd, "--ft-local ADDR is required");
    }
    absl::StatusOr<HostPort> peer =
        ft_peer.empty() ? absl::InvalidArgumentError("is required")
                        : ParseHostPort(ft_peer);
    if (!peer.ok()) {
      return cli::UsageError(
          cmd, absl::StrCat("--ft-peer: ", peer.status().message()));
    }
    absl::StatusOr<std::string> secret = ft_channel.ReadSecret();
    if (!secret.ok()) {
      return cli::UsageError(cmd, secret.status());
    }
    if (!absl::ParseDuration(peer_timeout, &ft.peer_timeout) ||
        ft.peer_timeout <= absl::ZeroDuration()) {
      return cli::UsageError(
          cmd, absl::StrCat("--peer-timeout: '", peer_timeout,
                            "' is not a positive duration (e.g. 3s)"));
    }
    ft.shared_secret = *secret;
    ft.security = ft_channel.security();
    ft.digest_interval = digest_every;
    connect = {.local_address = ft_local,
               .interface = ft_channel.interface,
               .remote_address = peer->host,
               .remote_port = peer->port};
  }

  ControlSignals signals;  // before any thread starts, so all inherit the mask
  absl::StatusOr<vmm::KvmSystem> kvm =
      vmm::KvmSystem::Open({.device = process.kvm_device});
  if (!kvm.ok()) {
    std::fprintf(stderr, "ftvm: %s\n",
                 std::string(kvm.status().message()).c_str());
    return kExitVmmError;
  }
  std::unique_ptr<replay::Recorder> recorder;
  std::unique_ptr<primary::FtPrimary> pair;
  if (recording) {
    absl::StatusOr<replay::LogHeader> header =
        replay::HeaderForRecording(*kvm, opts);
    if (!header.ok()) {
      std::fprintf(stderr, "ftvm: %s\n",
                   std::string(header.status().message()).c_str());
      return kExitVmmError;
    }
    if (ft_primary) {
      logchannel::TcpConnector connector(connect);
      FT_LOG(kInfo) << "FT: connecting to the secondary at "
                    << connector.Describe();
      absl::StatusOr<std::unique_ptr<primary::FtPrimary>> p =
          primary::FtPrimary::Connect(connector, *header, ft);
      if (!p.ok()) {
        std::fprintf(stderr, "ftvm: FT: %s\n",
                     std::string(p.status().message()).c_str());
        return kExitVmmError;
      }
      pair = std::move(*p);
      FT_LOG(kInfo) << "FT: protected; log channel " << pair->PeerDescription();
      opts.hooks = pair->hooks();
      opts.output_gate = pair->gate();
    } else {
      absl::StatusOr<std::unique_ptr<replay::Recorder>> r =
          replay::Recorder::Create({.path = record}, *header, digest_every);
      if (!r.ok()) {
        std::fprintf(stderr, "ftvm: --record: %s\n",
                     std::string(r.status().message()).c_str());
        return kExitVmmError;
      }
      recorder = std::move(*r);
      opts.hooks = recorder.get();
    }
  }
  absl::StatusOr<std::unique_ptr<vmm::Machine>> machine =
      vmm::Machine::Create(*kvm, opts);
  if (!machine.ok()) {
    std::fprintf(stderr, "ftvm: %s\n",
                 std::string(machine.status().message()).c_str());
    return kExitVmmError;
  }
  // A resync's full checkpoint is taken at the vCPU's next entry: kick it
  // there rather than wait for the guest to exit.
  if (pair) pair->set_kick([m = machine->get()] { m->Kick(); });
  replay::Recorder* const rec = pair ? &pair->recorder() : recorder.get();
  auto print_all = [&] {
    PrintStats(**machine);
    if (rec != nullptr) PrintRecordStats(rec->stats());
    if (pair) PrintFtStats(pair->stats());
  };
  signals.Watch([m = machine->get()] { m->Stop(); }, print_all);
  MetricsWriter metrics_writer(registry, metrics_file);
  absl::StatusOr<vmm::MachineResult> result = (*machine)->Run();
  if (pair) {
    pair->set_kick(nullptr);
    absl::Status done = pair->Finish(absl::Seconds(10));
    if (!done.ok()) {
      std::fprintf(stderr, "ftvm: FT: the run ended unprotected: %s\n",
                   std::string(done.message()).c_str());
    } else {
      FT_LOG(kInfo) << "FT: the secondary acknowledged the whole log";
    }
  }
  metrics_writer.Finish();
  if (stats) print_all();
  if (rec != nullptr && !rec->status().ok()) {
    std::fprintf(stderr, "ftvm: the log is incomplete: %s\n",
                 std::string(rec->status().message()).c_str());
    return kExitVmmError;
  }
  if (!result.ok()) {
    std::fprintf(stderr, "ftvm: %s\n",
                 std::string(result.status().message()).c_str());
    return kExitGuestDied;
  }
  switch (result->reason) {
    case vmm::MachineResult::Reason::kPowerOff:
      if (result->exit_code > 255) {
        FT_LOG(kWarning) << "guest exit code " << result->exit_code
                         << " does not fit an exit status; returning 255";
        return 255;
      }
      return static_cast<int>(result->exit_code);
    case vmm::MachineResult::Reason::kStopped:
      return kExitStopped;
    default:
      std::fprintf(stderr, "ftvm: %s\n", result->detail.c_str());
      return kExitGuestDied;
  }
}

}  // namespace
}  // namespace ft

int main(int argc, char** argv) {
  // The lock-order graph absl keeps in debug builds costs every lock on the
  // vCPU's path; the tests keep it (they are where a cycle would show).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    std::fputs(ft::kTopHelp, args.empty() ? stderr : stdout);
    return args.empty() ? ft::cli::kExitUsage : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "run") return ft::Run(args, /*ft_primary=*/false);
  if (command == "primary") return ft::Run(args, /*ft_primary=*/true);
  if (command == "secondary") return ft::RunSecondary(args);
  std::fprintf(stderr, "ftvm: unknown command '%s'\n\n%s", command.c_str(),
               ft::kTopHelp);
  return ft::cli::kExitUsage;
}
