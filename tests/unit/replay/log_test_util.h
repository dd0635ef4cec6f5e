// Sample headers and entries for the execution log tests.
#ifndef FTVM_TESTS_UNIT_REPLAY_LOG_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_REPLAY_LOG_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "replay/log_entry.h"
#include "replay/log_validate.h"

namespace ft::replay::testing {

// 16 MiB of RAM (4096 pages), one vCPU, one disk, one NIC.
inline LogHeader SampleHeader() {
  LogHeader h;
  h.writer = "ftvm test";
  h.guest.memory_bytes = 16 << 20;
  h.guest.vcpus = 1;
  h.guest.cpuid = {{.function = 0, .eax = 0xd, .ebx = 0x756e6547},
                   {.function = 7, .index = 0, .flags = 1, .ebx = 0x29c67af}};
  h.guest.kernel = {.path = "/boot/ftguest.elf",
                    .size_bytes = 123456,
                    .sha256 = std::vector<uint8_t>(32, 0xab)};
  h.guest.cmdline = "workload=hello";
  h.guest.disks = {{.image = {.path = "/var/disk.img", .size_bytes = 1 << 20},
                    .read_only = true}};
  h.guest.nics = {{.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}};
  h.latency_bound_ns = 2'000'000;
  return h;
}

inline LogPosition At(uint64_t exits, ExitKind kind, uint64_t address,
                      uint64_t rip) {
  return LogPosition{.position = Position(exits),
                     .exit = {.kind = kind, .address = address, .rip = rip}};
}

inline LogPosition Pio(uint64_t exits, uint16_t port = 0x3f8,
                       uint64_t rip = 0x401000) {
  return At(exits, ExitKind::kPio, port, rip);
}

inline LogPosition CheckpointAt(uint64_t exits, uint64_t rip = 0x402000) {
  return At(exits, ExitKind::kCheckpoint, 0, rip);
}

inline VcpuState SampleVcpu(uint64_t rip) {
  VcpuState v;
  v.regs.assign(kKvmRegsBytes, 0x11);
  std::memcpy(v.regs.data() + kKvmRegsRipOffset, &rip, sizeof(rip));
  v.sregs.assign(kKvmSregsBytes, 0x22);
  v.fpu.assign(kKvmFpuBytes, 0x33);
  v.xsave.assign(kKvmXsaveBytes, 0x44);
  v.xcrs.assign(kKvmXcrsBytes, 0x55);
  v.events.assign(kKvmVcpuEventsBytes, 0x66);
  v.msrs = {{.index = 0xc0000080, .value = 0x500},
            {.index = 0x10, .value = 12345}};
  return v;
}

inline DirtyPage SamplePage(uint64_t gfn) {
  DirtyPage p{.gfn = gfn, .bytes = std::vector<uint8_t>(kPageBytes)};
  for (size_t i = 0; i < p.bytes.size(); ++i) {
    p.bytes[i] = static_cast<uint8_t>(gfn * 31 + i);
  }
  return p;
}

// A checkpoint at `exits` with `pages` dirty pages (gfns 3, 6, 9, ...).
inline MicroCheckpoint SampleCheckpoint(uint64_t exits, size_t pages) {
  MicroCheckpoint c{.at = CheckpointAt(exits), .vcpus = {SampleVcpu(0x402000)}};
  for (size_t i = 0; i < pages; ++i) c.pages.push_back(SamplePage(3 * i + 3));
  return c;
}

// One entry of every kind, in an order a log may have them.
inline std::vector<LogEntry> SampleEntries() {
  return {
      StateDigest{.at = At(0, ExitKind::kStart, 0, 0),
                  .digest = {.registers_hash = 1, .memory_hash = 2}},
      SyncInput{.at = Pio(1, 0x40),
                .value = ClockRead{.source = ClockSource::kMonotonic,
                                   .nanos = 123456789}},
      SyncInput{
          .at = Pio(1, 0x40),
          .value = ClockRead{.source = ClockSource::kRealtime, .nanos = -5}},
      AsyncEventEntry{.at = At(4, ExitKind::kHlt, 0, 0x401100),
                      .source = 2,
                      .kind = 1,
                      .data = {1, 2, 3, 4, 5}},
      SampleCheckpoint(7, 3),
      AsyncEventEntry{.at = CheckpointAt(7), .source = 1, .kind = 1},
      OutputMarker{.at = At(9, ExitKind::kMmio, 0xd0000050, 0x401200),
                   .kind = OutputKind::kNetPacket,
                   .device = 0,
                   .length = 60,
                   .hash = 0xfeedface},
      OutputMarker{.at = At(10, ExitKind::kIrqWindow, 0, 0x401300),
                   .kind = OutputKind::kDiskWrite,
                   .device = 0,
                   .length = 4096,
                   .hash = 0xdeadbeef},
      EndEntry{.at = Pio(12, 0x501),
               .reason = EndReason::kGuestExit,
               .exit_code = 3,
               .final_digest = Digest{.registers_hash = 7, .memory_hash = 8},
               .detail = "guest exit"},
  };
}

}  // namespace ft::replay::testing

#endif  // FTVM_TESTS_UNIT_REPLAY_LOG_TEST_UTIL_H_
