// The identity of a file the log depends on (the kernel, a disk image): its
// size and SHA-256, so that a replayer can refuse to run against different
// contents.
#ifndef FTVM_REPLAY_FILE_IDENTITY_H_
#define FTVM_REPLAY_FILE_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "replay/log_entry.h"

namespace ft::replay {

// Reads `path` once: its size and, if `hash`, the SHA-256 of its contents
// (OpenSSL's libcrypto). Without `hash`, sha256 stays empty (for disk images
// too large to hash at start).
absl::StatusOr<FileIdentity> IdentifyFile(const std::string& path,
                                          bool hash = true);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_FILE_IDENTITY_H_
