// The TAP back end against the real kernel, inside a private network
// namespace (a thread that unshares its own), so the host is untouched.
// Needs root; skips with the reason otherwise.
#include "vmm/backends/tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

TEST(MacAddressTest, ParsesAndPrints) {
  auto mac = MacAddress::Parse("52:54:00:AB:cd:0f");
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(mac->ToString(), "52:54:00:ab:cd:0f");
}

TEST(MacAddressTest, RejectsMalformedAndMulticast) {
  for (const char* bad :
       {"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56",
        "52:54:00:12:34:5g", "52:54:00:12:34:567", "5:54:00:12:34:56"}) {
    EXPECT_FALSE(MacAddress::Parse(bad).ok()) << bad;
  }
  auto multicast = MacAddress::Parse("01:00:5e:00:00:01");
  ASSERT_FALSE(multicast.ok());
  EXPECT_THAT(std::string(multicast.status().message()),
              HasSubstr("multicast"));
}

TEST(TapTest, RejectsBadNames) {
  EXPECT_FALSE(Tap::Open({.name = ""}).ok());
  EXPECT_FALSE(Tap::Open({.name = "a-name-that-is-too-long"}).ok());
}

// Waits up to 2 s for a frame on the TAP.
size_t ReadFrame(Tap& tap, std::span<uint8_t> buf) {
  pollfd p{tap.fd(), POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return 0;
  auto n = tap.Read(buf);
  return n.ok() ? *n : 0;
}

constexpr uint8_t kPeerMac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};

// Runs in a thread with its own network namespace: the kernel owns
// 10.9.0.1 on the TAP; the test plays 10.9.0.2 on the other side.
void ArpThenUdp(std::string* failure) {
  auto fail = [&](std::string why) { *failure = std::move(why); };
  if (::unshare(CLONE_NEWNET) != 0) return fail("unshare(CLONE_NEWNET) failed");
  auto tap = Tap::Open({.name = "fttap0"});
  if (!tap.ok()) return fail(std::string(tap.status().message()));
  // system() forks from this thread, so `ip` runs in this namespace.
  if (std::system(
          "ip addr add 10.9.0.1/24 dev fttap0 && ip link set fttap0 up") != 0) {
    return fail("ip could not configure fttap0");
  }
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(7777);
  inet_pton(AF_INET, "10.9.0.2", &dst.sin_addr);
  const char payload[] = "ftvm-tap-test";
  ::sendto(sock, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&dst),
           sizeof(dst));

  // The kernel first asks who has 10.9.0.2 (skip IPv6 chatter).
  uint8_t frame[Tap::kMaxFrame];
  size_t n = 0;
  for (int i = 0; i < 20; ++i) {
    n = ReadFrame(*tap, frame);
    if (n >= 42 && frame[12] == 0x08 && frame[13] == 0x06) break;
    n = 0;
  }
  if (n == 0) return fail("no ARP request came out of the TAP");
  uint8_t kernel_mac[6];
  std::memcpy(kernel_mac, frame + 6, 6);
  if (std::memcmp(frame + 38, "\x0a\x09\x00\x02", 4) != 0) {
    return fail("the ARP request is not for 10.9.0.2");
  }

  // Answer it: 10.9.0.2 is at kPeerMac.
  uint8_t reply[42];
  std::memcpy(reply, kernel_mac, 6);
  std::memcpy(reply + 6, kPeerMac, 6);
  const uint8_t arp[] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02};
  std::memcpy(reply + 12, arp, sizeof(arp));
  std::memcpy(reply + 22, kPeerMac, 6);
  std::memcpy(reply + 28, "\x0a\x09\x00\x02", 4);
  std::memcpy(reply + 32, kernel_mac, 6);
  std::memcpy(reply + 38, "\x0a\x09\x00\x01", 4);
  if (!tap->Write(reply).ok()) return fail("writing the ARP reply failed");

  // Now the datagram itself comes out, addressed to kPeerMac.
  for (int i = 0; i < 20; ++i) {
    n = ReadFrame(*tap, frame);
    if (n > 42 && frame[12] == 0x08 && frame[13] == 0x00) break;
    n = 0;
  }
  ::close(sock);
  if (n == 0) return fail("the UDP datagram never came out of the TAP");
  if (std::memcmp(frame, kPeerMac, 6) != 0)
    return fail("wrong destination MAC");
  if (n < 42 + sizeof(payload) ||
      std::memcmp(frame + 42, payload, sizeof(payload)) != 0) {
    return fail("the datagram's payload differs");
  }
  // Nothing else is waiting: Read reports that as 0, not an error.
  auto empty = tap->Read(frame);
  while (empty.ok() && *empty > 0) empty = tap->Read(frame);
  if (!empty.ok()) return fail("a read with nothing waiting failed");
}

TEST(TapTest, FramesFlowBothWays) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "TAP tests need root (namespaces, /dev/net/tun)";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    GTEST_SKIP() << "/dev/net/tun is not usable here";
  }
  std::string failure;
  std::thread t(ArpThenUdp, &failure);
  t.join();
  EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace ft::vmm
