/*
 * virtio-mmio transport (virtio 1.x "modern", register layout Version 2).
 *
 * Devices are announced on the kernel command line in the Linux syntax,
 * virtio_mmio.device=<size>@<base>:<irq>[:<id>] (size with an optional
 * K/M/G suffix, numbers as in C: 0x hex, else decimal), as QEMU microvm
 * (auto-kernel-cmdline, with acpi=off) and ftvm append them. The register
 * window lies in the identity map (the 3-4 GiB hole is mapped uncached), so
 * registers are plain 32-bit loads and stores from CPL3. Each one is a VM
 * exit: drivers touch registers only at init, to notify, and to acknowledge.
 */
#ifndef FTGUEST_DRIVERS_VIRTIO_MMIO_H_
#define FTGUEST_DRIVERS_VIRTIO_MMIO_H_

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtqueue.h"

#define FTG_VIRTIO_ID_NET 1
#define FTG_VIRTIO_ID_BLOCK 2

/* Feature bits (device-independent). */
#define FTG_VIRTIO_F_RING_EVENT_IDX 29
#define FTG_VIRTIO_F_VERSION_1 32

/* InterruptStatus / InterruptACK bits. */
#define FTG_VIRTIO_INT_VRING 1u
#define FTG_VIRTIO_INT_CONFIG 2u

/* Registers. */
#define FTG_VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define FTG_VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define FTG_VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define FTG_VIRTIO_MMIO_CONFIG 0x100

struct ftg_virtio_mmio {
  uint64_t base;
  uint64_t size;
  uint32_t irq;
  uint32_t version;   /* from the device: 2 for modern, 1 for legacy */
  uint32_t device_id; /* 0: no device behind this transport */
};

/* Finds the first announced transport with a modern device of device_id
 * (probing each costs 3 exits) and prints what it found. False if none. */
bool ftg_virtio_mmio_find(const char* cmdline, uint32_t device_id,
                          struct ftg_virtio_mmio* out);

uint32_t ftg_virtio_mmio_read(const struct ftg_virtio_mmio* d, uint32_t off);
void ftg_virtio_mmio_write(const struct ftg_virtio_mmio* d, uint32_t off,
                           uint32_t v);

/* Reset, ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK. Accepts
 * the wanted features the device offers; fails (status FAILED, message
 * printed) unless all required ones (VERSION_1 always) are offered.
 * *accepted gets the negotiated set. */
bool ftg_virtio_mmio_negotiate(const struct ftg_virtio_mmio* d, uint64_t wanted,
                               uint64_t required, uint64_t* accepted);

/* Sets queue `index` up with up to max_size entries (fewer if the device
 * allows fewer) and makes it ready. */
bool ftg_virtio_mmio_setup_queue(const struct ftg_virtio_mmio* d,
                                 uint32_t index, uint16_t max_size,
                                 bool event_idx, struct ftg_virtq* q);

/* DRIVER_OK: the device is live. */
void ftg_virtio_mmio_driver_ok(const struct ftg_virtio_mmio* d);

/* Tells the device about new buffers in queue `index` (1 exit). */
static inline void ftg_virtio_mmio_notify(const struct ftg_virtio_mmio* d,
                                          uint32_t index) {
  ftg_virtio_mmio_write(d, FTG_VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

#endif /* FTGUEST_DRIVERS_VIRTIO_MMIO_H_ */
