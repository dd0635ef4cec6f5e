#include "replay/log_entry.h"

namespace ft::replay {

const LogPosition& EntryPosition(const LogEntry& entry) {
  return std::visit([](const auto& e) -> const LogPosition& { return e.at; },
                    entry);
}

const char* EntryKindName(const LogEntry& entry) {
  struct Namer {
    const char* operator()(const SyncInput&) const { return "clockRead"; }
    const char* operator()(const AsyncEventEntry&) const {
      return "asyncEvent";
    }
    const char* operator()(const MicroCheckpoint&) const {
      return "checkpoint";
    }
    const char* operator()(const StateDigest&) const { return "digest"; }
    const char* operator()(const OutputMarker&) const { return "output"; }
    const char* operator()(const EndEntry&) const { return "end"; }
  };
  return std::visit(Namer{}, entry);
}

}  // namespace ft::replay
