#include "vmm/boot/elf_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace ft::vmm {
namespace {

// xen/include/public/elfnote.h: the 32-bit physical-mode PVH entry point.
constexpr uint32_t kXenElfnotePhys32Entry = 18;
// A vmlinux has about five program headers. The bound keeps the pairwise
// overlap check cheap however hostile the image is.
constexpr uint64_t kMaxProgramHeaders = 256;

template <typename... Args>
absl::Status Invalid(const absl::FormatSpec<Args...>& format,
                     const Args&... args) {
  return absl::InvalidArgumentError(
      absl::StrCat("kernel ELF: ", absl::StrFormat(format, args...)));
}

// True if [off, off + len) lies inside a buffer of `size` bytes. Written so
// that nothing can wrap, whatever the (hostile) values.
bool InBounds(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

// Copies a T out of the image: the buffer has no alignment guarantee, so the
// ELF structures are never accessed in place. Callers check the bounds first;
// a failure here is a bug in this file.
template <typename T>
T CopyOut(std::span<const uint8_t> image, uint64_t off) {
  static_assert(std::is_trivially_copyable_v<T>);
  FT_CHECK(InBounds(off, sizeof(T), image.size())) << "offset " << off;
  T value;
  std::memcpy(&value, image.data() + off, sizeof(T));
  return value;
}

// The fields this loader uses, widened to 64 bits for both ELF classes.
struct FileHeader {
  bool elf64 = false;
  uint64_t phoff = 0, phnum = 0, phentsize = 0;
  uint64_t shoff = 0, shnum = 0, shentsize = 0;
};
struct ProgramHeader {
  uint32_t type = 0;
  uint64_t offset = 0, paddr = 0, filesz = 0, memsz = 0, align = 0;
};
struct SectionHeader {
  uint32_t type = 0;
  uint64_t offset = 0, size = 0, addralign = 0;
};

template <typename Ehdr, typename Phdr>
absl::StatusOr<FileHeader> ParseHeaderOfClass(std::span<const uint8_t> image,
                                              bool elf64) {
  if (image.size() < sizeof(Ehdr)) {
    return Invalid("the %d-byte file is too short for the %d-byte ELF header",
                   image.size(), sizeof(Ehdr));
  }
  const auto eh = CopyOut<Ehdr>(image, 0);
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return Invalid("e_type is %d; want an executable (ET_EXEC=2 or ET_DYN=3)",
                   eh.e_type);
  }
  if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386) {
    return Invalid("e_machine is %d; want x86 (EM_386=3 or EM_X86_64=62)",
                   eh.e_machine);
  }
  if (eh.e_version != EV_CURRENT) {
    return Invalid("e_version is %d; want EV_CURRENT (1)", eh.e_version);
  }
  FileHeader h{.elf64 = elf64,
               .phoff = eh.e_phoff,
               .phnum = eh.e_phnum,
               .phentsize = eh.e_phentsize,
               .shoff = eh.e_shoff,
               .shnum = eh.e_shnum,
               .shentsize = eh.e_shentsize};
  if (h.phnum == 0) return Invalid("no program headers: nothing to load");
  if (h.phnum > kMaxProgramHeaders) {
    return Invalid("e_phnum is %d; at most %d program headers are supported",
                   h.phnum, kMaxProgramHeaders);
  }
  if (h.phentsize != sizeof(Phdr)) {
    return Invalid("e_phentsize is %d; want %d for ELFCLASS%d", h.phentsize,
                   sizeof(Phdr), elf64 ? 64 : 32);
  }
  // phnum * phentsize < 2^32: cannot overflow.
  if (!InBounds(h.phoff, h.phnum * h.phentsize, image.size())) {
    return Invalid(
        "program header table [0x%x, +0x%x) is outside the %d-byte file",
        h.phoff, h.phnum * h.phentsize, image.size());
  }
  return h;
}

