#include "logchannel/tcp_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ft::logchannel {
namespace {

absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// The peer is gone (reset, timed out, closed under us).
absl::Status Broken(const std::string& description, int err) {
  const char* text = strerrordesc_np(err);
  return absl::UnavailableError(
      absl::StrCat(description, ": the connection to the peer broke (",
                   text != nullptr ? text : "unknown error", ")"));
}

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
  int family() const { return storage.ss_family; }
};

// "1.2.3.4:80", "[fe80::1%ft0]:80".
std::string Format(const SockAddr& a) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (::getnameinfo(a.get(), a.len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  if (a.family() == AF_INET6) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

// A numeric address (no resolver: name lookups can hang on the failover path
// and could resolve to a non-FT address).
absl::StatusOr<SockAddr> ParseAddress(std::string_view what,
                                      const std::string& address,
                                      uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = absl::StrCat(port);
  const int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        AbslView(what), " '", address,
        "' is not an IPv4 or IPv6 address literal (host names are not "
        "resolved on the FT network): ",
        rc != 0 ? ::gai_strerror(rc) : "no address"));
  }
  SockAddr out;
  std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return out;
}

bool IsWildcard(const SockAddr& a) {
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.get())->sin_addr.s_addr ==
           htonl(INADDR_ANY);
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a.get());
  return IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
}

uint16_t PortOf(const SockAddr& a) {
  if (a.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(a.get())->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_port);
}

// The FT address as the local end of a socket: a socket of its family, pinned
// to `interface` if given, bound to it.
absl::StatusOr<UniqueFd> BoundSocket(const SockAddr& local,
                                     const std::string& interface,
                                     bool listener) {
  if (IsWildcard(local)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the FT address ", Format(local),
        " is a wildcard: configure this host's address on the FT network, so "
        "that the log cannot travel on another network"));
  }
  UniqueFd fd(::socket(local.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus(errno, "socket(SOCK_STREAM)");
  const int one = 1;
  if (listener) {
    // A restarted secondary must be able to listen again at once.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
        0) {
      return ErrnoStatus(errno, "setsockopt(SO_REUSEADDR)");
    }
  } else {
    // Binds the address now and the port at connect time, so that many
    // outgoing connections do not exhaust the ephemeral ports.
    (void)::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                       sizeof(one));
  }
  if (!interface.empty()) {
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                     interface.size()) < 0) {
      const int err = errno;
      if (err == ENODEV) {
        return absl::FailedPreconditionError(
            absl::StrCat("the FT network interface '", interface,
                         "' does not exist on this host"));
      }
      return ErrnoStatus(
          err, absl::StrCat("binding the socket to interface '", interface,
                            "' (SO_BINDTODEVICE needs "
                            "CAP_NET_RAW on older kernels)"));
    }
  }
  if (::bind(fd.get(), local.get(), local.len) < 0) {
    const int err = errno;
    if (err == EADDRNOTAVAIL) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the FT address ", Format(local),
          " is not an address of this host: configure it on the FT network "
          "interface or fix the configured FT address (the log channel never "
          "falls back to another address)"));
    }
    if (err == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the FT address ", Format(local),
          " is in use (another ftvm listening on the same port?)"));
    }
    return ErrnoStatus(err, absl::StrCat("bind(", Format(local), ")"));
  }
  return fd;
}

absl::Status SetNoDelay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
    return ErrnoStatus(errno, "setsockopt(TCP_NODELAY)");
  }
  return absl::OkStatus();
}

absl::Status SetBlocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return ErrnoStatus(errno, "fcntl(F_GETFL)");
  const int want = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  if (::fcntl(fd, F_SETFL, want) < 0) return ErrnoStatus(errno, "fcntl");
  return absl::OkStatus();
}

