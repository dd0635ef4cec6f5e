// redis-cli and redis-benchmark (Debian's redis-tools), unmodified, run
// inside a network namespace against a server there (the test guest's
// `redis` workload in a VM on the namespace's TAP).
#ifndef FTVM_TESTS_SUPPORT_REDIS_CLI_H_
#define FTVM_TESTS_SUPPORT_REDIS_CLI_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/netns.h"
#include "tests/support/subprocess.h"

namespace ft::testing {

struct RedisTools {
  std::string cli;        // path of redis-cli
  std::string benchmark;  // path of redis-benchmark
};

// Fills *tools and returns "", or says what is missing.
std::string FindRedisTools(RedisTools* tools);

class RedisCli {
 public:
  RedisCli(const PrivateNetns& ns, RedisTools tools, std::string host,
           int port = 6379)
      : ns_(ns),
        tools_(std::move(tools)),
        host_(std::move(host)),
        port_(port) {}

  // Runs one command; returns what redis-cli printed without the final
  // newline ("PONG", "OK", "" for a nil reply), or "<redis-cli: why>" if it
  // could not run or failed.
  std::string Cmd(const std::vector<std::string>& args,
                  absl::Duration timeout = absl::Seconds(20)) const;

  // PINGs until the answer is PONG (true), the time is up, or alive()
  // returns false (the server's VM is gone).
  bool WaitForPong(absl::Duration timeout,
                   const std::function<bool()>& alive) const;

  // redis-benchmark -h HOST -p PORT args...
  absl::StatusOr<SubprocessResult> Benchmark(
      const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(120)) const;

 private:
  const PrivateNetns& ns_;
  RedisTools tools_;
  std::string host_;
  int port_;
};

// The final "NAME: R requests per second..." lines of `redis-benchmark -q`
// output (its progress lines end in \r, not \n): {"SET": R, ...}.
std::map<std::string, double> ParseBenchmarkRates(const std::string& out);

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_REDIS_CLI_H_