absl::StatusOr<FileHeader> ParseHeader(std::span<const uint8_t> image) {
  if (image.empty()) return Invalid("the file is empty");
  if (image.size() < EI_NIDENT) {
    return Invalid("the %d-byte file is too short for an ELF header",
                   image.size());
  }
  if (std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) {
    return Invalid(
        "not an ELF file (magic %02x %02x %02x %02x, want 7f 45 4c 46)",
        image[0], image[1], image[2], image[3]);
  }
  if (image[EI_DATA] != ELFDATA2LSB) {
    return Invalid("EI_DATA is %d; want little-endian (ELFDATA2LSB=1)",
                   image[EI_DATA]);
  }
  if (image[EI_VERSION] != EV_CURRENT) {
    return Invalid("EI_VERSION is %d; want EV_CURRENT (1)", image[EI_VERSION]);
  }
  switch (image[EI_CLASS]) {
    case ELFCLASS32:
      return ParseHeaderOfClass<Elf32_Ehdr, Elf32_Phdr>(image, false);
    case ELFCLASS64:
      return ParseHeaderOfClass<Elf64_Ehdr, Elf64_Phdr>(image, true);
    default:
      return Invalid("EI_CLASS is %d; want ELFCLASS32 (1) or ELFCLASS64 (2)",
                     image[EI_CLASS]);
  }
}

// Copies out the class's T64 or T32 at `off` (a table entry whose bounds the
// caller checked) and returns `widen` of it.
template <typename T64, typename T32, typename Widen>
auto ReadWidened(std::span<const uint8_t> image, bool elf64, uint64_t off,
                 Widen widen) {
  return elf64 ? widen(CopyOut<T64>(image, off))
               : widen(CopyOut<T32>(image, off));
}

// Walks the notes in the note area image[off, off + len) (a PT_NOTE segment
// or an SHT_NOTE section, named by `what`) and returns the PVH entry if a Xen
// PHYS32_ENTRY note is among them. Any malformed note is an error, not just a
// malformed PVH note: a corrupt note area means a corrupt image.
absl::StatusOr<std::optional<uint64_t>> FindPvhEntry(
    std::span<const uint8_t> image, uint64_t off, uint64_t len,
    uint64_t area_align, std::string_view what) {
  if (!InBounds(off, len, image.size())) {
    return Invalid("%s file range [0x%x, +0x%x) is outside the %d-byte file",
                   what, off, len, image.size());
  }
  // Notes are 4-byte aligned in practice (Linux, Xen); 8 is the gABI value
  // for ELF64 and what GNU property notes use. No linker produces others.
  if (area_align > 4 && area_align != 8) {
    return Invalid("%s has alignment %d; notes are 4- or 8-byte aligned", what,
                   area_align);
  }
  const uint64_t align = area_align == 8 ? 8 : 4;
  std::optional<uint64_t> entry;
  // Offsets are relative to the note's start, which stays `align`-aligned:
  // the descriptor and the next note start at the next multiple of `align`
  // (gABI; for 8-byte alignment the 12-byte header is not a multiple).
  // n_namesz and n_descsz are 32-bit, so no sum below can wrap.
  auto align_up = [align](uint64_t v) {
    return (v + align - 1) & ~(align - 1);
  };
  uint64_t pos = 0;
  while (pos < len) {
    const uint64_t room = len - pos;
    if (room < sizeof(Elf64_Nhdr)) {
      return Invalid("%s: %d bytes at 0x%x are too short for a note header",
                     what, room, pos);
    }
    // Elf32_Nhdr and Elf64_Nhdr are the same three 32-bit words.
    const auto nh = CopyOut<Elf64_Nhdr>(image, off + pos);
    const uint64_t name_end = sizeof(nh) + nh.n_namesz;
    if (name_end > room) {
      return Invalid("%s: note at 0x%x has namesz %d, past the %d-byte area",
                     what, pos, nh.n_namesz, len);
    }
    // Padding cut off by the end of the area is tolerated; bytes are not.
    const uint64_t desc_start = std::min(align_up(name_end), room);
    if (nh.n_descsz > room - desc_start) {
      return Invalid("%s: note at 0x%x has descsz %d, past the %d-byte area",
                     what, pos, nh.n_descsz, len);
    }
    const uint64_t name_off = off + pos + sizeof(nh);
    const uint64_t desc_off = off + pos + desc_start;
    pos += std::min(align_up(desc_start + nh.n_descsz), room);

    static constexpr char kXenName[] = "Xen";  // with its NUL: namesz 4
    if (nh.n_type != kXenElfnotePhys32Entry ||
        nh.n_namesz != sizeof(kXenName) ||
        std::memcmp(image.data() + name_off, kXenName, sizeof(kXenName)) != 0 ||
        entry.has_value()) {
      continue;
    }
    if (nh.n_descsz == 4) {
      entry = CopyOut<uint32_t>(image, desc_off);
    } else if (nh.n_descsz == 8) {
      entry = CopyOut<uint64_t>(image, desc_off);
    } else {
      return Invalid("%s: PVH entry note descriptor is %d bytes; want 4 or 8",
                     what, nh.n_descsz);
    }
  }
  return entry;
}

