// Tests for common/mapped_region.h.
#include "common/mapped_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace ft {
namespace {

static_assert(!std::is_copy_constructible_v<MappedRegion>);
static_assert(!std::is_copy_assignable_v<MappedRegion>);
static_assert(std::is_nothrow_move_constructible_v<MappedRegion>);
static_assert(std::is_nothrow_move_assignable_v<MappedRegion>);

const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));

// True if [addr, addr + len) is currently mapped in this process. msync(2)
// fails with ENOMEM on unmapped ranges.
bool IsMapped(const void* addr, size_t len) {
  return ::msync(const_cast<void*>(addr), len, MS_ASYNC) == 0;
}

// A temporary file holding `content`, unlinked already; returns its fd.
UniqueFd TempFileWith(const std::string& content) {
  int fd = ::memfd_create("mapped_region_test", MFD_CLOEXEC);
  if (fd < 0) {  // memfd unavailable: fall back to an unlinked temp file.
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir ? dir : "/tmp") + "/mrtestXXXXXX";
    fd = ::mkstemp(path.data());
    EXPECT_GE(fd, 0) << std::strerror(errno);
    if (fd >= 0) ::unlink(path.c_str());
  }
  UniqueFd owned(fd);
  if (fd >= 0) {
    EXPECT_EQ(::pwrite(fd, content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
  }
  return owned;
}

TEST(MappedRegionTest, DefaultIsInvalid) {
  MappedRegion r;
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.data(), nullptr);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(r.bytes().empty());
}

TEST(MappedRegionTest, AnonymousIsZeroFilledAndWritable) {
  const size_t size = 4 * kPage;
  absl::StatusOr<MappedRegion> r = MappedRegion::Anonymous({.size = size});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->valid());
  EXPECT_EQ(r->size(), size);
  EXPECT_EQ(r->bytes().size(), size);
  EXPECT_EQ(r->bytes().data(), r->data());
  for (uint8_t b : r->bytes()) ASSERT_EQ(b, 0);
  std::memset(r->data(), 0xA5, size);
  EXPECT_EQ(r->data()[0], 0xA5);
  EXPECT_EQ(r->data()[size - 1], 0xA5);
}

TEST(MappedRegionTest, AnonymousWithReserve) {
  absl::StatusOr<MappedRegion> r =
      MappedRegion::Anonymous({.size = kPage, .no_reserve = false});
  ASSERT_TRUE(r.ok()) << r.status();
  r->data()[kPage - 1] = 7;
  EXPECT_EQ(r->bytes()[kPage - 1], 7);
}

TEST(MappedRegionTest, AnonymousRejectsEmpty) {
  absl::StatusOr<MappedRegion> r = MappedRegion::Anonymous({.size = 0});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MappedRegionTest, AnonymousHugeSizeFailsCleanly) {
  // Larger than any address space: mmap fails and the error is reported.
  absl::StatusOr<MappedRegion> r =
      MappedRegion::Anonymous({.size = SIZE_MAX & ~(kPage - 1)});
  EXPECT_FALSE(r.ok());
}

TEST(MappedRegionTest, DestructorUnmaps) {
  uint8_t* addr;
  {
    absl::StatusOr<MappedRegion> r = MappedRegion::Anonymous({.size = kPage});
    ASSERT_TRUE(r.ok()) << r.status();
    addr = r->data();
    EXPECT_TRUE(IsMapped(addr, kPage));
  }
  EXPECT_FALSE(IsMapped(addr, kPage));
}

