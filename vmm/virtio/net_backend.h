// Network back ends: what a virtio-net device asks of the link (NetBackend),
// a TAP device served by the VM's event loop (TapNetBackend), and how
// received frames reach the device (a batch of frames inside an AsyncEvent).
//
// Record/replay: received frames are nondeterministic inputs (when they
// arrive and what they hold), so the event carries the frames themselves
// and a replaying secondary delivers them without a TAP. Transmitted frames
// are the guest's outputs: Transmit() is the choke point where the primary
// will hold a frame until its secondary has acknowledged the log before it
// (the Output Rule), by wrapping the back end.
//
// Link state: a back end posts frames only while its device says the guest
// can take them (SetReceiving: the driver is ready and has a receive
// queue). Before that, and after a reset, frames are read and discarded at
// the back end, as by a NIC whose link is down: they never become events,
// so a recording primary logs nothing for them, and the replay needs
// nothing, because the guest never saw them. The device drops a frame
// posted just before its receive queue went away (an event, logged).
//
// Flow control: a back end has at most kMaxRxFramesInFlight frames posted
// and not yet released by the device (ReleaseRx). At that limit a TAP back
// end stops reading, so the kernel's queue (not host memory) absorbs a
// guest that does not take its packets, and drops beyond it as a link does.
//
// Thread ownership: Connect(), Transmit(), ReleaseRx() and SetReceiving()
// run on the vCPU thread (under the transport lock); a TAP back end reads
// on the event-loop thread and only Posts from there.
#ifndef FTVM_VMM_VIRTIO_NET_BACKEND_H_
#define FTVM_VMM_VIRTIO_NET_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "vmm/backends/tap.h"
#include "vmm/events/event_loop.h"
#include "vmm/virtio/virtio_device.h"

namespace ft::vmm {

// AsyncEvent::kind of a batch of received frames.
inline constexpr uint32_t kNetRxFramesEvent = 1;

// Frames a back end may have posted and not yet had released.
inline constexpr size_t kMaxRxFramesInFlight = 256;
// Frames read per readiness callback and posted as one event: one wake of
// the vCPU for a burst instead of one per frame.
inline constexpr size_t kMaxRxFramesPerEvent = 64;

// AsyncEvent::data of kNetRxFramesEvent: for each frame, its length (2
// bytes, little-endian, 1..Tap::kMaxFrame) and its bytes. Decode refuses
// empty or oversized frames, a truncated frame, and more than
// kMaxRxFramesPerEvent frames (the bytes may come from a log).
std::vector<uint8_t> EncodeRxFrames(
    std::span<const std::vector<uint8_t>> frames);
absl::StatusOr<std::vector<std::vector<uint8_t>>> DecodeRxFrames(
    std::span<const uint8_t> bytes);

class NetBackend {
 public:
  virtual ~NetBackend() = default;
  // Set-up, before the guest runs: where received frames are posted.
  virtual void Connect(AsyncEventPoster poster) = 0;
  // Sends one Ethernet frame (no FCS). A congested link drops it; the guest
  // is not told, as with a real NIC.
  virtual void Transmit(std::span<const uint8_t> frame) = 0;
  // The device is done with `frames` posted frames (delivered or dropped).
  virtual void ReleaseRx(size_t frames) = 0;
  // Whether the guest can take frames now (see "Link state"); false until
  // the device says so.
  virtual void SetReceiving(bool receiving) = 0;
};

// A link that does nothing: on a replaying machine received frames come
// from the log, and nothing may be sent.
class InertNetBackend : public NetBackend {
 public:
  void Connect(AsyncEventPoster /*poster*/) override {}
  void Transmit(std::span<const uint8_t> /*frame*/) override {}
  void ReleaseRx(size_t /*frames*/) override {}
  void SetReceiving(bool /*receiving*/) override {}
};

class TapNetBackend : public NetBackend {
 public:
  struct Stats {
    uint64_t rx_frames = 0;     // read from the TAP and posted
    uint64_t rx_discarded = 0;  // read while the guest could not take them
    uint64_t rx_paused = 0;     // times reading stopped at the in-flight limit
    uint64_t tx_frames = 0;
    uint64_t tx_dropped = 0;  // the TAP's queue was full, or it failed
  };

  // `loop` must outlive the back end. Reading starts with Start().
  TapNetBackend(Tap tap, EventLoop* loop);
  ~TapNetBackend() override;

  void Connect(AsyncEventPoster poster) override { poster_ = poster; }
  // Starts reading frames (after Connect).
  absl::Status Start();
  void Transmit(std::span<const uint8_t> frame) override;
  void ReleaseRx(size_t frames) override;
  void SetReceiving(bool receiving) override;

  Stats stats() const;
  const std::string& name() const { return tap_.name(); }

 private:
  // Event-loop thread: the TAP is readable.
  void OnReadable();

  Tap tap_;
  EventLoop* const loop_;
  AsyncEventPoster poster_;
  std::atomic<uint64_t> tx_frames_{0};
  std::atomic<uint64_t> tx_dropped_{0};
  std::atomic<bool> receiving_{false};
  std::atomic<uint64_t> rx_discarded_{0};

  mutable absl::Mutex mu_;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;  // the fd is on the loop
  uint64_t rx_frames_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rx_paused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_NET_BACKEND_H_
