// Writes the log channel decoder fuzz target's seed corpus (format:
// channel_decoder_fuzz_input.h): valid streams of every record type in each
// mode, encrypted and plaintext, in the current protocol version and the
// oldest accepted (suffix _v2), and one damaged or misbehaving stream per
// kind of refusal.
//
//   ninja -C build tests/fuzz/make_channel_seeds
//   build/tests/fuzz/make_channel_seeds tests/fuzz/corpus/channel_decoder
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/check.h"
#include "logchannel/record.h"
#include "logchannel/session_codec.h"
#include "tests/fuzz/channel_decoder_fuzz_input.h"

namespace {

using namespace ft::logchannel;  // NOLINT: a small tool
using Bytes = std::vector<uint8_t>;

Bytes Text(const std::string& s) { return {s.begin(), s.end()}; }

class Writer {
 public:
  explicit Writer(std::string dir) : dir_(std::move(dir)) {}

  void Write(const std::string& name, uint8_t mode, uint8_t chunk,
             const Bytes& body) {
    Bytes input = {mode, chunk};
    input.insert(input.end(), body.begin(), body.end());
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(input.data()),
              static_cast<std::streamsize>(input.size()));
    FT_CHECK(out.good()) << "cannot write " << path;
    ++written_;
  }
  int written() const { return written_; }

 private:
  std::string dir_;
  int written_ = 0;
};

Hello PrimaryHello() {
  Hello h{.versions = {kProtocolVersion, kOldestProtocolVersion},
          .role = Role::kPrimary,
          .wants_encryption = true,
          .receive_window_bytes = 1 << 20};
  for (size_t i = 0; i < h.nonce.size(); ++i) h.nonce[i] = uint8_t(i);
  return h;
}

Bytes HandshakeStream(const Hello& hello) {
  Bytes out;
  AppendPlainRecord(RecordType::kHello, EncodeHello(hello), out);
  HelloReply reply{.version = kProtocolVersion};
  reply.proof.fill(0x33);  // never the right one
  AppendPlainRecord(RecordType::kHelloReply, EncodeHelloReply(reply), out);
  return out;
}

// A session from a correct encoder: every message type.
Bytes Session(bool encrypt, uint16_t version) {
  absl::StatusOr<SessionEncoder> e =
      SessionEncoder::Create(fuzz::FuzzKey(), encrypt, version);
  FT_CHECK_OK(e);
  Bytes out;
  FT_CHECK_OK(e->AppendHeartbeat(1000, 7, out));
  FT_CHECK_OK(e->AppendData(SequenceNumber(1), Text("pio 0x71 -> 0x12"), out));
  FT_CHECK_OK(e->AppendData(SequenceNumber(2), {}, out));
  FT_CHECK_OK(e->AppendAck(SequenceNumber(4), out));
  FT_CHECK_OK(e->AppendData(SequenceNumber(3), Bytes(300, 0xab), out));
  FT_CHECK_OK(e->AppendHeartbeat(2000, 7 + 40, out));
  FT_CHECK_OK(e->AppendClose(
      {.code = absl::StatusCode::kCancelled, .reason = "done"}, out));
  return out;
}

// The progress a heartbeat of `version` carries: none before version 3.
uint64_t Progress(uint16_t version, uint64_t progress) {
  return HeartbeatHasProgress(version) ? progress : 0;
}

