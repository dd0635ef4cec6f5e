// Bounds of the execution log, and the checks that enforce them.
//
// The writer checks every header and entry before encoding it, and the
// decoder checks everything it decodes, with the same functions: a log this
// code writes is a log this code reads, and a hostile or corrupt log is
// refused with a message naming the field (docs/log-format.md, "Bounds").
// Checks that need the machine's configuration (a gfn against the memory
// size, a device index against the devices) take the header's GuestConfig.
//
// Stateless functions; any thread.
#ifndef FTVM_REPLAY_LOG_VALIDATE_H_
#define FTVM_REPLAY_LOG_VALIDATE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "absl/status/status.h"
#include "replay/log_entry.h"

namespace ft::replay {

inline constexpr size_t kPageBytes = 4096;
// Dirty pages per frame; a checkpoint with more continues in further frames.
inline constexpr size_t kMaxPagesPerFrame = 4096;
inline constexpr uint64_t kMaxGuestMemoryBytes = uint64_t{1} << 40;  // 1 TiB
inline constexpr uint32_t kMaxVcpus = 64;
inline constexpr size_t kMaxCpuidEntries = 256;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxCmdlineBytes = 4096;
inline constexpr size_t kMaxDisks = 16;
inline constexpr size_t kMaxNics = 16;
inline constexpr size_t kMaxWriterBytes = 256;
inline constexpr size_t kSha256Bytes = 32;
inline constexpr uint64_t kMaxLatencyBoundNs = 10'000'000'000;  // 10 s
// An asynchronous event's data; a disk completion with more read data must
// be split by its device into several events.
inline constexpr size_t kMaxEventDataBytes = size_t{16} << 20;
inline constexpr size_t kMaxMsrs = 1024;
inline constexpr size_t kMaxDetailBytes = 4096;
// The device models of a full checkpoint: how many, their names, and their
// states' bytes all told.
inline constexpr size_t kMaxDevices = 64;
inline constexpr size_t kMaxDeviceNameBytes = 64;
inline constexpr size_t kMaxDeviceStateBytes = size_t{1} << 20;

// Sizes of the KVM structures in VcpuState (x86-64 Linux ABI; checked
// against <linux/kvm.h> at compile time).
inline constexpr size_t kKvmRegsBytes = 144;
inline constexpr size_t kKvmSregsBytes = 312;
inline constexpr size_t kKvmFpuBytes = 416;
inline constexpr size_t kKvmXsaveBytes = 4096;
inline constexpr size_t kKvmXcrsBytes = 392;
inline constexpr size_t kKvmVcpuEventsBytes = 64;
// Byte offset of `rip` in struct kvm_regs.
inline constexpr size_t kKvmRegsRipOffset = 128;

// The header's own consistency and bounds (not the reader version check:
// see CheckReaderVersion).
absl::Status ValidateHeader(const LogHeader& header);

// FailedPrecondition if this reader (kReaderVersion) is too old for a log
// with this header, saying which version it needs.
absl::Status CheckReaderVersion(const LogHeader& header);

// A position on its own: exits 0 if and only if kind start, a port below
// 65536, address 0 for kinds without one.
absl::Status ValidatePosition(const LogPosition& at);

// The vCPU part of a checkpoint at `at`: one state per vCPU, blob sizes,
// MSR count, and vCPU 0's RIP equal to the position's.
absl::Status ValidateVcpuStates(std::span<const VcpuState> vcpus,
                                const GuestConfig& guest,
                                const LogPosition& at);

// Pages of a checkpoint: each gfn below the memory size and above the one
// before (`after_gfn` is the last gfn of the checkpoint's earlier frames),
// each page exactly kPageBytes.
absl::Status ValidatePages(std::span<const DirtyPage> pages,
                           const GuestConfig& guest,
                           std::optional<uint64_t> after_gfn);

// The device part of a checkpoint: none unless it is full; then at most
// kMaxDevices, names 1..kMaxDeviceNameBytes and distinct, states at most
// kMaxDeviceStateBytes in all.
absl::Status ValidateDevices(const MicroCheckpoint& checkpoint);

// A whole entry against the header's configuration. A MicroCheckpoint is
// checked with all its pages.
absl::Status ValidateEntry(const LogEntry& entry, const GuestConfig& guest);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_LOG_VALIDATE_H_
