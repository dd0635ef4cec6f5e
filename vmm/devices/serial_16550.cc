#include "vmm/devices/serial_16550.h"

#include "absl/strings/str_format.h"

namespace ft::vmm {
namespace {

// Register offsets.
constexpr uint64_t kData = 0;  // RBR/THR, DLL with DLAB
constexpr uint64_t kIer = 1;   // DLM with DLAB
constexpr uint64_t kIirFcr = 2;
constexpr uint64_t kLcr = 3;
constexpr uint64_t kMcr = 4;
constexpr uint64_t kLsr = 5;
constexpr uint64_t kMsr = 6;
constexpr uint64_t kScr = 7;

constexpr uint8_t kLsrDataReady = 0x01;
constexpr uint8_t kLsrOverrun = 0x02;
constexpr uint8_t kLsrThrEmpty = 0x20;
constexpr uint8_t kLsrTxEmpty = 0x40;

constexpr uint8_t kIerRxAvailable = 0x01;
constexpr uint8_t kIerThrEmpty = 0x02;

constexpr uint8_t kIirNoInterrupt = 0x01;
constexpr uint8_t kIirThrEmpty = 0x02;
constexpr uint8_t kIirRxAvailable = 0x04;
constexpr uint8_t kIirFifoEnabled = 0xc0;

}  // namespace

void Serial16550::Access(const IoAccess& access) {
  // The UART has byte registers; wider accesses touch only the first byte,
  // and reads return zero in the rest.
  if (access.is_write) {
    Write(access.offset, access.data[0]);
  } else {
    access.data[0] = Read(access.offset);
    for (size_t i = 1; i < access.data.size(); ++i) access.data[i] = 0;
  }
}

void Serial16550::Receive(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    if (rx_.size() >= kRxFifoSize) {
      overrun_ = true;
      continue;
    }
    rx_.push_back(b);
  }
}

Serial16550::State Serial16550::SaveState() const {
  return State{.rx_fifo = std::vector<uint8_t>(rx_.begin(), rx_.end()),
               .ier = ier_,
               .fcr = fcr_,
               .lcr = lcr_,
               .mcr = mcr_,
               .scr = scr_,
               .divisor = divisor_,
               .overrun = overrun_};
}

absl::Status Serial16550::RestoreState(const State& state) {
  if (state.rx_fifo.size() > kRxFifoSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "serial-16550: rx_fifo holds %u bytes, the FIFO only %u",
        state.rx_fifo.size(), kRxFifoSize));
  }
  if (state.ier & ~0x0f) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "serial-16550: ier is 0x%02x, only bits 0-3 exist", state.ier));
  }
  if (state.mcr & ~0x1f) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "serial-16550: mcr is 0x%02x, only bits 0-4 exist", state.mcr));
  }
  rx_.assign(state.rx_fifo.begin(), state.rx_fifo.end());
  ier_ = state.ier;
  fcr_ = state.fcr;
  lcr_ = state.lcr;
  mcr_ = state.mcr;
  scr_ = state.scr;
  divisor_ = state.divisor;
  overrun_ = state.overrun;
  return absl::OkStatus();
}

uint8_t Serial16550::LineStatus() const {
  uint8_t lsr = kLsrThrEmpty | kLsrTxEmpty;
  if (!rx_.empty()) lsr |= kLsrDataReady;
  if (overrun_) lsr |= kLsrOverrun;
  return lsr;
}

uint8_t Serial16550::InterruptId() const {
  uint8_t fifo = (fcr_ & 0x01) ? kIirFifoEnabled : 0;
  if ((ier_ & kIerRxAvailable) && !rx_.empty()) return fifo | kIirRxAvailable;
  if (ier_ & kIerThrEmpty) return fifo | kIirThrEmpty;
  return fifo | kIirNoInterrupt;
}

uint8_t Serial16550::Read(uint64_t reg) {
  switch (reg) {
    case kData:
      if (dlab()) return divisor_ & 0xff;
      if (rx_.empty()) return 0;
      {
        uint8_t b = rx_.front();
        rx_.pop_front();
        return b;
      }
    case kIer:
      return dlab() ? divisor_ >> 8 : ier_;
    case kIirFcr:
      return InterruptId();
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      uint8_t lsr = LineStatus();
      overrun_ = false;  // cleared by reading LSR
      return lsr;
    }
    case kMsr:
      // In loopback the modem inputs follow the outputs; otherwise report
      // carrier, DSR and CTS so guests that wait for them proceed.
      if (loopback()) {
        return static_cast<uint8_t>(
            ((mcr_ & 0x01) << 5) | ((mcr_ & 0x02) << 3) | ((mcr_ & 0x04) << 4) |
            ((mcr_ & 0x08) << 4));
      }
      return 0xb0;
    case kScr:
      return scr_;
    default:
      return 0xff;
  }
}

void Serial16550::Write(uint64_t reg, uint8_t value) {
  switch (reg) {
    case kData:
      if (dlab()) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0xff00) | value);
      } else if (loopback()) {
        Receive(std::span<const uint8_t>(&value, 1));
      } else {
        sink_(std::span<const uint8_t>(&value, 1));
      }
      return;
    case kIer:
      if (dlab()) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (value << 8));
      } else {
        ier_ = value & 0x0f;
      }
      return;
    case kIirFcr:
      fcr_ = value;
      if (value & 0x02) rx_.clear();  // reset the receive FIFO
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      mcr_ = value & 0x1f;
      return;
    case kScr:
      scr_ = value;
      return;
    default:
      return;  // LSR and MSR are read-only
  }
}

}  // namespace ft::vmm
