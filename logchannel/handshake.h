// The handshake that opens a log channel (docs/logchannel.md, "Handshake").
//
// Both sides send a HELLO at once (versions, role, a fresh random nonce,
// whether they want encryption, their receive window) and read the peer's.
// Each checks the roles (one primary, one secondary), picks the highest
// protocol version both support, and checks that both want the same
// encryption setting; on a mismatch it sends a CLOSE saying why and fails,
// so that both sides report a clear error. Then each sends a HELLO_REPLY
// with the chosen version and a proof that it knows the shared secret: an
// HKDF-SHA256 output keyed by the secret over the transcript (both HELLOs and
// the version) and labelled with its role. The secret itself never travels.
// A proof that does not verify means a wrong secret (or a tampered
// handshake). Session keys, one per direction, come from the same HKDF with
// other labels, so they are fresh for each connection.
//
// Stateless functions; RunHandshake blocks the calling thread on the
// transport.
#ifndef FTVM_LOGCHANNEL_HANDSHAKE_H_
#define FTVM_LOGCHANNEL_HANDSHAKE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "logchannel/crypto.h"
#include "logchannel/record.h"
#include "logchannel/record_decoder.h"
#include "logchannel/transport.h"

namespace ft::logchannel {

// A secret shorter than this is refused: it could be guessed offline from a
// recorded handshake.
inline constexpr size_t kMinSecretBytes = 16;

struct HandshakeOptions {
  Role role = Role::kPrimary;
  std::string secret;
  bool encrypt = true;
  // Offered, in any order; the highest common one is chosen.
  std::vector<uint16_t> versions = SpokenProtocolVersions();
  uint64_t receive_window_bytes = uint64_t{256} << 20;
  absl::Time deadline = absl::InfiniteFuture();
};

struct HandshakeResult {
  uint16_t version = 0;
  Role peer_role = Role::kSecondary;
  bool encrypted = true;
  uint64_t peer_receive_window_bytes = 0;
  crypto::Key send_key{};
  crypto::Key receive_key{};
  // Holds any bytes the peer sent after its HELLO_REPLY.
  RecordDecoder decoder;
};

// Checks options before anything is sent: the secret's length, the roles,
// the versions (1 to kMaxVersions, distinct, non-zero) and the window.
absl::Status ValidateHandshakeOptions(const HandshakeOptions& options);

// The highest version in both lists; FailedPrecondition naming both lists
// otherwise.
absl::StatusOr<uint16_t> NegotiateVersion(std::span<const uint16_t> ours,
                                          std::span<const uint16_t> theirs);

// What both sides derive from the secret and the two HELLO bodies.
struct SessionSecrets {
  crypto::Key primary_proof{};
  crypto::Key secondary_proof{};
  crypto::Key primary_to_secondary{};
  crypto::Key secondary_to_primary{};
};
absl::StatusOr<SessionSecrets> DeriveSessionSecrets(
    std::span<const uint8_t> secret, std::span<const uint8_t> primary_hello,
    std::span<const uint8_t> secondary_hello, uint16_t version);

// Runs the handshake on `transport` as `options.role`. Errors, each with a
// message naming the peer and what to fix: Unauthenticated for a wrong
// secret; FailedPrecondition for no common version, an encryption mismatch
// or two sides with the same role (or the same errors reported by the peer
// in a CLOSE); DataLoss for garbage; Unavailable if the peer disconnects;
// DeadlineExceeded. On failure the transport may have been written to and
// should be dropped.
absl::StatusOr<HandshakeResult> RunHandshake(Transport& transport,
                                             const HandshakeOptions& options);

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_HANDSHAKE_H_
