// Helpers for the log channel tests: opening both ends of a channel, a peer
// that speaks the protocol by hand (to send what a correct Channel never
// would), and a transport that lets a test alter what goes on the wire.
#ifndef FTVM_TESTS_UNIT_LOGCHANNEL_CHANNEL_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_LOGCHANNEL_CHANNEL_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "logchannel/channel.h"
#include "logchannel/handshake.h"
#include "logchannel/inproc_transport.h"
#include "logchannel/record.h"
#include "logchannel/session_codec.h"
#include "logchannel/transport.h"

namespace ft::logchannel::testing {

inline const std::string kSecret = "0123456789abcdef0123456789abcdef";

inline ChannelOptions Options(Role role) {
  ChannelOptions o;
  o.role = role;
  o.shared_secret = kSecret;
  o.heartbeat_interval = absl::Milliseconds(20);
  o.handshake_timeout = absl::Seconds(10);
  o.close_timeout = absl::Seconds(2);
  o.name = role == Role::kPrimary ? "p" : "s";
  return o;
}

inline HandshakeOptions HsOptions(Role role) {
  HandshakeOptions o;
  o.role = role;
  o.secret = kSecret;
  o.deadline = absl::Now() + absl::Seconds(10);
  return o;
}

using ChannelOr = absl::StatusOr<std::unique_ptr<Channel>>;
using Tweak =
    std::function<void(ChannelOptions& primary, ChannelOptions& secondary)>;

inline constexpr size_t kPipeBytes = 256 * 1024;

// Opens a channel on each transport at once (each handshake waits for the
// other side).
inline std::pair<ChannelOr, ChannelOr> OpenBoth(std::unique_ptr<Transport> a,
                                                ChannelOptions oa,
                                                std::unique_ptr<Transport> b,
                                                ChannelOptions ob) {
  ChannelOr second = absl::UnknownError("not run");
  std::thread t([&] { second = Channel::Open(std::move(b), std::move(ob)); });
  ChannelOr first = Channel::Open(std::move(a), std::move(oa));
  t.join();
  return {std::move(first), std::move(second)};
}

// Runs the handshake on both transports at once with the given options.
inline std::pair<absl::StatusOr<HandshakeResult>,
                 absl::StatusOr<HandshakeResult>>
HandshakeBoth(Transport& a, const HandshakeOptions& oa, Transport& b,
              const HandshakeOptions& ob) {
  absl::StatusOr<HandshakeResult> second = absl::UnknownError("not run");
  std::thread t([&] { second = RunHandshake(b, ob); });
  absl::StatusOr<HandshakeResult> first = RunHandshake(a, oa);
  t.join();
  return {std::move(first), std::move(second)};
}

// The far end of a channel, driven by hand: after a real handshake it
// writes whatever records a test forges and decodes what the channel sends.
class RawPeer {
 public:
  RawPeer(std::unique_ptr<Transport> transport, HandshakeResult handshake,
          crypto::AesGcm sealer, SessionDecoder decoder)
      : transport_(std::move(transport)),
        handshake_(std::move(handshake)),
        sealer_(std::move(sealer)),
        decoder_(std::move(decoder)) {}

  // Opens a Channel with `channel_options` on one end of an in-process pair
  // (a pipe of `pipe_bytes`) and handshakes as the other role on the other
  // end, offering `peer_versions` (default: the channel's).
  static std::pair<ChannelOr, absl::StatusOr<RawPeer>> Connect(
      ChannelOptions channel_options, std::vector<uint16_t> peer_versions = {},
      size_t pipe_bytes = kPipeBytes) {
    auto a_b = MakeInProcPair({.capacity_bytes = pipe_bytes});
    auto& a = a_b.first;
    auto& b = a_b.second;
    HandshakeOptions hs =
        HsOptions(channel_options.role == Role::kPrimary ? Role::kSecondary
                                                         : Role::kPrimary);
    hs.encrypt = channel_options.security == Security::kEncrypted;
    hs.versions =
        peer_versions.empty() ? channel_options.versions : peer_versions;
    absl::StatusOr<RawPeer> peer = absl::UnknownError("not run");
    std::thread t([&, b = std::move(b)]() mutable {
      peer = Handshake(std::move(b), hs);
    });
    ChannelOr channel = Channel::Open(std::move(a), std::move(channel_options));
    t.join();
    return {std::move(channel), std::move(peer)};
  }

