// `ftlog stats FILE`: where the bytes of a log go, by entry kind, and
// summaries of its checkpoints, asynchronous events and outputs.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
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

constexpr char kStatsSummary[] =
    "Summarises an execution log: its size (the header frame and the\n"
    "entries), the positions it covers and how it ends; per entry kind the\n"
    "count, the frames and the bytes on disk (each entry's own frames, the\n"
    "12-byte frame headers included; a checkpoint split across frames is\n"
    "charged all of them); the micro-checkpoints' pages and bytes (total,\n"
    "mean, max); asynchronous events per source and kind, and outputs per\n"
    "kind, with counts, payload bytes and bytes on disk.\n"
    "\n"
    "The log records no wall-clock time (positions count exits), so no\n"
    "duration is shown.";

constexpr char kStatsExamples[] =
    "\n"
    "Example:\n"
    "  ftlog stats run.ftlog\n";

struct Counter {
  uint64_t count = 0;
  uint64_t frames = 0;
  uint64_t bytes = 0;  // on disk
};

struct PayloadCounter {
  uint64_t count = 0;
  uint64_t payload_bytes = 0;  // event data, or output length
  uint64_t bytes = 0;          // on disk
};

static_assert(std::variant_size_v<replay::LogEntry> == 6,
              "a new entry kind: name it in kKindNames");
// Entry kinds in the order of the schema's union (the index into LogEntry).
constexpr std::array<const char*, std::variant_size_v<replay::LogEntry>>
    kKindNames = {"clockRead", "asyncEvent", "checkpoint",
                  "digest",    "output",     "end"};

class LogStats {
 public:
  void Add(const ScannedEntry& e) {
    Counter& kind = kinds_[e.entry.index()];
    ++kind.count;
    kind.frames += e.frames;
    kind.bytes += e.bytes;
    const uint64_t position = replay::EntryPosition(e.entry).position.value();
    if (entries_ == 0) first_ = position;
    if (entries_ == 0 || position != last_) ++distinct_positions_;
    last_ = position;
    ++entries_;
    if (const auto* c = std::get_if<replay::MicroCheckpoint>(&e.entry)) {
      pages_ += c->pages.size();
      max_pages_ = std::max<uint64_t>(max_pages_, c->pages.size());
      max_checkpoint_bytes_ = std::max(max_checkpoint_bytes_, e.bytes);
    } else if (const auto* a = std::get_if<replay::AsyncEventEntry>(&e.entry)) {
      PayloadCounter& p = events_[{a->source, a->kind}];
      ++p.count;
      p.payload_bytes += a->data.size();
      p.bytes += e.bytes;
    } else if (const auto* o = std::get_if<replay::OutputMarker>(&e.entry)) {
      PayloadCounter& p = outputs_[static_cast<size_t>(o->kind)];
      ++p.count;
      p.payload_bytes += o->length;
      p.bytes += e.bytes;
    } else if (const auto* end = std::get_if<replay::EndEntry>(&e.entry)) {
      end_ = *end;
    }
  }

