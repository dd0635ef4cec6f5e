// A 16550A-compatible UART (COM1 at port 0x3f8 on a PC).
//
// Transmitted bytes go to an output sink; the transmitter is always ready
// (THRE and TEMT set), since the sink takes bytes synchronously. Received
// bytes are queued with Receive(). Interrupt generation arrives with the
// interrupt controller; IIR already reports the right cause.
//
// Thread ownership: called through the IoBus (serialized by it).
#ifndef FTVM_VMM_DEVICES_SERIAL_16550_H_
#define FTVM_VMM_DEVICES_SERIAL_16550_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm {

class Serial16550 : public IoDevice {
 public:
  static constexpr uint16_t kCom1Port = 0x3f8;
  static constexpr uint16_t kPortCount = 8;
  static constexpr size_t kRxFifoSize = 16;

  // The whole guest-visible state, as plain values (the save/restore
  // contract). The output sink is the host's and is not included.
  struct State {
    std::vector<uint8_t> rx_fifo;  // oldest first, at most kRxFifoSize
    uint8_t ier = 0;               // bits 0-3
    uint8_t fcr = 0;
    uint8_t lcr = 0x03;
    uint8_t mcr = 0x08;  // bits 0-4
    uint8_t scr = 0;
    uint16_t divisor = 12;
    bool overrun = false;
    friend bool operator==(const State&, const State&) = default;
  };

  using OutputSink = std::function<void(std::span<const uint8_t>)>;
  explicit Serial16550(OutputSink sink) : sink_(std::move(sink)) {}

  std::string_view name() const override { return "serial-16550"; }
  void Access(const IoAccess& access) override;

  // Queues bytes for the guest to read; bytes past a full FIFO are dropped
  // and counted as an overrun, as on the real chip.
  void Receive(std::span<const uint8_t> bytes);

  State SaveState() const;
  // Replaces the state. The values come from a peer: every field is checked
  // (ranges, the FIFO's size); on error nothing changes.
  absl::Status RestoreState(const State& state);

 private:
  uint8_t Read(uint64_t reg);
  void Write(uint64_t reg, uint8_t value);
  uint8_t LineStatus() const;
  uint8_t InterruptId() const;
  bool dlab() const { return (lcr_ & 0x80) != 0; }
  bool loopback() const { return (mcr_ & 0x10) != 0; }

  OutputSink sink_;
  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0;
  uint8_t fcr_ = 0;
  uint8_t lcr_ = 0x03;  // 8N1
  uint8_t mcr_ = 0x08;  // OUT2
  uint8_t scr_ = 0;
  uint16_t divisor_ = 12;  // 9600 baud
  bool overrun_ = false;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_SERIAL_16550_H_
