// guest/net: the command-line parser, and lwIP (with the guest's
// lwipopts.h) behind the netif glue answering ARP and ping through a fake
// ftg_netdev, plus the guard that keeps lwIP from being re-entered.
// Runs as a host process (lwip_host_stubs.c stands in for guest/lib).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

extern "C" {
#include "net/netif_glue.h"
}

namespace ft::guest_redis {
namespace {

using Frame = std::vector<uint8_t>;

TEST(NetConfig, ParsesAddressPrefixGatewayAndSeed) {
  ftg_net_config cfg{};
  const char* err = nullptr;
  ASSERT_TRUE(ftg_net_parse_cmdline(
      "workload=redis ip=198.18.0.2/24 gw=198.18.0.1 netseed=7", 99, &cfg,
      &err));
  EXPECT_EQ(cfg.ip, 0xc6120002u);
  EXPECT_EQ(cfg.netmask, 0xffffff00u);
  EXPECT_EQ(cfg.gateway, 0xc6120001u);
  EXPECT_EQ(cfg.seed, 7u);
  ASSERT_TRUE(ftg_net_parse_cmdline("ip=10.1.2.3/32", 99, &cfg, &err));
  EXPECT_EQ(cfg.netmask, 0xffffffffu);
  EXPECT_EQ(cfg.gateway, 0u);
  EXPECT_EQ(cfg.seed, 99u) << "the default seed when netseed= is absent";
  ASSERT_TRUE(ftg_net_parse_cmdline("ip=10.0.0.1/8", 0, &cfg, &err));
  EXPECT_EQ(cfg.netmask, 0xff000000u);
}

TEST(NetConfig, RefusesMalformedValues) {
  for (const char* bad :
       {"", "ip=", "ip=198.18.0.2", "ip=198.18.0.2/", "ip=198.18.0.2/33",
        "ip=198.18.0.2/0", "ip=198.18.0/24", "ip=256.1.1.1/24",
        "ip=1.2.3.4/24x", "ip=1.2.3.4/24 gw=1.2.3",
        "ip=1.2.3.4/24 netseed=x"}) {
    ftg_net_config cfg{};
    const char* err = nullptr;
    EXPECT_FALSE(ftg_net_parse_cmdline(bad, 0, &cfg, &err)) << bad;
    EXPECT_NE(err, nullptr) << bad;
  }
}

// A NIC in memory: frames to deliver, frames sent.
struct FakeNic {
  ftg_netdev dev{};
  std::deque<Frame> rx;
  std::vector<Frame> tx;
  int kicks = 0;
};
FakeNic* g_nic;

int FakeTransmit(ftg_netdev*, const void* frame, size_t len) {
  auto* p = static_cast<const uint8_t*>(frame);
  g_nic->tx.emplace_back(p, p + len);
  return 0;
}
unsigned FakeReceive(ftg_netdev* dev, unsigned budget) {
  unsigned n = 0;
  while (n < budget && !g_nic->rx.empty()) {
    Frame f = g_nic->rx.front();
    g_nic->rx.pop_front();
    ftg_net_input(dev, f.data(), f.size());
    n++;
  }
  return n;
}
void FakeKick(ftg_netdev*) { g_nic->kicks++; }

const uint8_t kOurMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
const uint8_t kPeerMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t kOurIp[4] = {198, 18, 250, 2};
const uint8_t kPeerIp[4] = {198, 18, 250, 1};

class NetGlueTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {  // lwIP can be started once per process
    static FakeNic nic;
    g_nic = &nic;
    std::memcpy(nic.dev.mac, kOurMac, 6);
    nic.dev.transmit = FakeTransmit;
    nic.dev.receive = FakeReceive;
    nic.dev.kick = FakeKick;
    ftg_net_config cfg{};
    const char* err;
    ASSERT_TRUE(ftg_net_parse_cmdline("ip=198.18.250.2/24", 1, &cfg, &err));
    cfg.workload = "test";
    ASSERT_TRUE(ftg_net_init(&nic.dev, &cfg));
  }
  void SetUp() override {
    g_nic->rx.clear();
    g_nic->tx.clear();
  }
};

Frame Ethernet(const uint8_t* dst, uint16_t type, const Frame& payload) {
  Frame f(dst, dst + 6);
  f.insert(f.end(), kPeerMac, kPeerMac + 6);
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// "Who has 198.18.250.2? Tell 198.18.250.1" from the peer (which also
// puts the peer into lwIP's ARP table).
Frame ArpRequest() {
  const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Frame arp = {0, 1, 8, 0, 6, 4, 0, 1};
  arp.insert(arp.end(), kPeerMac, kPeerMac + 6);
  arp.insert(arp.end(), kPeerIp, kPeerIp + 4);
  arp.insert(arp.end(), 6, 0);
  arp.insert(arp.end(), kOurIp, kOurIp + 4);
  return Ethernet(bcast, 0x0806, arp);
}

TEST_F(NetGlueTest, AnswersArpForItsAddress) {
  g_nic->rx.push_back(ArpRequest());
  int kicks = g_nic->kicks;
  ftg_net_poll();
  ftg_net_flush(&g_nic->dev);
  ASSERT_EQ(g_nic->tx.size(), 1u);
  const Frame& r = g_nic->tx[0];
  ASSERT_GE(r.size(), 42u);
  EXPECT_EQ(Frame(r.begin(), r.begin() + 6), Frame(kPeerMac, kPeerMac + 6));
  EXPECT_EQ(r[12], 0x08);
  EXPECT_EQ(r[13], 0x06);
  EXPECT_EQ(r[21], 2) << "ARP reply";
  EXPECT_EQ(Frame(r.begin() + 22, r.begin() + 28), Frame(kOurMac, kOurMac + 6));
  EXPECT_EQ(Frame(r.begin() + 28, r.begin() + 32), Frame(kOurIp, kOurIp + 4));
  EXPECT_EQ(g_nic->kicks, kicks + 1) << "one notify for the batch";
}

TEST_F(NetGlueTest, AnswersPing) {
  Frame icmp = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
  uint16_t c = Checksum(icmp.data(), icmp.size());
  icmp[2] = static_cast<uint8_t>(c >> 8);
  icmp[3] = static_cast<uint8_t>(c);
  Frame ip = {0x45, 0, 0, static_cast<uint8_t>(20 + icmp.size()),
              0,    1, 0, 0,
              64,   1, 0, 0};
  ip.insert(ip.end(), kPeerIp, kPeerIp + 4);
  ip.insert(ip.end(), kOurIp, kOurIp + 4);
  c = Checksum(ip.data(), 20);
  ip[10] = static_cast<uint8_t>(c >> 8);
  ip[11] = static_cast<uint8_t>(c);
  ip.insert(ip.end(), icmp.begin(), icmp.end());
  g_nic->rx.push_back(ArpRequest());
  g_nic->rx.push_back(Ethernet(kOurMac, 0x0800, ip));
  ftg_net_poll();
  bool replied = false;  // an echo reply (type 0) from our address
  for (const Frame& f : g_nic->tx) {
    if (f.size() >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00 &&
        f[14 + 9] == 1 && f[14 + 20] == 0 &&
        Frame(f.begin() + 26, f.begin() + 30) == Frame(kOurIp, kOurIp + 4))
      replied = true;
  }
  EXPECT_TRUE(replied);
}

TEST_F(NetGlueTest, RefusesFramesOutsidePoll) {
  // A driver that fed lwIP from its interrupt handler (or any other place
  // than receive) would re-enter lwIP during disk waits: such frames are
  // dropped and counted.
  uint64_t before = ftg_net_stats()->rx_reentered;
  Frame f = Ethernet(kOurMac, 0x0800, Frame(40, 0));
  ftg_net_input(&g_nic->dev, f.data(), f.size());
  EXPECT_EQ(ftg_net_stats()->rx_reentered, before + 1);
  EXPECT_TRUE(g_nic->tx.empty());
}

TEST_F(NetGlueTest, DropsOversizedFrames) {
  uint64_t before = ftg_net_stats()->rx_dropped;
  g_nic->rx.push_back(Frame(FTG_NET_MAX_FRAME + 1, 0));
  g_nic->rx.push_back(Frame(10, 0));
  ftg_net_poll();
  EXPECT_EQ(ftg_net_stats()->rx_dropped, before + 2);
}

}  // namespace
}  // namespace ft::guest_redis
