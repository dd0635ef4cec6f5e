#include "vmm/events/async_event.h"

#include "common/check.h"

namespace ft::vmm {

uint32_t AsyncEventQueue::Register(AsyncEventSink* sink) {
  sinks_.push_back(sink);
  return static_cast<uint32_t>(sinks_.size() - 1);
}

void AsyncEventQueue::Post(AsyncEvent event) {
  FT_CHECK(event.source < sinks_.size()) << "unknown source " << event.source;
  {
    absl::MutexLock lock(&mu_);
    if (sealed_) return;
    queue_.push_back(std::move(event));
  }
  if (wake_) wake_();
}

size_t AsyncEventQueue::DeliverPending(
    const std::function<void(const AsyncEvent&)>& observe) {
  std::deque<AsyncEvent> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(queue_);
  }
  for (const AsyncEvent& e : batch) {
    if (observe) observe(e);
    sinks_[e.source]->OnAsyncEvent(e);
  }
  return batch.size();
}

bool AsyncEventQueue::Deliver(const AsyncEvent& event) {
  if (event.source >= sinks_.size()) return false;
  sinks_[event.source]->OnAsyncEvent(event);
  return true;
}

void AsyncEventQueue::Seal() {
  absl::MutexLock lock(&mu_);
  sealed_ = true;
  queue_.clear();
}

bool AsyncEventQueue::WaitForEvent(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto pending = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty();
  };
  return mu_.AwaitWithDeadline(absl::Condition(&pending), deadline);
}

bool AsyncEventQueue::HasPending() const {
  absl::MutexLock lock(&mu_);
  return !queue_.empty();
}

}  // namespace ft::vmm
