// Where a machine's outputs wait before they reach the outside world: the
// FT primary's Output Rule (primary/output_hold.h) holds each packet and
// disk write until the secondary has acknowledged the log up to it, while
// the guest keeps running. Without a gate, outputs go out at once.
//
// Thread ownership: Hold runs on the vCPU thread, right after the hooks'
// OnOutput for the same output; `release` may run on any thread (the
// gate's), and must not be run after the machine is destroyed: the owner
// stops the gate first.
#ifndef FTVM_VMM_OUTPUT_GATE_H_
#define FTVM_VMM_OUTPUT_GATE_H_

#include <cstdint>
#include <functional>

namespace ft::vmm {

class OutputGate {
 public:
  virtual ~OutputGate() = default;

  // Runs `release` once every earlier Hold of `stream` has run and, if
  // `is_output`, once what the hooks logged so far is safe. Requests that
  // are not outputs themselves (a disk read or flush) still wait behind the
  // outputs of their stream, so they see what was written before them.
  virtual void Hold(uint32_t stream, bool is_output,
                    std::function<void()> release) = 0;
};

// Stream numbers of a machine's devices.
inline uint32_t DiskStream(uint32_t disk) { return disk; }
inline uint32_t NetStream(uint32_t nic) { return 0x100 + nic; }

}  // namespace ft::vmm

#endif  // FTVM_VMM_OUTPUT_GATE_H_
