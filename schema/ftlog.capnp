# The deterministic execution log: what a primary records so that a
# secondary (or `ftlog replay`) re-executes the guest identically.
#
# A log is a stream of frames (docs/log-format.md): frame 0 holds a Header,
# every later frame one Entry. Each frame's payload is one flat
# (unpacked) Cap'n Proto message. The C++ side is replay/log_codec.h; no
# other code includes the generated header.
#
# Evolution rules (in the manner of rr's trace schema; docs/log-format.md
# has the details):
#   - New fields go at the end of a struct, with a default that means "the
#     old behaviour". Never renumber, retype or reuse an ordinal.
#   - New entry kinds are new members of Entry's union. A kind that a reader
#     may ignore without replaying differently is written with
#     `skippable = true`; an old reader refuses any other unknown kind.
#   - New enumerants go at the end. Readers refuse values they do not know.
#   - Header.minReaderVersion is raised only when an old reader would
#     misread the log (replay differently without noticing). A reader
#     refuses logs whose minReaderVersion is above its own version.
#
# Bounds that are not expressible here (list lengths, blob sizes) are
# listed with each field and enforced by replay/log_validate.cc on both the
# writing and the reading side.

@0xb1d93e5cc8bf4826;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ft::schema::ftlog");

# --- Header (frame 0) -------------------------------------------------------

struct Header {
  formatVersion @0 :UInt32;
  # The format version the writer implements (2 for this schema; 2 added
  # compressed checkpoint pages). Must be
  # >= minReaderVersion. Informational for readers newer than the writer.

  minReaderVersion @1 :UInt32;
  # The oldest reader version that reads this log correctly. A reader whose
  # own version is lower refuses the log and says which version it needs.
  # At least 1.

  writer @2 :Text;
  # Who wrote the log, e.g. "ftvm 0.1.0". Informational, at most 256 bytes.

  guest @3 :GuestConfig;
  # The machine the log was recorded on. A replayer builds the same machine
  # (and refuses to replay on a different kernel or disk identity).

  initialState @4 :InitialState;
  # Where execution starts: position 0 of the log is this state.

  latencyBoundNs @5 :UInt64;
  # The primary's latency bound: how long an asynchronous event may wait for
  # a guest-initiated exit before the primary kicks the vCPU out and takes
  # a micro-checkpoint. 1 ns .. 10 s.
}

struct GuestConfig {
  memoryBytes @0 :UInt64;
  # Guest RAM in bytes: a non-zero multiple of 4096, at most 1 TiB. Guest
  # page frame numbers (gfn) in the log are below memoryBytes / 4096.

  vcpus @1 :UInt32;
  # Number of vCPUs, 1..64. Every micro-checkpoint carries this many vCPU
  # states. Lockstep replay needs exactly 1.

  cpuid @2 :List(CpuidEntry);
  # The CPUID table set with KVM_SET_CPUID2, in order. At most 256 entries.

  kernel @3 :FileIdentity;
  # The kernel image booted (for `initialState.boot`). Its sha256 is
  # required (32 bytes) and its path non-empty.

  cmdline @4 :Text;
  # The kernel command line, at most 4096 bytes.

  disks @5 :List(Disk);
  # Block devices in the order their virtio-mmio slots were assigned. At
  # most 16.

  nics @6 :List(Nic);
  # Network cards in slot order. At most 16.
}

struct CpuidEntry {
  # One struct kvm_cpuid_entry2 (without its padding).
  function @0 :UInt32;
  index @1 :UInt32;
  flags @2 :UInt32;  # KVM_CPUID_FLAG_*
  eax @3 :UInt32;
  ebx @4 :UInt32;
  ecx @5 :UInt32;
  edx @6 :UInt32;
}

struct FileIdentity {
  # Which file, and which contents.
  path @0 :Text;
  # As given on the command line; at most 4096 bytes, no NUL bytes.
  sizeBytes @1 :UInt64;
  # The file's size when recording started.
  sha256 @2 :Data;
  # SHA-256 of the contents when recording started: exactly 32 bytes, or
  # empty when not computed (a large disk image on shared storage; the
  # replayer then trusts path and size).
}

struct Disk {
  image @0 :FileIdentity;
  readOnly @1 :Bool = false;
}

