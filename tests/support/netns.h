// A private network namespace with a TAP interface, for tests that put a VM
// on a network without touching the host's: the VM's VMM runs inside the
// namespace (Wrap), and so do the clients that talk to it (Run).
#ifndef FTVM_TESTS_SUPPORT_NETNS_H_
#define FTVM_TESTS_SUPPORT_NETNS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/subprocess.h"

namespace ft::testing {

// The path of an executable found in $PATH (then /usr/sbin, /sbin), or "".
std::string FindProgram(const std::string& name);

// Why a private namespace with a TAP cannot be made here (not root, no
// /dev/net/tun, no `ip`), or "" if it can.
std::string PrivateNetnsUnavailable();

class PrivateNetns {
 public:
  // `ip netns add name`, loopback up, then a TAP `tap` with host address
  // `cidr` (e.g. "198.18.250.1/24"), up. The name must be unique on the host
  // (e.g. include the pid): namespaces are global.
  static absl::StatusOr<std::unique_ptr<PrivateNetns>> Create(
      const std::string& name, const std::string& tap, const std::string& cidr);

  // `ip netns del`: the TAP goes with it.
  ~PrivateNetns();
  PrivateNetns(const PrivateNetns&) = delete;
  PrivateNetns& operator=(const PrivateNetns&) = delete;

  const std::string& name() const { return name_; }
  const std::string& tap() const { return tap_; }

  // argv run inside the namespace: `ip netns exec NAME argv...`. `ip` execs
  // the program, so its exit status is the program's.
  std::vector<std::string> Wrap(const std::vector<std::string>& argv) const;

  // Runs argv inside the namespace to completion (see RunSubprocess).
  absl::StatusOr<SubprocessResult> Run(
      const std::vector<std::string>& argv,
      absl::Duration timeout = absl::Seconds(30)) const;

 private:
  PrivateNetns(std::string ip, std::string name, std::string tap)
      : ip_(std::move(ip)), name_(std::move(name)), tap_(std::move(tap)) {}

  std::string ip_;  // path of `ip`
  std::string name_;
  std::string tap_;
};

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_NETNS_H_