  static absl::StatusOr<RawPeer> Handshake(std::unique_ptr<Transport> t,
                                           const HandshakeOptions& options) {
    FT_ASSIGN_OR_RETURN(HandshakeResult h, RunHandshake(*t, options));
    FT_ASSIGN_OR_RETURN(
        crypto::AesGcm sealer,
        crypto::AesGcm::Create(h.send_key, crypto::AesGcm::Mode::kSeal));
    FT_ASSIGN_OR_RETURN(
        SessionDecoder decoder,
        SessionDecoder::Create(std::move(h.decoder), h.receive_key, h.encrypted,
                               h.version));
    return RawPeer(std::move(t), std::move(h), std::move(sealer),
                   std::move(decoder));
  }

  // Seals a record as the next one of our direction and writes it.
  absl::Status Send(RecordType type, uint64_t sequence,
                    std::span<const uint8_t> payload) {
    std::vector<uint8_t> out;
    FT_RETURN_IF_ERROR(Seal(type, sequence, payload, out));
    return transport_->Write(out);
  }
  // Seals a record as the next one of our direction onto `out` (several
  // records then go in one SendRaw, so that the channel reads them at once).
  absl::Status Seal(RecordType type, uint64_t sequence,
                    std::span<const uint8_t> payload,
                    std::vector<uint8_t>& out) {
    return AppendSealedRecord(sealer_, sealed_++, type, sequence,
                              handshake_.encrypted, payload, out);
  }
  absl::Status SendRaw(std::span<const uint8_t> bytes) {
    return transport_->Write(bytes);
  }
  uint16_t version() const { return handshake_.version; }

  // The next message from the channel.
  absl::StatusOr<SessionMessage> Next(absl::Time deadline) {
    std::vector<uint8_t> buf(64 * 1024);
    while (true) {
      FT_ASSIGN_OR_RETURN(std::optional<SessionMessage> m, decoder_.Next());
      if (m.has_value()) return std::move(*m);
      FT_ASSIGN_OR_RETURN(const size_t n, transport_->Read(buf, deadline));
      if (n == 0) {
        FT_RETURN_IF_ERROR(decoder_.Finish());
        return absl::OutOfRangeError("end of stream");
      }
      decoder_.Feed(std::span(buf).first(n));
    }
  }

  // The next message that is not a heartbeat.
  absl::StatusOr<SessionMessage> NextNonHeartbeat(absl::Time deadline) {
    while (true) {
      FT_ASSIGN_OR_RETURN(SessionMessage m, Next(deadline));
      if (!std::holds_alternative<Heartbeat>(m)) return m;
    }
  }

  Transport& transport() { return *transport_; }

 private:
  std::unique_ptr<Transport> transport_;
  HandshakeResult handshake_;
  crypto::AesGcm sealer_;
  SessionDecoder decoder_;
  uint64_t sealed_ = 0;
};

// A transport that hands each Write to a test's function, which writes what
// it wants to the real transport (altered, cut short, or nothing).
class InterceptTransport : public Transport {
 public:
  using OnWrite =
      std::function<absl::Status(std::span<const uint8_t>, Transport& inner)>;
  InterceptTransport(std::unique_ptr<Transport> inner, OnWrite on_write)
      : inner_(std::move(inner)), on_write_(std::move(on_write)) {}

