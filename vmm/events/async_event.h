// Asynchronous inputs to the guest (a packet arrived, a timer expired, a disk
// request completed) as plain data, and the queue that carries them from
// back-end threads to device models on the vCPU thread.
//
// Why data and not callbacks: these events are the guest's nondeterministic
// inputs. The record/replay layer logs each (source, kind, data) at the
// position where it is delivered and, on a secondary, delivers the same
// event at the same position. Device models therefore handle them only in
// OnAsyncEvent, and never read back-end state directly.
//
// Thread ownership: Post() from any thread; everything else on the vCPU
// thread.
#ifndef FTVM_VMM_EVENTS_ASYNC_EVENT_H_
#define FTVM_VMM_EVENTS_ASYNC_EVENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ft::vmm {

struct AsyncEvent {
  uint32_t source = 0;        // the id AsyncEventQueue::Register returned
  uint32_t kind = 0;          // defined by the source device
  std::vector<uint8_t> data;  // defined by the source device
};

// A device model that receives asynchronous events (vCPU thread).
class AsyncEventSink {
 public:
  virtual ~AsyncEventSink() = default;
  virtual void OnAsyncEvent(const AsyncEvent& event) = 0;
};

class AsyncEventQueue {
 public:
  // Called (on the posting thread, without locks held) after each Post, so
  // the owner can kick a running vCPU out of KVM_RUN to deliver it.
  using WakeFn = std::function<void()>;

  // Set-up, before any Post: registers a sink and returns its source id.
  uint32_t Register(AsyncEventSink* sink);
  void SetWake(WakeFn wake) { wake_ = std::move(wake); }

  // Any thread.
  void Post(AsyncEvent event);

  // vCPU thread: hands every queued event to its sink, in posting order,
  // calling `observe` (if set) just before each. Returns how many.
  size_t DeliverPending(
      const std::function<void(const AsyncEvent&)>& observe = nullptr);
  // vCPU thread: hands one event (not from the queue: a replayed one) to
  // its sink. False if no sink has its source id.
  bool Deliver(const AsyncEvent& event);
  // From now on Post() drops events: a replaying machine takes its events
  // from the log only, while its back ends' timers still fire.
  void Seal();
  // vCPU thread: waits until an event is queued or `deadline` passes.
  // Returns true if one is queued.
  bool WaitForEvent(absl::Time deadline);
  bool HasPending() const;

 private:
  std::vector<AsyncEventSink*> sinks_;  // fixed after set-up
  WakeFn wake_;
  mutable absl::Mutex mu_;
  std::deque<AsyncEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool sealed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_EVENTS_ASYNC_EVENT_H_
