// The redis workload (guest/workloads/redis.c: virtio-net, lwIP and the
// redis server with its log on virtio-blk, docs/redis.md) driven by the
// unmodified redis-cli and redis-benchmark over a TAP in a private network
// namespace: commands, durability across a restart, a torn last record,
// and a benchmark run.
//
// The scenarios are parametrized over the VMM (tests/support/vm_launcher.h)
// so that ftvm runs exactly the same ones as QEMU. Needs root (namespaces,
// TAP), /dev/net/tun, /dev/kvm, redis-tools and (for its half) QEMU; skips
// with the reason otherwise.
//
// Environment (tests/guest/meson.build): FTGUEST_ELF, FTGUEST_QEMU (empty:
// not found), FTVM (the ftvm binary, for the ftvm instantiation).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/guest/qemu_guest_fixture.h"
#include "tests/support/background.h"
#include "tests/support/netns.h"
#include "tests/support/redis_cli.h"
#include "tests/support/subprocess.h"
#include "tests/support/vm_launcher.h"

namespace ftguest_test {
namespace {

using ft::testing::BackgroundProcess;
using ft::testing::PrivateNetns;
using ft::testing::RedisCli;
using ft::testing::RedisTools;
using ft::testing::VmLauncher;

constexpr char kHostCidr[] = "198.18.250.1/24";
constexpr char kGuestIp[] = "198.18.250.2";
constexpr char kTap[] = "tap0";
constexpr char kMac[] = "52:54:00:12:34:56";
constexpr char kCmdline[] = "workload=redis ip=198.18.250.2/24 gw=198.18.250.1";
constexpr uint64_t kDiskBytes = 64 * FTG_MIB;
// Record header size in the log (docs/redis.md "Records"); its magic.
constexpr size_t kRecordHeader = 24;
constexpr char kRecordMagic[] = "RDL1";  // 0x314c4452 little-endian

VmLauncher MakeLauncher(const std::string& name) {
  if (name == "ftvm")
    return ft::testing::FtvmLauncher(Getenv("FTVM"), Getenv("FTGUEST_ELF"));
  return ft::testing::QemuLauncher(Getenv("FTGUEST_QEMU"),
                                   Getenv("FTGUEST_ELF"));
}

// What the workload reports at SHUTDOWN: FNV-1a of "keys=N" (redis/app.c).
uint64_t RedisResult(size_t keys) {
  std::string s = "keys=" + std::to_string(keys);
  return ftg_fnv1a64(s.data(), s.size());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

class RedisVmTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Getenv("FTGUEST_ELF").empty())
        << "FTGUEST_ELF is not set (run through meson test)";
    launcher_ = MakeLauncher(GetParam());
    if (!launcher_.unavailable.empty()) GTEST_SKIP() << launcher_.unavailable;
    if (std::string why = ft::testing::PrivateNetnsUnavailable(); !why.empty())
      GTEST_SKIP() << why;
    if (std::string why = ft::testing::FindRedisTools(&tools_); !why.empty())
      GTEST_SKIP() << why;
    std::string tmpl =
        std::filesystem::temp_directory_path() / "ftguest-redis-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    image_ = dir_ + "/disk.img";
    std::ofstream(image_).close();
    // Sparse: a blank disk, which the guest formats.
    ASSERT_NO_FATAL_FAILURE(Resize(kDiskBytes));
    // Namespaces are host-wide: the pid keeps parallel runs apart.
    auto ns = PrivateNetns::Create("ftredis" + std::to_string(getpid()), kTap,
                                   kHostCidr);
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = std::move(*ns);
    cli_ = std::make_unique<RedisCli>(*ns_, tools_, kGuestIp);
  }

