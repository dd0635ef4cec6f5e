/*
 * The 8259A pair: remapped to vectors 0x20-0x2f, auto-EOI (the slave
 * switches to normal EOI once two of its lines are in use: pic.c says
 * why), every line masked until a driver asks for it. See lib/events.h for
 * how interrupts are used.
 */
#ifndef FTGUEST_LIB_PIC_H_
#define FTGUEST_LIB_PIC_H_

#include <stdbool.h>
#include <stdint.h>

#define FTG_PIC_NUM_IRQS 16
#define FTG_PIC_CASCADE_IRQ 2 /* the slave's output on the master */

/* Programs both 8259s (10 port writes) and, once, puts a LAPIC (if any) in
 * virtual-wire mode so the 8259's ExtINT reaches the CPU. */
void ftg_pic_init(void);

/* Unmasks line irq (0-15): one port write. Returns true if this was the
 * second slave line and the slave was re-initialized for normal EOI (4
 * more writes): requests it had latched for other lines are lost, so
 * their handlers must be run once (ftg_irq_register does). */
bool ftg_pic_unmask(unsigned irq);

/* True once the slave is in normal EOI mode. */
bool ftg_pic_slave_eoi(void);

/* In normal EOI mode, ends the service of slave line irq (8-15): one port
 * write (specific EOI), harmless if the line is not in service. Otherwise
 * (auto-EOI, or not a slave line) does nothing. */
void ftg_pic_eoi_slave(unsigned irq);

/* Currently unmasked lines, bit n = IRQ n (for messages). */
uint16_t ftg_pic_unmasked(void);

#endif /* FTGUEST_LIB_PIC_H_ */
