// Tests for the descriptor-chain parser of vmm/virtio/virtqueue.h over
// hand-built rings in a real GuestMemory: good chains, and every malformed
// one refused with a reason (never a crash).
#include "vmm/virtio/virtqueue.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::Buf;
using ::ft::vmm::testing::MakeMemory;
using ::ft::vmm::testing::RingBuilder;
using ::testing::HasSubstr;

constexpr uint64_t kRam = 1 << 20;
constexpr uint64_t kData = 0x10000;   // buffers live from here
constexpr uint64_t kTable = 0x80000;  // indirect tables live here
constexpr uint16_t N = virtio::kDescFlagNext;
constexpr uint16_t W = virtio::kDescFlagWrite;
constexpr uint16_t I = virtio::kDescFlagIndirect;

class ChainTest : public ::testing::Test {
 protected:
  ChainTest() : memory_(MakeMemory(kRam)), ring_(memory_, 8, 0x1000) {}

  absl::StatusOr<DescriptorChain> Parse(uint16_t head, bool indirect = true,
                                        uint64_t max_bytes = 1 << 20) {
    return ParseDescriptorChain(memory_, Gpa(ring_.desc()), head,
                                ChainLimits{.queue_size = ring_.size(),
                                            .indirect_allowed = indirect,
                                            .max_total_bytes = max_bytes});
  }
  void ExpectRefused(uint16_t head, const std::string& why,
                     bool indirect = true) {
    absl::StatusOr<DescriptorChain> chain = Parse(head, indirect);
    ASSERT_FALSE(chain.ok());
    EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(chain.status().message(), HasSubstr(why));
  }
  void PutTable(uint64_t at, const std::vector<virtio::VirtqDesc>& table) {
    for (size_t i = 0; i < table.size(); ++i) ring_.Put(at + 16 * i, table[i]);
  }

  GuestMemory memory_;
  RingBuilder ring_;
};

TEST_F(ChainTest, ReadableThenWritableBuffers) {
  ring_.SetChain(2,
                 {{kData, 16}, {kData + 0x100, 512, true}, {kData, 1, true}});
  absl::StatusOr<DescriptorChain> chain = Parse(2);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->head, 2);
  ASSERT_EQ(chain->readable.size(), 1u);
  EXPECT_EQ(chain->readable[0].addr, Gpa(kData));
  EXPECT_EQ(chain->readable[0].len, 16u);
  ASSERT_EQ(chain->writable.size(), 2u);
  EXPECT_EQ(chain->writable[0].len, 512u);
  EXPECT_EQ(chain->readable_bytes, 16u);
  EXPECT_EQ(chain->writable_bytes, 513u);
}

TEST_F(ChainTest, SingleDescriptorAndZeroLengthBuffer) {
  ring_.SetDesc(7, kData, 0, 0);
  absl::StatusOr<DescriptorChain> chain = Parse(7);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->readable.size(), 1u);
  EXPECT_EQ(chain->readable_bytes, 0u);
}

TEST_F(ChainTest, ChainAsLongAsTheQueue) {
  std::vector<Buf> bufs(8, Buf{kData, 4});
  ring_.SetChain(0, bufs);
  absl::StatusOr<DescriptorChain> chain = Parse(0);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->readable.size(), 8u);
}

TEST_F(ChainTest, IndirectTable) {
  PutTable(kTable, RingBuilder::IndirectTable({{kData, 16},
                                               {kData + 0x200, 4096, true},
                                               {kData + 0x2000, 1, true}}));
  // WRITE on the indirect descriptor itself must be ignored.
  ring_.SetDesc(3, kTable, 48, I | W);
  absl::StatusOr<DescriptorChain> chain = Parse(3);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->head, 3);
  EXPECT_EQ(chain->readable.size(), 1u);
  EXPECT_EQ(chain->writable.size(), 2u);
  EXPECT_EQ(chain->writable_bytes, 4097u);
}

TEST_F(ChainTest, IndirectTableEndingADirectChain) {
  PutTable(kTable, RingBuilder::IndirectTable({{kData + 0x100, 8, true}}));
  ring_.SetDesc(0, kData, 16, N, 1);
  ring_.SetDesc(1, kTable, 16, I);
  absl::StatusOr<DescriptorChain> chain = Parse(0);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->readable_bytes, 16u);
  EXPECT_EQ(chain->writable_bytes, 8u);
}

TEST_F(ChainTest, IndirectChainSkippingEntries) {
  // Entry 0 links to entry 2; entry 1 is never part of the chain.
  PutTable(kTable, {{kData, 4, N, 2}, {~0ull, 4, 0, 0}, {kData, 4, W, 0}});
  ring_.SetDesc(0, kTable, 48, I);
  absl::StatusOr<DescriptorChain> chain = Parse(0);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->readable.size(), 1u);
  EXPECT_EQ(chain->writable.size(), 1u);
}

// --- malformed chains: every one refused, none crashes ---

TEST_F(ChainTest, RefusesHeadOutOfRange) { ExpectRefused(8, "head index"); }

TEST_F(ChainTest, RefusesNextOutOfRange) {
  ring_.SetDesc(0, kData, 4, N, 8);
  ExpectRefused(0, "next index 8 is out of range");
}

TEST_F(ChainTest, RefusesLoops) {
  ring_.SetDesc(0, kData, 4, N, 1);
  ring_.SetDesc(1, kData, 4, N, 0);
  ExpectRefused(0, "loops");
  ring_.SetDesc(5, kData, 4, N, 5);  // a self-loop
  ExpectRefused(5, "loops");
}

