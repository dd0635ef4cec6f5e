// Tests for vmm/devices/serial_16550.h, driven through IoDevice::Access with
// the IoAccess values the bus would build for COM1.
#include "vmm/devices/serial_16550.h"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Register offsets.
constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kFcr = 2, kLcr = 3, kMcr = 4,
                   kLsr = 5, kMsr = 6, kScr = 7;

constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20,
                  kLsrTemt = 0x40;

class Serial16550Test : public ::testing::Test {
 protected:
  Serial16550Test()
      : uart_([this](std::span<const uint8_t> b) {
          out_.insert(out_.end(), b.begin(), b.end());
        }) {}

  uint8_t In(uint64_t reg) {
    std::array<uint8_t, 1> b{0x5a};
    uart_.Access(IoAccess{.space = IoSpace::kPio,
                          .address = Serial16550::kCom1Port + reg,
                          .offset = reg,
                          .is_write = false,
                          .data = b});
    return b[0];
  }
  void Out(uint64_t reg, uint8_t value) {
    std::array<uint8_t, 1> b{value};
    uart_.Access(IoAccess{.space = IoSpace::kPio,
                          .address = Serial16550::kCom1Port + reg,
                          .offset = reg,
                          .is_write = true,
                          .data = b});
  }
  void Receive(std::vector<uint8_t> bytes) { uart_.Receive(bytes); }

  std::vector<uint8_t> out_;
  Serial16550 uart_;
};

TEST_F(Serial16550Test, TransmitReachesSink) {
  Out(kData, 'h');
  Out(kData, 'i');
  Out(kData, 0);
  EXPECT_THAT(out_, ElementsAre('h', 'i', 0));
  EXPECT_EQ(In(kLsr) & (kLsrThre | kLsrTemt), kLsrThre | kLsrTemt);
}

TEST_F(Serial16550Test, IdleLineStatus) {
  EXPECT_EQ(In(kLsr), kLsrThre | kLsrTemt);
  EXPECT_EQ(In(kData), 0);  // empty RBR reads zero
  EXPECT_EQ(In(kLcr), 0x03);
}

TEST_F(Serial16550Test, WideReadZeroesUpperBytes) {
  std::array<uint8_t, 4> b{0xaa, 0xaa, 0xaa, 0xaa};
  uart_.Access(IoAccess{.space = IoSpace::kPio,
                        .address = Serial16550::kCom1Port + kLsr,
                        .offset = kLsr,
                        .is_write = false,
                        .data = b});
  EXPECT_THAT(b, ElementsAre(kLsrThre | kLsrTemt, 0, 0, 0));
}

TEST_F(Serial16550Test, DlabSelectsDivisorLatch) {
  Out(kIer, 0x03);
  Out(kLcr, 0x83);           // DLAB | 8N1
  EXPECT_EQ(In(kData), 12);  // default divisor: 9600 baud
  EXPECT_EQ(In(kIer), 0);
  Out(kData, 0x01);  // DLL
  Out(kIer, 0x02);   // DLM
  EXPECT_EQ(In(kData), 0x01);
  EXPECT_EQ(In(kIer), 0x02);
  EXPECT_THAT(out_, IsEmpty());  // DLL writes are not transmitted
  EXPECT_EQ(In(kLcr), 0x83);

  Out(kLcr, 0x03);
  EXPECT_EQ(In(kIer), 0x03);  // IER kept its value under the latch
  Out(kData, 'x');
  EXPECT_THAT(out_, ElementsAre('x'));
  Out(kLcr, 0x83);
  EXPECT_EQ(In(kData), 0x01);  // divisor kept as well
  EXPECT_EQ(In(kIer), 0x02);
}

TEST_F(Serial16550Test, ScratchRoundTrip) {
  for (uint8_t v : {0x00, 0x5a, 0xa5, 0xff}) {
    Out(kScr, v);
    EXPECT_EQ(In(kScr), v);
  }
}

