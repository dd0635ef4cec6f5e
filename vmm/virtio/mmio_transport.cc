#include "vmm/virtio/mmio_transport.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {

namespace {

namespace mmio = virtio::mmio;
using virtio::FeatureBit;

// Features every device gets from this transport and its split queues.
constexpr uint64_t kTransportFeatures =
    FeatureBit(virtio::kFeatureVersion1) |
    FeatureBit(virtio::kFeatureRingEventIdx) |
    FeatureBit(virtio::kFeatureIndirectDesc);

void SetLow(uint64_t& v, uint32_t low) {
  v = (v & 0xffff'ffff'0000'0000ull) | low;
}
void SetHigh(uint64_t& v, uint32_t high) {
  v = (v & 0xffff'ffffull) | (uint64_t{high} << 32);
}

absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// The driver is ready, and the device has not failed it.
bool LiveStatus(uint32_t status) {
  return (status & virtio::kStatusDriverOk) != 0 &&
         (status & (virtio::kStatusNeedsReset | virtio::kStatusFailed)) == 0;
}

}  // namespace

std::string VirtioMmioCmdlineToken(uint64_t base, uint32_t irq) {
  return absl::StrFormat("virtio_mmio.device=%u@0x%x:%u",
                         MmioTransport::kWindowSize, base, irq);
}

absl::StatusOr<std::unique_ptr<MmioTransport>> MmioTransport::Create(
    Options options) {
  if (options.memory == nullptr || options.irq == nullptr ||
      options.device == nullptr) {
    return absl::InvalidArgumentError(
        "virtio-mmio transport needs guest memory, an IRQ line and a device");
  }
  const VirtioDevice& device = *options.device;
  if (device.num_queues() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(device.name()), " has no queues"));
  }
  for (uint16_t i = 0; i < device.num_queues(); ++i) {
    const uint32_t max = device.max_queue_size(i);
    if (max == 0 || (max & (max - 1)) != 0 || max > virtio::kMaxQueueSize) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s queue %u: maximum size %u is not a power of two "
                          "in 1..32768",
                          AbslView(device.name()), i, max));
    }
  }
  std::string name(device.name());
  AsyncEventQueue* events = options.events;
  std::unique_ptr<MmioTransport> transport(
      new MmioTransport(std::move(options), std::move(name)));
  if (events != nullptr) {
    const uint32_t source = events->Register(transport.get());
    absl::MutexLock lock(&transport->mu_);
    transport->device_->ConnectEvents(AsyncEventPoster(events, source));
  }
  return transport;
}

MmioTransport::MmioTransport(Options options, std::string name)
    : memory_(options.memory),
      irq_(options.irq),
      name_(std::move(name)),
      device_features_(options.device->device_features() | kTransportFeatures),
      device_(std::move(options.device)) {
  absl::MutexLock lock(&mu_);
  queues_.resize(device_->num_queues());
  ResetLocked();
}

// The device (and with it any back-end thread) goes first; it may still
// post events, which is why the event queue must outlive the transport.
MmioTransport::~MmioTransport() = default;

uint32_t MmioTransport::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

uint32_t MmioTransport::interrupt_status() const {
  absl::MutexLock lock(&mu_);
  return interrupt_status_;
}

void MmioTransport::Access(const IoAccess& access) {
  absl::MutexLock lock(&mu_);
  const uint64_t offset = access.offset;
  if (offset >= mmio::kConfig) {
    // The bus keeps the access inside the window, so config offsets are
    // below 0x100; any width is allowed there (the field's width).
    if (access.is_write) {
      device_->WriteConfig(offset - mmio::kConfig, access.data);
    } else {
      device_->ReadConfig(offset - mmio::kConfig, access.data);
    }
    return;
  }
  // 4.2.2.2: registers are accessed as aligned 32-bit words only.
  if (access.data.size() != 4 || offset % 4 != 0) {
    FT_LOG(kDebug) << name_ << ": ignored " << access.data.size()
                   << "-byte register access at offset " << offset;
    if (!access.is_write) std::fill(access.data.begin(), access.data.end(), 0);
    return;
  }
  if (access.is_write) {
    uint32_t value;
    std::memcpy(&value, access.data.data(), 4);
    WriteRegister(offset, value);
  } else {
    const uint32_t value = ReadRegister(offset);
    std::memcpy(access.data.data(), &value, 4);
  }
}

