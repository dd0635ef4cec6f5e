// A small leveled logger writing whole lines to stderr.
//
// Lines are written with one write(2) each so that lines from different
// threads never interleave. The minimum level is process-wide configuration
// set once at start-up by a tool's main(); everything else takes what it
// needs explicitly.
#ifndef FTVM_COMMON_LOG_H_
#define FTVM_COMMON_LOG_H_

#include <sstream>
#include <string_view>

#include "absl/status/statusor.h"

namespace ft {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
// Parses "debug", "info", "warning", "error".
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name);

namespace internal {

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

}  // namespace internal
}  // namespace ft

// FT_LOG(kInfo) << "text";  The message is only built when the level is on.
#define FT_LOG(level)                                \
  if (::ft::LogLevel::level < ::ft::MinLogLevel()) { \
  } else                                             \
    ::ft::internal::LogLine(::ft::LogLevel::level, __FILE__, __LINE__).stream()

#endif  // FTVM_COMMON_LOG_H_
