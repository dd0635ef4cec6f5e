// Fuzz target for what a log channel peer sends: the record framing and
// header checks, the body parsers, sealing and authentication, the session
// rules (sequence numbers, acknowledgements, heartbeat counters, time and
// progress, CLOSE) in either protocol version accepted, and the handshake
// itself, on hostile bytes. Format:
// tests/fuzz/channel_decoder_fuzz_input.h.
//
// Besides "no crash, no sanitizer report, no unbounded allocation", it
// checks:
//  - chunking does not matter: the stream decoded whole and decoded in small
//    pieces gives the same records or messages and the same final status;
//  - what the decoders accept, the encoders reproduce: handshake bodies
//    re-encode to the same bytes, and session messages re-encoded by a
//    SessionEncoder decode to the same messages;
//  - a handshake with a peer that cannot know the secret never succeeds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "logchannel/handshake.h"
#include "logchannel/inproc_transport.h"
#include "logchannel/record.h"
#include "logchannel/record_decoder.h"
#include "logchannel/session_codec.h"
#include "tests/fuzz/channel_decoder_fuzz_input.h"

namespace ft::logchannel {
namespace {

struct RecordOutcome {
  std::vector<RawRecord> records;
  absl::Status status;
};

RecordOutcome DecodeRecords(std::span<const uint8_t> stream, size_t chunk) {
  RecordOutcome out;
  RecordDecoder d;
  size_t at = 0;
  while (true) {
    absl::StatusOr<std::optional<RawRecord>> r = d.Next();
    if (!r.ok()) {
      out.status = r.status();
      return out;
    }
    if (r->has_value()) {
      out.records.push_back(std::move(**r));
      continue;
    }
    if (at == stream.size()) {
      out.status = d.Finish();
      return out;
    }
    const size_t n = std::min(chunk, stream.size() - at);
    d.Feed(stream.subspan(at, n));
    at += n;
  }
}

bool SameRecords(const std::vector<RawRecord>& a,
                 const std::vector<RawRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].header != b[i].header || a[i].body != b[i].body ||
        a[i].index != b[i].index || a[i].offset != b[i].offset) {
      return false;
    }
  }
  return true;
}

// Each body parsed as its type (HEARTBEAT in `version`); accepted bodies
// re-encode to their bytes.
void CheckHandshakeBodies(const std::vector<RawRecord>& records,
                          uint16_t version) {
  for (const RawRecord& r : records) {
    switch (r.header.type) {
      case RecordType::kHello:
        if (absl::StatusOr<Hello> h = ParseHello(r.body); h.ok()) {
          FT_CHECK(EncodeHello(*h) == r.body) << "HELLO re-encodes differently";
        }
        break;
      case RecordType::kHelloReply:
        if (absl::StatusOr<HelloReply> h = ParseHelloReply(r.body); h.ok()) {
          FT_CHECK(EncodeHelloReply(*h) == r.body);
        }
        break;
      case RecordType::kHeartbeat:
        if (absl::StatusOr<Heartbeat> h = ParseHeartbeat(r.body, version);
            h.ok()) {
          FT_CHECK(EncodeHeartbeat(*h, version) == r.body);
        }
        break;
      case RecordType::kClose:
        if (absl::StatusOr<CloseNotice> c = ParseClose(r.body); c.ok()) {
          FT_CHECK(EncodeClose(*c) == r.body) << "CLOSE re-encodes differently";
        }
        break;
      case RecordType::kData:
      case RecordType::kAck:
        break;
    }
  }
}

struct SessionOutcome {
  std::vector<SessionMessage> messages;
  absl::Status status;
};

SessionOutcome DecodeSession(std::span<const uint8_t> stream, size_t chunk,
                             bool encrypted, uint16_t version) {
  SessionOutcome out;
  absl::StatusOr<SessionDecoder> d = SessionDecoder::Create(
      RecordDecoder(), fuzz::FuzzKey(), encrypted, version);
  FT_CHECK_OK(d);
  size_t at = 0;
  while (true) {
    absl::StatusOr<std::optional<SessionMessage>> m = d->Next();
    if (!m.ok()) {
      out.status = m.status();
      return out;
    }
    if (m->has_value()) {
      out.messages.push_back(std::move(**m));
      continue;
    }
    if (at == stream.size()) {
      out.status = d->Finish();
      return out;
    }
    const size_t n = std::min(chunk, stream.size() - at);
    d->Feed(stream.subspan(at, n));
    at += n;
  }
}

