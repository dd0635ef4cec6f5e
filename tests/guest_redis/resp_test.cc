// RESP2 parser and reply builder (guest/redis/resp.c). Expected bytes and
// error texts were taken from redis-server 7.0.15.
#include "resp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/guest_redis/host_alloc.h"
#include "tests/guest_redis/test_util.h"

namespace ft::guest_redis {
namespace {

using Args = std::vector<std::string>;

struct Parsed {
  std::vector<Args> cmds;
  std::string error;  // "" unless a protocol error ended the stream
};

// Feeds `stream` in the given chunk sizes (the last chunk gets the rest) and
// collects every request, the way a connection would.
Parsed ParseChunked(const std::string& stream, const std::vector<size_t>& cuts,
                    const rd_resp_limits* lim = nullptr) {
  rd_resp_parser p;
  rd_resp_parser_init(&p, lim);
  Parsed out;
  std::string buf;
  size_t fed = 0;
  for (size_t i = 0; i <= cuts.size() && out.error.empty(); i++) {
    size_t end = i < cuts.size() ? cuts[i] : stream.size();
    buf += stream.substr(fed, end - fed);
    fed = end;
    for (;;) {
      rd_resp_cmd cmd;
      size_t used = 0;
      rd_resp_status st =
          rd_resp_parse(&p, buf.data(), buf.size(), &cmd, &used);
      if (st == RD_RESP_CMD) {
        Args a;
        for (size_t k = 0; k < cmd.argc; k++)
          a.emplace_back(cmd.argv[k], cmd.argl[k]);
        out.cmds.push_back(a);
      } else if (st == RD_RESP_ERROR) {
        out.error = rd_resp_error(&p);
      }
      buf.erase(0, used);
      if (st != RD_RESP_CMD) break;
    }
  }
  rd_resp_parser_free(&p);
  return out;
}

Parsed Parse(const std::string& s, const rd_resp_limits* lim = nullptr) {
  return ParseChunked(s, {}, lim);
}

TEST(RespParser, MultibulkAsRedisCliSendsIt) {
  Parsed r = Parse(Cmd({"SET", "key", "value"}));
  EXPECT_EQ(r.error, "");
  ASSERT_EQ(r.cmds.size(), 1u);
  EXPECT_EQ(r.cmds[0], (Args{"SET", "key", "value"}));
}

TEST(RespParser, BinarySafeArguments) {
  std::string v("a\0b\r\nc", 6);
  Parsed r = Parse(Cmd({"SET", std::string("\0", 1), v, ""}));
  ASSERT_EQ(r.cmds.size(), 1u);
  EXPECT_EQ(r.cmds[0], (Args{"SET", std::string("\0", 1), v, ""}));
}

TEST(RespParser, PipelineOfManyRequestsInOneRead) {
  std::string s;
  for (int i = 0; i < 100; i++)
    s += Cmd({"INCR", "counter:" + std::to_string(i)});
  Parsed r = Parse(s);
  ASSERT_EQ(r.cmds.size(), 100u);
  for (int i = 0; i < 100; i++)
    EXPECT_EQ(r.cmds[i][1], "counter:" + std::to_string(i));
}

// A stream mixing every request form; parsed whole it gives `want`.
const std::string& MixedStream() {
  static const std::string s =
      Cmd({"SET", "k", std::string("v\r\n\0x", 5)}) + "PING\r\n" + "*0\r\n" +
      Cmd({"GET", "k"}) + "  echo \"a b\\x41\"  'c d'\n" + "\r\n" + "*-1\r\n" +
      Cmd({"MSET", "a", "1", "b", std::string(300, 'z')}) + "QUIT\r\n";
  return s;
}
const std::vector<Args> kMixedWant = {
    {"SET", "k", std::string("v\r\n\0x", 5)},
    {"PING"},
    {"GET", "k"},
    {"echo", "a bA", "c d"},
    {"MSET", "a", "1", "b", std::string(300, 'z')},
    {"QUIT"}};

TEST(RespParser, MixedStreamWhole) {
  Parsed r = Parse(MixedStream());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.cmds, kMixedWant);
}

TEST(RespParser, SplitAtEveryByteBoundary) {
  const std::string& s = MixedStream();
  for (size_t cut = 0; cut <= s.size(); cut++) {
    Parsed r = ParseChunked(s, {cut});
    ASSERT_EQ(r.error, "") << "cut at " << cut;
    ASSERT_EQ(r.cmds, kMixedWant) << "cut at " << cut;
  }
}

TEST(RespParser, OneByteAtATime) {
  const std::string& s = MixedStream();
  std::vector<size_t> cuts;
  for (size_t i = 1; i < s.size(); i++) cuts.push_back(i);
  Parsed r = ParseChunked(s, cuts);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.cmds, kMixedWant);
}

