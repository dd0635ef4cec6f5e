// Text forms of the execution log's header and entries for `ftlog`: one
// line per entry, `#N kind 0xADDR 0xRIP` then the entry's kind and fields as
// `name=value` (docs/log-format.md, "Inspecting a log").
//
// Stateless functions; any thread.
#ifndef FTVM_TOOLS_FTLOG_FORMAT_H_
#define FTVM_TOOLS_FTLOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "replay/log_entry.h"

namespace ft::ftlog {

// Event data shown without --hex: this many bytes, then "...".
inline constexpr size_t kDataPreviewBytes = 16;

// Lower-case hex, two digits a byte, no separators.
std::string Hex(std::span<const uint8_t> bytes);
// The first `max_bytes` in hex, then "..." if there are more.
std::string HexPreview(std::span<const uint8_t> bytes, size_t max_bytes);
// A double-quoted string with C escapes.
std::string Quote(std::string_view text);

std::string_view ClockSourceName(replay::ClockSource source);
std::string_view OutputKindName(replay::OutputKind kind);
std::string_view EndReasonName(replay::EndReason reason);

// "#12 pio 0x3f8 0x401234": count, exit kind, address, RIP.
std::string FormatPosition(const replay::LogPosition& at);

struct EntryFormat {
  bool full_data = false;  // all of an event's data in hex, not a preview
};

// The entry without its position: "clockRead monotonic 123",
// "asyncEvent source=2 kind=1 length=5 data=0102030405", ...
std::string FormatEntry(const replay::LogEntry& entry,
                        const EntryFormat& format);

// The header as lines without newlines: "header: ...", "guest: ...",
// "kernel: ...", one "disk N: ..." and "nic N: ..." each, "initial state:
// ...", "latency bound: ...".
std::vector<std::string> FormatHeader(const replay::LogHeader& header);

}  // namespace ft::ftlog

#endif  // FTVM_TOOLS_FTLOG_FORMAT_H_
