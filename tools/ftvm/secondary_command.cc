#include "tools/ftvm/secondary_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "logchannel/tcp_transport.h"
#include "secondary/ft_secondary.h"
#include "tools/cli/args.h"
#include "tools/ftvm/control_signals.h"
#include "tools/ftvm/ft_options.h"

namespace ft {
namespace {

constexpr int kExitDiverged = 3;
constexpr int kExitPrimaryLost = 4;
constexpr int kExitSetup = 125;

constexpr char kSecondaryEpilog[] =
    "The secondary listens on its FT address, accepts one primary (`ftvm\n"
    "primary --ft-peer` pointing here), checks the shared secret, and builds\n"
    "the machine the primary's log header describes (same kernel, same\n"
    "CPUID). It acknowledges the log as soon as it holds it and replays it\n"
    "read-only: no TAP traffic and no disk writes; received packets and disk\n"
    "read data come from the log. It never runs past the last position\n"
    "received, and checks every exit, output and state digest.\n"
    "\n"
    "On a divergence it says so loudly and asks the primary for a resync:\n"
    "the primary logs the whole machine (memory, vCPU, devices) and the\n"
    "secondary replays on from it; the pair stays protected.\n"
    "\n"
    "It prints its result when the primary's run ends:\n"
    "  replayed N positions: ...\n"
    "  divergences: 0\n"
    "  resyncs: 0\n"
    "  final state digest: registers X memory Y (as the primary's)\n"
    "\n"
    "Exit status:\n"
    "  0      the replay reached the primary's end, zero divergences\n"
    "  2      bad options\n"
    "  3      a DIVERGENCE that --max-resyncs resyncs did not repair\n"
    "         (named on stderr; the primary is told and goes on\n"
    "         unprotected)\n"
    "  4      the primary or the channel went away before the end\n"
    "  125    no primary came, the handshake failed, or the machine could\n"
    "         not be built\n"
    "\n"
    "SIGUSR1 prints a stats line (log received and replayed, lag).\n";

}  // namespace

int RunSecondary(const std::vector<std::string>& args) {
  constexpr char kCommand[] = "ftvm secondary";
  std::string listen, kernel;
  FtOptions ft;
  ProcessOptions process;
  std::string accept_timeout = "5m";
  std::string max_resyncs_text = "3";
  std::string replay_nice_text = "0";
  bool console = false;
  cli::ArgParser parser(
      "ftvm secondary --listen ADDR:PORT --ft-secret-file FILE [options]",
      "Runs the standby side of an FT pair: replays a primary's execution\n"
      "log live, in lockstep, on an identical read-only machine.");
  parser.AddString("listen", "ADDR:PORT",
                   "This host's FT address and port to wait on (required; "
                   "not a wildcard).",
                   &listen);
  AddFtOptions(parser, &ft);
  parser.AddString("kernel", "FILE",
                   "The guest kernel, if not at the primary's path (it must "
                   "be the same file).",
                   &kernel);
  parser.AddString("accept-timeout", "DURATION",
                   "How long to wait for the primary.", &accept_timeout);
  parser.AddString("max-resyncs", "N",
                   "Divergences repaired by a resync (a full state transfer "
                   "from the primary) before giving up, 0 to 1000 (0: give "
                   "up at the first).",
                   &max_resyncs_text);
  std::string metrics_file;
  parser.AddString("metrics-file", "FILE",
                   "Write the secondary's metrics (log channel, lag, "
                   "divergences) in the Prometheus text format to FILE every "
                   "second and at exit.",
                   &metrics_file);
  parser.AddString("replay-nice", "N",
                   "Run the replay (the machine's threads) at nice value N, "
                   "0 to 19. The log channel keeps acknowledging at "
                   "the process's own priority, so outputs do not wait longer; "
                   "on a host shared with primaries, their guests run first "
                   "and the replay catches up when the CPU is free. Its lag "
                   "stays bounded: past the receive window the primary waits.",
                   &replay_nice_text);
  parser.AddBool("console",
                 "Copy the replayed guest's serial output to standard "
                 "output.",
                 &console);
  AddProcessOptions(parser, &process);
  parser.AddEpilog(kSecondaryEpilog);
  int exit_code = 0;
  if (!cli::ParseOptions(parser, kCommand, args, &exit_code)) return exit_code;
  if (absl::Status s = process.ApplyLogLevel(); !s.ok()) {
    return cli::UsageError(kCommand, s);
  }
  if (listen.empty()) {
    return cli::UsageError(kCommand, "--listen ADDR:PORT is required");
  }
  absl::StatusOr<HostPort> at = ParseHostPort(listen);
  if (!at.ok()) {
    return cli::UsageError(kCommand,
                           "--listen: " + std::string(at.status().message()));
  }
  absl::StatusOr<std::string> secret = ft.ReadSecret();
  if (!secret.ok()) return cli::UsageError(kCommand, secret.status());
  int max_resyncs = 0;
  if (!absl::SimpleAtoi(max_resyncs_text, &max_resyncs) || max_resyncs < 0 ||
      max_resyncs > 1000) {
    return cli::UsageError(kCommand, "--max-resyncs: '" + max_resyncs_text +
                                         "' is not a count from 0 to 1000");
  }
  int replay_nice = 0;
  if (!absl::SimpleAtoi(replay_nice_text, &replay_nice) || replay_nice < 0 ||
      replay_nice > 19) {
    return cli::UsageError(kCommand, "--replay-nice: '" + replay_nice_text +
                                         "' is not a nice value from 0 to 19");
  }
  absl::Duration wait;
  if (!absl::ParseDuration(accept_timeout, &wait) ||
      wait <= absl::ZeroDuration()) {
    return cli::UsageError(kCommand, "--accept-timeout: '" + accept_timeout +
                                         "' is not a positive duration");
  }

  ControlSignals signals;  // before any thread starts
  absl::StatusOr<vmm::KvmSystem> kvm =
      vmm::KvmSystem::Open({.device = process.kvm_device});
  if (!kvm.ok()) {
    std::fprintf(stderr, "ftvm secondary: %s\n",
                 std::string(kvm.status().message()).c_str());
    return kExitSetup;
  }
  absl::StatusOr<std::unique_ptr<logchannel::TcpListener>> listener =
      logchannel::TcpListener::Listen(
          {.address = at->host, .port = at->port, .interface = ft.interface});
  if (!listener.ok()) {
    std::fprintf(stderr, "ftvm secondary: %s\n",
                 std::string(listener.status().message()).c_str());
    return kExitSetup;
  }
  FT_LOG(kInfo) << "FT: secondary waiting for the primary on "
                << (*listener)->Describe();
  metrics::Registry registry;
  secondary::SecondaryOptions so{
      .shared_secret = *secret,
      .security = ft.security(),
      .accept_timeout = wait,
      .kernel_path = kernel,
      .metrics = &registry,
      .max_resyncs = max_resyncs,
  };
  if (console) {
    so.console = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    };
  }
  absl::StatusOr<std::unique_ptr<secondary::FtSecondary>> sec =
      secondary::FtSecondary::Accept(**listener, so);
  if (!sec.ok()) {
    std::fprintf(stderr, "ftvm secondary: %s\n",
                 std::string(sec.status().message()).c_str());
    return kExitSetup;
  }
  FT_LOG(kInfo) << "FT: secondary connected: " << (*sec)->PeerDescription();
  secondary::FtSecondary* const s = sec->get();
  // SIGINT/SIGTERM end the process: a secondary has nothing to save.
  signals.Watch([] { std::_Exit(130); },
                [s] {
                  std::fprintf(
                      stderr,
                      "ftvm: stats secondary received_bytes=%llu "
                      "replayed_bytes=%llu\n",
                      static_cast<unsigned long long>(s->bytes_received()),
                      static_cast<unsigned long long>(s->bytes_replayed()));
                });
  MetricsWriter metrics_writer(registry, metrics_file);
  // Linux keeps a nice value per thread, and new threads take their
  // creator's: the machines Run builds (their vCPU, event and disk threads)
  // get it, the log channel's threads, started by Accept, do not.
  if (replay_nice > 0 &&
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), replay_nice) !=
          0) {
    std::fprintf(stderr, "ftvm secondary: --replay-nice %d: %s\n", replay_nice,
                 std::strerror(errno));
    return kExitSetup;
  }
  absl::StatusOr<secondary::SecondaryResult> r = s->Run(*kvm);
  metrics_writer.Finish();
  if (!r.ok()) {
    std::fprintf(stderr, "ftvm secondary: %s\n",
                 std::string(r.status().message()).c_str());
    return kExitSetup;
  }
  const replay::Replayer::Stats& st = r->replay;
  std::printf(
      "%s; %llu log bytes received, replay lag at most %s and %llu "
      "positions\n",
      st.ToString().c_str(), static_cast<unsigned long long>(r->log_bytes),
      absl::FormatDuration(r->max_lag).c_str(),
      static_cast<unsigned long long>(r->max_lag_positions));
  for (const replay::Divergence& d : r->resynced) {
    std::fprintf(stderr,
                 "ftvm secondary: DIVERGENCE (repaired by a resync): "
                 "%s\n",
                 d.ToString().c_str());
  }
  std::printf("divergences: %zu\n",
              r->resynced.size() + (r->divergence ? 1 : 0));
  std::printf("resyncs: %zu\n", r->resynced.size());
  if (r->divergence) {
    std::fprintf(stderr, "ftvm secondary: DIVERGENCE: %s\n",
                 r->divergence->ToString().c_str());
    return kExitDiverged;
  }
  if (!r->completed) {
    std::fprintf(stderr,
                 "ftvm secondary: the primary's log stopped at position "
                 "%llu before its end: %s\n",
                 static_cast<unsigned long long>(st.positions),
                 r->cut_short.c_str());
    return kExitPrimaryLost;
  }
  if (r->final_digest) {
    std::printf(
        "final state digest: registers %016llx memory %016llx (as the "
        "primary's)\n",
        static_cast<unsigned long long>(r->final_digest->registers_hash),
        static_cast<unsigned long long>(r->final_digest->memory_hash));
  }
  std::printf("guest exit code: %d\n", r->guest_exit_code);
  std::fflush(stdout);
  return 0;
}

}  // namespace ft
