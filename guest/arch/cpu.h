/*
 * What CPL3 code may ask of the CPU beyond plain instructions: idling and
 * enabling interrupts (both trapped and finished by the #GP handler in
 * entry.S), the pending-interrupt word the interrupt stubs set, and the
 * memory barriers the virtio drivers need.
 */
#ifndef FTGUEST_ARCH_CPU_H_
#define FTGUEST_ARCH_CPU_H_

#include <stdint.h>

/* Bit n is set (by a 2-instruction CPL0 stub) when 8259 line n interrupts,
 * or by ftg_events_raise (lib/events.c) at CPL3. CPL3 takes the bits with
 * ftg_irq_take(); nothing else writes it. */
extern volatile uint32_t ftg_irq_pending;

/* Sleeps until the next interrupt unless one is already pending (checked at
 * CPL0 with interrupts off, so a wakeup between the caller's last check and
 * the halt is never lost). Returns after the interrupt's stub has run. */
void ftg_cpu_idle(void);

/* Sets RFLAGS.IF for CPL3 (once, after the 8259 is programmed). */
void ftg_cpu_enable_interrupts(void);

/* Atomically takes and clears all pending bits. xchg is one instruction, so
 * an interrupt lands either before it (its bit is taken) or after it. */
static inline uint32_t ftg_irq_take(void) {
  return __atomic_exchange_n(&ftg_irq_pending, 0, __ATOMIC_SEQ_CST);
}

/* Compiler-only barrier: x86 keeps stores in order and loads in order. */
static inline void ftg_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* Full barrier: orders an earlier store before a later load, which x86 does
 * not do by itself (virtio event-index checks need exactly that). */
static inline void ftg_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

#endif /* FTGUEST_ARCH_CPU_H_ */
