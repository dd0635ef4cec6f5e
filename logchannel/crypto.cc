#include "logchannel/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace ft::logchannel::crypto {
namespace {

// An Internal error with OpenSSL's queued reasons (and the queue emptied, so
// that they are not blamed on a later call).
absl::Status OpenSslError(const char* what) {
  std::string reasons;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", buf);
  }
  return absl::InternalError(absl::StrCat(
      "OpenSSL ", what, " failed", reasons.empty() ? "" : ": ", reasons));
}

int IntSize(size_t n) {
  FT_CHECK(n <= INT_MAX) << "crypto buffer of " << n << " bytes";
  return static_cast<int>(n);
}

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

}  // namespace

absl::Status RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), IntSize(out.size())) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return absl::OkStatus();
}

Digest Sha256(std::span<const uint8_t> data) {
  Digest d{};
  unsigned int len = 0;
  // EVP_Digest with a built-in digest only fails on allocation failure.
  FT_CHECK(EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(),
                      nullptr) == 1 &&
           len == d.size())
      << "EVP_Digest(SHA-256)";
  return d;
}

absl::StatusOr<std::vector<uint8_t>> HkdfSha256(std::span<const uint8_t> ikm,
                                                std::span<const uint8_t> salt,
                                                std::span<const uint8_t> info,
                                                size_t length) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_id(HKDF)");
  std::vector<uint8_t> out(length);
  size_t out_len = length;
  if (EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt.data(),
                                  IntSize(salt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm.data(), IntSize(ikm.size())) <=
          0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), info.data(),
                                  IntSize(info.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &out_len) <= 0 ||
      out_len != length) {
    return OpenSslError("HKDF-SHA256");
  }
  return out;
}

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void AesGcm::CtxFree::operator()(EVP_CIPHER_CTX* ctx) const {
  EVP_CIPHER_CTX_free(ctx);
}

AesGcm::AesGcm(AesGcm&&) noexcept = default;
AesGcm& AesGcm::operator=(AesGcm&&) noexcept = default;
AesGcm::~AesGcm() = default;

absl::StatusOr<AesGcm> AesGcm::Create(const Key& key, Mode mode) {
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  // The key is set once here; each record only sets its nonce.
  const int ok = mode == Mode::kSeal
                     ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                          key.data(), nullptr)
                     : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                          key.data(), nullptr);
  if (ok != 1) return OpenSslError("AES-256-GCM key setup");
  return AesGcm(std::move(ctx), mode);
}

absl::Status AesGcm::Seal(const GcmNonce& nonce, std::span<const uint8_t> aad,
                          std::span<const uint8_t> plaintext,
                          std::vector<uint8_t>& out) {
  FT_CHECK(mode_ == Mode::kSeal) << "Seal on an opening AesGcm";
  EVP_CIPHER_CTX* ctx = ctx_.get();
  const size_t start = out.size();
  out.resize(start + plaintext.size() + kGcmTagBytes);
  uint8_t* ct = out.data() + start;
  int len = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(),
                                         IntSize(aad.size())) != 1) ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx, ct, &len, plaintext.data(),
                         IntSize(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, ct + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                          ct + plaintext.size()) != 1) {
    out.resize(start);
    return OpenSslError("AES-256-GCM seal");
  }
  return absl::OkStatus();
}

absl::Status AesGcm::Open(const GcmNonce& nonce, std::span<const uint8_t> aad,
                          std::span<const uint8_t> sealed,
                          std::vector<uint8_t>& out) {
  FT_CHECK(mode_ == Mode::kOpen) << "Open on a sealing AesGcm";
  if (sealed.size() < kGcmTagBytes) {
    return absl::DataLossError("sealed data shorter than its tag");
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  const size_t ct_len = sealed.size() - kGcmTagBytes;
  const size_t start = out.size();
  out.resize(start + ct_len);
  uint8_t* pt = out.data() + start;
  // OpenSSL takes the expected tag through a non-const pointer.
  std::array<uint8_t, kGcmTagBytes> tag{};
  std::copy(sealed.begin() + ct_len, sealed.end(), tag.begin());
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(),
                                         IntSize(aad.size())) != 1) ||
      (ct_len > 0 &&
       EVP_DecryptUpdate(ctx, pt, &len, sealed.data(), IntSize(ct_len)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes,
                          tag.data()) != 1) {
    out.resize(start);
    return OpenSslError("AES-256-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx, pt + ct_len, &len) != 1) {
    // The tag did not match: not an OpenSSL failure, a forged or damaged
    // record. The plaintext written so far is discarded.
    ERR_clear_error();
    out.resize(start);
    return absl::DataLossError("authentication tag mismatch");
  }
  return absl::OkStatus();
}

}  // namespace ft::logchannel::crypto
