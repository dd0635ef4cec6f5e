/*
 * COM1 16550 UART, polled, transmit only.
 *
 * Every port access is a VM exit (60-80 us here), so the driver waits for
 * THR-empty once and then writes a whole FIFO (16 bytes): 17 exits per 16
 * bytes instead of 32 for the naive wait-per-byte loop.
 */
#include "lib/serial.h"

#include "ftguest/reference.h"
#include "lib/pio.h"

#define UART_THR 0 /* transmit holding register (DLAB=0) */
#define UART_IER 1
#define UART_DLL 0 /* divisor latch (DLAB=1) */
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR_THRE 0x20 /* THR (and, with FIFO on, the whole FIFO) empty */
#define UART_FIFO_SIZE 16

static bool at_line_start = true;

void ftg_serial_init(void) {
  const uint16_t base = FTG_PORT_COM1;
  ftg_outb(base + UART_IER, 0x00); /* no interrupts: we poll */
  ftg_outb(base + UART_LCR, 0x80); /* DLAB to set the divisor */
  ftg_outb(base + UART_DLL, 0x01); /* 115200 baud */
  ftg_outb(base + UART_DLM, 0x00);
  ftg_outb(base + UART_LCR, 0x03); /* 8N1, DLAB off */
  ftg_outb(base + UART_FCR, 0x07); /* FIFO on, clear both FIFOs */
  ftg_outb(base + UART_MCR, 0x03); /* DTR | RTS */
}

void ftg_serial_write(const char* s, size_t n) {
  while (n > 0) {
    while (!(ftg_inb(FTG_PORT_COM1_LSR) & UART_LSR_THRE)) ftg_pause();
    size_t chunk = n < UART_FIFO_SIZE ? n : UART_FIFO_SIZE;
    for (size_t i = 0; i < chunk; i++)
      ftg_outb(FTG_PORT_COM1 + UART_THR, (uint8_t)s[i]);
    at_line_start = s[chunk - 1] == '\n';
    s += chunk;
    n -= chunk;
  }
}

bool ftg_serial_at_line_start(void) { return at_line_start; }