void CheckSessionReencodes(const SessionOutcome& out, bool encrypted,
                           uint16_t version) {
  absl::StatusOr<SessionEncoder> e =
      SessionEncoder::Create(fuzz::FuzzKey(), encrypted, version);
  FT_CHECK_OK(e);
  std::vector<uint8_t> stream;
  for (const SessionMessage& m : out.messages) {
    absl::Status s;
    if (const auto* d = std::get_if<DataMessage>(&m)) {
      s = e->AppendData(d->sequence, d->payload, stream);
    } else if (const auto* a = std::get_if<AckMessage>(&m)) {
      s = e->AppendAck(a->acked, stream);
    } else if (const auto* h = std::get_if<Heartbeat>(&m)) {
      s = e->AppendHeartbeat(h->sender_time_ns, h->progress, stream);
    } else {
      s = e->AppendClose(std::get<CloseNotice>(m), stream);
    }
    FT_CHECK_OK(s);
  }
  const SessionOutcome again = DecodeSession(
      stream, std::max<size_t>(stream.size(), 1), encrypted, version);
  FT_CHECK(again.status.ok()) << again.status.ToString();
  FT_CHECK(again.messages == out.messages)
      << "messages changed in a round trip";
}

// A real handshake against a peer that sends `stream` and then ends it.
void RunAgainstPeer(std::span<const uint8_t> stream) {
  // Room for everything either side writes, so that nothing blocks.
  auto [ours, peer] = MakeInProcPair({.capacity_bytes = stream.size() + 4096});
  FT_CHECK_OK(peer->Write(stream));
  peer->ShutdownWrite();
  HandshakeOptions o;
  o.role = Role::kSecondary;
  o.secret = "fuzz secret, 32 bytes long......";
  // Never reached: the peer's stream ends.
  o.deadline = absl::Now() + absl::Seconds(60);
  absl::StatusOr<HandshakeResult> r = RunHandshake(*ours, o);
  FT_CHECK(!r.ok()) << "a handshake succeeded without the secret";
}

}  // namespace
}  // namespace ft::logchannel

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ft::logchannel;  // NOLINT: one function
  if (size < 2) return 0;
  const fuzz::Mode mode = fuzz::ModeOf(data[0]);
  const bool encrypted = (data[0] & fuzz::kPlaintextBit) == 0;
  const uint16_t version = fuzz::VersionOf(data[0]);
  const size_t chunk = data[1] % 61 + 1;
  const std::span<const uint8_t> body(data + 2, size - 2);

  if (mode == fuzz::kHandshakePeer) {
    RunAgainstPeer(body);
    return 0;
  }
  if (mode == fuzz::kHandshakeStream) {
    const RecordOutcome whole =
        DecodeRecords(body, std::max<size_t>(body.size(), 1));
    const RecordOutcome pieces = DecodeRecords(body, chunk);
    FT_CHECK(whole.status == pieces.status)
        << whole.status.ToString() << " vs " << pieces.status.ToString();
    FT_CHECK(SameRecords(whole.records, pieces.records));
    CheckHandshakeBodies(whole.records, version);
    return 0;
  }
  const std::vector<uint8_t> stream =
      mode == fuzz::kSessionRecords
          ? fuzz::SealRecords(body, encrypted)
          : std::vector<uint8_t>(body.begin(), body.end());
  const SessionOutcome whole = DecodeSession(
      stream, std::max<size_t>(stream.size(), 1), encrypted, version);
  const SessionOutcome pieces =
      DecodeSession(stream, chunk, encrypted, version);
  FT_CHECK(whole.status == pieces.status)
      << whole.status.ToString() << " vs " << pieces.status.ToString();
  FT_CHECK(whole.messages == pieces.messages);
  CheckSessionReencodes(whole, encrypted, version);
  return 0;
}
