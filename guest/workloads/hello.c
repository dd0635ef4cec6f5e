/* hello: the smallest end-to-end check (boot, serial, final line, exit). */
#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "workloads/workload.h"

static struct ftg_outcome run(const uint64_t* values) {
  (void)values;
  ftg_printf("ftguest: %s\n", FTG_HELLO_GREETING);
  return ftg_ok(ftg_ref_hello());
}

const struct ftg_workload ftg_workload_hello = {"hello", NULL, 0, run};
