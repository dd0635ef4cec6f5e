#include "tools/ftvm/ft_options.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "logchannel/handshake.h"

namespace ft {

absl::StatusOr<HostPort> ParseHostPort(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'%s': expected [IPV6]:PORT, e.g. [fd00::2]:7400", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'%s': expected ADDRESS:PORT, e.g. 198.18.0.2:7400", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  in6_addr v6;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
      inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "'%s' is not an IP address (host names are not resolved on the FT "
        "path)",
        host));
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(port, &p) || p == 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a port (1..65535)", port));
  }
  return HostPort{.host = host, .port = static_cast<uint16_t>(p)};
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrFormat("secret file %s", path));
  }
  if ((st.st_mode & 0077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "secret file %s can be read by other users (mode %03o): chmod 600 it",
        path, st.st_mode & 0777));
  }
  std::ifstream in(path);
  std::string secret;
  if (!in || !std::getline(in, secret)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("secret file %s is empty or unreadable", path));
  }
  if (secret.size() < logchannel::kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the secret in %s is %u bytes; at least %u are needed (e.g. "
        "`openssl rand -hex 32 > %s`)",
        path, secret.size(), logchannel::kMinSecretBytes, path));
  }
  return secret;
}

}  // namespace ft
