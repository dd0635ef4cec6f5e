/* virtio-mmio transport: discovery and initialization, see virtio_mmio.h. */
#include "drivers/virtio_mmio.h"

#include <stddef.h>

#include "lib/cmdline.h"
#include "lib/fmt.h"
#include "lib/pic.h"
#include "lib/serial.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4

#define MAGIC 0x74726976u /* "virt" */

#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER 2u
#define STATUS_DRIVER_OK 4u
#define STATUS_FEATURES_OK 8u
#define STATUS_FAILED 128u

#define FOUR_GIB 0x100000000ull

uint32_t ftg_virtio_mmio_read(const struct ftg_virtio_mmio* d, uint32_t off) {
  return *(volatile uint32_t*)(uintptr_t)(d->base + off);
}

void ftg_virtio_mmio_write(const struct ftg_virtio_mmio* d, uint32_t off,
                           uint32_t v) {
  *(volatile uint32_t*)(uintptr_t)(d->base + off) = v;
}

/* memparse(): a number with an optional binary suffix. */
static size_t parse_size(const char* s, size_t len, uint64_t* out) {
  size_t n = ftg_parse_base0(s, len, out);
  if (n == 0 || n == len) return n;
  unsigned shift = 0;
  switch (s[n]) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'm':
    case 'M':
      shift = 20;
      break;
    case 'g':
    case 'G':
      shift = 30;
      break;
    default:
      return n;
  }
  if (*out > (UINT64_MAX >> shift)) return 0;
  *out <<= shift;
  return n + 1;
}

/* <size>@<base>:<irq>[:<id>]; false if malformed. */
static bool parse_device(struct ftg_str v, struct ftg_virtio_mmio* d) {
  const char* s = v.ptr;
  size_t len = v.len, n;
  uint64_t irq;
  if ((n = parse_size(s, len, &d->size)) == 0 || n == len || s[n] != '@')
    return false;
  s += n + 1, len -= n + 1;
  if ((n = ftg_parse_base0(s, len, &d->base)) == 0 || n == len || s[n] != ':')
    return false;
  s += n + 1, len -= n + 1;
  if ((n = ftg_parse_base0(s, len, &irq)) == 0) return false;
  if (n < len && s[n] != ':') return false; /* the optional id is ignored */
  d->irq = irq > 0xffffffffu ? 0xffffffffu : (uint32_t)irq;
  return true;
}

static const char* usable(const struct ftg_virtio_mmio* d) {
  if (d->size < FTG_VIRTIO_MMIO_CONFIG || d->base % 4 != 0 ||
      d->base >= FOUR_GIB || d->size > FOUR_GIB - d->base)
    return "window outside the identity-mapped 4 GiB or too small";
  if (d->irq >= FTG_PIC_NUM_IRQS || d->irq == 0 ||
      d->irq == FTG_PIC_CASCADE_IRQ)
    return "IRQ not usable through the 8259 (want 1 or 3-15)";
  return NULL;
}

static void print_token(struct ftg_str v) {
  ftg_printf("ftguest: virtio_mmio.device=");
  ftg_serial_write(v.ptr, v.len);
}

bool ftg_virtio_mmio_find(const char* cmdline, uint32_t device_id,
                          struct ftg_virtio_mmio* out) {
  struct ftg_str v;
  for (const char* p = cmdline;
       (p = ftg_cmdline_next(p, "virtio_mmio.device", &v)) != NULL;) {
    struct ftg_virtio_mmio d = {0};
    if (!parse_device(v, &d)) {
      print_token(v);
      ftg_printf(": malformed, want <size>@<base>:<irq>; ignored\n");
      continue;
    }
    const char* why = usable(&d);
    if (why != NULL) {
      print_token(v);
      ftg_printf(": %s; ignored\n", why);
      continue;
    }
    if (ftg_virtio_mmio_read(&d, REG_MAGIC) != MAGIC) {
      print_token(v);
      ftg_printf(": no virtio-mmio magic; ignored\n");
      continue;
    }
    d.version = ftg_virtio_mmio_read(&d, REG_VERSION);
    d.device_id = ftg_virtio_mmio_read(&d, REG_DEVICE_ID);
    if (d.device_id != device_id) continue;
    if (d.version != 2) {
      ftg_printf(
          "ftguest: virtio-mmio at 0x%lx: version %u (legacy) device "
          "ignored; the guest drives virtio 1.x only (QEMU: -global "
          "virtio-mmio.force-legacy=false)\n",
          d.base, d.version);
      continue;
    }
    *out = d;
    return true;
  }
  return false;
}

