// The device-free half of the RDMA transport (rdma_transport.h): the
// connection details the two sides exchange over their TCP bootstrap
// connection, the immediate data of each message, and the receive-credit
// accounting. Kept apart from libibverbs so that it is unit-tested on hosts
// without an RDMA device.
//
// Stream over SEND/RECV: each side posts `depth` receive buffers of
// `buffer_bytes`. A message is one SEND_WITH_IMM carrying up to the peer's
// buffer size of stream bytes (0 for a pure credit return) and 32 bits of
// immediate data: the number of our receive buffers freed since our last
// message (credits returned to the peer) and a FIN bit (end of our stream).
// A side may only send into a buffer the peer is known to have posted:
// CreditWindow counts them.
//
// Stateless functions: any thread. CreditWindow: one thread at a time (the
// transport's lock).
#ifndef FTVM_LOGCHANNEL_RDMA_WIRE_H_
#define FTVM_LOGCHANNEL_RDMA_WIRE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft::logchannel {

inline constexpr std::array<uint8_t, 4> kRdmaInfoMagic = {'F', 'T', 'R', 'B'};
inline constexpr uint16_t kRdmaInfoVersion = 1;
inline constexpr size_t kRdmaInfoBytes = 44;
inline constexpr uint32_t kMinRdmaDepth = 4;
inline constexpr uint32_t kMaxRdmaDepth = 4096;
inline constexpr uint32_t kMinRdmaBufferBytes = 4096;
inline constexpr uint32_t kMaxRdmaBufferBytes = 16u << 20;

// One side's queue pair, as the other needs it to connect (RTR) and send.
//
//   magic "FTRB" (4) | version (u16 LE) | path MTU (u8, IBV_MTU_256=1 ..
//   IBV_MTU_4096=5) | 0 (u8) | QP number (u32 LE, 24 bits) | PSN (u32 LE,
//   24 bits) | LID (u16 LE) | 0 (u16) | GID (16) | receive depth (u32 LE) |
//   receive buffer bytes (u32 LE)
struct RdmaConnInfo {
  uint8_t mtu = 0;
  uint32_t qp_num = 0;
  uint32_t psn = 0;
  uint16_t lid = 0;
  std::array<uint8_t, 16> gid{};
  uint32_t depth = 0;
  uint32_t buffer_bytes = 0;
  bool operator==(const RdmaConnInfo&) const = default;
};

std::vector<uint8_t> EncodeRdmaConnInfo(const RdmaConnInfo& info);
// DataLoss naming the field for anything out of range: a wrong size or
// magic, another version, an MTU code, QP number or PSN beyond 24 bits (QP 0
// and 1 are reserved), no address (LID and GID both zero), depth or buffer
// size beyond the bounds above, non-zero padding.
absl::StatusOr<RdmaConnInfo> DecodeRdmaConnInfo(std::span<const uint8_t> bytes);

// Immediate data: bits 0..15 credits returned, bit 31 FIN, others zero.
struct RdmaImm {
  uint32_t credits = 0;
  bool fin = false;
  bool operator==(const RdmaImm&) const = default;
};
uint32_t EncodeRdmaImm(const RdmaImm& imm);
absl::StatusOr<RdmaImm> DecodeRdmaImm(uint32_t imm);

// Receive credits, for one side. credits(): messages we may still send
// (buffers the peer has posted and not yet told us were filled). pending():
// our buffers freed (reposted) and not yet reported to the peer.
//
// Rules, which keep both sides from waiting on each other forever: a data
// message needs 2 credits (the last one is kept for returning credits); a
// pure credit return needs 1 and is sent once at least half our buffers are
// pending. Every message carries all pending credits.
class CreditWindow {
 public:
  // `own_depth`: our posted receive buffers; `peer_depth`: the peer's.
  CreditWindow(uint32_t own_depth, uint32_t peer_depth);

  bool CanSendData() const { return credits_ >= 2; }
  bool ShouldReturnCredits() const {
    return pending_ >= threshold_ && credits_ >= 1;
  }
  // Takes one credit for a message about to be posted, and returns the
  // pending credits it carries (now reported). Needs credits() >= 1.
  uint32_t TakeForSend();
  // The peer returned `n` credits. DataLoss if that is more than it could
  // have (a peer that does not keep count).
  absl::Status OnCreditsReturned(uint32_t n);
  // One of our receive buffers was reposted. FailedPrecondition (our bug or
  // a peer that sent without a credit) beyond own_depth.
  absl::Status OnReposted();

  uint32_t credits() const { return credits_; }
  uint32_t pending() const { return pending_; }

 private:
  uint32_t own_depth_;
  uint32_t peer_depth_;
  uint32_t threshold_;
  uint32_t credits_;
  uint32_t pending_ = 0;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_RDMA_WIRE_H_
