#include "logchannel/session_codec.h"

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace ft::logchannel {

crypto::GcmNonce RecordNonce(uint64_t count) {
  crypto::GcmNonce n{};
  for (int i = 0; i < 8; ++i) n[4 + i] = uint8_t(count >> (8 * (7 - i)));
  return n;
}

absl::StatusOr<SessionEncoder> SessionEncoder::Create(const crypto::Key& key,
                                                      bool encrypt,
                                                      uint16_t version) {
  FT_RETURN_IF_ERROR(CheckSupportedVersion(version));
  FT_ASSIGN_OR_RETURN(crypto::AesGcm gcm,
                      crypto::AesGcm::Create(key, crypto::AesGcm::Mode::kSeal));
  return SessionEncoder(std::move(gcm), encrypt, version);
}

absl::Status AppendSealedRecord(crypto::AesGcm& gcm, uint64_t count,
                                RecordType type, uint64_t sequence,
                                bool encrypt, std::span<const uint8_t> payload,
                                std::vector<uint8_t>& out) {
  FT_CHECK(payload.size() <= MaxPayloadBytes(type))
      << RecordTypeName(type) << " payload of " << payload.size() << " bytes";
  const RecordHeader header{
      .type = type,
      .flags =
          static_cast<uint8_t>(kFlagSealed | (encrypt ? kFlagEncrypted : 0)),
      .length = static_cast<uint32_t>(payload.size() + kTagBytes),
      .sequence = sequence};
  const auto header_bytes = EncodeRecordHeader(header);
  const size_t start = out.size();
  out.insert(out.end(), header_bytes.begin(), header_bytes.end());
  const crypto::GcmNonce nonce = RecordNonce(count);
  absl::Status s;
  if (encrypt) {
    s = gcm.Seal(nonce, header_bytes, payload, out);
  } else {
    // Plaintext: the payload goes in the clear and is authenticated with
    // the header as associated data.
    out.insert(out.end(), payload.begin(), payload.end());
    std::vector<uint8_t> aad(header_bytes.begin(), header_bytes.end());
    aad.insert(aad.end(), payload.begin(), payload.end());
    s = gcm.Seal(nonce, aad, {}, out);
  }
  if (!s.ok()) out.resize(start);
  return s;
}

absl::Status SessionEncoder::Append(RecordType type, uint64_t sequence,
                                    std::span<const uint8_t> payload,
                                    std::vector<uint8_t>& out) {
  // 2^64 records would take centuries; never wrap the nonce.
  FT_CHECK(records_ != UINT64_MAX) << "record nonces exhausted";
  FT_RETURN_IF_ERROR(AppendSealedRecord(gcm_, records_, type, sequence,
                                        encrypt_, payload, out));
  ++records_;
  return absl::OkStatus();
}

absl::Status SessionEncoder::AppendData(SequenceNumber sequence,
                                        std::span<const uint8_t> payload,
                                        std::vector<uint8_t>& out) {
  FT_CHECK(sequence.value() == last_data_.value() + 1)
      << "DATA " << sequence << " after " << last_data_;
  FT_RETURN_IF_ERROR(Append(RecordType::kData, sequence.value(), payload, out));
  last_data_ = sequence;
  return absl::OkStatus();
}

absl::Status SessionEncoder::AppendAck(SequenceNumber acked,
                                       std::vector<uint8_t>& out) {
  FT_CHECK(acked > last_ack_) << "ACK " << acked << " after " << last_ack_;
  FT_RETURN_IF_ERROR(Append(RecordType::kAck, acked.value(), {}, out));
  last_ack_ = acked;
  return absl::OkStatus();
}

absl::Status SessionEncoder::AppendHeartbeat(int64_t now_ns, uint64_t progress,
                                             std::vector<uint8_t>& out) {
  const std::vector<uint8_t> body = EncodeHeartbeat(
      {.sender_time_ns = now_ns,
       .sent = last_data_,
       .acked = last_ack_,
       .progress = HeartbeatHasProgress(version_) ? progress : 0},
      version_);
  return Append(RecordType::kHeartbeat, 0, body, out);
}

absl::Status SessionEncoder::AppendClose(const CloseNotice& close,
                                         std::vector<uint8_t>& out) {
  return Append(RecordType::kClose, 0, EncodeClose(close), out);
}

absl::StatusOr<SessionDecoder> SessionDecoder::Create(RecordDecoder records,
                                                      const crypto::Key& key,
                                                      bool encrypted,
                                                      uint16_t version) {
  FT_RETURN_IF_ERROR(CheckSupportedVersion(version));
  FT_ASSIGN_OR_RETURN(crypto::AesGcm gcm,
                      crypto::AesGcm::Create(key, crypto::AesGcm::Mode::kOpen));
  return SessionDecoder(std::move(records), std::move(gcm), encrypted, version);
}

absl::StatusOr<std::optional<SessionMessage>> SessionDecoder::Next() {
  if (!error_.ok()) return error_;
  absl::StatusOr<std::optional<RawRecord>> record = records_.Next();
  if (!record.ok()) {
    error_ = record.status();
    return error_;
  }
  if (!record->has_value()) return std::nullopt;
  const RawRecord& r = **record;
  absl::StatusOr<SessionMessage> message = Decode(r);
  if (!message.ok()) {
    error_ =
        Annotate(message.status(), absl::StrCat("record ", r.index, " (",
                                                RecordTypeName(r.header.type),
                                                ") at byte ", r.offset));
    return error_;
  }
  return std::move(*message);
}

absl::StatusOr<SessionMessage> SessionDecoder::Decode(const RawRecord& r) {
  const RecordHeader& h = r.header;
  if (closed_) {
    return absl::DataLossError("the peer sent a record after its CLOSE");
  }
  if (h.type == RecordType::kHello || h.type == RecordType::kHelloReply) {
    return absl::DataLossError("a handshake record after the handshake");
  }
  if (!h.sealed()) {
    return absl::DataLossError(
        "the record is not sealed (every record after the handshake must be)");
  }
  if (h.encrypted() != encrypted_) {
    return absl::DataLossError(
        encrypted_ ? "a plaintext record on an encrypted channel"
                   : "an encrypted record on a plaintext channel");
  }
  // Authenticate before looking at anything the body says.
  std::vector<uint8_t> payload;
  const crypto::GcmNonce nonce = RecordNonce(opened_);
  absl::Status opened;
  if (encrypted_) {
    opened = gcm_.Open(nonce, r.header_bytes, r.body, payload);
  } else {
    const size_t n = r.body.size() - kTagBytes;
    std::vector<uint8_t> aad(r.header_bytes.begin(), r.header_bytes.end());
    aad.insert(aad.end(), r.body.begin(), r.body.begin() + n);
    std::vector<uint8_t> none;
    opened = gcm_.Open(nonce, aad, std::span(r.body).subspan(n), none);
    if (opened.ok()) payload.assign(r.body.begin(), r.body.begin() + n);
  }
  if (absl::IsDataLoss(opened)) {
    return absl::DataLossError(
        "failed authentication: it was altered on the way, replayed or "
        "reordered, or was not sent by the peer that completed the handshake");
  }
  FT_RETURN_IF_ERROR(opened);
  ++opened_;

  switch (h.type) {
    case RecordType::kData: {
      if (h.sequence != last_data_.value() + 1) {
        return absl::DataLossError(absl::StrCat("DATA out of sequence: number ",
                                                h.sequence, ", expected ",
                                                last_data_.value() + 1));
      }
      last_data_ = SequenceNumber(h.sequence);
      return DataMessage{.sequence = last_data_, .payload = std::move(payload)};
    }
    case RecordType::kAck: {
      if (h.sequence <= last_ack_.value()) {
        return absl::DataLossError(absl::StrCat(
            "ACK of ", h.sequence,
            " does not advance past the previous ACK of ", last_ack_.value()));
      }
      last_ack_ = SequenceNumber(h.sequence);
      return AckMessage{.acked = last_ack_};
    }
    case RecordType::kHeartbeat:
      return DecodeHeartbeat(payload);
    case RecordType::kClose: {
      FT_ASSIGN_OR_RETURN(CloseNotice close, ParseClose(payload));
      closed_ = true;
      return close;
    }
    case RecordType::kHello:
    case RecordType::kHelloReply:
      break;
  }
  return absl::InternalError("unreachable record type");
}

absl::StatusOr<Heartbeat> SessionDecoder::DecodeHeartbeat(
    std::span<const uint8_t> payload) {
  FT_ASSIGN_OR_RETURN(Heartbeat hb, ParseHeartbeat(payload, version_));
  if (hb.sent != last_data_ || hb.acked != last_ack_) {
    return absl::DataLossError(
        absl::StrCat("HEARTBEAT says ", hb.sent.value(), " DATA sent and ",
                     hb.acked.value(), " acknowledged, but the stream carried ",
                     last_data_.value(), " and ", last_ack_.value()));
  }
  if (last_heartbeat_.has_value()) {
    if (hb.sender_time_ns < last_heartbeat_->sender_time_ns) {
      return absl::DataLossError(
          "HEARTBEAT time went backwards (the peer's clock is monotonic)");
    }
    if (hb.progress < last_heartbeat_->progress) {
      return absl::DataLossError(absl::StrCat(
          "HEARTBEAT progress went backwards from ", last_heartbeat_->progress,
          " to ", hb.progress, " (the peer's counter is monotonic)"));
    }
  }
  last_heartbeat_ = hb;
  return hb;
}

absl::Status SessionDecoder::Finish() const {
  if (!error_.ok()) return error_;
  return records_.Finish();
}

}  // namespace ft::logchannel