TEST(MappedRegionTest, MoveConstructUnmapsExactlyOnce) {
  absl::StatusOr<MappedRegion> r = MappedRegion::Anonymous({.size = kPage});
  ASSERT_TRUE(r.ok()) << r.status();
  uint8_t* addr = r->data();
  addr[0] = 1;
  {
    MappedRegion moved(std::move(*r));
    EXPECT_EQ(moved.data(), addr);
    EXPECT_EQ(moved.size(), kPage);
    EXPECT_FALSE(r->valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(r->size(), 0u);  // NOLINT(bugprone-use-after-move)
    // Destroying the moved-from source must leave the mapping alone.
    r = absl::StatusOr<MappedRegion>(MappedRegion());
    ASSERT_TRUE(IsMapped(addr, kPage));
    EXPECT_EQ(moved.data()[0], 1);
  }
  EXPECT_FALSE(IsMapped(addr, kPage));
}

TEST(MappedRegionTest, MoveAssignUnmapsTheOldMapping) {
  absl::StatusOr<MappedRegion> a = MappedRegion::Anonymous({.size = kPage});
  absl::StatusOr<MappedRegion> b = MappedRegion::Anonymous({.size = 2 * kPage});
  ASSERT_TRUE(a.ok() && b.ok());
  uint8_t* old_addr = a->data();
  uint8_t* new_addr = b->data();
  *a = std::move(*b);
  EXPECT_FALSE(IsMapped(old_addr, kPage));
  EXPECT_EQ(a->data(), new_addr);
  EXPECT_EQ(a->size(), 2 * kPage);
  EXPECT_FALSE(b->valid());  // NOLINT(bugprone-use-after-move)
  b = absl::StatusOr<MappedRegion>(MappedRegion());
  EXPECT_TRUE(IsMapped(new_addr, 2 * kPage));
}

TEST(MappedRegionTest, SelfMoveAssignKeepsMapping) {
  absl::StatusOr<MappedRegion> r = MappedRegion::Anonymous({.size = kPage});
  ASSERT_TRUE(r.ok());
  uint8_t* addr = r->data();
  MappedRegion& alias = *r;
  *r = std::move(alias);
  EXPECT_EQ(r->data(), addr);
  EXPECT_EQ(r->size(), kPage);
  EXPECT_TRUE(IsMapped(addr, kPage));
}

TEST(MappedRegionTest, OfFileSeesContent) {
  std::string content(kPage, '\0');
  const std::string text = "hello from the file";
  std::memcpy(content.data(), text.data(), text.size());
  content[kPage - 1] = 'Z';
  UniqueFd fd = TempFileWith(content);
  ASSERT_TRUE(fd.valid());
  absl::StatusOr<MappedRegion> r =
      MappedRegion::OfFile({.fd = fd.get(), .size = kPage});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->data()), text.size()),
            text);
  EXPECT_EQ(r->data()[kPage - 1], 'Z');
}

TEST(MappedRegionTest, OfFileWritableSharedWritesThrough) {
  UniqueFd fd = TempFileWith(std::string(2 * kPage, 'a'));
  ASSERT_TRUE(fd.valid());
  absl::StatusOr<MappedRegion> r =
      MappedRegion::OfFile({.fd = fd.get(),
                            .size = kPage,
                            .offset = static_cast<off_t>(kPage),
                            .writable = true,
                            .shared = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->data()[0], 'a');
  r->data()[0] = 'b';
  char back = 0;
  ASSERT_EQ(::pread(fd.get(), &back, 1, static_cast<off_t>(kPage)), 1);
  EXPECT_EQ(back, 'b');
}

TEST(MappedRegionTest, OfFilePrivateDoesNotWriteThrough) {
  UniqueFd fd = TempFileWith(std::string(kPage, 'a'));
  ASSERT_TRUE(fd.valid());
  absl::StatusOr<MappedRegion> r = MappedRegion::OfFile(
      {.fd = fd.get(), .size = kPage, .writable = true, .shared = false});
  ASSERT_TRUE(r.ok()) << r.status();
  r->data()[0] = 'b';
  char back = 0;
  ASSERT_EQ(::pread(fd.get(), &back, 1, 0), 1);
  EXPECT_EQ(back, 'a');
}

TEST(MappedRegionTest, OfFileRejectsBadFd) {
  absl::StatusOr<MappedRegion> neg =
      MappedRegion::OfFile({.fd = -1, .size = kPage});
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument);

  // A descriptor number that is not open: mmap fails with EBADF.
  int closed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(closed, 0);
  ::close(closed);
  absl::StatusOr<MappedRegion> bad =
      MappedRegion::OfFile({.fd = closed, .size = kPage});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fd"), std::string::npos)
      << bad.status();
}

TEST(MappedRegionTest, OfFileRejectsEmpty) {
  UniqueFd fd = TempFileWith("x");
  ASSERT_TRUE(fd.valid());
  absl::StatusOr<MappedRegion> r =
      MappedRegion::OfFile({.fd = fd.get(), .size = 0});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MappedRegionTest, OfFileReadOnlyFdCannotMapWritableShared) {
  UniqueFd rw = TempFileWith(std::string(kPage, 'r'));
  ASSERT_TRUE(rw.valid());
  const std::string path = "/proc/self/fd/" + std::to_string(rw.get());
  UniqueFd ro(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ro.valid()) << std::strerror(errno);
  absl::StatusOr<MappedRegion> readable =
      MappedRegion::OfFile({.fd = ro.get(), .size = kPage});
  ASSERT_TRUE(readable.ok()) << readable.status();
  EXPECT_EQ(readable->data()[0], 'r');
  absl::StatusOr<MappedRegion> writable = MappedRegion::OfFile(
      {.fd = ro.get(), .size = kPage, .writable = true, .shared = true});
  EXPECT_EQ(writable.status().code(), absl::StatusCode::kPermissionDenied)
      << writable.status();
}

}  // namespace
}  // namespace ft
