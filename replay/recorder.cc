#include "replay/recorder.h"

#include <array>
#include <cstring>
#include <span>

#include "common/status.h"
#include "replay/log_validate.h"
#include "replay/machine_state.h"

namespace ft::replay {

LogPosition ToLogPosition(const vmm::ExitPoint& at) {
  return LogPosition{.position = Position(at.position),
                     .exit = ExitSignature{
                         .kind = static_cast<ExitKind>(at.kind),
                         .address = at.address,
                         .rip = at.rip,
                     }};
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(
    const LogWriter::Options& options, const LogHeader& header,
    absl::Duration digest_interval) {
  FT_ASSIGN_OR_RETURN(LogWriter writer, LogWriter::Create(options, header));
  return std::unique_ptr<Recorder>(new Recorder(
      std::move(writer), StreamOptions{.digest_interval = digest_interval}));
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(
    std::unique_ptr<ByteSink> sink, const LogWriter::Options& options,
    const LogHeader& header, const StreamOptions& stream) {
  FT_ASSIGN_OR_RETURN(LogWriter writer,
                      LogWriter::Create(std::move(sink), options, header));
  return std::unique_ptr<Recorder>(new Recorder(std::move(writer), stream));
}

void Recorder::Flush() {
  last_flush_ = absl::Now();
  output_unflushed_ = false;
  if (error_.ok()) error_ = writer_.Flush();
}

bool Recorder::MayWaitWhenHalted() {
  // The guest waits for input: the log up to here goes out now rather than
  // with the next batch.
  if (flush_promptly_) Flush();
  return true;
}

void Recorder::Append(const LogEntry& entry) {
  if (!error_.ok()) return;
  error_ = writer_.Append(entry);
  log_bytes_.store(writer_.bytes(), std::memory_order_relaxed);
}

void Recorder::MoveTo(const LogPosition& at) {
  at_ = at;
  position_.store(at.position.value(), std::memory_order_relaxed);
}

absl::Status Recorder::OnExit(const vmm::ExitPoint& at) {
  MoveTo(ToLogPosition(at));
  return error_;
}

int64_t Recorder::OnClockRead(vmm::HostClock clock, int64_t live) {
  Append(SyncInput{.at = at_,
                   .value = ClockRead{.source = static_cast<ClockSource>(clock),
                                      .nanos = live}});
  clock_reads_.fetch_add(1, std::memory_order_relaxed);
  return live;
}

void Recorder::OnOutput(vmm::OutputKind kind, uint32_t device,
                        std::span<const uint8_t> bytes) {
  Append(OutputMarker{.at = at_,
                      .kind = static_cast<OutputKind>(kind),
                      .device = device,
                      .length = bytes.size(),
                      .hash = OutputHash(bytes)});
  outputs_.fetch_add(1, std::memory_order_relaxed);
  // Flushed before the guest runs on (BeforeEntry), with the exit's other
  // outputs.
  output_unflushed_ = flush_promptly_;
}

namespace {

// memcmp against a zero page: the vectorised compare, where a byte loop
// with an early exit is not (a full checkpoint scans all of memory while
// the guest waits).
bool AllZero(std::span<const uint8_t, kPageBytes> page) {
  static constexpr std::array<uint8_t, kPageBytes> kZeroPage{};
  return std::memcmp(page.data(), kZeroPage.data(), kPageBytes) == 0;
}

// Every page of guest memory that is not all zero, in gfn order.
absl::StatusOr<std::vector<DirtyPage>> NonZeroPages(
    const vmm::GuestMemory& memory) {
  std::vector<DirtyPage> pages;
  for (const vmm::GuestMemory::Region& r : memory.regions()) {
    const uint8_t* base = r.mapping.data();
    for (uint64_t off = 0; off + kPageBytes <= r.size(); off += kPageBytes) {
      const std::span<const uint8_t, kPageBytes> page(base + off, kPageBytes);
      if (AllZero(page)) continue;
      pages.push_back(DirtyPage{.gfn = (r.base.value() + off) / kPageBytes,
                                .bytes = {page.begin(), page.end()}});
    }
  }
  return pages;
}

}  // namespace

absl::Status Recorder::TakeCheckpoint(vmm::ExecutionContext& ctx, bool full) {
  FT_ASSIGN_OR_RETURN(vmm::VcpuSnapshot vcpu, ctx.SaveVcpu());
  const uint64_t position = ctx.AdvancePosition();
  MoveTo(LogPosition{.position = Position(position),
                     .exit = ExitSignature{.kind = ExitKind::kCheckpoint,
                                           .rip = vcpu.regs.rip}});
  // A full checkpoint resets the dirty log as well: the next micro-
  // checkpoint carries what changed after it.
  FT_ASSIGN_OR_RETURN(std::vector<uint64_t> gfns, ctx.TakeDirtyPages());
  MicroCheckpoint cp{.at = at_, .vcpus = {ToLogVcpu(vcpu)}, .full = full};
  if (full) {
    FT_ASSIGN_OR_RETURN(cp.pages, NonZeroPages(ctx.memory()));
    FT_ASSIGN_OR_RETURN(vmm::DevicesSnapshot devices, ctx.SaveDevices());
    cp.halted = devices.halted;
    for (vmm::DeviceState& d : devices.devices) {
      cp.devices.push_back(
          DeviceState{.name = std::move(d.name), .state = std::move(d.state)});
    }
    full_checkpoints_.fetch_add(1, std::memory_order_relaxed);
  } else {
    cp.pages.reserve(gfns.size());
    for (uint64_t gfn : gfns) {
      DirtyPage page{.gfn = gfn, .bytes = std::vector<uint8_t>(kPageBytes)};
      FT_RETURN_IF_ERROR(ctx.memory().Read(Gpa(gfn * kPageBytes), page.bytes));
      cp.pages.push_back(std::move(page));
    }
  }
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  checkpoint_pages_.fetch_add(cp.pages.size(), std::memory_order_relaxed);
  Append(cp);
  if (flush_promptly_) Flush();
  return error_;
}

absl::Status Recorder::BeforeEntry(vmm::ExecutionContext& ctx,
                                   bool at_position) {
  if (!error_.ok()) return error_;
  // A full checkpoint asked for: taken here, at a position or not, before
  // this round's events (which then come at the checkpoint's position; a
  // replay that starts from it delivers them there).
  const bool full = full_requested_.exchange(false, std::memory_order_relaxed);
  if (!at_position && !full) {
    // Kicked out of guest code: events (and an interrupt that waits for a
    // position) may only be delivered at a position, so this point becomes
    // one (a replayer cannot stop here by itself).
    if (!ctx.HasQueuedEvents() && !ctx.HasDeferredInterrupt()) {
      if (output_unflushed_) Flush();
      return error_;
    }
    FT_RETURN_IF_ERROR(TakeCheckpoint(ctx, /*full=*/false));
  } else if (at_position && digest_interval_ > absl::ZeroDuration() &&
             absl::Now() >= next_digest_) {
    // Before this position's events, where the replayer checks it.
    next_digest_ = absl::Now() + digest_interval_;
    FT_ASSIGN_OR_RETURN(vmm::VcpuSnapshot vcpu, ctx.SaveVcpu());
    Append(StateDigest{.at = at_, .digest = MachineDigest(vcpu, ctx.memory())});
    digests_.fetch_add(1, std::memory_order_relaxed);
  }
  if (full) FT_RETURN_IF_ERROR(TakeCheckpoint(ctx, /*full=*/true));
  const size_t n = ctx.DeliverQueued([this](const vmm::AsyncEvent& e) {
    Append(AsyncEventEntry{
        .at = at_, .source = e.source, .kind = e.kind, .data = e.data});
  });
  events_.fetch_add(n, std::memory_order_relaxed);
  if (output_unflushed_ || (max_flush_delay_ != absl::InfiniteDuration() &&
                            absl::Now() - last_flush_ >= max_flush_delay_)) {
    Flush();
  }
  return error_;
}

EndReason ToEndReason(vmm::FinishReason reason) {
  switch (reason) {
    case vmm::FinishReason::kPowerOff:
      return EndReason::kGuestExit;
    case vmm::FinishReason::kShutdown:
      return EndReason::kShutdown;
    case vmm::FinishReason::kStopped:
      return EndReason::kStopped;
    case vmm::FinishReason::kHalted:
    case vmm::FinishReason::kFailed:
      break;
  }
  return EndReason::kError;
}

void Recorder::OnFinish(vmm::ExecutionContext& ctx, vmm::FinishReason reason,
                        uint32_t exit_code) {
  EndEntry end{.at = at_,
               .reason = ToEndReason(reason),
               .exit_code = static_cast<int32_t>(exit_code)};
  absl::StatusOr<vmm::VcpuSnapshot> vcpu = ctx.SaveVcpu();
  if (vcpu.ok()) end.final_digest = MachineDigest(*vcpu, ctx.memory());
  Append(end);
  if (error_.ok()) error_ = writer_.Close();
  log_bytes_.store(writer_.bytes(), std::memory_order_relaxed);
}

Recorder::Stats Recorder::stats() const {
  return Stats{.clock_reads = clock_reads_.load(),
               .events = events_.load(),
               .checkpoints = checkpoints_.load(),
               .checkpoint_pages = checkpoint_pages_.load(),
               .outputs = outputs_.load(),
               .digests = digests_.load(),
               .log_bytes = log_bytes_.load(),
               .full_checkpoints = full_checkpoints_.load()};
}

}  // namespace ft::replay