  absl::Status Write(std::span<const uint8_t> bytes) override {
    return on_write_(bytes, *inner_);
  }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                              absl::Time deadline) override {
    return inner_->Read(buf, deadline);
  }
  void ShutdownWrite() override { inner_->ShutdownWrite(); }
  void Shutdown() override { inner_->Shutdown(); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<Transport> inner_;
  OnWrite on_write_;
};

// Both ends of an in-process channel (primary, secondary) with default
// options but for `tweak`, through a pipe of `pipe_bytes`; the primary
// writes through `primary_writes` if given (see InterceptTransport).
inline std::pair<ChannelOr, ChannelOr> OpenInProc(
    const Tweak& tweak = {}, size_t pipe_bytes = kPipeBytes,
    InterceptTransport::OnWrite primary_writes = {}) {
  auto a_b = MakeInProcPair({.capacity_bytes = pipe_bytes});
  std::unique_ptr<Transport> a = std::move(a_b.first);
  if (primary_writes) {
    a = std::make_unique<InterceptTransport>(std::move(a),
                                             std::move(primary_writes));
  }
  ChannelOptions p = Options(Role::kPrimary);
  ChannelOptions s = Options(Role::kSecondary);
  if (tweak) tweak(p, s);
  return OpenBoth(std::move(a), std::move(p), std::move(a_b.second),
                  std::move(s));
}

// Both ends of a channel that opened.
struct ChannelPair {
  std::unique_ptr<Channel> primary;
  std::unique_ptr<Channel> secondary;
};

// OpenInProc for a test that needs both ends open: an error names the end
// that failed (or both).
inline absl::StatusOr<ChannelPair> OpenChannelPair(
    const Tweak& tweak = {}, size_t pipe_bytes = kPipeBytes,
    InterceptTransport::OnWrite primary_writes = {}) {
  auto [p, s] = OpenInProc(tweak, pipe_bytes, std::move(primary_writes));
  if (!p.ok() || !s.ok()) {
    const absl::Status& first = p.ok() ? s.status() : p.status();
    return absl::Status(first.code(),
                        absl::StrCat("primary: ", p.status().ToString(),
                                     "; secondary: ", s.status().ToString()));
  }
  return ChannelPair{.primary = *std::move(p), .secondary = *std::move(s)};
}

// Calls fn(offset, header) for each record in `bytes`, which must hold whole
// records (the channel writes whole records).
inline void ForEachRecord(
    std::span<const uint8_t> bytes,
    const std::function<void(size_t, const RecordHeader&)>& fn) {
  size_t at = 0;
  while (at + kRecordHeaderBytes <= bytes.size()) {
    absl::StatusOr<RecordHeader> h =
        ParseRecordHeader(std::span<const uint8_t, kRecordHeaderBytes>(
            bytes.data() + at, kRecordHeaderBytes));
    if (!h.ok()) return;
    fn(at, *h);
    at += kRecordHeaderBytes + h->length;
  }
}

// A deadline `d` from now.
inline absl::Time In(absl::Duration d) { return absl::Now() + d; }

inline std::vector<uint8_t> Payload(size_t n, uint32_t seed) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t((seed * 131 + i * 7) >> 1);
  return p;
}

// A thread for a test body that may stop early (a failed ASSERT): then, on
// destruction, `stop` unblocks it (closes a channel, shuts a transport down)
// and it is joined, instead of std::terminate on a joinable thread.
class TestThread {
 public:
  TestThread(std::function<void()> body, std::function<void()> stop)
      : stop_(std::move(stop)), thread_(std::move(body)) {}
  ~TestThread() {
    if (thread_.joinable()) {
      stop_();
      thread_.join();
    }
  }
  void Join() { thread_.join(); }

 private:
  std::function<void()> stop_;
  std::thread thread_;
};

// Polls `cond` until it holds or 10 s pass (for state another thread sets;
// never used to assert speed).
inline bool Eventually(const std::function<bool()>& cond) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return cond();
}

}  // namespace ft::logchannel::testing

#endif  // FTVM_TESTS_UNIT_LOGCHANNEL_CHANNEL_TEST_UTIL_H_
