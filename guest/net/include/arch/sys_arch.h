/* lwIP OS abstraction: none. NO_SYS=1 runs lwIP from the guest's single
 * CPL3 event loop, so there are no threads, semaphores or mailboxes, and
 * no locking (interrupt handlers only record vectors; lwIP is never entered
 * from CPL0). */
#ifndef FTGUEST_NET_ARCH_SYS_ARCH_H_
#define FTGUEST_NET_ARCH_SYS_ARCH_H_
#endif /* FTGUEST_NET_ARCH_SYS_ARCH_H_ */
