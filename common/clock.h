// Clocks, passed explicitly so that device models can be driven by a fake
// clock in tests and by the log during replay.
//
// Clock is monotonic time (timers, counters); RealtimeClock is wall-clock
// time (the CMOS RTC's date). They are separate interfaces because they are
// different inputs: wall time can jump, and a device that needs both must
// say so.
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

// Wall-clock time: nanoseconds since the Unix epoch, UTC. May jump (NTP,
// an operator setting the date); users must not assume it is monotonic.
class RealtimeClock {
 public:
  virtual ~RealtimeClock() = default;
  virtual int64_t UnixNanos() = 0;
};

class SystemRealtimeClock : public RealtimeClock {
 public:
  int64_t UnixNanos() override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
};

// A wall clock that moves only when told to; for tests.
class ManualRealtimeClock : public RealtimeClock {
 public:
  explicit ManualRealtimeClock(int64_t unix_nanos = 0) : now_(unix_nanos) {}
  int64_t UnixNanos() override { return now_; }
  void Set(int64_t unix_nanos) { now_ = unix_nanos; }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  int64_t now_;
};

}  // namespace ft

#endif  // FTVM_COMMON_CLOCK_H_
