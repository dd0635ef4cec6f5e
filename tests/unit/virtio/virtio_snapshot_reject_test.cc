// RestoreDevice (vmm/snapshot/virtio_codec.h) treats a saved slot as a
// peer's bytes: malformed messages, states of another device, and fields
// out of bounds (queue layout, features, epochs, in-flight requests,
// waiting frames) are refused with a Status that says what is wrong, and
// the slot is left exactly as it was.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "schema/virtio_devices.capnp.h"
#include "tests/unit/virtio/snapshot_test_util.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::BlkMachine;
using ::ft::vmm::testing::NetMachine;
using ::ft::vmm::testing::Pattern;
using ::ft::vmm::testing::RegisterView;
using ::testing::HasSubstr;
using State = MmioTransport::State;
namespace blk = virtio::blk;
namespace net = virtio::net;

constexpr uint64_t kBuffers = 0x40000;

class SnapshotRejectTest : public ::testing::Test {
 protected:
  // A live disk with a read in flight, and a network card with a frame
  // waiting: states with something in every part.
  SnapshotRejectTest() : blk_(1 << 20, 1 << 20, 16) {
    FT_CHECK(blk_.driver->Negotiate(blk_.driver->DeviceFeatures()));
    blk_.driver->SetupQueue(0, blk_.ring);
    blk_.driver->DriverOk();
    blk_.Queue(0, blk::kTypeIn, 2, kBuffers, 1024);
    blk_.driver->Notify(0);
    FT_CHECK(blk_.submitted.size() == 1);

    FT_CHECK(net_.driver->Negotiate(net_.driver->DeviceFeatures()));
    net_.driver->SetupQueue(net::kRxQueue, net_.rx);
    net_.driver->SetupQueue(net::kTxQueue, net_.tx);
    net_.driver->DriverOk();
    net_.Receive({Pattern(60, 1)});
  }

  State BlkState() {
    auto s = snapshot::DecodeVirtioState(snapshot::SaveDevice(*blk_.transport));
    FT_CHECK_OK(s.status());
    return *s;
  }
  VirtioBlkState& Blk(State& s) { return std::get<VirtioBlkState>(s.device); }

  // Restores `bytes` into `m`'s slot; expects a refusal with `code` whose
  // message contains `why`, and the slot unchanged.
  template <typename Machine>
  void ExpectRefused(Machine& m, std::span<const uint8_t> bytes,
                     absl::StatusCode code, const std::string& why) {
    // Reading the registers selects queues and feature words: first.
    const std::vector<uint32_t> registers = RegisterView(m, 2);
    const std::vector<uint8_t> before = snapshot::SaveDevice(*m.transport);
    const bool level = m.irq.level;
    const absl::Status s = snapshot::RestoreDevice(*m.transport, bytes);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(why));
    EXPECT_EQ(snapshot::SaveDevice(*m.transport), before);
    EXPECT_EQ(RegisterView(m, 2), registers);
    EXPECT_EQ(m.irq.level, level);
  }
  // The disk's own state with `edit` applied, restored into the disk.
  void ExpectBlkEditRefused(const std::function<void(State&)>& edit,
                            const std::string& why) {
    State s = BlkState();
    edit(s);
    ExpectRefused(blk_, snapshot::EncodeVirtioState(s),
                  absl::StatusCode::kInvalidArgument, why);
  }

  BlkMachine blk_;
  NetMachine net_;
};

TEST_F(SnapshotRejectTest, OwnStateRestoresFromUnalignedBytes) {
  const std::vector<uint8_t> bytes = snapshot::SaveDevice(*blk_.transport);
  std::vector<uint8_t> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  EXPECT_TRUE(
      snapshot::RestoreDevice(*blk_.transport, std::span(shifted).subspan(1))
          .ok());
  EXPECT_EQ(snapshot::SaveDevice(*blk_.transport), bytes);
}

