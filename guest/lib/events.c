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
  ftg_pic_unmask(irq);
  return true;
}

bool ftg_events_poll(void) {
  uint32_t bits = ftg_irq_take();
  if (bits == 0) return false;
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

void ftg_events_idle(void) {
  stats.idles++;
  /* Cheap pre-check at native speed; the authoritative one is at CPL0. */
  if (ftg_irq_pending == 0) ftg_cpu_idle();
}

const struct ftg_event_stats* ftg_event_stats(void) { return &stats; }
