/*
 * Exception entry: 32 stubs (exactly EXC_STUB_SIZE bytes apart; tables.S's
 * static IDT relies on that) and one common CPL0 handler.
 *
 * The CPL0 part only records the frame and iretq's to a CPL3 reporter
 * (exception.c) on its own stack: printing from CPL0 would cost ~2 us per
 * instruction. A later issue adds interrupt stubs that record the vector
 * and iretq back to the interrupted code; they will sit next to these.
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
  .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
  .else
  pushq $0
  .endif
  pushq $vec
  jmp exc_common
  .set vec, vec + 1
  .endr
  .balign EXC_STUB_SIZE
  .globl exc_stubs_end
exc_stubs_end:

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
exc_user_entry:
  movl $SEG_USER_DS, %eax      /* the fault may have come from CPL0 boot code */
  movl %eax, %ds
  movl %eax, %es
  cld
  call ftg_exception_report    /* noreturn; RSP is 16-aligned before the call */
  ud2

  .section .note.GNU-stack, "", @progbits
