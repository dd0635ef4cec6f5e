// Tests for vmm/virtio/virtio_net.h through the virtio-mmio transport, with
// a fake back end: frames in both directions, the header, flow-control
// credits returned to the back end, frames dropped while the driver is not
// ready or after a reset, and malformed chains refused with NEEDS_RESET.
// Also the received-frames event encoding, which a log may hand back.
#include "vmm/virtio/virtio_net.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::FakeIrqLine;
using ::ft::vmm::testing::MakeMemory;
using ::ft::vmm::testing::MmioDriver;
using ::ft::vmm::testing::RingBuilder;
using ::testing::ElementsAre;
namespace mmio = virtio::mmio;
namespace net = virtio::net;
using virtio::FeatureBit;

constexpr uint64_t kRxBuffers = 0x100000;  // rx buffer k at +2048k
constexpr uint64_t kTxBuffers = 0x200000;  // tx buffer k at +2048k
constexpr uint32_t kBufferSize = 2048;

// Records what the device does to its back end.
struct FakeBackendLog {
  std::vector<std::vector<uint8_t>> sent;
  size_t released = 0;
  AsyncEventPoster poster;
  bool receiving = false;
};

class FakeNetBackend : public NetBackend {
 public:
  explicit FakeNetBackend(FakeBackendLog* log) : log_(log) {}
  void Connect(AsyncEventPoster poster) override { log_->poster = poster; }
  void Transmit(std::span<const uint8_t> frame) override {
    log_->sent.emplace_back(frame.begin(), frame.end());
  }
  void ReleaseRx(size_t frames) override { log_->released += frames; }
  void SetReceiving(bool receiving) override { log_->receiving = receiving; }

 private:
  FakeBackendLog* log_;
};

std::vector<uint8_t> Frame(size_t n, uint8_t seed) {
  std::vector<uint8_t> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<uint8_t>(seed + i);
  return f;
}

class VirtioNetTest : public ::testing::Test {
 protected:
  void Start(bool ready = true) {
    auto device = VirtioNet::Create(
        {.backend = std::make_unique<FakeNetBackend>(&log_),
         .mac = MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}});
    ASSERT_TRUE(device.ok()) << device.status();
    net_ = device->get();
    auto t = MmioTransport::Create({.memory = &memory_,
                                    .irq = &irq_,
                                    .events = &events_,
                                    .device = std::move(*device)});
    ASSERT_TRUE(t.ok()) << t.status();
    transport_ = std::move(*t);
    mmio_ = std::make_unique<MmioDriver>(*transport_);
    if (ready) GoLive();
  }
  void GoLive() {
    ASSERT_TRUE(mmio_->Negotiate(mmio_->DeviceFeatures()));
    mmio_->SetupQueue(net::kRxQueue, rx_);
    mmio_->SetupQueue(net::kTxQueue, tx_);
    mmio_->DriverOk();
  }
  // Posts `count` receive buffers of `size` bytes from slot `first`.
  void PostRx(uint16_t first, uint16_t count, uint32_t size = kBufferSize) {
    for (uint16_t k = first; k < first + count; ++k) {
      rx_.SetChain(k, {{kRxBuffers + kBufferSize * k, size, true}});
      rx_.Publish(k);
    }
    mmio_->Notify(net::kRxQueue);
  }
  // Queues frame k (header + bytes, in two buffers) and notifies.
  void Send(uint16_t k, const std::vector<uint8_t>& frame) {
    const uint64_t at = kTxBuffers + kBufferSize * k;
    std::vector<uint8_t> header(VirtioNet::kHeaderBytes, 0);
    FT_CHECK_OK(memory_.Write(Gpa(at), header));
    FT_CHECK_OK(memory_.Write(Gpa(at + 64), frame));
    tx_.SetChain(static_cast<uint16_t>(2 * k),
                 {{at, static_cast<uint32_t>(VirtioNet::kHeaderBytes)},
                  {at + 64, static_cast<uint32_t>(frame.size())}});
    tx_.Publish(static_cast<uint16_t>(2 * k));
    mmio_->Notify(net::kTxQueue);
  }
  void Receive(const std::vector<std::vector<uint8_t>>& frames) {
    log_.poster.Post(kNetRxFramesEvent, EncodeRxFrames(frames));
    events_.DeliverPending();
  }
  std::vector<uint8_t> Bytes(uint64_t gpa, size_t n) {
    std::vector<uint8_t> out(n);
    FT_CHECK_OK(memory_.Read(Gpa(gpa), out));
    return out;
  }
  bool NeedsReset() {
    return (transport_->status() & virtio::kStatusNeedsReset) != 0;
  }

  GuestMemory memory_ = MakeMemory(4 << 20);
  RingBuilder rx_{memory_, VirtioNet::kQueueSize, 0x1000};
  RingBuilder tx_{memory_, VirtioNet::kQueueSize, 0x10000};
  FakeIrqLine irq_;
  AsyncEventQueue events_;
  FakeBackendLog log_;
  VirtioNet* net_ = nullptr;
  std::unique_ptr<MmioTransport> transport_;
  std::unique_ptr<MmioDriver> mmio_;
};

