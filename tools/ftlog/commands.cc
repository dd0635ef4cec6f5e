#include "tools/ftlog/commands.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ft::ftlog {

std::optional<std::string> ParseArgsAndFile(
    cli::ArgParser& parser, std::string_view command,
    const std::vector<std::string>& args, int* exit_code) {
  const std::string name(command);
  absl::StatusOr<std::vector<std::string>> rest = parser.Parse(args);
  if (parser.help_requested()) {
    std::fputs(parser.Help().c_str(), stdout);
    *exit_code = kExitOk;
    return std::nullopt;
  }
  *exit_code = kExitUsage;
  if (!rest.ok()) {
    std::fprintf(stderr, "ftlog %s: %s\n", name.c_str(),
                 std::string(rest.status().message()).c_str());
    return std::nullopt;
  }
  if (rest->empty()) {
    std::fprintf(stderr, "ftlog %s: FILE is required (see --help)\n",
                 name.c_str());
    return std::nullopt;
  }
  if (rest->size() > 1) {
    std::fprintf(stderr,
                 "ftlog %s: unexpected argument '%s': one FILE only (see "
                 "--help)\n",
                 name.c_str(), (*rest)[1].c_str());
    return std::nullopt;
  }
  return (*rest)[0];
}

absl::StatusOr<uint64_t> ParseCount(std::string_view option,
                                    std::string_view text) {
  uint64_t value = 0;
  const absl::string_view t(text.data(), text.size());
  if (t.empty() || t[0] == '-' || t[0] == '+' || !absl::SimpleAtoi(t, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", absl::string_view(option.data(), option.size()),
                     ": '", t, "' is not a non-negative whole number"));
  }
  return value;
}

}  // namespace ft::ftlog
