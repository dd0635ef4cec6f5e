// Commands (guest/redis/commands*.c) against the exact bytes redis-server
// 7.0.15 replies (captured with raw sockets; see docs/redis.md).
#include "commands.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/guest_redis/host_alloc.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {
namespace {

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() { rd_db_init(&db_, /*now=*/1000000); }
  ~CommandsTest() override { rd_db_free(&db_); }
  std::string R(const std::vector<std::string>& args) {
    return Conn(&db_).Run(args);
  }
  rd_db db_;
};

struct Case {
  std::vector<std::string> cmd;
  std::string reply;
};

// Runs the cases in order on one database (later cases see earlier writes).
void RunCases(rd_db* db, const std::vector<Case>& cases) {
  Conn conn(db);
  for (const auto& c : cases) {
    std::string joined;
    for (const auto& a : c.cmd) joined += a + " ";
    EXPECT_EQ(conn.Run(c.cmd), c.reply) << joined;
  }
}

TEST_F(CommandsTest, PingEchoSelectQuit) {
  RunCases(
      &db_,
      {
          {{"PING"}, "+PONG\r\n"},
          {{"ping", "hi"}, "$2\r\nhi\r\n"},
          {{"ping", "a", "b"},
           "-ERR wrong number of arguments for 'ping' command\r\n"},
          {{"ECHO"}, "-ERR wrong number of arguments for 'echo' command\r\n"},
          {{"echo", "x"}, "$1\r\nx\r\n"},
          {{"echo", "a", "b"},
           "-ERR wrong number of arguments for 'echo' command\r\n"},
          {{"select", "0"}, "+OK\r\n"},
          {{"select", "16"}, "-ERR DB index is out of range\r\n"},
          {{"select", "x"}, "-ERR value is not an integer or out of range\r\n"},
          {{"select", "00"},
           "-ERR value is not an integer or out of range\r\n"},
      });
  Conn c(&db_);
  EXPECT_EQ(c.Feed(Cmd({"ping"}) + Cmd({"quit"}) + Cmd({"ping"})),
            "+PONG\r\n+OK\r\n");
  EXPECT_TRUE(c.closed());
}

TEST_F(CommandsTest, ShutdownClosesWithoutReplyAndFlagsTheServer) {
  RunCases(&db_, {{{"shutdown", "foo"}, "-ERR syntax error\r\n"},
                  {{"shutdown", "nosave", "abort"}, "-ERR syntax error\r\n"}});
  EXPECT_FALSE(db_.shutdown);
  Conn c(&db_);
  EXPECT_EQ(c.Feed(Cmd({"shutdown", "NOSAVE"}) + Cmd({"ping"})), "");
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(db_.shutdown);
}

