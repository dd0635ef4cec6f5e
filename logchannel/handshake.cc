#include "logchannel/handshake.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace ft::logchannel {
namespace {

constexpr std::string_view kTranscriptLabel = "ftvm logchannel handshake";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void PutLe32(size_t v, std::vector<uint8_t>& out) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

std::string VersionList(std::span<const uint16_t> versions) {
  return absl::StrJoin(versions.begin(), versions.end(), ", ");
}

absl::StatusOr<crypto::Key> DeriveKey(std::span<const uint8_t> secret,
                                      const crypto::Digest& transcript,
                                      std::string_view label) {
  FT_ASSIGN_OR_RETURN(
      std::vector<uint8_t> bytes,
      crypto::HkdfSha256(secret, transcript, Bytes(label), crypto::kKeyBytes));
  crypto::Key key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

// One side of the handshake: reads records from the transport and sends
// refusals.
class Handshaker {
 public:
  Handshaker(Transport& transport, const HandshakeOptions& options)
      : transport_(transport), options_(options) {}

  absl::StatusOr<HandshakeResult> Run();

 private:
  // The next record; an unsealed `want` or the peer's CLOSE (an error).
  absl::StatusOr<RawRecord> Expect(RecordType want);
  // Tells the peer why we stop (best effort: it may be gone) and returns
  // `status`.
  absl::Status Refuse(absl::Status status);
  absl::Status Send(RecordType type, std::span<const uint8_t> body);
  std::string Peer() const { return transport_.Describe(); }

  Transport& transport_;
  const HandshakeOptions& options_;
  RecordDecoder decoder_;
};

absl::Status Handshaker::Send(RecordType type, std::span<const uint8_t> body) {
  std::vector<uint8_t> out;
  AppendPlainRecord(type, body, out);
  return Annotate(transport_.Write(out),
                  absl::StrCat("handshake: sending ", RecordTypeName(type)));
}

absl::Status Handshaker::Refuse(absl::Status status) {
  (void)Send(RecordType::kClose,
             EncodeClose({.code = status.code(),
                          .reason = std::string(status.message())}));
  return status;
}

absl::StatusOr<RawRecord> Handshaker::Expect(RecordType want) {
  std::vector<uint8_t> buf(4096);
  while (true) {
    absl::StatusOr<std::optional<RawRecord>> next = decoder_.Next();
    if (!next.ok()) {
      return Annotate(next.status(),
                      absl::StrCat("handshake with ", Peer(), ": waiting for ",
                                   RecordTypeName(want)));
    }
    if (next->has_value()) {
      RawRecord r = std::move(**next);
      if (r.header.flags != 0) {
        return absl::DataLossError(absl::StrCat(
            "handshake with ", Peer(), ": ", RecordTypeName(r.header.type),
            " record has flags 0x", absl::Hex(r.header.flags),
            " (handshake records are not sealed)"));
      }
      if (r.header.type == RecordType::kClose) {
        absl::StatusOr<CloseNotice> close = ParseClose(r.body);
        if (!close.ok()) {
          return Annotate(close.status(),
                          absl::StrCat("handshake with ", Peer()));
        }
        return absl::Status(
            close->code,
            absl::StrCat("the peer (", Peer(),
                         ") refused the handshake: ", close->reason));
      }
      if (r.header.type != want) {
        return absl::DataLossError(absl::StrCat(
            "handshake with ", Peer(), ": expected ", RecordTypeName(want),
            ", got ", RecordTypeName(r.header.type)));
      }
      return r;
    }
    absl::StatusOr<size_t> n = transport_.Read(buf, options_.deadline);
    if (absl::IsDeadlineExceeded(n.status())) {
      return absl::DeadlineExceededError(
          absl::StrCat("handshake with ", Peer(), ": no ", RecordTypeName(want),
                       " before the deadline"));
    }
    if (!n.ok()) return Annotate(n.status(), "handshake");
    if (*n == 0) {
      const absl::Status tail = decoder_.Finish();
      return absl::UnavailableError(absl::StrCat(
          "handshake with ", Peer(), ": the peer disconnected before its ",
          RecordTypeName(want),
          tail.ok() ? "" : absl::StrCat(" (", tail.message(), ")")));
    }
    decoder_.Feed(std::span(buf).first(*n));
  }
}

absl::StatusOr<HandshakeResult> Handshaker::Run() {
  FT_RETURN_IF_ERROR(ValidateHandshakeOptions(options_));
  Hello ours{.versions = options_.versions,
             .role = options_.role,
             .wants_encryption = options_.encrypt,
             .receive_window_bytes = options_.receive_window_bytes};
  FT_RETURN_IF_ERROR(crypto::RandomBytes(ours.nonce));
  const std::vector<uint8_t> our_body = EncodeHello(ours);
  FT_RETURN_IF_ERROR(Send(RecordType::kHello, our_body));

  FT_ASSIGN_OR_RETURN(RawRecord hello, Expect(RecordType::kHello));
  absl::StatusOr<Hello> theirs = ParseHello(hello.body);
  if (!theirs.ok()) {
    return Refuse(
        Annotate(theirs.status(), absl::StrCat("handshake with ", Peer())));
  }
  if (theirs->role == ours.role) {
    return Refuse(absl::FailedPreconditionError(absl::StrCat(
        "handshake with ", Peer(), ": both sides are configured as ",
        RoleName(ours.role), " (one must be primary, the other secondary)")));
  }
  absl::StatusOr<uint16_t> version =
      NegotiateVersion(ours.versions, theirs->versions);
  if (!version.ok()) {
    return Refuse(
        Annotate(version.status(), absl::StrCat("handshake with ", Peer())));
  }
  if (theirs->wants_encryption != ours.wants_encryption) {
    return Refuse(absl::FailedPreconditionError(absl::StrCat(
        "handshake with ", Peer(), ": ",
        ours.wants_encryption
            ? "the peer wants plaintext, we require encryption (configure "
              "both sides alike; plaintext must be chosen explicitly)"
            : "the peer requires encryption, we are configured for plaintext "
              "(configure both sides alike)")));
  }

  const bool primary = ours.role == Role::kPrimary;
  FT_ASSIGN_OR_RETURN(
      const SessionSecrets secrets,
      DeriveSessionSecrets(Bytes(options_.secret),
                           primary ? our_body : hello.body,
                           primary ? hello.body : our_body, *version));
  const HelloReply reply{
      .version = *version,
      .proof = primary ? secrets.primary_proof : secrets.secondary_proof};
  FT_RETURN_IF_ERROR(Send(RecordType::kHelloReply, EncodeHelloReply(reply)));

  FT_ASSIGN_OR_RETURN(RawRecord reply_record, Expect(RecordType::kHelloReply));
  absl::StatusOr<HelloReply> their_reply = ParseHelloReply(reply_record.body);
  if (!their_reply.ok()) {
    return Refuse(Annotate(their_reply.status(),
                           absl::StrCat("handshake with ", Peer())));
  }
  if (their_reply->version != *version) {
    return Refuse(absl::DataLossError(
        absl::StrCat("handshake with ", Peer(),
                     ": the peer chose protocol version ", their_reply->version,
                     ", we chose ", *version, " from the same offers")));
  }
  const crypto::Key& expected =
      primary ? secrets.secondary_proof : secrets.primary_proof;
  if (!crypto::ConstantTimeEqual(their_reply->proof, expected)) {
    return Refuse(absl::UnauthenticatedError(absl::StrCat(
        "handshake with ", Peer(),
        ": wrong shared secret (the peer's proof does not match ours: "
        "configure both sides with the same secret; a tampered handshake "
        "also ends here)")));
  }

  HandshakeResult result;
  result.version = *version;
  result.peer_role = theirs->role;
  result.encrypted = ours.wants_encryption;
  result.peer_receive_window_bytes = theirs->receive_window_bytes;
  result.send_key =
      primary ? secrets.primary_to_secondary : secrets.secondary_to_primary;
  result.receive_key =
      primary ? secrets.secondary_to_primary : secrets.primary_to_secondary;
  result.decoder = std::move(decoder_);
  return result;
}

}  // namespace

absl::Status ValidateHandshakeOptions(const HandshakeOptions& options) {
  if (options.role != Role::kPrimary && options.role != Role::kSecondary) {
    return absl::InvalidArgumentError(
        "log channel role must be primary or secondary");
  }
  if (options.secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the log channel's shared secret has ",
                     options.secret.size(), " bytes; at least ",
                     kMinSecretBytes, " are needed (use 32 random bytes)"));
  }
  const std::vector<uint16_t>& v = options.versions;
  if (v.empty() || v.size() > kMaxVersions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offer 1 to ", kMaxVersions, " protocol versions, not ", v.size()));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0 ||
        std::find(v.begin(), v.begin() + i, v[i]) != v.begin() + i) {
      return absl::InvalidArgumentError(absl::StrCat(
          "protocol versions must be distinct and non-zero: ", VersionList(v)));
    }
  }
  if (options.receive_window_bytes < kMinReceiveWindowBytes ||
      options.receive_window_bytes > kMaxReceiveWindowBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "receive window of ", options.receive_window_bytes, " bytes (allowed: ",
        kMinReceiveWindowBytes, " to ", kMaxReceiveWindowBytes, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> NegotiateVersion(std::span<const uint16_t> ours,
                                          std::span<const uint16_t> theirs) {
  std::optional<uint16_t> best;
  for (uint16_t v : ours) {
    if (std::find(theirs.begin(), theirs.end(), v) != theirs.end() &&
        (!best.has_value() || v > *best)) {
      best = v;
    }
  }
  if (!best.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no common protocol version: we accept ",
                     VersionList(ours), "; the peer accepts ",
                     VersionList(theirs), " (upgrade the older side)"));
  }
  return *best;
}