  void TearDown() override {
    vm_.reset();  // kills a VM a failed test left running
    cli_.reset();
    ns_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Resize(uint64_t bytes) {
    ASSERT_EQ(truncate(image_.c_str(), static_cast<off_t>(bytes)), 0)
        << image_ << ": " << std::strerror(errno);
  }

  // Starts the VMM in the namespace with the guest on the image; `extra`
  // goes at the end of the VMM's command line.
  void Start(const std::string& cmdline,
             const std::vector<std::string>& extra = {}) {
    vm_.reset();
    log_ = dir_ + "/boot" + std::to_string(++boots_) + ".log";
    std::vector<std::string> argv = launcher_.argv(
        {.tap = kTap, .mac = kMac, .disk = image_, .cmdline = cmdline});
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto vm = BackgroundProcess::Start(ns_->Wrap(argv), log_);
    ASSERT_TRUE(vm.ok()) << vm.status();
    vm_ = std::move(*vm);
  }

  // Boots the guest on the image and waits until it answers PING.
  void Boot(const std::vector<std::string>& extra = {}) {
    ASSERT_NO_FATAL_FAILURE(Start(kCmdline, extra));
    ASSERT_TRUE(
        cli_->WaitForPong(absl::Seconds(60), [this] { return vm_->Running(); }))
        << "the guest never answered PING" << Describe();
  }

  // SHUTDOWN (no reply), then the guest must power off with status ok and
  // `keys` live keys.
  void Shutdown(size_t keys) {
    cli_->Cmd({"SHUTDOWN"});
    std::optional<int> status = vm_->WaitFor(absl::Seconds(30));
    ASSERT_TRUE(status.has_value())
        << "still running after SHUTDOWN" << Describe();
    EXPECT_EQ(*status, launcher_.exit_status(FTG_EXIT_OK)) << Describe();
    std::vector<std::string> lines = Lines(vm_->Output());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), OkLine("redis", RedisResult(keys))) << Describe();
  }

  // The first guest line starting with prefix, or "".
  std::string GuestLine(const std::string& prefix) {
    for (const std::string& l : Lines(vm_->Output()))
      if (l.rfind(prefix, 0) == 0) return l;
    return "";
  }

  std::string Describe() {
    return "\n--- " + launcher_.name + " (" + log_ + ") ---\n" +
           (vm_ ? vm_->Output() : "");
  }

  // Byte offset of the log record holding `SET key ...`, found by its
  // payload (a RESP array) and checked against the record magic; npos if
  // absent.
  size_t FindSetRecord(const std::string& key) {
    std::ifstream in(image_, std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(in), {});
    const std::string payload = "*3\r\n$3\r\nSET\r\n$" +
                                std::to_string(key.size()) + "\r\n" + key +
                                "\r\n";
    size_t at = bytes.find(payload);
    if (at == std::string::npos || at < kRecordHeader) return std::string::npos;
    size_t record = at - kRecordHeader;
    if (bytes.compare(record, 4, kRecordMagic) != 0) return std::string::npos;
    return record;
  }

  VmLauncher launcher_;
  RedisTools tools_;
  std::string dir_, image_, log_;
  int boots_ = 0;
  std::unique_ptr<PrivateNetns> ns_;
  std::unique_ptr<RedisCli> cli_;
  std::unique_ptr<BackgroundProcess> vm_;
};

