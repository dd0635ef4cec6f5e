/*
 * CMOS RTC read, see rtc.h.
 *
 * The textbook rule "wait for UIP to clear, then you have 244 us" does not
 * hold here: reading the six time registers takes twelve exits, ~1 ms. So
 * the guest reads everything twice (after UIP is clear each time) and
 * accepts the result when both reads agree, i.e. no update happened in
 * between. Register B says whether values are BCD and whether hours are
 * 12-hour with bit 7 = PM.
 */
#include "lib/rtc.h"

#include "ftguest/reference.h"
#include "lib/pio.h"

#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS 0x04
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_STATUS_A 0x0a
#define REG_STATUS_B 0x0b
#define STATUS_A_UIP 0x80 /* update in progress */
#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04
#define HOUR_PM 0x80

/* Bounds on the loops, in register reads: an update cycle lasts under 2 ms,
 * i.e. ~15 reads at ~140 us each; allow much more before giving up. */
#define MAX_UIP_POLLS 200
#define MAX_ATTEMPTS 5

struct raw {
  uint8_t sec, min, hour, day, mon, year;
};

static uint8_t cmos_read(uint8_t reg) {
  /* Bit 7 of the index would disable NMIs; leave it clear. */
  ftg_outb(FTG_PORT_CMOS_INDEX, reg);
  return ftg_inb(FTG_PORT_CMOS_DATA);
}

static bool wait_not_updating(void) {
  for (int i = 0; i < MAX_UIP_POLLS; i++)
    if (!(cmos_read(REG_STATUS_A) & STATUS_A_UIP)) return true;
  return false;
}

static void read_raw(struct raw* r) {
  r->sec = cmos_read(REG_SECONDS);
  r->min = cmos_read(REG_MINUTES);
  r->hour = cmos_read(REG_HOURS);
  r->day = cmos_read(REG_DAY);
  r->mon = cmos_read(REG_MONTH);
  r->year = cmos_read(REG_YEAR);
}

static bool same(const struct raw* a, const struct raw* b) {
  return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
         a->day == b->day && a->mon == b->mon && a->year == b->year;
}

static uint8_t from_bcd(uint8_t v) {
  return (uint8_t)((v >> 4) * 10 + (v & 15));
}

bool ftg_rtc_read(struct ftg_rtc_time* out) {
  /* First, so a missing RTC (unclaimed ports read 0xff, which also looks
   * like "update in progress") costs two exits, not a timeout. */
  uint8_t status_b = cmos_read(REG_STATUS_B);
  if (status_b == 0xff) return false;
  struct raw a, b;
  bool ok = false;
  for (int attempt = 0; attempt < MAX_ATTEMPTS && !ok; attempt++) {
    if (!wait_not_updating()) return false;
    read_raw(&a);
    if (!wait_not_updating()) return false;
    read_raw(&b);
    ok = same(&a, &b);
  }
  if (!ok) return false;
  bool pm = !(status_b & STATUS_B_24H) && (a.hour & HOUR_PM);
  a.hour &= (uint8_t)~HOUR_PM;
  if (!(status_b & STATUS_B_BINARY)) {
    a.sec = from_bcd(a.sec);
    a.min = from_bcd(a.min);
    a.hour = from_bcd(a.hour);
    a.day = from_bcd(a.day);
    a.mon = from_bcd(a.mon);
    a.year = from_bcd(a.year);
  }
  if (!(status_b & STATUS_B_24H)) { /* 12 AM is 0 h, 12 PM is 12 h */
    if (a.hour == 12) a.hour = 0;
    if (pm) a.hour = (uint8_t)(a.hour + 12);
  }
  if (a.sec > 59 || a.min > 59 || a.hour > 23 || a.day < 1 || a.day > 31 ||
      a.mon < 1 || a.mon > 12 || a.year > 99)
    return false;
  *out =
      (struct ftg_rtc_time){2000u + a.year, a.mon, a.day, a.hour, a.min, a.sec};
  return true;
}