TEST_F(VirtioNetTest, OffersMacAndStatusAndShowsThem) {
  Start(false);
  EXPECT_EQ(mmio_->Read(mmio::kDeviceId), virtio::kDeviceIdNet);
  const uint64_t f = transport_->offered_features();
  EXPECT_NE(f & FeatureBit(net::kFeatureMac), 0u);
  EXPECT_NE(f & FeatureBit(net::kFeatureStatus), 0u);
  std::vector<uint8_t> config(8);
  mmio_->Access(mmio::kConfig, false, config);
  EXPECT_THAT(config, ElementsAre(0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
                                  net::kStatusLinkUp, 0));
}

TEST_F(VirtioNetTest, RefusesMulticastMacAndMissingBackend) {
  EXPECT_FALSE(VirtioNet::Create({.backend = nullptr}).ok());
  auto bad =
      VirtioNet::Create({.backend = std::make_unique<FakeNetBackend>(&log_),
                         .mac = MacAddress{{0x01, 0, 0, 0, 0, 1}}});
  EXPECT_FALSE(bad.ok());
}

TEST_F(VirtioNetTest, TransmitsFramesWithoutTheHeader) {
  Start();
  const auto a = Frame(60, 1), b = Frame(1514, 9);
  Send(0, a);
  Send(1, b);
  ASSERT_EQ(log_.sent.size(), 2u);
  EXPECT_EQ(log_.sent[0], a);
  EXPECT_EQ(log_.sent[1], b);
  EXPECT_EQ(tx_.UsedIdx(), 2);
  EXPECT_EQ(net_->stats().tx_frames, 2u);
  EXPECT_GT(irq_.rises, 0);
  EXPECT_FALSE(NeedsReset());
}

TEST_F(VirtioNetTest, DropsRuntFramesButKeepsGoing) {
  Start();
  Send(0, Frame(10, 1));  // shorter than an Ethernet header
  Send(1, Frame(60, 2));
  ASSERT_EQ(log_.sent.size(), 1u);
  EXPECT_EQ(net_->stats().tx_dropped, 1u);
  EXPECT_EQ(tx_.UsedIdx(), 2);
  EXPECT_FALSE(NeedsReset());
}

TEST_F(VirtioNetTest, OversizedTransmitChainBreaksTheDevice) {
  Start();
  Send(0, Frame(Tap::kMaxFrame + 1, 1));
  EXPECT_TRUE(log_.sent.empty());
  EXPECT_TRUE(NeedsReset());
}

TEST_F(VirtioNetTest, ReceivesIntoPostedBuffersWithHeader) {
  Start();
  PostRx(0, 4);
  const auto a = Frame(42, 3), b = Frame(1514, 5);
  Receive({a, b});
  ASSERT_EQ(rx_.UsedIdx(), 2);
  EXPECT_EQ(rx_.Used(0).len, VirtioNet::kHeaderBytes + a.size());
  EXPECT_EQ(rx_.Used(1).len, VirtioNet::kHeaderBytes + b.size());
  net::Header h;
  auto hb = Bytes(kRxBuffers, sizeof(h));
  std::memcpy(&h, hb.data(), sizeof(h));
  EXPECT_EQ(h.num_buffers, 1);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.gso_type, 0);
  EXPECT_EQ(Bytes(kRxBuffers + VirtioNet::kHeaderBytes, a.size()), a);
  EXPECT_EQ(Bytes(kRxBuffers + kBufferSize + VirtioNet::kHeaderBytes, b.size()),
            b);
  EXPECT_EQ(log_.released, 2u);
  EXPECT_EQ(net_->stats().rx_frames, 2u);
}

