/*
 * The workload interface. A workload declares its numeric parameters
 * (defaults and bounds live in ftguest/reference.h, shared with the host);
 * main.c parses and checks them, then calls run().
 */
#ifndef FTGUEST_WORKLOADS_WORKLOAD_H_
#define FTGUEST_WORKLOADS_WORKLOAD_H_

#include <stddef.h>
#include <stdint.h>

#define FTG_MAX_PARAMS 4

struct ftg_param_spec {
  const char* key;
  uint64_t def;
  uint64_t min; /* inclusive */
  uint64_t max; /* inclusive */
};

struct ftg_outcome {
  uint64_t result;
  const char* fail_reason; /* NULL: status=ok */
  uint32_t exit_code;      /* FTG_EXIT_* */
};

struct ftg_workload {
  const char* name;
  const struct ftg_param_spec* params; /* at most FTG_MAX_PARAMS */
  size_t num_params;
  /* values[i] is params[i], parsed and in bounds. */
  struct ftg_outcome (*run)(const uint64_t* values);
};

extern const struct ftg_workload ftg_workload_hello;
extern const struct ftg_workload ftg_workload_compute;
extern const struct ftg_workload ftg_workload_memdirty;
extern const struct ftg_workload ftg_workload_pio;
extern const struct ftg_workload ftg_workload_fault;
extern const struct ftg_workload ftg_workload_timer;
extern const struct ftg_workload ftg_workload_disk;
extern const struct ftg_workload ftg_workload_redis;
extern const struct ftg_workload ftg_workload_tsccanary;

/* The whole command line, for workloads that look for devices on it. */
extern const char* ftg_boot_cmdline;

/* NULL-terminated, in the order `workload=` help lists them. */
extern const struct ftg_workload* const ftg_workloads[];

/* Outcome helpers. */
static inline struct ftg_outcome ftg_ok(uint64_t result) {
  struct ftg_outcome o = {result, NULL, 0};
  return o;
}

/* A parameter that passed its static bounds but does not fit this VM
 * (e.g. mib larger than free RAM): the command line is wrong, exit code 2. */
struct ftg_outcome ftg_bad_param(void);

/* Allocates mib MiB or prints why not (the caller returns ftg_bad_param). */
uint64_t* ftg_alloc_mib(const char* workload, uint64_t mib);

#endif /* FTGUEST_WORKLOADS_WORKLOAD_H_ */
