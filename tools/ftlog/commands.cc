#include "tools/ftlog/commands.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ft::ftlog {

std::optional<std::string> ParseArgsAndFile(
    cli::ArgParser& parser, std::string_view command,
    const std::vector<std::string>& args, int* exit_code) {
  const std::string name =
      absl::StrCat("ftlog ", absl::string_view(command.data(), command.size()));
  std::optional<std::vector<std::string>> rest =
      cli::ParseCommandLine(parser, name, args, exit_code);
  if (!rest.has_value()) return std::nullopt;
  if (rest->size() == 1) return rest->front();
  *exit_code = cli::UsageError(
      name, rest->empty() ? std::string("FILE is required")
                          : absl::StrCat("unexpected argument '", (*rest)[1],
                                         "': one FILE only"));
  return std::nullopt;
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