// Only consulted when no PT_NOTE carries the entry (e.g. a kernel linked
// without a PT_NOTE segment for .notes).
absl::StatusOr<std::optional<uint64_t>> FindPvhEntryInSections(
    std::span<const uint8_t> image, const FileHeader& h) {
  if (h.shoff == 0 || h.shnum == 0) return std::nullopt;
  const uint64_t want = h.elf64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
  if (h.shentsize != want) {
    return Invalid("e_shentsize is %d; want %d for ELFCLASS%d", h.shentsize,
                   want, h.elf64 ? 64 : 32);
  }
  // shnum * shentsize < 2^32: cannot overflow.
  if (!InBounds(h.shoff, h.shnum * h.shentsize, image.size())) {
    return Invalid(
        "section header table [0x%x, +0x%x) is outside the %d-byte file",
        h.shoff, h.shnum * h.shentsize, image.size());
  }
  for (uint64_t i = 0; i < h.shnum; ++i) {
    const SectionHeader s = ReadWidened<Elf64_Shdr, Elf32_Shdr>(
        image, h.elf64, h.shoff + i * h.shentsize, [](const auto& sh) {
          return SectionHeader{sh.sh_type, sh.sh_offset, sh.sh_size,
                               sh.sh_addralign};
        });
    if (s.type != SHT_NOTE) continue;
    FT_ASSIGN_OR_RETURN(std::optional<uint64_t> entry,
                        FindPvhEntry(image, s.offset, s.size, s.addralign,
                                     absl::StrCat("SHT_NOTE section ", i)));
    if (entry.has_value()) return entry;
  }
  return std::nullopt;
}

// A validated PT_LOAD segment with bytes to load.
struct Segment {
  uint64_t index;  // program header number, for messages
  uint64_t offset, filesz;
  Gpa start;
  uint64_t memsz;
  std::span<uint8_t> dest;  // guest RAM for [start, start + memsz)
};

absl::StatusOr<std::optional<Segment>> ValidateLoad(
    std::span<const uint8_t> image, const GuestMemory& memory,
    const ElfLoadOptions& options, uint64_t i, const ProgramHeader& p) {
  if (p.filesz > p.memsz) {
    return Invalid("program header %d has p_filesz 0x%x > p_memsz 0x%x", i,
                   p.filesz, p.memsz);
  }
  if (!InBounds(p.offset, p.filesz, image.size())) {
    return Invalid(
        "program header %d file range [0x%x, +0x%x) is outside the %d-byte "
        "file",
        i, p.offset, p.filesz, image.size());
  }
  if (p.memsz == 0) return std::nullopt;  // nothing to place
  if (p.paddr < options.min_address.value()) {
    return Invalid(
        "program header %d loads at 0x%x, below the lowest allowed address "
        "0x%x (ftvm keeps the PVH start info, memory map and command line "
        "there)",
        i, p.paddr, options.min_address.value());
  }
  if (!Gpa(p.paddr).Offset(p.memsz).has_value()) {
    return Invalid(
        "program header %d guest range [0x%x, +0x%x) wraps past 2^64", i,
        p.paddr, p.memsz);
  }
  auto dest = memory.Slice(Gpa(p.paddr), p.memsz);
  if (!dest.ok()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "kernel ELF: program header %d guest range [0x%x, +0x%x) does not fit "
        "in guest RAM (%d MiB)",
        i, p.paddr, p.memsz, memory.size() >> 20));
  }
  return Segment{i, p.offset, p.filesz, Gpa(p.paddr), p.memsz, *dest};
}

}  // namespace

