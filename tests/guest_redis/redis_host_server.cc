// The guest's redis core (guest/redis) served over host TCP sockets, with
// the same group commit as the guest: every poll round runs what all
// clients sent, commits the log once, then writes the replies. It lets
// redis-cli and redis-benchmark check the core on the host
// (redis_tools_test.cc), before the guest's virtio-net driver exists.
//
//   redis_host_server [--port N] [--disk FILE] [--sectors N]
//
// Prints "listening on port P" once ready. --disk keeps the log in FILE
// (created with --sectors 512-byte sectors if missing); without it the log
// lives in memory. Exits when stdin reaches EOF.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "aof.h"
#include "blockdev.h"
#include "commands.h"
#include "conn.h"

namespace {

// A block device over a file: pread/pwrite, fdatasync for flush.
struct FileDisk {
  int fd = -1;
  ftg_blockdev dev{};
};

int FileRead(ftg_blockdev* d, uint64_t s, uint32_t n, void* buf) {
  auto* f = static_cast<FileDisk*>(d->ctx);
  ssize_t want = static_cast<ssize_t>(n) * 512;
  return pread(f->fd, buf, want, static_cast<off_t>(s * 512)) == want ? 0 : 1;
}
int FileWrite(ftg_blockdev* d, uint64_t s, uint32_t n, const void* buf) {
  auto* f = static_cast<FileDisk*>(d->ctx);
  ssize_t want = static_cast<ssize_t>(n) * 512;
  return pwrite(f->fd, buf, want, static_cast<off_t>(s * 512)) == want ? 0 : 1;
}
int FileFlush(ftg_blockdev* d) {
  return fdatasync(static_cast<FileDisk*>(d->ctx)->fd);
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

struct Client {
  int fd;
  rd_conn conn;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  const char* disk_path = nullptr;
  uint64_t sectors = 65536;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port"))
      port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--disk"))
      disk_path = argv[i + 1];
    else if (!strcmp(argv[i], "--sectors"))
      sectors = strtoull(argv[i + 1], nullptr, 10);
  }
  FileDisk disk;
  if (disk_path != nullptr) {
    disk.fd = open(disk_path, O_RDWR | O_CREAT, 0644);
    struct stat st;
    if (disk.fd < 0 || fstat(disk.fd, &st) != 0) {
      perror(disk_path);
      return 1;
    }
    if (st.st_size == 0 &&
        ftruncate(disk.fd, static_cast<off_t>(sectors * 512)) != 0)
      return 1;
    if (st.st_size != 0) sectors = static_cast<uint64_t>(st.st_size) / 512;
  } else {
    char name[] = "/tmp/redis_host_server.XXXXXX";
    disk.fd = mkstemp(name);
    unlink(name);
    if (disk.fd < 0 ||
        ftruncate(disk.fd, static_cast<off_t>(sectors * 512)) != 0)
      return 1;
  }
  disk.dev = {sectors, &disk, FileRead, FileWrite, FileFlush};

  rd_db db;
  rd_db_init(&db, NowMs());
  rd_aof aof;
  rd_aof_report rep;
  rd_aof_status st =
      rd_aof_open(&aof, &disk.dev, 0, rd_db_apply_record, &db, &rep);
  if (st != RD_AOF_OK) {
    fprintf(stderr, "aof: %s\n", rd_aof_status_name(st));
    return 1;
  }
  db.aof = &aof;
  db.now = NowMs();
  fprintf(stderr, "replayed %llu records, end=%s\n",
          static_cast<unsigned long long>(rep.records),
          rd_aof_end_name(rep.end));

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t alen = sizeof(addr);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(lfd, 128) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
    perror("listen");
    return 1;
  }
  db.info.tcp_port = ntohs(addr.sin_port);
  printf("listening on port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  std::vector<std::unique_ptr<Client>> clients;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    std::vector<pollfd> fds = {{0, POLLIN, 0}, {lfd, POLLIN, 0}};
    int timeout_ms = 100;
    for (auto& c : clients) {
      if (rd_conn_runnable(&c->conn)) timeout_ms = 0;
      const char* p;
      short ev = rd_conn_output(&c->conn, &p) ? POLLOUT : 0;
      if (!rd_conn_paused(&c->conn)) ev |= POLLIN;
      fds.push_back({c->fd, ev, 0});
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0) continue;
    if (fds[0].revents) {
      if (read(0, buf.data(), buf.size()) <= 0) break;
    }
    if (fds[1].revents & POLLIN) {
      int fd = accept(lfd, nullptr, nullptr);
      if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        auto c = std::make_unique<Client>();
        c->fd = fd;
        rd_conn_init(&c->conn, &db, nullptr);
        db.stats.connections_received++;
        clients.push_back(std::move(c));
      }
    }
    // 1. Run everything received this round.
    db.now = NowMs();
    for (size_t i = 0; i + 2 < fds.size() && i < clients.size(); i++) {
      Client& c = *clients[i];
      if (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(c.fd, buf.data(), buf.size());
        if (n > 0)
          rd_conn_receive(&c.conn, buf.data(), static_cast<size_t>(n));
        else if (n == 0 || errno != EAGAIN)
          c.conn.dead = true;
      }
      rd_conn_process(&c.conn);
    }
    // 2. Group commit; 3. only then the replies.
    if (rd_aof_commit(&aof) != RD_AOF_OK) {
      fprintf(stderr, "aof commit failed: stopping\n");
      return 1;
    }
    for (auto& c : clients) {
      const char* p;
      size_t n = rd_conn_output(&c->conn, &p);
      if (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w > 0)
          rd_conn_sent(&c->conn, static_cast<size_t>(w));
        else if (w < 0 && errno != EAGAIN)
          c->conn.dead = true;
      }
    }
    for (size_t i = 0; i < clients.size();) {
      if (rd_conn_done(&clients[i]->conn)) {
        close(clients[i]->fd);
        rd_conn_free(&clients[i]->conn);
        clients.erase(clients.begin() + static_cast<long>(i));
      } else {
        i++;
      }
    }
    db.stats.connected_clients = clients.size();
    rd_store_expire_cycle(&db.store, db.now, 16);
  }
  return 0;
}
