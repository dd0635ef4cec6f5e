// Save/restore of a virtio-blk slot (vmm/snapshot/virtio_codec.h): machine
// A runs requests, some of which are still with its back end; its slot is
// saved and restored into machine B over a copy of A's memory; then both
// get the same completions and driver actions, and must show the guest the
// same used rings, memory, interrupts and registers. B's back end, like a
// replaying secondary's, must get no work from the restore itself.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/virtio/snapshot_test_util.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::BlkMachine;
using ::ft::vmm::testing::Pattern;
using ::ft::vmm::testing::RegisterView;
using ::ft::vmm::testing::SameMemory;
namespace blk = virtio::blk;
namespace mmio = virtio::mmio;

constexpr uint64_t kBuffers = 0x40000;  // request k's data at +0x1000k

class BlkSnapshotTest : public ::testing::Test {
 protected:
  BlkSnapshotTest(uint64_t memory_bytes = 1 << 20,
                  uint64_t disk_bytes = 1 << 20)
      : a_(memory_bytes, disk_bytes, 16), b_(memory_bytes, disk_bytes, 16) {}

  void GoLive(BlkMachine& m) {
    ASSERT_TRUE(m.driver->Negotiate(m.driver->DeviceFeatures()));
    m.driver->SetupQueue(0, m.ring);
    m.driver->DriverOk();
  }
  // What the secondary gets: A's memory, then A's saved slot.
  void Transfer() {
    testing::CopyMemory(a_, b_);
    testing::SyncAvailIdx(b_.ring);
    const std::vector<uint8_t> bytes = snapshot::SaveDevice(*a_.transport);
    ASSERT_TRUE(snapshot::RestoreDevice(*b_.transport, bytes).ok());
    EXPECT_TRUE(b_.submitted.empty()) << "the restore started back-end I/O";
  }
  template <typename F>
  void Both(F f) {
    f(a_);
    f(b_);
  }
  void ExpectSame() { testing::ExpectSameSlot(a_, b_, 1); }

  BlkMachine a_;
  BlkMachine b_;
};

TEST_F(BlkSnapshotTest, InFlightRequestsCompleteIdenticallyAfterRestore) {
  GoLive(a_);
  ASSERT_TRUE(a_.memory.Write(Gpa(kBuffers), Pattern(512, 3)).ok());
  a_.Queue(0, blk::kTypeOut, 4, kBuffers, 512);
  a_.Queue(1, blk::kTypeIn, 8, kBuffers + 0x1000, 1024);
  a_.Queue(2, blk::kTypeFlush, 0, 0, 0);
  a_.Queue(3, blk::kTypeGetId, 0, kBuffers + 0x3000, 20);  // answered at once
  a_.driver->Notify(0);
  ASSERT_EQ(a_.submitted.size(), 3u);
  const uint64_t write_id = a_.submitted[0].id;
  const uint64_t read_id = a_.submitted[1].id;
  const uint64_t flush_id = a_.submitted[2].id;
  a_.Complete(write_id, blk::kStatusOk);
  ASSERT_EQ(a_.ring.UsedIdx(), 2);
  ASSERT_NE(a_.transport->interrupt_status(), 0u);  // left unacknowledged

  Transfer();
  ExpectSame();

  // Out of submission order, as a log may deliver them.
  Both([&](BlkMachine& m) { m.Complete(flush_id, blk::kStatusOk); });
  Both([&](BlkMachine& m) {
    m.Complete(read_id, blk::kStatusOk, Pattern(1024, 9));
  });
  ExpectSame();
  EXPECT_EQ(b_.ring.UsedIdx(), 4);
  EXPECT_EQ(b_.StatusOf(1), blk::kStatusOk);
  EXPECT_EQ(b_.StatusOf(2), blk::kStatusOk);
  EXPECT_EQ(b_.ring.Used(3).id, 3u);      // the read's head
  EXPECT_EQ(b_.ring.Used(3).len, 1025u);  // data and status byte
  std::vector<uint8_t> read(1024);
  ASSERT_TRUE(b_.memory.Read(Gpa(kBuffers + 0x1000), read).ok());
  EXPECT_EQ(read, Pattern(1024, 9));

  // Later requests get the same ids on both, so logged completions match.
  Both([](BlkMachine& m) {
    m.driver->AckInterrupts();
    m.Queue(4, blk::kTypeIn, 0, kBuffers + 0x4000, 512);
    m.driver->Notify(0);
  });
  ASSERT_EQ(b_.submitted.size(), 1u);
  EXPECT_EQ(b_.submitted[0].id, a_.submitted.back().id);
  EXPECT_EQ(b_.submitted[0].offset, 0u);
  EXPECT_EQ(b_.submitted[0].length, 512u);
  const uint64_t next_id = b_.submitted[0].id;
  Both([&](BlkMachine& m) {
    m.Complete(next_id, blk::kStatusOk, Pattern(512, 1));
  });
  ExpectSame();
  EXPECT_EQ(b_.ring.UsedIdx(), 5);
}

