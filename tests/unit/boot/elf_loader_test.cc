#include "vmm/boot/elf_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/boot/elf_builder.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::elf_test::ElfBuilder;
using ::ft::vmm::elf_test::EncodeNote;
using ::ft::vmm::elf_test::LittleEndian;
using ::testing::HasSubstr;

constexpr uint64_t kRamSize = 4 << 20;
constexpr uint64_t kKernelBase = 0x100000;

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Patches a T into an image at `off` (tests that corrupt a good image).
template <typename T>
void Patch(std::vector<uint8_t>& image, uint64_t off, T value) {
  ASSERT_LE(off + sizeof(T), image.size());
  std::memcpy(image.data() + off, &value, sizeof(T));
}

Elf64_Phdr GetPhdr64(const std::vector<uint8_t>& image, int index) {
  Elf64_Phdr p;
  std::memcpy(&p, image.data() + sizeof(Elf64_Ehdr) + index * sizeof(p),
              sizeof(p));
  return p;
}

void PutPhdr64(std::vector<uint8_t>& image, int index, const Elf64_Phdr& p) {
  Patch(image, sizeof(Elf64_Ehdr) + index * sizeof(p), p);
}

class ElfLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto memory = GuestMemory::Create({.size = kRamSize});
    ASSERT_TRUE(memory.ok()) << memory.status();
    memory_.emplace(std::move(*memory));
  }

  absl::StatusOr<LoadedKernel> Load(const std::vector<uint8_t>& image,
                                    const ElfLoadOptions& options = {}) {
    return LoadPvhElf(image, *memory_, options);
  }

  std::vector<uint8_t> ReadGuest(uint64_t gpa, uint64_t len) {
    std::vector<uint8_t> out(len);
    EXPECT_TRUE(memory_->Read(Gpa(gpa), out).ok());
    return out;
  }

  bool GuestAllZero(uint64_t gpa, uint64_t len) {
    auto bytes = ReadGuest(gpa, len);
    return std::all_of(bytes.begin(), bytes.end(),
                       [](uint8_t b) { return b == 0; });
  }

  // A good image: code at 1 MiB, data + bss above, PVH entry in the code.
  static std::vector<uint8_t> GoodImage(bool elf64, int desc_size = 8) {
    return ElfBuilder(elf64)
        .AddPvhNote(kKernelBase + 0x10, desc_size)
        .AddLoad(kKernelBase, Bytes(0x300, 1))
        .AddLoad(kKernelBase + 0x1000, Bytes(0x80, 2), 0x2000)
        .Build();
  }

  void ExpectError(const std::vector<uint8_t>& image, absl::StatusCode code,
                   const std::string& substr,
                   const ElfLoadOptions& options = {}) {
    auto kernel = Load(image, options);
    ASSERT_FALSE(kernel.ok()) << "loaded an image that should fail";
    EXPECT_EQ(kernel.status().code(), code) << kernel.status();
    EXPECT_THAT(kernel.status().message(), HasSubstr(substr));
    EXPECT_THAT(kernel.status().message(), HasSubstr("kernel ELF: "));
  }
  void ExpectInvalid(const std::vector<uint8_t>& image,
                     const std::string& substr,
                     const ElfLoadOptions& options = {}) {
    ExpectError(image, absl::StatusCode::kInvalidArgument, substr, options);
  }

  std::optional<GuestMemory> memory_;
};

class ElfClassTest : public ElfLoaderTest,
                     public ::testing::WithParamInterface<bool> {};

