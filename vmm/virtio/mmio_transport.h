// MmioTransport: the virtio-mmio transport (virtio 1.x "modern", Version 2)
// for one device: its 0x200-byte register window on the I/O bus, feature
// negotiation, queue set-up, the device status state machine (reset,
// FEATURES_OK, DEVICE_NEEDS_RESET) and its interrupt line.
//
// The guest finds the device from the Linux kernel command line token
// `virtio_mmio.device=512@0x<base>:<irq>` (VirtioMmioCmdlineToken), the
// convention QEMU microvm uses, so one guest image runs under both.
//
// Thread ownership: Access() runs on vCPU threads under the I/O bus lock;
// OnAsyncEvent() runs on a vCPU thread when the machine delivers events. A
// lock of its own serializes the two (they need not be the same vCPU), and
// is held across every call into the device. The IrqLine is driven only from
// these calls.
#ifndef FTVM_VMM_VIRTIO_MMIO_TRANSPORT_H_
#define FTVM_VMM_VIRTIO_MMIO_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "vmm/devices/irq_line.h"
#include "vmm/events/async_event.h"
#include "vmm/io/io_bus.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/virtio_device.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm {

// `virtio_mmio.device=512@0x<base>:<irq>` for a device whose window starts
// at `base` and which raises `irq`; ftvm appends one per device to the guest
// kernel command line.
std::string VirtioMmioCmdlineToken(uint64_t base, uint32_t irq);

class MmioTransport : public IoDevice,
                      public AsyncEventSink,
                      private VirtioContext {
 public:
  // Bytes of MMIO space a device occupies (registers, then configuration
  // space from 0x100).
  static constexpr uint64_t kWindowSize = 0x200;

  struct Options {
    const GuestMemory* memory = nullptr;  // must outlive the transport
    IrqLine* irq = nullptr;               // must outlive the transport
    // The device's back end posts its completions here; the transport
    // registers itself as their sink. Must outlive the transport. May be
    // null for a device that posts no events.
    AsyncEventQueue* events = nullptr;
    std::unique_ptr<VirtioDevice> device;
  };
  // Set-up, before any vCPU runs (registers with `events`).
  static absl::StatusOr<std::unique_ptr<MmioTransport>> Create(Options options);
  ~MmioTransport() override;

  // IoDevice: one access to the register window.
  std::string_view name() const override { return name_; }
  void Access(const IoAccess& access) override;

  // AsyncEventSink: forwards the device's back-end events to it.
  void OnAsyncEvent(const AsyncEvent& event) override;

  // For tests and status reports.
  uint32_t status() const;
  uint32_t interrupt_status() const;
  // Features offered: the device's plus the transport's.
  uint64_t offered_features() const { return device_features_; }

  // Save/restore: every register the driver can read back or that shapes
  // what the device does next, the queues' positions, and the device's own
  // state (VirtioDevice::SaveState). Taken between exits; guest memory
  // (rings, buffers) travels separately.
  struct QueueState {
    uint32_t num = 0;  // QueueNum as written (checked when made ready)
    uint64_t desc = 0;
    uint64_t driver = 0;
    uint64_t device = 0;
    bool ready = false;
    uint64_t epoch = 0;  // 0: never made ready since the last reset
    std::optional<Virtqueue::State> position;  // exactly when ready
  };
  struct State {
    // What the state was saved from; a restore into a device of another
    // type or configuration (other features offered) is refused.
    uint32_t device_id = 0;
    uint64_t offered_features = 0;
    uint32_t status = 0;
    uint32_t device_features_sel = 0;
    uint32_t driver_features_sel = 0;
    uint64_t driver_features = 0;
    bool driver_features_unknown = false;
    uint32_t queue_sel = 0;
    uint32_t interrupt_status = 0;
    uint32_t config_generation = 0;
    uint64_t next_epoch = 0;
    std::vector<QueueState> queues;  // one per device queue
    VirtioDeviceState device;
  };
  State SaveState() const;
  // Checks every field as coming from a peer (queue layout inside guest
  // RAM, negotiated features offered, epochs handed out, the device's own
  // checks) and takes all of it, or returns InvalidArgument and changes
  // nothing. Drives the IRQ line to the restored InterruptStatus. Starts
  // no back-end work (see VirtioDevice::RestoreState).
  absl::Status RestoreState(const State& state);

 private:
  // Per-queue registers, as the driver last wrote them.
  struct QueueRegs {
    uint32_t num = 0;  // QueueNum; starts at the maximum
    uint64_t desc = 0;
    uint64_t driver = 0;
    uint64_t device = 0;
    bool ready = false;
    uint64_t epoch = 0;
    std::optional<Virtqueue> vq;  // set while ready
  };

  MmioTransport(Options options, std::string name);

  uint32_t ReadRegister(uint64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteRegister(uint64_t offset, uint32_t value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteStatus(uint32_t value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteQueueReady(uint32_t value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NegotiateFeatures() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RaiseInterrupt(uint32_t bits) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateIrq() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The selected queue's registers, or null if QueueSel is out of range.
  QueueRegs* SelectedQueue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool live() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RestoreState's checks of the transport's part; fills `queues`.
  absl::Status CheckState(const State& state,
                          std::vector<QueueRegs>& queues) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // VirtioContext, for the device during callbacks (mu_ is held then; the
  // interface cannot say so to the analysis).
  const GuestMemory& memory() const override { return *memory_; }
  Virtqueue* queue(uint16_t index) override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  uint64_t queue_epoch(uint16_t index) const override
      ABSL_NO_THREAD_SAFETY_ANALYSIS;
  uint64_t driver_features() const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return driver_features_;
  }
  bool needs_reset() const override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void NotifyUsed(uint16_t index) override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void SetNeedsReset(std::string_view why) override
      ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void ConfigChanged() override ABSL_NO_THREAD_SAFETY_ANALYSIS;

  const GuestMemory* const memory_;
  IrqLine* const irq_;
  const std::string name_;
  const uint64_t device_features_;

  mutable absl::Mutex mu_;
  std::unique_ptr<VirtioDevice> device_ ABSL_GUARDED_BY(mu_);
  std::vector<QueueRegs> queues_ ABSL_GUARDED_BY(mu_);
  uint32_t status_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t device_features_sel_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t driver_features_sel_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t driver_features_ ABSL_GUARDED_BY(mu_) = 0;
  // The driver wrote a non-zero word beyond the 64 feature bits: it accepts
  // something nobody offered, so FEATURES_OK must fail.
  bool driver_features_unknown_ ABSL_GUARDED_BY(mu_) = false;
  uint32_t queue_sel_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t interrupt_status_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t config_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Source of QueueRegs::epoch; never reset, so an epoch is never reused.
  uint64_t next_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool irq_level_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_MMIO_TRANSPORT_H_
