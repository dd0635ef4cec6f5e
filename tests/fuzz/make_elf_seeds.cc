// Writes the ELF loader's generated seed corpus: small good PVH kernels
// (ELF32 and ELF64, PT_NOTE and SHT_NOTE, several notes) and bad ones, one
// per rejection rule. Beside them in tests/fuzz/corpus/elf_loader/:
//  - fuzz-*: inputs libFuzzer found that reach code the generated seeds miss;
//  - ld_elf32_pvh, ld_elf64_pvh: made by a real linker (GNU ld 2.40) from a
//    PVH note in .note.Xen (namesz 4, descsz 4, type 18, `.long _start`), a
//    `hlt` loop in .text and 8 KiB of .bss:
//      gcc [-m32] -c k.S
//      ld [-m elf_i386] -nostdlib -z noexecstack -n -z max-page-size=0x10
//          -Ttext-segment=0x100000 k.o -o ld_elf64_pvh
//
//   ninja -C build tests/fuzz/make_elf_seeds
//   build/tests/fuzz/make_elf_seeds tests/fuzz/corpus/elf_loader
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/boot/elf_builder.h"

namespace {

using ft::vmm::elf_test::ElfBuilder;
using ft::vmm::elf_test::EncodeNote;
using ft::vmm::elf_test::LittleEndian;

constexpr uint64_t kBase = 0x100000;

std::vector<uint8_t> Code(size_t n) {
  std::vector<uint8_t> v(n, 0x90);  // nop
  v.back() = 0xf4;                  // hlt
  return v;
}

// A copy of `image` with `value` written at `off`.
template <typename T>
std::vector<uint8_t> Patched(std::vector<uint8_t> image, size_t off, T value) {
  std::memcpy(image.data() + off, &value, sizeof(T));
  return image;
}

ElfBuilder Good(bool elf64, int desc_size) {
  ElfBuilder b(elf64);
  b.AddPvhNote(kBase, desc_size)
      .AddLoad(kBase, Code(0x40))
      .AddLoad(kBase + 0x1000, std::vector<uint8_t>(0x20, 0x5a), 0x1000);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int failures = 0;
  auto write = [&](const std::string& name, const std::vector<uint8_t>& data) {
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
      ++failures;
    }
  };

  for (bool elf64 : {false, true}) {
    const std::string c = elf64 ? "elf64" : "elf32";
    write(c + "_pvh", Good(elf64, elf64 ? 8 : 4).Build());
    write(c + "_pvh_desc4", Good(elf64, 4).Build());
    write(c + "_section_note", Good(elf64, 8).NotesInSection().Build());
    write(c + "_many_notes",
          ElfBuilder(elf64)
              .AddNotes(EncodeNote("GNU", 3, std::vector<uint8_t>(20, 1)))
              .AddNotes(EncodeNote("Linux", 1, {1, 2, 3}))
              .AddNotes(EncodeNote("Xen", 17, LittleEndian(0, 8)))
              .AddPvhNote(kBase + 0x10, 4)
              .AddLoad(kBase, Code(0x40))
              .Build());
    write(c + "_no_note", ElfBuilder(elf64).AddLoad(kBase, Code(0x40)).Build());
    write(c + "_overlap", ElfBuilder(elf64)
                              .AddPvhNote(kBase)
                              .AddLoad(kBase, Code(0x40), 0x100)
                              .AddLoad(kBase + 0x80, Code(0x40))
                              .Build());
  }
  write("elf64_notes_align8",
        ElfBuilder(true)
            .NoteAlign(8)
            .AddNotes(EncodeNote("GNU", 5, std::vector<uint8_t>(12, 0), 8))
            .AddNotes(EncodeNote("Xen", 18, LittleEndian(kBase, 8), 8))
            .AddLoad(kBase, Code(0x40))
            .Build());
  write("elf64_filesz_gt_memsz", ElfBuilder(true)
                                     .AddPvhNote(kBase)
                                     .AddLoad(kBase, Code(0x40), 0x20)
                                     .Build());
  write(
      "elf64_below_min",
      ElfBuilder(true).AddPvhNote(0x1000).AddLoad(0x1000, Code(0x40)).Build());
  write("elf64_beyond_ram", ElfBuilder(true)
                                .AddPvhNote(kBase)
                                .AddLoad(kBase, Code(0x40))
                                .AddLoad(0x3ff000, Code(0x40), 0x2000)
                                .Build());
  write("elf64_wraps", ElfBuilder(true)
                           .AddPvhNote(kBase)
                           .AddLoad(kBase, Code(0x40))
                           .AddLoad(~uint64_t{0} - 0xff, Code(0x40), 0x200)
                           .Build());
  write("elf64_entry_outside", ElfBuilder(true)
                                   .AddPvhNote(kBase + 0x800)
                                   .AddLoad(kBase, Code(0x40))
                                   .Build());
  std::vector<uint8_t> bad_note = EncodeNote("Xen", 18, LittleEndian(kBase, 8));
  bad_note[0] = 0xff;  // namesz overflows the note area
  write("elf64_bad_namesz",
        ElfBuilder(true).AddNotes(bad_note).AddLoad(kBase, Code(0x40)).Build());
  std::vector<uint8_t> truncated = Good(true, 8).Build();
  truncated.resize(truncated.size() / 2);
  write("elf64_truncated", truncated);
  write("empty", {});

