// TapNetBackend against the real kernel, in a private network namespace (a
// thread that unshares its own): frames injected on the interface with a
// packet socket are discarded until the device says the guest can take
// them, and then arrive as received-frames events; at the in-flight limit the
// back end stops reading (the rest wait in the kernel) and resumes once the
// device releases frames; transmitted frames come out of the interface.
// Needs root; skips with the reason otherwise.
#include "vmm/virtio/net_backend.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

constexpr uint16_t kTestEtherType = 0x88b5;  // IEEE local experimental

// Counts the frames of the test's EtherType in delivered events.
class FrameSink : public AsyncEventSink {
 public:
  void OnAsyncEvent(const AsyncEvent& event) override {
    auto frames = DecodeRxFrames(event.data);
    ASSERT_TRUE(frames.ok()) << frames.status();
    total += frames->size();
    for (const auto& f : *frames) {
      if (f.size() >= 14 && f[12] == 0x88 && f[13] == 0xb5) ++ours;
    }
  }
  size_t total = 0;
  size_t ours = 0;
};

struct PacketSocket {
  int fd = -1;
  int ifindex = 0;
  ~PacketSocket() {
    if (fd >= 0) ::close(fd);
  }
  bool Send(uint8_t seq) {
    uint8_t frame[60] = {};
    std::memset(frame, 0xff, 6);  // broadcast
    const uint8_t src[6] = {0x52, 0x54, 0x00, 0, 0, 9};
    std::memcpy(frame + 6, src, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    frame[14] = seq;
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    return ::sendto(fd, frame, sizeof(frame), 0,
                    reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 60;
  }
};

// Delivers events until `sink` holds `want` of our frames or 5 s pass.
void DeliverUntil(AsyncEventQueue& events, FrameSink& sink, size_t want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (sink.ours < want && absl::Now() < deadline) {
    if (events.WaitForEvent(deadline)) events.DeliverPending();
  }
}

void FlowControl(std::string* failure) {
  auto fail = [&](std::string why) { *failure = std::move(why); };
  if (::unshare(CLONE_NEWNET) != 0) return fail("unshare(CLONE_NEWNET) failed");
  auto tap = Tap::Open({.name = "fttap1"});
  if (!tap.ok()) return fail(std::string(tap.status().message()));
  // No IPv6 chatter, and a kernel queue deep enough for every test frame.
  if (std::system("sysctl -qw net.ipv6.conf.all.disable_ipv6=1; "
                  "ip link set fttap1 txqueuelen 2000 up") != 0) {
    return fail("ip could not bring fttap1 up");
  }
  PacketSocket sock;
  sock.fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kTestEtherType));
  sock.ifindex = static_cast<int>(if_nametoindex("fttap1"));
  if (sock.fd < 0 || sock.ifindex == 0) return fail("no packet socket");
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(kTestEtherType);
  bind_to.sll_ifindex = sock.ifindex;
  if (::bind(sock.fd, reinterpret_cast<sockaddr*>(&bind_to), sizeof(bind_to)) !=
      0) {
    return fail("cannot bind the packet socket");
  }

  auto loop = EventLoop::Create("tap-net-test");
  if (!loop.ok()) return fail(std::string(loop.status().message()));
  AsyncEventQueue events;
  FrameSink sink;
  const uint32_t source = events.Register(&sink);
  auto backend = std::make_unique<TapNetBackend>(std::move(*tap), loop->get());
  backend->Connect(AsyncEventPoster(&events, source));
  if (!backend->Start().ok()) return fail("Start failed");
  (*loop)->Start();

  // Link down (the guest cannot take frames yet): frames are read and
  // discarded, and none is posted.
  const size_t kEarly = 10;
  for (size_t i = 0; i < kEarly; ++i) {
    if (!sock.Send(static_cast<uint8_t>(i))) return fail("sendto failed");
  }
  const absl::Time early_deadline = absl::Now() + absl::Seconds(5);
  while (backend->stats().rx_discarded < kEarly &&
         absl::Now() < early_deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  events.DeliverPending();
  if (backend->stats().rx_discarded != kEarly || sink.total != 0 ||
      backend->stats().rx_frames != 0) {
    return fail("link down: discarded " +
                std::to_string(backend->stats().rx_discarded) + " of " +
                std::to_string(kEarly) + ", posted " +
                std::to_string(sink.total));
  }
  backend->SetReceiving(true);

  const size_t kSent = kMaxRxFramesInFlight + 100;
  for (size_t i = 0; i < kSent; ++i) {
    if (!sock.Send(static_cast<uint8_t>(i))) return fail("sendto failed");
  }
  DeliverUntil(events, sink, kMaxRxFramesInFlight);
  // Give the loop time to (wrongly) read more, then check it stopped.
  absl::SleepFor(absl::Milliseconds(200));
  events.DeliverPending();
  if (sink.total != kMaxRxFramesInFlight) {
    return fail("posted " + std::to_string(sink.total) +
                " frames without a release; the limit is " +
                std::to_string(kMaxRxFramesInFlight));
  }
  if (backend->stats().rx_paused != 1) return fail("reading never paused");

  // Releasing below half the limit resumes reading; the rest arrive.
  backend->ReleaseRx(kMaxRxFramesInFlight);
  DeliverUntil(events, sink, kSent);
  if (sink.ours != kSent) {
    return fail("after the release only " + std::to_string(sink.ours) + " of " +
                std::to_string(kSent) + " frames arrived");
  }

  // Transmit: the frame comes out of the interface to the packet socket.
  uint8_t out[60] = {};
  std::memset(out, 0xff, 6);
  out[6] = 0x52;
  out[12] = 0x88;
  out[13] = 0xb5;
  out[14] = 0xab;
  backend->Transmit(out);
  pollfd p{sock.fd, POLLIN, 0};
  uint8_t in[128];
  bool seen = false;
  while (!seen && ::poll(&p, 1, 2000) == 1) {
    ssize_t n = ::recv(sock.fd, in, sizeof(in), 0);
    seen = n == 60 && in[14] == 0xab;
  }
  if (!seen) return fail("the transmitted frame never reached the interface");
  if (backend->stats().tx_frames != 1) return fail("tx_frames is not 1");
  (*loop)->Stop();
}

TEST(TapNetBackendTest, LinkStateFlowControlAndTransmit) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "TAP tests need root (namespaces, /dev/net/tun)";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    GTEST_SKIP() << "/dev/net/tun is not usable here";
  }
  std::string failure;
  std::thread t(FlowControl, &failure);
  t.join();
  EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace ft::vmm
