#include "replay/replayer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "replay/log_validate.h"
#include "replay/machine_state.h"
#include "replay/recorder.h"

namespace ft::replay {
namespace {

const char* ClockName(ClockSource c) {
  return c == ClockSource::kMonotonic ? "monotonic" : "realtime";
}

}  // namespace

std::string Replayer::Stats::ToString() const {
  return absl::StrFormat(
      "replayed %u positions: %u clock reads, %u events, %u "
      "micro-checkpoints (%u pages), %u outputs and %u state digests checked",
      positions, clock_reads, events, checkpoints, checkpoint_pages, outputs,
      digests);
}

void Replayer::Stats::Add(const Stats& later) {
  positions = later.positions;
  clock_reads += later.clock_reads;
  events += later.events;
  checkpoints += later.checkpoints;
  checkpoint_pages += later.checkpoint_pages;
  outputs += later.outputs;
  digests += later.digests;
}

std::string Divergence::ToString() const {
  return absl::StrFormat("divergence at %s: %s", at.ToString(), what);
}

const LogEntry* Replayer::Peek() {
  if (next_) return &*next_;
  if (log_done_) return nullptr;
  absl::StatusOr<std::optional<LogEntry>> e = reader_.Next();
  if (!e.ok()) {
    log_done_ = true;
    if (!divergence_) {
      divergence_ = Divergence{.at = at_,
                               .what = "the log cannot be read further: " +
                                       std::string(e.status().message()),
                               .log_ended = true};
    }
    return nullptr;
  }
  if (!e->has_value()) {
    log_done_ = true;
    return nullptr;
  }
  next_ = std::move(**e);
  return &*next_;
}

absl::Status Replayer::Diverge(const LogPosition& at, std::string what) {
  if (!divergence_) divergence_ = Divergence{.at = at, .what = std::move(what)};
  return absl::AbortedError(divergence_->ToString());
}

void Replayer::MoveTo(const LogPosition& at) {
  at_ = at;
  stats_.positions = at.position.value();
  position_.store(stats_.positions, std::memory_order_relaxed);
}

absl::Status Replayer::OnExit(const vmm::ExitPoint& exit) {
  MoveTo(ToLogPosition(exit));
  if (divergence_) return absl::AbortedError(divergence_->ToString());
  const LogEntry* next = Peek();
  if (next == nullptr) {
    if (divergence_) return absl::AbortedError(divergence_->ToString());
    // The log ends before the run does: never run past it.
    absl::Status s =
        Diverge(at_, "the log ends before this exit (it was cut short)");
    divergence_->log_ended = true;
    return s;
  }
  const LogPosition& logged = EntryPosition(*next);
  if (logged.position < at_.position) {
    return Diverge(at_,
                   absl::StrFormat("the run passed %s without stopping there",
                                   logged.ToString()));
  }
  if (logged.position == at_.position && !(logged.exit == at_.exit)) {
    return Diverge(
        at_, absl::StrFormat("exit: the log has %s, the run %s",
                             logged.exit.ToString(), at_.exit.ToString()));
  }
  return absl::OkStatus();
}

int64_t Replayer::OnClockRead(vmm::HostClock clock, int64_t live) {
  if (divergence_) return live;
  const LogEntry* next = Peek();
  const auto* input = next ? std::get_if<SyncInput>(next) : nullptr;
  const auto* read = input ? std::get_if<ClockRead>(&input->value) : nullptr;
  const auto source = static_cast<ClockSource>(clock);
  if (read == nullptr || input->at.position != at_.position ||
      read->source != source) {
    Diverge(at_, absl::StrFormat(
                     "a %s clock read that the log does not have here (next "
                     "entry: %s at %s)",
                     ClockName(source), next ? EntryKindName(*next) : "none",
                     next ? EntryPosition(*next).ToString() : "-"))
        .IgnoreError();
    return live;
  }
  const int64_t value = read->nanos;
  Pop();
  ++stats_.clock_reads;
  return value;
}

void Replayer::OnOutput(vmm::OutputKind kind, uint32_t device,
                        std::span<const uint8_t> bytes) {
  if (divergence_) return;
  const LogEntry* next = Peek();
  const auto* marker = next ? std::get_if<OutputMarker>(next) : nullptr;
  const auto want_kind = static_cast<OutputKind>(kind);
  const char* what =
      want_kind == OutputKind::kNetPacket ? "a sent frame" : "a disk write";
  if (marker == nullptr || marker->at.position != at_.position) {
    Diverge(at_, absl::StrFormat("%s of %u bytes that the log does not have "
                                 "here (next entry: %s at %s)",
                                 what, bytes.size(),
                                 next ? EntryKindName(*next) : "none",
                                 next ? EntryPosition(*next).ToString() : "-"))
        .IgnoreError();
    return;
  }
  if (marker->kind != want_kind || marker->device != device ||
      marker->length != bytes.size() || marker->hash != OutputHash(bytes)) {
    Diverge(at_, absl::StrFormat("%s on device %u differs from the recorded "
                                 "output (%u bytes, hash %016x; replayed %u "
                                 "bytes, hash %016x)",
                                 what, device, marker->length, marker->hash,
                                 bytes.size(), OutputHash(bytes)))
        .IgnoreError();
    return;
  }
  Pop();
  ++stats_.outputs;
}

absl::Status Replayer::CheckDigestAt(vmm::ExecutionContext& ctx) {
  const LogEntry* next = Peek();
  const auto* digest = next ? std::get_if<StateDigest>(next) : nullptr;
  if (digest == nullptr || digest->at.position != at_.position) {
    return absl::OkStatus();
  }
  FT_ASSIGN_OR_RETURN(vmm::VcpuSnapshot vcpu, ctx.SaveVcpu());
  const Digest now = MachineDigest(vcpu, ctx.memory());
  if (!(now == digest->digest)) {
    return Diverge(
        at_, absl::StrFormat("state digest: recorded registers %016x memory "
                             "%016x, replayed registers %016x memory %016x",
                             digest->digest.registers_hash,
                             digest->digest.memory_hash, now.registers_hash,
                             now.memory_hash));
  }
  Pop();
  ++stats_.digests;
  return absl::OkStatus();
}

absl::Status Replayer::DeliverEventsAt(vmm::ExecutionContext& ctx) {
  while (const LogEntry* next = Peek()) {
    const auto* event = std::get_if<AsyncEventEntry>(next);
    if (event == nullptr || event->at.position != at_.position) break;
    vmm::AsyncEvent e{
        .source = event->source, .kind = event->kind, .data = event->data};
    if (!ctx.Deliver(e)) {
      return Diverge(
          at_, absl::StrFormat("the log delivers an event from source %u, "
                               "which this machine does not have",
                               event->source));
    }
    ++stats_.events;
    Pop();
  }
  return absl::OkStatus();
}

absl::Status Replayer::ApplyCheckpoint(vmm::ExecutionContext& ctx,
                                       const MicroCheckpoint& cp) {
  if (cp.vcpus.size() != 1) {
    return Diverge(cp.at, absl::StrFormat("checkpoint of %u vCPUs; this "
                                          "machine has one",
                                          cp.vcpus.size()));
  }
  if (cp.full) {
    ctx.SetPosition(cp.at.position.value());
  } else {
    ctx.AdvancePosition();
  }
  MoveTo(cp.at);
  FT_ASSIGN_OR_RETURN(vmm::VcpuSnapshot vcpu, ctx.SaveVcpu());
  if (absl::Status s = FromLogVcpu(cp.vcpus[0], vcpu); !s.ok()) {
    return Diverge(cp.at, std::string(s.message()));
  }
  FT_RETURN_IF_ERROR(ctx.RestoreVcpu(vcpu));
  if (cp.full) {
    // Pages the checkpoint does not list are zero.
    uint64_t next_gfn = 0;
    for (const DirtyPage& page : cp.pages) {
      if (page.gfn > next_gfn) {
        FT_RETURN_IF_ERROR(ctx.memory().Fill(
            Gpa(next_gfn * kPageBytes), (page.gfn - next_gfn) * kPageBytes, 0));
      }
      next_gfn = page.gfn + 1;
    }
    const uint64_t pages = ctx.memory().size() / kPageBytes;
    if (pages > next_gfn) {
      FT_RETURN_IF_ERROR(ctx.memory().Fill(Gpa(next_gfn * kPageBytes),
                                           (pages - next_gfn) * kPageBytes, 0));
    }
  }
  for (const DirtyPage& page : cp.pages) {
    FT_RETURN_IF_ERROR(
        ctx.memory().Write(Gpa(page.gfn * kPageBytes), page.bytes));
  }
  if (cp.full) {
    vmm::DevicesSnapshot devices{.halted = cp.halted};
    for (const DeviceState& d : cp.devices) {
      devices.devices.push_back({.name = d.name, .state = d.state});
    }
    if (absl::Status s = ctx.RestoreDevices(devices); !s.ok()) {
      return Diverge(cp.at, absl::StrCat("the full checkpoint's device state "
                                         "does not restore: ",
                                         s.message()));
    }
  }
  ++stats_.checkpoints;
  stats_.checkpoint_pages += cp.pages.size();
  return absl::OkStatus();
}

bool Replayer::CheckpointNext(uint64_t position) {
  const LogEntry* next = Peek();
  const auto* cp = next ? std::get_if<MicroCheckpoint>(next) : nullptr;
  return cp != nullptr && !cp->full && cp->at.position.value() == position + 1;
}

bool Replayer::FullCheckpointNext() {
  const LogEntry* next = Peek();
  const auto* cp = next ? std::get_if<MicroCheckpoint>(next) : nullptr;
  return cp != nullptr && cp->full;
}

bool Replayer::EnterGuest(vmm::ExecutionContext& ctx) {
  return divergence_.has_value() || !CheckpointNext(ctx.position());
}

absl::Status Replayer::BeforeEntry(vmm::ExecutionContext& ctx,
                                   bool at_position) {
  if (divergence_) return absl::AbortedError(divergence_->ToString());
  // A log that starts with a full checkpoint: the machine becomes that one
  // before the guest runs.
  bool restarted = false;
  if (!started_) {
    if (header().format_version < kFirstReplayableFormat) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the log is of format %u (written by %s); this replayer replays "
          "format %u and later: older recorders logged interrupt-window "
          "exits, which do not replay reliably",
          header().format_version, header().writer, kFirstReplayableFormat));
    }
    started_ = true;
    if (FullCheckpointNext()) {
      MicroCheckpoint full = std::move(std::get<MicroCheckpoint>(*next_));
      Pop();
      FT_RETURN_IF_ERROR(ApplyCheckpoint(ctx, full));
      started_from_full_ = restarted = true;
    }
  }
  // Not at a position: the round after EnterGuest said no, where the
  // recorded vCPU was kicked out. Apply what it had done by then instead of
  // running, then deliver what came there.
  if (restarted) {
    // The checkpoint's own events follow; no digest is due at it.
  } else if (!at_position && CheckpointNext(ctx.position())) {
    MicroCheckpoint checkpoint = std::move(std::get<MicroCheckpoint>(*next_));
    Pop();
    FT_RETURN_IF_ERROR(ApplyCheckpoint(ctx, checkpoint));
  } else if (at_position) {
    FT_RETURN_IF_ERROR(CheckDigestAt(ctx));
  }
  FT_RETURN_IF_ERROR(DeliverEventsAt(ctx));
  if (divergence_) return absl::AbortedError(divergence_->ToString());
  // A full checkpoint follows: everything before it is replayed, and it
  // replaces the whole machine, so the run ends here and the caller starts
  // the next from it.
  if (FullCheckpointNext()) {
    full_next_ = true;
    ctx.EndRun(absl::StrFormat("a full checkpoint follows %s", at_.ToString()));
    return absl::OkStatus();
  }
  // The recording was stopped by its operator after this position: what
  // the guest did between here and the stop left no trace, so the replay
  // ends here too.
  if (const LogEntry* next = Peek()) {
    const auto* end = std::get_if<EndEntry>(next);
    if (end != nullptr && end->reason == EndReason::kStopped &&
        end->at.position == at_.position) {
      ctx.EndRun(absl::StrFormat("the recording was stopped after %s",
                                 at_.ToString()));
      return absl::OkStatus();
    }
  }
  // Entries left at this position that nothing consumed (e.g. a clock read
  // the replayed devices did not make) are a divergence.
  if (const LogEntry* next = Peek();
      next != nullptr && EntryPosition(*next).position == at_.position &&
      !std::holds_alternative<EndEntry>(*next)) {
    return Diverge(at_, absl::StrFormat("the log has a %s here that the run "
                                        "did not consume",
                                        EntryKindName(*next)));
  }
  return absl::OkStatus();
}

