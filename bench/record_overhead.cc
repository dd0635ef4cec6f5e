// What recording costs (issue 4): each workload run plain and with
// `ftvm run --record`, interleaved in the same run, reported as ratios:
//   - compute, memdirty, disk: wall time of the whole run, recorded / plain
//     (and the workload's own PIT-timed elapsed_us), micro-checkpoints per
//     second and their mean size;
//   - redis under redis-benchmark (needs root: a TAP in a private network
//     namespace): requests/s recorded / plain, log bytes per second, and log
//     bytes per byte of guest input (the bytes of the asynchronous events:
//     received frames, disk read data, timer expiries).
// Every run must end with the guest's status=ok, and every recorded log
// must replay without divergence (`ftlog replay`): a log that does not
// replay measures nothing.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "replay/log_file.h"
#include "tests/support/background.h"
#include "tests/support/netns.h"
#include "tests/support/redis_cli.h"
#include "tests/support/subprocess.h"
#include "tests/support/vm_launcher.h"
#include "tools/cli/args.h"

namespace ft::bench {
namespace {

struct Config {
  std::string ftvm, ftlog, kernel;
  std::string reps = "3";
  std::string requests = "20000";
};

// What a log holds, read back with replay::LogReader.
struct LogSummary {
  uint64_t bytes = 0;
  uint64_t event_bytes = 0;  // the guest's asynchronous input
  uint64_t checkpoints = 0;
  uint64_t checkpoint_pages = 0;
};

std::optional<LogSummary> Summarize(const std::string& path) {
  auto reader = replay::LogReader::Open(path);
  if (!reader.ok()) return std::nullopt;
  LogSummary s;
  s.bytes = std::filesystem::file_size(path);
  while (true) {
    auto e = reader->Next();
    if (!e.ok()) return std::nullopt;
    if (!e->has_value()) break;
    if (const auto* ev = std::get_if<replay::AsyncEventEntry>(&**e)) {
      s.event_bytes += ev->data.size();
    } else if (const auto* cp = std::get_if<replay::MicroCheckpoint>(&**e)) {
      ++s.checkpoints;
      s.checkpoint_pages += cp->pages.size();
    }
  }
  return s;
}

bool Replays(const Config& c, const std::string& log) {
  auto r = testing::RunSubprocess(
      {.argv = {c.ftlog, "replay", log}, .timeout = absl::Minutes(10)});
  if (r.ok() && r->exit_code == 0) return true;
  std::fprintf(
      stderr, "ftlog replay %s failed:\n%s%s\n", log.c_str(),
      r.ok() ? r->out.c_str() : "",
      r.ok() ? r->err.c_str() : std::string(r.status().message()).c_str());
  return false;
}

struct Run {
  double wall_s = 0;
  std::optional<uint64_t> guest_us;  // compute's elapsed_us
  std::optional<LogSummary> log;
};

// One run of `cmdline`, recorded to `log` if it is not empty.
std::optional<Run> RunWorkload(const Config& c, const std::string& cmdline,
                               const std::vector<std::string>& extra,
                               const std::string& log) {
  std::vector<std::string> argv = {c.ftvm,  "run",  "--kernel",  c.kernel,
                                   "--mem", "256M", "--cmdline", cmdline};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!log.empty()) {
    std::filesystem::remove(log);
    argv.insert(argv.end(), {"--record", log});
  }
  auto r = testing::RunSubprocess({.argv = argv, .timeout = absl::Minutes(10)});
  if (!r.ok() || r->exit_code != 0 ||
      r->out.find("status=ok") == std::string::npos) {
    std::fprintf(
        stderr, "ftvm %s failed:\n%s%s\n", cmdline.c_str(),
        r.ok() ? r->out.c_str() : "",
        r.ok() ? r->err.c_str() : std::string(r.status().message()).c_str());
    return std::nullopt;
  }
  Run run{.wall_s = absl::ToDoubleSeconds(r->wall),
          .guest_us = FieldValue(r->out, "elapsed_us")};
  if (!log.empty()) {
    run.log = Summarize(log);
    if (!run.log || !Replays(c, log)) return std::nullopt;
  }
  return run;
}

struct Workload {
  std::string name;
  std::string cmdline;
  bool disk = false;
};

int Main(int argc, char** argv) {
  Config c;
  cli::ArgParser p(
      "record_overhead --ftvm PATH --ftlog PATH --kernel ELF [options]",
      "What `ftvm run --record` costs, per workload, against plain runs in\n"
      "the same session.");
  p.AddString("ftvm", "PATH", "ftvm binary.", &c.ftvm);
  p.AddString("ftlog", "PATH", "ftlog binary (replays every log).", &c.ftlog);
  p.AddString("kernel", "ELF", "The test guest (ftguest.elf).", &c.kernel);
  p.AddString("reps", "N", "Runs of each configuration.", &c.reps);
  p.AddString("requests", "N", "redis-benchmark requests per test.",
              &c.requests);
  auto rest = p.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (p.help_requested()) {
    std::fputs(p.Help().c_str(), stdout);
    return 0;
  }
  uint64_t reps, requests;
  if (!rest.ok() || c.ftvm.empty() || c.ftlog.empty() || c.kernel.empty() ||
      !absl::SimpleAtoi(c.reps, &reps) || reps == 0 ||
      !absl::SimpleAtoi(c.requests, &requests)) {
    std::fprintf(stderr, "bad arguments (see --help)\n");
    return 2;
  }
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    std::printf("SKIP: /dev/kvm is not usable\n");
    return 77;
  }
  char tmpl[] = "/tmp/record_overhead.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  const std::string image = dir + "/disk.img";
  std::ofstream(image).close();
  std::filesystem::resize_file(image, 64ull << 20);

