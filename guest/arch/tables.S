/*
 * Static system tables: page tables, GDT, TSS (with its I/O bitmap), IDT,
 * and the stacks.
 *
 * All of this is assembled rather than built at run time because the boot
 * code runs at CPL0, where every instruction is emulated (~2 us): a loop
 * filling 2048 page-directory entries would cost ~10-20 ms, a .rept costs
 * nothing. Everything lives in .data (loaded from the ELF), so nothing here
 * depends on memory being zeroed by the loader.
 */
#include "arch/segments.h"

/* 104-byte 64-bit TSS + 65536-bit I/O bitmap + the mandatory 0xff byte. */
#define TSS_HEADER_SIZE 104
#define IO_BITMAP_SIZE 8192
#define TSS_SIZE (TSS_HEADER_SIZE + IO_BITMAP_SIZE + 1)

  .section .data.pagetables, "aw"
  .balign 4096
/* Identity map of the first 4 GiB with 2 MiB pages, all user accessible
 * (U/S) and writable: the "kernel" is a library at CPL3, so CPL3 must reach
 * everything, including the tables themselves and future MMIO. */
  .globl pml4
pml4:
  .quad pdpt + 0x7            /* P | RW | US */
  .fill 511, 8, 0
pdpt:
  .quad pd + 0x0000 + 0x7
  .quad pd + 0x1000 + 0x7
  .quad pd + 0x2000 + 0x7
  .quad pd + 0x3000 + 0x7
  .fill 508, 8, 0
pd:
  .set addr, 0
  .rept 1536                  /* 0-3 GiB: RAM (both QEMU and ftvm end low RAM at 3 GiB) */
  .quad addr + 0x87           /* P | RW | US | PS (2 MiB) */
  .set addr, addr + 0x200000
  .endr
  .rept 512                   /* 3-4 GiB: the MMIO hole (virtio-mmio, LAPIC, ...) */
  .quad addr + 0x9f           /* ... | PWT | PCD: uncached, as device memory must be */
  .set addr, addr + 0x200000
  .endr

  .data
/* 64-bit TSS. RSP0 is for interrupts taken from CPL3 (their gates have
 * IST=0); IST1 is the stack every exception gate uses. */
  .balign 16
  .globl tss
tss:
  .long 0
  .quad kernel_stack_top      /* RSP0 */
  .quad 0, 0                  /* RSP1, RSP2 */
  .quad 0
  .quad exc_stack_top         /* IST1 */
  .fill 6, 8, 0               /* IST2..IST7 */
  .quad 0
  .word 0
  .word io_bitmap - tss       /* I/O map base */
io_bitmap:
  /* All zero: CPL3 may use every port. RFLAGS.IOPL stays 0 (IOPL is
   * ignored for CPL3 port I/O on these hosts; the bitmap is what counts). */
  .fill IO_BITMAP_SIZE, 1, 0
  .byte 0xff                  /* the CPU reads the map 2 bytes at a time */
tss_end:
  .if (tss_end - tss) - TSS_SIZE
  .error "TSS size mismatch"
  .endif

  .balign 16
gdt:
  .quad 0
  .quad 0x00af9a000000ffff    /* 0x08 kernel code, 64-bit */
  .quad 0x00cf92000000ffff    /* 0x10 kernel data */
  .quad 0x00cff2000000ffff    /* 0x18 user data, DPL 3 */
  .quad 0x00affa000000ffff    /* 0x20 user code, 64-bit, DPL 3 */
  /* 0x28: available 64-bit TSS; limit covers the I/O bitmap. */
  .word (TSS_SIZE - 1) & 0xffff
  .word __tss_lo16
  .byte __tss_mid8
  .byte 0x89                  /* P, DPL 0, type 9 */
  .byte ((TSS_SIZE - 1) >> 16) & 0xf
  .byte __tss_hi8
  .long __tss_hi32
  .long 0
gdt_end:

  .balign 8
  .globl gdt_desc
gdt_desc:
  .word gdt_end - gdt - 1
  .quad gdt

/* Vectors 0-31 (exceptions, IST1) and 0x20-0x2f (8259 interrupts, IST 0:
 * see entry.S). Any other vector is beyond the limit and becomes #GP, which
 * is reported like any exception. Gates have DPL 0, so `int N` from CPL3 is
 * a #GP too. */
  .balign 16
idt:
  .set vec, 0
  .rept NUM_EXCEPTION_VECTORS
  .word __exc_stubs_lo16 + vec * EXC_STUB_SIZE
  .word SEG_KERNEL_CS
  .byte 1                     /* IST1: a known-good stack whatever faulted */
  .byte 0x8e                  /* P, DPL 0, 64-bit interrupt gate */
  .word __exc_stubs_hi16
  .long __exc_stubs_hi32
  .long 0
  .set vec, vec + 1
  .endr
  .set irq, 0
  .rept NUM_IRQ_VECTORS
  .word __irq_stubs_lo16 + irq * IRQ_STUB_SIZE
  .word SEG_KERNEL_CS
  .byte 0                     /* IST 0: RSP0 from CPL3, current stack at CPL0 */
  .byte 0x8e                  /* P, DPL 0, 64-bit interrupt gate (IF=0) */
  .word __irq_stubs_hi16
  .long __irq_stubs_hi32
  .long 0
  .set irq, irq + 1
  .endr
idt_end:
  .if (idt_end - idt) - 16 * (IRQ_VECTOR_BASE + NUM_IRQ_VECTORS)
  .error "the IRQ gates must directly follow the 32 exception gates"
  .endif

  .balign 8
  .globl idt_desc
idt_desc:
  .word idt_end - idt - 1
  .quad idt

  .section .stack, "aw", @nobits
  .balign 16
  .skip KERNEL_STACK_SIZE
  .globl kernel_stack_top
kernel_stack_top:
  .skip EXC_STACK_SIZE
  .globl exc_stack_top
exc_stack_top:
  .skip USER_STACK_SIZE
  .globl user_stack_top
user_stack_top:
  .skip EXC_USER_STACK_SIZE
  .globl exc_user_stack_top
exc_user_stack_top:

  .section .note.GNU-stack, "", @progbits
