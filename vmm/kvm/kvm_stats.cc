#include "vmm/kvm/kvm_stats.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ft::vmm {
namespace {

// The C layout of kvm_stats_desc without its flexible name (Debian's uapi
// header gives it a different size in C++; see kvm_abi.h).
struct DescHeader {
  uint32_t flags;
  int16_t exponent;
  uint16_t size;  // number of u64 values
  uint32_t offset;
  uint32_t bucket_size;
};
static_assert(sizeof(DescHeader) == 16);

// Descriptors are a few hundred bytes each, a few dozen per object.
constexpr uint32_t kMaxDescriptors = 4096;
constexpr uint32_t kMaxNameSize = 256;

absl::Status PreadExact(int fd, void* buf, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, static_cast<char*>(buf) + done, len - done,
                        static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "reading KVM stats");
    if (n == 0) return absl::DataLossError("KVM stats fd ended early");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KvmStats> KvmStats::Open(int object_fd) {
  int fd = ::ioctl(object_fd, KVM_GET_STATS_FD, nullptr);
  if (fd < 0) {
    if (errno == ENOTTY || errno == EINVAL) {
      return absl::UnimplementedError(
          "this kernel has no KVM binary statistics (Linux 5.14 or later)");
    }
    return ErrnoStatus(errno, "KVM_GET_STATS_FD");
  }
  UniqueFd owned(fd);
  kvm_stats_header header;
  FT_RETURN_IF_ERROR(PreadExact(fd, &header, sizeof(header), 0));
  if (header.num_desc > kMaxDescriptors || header.name_size > kMaxNameSize ||
      header.name_size == 0) {
    return absl::DataLossError(
        absl::StrCat("implausible KVM stats header: ", header.num_desc,
                     " descriptors, ", header.name_size, "-byte names"));
  }
  const size_t desc_size = sizeof(DescHeader) + header.name_size;
  std::vector<char> table(desc_size * header.num_desc);
  FT_RETURN_IF_ERROR(
      PreadExact(fd, table.data(), table.size(), header.desc_offset));
  std::map<std::string, Desc> descs;
  for (uint32_t i = 0; i < header.num_desc; ++i) {
    const char* p = table.data() + i * desc_size;
    DescHeader d;
    std::memcpy(&d, p, sizeof(d));
    // Scalars only: histograms (size > 1) are not needed here.
    if (d.size != 1) continue;
    const char* name = p + sizeof(DescHeader);
    descs.emplace(std::string(name, strnlen(name, header.name_size)),
                  Desc{uint64_t{header.data_offset} + d.offset});
  }
  return KvmStats(std::move(owned), std::move(descs));
}

std::vector<std::string> KvmStats::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, desc] : descs_) names.push_back(name);
  return names;
}

absl::StatusOr<uint64_t> KvmStats::Read(const std::string& name) const {
  auto it = descs_.find(name);
  if (it == descs_.end()) {
    return absl::NotFoundError(absl::StrCat("no KVM statistic '", name, "'"));
  }
  uint64_t value;
  FT_RETURN_IF_ERROR(
      PreadExact(fd_.get(), &value, sizeof(value), it->second.data_offset));
  return value;
}

absl::StatusOr<std::map<std::string, uint64_t>> KvmStats::ReadAll() const {
  std::map<std::string, uint64_t> all;
  for (const auto& [name, desc] : descs_) {
    FT_ASSIGN_OR_RETURN(all[name], Read(name));
  }
  return all;
}

}  // namespace ft::vmm
