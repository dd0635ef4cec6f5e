// IoBus: routes guest port I/O and MMIO to device models.
//
// Every device is reached through the one IoDevice::Access signature, so the
// bus is the single choke point where a later layer records (primary) or
// injects (secondary) what devices return.
//
// Thread ownership: devices are registered by the machine's builder before
// any vCPU runs; Dispatch runs on vCPU threads and serializes all device
// accesses with one lock (device models are not thread-safe themselves).
#ifndef FTVM_VMM_IO_IO_BUS_H_
#define FTVM_VMM_IO_IO_BUS_H_

#include <cstdint>
#include <map>
#include <span>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "vmm/kvm/vm_exit.h"

namespace ft::vmm {

enum class IoSpace { kPio, kMmio };

struct IoAccess {
  IoSpace space = IoSpace::kPio;
  uint64_t address = 0;  // absolute port number or guest physical address
  uint64_t offset = 0;   // address minus the device's registered base
  bool is_write = false;
  // 1..8 bytes, little-endian. A read handler fills every byte.
  std::span<uint8_t> data;
};

class IoDevice {
 public:
  virtual ~IoDevice() = default;
  virtual std::string_view name() const = 0;
  virtual void Access(const IoAccess& access) = 0;
};

class IoBus {
 public:
  struct Stats {
    uint64_t accesses = 0;
    uint64_t unclaimed = 0;
  };

  // Claims [base, base + length) of `space` for `device`, which must outlive
  // the bus. Overlapping claims are refused.
  absl::Status Register(IoSpace space, uint64_t base, uint64_t length,
                        IoDevice* device);

  // One access of 1..8 bytes. Unclaimed reads return all ones and unclaimed
  // writes are dropped, like an ISA bus with nothing listening.
  void Dispatch(IoSpace space, uint64_t address, bool is_write,
                std::span<uint8_t> data);

  // Decoded KVM exits; string PIO (count > 1) becomes count accesses.
  void HandlePio(const PioExit& exit);
  void HandleMmio(const MmioExit& exit);

  Stats stats() const;

 private:
  struct Claim {
    uint64_t length;
    IoDevice* device;
  };
  std::map<uint64_t, Claim>& Claims(IoSpace space) {
    return space == IoSpace::kPio ? pio_ : mmio_;
  }

  mutable absl::Mutex mu_;
  std::map<uint64_t, Claim> pio_ ABSL_GUARDED_BY(mu_);  // keyed by base
  std::map<uint64_t, Claim> mmio_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_IO_IO_BUS_H_
