// `ftlog replay FILE`: re-executes a recorded run from its log alone, on a
// machine with inert back ends (no TAP is opened and no disk is read or
// written: disk read data and received frames come from the log), and
// checks it against the recording (replay/replayer.h).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "replay/log_file.h"
#include "replay/replayer.h"
#include "replay/run_config.h"
#include "tools/ftlog/commands.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/machine.h"

namespace ft::ftlog {
namespace {

// Exit status of a replay that ran but left the recorded run.
constexpr int kExitDiverged = 3;
constexpr int kExitNoKvm = 4;

constexpr char kReplayHelp[] =
    "Exit status:\n"
    "  0      the replay reached the recorded end with zero divergences\n"
    "         (same positions, inputs, end and state digest)\n"
    "  1      the log could not be read (missing, not a log, corrupt, or\n"
    "         truncated before its first entry)\n"
    "  2      bad options (see --help)\n"
    "  3      a divergence: the replay left the recorded run (the message\n"
    "         names the position and what differed), or the log was cut\n"
    "         short or damaged partway\n"
    "  4      the machine could not be built (no /dev/kvm, a different\n"
    "         kernel than the recorded one)\n";

std::string Hex(const replay::Digest& d) {
  return absl::StrFormat("registers %016x memory %016x", d.registers_hash,
                         d.memory_hash);
}

}  // namespace

int RunReplay(const std::vector<std::string>& args) {
  std::string kernel;
  std::string kvm_device = "/dev/kvm";
  bool console = false;
  cli::ArgParser parser(
      "ftlog replay [--kernel FILE] [--console] FILE",
      "Re-executes the run recorded in FILE (ftvm run --record) from the\n"
      "log alone and verifies it: every logged exit, clock read, event and\n"
      "micro-checkpoint is applied at its position, and the end reason,\n"
      "exit code and final state digest (registers and all of guest memory)\n"
      "must match. No TAP is opened and no disk is touched: received frames\n"
      "and disk read data come from the log.");
  parser.AddString("kernel", "FILE",
                   "The guest kernel, if not at the recorded path (it must "
                   "be the same file: size and SHA-256 are checked).",
                   &kernel);
  parser.AddBool("console",
                 "Copy the replayed guest's serial output to "
                 "standard output.",
                 &console);
  parser.AddString("kvm", "PATH", "KVM device.", &kvm_device);
  parser.AddEpilog(kReplayHelp);
  int exit_code = 0;
  std::optional<std::string> file =
      ParseArgsAndFile(parser, "replay", args, &exit_code);
  if (!file) return exit_code;

  auto reader = replay::LogReader::Open(*file);
  if (!reader.ok()) {
    std::fprintf(stderr, "ftlog replay: %s\n",
                 std::string(reader.status().message()).c_str());
    return kExitBadLog;
  }
  auto kvm = vmm::KvmSystem::Open({.device = kvm_device});
  if (!kvm.ok()) {
    std::fprintf(stderr, "ftlog replay: %s\n",
                 std::string(kvm.status().message()).c_str());
    return kExitNoKvm;
  }
  auto opts = replay::OptionsForReplay(*kvm, reader->header(), kernel);
  if (!opts.ok()) {
    std::fprintf(stderr, "ftlog replay: %s\n",
                 std::string(opts.status().message()).c_str());
    return kExitNoKvm;
  }
  std::string output;
  opts->console = [&](std::string_view line) {
    output.append(line);
    if (console) std::fwrite(line.data(), 1, line.size(), stdout);
  };
  // One machine per stretch of the log: a full checkpoint (an FT pair's
  // resync) replaces the whole machine, so the replay goes on from it on a
  // fresh one.
  std::optional<replay::Replayer> replayer;
  replayer.emplace(std::move(*reader));
  absl::StatusOr<vmm::MachineResult> result;
  replay::Replayer::Stats total;  // over every stretch
  int restarts = 0;
  while (true) {
    opts->hooks = &*replayer;
    auto machine = vmm::Machine::Create(*kvm, *opts);
    if (!machine.ok()) {
      std::fprintf(stderr, "ftlog replay: %s\n",
                   std::string(machine.status().message()).c_str());
      return kExitNoKvm;
    }
    result = (*machine)->Run();
    total.Add(replayer->stats());
    if (!result.ok() || !replayer->full_checkpoint_next()) break;
    replay::Replayer::Rest rest = std::move(*replayer).TakeRest();
    replayer.emplace(std::move(rest.reader), std::move(rest.next));
    ++restarts;
  }
  if (restarts > 0) {
    std::printf("restarted from %d full checkpoints (resyncs)\n", restarts);
  }
  std::printf("%s\n", total.ToString().c_str());
  if (!result.ok()) {
    std::fprintf(stderr, "ftlog replay: %s\n",
                 std::string(result.status().message()).c_str());
    return kExitDiverged;
  }
  if (replayer->divergence()) {
    std::printf("divergences: 1\n");
    std::fprintf(stderr, "ftlog replay: %s\n",
                 replayer->divergence()->ToString().c_str());
    return kExitDiverged;
  }
  if (!replayer->completed()) {
    std::fprintf(stderr,
                 "ftlog replay: the replay stopped before the "
                 "recorded end\n");
    return kExitDiverged;
  }
  std::printf("divergences: 0\n");
  if (replayer->replayed_digest()) {
    std::printf("final state digest: %s (as recorded)\n",
                Hex(*replayer->replayed_digest()).c_str());
  }
  std::printf("guest exit code: %d\n", replayer->recorded_end()->exit_code);
  return kExitOk;
}

}  // namespace ft::ftlog
