#include "vmm/virtio/net_backend.h"

#include <sys/epoll.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"

namespace ft::vmm {

std::vector<uint8_t> EncodeRxFrames(
    std::span<const std::vector<uint8_t>> frames) {
  size_t total = 0;
  for (const auto& f : frames) total += 2 + f.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  for (const auto& f : frames) {
    out.push_back(static_cast<uint8_t>(f.size()));
    out.push_back(static_cast<uint8_t>(f.size() >> 8));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> DecodeRxFrames(
    std::span<const uint8_t> bytes) {
  std::vector<std::vector<uint8_t>> frames;
  size_t at = 0;
  while (at < bytes.size()) {
    if (frames.size() == kMaxRxFramesPerEvent) {
      return absl::InvalidArgumentError(
          absl::StrFormat("received-frames event holds more than %u frames",
                          kMaxRxFramesPerEvent));
    }
    if (bytes.size() - at < 2) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "received-frames event truncated in a length at byte %u", at));
    }
    const size_t len = bytes[at] | (size_t{bytes[at + 1]} << 8);
    at += 2;
    if (len == 0 || len > Tap::kMaxFrame) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "received frame of %u bytes (must be 1..%u)", len, Tap::kMaxFrame));
    }
    if (bytes.size() - at < len) {
      return absl::InvalidArgumentError(
          absl::StrFormat("received frame of %u bytes truncated to %u", len,
                          bytes.size() - at));
    }
    frames.emplace_back(bytes.begin() + at, bytes.begin() + at + len);
    at += len;
  }
  if (frames.empty()) {
    return absl::InvalidArgumentError("received-frames event holds no frame");
  }
  return frames;
}

TapNetBackend::TapNetBackend(Tap tap, EventLoop* loop)
    : tap_(std::move(tap)), loop_(loop) {}

TapNetBackend::~TapNetBackend() {
  bool reading;
  {
    absl::MutexLock lock(&mu_);
    reading = reading_;
    reading_ = false;
    started_ = false;
  }
  // Waits for a running callback; must not hold mu_, which it takes.
  if (reading) loop_->RemoveFd(tap_.fd()).IgnoreError();
}

absl::Status TapNetBackend::Start() {
  if (!poster_.valid()) {
    return absl::FailedPreconditionError("TAP back end started unconnected");
  }
  absl::MutexLock lock(&mu_);
  if (started_) return absl::OkStatus();
  FT_RETURN_IF_ERROR(
      loop_->AddFd(tap_.fd(), EPOLLIN, [this](uint32_t) { OnReadable(); }));
  started_ = true;
  reading_ = true;
  return absl::OkStatus();
}

void TapNetBackend::OnReadable() {
  size_t room;
  {
    absl::MutexLock lock(&mu_);
    if (!reading_) return;
    room = std::min(kMaxRxFramesPerEvent, kMaxRxFramesInFlight - in_flight_);
  }
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> buf(Tap::kMaxFrame);
  // Link down: the kernel's queue is drained, a batch per callback (the fd
  // is level-triggered), and nothing is posted.
  const bool receiving = receiving_.load(std::memory_order_acquire);
  if (!receiving) room = kMaxRxFramesPerEvent;
  size_t discarded = 0;
  while (frames.size() + discarded < room) {
    absl::StatusOr<size_t> n = tap_.Read(buf);
    if (!n.ok()) {
      // The interface went away or broke: stop reading instead of spinning
      // on a level-triggered error, and say so once.
      FT_LOG(kError) << "TAP " << tap_.name() << ": " << n.status()
                     << "; no more frames will be received";
      absl::MutexLock lock(&mu_);
      reading_ = false;
      loop_->RemoveFd(tap_.fd()).IgnoreError();
      break;
    }
    if (*n == 0) break;
    if (!receiving) {
      ++discarded;
      continue;
    }
    frames.emplace_back(buf.begin(), buf.begin() + *n);
  }
  if (discarded > 0) {
    rx_discarded_.fetch_add(discarded, std::memory_order_relaxed);
  }
  if (frames.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ += frames.size();
    rx_frames_ += frames.size();
    if (in_flight_ >= kMaxRxFramesInFlight && reading_) {
      // From its own callback RemoveFd does not wait, so holding mu_ is
      // safe; ReleaseRx re-adds the fd under mu_ too, so the two never race.
      reading_ = false;
      ++rx_paused_;
      loop_->RemoveFd(tap_.fd()).IgnoreError();
    }
  }
  poster_.Post(kNetRxFramesEvent, EncodeRxFrames(frames));
}

void TapNetBackend::ReleaseRx(size_t frames) {
  absl::MutexLock lock(&mu_);
  in_flight_ -= std::min(frames, in_flight_);
  // Resume at half the limit, not at once, so a guest that drains slowly
  // does not toggle the registration for every frame.
  if (started_ && !reading_ && in_flight_ <= kMaxRxFramesInFlight / 2) {
    absl::Status s =
        loop_->AddFd(tap_.fd(), EPOLLIN, [this](uint32_t) { OnReadable(); });
    if (s.ok()) {
      reading_ = true;
    } else {
      FT_LOG(kError) << "TAP " << tap_.name()
                     << ": cannot resume receiving: " << s;
    }
  }
}

void TapNetBackend::SetReceiving(bool receiving) {
  receiving_.store(receiving, std::memory_order_release);
}

void TapNetBackend::Transmit(std::span<const uint8_t> frame) {
  // Written from the vCPU thread directly: a write to a TAP never blocks
  // (non-blocking fd) and saves a thread hop per frame.
  absl::Status s = tap_.Write(frame);
  if (s.ok()) {
    tx_frames_.fetch_add(1, std::memory_order_relaxed);
  } else {
    tx_dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

TapNetBackend::Stats TapNetBackend::stats() const {
  absl::MutexLock lock(&mu_);
  return Stats{.rx_frames = rx_frames_,
               .rx_discarded = rx_discarded_.load(),
               .rx_paused = rx_paused_,
               .tx_frames = tx_frames_.load(),
               .tx_dropped = tx_dropped_.load()};
}

}  // namespace ft::vmm
