// The key-value store (guest/redis/store.c): hash table with incremental
// rehash, binary-safe keys, expiry against a caller-supplied clock.
#include "store.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/guest_redis/host_alloc.h"

namespace ft::guest_redis {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_before_ = AllocLiveBlocks();
    rd_store_init(&s_);
  }
  void TearDown() override {
    rd_store_free(&s_);
    EXPECT_EQ(AllocLiveBlocks(), live_before_) << "leaked blocks";
  }
  bool Set(const std::string& k, const std::string& v,
           int64_t expire = RD_NO_EXPIRE, bool keep = false, int64_t now = 0) {
    return rd_store_set(&s_, k.data(), k.size(), v.data(), v.size(), expire,
                        keep, now);
  }
  // The value, or "<none>".
  std::string Get(const std::string& k, int64_t now = 0) {
    const char* v;
    size_t n;
    if (!rd_store_get(&s_, k.data(), k.size(), now, &v, &n)) return "<none>";
    return std::string(v, n);
  }
  int64_t Expire(const std::string& k, int64_t now = 0) {
    int64_t when = -2;
    rd_store_get_expire(&s_, k.data(), k.size(), now, &when);
    return when;
  }

  rd_store s_;
  long live_before_ = 0;
};

TEST_F(StoreTest, SetGetDelBinarySafe) {
  std::string k("k\0ey", 4), v("v\0\r\nal", 6);
  EXPECT_EQ(Get(k), "<none>");
  ASSERT_TRUE(Set(k, v));
  EXPECT_EQ(Get(k), v);
  EXPECT_EQ(Get(std::string("k\0ez", 4)), "<none>");
  ASSERT_TRUE(Set(k, ""));
  EXPECT_EQ(Get(k), "");
  EXPECT_TRUE(rd_store_del(&s_, k.data(), k.size(), 0));
  EXPECT_FALSE(rd_store_del(&s_, k.data(), k.size(), 0));
  EXPECT_EQ(rd_store_size(&s_, 0), 0u);
}

TEST_F(StoreTest, GrowsIncrementallyAndFindsEveryKeyMeanwhile) {
  const int n = 50000;
  for (int i = 0; i < n; i++) {
    ASSERT_TRUE(Set("key:" + std::to_string(i), std::to_string(i * 7)));
    // While a rehash is in flight keys live in two tables: spot-check both.
    if (s_.rehash >= 0 && i % 97 == 0) {
      for (int j = 0; j <= i; j += 1 + i / 50)
        ASSERT_EQ(Get("key:" + std::to_string(j)), std::to_string(j * 7)) << i;
    }
  }
  EXPECT_EQ(rd_store_size(&s_, 0), static_cast<size_t>(n));
  for (int i = 0; i < n; i++)
    ASSERT_EQ(Get("key:" + std::to_string(i)), std::to_string(i * 7));
  // Rehashing finished along the way and the table kept load factor <= ~1.
  for (int i = 0; i < 1000; i++) Get("x");
  EXPECT_EQ(s_.rehash, -1);
  EXPECT_GE(s_.t[0].size, static_cast<size_t>(n) / 2);
  for (int i = 0; i < n; i += 2) {
    std::string k = "key:" + std::to_string(i);
    ASSERT_TRUE(rd_store_del(&s_, k.data(), k.size(), 0));
  }
  EXPECT_EQ(rd_store_size(&s_, 0), static_cast<size_t>(n / 2));
  EXPECT_EQ(Get("key:1"), "7");
  EXPECT_EQ(Get("key:2"), "<none>");
}

TEST_F(StoreTest, DeleteDuringRehash) {
  for (int i = 0; i < 17; i++) ASSERT_TRUE(Set("k" + std::to_string(i), "v"));
  ASSERT_GE(s_.rehash, 0) << "17 keys in 16 buckets start a rehash";
  for (int i = 0; i < 17; i++) {
    std::string k = "k" + std::to_string(i);
    ASSERT_TRUE(rd_store_del(&s_, k.data(), k.size(), 0)) << k;
  }
  EXPECT_EQ(rd_store_size(&s_, 0), 0u);
  EXPECT_EQ(s_.t[0].used + s_.t[1].used, 0u);
}

TEST_F(StoreTest, ExpiryFollowsRedisRule) {
  ASSERT_TRUE(Set("k", "v", /*expire=*/1000));
  EXPECT_EQ(rd_store_expires(&s_), 1u);
  EXPECT_EQ(Get("k", 999), "v");
  EXPECT_EQ(Get("k", 1000), "v") << "a key expires once now > when";
  EXPECT_EQ(Expire("k", 1000), 1000);
  EXPECT_EQ(Get("k", 1001), "<none>");
  EXPECT_EQ(rd_store_expires(&s_), 0u);
  EXPECT_EQ(rd_store_size(&s_, 1001), 0u);
}