TEST_P(RedisVmTest, CommandsSurviveARestartAndATornRecordIsDropped) {
  // 1. A blank disk: the guest formats it; plain commands.
  ASSERT_NO_FATAL_FAILURE(Boot());
  EXPECT_NE(GuestLine("ftguest: virtio-net base=0x"), "") << Describe();
  EXPECT_NE(GuestLine("ftguest: redis: log formatted, replayed 0 records"), "")
      << Describe();
  EXPECT_EQ(cli_->Cmd({"PING"}), "PONG");
  EXPECT_EQ(cli_->Cmd({"SET", "greeting", "hello world"}), "OK");
  EXPECT_EQ(cli_->Cmd({"GET", "greeting"}), "hello world");
  EXPECT_EQ(cli_->Cmd({"INCR", "n"}), "1");
  EXPECT_EQ(cli_->Cmd({"INCR", "n"}), "2");
  EXPECT_EQ(cli_->Cmd({"GET", "missing"}), "");
  ASSERT_NO_FATAL_FAILURE(Shutdown(2));

  // 2. Booted again from the same image: everything is back. Then one more
  //    write, the last record of the log.
  ASSERT_NO_FATAL_FAILURE(Boot());
  std::string replay = GuestLine("ftguest: redis: log opened, replayed 3 ");
  EXPECT_NE(replay.find("end=clean"), std::string::npos) << Describe();
  EXPECT_EQ(cli_->Cmd({"GET", "greeting"}), "hello world");
  EXPECT_EQ(cli_->Cmd({"GET", "n"}), "2");
  EXPECT_EQ(cli_->Cmd({"DBSIZE"}), "2");
  EXPECT_EQ(cli_->Cmd({"SET", "torn", "this record gets torn"}), "OK");
  ASSERT_NO_FATAL_FAILURE(Shutdown(3));

  // 3. Cut the image inside that record (as a crash mid-commit would leave
  //    it) and extend it again with zeros.
  size_t record = FindSetRecord("torn");
  ASSERT_NE(record, std::string::npos) << "no `SET torn` record in the image";
  ASSERT_NO_FATAL_FAILURE(Resize(record + kRecordHeader + 20));
  ASSERT_NO_FATAL_FAILURE(Resize(kDiskBytes));

  // 4. The earlier writes replay, the torn one is gone, the guest says
  //    where and why replay stopped, and the log continues after it.
  ASSERT_NO_FATAL_FAILURE(Boot());
  replay = GuestLine("ftguest: redis: log opened, replayed 3 ");
  EXPECT_NE(replay.find("end=bad-crc at byte " + std::to_string(record)),
            std::string::npos)
      << Describe();
  EXPECT_EQ(cli_->Cmd({"GET", "greeting"}), "hello world");
  EXPECT_EQ(cli_->Cmd({"GET", "n"}), "2");
  EXPECT_EQ(cli_->Cmd({"EXISTS", "torn"}), "0");
  EXPECT_EQ(cli_->Cmd({"SET", "after", "the tear"}), "OK");
  ASSERT_NO_FATAL_FAILURE(Shutdown(3));

  ASSERT_NO_FATAL_FAILURE(Boot());
  replay = GuestLine("ftguest: redis: log opened, replayed 4 ");
  EXPECT_NE(replay.find("end=clean"), std::string::npos) << Describe();
  EXPECT_EQ(cli_->Cmd({"GET", "after"}), "the tear");
  EXPECT_EQ(cli_->Cmd({"EXISTS", "torn"}), "0");
  ASSERT_NO_FATAL_FAILURE(Shutdown(3));
}

// One disk image, written under this VMM and served by the other one: the
// same guest finds the same devices and the same data under both.
TEST_P(RedisVmTest, TheDiskImageMovesToTheOtherVmm) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  EXPECT_EQ(cli_->Cmd({"SET", "written-under", launcher_.name}), "OK");
  EXPECT_EQ(cli_->Cmd({"INCRBY", "moves", "41"}), "41");
  ASSERT_NO_FATAL_FAILURE(Shutdown(2));

  const std::string first = launcher_.name;
  launcher_ = MakeLauncher(first == "ftvm" ? "qemu" : "ftvm");
  if (!launcher_.unavailable.empty()) GTEST_SKIP() << launcher_.unavailable;
  ASSERT_NO_FATAL_FAILURE(Boot());
  EXPECT_NE(GuestLine("ftguest: redis: log opened, replayed 2 "), "")
      << Describe();
  EXPECT_EQ(cli_->Cmd({"GET", "written-under"}), first);
  EXPECT_EQ(cli_->Cmd({"INCR", "moves"}), "42");
  ASSERT_NO_FATAL_FAILURE(Shutdown(2));
}

TEST_P(RedisVmTest, RedisBenchmarkCompletes) {
  ASSERT_NO_FATAL_FAILURE(Boot());
  for (const char* pipeline : {"1", "16"}) {
    auto r = cli_->Benchmark(
        {"-q", "-n", "2000", "-t", "set,get,incr", "-P", pipeline});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(r->timed_out) << r->out << Describe();
    EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
    auto rates = ft::testing::ParseBenchmarkRates(r->out);
    for (const char* t : {"SET", "GET", "INCR"}) {
      EXPECT_GT(rates[t], 0.0) << t << " -P " << pipeline << ":\n" << r->out;
      std::cout << launcher_.name << " redis-benchmark -P " << pipeline << " "
                << t << ": " << rates[t] << " requests/s\n";
    }
  }
  // Every INCR of both runs counted; key:__rand_int__ and the counter.
  EXPECT_EQ(cli_->Cmd({"GET", "counter:__rand_int__"}), "4000");
  EXPECT_EQ(cli_->Cmd({"DBSIZE"}), "2");
  ASSERT_NO_FATAL_FAILURE(Shutdown(2));
  // The driver's and the disk's counters, for exits per request.
  for (const char* p :
       {"ftguest: redis: shutdown ", "ftguest: redis: virtio-net ",
        "ftguest: redis: virtio-blk "})
    std::cout << GuestLine(p) << "\n";
}

