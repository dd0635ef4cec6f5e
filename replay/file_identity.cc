#include "replay/file_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace ft::replay {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

absl::StatusOr<FileIdentity> IdentifyFile(const std::string& path, bool hash) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "opening " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat " + path);
  FileIdentity id{.path = path,
                  .size_bytes = static_cast<uint64_t>(st.st_size)};
  if (!hash) return id;

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("libcrypto: cannot set up SHA-256");
  }
  std::vector<uint8_t> buf(size_t{1} << 20);
  uint64_t total = 0;
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "reading " + path);
    }
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n)) != 1) {
      return absl::InternalError("libcrypto: SHA-256 update failed");
    }
    total += static_cast<uint64_t>(n);
  }
  if (total != id.size_bytes) {
    return absl::AbortedError(absl::StrFormat(
        "%s changed while it was hashed (%u bytes at open, %u read): retry "
        "once nothing writes to it",
        path, id.size_bytes, total));
  }
  id.sha256.resize(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), id.sha256.data(), &len) != 1) {
    return absl::InternalError("libcrypto: SHA-256 final failed");
  }
  id.sha256.resize(len);
  return id;
}

}  // namespace ft::replay