struct Nic {
  mac @0 :Data;
  # The guest-visible MAC address: exactly 6 bytes.
}

struct InitialState {
  union {
    boot @0 :Void;
    # Booted from GuestConfig.kernel with GuestConfig.cmdline.
    snapshot @1 :SnapshotRef;
    # Restored from a saved machine state (quick migration, reseeding a
    # secondary; later issues).
  }
}

struct SnapshotRef {
  path @0 :Text;    # non-empty, at most 4096 bytes, no NUL bytes
  sha256 @1 :Data;  # exactly 32 bytes
}

# --- Positions --------------------------------------------------------------

enum ExitKind {
  start @0;
  # The start of the run, before the first exit. Only with exits = 0.
  pio @1;
  # Port I/O exit; address = the port (< 65536).
  mmio @2;
  # MMIO exit; address = the guest physical address.
  hlt @3;
  # HLT; address = 0.
  irqWindow @4;
  # Interrupt-window exit (the guest became able to take an interrupt);
  # address = 0.
  checkpoint @5;
  # The primary kicked the vCPU out to deliver an event and took a
  # micro-checkpoint; rip = the checkpoint's RIP, address = 0.
  shutdown @6;
  # Triple fault or similar; address = 0. Only an end entry is logged here.
}

struct Position {
  # Where in the guest's execution an entry applies. Positions are
  # guest-initiated exits (and micro-checkpoints), which happen at the same
  # instruction on every run; exits caused from outside (signals,
  # immediate_exit) are not positions.

  exits @0 :UInt64;
  # The number of positions passed since the start of the run, this one
  # included: the first exit is 1, 0 is the start. A checkpoint counts as a
  # position. Never decreases from one entry to the next; entries with the
  # same count share the whole Position (same kind, address and RIP).

  kind @1 :ExitKind;
  address @2 :UInt64;
  # Port number or guest physical address, per `kind`.
  rip @3 :UInt64;
  # The guest RIP of the exiting instruction. Replay compares kind,
  # address and rip with its own exit to detect divergence.
}

# --- Entries (frames 1..) ---------------------------------------------------

struct Entry {
  position @0 :Position;

  skippable @1 :Bool = false;
  # A reader that does not know this entry's kind may skip it without
  # replaying differently (statistics, annotations). An unknown kind that
  # is not skippable makes a reader refuse the log.

  union {
    clockRead @2 :ClockRead;
    # A synchronous input: a device model (PIT counter, CMOS RTC) read the
    # host clock while handling this position's exit. Consumed in log order
    # by the reads at this position. Other kinds of synchronous input will
    # be union members of their own.

    asyncEvent @3 :AsyncEvent;
    # An asynchronous event delivered at this position (after the exit is
    # handled, before the guest resumes), in log order.

    checkpoint @4 :Checkpoint;
    # A micro-checkpoint: replaces running up to this position. Always the
    # first entry of its position (kind = checkpoint). Its dirty pages may
    # continue in checkpointPages entries that follow immediately.

    checkpointPages @5 :CheckpointPages;
    # More pages of the checkpoint just before, at the same position.

    digest @6 :Digest;
    # A state digest at this position, checked by the replayer.

    output @7 :OutputMarker;
    # The guest produced an output at this position.

    end @8 :End;
    # The run ended here. Nothing follows.
  }
}

enum ClockSource {
  monotonic @0;  # ft::Clock::NowNanos (CLOCK_MONOTONIC)
  realtime @1;   # ft::RealtimeClock::UnixNanos (CLOCK_REALTIME)
}

struct ClockRead {
  source @0 :ClockSource;
  nanos @1 :Int64;  # the value the clock returned
}

struct AsyncEvent {
  # The VMM's ft::vmm::AsyncEvent (vmm/events/async_event.h).
  source @0 :UInt32;  # the device's event source id
  kind @1 :UInt32;    # defined by the source device
  data @2 :Data;      # defined by the source device; at most 16 MiB
}

