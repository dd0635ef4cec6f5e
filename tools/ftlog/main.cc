// ftlog: inspects ftvm execution logs (docs/log-format.md).
//
//   ftlog dump [--from N] [--to N] [--limit N] [--hex] FILE
//   ftlog stats FILE
//   ftlog replay [--kernel FILE] [--console] FILE
//
// Each subcommand is one row of kCommands: a name, a line for the top-level
// help, and a function taking the arguments after the name and returning
// the exit status (its own --help lists its options and exit codes).

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/ftlog/commands.h"

namespace ft::ftlog {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;  // one line in the top-level help
  int (*run)(const std::vector<std::string>& args);
};

constexpr Command kCommands[] = {
    {"dump", "Print the header and every entry, one entry per line.", RunDump},
    {"stats", "Count entries and bytes per kind, checkpoint, event, output.",
     RunStats},
    {"replay", "Re-execute the recorded run from the log alone and verify it.",
     RunReplay},
};

std::string TopHelp() {
  std::string out =
      "Usage: ftlog COMMAND [OPTIONS] FILE\n"
      "\n"
      "ftlog inspects ftvm execution logs (docs/log-format.md).\n"
      "\n"
      "Commands:\n";
  for (const Command& c : kCommands) {
    absl::StrAppendFormat(&out, "  %-10s %s\n", c.name, c.summary);
  }
  absl::StrAppend(&out,
                  "\n"
                  "Run 'ftlog COMMAND --help' for the options and exit codes "
                  "of a command.\n");
  return out;
}

}  // namespace
}  // namespace ft::ftlog

int main(int argc, char** argv) {
  using ft::ftlog::kCommands;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    std::fputs(ft::ftlog::TopHelp().c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? ft::ftlog::kExitUsage : ft::ftlog::kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  for (const ft::ftlog::Command& c : kCommands) {
    if (c.name == command) return c.run(args);
  }
  std::fprintf(stderr, "ftlog: unknown command '%s'\n\n%s", command.c_str(),
               ft::ftlog::TopHelp().c_str());
  return ft::ftlog::kExitUsage;
}
