#include "replay/run_config.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "replay/file_identity.h"
#include "vmm/kvm/cpuid.h"

namespace ft::replay {

namespace {

// The CPUID vCPU 0 of a machine on `kvm` gets, as the log carries it.
std::vector<CpuidEntry> GuestCpuid(const vmm::KvmSystem& kvm, uint32_t vcpus) {
  std::vector<CpuidEntry> out;
  for (const kvm_cpuid_entry2& e : vmm::BuildGuestCpuid(
           kvm.supported_cpuid(), {.vcpu_index = 0, .vcpu_count = vcpus})) {
    out.push_back({.function = e.function,
                   .index = e.index,
                   .flags = e.flags,
                   .eax = e.eax,
                   .ebx = e.ebx,
                   .ecx = e.ecx,
                   .edx = e.edx});
  }
  return out;
}

}  // namespace

absl::StatusOr<LogHeader> HeaderForRecording(
    const vmm::KvmSystem& kvm, const vmm::MachineOptions& options) {
  LogHeader h;
  h.guest.cpuid = GuestCpuid(kvm, options.vcpus);
  h.writer = "ftvm 0.1.0";
  h.guest.memory_bytes = options.memory_bytes;
  h.guest.vcpus = options.vcpus;
  FT_ASSIGN_OR_RETURN(h.guest.kernel, IdentifyFile(options.kernel_path));
  h.guest.cmdline = options.cmdline;
  for (const vmm::DiskSpec& d : options.disks) {
    // Disks are identified by size only: hashing a large image at every
    // start would delay it (the replay does not read them anyway).
    FT_ASSIGN_OR_RETURN(FileIdentity id, IdentifyFile(d.path, /*hash=*/false));
    h.guest.disks.push_back({.image = std::move(id), .read_only = d.read_only});
  }
  for (const vmm::NetSpec& n : options.nets) {
    const vmm::MacAddress mac = n.mac ? *n.mac : vmm::DefaultMac(n.tap);
    NicConfig nic;
    std::memcpy(nic.mac.data(), mac.bytes, 6);
    h.guest.nics.push_back(nic);
  }
  h.initial_state = BootFromKernel{};
  h.latency_bound_ns =
      static_cast<uint64_t>(absl::ToInt64Nanoseconds(options.latency_bound));
  return h;
}

absl::StatusOr<vmm::MachineOptions> OptionsForReplay(
    const vmm::KvmSystem& kvm, const LogHeader& header,
    const std::string& kernel_path) {
  if (!std::holds_alternative<BootFromKernel>(header.initial_state)) {
    return absl::UnimplementedError(
        "the log starts from a snapshot; this ftvm replays only runs that "
        "boot from the kernel");
  }
  vmm::MachineOptions o;
  o.kernel_path = kernel_path.empty() ? header.guest.kernel.path : kernel_path;
  FT_ASSIGN_OR_RETURN(FileIdentity kernel, IdentifyFile(o.kernel_path));
  if (kernel.size_bytes != header.guest.kernel.size_bytes ||
      (!header.guest.kernel.sha256.empty() &&
       kernel.sha256 != header.guest.kernel.sha256)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "kernel %s is not the one recorded (%s, %u bytes): replay needs the "
        "same kernel (--kernel FILE)",
        o.kernel_path, header.guest.kernel.path,
        header.guest.kernel.size_bytes));
  }
  if (GuestCpuid(kvm, header.guest.vcpus) != header.guest.cpuid) {
    return absl::FailedPreconditionError(
        "this host gives the guest another CPUID than the recording host "
        "did: a replay here could diverge (replay on the same kind of host)");
  }
  o.memory_bytes = header.guest.memory_bytes;
  o.vcpus = header.guest.vcpus;
  o.cmdline = header.guest.cmdline;
  for (const DiskConfig& d : header.guest.disks) {
    o.disks.push_back({.path = d.image.path, .read_only = d.read_only});
    o.replay_disk_bytes.push_back(d.image.size_bytes);
  }
  for (size_t i = 0; i < header.guest.nics.size(); ++i) {
    vmm::MacAddress mac;
    std::memcpy(mac.bytes, header.guest.nics[i].mac.data(), 6);
    o.nets.push_back({.tap = absl::StrFormat("replay%u", i), .mac = mac});
  }
  o.replay = true;
  return o;
}

}  // namespace ft::replay
