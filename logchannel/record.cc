#include "logchannel/record.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/check.h"

namespace ft::logchannel {
namespace {

void PutLe(uint64_t v, size_t bytes, std::vector<uint8_t>& out) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint64_t GetLe(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// Reads fields front to back; every read is bounds-checked and a short body
// becomes an error naming the record type.
class BodyReader {
 public:
  BodyReader(std::string_view what, std::span<const uint8_t> body)
      : what_(what), body_(body) {}

  bool Has(size_t n) const { return body_.size() - at_ >= n; }
  uint64_t Le(size_t bytes) {
    FT_CHECK(Has(bytes));
    const uint64_t v = GetLe(body_.data() + at_, bytes);
    at_ += bytes;
    return v;
  }
  std::span<const uint8_t> Bytes(size_t n) {
    FT_CHECK(Has(n));
    auto s = body_.subspan(at_, n);
    at_ += n;
    return s;
  }
  absl::Status Need(size_t n, std::string_view field) const {
    if (Has(n)) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat(absl::string_view(what_.data(), what_.size()), " body of ",
                     body_.size(), " bytes ends inside its ",
                     absl::string_view(field.data(), field.size())));
  }
  absl::Status End() const {
    if (at_ == body_.size()) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat(
        absl::string_view(what_.data(), what_.size()), " body has ",
        body_.size() - at_, " bytes after its last field"));
  }

 private:
  std::string_view what_;
  std::span<const uint8_t> body_;
  size_t at_ = 0;
};

bool Printable(uint8_t c) { return c >= 0x20 && c <= 0x7e; }

// The first protocol version whose HEARTBEAT carries progress.
constexpr uint16_t kHeartbeatProgressSince = 3;

}  // namespace

absl::Status CheckSupportedVersion(uint16_t version) {
  if (version >= kOldestProtocolVersion && version <= kProtocolVersion) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("log channel protocol version ", version,
                   " is not supported (this build speaks ",
                   kOldestProtocolVersion, " to ", kProtocolVersion, ")"));
}

std::vector<uint16_t> SpokenProtocolVersions() {
  std::vector<uint16_t> v;
  for (uint16_t i = kProtocolVersion; i >= kOldestProtocolVersion; --i) {
    v.push_back(i);
  }
  return v;
}

const char* RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kHello:
      return "HELLO";
    case RecordType::kHelloReply:
      return "HELLO_REPLY";
    case RecordType::kData:
      return "DATA";
    case RecordType::kAck:
      return "ACK";
    case RecordType::kHeartbeat:
      return "HEARTBEAT";
    case RecordType::kClose:
      return "CLOSE";
  }
  return "?";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPrimary:
      return "primary";
    case Role::kSecondary:
      return "secondary";
  }
  return "?";
}

size_t MaxPayloadBytes(RecordType type) {
  switch (type) {
    case RecordType::kHello:
      return kMaxHelloBytes;
    case RecordType::kHelloReply:
      return kHelloReplyBytes;
    case RecordType::kData:
      return kMaxDataBytes;
    case RecordType::kAck:
      return 0;
    case RecordType::kHeartbeat:
      return kHeartbeatBytes;
    case RecordType::kClose:
      return kMaxCloseBytes;
  }
  return 0;
}

std::array<uint8_t, kRecordHeaderBytes> EncodeRecordHeader(
    const RecordHeader& header) {
  std::array<uint8_t, kRecordHeaderBytes> a{};
  a[0] = kRecordMagic[0];
  a[1] = kRecordMagic[1];
  a[2] = static_cast<uint8_t>(header.type);
  a[3] = header.flags;
  for (size_t i = 0; i < 4; ++i) a[4 + i] = uint8_t(header.length >> (8 * i));
  for (size_t i = 0; i < 8; ++i) a[8 + i] = uint8_t(header.sequence >> (8 * i));
  return a;
}

