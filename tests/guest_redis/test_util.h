// Shared helpers for the redis core tests: RESP encoding, a connection that
// feeds bytes through parser -> commands as the guest server does, and an
// in-memory block device that can tear writes.
#ifndef FTVM_TESTS_GUEST_REDIS_TEST_UTIL_H_
#define FTVM_TESTS_GUEST_REDIS_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "aof.h"
#include "blockdev.h"
#include "commands.h"
#include "conn.h"
#include "resp.h"

namespace ft::guest_redis {

// The multibulk encoding redis-cli sends for these arguments.
inline std::string Cmd(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

// One client connection over guest/redis/conn.c, the code the guest's
// server runs per TCP connection: bytes in, replies out (this transport
// takes every reply at once, so output never backs up).
class Conn {
 public:
  explicit Conn(rd_db* db, const rd_resp_limits* limits = nullptr) {
    rd_conn_limits lim = {{RD_RESP_DEFAULT_MAX_ARGS, RD_RESP_DEFAULT_MAX_BULK,
                           RD_RESP_DEFAULT_MAX_INLINE},
                          RD_CONN_DEFAULT_MAX_QUERY,
                          RD_CONN_DEFAULT_MAX_OUTPUT};
    if (limits != nullptr) lim.resp = *limits;
    rd_conn_init(&c_, db, &lim);
  }
  ~Conn() { rd_conn_free(&c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Feeds bytes; returns the replies they produced ("" if the connection
  // had to be dropped without replying).
  std::string Feed(const std::string& bytes) {
    std::string r;
    rd_conn_receive(&c_, bytes.data(), bytes.size());
    for (;;) {
      rd_conn_process(&c_);
      const char* p;
      size_t n = rd_conn_output(&c_, &p);
      if (n == 0) break;
      r.append(p, n);
      rd_conn_sent(&c_, n);
    }
    return c_.dead ? "" : r;
  }
  std::string Run(const std::vector<std::string>& args) {
    return Feed(Cmd(args));
  }
  bool closed() const { return rd_conn_done(&c_); }
  bool dead() const { return c_.dead; }
  size_t buffered() const { return c_.in.len - c_.in_off; }

 private:
  rd_conn c_;
};

// A block device in memory. Writes can be torn: only the first
// `write_budget` sectors of the remaining writes land, then writes fail.
class MemDisk {
 public:
  explicit MemDisk(uint64_t sectors) : data_(sectors * 512, 0) {
    dev_.sectors = sectors;
    dev_.ctx = this;
    dev_.read = [](ftg_blockdev* d, uint64_t s, uint32_t n, void* buf) {
      auto* m = static_cast<MemDisk*>(d->ctx);
      if (m->fail_reads_ || s + n > d->sectors) return 1;
      std::memcpy(buf, m->data_.data() + s * 512, n * 512ull);
      ++m->reads_;
      return 0;
    };
    dev_.write = [](ftg_blockdev* d, uint64_t s, uint32_t n, const void* buf) {
      auto* m = static_cast<MemDisk*>(d->ctx);
      if (s + n > d->sectors) return 1;
      for (uint32_t i = 0; i < n; i++) {
        if (m->write_budget_ == 0) return 1;
        if (m->write_budget_ > 0) --m->write_budget_;
        std::memcpy(m->data_.data() + (s + i) * 512,
                    static_cast<const char*>(buf) + i * 512ull, 512);
      }
      ++m->writes_;
      return 0;
    };
    dev_.flush = [](ftg_blockdev* d) {
      auto* m = static_cast<MemDisk*>(d->ctx);
      ++m->flushes_;
      return m->fail_flush_ ? 1 : 0;
    };
  }
  ftg_blockdev* dev() { return &dev_; }
  std::vector<uint8_t>& bytes() { return data_; }
  // Keeps the first `n` bytes and shrinks the device (a truncated image).
  void Truncate(uint64_t n) {
    data_.resize(n);
    dev_.sectors = n / 512;
  }
  void set_write_budget(long sectors) { write_budget_ = sectors; }
  void set_fail_flush(bool f) { fail_flush_ = f; }
  void set_fail_reads(bool f) { fail_reads_ = f; }
  int writes() const { return writes_; }
  int flushes() const { return flushes_; }

 private:
  std::vector<uint8_t> data_;
  ftg_blockdev dev_{};
  long write_budget_ = -1;  // -1: unlimited
  bool fail_flush_ = false;
  bool fail_reads_ = false;
  int reads_ = 0;
  int writes_ = 0;
  int flushes_ = 0;
};

}  // namespace ft::guest_redis

#endif  // FTVM_TESTS_GUEST_REDIS_TEST_UTIL_H_
