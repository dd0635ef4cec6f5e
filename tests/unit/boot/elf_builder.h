// ElfBuilder: builds small PVH ELF kernel images in memory for the ELF
// loader's tests and for the fuzz seed corpus (tests/fuzz/make_elf_seeds.cc).
//
// Layout: ELF header, program headers, the note area, the segments' file
// bytes, then (optionally) a section header table. The last byte of the file
// is always one the loader needs, so every proper prefix of a good image is a
// bad image.
#ifndef FTVM_TESTS_UNIT_BOOT_ELF_BUILDER_H_
#define FTVM_TESTS_UNIT_BOOT_ELF_BUILDER_H_

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ft::vmm::elf_test {

inline constexpr uint32_t kXenPhys32Entry = 18;

// One note, padded to `align` bytes as the gABI lays notes out.
inline std::vector<uint8_t> EncodeNote(std::string_view name, uint32_t type,
                                       const std::vector<uint8_t>& desc,
                                       uint32_t align = 4) {
  auto pad = [align](std::vector<uint8_t>& v) {
    while (v.size() % align != 0) v.push_back(0);
  };
  std::vector<uint8_t> out;
  auto put32 = [&out](uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put32(static_cast<uint32_t>(name.size() + 1));  // with the NUL
  put32(static_cast<uint32_t>(desc.size()));
  put32(type);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  pad(out);
  out.insert(out.end(), desc.begin(), desc.end());
  pad(out);
  return out;
}

// The little-endian bytes of `value`, `size` (4 or 8) of them.
inline std::vector<uint8_t> LittleEndian(uint64_t value, int size) {
  std::vector<uint8_t> out;
  for (int i = 0; i < size; ++i)
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));
  return out;
}

inline std::vector<uint8_t> PvhNote(uint64_t entry, int desc_size = 8) {
  return EncodeNote("Xen", kXenPhys32Entry, LittleEndian(entry, desc_size));
}

class ElfBuilder {
 public:
  explicit ElfBuilder(bool elf64) : elf64_(elf64) {}

  // A PT_LOAD segment of `data` at `paddr`, `memsz` bytes in memory
  // (0: data.size()). memsz < data.size() builds a bad segment on purpose.
  ElfBuilder& AddLoad(uint64_t paddr, std::vector<uint8_t> data,
                      uint64_t memsz = 0) {
    if (memsz == 0) memsz = data.size();
    loads_.push_back({paddr, std::move(data), memsz});
    return *this;
  }
  // Appends raw bytes (one or more encoded notes) to the note area.
  ElfBuilder& AddNotes(const std::vector<uint8_t>& notes) {
    notes_.insert(notes_.end(), notes.begin(), notes.end());
    return *this;
  }
  ElfBuilder& AddPvhNote(uint64_t entry, int desc_size = 8) {
    return AddNotes(PvhNote(entry, desc_size));
  }
  // Describe the note area by an SHT_NOTE section instead of a PT_NOTE.
  ElfBuilder& NotesInSection(bool in_section = true) {
    notes_in_section_ = in_section;
    return *this;
  }
  ElfBuilder& NoteAlign(uint64_t align) {
    note_align_ = align;
    return *this;
  }
  ElfBuilder& Machine(uint16_t machine) {
    machine_ = machine;
    return *this;
  }

  // Offsets of the tables in the last Build(), for tests that patch them.
  uint64_t phoff() const {
    return elf64_ ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  }
  uint64_t phentsize() const {
    return elf64_ ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  }

