/*
 * PVH entry: 32-bit protected mode, paging off -> long mode -> iretq to CPL3.
 *
 * Every instruction before the iretq runs at CPL0, where this platform
 * emulates each one (~2 us), so this path is straight-line and short
 * (~20 instructions): the page tables, GDT, TSS and IDT are all static
 * (tables.S), registers get exact values instead of read-modify-write, and
 * all real work (zeroing .bss, FPU init, C) happens after the drop to CPL3,
 * where code runs natively.
 *
 * Assumed at entry (the PVH contract, nothing more): 32-bit protected mode,
 * paging off, flat 4 GiB CS/DS/ES/SS, EBX = physical address of
 * struct hvm_start_info. No stack, no GDT/IDT, no FPU state are assumed.
 */
#include "arch/segments.h"

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
/* CR4: PAE | OSFXSR | OSXMMEXCPT, so CPL3 C code may use SSE. */
#define CR4_VALUE ((1 << 5) | (1 << 9) | (1 << 10))
/* CR0: PE | MP | ET | NE | WP | PG; EM and TS clear (no #NM on SSE). */
#define CR0_VALUE ((1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 16) | (1 << 31))
/* RFLAGS at CPL3: only the always-one bit. IF=0 (no interrupts yet),
 * IOPL=0 (ports are granted by the TSS bitmap instead). */
#define USER_RFLAGS 0x2

/* XEN_ELFNOTE_PHYS32_ENTRY. The descriptor is 8 bytes with the high half 0
 * so both readers work: QEMU reads a 64-bit value from an ELF64 note, Xen's
 * ABI (and a careful VMM) reads 32 bits. */
  .section .note.Xen, "a", @note
  .balign 4
  .long 4                      /* namesz: "Xen\0" */
  .long 8                      /* descsz */
  .long 18                     /* type: XEN_ELFNOTE_PHYS32_ENTRY */
  .asciz "Xen"
  .balign 4
  .quad pvh_entry

  .section .text.boot, "ax"
  .code32
  .globl pvh_entry
pvh_entry:
  cli
  lgdt gdt_desc
  movl $pml4, %eax
  movl %eax, %cr3
  movl $CR4_VALUE, %eax
  movl %eax, %cr4
  movl $MSR_EFER, %ecx
  movl $EFER_LME, %eax
  xorl %edx, %edx
  wrmsr
  movl $CR0_VALUE, %eax
  movl %eax, %cr0              /* paging on: now in compatibility mode */
  ljmp $SEG_KERNEL_CS, $long_mode

  .code64
long_mode:
  movl $kernel_stack_top, %esp /* only for the iretq frame below */
  movw $SEG_TSS, %ax
  ltr %ax
  lidt idt_desc
  /* EBX (start info) survives: nothing above touches it, iretq neither. */
  pushq $SEG_USER_DS
  pushq $user_stack_top
  pushq $USER_RFLAGS
  pushq $SEG_USER_CS
  pushq $user_entry
  iretq

/* ---- CPL3 from here on: native speed. ---- */
  .text
user_entry:
  /* The data segment registers still hold the firmware's selectors (and FS/
   * GS bases). Reload them: in 64-bit mode this also zeroes the bases. */
  movl $SEG_USER_DS, %eax
  movl %eax, %ds
  movl %eax, %es
  movl %eax, %fs
  movl %eax, %gs
  cld
  fninit
  ldmxcsr mxcsr_default(%rip)
  /* The loader may or may not have zeroed .bss; do it here, natively. */
  movl $__bss_start, %edi
  movl $__bss_end, %ecx
  subl %edi, %ecx
  xorl %eax, %eax
  rep stosb
  movl %ebx, %edi              /* ftg_main(start_info_paddr) */
  call ftg_main
  ud2                          /* ftg_main never returns */

  .section .rodata
  .balign 4
mxcsr_default:
  .long 0x1f80                 /* all SSE exceptions masked, round-to-nearest */

  .section .note.GNU-stack, "", @progbits