void MmioTransport::OnAsyncEvent(const AsyncEvent& event) {
  absl::MutexLock lock(&mu_);
  device_->OnAsyncEvent(*this, event);
}

MmioTransport::QueueRegs* MmioTransport::SelectedQueue() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

bool MmioTransport::live() const { return LiveStatus(status_); }

uint32_t MmioTransport::ReadRegister(uint64_t offset) {
  const QueueRegs* q = SelectedQueue();
  switch (offset) {
    case mmio::kMagicValue:
      return mmio::kMagic;
    case mmio::kVersion:
      return mmio::kVersionModern;
    case mmio::kDeviceId:
      return device_->device_id();
    case mmio::kVendor:
      return mmio::kVendorId;
    case mmio::kDeviceFeatures:
      if (device_features_sel_ == 0) return device_features_ & 0xffff'ffff;
      if (device_features_sel_ == 1) return device_features_ >> 32;
      return 0;
    case mmio::kQueueNumMax:
      return q != nullptr ? device_->max_queue_size(queue_sel_) : 0;
    case mmio::kQueueNum:
      return q != nullptr ? q->num : 0;
    case mmio::kQueueReady:
      return q != nullptr && q->ready ? 1 : 0;
    case mmio::kInterruptStatus:
      return interrupt_status_;
    case mmio::kStatus:
      return status_;
    case mmio::kQueueDescLow:
      return q != nullptr ? q->desc & 0xffff'ffff : 0;
    case mmio::kQueueDescHigh:
      return q != nullptr ? q->desc >> 32 : 0;
    case mmio::kQueueDriverLow:
      return q != nullptr ? q->driver & 0xffff'ffff : 0;
    case mmio::kQueueDriverHigh:
      return q != nullptr ? q->driver >> 32 : 0;
    case mmio::kQueueDeviceLow:
      return q != nullptr ? q->device & 0xffff'ffff : 0;
    case mmio::kQueueDeviceHigh:
      return q != nullptr ? q->device >> 32 : 0;
    case mmio::kConfigGeneration:
      return config_generation_;
    default:
      return 0;  // write-only or reserved
  }
}

void MmioTransport::WriteRegister(uint64_t offset, uint32_t value) {
  QueueRegs* q = SelectedQueue();
  // Queue layout registers are frozen while the queue is ready (4.2.3.2).
  QueueRegs* settable = q != nullptr && !q->ready ? q : nullptr;
  switch (offset) {
    case mmio::kDeviceFeaturesSel:
      device_features_sel_ = value;
      return;
    case mmio::kDriverFeaturesSel:
      driver_features_sel_ = value;
      return;
    case mmio::kDriverFeatures:
      // Only while negotiating (after DRIVER, before FEATURES_OK).
      if ((status_ & virtio::kStatusDriver) == 0 ||
          (status_ & virtio::kStatusFeaturesOk) != 0) {
        return;
      }
      if (driver_features_sel_ == 0) {
        SetLow(driver_features_, value);
      } else if (driver_features_sel_ == 1) {
        SetHigh(driver_features_, value);
      } else if (value != 0) {
        driver_features_unknown_ = true;
      }
      return;
    case mmio::kQueueSel:
      queue_sel_ = value;
      return;
    case mmio::kQueueNum:
      if (settable != nullptr) settable->num = value;
      return;
    case mmio::kQueueDescLow:
      if (settable != nullptr) SetLow(settable->desc, value);
      return;
    case mmio::kQueueDescHigh:
      if (settable != nullptr) SetHigh(settable->desc, value);
      return;
    case mmio::kQueueDriverLow:
      if (settable != nullptr) SetLow(settable->driver, value);
      return;
    case mmio::kQueueDriverHigh:
      if (settable != nullptr) SetHigh(settable->driver, value);
      return;
    case mmio::kQueueDeviceLow:
      if (settable != nullptr) SetLow(settable->device, value);
      return;
    case mmio::kQueueDeviceHigh:
      if (settable != nullptr) SetHigh(settable->device, value);
      return;
    case mmio::kQueueReady:
      WriteQueueReady(value);
      return;
    case mmio::kQueueNotify:
      // A notify for a queue that is not ready, or while the device is not
      // live, has nothing to act on.
      if (live() && value < queues_.size() && queues_[value].ready) {
        device_->OnQueueNotify(*this, static_cast<uint16_t>(value));
      }
      return;
    case mmio::kInterruptAck:
      interrupt_status_ &= ~value;
      UpdateIrq();
      return;
    case mmio::kStatus:
      WriteStatus(value);
      return;
    default:
      return;  // read-only or reserved: ignored
  }
}

