// Tests for tools/cli/args.h.
#include "tools/cli/args.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// ---------------------------------------------------------------------------
// ParseSize

TEST(ParseSizeTest, AcceptsSuffixes) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"0", 0},
      {"4096", 4096},
      {"1K", kKiB},
      {"2k", 2 * kKiB},
      {"256M", 256 * kMiB},
      {"1G", kGiB},
      {"3T", 3 * kTiB},
      {"1KiB", kKiB},
      {"512MiB", 512 * kMiB},
      {"2GB", 2 * kGiB},
      {"1gib", kGiB},
      {"1gB", kGiB},
      {"4096B", 4096},
      {"7b", 7},
      {"  64M\t", 64 * kMiB},
      {"\n1TiB ", kTiB},
      {"16777215T", 16777215 * kTiB},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<uint64_t> got = ParseSize(text);
    ASSERT_TRUE(got.ok()) << "'" << text << "': " << got.status();
    EXPECT_EQ(*got, want) << "'" << text << "'";
  }
}

TEST(ParseSizeTest, RejectsMalformed) {
  for (const char* text :
       {"", "   ", "M", "GiB", "B", "iB", "-5", "-1M", "+5", "+1G", "12X",
        "12 X", "1.5G", "0x10", "G1", "1MM", "1KG", "1iB2", "five"}) {
    absl::StatusOr<uint64_t> got = ParseSize(text);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << text << "' parsed as " << (got.ok() ? *got : 0);
  }
}

TEST(ParseSizeTest, RejectsOverflow) {
  for (const char* text : {"20000000T", "16777216T", "17179869184G",
                           "18446744073709551616", "99999999999999999999K"}) {
    absl::StatusOr<uint64_t> got = ParseSize(text);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << text << "' parsed as " << (got.ok() ? *got : 0);
  }
  EXPECT_THAT(Message(ParseSize("20000000T").status()), HasSubstr("too large"));
}

TEST(ParseSizeTest, ErrorQuotesInput) {
  EXPECT_THAT(Message(ParseSize("12X").status()), HasSubstr("'12X'"));
}

// ---------------------------------------------------------------------------
// ArgParser

struct Flags {
  std::string kernel = "vmlinux";
  std::string cmdline;
  uint64_t mem = 256 * kMiB;
  bool verbose = false;
  bool dry_run = false;
};

class ArgParserTest : public ::testing::Test {
 protected:
  ArgParserTest() : parser_("ftvm [options] IMAGE...", "Runs a guest.") {
    parser_.AddString("kernel", "PATH", "Guest kernel image.", &f_.kernel);
    parser_.AddString("cmdline", "TEXT", "Kernel command line.", &f_.cmdline);
    parser_.AddSize("mem", "Guest memory size.", &f_.mem);
    parser_.AddBool("verbose", "Log more.", &f_.verbose);
    parser_.AddBool("dry-run", "Check the configuration only.", &f_.dry_run);
  }

  absl::StatusOr<std::vector<std::string>> Parse(
      std::vector<std::string> args) {
    return parser_.Parse(args);
  }

  Flags f_;
  ArgParser parser_;
};

TEST_F(ArgParserTest, DefaultsWhenNothingGiven) {
  auto pos = Parse({});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_THAT(*pos, IsEmpty());
  EXPECT_EQ(f_.kernel, "vmlinux");
  EXPECT_EQ(f_.mem, 256 * kMiB);
  EXPECT_FALSE(f_.verbose);
  EXPECT_FALSE(parser_.help_requested());
}

TEST_F(ArgParserTest, SeparateAndJoinedValues) {
  auto pos = Parse({"--kernel", "bzImage", "--mem=1G", "--cmdline=a=b c"});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(f_.kernel, "bzImage");
  EXPECT_EQ(f_.mem, kGiB);
  EXPECT_EQ(f_.cmdline, "a=b c");  // only the first '=' separates

  ASSERT_TRUE(Parse({"--mem", "64MiB", "--kernel="}).ok());
  EXPECT_EQ(f_.mem, 64 * kMiB);
  EXPECT_EQ(f_.kernel, "");  // an explicit empty value
}

