// ftvm against QEMU microvm on the same guest, in the same run, interleaved
// so that the machine's noise lands on both:
//   - compute: the guest's own PIT-timed hashing phase, and the wall time;
//   - pio: the cost of one port-I/O round trip (OUT + IN of the UART scratch
//     register), timed by the guest over many round trips.
// Every run's final line is checked against the host reference: a benchmark
// of a guest that computed the wrong thing measures nothing.

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "bench/bench_util.h"
#include "ftguest/reference.h"
#include "tests/support/qemu.h"
#include "tests/support/subprocess.h"
#include "tools/cli/args.h"

namespace ft::bench {
namespace {

struct Config {
  std::string ftvm;
  std::string qemu = "/usr/bin/qemu-system-x86_64";
  std::string kernel;
  std::string reps = "5";
  std::string compute_mib = "16";
  std::string compute_rounds = "8";
  std::string pio_count = "20000";
};

struct Sample {
  double guest_value;  // the workload's own timing
  double wall_ms;
};

std::optional<Sample> RunOnce(const Config& c, bool qemu,
                              const std::string& cmdline,
                              const std::string& workload, uint64_t expected,
                              const std::string& field) {
  std::vector<std::string> argv =
      qemu ? testing::QemuMicrovmArgv({.qemu = c.qemu,
                                       .kernel = c.kernel,
                                       .memory = "256M",
                                       .cmdline = cmdline})
           : std::vector<std::string>{c.ftvm,  "run",  "--kernel",  c.kernel,
                                      "--mem", "256M", "--cmdline", cmdline};
  auto r = testing::RunSubprocess({.argv = argv, .timeout = absl::Minutes(5)});
  const char* who = qemu ? "qemu" : "ftvm";
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", who,
                 std::string(r.status().message()).c_str());
    return std::nullopt;
  }
  const int want = qemu ? testing::QemuExitStatus(FTG_EXIT_OK) : FTG_EXIT_OK;
  const std::string line = absl::StrFormat(
      "ftguest: workload=%s result=%016x status=ok", workload, expected);
  auto value = FieldValue(r->out, field);
  if (r->exit_code != want || r->out.find(line) == std::string::npos ||
      !value) {
    std::fprintf(stderr, "%s: bad run (exit %d), output:\n%s%s\n", who,
                 r->exit_code, r->out.c_str(), r->err.c_str());
    return std::nullopt;
  }
  return Sample{static_cast<double>(*value),
                absl::ToDoubleMilliseconds(r->wall)};
}

struct Series {
  std::vector<double> guest, wall;
};

int Main(int argc, char** argv) {
  Config c;
  cli::ArgParser p("ftvm_vs_qemu --ftvm PATH --kernel ELF [options]",
                   "Benchmarks ftvm against QEMU microvm on the test guest.");
  p.AddString("ftvm", "PATH", "ftvm binary.", &c.ftvm);
  p.AddString("qemu", "PATH", "qemu-system-x86_64 binary.", &c.qemu);
  p.AddString("kernel", "ELF", "The test guest (ftguest.elf).", &c.kernel);
  p.AddString("reps", "N", "Runs of each VMM per workload.", &c.reps);
  p.AddString("compute-mib", "N", "compute workload buffer (MiB).",
              &c.compute_mib);
  p.AddString("compute-rounds", "N", "compute workload rounds.",
              &c.compute_rounds);
  p.AddString("pio-count", "N", "pio workload round trips.", &c.pio_count);
  auto rest = p.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (p.help_requested()) {
    std::fputs(p.Help().c_str(), stdout);
    return 0;
  }
  uint64_t reps, mib, rounds, pio;
  if (!rest.ok() || c.ftvm.empty() || c.kernel.empty() ||
      !absl::SimpleAtoi(c.reps, &reps) || reps == 0 ||
      !absl::SimpleAtoi(c.compute_mib, &mib) ||
      !absl::SimpleAtoi(c.compute_rounds, &rounds) ||
      !absl::SimpleAtoi(c.pio_count, &pio)) {
    std::fprintf(stderr, "bad arguments (see --help)\n");
    return 2;
  }

  const std::string compute_cmd =
      absl::StrFormat("workload=compute mib=%d rounds=%d", mib, rounds);
  const std::string pio_cmd = absl::StrFormat("workload=pio count=%d", pio);
  const uint64_t compute_ref = ftg_ref_compute(mib, rounds);
  const uint64_t pio_ref = ftg_ref_pio(pio);

  std::map<std::string, Series> s;
  for (uint64_t i = 0; i < reps; ++i) {
    for (bool qemu : {false, true}) {
      const std::string who = qemu ? "qemu" : "ftvm";
      auto comp =
          RunOnce(c, qemu, compute_cmd, "compute", compute_ref, "elapsed_us");
      auto io = RunOnce(c, qemu, pio_cmd, "pio", pio_ref, "ns_per_round_trip");
      if (!comp || !io) return 1;
      s[who + "/compute"].guest.push_back(comp->guest_value / 1000.0);
      s[who + "/compute"].wall.push_back(comp->wall_ms);
      s[who + "/pio"].guest.push_back(io->guest_value / 1000.0);
      s[who + "/pio"].wall.push_back(io->wall_ms);
      std::fprintf(stderr,
                   "rep %llu %s: compute %.1f ms, pio %.1f us/round trip\n",
                   static_cast<unsigned long long>(i + 1), who.c_str(),
                   comp->guest_value / 1000.0, io->guest_value / 1000.0);
    }
  }

  auto med = [&](const std::string& k) { return Median(s[k].guest); };
  auto wall = [&](const std::string& k) { return Median(s[k].wall); };
  std::printf("\nftvm vs QEMU microvm, %llu interleaved runs each, medians\n",
              static_cast<unsigned long long>(reps));
  std::printf("%-34s %12s %12s %12s\n", "metric", "ftvm", "qemu", "ftvm/qemu");
  std::printf(
      "%-34s %12.1f %12.1f %12.3f\n",
      absl::StrFormat("compute %dMiBx%d guest time (ms)", mib, rounds).c_str(),
      med("ftvm/compute"), med("qemu/compute"),
      med("ftvm/compute") / med("qemu/compute"));
  std::printf("%-34s %12.1f %12.1f %12.3f\n", "compute run, wall (ms)",
              wall("ftvm/compute"), wall("qemu/compute"),
              wall("ftvm/compute") / wall("qemu/compute"));
  std::printf("%-34s %12.1f %12.1f %12.3f\n", "port-I/O round trip (us)",
              med("ftvm/pio"), med("qemu/pio"),
              med("ftvm/pio") / med("qemu/pio"));
  std::printf("%-34s %12.1f %12.1f %12.3f\n",
              absl::StrFormat("pio x%d run, wall (ms)", pio).c_str(),
              wall("ftvm/pio"), wall("qemu/pio"),
              wall("ftvm/pio") / wall("qemu/pio"));
  return 0;
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::Main(argc, argv); }
