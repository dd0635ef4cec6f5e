#include "tools/ftlog/format.h"

#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "replay/log_validate.h"

namespace ft::ftlog {
namespace {

using replay::AsyncEventEntry;
using replay::EndEntry;
using replay::MicroCheckpoint;
using replay::OutputMarker;
using replay::StateDigest;
using replay::SyncInput;

std::string FormatDigest(const replay::Digest& d) {
  return absl::StrFormat("registers=0x%x memory=0x%x", d.registers_hash,
                         d.memory_hash);
}

std::string FormatSha(const std::vector<uint8_t>& sha) {
  return sha.empty() ? "sha256 not computed" : "sha256 " + Hex(sha);
}

std::string FormatFile(const replay::FileIdentity& f) {
  return absl::StrFormat("%s %u bytes %s", Quote(f.path), f.size_bytes,
                         FormatSha(f.sha256));
}

struct EntryFormatter {
  const EntryFormat& format;

  std::string operator()(const SyncInput& s) const {
    const auto& clock = std::get<replay::ClockRead>(s.value);
    return absl::StrFormat("clockRead %s %d", ClockSourceName(clock.source),
                           clock.nanos);
  }
  std::string operator()(const AsyncEventEntry& e) const {
    std::string out = absl::StrFormat("asyncEvent source=%u kind=%u length=%u",
                                      e.source, e.kind, e.data.size());
    if (!e.data.empty()) {
      absl::StrAppend(&out, " data=",
                      format.full_data ? Hex(e.data)
                                       : HexPreview(e.data, kDataPreviewBytes));
    }
    return out;
  }
  std::string operator()(const MicroCheckpoint& c) const {
    std::string out = absl::StrFormat("checkpoint vcpus=%u pages=%u",
                                      c.vcpus.size(), c.pages.size());
    if (!c.pages.empty()) {
      absl::StrAppendFormat(&out, " gfns=0x%x..0x%x", c.pages.front().gfn,
                            c.pages.back().gfn);
    }
    return out;
  }
  std::string operator()(const StateDigest& d) const {
    return "digest " + FormatDigest(d.digest);
  }
  std::string operator()(const OutputMarker& o) const {
    return absl::StrFormat("output %s device=%u length=%u hash=0x%x",
                           OutputKindName(o.kind), o.device, o.length, o.hash);
  }
  std::string operator()(const EndEntry& e) const {
    std::string out = absl::StrFormat("end %s exit_code=%d",
                                      EndReasonName(e.reason), e.exit_code);
    if (e.final_digest.has_value()) {
      absl::StrAppend(&out, " ", FormatDigest(*e.final_digest));
    } else {
      absl::StrAppend(&out, " digest=none");
    }
    if (!e.detail.empty()) absl::StrAppend(&out, " detail=", Quote(e.detail));
    return out;
  }
};

}  // namespace

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string HexPreview(std::span<const uint8_t> bytes, size_t max_bytes) {
  if (bytes.size() <= max_bytes) return Hex(bytes);
  return Hex(bytes.first(max_bytes)) + "...";
}

std::string Quote(std::string_view text) {
  return absl::StrCat(
      "\"", absl::CHexEscape(absl::string_view(text.data(), text.size())),
      "\"");
}

std::string_view ClockSourceName(replay::ClockSource source) {
  switch (source) {
    case replay::ClockSource::kMonotonic:
      return "monotonic";
    case replay::ClockSource::kRealtime:
      return "realtime";
  }
  return "unknown";
}

std::string_view OutputKindName(replay::OutputKind kind) {
  switch (kind) {
    case replay::OutputKind::kNetPacket:
      return "netPacket";
    case replay::OutputKind::kDiskWrite:
      return "diskWrite";
  }
  return "unknown";
}

std::string_view EndReasonName(replay::EndReason reason) {
  switch (reason) {
    case replay::EndReason::kGuestExit:
      return "guestExit";
    case replay::EndReason::kShutdown:
      return "shutdown";
    case replay::EndReason::kStopped:
      return "stopped";
    case replay::EndReason::kError:
      return "error";
  }
  return "unknown";
}

std::string FormatPosition(const replay::LogPosition& at) {
  return absl::StrFormat("#%u %s 0x%x 0x%x", at.position.value(),
                         replay::ExitKindName(at.exit.kind), at.exit.address,
                         at.exit.rip);
}

std::string FormatEntry(const replay::LogEntry& entry,
                        const EntryFormat& format) {
  return std::visit(EntryFormatter{format}, entry);
}

std::vector<std::string> FormatHeader(const replay::LogHeader& header) {
  const replay::GuestConfig& g = header.guest;
  std::vector<std::string> lines;
  lines.push_back(absl::StrFormat(
      "header: format %u, min reader %u, writer %s", header.format_version,
      header.min_reader_version, Quote(header.writer)));
  lines.push_back(absl::StrFormat(
      "guest: memory %u bytes (%u pages), %u vcpus, %u cpuid entries, "
      "cmdline %s",
      g.memory_bytes, g.memory_bytes / replay::kPageBytes, g.vcpus,
      g.cpuid.size(), Quote(g.cmdline)));
  lines.push_back(g.kernel.path.empty() ? std::string("kernel: none")
                                        : "kernel: " + FormatFile(g.kernel));
  for (size_t i = 0; i < g.disks.size(); ++i) {
    lines.push_back(
        absl::StrFormat("disk %u: %s%s", i, FormatFile(g.disks[i].image),
                        g.disks[i].read_only ? ", read-only" : ", read-write"));
  }
  for (size_t i = 0; i < g.nics.size(); ++i) {
    const auto& m = g.nics[i].mac;
    lines.push_back(absl::StrFormat("nic %u: mac %02x:%02x:%02x:%02x:%02x:%02x",
                                    i, m[0], m[1], m[2], m[3], m[4], m[5]));
  }
  if (const auto* snap =
          std::get_if<replay::SnapshotRef>(&header.initial_state)) {
    lines.push_back(absl::StrFormat("initial state: snapshot %s %s",
                                    Quote(snap->path),
                                    FormatSha(snap->sha256)));
  } else {
    lines.push_back("initial state: boot from the kernel");
  }
  lines.push_back(
      absl::StrFormat("latency bound: %u ns", header.latency_bound_ns));
  return lines;
}

}  // namespace ft::ftlog
