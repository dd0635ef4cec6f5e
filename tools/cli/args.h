// A small command-line parser shared by ftvm's tools: `--name value`,
// `--name=value`, boolean `--name`, positional arguments, and generated
// `--help` text. Tools describe every option once, with its help.
#ifndef FTVM_TOOLS_CLI_ARGS_H_
#define FTVM_TOOLS_CLI_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ft::cli {

// The exit status of every tool for bad options.
inline constexpr int kExitUsage = 2;

// Parses a byte size: a number with an optional K, M, G or T suffix (powers
// of 1024, case-insensitive, optional trailing "iB"/"B"): "256M", "1GiB",
// "4096".
absl::StatusOr<uint64_t> ParseSize(std::string_view text);

class ArgParser {
 public:
  // `usage` is the synopsis line, `summary` a paragraph under it.
  ArgParser(std::string usage, std::string summary);

  // An option taking a value; `*target` holds the default and is
  // overwritten when the option is given.
  void AddString(std::string name, std::string value_name, std::string help,
                 std::string* target);
  // An option that may be given several times; each value is appended.
  void AddStringList(std::string name, std::string value_name, std::string help,
                     std::vector<std::string>* target);
  void AddSize(std::string name, std::string help, uint64_t* target);
  void AddBool(std::string name, std::string help, bool* target);
  // Free text appended to --help (examples, exit codes).
  void AddEpilog(std::string text) { epilog_ = std::move(text); }

  // Parses args (without the program name). Returns the positional
  // arguments. --help sets help_requested() instead of failing.
  absl::StatusOr<std::vector<std::string>> Parse(
      const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

 private:
  enum class Kind { kString, kStringList, kSize, kBool };
  struct Option {
    std::string name;
    std::string value_name;
    std::string help;
    Kind kind;
    void* target;
    std::string default_text;
  };
  absl::Status Apply(const Option& opt, std::string_view value);
  const Option* Find(std::string_view name) const;

  std::string usage_;
  std::string summary_;
  std::string epilog_;
  std::vector<Option> options_;
  bool help_requested_ = false;
};

// Reports a usage error the way every tool does: "COMMAND: WHY (see --help)"
// on stderr (the hint once, if WHY has none). Returns kExitUsage.
int UsageError(std::string_view command, std::string_view why);
// The same with WHY the status's message.
int UsageError(std::string_view command, const absl::Status& why);

// Parses a command's arguments with `parser`. Returns the positional
// arguments, or nullopt with `*exit_code` set: 0 after printing --help to
// stdout, kExitUsage after printing the problem as UsageError does.
// `command` names the tool in messages ("ftvm secondary", "ftlog dump").
std::optional<std::vector<std::string>> ParseCommandLine(
    ArgParser& parser, std::string_view command,
    const std::vector<std::string>& args, int* exit_code);

// ParseCommandLine for a command that takes options only: a positional
// argument is a usage error. Returns false with `*exit_code` set when the
// command is to exit.
bool ParseOptions(ArgParser& parser, std::string_view command,
                  const std::vector<std::string>& args, int* exit_code);

}  // namespace ft::cli

#endif  // FTVM_TOOLS_CLI_ARGS_H_