  const std::vector<Workload> workloads = {
      {"compute", "workload=compute mib=16 rounds=8"},
      {"memdirty", "workload=memdirty mib=32 rate=20000 seconds=3"},
      {"disk", "workload=disk mib=16 rate=1000 seconds=3", true},
  };
  std::printf(
      "recording overhead, %llu interleaved runs each, medians\n"
      "%-9s %9s %9s %7s %9s %11s %10s %12s\n",
      static_cast<unsigned long long>(reps), "workload", "plain s", "record s",
      "ratio", "guest rt", "ckpt/s", "ckpt KiB", "log KiB/s");
  for (const Workload& w : workloads) {
    std::vector<double> plain, recorded, guest_plain, guest_rec, ckpt_rate,
        ckpt_kib, log_rate;
    const std::vector<std::string> extra =
        w.disk ? std::vector<std::string>{"--disk", image}
               : std::vector<std::string>{};
    for (uint64_t i = 0; i < reps; ++i) {
      auto a = RunWorkload(c, w.cmdline, extra, "");
      auto b = RunWorkload(c, w.cmdline, extra, dir + "/" + w.name + ".ftlog");
      if (!a || !b) return 1;
      plain.push_back(a->wall_s);
      recorded.push_back(b->wall_s);
      if (a->guest_us && b->guest_us) {
        guest_plain.push_back(static_cast<double>(*a->guest_us));
        guest_rec.push_back(static_cast<double>(*b->guest_us));
      }
      const LogSummary& log = *b->log;
      ckpt_rate.push_back(static_cast<double>(log.checkpoints) / b->wall_s);
      // A page's 4 KiB plus the vCPU state (about 5 KiB) per checkpoint.
      ckpt_kib.push_back(
          log.checkpoints == 0
              ? 0
              : (static_cast<double>(log.checkpoint_pages) * 4 + 5) /
                    static_cast<double>(log.checkpoints));
      log_rate.push_back(static_cast<double>(log.bytes) / 1024 / b->wall_s);
    }
    const std::string guest_ratio =
        guest_plain.empty()
            ? "-"
            : absl::StrFormat("%.3f", Median(guest_rec) / Median(guest_plain));
    std::printf("%-9s %9.3f %9.3f %7.3f %9s %11.1f %10.1f %12.1f\n",
                w.name.c_str(), Median(plain), Median(recorded),
                Median(recorded) / Median(plain), guest_ratio.c_str(),
                Median(ckpt_rate), Median(ckpt_kib), Median(log_rate));
  }
  std::printf(
      "(guest rt: the workload's own PIT-timed elapsed_us, recorded / "
      "plain; ckpt KiB: mean micro-checkpoint size before compression, "
      "pages plus vCPU state)\n");

