// The legacy devices' saved state (their State, the save/restore contract)
// as Cap'n Proto messages (schema/devices.capnp), for a full state transfer:
// saved on the primary's vCPU thread between exits, restored on a freshly
// built machine of the same config (a replaying secondary).
//
// Saved bytes are one flat, unpacked message. RestoreDevice treats them as
// hostile (a peer sent them): any alignment, bounded size and traversal,
// Cap'n Proto exceptions become Status, and the device's RestoreState checks
// every value. On error the device is unchanged. Errors name the device and
// the field.
//
// Thread ownership: the devices' (the vCPU thread).
#ifndef FTVM_VMM_SNAPSHOT_DEVICE_CODEC_H_
#define FTVM_VMM_SNAPSHOT_DEVICE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "vmm/devices/cmos_rtc.h"
#include "vmm/devices/pic_8259.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/devices/serial_16550.h"

namespace ft::vmm::snapshot {

// No device state comes near this; a larger input is refused unread.
inline constexpr size_t kMaxDeviceStateBytes = 4096;

std::vector<uint8_t> SaveDevice(const Pic8259& device);
absl::Status RestoreDevice(Pic8259& device, std::span<const uint8_t> bytes);

std::vector<uint8_t> SaveDevice(const Pit8254& device);
absl::Status RestoreDevice(Pit8254& device, std::span<const uint8_t> bytes);

std::vector<uint8_t> SaveDevice(const CmosRtc& device);
absl::Status RestoreDevice(CmosRtc& device, std::span<const uint8_t> bytes);

std::vector<uint8_t> SaveDevice(const Serial16550& device);
absl::Status RestoreDevice(Serial16550& device, std::span<const uint8_t> bytes);

}  // namespace ft::vmm::snapshot

#endif  // FTVM_VMM_SNAPSHOT_DEVICE_CODEC_H_
