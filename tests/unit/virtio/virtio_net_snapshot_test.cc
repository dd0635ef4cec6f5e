// Save/restore of a virtio-net slot (vmm/snapshot/virtio_codec.h): machine
// A has received frames waiting for buffers and a transmit chain the
// driver has published but not yet notified; its slot is saved and
// restored into machine B over a copy of A's memory; then both get the
// same driver actions and received frames, and must show the guest the
// same rings, memory, interrupts and registers, and send the same frames.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/virtio/snapshot_test_util.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::NetMachine;
using ::ft::vmm::testing::Pattern;
using ::ft::vmm::testing::RegisterView;
using ::ft::vmm::testing::SameMemory;
namespace net = virtio::net;

class NetSnapshotTest : public ::testing::Test {
 protected:
  void Transfer() {
    testing::CopyMemory(a_, b_);
    testing::SyncAvailIdx(b_.rx);
    testing::SyncAvailIdx(b_.tx);
    const std::vector<uint8_t> bytes = snapshot::SaveDevice(*a_.transport);
    ASSERT_TRUE(snapshot::RestoreDevice(*b_.transport, bytes).ok());
    EXPECT_TRUE(b_.log.sent.empty()) << "the restore transmitted";
  }
  template <typename F>
  void Both(F f) {
    f(a_);
    f(b_);
  }
  void ExpectSame() { testing::ExpectSameSlot(a_, b_, 2); }
  std::vector<uint8_t> RxBuffer(NetMachine& m, uint16_t k, size_t n) {
    std::vector<uint8_t> out(n);
    FT_CHECK_OK(m.memory.Read(
        Gpa(NetMachine::kRxBuffers + NetMachine::kBufferSize * k), out));
    return out;
  }

  NetMachine a_;
  NetMachine b_;
};

TEST_F(NetSnapshotTest, PendingFramesAndTransmitsContinueIdentically) {
  ASSERT_TRUE(a_.driver->Negotiate(a_.driver->DeviceFeatures()));
  a_.driver->SetupQueue(net::kRxQueue, a_.rx);
  a_.driver->SetupQueue(net::kTxQueue, a_.tx);
  a_.driver->DriverOk();
  a_.PostRx(0);
  a_.PostRx(1);
  a_.driver->Notify(net::kRxQueue);
  // Three frames, two buffers: one frame waits in the device.
  const std::vector<uint8_t> waiting = Pattern(1514, 3);
  a_.Receive({Pattern(60, 1), Pattern(100, 2), waiting});
  ASSERT_EQ(a_.rx.UsedIdx(), 2);
  a_.QueueTx(0, Pattern(64, 7));
  a_.driver->Notify(net::kTxQueue);
  ASSERT_EQ(a_.log.sent.size(), 1u);
  a_.QueueTx(1, Pattern(90, 8));  // published, not yet notified

  ASSERT_FALSE(b_.log.receiving);
  Transfer();
  ExpectSame();
  EXPECT_EQ(b_.net->stats().rx_frames, 2u);
  EXPECT_EQ(b_.net->stats().tx_frames, 1u);
  // B's driver is ready: its back end may post frames, as A's does.
  EXPECT_TRUE(a_.log.receiving);
  EXPECT_TRUE(b_.log.receiving);

  Both([](NetMachine& m) { m.driver->Notify(net::kTxQueue); });
  ASSERT_EQ(b_.log.sent.size(), 1u);
  EXPECT_EQ(b_.log.sent[0], Pattern(90, 8));
  EXPECT_EQ(a_.log.sent.back(), b_.log.sent[0]);
  ExpectSame();

  // A buffer for the waiting frame.
  Both([](NetMachine& m) {
    m.driver->AckInterrupts();
    m.PostRx(2);
    m.driver->Notify(net::kRxQueue);
  });
  ExpectSame();
  EXPECT_EQ(b_.rx.UsedIdx(), 3);
  EXPECT_EQ(b_.rx.Used(2).len, VirtioNet::kHeaderBytes + waiting.size());
  const std::vector<uint8_t> got =
      RxBuffer(b_, 2, VirtioNet::kHeaderBytes + waiting.size());
  EXPECT_EQ(
      std::vector<uint8_t>(got.begin() + VirtioNet::kHeaderBytes, got.end()),
      waiting);
  EXPECT_EQ(b_.log.released, 1u);  // B's back end released what it got

  // A frame that arrives (from the log) after the restore.
  Both([](NetMachine& m) {
    m.Receive({Pattern(200, 4)});
    m.PostRx(3);
    m.driver->Notify(net::kRxQueue);
  });
  ExpectSame();
  EXPECT_EQ(b_.rx.UsedIdx(), 4);
  EXPECT_EQ(b_.net->stats().rx_frames, 4u);
}

TEST_F(NetSnapshotTest, SlotThatWasNeverSetUpRestoresAsNew) {
  b_.log.receiving = true;  // as if B's driver had been ready before
  Transfer();
  ExpectSame();
  EXPECT_EQ(b_.transport->status(), 0u);
  EXPECT_FALSE(b_.log.receiving);
  // The driver can still bring B up from scratch.
  Both([](NetMachine& m) {
    ASSERT_TRUE(m.driver->Negotiate(m.driver->DeviceFeatures()));
    m.driver->SetupQueue(net::kRxQueue, m.rx);
    m.driver->SetupQueue(net::kTxQueue, m.tx);
    m.driver->DriverOk();
    m.PostRx(0);
    m.driver->Notify(net::kRxQueue);
    m.Receive({Pattern(80, 5)});
  });
  ExpectSame();
  EXPECT_EQ(b_.rx.UsedIdx(), 1);
}

}  // namespace
}  // namespace ft::vmm