TEST(RespParser, InlineForms) {
  EXPECT_EQ(Parse("PING\r\n").cmds, (std::vector<Args>{{"PING"}}));
  EXPECT_EQ(Parse("PING\n").cmds, (std::vector<Args>{{"PING"}}));
  EXPECT_EQ(Parse("  \r\nPING\r\n").cmds, (std::vector<Args>{{"PING"}}));
  EXPECT_EQ(Parse("set \"a b\" \"c\\x41\\n\"\r\n").cmds,
            (std::vector<Args>{{"set", "a b", "cA\n"}}));
  EXPECT_EQ(Parse("echo 'a\\'b'\r\n").cmds,
            (std::vector<Args>{{"echo", "a'b"}}));
  EXPECT_EQ(Parse("echo a\"b c\"\r\n").cmds,
            (std::vector<Args>{{"echo", "ab c"}}));
  // Multibulk after inline and inline after multibulk share a stream.
  EXPECT_EQ(Parse("PING\r\n" + Cmd({"PING"}) + "PING\r\n").cmds.size(), 3u);
  // An incomplete line waits.
  EXPECT_TRUE(Parse("PING").cmds.empty());
}

TEST(RespParser, RedisIgnoresTheBytesAfterBulkData) {
  // Redis skips the two bytes after a bulk without checking them.
  Parsed r = Parse("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.cmds.size(), 2u);
}

struct ErrorCase {
  std::string input;
  std::string error;
  size_t commands_before;
};

TEST(RespParser, ProtocolErrorsWithRedisTexts) {
  const std::vector<ErrorCase> cases = {
      {"set \"a b\r\n", "Protocol error: unbalanced quotes in request", 0},
      {"echo 'it''s'\r\n", "Protocol error: unbalanced quotes in request", 0},
      {"echo \"a\"b\r\n", "Protocol error: unbalanced quotes in request", 0},
      {"*abc\r\n", "Protocol error: invalid multibulk length", 0},
      {"*+1\r\n", "Protocol error: invalid multibulk length", 0},
      {"*01\r\n", "Protocol error: invalid multibulk length", 0},
      {"*\r\n", "Protocol error: invalid multibulk length", 0},
      {"*3000000000\r\n", "Protocol error: invalid multibulk length", 0},
      {"*1\n$4\r\nPING\r\n", "Protocol error: invalid multibulk length", 0},
      {"*1\r\n:4\r\n", "Protocol error: expected '$', got ':'", 0},
      {"*1\r\n\r\n\r\n", "Protocol error: expected '$', got ' '", 0},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length", 0},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length", 0},
      {"*1\r\n$ 4\r\n", "Protocol error: invalid bulk length", 0},
      {"*1\r\n$4\nPING\r\n", "Protocol error: invalid bulk length", 0},
      {Cmd({"PING"}) + "*x\r\n", "Protocol error: invalid multibulk length", 1},
      {std::string(70000, 'x'), "Protocol error: too big inline request", 0},
      {"*" + std::string(70000, '1'),
       "Protocol error: too big mbulk count string", 0},
      {"*1\r\n$" + std::string(70000, '1'),
       "Protocol error: too big bulk count string", 0},
  };
  for (const auto& c : cases) {
    Parsed r = Parse(c.input);
    EXPECT_EQ(r.error, c.error) << c.input.substr(0, 40);
    EXPECT_EQ(r.cmds.size(), c.commands_before) << c.input.substr(0, 40);
    // The same error whatever the read boundaries.
    for (size_t cut = 1; cut < c.input.size() && cut < 40; cut++)
      EXPECT_EQ(ParseChunked(c.input, {cut}).error, c.error)
          << c.input.substr(0, 40);
  }
}

TEST(RespParser, ErrorIsSticky) {
  rd_resp_parser p;
  rd_resp_parser_init(&p, nullptr);
  rd_resp_cmd cmd;
  size_t used;
  std::string bad = "*x\r\n";
  EXPECT_EQ(rd_resp_parse(&p, bad.data(), bad.size(), &cmd, &used),
            RD_RESP_ERROR);
  std::string good = Cmd({"PING"});
  EXPECT_EQ(rd_resp_parse(&p, good.data(), good.size(), &cmd, &used),
            RD_RESP_ERROR);
  rd_resp_parser_free(&p);
}