  // redis under redis-benchmark, plain and recorded, in a private namespace.
  testing::RedisTools tools;
  std::string missing = testing::PrivateNetnsUnavailable();
  if (missing.empty()) missing = testing::FindRedisTools(&tools);
  if (!missing.empty()) {
    std::printf("\nredis: skipped (%s)\n", missing.c_str());
    std::filesystem::remove_all(dir);
    return 0;
  }
  auto ns = testing::PrivateNetns::Create(absl::StrFormat("ftro%d", getpid()),
                                          "rotap0", "198.18.252.1/24");
  if (!ns.ok()) {
    std::fprintf(stderr, "%s\n", std::string(ns.status().message()).c_str());
    return 1;
  }
  const testing::VmLauncher ftvm = testing::FtvmLauncher(c.ftvm, c.kernel);
  testing::RedisCli cli(**ns, tools, "198.18.252.2");
  std::map<std::string, std::vector<double>> rps;
  std::vector<double> log_rate, per_input;
  for (uint64_t i = 0; i < reps; ++i) {
    for (bool record : {false, true}) {
      std::ofstream(image, std::ios::trunc).close();
      std::filesystem::resize_file(image, 64ull << 20);
      std::vector<std::string> vm_argv =
          ftvm.argv({.tap = "rotap0",
                     .mac = "52:54:00:12:34:57",
                     .disk = image,
                     .cmdline = "workload=redis ip=198.18.252.2/24",
                     .memory = "256M"});
      const std::string log = dir + "/redis.ftlog";
      if (record) {
        std::filesystem::remove(log);
        vm_argv.insert(vm_argv.end(), {"--record", log});
      }
      auto vm = testing::BackgroundProcess::Start((*ns)->Wrap(vm_argv),
                                                  dir + "/redis-vm.out");
      if (!vm.ok() || !cli.WaitForPong(absl::Seconds(30),
                                       [&] { return (*vm)->Running(); })) {
        std::fprintf(stderr, "redis guest did not start\n%s\n",
                     vm.ok() ? (*vm)->Output().c_str() : "");
        return 1;
      }
      const absl::Time start = absl::Now();
      for (const char* pipeline : {"1", "16"}) {
        for (const char* test : {"SET", "GET", "INCR"}) {
          const std::string lower = absl::AsciiStrToLower(test);
          auto r = cli.Benchmark({"-n", std::to_string(requests), "-c", "50",
                                  "-P", pipeline, "-t", lower, "--csv"},
                                 absl::Minutes(5));
          std::optional<RedisBenchmarkResult> res;
          if (r.ok() && r->exit_code == 0) {
            res = ParseRedisBenchmarkCsv(r->out, test);
          }
          if (!res) {
            std::fprintf(stderr, "redis-benchmark %s -P %s failed\n", test,
                         pipeline);
            return 1;
          }
          rps[absl::StrFormat("%s -P %s|%s", test, pipeline,
                              record ? "rec" : "plain")]
              .push_back(res->rps);
        }
      }
      cli.Cmd({"SHUTDOWN"});
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      if ((*vm)->WaitFor(absl::Seconds(60)) != 0) {
        std::fprintf(stderr, "redis guest did not shut down cleanly\n%s\n",
                     (*vm)->Output().c_str());
        return 1;
      }
      if (record) {
        auto summary = Summarize(log);
        if (!summary || !Replays(c, log)) return 1;
        log_rate.push_back(static_cast<double>(summary->bytes) * 8 / 1e6 /
                           seconds);
        per_input.push_back(static_cast<double>(summary->bytes) /
                            static_cast<double>(summary->event_bytes));
      }
    }
  }
  std::printf(
      "\nredis-benchmark -c 50, %llu requests per test, recorded vs plain\n"
      "%-10s %11s %11s %7s\n",
      static_cast<unsigned long long>(requests), "test", "plain r/s",
      "record r/s", "ratio");
  for (const char* pipeline : {"1", "16"}) {
    for (const char* test : {"SET", "GET", "INCR"}) {
      const std::string key = absl::StrFormat("%s -P %s", test, pipeline);
      const double a = Median(rps[key + "|plain"]);
      const double b = Median(rps[key + "|rec"]);
      std::printf("%-10s %11.0f %11.0f %7.3f\n", key.c_str(), a, b, b / a);
    }
  }
  std::printf(
      "log: %.2f Mbit/s while benchmarked (VMware FT reported 1.5-18 for "
      "server workloads), %.2f log bytes per byte of guest input\n",
      Median(log_rate), Median(per_input));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::Main(argc, argv); }