absl::StatusOr<LoadedKernel> LoadPvhElf(std::span<const uint8_t> image,
                                        const GuestMemory& memory,
                                        const ElfLoadOptions& options) {
  FT_ASSIGN_OR_RETURN(const FileHeader h, ParseHeader(image));

  // Pass 1: validate everything. Guest memory is not touched until the whole
  // image is known to be good.
  std::vector<Segment> segments;
  std::optional<uint64_t> entry;
  for (uint64_t i = 0; i < h.phnum; ++i) {
    // The table's bounds were checked in ParseHeader.
    const ProgramHeader p = ReadWidened<Elf64_Phdr, Elf32_Phdr>(
        image, h.elf64, h.phoff + i * h.phentsize, [](const auto& ph) {
          return ProgramHeader{ph.p_type,   ph.p_offset, ph.p_paddr,
                               ph.p_filesz, ph.p_memsz,  ph.p_align};
        });
    if (p.type == PT_LOAD) {
      FT_ASSIGN_OR_RETURN(std::optional<Segment> seg,
                          ValidateLoad(image, memory, options, i, p));
      if (!seg.has_value()) continue;
      for (const Segment& other : segments) {
        // Both ranges are known not to wrap.
        if (seg->start.value() < other.start.value() + other.memsz &&
            other.start.value() < seg->start.value() + seg->memsz) {
          return Invalid(
              "program headers %d [0x%x, +0x%x) and %d [0x%x, +0x%x) overlap "
              "in guest memory",
              other.index, other.start.value(), other.memsz, i,
              seg->start.value(), seg->memsz);
        }
      }
      segments.push_back(*seg);
    } else if (p.type == PT_NOTE) {
      FT_ASSIGN_OR_RETURN(
          std::optional<uint64_t> found,
          FindPvhEntry(image, p.offset, p.filesz, p.align,
                       absl::StrCat("PT_NOTE program header ", i)));
      if (!entry.has_value()) entry = found;
    }
  }
  if (segments.empty()) {
    return Invalid("no PT_LOAD program header with bytes to load");
  }
  if (!entry.has_value()) {
    FT_ASSIGN_OR_RETURN(entry, FindPvhEntryInSections(image, h));
  }
  if (!entry.has_value()) {
    return Invalid(
        "no XEN_ELFNOTE_PHYS32_ENTRY note (name \"Xen\", type 18): the kernel "
        "is not PVH-bootable (for Linux, build vmlinux with CONFIG_PVH=y)");
  }
  // The vCPU starts in 32-bit protected mode with paging off.
  if (*entry > UINT32_MAX) {
    return Invalid("PVH entry point 0x%x is not a 32-bit address", *entry);
  }
  LoadedKernel kernel{.entry = Gpa(*entry),
                      .low = segments.front().start,
                      .high = segments.front().start,
                      .elf64 = h.elf64};
  bool entry_loaded = false;
  for (const Segment& s : segments) {
    const Gpa end(s.start.value() + s.memsz);  // checked in ValidateLoad
    kernel.low = std::min(kernel.low, s.start);
    kernel.high = std::max(kernel.high, end);
    entry_loaded |= s.start <= kernel.entry && kernel.entry < end;
  }
  if (!entry_loaded) {
    return Invalid("PVH entry point 0x%x is not inside any PT_LOAD segment",
                   *entry);
  }

  // Pass 2: copy the file bytes and zero the rest (bss). Guest RAM is fresh
  // anonymous memory today, but a reused VM (HA restart) must not see stale
  // bytes.
  for (const Segment& s : segments) {
    std::memcpy(s.dest.data(), image.data() + s.offset, s.filesz);
    std::memset(s.dest.data() + s.filesz, 0, s.memsz - s.filesz);
  }
  return kernel;
}

absl::StatusOr<LoadedKernel> LoadPvhElfFile(const std::string& path,
                                            const GuestMemory& memory,
                                            const ElfLoadOptions& options) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(errno, absl::StrCat("opening kernel ", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("stat of kernel ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the kernel is not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxKernelFileSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the kernel file is %d bytes, more than the %d MiB limit; is it "
        "the right file?",
        path, size, kMaxKernelFileSize >> 20));
  }
  // Read at most the size fstat reported, so a file growing underneath us
  // cannot exceed the limit; a shrinking one just yields fewer bytes.
  std::vector<uint8_t> image(size);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd.get(), image.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("reading kernel ", path));
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  image.resize(done);
  auto kernel = LoadPvhElf(image, memory, options);
  if (!kernel.ok()) return Annotate(kernel.status(), path);
  return kernel;
}

}  // namespace ft::vmm
