// Tests for the device side of a split queue (vmm/virtio/virtqueue.h):
// layout checks, popping and returning chains, event-index notification
// suppression in both directions, and 16-bit index wrap-around.
#include "vmm/virtio/virtqueue.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::MakeMemory;
using ::ft::vmm::testing::RingBuilder;
using ::testing::HasSubstr;

constexpr uint64_t kRam = 1 << 20;
constexpr uint64_t kData = 0x10000;  // buffers live from here
constexpr uint16_t N = virtio::kDescFlagNext;
constexpr uint16_t W = virtio::kDescFlagWrite;

class VirtqueueTest : public ::testing::Test {
 protected:
  VirtqueueTest() : memory_(MakeMemory(kRam)), ring_(memory_, 4, 0x1000) {}

  Virtqueue Create(bool event_idx = false) {
    absl::StatusOr<Virtqueue> vq =
        Virtqueue::Create(memory_, ring_.Config(event_idx));
    FT_CHECK_OK(vq.status());
    return std::move(*vq);
  }
  // Publishes a one-buffer chain at descriptor `index`.
  void PublishOne(uint16_t index) {
    ring_.SetDesc(index, kData + 0x100 * index, 8, W);
    ring_.Publish(index);
  }
  uint16_t PopHead(Virtqueue& vq) {
    absl::StatusOr<std::optional<DescriptorChain>> chain = vq.PopAvail();
    FT_CHECK_OK(chain.status());
    FT_CHECK(chain->has_value());
    return (*chain)->head;
  }

  GuestMemory memory_;
  RingBuilder ring_;
};

TEST_F(VirtqueueTest, CreateChecksLayout) {
  VirtqueueConfig config = ring_.Config();
  config.size = 3;
  EXPECT_THAT(Virtqueue::Create(memory_, config).status().message(),
              HasSubstr("power of two"));
  config = ring_.Config();
  config.desc_table = Gpa(ring_.desc() + 8);
  EXPECT_THAT(Virtqueue::Create(memory_, config).status().message(),
              HasSubstr("16-byte aligned"));
  config = ring_.Config();
  config.used_ring = Gpa(ring_.used() + 2);
  EXPECT_THAT(Virtqueue::Create(memory_, config).status().message(),
              HasSubstr("4-byte aligned"));
  config = ring_.Config();
  config.avail_ring = Gpa(kRam - 8);
  EXPECT_THAT(Virtqueue::Create(memory_, config).status().message(),
              HasSubstr("not inside guest RAM"));
  config = ring_.Config();
  config.used_ring = Gpa(~0ull & ~3ull);
  EXPECT_FALSE(Virtqueue::Create(memory_, config).ok());
}

TEST_F(VirtqueueTest, PopsInOrderAndFillsTheUsedRing) {
  Virtqueue vq = Create();
  EXPECT_FALSE(vq.PopAvail()->has_value());
  PublishOne(2);
  PublishOne(0);
  EXPECT_EQ(PopHead(vq), 2);
  EXPECT_EQ(PopHead(vq), 0);
  EXPECT_FALSE(vq.PopAvail()->has_value());
  vq.PushUsed(0, 5);
  vq.PushUsed(2, 7);
  EXPECT_EQ(ring_.UsedIdx(), 2);
  EXPECT_EQ(ring_.Used(0).id, 0u);
  EXPECT_EQ(ring_.Used(0).len, 5u);
  EXPECT_EQ(ring_.Used(1).id, 2u);
  EXPECT_EQ(ring_.Used(1).len, 7u);
}

TEST_F(VirtqueueTest, RefusesAvailIndexTooFarAhead) {
  Virtqueue vq = Create();
  ring_.SetAvailIdx(5);  // 5 new entries in a queue of 4
  absl::StatusOr<std::optional<DescriptorChain>> chain = vq.PopAvail();
  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(chain.status().message(), HasSubstr("entries ahead"));
}

TEST_F(VirtqueueTest, MalformedChainFromTheRingIsAnError) {
  Virtqueue vq = Create();
  ring_.SetDesc(1, kData, 4, N, 1);
  ring_.Publish(1);
  EXPECT_FALSE(vq.PopAvail().ok());
  ring_.SetDesc(2, kData, 4, 0);
  ring_.Publish(9);  // head out of range
  EXPECT_FALSE(vq.PopAvail().ok());
}

TEST_F(VirtqueueTest, InterruptsWithoutEventIdxFollowTheFlag) {
  Virtqueue vq = Create();
  PublishOne(0);
  vq.PushUsed(PopHead(vq), 1);
  EXPECT_TRUE(vq.NeedsInterrupt());
  EXPECT_FALSE(vq.NeedsInterrupt());  // already told
  ring_.SetAvailFlags(virtio::kAvailFlagNoInterrupt);
  PublishOne(1);
  vq.PushUsed(PopHead(vq), 1);
  EXPECT_FALSE(vq.NeedsInterrupt());
}