TEST_F(SnapshotRejectTest, MalformedBytes) {
  const std::vector<uint8_t> good = snapshot::SaveDevice(*blk_.transport);
  ExpectRefused(blk_, {}, absl::StatusCode::kDataLoss, "8-byte words");
  std::vector<uint8_t> odd = good;
  odd.push_back(0);
  ExpectRefused(blk_, odd, absl::StatusCode::kDataLoss, "8-byte words");
  std::vector<uint8_t> truncated(good.begin(), good.end() - 8);
  ExpectRefused(blk_, truncated, absl::StatusCode::kDataLoss, "malformed");
  std::vector<uint8_t> longer = good;
  longer.resize(good.size() + 8);
  ExpectRefused(blk_, longer, absl::StatusCode::kDataLoss, "after the end");
  ExpectRefused(blk_, std::vector<uint8_t>(64, 0xa5),
                absl::StatusCode::kDataLoss, "malformed");
  // A segment table claiming a huge segment.
  std::vector<uint8_t> huge(16, 0);
  huge[4] = 0xff;
  huge[5] = 0xff;
  huge[6] = 0xff;
  ExpectRefused(blk_, huge, absl::StatusCode::kDataLoss, "malformed");
}

TEST_F(SnapshotRejectTest, NewerReaderVersion) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::virtio::VirtioMmioSlot>();
  root.setMinReaderVersion(snapshot::kVirtioStateVersion + 1);
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  ExpectRefused(blk_, words.asBytes(), absl::StatusCode::kFailedPrecondition,
                "reader of version 2");
}

TEST_F(SnapshotRejectTest, StateOfAnotherDeviceType) {
  const std::vector<uint8_t> net_bytes = snapshot::SaveDevice(*net_.transport);
  const std::vector<uint8_t> blk_bytes = snapshot::SaveDevice(*blk_.transport);
  ExpectRefused(blk_, net_bytes, absl::StatusCode::kInvalidArgument,
                "device type 1");
  ExpectRefused(net_, blk_bytes, absl::StatusCode::kInvalidArgument,
                "device type 2");
  // The transport's part right, the device's part of the other kind.
  ExpectBlkEditRefused(
      [](State& s) { s.device = VirtioNetState{}; },
      "virtio-net device state cannot be restored into virtio-blk");
  ExpectBlkEditRefused([](State& s) { s.device = std::monostate{}; },
                       "cannot be restored into virtio-blk");
  // Another configuration of the same device (a read-only disk).
  ExpectBlkEditRefused(
      [](State& s) {
        s.offered_features |= virtio::FeatureBit(blk::kFeatureRo);
      },
      "different machine configuration");
}

TEST_F(SnapshotRejectTest, TransportFieldsOutOfBounds) {
  ExpectBlkEditRefused([](State& s) { s.queues.push_back({}); },
                       "2 queues, the device has 1");
  ExpectBlkEditRefused([](State& s) { s.queues[0].num = 512; },
                       "size 512 (at most 256)");
  ExpectBlkEditRefused([](State& s) { s.queues[0].num = 12; },
                       "not a power of two");
  ExpectBlkEditRefused([](State& s) { s.queues[0].desc = 1 << 20; },
                       "not inside guest RAM");
  ExpectBlkEditRefused([](State& s) { s.queues[0].device = (1 << 20) - 64; },
                       "not inside guest RAM");
  ExpectBlkEditRefused([](State& s) { s.queues[0].driver = 0x3001; },
                       "not 2-byte aligned");
  ExpectBlkEditRefused([](State& s) { s.queues[0].position.reset(); },
                       "ring position exactly when it is ready");
  ExpectBlkEditRefused([](State& s) { s.queues[0].epoch = s.next_epoch + 1; },
                       "above the last");
  ExpectBlkEditRefused([](State& s) { s.queues[0].epoch = 0; },
                       "without an epoch");
  ExpectBlkEditRefused(
      [](State& s) { s.driver_features |= virtio::FeatureBit(50); },
      "not a subset of the offered");
  ExpectBlkEditRefused(
      [](State& s) {
        s.driver_features &= ~virtio::FeatureBit(virtio::kFeatureVersion1);
      },
      "including VERSION_1");
  ExpectBlkEditRefused([](State& s) { s.driver_features_unknown = true; },
                       "not a subset");
  ExpectBlkEditRefused([](State& s) { s.interrupt_status = 4; },
                       "InterruptStatus bits 0x4");
  ExpectBlkEditRefused([](State& s) { s.status &= ~virtio::kStatusFeaturesOk; },
                       "before FEATURES_OK");
}

