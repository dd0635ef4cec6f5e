#include "replay/position.h"

#include <cinttypes>

#include "absl/strings/str_format.h"

namespace ft::replay {

std::string_view ExitKindName(ExitKind kind) {
  switch (kind) {
    case ExitKind::kStart:
      return "start";
    case ExitKind::kPio:
      return "pio";
    case ExitKind::kMmio:
      return "mmio";
    case ExitKind::kHlt:
      return "hlt";
    case ExitKind::kIrqWindow:
      return "irqWindow";
    case ExitKind::kCheckpoint:
      return "checkpoint";
    case ExitKind::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

std::string ExitSignature::ToString() const {
  const std::string_view name = ExitKindName(kind);
  const absl::string_view n(name.data(), name.size());
  if (kind == ExitKind::kPio || kind == ExitKind::kMmio || address != 0) {
    return absl::StrFormat("%s 0x%x at rip 0x%x", n, address, rip);
  }
  return absl::StrFormat("%s at rip 0x%x", n, rip);
}

std::string LogPosition::ToString() const {
  return absl::StrFormat("#%u (%s)", position.value(), exit.ToString());
}

}  // namespace ft::replay