TEST_F(VirtqueueTest, UsedEventSuppressesInterrupts) {
  Virtqueue vq = Create(/*event_idx=*/true);
  ring_.SetUsedEvent(0);
  PublishOne(0);
  vq.PushUsed(PopHead(vq), 1);  // used idx 0 -> 1 passes used_event 0
  EXPECT_TRUE(vq.NeedsInterrupt());
  // The driver wants to hear only once the used index passes 2 (entry 3).
  ring_.SetUsedEvent(2);
  PublishOne(1);
  vq.PushUsed(PopHead(vq), 1);  // -> 2
  EXPECT_FALSE(vq.NeedsInterrupt());
  PublishOne(2);
  vq.PushUsed(PopHead(vq), 1);  // -> 3: entry 2 is now used
  EXPECT_TRUE(vq.NeedsInterrupt());
  // Several entries at once, one of them the one asked for.
  ring_.SetUsedEvent(4);
  PublishOne(3);
  PublishOne(0);
  vq.PushUsed(PopHead(vq), 1);
  vq.PushUsed(PopHead(vq), 1);  // 3 -> 5
  EXPECT_TRUE(vq.NeedsInterrupt());
  // NO_INTERRUPT means nothing once event-idx is on.
  ring_.SetAvailFlags(virtio::kAvailFlagNoInterrupt);
  ring_.SetUsedEvent(5);
  PublishOne(1);
  vq.PushUsed(PopHead(vq), 1);
  EXPECT_TRUE(vq.NeedsInterrupt());
}

TEST_F(VirtqueueTest, AvailEventAsksForTheNextEntry) {
  Virtqueue vq = Create(/*event_idx=*/true);
  PublishOne(0);
  PublishOne(1);
  EXPECT_EQ(PopHead(vq), 0);
  EXPECT_EQ(PopHead(vq), 1);
  EXPECT_FALSE(vq.PopAvail()->has_value());
  // Empty: the driver must notify when it adds entry 2.
  EXPECT_EQ(ring_.AvailEvent(), 2);
  EXPECT_TRUE(virtio::NeedEvent(ring_.AvailEvent(), 3, 2));
  EXPECT_FALSE(virtio::NeedEvent(ring_.AvailEvent(), 4, 3));
  // Disabled: avail_event is left alone.
  EXPECT_FALSE(vq.SetNotifications(false));
  PublishOne(2);
  EXPECT_EQ(PopHead(vq), 2);
  EXPECT_FALSE(vq.PopAvail()->has_value());
  EXPECT_EQ(ring_.AvailEvent(), 2);
  // Enabling republishes and reports entries that arrived meanwhile.
  PublishOne(3);
  EXPECT_TRUE(vq.SetNotifications(true));
  EXPECT_EQ(ring_.AvailEvent(), 3);
}

TEST_F(VirtqueueTest, NoNotifyFlagWithoutEventIdx) {
  Virtqueue vq = Create();
  EXPECT_FALSE(vq.SetNotifications(false));
  EXPECT_EQ(ring_.UsedFlags(), virtio::kUsedFlagNoNotify);
  EXPECT_FALSE(vq.SetNotifications(true));
  EXPECT_EQ(ring_.UsedFlags(), 0);
  PublishOne(0);
  EXPECT_TRUE(vq.SetNotifications(true));
}

TEST_F(VirtqueueTest, IndicesWrapAround) {
  Virtqueue vq = Create(/*event_idx=*/true);
  vq.RestoreState({.last_avail_idx = 65534,
                   .used_idx = 65534,
                   .signalled_used = 65534,
                   .signalled_used_valid = true});
  ring_.SetAvailIdx(65534);
  ring_.Put<uint16_t>(ring_.used() + 2, 65534);
  ring_.SetUsedEvent(65535);  // interrupt once entry 65535 is used
  for (uint16_t i = 0; i < 4; ++i) PublishOne(i);  // avail idx 65534 -> 2
  for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(PopHead(vq), i);
  EXPECT_FALSE(vq.PopAvail()->has_value());
  EXPECT_EQ(vq.last_avail_idx(), 2);
  vq.PushUsed(0, 1);  // -> 65535
  EXPECT_FALSE(vq.NeedsInterrupt());
  vq.PushUsed(1, 1);  // -> 0
  EXPECT_TRUE(vq.NeedsInterrupt());
  ring_.SetUsedEvent(1);
  vq.PushUsed(2, 1);  // -> 1
  vq.PushUsed(3, 1);  // -> 2, passes 1 across nothing but the wrap
  EXPECT_TRUE(vq.NeedsInterrupt());
  EXPECT_EQ(ring_.UsedIdx(), 2);
  // Slots follow index modulo size across the wrap.
  EXPECT_EQ(ring_.Used(65534).id, 0u);
  EXPECT_EQ(ring_.Used(65535).id, 1u);
  EXPECT_EQ(ring_.Used(0).id, 2u);
  EXPECT_EQ(ring_.Used(1).id, 3u);
}

TEST_F(VirtqueueTest, ManyLapsOfTheRing) {
  Virtqueue vq = Create(/*event_idx=*/true);
  for (uint32_t i = 0; i < 70000; ++i) {
    const uint16_t desc = i % 4;
    PublishOne(desc);
    ASSERT_EQ(PopHead(vq), desc);
    vq.PushUsed(desc, 1);
  }
  EXPECT_EQ(vq.last_avail_idx(), static_cast<uint16_t>(70000));
  EXPECT_EQ(ring_.UsedIdx(), static_cast<uint16_t>(70000));
}

}  // namespace
}  // namespace ft::vmm