// Waits for `events` on `fd`: true if ready, false at the deadline.
absl::StatusOr<bool> WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int rc = ::poll(&p, 1, PollTimeoutMs(deadline));
    if (rc > 0) return true;
    if (rc == 0) {
      if (absl::Now() >= deadline) return false;
      continue;  // woke early (rounding)
    }
    if (errno != EINTR) return ErrnoStatus(errno, "poll");
  }
}

absl::StatusOr<SockAddr> LocalOf(int fd) {
  SockAddr a;
  a.len = sizeof(a.storage);
  if (::getsockname(fd, a.get(), &a.len) < 0) {
    return ErrnoStatus(errno, "getsockname");
  }
  return a;
}

absl::StatusOr<SockAddr> PeerOf(int fd) {
  SockAddr a;
  a.len = sizeof(a.storage);
  if (::getpeername(fd, a.get(), &a.len) < 0) {
    return ErrnoStatus(errno, "getpeername");
  }
  return a;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::Connect(
    const TcpConnectOptions& options, absl::Time deadline) {
  if (options.local_address.empty()) {
    return absl::InvalidArgumentError(
        "no local FT address configured: the log channel connects only from "
        "this host's address on the FT network");
  }
  FT_ASSIGN_OR_RETURN(SockAddr local, ParseAddress("the local FT address",
                                                   options.local_address, 0));
  FT_ASSIGN_OR_RETURN(const SockAddr remote,
                      ParseAddress("the peer's address", options.remote_address,
                                   options.remote_port));
  if (local.family() != remote.family()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the local FT address ", options.local_address, " and the peer's ",
        options.remote_address, " are not of the same IP version"));
  }
  FT_ASSIGN_OR_RETURN(UniqueFd fd,
                      BoundSocket(local, options.interface, false));
  const std::string what = absl::StrCat(
      "connecting from ", options.local_address, " to ", Format(remote));
  FT_RETURN_IF_ERROR(SetBlocking(fd.get(), false));
  if (::connect(fd.get(), remote.get(), remote.len) < 0) {
    if (errno != EINPROGRESS) {
      return Annotate(ErrnoStatus(errno, "connect"), what);
    }
    FT_ASSIGN_OR_RETURN(const bool ready, WaitFor(fd.get(), POLLOUT, deadline));
    if (!ready) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": no answer before the deadline"));
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
      return ErrnoStatus(errno, "getsockopt(SO_ERROR)");
    }
    if (err != 0) {
      if (err == ECONNREFUSED) {
        return absl::UnavailableError(absl::StrCat(
            what, ": connection refused (is the peer listening?)"));
      }
      return Annotate(ErrnoStatus(err, "connect"), what);
    }
  }
  FT_RETURN_IF_ERROR(SetBlocking(fd.get(), true));
  return FromConnectedSocket(std::move(fd));
}

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::FromConnectedSocket(
    UniqueFd fd) {
  FT_RETURN_IF_ERROR(SetNoDelay(fd.get()));
  FT_ASSIGN_OR_RETURN(const SockAddr local, LocalOf(fd.get()));
  FT_ASSIGN_OR_RETURN(const SockAddr peer, PeerOf(fd.get()));
  return std::unique_ptr<TcpTransport>(new TcpTransport(
      std::move(fd),
      absl::StrCat("tcp ", Format(local), " -> ", Format(peer))));
}

absl::StatusOr<size_t> TcpTransport::Send(std::span<const uint8_t> bytes,
                                          int flags) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (shut_.load()) {
      return absl::CancelledError(absl::StrCat(description_, ": shut down"));
    }
    const ssize_t n = ::send(fd_.get(), bytes.data() + sent,
                             bytes.size() - sent, MSG_NOSIGNAL | flags);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;  // only with DONTWAIT
      if (shut_.load()) {
        return absl::CancelledError(absl::StrCat(description_, ": shut down"));
      }
      if (err == EPIPE || err == ECONNRESET || err == ETIMEDOUT) {
        return Broken(description_, err);
      }
      return Annotate(ErrnoStatus(err, "send"), description_);
    }
    sent += static_cast<size_t>(n);
  }
  return sent;
}

