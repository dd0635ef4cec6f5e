// CRC-32C (Castagnoli; iSCSI, ext4, LevelDB): the checksum of log frames.
//
// Chosen over CRC-32 for its better error detection on the frame sizes used
// here, and because hardware can compute it (SSE4.2) should the software
// version ever be too slow. Pure function; any thread.
#ifndef FTVM_REPLAY_CRC32C_H_
#define FTVM_REPLAY_CRC32C_H_

#include <cstdint>
#include <span>

namespace ft::replay {

// Extends `crc` (the CRC-32C of earlier bytes; 0 for none) over `bytes`:
// Crc32c(b, Crc32c(a)) == Crc32c(a then b).
uint32_t Crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_CRC32C_H_
