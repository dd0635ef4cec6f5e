/* 8254 PIT channel 0 as a free-running 64-bit clock, see pit.h. */
#include "lib/pit.h"

#include "ftguest/reference.h"
#include "lib/pio.h"

/* Channel 0, access lobyte/hibyte, mode 2, binary. */
#define PIT_CMD_CH0_MODE2 0x34
/* Channel 0 counter latch: the next two reads return one consistent value. */
#define PIT_CMD_CH0_LATCH 0x00

static uint64_t total_ticks;
static uint16_t last_count;

static uint16_t read_count(void) {
  ftg_outb(FTG_PORT_PIT_CMD, PIT_CMD_CH0_LATCH);
  uint8_t lo = ftg_inb(FTG_PORT_PIT_CH0);
  uint8_t hi = ftg_inb(FTG_PORT_PIT_CH0);
  return (uint16_t)(lo | (hi << 8));
}

void ftg_clock_init(void) {
  ftg_outb(FTG_PORT_PIT_CMD, PIT_CMD_CH0_MODE2);
  ftg_outb(FTG_PORT_PIT_CH0, 0); /* reload 0 means 65536 */
  ftg_outb(FTG_PORT_PIT_CH0, 0);
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

uint64_t ftg_ticks_to_us(uint64_t ticks) {
  /* Exact for any run shorter than ~180 days (no 64-bit overflow). */
  return ticks / FTG_PIT_HZ * 1000000 +
         ticks % FTG_PIT_HZ * 1000000 / FTG_PIT_HZ;
}
