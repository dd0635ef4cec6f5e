// Writes the virtio_state fuzz target's seed corpus (format:
// virtio_state_fuzz_input.h): slots saved from real virtio-blk and
// virtio-net devices driven the way a driver drives them (fresh, live with
// requests in flight, after a reset, broken), plus one with a request
// waiting for the back end's budget, which needs more RAM than the target
// has to happen for real and is therefore added to a saved state.
//
//   ninja -C build tests/fuzz/make_virtio_state_seeds
//   build/tests/fuzz/make_virtio_state_seeds tests/fuzz/corpus/virtio_state
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "tests/fuzz/virtio_state_fuzz_input.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/virtio_spec.h"

namespace {

using ft::Gpa;
using ft::vmm::GuestMemory;
using ft::vmm::kNetRxFramesEvent;
using ft::vmm::MmioTransport;
using ft::vmm::fuzz::MakeStateFuzzSlot;
using ft::vmm::testing::Buf;
using ft::vmm::testing::MmioDriver;
using ft::vmm::testing::RingBuilder;
namespace blk = ft::vmm::virtio::blk;
namespace net = ft::vmm::virtio::net;
namespace snapshot = ft::vmm::snapshot;

constexpr uint64_t kHeaders = 0x20000;
constexpr uint64_t kStatus = 0x30000;
constexpr uint64_t kData = 0x40000;

void Write(const std::string& dir, const std::string& name,
           const std::vector<uint8_t>& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void Live(MmioDriver& driver) {
  FT_CHECK(driver.Negotiate(driver.DeviceFeatures()));
}

// Request k of a virtio-blk ring: descriptors 3k..3k+2.
void BlkRequest(RingBuilder& ring, uint16_t k, uint32_t type, uint64_t sector,
                uint32_t len) {
  ring.Put(kHeaders + 32 * k, blk::RequestHeader{type, 0, sector});
  std::vector<Buf> bufs = {{kHeaders + 32 * k, 16}};
  if (len != 0)
    bufs.push_back({kData + 0x1000 * k, len, type != blk::kTypeOut});
  bufs.push_back({kStatus + k, 1, true});
  ring.SetChain(static_cast<uint16_t>(3 * k), bufs);
  ring.Publish(static_cast<uint16_t>(3 * k));
}

void BlkSeeds(const GuestMemory& memory, const std::string& dir) {
  {
    auto slot = MakeStateFuzzSlot(memory, false);
    Write(dir, "blk_fresh", snapshot::SaveDevice(*slot->transport));
  }
  auto slot = MakeStateFuzzSlot(memory, false);
  MmioDriver driver(*slot->transport);
  RingBuilder ring(memory, 16, 0x1000);
  Live(driver);
  driver.SetupQueue(0, ring);
  driver.DriverOk();
  BlkRequest(ring, 0, blk::kTypeIn, 2, 1024);
  BlkRequest(ring, 1, blk::kTypeOut, 4, 512);
  BlkRequest(ring, 2, blk::kTypeFlush, 0, 0);
  BlkRequest(ring, 3, blk::kTypeGetId, 0, 20);
  driver.Notify(0);
  const std::vector<uint8_t> live = snapshot::SaveDevice(*slot->transport);
  Write(dir, "blk_in_flight", live);

  // A chain waiting for room at the back end, from queue 0's incarnation.
  auto state = snapshot::DecodeVirtioState(live);
  FT_CHECK_OK(state.status());
  auto& blk_state = std::get<ft::vmm::VirtioBlkState>(state->device);
  blk_state.deferred = ft::vmm::DescriptorChain{
      .head = 12,
      .readable = {{Gpa(kHeaders + 32 * 4), 16}},
      .writable = {{Gpa(kData + 0x4000), 512}, {Gpa(kStatus + 4), 1}},
      .readable_bytes = 16,
      .writable_bytes = 513};
  blk_state.deferred_epoch = state->queues[0].epoch;
  Write(dir, "blk_deferred", snapshot::EncodeVirtioState(*state));

  // The driver resets with requests at the back end, and starts again.
  driver.Write(ft::vmm::virtio::mmio::kStatus, 0);
  ring.SetAvailIdx(0);
  Live(driver);
  driver.SetupQueue(0, ring);
  driver.DriverOk();
  BlkRequest(ring, 0, blk::kTypeIn, 6, 512);
  driver.Notify(0);
  Write(dir, "blk_after_reset", snapshot::SaveDevice(*slot->transport));
}

void NetSeeds(const GuestMemory& memory, const std::string& dir) {
  {
    auto slot = MakeStateFuzzSlot(memory, true);
    Write(dir, "net_fresh", snapshot::SaveDevice(*slot->transport));
  }
  auto slot = MakeStateFuzzSlot(memory, true);
  MmioDriver driver(*slot->transport);
  RingBuilder rx(memory, 16, 0x1000);
  RingBuilder tx(memory, 16, 0x8000);
  Live(driver);
  driver.SetupQueue(net::kRxQueue, rx);
  driver.SetupQueue(net::kTxQueue, tx);
  driver.DriverOk();
  for (uint16_t k = 0; k < 2; ++k) {
    rx.SetChain(k, {{0x40000 + 2048u * k, 2048, true}});
    rx.Publish(k);
  }
  driver.Notify(net::kRxQueue);
  std::vector<std::vector<uint8_t>> frames = {std::vector<uint8_t>(60, 1),
                                              std::vector<uint8_t>(1514, 2),
                                              std::vector<uint8_t>(90, 3)};
  slot->transport->OnAsyncEvent(
      {.kind = kNetRxFramesEvent, .data = ft::vmm::EncodeRxFrames(frames)});
  tx.SetChain(0, {{0x60000, 12}, {0x60040, 64}});
  tx.Publish(0);
  driver.Notify(net::kTxQueue);
  Write(dir, "net_pending_rx", snapshot::SaveDevice(*slot->transport));

  // A receive buffer too small for the frame: the device needs a reset.
  rx.SetChain(2, {{0x50000, 16, true}});
  rx.Publish(2);
  driver.Notify(net::kRxQueue);
  Write(dir, "net_needs_reset", snapshot::SaveDevice(*slot->transport));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  auto memory = GuestMemory::Create({.size = ft::vmm::fuzz::kStateFuzzRam});
  FT_CHECK_OK(memory.status());
  BlkSeeds(*memory, argv[1]);
  NetSeeds(*memory, argv[1]);
  return 0;
}
