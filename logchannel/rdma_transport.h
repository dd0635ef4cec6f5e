// RDMA transport through libibverbs: a byte stream over a reliable-connected
// (RC) queue pair, for hosts whose FT network is InfiniBand or RoCE.
//
// Establishing: the two sides first connect over TCP on the FT network (the
// bootstrap connection, tcp_transport.h, bound to the FT address like any
// log channel connection), create their queue pairs, exchange their
// connection details (QP number, LID, GID, PSN, MTU, receive depth and
// buffer size: rdma_wire.h) as a small checked message, move the QPs to
// ready-to-send and confirm with one byte each. The bootstrap connection is
// kept open: its end tells that the peer process is gone at once, where the
// QP would only notice after its retries.
//
// The stream: SEND_WITH_IMM messages into registered receive buffers, with
// receive credits (rdma_wire.h) so that nothing is sent into a buffer the
// peer has not posted. ShutdownWrite sends a FIN message.
//
// Hosts without an RDMA device: Connect and Accept fail with NotFound saying
// so; RdmaDeviceNames() is empty.
//
// Thread ownership: as Transport (transport.h). Listener and connector: one
// thread at a time.
#ifndef FTVM_LOGCHANNEL_RDMA_TRANSPORT_H_
#define FTVM_LOGCHANNEL_RDMA_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "logchannel/tcp_transport.h"
#include "logchannel/transport.h"

namespace ft::logchannel {

struct RdmaOptions {
  // The verbs device ("mlx5_0"); empty for the first one found.
  std::string device;
  uint8_t port = 1;
  // The GID table entry to use (RoCE needs one; for RoCE v2 on IPv4 it is
  // usually the entry of the FT address).
  int gid_index = 0;
  // Receive buffers posted, and their size: what the peer may have in
  // flight towards us.
  uint32_t depth = 32;
  uint32_t buffer_bytes = 64 * 1024;
};

// The names of the RDMA devices on this host; empty if there are none (or
// the kernel has no verbs support).
std::vector<std::string> RdmaDeviceNames();

// Makes an RDMA transport on an established bootstrap connection. Both
// sides call it (the listener's side after accepting).
absl::StatusOr<std::unique_ptr<Transport>> EstablishRdma(
    std::unique_ptr<TcpTransport> bootstrap, const RdmaOptions& options,
    absl::Time deadline);

class RdmaListener : public Listener {
 public:
  static absl::StatusOr<std::unique_ptr<RdmaListener>> Listen(
      const TcpListenOptions& bootstrap, RdmaOptions options);

  absl::StatusOr<std::unique_ptr<Transport>> Accept(
      absl::Time deadline) override;
  std::string Describe() const override;
  uint16_t port() const { return tcp_->port(); }

 private:
  RdmaListener(std::unique_ptr<TcpListener> tcp, RdmaOptions options)
      : tcp_(std::move(tcp)), options_(std::move(options)) {}

  std::unique_ptr<TcpListener> tcp_;
  RdmaOptions options_;
};

class RdmaConnector : public Connector {
 public:
  RdmaConnector(TcpConnectOptions bootstrap, RdmaOptions options)
      : bootstrap_(std::move(bootstrap)), options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<Transport>> Connect(
      absl::Time deadline) override;
  std::string Describe() const override;

 private:
  TcpConnectOptions bootstrap_;
  RdmaOptions options_;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_RDMA_TRANSPORT_H_