TEST_P(ElfClassTest, LoadsSegmentsAndZeroesBss) {
  const bool elf64 = GetParam();
  // Stale bytes where the bss goes: the loader must zero them.
  ASSERT_TRUE(memory_->Fill(Gpa(kKernelBase), 0x4000, 0xAA).ok());

  auto kernel = Load(GoodImage(elf64));
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->entry, Gpa(kKernelBase + 0x10));
  EXPECT_EQ(kernel->low, Gpa(kKernelBase));
  EXPECT_EQ(kernel->high, Gpa(kKernelBase + 0x3000));
  EXPECT_EQ(kernel->elf64, elf64);
  EXPECT_EQ(ReadGuest(kKernelBase, 0x300), Bytes(0x300, 1));
  EXPECT_EQ(ReadGuest(kKernelBase + 0x1000, 0x80), Bytes(0x80, 2));
  EXPECT_TRUE(GuestAllZero(kKernelBase + 0x1080, 0x2000 - 0x80));
  // Bytes between segments are not the loader's business.
  EXPECT_EQ(ReadGuest(kKernelBase + 0x300, 1)[0], 0xAA);
}

TEST_P(ElfClassTest, EntryFromFourAndEightByteDescriptors) {
  for (int desc_size : {4, 8}) {
    auto kernel = Load(GoodImage(GetParam(), desc_size));
    ASSERT_TRUE(kernel.ok()) << desc_size << ": " << kernel.status();
    EXPECT_EQ(kernel->entry, Gpa(kKernelBase + 0x10));
  }
}

TEST_P(ElfClassTest, EntryFromSectionWhenNoPtNote) {
  auto image = ElfBuilder(GetParam())
                   .AddPvhNote(kKernelBase + 0x20)
                   .NotesInSection()
                   .AddLoad(kKernelBase, Bytes(0x100, 3))
                   .Build();
  auto kernel = Load(image);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->entry, Gpa(kKernelBase + 0x20));
}

TEST_P(ElfClassTest, SkipsOtherNotes) {
  auto image = ElfBuilder(GetParam())
                   .AddNotes(EncodeNote("GNU", NT_GNU_BUILD_ID, Bytes(20, 4)))
                   .AddNotes(EncodeNote("Linux", 1, Bytes(3, 5)))  // odd sizes
                   .AddNotes(EncodeNote("Xen", 17,
                                        LittleEndian(0xdead, 8)))  // wrong type
                   .AddNotes(EncodeNote("Xe", 18,
                                        LittleEndian(0xdead, 8)))  // wrong name
                   .AddPvhNote(kKernelBase + 0x40, 4)
                   .AddLoad(kKernelBase, Bytes(0x100, 3))
                   .Build();
  auto kernel = Load(image);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->entry, Gpa(kKernelBase + 0x40));
}

TEST_P(ElfClassTest, EightByteAlignedNotes) {
  auto image =
      ElfBuilder(GetParam())
          .NoteAlign(8)
          .AddNotes(EncodeNote("GNU", 5, Bytes(12, 4), 8))
          .AddNotes(EncodeNote("Xen", 18, LittleEndian(kKernelBase, 8), 8))
          .AddLoad(kKernelBase, Bytes(0x100, 3))
          .Build();
  auto kernel = Load(image);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->entry, Gpa(kKernelBase));
}

TEST_P(ElfClassTest, EveryTruncationFailsAndLeavesMemoryUntouched) {
  for (bool in_section : {false, true}) {
    auto image = ElfBuilder(GetParam())
                     .AddPvhNote(kKernelBase)
                     .NotesInSection(in_section)
                     .AddLoad(kKernelBase, Bytes(0x40, 1))
                     .AddLoad(kKernelBase + 0x1000, Bytes(0x20, 2), 0x100)
                     .Build();
    ASSERT_TRUE(Load(image).ok());
    ASSERT_TRUE(memory_->Fill(Gpa(kKernelBase), 0x2000, 0).ok());
    for (size_t len = 0; len < image.size(); ++len) {
      std::vector<uint8_t> prefix(image.begin(), image.begin() + len);
      auto kernel = Load(prefix);
      EXPECT_FALSE(kernel.ok()) << "prefix of " << len << " bytes loaded";
      EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument)
          << kernel.status();
    }
    EXPECT_TRUE(GuestAllZero(kKernelBase, 0x2000));
  }
}

