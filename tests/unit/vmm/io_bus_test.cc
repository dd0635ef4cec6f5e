// Tests for vmm/io/io_bus.h.
#include "vmm/io/io_bus.h"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records every access; reads return `fill_base + offset + i` per byte.
class RecordingDevice : public IoDevice {
 public:
  struct Record {
    IoSpace space;
    uint64_t address;
    uint64_t offset;
    bool is_write;
    std::vector<uint8_t> bytes;  // written bytes, or the size for reads
  };

  explicit RecordingDevice(std::string name, uint8_t fill_base = 0x10)
      : name_(std::move(name)), fill_base_(fill_base) {}
  std::string_view name() const override { return name_; }
  void Access(const IoAccess& a) override {
    if (!a.is_write) {
      for (size_t i = 0; i < a.data.size(); ++i) {
        a.data[i] = static_cast<uint8_t>(fill_base_ + a.offset + i);
      }
    }
    records.push_back(
        Record{a.space, a.address, a.offset, a.is_write,
               std::vector<uint8_t>(a.data.begin(), a.data.end())});
  }

  std::vector<Record> records;

 private:
  std::string name_;
  uint8_t fill_base_;
};

// ---------------------------------------------------------------------------
// Register

TEST(IoBusRegisterTest, RefusesOverlapsWithEitherNeighbour) {
  IoBus bus;
  RecordingDevice a("dev-a"), b("dev-b");
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x100, 0x10, &a).ok());

  // Overlapping the end of the existing claim (previous neighbour).
  absl::Status s = bus.Register(IoSpace::kPio, 0x10f, 4, &b);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), HasSubstr("dev-a"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("dev-b"));
  // Overlapping the start of the existing claim (next neighbour).
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0xf0, 0x11, &b).code(),
            absl::StatusCode::kAlreadyExists);
  // Exactly the same base, and a range swallowing the claim entirely.
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0x100, 1, &b).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0x0, 0x1000, &b).code(),
            absl::StatusCode::kAlreadyExists);
  // Inside it.
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0x108, 1, &b).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(IoBusRegisterTest, AcceptsAdjacentRanges) {
  IoBus bus;
  RecordingDevice a("a"), b("b"), c("c");
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x100, 0x10, &a).ok());
  EXPECT_TRUE(bus.Register(IoSpace::kPio, 0x110, 0x10, &b).ok());
  EXPECT_TRUE(bus.Register(IoSpace::kPio, 0xf0, 0x10, &c).ok());
  // A refused registration leaves the earlier claims working.
  EXPECT_FALSE(bus.Register(IoSpace::kPio, 0x105, 0x1, &c).ok());
  std::array<uint8_t, 1> d{};
  bus.Dispatch(IoSpace::kPio, 0x10f, false, d);
  bus.Dispatch(IoSpace::kPio, 0x110, false, d);
  bus.Dispatch(IoSpace::kPio, 0xff, false, d);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].offset, 0xfu);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].offset, 0u);
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].offset, 0xfu);
}

TEST(IoBusRegisterTest, SpacesAreIndependent) {
  IoBus bus;
  RecordingDevice a("a"), b("b");
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x1000, 8, &a).ok());
  EXPECT_TRUE(bus.Register(IoSpace::kMmio, 0x1000, 8, &b).ok());
}

TEST(IoBusRegisterTest, RefusesEmptyAndWrappingRanges) {
  IoBus bus;
  RecordingDevice a("a");
  EXPECT_EQ(bus.Register(IoSpace::kMmio, 0x1000, 0, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0x10, 0, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kMmio, 0, 0, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0, 0, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kMmio, UINT64_MAX, 2, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kMmio, 0x1000, UINT64_MAX, &a).code(),
            absl::StatusCode::kInvalidArgument);
  // The very last byte of the MMIO space is a valid claim.
  EXPECT_TRUE(bus.Register(IoSpace::kMmio, UINT64_MAX, 1, &a).ok());
}