TEST_F(CommandsTest, SetAndItsOptions) {
  RunCases(
      &db_,
      {
          {{"set"}, "-ERR wrong number of arguments for 'set' command\r\n"},
          {{"set", "k"},
           "-ERR wrong number of arguments for 'set' command\r\n"},
          {{"set", "k", "v", "ex"}, "-ERR syntax error\r\n"},
          {{"set", "k", "v", "ex", "0"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"set", "k", "v", "ex", "-1"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"set", "k", "v", "ex", "abc"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"set", "k", "v", "ex", "9223372036854775807"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"set", "k", "v", "px", "9223372036854775807"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"set", "k", "v", "exat", "99999999999999999"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"set", "k", "v", "nx", "xx"}, "-ERR syntax error\r\n"},
          {{"set", "k", "v", "xx", "nx"}, "-ERR syntax error\r\n"},
          {{"set", "k", "v", "ex", "10", "px", "10"}, "-ERR syntax error\r\n"},
          {{"set", "k", "v", "keepttl", "ex", "5"}, "-ERR syntax error\r\n"},
          {{"set", "k", "v", "foo"}, "-ERR syntax error\r\n"},
          {{"get", "k"}, "$-1\r\n"},
          {{"set", "k", "v", "ex", "10", "ex", "20"}, "+OK\r\n"},
          {{"ttl", "k"}, ":20\r\n"},
          {{"set", "k", "v", "get"}, "$1\r\nv\r\n"},
          {{"ttl", "k"}, ":-1\r\n"},
          {{"set", "k", "w", "GET"}, "$1\r\nv\r\n"},
          {{"get", "k"}, "$1\r\nw\r\n"},
          {{"set", "k2", "v", "nx", "get"}, "$-1\r\n"},
          {{"set", "k2", "z", "nx", "get"}, "$1\r\nv\r\n"},
          {{"set", "k2", "z", "nx"}, "$-1\r\n"},
          {{"set", "k3", "z", "xx"}, "$-1\r\n"},
          {{"set", "k2", "z", "xx"}, "+OK\r\n"},
          {{"set", "k", "v", "pxat", "1"}, "+OK\r\n"},
          {{"get", "k"}, "$-1\r\n"},
          {{"set", "k", "v", "px", "1500"}, "+OK\r\n"},
          {{"pttl", "k"}, ":1500\r\n"},
          {{"ttl", "k"}, ":2\r\n"},  // Redis rounds: (1500 + 500) / 1000
          {{"set", "k", "w", "keepttl"}, "+OK\r\n"},
          {{"pttl", "k"}, ":1500\r\n"},
          {{"set", "k", "v", "exat", "2000"}, "+OK\r\n"},
          {{"pttl", "k"}, ":1000000\r\n"},
          {{"ttl", "nokey"}, ":-2\r\n"},
      });
}

TEST_F(CommandsTest, GetDelExistsMgetMset) {
  RunCases(
      &db_,
      {
          {{"get"}, "-ERR wrong number of arguments for 'get' command\r\n"},
          {{"get", "missing"}, "$-1\r\n"},
          {{"del"}, "-ERR wrong number of arguments for 'del' command\r\n"},
          {{"set", "k", "v"}, "+OK\r\n"},
          {{"del", "k", "k2", "missing"}, ":1\r\n"},
          {{"exists", "k"}, ":0\r\n"},
          {{"set", "a", "1"}, "+OK\r\n"},
          {{"exists", "a", "a", "b"}, ":2\r\n"},
          {{"mset", "a"},
           "-ERR wrong number of arguments for 'mset' command\r\n"},
          {{"mset", "a", "1", "b"},
           "-ERR wrong number of arguments for 'mset' command\r\n"},
          {{"mset", "a", "8", "c", "abc"}, "+OK\r\n"},
          {{"mget", "a", "missing", "c"},
           "*3\r\n$1\r\n8\r\n$-1\r\n$3\r\nabc\r\n"},
          {{"mget"}, "-ERR wrong number of arguments for 'mget' command\r\n"},
          {{"dbsize"}, ":2\r\n"},
          {{"dbsize", "x"},
           "-ERR wrong number of arguments for 'dbsize' command\r\n"},
      });
}

