// The unmodified Redis tools against the guest's redis core, served on the
// host by redis_host_server (same connection code and group commit as the
// guest). Skips when redis-cli / redis-benchmark are not installed: the
// core's own tests never need them.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/support/subprocess.h"

namespace ft::guest_redis {
namespace {

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand = p.substr(start, end - start) + "/" + name;
    if (access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return "";
}

// redis_host_server as a child: it stops when its stdin closes, so it never
// outlives the test.
class HostServer {
 public:
  explicit HostServer(const std::string& disk) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const char* bin = std::getenv("REDIS_HOST_SERVER");
      execl(bin, bin, "--port", "0", "--disk", disk.c_str(), "--sectors",
            "65536", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const std::string prefix = "listening on port ";
    if (line.rfind(prefix, 0) == 0)
      port_ = std::stoi(line.substr(prefix.size()));
  }
  ~HostServer() {
    if (stdin_ >= 0) close(stdin_);
    if (pid_ > 0) {
      int status;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; i++)
        usleep(20000);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

class RedisToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_ = FindInPath("redis-cli");
    bench_ = FindInPath("redis-benchmark");
    if (cli_.empty() || bench_.empty())
      GTEST_SKIP() << "redis-cli / redis-benchmark not installed (apt-get "
                      "install redis-tools)";
    dir_ = std::filesystem::temp_directory_path() /
           ("guest_redis_tools_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Cli(int port, std::vector<std::string> args) {
    std::vector<std::string> argv = {cli_, "-h", "127.0.0.1", "-p",
                                     std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = ft::testing::RunSubprocess({argv, absl::Seconds(20), {}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->out : "";
  }
  std::string disk() const { return (dir_ / "disk.img").string(); }

  std::string cli_, bench_;
  std::filesystem::path dir_;
};

TEST_F(RedisToolsTest, RedisCliCommandsAndRestart) {
  {
    HostServer s(disk());
    ASSERT_GT(s.port(), 0);
    EXPECT_EQ(Cli(s.port(), {"PING"}), "PONG\n");
    EXPECT_EQ(Cli(s.port(), {"SET", "greeting", "hello world"}), "OK\n");
    EXPECT_EQ(Cli(s.port(), {"GET", "greeting"}), "hello world\n");
    EXPECT_EQ(Cli(s.port(), {"INCR", "n"}), "1\n");
    EXPECT_EQ(Cli(s.port(), {"INCR", "n"}), "2\n");
    EXPECT_EQ(Cli(s.port(), {"GET", "missing"}), "\n");
    // redis-cli prints errors with an empty line after them (it does so
    // against redis-server too).
    EXPECT_EQ(Cli(s.port(), {"INCR", "greeting"}),
              "ERR value is not an integer or out of range\n\n");
  }
  // The data survives a restart from the same disk.
  HostServer s(disk());
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(Cli(s.port(), {"GET", "greeting"}), "hello world\n");
  EXPECT_EQ(Cli(s.port(), {"GET", "n"}), "2\n");
  EXPECT_EQ(Cli(s.port(), {"DBSIZE"}), "2\n");
}

TEST_F(RedisToolsTest, RedisBenchmarkWithAndWithoutPipelining) {
  HostServer s(disk());
  ASSERT_GT(s.port(), 0);
  for (const char* pipeline : {"1", "16"}) {
    auto r = ft::testing::RunSubprocess(
        {{bench_, "-h", "127.0.0.1", "-p", std::to_string(s.port()), "-t",
          "set,get,incr,ping", "-n", "2000", "-c", "20", "-P", pipeline,
          "--csv"},
         absl::Seconds(60),
         {}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0) << r->err;
    for (const char* test : {"\"SET\"", "\"GET\"", "\"INCR\"",
                             "\"PING_INLINE\"", "\"PING_MBULK\""})
      EXPECT_NE(r->out.find(test), std::string::npos) << test << "\n"
                                                      << r->out << r->err;
    EXPECT_EQ(r->err.find("WARNING"), std::string::npos) << r->err;
  }
  // Every INCR was counted: 2 runs x 2000.
  EXPECT_EQ(Cli(s.port(), {"GET", "counter:__rand_int__"}), "4000\n");
}

}  // namespace
}  // namespace ft::guest_redis