TEST_F(SnapshotRejectTest, BlockRequestsOutOfBounds) {
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].head = 16; },
                       "head 16 does not fit");
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].epoch = 0; },
                       "never handed out");
  ExpectBlkEditRefused(
      [&](State& s) { Blk(s).in_flight[0].writable[0].addr = Gpa(1 << 20); },
      "not inside guest RAM");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).in_flight[0].writable.assign(1281, BufferSegment{Gpa(0), 1});
      },
      "1281 buffers");
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].data_len = 512; },
                       "type 0 with 512 data bytes");
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].type = 8; },
                       "type 8");
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].status_offset = 0; },
                       "status byte at 0");
  ExpectBlkEditRefused([&](State& s) { Blk(s).in_flight[0].id = 7; },
                       "not with the back end");
  ExpectBlkEditRefused([&](State& s) { Blk(s).outstanding.clear(); },
                       "not with the back end");
  ExpectBlkEditRefused([&](State& s) { Blk(s).next_id = 1; }, "not below 1");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).outstanding[0].cost = VirtioBlk::kMaxOutstandingBytes + 1;
      },
      "more than the budget");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).outstanding.push_back(
            {.id = 5, .cost = VirtioBlk::kMaxOutstandingBytes});
        Blk(s).next_id = 6;
      },
      "more than the budget");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).deferred = DescriptorChain{.head = 16};
        Blk(s).deferred_epoch = s.queues[0].epoch;
      },
      "head 16 does not fit");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).deferred =
            DescriptorChain{.head = 0, .readable = {{Gpa((1 << 20) - 8), 16}}};
        Blk(s).deferred_epoch = s.queues[0].epoch;
      },
      "not inside guest RAM");
  ExpectBlkEditRefused(
      [&](State& s) {
        Blk(s).deferred = DescriptorChain{.head = 0};
        Blk(s).deferred_epoch = s.next_epoch + 1;
      },
      "never handed out");
  // Lengths the codec recomputes, so only a direct caller can get them
  // wrong.
  State s = BlkState();
  Blk(s).deferred = DescriptorChain{.head = 0, .readable_bytes = 16};
  Blk(s).deferred_epoch = s.queues[0].epoch;
  const std::vector<uint8_t> before = snapshot::SaveDevice(*blk_.transport);
  const absl::Status status = blk_.transport->RestoreState(s);
  EXPECT_THAT(std::string(status.message()), HasSubstr("do not add up"));
  EXPECT_EQ(snapshot::SaveDevice(*blk_.transport), before);
}

TEST_F(SnapshotRejectTest, WaitingFramesOutOfBounds) {
  const State good =
      *snapshot::DecodeVirtioState(snapshot::SaveDevice(*net_.transport));
  ASSERT_EQ(std::get<VirtioNetState>(good.device).pending_rx.size(), 1u);
  auto refused = [&](const std::function<void(VirtioNetState&)>& edit,
                     const std::string& why) {
    State s = good;
    edit(std::get<VirtioNetState>(s.device));
    ExpectRefused(net_, snapshot::EncodeVirtioState(s),
                  absl::StatusCode::kInvalidArgument, why);
  };
  refused([](VirtioNetState& n) { n.pending_rx[0].resize(1523); },
          "1523 bytes");
  refused([](VirtioNetState& n) { n.pending_rx[0].clear(); }, "0 bytes");
  refused(
      [](VirtioNetState& n) {
        n.pending_rx.assign(kMaxRxFramesInFlight + 1, Pattern(60, 0));
      },
      "257 received frames");
}

}  // namespace
}  // namespace ft::vmm
