// Positions: the points of a guest's execution where the log says something
// happens (docs/log-format.md, "Positions").
//
// A position is a guest-initiated exit (port I/O, MMIO, HLT, interrupt
// window) or a micro-checkpoint; these happen at the same instruction on
// every run of the same guest with the same inputs. `Position` counts them
// from the start of the run; `ExitSignature` is what replay compares with
// its own exit there to catch divergence early.
//
// Plain values; any thread.
#ifndef FTVM_REPLAY_POSITION_H_
#define FTVM_REPLAY_POSITION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/strong_types.h"

namespace ft::replay {

struct PositionTag {};
// The number of positions passed since the start of the run, the current
// one included: 0 is the start, the first exit is 1. A micro-checkpoint
// counts as a position.
using Position = StrongInt<PositionTag, uint64_t>;

// Which kind of exit a position is. The values are the schema's ExitKind
// enumerants (schema/ftlog.capnp); new kinds go at the end.
enum class ExitKind : uint8_t {
  kStart = 0,       // the start of the run (Position 0 only)
  kPio = 1,         // address: the port
  kMmio = 2,        // address: the guest physical address
  kHlt = 3,         // address: 0
  kIrqWindow = 4,   // address: 0
  kCheckpoint = 5,  // a micro-checkpoint; address: 0
  kShutdown = 6,    // triple fault; address: 0
};
inline constexpr ExitKind kLastExitKind = ExitKind::kShutdown;

// "pio", "mmio", ... as in the schema.
std::string_view ExitKindName(ExitKind kind);

// What identifies an exit beyond its count.
struct ExitSignature {
  ExitKind kind = ExitKind::kStart;
  uint64_t address = 0;  // per kind (see ExitKind)
  uint64_t rip = 0;      // the guest RIP of the exiting instruction

  bool operator==(const ExitSignature&) const = default;
  // "pio 0x3f8 at rip 0x401234", "hlt at rip 0x1000".
  std::string ToString() const;
};

// A position and its signature: where a log entry applies.
struct LogPosition {
  Position position;
  ExitSignature exit;

  bool operator==(const LogPosition&) const = default;
  // "#12 (pio 0x3f8 at rip 0x401234)".
  std::string ToString() const;
};

}  // namespace ft::replay

#endif  // FTVM_REPLAY_POSITION_H_
