// The guest's redis server under ftvm and under QEMU microvm, driven by
// Debian's unmodified redis-benchmark from the other side of a TAP, in the
// same run, interleaved (these machines are shared and noisy):
//   redis-benchmark -t set|get|incr -c 50 [-P 16]
// reporting requests/s and p50/p99 latency for both, their ratio, and VM
// exits per request. Exits come from KVM's own statistics
// (KVM_GET_STATS_FD), summed over the vCPUs, taken just before and after
// each measurement: ftvm prints them on SIGUSR1, QEMU answers QMP's
// query-stats.
//
// Every boot must answer PING, every redis-benchmark run must exit 0 with a
// result line, and every guest must shut down with status ok: a benchmark
// of a broken server measures nothing.

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "tests/support/background.h"
#include "tests/support/netns.h"
#include "tests/support/redis_cli.h"
#include "tests/support/vm_launcher.h"
#include "tools/cli/args.h"

namespace ft::bench {
namespace {

constexpr char kGuestIp[] = "198.18.251.2";
constexpr char kMac[] = "52:54:00:12:34:56";

struct Config {
  std::string ftvm;
  std::string qemu;
  std::string kernel;
  std::string reps = "3";
  std::string requests = "20000";
  std::string pipelined_requests = "100000";
};

// One redis-benchmark run's numbers.
struct Sample {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::optional<double> exits_per_request;
};

// KVM's exit count of a running VM, or nullopt if it cannot be read.
class ExitCounter {
 public:
  virtual ~ExitCounter() = default;
  virtual std::optional<uint64_t> Read() = 0;
};

// ftvm: SIGUSR1 makes it print its stats lines (KVM_GET_STATS_FD).
class FtvmExits : public ExitCounter {
 public:
  explicit FtvmExits(testing::BackgroundProcess* vm) : vm_(vm) {}
  std::optional<uint64_t> Read() override {
    const std::string marker = "ftvm: stats kvm ";
    auto count = [&](const std::string& out) {
      size_t n = 0;
      for (size_t at = out.find(marker); at != std::string::npos;
           at = out.find(marker, at + 1)) {
        ++n;
      }
      return n;
    };
    const size_t before = count(vm_->Output());
    ::kill(vm_->pid(), SIGUSR1);
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    std::string out;
    while (absl::Now() < deadline) {
      out = vm_->Output();
      if (count(out) > before) {
        const size_t at = out.rfind(marker);
        const std::string line = out.substr(at, out.find('\n', at) - at);
        if (line.find('\n') == std::string::npos &&
            out.find('\n', at) != std::string::npos) {
          return FieldValue(line, "exits");
        }
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }

 private:
  testing::BackgroundProcess* vm_;
};

// QEMU: the same KVM_GET_STATS_FD counters through QMP's query-stats
// (QEMU 7.1+), on a socket the bench adds to QEMU's command line. (debugfs
// would be simpler, but its KVM statistics are not readable here.)
class QmpExits : public ExitCounter {
 public:
  explicit QmpExits(std::string socket_path) : path_(std::move(socket_path)) {}
  ~QmpExits() override {
    if (fd_ >= 0) ::close(fd_);
  }
  std::optional<uint64_t> Read() override {
    if (fd_ < 0 && !Connect()) return std::nullopt;
    const std::string reply =
        Command(R"({"execute":"query-stats","arguments":{"target":"vcpu",)"
                R"("providers":[{"provider":"kvm","names":["exits"]}]}})");
    // {"return": [{"provider": "kvm", "qom-path": ..., "stats": [{"name":
    // "exits", "value": N}]}]}: one entry per vCPU, summed.
    uint64_t total = 0;
    bool any = false;
    const std::string key = "\"value\": ";
    for (size_t at = reply.find(key); at != std::string::npos;
         at = reply.find(key, at + 1)) {
      const size_t from = at + key.size();
      uint64_t v;
      if (!absl::SimpleAtoi(
              reply.substr(from,
                           reply.find_first_not_of("0123456789", from) - from),
              &v)) {
        return std::nullopt;
      }
      total += v;
      any = true;
    }
    return any ? std::optional(total) : std::nullopt;
  }

 private:
  bool Connect() {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    if (fd_ < 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return false;
    }
    ReadLine();  // the greeting
    return Command(R"({"execute":"qmp_capabilities"})").find("return") !=
           std::string::npos;
  }
  // Sends one command; returns its reply line (skipping events).
  std::string Command(const std::string& json) {
    const std::string line = json + "\n";
    if (::write(fd_, line.data(), line.size()) !=
        static_cast<ssize_t>(line.size())) {
      return "";
    }
    for (int i = 0; i < 100; ++i) {
      std::string reply = ReadLine();
      if (reply.empty()) return "";
      if (reply.find("\"event\"") == std::string::npos) return reply;
    }
    return "";
  }
  std::string ReadLine() {
    std::string out;
    char c;
    while (::read(fd_, &c, 1) == 1 && c != '\n') out += c;
    return out;
  }

  std::string path_;
  int fd_ = -1;
};

struct Measure {
  std::string test;  // SET, GET, INCR
  int pipeline;
  uint64_t requests;
  std::string key() const {
    return absl::StrFormat("%s -P %d", test, pipeline);
  }
};

// Boots one VM, runs every measurement against it, shuts it down. Appends
// to samples[launcher][measure]; false (with the reason printed) on any
// failure.
bool OneBoot(const testing::VmLauncher& launcher,
             const testing::PrivateNetns& ns, const testing::RedisTools& tools,
             const std::string& dir, const std::vector<Measure>& measures,
             std::map<std::string, std::vector<Sample>>& samples) {
  const std::string disk = dir + "/disk-" + launcher.name + ".img";
  // A fresh sparse image per boot: every run starts from an empty log.
  std::ofstream(disk, std::ios::binary | std::ios::trunc).close();
  std::filesystem::resize_file(disk, 256ull << 20);
  testing::VmBoot boot{
      .tap = ns.tap(),
      .mac = kMac,
      .disk = disk,
      .cmdline = absl::StrFormat("workload=redis ip=%s/24", kGuestIp),
      .memory = "256M"};
  std::vector<std::string> argv = launcher.argv(boot);
  const std::string qmp = dir + "/qmp-" + launcher.name + ".sock";
  if (launcher.name == "qemu") {
    argv.insert(argv.end(), {"-qmp", "unix:" + qmp + ",server=on,wait=off"});
  }
  auto vm = testing::BackgroundProcess::Start(
      ns.Wrap(argv), dir + "/" + launcher.name + ".log");
  if (!vm.ok()) {
    std::fprintf(stderr, "%s: %s\n", launcher.name.c_str(),
                 std::string(vm.status().message()).c_str());
    return false;
  }
  testing::RedisCli cli(ns, tools, kGuestIp);
  if (!cli.WaitForPong(absl::Seconds(30), [&] { return (*vm)->Running(); })) {
    std::fprintf(stderr, "%s: the guest never answered PING:\n%s\n",
                 launcher.name.c_str(), (*vm)->Output().c_str());
    return false;
  }
  std::unique_ptr<ExitCounter> exits;
  if (launcher.name == "ftvm") {
    exits = std::make_unique<FtvmExits>(vm->get());
  } else {
    exits = std::make_unique<QmpExits>(qmp);
  }
  for (const Measure& m : measures) {
    const std::optional<uint64_t> e0 = exits->Read();
    auto r = cli.Benchmark({"-n", std::to_string(m.requests), "-c", "50", "-P",
                            std::to_string(m.pipeline), "-t",
                            absl::AsciiStrToLower(m.test), "--csv"},
                           absl::Minutes(5));
    const std::optional<uint64_t> e1 = exits->Read();
    std::optional<Sample> s;
    if (r.ok() && r->exit_code == 0) {
      if (auto csv = ParseRedisBenchmarkCsv(r->out, m.test)) {
        s = Sample{
            .rps = csv->rps, .p50_ms = csv->p50_ms, .p99_ms = csv->p99_ms};
      }
    }
    if (!s) {
      std::fprintf(
          stderr, "%s: redis-benchmark %s failed: %s%s\n",
          launcher.name.c_str(), m.key().c_str(), r.ok() ? r->out.c_str() : "",
          r.ok() ? r->err.c_str() : std::string(r.status().message()).c_str());
      return false;
    }
    if (e0 && e1 && *e1 >= *e0) {
      s->exits_per_request =
          static_cast<double>(*e1 - *e0) / static_cast<double>(m.requests);
    }
    std::fprintf(stderr, "  %s %-10s %10.0f req/s  p50 %.3f ms  p99 %.3f ms\n",
                 launcher.name.c_str(), m.key().c_str(), s->rps, s->p50_ms,
                 s->p99_ms);
    samples[launcher.name + "|" + m.key()].push_back(*s);
  }
  cli.Cmd({"SHUTDOWN"});
  const std::optional<int> status = (*vm)->WaitFor(absl::Seconds(60));
  if (status != launcher.exit_status(0)) {
    std::fprintf(stderr, "%s: the guest did not shut down cleanly:\n%s\n",
                 launcher.name.c_str(), (*vm)->Output().c_str());
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  Config c;
  cli::ArgParser p(
      "redis_vs_qemu --ftvm PATH --qemu PATH --kernel ELF [options]",
      "redis-benchmark against the guest's redis server under ftvm and\n"
      "under QEMU microvm (needs root, /dev/kvm and redis-tools).");
  p.AddString("ftvm", "PATH", "ftvm binary.", &c.ftvm);
  p.AddString("qemu", "PATH", "qemu-system-x86_64 binary.", &c.qemu);
  p.AddString("kernel", "ELF", "The test guest (ftguest.elf).", &c.kernel);
  p.AddString("reps", "N", "Boots of each VMM.", &c.reps);
  p.AddString("requests", "N", "Requests per test without pipelining.",
              &c.requests);
  p.AddString("pipelined-requests", "N", "Requests per test with -P 16.",
              &c.pipelined_requests);
  auto rest = p.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (p.help_requested()) {
    std::fputs(p.Help().c_str(), stdout);
    return 0;
  }
  uint64_t reps, requests, pipelined;
  if (!rest.ok() || c.ftvm.empty() || c.kernel.empty() ||
      !absl::SimpleAtoi(c.reps, &reps) || reps == 0 ||
      !absl::SimpleAtoi(c.requests, &requests) ||
      !absl::SimpleAtoi(c.pipelined_requests, &pipelined)) {
    std::fprintf(stderr, "bad arguments (see --help)\n");
    return 2;
  }
  testing::RedisTools tools;
  std::string missing = testing::PrivateNetnsUnavailable();
  if (missing.empty()) missing = testing::FindRedisTools(&tools);
  if (missing.empty() && access("/dev/kvm", R_OK | W_OK) != 0) {
    missing = "/dev/kvm is not usable";
  }
  if (!missing.empty()) {
    std::printf("SKIP: %s\n", missing.c_str());
    return 77;
  }
  const std::vector<testing::VmLauncher> launchers = {
      testing::FtvmLauncher(c.ftvm, c.kernel),
      testing::QemuLauncher(c.qemu, c.kernel)};
  for (const auto& l : launchers) {
    if (!l.unavailable.empty()) {
      std::printf("SKIP: %s: %s\n", l.name.c_str(), l.unavailable.c_str());
      return 77;
    }
  }
  auto ns = testing::PrivateNetns::Create(absl::StrFormat("ftrb%d", getpid()),
                                          "rbtap0", "198.18.251.1/24");
  if (!ns.ok()) {
    std::fprintf(stderr, "%s\n", std::string(ns.status().message()).c_str());
    return 1;
  }
  char tmpl[] = "/tmp/redis_bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;

  std::vector<Measure> measures;
  for (int pipeline : {1, 16}) {
    for (const char* test : {"SET", "GET", "INCR"}) {
      measures.push_back(
          {test, pipeline, pipeline == 1 ? requests : pipelined});
    }
  }
  std::map<std::string, std::vector<Sample>> samples;
  bool ok = true;
  for (uint64_t i = 0; i < reps && ok; ++i) {
    // Alternate which VMM goes first, so drift lands on both.
    for (size_t k = 0; k < launchers.size() && ok; ++k) {
      const auto& l = launchers[(i + k) % launchers.size()];
      std::fprintf(stderr, "rep %llu: %s\n",
                   static_cast<unsigned long long>(i + 1), l.name.c_str());
      ok = OneBoot(l, **ns, tools, dir, measures, samples);
    }
  }
  std::filesystem::remove_all(dir);
  if (!ok) return 1;

  auto med = [&](const std::string& who, const Measure& m, auto field) {
    std::vector<double> v;
    for (const Sample& s : samples[who + "|" + m.key()]) {
      if (auto x = field(s)) v.push_back(*x);
    }
    return v.empty() ? std::optional<double>() : std::optional(Median(v));
  };
  auto rps = [](const Sample& s) { return std::optional(s.rps); };
  auto p50 = [](const Sample& s) { return std::optional(s.p50_ms); };
  auto p99 = [](const Sample& s) { return std::optional(s.p99_ms); };
  auto epr = [](const Sample& s) { return s.exits_per_request; };
  auto fmt = [](std::optional<double> v, int decimals) {
    return v ? absl::StrFormat("%.*f", decimals, *v) : std::string("n/a");
  };
  std::printf(
      "\nredis-benchmark -c 50 against the guest, ftvm vs QEMU microvm, "
      "%llu boots each, medians\n",
      static_cast<unsigned long long>(reps));
  std::printf("%-10s %11s %11s %6s | %7s %7s | %7s %7s | %9s %9s\n", "test",
              "ftvm req/s", "qemu req/s", "ratio", "p50 ft", "p50 qm", "p99 ft",
              "p99 qm", "exits/req", "exits/req");
  std::printf("%-10s %11s %11s %6s | %7s %7s | %7s %7s | %9s %9s\n", "", "", "",
              "ft/qm", "ms", "ms", "ms", "ms", "ftvm", "qemu");
  for (const Measure& m : measures) {
    const auto f = med("ftvm", m, rps), q = med("qemu", m, rps);
    std::printf("%-10s %11s %11s %6s | %7s %7s | %7s %7s | %9s %9s\n",
                m.key().c_str(), fmt(f, 0).c_str(), fmt(q, 0).c_str(),
                (f && q) ? absl::StrFormat("%.3f", *f / *q).c_str() : "n/a",
                fmt(med("ftvm", m, p50), 3).c_str(),
                fmt(med("qemu", m, p50), 3).c_str(),
                fmt(med("ftvm", m, p99), 3).c_str(),
                fmt(med("qemu", m, p99), 3).c_str(),
                fmt(med("ftvm", m, epr), 3).c_str(),
                fmt(med("qemu", m, epr), 3).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::Main(argc, argv); }