absl::StatusOr<RecordHeader> ParseRecordHeader(
    std::span<const uint8_t, kRecordHeaderBytes> bytes) {
  if (!std::equal(kRecordMagic.begin(), kRecordMagic.end(), bytes.begin())) {
    return absl::DataLossError("bad record magic");
  }
  const uint8_t type = bytes[2];
  if (type == 0 || type > kMaxRecordType) {
    return absl::DataLossError(absl::StrCat(
        "unknown record type ", type, " (known: 1 to ", kMaxRecordType, ")"));
  }
  RecordHeader h;
  h.type = static_cast<RecordType>(type);
  h.flags = bytes[3];
  h.length = static_cast<uint32_t>(GetLe(bytes.data() + 4, 4));
  h.sequence = GetLe(bytes.data() + 8, 8);
  const char* name = RecordTypeName(h.type);
  if ((h.flags & ~kKnownFlags) != 0) {
    return absl::DataLossError(
        absl::StrCat(name, " record has unknown flags 0x", absl::Hex(h.flags)));
  }
  if (h.encrypted() && !h.sealed()) {
    return absl::DataLossError(
        absl::StrCat(name, " record is flagged encrypted but not sealed"));
  }
  const size_t tag = h.sealed() ? kTagBytes : 0;
  const size_t max = MaxPayloadBytes(h.type) + tag;
  if (h.length > max) {
    return absl::DataLossError(absl::StrCat(name, " record of ", h.length,
                                            " bytes exceeds its bound of ", max,
                                            " bytes"));
  }
  if (h.length < tag) {
    return absl::DataLossError(absl::StrCat(name, " record of ", h.length,
                                            " bytes is too short for its tag"));
  }
  const bool numbered =
      h.type == RecordType::kData || h.type == RecordType::kAck;
  if (numbered && h.sequence == 0) {
    return absl::DataLossError(
        absl::StrCat(name, " record with sequence number 0 (they start at 1)"));
  }
  if (!numbered && h.sequence != 0) {
    return absl::DataLossError(absl::StrCat(
        name, " record with sequence number ", h.sequence, " (must be 0)"));
  }
  return h;
}

void AppendPlainRecord(RecordType type, std::span<const uint8_t> body,
                       std::vector<uint8_t>& out) {
  FT_CHECK(body.size() <= MaxPayloadBytes(type))
      << RecordTypeName(type) << " body of " << body.size() << " bytes";
  const auto header = EncodeRecordHeader(
      {.type = type, .length = static_cast<uint32_t>(body.size())});
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), body.begin(), body.end());
}

std::vector<uint8_t> EncodeHello(const Hello& hello) {
  FT_CHECK(!hello.versions.empty() && hello.versions.size() <= kMaxVersions)
      << hello.versions.size() << " versions";
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(hello.versions.size()));
  for (uint16_t v : hello.versions) PutLe(v, 2, out);
  out.push_back(static_cast<uint8_t>(hello.role));
  out.push_back(hello.wants_encryption ? 1 : 0);
  PutLe(hello.receive_window_bytes, 8, out);
  out.insert(out.end(), hello.nonce.begin(), hello.nonce.end());
  return out;
}

absl::StatusOr<Hello> ParseHello(std::span<const uint8_t> body) {
  BodyReader r("HELLO", body);
  Hello h;
  if (absl::Status s = r.Need(1, "version count"); !s.ok()) return s;
  const size_t count = r.Le(1);
  if (count == 0 || count > kMaxVersions) {
    return absl::DataLossError(absl::StrCat("HELLO offers ", count,
                                            " protocol versions (1 to ",
                                            kMaxVersions, " allowed)"));
  }
  if (absl::Status s = r.Need(2 * count, "versions"); !s.ok()) return s;
  for (size_t i = 0; i < count; ++i) {
    const auto v = static_cast<uint16_t>(r.Le(2));
    if (v == 0) return absl::DataLossError("HELLO offers protocol version 0");
    if (std::find(h.versions.begin(), h.versions.end(), v) !=
        h.versions.end()) {
      return absl::DataLossError(
          absl::StrCat("HELLO offers protocol version ", v, " twice"));
    }
    h.versions.push_back(v);
  }
  if (absl::Status s = r.Need(2 + 8 + kNonceBytes, "settings"); !s.ok()) {
    return s;
  }
  const uint64_t role = r.Le(1);
  if (role != static_cast<uint8_t>(Role::kPrimary) &&
      role != static_cast<uint8_t>(Role::kSecondary)) {
    return absl::DataLossError(absl::StrCat("HELLO has unknown role ", role));
  }
  h.role = static_cast<Role>(role);
  const uint64_t flags = r.Le(1);
  if (flags > 1) {
    return absl::DataLossError(
        absl::StrCat("HELLO has unknown flags 0x", absl::Hex(flags)));
  }
  h.wants_encryption = flags == 1;
  h.receive_window_bytes = r.Le(8);
  if (h.receive_window_bytes < kMinReceiveWindowBytes ||
      h.receive_window_bytes > kMaxReceiveWindowBytes) {
    return absl::DataLossError(
        absl::StrCat("HELLO has a receive window of ", h.receive_window_bytes,
                     " bytes (allowed: ", kMinReceiveWindowBytes, " to ",
                     kMaxReceiveWindowBytes, ")"));
  }
  const auto nonce = r.Bytes(kNonceBytes);
  std::copy(nonce.begin(), nonce.end(), h.nonce.begin());
  if (absl::Status s = r.End(); !s.ok()) return s;
  return h;
}

