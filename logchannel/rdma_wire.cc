#include "logchannel/rdma_wire.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace ft::logchannel {
namespace {

constexpr uint32_t k24Bits = 0xffffff;
constexpr uint32_t kImmCreditsMask = 0xffff;
constexpr uint32_t kImmFin = 0x80000000u;

void PutLe(uint64_t v, size_t bytes, std::vector<uint8_t>& out) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint64_t GetLe(std::span<const uint8_t> b, size_t at, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("RDMA connection details from the peer: ",
                   absl::string_view(what.data(), what.size())));
}

}  // namespace

std::vector<uint8_t> EncodeRdmaConnInfo(const RdmaConnInfo& info) {
  std::vector<uint8_t> out(kRdmaInfoMagic.begin(), kRdmaInfoMagic.end());
  PutLe(kRdmaInfoVersion, 2, out);
  out.push_back(info.mtu);
  out.push_back(0);
  PutLe(info.qp_num, 4, out);
  PutLe(info.psn, 4, out);
  PutLe(info.lid, 2, out);
  PutLe(0, 2, out);
  out.insert(out.end(), info.gid.begin(), info.gid.end());
  PutLe(info.depth, 4, out);
  PutLe(info.buffer_bytes, 4, out);
  FT_CHECK(out.size() == kRdmaInfoBytes);
  return out;
}

absl::StatusOr<RdmaConnInfo> DecodeRdmaConnInfo(std::span<const uint8_t> b) {
  if (b.size() != kRdmaInfoBytes) {
    return Bad(absl::StrCat(b.size(), " bytes, not ", kRdmaInfoBytes));
  }
  if (!std::equal(kRdmaInfoMagic.begin(), kRdmaInfoMagic.end(), b.begin())) {
    return Bad("bad magic (the peer is not an ftvm RDMA transport)");
  }
  const uint64_t version = GetLe(b, 4, 2);
  if (version != kRdmaInfoVersion) {
    return Bad(absl::StrCat("version ", version, ", this side speaks ",
                            kRdmaInfoVersion));
  }
  RdmaConnInfo info;
  info.mtu = b[6];
  if (info.mtu < 1 || info.mtu > 5) {
    return Bad(absl::StrCat("path MTU code ", info.mtu, " (1 to 5)"));
  }
  if (b[7] != 0 || GetLe(b, 18, 2) != 0) return Bad("non-zero padding");
  info.qp_num = static_cast<uint32_t>(GetLe(b, 8, 4));
  if (info.qp_num < 2 || info.qp_num > k24Bits) {
    return Bad(absl::StrCat("QP number ", info.qp_num,
                            " (2 to 2^24-1; 0 and 1 are reserved)"));
  }
  info.psn = static_cast<uint32_t>(GetLe(b, 12, 4));
  if (info.psn > k24Bits) {
    return Bad(absl::StrCat("PSN ", info.psn, " exceeds 24 bits"));
  }
  info.lid = static_cast<uint16_t>(GetLe(b, 16, 2));
  std::copy(b.begin() + 20, b.begin() + 36, info.gid.begin());
  if (info.lid == 0 && std::all_of(info.gid.begin(), info.gid.end(),
                                   [](uint8_t x) { return x == 0; })) {
    return Bad("neither a LID nor a GID: the peer gave no address");
  }
  info.depth = static_cast<uint32_t>(GetLe(b, 36, 4));
  if (info.depth < kMinRdmaDepth || info.depth > kMaxRdmaDepth) {
    return Bad(absl::StrCat("receive depth ", info.depth, " (", kMinRdmaDepth,
                            " to ", kMaxRdmaDepth, ")"));
  }
  info.buffer_bytes = static_cast<uint32_t>(GetLe(b, 40, 4));
  if (info.buffer_bytes < kMinRdmaBufferBytes ||
      info.buffer_bytes > kMaxRdmaBufferBytes) {
    return Bad(absl::StrCat("receive buffers of ", info.buffer_bytes,
                            " bytes (", kMinRdmaBufferBytes, " to ",
                            kMaxRdmaBufferBytes, ")"));
  }
  return info;
}

uint32_t EncodeRdmaImm(const RdmaImm& imm) {
  FT_CHECK(imm.credits <= kImmCreditsMask) << imm.credits << " credits";
  return imm.credits | (imm.fin ? kImmFin : 0);
}

absl::StatusOr<RdmaImm> DecodeRdmaImm(uint32_t imm) {
  if ((imm & ~(kImmCreditsMask | kImmFin)) != 0) {
    return absl::DataLossError(absl::StrCat(
        "RDMA message with unknown immediate bits 0x", absl::Hex(imm)));
  }
  return RdmaImm{.credits = imm & kImmCreditsMask, .fin = (imm & kImmFin) != 0};
}

CreditWindow::CreditWindow(uint32_t own_depth, uint32_t peer_depth)
    : own_depth_(own_depth),
      peer_depth_(peer_depth),
      threshold_(std::max<uint32_t>(1, own_depth / 2)),
      credits_(peer_depth) {
  FT_CHECK(own_depth >= kMinRdmaDepth && peer_depth >= kMinRdmaDepth)
      << "depths " << own_depth << ", " << peer_depth;
  FT_CHECK(own_depth <= kImmCreditsMask) << "depth " << own_depth;
}

uint32_t CreditWindow::TakeForSend() {
  FT_CHECK(credits_ >= 1) << "RDMA send without a credit";
  --credits_;
  const uint32_t returned = pending_;
  pending_ = 0;
  return returned;
}

absl::Status CreditWindow::OnCreditsReturned(uint32_t n) {
  if (n > peer_depth_ - credits_) {
    return absl::DataLossError(absl::StrCat(
        "the RDMA peer returned ", n, " credits with ", credits_, " of ",
        peer_depth_, " still unused: it does not keep count"));
  }
  credits_ += n;
  return absl::OkStatus();
}

absl::Status CreditWindow::OnReposted() {
  if (pending_ >= own_depth_) {
    return absl::FailedPreconditionError(
        absl::StrCat("RDMA receive buffer reposted with all ", own_depth_,
                     " already pending"));
  }
  ++pending_;
  return absl::OkStatus();
}

}  // namespace ft::logchannel
