// Runs a program to completion with captured output and a time limit, for
// tests and benchmarks that drive ftvm's binaries and QEMU.
#ifndef FTVM_TESTS_SUPPORT_SUBPROCESS_H_
#define FTVM_TESTS_SUPPORT_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ft::testing {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the program path
  absl::Duration timeout = absl::Seconds(60);
  // Extra "NAME=value" entries added to the inherited environment.
  std::vector<std::string> extra_env;
};

struct SubprocessResult {
  int exit_code = -1;  // valid when !signaled
  bool signaled = false;
  int signal = 0;
  bool timed_out = false;  // killed with SIGKILL at the time limit
  std::string out;         // standard output
  std::string err;         // standard error
  absl::Duration wall;     // spawn to exit
};

// Fails only when the program cannot be started; a non-zero exit, a signal
// or a time-out is reported in the result.
absl::StatusOr<SubprocessResult> RunSubprocess(const SubprocessOptions& opts);

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_SUBPROCESS_H_