INSTANTIATE_TEST_SUITE_P(Classes, ElfClassTest, ::testing::Bool(),
                         [](const auto& param_info) {
                           return param_info.param ? "Elf64" : "Elf32";
                         });

TEST_F(ElfLoaderTest, EmptyFile) { ExpectInvalid({}, "the file is empty"); }

TEST_F(ElfLoaderTest, BadIdent) {
  auto image = GoodImage(true);
  image[1] = 'F';
  ExpectInvalid(image, "not an ELF file");
  image = GoodImage(true);
  image[EI_CLASS] = 3;
  ExpectInvalid(image, "EI_CLASS is 3");
  image = GoodImage(true);
  image[EI_DATA] = ELFDATA2MSB;
  ExpectInvalid(image, "EI_DATA is 2");
  image = GoodImage(true);
  image[EI_VERSION] = 0;
  ExpectInvalid(image, "EI_VERSION is 0");
}

TEST_F(ElfLoaderTest, BadHeaderFields) {
  auto image = GoodImage(true);
  Patch<uint16_t>(image, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
  ExpectInvalid(image, "e_machine is 183");
  image = GoodImage(false);
  Patch<uint16_t>(image, offsetof(Elf32_Ehdr, e_type), ET_REL);
  ExpectInvalid(image, "e_type is 1");
  image = GoodImage(true);
  Patch<uint32_t>(image, offsetof(Elf64_Ehdr, e_version), 2);
  ExpectInvalid(image, "e_version is 2");
  // Either x86 machine is fine in either class.
  EXPECT_TRUE(Load(ElfBuilder(false)
                       .Machine(EM_X86_64)
                       .AddPvhNote(kKernelBase)
                       .AddLoad(kKernelBase, Bytes(16, 1))
                       .Build())
                  .ok());
}

TEST_F(ElfLoaderTest, BadPhentsize) {
  auto image = GoodImage(true);
  Patch<uint16_t>(image, offsetof(Elf64_Ehdr, e_phentsize), sizeof(Elf32_Phdr));
  ExpectInvalid(image, "e_phentsize is 32; want 56 for ELFCLASS64");
  image = GoodImage(false);
  Patch<uint16_t>(image, offsetof(Elf32_Ehdr, e_phentsize), sizeof(Elf64_Phdr));
  ExpectInvalid(image, "e_phentsize is 56; want 32 for ELFCLASS32");
}

TEST_F(ElfLoaderTest, BadPhnum) {
  auto image = GoodImage(true);
  Patch<uint16_t>(image, offsetof(Elf64_Ehdr, e_phnum), 0);
  ExpectInvalid(image, "no program headers");
  Patch<uint16_t>(image, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM);
  ExpectInvalid(image, "e_phnum is 65535");
}

TEST_F(ElfLoaderTest, PhoffOutOfRange) {
  auto image = GoodImage(true);
  Patch<uint64_t>(image, offsetof(Elf64_Ehdr, e_phoff), image.size());
  ExpectInvalid(image, "program header table");
  // phoff + table size would wrap.
  Patch<uint64_t>(image, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8);
  ExpectInvalid(image, "is outside the");
  image = GoodImage(false);
  Patch<uint32_t>(image, offsetof(Elf32_Ehdr, e_phoff), UINT32_MAX);
  ExpectInvalid(image, "program header table [0xffffffff, +0x60)");
}

TEST_F(ElfLoaderTest, SegmentBeyondFile) {
  auto image = GoodImage(true);
  Elf64_Phdr p = GetPhdr64(image, 1);  // 0 is the PT_NOTE
  ASSERT_EQ(p.p_type, PT_LOAD);
  p.p_offset = image.size() - 1;
  p.p_filesz = 2;
  PutPhdr64(image, 1, p);
  ExpectInvalid(image, absl::StrCat("program header 1 file range [0x",
                                    absl::Hex(image.size() - 1),
                                    ", +0x2) is outside the ", image.size(),
                                    "-byte file"));
  p.p_offset = UINT64_MAX;  // offset + filesz wraps
  PutPhdr64(image, 1, p);
  ExpectInvalid(image, "is outside the");
  p.p_offset = 0;
  p.p_filesz = p.p_memsz = UINT64_MAX;
  PutPhdr64(image, 1, p);
  ExpectInvalid(image, "is outside the");
}

TEST_F(ElfLoaderTest, SegmentBeyondRam) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(kKernelBase)
                   .AddLoad(kKernelBase, Bytes(16, 1))
                   .AddLoad(kRamSize + 0x1000, Bytes(16, 1))
                   .Build();
  ExpectError(image, absl::StatusCode::kOutOfRange,
              "program header 2 guest range [0x401000, +0x10) does not fit in "
              "guest RAM (4 MiB)");
}

