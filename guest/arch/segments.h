/*
 * GDT layout, shared by the assembly (tables.S, boot.S, entry.S) and C.
 * Only plain #defines so that .S files can include it.
 *
 * User data sits just below user code, the order SYSRET would want, so a
 * later issue can add a syscall path without renumbering.
 */
#ifndef FTGUEST_ARCH_SEGMENTS_H_
#define FTGUEST_ARCH_SEGMENTS_H_

#define SEG_KERNEL_CS 0x08
#define SEG_KERNEL_DS 0x10
#define SEG_USER_DS 0x1b /* 0x18 | RPL 3 */
#define SEG_USER_CS 0x23 /* 0x20 | RPL 3 */
#define SEG_TSS 0x28     /* 16-byte system descriptor */

#define NUM_EXCEPTION_VECTORS 32
/* Every stub is padded to this; the static IDT relies on it. */
#define EXC_STUB_SIZE 16

/* The 8259 pair is remapped to vectors 0x20-0x2f (IRQ n -> 0x20 + n), right
 * after the exceptions, so the IDT stays one contiguous static table. */
#define IRQ_VECTOR_BASE 0x20
#define NUM_IRQ_VECTORS 16
#define IRQ_STUB_SIZE 16

/* Sizes of the stacks (in .stack, never zeroed, see link.ld). */
#define KERNEL_STACK_SIZE 4096    /* RSP0: interrupts taken at CPL3 */
#define EXC_STACK_SIZE 4096       /* IST1: every exception */
#define USER_STACK_SIZE 65536     /* main() */
#define EXC_USER_STACK_SIZE 16384 /* the CPL3 exception reporter */

#endif /* FTGUEST_ARCH_SEGMENTS_H_ */