TEST_F(CommandsTest, IncrFamily) {
  RunCases(
      &db_,
      {
          {{"set", "a", "1"}, "+OK\r\n"},
          {{"incr", "a"}, ":2\r\n"},
          {{"incrby", "a", "10"}, ":12\r\n"},
          {{"decr", "a"}, ":11\r\n"},
          {{"decrby", "a", "3"}, ":8\r\n"},
          {{"incr", "fresh"}, ":1\r\n"},
          {{"decr", "fresh2"}, ":-1\r\n"},
          {{"incrby", "a", "x"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"incrby", "a", "1.5"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"set", "b", "9223372036854775807"}, "+OK\r\n"},
          {{"incr", "b"}, "-ERR increment or decrement would overflow\r\n"},
          {{"set", "b", "-9223372036854775808"}, "+OK\r\n"},
          {{"decr", "b"}, "-ERR increment or decrement would overflow\r\n"},
          {{"decrby", "a", "-9223372036854775808"},
           "-ERR decrement would overflow\r\n"},
          {{"set", "c", " 1"}, "+OK\r\n"},
          {{"incr", "c"}, "-ERR value is not an integer or out of range\r\n"},
          {{"set", "c", "007"}, "+OK\r\n"},
          {{"incr", "c"}, "-ERR value is not an integer or out of range\r\n"},
          {{"set", "c", "-0"}, "+OK\r\n"},
          {{"incr", "c"}, "-ERR value is not an integer or out of range\r\n"},
          {{"set", "c", "0"}, "+OK\r\n"},
          {{"incr", "c"}, ":1\r\n"},
          {{"incr"}, "-ERR wrong number of arguments for 'incr' command\r\n"},
          {{"incrby", "a"},
           "-ERR wrong number of arguments for 'incrby' command\r\n"},
      });
}

TEST_F(CommandsTest, IncrKeepsTheTtl) {
  RunCases(&db_, {{{"set", "n", "5", "ex", "100"}, "+OK\r\n"},
                  {{"incr", "n"}, ":6\r\n"},
                  {{"ttl", "n"}, ":100\r\n"}});
}

TEST_F(CommandsTest, AppendStrlenFlushall) {
  RunCases(&db_, {
                     {{"append", "newk", "hello"}, ":5\r\n"},
                     {{"append", "newk", " world"}, ":11\r\n"},
                     {{"strlen", "newk"}, ":11\r\n"},
                     {{"strlen", "nokey"}, ":0\r\n"},
                     {{"get", "newk"}, "$11\r\nhello world\r\n"},
                     {{"flushall", "foo"}, "-ERR syntax error\r\n"},
                     {{"flushall", "async"}, "+OK\r\n"},
                     {{"dbsize"}, ":0\r\n"},
                     {{"flushall"}, "+OK\r\n"},
                 });
}

TEST_F(CommandsTest, UnknownCommandsAsRedisReportsThem) {
  RunCases(
      &db_,
      {
          {{"foobar", "a", "b", "c"},
           "-ERR unknown command 'foobar', with args beginning with: 'a' 'b' "
           "'c' \r\n"},
          {{"foobar"},
           "-ERR unknown command 'foobar', with args beginning with: \r\n"},
          {{"x", "a\r\nb"},
           "-ERR unknown command 'x', with args beginning with: 'a  b' \r\n"},
      });
  // Arguments stop once the list reaches 128 bytes, the last one cut to fit.
  std::string r =
      R({"nope", std::string(100, 'a'), std::string(100, 'b'), "c"});
  EXPECT_EQ(r, "-ERR unknown command 'nope', with args beginning with: '" +
                   std::string(100, 'a') + "' '" + std::string(25, 'b') +
                   "' \r\n");
}

