#include "replay/machine_state.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace ft::replay {
namespace {

template <typename T>
std::vector<uint8_t> Blob(const T& value) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

template <typename T>
absl::Status Unblob(const std::vector<uint8_t>& blob, const char* name,
                    T& out) {
  if (blob.size() != sizeof(T)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "vCPU state %s is %u bytes, not %u", name, blob.size(), sizeof(T)));
  }
  std::memcpy(&out, blob.data(), sizeof(T));
  return absl::OkStatus();
}

}  // namespace

VcpuState ToLogVcpu(const vmm::VcpuSnapshot& s) {
  VcpuState v;
  v.regs = Blob(s.regs);
  v.sregs = Blob(s.sregs);
  v.fpu = Blob(s.fpu);
  v.xsave = Blob(s.xsave);
  v.xcrs = Blob(s.xcrs);
  v.events = Blob(s.events);
  for (const kvm_msr_entry& m : s.msrs) {
    v.msrs.push_back({.index = m.index, .value = m.data});
  }
  return v;
}

absl::Status FromLogVcpu(const VcpuState& v, vmm::VcpuSnapshot& into) {
  if (auto s = Unblob(v.regs, "regs", into.regs); !s.ok()) return s;
  if (auto s = Unblob(v.sregs, "sregs", into.sregs); !s.ok()) return s;
  if (auto s = Unblob(v.fpu, "fpu", into.fpu); !s.ok()) return s;
  if (!v.xsave.empty()) {
    if (auto s = Unblob(v.xsave, "xsave", into.xsave); !s.ok()) return s;
  }
  if (!v.xcrs.empty()) {
    if (auto s = Unblob(v.xcrs, "xcrs", into.xcrs); !s.ok()) return s;
  }
  if (!v.events.empty()) {
    if (auto s = Unblob(v.events, "events", into.events); !s.ok()) return s;
  }
  into.msrs.clear();
  for (const Msr& m : v.msrs) {
    kvm_msr_entry e{};
    e.index = m.index;
    e.data = m.value;
    into.msrs.push_back(e);
  }
  return absl::OkStatus();
}

uint64_t MemoryDigest(const vmm::GuestMemory& memory) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const vmm::GuestMemory::Region& r : memory.regions()) {
    const uint8_t* p = r.mapping.data();
    const size_t words = r.size() / 8;
    h ^= r.base.value();
    for (size_t i = 0; i < words; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      // A multiply-rotate step per word: order- and position-sensitive.
      h = ((h ^ w) * 0x100000001b3ull);
      h ^= h >> 29;
    }
  }
  return h;
}

uint64_t OutputHash(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

Digest MachineDigest(const vmm::VcpuSnapshot& vcpu,
                     const vmm::GuestMemory& memory) {
  return Digest{.registers_hash = vmm::RegistersDigest(vcpu),
                .memory_hash = MemoryDigest(memory)};
}

}  // namespace ft::replay
