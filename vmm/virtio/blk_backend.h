// Block back ends: what a virtio-blk device asks of its storage
// (BlockRequest), the interface that carries it out (BlockBackend), and how
// the answer returns to the device (a BlockCompletion inside an AsyncEvent).
//
// Record/replay: a completion is a nondeterministic input (when it arrives,
// and for a read, what the disk held). It therefore carries the read data
// itself, not a reference to the image: the recorder logs the event bytes
// verbatim and a replaying secondary delivers them without touching any
// disk, so replay stays exact even when the disk changes under the primary
// (shared storage, a secondary lagging behind the primary's writes). The
// price is log bandwidth equal to the guest's read bandwidth; a later
// non-shared-disk mode may log a digest instead and read the secondary's
// own copy, with a new event kind.
//
// Thread ownership: Submit() on the vCPU thread (under the transport lock);
// the back end does the I/O on its own thread and Posts completions, which
// the device handles in OnAsyncEvent on the vCPU thread. Guest memory is
// never touched by a back end: write data is copied out before Submit, and
// read data is copied in when the completion is delivered.
#ifndef FTVM_VMM_VIRTIO_BLK_BACKEND_H_
#define FTVM_VMM_VIRTIO_BLK_BACKEND_H_

#include <cstdint>
#include <deque>
#include <span>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "vmm/virtio/raw_image.h"
#include "vmm/virtio/virtio_device.h"

namespace ft::vmm {

struct BlockRequest {
  enum class Op : uint8_t { kRead, kWrite, kFlush };
  uint64_t id = 0;  // chosen by the device, returned in the completion
  Op op = Op::kRead;
  uint64_t offset = 0;        // bytes from the start of the disk
  uint32_t length = 0;        // kRead: bytes to read
  std::vector<uint8_t> data;  // kWrite: the bytes to write
};

// AsyncEvent::kind of a BlockCompletion.
inline constexpr uint32_t kBlockCompletionEvent = 1;

struct BlockCompletion {
  uint64_t id = 0;
  uint8_t status = 0;         // a virtio-blk status (OK or IOERR)
  std::vector<uint8_t> data;  // a successful kRead: the bytes read
};

// AsyncEvent::data of a completion: id (8 bytes, little-endian), status
// (1 byte), then the read data. Decode refuses anything shorter than the
// fixed part (the bytes may come from a log).
std::vector<uint8_t> EncodeBlockCompletion(const BlockCompletion& completion);
absl::StatusOr<BlockCompletion> DecodeBlockCompletion(
    std::span<const uint8_t> bytes);

class BlockBackend {
 public:
  virtual ~BlockBackend() = default;
  virtual uint64_t size_bytes() const = 0;
  virtual bool read_only() const = 0;
  // Set-up, before any Submit: where completions are posted (as
  // kBlockCompletionEvent).
  virtual void Connect(AsyncEventPoster poster) = 0;
  // Queues a request. Requests execute in submission order (so a flush
  // covers every write submitted before it) and each gets one completion.
  virtual void Submit(BlockRequest request) = 0;
};

// A disk of `size_bytes` that does nothing: on a replaying machine every
// completion comes from the log, and nothing may be written.
class InertBlockBackend : public BlockBackend {
 public:
  InertBlockBackend(uint64_t size_bytes, bool read_only)
      : size_bytes_(size_bytes), read_only_(read_only) {}
  uint64_t size_bytes() const override { return size_bytes_; }
  bool read_only() const override { return read_only_; }
  void Connect(AsyncEventPoster /*poster*/) override {}
  void Submit(BlockRequest /*request*/) override {}

 private:
  uint64_t size_bytes_;
  bool read_only_;
};

// A RawImage served by one worker thread: pread for reads, pwrite for
// writes, fdatasync for flushes (a flush completes only once the data is
// on stable storage).
class FileBlockBackend : public BlockBackend {
 public:
  explicit FileBlockBackend(RawImage image);
  // Finishes the requests already queued (so a submitted write is not
  // silently lost), then joins the worker. Their completions are still
  // posted, so the event queue must outlive the back end.
  ~FileBlockBackend() override;

  uint64_t size_bytes() const override { return image_.size_bytes(); }
  bool read_only() const override { return image_.read_only(); }
  void Connect(AsyncEventPoster poster) override;
  void Submit(BlockRequest request) override;

 private:
  void Run();
  BlockCompletion Execute(BlockRequest& request) const;

  const RawImage image_;
  absl::Mutex mu_;
  AsyncEventPoster poster_ ABSL_GUARDED_BY(mu_);
  std::deque<BlockRequest> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_BLK_BACKEND_H_
