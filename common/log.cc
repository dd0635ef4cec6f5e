#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ft {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 'D';
    case LogLevel::kInfo:
      return 'I';
    case LogLevel::kWarning:
      return 'W';
    case LogLevel::kError:
      return 'E';
  }
  return '?';
}

}  // namespace

void SetMinLogLevel(LogLevel level) {
  g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  return static_cast<LogLevel>(g_min_level.load(std::memory_order_relaxed));
}

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name) {
  // absl::string_view is not std::string_view in Debian's abseil build.
  const absl::string_view view(name.data(), name.size());
  std::string lower = absl::AsciiStrToLower(view);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level '", view, "' (use debug, info, warning or error)"));
}

namespace internal {

LogLine::LogLine(LogLevel level, const char* file, int line) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm local;
  localtime_r(&ts.tv_sec, &local);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%H:%M:%S", &local);
  const char* base = std::strrchr(file, '/');
  stream_ << LevelLetter(level) << " " << stamp << "."
          << absl::StrCat(absl::Dec(ts.tv_nsec / 1000, absl::kZeroPad6)) << " "
          << (base ? base + 1 : file) << ":" << line << "] ";
}

LogLine::~LogLine() {
  stream_ << '\n';
  std::string text = stream_.str();
  // One write per line: lines from different threads stay whole.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

}  // namespace internal
}  // namespace ft
