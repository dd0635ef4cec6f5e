/* The list of workloads and helpers they share. */
#include "workloads/workload.h"

#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/heap.h"

const struct ftg_workload* const ftg_workloads[] = {
    &ftg_workload_hello,     &ftg_workload_compute,
    &ftg_workload_memdirty,  &ftg_workload_pio,
    &ftg_workload_fault,     &ftg_workload_timer,
    &ftg_workload_disk,      &ftg_workload_redis,
    &ftg_workload_tsccanary, NULL,
};

struct ftg_outcome ftg_bad_param(void) {
  struct ftg_outcome o = {0, "bad-param", FTG_EXIT_BAD_CMDLINE};
  return o;
}

uint64_t* ftg_alloc_mib(const char* workload, uint64_t mib) {
  uint64_t* p = ftg_heap_alloc(mib * FTG_MIB);
  if (p == NULL)
    ftg_printf("ftguest: %s: mib=%lu does not fit in %lu MiB of free RAM\n",
               workload, mib, ftg_heap_free_bytes() / FTG_MIB);
  return p;
}
