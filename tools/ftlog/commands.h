// The subcommands of `ftlog` and what they share: exit codes, and the
// parsing of a subcommand's options and its FILE argument. main.cc lists the
// subcommands in its command table.
#ifndef FTVM_TOOLS_FTLOG_COMMANDS_H_
#define FTVM_TOOLS_FTLOG_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cli/args.h"

namespace ft::ftlog {

inline constexpr int kExitOk = 0;
// The log could not be read to its end: a missing or unreadable file, not
// a log, a truncated or corrupt log, or one that needs a newer reader.
inline constexpr int kExitBadLog = 1;
inline constexpr int kExitUsage = cli::kExitUsage;

// The exit status part of every subcommand's --help.
inline constexpr char kExitStatusHelp[] =
    "Exit status:\n"
    "  0      the log was read to its end (also when it has no end entry,\n"
    "         i.e. the run was cut short: the output says so)\n"
    "  1      the log could not be read to its end: a missing or unreadable\n"
    "         file, not an execution log, a truncated or corrupt log, or one\n"
    "         that needs a newer reader. What was read before the damage is\n"
    "         printed, then the error (on standard error).\n"
    "  2      bad options (see --help)\n";

// `ftlog dump` and `ftlog stats`: args are those after the subcommand's name.
int RunDump(const std::vector<std::string>& args);
int RunStats(const std::vector<std::string>& args);
// `ftlog replay` (replay.cc; needs /dev/kvm).
int RunReplay(const std::vector<std::string>& args);

// Parses a subcommand's arguments: the options `parser` knows and exactly one
// FILE. Returns the FILE, or nullopt with `*exit_code` set as
// cli::ParseCommandLine sets it (problems are printed as "ftlog COMMAND:
// ...").
std::optional<std::string> ParseArgsAndFile(
    cli::ArgParser& parser, std::string_view command,
    const std::vector<std::string>& args, int* exit_code);

// A decimal uint64 option value ("--from 12"); InvalidArgument naming the
// option otherwise.
absl::StatusOr<uint64_t> ParseCount(std::string_view option,
                                    std::string_view text);

}  // namespace ft::ftlog

#endif  // FTVM_TOOLS_FTLOG_COMMANDS_H_
