/* Power off through the debug-exit port, see power.h. */
#include "lib/power.h"

#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pio.h"
#include "lib/serial.h"

static int finishing;

void ftg_poweroff(uint32_t code) {
  /* QEMU isa-debug-exit (iosize=4) and ftvm both take a 32-bit write. */
  ftg_outl(FTG_PORT_DEBUG_EXIT, code);
  ftg_printf("ftguest: poweroff via port 0x%x did not stop the VM; spinning\n",
             FTG_PORT_DEBUG_EXIT);
  for (;;) ftg_pause(); /* hlt would #GP at CPL3 */
}

void ftg_finish(const char* workload, uint64_t result, const char* reason,
                uint32_t exit_code) {
  finishing = 1;
  if (!ftg_serial_at_line_start()) ftg_printf("\n");
  if (reason == NULL)
    ftg_printf("ftguest: workload=%s result=%016lx status=ok\n", workload,
               result);
  else
    ftg_printf("ftguest: workload=%s result=%016lx status=fail reason=%s\n",
               workload, result, reason);
  ftg_poweroff(exit_code);
}

int ftg_finishing(void) { return finishing; }
