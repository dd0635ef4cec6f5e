// Tests for vmm/virtio/mmio_transport.h: the virtio-mmio register protocol
// against a small fake device.
#include "vmm/virtio/mmio_transport.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::FakeIrqLine;
using ::ft::vmm::testing::MakeMemory;
using ::ft::vmm::testing::MmioDriver;
using ::ft::vmm::testing::RingBuilder;
using ::testing::ElementsAre;
namespace mmio = virtio::mmio;
using virtio::FeatureBit;

constexpr uint64_t kDeviceBits = FeatureBit(3) | FeatureBit(40);

// What the fake device saw; owned by the test (the transport owns the
// device).
struct Seen {
  std::vector<uint16_t> notified;
  std::vector<uint32_t> events;
  int resets = 0;
  int ready = 0;
  AsyncEventPoster poster;
};

// Two queues; returns every chain it is given as used (length 0). Event kind
// 1 changes its configuration, kind 2 breaks it.
class EchoDevice : public VirtioDevice {
 public:
  explicit EchoDevice(Seen* seen) : seen_(seen) {}
  std::string_view name() const override { return "echo"; }
  uint32_t device_id() const override { return 42; }
  uint64_t device_features() const override { return kDeviceBits; }
  uint16_t num_queues() const override { return 2; }
  uint16_t max_queue_size(uint16_t index) const override {
    return index == 0 ? 16 : 8;
  }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = offset + i < 8 ? static_cast<uint8_t>(0x11 + offset + i) : 0;
    }
  }
  void WriteConfig(uint64_t, std::span<const uint8_t>) override {}
  void ConnectEvents(AsyncEventPoster poster) override {
    seen_->poster = poster;
  }
  void OnDriverReady(VirtioContext&) override { ++seen_->ready; }
  void OnQueueNotify(VirtioContext& ctx, uint16_t index) override {
    seen_->notified.push_back(index);
    Virtqueue* vq = ctx.queue(index);
    ASSERT_NE(vq, nullptr);
    for (;;) {
      auto chain = vq->PopAvail();
      if (!chain.ok()) {
        ctx.SetNeedsReset("bad chain");
        return;
      }
      if (!chain->has_value()) break;
      vq->PushUsed((*chain)->head, 0);
    }
    ctx.NotifyUsed(index);
  }
  void OnAsyncEvent(VirtioContext& ctx, const AsyncEvent& event) override {
    seen_->events.push_back(event.kind);
    if (event.kind == 1) ctx.ConfigChanged();
    if (event.kind == 2) ctx.SetNeedsReset("test breakage");
  }
  void Reset() override { ++seen_->resets; }
  // Keeps nothing of its own that the guest can see (Seen is the test's).
  VirtioDeviceState SaveState() const override { return std::monostate{}; }
  absl::Status RestoreState(const VirtioDeviceState& state,
                            const VirtioRestoreView&) override {
    if (std::holds_alternative<std::monostate>(state)) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError("not an echo device state");
  }

 private:
  Seen* seen_;
};

class MmioTransportTest : public ::testing::Test {
 protected:
  MmioTransportTest()
      : memory_(MakeMemory(1 << 20)), ring_(memory_, 16, 0x4000) {
    auto t =
        MmioTransport::Create({.memory = &memory_,
                               .irq = &irq_,
                               .events = &events_,
                               .device = std::make_unique<EchoDevice>(&seen_)});
    FT_CHECK_OK(t.status());
    transport_ = std::move(*t);
    driver_ = std::make_unique<MmioDriver>(*transport_);
  }
  uint32_t Read(uint64_t offset) { return driver_->Read(offset); }
  void Write(uint64_t offset, uint32_t v) { driver_->Write(offset, v); }
  uint64_t AllFeatures() { return driver_->DeviceFeatures(); }

  GuestMemory memory_;
  RingBuilder ring_;
  FakeIrqLine irq_;
  AsyncEventQueue events_;
  Seen seen_;
  std::unique_ptr<MmioTransport> transport_;
  std::unique_ptr<MmioDriver> driver_;
};

