// Fuzz target for the PVH ELF loader: the kernel image is hostile input.
//
// Beyond "no crash, no sanitizer report", checks what a successful load
// promises: the kernel lies in RAM above min_address and the entry is inside
// it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "common/check.h"
#include "vmm/boot/elf_loader.h"
#include "vmm/memory/guest_memory.h"

namespace {

// Small RAM (4 MiB) so that "segment beyond RAM" is easy to reach; created
// once because mmap per input would dominate the run time.
const ft::vmm::GuestMemory& Memory() {
  static const ft::vmm::GuestMemory* memory = [] {
    auto created = ft::vmm::GuestMemory::Create({.size = 4 << 20});
    FT_CHECK_OK(created.status());
    return new ft::vmm::GuestMemory(std::move(*created));
  }();
  return *memory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ft::vmm::ElfLoadOptions options;
  auto kernel = ft::vmm::LoadPvhElf(std::span<const uint8_t>(data, size),
                                    Memory(), options);
  if (kernel.ok()) {
    FT_CHECK(options.min_address <= kernel->low);
    FT_CHECK(kernel->low < kernel->high);
    FT_CHECK(kernel->high.value() <= Memory().size());
    FT_CHECK(kernel->low <= kernel->entry && kernel->entry < kernel->high);
    FT_CHECK(kernel->entry.value() <= UINT32_MAX);
  }
  return 0;
}