  std::vector<uint8_t> Build() const {
    const bool note_phdr = !notes_.empty() && !notes_in_section_;
    const uint64_t phnum = loads_.size() + (note_phdr ? 1 : 0);
    std::vector<uint8_t> out(phoff() + phnum * phentsize());

    const uint64_t note_off = AlignTo(out, 8);
    out.insert(out.end(), notes_.begin(), notes_.end());

    std::vector<Phdr> phdrs;
    if (note_phdr) {
      phdrs.push_back(
          {PT_NOTE, note_off, 0, notes_.size(), notes_.size(), note_align_});
    }
    for (const Load& l : loads_) {
      const uint64_t off = AlignTo(out, 16);
      out.insert(out.end(), l.data.begin(), l.data.end());
      phdrs.push_back({PT_LOAD, off, l.paddr, l.data.size(), l.memsz, 0x1000});
    }

    uint64_t shoff = 0, shnum = 0;
    if (notes_in_section_) {
      shoff = AlignTo(out, 8);
      shnum = 2;  // the null section, then the notes
      const uint64_t shentsize =
          elf64_ ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
      out.resize(out.size() + shnum * shentsize);
      PutShdr(out, shoff + shentsize, note_off, notes_.size());
    }

    PutEhdr(out, phnum, shoff, shnum);
    for (uint64_t i = 0; i < phdrs.size(); ++i) {
      PutPhdr(out, phoff() + i * phentsize(), phdrs[i]);
    }
    return out;
  }

 private:
  struct Load {
    uint64_t paddr;
    std::vector<uint8_t> data;
    uint64_t memsz;
  };
  struct Phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz, align;
  };

  static uint64_t AlignTo(std::vector<uint8_t>& out, uint64_t align) {
    while (out.size() % align != 0) out.push_back(0);
    return out.size();
  }
  template <typename T>
  static void Put(std::vector<uint8_t>& out, uint64_t off, const T& value) {
    std::memcpy(out.data() + off, &value, sizeof(T));
  }

  void PutEhdr(std::vector<uint8_t>& out, uint64_t phnum, uint64_t shoff,
               uint64_t shnum) const {
    auto fill = [&](auto eh) {
      std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
      eh.e_ident[EI_CLASS] = elf64_ ? ELFCLASS64 : ELFCLASS32;
      eh.e_ident[EI_DATA] = ELFDATA2LSB;
      eh.e_ident[EI_VERSION] = EV_CURRENT;
      eh.e_type = ET_EXEC;
      eh.e_machine = machine_ != 0 ? machine_ : (elf64_ ? EM_X86_64 : EM_386);
      eh.e_version = EV_CURRENT;
      eh.e_entry = 0;  // not used by PVH: the note gives the entry
      eh.e_phoff = phoff();
      eh.e_shoff = shoff;
      eh.e_ehsize = sizeof(eh);
      eh.e_phentsize = phentsize();
      eh.e_phnum = phnum;
      eh.e_shentsize = elf64_ ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
      eh.e_shnum = shnum;
      Put(out, 0, eh);
    };
    if (elf64_) {
      fill(Elf64_Ehdr{});
    } else {
      fill(Elf32_Ehdr{});
    }
  }

  void PutPhdr(std::vector<uint8_t>& out, uint64_t off, const Phdr& p) const {
    auto fill = [&](auto ph) {
      ph.p_type = p.type;
      ph.p_flags = PF_R | PF_X;
      ph.p_offset = p.offset;
      ph.p_vaddr = p.paddr;
      ph.p_paddr = p.paddr;
      ph.p_filesz = p.filesz;
      ph.p_memsz = p.memsz;
      ph.p_align = p.align;
      Put(out, off, ph);
    };
    if (elf64_) {
      fill(Elf64_Phdr{});
    } else {
      fill(Elf32_Phdr{});
    }
  }

  void PutShdr(std::vector<uint8_t>& out, uint64_t off, uint64_t note_off,
               uint64_t note_size) const {
    auto fill = [&](auto sh) {
      sh.sh_type = SHT_NOTE;
      sh.sh_flags = SHF_ALLOC;
      sh.sh_offset = note_off;
      sh.sh_size = note_size;
      sh.sh_addralign = note_align_;
      Put(out, off, sh);
    };
    if (elf64_) {
      fill(Elf64_Shdr{});
    } else {
      fill(Elf32_Shdr{});
    }
  }

  bool elf64_;
  uint16_t machine_ = 0;
  bool notes_in_section_ = false;
  uint64_t note_align_ = 4;
  std::vector<uint8_t> notes_;
  std::vector<Load> loads_;
};

}  // namespace ft::vmm::elf_test

#endif  // FTVM_TESTS_UNIT_BOOT_ELF_BUILDER_H_
