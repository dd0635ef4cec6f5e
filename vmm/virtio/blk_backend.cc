#include "vmm/virtio/blk_backend.h"

#include <pthread.h>

#include <cstring>
#include <utility>

#include "common/log.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {

namespace {
constexpr size_t kCompletionHeader = 9;  // id + status
}  // namespace

std::vector<uint8_t> EncodeBlockCompletion(const BlockCompletion& completion) {
  std::vector<uint8_t> bytes(kCompletionHeader + completion.data.size());
  std::memcpy(bytes.data(), &completion.id, 8);
  bytes[8] = completion.status;
  if (!completion.data.empty()) {
    std::memcpy(bytes.data() + kCompletionHeader, completion.data.data(),
                completion.data.size());
  }
  return bytes;
}

absl::StatusOr<BlockCompletion> DecodeBlockCompletion(
    std::span<const uint8_t> bytes) {
  if (bytes.size() < kCompletionHeader) {
    return absl::InvalidArgumentError("block completion shorter than 9 bytes");
  }
  BlockCompletion completion;
  std::memcpy(&completion.id, bytes.data(), 8);
  completion.status = bytes[8];
  completion.data.assign(bytes.begin() + kCompletionHeader, bytes.end());
  return completion;
}

FileBlockBackend::FileBlockBackend(RawImage image)
    : image_(std::move(image)), thread_([this] { Run(); }) {}

FileBlockBackend::~FileBlockBackend() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void FileBlockBackend::Connect(AsyncEventPoster poster) {
  absl::MutexLock lock(&mu_);
  poster_ = poster;
}

void FileBlockBackend::Submit(BlockRequest request) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(request));
}

void FileBlockBackend::Run() {
  pthread_setname_np(pthread_self(), "ftvm-disk");
  for (;;) {
    BlockRequest request;
    AsyncEventPoster poster;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nothing left to finish
      request = std::move(queue_.front());
      queue_.pop_front();
      poster = poster_;
    }
    BlockCompletion completion = Execute(request);
    if (poster.valid()) {
      poster.Post(kBlockCompletionEvent, EncodeBlockCompletion(completion));
    }
  }
}

BlockCompletion FileBlockBackend::Execute(BlockRequest& request) const {
  BlockCompletion completion{.id = request.id};
  absl::Status status;
  switch (request.op) {
    case BlockRequest::Op::kRead:
      completion.data.resize(request.length);
      status = image_.ReadAt(request.offset, completion.data);
      break;
    case BlockRequest::Op::kWrite:
      status = image_.WriteAt(request.offset, request.data);
      break;
    case BlockRequest::Op::kFlush:
      status = image_.Flush();
      break;
  }
  if (!status.ok()) {
    // The guest sees IOERR; the operator needs to know why.
    FT_LOG(kWarning) << "virtio-blk: " << status.message();
    completion.status = virtio::blk::kStatusIoErr;
    completion.data.clear();
  } else {
    completion.status = virtio::blk::kStatusOk;
  }
  return completion;
}

}  // namespace ft::vmm
