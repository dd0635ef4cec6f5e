// Tests for vmm/memory/guest_memory.h.
#include "vmm/memory/guest_memory.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kPage = GuestMemory::kPageSize;
constexpr uint64_t kLow = GuestMemory::kLowRamEnd;
constexpr uint64_t kHigh = GuestMemory::kHighRamStart;

GuestMemory MustCreate(uint64_t size) {
  absl::StatusOr<GuestMemory> mem = GuestMemory::Create({.size = size});
  EXPECT_TRUE(mem.ok()) << mem.status();
  return std::move(mem).value();
}

void ExpectOutOfRange(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
  absl::StatusOr<std::span<uint8_t>> s = mem.Slice(Gpa(gpa), len);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kOutOfRange)
      << "gpa=0x" << std::hex << gpa << " len=0x" << len;
}

// Returns the host pointer for [gpa, gpa + len), failing the test if refused.
uint8_t* MustSlice(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
  absl::StatusOr<std::span<uint8_t>> s = mem.Slice(Gpa(gpa), len);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  EXPECT_EQ(s->size(), len);
  return s->data();
}

// ---------------------------------------------------------------------------
// Create

TEST(GuestMemoryCreateTest, RejectsBadSizes) {
  for (uint64_t size :
       {uint64_t{0}, uint64_t{1}, kPage - 1, kPage + 1, 3 * kPage / 2,
        GuestMemory::kMaxSize + kPage, uint64_t{1} << 41,
        UINT64_MAX & ~(kPage - 1), UINT64_MAX}) {
    absl::StatusOr<GuestMemory> mem = GuestMemory::Create({.size = size});
    EXPECT_EQ(mem.status().code(), absl::StatusCode::kInvalidArgument)
        << "size " << size;
  }
}

TEST(GuestMemoryCreateTest, SmallSizeIsOneRegionAtZero) {
  GuestMemory mem = MustCreate(16 * kPage);
  EXPECT_EQ(mem.size(), 16 * kPage);
  ASSERT_EQ(mem.regions().size(), 1u);
  EXPECT_EQ(mem.regions()[0].base, Gpa(0));
  EXPECT_EQ(mem.regions()[0].size(), 16 * kPage);
  EXPECT_EQ(mem.regions()[0].end(), 16 * kPage);
}

TEST(GuestMemoryCreateTest, ExactlyLowRamEndIsOneRegion) {
  GuestMemory mem = MustCreate(kLow);
  ASSERT_EQ(mem.regions().size(), 1u);
  EXPECT_EQ(mem.regions()[0].end(), kLow);
  EXPECT_EQ(mem.size(), kLow);
}

TEST(GuestMemoryCreateTest, AboveLowRamEndSplitsAroundTheHole) {
  GuestMemory mem = MustCreate(kLow + 2 * kPage);
  EXPECT_EQ(mem.size(), kLow + 2 * kPage);
  ASSERT_EQ(mem.regions().size(), 2u);
  EXPECT_EQ(mem.regions()[0].base, Gpa(0));
  EXPECT_EQ(mem.regions()[0].size(), kLow);
  EXPECT_EQ(mem.regions()[1].base, Gpa(kHigh));
  EXPECT_EQ(mem.regions()[1].size(), 2 * kPage);
  EXPECT_EQ(mem.regions()[1].end(), kHigh + 2 * kPage);
}

TEST(GuestMemoryCreateTest, FreshMemoryIsZero) {
  GuestMemory mem = MustCreate(4 * kPage);
  std::vector<uint8_t> buf(4 * kPage, 0xFF);
  ASSERT_TRUE(mem.Read(Gpa(0), buf).ok());
  EXPECT_EQ(std::count(buf.begin(), buf.end(), 0),
            static_cast<long>(buf.size()));
}

// ---------------------------------------------------------------------------
// Slice, one region

class SliceTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 16 * kPage;
  GuestMemory mem_ = MustCreate(kSize);
};

TEST_F(SliceTest, WholeRegionAndInterior) {
  uint8_t* base = mem_.regions()[0].mapping.data();
  EXPECT_EQ(MustSlice(mem_, 0, kSize), base);
  EXPECT_EQ(MustSlice(mem_, 0x1234, 0x10), base + 0x1234);
}

TEST_F(SliceTest, LastByte) {
  uint8_t* base = mem_.regions()[0].mapping.data();
  EXPECT_EQ(MustSlice(mem_, kSize - 1, 1), base + kSize - 1);
  ExpectOutOfRange(mem_, kSize - 1, 2);
  ExpectOutOfRange(mem_, kSize - 2, 3);
  EXPECT_EQ(MustSlice(mem_, kSize - 2, 2), base + kSize - 2);
}

TEST_F(SliceTest, EmptyAtRegionEndIsOkButNotBeyond) {
  EXPECT_EQ(MustSlice(mem_, kSize, 0),
            mem_.regions()[0].mapping.data() + kSize);
  EXPECT_EQ(MustSlice(mem_, 0, 0), mem_.regions()[0].mapping.data());
  ExpectOutOfRange(mem_, kSize, 1);
  ExpectOutOfRange(mem_, kSize + 1, 0);
  ExpectOutOfRange(mem_, kLow, 0);
}

