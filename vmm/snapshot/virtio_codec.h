// Encoding of a virtio-mmio slot's saved state (MmioTransport::State, its
// device's state included) as a Cap'n Proto message of
// schema/virtio_devices.capnp. This is the only code that includes the
// generated header.
//
// Decoding treats the bytes as hostile: any alignment, a traversal limit
// proportional to their size, list lengths bounded before anything is
// allocated, and every Cap'n Proto exception caught. It returns DataLoss
// for a malformed message, InvalidArgument for a field out of bounds and
// FailedPrecondition for a state this reader is too old for. Restoring
// adds the transport's and the device's own checks (RestoreState); on any
// error the slot is left as it was.
//
// Stateless functions; SaveDevice and RestoreDevice take the transport's
// lock, so call them while no vCPU runs (between exits).
#ifndef FTVM_VMM_SNAPSHOT_VIRTIO_CODEC_H_
#define FTVM_VMM_SNAPSHOT_VIRTIO_CODEC_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "vmm/virtio/mmio_transport.h"

namespace ft::vmm::snapshot {

// The schema version this code writes and reads (minReaderVersion).
inline constexpr uint32_t kVirtioStateVersion = 1;

// One virtio-mmio slot: the transport, its queues and its device. An
// encoded Cap'n Proto message (flat array, unpacked).
std::vector<uint8_t> SaveDevice(const MmioTransport& device);
absl::Status RestoreDevice(MmioTransport& device,
                           std::span<const uint8_t> bytes);

// The two halves, for tests and tools that inspect or alter a state.
std::vector<uint8_t> EncodeVirtioState(const MmioTransport::State& state);
absl::StatusOr<MmioTransport::State> DecodeVirtioState(
    std::span<const uint8_t> bytes);

}  // namespace ft::vmm::snapshot

#endif  // FTVM_VMM_SNAPSHOT_VIRTIO_CODEC_H_
