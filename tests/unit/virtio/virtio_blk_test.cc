// Tests for vmm/virtio/virtio_blk.h end to end: a driver speaking through
// the virtio-mmio transport to virtio-blk over a temporary image file, with
// completions delivered by AsyncEventQueue::DeliverPending as the vCPU
// thread would.
#include "vmm/virtio/virtio_blk.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/raw_image.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::FakeIrqLine;
using ::ft::vmm::testing::MakeMemory;
using ::ft::vmm::testing::MmioDriver;
using ::ft::vmm::testing::RingBuilder;
namespace blk = virtio::blk;
namespace mmio = virtio::mmio;
using virtio::FeatureBit;

constexpr uint64_t kSectors = 64;
constexpr uint64_t kHeaders = 0x20000;  // request k's header at +32k
constexpr uint64_t kStatus = 0x30000;   // request k's status byte at +k
constexpr uint64_t kBuffers = 0x40000;  // data buffers

struct Result {
  uint8_t status = 0xff;
  uint32_t used_len = 0;
};

// Speaks virtio-blk requests into a ring: request k uses descriptors
// 3k..3k+2, its own header and status byte.
class BlkDriver {
 public:
  BlkDriver(const GuestMemory& memory, RingBuilder& ring, MmioDriver& mmio)
      : memory_(memory), ring_(ring), mmio_(mmio) {}

  // Queues request `k` without notifying. `data_len` 0 leaves out the data
  // descriptor.
  void Queue(uint16_t k, uint32_t type, uint64_t sector, uint64_t data,
             uint32_t data_len, uint32_t status_len = 1) {
    const blk::RequestHeader header{type, 0, sector};
    ring_.Put(kHeaders + 32 * k, header);
    ring_.Put<uint8_t>(kStatus + k, 0xee);
    std::vector<testing::Buf> bufs = {{kHeaders + 32 * k, 16}};
    if (data_len != 0) {
      bufs.push_back({data, data_len, type != blk::kTypeOut});
    }
    if (status_len != 0) bufs.push_back({kStatus + k, status_len, true});
    ring_.SetChain(static_cast<uint16_t>(3 * k), bufs);
    ring_.Publish(static_cast<uint16_t>(3 * k));
  }
  void Notify() { mmio_.Notify(0); }
  uint8_t StatusOf(uint16_t k) { return ring_.Get<uint8_t>(kStatus + k); }

  std::vector<uint8_t> Bytes(uint64_t gpa, size_t n) {
    std::vector<uint8_t> out(n);
    FT_CHECK_OK(memory_.Read(Gpa(gpa), out));
    return out;
  }
  void Fill(uint64_t gpa, const std::vector<uint8_t>& bytes) {
    FT_CHECK_OK(memory_.Write(Gpa(gpa), bytes));
  }

 private:
  const GuestMemory& memory_;
  RingBuilder& ring_;
  MmioDriver& mmio_;
};

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

class VirtioBlkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/virtio_blk_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/disk.img";
    std::ofstream(path_, std::ios::binary)
        .write(
            reinterpret_cast<const char*>(Pattern(kSectors * 512, 0x40).data()),
            kSectors * 512);
  }
  void TearDown() override {
    transport_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(bool read_only = false, std::string serial = "ftvm-disk0") {
    auto image = RawImage::Open({.path = path_, .read_only = read_only});
    ASSERT_TRUE(image.ok()) << image.status();
    auto device = VirtioBlk::Create(
        {.backend = std::make_unique<FileBlockBackend>(std::move(*image)),
         .serial = serial});
    ASSERT_TRUE(device.ok()) << device.status();
    auto t = MmioTransport::Create({.memory = &memory_,
                                    .irq = &irq_,
                                    .events = &events_,
                                    .device = std::move(*device)});
    ASSERT_TRUE(t.ok()) << t.status();
    transport_ = std::move(*t);
    mmio_ = std::make_unique<MmioDriver>(*transport_);
    blk_ = std::make_unique<BlkDriver>(memory_, ring_, *mmio_);
    ASSERT_TRUE(mmio_->Init(ring_));
  }

  // Delivers completions until `count` used entries exist (or 10 s pass).
  void WaitForUsed(uint16_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (ring_.UsedIdx() != count && absl::Now() < deadline) {
      if (events_.WaitForEvent(deadline)) events_.DeliverPending();
    }
    ASSERT_EQ(ring_.UsedIdx(), count);
  }
  // Runs one request as request 0 and waits for it.
  Result Run(uint32_t type, uint64_t sector, uint64_t data, uint32_t len) {
    const uint16_t before = ring_.UsedIdx();
    blk_->Queue(0, type, sector, data, len);
    blk_->Notify();
    WaitForUsed(before + 1);
    return Result{blk_->StatusOf(0), ring_.Used(before).len};
  }
  std::vector<uint8_t> FileBytes() {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  uint32_t Status() { return transport_->status(); }

  GuestMemory memory_ = MakeMemory(4 << 20);
  RingBuilder ring_{memory_, VirtioBlk::kQueueSize, 0x1000};
  FakeIrqLine irq_;
  AsyncEventQueue events_;
  std::string dir_, path_;
  std::unique_ptr<MmioTransport> transport_;
  std::unique_ptr<MmioDriver> mmio_;
  std::unique_ptr<BlkDriver> blk_;
};

TEST_F(VirtioBlkTest, FeaturesAndConfig) {
  Start();
  const uint64_t f = transport_->offered_features();
  EXPECT_NE(f & FeatureBit(blk::kFeatureFlush), 0u);
  EXPECT_NE(f & FeatureBit(blk::kFeatureSegMax), 0u);
  EXPECT_NE(f & FeatureBit(blk::kFeatureBlkSize), 0u);
  EXPECT_EQ(f & FeatureBit(blk::kFeatureRo), 0u);
  EXPECT_EQ(mmio_->Read(mmio::kDeviceId), virtio::kDeviceIdBlock);
  std::vector<uint8_t> capacity(8);
  mmio_->Access(mmio::kConfig, false, capacity);
  uint64_t sectors;
  std::memcpy(&sectors, capacity.data(), 8);
  EXPECT_EQ(sectors, kSectors);
  EXPECT_EQ(mmio_->Read(mmio::kConfig + 12), VirtioBlk::kQueueSize - 2u);
  EXPECT_EQ(mmio_->Read(mmio::kConfig + 20), 512u);
}

TEST_F(VirtioBlkTest, WriteFlushReadBack) {
  Start();
  const std::vector<uint8_t> data = Pattern(1024, 0x99);
  blk_->Fill(kBuffers, data);
  Result r = Run(blk::kTypeOut, 3, kBuffers, 1024);
  EXPECT_EQ(r.status, blk::kStatusOk);
  EXPECT_EQ(r.used_len, 1u);  // only the status byte was written
  EXPECT_TRUE(irq_.level);
  mmio_->AckInterrupts();

  r = Run(blk::kTypeFlush, 0, 0, 0);
  EXPECT_EQ(r.status, blk::kStatusOk);
  const std::vector<uint8_t> file = FileBytes();
  ASSERT_EQ(file.size(), kSectors * 512);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), file.begin() + 3 * 512));
  // Neighbours untouched.
  EXPECT_EQ(file[3 * 512 - 1], Pattern(kSectors * 512, 0x40)[3 * 512 - 1]);

  r = Run(blk::kTypeIn, 3, kBuffers + 0x10000, 1024);
  EXPECT_EQ(r.status, blk::kStatusOk);
  EXPECT_EQ(r.used_len, 1025u);
  EXPECT_EQ(blk_->Bytes(kBuffers + 0x10000, 1024), data);
}

TEST_F(VirtioBlkTest, ReadsOriginalContents) {
  Start();
  const Result r = Run(blk::kTypeIn, kSectors - 1, kBuffers, 512);
  EXPECT_EQ(r.status, blk::kStatusOk);
  const std::vector<uint8_t> expect = Pattern(kSectors * 512, 0x40);
  EXPECT_EQ(blk_->Bytes(kBuffers, 512),
            std::vector<uint8_t>(expect.end() - 512, expect.end()));
}

TEST_F(VirtioBlkTest, RequestsCompleteInSubmissionOrder) {
  Start();
  blk_->Fill(kBuffers, Pattern(512, 1));
  blk_->Queue(0, blk::kTypeOut, 5, kBuffers, 512);
  blk_->Queue(1, blk::kTypeFlush, 0, 0, 0);
  blk_->Queue(2, blk::kTypeIn, 5, kBuffers + 0x1000, 512);
  blk_->Notify();
  WaitForUsed(3);
  for (uint16_t k = 0; k < 3; ++k) EXPECT_EQ(blk_->StatusOf(k), 0) << k;
  EXPECT_EQ(blk_->Bytes(kBuffers + 0x1000, 512), Pattern(512, 1));
}