absl::Status TcpTransport::Write(std::span<const uint8_t> bytes) {
  return Send(bytes, 0).status();
}

absl::StatusOr<size_t> TcpTransport::TryWrite(std::span<const uint8_t> bytes) {
  return Send(bytes, MSG_DONTWAIT);
}

absl::StatusOr<size_t> TcpTransport::Read(std::span<uint8_t> buf,
                                          absl::Time deadline) {
  while (true) {
    if (shut_.load()) {
      return absl::CancelledError(absl::StrCat(description_, ": shut down"));
    }
    FT_ASSIGN_OR_RETURN(const bool ready, WaitFor(fd_.get(), POLLIN, deadline));
    if (!ready) {
      return absl::DeadlineExceededError(
          absl::StrCat(description_, ": nothing to read before the deadline"));
    }
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    // After our own Shutdown, recv reports an end of stream: say what it is.
    if (shut_.load()) {
      return absl::CancelledError(absl::StrCat(description_, ": shut down"));
    }
    if (n >= 0) return static_cast<size_t>(n);
    const int err = errno;
    if (err == EINTR || err == EAGAIN) continue;
    if (err == ECONNRESET || err == ETIMEDOUT) return Broken(description_, err);
    return Annotate(ErrnoStatus(err, "recv"), description_);
  }
}

void TcpTransport::ShutdownWrite() { (void)::shutdown(fd_.get(), SHUT_WR); }

void TcpTransport::Shutdown() {
  shut_.store(true);
  // Wakes threads blocked in poll, recv or send on the socket; the fd itself
  // stays open until destruction so that it cannot be reused under them.
  (void)::shutdown(fd_.get(), SHUT_RDWR);
}

absl::StatusOr<std::unique_ptr<TcpListener>> TcpListener::Listen(
    const TcpListenOptions& options) {
  FT_ASSIGN_OR_RETURN(
      const SockAddr local,
      ParseAddress("the FT listen address", options.address, options.port));
  FT_ASSIGN_OR_RETURN(UniqueFd fd, BoundSocket(local, options.interface, true));
  if (::listen(fd.get(), options.backlog) < 0) {
    return ErrnoStatus(errno, absl::StrCat("listen(", Format(local), ")"));
  }
  // Non-blocking, so that a connection that goes away between poll and
  // accept cannot block Accept past its deadline.
  FT_RETURN_IF_ERROR(SetBlocking(fd.get(), false));
  FT_ASSIGN_OR_RETURN(const SockAddr bound, LocalOf(fd.get()));
  return std::unique_ptr<TcpListener>(
      new TcpListener(std::move(fd), PortOf(bound),
                      absl::StrCat("tcp listener ", Format(bound))));
}

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpListener::AcceptTcp(
    absl::Time deadline) {
  while (true) {
    FT_ASSIGN_OR_RETURN(const bool ready, WaitFor(fd_.get(), POLLIN, deadline));
    if (!ready) {
      return absl::DeadlineExceededError(
          absl::StrCat(description_, ": no connection before the deadline"));
    }
    UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn) return TcpTransport::FromConnectedSocket(std::move(conn));
    // The connection may have gone between poll and accept.
    if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
    return ErrnoStatus(errno, absl::StrCat("accept on ", description_));
  }
}

absl::StatusOr<std::unique_ptr<Transport>> TcpListener::Accept(
    absl::Time deadline) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<TcpTransport> t, AcceptTcp(deadline));
  return t;
}

absl::StatusOr<std::unique_ptr<Transport>> TcpConnector::Connect(
    absl::Time deadline) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<TcpTransport> t,
                      TcpTransport::Connect(options_, deadline));
  return t;
}

std::string TcpConnector::Describe() const {
  return absl::StrCat("tcp connector ", options_.local_address, " -> ",
                      options_.remote_address, ":", options_.remote_port);
}

}  // namespace ft::logchannel