TEST_F(ElfLoaderTest, SegmentAtTheEndOfRam) {
  // Ends exactly at the last byte of RAM: fits.
  auto image = ElfBuilder(true)
                   .AddPvhNote(kRamSize - 0x100)
                   .AddLoad(kRamSize - 0x100, Bytes(0x80, 9), 0x100)
                   .Build();
  auto kernel = Load(image);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->high, Gpa(kRamSize));
  // One byte more does not.
  image = ElfBuilder(true)
              .AddPvhNote(kRamSize - 0x100)
              .AddLoad(kRamSize - 0x100, Bytes(0x80, 9), 0x101)
              .Build();
  ExpectError(image, absl::StatusCode::kOutOfRange, "does not fit");
}

TEST_F(ElfLoaderTest, AddressOverflowNear2To64) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(kKernelBase)
                   .AddLoad(kKernelBase, Bytes(16, 1))
                   .AddLoad(0xFFFF'FFFF'FFFF'F000, Bytes(16, 1), 0x2000)
                   .Build();
  ExpectInvalid(image, "[0xfffffffffffff000, +0x2000) wraps past 2^64");
  // Ends exactly at 2^64: no wrap, but not RAM.
  image = ElfBuilder(true)
              .AddPvhNote(kKernelBase)
              .AddLoad(kKernelBase, Bytes(16, 1))
              .AddLoad(0xFFFF'FFFF'FFFF'F000, Bytes(16, 1), 0xFFF)
              .Build();
  ExpectError(image, absl::StatusCode::kOutOfRange, "does not fit");
}

TEST_F(ElfLoaderTest, FileszGreaterThanMemsz) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(kKernelBase)
                   .AddLoad(kKernelBase, Bytes(0x20, 1), 0x10)
                   .Build();
  ExpectInvalid(image, "program header 1 has p_filesz 0x20 > p_memsz 0x10");
}

TEST_F(ElfLoaderTest, OverlappingSegmentsRejectedAdjacentAccepted) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(kKernelBase)
                   .AddLoad(kKernelBase, Bytes(0x10, 1), 0x1000)
                   .AddLoad(kKernelBase + 0xFFF, Bytes(0x10, 1))
                   .Build();
  ExpectInvalid(image,
                "program headers 1 [0x100000, +0x1000) and 2 [0x100fff, "
                "+0x10) overlap");
  EXPECT_TRUE(GuestAllZero(kKernelBase, 0x10));  // nothing was written
  image = ElfBuilder(true)
              .AddPvhNote(kKernelBase)
              .AddLoad(kKernelBase + 0x1000, Bytes(0x10, 1))
              .AddLoad(kKernelBase, Bytes(0x10, 1), 0x1000)
              .Build();
  auto kernel = Load(image);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->low, Gpa(kKernelBase));
  EXPECT_EQ(kernel->high, Gpa(kKernelBase + 0x1010));
}

