# The saved state of the legacy PC devices (vmm/devices/): what a full
# state transfer (resync of a secondary, later migration) carries so that
# the receiving device answers every later guest access and logged event as
# the sender's would. One struct per device; each is sent as one flat
# (unpacked) Cap'n Proto message. The C++ side is vmm/snapshot/device_codec.h;
# no other code includes the generated header.
#
# Each struct mirrors the device's State (the save/restore contract in its
# header). Bounds are listed with each field; the receiver enforces them
# (the device's RestoreState) and refuses the whole state on any violation.
# Host-side state (fds, timer ids, output sinks) is never included.
#
# Nanosecond values are on the machine's device clocks: under record/replay
# those are the primary's logged readings, so they transfer unchanged.
#
# Evolution rules (as schema/ftlog.capnp): new fields go at the end of a
# struct with a default that means "the old behaviour"; never renumber,
# retype or reuse an ordinal.

@0xd84f0973ef119c5d;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ft::schema::devices");

# --- Pic8259 (ports 0x20-0x21, 0xa0-0xa1, ELCR 0x4d0-0x4d1) -----------------

struct Pic8259State {
  master @0 :PicChip;
  # IRQ 0-7. Required. Its level and irr bit 2 (the cascade input) must
  # equal the slave's output: set iff the master is not in single mode and
  # the slave has an unmasked request that outranks its in-service ones.

  slave @1 :PicChip;
  # IRQ 8-15. Required.
}

struct PicChip {
  irr @0 :UInt8;
  # Interrupt request register. For level-triggered inputs (elcr bits, or
  # all with ltim, plus the master's cascade input) it must equal `level`.

  imr @1 :UInt8;
  # Interrupt mask register (OCW1).

  isr @2 :UInt8;
  # In-service register.

  level @3 :UInt8;
  # Input pin levels as last driven by the devices (edge detection).

  elcr @4 :UInt8;
  # PIIX edge/level control: 1 = level-triggered. Only bits the PIIX lets
  # change: 0xf8 on the master, 0xde on the slave.

  priorityAdd @5 :UInt8;
  # The IR with the highest priority (rotation), 0..7.

  irqBase @6 :UInt8;
  # ICW2: the vector of IR0; low three bits zero.

  initState @7 :UInt8;
  # 0: initialised; 1, 2, 3: expecting ICW2, ICW3, ICW4. 2 only without
  # `single`, 3 only with `init4`.

  readIsr @8 :Bool;
  # OCW3: the command port reads ISR instead of IRR.

  poll @9 :Bool;
  # OCW3: the next read is a poll.

  specialMask @10 :Bool;
  autoEoi @11 :Bool;
  rotateOnAutoEoi @12 :Bool;
  specialFullyNested @13 :Bool;

  init4 @14 :Bool;
  # ICW1 IC4: an ICW4 follows.

  single @15 :Bool;
  # ICW1 SNGL: no cascade, no ICW3.

  ltim @16 :Bool;
  # ICW1 LTIM: every input level-triggered.
}

# --- Pit8254 (ports 0x40-0x43, port B 0x61) --------------------------------

struct Pit8254State {
  channels @0 :List(PitChannel);
  # Exactly 3: channel 0 (IRQ 0), 1, 2 (speaker, gated by port B bit 0).

  portB @1 :UInt8;
  # Bits 0-3 as last written to port 0x61; 0..15.

  irq0Armed @2 :Bool;
  # A channel-0 expiry is scheduled and not yet delivered. Only with channel
  # 0 counting in mode 0, 2, 3 or 4. The receiver arms a local timer for it.

  irq0Generation @3 :UInt64;
  # Generation of the last scheduled channel-0 timer (also when not armed:
  # the next one is this plus 1). An expiry event carries the generation it
  # was scheduled with and is accepted only if it equals this and
  # irq0Armed. At least 1 when armed.

  irq0EdgeTicks @4 :UInt64;
  # When that timer's edge is due, in input ticks (1.193182 MHz) after
  # channel 0's loadNs. When armed: the reload in mode 0, reload + 1 in
  # mode 4, a positive multiple of the reload in modes 2 and 3; and the
  # deadline loadNs + edge stays within 2^62 ns.
}

struct PitChannel {
  mode @0 :UInt8;
  # Counter mode 0..5 (6 and 7 are stored as 2 and 3).

  access @1 :UInt8;
  # Read/write access: 1 LSB only, 2 MSB only, 3 LSB then MSB.

  reload @2 :UInt32;
  # The count written, 1..65536 (a written 0 means 65536).

  loadNs @3 :Int64;
  # Device clock when counting started (or the gate last rose), 0..2^62.

  pausedTicks @4 :UInt64;
  # Ticks counted before the gate last stopped the count. 0 on channels 0
  # and 1, whose gates are tied high.

  counting @5 :Bool;
  # A count has been written since the last control word.

  gate @6 :Bool;
  # The gate input. True on channels 0 and 1.

  latched @7 :Bool;
  latchValue @8 :UInt16;
  # A latched count, returned by reads until consumed.

  readMsbNext @9 :Bool;
  # Word access: the next read returns the MSB. False in other access modes.

  writeMsbNext @10 :Bool;
  # Word access: the LSB has been written, the MSB is due. False in other
  # access modes.

  pendingLsb @11 :UInt8;
  # The LSB written while the MSB is due.

  statusLatched @12 :Bool;
  status @13 :UInt8;
  # A read-back status byte, returned by the next read.
}

# --- CmosRtc (ports 0x70-0x71) ---------------------------------------------

struct CmosRtcState {
  offsetNs @0 :Int64;
  # Guest time minus the device wall clock, in ns; within +-2^62.

  heldYear @1 :UInt16;
  # The date and time being written while SET is on, as written (not
  # normalised). Year 0..25599.

  heldMonth @2 :UInt8;
  heldDay @3 :UInt8;
  heldHour @4 :UInt8;
  heldMinute @5 :UInt8;
  heldSecond @6 :UInt8;

  ufSecond @7 :Int64;
  # The guest second (since the Unix epoch) at the last read of status C,
  # for its update-ended flag; -1 before the first. Within years 0..25599.

  index @8 :UInt8;
  # The register selected through port 0x70, 0..127.

  nmiMasked @9 :Bool;
  # Port 0x70 bit 7.

  regA @10 :UInt8;
  # Status A; bit 7 (UIP, computed) clear.

  regB @11 :UInt8;
  # Status B; with SET (bit 7), UIE (bit 4) is clear.

  ram @12 :Data;
  # The 128 bytes behind the index (alarms and NVRAM; the clock registers'
  # slots are unused). Exactly 128 bytes.
}

# --- Serial16550 (COM1, ports 0x3f8-0x3ff) ---------------------------------

struct Serial16550State {
  rxFifo @0 :Data;
  # Received bytes not yet read by the guest, oldest first; at most 16.

  ier @1 :UInt8;
  # Interrupt enable register, bits 0-3.

  fcr @2 :UInt8;
  # FIFO control as last written.

  lcr @3 :UInt8;
  # Line control (bit 7: divisor latch access).

  mcr @4 :UInt8;
  # Modem control, bits 0-4 (bit 4: loopback).

  scr @5 :UInt8;
  # Scratch register.

  divisor @6 :UInt16;
  # Baud rate divisor latch.

  overrun @7 :Bool;
  # A received byte was dropped since LSR was last read.
}