  // One seed per header check, patched from a good ELF64 image (program
  // header 0 is the PT_NOTE, 1 and 2 the PT_LOADs).
  const std::vector<uint8_t> good = Good(true, 8).Build();
  const size_t ph0 = sizeof(Elf64_Ehdr), ph1 = ph0 + sizeof(Elf64_Phdr);
  write("short_ident", {good.begin(), good.begin() + 10});
  write("short_header", {good.begin(), good.begin() + 40});
  write("bad_magic", Patched<uint8_t>(good, 1, 'F'));
  write("bad_class", Patched<uint8_t>(good, EI_CLASS, 3));
  write("big_endian", Patched<uint8_t>(good, EI_DATA, ELFDATA2MSB));
  write("bad_ident_version", Patched<uint8_t>(good, EI_VERSION, 0));
  write("bad_type",
        Patched<uint16_t>(good, offsetof(Elf64_Ehdr, e_type), ET_REL));
  write("bad_machine",
        Patched<uint16_t>(good, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64));
  write("bad_version",
        Patched<uint32_t>(good, offsetof(Elf64_Ehdr, e_version), 0));
  write("phnum_xnum",
        Patched<uint16_t>(good, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM));
  write("bad_phentsize",
        Patched<uint16_t>(good, offsetof(Elf64_Ehdr, e_phentsize), 32));
  write("note_outside_file",
        Patched<uint64_t>(good, ph0 + offsetof(Elf64_Phdr, p_filesz), ~0ull));
  write("note_align16",
        Patched<uint64_t>(good, ph0 + offsetof(Elf64_Phdr, p_align), 16));
  write("load_outside_file",
        Patched<uint64_t>(good, ph1 + offsetof(Elf64_Phdr, p_offset), ~0ull));
  write("note_only", ElfBuilder(true).AddPvhNote(kBase).Build());
  write("entry_above_4g", ElfBuilder(true)
                              .AddPvhNote(uint64_t{1} << 32)
                              .AddLoad(kBase, Code(0x40))
                              .Build());
  std::vector<uint8_t> note = EncodeNote("Xen", 18, LittleEndian(kBase, 8));
  auto with_note = [](const std::vector<uint8_t>& n) {
    return ElfBuilder(true).AddNotes(n).AddLoad(kBase, Code(0x40)).Build();
  };
  write("note_bad_descsz", with_note(Patched<uint32_t>(note, 4, 0xffff)));
  write("note_desc2", with_note(Patched<uint32_t>(note, 4, 2)));
  note.resize(note.size() + 4);
  write("note_trailing_bytes", with_note(note));

  // Section header checks.
  const std::vector<uint8_t> sect = Good(true, 8).NotesInSection().Build();
  Elf64_Ehdr eh;
  std::memcpy(&eh, sect.data(), sizeof(eh));
  write("bad_shentsize",
        Patched<uint16_t>(sect, offsetof(Elf64_Ehdr, e_shentsize), 40));
  write("shoff_outside_file",
        Patched<uint64_t>(sect, offsetof(Elf64_Ehdr, e_shoff), ~0ull - 8));
  write("section_without_pvh",
        ElfBuilder(true)
            .AddNotes(EncodeNote("GNU", 3, std::vector<uint8_t>(20, 1)))
            .NotesInSection()
            .AddLoad(kBase, Code(0x40))
            .Build());
  return failures == 0 ? 0 : 1;
}