TEST_F(ArgParserTest, ValueMayLookLikeAnOption) {
  ASSERT_TRUE(Parse({"--cmdline", "--verbose"}).ok());
  EXPECT_EQ(f_.cmdline, "--verbose");
  EXPECT_FALSE(f_.verbose);
}

TEST_F(ArgParserTest, LastOccurrenceWins) {
  ASSERT_TRUE(Parse({"--mem=1G", "--mem", "2G"}).ok());
  EXPECT_EQ(f_.mem, 2 * kGiB);
}

TEST_F(ArgParserTest, BoolFlags) {
  ASSERT_TRUE(Parse({"--dry-run"}).ok());
  EXPECT_TRUE(f_.dry_run);
  EXPECT_FALSE(f_.verbose);

  absl::StatusOr<std::vector<std::string>> r = Parse({"--verbose=yes"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()), HasSubstr("--verbose takes no value"));
  EXPECT_FALSE(f_.verbose);
  EXPECT_FALSE(Parse({"--verbose="}).ok());
}

TEST_F(ArgParserTest, UnknownOptionMentionsHelp) {
  absl::StatusOr<std::vector<std::string>> r = Parse({"--memory", "1G"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()), HasSubstr("--memory"));
  EXPECT_THAT(Message(r.status()), HasSubstr("--help"));
  EXPECT_FALSE(Parse({"--memory=1G"}).ok());
  EXPECT_FALSE(Parse({"--Verbose"}).ok());  // names are case-sensitive
}

TEST_F(ArgParserTest, MissingValue) {
  absl::StatusOr<std::vector<std::string>> r = Parse({"img", "--kernel"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()), HasSubstr("--kernel needs a value"));
  EXPECT_THAT(Message(r.status()), HasSubstr("PATH"));
  EXPECT_EQ(f_.kernel, "vmlinux");
}

TEST_F(ArgParserTest, BadSizeNamesTheOption) {
  absl::StatusOr<std::vector<std::string>> r = Parse({"--mem=12X"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()), HasSubstr("--mem"));
  EXPECT_THAT(Message(r.status()), HasSubstr("12X"));
  EXPECT_EQ(f_.mem, 256 * kMiB);
}

TEST_F(ArgParserTest, PositionalArguments) {
  auto pos = Parse({"a.img", "--verbose", "b.img", "-x", "-"});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_THAT(*pos, ElementsAre("a.img", "b.img", "-x", "-"));
  EXPECT_TRUE(f_.verbose);
}

TEST_F(ArgParserTest, DoubleDashEndsOptions) {
  auto pos = Parse({"--mem", "1G", "--", "--verbose", "--mem=2G", "--", "x"});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_THAT(*pos, ElementsAre("--verbose", "--mem=2G", "--", "x"));
  EXPECT_FALSE(f_.verbose);
  EXPECT_EQ(f_.mem, kGiB);
}

TEST_F(ArgParserTest, HelpRequested) {
  auto pos = Parse({"img", "--help", "--verbose"});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_TRUE(parser_.help_requested());
  EXPECT_THAT(*pos, ElementsAre("img"));

  ArgParser other("x", "y");
  ASSERT_TRUE(other.Parse({"-h"}).ok());
  EXPECT_TRUE(other.help_requested());
  ArgParser after_dashes("x", "y");
  ASSERT_TRUE(after_dashes.Parse({"--", "--help"}).ok());
  EXPECT_FALSE(after_dashes.help_requested());
}

TEST_F(ArgParserTest, HelpListsEveryOptionWithDefault) {
  parser_.AddEpilog("Exit status: 0 on success.");
  const std::string help = parser_.Help();
  EXPECT_THAT(help, HasSubstr("Usage: ftvm [options] IMAGE..."));
  EXPECT_THAT(help, HasSubstr("Runs a guest."));
  EXPECT_THAT(help, HasSubstr("--kernel PATH"));
  EXPECT_THAT(help, HasSubstr("Guest kernel image. (default: vmlinux)"));
  EXPECT_THAT(help, HasSubstr("--cmdline TEXT"));
  EXPECT_THAT(help, HasSubstr("Kernel command line."));
  EXPECT_THAT(help, HasSubstr("--mem SIZE"));
  EXPECT_THAT(help, HasSubstr("Guest memory size. (default: 256M)"));
  EXPECT_THAT(help, HasSubstr("--verbose"));
  EXPECT_THAT(help, HasSubstr("Log more."));
  EXPECT_THAT(help, HasSubstr("--dry-run"));
  EXPECT_THAT(help, HasSubstr("--help"));
  EXPECT_THAT(help, HasSubstr("Exit status: 0 on success."));
  // Empty defaults (and bools) print no "(default: )".
  EXPECT_THAT(help, ::testing::Not(HasSubstr("(default: )")));
  // Options appear in the order they were added.
  EXPECT_LT(help.find("--kernel"), help.find("--cmdline"));
  EXPECT_LT(help.find("--cmdline"), help.find("--mem"));
  EXPECT_LT(help.find("--mem"), help.find("--verbose"));
}