absl::StatusOr<SessionSecrets> DeriveSessionSecrets(
    std::span<const uint8_t> secret, std::span<const uint8_t> primary_hello,
    std::span<const uint8_t> secondary_hello, uint16_t version) {
  // The transcript: both HELLOs (with the nonces) and the chosen version, so
  // that a proof or key is bound to this very handshake.
  std::vector<uint8_t> t(kTranscriptLabel.begin(), kTranscriptLabel.end());
  PutLe32(primary_hello.size(), t);
  t.insert(t.end(), primary_hello.begin(), primary_hello.end());
  PutLe32(secondary_hello.size(), t);
  t.insert(t.end(), secondary_hello.begin(), secondary_hello.end());
  t.push_back(uint8_t(version));
  t.push_back(uint8_t(version >> 8));
  const crypto::Digest transcript = crypto::Sha256(t);

  SessionSecrets s;
  FT_ASSIGN_OR_RETURN(s.primary_proof,
                      DeriveKey(secret, transcript, "proof primary"));
  FT_ASSIGN_OR_RETURN(s.secondary_proof,
                      DeriveKey(secret, transcript, "proof secondary"));
  FT_ASSIGN_OR_RETURN(s.primary_to_secondary,
                      DeriveKey(secret, transcript, "key primary->secondary"));
  FT_ASSIGN_OR_RETURN(s.secondary_to_primary,
                      DeriveKey(secret, transcript, "key secondary->primary"));
  return s;
}

absl::StatusOr<HandshakeResult> RunHandshake(Transport& transport,
                                             const HandshakeOptions& options) {
  return Handshaker(transport, options).Run();
}

}  // namespace ft::logchannel
