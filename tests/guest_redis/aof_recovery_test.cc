// Recovery of the durability log (guest/redis/aof.c) after crashes: torn
// and truncated last records at every byte, corruption, stale pieces of
// torn commits.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "aof.h"
#include "tests/guest_redis/aof_node.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {
namespace {

TEST(Aof, TornLastRecordAtEveryLengthIsIgnored) {
  // The 8 earlier records share a commit; the last record (2 sectors long)
  // is its own commit. Cut it at every byte, filling the rest with zeros
  // (unwritten sectors) or with garbage (stale data).
  MemDisk pristine(256);
  uint64_t start, end;
  {
    Node n(&pristine, 0);
    std::string batch;
    for (int i = 0; i < 8; i++)
      batch += Cmd({"set", "k" + std::to_string(i), "value"});
    n.Batch(batch);
    start = n.aof_.tail_sector * kSector;
    n.Run({"set", "last", std::string(700, 'L')});
    end = start + RD_AOF_HEADER_SIZE +
          Cmd({"SET", "last", std::string(700, 'L')}).size();
  }
  for (int fill : {0x00, 0xa5}) {
    for (uint64_t cut = start; cut < end; cut++) {
      MemDisk disk(256);
      disk.bytes() = pristine.bytes();
      for (uint64_t i = cut; i < end; i++)
        disk.bytes()[i] = static_cast<uint8_t>(fill);
      Node n(&disk, 0);
      ASSERT_EQ(n.status_, RD_AOF_OK) << cut;
      ASSERT_EQ(n.report_.records, 8u) << "cut " << cut << " fill " << fill;
      ASSERT_EQ(n.report_.tail, start) << cut;
      ASSERT_EQ(n.Get("last"), "$-1\r\n") << cut;
      ASSERT_EQ(n.Get("k7"), "$5\r\nvalue\r\n") << cut;
      // The log continues where the torn record was, and a later boot sees
      // the new record right after the intact ones, nothing stale.
      ASSERT_EQ(n.Run({"set", "after", "1"}), "+OK\r\n");
      Node again(&disk, 0);
      ASSERT_EQ(again.report_.records, 9u) << cut;
      ASSERT_EQ(again.report_.end, RD_AOF_END_CLEAN) << cut;
      ASSERT_EQ(again.Get("after"), "$1\r\n1\r\n");
      ASSERT_EQ(again.Get("last"), "$-1\r\n");
    }
  }
}

TEST(Aof, TornRecordInsideACommitKeepsTheIntactPrefix) {
  // Three records in one commit; tear the third at every byte.
  MemDisk pristine(256);
  uint64_t third = 0, end = 0;
  {
    Node n(&pristine, 0);
    std::string a = Cmd({"set", "a", std::string(300, 'a')});
    std::string b = Cmd({"set", "b", std::string(300, 'b')});
    n.conn_->Feed(a + b);
    third = n.aof_.tail_sector * kSector + n.aof_.len;
    n.Batch(Cmd({"set", "c", std::string(300, 'c')}));
    end = third + RD_AOF_HEADER_SIZE +
          Cmd({"SET", "c", std::string(300, 'c')}).size();
  }
  for (uint64_t cut = third; cut < end; cut++) {
    MemDisk disk(256);
    disk.bytes() = pristine.bytes();
    for (uint64_t i = cut; i < end; i++) disk.bytes()[i] = 0;
    Node n(&disk, 0);
    ASSERT_EQ(n.report_.records, 2u) << cut;
    if (cut == third) {
      // Zeros from a record boundary on look exactly like a commit's
      // padding: replay skips to the next sector and ends cleanly there.
      ASSERT_EQ(n.report_.tail, (third / kSector + 1) * kSector);
      ASSERT_EQ(n.report_.end, RD_AOF_END_CLEAN);
    } else {
      ASSERT_EQ(n.report_.tail, third) << cut;
      ASSERT_NE(n.report_.end, RD_AOF_END_CLEAN) << cut;
    }
    ASSERT_EQ(n.Get("c"), "$-1\r\n");
    ASSERT_EQ(n.Get("b").substr(0, 6), "$300\r\n");
  }
}

TEST(Aof, TruncatedImageAtEveryLengthOfTheLastRecord) {
  MemDisk pristine(256);
  uint64_t start, end;
  {
    Node n(&pristine, 0);
    for (int i = 0; i < 5; i++) n.Run({"incr", "n"});
    start = n.aof_.tail_sector * kSector;
    n.Run({"set", "last", std::string(1500, 'L')});
    end = start + RD_AOF_HEADER_SIZE +
          Cmd({"SET", "last", std::string(1500, 'L')}).size();
  }
  for (uint64_t cut = start; cut < end; cut++) {
    MemDisk disk(256);
    disk.bytes() = pristine.bytes();
    disk.Truncate(cut);  // the device ends at the last whole sector
    Node n(&disk, 0);
    ASSERT_EQ(n.status_, RD_AOF_OK) << cut;
    ASSERT_EQ(n.report_.records, 5u) << cut;
    ASSERT_EQ(n.Get("n"), "$1\r\n5\r\n") << cut;
    ASSERT_EQ(n.Get("last"), "$-1\r\n") << cut;
  }
}

TEST(Aof, CorruptChecksumStopsReplayThere) {
  MemDisk disk(256);
  std::vector<uint64_t> starts;
  {
    Node n(&disk, 0);
    for (int i = 0; i < 6; i++) {
      starts.push_back(n.aof_.tail_sector * kSector);
      n.Run({"set", "k" + std::to_string(i), "v"});
    }
  }
  disk.bytes()[starts[3] + RD_AOF_HEADER_SIZE + 10] ^= 0x20;  // payload bit
  Node n(&disk, 0);
  EXPECT_EQ(n.report_.records, 3u);
  EXPECT_EQ(n.report_.end, RD_AOF_END_BAD_CRC);
  EXPECT_EQ(n.report_.tail, starts[3]);
  EXPECT_EQ(n.Get("k2"), "$1\r\nv\r\n");
  EXPECT_EQ(n.Get("k3"), "$-1\r\n");
  EXPECT_EQ(n.Get("k5"), "$-1\r\n") << "nothing after the bad record";
}

TEST(Aof, BadLengthAndMagicStopReplay) {
  for (int which : {0, 1}) {
    MemDisk disk(256);
    uint64_t second = 0;
    {
      Node n(&disk, 0);
      n.Run({"set", "a", "1"});
      second = n.aof_.tail_sector * kSector;
      n.Run({"set", "b", "1"});
    }
    if (which == 0)
      disk.bytes()[second + 6] = 0x7f;  // length ~2 GB
    else
      disk.bytes()[second] ^= 0xff;  // magic
    Node n(&disk, 0);
    EXPECT_EQ(n.report_.records, 1u);
    EXPECT_EQ(n.report_.end,
              which == 0 ? RD_AOF_END_BAD_LENGTH : RD_AOF_END_BAD_MAGIC);
  }
}

TEST(Aof, StaleRecordsAfterATornCommitNeverComeBack) {
  // A commit whose first sector never reached the disk but whose later
  // sectors did: one of them starts exactly with a valid record.
  MemDisk disk(256);
  uint64_t tail;
  {
    Node n(&disk, 0);
    n.Run({"set", "base", "1"});
    tail = n.aof_.tail_sector * kSector;
  }
  MemDisk other(256);
  {
    Node o(&other, 0);
    o.Run({"set", "stale", "1"});
  }
  // Place other's record at tail + 3 sectors, as a stale piece.
  uint64_t rec = RD_AOF_LOG_START * kSector;
  std::copy(other.bytes().begin() + rec, other.bytes().begin() + rec + kSector,
            disk.bytes().begin() + tail + 3 * kSector);
  {
    Node n(&disk, 0);
    EXPECT_EQ(n.report_.records, 1u);
    // Opening zeroed everything a torn commit could have reached.
    for (uint64_t i = tail; i < tail + kMaxCommit * kSector; i++)
      ASSERT_EQ(disk.bytes()[i], 0) << i;
    // Three sectors of new records end right before where the stale one was.
    for (int i = 0; i < 3; i++)
      n.Run({"set", "n" + std::to_string(i), std::string(400, 'n')});
    EXPECT_EQ(n.aof_.tail_sector * kSector, tail + 3 * kSector);
  }
  Node n(&disk, 0);
  EXPECT_EQ(n.report_.records, 4u);
  EXPECT_EQ(n.Get("stale"), "$-1\r\n");
}

}  // namespace
}  // namespace ft::guest_redis