std::vector<uint8_t> EncodeHelloReply(const HelloReply& reply) {
  std::vector<uint8_t> out;
  PutLe(reply.version, 2, out);
  out.insert(out.end(), reply.proof.begin(), reply.proof.end());
  return out;
}

absl::StatusOr<HelloReply> ParseHelloReply(std::span<const uint8_t> body) {
  if (body.size() != kHelloReplyBytes) {
    return absl::DataLossError(absl::StrCat("HELLO_REPLY body of ", body.size(),
                                            " bytes (must be ",
                                            kHelloReplyBytes, ")"));
  }
  HelloReply r;
  r.version = static_cast<uint16_t>(GetLe(body.data(), 2));
  std::copy(body.begin() + 2, body.end(), r.proof.begin());
  return r;
}

bool HeartbeatHasProgress(uint16_t version) {
  FT_CHECK_OK(CheckSupportedVersion(version));
  return version >= kHeartbeatProgressSince;
}

size_t HeartbeatBytes(uint16_t version) {
  return HeartbeatHasProgress(version) ? kHeartbeatBytes : kHeartbeatV2Bytes;
}

std::vector<uint8_t> EncodeHeartbeat(const Heartbeat& heartbeat,
                                     uint16_t version) {
  std::vector<uint8_t> out;
  PutLe(static_cast<uint64_t>(heartbeat.sender_time_ns), 8, out);
  PutLe(heartbeat.sent.value(), 8, out);
  PutLe(heartbeat.acked.value(), 8, out);
  if (HeartbeatHasProgress(version)) {
    PutLe(heartbeat.progress, 8, out);
  } else {
    FT_CHECK(heartbeat.progress == 0)
        << "protocol version " << version << " has no heartbeat progress";
  }
  return out;
}

absl::StatusOr<Heartbeat> ParseHeartbeat(std::span<const uint8_t> body,
                                         uint16_t version) {
  const size_t expected = HeartbeatBytes(version);
  if (body.size() != expected) {
    return absl::DataLossError(
        absl::StrCat("HEARTBEAT body of ", body.size(), " bytes (must be ",
                     expected, " in protocol version ", version, ")"));
  }
  Heartbeat h;
  h.sender_time_ns = static_cast<int64_t>(GetLe(body.data(), 8));
  h.sent = SequenceNumber(GetLe(body.data() + 8, 8));
  h.acked = SequenceNumber(GetLe(body.data() + 16, 8));
  if (HeartbeatHasProgress(version)) h.progress = GetLe(body.data() + 24, 8);
  if (h.sender_time_ns < 0) {
    return absl::DataLossError(absl::StrCat("HEARTBEAT has a negative time (",
                                            h.sender_time_ns, " ns)"));
  }
  return h;
}

std::vector<uint8_t> EncodeClose(const CloseNotice& close) {
  FT_CHECK(close.code != absl::StatusCode::kOk) << "CLOSE with code OK";
  std::string reason = close.reason.substr(
      0, std::min(close.reason.size(), kMaxCloseReasonBytes));
  for (char& c : reason) {
    if (!Printable(static_cast<uint8_t>(c))) c = '?';
  }
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(close.code));
  PutLe(reason.size(), 2, out);
  out.insert(out.end(), reason.begin(), reason.end());
  return out;
}

absl::StatusOr<CloseNotice> ParseClose(std::span<const uint8_t> body) {
  BodyReader r("CLOSE", body);
  if (absl::Status s = r.Need(3, "code and reason length"); !s.ok()) return s;
  const uint64_t code = r.Le(1);
  // absl::StatusCode runs from 1 (kCancelled) to 16 (kUnauthenticated).
  if (code == 0 || code > 16) {
    return absl::DataLossError(
        absl::StrCat("CLOSE has status code ", code, " (1 to 16 allowed)"));
  }
  const size_t length = r.Le(2);
  if (length > kMaxCloseReasonBytes) {
    return absl::DataLossError(absl::StrCat(
        "CLOSE reason of ", length, " bytes exceeds ", kMaxCloseReasonBytes));
  }
  if (absl::Status s = r.Need(length, "reason"); !s.ok()) return s;
  const auto reason = r.Bytes(length);
  if (!std::all_of(reason.begin(), reason.end(), Printable)) {
    return absl::DataLossError(
        "CLOSE reason has bytes that are not printable ASCII");
  }
  if (absl::Status s = r.End(); !s.ok()) return s;
  return CloseNotice{.code = static_cast<absl::StatusCode>(code),
                     .reason = std::string(reason.begin(), reason.end())};
}

}  // namespace ft::logchannel
