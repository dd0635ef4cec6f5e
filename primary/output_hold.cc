#include "primary/output_hold.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace ft::primary {

OutputHold::OutputHold(Options options) : options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    held_gauge_ = options_.metrics->GetGauge(
        "ftvm_outputs_held",
        "Packets and disk requests waiting now for the "
        "secondary's acknowledgement.");
    held_counter_ = options_.metrics->GetCounter(
        "ftvm_outputs_held_total",
        "Outputs (packets, disk writes) held until the secondary "
        "acknowledged the log before them.");
    hold_seconds_ = options_.metrics->GetHistogram(
        "ftvm_output_hold_seconds", "How long each output was held.",
        metrics::ExponentialBuckets(10e-6, 2, 18));
  }
}

OutputHold::~OutputHold() { Stop(); }

void OutputHold::Hold(uint32_t stream, bool is_output,
                      std::function<void()> release) {
  const uint64_t need = is_output ? options_.logged_up_to() : 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    streams_[stream].push_back(Held{
        .need = need, .since = absl::Now(), .release = std::move(release)});
    ++stats_.waiting;
    if (is_output) {
      ++stats_.outputs_held;
      if (held_counter_ != nullptr) held_counter_->Increment();
    }
    if (held_gauge_ != nullptr) held_gauge_->Set(stats_.waiting);
    // Usually an output waits (its log was just sent); a read behind
    // nothing, or anything once unprotected, goes at once.
    if (!unprotected_ && need > acked_) return;
  }
  ReleaseDue();
}

void OutputHold::Acknowledged(uint64_t bytes) {
  {
    absl::MutexLock lock(&mu_);
    if (bytes <= acked_) return;
    acked_ = bytes;
  }
  ReleaseDue();
}

void OutputHold::Unprotect() {
  {
    absl::MutexLock lock(&mu_);
    unprotected_ = true;
    stats_.unprotected = true;
  }
  ReleaseDue();
}

void OutputHold::Stop() {
  absl::MutexLock order(&release_mu_);
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  streams_.clear();
  stats_.waiting = 0;
}

bool OutputHold::Drain(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stats_.waiting == 0 || stopping_;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&empty), deadline) &&
         stats_.waiting == 0;
}

OutputHold::Stats OutputHold::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

uint64_t OutputHold::acked() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

void OutputHold::ReleaseDue() {
  absl::MutexLock order(&release_mu_);
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    const absl::Time now = absl::Now();
    // In each stream, everything from the front whose log is acknowledged.
    for (auto& [stream, queue] : streams_) {
      while (!queue.empty() && (unprotected_ || queue.front().need <= acked_)) {
        Held& h = queue.front();
        if (h.need != 0) {
          const absl::Duration waited = now - h.since;
          stats_.total_hold += waited;
          stats_.longest_hold = std::max(stats_.longest_hold, waited);
          if (hold_seconds_ != nullptr) {
            hold_seconds_->Observe(absl::ToDoubleSeconds(waited));
          }
        }
        ready.push_back(std::move(h.release));
        queue.pop_front();
      }
    }
  }
  if (ready.empty()) return;
  // Outside mu_ (Hold must not wait for a TAP write), inside release_mu_:
  // a later ReleaseDue cannot overtake these within a stream.
  for (auto& release : ready) release();
  absl::MutexLock lock(&mu_);
  stats_.released += ready.size();
  stats_.waiting -= ready.size();
  if (held_gauge_ != nullptr) held_gauge_->Set(stats_.waiting);
}

}  // namespace ft::primary