TEST_F(CommandsTest, ConfigAndCommandForTheTools) {
  RunCases(
      &db_,
      {
          // redis-benchmark, before each test:
          {{"CONFIG", "GET", "save"}, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"},
          {{"CONFIG", "GET", "appendonly"},
           "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n"},
          {{"config", "get", "SAVE"}, "*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n"},
          {{"config", "get", "nosuchthing"}, "*0\r\n"},
          {{"config", "get", "*max-*len*"},
           "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n"},
          {{"config", "get"},
           "-ERR wrong number of arguments for 'config|get' command\r\n"},
          {{"config", "foo"},
           "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"},
          {{"config"},
           "-ERR wrong number of arguments for 'config' command\r\n"},
          {{"config", "set", "foo", "bar"},
           "-ERR Unknown option or number of arguments for CONFIG SET - "
           "'foo'\r\n"},
          {{"config", "resetstat"}, "+OK\r\n"},
          // redis-cli, when it starts interactively:
          {{"COMMAND", "DOCS"}, "*0\r\n"},
          {{"command"}, "*0\r\n"},
          {{"command", "count"},
           ":" + std::to_string(rd_command_count()) + "\r\n"},
          {{"command", "count", "x"},
           "-ERR wrong number of arguments for 'command|count' command\r\n"},
          {{"command", "info", "get", "nosuch"}, "*2\r\n$-1\r\n$-1\r\n"},
          {{"command", "foo"},
           "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"},
      });
}

TEST_F(CommandsTest, InfoSections) {
  R({"set", "k", "v", "ex", "100"});
  db_.now += 5000;
  std::string all = R({"info"});
  ASSERT_EQ(all.substr(0, 1), "$");
  for (const char* needle :
       {"# Server\r\nredis_version:7.0.0\r\n", "redis_mode:standalone\r\n",
        "tcp_port:6379\r\n", "uptime_in_seconds:5\r\n", "\r\n\r\n# Clients\r\n",
        "# Memory\r\nused_memory:",
        "# Persistence\r\nloading:0\r\naof_enabled:0\r\n", "# Stats\r\n",
        "total_commands_processed:",
        "# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\n"})
    EXPECT_NE(all.find(needle), std::string::npos) << needle;
  std::string server = R({"info", "SERVER"});
  EXPECT_NE(server.find("# Server"), std::string::npos);
  EXPECT_EQ(server.find("# Clients"), std::string::npos);
  EXPECT_EQ(server.substr(server.size() - 4),
            "\r\n\r\n");  // last line + bulk end
  EXPECT_EQ(R({"info", "foo"}), "$0\r\n\r\n");
  // The bulk length is right.
  size_t crlf = all.find("\r\n");
  EXPECT_EQ(std::stoul(all.substr(1, crlf - 1)), all.size() - crlf - 4);
}

TEST_F(CommandsTest, ExpiryWithAFakeClock) {
  RunCases(&db_, {{{"set", "s", "v", "ex", "10"}, "+OK\r\n"},
                  {{"set", "p", "v", "px", "250"}, "+OK\r\n"},
                  {{"set", "forever", "v"}, "+OK\r\n"},
                  {{"dbsize"}, ":3\r\n"}});
  db_.now += 250;
  RunCases(&db_, {{{"get", "p"}, "$1\r\nv\r\n"}, {{"pttl", "p"}, ":0\r\n"}});
  db_.now += 1;
  RunCases(&db_, {{{"get", "p"}, "$-1\r\n"},
                  {{"exists", "p", "s"}, ":1\r\n"},
                  {{"dbsize"}, ":2\r\n"}});
  db_.now += 10000;
  RunCases(&db_, {{{"dbsize"}, ":1\r\n"},
                  {{"incr", "s"}, ":1\r\n"},  // expired: starts from 0
                  {{"ttl", "s"}, ":-1\r\n"},
                  {{"append", "p", "x"}, ":1\r\n"}});
}

TEST_F(CommandsTest, WritesAreAtomicUnderOutOfMemory) {
  // Whatever allocation fails, the reply says what happened to the data.
  for (long budget = 0; budget < 12; budget++) {
    rd_store_flush(&db_.store);
    Conn c(&db_);
    ASSERT_EQ(c.Run({"set", "k", "old"}), "+OK\r\n");
    std::string r;
    {
      ScopedAllocFailure f(budget);
      r = c.Run({"set", "k", std::string(200, 'n'), "get"});
    }
    const char* oom =
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    if (r == oom) {
      EXPECT_EQ(c.Run({"get", "k"}), "$3\r\nold\r\n") << budget;
    } else if (!r.empty()) {  // the reply buffer itself may be what failed
      EXPECT_EQ(r, "$3\r\nold\r\n") << budget;
      EXPECT_EQ(c.Run({"strlen", "k"}), ":200\r\n") << budget;
    }
  }
}

}  // namespace
}  // namespace ft::guest_redis
