// Tests for common/unique_fd.h.
#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"

namespace ft {
namespace {

static_assert(!std::is_copy_constructible_v<UniqueFd>);
static_assert(!std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(std::is_nothrow_move_assignable_v<UniqueFd>);
static_assert(!std::is_convertible_v<int, UniqueFd>);  // explicit
static_assert(!std::is_convertible_v<UniqueFd, int>);

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

bool IsClosed(int fd) {
  errno = 0;
  return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// A fresh descriptor on /dev/null; fails the test if it cannot be opened.
int OpenDevNull() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

TEST(UniqueFdTest, DefaultIsInvalid) {
  UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
  UniqueFd none(-1);
  EXPECT_FALSE(none.valid());
}

TEST(UniqueFdTest, ClosesOnDestruction) {
  int raw = OpenDevNull();
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(static_cast<bool>(fd));
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_TRUE(IsClosed(raw));
}

TEST(UniqueFdTest, MoveConstructTransfersOwnership) {
  int raw = OpenDevNull();
  UniqueFd a(raw);
  {
    UniqueFd b(std::move(a));
    EXPECT_EQ(b.get(), raw);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.get(), -1);   // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(IsOpen(raw));
  }
  // b closed it; destroying a later must not close anything.
  EXPECT_TRUE(IsClosed(raw));
}

TEST(UniqueFdTest, MovedFromDoesNotCloseReusedNumber) {
  int raw = OpenDevNull();
  UniqueFd a(raw);
  UniqueFd b(std::move(a));
  b.Reset();
  // The kernel hands out the lowest free number, so this reuses `raw`.
  int reused = OpenDevNull();
  ASSERT_EQ(reused, raw);
  a = UniqueFd();  // destroying/resetting the moved-from object
  { UniqueFd gone(std::move(a)); }
  EXPECT_TRUE(IsOpen(reused));
  ::close(reused);
}

TEST(UniqueFdTest, MoveAssignClosesPreviousDescriptor) {
  int first = OpenDevNull();
  int second = OpenDevNull();
  UniqueFd a(first);
  UniqueFd b(second);
  a = std::move(b);
  EXPECT_TRUE(IsClosed(first));
  EXPECT_TRUE(IsOpen(second));
  EXPECT_EQ(a.get(), second);
  EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)
}

TEST(UniqueFdTest, MoveAssignFromEmptyClosesCurrent) {
  int raw = OpenDevNull();
  UniqueFd a(raw);
  UniqueFd empty;
  a = std::move(empty);
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(IsClosed(raw));
}

TEST(UniqueFdTest, SelfMoveAssignKeepsDescriptor) {
  int raw = OpenDevNull();
  UniqueFd a(raw);
  UniqueFd& alias = a;  // hides the self-move from -Wself-move
  a = std::move(alias);
  EXPECT_EQ(a.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
  a.Reset();
  EXPECT_TRUE(IsClosed(raw));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnershipWithoutClosing) {
  int raw = OpenDevNull();
  int released;
  {
    UniqueFd fd(raw);
    released = fd.Release();
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_EQ(released, raw);
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFdTest, ReleaseOnEmptyReturnsMinusOne) {
  UniqueFd fd;
  EXPECT_EQ(fd.Release(), -1);
}

TEST(UniqueFdTest, ResetClosesAndAdopts) {
  int first = OpenDevNull();
  int second = OpenDevNull();
  UniqueFd fd(first);
  fd.Reset(second);
  EXPECT_TRUE(IsClosed(first));
  EXPECT_TRUE(IsOpen(second));
  EXPECT_EQ(fd.get(), second);
  fd.Reset();
  EXPECT_TRUE(IsClosed(second));
  EXPECT_FALSE(fd.valid());
  fd.Reset();  // resetting an empty fd is a no-op
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFdTest, ResetToSameDescriptorKeepsItOpen) {
  int raw = OpenDevNull();
  UniqueFd fd(raw);
  fd.Reset(raw);
  EXPECT_EQ(fd.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

}  // namespace
}  // namespace ft
