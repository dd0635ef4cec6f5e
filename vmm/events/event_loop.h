// EventLoop: the one thread per VM that waits on back-end file descriptors
// (TAP, later the log channel) and runs timers, with epoll and a timerfd.
//
// Callbacks run on the loop thread and must be short: a back-end callback
// typically reads what is ready and Posts an AsyncEvent for the device model
// on the vCPU thread. They must not block on the vCPU thread (which may
// itself be waiting in RemoveFd).
//
// Thread ownership: Start and Stop belong to the owner (the Machine); AddFd,
// RemoveFd, ScheduleAt and Cancel may be called from any thread, including
// from callbacks on the loop thread.
#ifndef FTVM_VMM_EVENTS_EVENT_LOOP_H_
#define FTVM_VMM_EVENTS_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "vmm/events/timer_service.h"

namespace ft::vmm {

class EventLoop : public TimerService {
 public:
  // Receives the epoll event bits (EPOLLIN, EPOLLHUP, ...) that are ready.
  using FdCallback = std::function<void(uint32_t events)>;

  // `name` names the thread (first 15 characters) in debuggers and top.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(std::string name);
  // Stops the loop.
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the thread. Fds and timers may be added before or after.
  void Start();
  // Stops and joins the thread; no callback runs after it returns. Pending
  // timers and registered fds are kept but never run. Idempotent; not from
  // the loop thread.
  void Stop();

  // Calls `callback` whenever `fd` has any of `events` (level-triggered,
  // EPOLLIN etc.) until RemoveFd. The caller keeps owning `fd`.
  absl::Status AddFd(int fd, uint32_t events, FdCallback callback);
  // After it returns, the fd's callback is not running (unless RemoveFd was
  // called from that very callback) and will not run again.
  absl::Status RemoveFd(int fd);

  // TimerService, on CLOCK_MONOTONIC.
  TimerId ScheduleAt(int64_t deadline_ns, Callback callback) override;
  bool Cancel(TimerId id) override;
  TimerId ScheduleAfter(absl::Duration delay, Callback callback);

  bool InLoopThread() const {
    return std::this_thread::get_id() == thread_id_.load();
  }
  static int64_t MonotonicNanos();

 private:
  struct FdEntry {
    int fd;
    std::shared_ptr<FdCallback> callback;  // survives RemoveFd mid-callback
  };

  EventLoop(std::string name, UniqueFd epoll, UniqueFd wake, UniqueFd timer);
  void Loop();
  void Wake();
  void DispatchFd(uint64_t token, uint32_t events);
  void RunDueTimers();
  // Sets the timerfd to the earliest deadline (or disarms it).
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  UniqueFd epoll_;
  UniqueFd wake_;   // eventfd: Stop
  UniqueFd timer_;  // timerfd: the earliest timer
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Tokens in epoll_event.data are registration numbers, never fd numbers,
  // so an event for a removed fd whose number was reused is not misrouted.
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 2;  // 0, 1: wake, timer
  std::map<uint64_t, FdEntry> fds_ ABSL_GUARDED_BY(mu_);
  std::map<int, uint64_t> token_of_fd_ ABSL_GUARDED_BY(mu_);
  uint64_t running_token_ ABSL_GUARDED_BY(mu_) = 0;
  TimerId next_timer_ ABSL_GUARDED_BY(mu_) = 1;
  // Ordered by (deadline, id): equal deadlines run in scheduling order.
  std::map<std::pair<int64_t, TimerId>, Callback> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, int64_t> deadline_of_ ABSL_GUARDED_BY(mu_);
  int64_t armed_ns_ ABSL_GUARDED_BY(mu_) = 0;  // 0: disarmed
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_EVENTS_EVENT_LOOP_H_