TEST_F(VirtioBlkTest, OutOfRangeAndPartialSectorsAreIoErrors) {
  Start();
  EXPECT_EQ(Run(blk::kTypeIn, kSectors, kBuffers, 512).status,
            blk::kStatusIoErr);
  EXPECT_EQ(Run(blk::kTypeIn, kSectors - 1, kBuffers, 1024).status,
            blk::kStatusIoErr);
  EXPECT_EQ(Run(blk::kTypeOut, ~0ull, kBuffers, 512).status, blk::kStatusIoErr);
  EXPECT_EQ(Run(blk::kTypeOut, ~0ull / 512 + 1, kBuffers, 512).status,
            blk::kStatusIoErr);
  EXPECT_EQ(Run(blk::kTypeIn, 0, kBuffers, 100).status, blk::kStatusIoErr);
  EXPECT_EQ(FileBytes(), Pattern(kSectors * 512, 0x40));
  EXPECT_EQ(Status() & virtio::kStatusNeedsReset, 0u);
}

TEST_F(VirtioBlkTest, UnsupportedType) {
  Start();
  const Result r = Run(11 /* DISCARD, not offered */, 0, kBuffers, 16);
  EXPECT_EQ(r.status, blk::kStatusUnsupported);
  EXPECT_EQ(r.used_len, 1u);
}

TEST_F(VirtioBlkTest, GetId) {
  Start(false, "ftvm-test-serial");
  blk_->Fill(kBuffers, std::vector<uint8_t>(20, 0xcc));
  const Result r = Run(blk::kTypeGetId, 0, kBuffers, 20);
  EXPECT_EQ(r.status, blk::kStatusOk);
  EXPECT_EQ(r.used_len, 21u);
  std::vector<uint8_t> expect(20, 0);
  std::memcpy(expect.data(), "ftvm-test-serial", 16);
  EXPECT_EQ(blk_->Bytes(kBuffers, 20), expect);
}

TEST_F(VirtioBlkTest, SerialLongerThan20BytesIsRefused) {
  auto image = RawImage::Open({.path = path_});
  ASSERT_TRUE(image.ok());
  auto device = VirtioBlk::Create(
      {.backend = std::make_unique<FileBlockBackend>(std::move(*image)),
       .serial = std::string(21, 'x')});
  EXPECT_FALSE(device.ok());
}

TEST_F(VirtioBlkTest, ReadOnlyImage) {
  Start(/*read_only=*/true);
  EXPECT_NE(transport_->offered_features() & FeatureBit(blk::kFeatureRo), 0u);
  blk_->Fill(kBuffers, Pattern(512, 3));
  EXPECT_EQ(Run(blk::kTypeOut, 0, kBuffers, 512).status, blk::kStatusIoErr);
  EXPECT_EQ(Run(blk::kTypeFlush, 0, 0, 0).status, blk::kStatusOk);
  EXPECT_EQ(Run(blk::kTypeIn, 0, kBuffers, 512).status, blk::kStatusOk);
  EXPECT_EQ(FileBytes(), Pattern(kSectors * 512, 0x40));
}

TEST_F(VirtioBlkTest, RequestWithoutStatusByteNeedsReset) {
  Start();
  blk_->Queue(0, blk::kTypeIn, 0, kBuffers, 512, /*status_len=*/0);
  // The data buffer is writable, so it would be taken as the status; make
  // the whole chain readable instead.
  ring_.SetDesc(1, kBuffers, 512, virtio::kDescFlagNext, 2);
  ring_.SetDesc(2, kStatus, 1, 0);
  blk_->Notify();
  EXPECT_NE(Status() & virtio::kStatusNeedsReset, 0u);
  EXPECT_EQ(ring_.UsedIdx(), 0);
  EXPECT_EQ(transport_->interrupt_status(), mmio::kInterruptConfigChange);
}

TEST_F(VirtioBlkTest, ShortHeaderNeedsReset) {
  Start();
  ring_.SetChain(0, {{kHeaders, 8}, {kStatus, 1, true}});
  ring_.Publish(0);
  blk_->Notify();
  EXPECT_NE(Status() & virtio::kStatusNeedsReset, 0u);
}

TEST_F(VirtioBlkTest, MalformedChainNeedsResetAndResetRecovers) {
  Start();
  ring_.SetDesc(0, kHeaders, 16, virtio::kDescFlagNext, 0);  // loop
  ring_.Publish(0);
  blk_->Notify();
  EXPECT_NE(Status() & virtio::kStatusNeedsReset, 0u);
  // The driver resets and starts over with a fresh ring.
  RingBuilder fresh(memory_, VirtioBlk::kQueueSize, 0x100000);
  ASSERT_TRUE(mmio_->Init(fresh));
  EXPECT_EQ(Status() & virtio::kStatusNeedsReset, 0u);
}