TEST_F(VirtioNetTest, FramesWaitForBuffersAndKeepTheirCredit) {
  Start();
  Receive({Frame(60, 1), Frame(61, 2), Frame(62, 3)});
  EXPECT_EQ(rx_.UsedIdx(), 0);
  EXPECT_EQ(log_.released, 0u);  // still held: the back end stays throttled
  PostRx(0, 2);
  EXPECT_EQ(rx_.UsedIdx(), 2);
  EXPECT_EQ(log_.released, 2u);
  PostRx(2, 1);
  ASSERT_EQ(rx_.UsedIdx(), 3);
  EXPECT_EQ(rx_.Used(2).len, VirtioNet::kHeaderBytes + 62);
  EXPECT_EQ(Bytes(kRxBuffers + 2 * kBufferSize + VirtioNet::kHeaderBytes, 62),
            Frame(62, 3));
  EXPECT_EQ(log_.released, 3u);
}

// The back end is told when the guest can take frames: from DRIVER_OK
// with a receive queue until a reset.
TEST_F(VirtioNetTest, TheBackEndReceivesOnlyWhileTheDriverIsReady) {
  Start(false);
  EXPECT_FALSE(log_.receiving);
  ASSERT_TRUE(mmio_->Negotiate(mmio_->DeviceFeatures()));
  mmio_->SetupQueue(net::kRxQueue, rx_);
  EXPECT_FALSE(log_.receiving);  // not before DRIVER_OK
  mmio_->DriverOk();
  EXPECT_TRUE(log_.receiving);
  mmio_->Write(mmio::kStatus, 0);
  EXPECT_FALSE(log_.receiving);
  // A driver that sets up only the transmit queue takes no frames.
  ASSERT_TRUE(mmio_->Negotiate(mmio_->DeviceFeatures()));
  mmio_->SetupQueue(net::kTxQueue, tx_);
  mmio_->DriverOk();
  EXPECT_FALSE(log_.receiving);
}

// A frame the back end posted before it learned the driver was not ready.
TEST_F(VirtioNetTest, FramesBeforeTheDriverIsReadyAreDropped) {
  Start(false);
  Receive({Frame(60, 1)});
  EXPECT_EQ(log_.released, 1u);
  EXPECT_EQ(net_->stats().rx_dropped, 1u);
  GoLive();
  PostRx(0, 1);
  EXPECT_EQ(rx_.UsedIdx(), 0);
}

TEST_F(VirtioNetTest, ResetDropsWaitingFrames) {
  Start();
  Receive({Frame(60, 1), Frame(60, 2)});
  mmio_->Write(mmio::kStatus, 0);
  EXPECT_EQ(log_.released, 2u);
  EXPECT_EQ(net_->stats().rx_dropped, 2u);
}

TEST_F(VirtioNetTest, TooSmallReceiveBufferBreaksTheDevice) {
  Start();
  PostRx(0, 1, 100);
  Receive({Frame(200, 1)});
  EXPECT_TRUE(NeedsReset());
  EXPECT_EQ(rx_.UsedIdx(), 0);
  EXPECT_EQ(log_.released, 1u);  // dropped, credit returned
  // Events keep arriving while broken: dropped, never written.
  Receive({Frame(20, 1)});
  EXPECT_EQ(log_.released, 2u);
}

TEST(NetRxFramesEventTest, RoundTrips) {
  std::vector<std::vector<uint8_t>> frames = {Frame(1, 0), Frame(1522, 7),
                                              Frame(60, 3)};
  auto decoded = DecodeRxFrames(EncodeRxFrames(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, frames);
}

TEST(NetRxFramesEventTest, RefusesMalformedBatches) {
  EXPECT_FALSE(DecodeRxFrames({}).ok());                       // no frame
  EXPECT_FALSE(DecodeRxFrames(std::vector<uint8_t>{5}).ok());  // half a length
  EXPECT_FALSE(DecodeRxFrames(std::vector<uint8_t>{0, 0}).ok());  // empty frame
  std::vector<uint8_t> truncated = {10, 0, 1, 2, 3};
  EXPECT_FALSE(DecodeRxFrames(truncated).ok());
  std::vector<uint8_t> oversized = {0xf3, 0x05};  // 1523 bytes
  oversized.resize(2 + 1523);
  EXPECT_FALSE(DecodeRxFrames(oversized).ok());
  std::vector<std::vector<uint8_t>> many(kMaxRxFramesPerEvent + 1,
                                         Frame(14, 0));
  EXPECT_FALSE(DecodeRxFrames(EncodeRxFrames(many)).ok());
}

}  // namespace
}  // namespace ft::vmm
