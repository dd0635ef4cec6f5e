// Tests for common/log.h.
#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

// Redirects fd 2 to an unlinked temporary file for its lifetime; Take()
// restores fd 2 and returns what was written meanwhile.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    const char* dir = std::getenv("TMPDIR");
    std::string path =
        std::string(dir != nullptr ? dir : "/tmp") + "/log_testXXXXXX";
    file_ = ::mkstemp(path.data());
    EXPECT_GE(file_, 0);
    ::unlink(path.c_str());
    saved_ = ::dup(STDERR_FILENO);
    EXPECT_GE(saved_, 0);
    EXPECT_EQ(::dup2(file_, STDERR_FILENO), STDERR_FILENO);
  }
  ~StderrCapture() {
    Restore();
    if (file_ >= 0) ::close(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string Take() {
    Restore();
    std::string out;
    char buf[4096];
    ssize_t n;
    off_t pos = 0;
    while ((n = ::pread(file_, buf, sizeof(buf), pos)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      pos += n;
    }
    return out;
  }

 private:
  void Restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
  }

  int file_ = -1;
  int saved_ = -1;
};

// Restores the process-wide level after each test.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = MinLogLevel(); }
  void TearDown() override { SetMinLogLevel(saved_); }

 private:
  LogLevel saved_ = LogLevel::kInfo;
};

TEST_F(LogTest, ParseAcceptsTheFourNames) {
  EXPECT_EQ(ParseLogLevel("debug").value(), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("info").value(), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warning").value(), LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("error").value(), LogLevel::kError);
}

TEST_F(LogTest, ParseIsCaseInsensitive) {
  EXPECT_EQ(ParseLogLevel("DEBUG").value(), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("Info").value(), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("WaRnInG").value(), LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("ERROR").value(), LogLevel::kError);
}

TEST_F(LogTest, ParseRejectsOthersWithMessage) {
  for (const char* bad :
       {"", "verbose", "fatal", " info", "info ", "3", "errors", "debu"}) {
    absl::StatusOr<LogLevel> r = ParseLogLevel(bad);
    ASSERT_FALSE(r.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string msg(r.status().message());
    EXPECT_THAT(msg, HasSubstr("'" + std::string(bad) + "'"));
    EXPECT_THAT(msg, HasSubstr("debug"));
    EXPECT_THAT(msg, HasSubstr("error"));
  }
}

TEST_F(LogTest, SetMinLogLevelRoundTrips) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                     LogLevel::kError}) {
    SetMinLogLevel(l);
    EXPECT_EQ(MinLogLevel(), l);
  }
}

TEST_F(LogTest, LineHasLevelFileLineAndMessage) {
  SetMinLogLevel(LogLevel::kInfo);
  StderrCapture capture;
  const int line = __LINE__ + 1;
  FT_LOG(kWarning) << "disk " << 42 << " is full";
  const std::string out = capture.Take();
  EXPECT_THAT(out, HasSubstr("log_test.cc:" + std::to_string(line) + "] "));
  EXPECT_THAT(out, Not(HasSubstr("/log_test.cc")));  // basename only
  EXPECT_THAT(out, MatchesRegex("W [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
                                "log_test\\.cc:[0-9]+\\] disk 42 is full\n"));
}

TEST_F(LogTest, EachLevelHasItsLetter) {
  SetMinLogLevel(LogLevel::kDebug);
  StderrCapture capture;
  FT_LOG(kDebug) << "d";
  FT_LOG(kInfo) << "i";
  FT_LOG(kWarning) << "w";
  FT_LOG(kError) << "e";
  const std::string out = capture.Take();
  EXPECT_THAT(out, MatchesRegex("D [^\n]*\\] d\nI [^\n]*\\] i\n"
                                "W [^\n]*\\] w\nE [^\n]*\\] e\n"));
}

TEST_F(LogTest, MinLevelFiltersLowerLevels) {
  SetMinLogLevel(LogLevel::kWarning);
  StderrCapture capture;
  FT_LOG(kDebug) << "debug-line";
  FT_LOG(kInfo) << "info-line";
  FT_LOG(kWarning) << "warning-line";
  FT_LOG(kError) << "error-line";
  const std::string out = capture.Take();
  EXPECT_THAT(out, Not(HasSubstr("debug-line")));
  EXPECT_THAT(out, Not(HasSubstr("info-line")));
  EXPECT_THAT(out, HasSubstr("warning-line"));
  EXPECT_THAT(out, HasSubstr("error-line"));
}

TEST_F(LogTest, ErrorLevelSilencesEverythingElse) {
  SetMinLogLevel(LogLevel::kError);
  StderrCapture capture;
  FT_LOG(kDebug) << "a";
  FT_LOG(kInfo) << "b";
  FT_LOG(kWarning) << "c";
  EXPECT_THAT(capture.Take(), IsEmpty());
}

TEST_F(LogTest, DisabledLogDoesNotEvaluateArguments) {
  SetMinLogLevel(LogLevel::kError);
  int evaluated = 0;
  auto expensive = [&]() {
    ++evaluated;
    return "expensive";
  };
  StderrCapture capture;
  FT_LOG(kInfo) << expensive();
  FT_LOG(kWarning) << expensive() << expensive();
  EXPECT_EQ(evaluated, 0);
  FT_LOG(kError) << expensive();
  EXPECT_EQ(evaluated, 1);
  EXPECT_THAT(capture.Take(), HasSubstr("] expensive\n"));
}

TEST_F(LogTest, BindsCorrectlyInIfElse) {
  SetMinLogLevel(LogLevel::kError);
  bool else_taken = false;
  StderrCapture capture;
  // The macro's own if/else must not capture this else.
  if (else_taken)
    FT_LOG(kInfo) << "never";
  else
    else_taken = true;
  capture.Take();
  EXPECT_TRUE(else_taken);
}

TEST_F(LogTest, EachMessageIsOneWholeLine) {
  SetMinLogLevel(LogLevel::kInfo);
  StderrCapture capture;
  FT_LOG(kInfo) << "first";
  FT_LOG(kInfo) << "second";
  const std::string out = capture.Take();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

}  // namespace
}  // namespace ft
