// A server's durable state for the AOF tests: a database whose writes go
// to a log on a MemDisk, driven in batches with group commit.
#ifndef FTVM_TESTS_GUEST_REDIS_AOF_NODE_H_
#define FTVM_TESTS_GUEST_REDIS_AOF_NODE_H_

#include <memory>
#include <string>
#include <vector>

#include "aof.h"
#include "commands.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {

inline constexpr uint64_t kSector = 512;
inline constexpr uint32_t kMaxCommit =
    16;  // sectors: small, so tests reach limits

class Node {
 public:
  Node(MemDisk* disk, int64_t now) {
    rd_db_init(&db_, now);
    status_ = rd_aof_open(&aof_, disk->dev(), kMaxCommit, rd_db_apply_record,
                          &db_, &report_);
    db_.now = now;
    if (status_ == RD_AOF_OK) db_.aof = &aof_;
    conn_ = std::make_unique<Conn>(&db_);
  }
  ~Node() {
    conn_.reset();
    rd_aof_close(&aof_);
    rd_db_free(&db_);
  }
  // One batch: run the requests, then group-commit, as the server does.
  std::string Batch(const std::string& requests) {
    std::string r = conn_->Feed(requests);
    last_commit_ = rd_aof_commit(&aof_);
    return r;
  }
  std::string Run(const std::vector<std::string>& args) {
    return Batch(Cmd(args));
  }
  std::string Get(const std::string& k) { return Conn(&db_).Run({"get", k}); }

  rd_db db_;
  rd_aof aof_{};
  rd_aof_report report_{};
  rd_aof_status status_;
  rd_aof_status last_commit_ = RD_AOF_OK;
  std::unique_ptr<Conn> conn_;
};

}  // namespace ft::guest_redis

#endif  // FTVM_TESTS_GUEST_REDIS_AOF_NODE_H_