static void set_status(const struct ftg_virtio_mmio* d, uint32_t s) {
  ftg_virtio_mmio_write(d, REG_STATUS, s);
}

bool ftg_virtio_mmio_negotiate(const struct ftg_virtio_mmio* d, uint64_t wanted,
                               uint64_t required, uint64_t* accepted) {
  required |= 1ull << FTG_VIRTIO_F_VERSION_1;
  wanted |= required;
  set_status(d, 0); /* reset */
  set_status(d, STATUS_ACKNOWLEDGE);
  set_status(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
  ftg_virtio_mmio_write(d, REG_DEVICE_FEATURES_SEL, 0);
  uint64_t offered = ftg_virtio_mmio_read(d, REG_DEVICE_FEATURES);
  ftg_virtio_mmio_write(d, REG_DEVICE_FEATURES_SEL, 1);
  offered |= (uint64_t)ftg_virtio_mmio_read(d, REG_DEVICE_FEATURES) << 32;
  if ((offered & required) != required) {
    ftg_printf(
        "ftguest: virtio-mmio at 0x%lx: features 0x%lx lack required "
        "0x%lx\n",
        d->base, offered, required);
    set_status(d, STATUS_FAILED);
    return false;
  }
  uint64_t use = offered & wanted;
  ftg_virtio_mmio_write(d, REG_DRIVER_FEATURES_SEL, 0);
  ftg_virtio_mmio_write(d, REG_DRIVER_FEATURES, (uint32_t)use);
  ftg_virtio_mmio_write(d, REG_DRIVER_FEATURES_SEL, 1);
  ftg_virtio_mmio_write(d, REG_DRIVER_FEATURES, (uint32_t)(use >> 32));
  const uint32_t s = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
  set_status(d, s);
  if (!(ftg_virtio_mmio_read(d, REG_STATUS) & STATUS_FEATURES_OK)) {
    ftg_printf(
        "ftguest: virtio-mmio at 0x%lx: device refused features "
        "0x%lx\n",
        d->base, use);
    set_status(d, STATUS_FAILED);
    return false;
  }
  *accepted = use;
  return true;
}

bool ftg_virtio_mmio_setup_queue(const struct ftg_virtio_mmio* d,
                                 uint32_t index, uint16_t max_size,
                                 bool event_idx, struct ftg_virtq* q) {
  ftg_virtio_mmio_write(d, REG_QUEUE_SEL, index);
  uint32_t dev_max = ftg_virtio_mmio_read(d, REG_QUEUE_NUM_MAX);
  uint16_t size = max_size;
  while (size > dev_max && size > 1) size /= 2;
  if (dev_max == 0 || !ftg_virtq_init(q, size, event_idx)) {
    ftg_printf("ftguest: virtio-mmio at 0x%lx: queue %u unavailable (max %u)\n",
               d->base, index, dev_max);
    set_status(d, STATUS_FAILED);
    return false;
  }
  ftg_virtio_mmio_write(d, REG_QUEUE_NUM, size);
  ftg_virtio_mmio_write(d, REG_QUEUE_DESC_LOW, (uint32_t)q->mem_base);
  ftg_virtio_mmio_write(d, REG_QUEUE_DESC_HIGH, (uint32_t)(q->mem_base >> 32));
  ftg_virtio_mmio_write(d, REG_QUEUE_DRIVER_LOW, (uint32_t)q->avail_addr);
  ftg_virtio_mmio_write(d, REG_QUEUE_DRIVER_HIGH,
                        (uint32_t)(q->avail_addr >> 32));
  ftg_virtio_mmio_write(d, REG_QUEUE_DEVICE_LOW, (uint32_t)q->used_addr);
  ftg_virtio_mmio_write(d, REG_QUEUE_DEVICE_HIGH,
                        (uint32_t)(q->used_addr >> 32));
  ftg_virtio_mmio_write(d, REG_QUEUE_READY, 1);
  return true;
}

void ftg_virtio_mmio_driver_ok(const struct ftg_virtio_mmio* d) {
  set_status(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK |
                    STATUS_DRIVER_OK);
}
