// TimerService: one-shot timers for device models (the PIT's terminal
// count, later virtio back-end timeouts), behind an interface so that models
// are tested with a fake and, on a replaying secondary, driven by the log
// instead of the host's clock.
//
// Deadlines are on the CLOCK_MONOTONIC scale that MonotonicClock
// (common/clock.h) reads, so a model computes them from its Clock.
//
// A callback runs on the service's own thread, not the vCPU thread: it must
// only hand the expiry to the vCPU thread, as an AsyncEvent, so that the
// expiry reaches the guest at a recorded position.
//
// Thread ownership: ScheduleAt and Cancel may be called from any thread.
#ifndef FTVM_VMM_EVENTS_TIMER_SERVICE_H_
#define FTVM_VMM_EVENTS_TIMER_SERVICE_H_

#include <cstdint>
#include <functional>

namespace ft::vmm {

class TimerService {
 public:
  using TimerId = uint64_t;  // never 0
  using Callback = std::function<void()>;

  virtual ~TimerService() = default;

  // Runs `callback` once, at or after `deadline_ns` (a past deadline runs as
  // soon as possible).
  virtual TimerId ScheduleAt(int64_t deadline_ns, Callback callback) = 0;
  // Cancels a timer that has not started to run. Returns false if it has
  // run, is running, was cancelled or never existed. A callback that is
  // already running is not waited for: receivers of its expiry must
  // recognise a stale one.
  virtual bool Cancel(TimerId id) = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_EVENTS_TIMER_SERVICE_H_
