// Host implementation of guest/redis/rd_alloc.h with failure injection, so
// tests can drive every out-of-memory path of the redis core.
#ifndef FTVM_TESTS_GUEST_REDIS_HOST_ALLOC_H_
#define FTVM_TESTS_GUEST_REDIS_HOST_ALLOC_H_

#include <cstddef>

namespace ft::guest_redis {

// After `n` more successful allocations, every allocation fails until
// AllocNeverFail(). n = 0 makes the next one fail.
void AllocFailAfter(long n);
void AllocNeverFail();
// Allocations attempted so far (successful or not).
long AllocCount();
// Live blocks: lets tests check that nothing leaks.
long AllocLiveBlocks();

// Fails allocations for the lifetime of the object (RAII).
class ScopedAllocFailure {
 public:
  explicit ScopedAllocFailure(long after) { AllocFailAfter(after); }
  ~ScopedAllocFailure() { AllocNeverFail(); }
  ScopedAllocFailure(const ScopedAllocFailure&) = delete;
  ScopedAllocFailure& operator=(const ScopedAllocFailure&) = delete;
};

}  // namespace ft::guest_redis

#endif  // FTVM_TESTS_GUEST_REDIS_HOST_ALLOC_H_
