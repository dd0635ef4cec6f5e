/*
 * The CPL3 half of exception handling: print what entry.S recorded, then
 * the final line, and power off with FTG_EXIT_EXCEPTION. Running this at
 * CPL3 keeps the emulated CPL0 part to ~20 instructions.
 */
#include "arch/exception.h"

#include <stddef.h>

#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/power.h"
#include "lib/serial.h"

/* In .data, not .bss: an exception before .bss is zeroed must still see
 * busy == 0. */
__attribute__((
    section(".data"))) struct ftg_exception_record ftg_exception_record;
static const char* workload_name = "none";

_Static_assert(offsetof(struct ftg_exception_record, vec) == 0,
               "entry.S REC_VEC");
_Static_assert(offsetof(struct ftg_exception_record, err) == 8,
               "entry.S REC_ERR");
_Static_assert(offsetof(struct ftg_exception_record, rip) == 16,
               "entry.S REC_RIP");
_Static_assert(offsetof(struct ftg_exception_record, cs) == 24,
               "entry.S REC_CS");
_Static_assert(offsetof(struct ftg_exception_record, rflags) == 32,
               "entry.S REC_RFLAGS");
_Static_assert(offsetof(struct ftg_exception_record, rsp) == 40,
               "entry.S REC_RSP");
_Static_assert(offsetof(struct ftg_exception_record, cr2) == 48,
               "entry.S REC_CR2");
_Static_assert(offsetof(struct ftg_exception_record, busy) == 56,
               "entry.S REC_BUSY");

void ftg_exception_set_workload(const char* name) { workload_name = name; }

void ftg_exception_report(void) {
  const struct ftg_exception_record* r = &ftg_exception_record;
  if (!ftg_serial_at_line_start()) ftg_printf("\n"); /* faulted mid-line */
  ftg_printf("ftguest: exception vec=%lu err=0x%lx rip=0x%lx cpl=%lu rsp=0x%lx",
             r->vec, r->err, r->rip, r->cs & 3, r->rsp);
  if (r->vec == 14) ftg_printf(" cr2=0x%lx", r->cr2);
  ftg_printf("\n");
  /* A fault while printing the final line must not produce a second one. */
  if (ftg_finishing()) ftg_poweroff(FTG_EXIT_EXCEPTION);
  ftg_finish(workload_name, 0, "exception", FTG_EXIT_EXCEPTION);
}
