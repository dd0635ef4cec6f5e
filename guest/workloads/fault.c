/*
 * fault: raises a CPU exception on purpose, so tests can check the whole
 * exception path (IDT, IST stack, CPL0 stub, CPL3 reporter, exit code 3).
 */
#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "workloads/workload.h"

static const struct ftg_param_spec params[] = {
    /* 0 #DE, 6 #UD, 13 #GP, 14 #PF; anything else is rejected below. */
    {"vec", FTG_FAULT_VEC_DEFAULT, 0, 31},
};

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t vec = values[0];
  ftg_printf("ftguest: fault: raising vector %lu\n", vec);
  switch (vec) {
    case 0: {
      uint32_t zero = 0;
      __asm__ volatile("xorl %%edx, %%edx\n\tdivl %0"
                       :
                       : "r"(zero)
                       : "eax", "edx");
      break;
    }
    case 6:
      __asm__ volatile("ud2");
      break;
    case 13: /* non-canonical address */
      __asm__ volatile("movq (%0), %%rax"
                       :
                       : "r"(0x8000000000000000ULL)
                       : "rax");
      break;
    case 14: /* 4 GiB: just past the identity map */
      __asm__ volatile("movq (%0), %%rax" : : "r"(0x100000000ULL) : "rax");
      break;
    default:
      ftg_printf("ftguest: fault: vec must be 0, 6, 13 or 14\n");
      return ftg_bad_param();
  }
  struct ftg_outcome o = {0, "no-exception", FTG_EXIT_FAIL};
  return o;
}

const struct ftg_workload ftg_workload_fault = {
    "fault", params, sizeof(params) / sizeof(params[0]), run};
