// The transport-independent connection (guest/redis/conn.c): pipelining,
// output backpressure, query limits, protocol errors, close semantics.
#include "conn.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/guest_redis/host_alloc.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {
namespace {

class ConnTest : public ::testing::Test {
 protected:
  ConnTest() { rd_db_init(&db_, 0); }
  ~ConnTest() override { rd_db_free(&db_); }
  // Takes everything queued.
  static std::string Drain(rd_conn* c) {
    const char* p;
    size_t n = rd_conn_output(c, &p);
    std::string s(p, n);
    rd_conn_sent(c, n);
    return s;
  }
  rd_db db_;
};

TEST_F(ConnTest, PipelinedRepliesInOrderAcrossArbitraryReads) {
  std::string stream;
  std::string want;
  for (int i = 0; i < 50; i++) {
    stream += Cmd({"incr", "n"});
    want += ":" + std::to_string(i + 1) + "\r\n";
  }
  for (size_t chunk : {1u, 3u, 7u, 64u, 100000u}) {
    rd_store_flush(&db_.store);
    rd_conn c;
    rd_conn_init(&c, &db_, nullptr);
    std::string got;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      rd_conn_receive(&c, stream.data() + i,
                      std::min(chunk, stream.size() - i));
      rd_conn_process(&c);
      got += Drain(&c);
    }
    EXPECT_EQ(got, want) << chunk;
    rd_conn_free(&c);
  }
}

TEST_F(ConnTest, BacksOffWhileOutputIsUnsent) {
  rd_conn_limits lim = {{RD_RESP_DEFAULT_MAX_ARGS, RD_RESP_DEFAULT_MAX_BULK,
                         RD_RESP_DEFAULT_MAX_INLINE},
                        RD_CONN_DEFAULT_MAX_QUERY,
                        100};
  rd_conn c;
  rd_conn_init(&c, &db_, &lim);
  Conn(&db_).Run({"set", "big", std::string(60, 'x')});
  std::string pipeline;
  for (int i = 0; i < 10; i++) pipeline += Cmd({"get", "big"});
  rd_conn_receive(&c, pipeline.data(), pipeline.size());
  rd_conn_process(&c);
  EXPECT_TRUE(rd_conn_paused(&c));
  const char* p;
  size_t first = rd_conn_output(&c, &p);
  EXPECT_EQ(first, 2 * 67u) << "stopped once more than 100 bytes waited";
  std::string got;
  while (rd_conn_output(&c, &p) > 0) {
    got += Drain(&c);
    rd_conn_process(&c);
  }
  EXPECT_EQ(got.size(), 10 * 67u);
  EXPECT_FALSE(rd_conn_paused(&c));
  EXPECT_FALSE(rd_conn_runnable(&c));
  rd_conn_free(&c);
}

TEST_F(ConnTest, RunnableOnlyWhenHeldBackRequestsCanRun) {
  rd_conn_limits lim = {{RD_RESP_DEFAULT_MAX_ARGS, RD_RESP_DEFAULT_MAX_BULK,
                         RD_RESP_DEFAULT_MAX_INLINE},
                        RD_CONN_DEFAULT_MAX_QUERY,
                        10};
  rd_conn c;
  rd_conn_init(&c, &db_, &lim);
  // A partial request is not runnable: it needs bytes, not a turn.
  std::string part = "*1\r\n$4\r\nPI";
  rd_conn_receive(&c, part.data(), part.size());
  rd_conn_process(&c);
  EXPECT_FALSE(rd_conn_runnable(&c));
  std::string rest = "NG\r\n" + Cmd({"ping"}) + Cmd({"ping"}) + Cmd({"ping"});
  rd_conn_receive(&c, rest.data(), rest.size());
  rd_conn_process(&c);  // two PONGs (14 bytes) > 10: held back
  EXPECT_TRUE(rd_conn_paused(&c));
  EXPECT_FALSE(rd_conn_runnable(&c)) << "output still queued";
  EXPECT_EQ(Drain(&c), "+PONG\r\n+PONG\r\n");
  EXPECT_TRUE(rd_conn_runnable(&c));
  rd_conn_process(&c);
  EXPECT_EQ(Drain(&c), "+PONG\r\n+PONG\r\n");
  EXPECT_FALSE(rd_conn_runnable(&c));
  rd_conn_free(&c);
}

TEST_F(ConnTest, ProtocolErrorRepliesThenCloses) {
  Conn c(&db_);
  EXPECT_EQ(c.Feed(Cmd({"ping"}) + "*1\r\n:x\r\n" + Cmd({"ping"})),
            "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.Feed(Cmd({"ping"})), "") << "nothing is read after the error";
}

TEST_F(ConnTest, QuitStopsTheRestOfThePipeline) {
  Conn c(&db_);
  EXPECT_EQ(
      c.Feed(Cmd({"set", "a", "1"}) + Cmd({"quit"}) + Cmd({"set", "b", "1"})),
      "+OK\r\n+OK\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(Conn(&db_).Run({"exists", "a", "b"}), ":1\r\n");
}

TEST_F(ConnTest, QueryBufferLimitDropsTheClient) {
  rd_conn_limits lim = {{RD_RESP_DEFAULT_MAX_ARGS, RD_RESP_DEFAULT_MAX_BULK,
                         RD_RESP_DEFAULT_MAX_INLINE},
                        1000,
                        RD_CONN_DEFAULT_MAX_OUTPUT};
  rd_conn c;
  rd_conn_init(&c, &db_, &lim);
  std::string part = "*2\r\n$4\r\necho\r\n$5000\r\n" + std::string(900, 'x');
  rd_conn_receive(&c, part.data(), part.size());
  rd_conn_process(&c);
  EXPECT_FALSE(c.dead);
  rd_conn_receive(&c, part.data(), 200);
  EXPECT_TRUE(c.dead);
  EXPECT_TRUE(rd_conn_done(&c));
  const char* p;
  EXPECT_EQ(rd_conn_output(&c, &p), 0u);
  rd_conn_free(&c);
}

TEST_F(ConnTest, OutOfMemoryDropsTheClientWithoutAPartialReply) {
  Conn(&db_).Run({"set", "v", std::string(5000, 'v')});
  for (long budget = 0; budget < 6; budget++) {
    Conn c(&db_);
    std::string r;
    {
      ScopedAllocFailure f(budget);
      r = c.Run({"mget", "v", "v", "v"});
    }
    if (c.dead()) {
      EXPECT_EQ(r, "") << budget;
    } else {
      EXPECT_EQ(r.size(), 4 + 3 * (7 + 5000 + 2u)) << budget;
    }
  }
}

}  // namespace
}  // namespace ft::guest_redis