TEST_F(VirtioBlkTest, CompletionAfterResetIsDropped) {
  Start();
  blk_->Queue(0, blk::kTypeIn, 0, kBuffers, 512);
  blk_->Notify();
  mmio_->Write(mmio::kStatus, 0);  // reset with the read in flight
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  ASSERT_TRUE(events_.WaitForEvent(deadline));
  events_.DeliverPending();
  EXPECT_EQ(ring_.UsedIdx(), 0);
  EXPECT_EQ(blk_->StatusOf(0), 0xee);
  EXPECT_FALSE(irq_.level);
}

// A back end the test completes by hand.
struct ManualState {
  std::vector<BlockRequest> submitted;
  AsyncEventPoster poster;
};

class ManualBackend : public BlockBackend {
 public:
  explicit ManualBackend(ManualState* state) : state_(state) {}
  uint64_t size_bytes() const override { return 1ull << 30; }
  bool read_only() const override { return false; }
  void Connect(AsyncEventPoster poster) override { state_->poster = poster; }
  void Submit(BlockRequest request) override {
    state_->submitted.push_back(std::move(request));
  }

 private:
  ManualState* state_;
};

TEST(VirtioBlkBudgetTest, StopsTakingRequestsWhileTheBackEndIsFull) {
  GuestMemory memory = MakeMemory(32 << 20);
  RingBuilder ring(memory, 16, 0x1000);
  FakeIrqLine irq;
  AsyncEventQueue events;
  ManualState state;
  auto device =
      VirtioBlk::Create({.backend = std::make_unique<ManualBackend>(&state)});
  ASSERT_TRUE(device.ok());
  auto transport = MmioTransport::Create({.memory = &memory,
                                          .irq = &irq,
                                          .events = &events,
                                          .device = std::move(*device)});
  ASSERT_TRUE(transport.ok());
  MmioDriver mmio(**transport);
  ASSERT_TRUE(mmio.Init(ring));
  BlkDriver driver(memory, ring, mmio);
  // Five 16 MiB reads (one shared buffer) against a 64 MiB budget.
  for (uint16_t k = 0; k < 5; ++k) {
    driver.Queue(k, blk::kTypeIn, 0, 16 << 20, 16 << 20);
  }
  driver.Notify();
  ASSERT_EQ(state.submitted.size(), 4u);
  driver.Notify();  // still full
  ASSERT_EQ(state.submitted.size(), 4u);

  BlockCompletion done{.id = state.submitted[0].id,
                       .status = blk::kStatusOk,
                       .data = std::vector<uint8_t>(16 << 20, 0x5a)};
  state.poster.Post(kBlockCompletionEvent, EncodeBlockCompletion(done));
  events.DeliverPending();
  EXPECT_EQ(ring.UsedIdx(), 1);
  EXPECT_EQ(driver.StatusOf(0), blk::kStatusOk);
  EXPECT_EQ(driver.Bytes((16 << 20) + 100, 1)[0], 0x5a);
  // Room again: the fifth request went to the back end.
  ASSERT_EQ(state.submitted.size(), 5u);
  EXPECT_EQ(state.submitted[4].length, 16u << 20);
  EXPECT_TRUE(irq.level);

  // A completion of the wrong length is an I/O error, not an overrun.
  done = {.id = state.submitted[1].id, .status = blk::kStatusOk, .data = {1}};
  state.poster.Post(kBlockCompletionEvent, EncodeBlockCompletion(done));
  // Unknown ids and undecodable events are ignored.
  state.poster.Post(kBlockCompletionEvent, {1, 2});
  done = {.id = 999, .status = blk::kStatusOk};
  state.poster.Post(kBlockCompletionEvent, EncodeBlockCompletion(done));
  events.DeliverPending();
  EXPECT_EQ(ring.UsedIdx(), 2);
  EXPECT_EQ(driver.StatusOf(1), blk::kStatusIoErr);
  EXPECT_EQ((*transport)->status() & virtio::kStatusNeedsReset, 0u);
}

TEST(BlockCompletionTest, RoundTripAndShortInput) {
  const BlockCompletion c{
      .id = 0x0102030405060708, .status = 1, .data = {9, 8, 7}};
  const std::vector<uint8_t> bytes = EncodeBlockCompletion(c);
  EXPECT_EQ(bytes.size(), 12u);
  auto back = DecodeBlockCompletion(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(back->status, 1);
  EXPECT_EQ(back->data, c.data);
  EXPECT_FALSE(DecodeBlockCompletion(std::span(bytes).first(8)).ok());
}

}  // namespace
}  // namespace ft::vmm
