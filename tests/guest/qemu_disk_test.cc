// The disk workload and the virtio-blk driver under QEMU microvm, against a
// temporary raw image (see qemu_guest_fixture.h): the result, the pattern
// left in the image, device discovery, and the failure modes.
#include <cstring>
#include <string>
#include <vector>

#include "tests/guest/qemu_guest_fixture.h"

namespace ftguest_test {
namespace {

TEST_F(QemuGuestTest, DiskWritesVerifiesAndLeavesThePatternInTheImage) {
  // 300 writes over 256 blocks: 44 blocks are read back (checked) and
  // rewritten in a second pass. The image starts as 0xa5 so blocks the
  // guest never writes are recognisable.
  const uint64_t mib = 1, rate = 300, seconds = 1;
  TempImage img(4 * FTG_MIB, 0xa5);
  const std::string cmd = "workload=disk mib=1 rate=300 seconds=1 flush=8";
  GuestRun run = Boot(cmd, {.disk = img.path()});
  Expect(run, cmd, OkLine("disk", ftg_ref_disk(mib, rate, seconds)),
         FTG_EXIT_OK, /*devices_appended=*/true);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: virtio-blk base=0x"))
      << run.Describe();
  const std::string summary = "ftguest: disk mib=1 rate=300 seconds=1 flush=8 ";
  EXPECT_EQ(run.Field(summary, "writes").value_or(0), 300u) << run.Describe();
  EXPECT_EQ(run.Field(summary, "reads").value_or(0), 44u + 256u)
      << run.Describe();
  EXPECT_EQ(run.Field(summary, "flushes").value_or(0), 300u / 8)
      << run.Describe();

  std::vector<uint8_t> bytes = img.Contents();
  ASSERT_EQ(bytes.size(), 4 * FTG_MIB);
  const uint64_t blocks = mib * FTG_MIB / FTG_DISK_BLOCK_SIZE;
  std::vector<uint64_t> want(FTG_DISK_WORDS_PER_BLOCK);
  for (uint64_t i = 0; i < bytes.size() / FTG_DISK_BLOCK_SIZE; i++) {
    const uint8_t* got = bytes.data() + i * FTG_DISK_BLOCK_SIZE;
    int64_t pass = ftg_disk_final_pass(i, blocks, rate * seconds);
    if (pass < 0) {
      std::vector<uint8_t> untouched(FTG_DISK_BLOCK_SIZE, 0xa5);
      ASSERT_EQ(std::memcmp(got, untouched.data(), FTG_DISK_BLOCK_SIZE), 0)
          << "block " << i << " was never written but changed";
      continue;
    }
    ftg_disk_fill_block(want.data(), i, static_cast<uint64_t>(pass));
    ASSERT_EQ(std::memcmp(got, want.data(), FTG_DISK_BLOCK_SIZE), 0)
        << "block " << i << " does not hold pass " << pass;
  }
}

TEST_F(QemuGuestTest, DiskFindsTheDeviceAmongOtherTokens) {
  // A malformed token, and a transport with no device behind it (QEMU's
  // transport 0), come before the token QEMU appends for the disk.
  TempImage img(FTG_MIB, 0);
  const std::string cmd =
      "workload=disk mib=1 rate=20 seconds=1 flush=0 "
      "virtio_mmio.device=junk virtio_mmio.device=0x200@0xfeb00000:5";
  GuestRun run = Boot(cmd, {.disk = img.path()});
  Expect(run, cmd, OkLine("disk", ftg_ref_disk(1, 20, 1)), FTG_EXIT_OK,
         /*devices_appended=*/true);
  EXPECT_TRUE(
      run.HasLineStartingWith("ftguest: virtio_mmio.device=junk: malformed"))
      << run.Describe();
}

TEST_F(QemuGuestTest, DiskAbsent) {
  GuestRun run = Boot("workload=disk");
  Expect(run, "workload=disk", FailLine("disk", 0, "no-disk"), FTG_EXIT_FAIL);
}

TEST_F(QemuGuestTest, DiskLegacyTransportIsNotUsed) {
  TempImage img(FTG_MIB, 0);
  GuestRun run =
      Boot("workload=disk",
           {.disk = img.path(),
            .extra_args = {"-global", "virtio-mmio.force-legacy=true"}});
  Expect(run, "workload=disk", FailLine("disk", 0, "no-disk"), FTG_EXIT_FAIL,
         /*devices_appended=*/true);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: virtio-mmio at 0x"))
      << run.Describe();
}

TEST_F(QemuGuestTest, DiskSmallerThanTheRegionIsABadParameter) {
  TempImage img(FTG_MIB / 2, 0);
  GuestRun run = Boot("workload=disk mib=1", {.disk = img.path()});
  Expect(run, "workload=disk mib=1", FailLine("disk", 0, "bad-param"),
         FTG_EXIT_BAD_CMDLINE, /*devices_appended=*/true);
}

}  // namespace
}  // namespace ftguest_test