TEST_F(MmioTransportTest, IdentityRegisters) {
  EXPECT_EQ(Read(mmio::kMagicValue), 0x74726976u);
  EXPECT_EQ(Read(mmio::kVersion), 2u);
  EXPECT_EQ(Read(mmio::kDeviceId), 42u);
  EXPECT_EQ(Read(mmio::kVendor), mmio::kVendorId);
  EXPECT_EQ(transport_->name(), "echo");
}

TEST_F(MmioTransportTest, OffersDeviceAndTransportFeatures) {
  const uint64_t f = AllFeatures();
  EXPECT_EQ(f, kDeviceBits | FeatureBit(virtio::kFeatureVersion1) |
                   FeatureBit(virtio::kFeatureRingEventIdx) |
                   FeatureBit(virtio::kFeatureIndirectDesc));
  Write(mmio::kDeviceFeaturesSel, 2);
  EXPECT_EQ(Read(mmio::kDeviceFeatures), 0u);
}

TEST_F(MmioTransportTest, NegotiatesASubset) {
  EXPECT_TRUE(
      driver_->Negotiate(FeatureBit(virtio::kFeatureVersion1) | FeatureBit(3)));
  // Driver features are frozen once FEATURES_OK is accepted.
  Write(mmio::kDriverFeaturesSel, 0);
  Write(mmio::kDriverFeatures, 0xffffffff);
  driver_->DriverOk();
  EXPECT_EQ(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
}

TEST_F(MmioTransportTest, RefusesFeaturesOkForUnofferedBits) {
  EXPECT_FALSE(driver_->Negotiate(AllFeatures() | FeatureBit(7)));
  EXPECT_FALSE(driver_->Negotiate(AllFeatures() | FeatureBit(63)));
  // Legacy drivers (no VERSION_1) are refused too.
  EXPECT_FALSE(driver_->Negotiate(AllFeatures() &
                                  ~FeatureBit(virtio::kFeatureVersion1)));
  // A set bit beyond the 64 defined ones.
  Write(mmio::kStatus, 0);
  Write(mmio::kStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver);
  Write(mmio::kDriverFeaturesSel, 0);
  Write(mmio::kDriverFeatures, 0);
  Write(mmio::kDriverFeaturesSel, 1);
  Write(mmio::kDriverFeatures, 1);  // VERSION_1
  Write(mmio::kDriverFeaturesSel, 2);
  Write(mmio::kDriverFeatures, 1);
  Write(mmio::kStatus, 0xb);
  EXPECT_EQ(Read(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
  // And a clean negotiation after a reset works.
  EXPECT_TRUE(driver_->Negotiate(AllFeatures()));
}

TEST_F(MmioTransportTest, DriverFeaturesNeedTheDriverBit) {
  Write(mmio::kStatus, virtio::kStatusAcknowledge);
  Write(mmio::kDriverFeaturesSel, 1);
  Write(mmio::kDriverFeatures, 1);  // ignored: DRIVER not set
  Write(mmio::kStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver |
                           virtio::kStatusFeaturesOk);
  EXPECT_EQ(Read(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
}

TEST_F(MmioTransportTest, QueueSetUp) {
  ASSERT_TRUE(driver_->Negotiate(AllFeatures()));
  Write(mmio::kQueueSel, 0);
  EXPECT_EQ(Read(mmio::kQueueNumMax), 16u);
  Write(mmio::kQueueSel, 1);
  EXPECT_EQ(Read(mmio::kQueueNumMax), 8u);
  Write(mmio::kQueueSel, 2);  // no such queue
  EXPECT_EQ(Read(mmio::kQueueNumMax), 0u);
  EXPECT_EQ(Read(mmio::kQueueReady), 0u);
  Write(mmio::kQueueReady, 1);  // ignored

  driver_->SetupQueue(0, ring_);
  EXPECT_EQ(Read(mmio::kQueueReady), 1u);
  EXPECT_EQ(Read(mmio::kQueueDescLow), ring_.desc());
  EXPECT_EQ(Read(mmio::kQueueDriverLow), ring_.avail());
  EXPECT_EQ(Read(mmio::kQueueDeviceLow), ring_.used());
  // Frozen while ready.
  Write(mmio::kQueueNum, 4);
  Write(mmio::kQueueDescLow, 0x9000);
  EXPECT_EQ(Read(mmio::kQueueNum), 16u);
  EXPECT_EQ(Read(mmio::kQueueDescLow), ring_.desc());
  // Disabling unfreezes.
  Write(mmio::kQueueReady, 0);
  EXPECT_EQ(Read(mmio::kQueueReady), 0u);
  Write(mmio::kQueueNum, 4);
  EXPECT_EQ(Read(mmio::kQueueNum), 4u);
  EXPECT_EQ(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
}

TEST_F(MmioTransportTest, BadQueueLayoutsNeedReset) {
  struct Case {
    uint32_t num;
    uint64_t desc;
  };
  for (const Case c :
       {Case{12, ring_.desc()}, Case{32, ring_.desc()}, Case{0, ring_.desc()},
        Case{16, ring_.desc() + 8}, Case{16, uint64_t{1} << 40}}) {
    ASSERT_TRUE(driver_->Negotiate(AllFeatures()));
    driver_->SetupQueue(0, ring_);
    Write(mmio::kQueueReady, 0);
    Write(mmio::kQueueNum, c.num);
    Write(mmio::kQueueDescLow, static_cast<uint32_t>(c.desc));
    Write(mmio::kQueueDescHigh, c.desc >> 32);
    Write(mmio::kQueueReady, 1);
    EXPECT_EQ(Read(mmio::kQueueReady), 0u) << c.num;
    EXPECT_NE(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u) << c.num;
  }
}

TEST_F(MmioTransportTest, QueueBeforeFeaturesOkNeedsReset) {
  Write(mmio::kStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver);
  driver_->SetupQueue(0, ring_);
  EXPECT_EQ(Read(mmio::kQueueReady), 0u);
  EXPECT_NE(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
}

TEST_F(MmioTransportTest, DriverOkWithoutFeaturesOkNeedsReset) {
  Write(mmio::kStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver |
                           virtio::kStatusDriverOk);
  EXPECT_NE(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
  EXPECT_EQ(seen_.ready, 0);
}

TEST_F(MmioTransportTest, NotifyReachesTheDeviceOnlyWhenLive) {
  ASSERT_TRUE(driver_->Negotiate(AllFeatures()));
  driver_->SetupQueue(0, ring_);
  driver_->Notify(0);  // before DRIVER_OK
  driver_->DriverOk();
  EXPECT_EQ(seen_.ready, 1);
  driver_->Notify(1);  // queue 1 not ready
  driver_->Notify(7);  // no such queue
  driver_->Notify(0);
  EXPECT_THAT(seen_.notified, ElementsAre(0));
}

TEST_F(MmioTransportTest, UsedBufferInterruptAndAck) {
  ASSERT_TRUE(driver_->Init(ring_));
  ring_.SetDesc(0, 0x10000, 4, 0);
  ring_.Publish(0);
  driver_->Notify(0);
  EXPECT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(Read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
  EXPECT_TRUE(irq_.level);
  Write(mmio::kInterruptAck, mmio::kInterruptUsedBuffer);
  EXPECT_EQ(Read(mmio::kInterruptStatus), 0u);
  EXPECT_FALSE(irq_.level);
  EXPECT_EQ(irq_.rises, 1);
}

TEST_F(MmioTransportTest, BadChainSetsNeedsResetWithConfigInterrupt) {
  ASSERT_TRUE(driver_->Init(ring_));
  ring_.SetDesc(0, 0x10000, 4, virtio::kDescFlagNext, 0);  // a self-loop
  ring_.Publish(0);
  driver_->Notify(0);
  EXPECT_NE(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
  EXPECT_EQ(Read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
  EXPECT_TRUE(irq_.level);
  // The driver cannot clear it by writing status; further notifies are
  // not passed on.
  Write(mmio::kStatus, Read(mmio::kStatus) & ~virtio::kStatusNeedsReset);
  EXPECT_NE(Read(mmio::kStatus) & virtio::kStatusNeedsReset, 0u);
  driver_->Notify(0);
  EXPECT_EQ(seen_.notified.size(), 1u);
  // A reset and a fresh start work again.
  Write(mmio::kStatus, 0);
  EXPECT_EQ(Read(mmio::kStatus), 0u);
  EXPECT_FALSE(irq_.level);
}

TEST_F(MmioTransportTest, ResetClearsEverything) {
  ASSERT_TRUE(driver_->Init(ring_));
  ring_.SetDesc(0, 0x10000, 4, 0);
  ring_.Publish(0);
  driver_->Notify(0);
  ASSERT_TRUE(irq_.level);
  const int resets = seen_.resets;
  Write(mmio::kStatus, 0);
  EXPECT_EQ(seen_.resets, resets + 1);
  EXPECT_EQ(Read(mmio::kStatus), 0u);
  EXPECT_EQ(Read(mmio::kInterruptStatus), 0u);
  EXPECT_FALSE(irq_.level);
  Write(mmio::kQueueSel, 0);
  EXPECT_EQ(Read(mmio::kQueueReady), 0u);
  EXPECT_EQ(Read(mmio::kQueueNum), 16u);
  EXPECT_EQ(Read(mmio::kQueueDescLow), 0u);
  // Driver features were forgotten: FEATURES_OK without any is refused
  // (no VERSION_1).
  Write(mmio::kStatus, virtio::kStatusAcknowledge | virtio::kStatusDriver |
                           virtio::kStatusFeaturesOk);
  EXPECT_EQ(Read(mmio::kStatus) & virtio::kStatusFeaturesOk, 0u);
}

TEST_F(MmioTransportTest, ConfigSpaceAndGeneration) {
  std::vector<uint8_t> one(1), two(2), four(4), eight(8);
  driver_->Access(mmio::kConfig + 1, false, one);
  EXPECT_EQ(one[0], 0x12);
  driver_->Access(mmio::kConfig + 2, false, two);
  EXPECT_THAT(two, ElementsAre(0x13, 0x14));
  driver_->Access(mmio::kConfig + 6, false, four);
  EXPECT_THAT(four, ElementsAre(0x17, 0x18, 0, 0));
  driver_->Access(mmio::kConfig, false, eight);
  EXPECT_EQ(eight[7], 0x18);
  const uint32_t generation = Read(mmio::kConfigGeneration);
  ASSERT_TRUE(driver_->Init(ring_));
  seen_.poster.Post(1, {});
  EXPECT_EQ(events_.DeliverPending(), 1u);
  EXPECT_EQ(Read(mmio::kConfigGeneration), generation + 1);
  EXPECT_EQ(Read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
}

TEST_F(MmioTransportTest, OddRegisterAccessesAreIgnored) {
  std::vector<uint8_t> two(2, 0xaa);
  driver_->Access(mmio::kMagicValue, false, two);
  EXPECT_THAT(two, ElementsAre(0, 0));
  driver_->Access(mmio::kMagicValue + 2, false, two);
  EXPECT_THAT(two, ElementsAre(0, 0));
  std::vector<uint8_t> status = {virtio::kStatusAcknowledge, 0};
  driver_->Access(mmio::kStatus, true, status);
  EXPECT_EQ(Read(mmio::kStatus), 0u);
  EXPECT_EQ(Read(0x0f0), 0u);  // reserved
}

TEST_F(MmioTransportTest, EventsReachTheDevice) {
  ASSERT_TRUE(seen_.poster.valid());
  ASSERT_TRUE(driver_->Init(ring_));
  seen_.poster.Post(7, {1, 2, 3});
  seen_.poster.Post(2, {});
  EXPECT_EQ(events_.DeliverPending(), 2u);
  EXPECT_THAT(seen_.events, ElementsAre(7, 2));
  EXPECT_NE(transport_->status() & virtio::kStatusNeedsReset, 0u);
  EXPECT_EQ(transport_->interrupt_status(), mmio::kInterruptConfigChange);
}

TEST(MmioTransportCreateTest, RefusesMissingParts) {
  EXPECT_FALSE(MmioTransport::Create({}).ok());
}

TEST(VirtioMmioCmdlineTest, LinuxConvention) {
  EXPECT_EQ(VirtioMmioCmdlineToken(0xfeb00e00, 12),
            "virtio_mmio.device=512@0xfeb00e00:12");
}

}  // namespace
}  // namespace ft::vmm
