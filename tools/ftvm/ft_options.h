// Options shared by `ftvm primary` and `ftvm secondary`: the FT network
// address, the shared secret, plaintext mode.
#ifndef FTVM_TOOLS_FTVM_FT_OPTIONS_H_
#define FTVM_TOOLS_FTVM_FT_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ft {

struct HostPort {
  std::string host;  // an IP literal (no brackets)
  uint16_t port = 0;
};

// "198.18.0.2:7400" or "[fd00::2]:7400". Host names are refused: the FT
// path must not depend on a resolver.
absl::StatusOr<HostPort> ParseHostPort(const std::string& text);

// The shared secret in `path`: its first line, at least 16 bytes. Refuses a
// file that other users can read.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace ft

#endif  // FTVM_TOOLS_FTVM_FT_OPTIONS_H_
