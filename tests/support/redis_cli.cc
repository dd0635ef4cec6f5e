#include "tests/support/redis_cli.h"

#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace ft::testing {

std::string FindRedisTools(RedisTools* tools) {
  tools->cli = FindProgram("redis-cli");
  tools->benchmark = FindProgram("redis-benchmark");
  if (tools->cli.empty() || tools->benchmark.empty())
    return "redis-cli / redis-benchmark not installed (apt-get install "
           "redis-tools)";
  return "";
}

std::string RedisCli::Cmd(const std::vector<std::string>& args,
                          absl::Duration timeout) const {
  std::vector<std::string> argv = {tools_.cli, "-h", host_, "-p",
                                   std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = ns_.Run(argv, timeout);
  if (!r.ok()) return absl::StrCat("<redis-cli: ", r.status().message(), ">");
  if (r->timed_out) return "<redis-cli: timed out>";
  if (r->signaled || r->exit_code != 0)
    return absl::StrCat("<redis-cli: exit ", r->exit_code, ": ", r->out, r->err,
                        ">");
  std::string out = r->out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool RedisCli::WaitForPong(absl::Duration timeout,
                           const std::function<bool()>& alive) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    // Before the guest answers ARP a connect fails after a few seconds;
    // once lwIP is up but not yet listening it is refused at once.
    if (Cmd({"PING"}, absl::Seconds(5)) == "PONG") return true;
    if (!alive()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

absl::StatusOr<SubprocessResult> RedisCli::Benchmark(
    const std::vector<std::string>& args, absl::Duration timeout) const {
  std::vector<std::string> argv = {tools_.benchmark, "-h", host_, "-p",
                                   std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return ns_.Run(argv, timeout);
}

std::map<std::string, double> ParseBenchmarkRates(const std::string& out) {
  static const std::regex kRate(
      R"(^\s*([A-Z_]+): ([0-9.]+) requests per second)");
  std::map<std::string, double> rates;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find_first_of("\r\n", start);
    if (end == std::string::npos) end = out.size();
    std::smatch m;
    std::string line = out.substr(start, end - start);
    if (std::regex_search(line, m, kRate)) rates[m[1]] = std::stod(m[2]);
    start = end + 1;
  }
  return rates;
}

}  // namespace ft::testing
