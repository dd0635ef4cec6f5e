#include "replay/log_validate.h"

#include <linux/kvm.h>

#include <cstddef>
#include <cstring>
#include <string_view>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::replay {

// The documented sizes are the ABI's: a mismatch would make logs of one
// build unreadable by another.
static_assert(sizeof(kvm_regs) == kKvmRegsBytes);
static_assert(sizeof(kvm_sregs) == kKvmSregsBytes);
static_assert(sizeof(kvm_fpu) == kKvmFpuBytes);
// The region KVM_GET_XSAVE fills (sizeof(kvm_xsave) counts a flexible tail
// for KVM_GET_XSAVE2, which C++ pads).
static_assert(sizeof(kvm_xsave::region) == kKvmXsaveBytes);
static_assert(sizeof(kvm_xcrs) == kKvmXcrsBytes);
static_assert(sizeof(kvm_vcpu_events) == kKvmVcpuEventsBytes);
static_assert(offsetof(kvm_regs, rip) == kKvmRegsRipOffset);

namespace {

template <typename... Args>
absl::Status Invalid(const absl::FormatSpec<Args...>& format,
                     const Args&... args) {
  return absl::InvalidArgumentError(absl::StrFormat(format, args...));
}

absl::Status ValidatePath(std::string_view what, const std::string& path,
                          bool required) {
  if (required && path.empty()) return Invalid("%s: empty path", what);
  if (path.size() > kMaxPathBytes) {
    return Invalid("%s: path of %u bytes (at most %u)", what, path.size(),
                   kMaxPathBytes);
  }
  if (path.find('\0') != std::string::npos) {
    return Invalid("%s: path contains a NUL byte", what);
  }
  return absl::OkStatus();
}

absl::Status ValidateHash(std::string_view what,
                          const std::vector<uint8_t>& hash, bool required) {
  if (hash.size() == kSha256Bytes || (!required && hash.empty())) {
    return absl::OkStatus();
  }
  return Invalid("%s: sha256 of %u bytes (must be %u%s)", what, hash.size(),
                 kSha256Bytes, required ? "" : ", or empty");
}

absl::Status ValidateIdentity(std::string_view what, const FileIdentity& id,
                              bool required) {
  FT_RETURN_IF_ERROR(ValidatePath(what, id.path, required));
  return ValidateHash(what, id.sha256, required);
}

absl::Status ValidateBlob(std::string_view what, size_t index,
                          const std::vector<uint8_t>& blob, size_t size,
                          bool optional) {
  if (blob.size() == size || (optional && blob.empty())) {
    return absl::OkStatus();
  }
  return Invalid("checkpoint vCPU %u: %s of %u bytes (must be %u%s)", index,
                 what, blob.size(), size, optional ? ", or empty" : "");
}

}  // namespace

absl::Status ValidateHeader(const LogHeader& h) {
  if (h.min_reader_version == 0) {
    return Invalid("header: minReaderVersion 0 (at least 1)");
  }
  if (h.format_version < h.min_reader_version) {
    return Invalid("header: formatVersion %u below minReaderVersion %u",
                   h.format_version, h.min_reader_version);
  }
  if (h.writer.size() > kMaxWriterBytes) {
    return Invalid("header: writer of %u bytes (at most %u)", h.writer.size(),
                   kMaxWriterBytes);
  }
  const GuestConfig& g = h.guest;
  if (g.memory_bytes == 0 || g.memory_bytes % kPageBytes != 0 ||
      g.memory_bytes > kMaxGuestMemoryBytes) {
    return Invalid(
        "header: guest memory of %u bytes (must be a non-zero multiple of %u, "
        "at most %u)",
        g.memory_bytes, kPageBytes, kMaxGuestMemoryBytes);
  }
  if (g.vcpus == 0 || g.vcpus > kMaxVcpus) {
    return Invalid("header: %u vCPUs (must be 1..%u)", g.vcpus, kMaxVcpus);
  }
  if (g.cpuid.size() > kMaxCpuidEntries) {
    return Invalid("header: %u CPUID entries (at most %u)", g.cpuid.size(),
                   kMaxCpuidEntries);
  }
  const bool boot = std::holds_alternative<BootFromKernel>(h.initial_state);
  FT_RETURN_IF_ERROR(ValidateIdentity("header: kernel", g.kernel, boot));
  if (g.cmdline.size() > kMaxCmdlineBytes) {
    return Invalid("header: command line of %u bytes (at most %u)",
                   g.cmdline.size(), kMaxCmdlineBytes);
  }
  if (g.disks.size() > kMaxDisks) {
    return Invalid("header: %u disks (at most %u)", g.disks.size(), kMaxDisks);
  }
  for (size_t i = 0; i < g.disks.size(); ++i) {
    FT_RETURN_IF_ERROR(ValidateIdentity(absl::StrFormat("header: disk %u", i),
                                        g.disks[i].image, /*required=*/false));
    if (g.disks[i].image.path.empty()) {
      return Invalid("header: disk %u: empty path", i);
    }
  }
  if (g.nics.size() > kMaxNics) {
    return Invalid("header: %u NICs (at most %u)", g.nics.size(), kMaxNics);
  }
  if (const auto* snap = std::get_if<SnapshotRef>(&h.initial_state)) {
    FT_RETURN_IF_ERROR(ValidatePath("header: snapshot", snap->path, true));
    FT_RETURN_IF_ERROR(ValidateHash("header: snapshot", snap->sha256, true));
  }
  if (h.latency_bound_ns == 0 || h.latency_bound_ns > kMaxLatencyBoundNs) {
    return Invalid("header: latency bound of %u ns (must be 1..%u)",
                   h.latency_bound_ns, kMaxLatencyBoundNs);
  }
  return absl::OkStatus();
}