TEST(RespParser, ConfigurableLimits) {
  rd_resp_limits lim = {3, 10, 16};
  EXPECT_EQ(Parse(Cmd({"a", "b", "c"}), &lim).cmds.size(), 1u);
  EXPECT_EQ(Parse(Cmd({"a", "b", "c", "d"}), &lim).error,
            "Protocol error: invalid multibulk length");
  EXPECT_EQ(Parse(Cmd({"SET", std::string(10, 'v')}), &lim).cmds.size(), 1u);
  EXPECT_EQ(Parse(Cmd({"SET", std::string(11, 'v')}), &lim).error,
            "Protocol error: invalid bulk length");
  EXPECT_EQ(Parse(std::string(17, 'x'), &lim).error,
            "Protocol error: too big inline request");
  // Redis only limits inline requests still missing their newline.
  EXPECT_EQ(Parse(std::string(40, 'x') + "\r\n", &lim).cmds.size(), 1u);
  // A bulk at the limit that is still arriving is waited for, not refused.
  Parsed partial = Parse("*1\r\n$10\r\nabc", &lim);
  EXPECT_EQ(partial.error, "");
  EXPECT_TRUE(partial.cmds.empty());
}

TEST(RespParser, OutOfMemoryLeavesTheBytesReparsable) {
  std::string s =
      Cmd({"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"});
  for (long budget = 0;; budget++) {
    rd_resp_parser p;
    rd_resp_parser_init(&p, nullptr);
    rd_resp_cmd cmd;
    size_t used;
    rd_resp_status st;
    {
      ScopedAllocFailure fail(budget);
      st = rd_resp_parse(&p, s.data(), s.size(), &cmd, &used);
    }
    if (st == RD_RESP_NOMEM) {
      EXPECT_EQ(used, 0u);
      st =
          rd_resp_parse(&p, s.data(), s.size(), &cmd, &used);  // memory is back
    }
    ASSERT_EQ(st, RD_RESP_CMD) << budget;
    EXPECT_EQ(cmd.argc, 11u);
    EXPECT_EQ(std::string(cmd.argv[10], cmd.argl[10]), "5");
    rd_resp_parser_free(&p);
    if (budget > 20) break;
  }
}

std::string Build(void (*fn)(rd_buf*)) {
  rd_buf b;
  rd_buf_init(&b);
  fn(&b);
  std::string s(b.data, b.len);
  rd_buf_free(&b);
  return s;
}

TEST(RespReply, EveryType) {
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_simple(b, "OK"); }), "+OK\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_error(b, "ERR x"); }), "-ERR x\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_int(b, -42); }), ":-42\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_int(b, INT64_MIN); }),
            ":-9223372036854775808\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_bulk(b, "a\r\nb", 4); }),
            "$4\r\na\r\nb\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_bulk(b, "", 0); }), "$0\r\n\r\n");
  EXPECT_EQ(Build([](rd_buf* b) { rd_reply_null(b); }), "$-1\r\n");
  EXPECT_EQ(Build([](rd_buf* b) {
              rd_reply_array(b, 2);
              rd_reply_bulk_str(b, "x");
              rd_reply_null(b);
            }),
            "*2\r\n$1\r\nx\r\n$-1\r\n");
}

TEST(RespReply, OutOfMemoryIsSticky) {
  rd_buf b;
  rd_buf_init(&b);
  {
    ScopedAllocFailure fail(0);
    rd_reply_simple(&b, "OK");
  }
  EXPECT_TRUE(b.oom);
  rd_reply_simple(&b, "OK");  // never a reply with a hole in it
  EXPECT_EQ(b.len, 0u);
  rd_buf_free(&b);
}

TEST(RespNumbers, Str2llFollowsRedis) {
  int64_t v;
  struct Case {
    const char* s;
    bool ok;
    int64_t v;
  };
  const Case cases[] = {
      {"0", true, 0},
      {"-1", true, -1},
      {"123", true, 123},
      {"9223372036854775807", true, INT64_MAX},
      {"-9223372036854775808", true, INT64_MIN},
      {"9223372036854775808", false, 0},
      {"-9223372036854775809", false, 0},
      {"", false, 0},
      {"-", false, 0},
      {"-0", false, 0},
      {"007", false, 0},
      {"+1", false, 0},
      {" 1", false, 0},
      {"1 ", false, 0},
      {"1.5", false, 0},
      {"123456789012345678901", false, 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(rd_str2ll(c.s, strlen(c.s), &v), c.ok) << c.s;
    if (c.ok) {
      EXPECT_EQ(v, c.v) << c.s;
    }
  }
  char buf[24];
  EXPECT_EQ(std::string(buf, rd_ll2str(buf, INT64_MIN)),
            "-9223372036854775808");
  EXPECT_EQ(std::string(buf, rd_ll2str(buf, 0)), "0");
}

}  // namespace
}  // namespace ft::guest_redis
