# The saved state of one virtio-mmio slot: its transport registers, its
# queues' positions and its device's own state (virtio-blk, virtio-net).
# One flat (unpacked) Cap'n Proto message per slot; part of a full machine
# state (resync of a secondary, migration). Guest memory (rings, buffers)
# travels separately. The C++ side is vmm/snapshot/virtio_codec.h; no other
# code includes the generated header.
#
# A state comes from a peer: the reader checks every bound listed here
# (vmm/snapshot/virtio_codec.cc for list lengths, then
# MmioTransport::RestoreState and each device's RestoreState for the
# rest) and refuses the whole state if one fails.
#
# Evolution rules are those of ftlog.capnp: new fields at the end of a
# struct with a default meaning "the old behaviour", never renumber, retype
# or reuse an ordinal; raise minReaderVersion only when an older reader
# would restore a state wrongly without noticing.

@0x939b70d7ad183aa5;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ft::schema::virtio");

struct VirtioMmioSlot {
  minReaderVersion @0 :UInt32 = 1;
  # The oldest reader that restores this state correctly (1 for this
  # schema). A reader of a lower version refuses the state.

  deviceId @1 :UInt32;
  # The virtio device type saved (1 net, 2 block). Must equal the type of
  # the slot restored into.

  offeredFeatures @2 :UInt64;
  # The feature bits the slot offered (device's and transport's). Must
  # equal those of the slot restored into: anything else is a machine
  # built from a different configuration (e.g. a read-only disk).

  status @3 :UInt32;
  # The Status register. Any bits; with FEATURES_OK (8) set,
  # driverFeatures must be a subset of offeredFeatures including
  # VIRTIO_F_VERSION_1 and driverFeaturesUnknown false.

  deviceFeaturesSel @4 :UInt32;
  driverFeaturesSel @5 :UInt32;
  # The feature selector registers as last written (any value).

  driverFeatures @6 :UInt64;
  # The 64 feature bits the driver wrote (see status).

  driverFeaturesUnknown @7 :Bool;
  # The driver wrote a non-zero word above the 64 feature bits.

  queueSel @8 :UInt32;
  # QueueSel as last written (any value; out of range selects nothing).

  interruptStatus @9 :UInt32;
  # InterruptStatus: only bits 0 (used buffer) and 1 (configuration
  # change). The interrupt line is driven to match on restore.

  configGeneration @10 :UInt32;
  # ConfigGeneration (any value).

  nextEpoch @11 :UInt64;
  # The last queue epoch handed out. Every epoch below (queues, in-flight
  # requests) is at most this.

  queues @12 :List(Queue);
  # One per device queue, in index order: exactly as many as the device
  # has (1 for block, 2 for net).

  device :union {
    # The device's own state; its kind must match deviceId's device.
    none @13 :Void;
    # A device that keeps nothing outside the transport.
    blk @14 :BlkState;
    net @15 :NetState;
  }
}

struct Queue {
  num @0 :UInt32;
  # QueueNum as written. When ready: a power of two, at most the device's
  # maximum (256 for block and net).

  desc @1 :UInt64;
  driver @2 :UInt64;
  device @3 :UInt64;
  # The descriptor table, available ring and used ring addresses. When
  # ready: aligned (16, 2, 4) and wholly inside guest RAM for `num`
  # entries.

  ready @4 :Bool;
  # QueueReady. A ready queue needs FEATURES_OK and a non-zero epoch.

  epoch @5 :UInt64;
  # Which incarnation of the queue this is: 0 if never ready since the
  # last reset, else at most nextEpoch and unique among the queues.

  position @6 :RingPosition;
  # Set exactly when ready.
}

struct RingPosition {
  # Where the device is in a ready queue's rings (any values).
  lastAvailIdx @0 :UInt16;
  # The next available-ring entry the device reads.
  usedIdx @1 :UInt16;
  # The next used-ring entry the device writes.
  signalledUsed @2 :UInt16;
  signalledUsedValid @3 :Bool;
  # usedIdx when the device last decided to interrupt, if it has.
  notifications @4 :Bool = true;
  # Whether the device asked the driver to notify.
}

struct Segment {
  # One guest buffer: wholly inside guest RAM.
  addr @0 :UInt64;
  len @1 :UInt32;
}

struct Chain {
  # A descriptor chain the device has taken from the available ring.
  head @0 :UInt16;
  # The index returned in the used ring: below the queue size.
  readable @1 :List(Segment);
  writable @2 :List(Segment);
  # Device-readable, then device-writable buffers in chain order; at most
  # 1280 together (a 256-entry queue plus a 1024-entry indirect table),
  # adding up to at most 64 MiB.
}

struct BlkRequest {
  # A request with the back end whose completion the driver has not seen.
  id @0 :UInt64;
  # The back end's request id: in [1, nextId), ascending, listed in
  # `outstanding` too. Its completion event carries it.
  epoch @1 :UInt64;
  # The queue incarnation it came from (1..nextEpoch). A completion for an
  # earlier incarnation than the current one is dropped.
  head @2 :UInt16;
  # Below 256, and below the queue's size if `epoch` is the current one.
  type @3 :UInt32;
  # 0 (IN, read), 1 (OUT, write) or 4 (FLUSH).
  writable @4 :List(Segment);
  # The chain's writable buffers: at most 1280, 1 byte .. 64 MiB together.
  statusOffset @5 :UInt64;
  # The status byte: the last writable byte (total writable length - 1).
  dataLen @6 :UInt64;
  # IN: the bytes the completion writes, statusOffset, a non-zero multiple
  # of 512 within the disk. Otherwise 0.
}

struct BlkOutstanding {
  # A request the back end has not completed, and what it costs against
  # the device's 64 MiB budget.
  id @0 :UInt64;
  # In [1, nextId), ascending.
  cost @1 :UInt64;
  # 4096 .. 64 MiB; the costs add up to at most 64 MiB.
}

struct BlkState {
  nextId @0 :UInt64 = 1;
  # The id of the next request sent to the back end: at least 1.
  inFlight @1 :List(BlkRequest);
  # Requests the driver will see complete. At most 16384.
  outstanding @2 :List(BlkOutstanding);
  # Every request with the back end, including those a driver reset has
  # since made the device forget. At most 16384.
  deferred @3 :Chain;
  # A chain taken from the ring and waiting for room in the budget; unset
  # if none.
  deferredEpoch @4 :UInt64;
  # The queue incarnation `deferred` came from (1..nextEpoch when set).
}

struct NetState {
  pendingRx @0 :List(Data);
  # Received frames waiting for receive buffers, oldest first: at most 256,
  # each 1..1522 bytes (an Ethernet frame without FCS).
  rxFrames @1 :UInt64;
  rxDropped @2 :UInt64;
  txFrames @3 :UInt64;
  txDropped @4 :UInt64;
  # The device's counters (any values).
}