  // `file_bytes`: the file's size; `error`: the entries stopped at an error.
  void Print(const std::string& path, const LogScanner& scanner,
             uint64_t file_bytes, bool error) const {
    Counter total;
    for (const Counter& k : kinds_) {
      total.count += k.count;
      total.frames += k.frames;
      total.bytes += k.bytes;
    }
    std::printf("log: %s\n", path.c_str());
    std::string bytes =
        absl::StrFormat("bytes: %u = header %u + entries %u", file_bytes,
                        scanner.header_bytes(), total.bytes);
    if (scanner.skipped_bytes() > 0) {
      absl::StrAppendFormat(&bytes, " + skipped %u", scanner.skipped_bytes());
    }
    const uint64_t accounted =
        scanner.header_bytes() + total.bytes + scanner.skipped_bytes();
    if (file_bytes > accounted) {
      absl::StrAppendFormat(&bytes, " + unread %u", file_bytes - accounted);
    }
    std::printf("%s\n", bytes.c_str());
    std::printf("entries: %llu in %llu frames\n", Ull(total.count),
                Ull(total.frames));
    if (scanner.skipped() > 0) {
      std::printf(
          "skipped: %llu entries of kinds this reader does not know, marked "
          "skippable by their writer\n",
          Ull(scanner.skipped()));
    }
    if (entries_ == 0) {
      std::printf("positions: none\n");
    } else {
      std::printf("positions: #%llu..#%llu, %llu with entries\n", Ull(first_),
                  Ull(last_), Ull(distinct_positions_));
    }
    if (end_.has_value()) {
      std::printf("end: %s exit_code=%d at #%llu\n",
                  std::string(EndReasonName(end_->reason)).c_str(),
                  end_->exit_code, Ull(end_->at.position.value()));
    } else if (error) {
      std::printf("end: not reached: the log is unreadable past byte %llu\n",
                  Ull(scanner.bytes_decoded()));
    } else {
      std::printf(
          "end: none: the log has no end entry (the run was cut short)\n");
    }
    std::printf("time: not recorded (positions count exits)\n");

    std::printf("\n%-12s %10s %10s %14s\n", "kind", "count", "frames", "bytes");
    for (size_t i = 0; i < kinds_.size(); ++i) {
      std::printf("%-12s %10llu %10llu %14llu\n", kKindNames[i],
                  Ull(kinds_[i].count), Ull(kinds_[i].frames),
                  Ull(kinds_[i].bytes));
    }
    std::printf("%-12s %10llu %10llu %14llu\n", "total", Ull(total.count),
                Ull(total.frames), Ull(total.bytes));

    const Counter& cps = kinds_[kCheckpointIndex];
    std::printf("\ncheckpoints: %llu\n", Ull(cps.count));
    if (cps.count > 0) {
      std::printf("  pages: total %llu mean %.1f max %llu\n", Ull(pages_),
                  static_cast<double>(pages_) / static_cast<double>(cps.count),
                  Ull(max_pages_));
      std::printf(
          "  bytes: total %llu mean %.1f max %llu\n", Ull(cps.bytes),
          static_cast<double>(cps.bytes) / static_cast<double>(cps.count),
          Ull(max_checkpoint_bytes_));
    }

    std::printf("\nasync events: %llu\n", Ull(kinds_[kEventIndex].count));
    if (!events_.empty()) {
      std::printf("  %8s %8s %10s %14s %14s\n", "source", "kind", "count",
                  "data bytes", "bytes");
      for (const auto& [key, p] : events_) {
        std::printf("  %8u %8u %10llu %14llu %14llu\n", key.first, key.second,
                    Ull(p.count), Ull(p.payload_bytes), Ull(p.bytes));
      }
    }

    std::printf("\noutputs: %llu\n", Ull(kinds_[kOutputIndex].count));
    if (kinds_[kOutputIndex].count > 0) {
      std::printf("  %-10s %10s %14s %14s\n", "kind", "count", "output bytes",
                  "bytes");
      for (size_t i = 0; i < outputs_.size(); ++i) {
        const PayloadCounter& p = outputs_[i];
        if (p.count == 0) continue;
        std::printf(
            "  %-10s %10llu %14llu %14llu\n",
            std::string(OutputKindName(static_cast<replay::OutputKind>(i)))
                .c_str(),
            Ull(p.count), Ull(p.payload_bytes), Ull(p.bytes));
      }
    }
  }

 private:
  static unsigned long long Ull(uint64_t v) {
    return static_cast<unsigned long long>(v);
  }
  static constexpr size_t kEventIndex = 1;
  static constexpr size_t kCheckpointIndex = 2;
  static constexpr size_t kOutputIndex = 4;
  static_assert(
      std::is_same_v<std::variant_alternative_t<kEventIndex, replay::LogEntry>,
                     replay::AsyncEventEntry>);
  static_assert(std::is_same_v<
                std::variant_alternative_t<kCheckpointIndex, replay::LogEntry>,
                replay::MicroCheckpoint>);
  static_assert(
      std::is_same_v<std::variant_alternative_t<kOutputIndex, replay::LogEntry>,
                     replay::OutputMarker>);

  std::array<Counter, std::variant_size_v<replay::LogEntry>> kinds_{};
  uint64_t entries_ = 0;
  uint64_t first_ = 0;
  uint64_t last_ = 0;
  uint64_t distinct_positions_ = 0;
  uint64_t pages_ = 0;
  uint64_t max_pages_ = 0;
  uint64_t max_checkpoint_bytes_ = 0;
  std::map<std::pair<uint32_t, uint32_t>, PayloadCounter> events_;
  std::array<PayloadCounter, 2> outputs_{};  // by replay::OutputKind
  std::optional<replay::EndEntry> end_;
};

}  // namespace

int RunStats(const std::vector<std::string>& args) {
  cli::ArgParser parser("ftlog stats FILE", kStatsSummary);
  parser.AddEpilog(std::string(kExitStatusHelp) + kStatsExamples);
  int exit_code = kExitOk;
  const std::optional<std::string> file =
      ParseArgsAndFile(parser, "stats", args, &exit_code);
  if (!file.has_value()) return exit_code;

  absl::StatusOr<LogScanner> scanner = LogScanner::Open(*file);
  if (!scanner.ok()) {
    std::fprintf(stderr, "ftlog stats: %s\n",
                 std::string(scanner.status().message()).c_str());
    return kExitBadLog;
  }
  LogStats stats;
  absl::Status error;
  while (true) {
    absl::StatusOr<std::optional<ScannedEntry>> next = scanner->Next();
    if (!next.ok()) {
      error = next.status();
      break;
    }
    if (!next->has_value()) break;
    stats.Add(**next);
  }
  // The size now, after reading: a log still being written has grown.
  struct stat st {};
  const uint64_t file_bytes = ::stat(file->c_str(), &st) == 0
                                  ? static_cast<uint64_t>(st.st_size)
                                  : scanner->bytes_decoded();
  stats.Print(*file, *scanner, file_bytes, !error.ok());
  if (!error.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "ftlog stats: %s\n",
                 std::string(error.message()).c_str());
    return kExitBadLog;
  }
  return kExitOk;
}

}  // namespace ft::ftlog