void Replayer::OnFinish(vmm::ExecutionContext& ctx, vmm::FinishReason reason,
                        uint32_t exit_code) {
  absl::StatusOr<vmm::VcpuSnapshot> vcpu = ctx.SaveVcpu();
  if (vcpu.ok()) digest_ = MachineDigest(*vcpu, ctx.memory());
  if (divergence_ || full_next_) return;
  const LogEntry* next = Peek();
  const auto* end = next ? std::get_if<EndEntry>(next) : nullptr;
  if (end == nullptr) {
    Diverge(at_, next ? absl::StrFormat("the run ended, the log goes on with "
                                        "%s at %s",
                                        EntryKindName(*next),
                                        EntryPosition(*next).ToString())
                      : std::string("the log has no end entry (the recording "
                                    "was cut short)"))
        .IgnoreError();
    return;
  }
  end_ = *end;
  Pop();
  if (end->at.position != at_.position) {
    Diverge(at_, absl::StrFormat("the run ended here, the recording at %s",
                                 end->at.ToString()))
        .IgnoreError();
  } else if (end->reason == EndReason::kStopped &&
             reason == vmm::FinishReason::kStopped) {
    // Stopped by the operator: the recorded digest was taken wherever the
    // guest had run to by then, past the last position; not comparable.
    completed_ = true;
  } else if (end->reason != ToEndReason(reason) ||
             end->exit_code != static_cast<int32_t>(exit_code)) {
    Diverge(at_,
            absl::StrFormat("the run ended with reason %d code %u, the "
                            "recording with reason %d code %d",
                            static_cast<int>(ToEndReason(reason)), exit_code,
                            static_cast<int>(end->reason), end->exit_code))
        .IgnoreError();
  } else if (end->final_digest && digest_ &&
             !(*end->final_digest == *digest_)) {
    Diverge(
        at_,
        absl::StrFormat(
            "final state digest: recorded registers %016x memory %016x, "
            "replayed registers %016x memory %016x",
            end->final_digest->registers_hash, end->final_digest->memory_hash,
            digest_->registers_hash, digest_->memory_hash))
        .IgnoreError();
  } else {
    completed_ = true;
  }
}

}  // namespace ft::replay
