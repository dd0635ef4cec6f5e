// The input format of the device state fuzz target, shared with the seed
// generator (make_device_seeds.cc):
//
//   device (1 byte) | an encoded state (vmm/snapshot/device_codec.h)
//
// device % kDeviceKinds picks the device that restores the state.
#ifndef FTVM_TESTS_FUZZ_DEVICE_STATE_FUZZ_INPUT_H_
#define FTVM_TESTS_FUZZ_DEVICE_STATE_FUZZ_INPUT_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace ft::vmm::fuzz {

enum class DeviceKind : uint8_t { kPic = 0, kPit = 1, kRtc = 2, kSerial = 3 };
inline constexpr uint8_t kDeviceKinds = 4;

inline std::vector<uint8_t> InputOf(DeviceKind kind,
                                    std::span<const uint8_t> state) {
  std::vector<uint8_t> input(1 + state.size());
  input[0] = static_cast<uint8_t>(kind);
  std::copy(state.begin(), state.end(), input.begin() + 1);
  return input;
}

}  // namespace ft::vmm::fuzz

#endif  // FTVM_TESTS_FUZZ_DEVICE_STATE_FUZZ_INPUT_H_
