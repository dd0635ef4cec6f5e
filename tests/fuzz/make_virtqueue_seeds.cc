// Writes the virtqueue fuzz target's seed corpus (format:
// virtqueue_fuzz_input.h): well-formed virtio-blk traffic (reads, writes,
// flush, GET_ID, indirect tables, event-index) and one malformed ring per
// rule the parser and the transport enforce.
//
//   ninja -C build tests/fuzz/make_virtqueue_seeds
//   build/tests/fuzz/make_virtqueue_seeds tests/fuzz/corpus/virtqueue
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/fuzz/virtqueue_fuzz_input.h"
#include "vmm/virtio/virtio_spec.h"

namespace {

using ft::vmm::fuzz::MmioOp;
using ft::vmm::fuzz::VirtqueueFuzzHeader;
namespace virtio = ft::vmm::virtio;

// A compact layout for a 16-entry queue inside the first 4 KiB.
constexpr uint32_t kDesc = 0x000;
constexpr uint32_t kAvail = 0x100;
constexpr uint32_t kUsed = 0x200;
constexpr uint32_t kHeaders = 0x300;  // 16 bytes per request
constexpr uint32_t kData = 0x400;     // 512 bytes per request
constexpr uint32_t kStatus = 0xc00;   // one byte per request
constexpr uint32_t kTable = 0xd00;    // indirect tables
constexpr uint16_t kSize = 16;
constexpr uint16_t N = virtio::kDescFlagNext;
constexpr uint16_t W = virtio::kDescFlagWrite;
constexpr uint16_t I = virtio::kDescFlagIndirect;

class Seed {
 public:
  Seed() : image_(0x1000, 0) {
    header_ = VirtqueueFuzzHeader{
        .queue_size = 4,  // log2(16)
        .head = 0,
        .desc = kDesc,
        .avail = kAvail,
        .used = kUsed,
        .flags = ft::vmm::fuzz::kFuzzEventIdx | ft::vmm::fuzz::kFuzzIndirect,
        .rounds = 1};
  }

  template <typename T>
  void Put(uint32_t at, const T& v) {
    if (image_.size() < at + sizeof(T)) image_.resize(at + sizeof(T));
    std::memcpy(image_.data() + at, &v, sizeof(T));
  }
  void Desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
            uint16_t next = 0) {
    Put(kDesc + 16 * i, virtio::VirtqDesc{addr, len, flags, next});
  }
  // Request k: header in descriptor 3k, data in 3k+1, status in 3k+2.
  void Request(uint16_t k, uint32_t type, uint64_t sector, uint32_t len) {
    Put(kHeaders + 16 * k, virtio::blk::RequestHeader{type, 0, sector});
    const uint16_t d = 3 * k;
    Desc(d, kHeaders + 16 * k, 16, N, d + 1);
    Desc(d + 1, kData + 512 * k, len, type == virtio::blk::kTypeOut ? N : N | W,
         d + 2);
    Desc(d + 2, kStatus + k, 1, W);
    Publish(d);
  }
  void Publish(uint16_t head) {
    Put<uint16_t>(kAvail + 4 + 2 * (avail_idx_ % kSize), head);
    ++avail_idx_;
    Put<uint16_t>(kAvail + 2, avail_idx_);
  }
  void Op(uint16_t offset, uint32_t value) {
    ops_.push_back(MmioOp{offset, value});
  }
  VirtqueueFuzzHeader& header() { return header_; }

  void Write(const std::string& dir, const std::string& name) {
    header_.mmio_ops = static_cast<uint8_t>(ops_.size());
    std::vector<uint8_t> out(sizeof(header_));
    std::memcpy(out.data(), &header_, sizeof(header_));
    const auto* ops = reinterpret_cast<const uint8_t*>(ops_.data());
    out.insert(out.end(), ops, ops + ops_.size() * sizeof(MmioOp));
    out.insert(out.end(), image_.begin(), image_.end());
    std::ofstream(dir + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(out.data()), out.size());
  }