struct VcpuState {
  # KVM structures as their raw bytes (x86-64 Linux ABI).
  regs @0 :Data;    # struct kvm_regs: exactly 144 bytes
  sregs @1 :Data;   # struct kvm_sregs: exactly 312 bytes
  fpu @2 :Data;     # struct kvm_fpu: exactly 416 bytes
  xsave @3 :Data;   # struct kvm_xsave: exactly 4096 bytes, or empty
  xcrs @4 :Data;    # struct kvm_xcrs: exactly 392 bytes, or empty
  events @5 :Data;  # struct kvm_vcpu_events: exactly 64 bytes, or empty
  msrs @6 :List(Msr);  # at most 1024, in the order they are to be set
}

struct Msr {
  index @0 :UInt32;
  value @1 :UInt64;
}

struct DirtyPage {
  gfn @0 :UInt64;   # guest page frame number, < GuestConfig.memoryBytes / 4096
  bytes @1 :Data;   # the page's contents: exactly 4096 bytes
}

struct Checkpoint {
  vcpus @0 :List(VcpuState);
  # One per vCPU (GuestConfig.vcpus of them). vcpus[0].regs' RIP equals
  # Entry.position.rip.

  totalPages @1 :UInt64;
  # Pages dirtied since the previous checkpoint (or the start), across this
  # entry and the checkpointPages entries that follow it.

  pages @2 :List(DirtyPage);
  # The first of those pages: at most 4096 per entry, and at least one if
  # totalPages > 0; gfns strictly increase across the whole checkpoint. If
  # fewer than totalPages, the rest follow in checkpointPages entries at the
  # same position, before any other entry.

  pagesZstd @3 :Data;
  # Format 2. Empty: each DirtyPage carries its bytes. Otherwise the bytes
  # of all `pages`, in list order, as one zstd frame that declares its
  # content size, which must be exactly pages.length * 4096; every
  # DirtyPage.bytes is then empty. (Guest pages compress about tenfold;
  # the log is the FT network's load.)

  full @4 :Bool = false;
  # Format 3. The whole machine, not a delta: `pages` (with the
  # checkpointPages after it) are every page of guest memory that is not
  # all zero, and every page not listed is zero; `devices` and `halted`
  # complete it. A replay may start from it (a secondary's resync after a
  # divergence): the position is then where the recorder took it.

  devices @5 :List(DeviceState);
  # Format 3, full checkpoints only (else empty): every device model of the
  # machine in its order, at most 64, their states at most 1 MiB in all.

  halted @6 :Bool = false;
  # Format 3, full checkpoints only: the vCPU sits in HLT, waiting for an
  # interrupt (a replay started here must not run the guest before one).
}

struct DeviceState {
  name @0 :Text;
  # The device model, as the machine names it ("pic-8259", "virtio-mmio@..."):
  # 1..64 bytes, distinct within a checkpoint.

  state @1 :Data;
  # Its state in the device's own schema (schema/devices.capnp,
  # schema/virtio_devices.capnp), checked by the device when restored.
}

struct CheckpointPages {
  pages @0 :List(DirtyPage);
  # 1..4096 more pages of the open checkpoint, gfns continuing to increase.

  pagesZstd @1 :Data;
  # Format 2: as Checkpoint.pagesZstd, for these pages.
}

struct Digest {
  # 64-bit hashes of the vCPU registers and of guest memory. The algorithm
  # is the replay layer's; changing it needs a new field (readers would
  # otherwise report false divergence).
  registersHash @0 :UInt64;
  memoryHash @1 :UInt64;
}

enum OutputKind {
  netPacket @0;  # a frame the guest transmitted
  diskWrite @1;  # data the guest wrote to a disk
}

struct OutputMarker {
  kind @0 :OutputKind;
  device @1 :UInt32;  # index into GuestConfig.nics or .disks
  length @2 :UInt64;  # bytes
  hash @3 :UInt64;    # 64-bit hash of the bytes
}

enum EndReason {
  guestExit @0;  # the guest wrote its exit code to the debug-exit port
  shutdown @1;   # triple fault or similar
  stopped @2;    # the operator stopped the run at the last position
  error @3;      # the VMM failed; `detail` says how
}

struct End {
  reason @0 :EndReason;
  exitCode @1 :Int32;  # the guest's exit code (guestExit), else 0
  finalDigest @2 :Digest;  # the state at the end; absent if not computed
  detail @3 :Text;     # at most 4096 bytes
}