TEST_F(ElfLoaderTest, MalformedNotes) {
  auto with_notes = [](const std::vector<uint8_t>& notes) {
    return ElfBuilder(true)
        .AddNotes(notes)
        .AddLoad(kKernelBase, Bytes(16, 1))
        .Build();
  };
  auto note = EncodeNote("Xen", 18, LittleEndian(kKernelBase, 8));
  auto bad = note;
  Patch<uint32_t>(bad, 0, 0xFFFF'FFFF);  // namesz
  ExpectInvalid(with_notes(bad), "has namesz 4294967295, past the");
  bad = note;
  Patch<uint32_t>(bad, 0, 21);  // namesz: just past the area
  ExpectInvalid(with_notes(bad), "has namesz 21, past the 24-byte area");
  bad = note;
  Patch<uint32_t>(bad, 4, 0xFFFF'FFFF);  // descsz
  ExpectInvalid(with_notes(bad), "has descsz 4294967295, past the");
  bad = note;
  Patch<uint32_t>(bad, 4, 9);
  ExpectInvalid(with_notes(bad), "has descsz 9, past the");
  bad = note;
  Patch<uint32_t>(bad, 4, 2);  // fits, but not a 4- or 8-byte entry
  ExpectInvalid(with_notes(bad),
                "PVH entry note descriptor is 2 bytes; want 4 or 8");
  bad = note;
  bad.resize(bad.size() + 4);  // trailing bytes too short for a header
  ExpectInvalid(with_notes(bad), "too short for a note header");
  ExpectInvalid(ElfBuilder(true)
                    .NoteAlign(16)
                    .AddNotes(note)
                    .AddLoad(kKernelBase, Bytes(16, 1))
                    .Build(),
                "has alignment 16");
}

TEST_F(ElfLoaderTest, NoteSegmentBeyondFile) {
  auto image = GoodImage(true);
  Elf64_Phdr p = GetPhdr64(image, 0);
  ASSERT_EQ(p.p_type, PT_NOTE);
  p.p_filesz = UINT64_MAX;
  PutPhdr64(image, 0, p);
  ExpectInvalid(image, "PT_NOTE program header 0 file range");
}

TEST_F(ElfLoaderTest, BadSectionTable) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(kKernelBase)
                   .NotesInSection()
                   .AddLoad(kKernelBase, Bytes(16, 1))
                   .Build();
  auto bad = image;
  Patch<uint16_t>(bad, offsetof(Elf64_Ehdr, e_shentsize), 40);
  ExpectInvalid(bad, "e_shentsize is 40; want 64");
  bad = image;
  Patch<uint64_t>(bad, offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 1);
  ExpectInvalid(bad, "section header table");
  bad = image;
  // The note section's sh_size (section 1).
  Elf64_Ehdr eh;
  std::memcpy(&eh, bad.data(), sizeof(eh));
  Patch<uint64_t>(
      bad, eh.e_shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size),
      bad.size());
  ExpectInvalid(bad, "SHT_NOTE section 1 file range");
}

TEST_F(ElfLoaderTest, MissingPvhNote) {
  auto image = ElfBuilder(true).AddLoad(kKernelBase, Bytes(16, 1)).Build();
  ExpectInvalid(image, "not PVH-bootable");
  ExpectInvalid(image, "CONFIG_PVH");
  image = ElfBuilder(false)
              .AddNotes(EncodeNote("GNU", 3, Bytes(20, 1)))
              .AddLoad(kKernelBase, Bytes(16, 1))
              .Build();
  ExpectInvalid(image, "not PVH-bootable");
  // Neither in a PT_NOTE nor in an SHT_NOTE section.
  image = ElfBuilder(true)
              .AddNotes(EncodeNote("GNU", 3, Bytes(20, 1)))
              .NotesInSection()
              .AddLoad(kKernelBase, Bytes(16, 1))
              .Build();
  ExpectInvalid(image, "not PVH-bootable");
}