 private:
  VirtqueueFuzzHeader header_;
  std::vector<MmioOp> ops_;
  std::vector<uint8_t> image_;
  uint16_t avail_idx_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  namespace blk = virtio::blk;
  {
    Seed s;
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Write(dir, "blk_read");
  }
  {
    Seed s;
    s.Request(0, blk::kTypeOut, 2, 512);
    s.Request(1, blk::kTypeFlush, 0, 0);
    s.Request(2, blk::kTypeIn, 2, 512);
    s.Request(3, blk::kTypeGetId, 0, 20);
    s.Request(4, 11, 0, 16);  // unsupported
    s.header().rounds = 2;
    s.Write(dir, "blk_mixed");
  }
  {
    Seed s;
    s.Request(0, blk::kTypeIn, 200, 512);  // beyond the 64 KiB disk
    s.Request(1, blk::kTypeOut, 0, 100);   // not whole sectors
    s.header().flags |= ft::vmm::fuzz::kFuzzReadOnly;
    s.Request(2, blk::kTypeOut, 0, 512);  // read-only disk
    s.Write(dir, "blk_errors");
  }
  {
    Seed s;  // an indirect table holding a whole write request
    s.Put(kHeaders, blk::RequestHeader{blk::kTypeOut, 0, 1});
    s.Put(kTable, virtio::VirtqDesc{kHeaders, 16, N, 1});
    s.Put(kTable + 16, virtio::VirtqDesc{kData, 1024, N, 2});
    s.Put(kTable + 32, virtio::VirtqDesc{kStatus, 1, W, 0});
    s.Desc(5, kTable, 48, I);
    s.Publish(5);
    s.header().head = 5;
    s.Write(dir, "indirect_write");
  }
  {
    Seed s;  // without event-idx, NO_INTERRUPT set
    s.header().flags = ft::vmm::fuzz::kFuzzIndirect;
    s.Put<uint16_t>(kAvail, virtio::kAvailFlagNoInterrupt);
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Write(dir, "no_event_idx");
  }
  {
    Seed s;  // used_event far ahead: no interrupt
    s.Put<uint16_t>(kAvail + 4 + 2 * kSize, 100);
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Request(1, blk::kTypeIn, 1, 512);
    s.Write(dir, "used_event_ahead");
  }
  // --- malformed ---
  {
    Seed s;
    s.Desc(0, kHeaders, 16, N, 1);
    s.Desc(1, kData, 512, N, 0);
    s.Publish(0);
    s.Write(dir, "bad_loop");
  }
  {
    Seed s;
    s.Desc(0, kHeaders, 16, N, 40);
    s.Publish(0);
    s.Write(dir, "bad_next_out_of_range");
  }
  {
    Seed s;
    s.Publish(33);
    s.header().head = 33;
    s.Write(dir, "bad_head_out_of_range");
  }
  {
    Seed s;
    s.Desc(0, ft::vmm::fuzz::kFuzzRam - 8, 16, 0);
    s.Publish(0);
    s.Write(dir, "bad_buffer_past_ram");
  }
  {
    Seed s;
    s.Desc(0, ~0ull - 4, 64, 0);
    s.Publish(0);
    s.Write(dir, "bad_buffer_wraps");
  }
  {
    Seed s;
    s.Desc(0, kData, 16, W | N, 1);
    s.Desc(1, kHeaders, 16, 0);
    s.Publish(0);
    s.Write(dir, "bad_writable_before_readable");
  }
  {
    Seed s;
    s.Put(kTable, virtio::VirtqDesc{kTable, 32, I, 0});
    s.Desc(0, kTable, 16, I);
    s.Publish(0);
    s.Write(dir, "bad_indirect_nested");
  }
  {
    Seed s;
    s.Desc(0, kTable, 24, I);
    s.Publish(0);
    s.Write(dir, "bad_indirect_length");
  }
  {
    Seed s;
    s.Put(kTable, virtio::VirtqDesc{kData, 16, N, 0});
    s.Desc(0, kTable, 16, I);
    s.Publish(0);
    s.Write(dir, "bad_indirect_loop");
  }
  {
    Seed s;
    s.Desc(0, kTable, 16, I | N, 1);
    s.Publish(0);
    s.Write(dir, "bad_indirect_with_next");
  }
  {
    Seed s;
    s.Put<uint16_t>(kAvail + 2, 40);  // 40 entries in a queue of 16
    s.Write(dir, "bad_avail_idx");
  }
  {
    Seed s;
    s.header().flags |= ft::vmm::fuzz::kFuzzRawSize;
    s.header().queue_size = 12;
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Write(dir, "bad_queue_size");
  }
  {
    Seed s;
    s.header().used = ft::vmm::fuzz::kFuzzRam - 8;
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Write(dir, "bad_used_ring_outside_ram");
  }
  {
    Seed s;  // the driver resets, then notifies a dead queue
    s.Request(0, blk::kTypeIn, 0, 512);
    s.Op(virtio::mmio::kStatus, 0);
    s.Op(virtio::mmio::kQueueSel, 5);
    s.Op(virtio::mmio::kQueueReady, 1);
    s.Op(virtio::mmio::kConfig, 0x12345678);
    s.Write(dir, "mmio_reset");
  }
  return 0;
}
