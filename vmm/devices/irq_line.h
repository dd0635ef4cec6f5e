// IrqLine: an interrupt request line from a device model to the interrupt
// controller. Devices drive the level; the controller decides what a
// transition means (the 8259 in PC mode latches rising edges).
//
// Thread ownership: device models and the controller live on the vCPU thread;
// Set() is only called there.
#ifndef FTVM_VMM_DEVICES_IRQ_LINE_H_
#define FTVM_VMM_DEVICES_IRQ_LINE_H_

namespace ft::vmm {

class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void Set(bool level) = 0;
  // Pulses the line (edge-triggered sources such as the PIT output).
  void Pulse() {
    Set(true);
    Set(false);
  }
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_IRQ_LINE_H_
