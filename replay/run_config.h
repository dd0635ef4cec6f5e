// The bridge between a machine's options and a log's header: what a
// recording writes about the machine, and the machine a replay builds from
// it (same memory, command line, disks by size, NICs by MAC; inert back
// ends).
//
// Plain functions; any thread.
#ifndef FTVM_REPLAY_RUN_CONFIG_H_
#define FTVM_REPLAY_RUN_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "replay/log_entry.h"
#include "vmm/machine.h"

namespace ft::replay {

// The header for recording a machine built from `options` on `kvm` (the
// kernel is identified by size and SHA-256, disks by path and size; the
// guest's CPUID as this host gives it).
absl::StatusOr<LogHeader> HeaderForRecording(
    const vmm::KvmSystem& kvm, const vmm::MachineOptions& options);

// Options for replaying a log with `header` on `kvm`. `kernel_path`
// overrides the recorded path (empty: the recorded one); its size and
// SHA-256 must match the recorded ones, and this host must give the guest
// the recorded CPUID (a guest may branch on it). The caller sets hooks.
absl::StatusOr<vmm::MachineOptions> OptionsForReplay(
    const vmm::KvmSystem& kvm, const LogHeader& header,
    const std::string& kernel_path);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_RUN_CONFIG_H_
