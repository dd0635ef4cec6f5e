// Clock: a source of monotonic time, passed explicitly so that device models
// can be driven by a fake clock in tests and by the log during replay.
#ifndef FTVM_COMMON_CLOCK_H_
#define FTVM_COMMON_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace ft {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary fixed point; never goes backwards.
  virtual int64_t NowNanos() = 0;
};

class MonotonicClock : public Clock {
 public:
  int64_t NowNanos() override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
};

// A clock that moves only when told to; for tests.
class ManualClock : public Clock {
 public:
  int64_t NowNanos() override { return now_; }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  int64_t now_ = 0;
};

}  // namespace ft

#endif  // FTVM_COMMON_CLOCK_H_
