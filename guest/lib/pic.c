/*
 * 8259A PIC pair (and the LAPIC's virtual-wire mode), see pic.h.
 *
 * Auto-EOI (ICW4 bit 1) is what keeps the CPL0 interrupt stub to two
 * instructions: the PIC clears the in-service bit itself when the CPU
 * acknowledges the interrupt, so no EOI port write (an exit, from CPL0) is
 * ever needed. Lines are edge-triggered (ICW1 LTIM=0), PC style: a level
 * source such as a virtio-mmio transport raises a new edge after its driver
 * acknowledges it, and drivers re-check their state after acknowledging.
 */
#include "lib/pic.h"

#include "arch/segments.h"
#include "ftguest/reference.h"
#include "lib/pio.h"

#define ICW1_INIT_ICW4 0x11 /* init, cascade, edge, ICW4 follows */
#define ICW4_8086_AEOI 0x03 /* 8086 mode, auto-EOI */

/* Local APIC registers (xAPIC MMIO, identity mapped and uncached). */
#define LAPIC_BASE 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_LVT0 0x350
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_EXTINT 0x700 /* delivery mode ExtINT, unmasked */
/* The LAPIC's own spurious vector: an 8259 vector whose line is never
 * used for a device (IRQ 15), so a spurious one is just an ignored bit. */
#define LAPIC_SPURIOUS_VECTOR (IRQ_VECTOR_BASE + 15)

static uint16_t mask = 0xffff; /* bit set = masked; mirrors both IMRs */

static void lapic_write(uint32_t reg, uint32_t v) {
  *(volatile uint32_t*)(uintptr_t)(LAPIC_BASE + reg) = v;
}

/* Under KVM with an in-kernel LAPIC (QEMU microvm), 8259 interrupts reach
 * the CPU only through an enabled LAPIC whose LVT0 is an unmasked ExtINT
 * entry; without these two writes no interrupt arrives under QEMU 7.2
 * (tried). SVR first, because a software-disabled LAPIC forces LVT writes
 * to masked. Where there is no LAPIC (ftvm) these are two ignored MMIO
 * writes; they are done once and never read back, so they cost two exits
 * and nothing else. */
static void lapic_virtual_wire(void) {
  lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
  lapic_write(LAPIC_LVT0, LAPIC_LVT_EXTINT);
}

void ftg_pic_init(void) {
  /* Everything masked from the first ICW on, so nothing fires half-set-up. */
  mask = (uint16_t) ~(1u << FTG_PIC_CASCADE_IRQ);
  ftg_outb(FTG_PORT_PIC1_CMD, ICW1_INIT_ICW4);
  ftg_outb(FTG_PORT_PIC1_DATA, IRQ_VECTOR_BASE);           /* ICW2 */
  ftg_outb(FTG_PORT_PIC1_DATA, 1u << FTG_PIC_CASCADE_IRQ); /* ICW3 */
  ftg_outb(FTG_PORT_PIC1_DATA, ICW4_8086_AEOI);
  ftg_outb(FTG_PORT_PIC2_CMD, ICW1_INIT_ICW4);
  ftg_outb(FTG_PORT_PIC2_DATA, IRQ_VECTOR_BASE + 8);
  ftg_outb(FTG_PORT_PIC2_DATA, FTG_PIC_CASCADE_IRQ); /* slave identity */
  ftg_outb(FTG_PORT_PIC2_DATA, ICW4_8086_AEOI);
  /* OCW1. The cascade line stays open: the slave's own mask decides. */
  ftg_outb(FTG_PORT_PIC1_DATA, (uint8_t)mask);
  ftg_outb(FTG_PORT_PIC2_DATA, (uint8_t)(mask >> 8));
  lapic_virtual_wire();
}

void ftg_pic_unmask(unsigned irq) {
  if (irq >= FTG_PIC_NUM_IRQS) return;
  mask &= (uint16_t) ~(1u << irq);
  if (irq < 8)
    ftg_outb(FTG_PORT_PIC1_DATA, (uint8_t)mask);
  else
    ftg_outb(FTG_PORT_PIC2_DATA, (uint8_t)(mask >> 8));
}

uint16_t ftg_pic_unmasked(void) { return (uint16_t)~mask; }