TEST(IoBusRegisterTest, RefusesPortsBeyond0xffff) {
  IoBus bus;
  RecordingDevice a("a");
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0xfff0, 0x11, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kPio, 0x10000, 1, &a).code(),
            absl::StatusCode::kInvalidArgument);
  // base + length reaching exactly 2^64 must not wrap past the check.
  EXPECT_EQ(bus.Register(IoSpace::kPio, UINT64_MAX, 1, &a).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Register(IoSpace::kPio, UINT64_MAX - 0xff, 0x100, &a).code(),
            absl::StatusCode::kInvalidArgument);
  // The last port and the whole space are fine.
  EXPECT_TRUE(bus.Register(IoSpace::kPio, 0xfff0, 0x10, &a).ok());
  IoBus whole;
  EXPECT_TRUE(whole.Register(IoSpace::kPio, 0, 0x10000, &a).ok());
}

// ---------------------------------------------------------------------------
// Dispatch

TEST(IoBusDispatchTest, RoutesByAddressWithOffset) {
  IoBus bus;
  RecordingDevice a("a", 0x10), b("b", 0x80);
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x3f8, 8, &a).ok());
  ASSERT_TRUE(bus.Register(IoSpace::kMmio, 0xfee00000, 0x1000, &b).ok());

  std::array<uint8_t, 2> rd{};
  bus.Dispatch(IoSpace::kPio, 0x3fd, false, rd);
  EXPECT_THAT(rd, ElementsAre(0x15, 0x16));
  std::array<uint8_t, 4> wr{1, 2, 3, 4};
  bus.Dispatch(IoSpace::kMmio, 0xfee00300, true, wr);
  EXPECT_THAT(wr, ElementsAre(1, 2, 3, 4));  // a write is not modified

  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].space, IoSpace::kPio);
  EXPECT_EQ(a.records[0].address, 0x3fdu);
  EXPECT_EQ(a.records[0].offset, 5u);
  EXPECT_FALSE(a.records[0].is_write);
  EXPECT_EQ(a.records[0].bytes.size(), 2u);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].space, IoSpace::kMmio);
  EXPECT_EQ(b.records[0].address, 0xfee00300u);
  EXPECT_EQ(b.records[0].offset, 0x300u);
  EXPECT_TRUE(b.records[0].is_write);
  EXPECT_THAT(b.records[0].bytes, ElementsAre(1, 2, 3, 4));

  // The same address in the other space is not routed to the device.
  std::array<uint8_t, 1> one{};
  bus.Dispatch(IoSpace::kMmio, 0x3f8, false, one);
  EXPECT_EQ(one[0], 0xff);
  EXPECT_EQ(a.records.size(), 1u);
}

TEST(IoBusDispatchTest, AccessStraddlingClaimEndIsUnclaimed) {
  IoBus bus;
  RecordingDevice a("a"), b("b");
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x40, 4, &a).ok());
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x44, 4, &b).ok());
  std::array<uint8_t, 2> d{0, 0};
  bus.Dispatch(IoSpace::kPio, 0x43, false, d);  // 0x43..0x44 spans a and b
  EXPECT_THAT(d, ElementsAre(0xff, 0xff));
  std::array<uint8_t, 4> w{9, 9, 9, 9};
  bus.Dispatch(IoSpace::kPio, 0x46, true, w);  // runs past b's end
  EXPECT_TRUE(a.records.empty());
  EXPECT_TRUE(b.records.empty());
  EXPECT_EQ(bus.stats().unclaimed, 2u);
  // An access ending exactly at the claim's end is fine.
  bus.Dispatch(IoSpace::kPio, 0x46, false, d);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].offset, 2u);
}

TEST(IoBusDispatchTest, UnclaimedReadsReturnOnesAndAreCounted) {
  IoBus bus;
  RecordingDevice a("a");
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x60, 1, &a).ok());
  EXPECT_EQ(bus.stats().accesses, 0u);
  EXPECT_EQ(bus.stats().unclaimed, 0u);

  std::array<uint8_t, 8> d{};
  bus.Dispatch(IoSpace::kMmio, 0xd0000000, false, d);
  EXPECT_THAT(d, Each(0xff));
  std::array<uint8_t, 4> w{1, 2, 3, 4};
  bus.Dispatch(IoSpace::kPio, 0x80, true, w);  // dropped
  EXPECT_THAT(w, ElementsAre(1, 2, 3, 4));
  std::array<uint8_t, 1> one{};
  bus.Dispatch(IoSpace::kPio, 0x60, false, one);  // claimed
  bus.Dispatch(IoSpace::kPio, 0x5f, false, one);  // just below the claim
  EXPECT_EQ(one[0], 0xff);

  IoBus::Stats st = bus.stats();
  EXPECT_EQ(st.accesses, 4u);
  EXPECT_EQ(st.unclaimed, 3u);
  EXPECT_EQ(a.records.size(), 1u);
}

