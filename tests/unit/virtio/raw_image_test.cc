// Tests for vmm/virtio/raw_image.h and the file back end of
// vmm/virtio/blk_backend.h.
#include "vmm/virtio/raw_image.h"

#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vmm/events/async_event.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

class RawImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/raw_image_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string MakeFile(const std::string& name, size_t size) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << std::string(size, 'a');
    return path;
  }
  void ExpectError(const RawImage::Options& options, absl::StatusCode code,
                   const std::string& text) {
    absl::StatusOr<RawImage> image = RawImage::Open(options);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), code) << image.status();
    EXPECT_THAT(image.status().message(), HasSubstr(text));
  }

  std::string dir_;
};

TEST_F(RawImageTest, OpensAndReportsCapacity) {
  absl::StatusOr<RawImage> image =
      RawImage::Open({.path = MakeFile("disk.img", 8192)});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->size_bytes(), 8192u);
  EXPECT_EQ(image->sectors(), 16u);
  EXPECT_FALSE(image->read_only());
}

TEST_F(RawImageTest, ClearErrors) {
  ExpectError({.path = dir_ + "/missing.img"}, absl::StatusCode::kNotFound,
              "does not exist");
  ExpectError({.path = ""}, absl::StatusCode::kInvalidArgument, "empty");
  ExpectError({.path = dir_}, absl::StatusCode::kInvalidArgument,
              "not a regular file");
  ExpectError({.path = dir_, .read_only = true},
              absl::StatusCode::kInvalidArgument, "not a regular file");
  ExpectError({.path = MakeFile("odd.img", 1000)},
              absl::StatusCode::kInvalidArgument,
              "not a multiple of the 512-byte sector");
  ExpectError({.path = MakeFile("empty.img", 0)},
              absl::StatusCode::kInvalidArgument, "is empty");
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Must fail, not block waiting for a writer.
  ExpectError({.path = fifo, .read_only = true},
              absl::StatusCode::kInvalidArgument, "not a regular file");
}

// What opening a read-only image gives, as a number a child process can
// exit with: 0 when a read-write open is refused naming --disk readonly and
// a read-only open works.
int CheckReadOnlyImage(const std::string& path) {
  absl::StatusOr<RawImage> rw = RawImage::Open({.path = path});
  if (rw.ok()) return 1;
  if (rw.status().code() != absl::StatusCode::kPermissionDenied) return 2;
  if (rw.status().message().find("readonly") == absl::string_view::npos) {
    return 3;
  }
  if (!RawImage::Open({.path = path, .read_only = true}).ok()) return 4;
  return 0;
}

TEST_F(RawImageTest, PermissionDenied) {
  const std::string path = MakeFile("locked.img", 512);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  if (geteuid() != 0) {
    EXPECT_EQ(CheckReadOnlyImage(path), 0);
    return;
  }
  // Root bypasses file permissions (as CI runs): the check runs in a child
  // that has become nobody.
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    constexpr uid_t kNobody = 65534;
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 ||
        setuid(kNobody) != 0) {
      _exit(10);
    }
    _exit(CheckReadOnlyImage(path));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  // 1: opened read-write; 2: another error; 3: not naming readonly; 4: the
  // read-only open failed; 10: could not become nobody.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(RawImageTest, ReadWriteFlushAndBounds) {
  const std::string path = MakeFile("disk.img", 2048);
  absl::StatusOr<RawImage> image = RawImage::Open({.path = path});
  ASSERT_TRUE(image.ok());
  const std::vector<uint8_t> data(512, 0x7e);
  ASSERT_TRUE(image->WriteAt(1024, data).ok());
  ASSERT_TRUE(image->Flush().ok());
  std::vector<uint8_t> out(512);
  ASSERT_TRUE(image->ReadAt(1024, out).ok());
  EXPECT_EQ(out, data);
  std::vector<uint8_t> big(1024);
  EXPECT_EQ(image->ReadAt(1536, big).code(), absl::StatusCode::kOutOfRange);
  std::vector<uint8_t> buf(1);
  EXPECT_EQ(image->ReadAt(~0ull, buf).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(image->WriteAt(2048, buf).code(), absl::StatusCode::kOutOfRange);

  absl::StatusOr<RawImage> ro =
      RawImage::Open({.path = path, .read_only = true});
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(ro->read_only());
  EXPECT_EQ(ro->WriteAt(0, data).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ro->ReadAt(1024, out).ok());
  EXPECT_EQ(out, data);
}

TEST_F(RawImageTest, DescriptorIsCloseOnExec) {
  const std::string path = MakeFile("disk.img", 512);
  // The image's descriptor is the lowest free one when opened now.
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  ::close(probe);
  absl::StatusOr<RawImage> image = RawImage::Open({.path = path});
  ASSERT_TRUE(image.ok());
  const int flags = ::fcntl(probe, F_GETFD);
  ASSERT_GE(flags, 0);
  EXPECT_NE(flags & FD_CLOEXEC, 0);
  EXPECT_EQ(::fcntl(probe, F_GETFL) & O_NONBLOCK, 0);
}

// A sink that collects completions posted by the back end's thread.
class Collector : public AsyncEventSink {
 public:
  void OnAsyncEvent(const AsyncEvent& event) override {
    auto c = DecodeBlockCompletion(event.data);
    FT_CHECK_OK(c.status());
    completions.push_back(std::move(*c));
  }
  std::vector<BlockCompletion> completions;
};

TEST_F(RawImageTest, FileBackendRunsRequestsInOrder) {
  const std::string path = MakeFile("disk.img", 4096);
  absl::StatusOr<RawImage> image = RawImage::Open({.path = path});
  ASSERT_TRUE(image.ok());
  AsyncEventQueue events;
  Collector collector;
  const uint32_t source = events.Register(&collector);
  {
    FileBlockBackend backend(std::move(*image));
    EXPECT_EQ(backend.size_bytes(), 4096u);
    backend.Connect(AsyncEventPoster(&events, source));
    backend.Submit({.id = 1,
                    .op = BlockRequest::Op::kWrite,
                    .offset = 512,
                    .data = std::vector<uint8_t>(512, 'z')});
    backend.Submit({.id = 2, .op = BlockRequest::Op::kFlush});
    backend.Submit(
        {.id = 3, .op = BlockRequest::Op::kRead, .offset = 256, .length = 512});
    backend.Submit({.id = 4,
                    .op = BlockRequest::Op::kRead,
                    .offset = 4000,
                    .length = 512});
    // The destructor finishes the queue before joining.
  }
  events.DeliverPending();
  ASSERT_EQ(collector.completions.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(collector.completions[i].id, i + 1);
  }
  EXPECT_EQ(collector.completions[0].status, virtio::blk::kStatusOk);
  EXPECT_EQ(collector.completions[1].status, virtio::blk::kStatusOk);
  const BlockCompletion& read = collector.completions[2];
  EXPECT_EQ(read.status, virtio::blk::kStatusOk);
  ASSERT_EQ(read.data.size(), 512u);
  EXPECT_EQ(read.data[0], 'a');
  EXPECT_EQ(read.data[255], 'a');
  EXPECT_EQ(read.data[256], 'z');
  EXPECT_EQ(collector.completions[3].status, virtio::blk::kStatusIoErr);
  EXPECT_TRUE(collector.completions[3].data.empty());
}

}  // namespace
}  // namespace ft::vmm
