// TCP transports on the dedicated FT network.
//
// The log must travel on the FT network and nowhere else, so both ends are
// bound to a configured local address: the listener to its address:port, and
// the connecting side to its FT address before it connects. If that address
// is not on this host, or is a wildcard, the call fails with a message saying
// so; the kernel is never left to pick another source address, which would
// quietly move the log onto the management or guest network. An interface
// name may also be given to pin the socket to that device (SO_BINDTODEVICE).
//
// Sockets have TCP_NODELAY: the log is latency-bound (the primary holds
// outputs until their log is acknowledged) and the channel writes whole
// records, batched, itself.
//
// Thread ownership: as Transport (transport.h). Listener and connector: one
// thread at a time.
#ifndef FTVM_LOGCHANNEL_TCP_TRANSPORT_H_
#define FTVM_LOGCHANNEL_TCP_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "logchannel/transport.h"

namespace ft::logchannel {

struct TcpConnectOptions {
  // This host's address on the FT network (an IPv4 or IPv6 literal, a
  // link-local one with its %scope): the connection's source. Required.
  std::string local_address;
  // Optional: the FT network interface ("ft0"); the socket then only uses it.
  std::string interface;
  // The peer's listener (a literal, not a host name: no resolver on the
  // failover path).
  std::string remote_address;
  uint16_t remote_port = 0;
};

struct TcpListenOptions {
  // This host's FT address (literal); wildcards are refused.
  std::string address;
  // 0 picks a free port (tests); see TcpListener::port().
  uint16_t port = 0;
  std::string interface;  // optional, as in TcpConnectOptions
  int backlog = 8;
};

class TcpTransport : public Transport {
 public:
  // Connects as TcpConnectOptions says, by `deadline`. Errors:
  // FailedPrecondition for a local address that is not this host's (or a
  // wildcard, or an unknown interface), InvalidArgument for an address that
  // is not a literal, Unavailable for a refused or unreachable peer,
  // DeadlineExceeded.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> Connect(
      const TcpConnectOptions& options, absl::Time deadline);
  // Takes a connected socket.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> FromConnectedSocket(
      UniqueFd fd);
  ~TcpTransport() override = default;

  absl::Status Write(std::span<const uint8_t> bytes) override;
  absl::StatusOr<size_t> TryWrite(std::span<const uint8_t> bytes) override;
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                              absl::Time deadline) override;
  void ShutdownWrite() override;
  void Shutdown() override;
  std::string Describe() const override { return description_; }

  // The socket, to poll for the peer going away (the RDMA transport keeps
  // its bootstrap connection for that).
  int fd() const { return fd_.get(); }

 private:
  TcpTransport(UniqueFd fd, std::string description)
      : fd_(std::move(fd)), description_(std::move(description)) {}
  // Sends until done, or (with MSG_DONTWAIT in `flags`) the socket is full.
  absl::StatusOr<size_t> Send(std::span<const uint8_t> bytes, int flags);

  UniqueFd fd_;
  const std::string description_;
  std::atomic<bool> shut_{false};
};

class TcpListener : public Listener {
 public:
  // Binds and listens. Errors as TcpTransport::Connect's for the address.
  static absl::StatusOr<std::unique_ptr<TcpListener>> Listen(
      const TcpListenOptions& options);

  absl::StatusOr<std::unique_ptr<Transport>> Accept(
      absl::Time deadline) override;
  // As Accept, with the concrete type (the RDMA bootstrap needs fd()).
  absl::StatusOr<std::unique_ptr<TcpTransport>> AcceptTcp(absl::Time deadline);
  std::string Describe() const override { return description_; }
  // The bound port (the chosen one if options.port was 0).
  uint16_t port() const { return port_; }

 private:
  TcpListener(UniqueFd fd, uint16_t port, std::string description)
      : fd_(std::move(fd)), port_(port), description_(std::move(description)) {}

  UniqueFd fd_;
  uint16_t port_;
  std::string description_;
};

class TcpConnector : public Connector {
 public:
  explicit TcpConnector(TcpConnectOptions options)
      : options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<Transport>> Connect(
      absl::Time deadline) override;
  std::string Describe() const override;

 private:
  TcpConnectOptions options_;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_TCP_TRANSPORT_H_