TEST_F(ElfLoaderTest, BadEntry) {
  ExpectInvalid(ElfBuilder(true)
                    .AddPvhNote(0x1'0000'0000)
                    .AddLoad(kKernelBase, Bytes(16, 1))
                    .Build(),
                "PVH entry point 0x100000000 is not a 32-bit address");
  ExpectInvalid(ElfBuilder(true)
                    .AddPvhNote(kKernelBase + 16)
                    .AddLoad(kKernelBase, Bytes(16, 1))
                    .Build(),
                "PVH entry point 0x100010 is not inside any PT_LOAD");
}

TEST_F(ElfLoaderTest, SegmentBelowMinAddress) {
  auto image = ElfBuilder(true)
                   .AddPvhNote(0xFF000)
                   .AddLoad(0xFF000, Bytes(16, 1))
                   .Build();
  ExpectInvalid(image,
                "program header 1 loads at 0xff000, below the lowest allowed "
                "address 0x100000");
  auto kernel = Load(image, {.min_address = Gpa(0x1000)});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->low, Gpa(0xFF000));
}

TEST_F(ElfLoaderTest, NoLoadableSegments) {
  ExpectInvalid(ElfBuilder(true).AddPvhNote(kKernelBase).Build(),
                "no PT_LOAD program header with bytes to load");
  // A PT_LOAD with nothing in it does not count (and is not placed).
  ExpectInvalid(
      ElfBuilder(true).AddPvhNote(kKernelBase).AddLoad(0, {}, 0).Build(),
      "no PT_LOAD program header with bytes to load");
}

// --- LoadPvhElfFile ---------------------------------------------------------

class ElfFileTest : public ElfLoaderTest {
 protected:
  void SetUp() override {
    ElfLoaderTest::SetUp();
    std::string templ = ::testing::TempDir() + "elf_loader_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string WriteFile(const std::string& name,
                        const std::vector<uint8_t>& data) {
    std::string path = dir_ + "/" + name;
    files_.push_back(path);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
    close(fd);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ElfFileTest, LoadsFile) {
  const std::string path = WriteFile("vmlinux", GoodImage(true));
  auto kernel = LoadPvhElfFile(path, *memory_);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->entry, Gpa(kKernelBase + 0x10));
  EXPECT_EQ(ReadGuest(kKernelBase, 0x300), Bytes(0x300, 1));
}

TEST_F(ElfFileTest, ErrorsNameTheFile) {
  const std::string bad = WriteFile("bad", {1, 2, 3});
  auto kernel = LoadPvhElfFile(bad, *memory_);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kernel.status().message(), HasSubstr(bad + ": kernel ELF: "));

  kernel = LoadPvhElfFile(dir_ + "/missing", *memory_);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(kernel.status().message(), HasSubstr(dir_ + "/missing"));

  kernel = LoadPvhElfFile(dir_, *memory_);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kernel.status().message(), HasSubstr("not a regular file"));
}

TEST_F(ElfFileTest, RefusesHugeFile) {
  const std::string path = WriteFile("huge", {});
  // Sparse: costs no disk space.
  ASSERT_EQ(truncate(path.c_str(), kMaxKernelFileSize + 1), 0);
  auto kernel = LoadPvhElfFile(path, *memory_);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kernel.status().message(), HasSubstr(path));
  EXPECT_THAT(kernel.status().message(), HasSubstr("256 MiB limit"));
}

// The real test guest, when the build has one (meson passes FTGUEST_ELF).
TEST(RealGuestTest, LoadsTestGuest) {
  const char* path = getenv("FTGUEST_ELF");
  if (path == nullptr || path[0] == '\0') {
    GTEST_SKIP() << "FTGUEST_ELF not set: the test guest is not built";
  }
  auto memory = GuestMemory::Create({.size = 256 << 20});
  ASSERT_TRUE(memory.ok()) << memory.status();
  auto kernel = LoadPvhElfFile(path, *memory);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_LE(kernel->low, kernel->entry);
  EXPECT_LT(kernel->entry, kernel->high);
}

}  // namespace
}  // namespace ft::vmm