TEST_F(StoreTest, SetClearsOrKeepsTtl) {
  ASSERT_TRUE(Set("k", "v", 500));
  ASSERT_TRUE(Set("k", "w", RD_NO_EXPIRE, /*keep=*/true));
  EXPECT_EQ(Expire("k"), 500);
  ASSERT_TRUE(Set("k", "x"));
  EXPECT_EQ(Expire("k"), RD_NO_EXPIRE);
  EXPECT_EQ(rd_store_expires(&s_), 0u);
  // KEEPTTL on a new key: no expiry.
  ASSERT_TRUE(Set("n", "v", 500, /*keep=*/true));
  EXPECT_EQ(Expire("n"), RD_NO_EXPIRE);
}

TEST_F(StoreTest, ReplaceKeepsTtlAndNeedsTheKey) {
  ASSERT_TRUE(Set("k", "1", 500));
  ASSERT_TRUE(rd_store_replace(&s_, "k", 1, "2", 1, 0));
  EXPECT_EQ(Get("k"), "2");
  EXPECT_EQ(Expire("k"), 500);
  EXPECT_FALSE(rd_store_replace(&s_, "x", 1, "2", 1, 0));
  EXPECT_FALSE(rd_store_replace(&s_, "k", 1, "3", 1, 501)) << "expired";
}

TEST_F(StoreTest, AppendGrowsAndCreates) {
  size_t len;
  ASSERT_TRUE(rd_store_append(&s_, "k", 1, "ab", 2, 0, &len));
  EXPECT_EQ(len, 2u);
  std::string want = "ab";
  for (int i = 0; i < 2000; i++) {
    ASSERT_TRUE(rd_store_append(&s_, "k", 1, "xyz", 3, 0, &len));
    want += "xyz";
  }
  EXPECT_EQ(len, want.size());
  EXPECT_EQ(Get("k"), want);
}

TEST_F(StoreTest, SizePurgesExpiredKeysAndCycleIsBounded) {
  for (int i = 0; i < 100; i++)
    ASSERT_TRUE(Set("k" + std::to_string(i), "v", i < 60 ? 10 : RD_NO_EXPIRE));
  // A budget of one bucket per call deletes at most that bucket's keys.
  size_t deleted = 0, calls = 0;
  while (rd_store_expires(&s_) > 0 && calls < 10000) {
    deleted += rd_store_expire_cycle(&s_, 11, 1);
    calls++;
  }
  EXPECT_EQ(deleted, 60u);
  EXPECT_GT(calls, 1u);
  EXPECT_EQ(rd_store_size(&s_, 11), 40u);
  for (int i = 0; i < 10; i++)
    ASSERT_TRUE(Set("e" + std::to_string(i), "v", 20));
  EXPECT_EQ(rd_store_size(&s_, 20), 50u);
  EXPECT_EQ(rd_store_size(&s_, 21), 40u);
}

TEST_F(StoreTest, FlushEmptiesAndStaysUsable) {
  for (int i = 0; i < 100; i++)
    ASSERT_TRUE(Set("k" + std::to_string(i), "v", 5));
  rd_store_flush(&s_);
  EXPECT_EQ(rd_store_size(&s_, 0), 0u);
  EXPECT_EQ(rd_store_expires(&s_), 0u);
  ASSERT_TRUE(Set("k", "v"));
  EXPECT_EQ(Get("k"), "v");
}

// Every write, with an allocation failing at each possible point: either it
// fully happened or the store is exactly as before.
TEST_F(StoreTest, WritesAreAtomicUnderOutOfMemory) {
  for (long budget = 0; budget < 8; budget++) {
    rd_store_flush(&s_);
    for (int i = 0; i < 16; i++)
      ASSERT_TRUE(Set("k" + std::to_string(i), "old", 100));
    bool ok;
    {  // 17th key: also wants to start a rehash (its failure is harmless)
      ScopedAllocFailure f(budget);
      ok = Set("new", std::string(100, 'n'));
    }
    EXPECT_EQ(Get("new"), ok ? std::string(100, 'n') : "<none>") << budget;
    EXPECT_EQ(rd_store_size(&s_, 0), ok ? 17u : 16u);
    {
      ScopedAllocFailure f(budget);
      ok = Set("k3", std::string(1000, 'x'));
    }
    EXPECT_EQ(Get("k3"), ok ? std::string(1000, 'x') : "old") << budget;
    EXPECT_EQ(Expire("k3"), ok ? RD_NO_EXPIRE : 100);
    size_t len;
    {
      ScopedAllocFailure f(budget);
      ok = rd_store_append(&s_, "k4", 2, std::string(5000, 'a').data(), 5000, 0,
                           &len);
    }
    EXPECT_EQ(Get("k4"), ok ? "old" + std::string(5000, 'a') : "old") << budget;
    {
      ScopedAllocFailure f(budget);
      ok = rd_store_replace(&s_, "k5", 2, std::string(900, 'r').data(), 900, 0);
    }
    EXPECT_EQ(Get("k5"), ok ? std::string(900, 'r') : "old") << budget;
    EXPECT_EQ(Expire("k5"), 100);
  }
}

}  // namespace
}  // namespace ft::guest_redis
