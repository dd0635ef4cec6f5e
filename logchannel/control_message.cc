#include "logchannel/control_message.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ft::logchannel {
namespace {

constexpr uint8_t kMagic0 = 'F';
constexpr uint8_t kMagic1 = 'Q';
constexpr uint8_t kVersion = 1;
constexpr uint8_t kResyncKind = 1;
constexpr size_t kPrefixBytes = 4;           // magic, version, kind
constexpr size_t kResyncFixedBytes = 8 + 2;  // position, length

void PutLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t GetLe(std::span<const uint8_t> in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{in[i]} << (8 * i);
  return v;
}

}  // namespace

std::vector<uint8_t> EncodeControlMessage(const ControlMessage& message) {
  const auto& resync = std::get<ResyncRequest>(message);
  const size_t n = std::min(resync.reason.size(), kMaxResyncReasonBytes);
  std::vector<uint8_t> out = {kMagic0, kMagic1, kVersion, kResyncKind};
  PutLe(out, resync.position, 8);
  PutLe(out, n, 2);
  out.insert(out.end(), resync.reason.begin(), resync.reason.begin() + n);
  return out;
}

absl::StatusOr<ControlMessage> DecodeControlMessage(
    std::span<const uint8_t> bytes) {
  if (bytes.size() < kPrefixBytes || bytes[0] != kMagic0 ||
      bytes[1] != kMagic1) {
    return absl::DataLossError(
        "control message: no \"FQ\" magic (the peer sent something that is "
        "not a request)");
  }
  if (bytes[2] != kVersion) {
    return absl::DataLossError(absl::StrCat("control message: version ",
                                            bytes[2], " (this build knows 1)"));
  }
  if (bytes[3] != kResyncKind) {
    return absl::DataLossError(
        absl::StrCat("control message: unknown kind ", bytes[3]));
  }
  const std::span<const uint8_t> body = bytes.subspan(kPrefixBytes);
  if (body.size() < kResyncFixedBytes) {
    return absl::DataLossError(absl::StrCat(
        "control message: a RESYNC of ", body.size(),
        " bytes is shorter than its fixed part (", kResyncFixedBytes, ")"));
  }
  const size_t length = GetLe(body.subspan(8), 2);
  if (length > kMaxResyncReasonBytes) {
    return absl::DataLossError(
        absl::StrCat("control message: a RESYNC reason of ", length,
                     " bytes (at most ", kMaxResyncReasonBytes, ")"));
  }
  if (body.size() != kResyncFixedBytes + length) {
    return absl::DataLossError(absl::StrCat(
        "control message: a RESYNC of ", body.size(), " bytes announces a ",
        length, "-byte reason (it must be exactly ", kResyncFixedBytes + length,
        " bytes)"));
  }
  const std::span<const uint8_t> reason = body.subspan(kResyncFixedBytes);
  return ResyncRequest{.position = GetLe(body, 8),
                       .reason = std::string(reason.begin(), reason.end())};
}

}  // namespace ft::logchannel
