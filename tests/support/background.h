// A program that runs beside a test (a VM the test talks to over the
// network) until it exits or the test ends, with its standard output and
// error in a file the test can watch.
#ifndef FTVM_TESTS_SUPPORT_BACKGROUND_H_
#define FTVM_TESTS_SUPPORT_BACKGROUND_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ft::testing {

class BackgroundProcess {
 public:
  // Starts argv (argv[0] a path) with stdin from /dev/null and stdout and
  // stderr appended to log_path (created or truncated).
  static absl::StatusOr<std::unique_ptr<BackgroundProcess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path);

  // Kills the program (SIGKILL) if it still runs: it never outlives the test.
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Waits up to timeout for the exit. The exit code, 128 + N if killed by
  // signal N, or nullopt if it still runs.
  std::optional<int> WaitFor(absl::Duration timeout);
  bool Running() { return !WaitFor(absl::ZeroDuration()).has_value(); }

  // SIGKILL and reap (no-op once it has exited).
  void Kill();

  // Everything the program has written so far.
  std::string Output() const;

  // For signals and per-process statistics (e.g. debugfs, perf).
  pid_t pid() const { return pid_; }

 private:
  BackgroundProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_;
  std::string log_path_;
  std::optional<int> status_;  // set once reaped
};

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_BACKGROUND_H_