void MmioTransport::WriteStatus(uint32_t value) {
  if (value == 0) {
    ResetLocked();
    return;
  }
  // The driver only ever adds bits (2.1.2); NEEDS_RESET is the device's.
  uint32_t next = status_ | (value & ~virtio::kStatusNeedsReset);
  if ((next & virtio::kStatusFeaturesOk) != 0 &&
      (status_ & virtio::kStatusFeaturesOk) == 0 && !NegotiateFeatures()) {
    // Left clear: the driver reads it back and gives up (3.1.1 step 6).
    next &= ~virtio::kStatusFeaturesOk;
  }
  const bool driver_ok_now = (next & virtio::kStatusDriverOk) != 0 &&
                             (status_ & virtio::kStatusDriverOk) == 0;
  status_ = next;
  if (!driver_ok_now) return;
  if ((status_ & virtio::kStatusFeaturesOk) == 0) {
    SetNeedsReset("driver set DRIVER_OK without FEATURES_OK");
    return;
  }
  if (live()) device_->OnDriverReady(*this);
}

bool MmioTransport::NegotiateFeatures() {
  const uint64_t unknown = driver_features_ & ~device_features_;
  if (unknown != 0 || driver_features_unknown_) {
    FT_LOG(kInfo) << name_ << ": refused FEATURES_OK: driver accepted "
                  << absl::StrFormat("0x%x", driver_features_)
                  << " including bits never offered";
    return false;
  }
  if ((driver_features_ & FeatureBit(virtio::kFeatureVersion1)) == 0) {
    FT_LOG(kInfo) << name_ << ": refused FEATURES_OK: driver did not accept "
                  << "VIRTIO_F_VERSION_1 (legacy drivers are not supported)";
    return false;
  }
  return true;
}

void MmioTransport::WriteQueueReady(uint32_t value) {
  QueueRegs* q = SelectedQueue();
  if (q == nullptr) return;
  if (value == 0) {
    q->ready = false;
    q->vq.reset();
    return;
  }
  if (q->ready) return;
  const uint16_t index = static_cast<uint16_t>(queue_sel_);
  if ((status_ & virtio::kStatusFeaturesOk) == 0) {
    SetNeedsReset(
        absl::StrFormat("queue %u enabled before FEATURES_OK", index));
    return;
  }
  if (q->num > device_->max_queue_size(index)) {
    SetNeedsReset(absl::StrFormat("queue %u size %u is above the maximum %u",
                                  index, q->num,
                                  device_->max_queue_size(index)));
    return;
  }
  const VirtqueueConfig config{
      .size = static_cast<uint16_t>(q->num),
      .desc_table = Gpa(q->desc),
      .avail_ring = Gpa(q->driver),
      .used_ring = Gpa(q->device),
      .event_idx =
          (driver_features_ & FeatureBit(virtio::kFeatureRingEventIdx)) != 0,
      .indirect =
          (driver_features_ & FeatureBit(virtio::kFeatureIndirectDesc)) != 0,
      .max_chain_bytes = device_->max_chain_bytes(index),
  };
  absl::StatusOr<Virtqueue> vq = Virtqueue::Create(*memory_, config);
  if (!vq.ok()) {
    SetNeedsReset(absl::StrCat("queue ", index, ": ", vq.status().message()));
    return;
  }
  q->vq.emplace(std::move(*vq));
  q->ready = true;
  q->epoch = ++next_epoch_;
}

void MmioTransport::ResetLocked() {
  device_->Reset();
  for (size_t i = 0; i < queues_.size(); ++i) {
    queues_[i] =
        QueueRegs{.num = device_->max_queue_size(static_cast<uint16_t>(i))};
  }
  status_ = 0;
  device_features_sel_ = 0;
  driver_features_sel_ = 0;
  driver_features_ = 0;
  driver_features_unknown_ = false;
  queue_sel_ = 0;
  interrupt_status_ = 0;
  UpdateIrq();
}

