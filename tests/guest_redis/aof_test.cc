// The durability log (guest/redis/aof.c) over an in-memory block device:
// format, group commit, replay, limits, I/O errors, re-entry. Crash
// recovery (torn tails, corruption) is in aof_recovery_test.cc.
#include "aof.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/guest_redis/aof_node.h"
#include "tests/guest_redis/host_alloc.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {
namespace {

TEST(Aof, FormatsABlankDiskAndReopens) {
  MemDisk disk(256);
  {
    Node n(&disk, 0);
    ASSERT_EQ(n.status_, RD_AOF_OK);
    EXPECT_TRUE(n.report_.formatted);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(disk.bytes().data()), 8),
              "FTRDAOF1");
  }
  Node n(&disk, 0);
  ASSERT_EQ(n.status_, RD_AOF_OK);
  EXPECT_FALSE(n.report_.formatted);
  EXPECT_EQ(n.report_.records, 0u);
  EXPECT_EQ(n.report_.end, RD_AOF_END_CLEAN);
  EXPECT_EQ(n.report_.tail, RD_AOF_LOG_START * kSector);
}

TEST(Aof, RefusesForeignDamagedAndTinyDisks) {
  MemDisk foreign(256);
  foreign.bytes()[100] = 1;
  EXPECT_EQ(Node(&foreign, 0).status_, RD_AOF_EFOREIGN);
  MemDisk damaged(256);
  { Node n(&damaged, 0); }
  damaged.bytes()[20] ^= 1;
  EXPECT_EQ(Node(&damaged, 0).status_, RD_AOF_ECORRUPT);
  MemDisk tiny(RD_AOF_LOG_START + 1);
  EXPECT_EQ(Node(&tiny, 0).status_, RD_AOF_ESMALL);
  MemDisk unreadable(256);
  unreadable.set_fail_reads(true);
  EXPECT_EQ(Node(&unreadable, 0).status_, RD_AOF_EIO);
}

// Every write command, including FLUSHALL, survives a restart; reads and
// failed commands are not logged.
TEST(Aof, RoundTripOfEveryWriteCommand) {
  MemDisk disk(1024);
  {
    Node n(&disk, 1000);
    ASSERT_EQ(n.status_, RD_AOF_OK);
    n.Run({"set", "gone", "x"});
    n.Run({"flushall"});
    EXPECT_EQ(n.Run({"set", "s", "v"}), "+OK\r\n");
    EXPECT_EQ(n.Run({"set", "ttl", "v", "ex", "100"}), "+OK\r\n");
    EXPECT_EQ(n.Run({"set", "keep", "a", "px", "5000"}), "+OK\r\n");
    EXPECT_EQ(n.Run({"set", "keep", "b", "keepttl"}), "+OK\r\n");
    EXPECT_EQ(n.Run({"incr", "c"}), ":1\r\n");
    EXPECT_EQ(n.Run({"incrby", "c", "41"}), ":42\r\n");
    EXPECT_EQ(n.Run({"decrby", "c", "2"}), ":40\r\n");
    EXPECT_EQ(n.Run({"decr", "c"}), ":39\r\n");
    EXPECT_EQ(n.Run({"append", "a", "hello"}), ":5\r\n");
    EXPECT_EQ(n.Run({"mset", "m1", "1", "m2", std::string("\0\r\n", 3)}),
              "+OK\r\n");
    EXPECT_EQ(n.Run({"del", "m1", "nothing"}), ":1\r\n");
    uint64_t records = n.aof_.stats.records;
    // Reads, failures and no-ops add nothing to the log.
    n.Run({"get", "s"});
    n.Run({"incr", "a"});                 // not an integer
    n.Run({"set", "s", "z", "nx"});       // condition false
    n.Run({"del", "nothing"});            // deleted nothing
    n.Run({"set", "s", "v", "ex", "0"});  // invalid expire
    EXPECT_EQ(n.aof_.stats.records, records);
  }
  Node n(&disk, 2000);
  ASSERT_EQ(n.status_, RD_AOF_OK);
  EXPECT_EQ(n.report_.records, 13u);
  EXPECT_EQ(n.db_.stats.replay_errors, 0u);
  EXPECT_EQ(n.Get("gone"), "$-1\r\n");
  EXPECT_EQ(n.Get("s"), "$1\r\nv\r\n");
  EXPECT_EQ(n.Get("c"), "$2\r\n39\r\n");
  EXPECT_EQ(n.Get("a"), "$5\r\nhello\r\n");
  EXPECT_EQ(n.Get("m1"), "$-1\r\n");
  EXPECT_EQ(n.Get("m2"), "$3\r\n" + std::string("\0\r\n", 3) + "\r\n");
  // Expiries are absolute in the log: 1000 + 100 s, 1000 + 5000 ms.
  EXPECT_EQ(Conn(&n.db_).Run({"pttl", "ttl"}), ":99000\r\n");
  EXPECT_EQ(Conn(&n.db_).Run({"pttl", "keep"}), ":4000\r\n");
  EXPECT_EQ(Conn(&n.db_).Run({"dbsize"}), ":6\r\n");
}

