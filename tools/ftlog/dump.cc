// `ftlog dump FILE`: the header, then one line per entry.
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/args.h"
#include "tools/ftlog/commands.h"
#include "tools/ftlog/format.h"
#include "tools/ftlog/log_scanner.h"

namespace ft::ftlog {
namespace {

constexpr char kDumpSummary[] =
    "Prints an execution log readably: the header (the recorded machine),\n"
    "then one line per entry in log order:\n"
    "\n"
    "  #N KIND 0xADDR 0xRIP ENTRY FIELDS...\n"
    "\n"
    "N is the position (exits since the start), KIND the exit kind there\n"
    "(pio, mmio, hlt, ...), then the entry: clockRead SOURCE NANOS;\n"
    "asyncEvent source= kind= length= data= (the first 16 bytes in hex, or\n"
    "all with --hex); checkpoint vcpus= pages= gfns=FIRST..LAST frames=;\n"
    "digest registers= memory=; output KIND device= length= hash=; end\n"
    "REASON exit_code= and the final digest. A last line says how the log\n"
    "ends.";

constexpr char kDumpExamples[] =
    "\n"
    "Examples:\n"
    "  ftlog dump run.ftlog\n"
    "  ftlog dump --from 1000 --to 2000 --hex run.ftlog\n"
    "  ftlog dump --limit 20 run.ftlog\n";

void PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace

int RunDump(const std::vector<std::string>& args) {
  std::string from_text;
  std::string to_text;
  std::string limit_text;
  bool hex = false;
  cli::ArgParser parser(
      "ftlog dump [--from N] [--to N] [--limit N] [--hex] FILE", kDumpSummary);
  parser.AddString("from", "N", "Show entries at positions N and later.",
                   &from_text);
  parser.AddString("to", "N",
                   "Show entries at positions up to N (included); reading "
                   "stops past N.",
                   &to_text);
  parser.AddString("limit", "N",
                   "Show at most N entries (of those --from/--to select); "
                   "reading stops after them.",
                   &limit_text);
  parser.AddBool("hex", "Show all of each event's data in hex.", &hex);
  parser.AddEpilog(std::string(kExitStatusHelp) + kDumpExamples);

  int exit_code = kExitOk;
  const std::optional<std::string> file =
      ParseArgsAndFile(parser, "dump", args, &exit_code);
  if (!file.has_value()) return exit_code;

  uint64_t from = 0;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  for (const auto& [name, text, target] :
       {std::tuple{"from", &from_text, &from}, std::tuple{"to", &to_text, &to},
        std::tuple{"limit", &limit_text, &limit}}) {
    if (text->empty()) continue;
    absl::StatusOr<uint64_t> value = ParseCount(name, *text);
    if (!value.ok()) {
      return cli::UsageError("ftlog dump", value.status());
    }
    *target = *value;
  }
  if (from > to) {
    return cli::UsageError(
        "ftlog dump", absl::StrFormat("--from %u is after --to %u", from, to));
  }

  absl::StatusOr<LogScanner> scanner = LogScanner::Open(*file);
  if (!scanner.ok()) {
    std::fprintf(stderr, "ftlog dump: %s\n",
                 std::string(scanner.status().message()).c_str());
    return kExitBadLog;
  }
  for (const std::string& line : FormatHeader(scanner->header())) {
    PrintLine(line);
  }

  const EntryFormat format{.full_data = hex};
  uint64_t read = 0;
  uint64_t shown = 0;
  std::string stopped;  // why reading stopped before the end, if it did
  while (true) {
    absl::StatusOr<std::optional<ScannedEntry>> next = scanner->Next();
    if (!next.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "ftlog dump: %s\n",
                   std::string(next.status().message()).c_str());
      return kExitBadLog;
    }
    if (!next->has_value()) break;
    const ScannedEntry& e = **next;
    ++read;
    const uint64_t position = replay::EntryPosition(e.entry).position.value();
    if (position > to) {  // positions never decrease: nothing more to show
      stopped = absl::StrFormat("past --to %u", to);
      break;
    }
    if (position < from) continue;
    if (shown == limit) {
      stopped = absl::StrFormat("at --limit %u", limit);
      break;
    }
    std::string line =
        absl::StrCat(FormatPosition(replay::EntryPosition(e.entry)), " ",
                     FormatEntry(e.entry, format));
    if (std::holds_alternative<replay::MicroCheckpoint>(e.entry)) {
      absl::StrAppendFormat(&line, " frames=%u", e.frames);
    }
    PrintLine(line);
    ++shown;
  }

  if (!stopped.empty()) {
    PrintLine(absl::StrFormat(
        "stopped %s: %u entries shown; the rest of the log was not read",
        stopped, shown));
    return kExitOk;
  }
  std::string summary = absl::StrFormat("end of log: %u entries in %u bytes",
                                        read, scanner->bytes_decoded());
  if (shown != read) absl::StrAppendFormat(&summary, ", %u shown", shown);
  if (scanner->skipped() > 0) {
    absl::StrAppendFormat(&summary,
                          ", %u entries of unknown kinds skipped (marked "
                          "skippable by a newer writer)",
                          scanner->skipped());
  }
  absl::StrAppend(&summary,
                  scanner->ended()
                      ? "; the run ended (end entry)"
                      : "; no end entry: the run was cut short (the recorder "
                        "stopped before the guest ended)");
  PrintLine(summary);
  return kExitOk;
}

}  // namespace ft::ftlog