void MmioTransport::RaiseInterrupt(uint32_t bits) {
  interrupt_status_ |= bits;
  UpdateIrq();
}

void MmioTransport::UpdateIrq() {
  // Level semantics: the line is high while any InterruptStatus bit is set.
  const bool level = interrupt_status_ != 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  irq_->Set(level);
}

Virtqueue* MmioTransport::queue(uint16_t index) {
  if (index >= queues_.size() || !queues_[index].vq) return nullptr;
  return &*queues_[index].vq;
}

uint64_t MmioTransport::queue_epoch(uint16_t index) const {
  return index < queues_.size() ? queues_[index].epoch : 0;
}

bool MmioTransport::needs_reset() const {
  return (status_ & virtio::kStatusNeedsReset) != 0;
}

void MmioTransport::NotifyUsed(uint16_t index) {
  Virtqueue* vq = queue(index);
  if (vq != nullptr && vq->NeedsInterrupt()) {
    RaiseInterrupt(mmio::kInterruptUsedBuffer);
  }
}

void MmioTransport::SetNeedsReset(std::string_view why) {
  if (needs_reset()) return;  // one log line per failure
  status_ |= virtio::kStatusNeedsReset;
  FT_LOG(kWarning) << name_ << ": " << why
                   << "; device marked DEVICE_NEEDS_RESET until the driver "
                      "resets it";
  // 2.1.2: with DRIVER_OK set, the driver learns of it through a
  // configuration-change notification.
  if ((status_ & virtio::kStatusDriverOk) != 0) {
    RaiseInterrupt(mmio::kInterruptConfigChange);
  }
}

void MmioTransport::ConfigChanged() {
  ++config_generation_;
  if ((status_ & virtio::kStatusDriverOk) != 0) {
    RaiseInterrupt(mmio::kInterruptConfigChange);
  }
}

MmioTransport::State MmioTransport::SaveState() const {
  absl::MutexLock lock(&mu_);
  State state{.device_id = device_->device_id(),
              .offered_features = device_features_,
              .status = status_,
              .device_features_sel = device_features_sel_,
              .driver_features_sel = driver_features_sel_,
              .driver_features = driver_features_,
              .driver_features_unknown = driver_features_unknown_,
              .queue_sel = queue_sel_,
              .interrupt_status = interrupt_status_,
              .config_generation = config_generation_,
              .next_epoch = next_epoch_,
              .device = device_->SaveState()};
  for (const QueueRegs& q : queues_) {
    state.queues.push_back(QueueState{
        .num = q.num,
        .desc = q.desc,
        .driver = q.driver,
        .device = q.device,
        .ready = q.ready,
        .epoch = q.epoch,
        .position = q.vq ? std::optional(q.vq->SaveState()) : std::nullopt});
  }
  return state;
}