// ---------------------------------------------------------------------------
// ParseCommandLine, ParseOptions and UsageError: what every tool prints.

TEST_F(ArgParserTest, ParseCommandLinePrintsHelpAndExits0) {
  int exit_code = -1;
  ::testing::internal::CaptureStdout();
  EXPECT_FALSE(ParseCommandLine(parser_, "ftvm x", {"--help"}, &exit_code));
  EXPECT_THAT(::testing::internal::GetCapturedStdout(),
              HasSubstr("Usage: ftvm [options] IMAGE..."));
  EXPECT_EQ(exit_code, 0);
}

TEST_F(ArgParserTest, ParseCommandLineReportsUsageErrors) {
  int exit_code = -1;
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(ParseCommandLine(parser_, "ftvm x", {"--bogus"}, &exit_code));
  // The parser's message already points at --help: once is enough.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "ftvm x: unknown option --bogus (see --help)\n");
  EXPECT_EQ(exit_code, kExitUsage);

  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(ParseCommandLine(parser_, "ftvm x", {"--kernel"}, &exit_code));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "ftvm x: --kernel needs a value (--kernel PATH) (see --help)\n");
  EXPECT_EQ(exit_code, kExitUsage);
}

TEST_F(ArgParserTest, ParseCommandLineReturnsThePositionalArguments) {
  int exit_code = -1;
  std::optional<std::vector<std::string>> pos =
      ParseCommandLine(parser_, "ftvm x", {"a", "--verbose", "b"}, &exit_code);
  ASSERT_TRUE(pos.has_value());
  EXPECT_THAT(*pos, ElementsAre("a", "b"));
  EXPECT_TRUE(f_.verbose);
}

TEST_F(ArgParserTest, ParseOptionsRefusesPositionalArguments) {
  int exit_code = -1;
  EXPECT_TRUE(ParseOptions(parser_, "ftvm x", {"--verbose"}, &exit_code));
  EXPECT_TRUE(f_.verbose);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(ParseOptions(parser_, "ftvm x", {"a", "b"}, &exit_code));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "ftvm x: unexpected argument 'a' (see --help)\n");
  EXPECT_EQ(exit_code, kExitUsage);
}

TEST(UsageErrorTest, NamesTheCommandAndPointsAtHelp) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(UsageError("ftlog dump", "--from 5 is after --to 2"), kExitUsage);
  EXPECT_EQ(UsageError("tool", absl::InvalidArgumentError("bad")), kExitUsage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "ftlog dump: --from 5 is after --to 2 (see --help)\n"
            "tool: bad (see --help)\n");
}

TEST(ArgParserHelpTest, SizeDefaultsAndLongNames) {
  uint64_t odd = 1000, zero = 0;
  std::string s = "x";
  ArgParser p("u", "s");
  p.AddSize("odd", "Odd size.", &odd);
  p.AddSize("zero", "Zero size.", &zero);
  p.AddString("a-very-long-option-name", "VALUE", "Long one.", &s);
  const std::string help = p.Help();
  EXPECT_THAT(help, HasSubstr("Odd size. (default: 1000)"));
  EXPECT_THAT(help, HasSubstr("Zero size. (default: 0"));
  // A long option puts its help on the next, indented line.
  EXPECT_THAT(help, HasSubstr("  --a-very-long-option-name VALUE\n" +
                              std::string(24, ' ') + "Long one. (default: x)"));
}

}  // namespace
}  // namespace ft::cli
