#include "vmm/config/device_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

TEST(DiskSpecTest, PathAndReadOnly) {
  auto d = ParseDiskSpec("/var/lib/vm/disk.img");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->path, "/var/lib/vm/disk.img");
  EXPECT_FALSE(d->read_only);
  auto ro = ParseDiskSpec("disk.img,readonly");
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(ro->read_only);
  EXPECT_TRUE(ParseDiskSpec("disk.img,ro")->read_only);
}

TEST(DiskSpecTest, Errors) {
  EXPECT_THAT(std::string(ParseDiskSpec("").status().message()),
              HasSubstr("needs an image path"));
  EXPECT_THAT(std::string(ParseDiskSpec("d.img,cache=none").status().message()),
              HasSubstr("unknown option 'cache=none'"));
}

TEST(NetSpecTest, TapAndMac) {
  auto n = ParseNetSpec("tap=vmtap0,mac=52:54:00:12:34:56");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->tap, "vmtap0");
  ASSERT_TRUE(n->mac.has_value());
  EXPECT_EQ(n->mac->ToString(), "52:54:00:12:34:56");
  auto no_mac = ParseNetSpec("tap=t1");
  ASSERT_TRUE(no_mac.ok());
  EXPECT_FALSE(no_mac->mac.has_value());
}

TEST(NetSpecTest, Errors) {
  EXPECT_THAT(
      std::string(ParseNetSpec("mac=52:54:00:12:34:56").status().message()),
      HasSubstr("needs a TAP interface"));
  EXPECT_THAT(std::string(ParseNetSpec("tap=").status().message()),
              HasSubstr("unknown or empty setting"));
  EXPECT_THAT(std::string(ParseNetSpec("tap=t,bridge=br0").status().message()),
              HasSubstr("unknown or empty setting 'bridge=br0'"));
  EXPECT_THAT(std::string(ParseNetSpec("tap=t,mac=zz").status().message()),
              HasSubstr("not a MAC address"));
}

TEST(DefaultMacTest, StableUnicastAndDistinct) {
  MacAddress a = DefaultMac("vmtap0");
  EXPECT_EQ(a, DefaultMac("vmtap0"));
  EXPECT_NE(a, DefaultMac("vmtap1"));
  EXPECT_EQ(a.bytes[0], 0x52);
  EXPECT_EQ(a.bytes[0] & 1, 0);
}

}  // namespace
}  // namespace ft::vmm
