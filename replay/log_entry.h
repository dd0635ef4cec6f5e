// The deterministic execution log as plain C++ values: the header that
// describes the recorded machine, and the entries that say what happens at
// which position. The on-disk/on-wire encoding is replay/log_codec.h (Cap'n
// Proto, schema/ftlog.capnp, framed as in docs/log-format.md); nothing else
// needs the generated code.
//
// Every field's meaning and bounds are documented in schema/ftlog.capnp;
// replay/log_validate.h enforces the bounds. Plain values; any thread.
#ifndef FTVM_REPLAY_LOG_ENTRY_H_
#define FTVM_REPLAY_LOG_ENTRY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "replay/position.h"

namespace ft::replay {

// The format this code writes (Header.formatVersion).
// 2: checkpoint pages may be zstd-compressed (pagesZstd).
// 3: a checkpoint may be full (a resync point): every non-zero page plus the
// device models' state.
// 4: no interrupt-window exits: an interrupt the guest cannot take waits for
// the next position (an exit or a kick's checkpoint). Same schema; the
// replayer no longer asks KVM for window exits, so it replays only logs of
// format 4 and later (kFirstReplayableFormat).
inline constexpr uint32_t kFormatVersion = 4;
// The minReaderVersion this code writes: raise it only when an older reader
// would misread what this code writes. 4: an older replayer would ask for
// window exits this log does not have (and a version-1 reader would find
// pages without bytes). Full checkpoints did not raise it: a recorder
// writes one only when a version-3 secondary asks for it (a resync).
inline constexpr uint32_t kMinReaderVersion = 4;
// This reader's version: it refuses logs whose minReaderVersion is above.
inline constexpr uint32_t kReaderVersion = 4;
// The oldest format this code replays (it still reads older ones: ftlog
// dump and stats).
inline constexpr uint32_t kFirstReplayableFormat = 4;

// --- Header ---

// One struct kvm_cpuid_entry2 without its padding.
struct CpuidEntry {
  uint32_t function = 0;
  uint32_t index = 0;
  uint32_t flags = 0;
  uint32_t eax = 0;
  uint32_t ebx = 0;
  uint32_t ecx = 0;
  uint32_t edx = 0;
  bool operator==(const CpuidEntry&) const = default;
};

// Which file, and which contents (replay/file_identity.h computes one).
struct FileIdentity {
  std::string path;
  uint64_t size_bytes = 0;
  std::vector<uint8_t> sha256;  // 32 bytes, or empty: not computed
  bool operator==(const FileIdentity&) const = default;
};

struct DiskConfig {
  FileIdentity image;
  bool read_only = false;
  bool operator==(const DiskConfig&) const = default;
};

struct NicConfig {
  std::array<uint8_t, 6> mac{};
  bool operator==(const NicConfig&) const = default;
};

struct GuestConfig {
  uint64_t memory_bytes = 0;  // a non-zero multiple of kPageBytes
  uint32_t vcpus = 1;
  std::vector<CpuidEntry> cpuid;
  FileIdentity kernel;
  std::string cmdline;
  std::vector<DiskConfig> disks;
  std::vector<NicConfig> nics;
  bool operator==(const GuestConfig&) const = default;
};

// Execution starts by booting GuestConfig::kernel.
struct BootFromKernel {
  bool operator==(const BootFromKernel&) const = default;
};
// Execution starts from a saved machine state (later issues).
struct SnapshotRef {
  std::string path;
  std::vector<uint8_t> sha256;  // 32 bytes
  bool operator==(const SnapshotRef&) const = default;
};
using InitialState = std::variant<BootFromKernel, SnapshotRef>;

struct LogHeader {
  uint32_t format_version = kFormatVersion;
  uint32_t min_reader_version = kMinReaderVersion;
  std::string writer;  // e.g. "ftvm 0.1.0"
  GuestConfig guest;
  InitialState initial_state;
  uint64_t latency_bound_ns = 0;
  bool operator==(const LogHeader&) const = default;
};

// --- Entries ---

enum class ClockSource : uint8_t {
  kMonotonic = 0,  // ft::Clock::NowNanos
  kRealtime = 1,   // ft::RealtimeClock::UnixNanos
};

// A device model read the host clock.
struct ClockRead {
  ClockSource source = ClockSource::kMonotonic;
  int64_t nanos = 0;
  bool operator==(const ClockRead&) const = default;
};

// A synchronous input: a value from outside the machine that the handling of
// the exit at `at` consumed. More kinds of value join the variant later.
struct SyncInput {
  LogPosition at;
  std::variant<ClockRead> value;
  bool operator==(const SyncInput&) const = default;
};

// An ft::vmm::AsyncEvent delivered at `at`.
struct AsyncEventEntry {
  LogPosition at;
  uint32_t source = 0;
  uint32_t kind = 0;
  std::vector<uint8_t> data;  // at most kMaxEventDataBytes
  bool operator==(const AsyncEventEntry&) const = default;
};

struct Msr {
  uint32_t index = 0;
  uint64_t value = 0;
  bool operator==(const Msr&) const = default;
};

// One vCPU's state as the raw bytes of the KVM structures (sizes in
// replay/log_validate.h; the optional ones may be empty).
struct VcpuState {
  std::vector<uint8_t> regs;    // struct kvm_regs
  std::vector<uint8_t> sregs;   // struct kvm_sregs
  std::vector<uint8_t> fpu;     // struct kvm_fpu
  std::vector<uint8_t> xsave;   // struct kvm_xsave, or empty
  std::vector<uint8_t> xcrs;    // struct kvm_xcrs, or empty
  std::vector<uint8_t> events;  // struct kvm_vcpu_events, or empty
  std::vector<Msr> msrs;
  bool operator==(const VcpuState&) const = default;
};

struct DirtyPage {
  uint64_t gfn = 0;
  std::vector<uint8_t> bytes;  // exactly kPageBytes
  bool operator==(const DirtyPage&) const = default;
};

// One device model's state, in the device's own encoding (vmm/snapshot).
struct DeviceState {
  std::string name;            // e.g. "pic-8259"; 1..kMaxDeviceNameBytes
  std::vector<uint8_t> state;  // at most kMaxDeviceStateBytes in all
  bool operator==(const DeviceState&) const = default;
};

// A micro-checkpoint: the whole vCPU state plus every page dirtied since the
// previous checkpoint. It is a position of its own (kind kCheckpoint); a
// replayer applies it instead of running. However many pages it holds, it
// is one entry here: the codec splits it across frames and the decoder
// reassembles it.
//
// A full checkpoint (format 3) is the whole machine instead: every page
// that is not all zero (the others are zero), every device model's state,
// and whether the vCPU sits in HLT. A replay may start from one: that is
// how a secondary that diverged is resynchronised.
struct MicroCheckpoint {
  LogPosition at;
  std::vector<VcpuState> vcpus;  // one per vCPU
  std::vector<DirtyPage> pages;  // gfns strictly increasing
  bool full = false;
  std::vector<DeviceState> devices;  // full only
  bool halted = false;               // full only
  bool operator==(const MicroCheckpoint&) const = default;
};

struct Digest {
  uint64_t registers_hash = 0;
  uint64_t memory_hash = 0;
  bool operator==(const Digest&) const = default;
};

// A periodic state digest, checked by the replayer at `at`.
struct StateDigest {
  LogPosition at;
  Digest digest;
  bool operator==(const StateDigest&) const = default;
};

enum class OutputKind : uint8_t { kNetPacket = 0, kDiskWrite = 1 };

// The guest produced an output at `at` (held until acknowledged, later).
struct OutputMarker {
  LogPosition at;
  OutputKind kind = OutputKind::kNetPacket;
  uint32_t device = 0;  // index into GuestConfig::nics or ::disks
  uint64_t length = 0;
  uint64_t hash = 0;
  bool operator==(const OutputMarker&) const = default;
};

enum class EndReason : uint8_t {
  kGuestExit = 0,
  kShutdown = 1,
  kStopped = 2,
  kError = 3,
};

// The run ended at `at`; nothing follows.
struct EndEntry {
  LogPosition at;
  EndReason reason = EndReason::kGuestExit;
  int32_t exit_code = 0;
  std::optional<Digest> final_digest;
  std::string detail;
  bool operator==(const EndEntry&) const = default;
};

using LogEntry = std::variant<SyncInput, AsyncEventEntry, MicroCheckpoint,
                              StateDigest, OutputMarker, EndEntry>;

// The position an entry applies at.
const LogPosition& EntryPosition(const LogEntry& entry);
// "clockRead", "asyncEvent", ... as in the schema.
const char* EntryKindName(const LogEntry& entry);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_LOG_ENTRY_H_
