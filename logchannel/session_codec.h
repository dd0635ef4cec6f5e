// The records of an established session, sealed and checked.
//
// SessionEncoder turns DATA, ACK, HEARTBEAT and CLOSE into sealed records;
// SessionDecoder turns the peer's bytes back into messages and refuses
// anything a correct peer would not send: an unsealed record, a record whose
// tag does not verify, a handshake record after the handshake, DATA out of
// sequence, an ACK that does not advance, a heartbeat whose counters
// disagree with the stream or whose time or progress goes backwards,
// anything after CLOSE. Both work in the protocol version the handshake
// chose, which decides the bodies (record.h).
//
// Sealing (docs/logchannel.md, "Records"): AES-256-GCM under the direction's
// session key; the nonce is 4 zero bytes and the big-endian count of records
// sealed before in that direction (the first is 0), so it never repeats
// under a key, and a record that is dropped, replayed or reordered fails its
// tag. The 16-byte header is the associated data. On an encrypted channel
// the payload is encrypted; on a plaintext channel it is sent in the clear
// and authenticated with the header (GCM over empty plaintext).
//
// Thread ownership: each object, one thread at a time (the channel's writer
// thread owns the encoder and its reader thread the decoder).
#ifndef FTVM_LOGCHANNEL_SESSION_CODEC_H_
#define FTVM_LOGCHANNEL_SESSION_CODEC_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "logchannel/crypto.h"
#include "logchannel/record.h"
#include "logchannel/record_decoder.h"

namespace ft::logchannel {

struct DataMessage {
  SequenceNumber sequence;
  std::vector<uint8_t> payload;
  bool operator==(const DataMessage&) const = default;
};
struct AckMessage {
  SequenceNumber acked;
  bool operator==(const AckMessage&) const = default;
};
using SessionMessage =
    std::variant<DataMessage, AckMessage, Heartbeat, CloseNotice>;

// The nonce of the `count`-th record sealed in a direction.
crypto::GcmNonce RecordNonce(uint64_t count);

// Appends one record sealed with `gcm` (a kSeal AesGcm) as the `count`-th
// of its direction, without the checks of SessionEncoder: tests use it to
// forge what a broken peer would send.
absl::Status AppendSealedRecord(crypto::AesGcm& gcm, uint64_t count,
                                RecordType type, uint64_t sequence,
                                bool encrypt, std::span<const uint8_t> payload,
                                std::vector<uint8_t>& out);

class SessionEncoder {
 public:
  // `key`: this direction's session key. InvalidArgument for a `version`
  // this build does not speak.
  static absl::StatusOr<SessionEncoder> Create(const crypto::Key& key,
                                               bool encrypt, uint16_t version);

  // Each appends one sealed record to `out`. DATA numbers must follow each
  // other from 1 and ACKs must advance (FT_CHECK: the channel numbers them).
  absl::Status AppendData(SequenceNumber sequence,
                          std::span<const uint8_t> payload,
                          std::vector<uint8_t>& out);
  absl::Status AppendAck(SequenceNumber acked, std::vector<uint8_t>& out);
  // Carries the last DATA and ACK numbers this encoder sealed, and
  // `progress` where the version has it (version 2 drops it).
  absl::Status AppendHeartbeat(int64_t now_ns, uint64_t progress,
                               std::vector<uint8_t>& out);
  absl::Status AppendClose(const CloseNotice& close, std::vector<uint8_t>& out);

  SequenceNumber last_data() const { return last_data_; }
  SequenceNumber last_ack() const { return last_ack_; }
  uint64_t records() const { return records_; }

 private:
  SessionEncoder(crypto::AesGcm gcm, bool encrypt, uint16_t version)
      : gcm_(std::move(gcm)), encrypt_(encrypt), version_(version) {}
  absl::Status Append(RecordType type, uint64_t sequence,
                      std::span<const uint8_t> payload,
                      std::vector<uint8_t>& out);

  crypto::AesGcm gcm_;
  bool encrypt_;
  uint16_t version_;
  uint64_t records_ = 0;  // sealed so far: the next nonce
  SequenceNumber last_data_;
  SequenceNumber last_ack_;
};

class SessionDecoder {
 public:
  // `records` may hold bytes that arrived with the end of the handshake.
  // `key`: the peer's direction's session key. InvalidArgument for a
  // `version` this build does not speak.
  static absl::StatusOr<SessionDecoder> Create(RecordDecoder records,
                                               const crypto::Key& key,
                                               bool encrypted,
                                               uint16_t version);

  void Feed(std::span<const uint8_t> bytes) { records_.Feed(bytes); }

  // The next message, nullopt if more bytes are needed, or the (sticky)
  // error: DataLoss, naming the record.
  absl::StatusOr<std::optional<SessionMessage>> Next();

  // At the end of the stream, once Next returned nullopt: OK on a record
  // boundary, else as RecordDecoder::Finish.
  absl::Status Finish() const;

  bool closed() const { return closed_; }  // a CLOSE was returned
  SequenceNumber last_data() const { return last_data_; }
  SequenceNumber last_ack() const { return last_ack_; }
  uint64_t bytes_decoded() const { return records_.offset(); }
  size_t buffered() const { return records_.buffered(); }

 private:
  SessionDecoder(RecordDecoder records, crypto::AesGcm gcm, bool encrypted,
                 uint16_t version)
      : records_(std::move(records)),
        gcm_(std::move(gcm)),
        encrypted_(encrypted),
        version_(version) {}
  absl::StatusOr<SessionMessage> Decode(const RawRecord& record);
  absl::StatusOr<Heartbeat> DecodeHeartbeat(std::span<const uint8_t> payload);

  RecordDecoder records_;
  crypto::AesGcm gcm_;
  bool encrypted_;
  uint16_t version_;
  uint64_t opened_ = 0;  // records opened so far: the next nonce
  SequenceNumber last_data_;
  SequenceNumber last_ack_;
  std::optional<Heartbeat> last_heartbeat_;
  bool closed_ = false;
  absl::Status error_;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_SESSION_CODEC_H_
