// The cryptography of the log channel, on OpenSSL's EVP interface (Debian's
// libssl3): random nonces, SHA-256, HKDF-SHA256, constant-time comparison
// and AES-256-GCM. Nothing here is specific to records; see session_codec.h
// and handshake.h for how it is used, and docs/logchannel.md for why.
//
// Stateless functions: any thread. AesGcm: one thread at a time.
#ifndef FTVM_LOGCHANNEL_CRYPTO_H_
#define FTVM_LOGCHANNEL_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace ft::logchannel::crypto {

inline constexpr size_t kKeyBytes = 32;       // AES-256, HMAC-SHA256 output
inline constexpr size_t kGcmNonceBytes = 12;  // the GCM standard IV size
inline constexpr size_t kGcmTagBytes = 16;
using Key = std::array<uint8_t, kKeyBytes>;
using Digest = std::array<uint8_t, 32>;
using GcmNonce = std::array<uint8_t, kGcmNonceBytes>;

// Fills `out` from the OS-seeded CSPRNG.
absl::Status RandomBytes(std::span<uint8_t> out);

Digest Sha256(std::span<const uint8_t> data);

// HKDF (RFC 5869) with SHA-256: `length` bytes from input keying material
// `ikm`, `salt` and `info`.
absl::StatusOr<std::vector<uint8_t>> HkdfSha256(std::span<const uint8_t> ikm,
                                                std::span<const uint8_t> salt,
                                                std::span<const uint8_t> info,
                                                size_t length);

// Equal sizes and bytes, in time that does not depend on where they differ.
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

// AES-256-GCM with one key, for one direction: sealing or opening. The key
// schedule is set up once; each call takes its own nonce, which the caller
// must never repeat under the key.
class AesGcm {
 public:
  enum class Mode { kSeal, kOpen };
  static absl::StatusOr<AesGcm> Create(const Key& key, Mode mode);
  AesGcm(AesGcm&&) noexcept;
  AesGcm& operator=(AesGcm&&) noexcept;
  ~AesGcm();

  // Appends the encryption of `plaintext` and then the tag to `out`;
  // `aad` is authenticated, not encrypted. Needs kSeal.
  absl::Status Seal(const GcmNonce& nonce, std::span<const uint8_t> aad,
                    std::span<const uint8_t> plaintext,
                    std::vector<uint8_t>& out);
  // Checks the tag at the end of `sealed` over `aad` and the ciphertext and
  // appends the plaintext to `out`. DataLoss if the tag does not match (then
  // nothing is appended). Needs kOpen.
  absl::Status Open(const GcmNonce& nonce, std::span<const uint8_t> aad,
                    std::span<const uint8_t> sealed, std::vector<uint8_t>& out);

 private:
  struct CtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const;
  };
  AesGcm(std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx, Mode mode)
      : ctx_(std::move(ctx)), mode_(mode) {}

  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
  Mode mode_;
};

}  // namespace ft::logchannel::crypto

#endif  // FTVM_LOGCHANNEL_CRYPTO_H_
