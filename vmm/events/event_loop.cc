#include "vmm/events/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace ft::vmm {
namespace {

constexpr uint64_t kWakeToken = 0;
constexpr uint64_t kTimerToken = 1;
constexpr int kMaxEvents = 32;

absl::Status Watch(int epoll, int fd, uint32_t events, uint64_t token) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
    return ErrnoStatus(errno, absl::StrCat("epoll_ctl(ADD, fd ", fd, ")"));
  }
  return absl::OkStatus();
}

// Reads the 8-byte counter of an eventfd or timerfd so it stops being
// readable. EAGAIN (nothing there) is fine: both are non-blocking.
void Drain(int fd) {
  uint64_t count;
  while (::read(fd, &count, sizeof(count)) < 0 && errno == EINTR) {
  }
}

}  // namespace

int64_t EventLoop::MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(std::string name) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return ErrnoStatus(errno, "epoll_create1");
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return ErrnoStatus(errno, "eventfd");
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer) return ErrnoStatus(errno, "timerfd_create(CLOCK_MONOTONIC)");
  FT_RETURN_IF_ERROR(Watch(epoll.get(), wake.get(), EPOLLIN, kWakeToken));
  FT_RETURN_IF_ERROR(Watch(epoll.get(), timer.get(), EPOLLIN, kTimerToken));
  return std::unique_ptr<EventLoop>(new EventLoop(
      std::move(name), std::move(epoll), std::move(wake), std::move(timer)));
}

EventLoop::EventLoop(std::string name, UniqueFd epoll, UniqueFd wake,
                     UniqueFd timer)
    : name_(std::move(name)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      timer_(std::move(timer)) {}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Start() {
  absl::MutexLock lock(&mu_);
  FT_CHECK(!thread_.joinable() && !stop_) << "event loop started twice";
  thread_ = std::thread([this] { Loop(); });
  thread_id_ = thread_.get_id();
}

void EventLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    FT_CHECK(!InLoopThread()) << "EventLoop::Stop from its own thread";
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Wake() {
  const uint64_t one = 1;
  // Only EAGAIN (counter saturated) can fail here, and then the loop is
  // already due to wake.
  while (::write(wake_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

absl::Status EventLoop::AddFd(int fd, uint32_t events, FdCallback callback) {
  absl::MutexLock lock(&mu_);
  if (token_of_fd_.contains(fd)) {
    return absl::AlreadyExistsError(
        absl::StrCat("fd ", fd, " is already watched by ", name_));
  }
  const uint64_t token = next_token_++;
  FT_RETURN_IF_ERROR(Watch(epoll_.get(), fd, events, token));
  fds_.emplace(token,
               FdEntry{fd, std::make_shared<FdCallback>(std::move(callback))});
  token_of_fd_.emplace(fd, token);
  return absl::OkStatus();
}

absl::Status EventLoop::RemoveFd(int fd) {
  absl::MutexLock lock(&mu_);
  auto it = token_of_fd_.find(fd);
  if (it == token_of_fd_.end()) {
    return absl::NotFoundError(
        absl::StrCat("fd ", fd, " is not watched by ", name_));
  }
  const uint64_t token = it->second;
  token_of_fd_.erase(it);
  fds_.erase(token);
  // EBADF/ENOENT: the caller closed the fd first, which already removed it.
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) < 0 &&
      errno != EBADF && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("epoll_ctl(DEL, fd ", fd, ")"));
  }
  if (!InLoopThread()) {
    auto idle = [this, token]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return running_token_ != token;
    };
    mu_.Await(absl::Condition(&idle));
  }
  return absl::OkStatus();
}

TimerService::TimerId EventLoop::ScheduleAt(int64_t deadline_ns,
                                            Callback callback) {
  absl::MutexLock lock(&mu_);
  const TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(deadline_ns, id), std::move(callback));
  deadline_of_.emplace(id, deadline_ns);
  ArmTimer();
  return id;
}

TimerService::TimerId EventLoop::ScheduleAfter(absl::Duration delay,
                                               Callback callback) {
  return ScheduleAt(MonotonicNanos() + absl::ToInt64Nanoseconds(delay),
                    std::move(callback));
}

bool EventLoop::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  deadline_of_.erase(it);
  ArmTimer();
  return true;
}

void EventLoop::ArmTimer() {
  // An absolute timerfd value of 0 means "disarm", so clamp to 1 ns (long
  // past: fires at once).
  const int64_t earliest =
      timers_.empty() ? 0 : std::max<int64_t>(timers_.begin()->first.first, 1);
  if (earliest == armed_ns_) return;
  itimerspec spec{};
  spec.it_value.tv_sec = earliest / 1'000'000'000;
  spec.it_value.tv_nsec = earliest % 1'000'000'000;
  FT_CHECK(::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) ==
           0)
      << "timerfd_settime: errno " << errno;
  armed_ns_ = earliest;
}

void EventLoop::Loop() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  epoll_event events[kMaxEvents];
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, -1);
    if (n < 0) {
      FT_CHECK(errno == EINTR) << "epoll_wait: errno " << errno;
      continue;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t token = events[i].data.u64;
      if (token == kWakeToken) {
        Drain(wake_.get());
      } else if (token == kTimerToken) {
        Drain(timer_.get());
        absl::MutexLock lock(&mu_);
        armed_ns_ = 0;  // a fired one-shot timerfd is disarmed
      } else {
        DispatchFd(token, events[i].events);
      }
    }
    RunDueTimers();
  }
}

void EventLoop::DispatchFd(uint64_t token, uint32_t events) {
  std::shared_ptr<FdCallback> callback;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    auto it = fds_.find(token);
    if (it == fds_.end()) return;  // removed earlier in this batch
    callback = it->second.callback;
    running_token_ = token;
  }
  (*callback)(events);
  absl::MutexLock lock(&mu_);
  running_token_ = 0;
}

void EventLoop::RunDueTimers() {
  absl::MutexLock lock(&mu_);
  int64_t now = MonotonicNanos();
  while (!stop_ && !timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    deadline_of_.erase(node.key().second);
    mu_.Unlock();
    node.mapped()();
    mu_.Lock();
    now = MonotonicNanos();  // timers may have come due meanwhile
  }
  ArmTimer();
}

}  // namespace ft::vmm
