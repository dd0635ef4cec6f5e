/* What the CPL0 exception stub (entry.S) records for the CPL3 reporter. */
#ifndef FTGUEST_ARCH_EXCEPTION_H_
#define FTGUEST_ARCH_EXCEPTION_H_

#include <stdint.h>

/* Field offsets are hard-coded in entry.S (REC_*); exception.c checks them. */
struct ftg_exception_record {
  uint64_t vec;
  uint64_t err; /* 0 for vectors without an error code */
  uint64_t rip;
  uint64_t cs; /* low 2 bits: the CPL that faulted */
  uint64_t rflags;
  uint64_t rsp;
  uint64_t cr2;  /* meaningful for #PF (14) only */
  uint64_t busy; /* set by the first exception: a second one just exits */
};

extern struct ftg_exception_record ftg_exception_record;

/* The workload named in the final line if an exception ends the run. */
void ftg_exception_set_workload(const char* name);

/* Entered at CPL3 from entry.S, on its own stack. */
__attribute__((noreturn)) void ftg_exception_report(void);

#endif /* FTGUEST_ARCH_EXCEPTION_H_ */
