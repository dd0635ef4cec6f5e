// Tests for replay/crc32c.h against published CRC-32C check values.
#include "replay/crc32c.h"

#include <cstdint>
#include <numeric>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace ft::replay {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32cTest, CheckValue) {
  // The standard check value of CRC-32C (Castagnoli).
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xe3069283u);
  EXPECT_EQ(Crc32c({}), 0u);
}

TEST(Crc32cTest, Rfc3720Vectors) {
  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xff);
  std::vector<uint8_t> up(32);
  std::iota(up.begin(), up.end(), 0);
  std::vector<uint8_t> down(32);
  std::iota(down.rbegin(), down.rend(), 0);
  EXPECT_EQ(Crc32c(zeros), 0x8a9136aau);
  EXPECT_EQ(Crc32c(ones), 0x62a8ab43u);
  EXPECT_EQ(Crc32c(up), 0x46dd794eu);
  EXPECT_EQ(Crc32c(down), 0x113fdb5cu);
}

TEST(Crc32cTest, IncrementalEqualsOneShotAtEverySplit) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7 + 1);
  const uint32_t whole = Crc32c(data);
  const std::span<const uint8_t> all(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    EXPECT_EQ(Crc32c(all.subspan(split), Crc32c(all.first(split))), whole)
        << "split at " << split;
  }
}

TEST(Crc32cTest, EveryBitFlipChangesTheSum) {
  std::vector<uint8_t> data(64, 0x5a);
  const uint32_t base = Crc32c(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= uint8_t(1u << (bit % 8));
    EXPECT_NE(Crc32c(data), base) << "bit " << bit;
    data[bit / 8] ^= uint8_t(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace ft::replay
