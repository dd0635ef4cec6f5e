/*
 * The 8259A pair: remapped to vectors 0x20-0x2f, auto-EOI, every line masked
 * until a driver asks for it. See lib/events.h for how interrupts are used.
 */
#ifndef FTGUEST_LIB_PIC_H_
#define FTGUEST_LIB_PIC_H_

#include <stdint.h>

#define FTG_PIC_NUM_IRQS 16
#define FTG_PIC_CASCADE_IRQ 2 /* the slave's output on the master */

/* Programs both 8259s (10 port writes) and, once, puts a LAPIC (if any) in
 * virtual-wire mode so the 8259's ExtINT reaches the CPU. */
void ftg_pic_init(void);

/* Unmasks line irq (0-15): one port write. */
void ftg_pic_unmask(unsigned irq);

/* Currently unmasked lines, bit n = IRQ n (for messages). */
uint16_t ftg_pic_unmasked(void);

#endif /* FTGUEST_LIB_PIC_H_ */