absl::Status MmioTransport::CheckState(const State& state,
                                       std::vector<QueueRegs>& queues) const {
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(name_, " state: ", what));
  };
  if (state.device_id != device_->device_id() ||
      state.offered_features != device_features_) {
    return bad(absl::StrFormat(
        "saved from device type %u offering features 0x%x, but this slot "
        "holds type %u offering 0x%x (a different machine configuration)",
        state.device_id, state.offered_features, device_->device_id(),
        device_features_));
  }
  if (state.queues.size() != queues_.size()) {
    return bad(absl::StrFormat("%u queues, the device has %u",
                               state.queues.size(), queues_.size()));
  }
  if ((state.interrupt_status &
       ~(mmio::kInterruptUsedBuffer | mmio::kInterruptConfigChange)) != 0) {
    return bad(absl::StrFormat("undefined InterruptStatus bits 0x%x",
                               state.interrupt_status));
  }
  // Before FEATURES_OK the driver may have written anything (NegotiateFeatures
  // refuses it later); from then on only what negotiation accepts.
  const bool features_ok = (state.status & virtio::kStatusFeaturesOk) != 0;
  if (features_ok &&
      ((state.driver_features & ~device_features_) != 0 ||
       state.driver_features_unknown ||
       (state.driver_features & FeatureBit(virtio::kFeatureVersion1)) == 0)) {
    return bad(absl::StrFormat(
        "FEATURES_OK with driver features 0x%x, not a subset of the offered "
        "0x%x including VERSION_1",
        state.driver_features, device_features_));
  }
  queues.clear();
  for (size_t i = 0; i < state.queues.size(); ++i) {
    const QueueState& q = state.queues[i];
    const uint16_t index = static_cast<uint16_t>(i);
    if (q.epoch > state.next_epoch) {
      return bad(absl::StrFormat("queue %u epoch %u is above the last, %u",
                                 index, q.epoch, state.next_epoch));
    }
    for (size_t j = 0; j < i; ++j) {
      if (q.epoch != 0 && state.queues[j].epoch == q.epoch) {
        return bad(absl::StrFormat("queues %u and %u share epoch %u", j, index,
                                   q.epoch));
      }
    }
    QueueRegs regs{.num = q.num,
                   .desc = q.desc,
                   .driver = q.driver,
                   .device = q.device,
                   .ready = q.ready,
                   .epoch = q.epoch};
    if (q.ready != q.position.has_value()) {
      return bad(absl::StrFormat(
          "queue %u has a ring position exactly when it is ready", index));
    }
    if (q.ready) {
      // What WriteQueueReady accepted, re-checked the same way.
      if (!features_ok || q.epoch == 0 ||
          q.num > device_->max_queue_size(index)) {
        return bad(absl::StrFormat(
            "queue %u is ready with size %u (at most %u), epoch %u, before "
            "FEATURES_OK or without an epoch",
            index, q.num, device_->max_queue_size(index), q.epoch));
      }
      const VirtqueueConfig config{
          .size = static_cast<uint16_t>(q.num),
          .desc_table = Gpa(q.desc),
          .avail_ring = Gpa(q.driver),
          .used_ring = Gpa(q.device),
          .event_idx = (state.driver_features &
                        FeatureBit(virtio::kFeatureRingEventIdx)) != 0,
          .indirect = (state.driver_features &
                       FeatureBit(virtio::kFeatureIndirectDesc)) != 0,
          .max_chain_bytes = device_->max_chain_bytes(index),
      };
      absl::StatusOr<Virtqueue> vq = Virtqueue::Create(*memory_, config);
      if (!vq.ok()) {
        return bad(absl::StrCat("queue ", index, ": ", vq.status().message()));
      }
      // Any pair of 16-bit indices is a state some driver can cause.
      vq->RestoreState(*q.position);
      regs.vq.emplace(std::move(*vq));
    }
    queues.push_back(std::move(regs));
  }
  return absl::OkStatus();
}

absl::Status MmioTransport::RestoreState(const State& state) {
  absl::MutexLock lock(&mu_);
  std::vector<QueueRegs> queues;
  FT_RETURN_IF_ERROR(CheckState(state, queues));
  std::vector<uint16_t> sizes;
  std::vector<uint64_t> epochs;
  for (const QueueRegs& q : queues) {
    sizes.push_back(q.ready ? static_cast<uint16_t>(q.num) : 0);
    epochs.push_back(q.epoch);
  }
  // Last check, and the first change: the device takes all or nothing.
  FT_RETURN_IF_ERROR(
      device_->RestoreState(state.device, VirtioRestoreView{
                                              .memory = memory_,
                                              .queue_sizes = sizes,
                                              .queue_epochs = epochs,
                                              .max_epoch = state.next_epoch,
                                              .live = LiveStatus(state.status),
                                          }));
  queues_ = std::move(queues);
  status_ = state.status;
  device_features_sel_ = state.device_features_sel;
  driver_features_sel_ = state.driver_features_sel;
  driver_features_ = state.driver_features;
  driver_features_unknown_ = state.driver_features_unknown;
  queue_sel_ = state.queue_sel;
  interrupt_status_ = state.interrupt_status;
  config_generation_ = state.config_generation;
  next_epoch_ = state.next_epoch;
  // Set even if unchanged: the line's owner may not know this level yet.
  irq_level_ = interrupt_status_ != 0;
  irq_->Set(irq_level_);
  return absl::OkStatus();
}

}  // namespace ft::vmm
