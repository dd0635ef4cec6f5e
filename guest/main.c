/*
 * ftguest main, entered at CPL3 from arch/boot.S with the PVH start info.
 *
 * Boot, print the "booted" line and the wall-clock time, set up interrupts
 * and timers, pick the workload from the command line, check its
 * parameters, run it, print exactly one final line, power off.
 */
#include <stdint.h>

#include "arch/exception.h"
#include "ftguest/reference.h"
#include "lib/bootinfo.h"
#include "lib/cmdline.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/pit.h"
#include "lib/power.h"
#include "lib/rtc.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "lib/timer.h"
#include "workloads/workload.h"

#define DEFAULT_WORKLOAD "hello"
#define NAME_MAX_LEN 64

static char workload_name[NAME_MAX_LEN + 1];
const char* ftg_boot_cmdline = "";

/* Copies the workload= value (or the default) into workload_name. */
static void select_name(const char* cmdline) {
  struct ftg_str v = {DEFAULT_WORKLOAD, sizeof(DEFAULT_WORKLOAD) - 1};
  ftg_cmdline_get(cmdline, "workload", &v);
  size_t n = v.len < NAME_MAX_LEN ? v.len : NAME_MAX_LEN;
  memcpy(workload_name, v.ptr, n);
  workload_name[n] = '\0';
}

static const struct ftg_workload* find_workload(const char* name) {
  for (size_t i = 0; ftg_workloads[i] != NULL; i++)
    if (ftg_str_eq(name, strlen(name), ftg_workloads[i]->name))
      return ftg_workloads[i];
  return NULL;
}

/* Fills values[] from the command line; false (after saying why) if a value
 * is not a decimal number within the parameter's bounds. */
static int parse_params(const struct ftg_workload* w, const char* cmdline,
                        uint64_t* values) {
  for (size_t i = 0; i < w->num_params; i++) {
    const struct ftg_param_spec* p = &w->params[i];
    struct ftg_str v;
    values[i] = p->def;
    if (!ftg_cmdline_get(cmdline, p->key, &v)) continue;
    if (!ftg_parse_u64(v, &values[i]) || values[i] < p->min ||
        values[i] > p->max) {
      ftg_printf("ftguest: bad parameter %s=\"", p->key);
      ftg_serial_write(v.ptr, v.len);
      ftg_printf("\": want a decimal integer in [%lu, %lu]\n", p->min, p->max);
      return 0;
    }
  }
  return 1;
}

/* Wall-clock time, for the log (workload results never depend on it). */
static void print_rtc(void) {
  struct ftg_rtc_time t;
  if (!ftg_rtc_read(&t)) {
    ftg_printf("ftguest: rtc=none\n");
    return;
  }
  ftg_printf("ftguest: rtc=%04u-%02u-%02uT%02u:%02u:%02u\n", t.year, t.month,
             t.day, t.hour, t.minute, t.second);
}

__attribute__((noreturn)) void ftg_main(uint32_t start_info_paddr);

void ftg_main(uint32_t start_info_paddr) {
  ftg_serial_init();
  ftg_exception_set_workload(DEFAULT_WORKLOAD);
  /* Before anything touches the heap: the start info may live there. */
  struct ftg_bootinfo boot;
  ftg_bootinfo_read(start_info_paddr, &boot);
  ftg_clock_init();

  ftg_printf("ftguest: booted mem=%luMiB cmdline=\"", boot.ram_top / FTG_MIB);
  ftg_serial_write(boot.cmdline, strlen(boot.cmdline));
  ftg_printf("\"%s\n", boot.cmdline_truncated ? " (truncated)" : "");
  select_name(boot.cmdline);
  ftg_exception_set_workload(workload_name);
  if (boot.error != NULL) {
    ftg_printf("ftguest: unusable PVH start info at 0x%x: %s\n",
               start_info_paddr, boot.error);
    ftg_finish(workload_name, 0, "bad-boot-info", FTG_EXIT_FAIL);
  }
  ftg_boot_cmdline = boot.cmdline;
  ftg_heap_init(boot.heap_start, boot.heap_end);
  ftg_printf("ftguest: ram_below_4g=%luMiB heap=0x%lx-0x%lx\n",
             boot.ram_below_4g / FTG_MIB, boot.heap_start, boot.heap_end);
  print_rtc();
  /* Interrupts on (every 8259 line masked until a driver registers it), and
   * the timer service on IRQ 0. Nothing is armed, so workloads that never
   * wait take no interrupts. */
  ftg_events_init();
  ftg_timer_init();

  const struct ftg_workload* w = find_workload(workload_name);
  if (w == NULL) {
    ftg_printf("ftguest: unknown workload \"%s\"; known:", workload_name);
    for (size_t i = 0; ftg_workloads[i] != NULL; i++)
      ftg_printf(" %s", ftg_workloads[i]->name);
    ftg_printf("\n");
    ftg_finish(workload_name, 0, "unknown-workload", FTG_EXIT_BAD_CMDLINE);
  }
  uint64_t values[FTG_MAX_PARAMS];
  if (!parse_params(w, boot.cmdline, values))
    ftg_finish(workload_name, 0, "bad-param", FTG_EXIT_BAD_CMDLINE);

  struct ftg_outcome o = w->run(values);
  ftg_finish(workload_name, o.result, o.fail_reason, o.exit_code);
}