// The same session as record descriptions (kSessionRecords).
Bytes SessionSpec(uint16_t version) {
  Bytes out;
  fuzz::AppendRecordSpec(
      RecordType::kHeartbeat, 0,
      EncodeHeartbeat(
          {.sender_time_ns = 1000, .progress = Progress(version, 7)}, version),
      out);
  fuzz::AppendRecordSpec(RecordType::kData, 1, Text("pio 0x71 -> 0x12"), out);
  fuzz::AppendRecordSpec(RecordType::kData, 2, {}, out);
  fuzz::AppendRecordSpec(RecordType::kAck, 4, {}, out);
  fuzz::AppendRecordSpec(RecordType::kData, 3, Bytes(300, 0xab), out);
  fuzz::AppendRecordSpec(
      RecordType::kHeartbeat, 0,
      EncodeHeartbeat({.sender_time_ns = 2000,
                       .sent = SequenceNumber(3),
                       .acked = SequenceNumber(4),
                       .progress = Progress(version, 7 + 40)},
                      version),
      out);
  fuzz::AppendRecordSpec(
      RecordType::kClose, 0,
      EncodeClose({.code = absl::StatusCode::kCancelled, .reason = "done"}),
      out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  Writer w(argv[1]);
  constexpr uint8_t kPlain = fuzz::kPlaintextBit;
  constexpr uint8_t kOldest = fuzz::kOldestVersionBit;

  // Handshake records.
  const Bytes hs = HandshakeStream(PrimaryHello());
  w.Write("hs_hello_reply", fuzz::kHandshakeStream, 5, hs);
  {
    Bytes s = hs;
    AppendPlainRecord(RecordType::kClose,
                      EncodeClose({.code = absl::StatusCode::kUnauthenticated,
                                   .reason = "wrong shared secret"}),
                      s);
    w.Write("hs_with_close", fuzz::kHandshakeStream, 17, s);
  }
  w.Write("hs_http", fuzz::kHandshakeStream, 3, Text("GET / HTTP/1.1\r\n\r\n"));
  {
    Bytes s = hs;
    s.resize(20);
    w.Write("hs_truncated", fuzz::kHandshakeStream, 7, s);
    s = hs;
    s[7] = 0x7f;  // HELLO length ~2 GiB
    w.Write("hs_oversized", fuzz::kHandshakeStream, 7, s);
    s = hs;
    s[2] = 9;
    w.Write("hs_unknown_type", fuzz::kHandshakeStream, 7, s);
    s = hs;
    s[3] = 0x40;
    w.Write("hs_unknown_flags", fuzz::kHandshakeStream, 7, s);
  }

  // Sealed sessions, in both versions.
  for (const uint16_t version : {kProtocolVersion, kOldestProtocolVersion}) {
    const bool oldest = version == kOldestProtocolVersion;
    for (const bool encrypt : {true, false}) {
      const uint8_t m =
          static_cast<uint8_t>((encrypt ? 0 : kPlain) | (oldest ? kOldest : 0));
      const std::string suffix = std::string(encrypt ? "_enc" : "_plain") +
                                 (oldest ? "_v" + std::to_string(version) : "");
      const Bytes s = Session(encrypt, version);
      w.Write("session" + suffix, fuzz::kSessionStream | m, 11, s);
      Bytes bad = s;
      bad[kRecordHeaderBytes + 3] ^= 1;
      w.Write("session_tampered" + suffix, fuzz::kSessionStream | m, 11, bad);
      bad = s;
      bad.resize(bad.size() - 9);
      w.Write("session_truncated" + suffix, fuzz::kSessionStream | m, 11, bad);
      w.Write("records" + suffix, fuzz::kSessionRecords | m, 13,
              SessionSpec(version));
    }
  }

  // Record descriptions that break one rule each.
  auto spec_case = [&](const std::string& name,
                       const std::vector<std::pair<RecordType, uint64_t>>& recs,
                       const Bytes& payload = {}) {
    Bytes out;
    for (const auto& [type, seq] : recs) {
      fuzz::AppendRecordSpec(type, seq, payload, out);
    }
    w.Write(name, fuzz::kSessionRecords, 9, out);
  };
  spec_case("bad_data_out_of_sequence",
            {{RecordType::kData, 1}, {RecordType::kData, 3}});
  spec_case("bad_ack_backwards",
            {{RecordType::kAck, 5}, {RecordType::kAck, 4}});
  spec_case("bad_after_close",
            {{RecordType::kClose, 0}, {RecordType::kData, 1}},
            EncodeClose({.code = absl::StatusCode::kAborted}));
  spec_case("bad_hello_in_session", {{RecordType::kHello, 0}},
            EncodeHello(PrimaryHello()));
  {
    Bytes out;
    fuzz::AppendRecordSpec(
        RecordType::kHeartbeat, 0,
        EncodeHeartbeat({.sender_time_ns = 5, .sent = SequenceNumber(2)},
                        kProtocolVersion),
        out);
    w.Write("bad_heartbeat_counters", fuzz::kSessionRecords, 9, out);
    out.clear();
    for (const uint64_t progress : {uint64_t{9}, uint64_t{8}}) {
      fuzz::AppendRecordSpec(
          RecordType::kHeartbeat, 0,
          EncodeHeartbeat({.sender_time_ns = 5, .progress = progress},
                          kProtocolVersion),
          out);
    }
    w.Write("bad_heartbeat_progress_backwards", fuzz::kSessionRecords, 9, out);
    // Each version's body in the other: the length is exact per version.
    out.clear();
    fuzz::AppendRecordSpec(
        RecordType::kHeartbeat, 0,
        EncodeHeartbeat({.sender_time_ns = 5}, kOldestProtocolVersion), out);
    w.Write("bad_heartbeat_length", fuzz::kSessionRecords, 9, out);
    out.clear();
    fuzz::AppendRecordSpec(
        RecordType::kHeartbeat, 0,
        EncodeHeartbeat({.sender_time_ns = 5, .progress = 3}, kProtocolVersion),
        out);
    w.Write("bad_heartbeat_length_v2", fuzz::kSessionRecords | kOldest, 9, out);
  }

  // A peer in a real handshake: it sends a valid HELLO and a HELLO_REPLY
  // whose proof cannot be right; or refuses; or disagrees.
  w.Write("peer_wrong_proof", fuzz::kHandshakePeer, 1, hs);
  {
    Hello h = PrimaryHello();
    h.versions = {9};
    w.Write("peer_future_version", fuzz::kHandshakePeer, 1, HandshakeStream(h));
    h = PrimaryHello();
    h.wants_encryption = false;
    w.Write("peer_plaintext", fuzz::kHandshakePeer, 1, HandshakeStream(h));
    h = PrimaryHello();
    h.role = Role::kSecondary;
    w.Write("peer_same_role", fuzz::kHandshakePeer, 1, HandshakeStream(h));
    Bytes refuse;
    AppendPlainRecord(RecordType::kClose,
                      EncodeClose({.code = absl::StatusCode::kPermissionDenied,
                                   .reason = "no"}),
                      refuse);
    w.Write("peer_refuses", fuzz::kHandshakePeer, 1, refuse);
  }

  std::printf("wrote %d seeds to %s\n", w.written(), argv[1]);
  return 0;
}