TEST_F(BlkSnapshotTest, CompletionFromBeforeADriverResetIsDroppedOnBoth) {
  GoLive(a_);
  a_.Queue(0, blk::kTypeIn, 0, kBuffers, 512);
  a_.driver->Notify(0);
  ASSERT_EQ(a_.submitted.size(), 1u);
  const uint64_t stale_id = a_.submitted[0].id;
  // The driver resets and sets the queue up again (a new epoch) while the
  // read is still with the back end.
  a_.driver->Write(mmio::kStatus, 0);
  a_.ring.SetAvailIdx(0);
  a_.ring.Put<uint16_t>(a_.ring.used() + 2, 0);
  GoLive(a_);
  a_.Queue(1, blk::kTypeIn, 1, kBuffers + 0x1000, 512);
  a_.driver->Notify(0);
  ASSERT_EQ(a_.submitted.size(), 2u);
  const uint64_t live_id = a_.submitted[1].id;

  Transfer();
  ExpectSame();

  Both([&](BlkMachine& m) {
    m.Complete(stale_id, blk::kStatusOk, Pattern(512, 5));
  });
  ExpectSame();
  EXPECT_EQ(b_.ring.UsedIdx(), 0);  // nothing returned for the old request
  std::vector<uint8_t> untouched(512);
  ASSERT_TRUE(b_.memory.Read(Gpa(kBuffers), untouched).ok());
  EXPECT_EQ(untouched, std::vector<uint8_t>(512, 0));

  Both([&](BlkMachine& m) {
    m.Complete(live_id, blk::kStatusOk, Pattern(512, 6));
  });
  ExpectSame();
  EXPECT_EQ(b_.ring.UsedIdx(), 1);
  EXPECT_EQ(b_.StatusOf(1), blk::kStatusOk);
}

// A request that does not fit the back end's budget waits, popped, in the
// device; it must go to the back end on both machines once room returns.
class BlkDeferredSnapshotTest : public BlkSnapshotTest {
 protected:
  static constexpr uint64_t kBig = VirtioBlk::kMaxOutstandingBytes - 4096;
  static constexpr uint64_t kBigBuffer = 4 << 20;
  BlkDeferredSnapshotTest() : BlkSnapshotTest(72 << 20, 128 << 20) {}
};

TEST_F(BlkDeferredSnapshotTest, DeferredChainIsSubmittedOnBoth) {
  GoLive(a_);
  a_.Queue(0, blk::kTypeIn, 0, kBigBuffer, kBig);
  a_.Queue(1, blk::kTypeIn, 16, kBuffers, 8192);  // over the budget: waits
  a_.driver->Notify(0);
  ASSERT_EQ(a_.submitted.size(), 1u);
  const uint64_t big_id = a_.submitted[0].id;

  Transfer();
  ExpectSame();

  const std::vector<uint8_t> big = Pattern(kBig, 2);
  Both([&](BlkMachine& m) { m.Complete(big_id, blk::kStatusOk, big); });
  // Room again: the waiting request went to both back ends.
  ASSERT_EQ(a_.submitted.size(), 2u);
  ASSERT_EQ(b_.submitted.size(), 1u);
  EXPECT_EQ(b_.submitted[0].id, a_.submitted[1].id);
  EXPECT_EQ(b_.submitted[0].offset, 16u * 512);
  EXPECT_EQ(b_.submitted[0].length, 8192u);
  const uint64_t small_id = b_.submitted[0].id;
  Both([&](BlkMachine& m) {
    m.Complete(small_id, blk::kStatusOk, Pattern(8192, 4));
  });
  ExpectSame();
  EXPECT_EQ(b_.ring.UsedIdx(), 2);
  EXPECT_EQ(b_.StatusOf(0), blk::kStatusOk);
  EXPECT_EQ(b_.StatusOf(1), blk::kStatusOk);
}

}  // namespace
}  // namespace ft::vmm