TEST_F(SliceTest, HugeLengthDoesNotWrap) {
  ExpectOutOfRange(mem_, 0, UINT64_MAX);
  ExpectOutOfRange(mem_, 1, UINT64_MAX);                  // 1 + len wraps to 0
  ExpectOutOfRange(mem_, kPage, UINT64_MAX - kPage + 1);  // wraps to 0
  ExpectOutOfRange(mem_, kSize - 1, UINT64_MAX);
  ExpectOutOfRange(mem_, kSize, UINT64_MAX);
  ExpectOutOfRange(mem_, 0, kSize + 1);
}

TEST_F(SliceTest, AddressNearTopDoesNotWrap) {
  ExpectOutOfRange(mem_, UINT64_MAX, 0);
  ExpectOutOfRange(mem_, UINT64_MAX, 1);
  ExpectOutOfRange(mem_, UINT64_MAX, 2);  // gpa + len wraps to 1
  ExpectOutOfRange(mem_, UINT64_MAX - kPage + 1, kPage);  // wraps to 0
  ExpectOutOfRange(mem_, UINT64_MAX - 15, 32);
  ExpectOutOfRange(mem_, UINT64_MAX, UINT64_MAX);
}

TEST_F(SliceTest, ErrorNamesTheRangeInHex) {
  absl::StatusOr<std::span<uint8_t>> s = mem_.Slice(Gpa(0xABC000), 0x20);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("0xabc000"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("0x20"));
}

// ---------------------------------------------------------------------------
// Slice, two regions (3 GiB low + 8 KiB high; MAP_NORESERVE keeps it cheap)

class TwoRegionTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kHighSize = 2 * kPage;
  GuestMemory mem_ = MustCreate(kLow + kHighSize);
  uint8_t* low() const { return mem_.regions()[0].mapping.data(); }
  uint8_t* high() const { return mem_.regions()[1].mapping.data(); }
};

TEST_F(TwoRegionTest, LastByteOfLowRegion) {
  EXPECT_EQ(MustSlice(mem_, kLow - 1, 1), low() + kLow - 1);
  ExpectOutOfRange(mem_, kLow - 1, 2);
  EXPECT_EQ(MustSlice(mem_, kLow, 0), low() + kLow);
}

