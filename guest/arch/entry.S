/*
 * CPL0 entry points: 32 exception stubs and 16 interrupt stubs (each exactly
 * EXC_STUB_SIZE / IRQ_STUB_SIZE bytes apart; tables.S's static IDT relies on
 * that), the common exception handler, and the #GP handler that lets CPL3
 * code idle (hlt) and enable interrupts (sti).
 *
 * Every CPL0 instruction is emulated here (~2 us each), so the hot paths are
 * counted: an interrupt costs 2 instructions (set a bit, iretq); idling costs
 * 9 plus the interrupt that ends it. Everything else happens at CPL3:
 * exceptions are recorded and iretq'd to a CPL3 reporter (exception.c), and
 * interrupts are only *noted* here and handled by the CPL3 event loop
 * (lib/events.c), which polls ftg_irq_pending.
 */
#include "arch/segments.h"

#define EXIT_CODE_EXCEPTION 3   /* FTG_EXIT_EXCEPTION in ftguest/reference.h */
#define PORT_DEBUG_EXIT 0xf4    /* FTG_PORT_DEBUG_EXIT */

/* struct ftg_exception_record (arch/exception.h) */
#define REC_VEC 0
#define REC_ERR 8
#define REC_RIP 16
#define REC_CS 24
#define REC_RFLAGS 32
#define REC_RSP 40
#define REC_CR2 48
#define REC_BUSY 56

  .section .text.entry, "ax"
  .code64
  .balign EXC_STUB_SIZE
  .globl exc_stubs
exc_stubs:
  .set vec, 0
  .rept NUM_EXCEPTION_VECTORS
  .balign EXC_STUB_SIZE
  /* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30. The
   * others push a 0 so the frame has one shape. */
  .if vec == 13
  jmp gp_entry                 /* may be an idle hlt or the sti: see below */
  .else
  .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
  .else
  pushq $0
  .endif
  pushq $vec
  jmp exc_common
  .endif
  .set vec, vec + 1
  .endr
  .balign EXC_STUB_SIZE
  .globl exc_stubs_end
exc_stubs_end:

/* Interrupt stubs, vectors IRQ_VECTOR_BASE + n for 8259 lines n = 0..15.
 * Each only sets bit n of ftg_irq_pending and returns: the 8259 pair runs in
 * auto-EOI mode (except a slave with two lines in use, whose EOIs the CPL3
 * event loop writes: lib/pic.c), and the CPL3 event loop does the rest. The
 * gates have IST 0: from CPL3 the CPU switches to RSP0; at CPL0 (only
 * inside gp_entry's sti; hlt) it stays on the current stack, so the #GP
 * frame below is not overwritten. `lock` is not needed on one CPU
 * (CPL3 clears bits with xchg) but costs nothing extra when emulated. */
  .balign IRQ_STUB_SIZE
  .globl irq_stubs
irq_stubs:
  .set irq, 0
  .rept NUM_IRQ_VECTORS
  .balign IRQ_STUB_SIZE
  lock btsl $irq, ftg_irq_pending(%rip)
  iretq
  .set irq, irq + 1
  .endr
  .balign IRQ_STUB_SIZE
  .globl irq_stubs_end
irq_stubs_end:

/* #GP (IST1). Stack: error code, RIP, CS, RFLAGS, RSP, SS.
 *
 * CPL3 cannot execute hlt or sti (IOPL is 0), so it executes them at two
 * known addresses and this handler does the privileged part:
 *  - ftg_idle_hlt: if no interrupt is pending, `sti; hlt` here. The check
 *    runs with IF=0 (interrupt gate) and the STI shadow makes sti+hlt
 *    atomic, so an interrupt that arrives after CPL3's last look at
 *    ftg_irq_pending either shows up in the check or wakes the hlt: no lost
 *    wakeup. The interrupt stub runs on this stack and returns to 1: below.
 *  - ftg_sti_insn: set IF in the interrupted RFLAGS (done once at boot).
 * Both return past the 1-byte instruction. Matching the exact addresses
 * (rather than a 0xf4 byte at RIP) costs one compare, never dereferences a
 * bad RIP, and keeps a stray hlt or sti anywhere else a reported #GP. */
gp_entry:
  cmpq $ftg_idle_hlt, 8(%rsp)
  jne gp_not_hlt
  cmpl $0, ftg_irq_pending(%rip)
  jne 1f
  sti
  hlt
1:
  addq $8, %rsp                /* drop the error code */
  incq (%rsp)                  /* RIP past the hlt (or sti) */
  iretq
gp_not_hlt:
  cmpq $ftg_sti_insn, 8(%rsp)
  jne gp_fault
  orq $0x200, 24(%rsp)         /* RFLAGS.IF */
  jmp 1b
gp_fault:
  pushq $13
  jmp exc_common

/* Stack (IST1): vector, error code, RIP, CS, RFLAGS, RSP, SS. */
exc_common:
  cmpq $0, ftg_exception_record + REC_BUSY(%rip)
  jne exc_again
  movq $1, ftg_exception_record + REC_BUSY(%rip)
  popq ftg_exception_record + REC_VEC(%rip)
  popq ftg_exception_record + REC_ERR(%rip)
  popq ftg_exception_record + REC_RIP(%rip)
  popq ftg_exception_record + REC_CS(%rip)
  popq ftg_exception_record + REC_RFLAGS(%rip)
  popq ftg_exception_record + REC_RSP(%rip)
  movq %cr2, %rax
  movq %rax, ftg_exception_record + REC_CR2(%rip)
  /* Never returns to the faulting code: continue at CPL3 in the reporter. */
  pushq $SEG_USER_DS
  pushq $exc_user_stack_top
  pushq $0x2
  pushq $SEG_USER_CS
  pushq $exc_user_entry
  iretq

/* An exception while reporting one: give up without printing. */
exc_again:
  movl $EXIT_CODE_EXCEPTION, %eax
  outl %eax, $PORT_DEBUG_EXIT
1:
  hlt
  jmp 1b

  .text
/* CPL3 side of the #GP protocol above. Each is a call so that the return
 * address is right after the trapping byte. */
  .globl ftg_cpu_idle
ftg_cpu_idle:
  .globl ftg_idle_hlt
ftg_idle_hlt:
  hlt
  ret

  .globl ftg_cpu_enable_interrupts
ftg_cpu_enable_interrupts:
  .globl ftg_sti_insn
ftg_sti_insn:
  sti
  ret

exc_user_entry:
  movl $SEG_USER_DS, %eax      /* the fault may have come from CPL0 boot code */
  movl %eax, %ds
  movl %eax, %es
  cld
  call ftg_exception_report    /* noreturn; RSP is 16-aligned before the call */
  ud2

/* Bit n: IRQ n was raised since CPL3 last took the word (lib/events.c).
 * Written by the interrupt stubs, read by gp_entry and CPL3. In .data so an
 * interrupt can never see it before .bss is zeroed. */
  .data
  .balign 8
  .globl ftg_irq_pending
ftg_irq_pending:
  .long 0
  .long 0

  .section .note.GNU-stack, "", @progbits
