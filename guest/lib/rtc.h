/*
 * The MC146818 CMOS real-time clock: wall-clock time, read once at boot.
 * Each register read is two port accesses (index, data), all exits.
 */
#ifndef FTGUEST_LIB_RTC_H_
#define FTGUEST_LIB_RTC_H_

#include <stdbool.h>
#include <stdint.h>

struct ftg_rtc_time {
  uint32_t year; /* full year; the RTC's two digits are taken as 20xx */
  uint8_t month, day, hour, minute, second;
};

/* Reads a consistent date and time. False (without looping forever) if no
 * RTC answers sensibly: unclaimed ports read 0xff, or an update never ends. */
bool ftg_rtc_read(struct ftg_rtc_time* out);

#endif /* FTGUEST_LIB_RTC_H_ */