absl::Status CheckReaderVersion(const LogHeader& h) {
  if (h.min_reader_version <= kReaderVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "the log needs reader version %u or newer, and this ftvm reads up to "
      "version %u (log format version %u, written by '%s'): read it with a "
      "newer ftvm",
      h.min_reader_version, kReaderVersion, h.format_version, h.writer));
}

absl::Status ValidatePosition(const LogPosition& at) {
  const ExitSignature& e = at.exit;
  if (e.kind > kLastExitKind) {
    return Invalid("position %u: unknown exit kind %u", at.position.value(),
                   static_cast<unsigned>(e.kind));
  }
  if ((at.position.value() == 0) != (e.kind == ExitKind::kStart)) {
    return Invalid(
        "position %s: exit count 0 is the start, and kind start is count 0",
        at.ToString());
  }
  switch (e.kind) {
    case ExitKind::kPio:
      if (e.address > 0xffff) {
        return Invalid("position %s: port above 0xffff", at.ToString());
      }
      break;
    case ExitKind::kMmio:
      break;
    case ExitKind::kStart:
      if (e.address != 0 || e.rip != 0) {
        return Invalid("position %s: the start has no address or RIP",
                       at.ToString());
      }
      break;
    case ExitKind::kHlt:
    case ExitKind::kIrqWindow:
    case ExitKind::kCheckpoint:
    case ExitKind::kShutdown:
      if (e.address != 0) {
        return Invalid("position %s: this kind of exit has no address",
                       at.ToString());
      }
      break;
  }
  return absl::OkStatus();
}

absl::Status ValidateVcpuStates(std::span<const VcpuState> vcpus,
                                const GuestConfig& guest,
                                const LogPosition& at) {
  if (at.exit.kind != ExitKind::kCheckpoint) {
    return Invalid("checkpoint at position %s: its kind must be checkpoint",
                   at.ToString());
  }
  if (vcpus.size() != guest.vcpus || vcpus.empty()) {
    return Invalid("checkpoint: %u vCPU states for a guest with %u vCPUs",
                   vcpus.size(), guest.vcpus);
  }
  for (size_t i = 0; i < vcpus.size(); ++i) {
    const VcpuState& v = vcpus[i];
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_regs", i, v.regs, kKvmRegsBytes,
                                    /*optional=*/false));
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_sregs", i, v.sregs, kKvmSregsBytes,
                                    /*optional=*/false));
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_fpu", i, v.fpu, kKvmFpuBytes,
                                    /*optional=*/false));
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_xsave", i, v.xsave, kKvmXsaveBytes,
                                    /*optional=*/true));
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_xcrs", i, v.xcrs, kKvmXcrsBytes,
                                    /*optional=*/true));
    FT_RETURN_IF_ERROR(ValidateBlob("kvm_vcpu_events", i, v.events,
                                    kKvmVcpuEventsBytes, /*optional=*/true));
    if (v.msrs.size() > kMaxMsrs) {
      return Invalid("checkpoint vCPU %u: %u MSRs (at most %u)", i,
                     v.msrs.size(), kMaxMsrs);
    }
  }
  uint64_t rip = 0;
  std::memcpy(&rip, vcpus[0].regs.data() + kKvmRegsRipOffset, sizeof(rip));
  if (rip != at.exit.rip) {
    return Invalid("checkpoint: vCPU 0 RIP 0x%x differs from the position's %s",
                   rip, at.ToString());
  }
  return absl::OkStatus();
}

