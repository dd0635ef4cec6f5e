/* 8254 PIT: clock on channel 1, one-shot timer on channel 0, see pit.h. */
#include "lib/pit.h"

#include "ftguest/reference.h"
#include "lib/pio.h"

/* Channel 1, access lobyte/hibyte, mode 2 (rate generator), binary. */
#define PIT_CMD_CH1_MODE2 0x74
/* Channel 1 counter latch: the next two reads return one consistent value. */
#define PIT_CMD_CH1_LATCH 0x40
/* Channel 0, access lobyte/hibyte, mode 0 (interrupt on terminal count). */
#define PIT_CMD_CH0_MODE0 0x30

static uint64_t total_ticks;
static uint16_t last_count;

static uint16_t read_count(void) {
  ftg_outb(FTG_PORT_PIT_CMD, PIT_CMD_CH1_LATCH);
  uint8_t lo = ftg_inb(FTG_PORT_PIT_CH1);
  uint8_t hi = ftg_inb(FTG_PORT_PIT_CH1);
  return (uint16_t)(lo | (hi << 8));
}

void ftg_clock_init(void) {
  ftg_outb(FTG_PORT_PIT_CMD, PIT_CMD_CH1_MODE2);
  ftg_outb(FTG_PORT_PIT_CH1, 0); /* reload 0 means 65536 */
  ftg_outb(FTG_PORT_PIT_CH1, 0);
  /* Mode 0 without a count: OUT stays low, so IRQ 0 is quiet until the
   * first ftg_pit_oneshot. (This also stops the periodic mode 3 a PIT
   * resets to; the 8259 masks IRQ 0 until the timer service asks.) */
  ftg_outb(FTG_PORT_PIT_CMD, PIT_CMD_CH0_MODE0);
  total_ticks = 0;
  last_count = read_count();
}

uint64_t ftg_clock_ticks(void) {
  uint16_t now = read_count();
  /* The counter counts down; uint16_t arithmetic absorbs one wrap. */
  total_ticks += (uint16_t)(last_count - now);
  last_count = now;
  return total_ticks;
}

uint64_t ftg_clock_last(void) { return total_ticks; }

uint64_t ftg_ticks_to_us(uint64_t ticks) {
  /* Exact for any run shorter than ~180 days (no 64-bit overflow). */
  return ticks / FTG_PIT_HZ * 1000000 +
         ticks % FTG_PIT_HZ * 1000000 / FTG_PIT_HZ;
}

uint64_t ftg_ms_to_ticks(uint64_t ms) {
  return ms / 1000 * FTG_PIT_HZ + ms % 1000 * FTG_PIT_HZ / 1000;
}

void ftg_pit_oneshot(uint32_t ticks) {
  /* In mode 0 a new count restarts the channel with OUT low, so the next
   * terminal count is a fresh rising edge; no command byte is needed. */
  if (ticks == 0) ticks = 1;
  if (ticks > 0xffff) ticks = 0xffff;
  ftg_outb(FTG_PORT_PIT_CH0, (uint8_t)ticks);
  ftg_outb(FTG_PORT_PIT_CH0, (uint8_t)(ticks >> 8));
}
