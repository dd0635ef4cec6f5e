/*
 * 8259A PIC pair (and the LAPIC's virtual-wire mode), see pic.h.
 *
 * Auto-EOI (ICW4 bit 1) on the master is what keeps the CPL0 interrupt
 * stub to two instructions: the PIC clears the in-service bit itself when
 * the CPU acknowledges the interrupt, so no EOI port write (an exit, from
 * CPL0) is needed for lines 0-7. Lines are edge-triggered (ICW1 LTIM=0), PC
 * style: a level source such as a virtio-mmio transport raises a new edge
 * after its driver acknowledges it, and drivers re-check their state after
 * acknowledging.
 *
 * The slave starts in auto-EOI too, but switches to normal EOI mode once a
 * second slave line (8-15) is enabled; from then on ftg_events_poll sends
 * it one specific EOI (an exit, from CPL3) per slave line it takes. Why:
 * QEMU microvm's default irqchip (kernel-irqchip=split, the 8259s emulated
 * in QEMU) edge-detects the slave's output on master IR2. With the slave in
 * auto-EOI, a second slave request pending when the first is acknowledged
 * keeps that output high, so the master never sees another edge and every
 * slave line goes silent for good (seen with virtio-net on 11 and
 * virtio-blk on 12: slave IRR 0x18, master IRR 0, forever; the guest only
 * made progress on timer interrupts). In normal EOI mode the in-service bit
 * holds the output low until the EOI, which then makes a fresh edge. With
 * a single slave line the problem cannot arise, and the EOI exit is saved.
 */
#include "lib/pic.h"

#include "arch/segments.h"
#include "ftguest/reference.h"
#include "lib/pio.h"

#define ICW1_INIT_ICW4 0x11 /* init, cascade, edge, ICW4 follows */
#define ICW4_8086_AEOI 0x03 /* 8086 mode, auto-EOI (master) */
#define ICW4_8086 0x01      /* 8086 mode, normal EOI (see above) */
#define OCW2_SPECIFIC_EOI 0x60

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
static bool slave_eoi;         /* the slave is in normal EOI mode */

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

static void init_slave(uint8_t icw4) {
  ftg_outb(FTG_PORT_PIC2_CMD, ICW1_INIT_ICW4);
  ftg_outb(FTG_PORT_PIC2_DATA, IRQ_VECTOR_BASE + 8);
  ftg_outb(FTG_PORT_PIC2_DATA, FTG_PIC_CASCADE_IRQ); /* slave identity */
  ftg_outb(FTG_PORT_PIC2_DATA, icw4);
}

void ftg_pic_init(void) {
  /* Everything masked from the first ICW on, so nothing fires half-set-up. */
  mask = (uint16_t) ~(1u << FTG_PIC_CASCADE_IRQ);
  ftg_outb(FTG_PORT_PIC1_CMD, ICW1_INIT_ICW4);
  ftg_outb(FTG_PORT_PIC1_DATA, IRQ_VECTOR_BASE);           /* ICW2 */
  ftg_outb(FTG_PORT_PIC1_DATA, 1u << FTG_PIC_CASCADE_IRQ); /* ICW3 */
  ftg_outb(FTG_PORT_PIC1_DATA, ICW4_8086_AEOI);
  init_slave(ICW4_8086_AEOI);
  /* OCW1. The cascade line stays open: the slave's own mask decides. */
  ftg_outb(FTG_PORT_PIC1_DATA, (uint8_t)mask);
  ftg_outb(FTG_PORT_PIC2_DATA, (uint8_t)(mask >> 8));
  lapic_virtual_wire();
}

bool ftg_pic_unmask(unsigned irq) {
  if (irq >= FTG_PIC_NUM_IRQS) return false;
  mask &= (uint16_t) ~(1u << irq);
  if (irq < 8) {
    ftg_outb(FTG_PORT_PIC1_DATA, (uint8_t)mask);
    return false;
  }
  uint8_t open = (uint8_t) ~(mask >> 8);
  bool switched = false;
  if (!slave_eoi && (open & (open - 1)) != 0) {
    /* A second slave line: normal EOI from now on (see the top). Only
     * ICW1-4 change the mode, and ICW1 also drops requests the slave had
     * latched: the caller re-runs the other slave lines' handlers. */
    init_slave(ICW4_8086);
    slave_eoi = switched = true;
  }
  ftg_outb(FTG_PORT_PIC2_DATA, (uint8_t)(mask >> 8));
  return switched;
}

bool ftg_pic_slave_eoi(void) { return slave_eoi; }

void ftg_pic_eoi_slave(unsigned irq) {
  if (!slave_eoi || irq < 8 || irq >= FTG_PIC_NUM_IRQS) return;
  ftg_outb(FTG_PORT_PIC2_CMD, (uint8_t)(OCW2_SPECIFIC_EOI | (irq - 8)));
}

uint16_t ftg_pic_unmasked(void) { return (uint16_t)~mask; }