TEST_F(Serial16550Test, ReceiveInOrder) {
  Receive({'a', 'b', 'c'});
  EXPECT_EQ(In(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(In(kData), 'a');
  EXPECT_EQ(In(kData), 'b');
  EXPECT_EQ(In(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(In(kData), 'c');
  EXPECT_EQ(In(kLsr) & kLsrDr, 0);
  EXPECT_EQ(In(kData), 0);
}

TEST_F(Serial16550Test, OverflowSetsOverrunUntilLsrRead) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < Serial16550::kRxFifoSize + 3; ++i) {
    bytes.push_back(static_cast<uint8_t>(i));
  }
  Receive(bytes);
  EXPECT_EQ(In(kLsr), kLsrThre | kLsrTemt | kLsrDr | kLsrOe);
  EXPECT_EQ(In(kLsr), kLsrThre | kLsrTemt | kLsrDr);  // cleared by the read
  // The first kRxFifoSize bytes are kept; the rest were dropped.
  for (size_t i = 0; i < Serial16550::kRxFifoSize; ++i) {
    EXPECT_EQ(In(kData), i);
  }
  EXPECT_EQ(In(kLsr), kLsrThre | kLsrTemt);
}

TEST_F(Serial16550Test, ExactlyFullFifoIsNoOverrun) {
  Receive(std::vector<uint8_t>(Serial16550::kRxFifoSize, 'z'));
  EXPECT_EQ(In(kLsr) & kLsrOe, 0);
}

TEST_F(Serial16550Test, InterruptIdentification) {
  EXPECT_EQ(In(kIir), 0x01);  // no interrupt pending
  Out(kIer, 0x02);            // THR empty
  EXPECT_EQ(In(kIir), 0x02);
  Out(kIer, 0x01);  // RX available only; nothing received
  EXPECT_EQ(In(kIir), 0x01);
  Receive({'q'});
  EXPECT_EQ(In(kIir), 0x04);
  Out(kIer, 0x03);  // RX has priority over THR empty
  EXPECT_EQ(In(kIir), 0x04);
  Out(kIer, 0x02);
  EXPECT_EQ(In(kIir), 0x02);
  Out(kIer, 0x00);
  EXPECT_EQ(In(kIir), 0x01);

  Out(kFcr, 0x01);  // FIFOs on: IIR bits 7-6 set
  EXPECT_EQ(In(kIir), 0xc1);
  Out(kIer, 0x01);
  EXPECT_EQ(In(kIir), 0xc4);
  Out(kIer, 0x02);
  EXPECT_EQ(In(kIir), 0xc2);
  Out(kFcr, 0x00);
  EXPECT_EQ(In(kIir), 0x02);
}

TEST_F(Serial16550Test, FcrClearsReceiveFifo) {
  Receive({1, 2, 3});
  Out(kFcr, 0x01);  // enable only: data kept
  EXPECT_EQ(In(kLsr) & kLsrDr, kLsrDr);
  Out(kFcr, 0x03);  // enable + reset RX
  EXPECT_EQ(In(kLsr) & kLsrDr, 0);
  EXPECT_EQ(In(kData), 0);
  Receive({7});
  EXPECT_EQ(In(kData), 7);
}

TEST_F(Serial16550Test, LoopbackEchoesAndMirrorsModemControl) {
  EXPECT_EQ(In(kMsr), 0xb0);  // DCD, DSR, CTS asserted normally
  Out(kMcr, 0x10);            // loopback, all outputs off
  EXPECT_EQ(In(kMcr), 0x10);
  EXPECT_EQ(In(kMsr), 0x00);
  Out(kData, 0xab);
  EXPECT_THAT(out_, IsEmpty());  // not transmitted
  EXPECT_EQ(In(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(In(kData), 0xab);

  Out(kMcr, 0x10 | 0x01);  // DTR -> DSR
  EXPECT_EQ(In(kMsr), 0x20);
  Out(kMcr, 0x10 | 0x02);  // RTS -> CTS
  EXPECT_EQ(In(kMsr), 0x10);
  Out(kMcr, 0x10 | 0x04);  // OUT1 -> RI
  EXPECT_EQ(In(kMsr), 0x40);
  Out(kMcr, 0x10 | 0x08);  // OUT2 -> DCD
  EXPECT_EQ(In(kMsr), 0x80);
  Out(kMcr, 0xff);  // upper bits are not writable
  EXPECT_EQ(In(kMcr), 0x1f);
  EXPECT_EQ(In(kMsr), 0xf0);

  Out(kMcr, 0x08);  // loopback off: transmit goes out again
  Out(kData, 'y');
  EXPECT_THAT(out_, ElementsAre('y'));
  EXPECT_EQ(In(kLsr) & kLsrDr, 0);
  EXPECT_EQ(In(kMsr), 0xb0);
}

TEST_F(Serial16550Test, LineStatusAndModemStatusAreReadOnly) {
  Out(kLsr, 0xff);
  Out(kMsr, 0x00);
  EXPECT_EQ(In(kLsr), kLsrThre | kLsrTemt);
  EXPECT_EQ(In(kMsr), 0xb0);
  EXPECT_THAT(out_, IsEmpty());
}

}  // namespace
}  // namespace ft::vmm
