/*
 * Port I/O from CPL3. Allowed because the TSS I/O bitmap grants every port
 * (arch/tables.S). Each access is one VM exit (60-80 us on the nested test
 * hosts), so callers batch and avoid needless reads.
 */
#ifndef FTGUEST_LIB_PIO_H_
#define FTGUEST_LIB_PIO_H_

#include <stdint.h>

static inline void ftg_outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t ftg_inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
  return v;
}

static inline void ftg_outl(uint16_t port, uint32_t v) {
  __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/* Spin-wait hint; `hlt` is not an option at CPL3 (#GP). */
static inline void ftg_pause(void) { __asm__ volatile("pause" ::: "memory"); }

#endif /* FTGUEST_LIB_PIO_H_ */
