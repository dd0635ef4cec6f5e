#include "tests/support/netns.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ft::testing {

std::string FindProgram(const std::string& name) {
  const char* env = std::getenv("PATH");
  // `ip` lives in sbin, which a non-login root shell may lack in $PATH.
  std::string path =
      absl::StrCat(env != nullptr ? env : "", ":/usr/sbin:/sbin");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      std::string candidate = path.substr(start, end - start) + "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

std::string PrivateNetnsUnavailable() {
  if (geteuid() != 0) return "network namespaces and TAP devices need root";
  if (access("/dev/net/tun", R_OK | W_OK) != 0) return "no usable /dev/net/tun";
  if (FindProgram("ip").empty()) return "`ip` (iproute2) not installed";
  return "";
}

absl::StatusOr<std::unique_ptr<PrivateNetns>> PrivateNetns::Create(
    const std::string& name, const std::string& tap, const std::string& cidr) {
  std::string ip = FindProgram("ip");
  if (ip.empty()) return absl::FailedPreconditionError("`ip` not found");
  auto run = [&](std::vector<std::string> argv) -> absl::Status {
    argv.insert(argv.begin(), ip);
    auto r = RunSubprocess({.argv = argv, .timeout = absl::Seconds(20)});
    if (!r.ok()) return r.status();
    if (r->exit_code != 0 || r->signaled || r->timed_out) {
      return absl::InternalError(
          absl::StrCat(absl::StrJoin(argv, " "), " failed: ", r->err));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = run({"netns", "add", name}); !s.ok()) return s;
  // From here on the destructor removes the namespace, whatever fails.
  std::unique_ptr<PrivateNetns> ns(new PrivateNetns(ip, name, tap));
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"link", "set", "lo", "up"},
           {"tuntap", "add", tap, "mode", "tap"},
           {"addr", "add", cidr, "dev", tap},
           {"link", "set", tap, "up"},
       }) {
    cmd.insert(cmd.begin(), {"netns", "exec", name, ip});
    if (absl::Status s = run(cmd); !s.ok()) return s;
  }
  return ns;
}

PrivateNetns::~PrivateNetns() {
  (void)RunSubprocess(
      {.argv = {ip_, "netns", "del", name_}, .timeout = absl::Seconds(20)});
}

std::vector<std::string> PrivateNetns::Wrap(
    const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {ip_, "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

absl::StatusOr<SubprocessResult> PrivateNetns::Run(
    const std::vector<std::string>& argv, absl::Duration timeout) const {
  return RunSubprocess({.argv = Wrap(argv), .timeout = timeout});
}

}  // namespace ft::testing
