// libc-backed rd_malloc & co. for host tests (see host_alloc.h).
#include "tests/guest_redis/host_alloc.h"

#include <cstdlib>
#include <cstring>

#include "rd_alloc.h"

namespace ft::guest_redis {
namespace {

long g_fail_after = -1;  // -1: never fail
long g_count = 0;
long g_live = 0;
size_t g_used = 0;

// A 16-byte header holds the requested size (used_memory, realloc).
constexpr size_t kHeader = 16;

bool ShouldFail() {
  ++g_count;
  if (g_fail_after < 0) return false;
  if (g_fail_after == 0) return true;
  --g_fail_after;
  return false;
}

size_t* HeaderOf(void* p) {
  return reinterpret_cast<size_t*>(static_cast<char*>(p) - kHeader);
}

}  // namespace

void AllocFailAfter(long n) { g_fail_after = n; }
void AllocNeverFail() { g_fail_after = -1; }
long AllocCount() { return g_count; }
long AllocLiveBlocks() { return g_live; }

}  // namespace ft::guest_redis

using ft::guest_redis::g_live;
using ft::guest_redis::g_used;
using ft::guest_redis::HeaderOf;
using ft::guest_redis::kHeader;
using ft::guest_redis::ShouldFail;

extern "C" void* rd_malloc(size_t size) {
  if (ShouldFail()) return nullptr;
  auto* p = static_cast<char*>(std::malloc(size + kHeader));
  if (p == nullptr) return nullptr;
  *reinterpret_cast<size_t*>(p) = size;
  g_used += size;
  ++g_live;
  return p + kHeader;
}

extern "C" void* rd_realloc(void* ptr, size_t size) {
  if (ptr == nullptr) return rd_malloc(size);
  if (ShouldFail()) return nullptr;
  size_t old = *HeaderOf(ptr);
  auto* p = static_cast<char*>(std::realloc(HeaderOf(ptr), size + kHeader));
  if (p == nullptr) return nullptr;
  *reinterpret_cast<size_t*>(p) = size;
  g_used = g_used - old + size;
  return p + kHeader;
}

extern "C" void rd_free(void* ptr) {
  if (ptr == nullptr) return;
  g_used -= *HeaderOf(ptr);
  --g_live;
  std::free(HeaderOf(ptr));
}

extern "C" size_t rd_used_memory(void) { return g_used; }