TEST_F(TwoRegionTest, HoleIsRefused) {
  for (uint64_t gpa : {kLow, kLow + 1, uint64_t{0xFEE0'0000}, kHigh - 1}) {
    ExpectOutOfRange(mem_, gpa, 1);
    if (gpa != kLow) ExpectOutOfRange(mem_, gpa, 0);
  }
  ExpectOutOfRange(mem_, kHigh - 1, 2);  // starts in the hole, ends in RAM
}

TEST_F(TwoRegionTest, RangeSpanningTheHoleIsRefused) {
  ExpectOutOfRange(mem_, kLow - kPage, kHigh - kLow + 2 * kPage);
  ExpectOutOfRange(mem_, 0, kLow + kHighSize);  // total size, not contiguous
  ExpectOutOfRange(mem_, kLow - 1, kHigh - kLow + 2);
}

TEST_F(TwoRegionTest, HighRegionBounds) {
  EXPECT_EQ(MustSlice(mem_, kHigh, 1), high());
  EXPECT_EQ(MustSlice(mem_, kHigh, kHighSize), high());
  EXPECT_EQ(MustSlice(mem_, kHigh + kHighSize - 1, 1), high() + kHighSize - 1);
  ExpectOutOfRange(mem_, kHigh + kHighSize - 1, 2);
  EXPECT_EQ(MustSlice(mem_, kHigh + kHighSize, 0), high() + kHighSize);
  ExpectOutOfRange(mem_, kHigh + kHighSize, 1);
  ExpectOutOfRange(mem_, kHigh, UINT64_MAX);
  ExpectOutOfRange(mem_, kHigh + 1, UINT64_MAX);
  ExpectOutOfRange(mem_, UINT64_MAX - 1, 4);
}

TEST_F(TwoRegionTest, RegionsDoNotAlias) {
  ASSERT_TRUE(mem_.Fill(Gpa(kHigh), kHighSize, 0xEE).ok());
  EXPECT_EQ(mem_.ReadObject<uint8_t>(Gpa(0)).value(), 0);
  EXPECT_EQ(mem_.ReadObject<uint8_t>(Gpa(kLow - 1)).value(), 0);
  ASSERT_TRUE(mem_.WriteObject<uint32_t>(Gpa(kLow - 4), 0x11223344).ok());
  EXPECT_EQ(mem_.ReadObject<uint32_t>(Gpa(kHigh)).value(), 0xEEEEEEEEu);
  EXPECT_EQ(mem_.ReadObject<uint32_t>(Gpa(kLow - 4)).value(), 0x11223344u);
  EXPECT_EQ(high()[kHighSize - 1], 0xEE);
}

// ---------------------------------------------------------------------------
// Read / Write / Fill / objects

TEST_F(SliceTest, WriteReadRoundTrip) {
  std::vector<uint8_t> data(300);
  std::iota(data.begin(), data.end(), uint8_t{1});
  ASSERT_TRUE(mem_.Write(Gpa(0x2FF0), data).ok());  // crosses a page boundary
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(mem_.Read(Gpa(0x2FF0), back).ok());
  EXPECT_EQ(back, data);
  EXPECT_EQ(mem_.regions()[0].mapping.data()[0x2FF0], 1);
  EXPECT_EQ(mem_.ReadObject<uint8_t>(Gpa(0x2FEF)).value(), 0);  // untouched
}

TEST_F(SliceTest, WriteAtEndOfRamAndOnePastFails) {
  const std::array<uint8_t, 4> data = {1, 2, 3, 4};
  ASSERT_TRUE(mem_.Write(Gpa(kSize - 4), data).ok());
  const std::array<uint8_t, 4> other = {9, 9, 9, 9};
  absl::Status s = mem_.Write(Gpa(kSize - 3), other);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  // A refused write must not write the part that was in range.
  std::array<uint8_t, 4> back{};
  ASSERT_TRUE(mem_.Read(Gpa(kSize - 4), back).ok());
  EXPECT_EQ(back, data);
  std::array<uint8_t, 4> out{};
  EXPECT_EQ(mem_.Read(Gpa(kSize - 3), out).code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(SliceTest, EmptyReadAndWriteAtEnd) {
  EXPECT_TRUE(mem_.Write(Gpa(kSize), std::span<const uint8_t>()).ok());
  EXPECT_TRUE(mem_.Read(Gpa(kSize), std::span<uint8_t>()).ok());
  EXPECT_TRUE(mem_.Fill(Gpa(kSize), 0, 0xAA).ok());
}

TEST_F(SliceTest, FillSetsExactlyTheRange) {
  ASSERT_TRUE(mem_.Fill(Gpa(kPage + 8), 16, 0x5A).ok());
  std::vector<uint8_t> back(32);
  ASSERT_TRUE(mem_.Read(Gpa(kPage), back).ok());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i], (i >= 8 && i < 24) ? 0x5A : 0) << "byte " << i;
  }
  EXPECT_EQ(mem_.Fill(Gpa(kSize - 1), 2, 1).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mem_.Fill(Gpa(0), UINT64_MAX, 1).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mem_.ReadObject<uint8_t>(Gpa(kSize - 1)).value(), 0);
}

struct BootRecord {
  uint32_t magic;
  uint16_t version;
  uint16_t flags;
  uint64_t entry;
};

TEST_F(SliceTest, ObjectRoundTrip) {
  const BootRecord in{0x53726448, 0x020F, 0x8001, 0x0010'0000};
  ASSERT_TRUE(mem_.WriteObject(Gpa(0x1000), in).ok());
  absl::StatusOr<BootRecord> out = mem_.ReadObject<BootRecord>(Gpa(0x1000));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->magic, in.magic);
  EXPECT_EQ(out->version, in.version);
  EXPECT_EQ(out->flags, in.flags);
  EXPECT_EQ(out->entry, in.entry);
  // Little-endian layout as the guest sees it.
  EXPECT_EQ(mem_.ReadObject<uint8_t>(Gpa(0x1000)).value(), 0x48);
  EXPECT_EQ(mem_.ReadObject<uint16_t>(Gpa(0x1004)).value(), 0x020F);
}

TEST_F(SliceTest, ObjectAtEndBoundary) {
  EXPECT_TRUE(
      mem_.WriteObject<uint64_t>(Gpa(kSize - 8), 0x0102030405060708).ok());
  EXPECT_EQ(mem_.ReadObject<uint64_t>(Gpa(kSize - 8)).value(),
            0x0102030405060708u);
  EXPECT_EQ(mem_.WriteObject<uint64_t>(Gpa(kSize - 7), 1).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mem_.ReadObject<uint64_t>(Gpa(kSize - 7)).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mem_.ReadObject<uint64_t>(Gpa(UINT64_MAX - 3)).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(GuestMemoryMoveTest, MoveKeepsMappingsAndContent) {
  GuestMemory a = MustCreate(4 * kPage);
  ASSERT_TRUE(a.WriteObject<uint32_t>(Gpa(0x100), 0xCAFEF00D).ok());
  uint8_t* host = a.regions()[0].mapping.data();
  GuestMemory b = std::move(a);
  EXPECT_EQ(b.size(), 4 * kPage);
  ASSERT_EQ(b.regions().size(), 1u);
  EXPECT_EQ(b.regions()[0].mapping.data(), host);
  EXPECT_EQ(b.ReadObject<uint32_t>(Gpa(0x100)).value(), 0xCAFEF00Du);
}

}  // namespace
}  // namespace ft::vmm
