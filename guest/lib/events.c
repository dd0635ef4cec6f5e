/* The CPL3 event loop, see events.h. */
#include "lib/events.h"

#include <stddef.h>

#include "arch/cpu.h"
#include "lib/pic.h"

struct slot {
  ftg_irq_handler fn;
  void* ctx;
};

static struct slot slots[FTG_PIC_NUM_IRQS];
static struct ftg_event_stats stats;

void ftg_events_init(void) {
  ftg_pic_init();
  /* Only now: before the 8259 is remapped, an interrupt would arrive on an
   * exception vector. */
  ftg_cpu_enable_interrupts();
}

bool ftg_irq_register(unsigned irq, ftg_irq_handler fn, void* ctx) {
  if (irq >= FTG_PIC_NUM_IRQS || irq == FTG_PIC_CASCADE_IRQ ||
      slots[irq].fn != NULL || fn == NULL)
    return false;
  slots[irq] = (struct slot){fn, ctx};
  if (ftg_pic_unmask(irq)) {
    /* The slave was re-initialized (lib/pic.c): an interrupt it had
     * latched for another line is gone, and that device's level line
     * would stay high, never making a new edge. Its handler acknowledges
     * and re-checks. */
    for (unsigned other = 8; other < FTG_PIC_NUM_IRQS; other++)
      if (other != irq && slots[other].fn != NULL) ftg_events_raise(other);
  }
  return true;
}

bool ftg_events_poll(void) {
  uint32_t bits = ftg_irq_take();
  if (bits == 0) return false;
  /* In normal EOI mode the slave needs an EOI per interrupt (lib/pic.c).
   * Before the handlers, so lower-priority slave lines are not held up
   * while they run. */
  if (ftg_pic_slave_eoi())
    for (unsigned irq = 8; irq < FTG_PIC_NUM_IRQS; irq++)
      if (bits & (1u << irq)) ftg_pic_eoi_slave(irq);
  for (unsigned irq = 0; irq < FTG_PIC_NUM_IRQS; irq++) {
    if (!(bits & (1u << irq))) continue;
    if (slots[irq].fn == NULL) {
      stats.unhandled++;
      continue;
    }
    stats.dispatched[irq]++;
    slots[irq].fn(slots[irq].ctx);
  }
  return true;
}

void ftg_events_raise(unsigned irq) {
  if (irq >= FTG_PIC_NUM_IRQS) return;
  /* Atomic: the interrupt stubs set bits in the same word. */
  __atomic_fetch_or(&ftg_irq_pending, 1u << irq, __ATOMIC_SEQ_CST);
}

void ftg_events_idle(void) {
  stats.idles++;
  /* Cheap pre-check at native speed; the authoritative one is at CPL0. */
  if (ftg_irq_pending == 0) ftg_cpu_idle();
}

const struct ftg_event_stats* ftg_event_stats(void) { return &stats; }