absl::Status ValidatePages(std::span<const DirtyPage> pages,
                           const GuestConfig& guest,
                           std::optional<uint64_t> after_gfn) {
  const uint64_t memory_pages = guest.memory_bytes / kPageBytes;
  for (size_t i = 0; i < pages.size(); ++i) {
    const DirtyPage& p = pages[i];
    if (p.gfn >= memory_pages) {
      return Invalid(
          "checkpoint page %u: gfn 0x%x beyond guest memory (%u pages)", i,
          p.gfn, memory_pages);
    }
    if (after_gfn.has_value() && p.gfn <= *after_gfn) {
      return Invalid(
          "checkpoint page %u: gfn 0x%x after gfn 0x%x (gfns must strictly "
          "increase)",
          i, p.gfn, *after_gfn);
    }
    if (p.bytes.size() != kPageBytes) {
      return Invalid("checkpoint page %u (gfn 0x%x): %u bytes (must be %u)", i,
                     p.gfn, p.bytes.size(), kPageBytes);
    }
    after_gfn = p.gfn;
  }
  return absl::OkStatus();
}

absl::Status ValidateDevices(const MicroCheckpoint& checkpoint) {
  if (!checkpoint.full) {
    if (!checkpoint.devices.empty() || checkpoint.halted) {
      return Invalid(
          "checkpoint: device states or a halt in a checkpoint "
          "that is not full");
    }
    return absl::OkStatus();
  }
  if (checkpoint.devices.size() > kMaxDevices) {
    return Invalid("full checkpoint: %u devices (at most %u)",
                   checkpoint.devices.size(), kMaxDevices);
  }
  size_t bytes = 0;
  for (size_t i = 0; i < checkpoint.devices.size(); ++i) {
    const DeviceState& d = checkpoint.devices[i];
    if (d.name.empty() || d.name.size() > kMaxDeviceNameBytes) {
      return Invalid(
          "full checkpoint: device %u has a name of %u bytes "
          "(must be 1..%u)",
          i, d.name.size(), kMaxDeviceNameBytes);
    }
    for (size_t j = 0; j < i; ++j) {
      if (checkpoint.devices[j].name == d.name) {
        return Invalid("full checkpoint: device \"%s\" appears twice", d.name);
      }
    }
    bytes += d.state.size();
  }
  if (bytes > kMaxDeviceStateBytes) {
    return Invalid("full checkpoint: %u bytes of device state (at most %u)",
                   bytes, kMaxDeviceStateBytes);
  }
  return absl::OkStatus();
}

namespace {

struct EntryValidator {
  const GuestConfig& guest;

  absl::Status operator()(const SyncInput& e) const {
    const auto& clock = std::get<ClockRead>(e.value);
    if (clock.source != ClockSource::kMonotonic &&
        clock.source != ClockSource::kRealtime) {
      return Invalid("clock read: unknown clock source %u",
                     static_cast<unsigned>(clock.source));
    }
    return absl::OkStatus();
  }
  absl::Status operator()(const AsyncEventEntry& e) const {
    if (e.data.size() > kMaxEventDataBytes) {
      return Invalid("async event: %u bytes of data (at most %u)",
                     e.data.size(), kMaxEventDataBytes);
    }
    return absl::OkStatus();
  }
  absl::Status operator()(const MicroCheckpoint& e) const {
    FT_RETURN_IF_ERROR(ValidateVcpuStates(e.vcpus, guest, e.at));
    FT_RETURN_IF_ERROR(ValidateDevices(e));
    return ValidatePages(e.pages, guest, std::nullopt);
  }
  absl::Status operator()(const StateDigest&) const { return absl::OkStatus(); }
  absl::Status operator()(const OutputMarker& e) const {
    size_t devices = 0;
    switch (e.kind) {
      case OutputKind::kNetPacket:
        devices = guest.nics.size();
        break;
      case OutputKind::kDiskWrite:
        devices = guest.disks.size();
        break;
      default:
        return Invalid("output: unknown kind %u",
                       static_cast<unsigned>(e.kind));
    }
    if (e.device >= devices) {
      return Invalid("output: device %u of a guest with %u such devices",
                     e.device, devices);
    }
    return absl::OkStatus();
  }
  absl::Status operator()(const EndEntry& e) const {
    if (e.reason > EndReason::kError) {
      return Invalid("end: unknown reason %u", static_cast<unsigned>(e.reason));
    }
    if (e.detail.size() > kMaxDetailBytes) {
      return Invalid("end: detail of %u bytes (at most %u)", e.detail.size(),
                     kMaxDetailBytes);
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::Status ValidateEntry(const LogEntry& entry, const GuestConfig& guest) {
  const LogPosition& at = EntryPosition(entry);
  FT_RETURN_IF_ERROR(ValidatePosition(at));
  if (at.exit.kind == ExitKind::kShutdown &&
      !std::holds_alternative<EndEntry>(entry)) {
    return Invalid("%s at a shutdown position (only an end entry can be)",
                   EntryKindName(entry));
  }
  return std::visit(EntryValidator{guest}, entry);
}

}  // namespace ft::replay
