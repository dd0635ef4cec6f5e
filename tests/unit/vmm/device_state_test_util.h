// For the device state tests (and the device_state fuzz target and its
// seeds): one-byte port accesses to drive a device, saved states edited
// behind the codec's back, and malformed inputs, to make what a restoring
// device must refuse (a live device cannot save them).
#ifndef FTVM_TESTS_UNIT_VMM_DEVICE_STATE_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_VMM_DEVICE_STATE_TEST_UTIL_H_

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <vector>

#include "vmm/io/io_bus.h"
#include "vmm/snapshot/device_codec.h"

namespace ft::vmm::testing {

// One byte at `port` (`offset` within the device's ports); returns what a
// read gave (a write's value back).
inline uint8_t PortAccess(IoDevice& device, uint16_t port, uint64_t offset,
                          bool is_write, uint8_t value = 0) {
  std::array<uint8_t, 1> b{value};
  device.Access(IoAccess{.space = IoSpace::kPio,
                         .address = port,
                         .offset = offset,
                         .is_write = is_write,
                         .data = b});
  return b[0];
}

// Decodes `bytes` as a Root message, applies `edit`, re-encodes.
template <typename Root>
std::vector<uint8_t> Rewrite(
    std::span<const uint8_t> bytes,
    const std::function<void(typename Root::Builder)>& edit) {
  kj::Array<capnp::word> words =
      kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<Root>());
  edit(builder.getRoot<Root>());
  const kj::Array<capnp::word> out = capnp::messageToFlatArray(builder);
  const auto out_bytes = out.asBytes();
  return std::vector<uint8_t>(out_bytes.begin(), out_bytes.end());
}

// Malformed inputs derived from a valid encoding `valid`: empty, not whole
// words, absurd segment tables, truncated, trailing words, oversized.
inline std::vector<std::vector<uint8_t>> Garbage(
    const std::vector<uint8_t>& valid) {
  std::vector<std::vector<uint8_t>> inputs;
  inputs.push_back({});
  inputs.push_back(std::vector<uint8_t>(7, 0));
  inputs.push_back(std::vector<uint8_t>(64, 0xff));
  std::vector<uint8_t> noise(256);
  for (size_t i = 0; i < noise.size(); ++i) {
    noise[i] = static_cast<uint8_t>(i * 37 + 11);
  }
  inputs.push_back(noise);
  inputs.push_back({valid.begin(), valid.end() - 8});
  inputs.push_back({valid.begin(), valid.begin() + valid.size() / 16 * 8});
  std::vector<uint8_t> trailing = valid;
  trailing.resize(valid.size() + 8);
  inputs.push_back(trailing);
  std::vector<uint8_t> huge = valid;
  huge.resize(snapshot::kMaxDeviceStateBytes + 8);
  inputs.push_back(huge);
  return inputs;
}

}  // namespace ft::vmm::testing

#endif  // FTVM_TESTS_UNIT_VMM_DEVICE_STATE_TEST_UTIL_H_