TEST(Aof, ReplayUsesEachRecordsOwnTime) {
  MemDisk disk(256);
  {
    Node n(&disk, 1000);
    n.Run({"set", "k", "5", "px", "100"});
    n.db_.now = 2000;
    EXPECT_EQ(n.Run({"incr", "k"}), ":1\r\n");  // k had expired: from 0
  }
  // Replayed at any clock, INCR sees k expired as it did originally.
  Node n(&disk, 1050);
  EXPECT_EQ(n.Get("k"), "$1\r\n1\r\n");
}

TEST(Aof, GroupCommitIsOneWriteAndOneFlushPerBatch) {
  MemDisk disk(1024);
  Node n(&disk, 0);
  int writes = disk.writes(), flushes = disk.flushes();
  std::string pipeline;
  for (int i = 0; i < 16; i++)
    pipeline += Cmd({"set", "key:" + std::to_string(i), "xxx"});
  std::string r = n.Batch(pipeline);
  EXPECT_EQ(disk.writes() - writes, 1);
  EXPECT_EQ(disk.flushes() - flushes, 1);
  EXPECT_EQ(r.size(), 16 * 5u);
  n.Batch(Cmd({"get", "key:1"}));  // nothing to commit: no I/O
  EXPECT_EQ(disk.writes() - writes, 1);
  EXPECT_EQ(disk.flushes() - flushes, 1);
}

TEST(Aof, BatchesLargerThanOneCommitAreSplitAtRecordBoundaries) {
  MemDisk disk(4096);
  {
    Node n(&disk, 0);
    std::string pipeline;
    for (int i = 0; i < 40; i++)
      pipeline += Cmd(
          {"set", "k" + std::to_string(i), std::string(1000, 'a' + i % 26)});
    n.Batch(pipeline);  // 40 KB through an 8 KB commit buffer
    EXPECT_GE(n.aof_.stats.commits, 5u);
  }
  Node n(&disk, 0);
  EXPECT_EQ(n.report_.records, 40u);
  EXPECT_EQ(n.Get("k39"),
            "$1000\r\n" + std::string(1000, 'a' + 39 % 26) + "\r\n");
}

TEST(Aof, TooLargeRecordIsRefusedWithoutChangingData) {
  MemDisk disk(256);
  Node n(&disk, 0);
  std::string big(kMaxCommit * kSector, 'x');
  EXPECT_EQ(n.Run({"set", "k", big}),
            "-ERR command too large for the append-only log\r\n");
  EXPECT_EQ(n.Get("k"), "$-1\r\n");
}

TEST(Aof, FullLogRefusesWritesButKeepsServingReads) {
  MemDisk disk(RD_AOF_LOG_START + 4);
  Node n(&disk, 0);
  int ok = 0;
  std::string r;
  for (int i = 0; i < 100; i++) {
    r = n.Run({"set", "k" + std::to_string(i), std::string(200, 'v')});
    if (r != "+OK\r\n") break;
    ok++;
  }
  EXPECT_EQ(
      r,
      "-MISCONF Errors writing to the AOF file: No space left on device\r\n");
  EXPECT_EQ(ok, 4) << "one commit (sector) per batch, 4 sectors";
  EXPECT_EQ(n.Get("k" + std::to_string(ok)), "$-1\r\n");
  EXPECT_EQ(n.Get("k0").substr(0, 6), "$200\r\n");
  Node again(&disk, 0);
  EXPECT_EQ(again.report_.records, 4u);
  EXPECT_EQ(again.report_.end, RD_AOF_END_CAPACITY);
}

TEST(Aof, IoErrorIsStickyAndRefusesFurtherWrites) {
  MemDisk disk(256);
  Node n(&disk, 0);
  disk.set_fail_flush(true);
  EXPECT_EQ(n.Run({"set", "a", "1"}), "+OK\r\n");  // the server discards it
  EXPECT_EQ(n.last_commit_, RD_AOF_EIO);
  disk.set_fail_flush(false);
  EXPECT_EQ(n.Run({"set", "b", "1"}),
            "-MISCONF Errors writing to the AOF file: Input/output error\r\n");
  EXPECT_EQ(n.Run({"get", "b"}), "$-1\r\n");
}

// A disk whose flush runs the server again (as a misbehaving NIC handler
// would during a disk wait): the nested request is refused, the commit
// in flight is not disturbed.
Node* g_reentrant_node;
std::string g_nested_reply;
int ReentrantFlush(ftg_blockdev*) {
  g_nested_reply = Conn(&g_reentrant_node->db_).Run({"set", "nested", "1"});
  return 0;
}

TEST(Aof, ReentryDuringACommitIsRefused) {
  MemDisk disk(256);
  Node n(&disk, 0);
  g_reentrant_node = &n;
  disk.dev()->flush = ReentrantFlush;
  EXPECT_EQ(n.Run({"set", "a", "1"}), "+OK\r\n");
  EXPECT_EQ(n.last_commit_, RD_AOF_OK);
  EXPECT_EQ(g_nested_reply, "-ERR internal error: the log was re-entered\r\n");
  EXPECT_EQ(n.Get("nested"), "$-1\r\n");
}

TEST(Aof, CrcIsCastagnoli) {
  EXPECT_EQ(rd_crc32c(0, "123456789", 9), 0xe3069283u);
}

}  // namespace
}  // namespace ft::guest_redis