TEST_F(ChainTest, RefusesBuffersOutsideRam) {
  ring_.SetDesc(0, kRam - 8, 16, 0);  // crosses the end of RAM
  ExpectRefused(0, "not inside guest RAM");
  ring_.SetDesc(0, kRam, 1, 0);  // wholly beyond
  ExpectRefused(0, "not inside guest RAM");
  ring_.SetDesc(0, ~0ull - 10, 100, 0);  // addr + len wraps
  ExpectRefused(0, "not inside guest RAM");
  ring_.SetDesc(0, GuestMemory::kLowRamEnd, 4, 0);  // the MMIO hole
  ExpectRefused(0, "not inside guest RAM");
}

TEST_F(ChainTest, RefusesDescriptorTableOutsideRam) {
  absl::StatusOr<DescriptorChain> chain = ParseDescriptorChain(
      memory_, Gpa(kRam - 16), 1,
      ChainLimits{.queue_size = 8, .max_total_bytes = 1 << 20});
  EXPECT_FALSE(chain.ok());
  chain = ParseDescriptorChain(
      memory_, Gpa(~0ull - 15), 1,
      ChainLimits{.queue_size = 8, .max_total_bytes = 1 << 20});
  EXPECT_FALSE(chain.ok());
}

TEST_F(ChainTest, RefusesReadableAfterWritable) {
  ring_.SetChain(0, {{kData, 4}, {kData, 4, true}, {kData, 4}});
  ExpectRefused(0, "device-readable buffer after a device-writable one");
  PutTable(kTable, RingBuilder::IndirectTable({{kData, 4, true}, {kData, 4}}));
  ring_.SetDesc(0, kTable, 32, I);
  ExpectRefused(0, "device-readable buffer after a device-writable one");
}

TEST_F(ChainTest, RefusesOversizedChains) {
  ring_.SetChain(0, {{kData, 0x80000}, {kData, 0x80000, true}});
  EXPECT_TRUE(Parse(0, true, 0x100000).ok());
  absl::StatusOr<DescriptorChain> chain = Parse(0, true, 0xfffff);
  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(chain.status().message(), HasSubstr("add up to more than"));
  // The same RAM named many times still counts every time.
  ring_.SetChain(0, std::vector<Buf>(8, Buf{0, static_cast<uint32_t>(kRam)}));
  EXPECT_TRUE(Parse(0, true, 8 * kRam).ok());
  EXPECT_FALSE(Parse(0, true, 8 * kRam - 1).ok());
}

TEST_F(ChainTest, RefusesIndirectWhenNotNegotiated) {
  PutTable(kTable, RingBuilder::IndirectTable({{kData, 4}}));
  ring_.SetDesc(0, kTable, 16, I);
  ExpectRefused(0, "VIRTIO_F_INDIRECT_DESC", /*indirect=*/false);
}

TEST_F(ChainTest, RefusesIndirectWithNext) {
  PutTable(kTable, RingBuilder::IndirectTable({{kData, 4}}));
  ring_.SetDesc(0, kTable, 16, I | N, 1);
  ExpectRefused(0, "indirect descriptor with NEXT");
}

TEST_F(ChainTest, RefusesIndirectInIndirect) {
  PutTable(kTable, {{kData, 4, N, 1}, {kTable, 32, I, 0}});
  ring_.SetDesc(0, kTable, 32, I);
  ExpectRefused(0, "indirect descriptor inside an indirect table");
}

TEST_F(ChainTest, RefusesBadIndirectLengths) {
  ring_.SetDesc(0, kTable, 0, I);
  ExpectRefused(0, "not a non-zero multiple of 16");
  ring_.SetDesc(0, kTable, 24, I);
  ExpectRefused(0, "not a non-zero multiple of 16");
  ring_.SetDesc(0, kTable, 16 * (kMaxIndirectEntries + 1), I);
  ExpectRefused(0, "entries (max 1024)");
  ring_.SetDesc(0, kRam - 16, 32, I);
  ExpectRefused(0, "indirect table");
}

TEST_F(ChainTest, RefusesIndirectLoopsAndBadNext) {
  PutTable(kTable, {{kData, 4, N, 1}, {kData, 4, N, 0}});
  ring_.SetDesc(0, kTable, 32, I);
  ExpectRefused(0, "indirect chain loops");
  PutTable(kTable, {{kData, 4, N, 2}, {kData, 4, 0, 0}});
  ExpectRefused(0, "indirect next index 2 is out of range");
}

TEST(SegmentsTest, ReadAndWriteAcrossSegments) {
  GuestMemory memory = MakeMemory(kRam);
  const std::vector<BufferSegment> segments = {
      {Gpa(0x1000), 3}, {Gpa(0x2000), 0}, {Gpa(0x3000), 5}};
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(WriteToSegments(memory, segments, 0, data).ok());
  std::vector<uint8_t> out(4);
  ASSERT_TRUE(ReadFromSegments(memory, segments, 2, out).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 4, 5, 6}));
  EXPECT_EQ(memory.ReadObject<uint8_t>(Gpa(0x3004)).value(), 8);
  EXPECT_FALSE(ReadFromSegments(memory, segments, 5, out).ok());
  EXPECT_FALSE(
      WriteToSegments(memory, segments, 8, std::span(data).first(1)).ok());
}

}  // namespace
}  // namespace ft::vmm