// Recording is ftvm's: the same fixture, instantiated for ftvm only.
class RedisRecordTest : public RedisVmTest {};

// The redis guest recorded while redis-benchmark and redis-cli drive it
// from the namespace, then replayed offline from the log alone (no TAP, no
// disk): zero divergences, the same guest output, the same final state
// digest.
TEST_P(RedisRecordTest, ARunUnderLoadIsRecordedAndReplays) {
  const std::string ftlog = Getenv("FTLOG");
  ASSERT_FALSE(ftlog.empty()) << "FTLOG is not set (run through meson test)";
  const std::string record = dir_ + "/redis.ftlog";
  ASSERT_NO_FATAL_FAILURE(Boot({"--record", record}));
  EXPECT_EQ(cli_->Cmd({"SET", "recorded", "yes"}), "OK");
  for (const char* pipeline : {"1", "16"}) {
    auto r = cli_->Benchmark(
        {"-q", "-n", "3200", "-t", "set,get,incr", "-P", pipeline});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  }
  EXPECT_EQ(cli_->Cmd({"GET", "counter:__rand_int__"}), "6400");
  ASSERT_NO_FATAL_FAILURE(Shutdown(3));
  const std::string recorded = vm_->Output();

  // The image is gone for the replay: everything comes from the log.
  std::filesystem::remove(image_);
  auto rep = ft::testing::RunSubprocess(
      {.argv = {ftlog, "replay", "--console", record},
       .timeout = absl::Minutes(5)});
  ASSERT_TRUE(rep.ok()) << rep.status();
  EXPECT_EQ(rep->exit_code, 0) << rep->out << rep->err;
  EXPECT_NE(rep->out.find("divergences: 0"), std::string::npos) << rep->out;
  EXPECT_NE(rep->out.find("(as recorded)"), std::string::npos) << rep->out;
  // Every frame the guest sent and every disk write was checked.
  EXPECT_EQ(rep->out.find(", 0 outputs checked"), std::string::npos)
      << rep->out;
  // Every guest line of the recorded run, in order, from the replay.
  std::string recorded_guest, replayed_guest;
  for (const std::string& l : Lines(recorded))
    if (l.rfind("ftguest:", 0) == 0) recorded_guest += l + "\n";
  for (const std::string& l : Lines(rep->out))
    if (l.rfind("ftguest:", 0) == 0) replayed_guest += l + "\n";
  EXPECT_EQ(replayed_guest, recorded_guest);
  std::cout << rep->out.substr(rep->out.find("replayed "));
  if (HasFailure()) {
    // Worth reading with `ftlog dump`.
    const std::string kept =
        ::testing::TempDir() + "/redis_" + std::to_string(getpid()) + ".ftlog";
    std::filesystem::copy_file(
        record, kept, std::filesystem::copy_options::overwrite_existing);
    std::cout << "log kept in " << kept << "\n";
  }
}

TEST_P(RedisVmTest, AMissingAddressIsACommandLineError) {
  ASSERT_NO_FATAL_FAILURE(Start("workload=redis"));
  std::optional<int> status = vm_->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(status.has_value()) << Describe();
  EXPECT_EQ(*status, launcher_.exit_status(FTG_EXIT_BAD_CMDLINE)) << Describe();
  std::vector<std::string> lines = Lines(vm_->Output());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), FailLine("redis", 0, "bad-net-config")) << Describe();
}

// The same guest, the same disk image format and the same clients under
// both VMMs.
INSTANTIATE_TEST_SUITE_P(Vmm, RedisRecordTest, ::testing::Values("ftvm"),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Vmm, RedisVmTest, ::testing::Values("ftvm", "qemu"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace ftguest_test
