// What the record/replay engine takes from and gives to a machine: vCPU
// snapshots as the log's byte blobs, and the state digest (registers and
// all of guest memory) that recorded and replayed runs compare.
//
// Plain functions; called on the vCPU thread or with the machine stopped.
#ifndef FTVM_REPLAY_MACHINE_STATE_H_
#define FTVM_REPLAY_MACHINE_STATE_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "replay/log_entry.h"
#include "vmm/kvm/vcpu_state.h"
#include "vmm/memory/guest_memory.h"

namespace ft::replay {

VcpuState ToLogVcpu(const vmm::VcpuSnapshot& snapshot);
// Overwrites the fields the log carries in `into` (a snapshot of the vCPU
// being replaced, for what the log does not carry: debug registers, MP
// state). Fails if a blob has the wrong size.
absl::Status FromLogVcpu(const VcpuState& state, vmm::VcpuSnapshot& into);

// A 64-bit digest of all of guest memory, region by region, 8 bytes at a
// time (fast enough to take at every checkpoint of a 256 MiB guest).
uint64_t MemoryDigest(const vmm::GuestMemory& memory);

// The hash an output marker carries of the output's bytes (FNV-1a).
uint64_t OutputHash(std::span<const uint8_t> bytes);

Digest MachineDigest(const vmm::VcpuSnapshot& vcpu,
                     const vmm::GuestMemory& memory);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_MACHINE_STATE_H_
