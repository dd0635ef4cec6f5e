// Editing encoded log messages behind the codec's back, to make the
// malformed, out-of-bounds and newer-writer messages a reader must refuse
// (the encoder validates, so it cannot make them).
#ifndef FTVM_TESTS_UNIT_REPLAY_FTLOG_REWRITE_H_
#define FTVM_TESTS_UNIT_REPLAY_FTLOG_REWRITE_H_

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "schema/ftlog.capnp.h"

namespace ft::replay::testing {

namespace fl = ::ft::schema::ftlog;

inline std::vector<uint8_t> ToBytes(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// `n` zero bytes (n <= 32 MiB), for blobs of the wrong size.
inline capnp::Data::Reader Zeros(size_t n) {
  static const std::vector<uint8_t>* zeros =
      new std::vector<uint8_t>(size_t{32} << 20);
  return capnp::Data::Reader(zeros->data(), n);
}

// Decodes `payload` as a Root message, applies `edit`, re-encodes.
template <typename Root>
std::vector<uint8_t> Rewrite(
    std::span<const uint8_t> payload,
    const std::function<void(typename Root::Builder)>& edit) {
  kj::Array<capnp::word> words =
      kj::heapArray<capnp::word>(payload.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), payload.data(), payload.size());
  capnp::FlatArrayMessageReader reader(words);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<Root>());
  edit(builder.getRoot<Root>());
  return ToBytes(builder);
}

// Sets the union discriminant of `builder` (a struct of type T with an
// unnamed union) to `value`, which may be one this schema does not have: a
// member added by a newer writer.
template <typename T>
void SetDiscriminant(typename T::Builder builder, uint16_t value) {
  const uint32_t offset =
      capnp::Schema::from<T>().getProto().getStruct().getDiscriminantOffset();
  kj::ArrayPtr<capnp::byte> data =
      capnp::AnyStruct::Builder(std::move(builder)).getDataSection();
  data[offset * 2] = static_cast<capnp::byte>(value);
  data[offset * 2 + 1] = static_cast<capnp::byte>(value >> 8);
}

}  // namespace ft::replay::testing

#endif  // FTVM_TESTS_UNIT_REPLAY_FTLOG_REWRITE_H_