// ---------------------------------------------------------------------------
// Decoded exits

TEST(IoBusExitTest, HandlePioSingle) {
  IoBus bus;
  RecordingDevice a("a", 0x20);
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x70, 2, &a).ok());
  std::array<uint8_t, 2> buf{};
  bus.HandlePio(PioExit{
      .port = 0x70, .size = 2, .count = 1, .is_write = false, .data = buf});
  EXPECT_THAT(buf, ElementsAre(0x20, 0x21));
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].address, 0x70u);
}

TEST(IoBusExitTest, HandlePioStringMakesCountAccesses) {
  IoBus bus;
  RecordingDevice a("a", 0x30);
  ASSERT_TRUE(bus.Register(IoSpace::kPio, 0x1f0, 8, &a).ok());

  // OUTSW x3: three 2-byte writes of consecutive elements to the same port.
  std::array<uint8_t, 6> out{1, 2, 3, 4, 5, 6};
  bus.HandlePio(PioExit{
      .port = 0x1f0, .size = 2, .count = 3, .is_write = true, .data = out});
  ASSERT_EQ(a.records.size(), 3u);
  for (const auto& r : a.records) {
    EXPECT_EQ(r.address, 0x1f0u);
    EXPECT_EQ(r.offset, 0u);
    EXPECT_TRUE(r.is_write);
  }
  EXPECT_THAT(a.records[0].bytes, ElementsAre(1, 2));
  EXPECT_THAT(a.records[1].bytes, ElementsAre(3, 4));
  EXPECT_THAT(a.records[2].bytes, ElementsAre(5, 6));

  // INSB x4 at offset 1: each element is filled separately.
  std::array<uint8_t, 4> in{};
  bus.HandlePio(PioExit{
      .port = 0x1f1, .size = 1, .count = 4, .is_write = false, .data = in});
  EXPECT_THAT(in, Each(0x31));
  EXPECT_EQ(a.records.size(), 7u);
  EXPECT_EQ(bus.stats().accesses, 7u);

  // Unclaimed string input fills every element with ones.
  std::array<uint8_t, 8> none{};
  bus.HandlePio(PioExit{
      .port = 0x2f0, .size = 4, .count = 2, .is_write = false, .data = none});
  EXPECT_THAT(none, Each(0xff));
  EXPECT_EQ(bus.stats().unclaimed, 2u);
}

TEST(IoBusExitTest, HandleMmio) {
  IoBus bus;
  RecordingDevice a("a", 0x40);
  ASSERT_TRUE(bus.Register(IoSpace::kMmio, 0xfec00000, 0x20, &a).ok());
  std::array<uint8_t, 4> buf{};
  bus.HandleMmio(MmioExit{
      .address = Gpa(0xfec00010), .size = 4, .is_write = false, .data = buf});
  EXPECT_THAT(buf, ElementsAre(0x50, 0x51, 0x52, 0x53));
  std::array<uint8_t, 8> w{1, 2, 3, 4, 5, 6, 7, 8};
  bus.HandleMmio(MmioExit{
      .address = Gpa(0xfec00018), .size = 8, .is_write = true, .data = w});
  ASSERT_EQ(a.records.size(), 2u);
  EXPECT_EQ(a.records[0].space, IoSpace::kMmio);
  EXPECT_EQ(a.records[0].offset, 0x10u);
  EXPECT_EQ(a.records[1].offset, 0x18u);
  EXPECT_TRUE(a.records[1].is_write);
  EXPECT_THAT(a.records[1].bytes, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

}  // namespace
}  // namespace ft::vmm
