#include "replay/log_codec.h"

#include <zstd.h>

#include <capnp/message.h>
#include <capnp/orphan.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "replay/frame.h"
#include "schema/capnp_message.h"
#include "schema/ftlog.capnp.h"

namespace ft::replay {
namespace {

namespace fl = ::ft::schema::ftlog;

// The largest entry the bounds allow (a checkpoint head: every vCPU with
// every optional blob and MSR, plus a full frame of pages, each page costing
// its bytes plus a struct and a list pointer) fits a frame, so a valid entry
// always encodes.
constexpr size_t kWorstVcpuBytes =
    kKvmRegsBytes + kKvmSregsBytes + kKvmFpuBytes + kKvmXsaveBytes +
    kKvmXcrsBytes + kKvmVcpuEventsBytes + kMaxMsrs * 16 + 7 * 8 + 64;
constexpr size_t kWorstCheckpointBytes =
    kMaxVcpus * kWorstVcpuBytes + kMaxPagesPerFrame * (kPageBytes + 16) +
    kMaxDevices * (kMaxDeviceNameBytes + 8 + 16 + 16) + kMaxDeviceStateBytes +
    256;
static_assert(kWorstCheckpointBytes <= kMaxFramePayloadBytes);
static_assert(kMaxEventDataBytes + 256 <= kMaxFramePayloadBytes);

// --- Encoding helpers ---

capnp::Data::Reader AsData(const std::vector<uint8_t>& v) {
  return capnp::Data::Reader(v.data(), v.size());
}

capnp::Text::Reader AsText(const std::string& s) {
  return capnp::Text::Reader(s.c_str(), s.size());
}

void SetIdentity(fl::FileIdentity::Builder b, const FileIdentity& id) {
  b.setPath(AsText(id.path));
  b.setSizeBytes(id.size_bytes);
  b.setSha256(AsData(id.sha256));
}

void SetPosition(fl::Position::Builder b, const LogPosition& at) {
  b.setExits(at.position.value());
  b.setKind(static_cast<fl::ExitKind>(at.exit.kind));
  b.setAddress(at.exit.address);
  b.setRip(at.exit.rip);
}

void SetDigest(fl::Digest::Builder b, const Digest& d) {
  b.setRegistersHash(d.registers_hash);
  b.setMemoryHash(d.memory_hash);
}

// Level 1: the fastest; the log is written on the vCPU thread.
constexpr int kZstdLevel = 1;

// One compression context per encoding thread, reused: creating one per
// checkpoint costs as much as compressing a few pages.
ZSTD_CCtx* ThreadCompressor() {
  struct Owner {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Owner() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Owner owner;
  return owner.cctx;
}

// Sets the pages of a Checkpoint or CheckpointPages builder `b`: their
// bytes in each DirtyPage, or (`compress`) all in one zstd frame, written
// straight from the pages into the message (no gathered copy, and the
// unused tail of the bound is given back to the message).
template <typename Builder>
absl::Status SetPages(capnp::MessageBuilder& message, Builder b,
                      std::span<const DirtyPage> pages, bool compress) {
  auto list = b.initPages(static_cast<unsigned>(pages.size()));
  for (size_t i = 0; i < pages.size(); ++i) {
    list[static_cast<unsigned>(i)].setGfn(pages[i].gfn);
    if (!compress) {
      list[static_cast<unsigned>(i)].setBytes(AsData(pages[i].bytes));
    }
  }
  if (!compress || pages.empty()) return absl::OkStatus();
  size_t raw_bytes = 0;
  for (const DirtyPage& p : pages) raw_bytes += p.bytes.size();
  ZSTD_CCtx* cctx = ThreadCompressor();
  if (cctx == nullptr) {
    return absl::ResourceExhaustedError("no memory for a zstd context");
  }
  auto fail = [](size_t code) {
    return absl::InternalError(absl::StrFormat(
        "compressing checkpoint pages: %s", ZSTD_getErrorName(code)));
  };
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
  size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, kZstdLevel);
  if (ZSTD_isError(r)) return fail(r);
  r = ZSTD_CCtx_setPledgedSrcSize(cctx, raw_bytes);
  if (ZSTD_isError(r)) return fail(r);
  const size_t bound = ZSTD_compressBound(raw_bytes);
  capnp::Orphan<capnp::Data> packed =
      message.getOrphanage().newOrphan<capnp::Data>(
          static_cast<unsigned>(bound));
  capnp::Data::Builder out = packed.get();
  ZSTD_outBuffer dst{out.begin(), out.size(), 0};
  for (size_t i = 0; i < pages.size(); ++i) {
    ZSTD_inBuffer src{pages[i].bytes.data(), pages[i].bytes.size(), 0};
    const ZSTD_EndDirective mode =
        i + 1 == pages.size() ? ZSTD_e_end : ZSTD_e_continue;
    // With a bound-sized output each call should consume its input and the
    // last one end the frame (0 left to flush); loop in case, never spin.
    while (true) {
      r = ZSTD_compressStream2(cctx, &dst, &src, mode);
      if (ZSTD_isError(r)) return fail(r);
      if (mode == ZSTD_e_end ? r == 0 : src.pos == src.size) break;
      if (dst.pos == dst.size) {
        return absl::InternalError(
            "compressing checkpoint pages: output above zstd's bound");
      }
    }
  }
  packed.truncate(static_cast<unsigned>(dst.pos));
  b.adoptPagesZstd(kj::mv(packed));
  return absl::OkStatus();
}

void SetVcpu(fl::VcpuState::Builder b, const VcpuState& v) {
  b.setRegs(AsData(v.regs));
  b.setSregs(AsData(v.sregs));
  b.setFpu(AsData(v.fpu));
  b.setXsave(AsData(v.xsave));
  b.setXcrs(AsData(v.xcrs));
  b.setEvents(AsData(v.events));
  auto msrs = b.initMsrs(static_cast<unsigned>(v.msrs.size()));
  for (size_t i = 0; i < v.msrs.size(); ++i) {
    msrs[static_cast<unsigned>(i)].setIndex(v.msrs[i].index);
    msrs[static_cast<unsigned>(i)].setValue(v.msrs[i].value);
  }
}

// Fills the union member of an entry (its position is set by the caller).
struct EntryEncoder {
  fl::Entry::Builder b;

  void operator()(const SyncInput& e) {
    const ClockRead& c = std::get<ClockRead>(e.value);
    auto r = b.initClockRead();
    r.setSource(static_cast<fl::ClockSource>(c.source));
    r.setNanos(c.nanos);
  }
  void operator()(const AsyncEventEntry& e) {
    auto r = b.initAsyncEvent();
    r.setSource(e.source);
    r.setKind(e.kind);
    r.setData(AsData(e.data));
  }
  void operator()(const MicroCheckpoint&) {
    FT_CHECK(false) << "checkpoints are encoded by EncodeCheckpoint";
  }
  void operator()(const StateDigest& e) { SetDigest(b.initDigest(), e.digest); }
  void operator()(const OutputMarker& e) {
    auto r = b.initOutput();
    r.setKind(static_cast<fl::OutputKind>(e.kind));
    r.setDevice(e.device);
    r.setLength(e.length);
    r.setHash(e.hash);
  }
  void operator()(const EndEntry& e) {
    auto r = b.initEnd();
    r.setReason(static_cast<fl::EndReason>(e.reason));
    r.setExitCode(e.exit_code);
    if (e.final_digest.has_value()) {
      SetDigest(r.initFinalDigest(), *e.final_digest);
    }
    r.setDetail(AsText(e.detail));
  }
};

absl::StatusOr<std::vector<uint8_t>> ToPayload(capnp::MessageBuilder& message) {
  std::vector<uint8_t> bytes = schema::MessageBytes(message);
  if (bytes.size() > kMaxFramePayloadBytes) {
    // Unreachable while the bounds hold (see kWorstCheckpointBytes).
    return absl::InternalError(absl::StrFormat(
        "an entry encoded to %u bytes, above the frame bound of %u",
        bytes.size(), kMaxFramePayloadBytes));
  }
  return bytes;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> EncodeCheckpoint(
    const MicroCheckpoint& c, size_t pages_per_frame, bool compress) {
  std::vector<std::vector<uint8_t>> frames;
  const std::span<const DirtyPage> all(c.pages);
  const size_t first = std::min(all.size(), pages_per_frame);
  {
    capnp::MallocMessageBuilder message;
    auto entry = message.initRoot<fl::Entry>();
    SetPosition(entry.initPosition(), c.at);
    auto r = entry.initCheckpoint();
    auto vcpus = r.initVcpus(static_cast<unsigned>(c.vcpus.size()));
    for (size_t i = 0; i < c.vcpus.size(); ++i) {
      SetVcpu(vcpus[static_cast<unsigned>(i)], c.vcpus[i]);
    }
    r.setTotalPages(all.size());
    FT_RETURN_IF_ERROR(SetPages(message, r, all.first(first), compress));
    if (c.full) {
      r.setFull(true);
      r.setHalted(c.halted);
      auto devices = r.initDevices(static_cast<unsigned>(c.devices.size()));
      for (size_t i = 0; i < c.devices.size(); ++i) {
        devices[static_cast<unsigned>(i)].setName(AsText(c.devices[i].name));
        devices[static_cast<unsigned>(i)].setState(AsData(c.devices[i].state));
      }
    }
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ToPayload(message));
    frames.push_back(std::move(bytes));
  }
  for (size_t at = first; at < all.size(); at += pages_per_frame) {
    const size_t n = std::min(pages_per_frame, all.size() - at);
    capnp::MallocMessageBuilder message;
    auto entry = message.initRoot<fl::Entry>();
    SetPosition(entry.initPosition(), c.at);
    FT_RETURN_IF_ERROR(SetPages(message, entry.initCheckpointPages(),
                                all.subspan(at, n), compress));
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ToPayload(message));
    frames.push_back(std::move(bytes));
  }
  return frames;
}

// --- Decoding helpers ---

std::vector<uint8_t> ToVector(capnp::Data::Reader d) {
  return std::vector<uint8_t>(d.begin(), d.end());
}

std::string ToString(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

absl::Status Newer(const char* what, unsigned value) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "unknown %s %u (this reader is version %u; the log was written by a "
      "newer ftvm, which must also have marked it readable by this one: read "
      "it with a newer ftvm)",
      what, value, kReaderVersion));
}

template <typename Enum>
absl::StatusOr<Enum> ToEnum(const char* what, uint16_t raw, Enum last) {
  if (raw > static_cast<uint16_t>(last)) return Newer(what, raw);
  return static_cast<Enum>(raw);
}

FileIdentity ReadIdentity(fl::FileIdentity::Reader r) {
  return FileIdentity{.path = ToString(r.getPath()),
                      .size_bytes = r.getSizeBytes(),
                      .sha256 = ToVector(r.getSha256())};
}

absl::StatusOr<LogPosition> ReadPosition(fl::Position::Reader r) {
  FT_ASSIGN_OR_RETURN(
      const ExitKind kind,
      ToEnum("exit kind", static_cast<uint16_t>(r.getKind()), kLastExitKind));
  return LogPosition{
      .position = Position(r.getExits()),
      .exit = {.kind = kind, .address = r.getAddress(), .rip = r.getRip()}};
}

Digest ReadDigest(fl::Digest::Reader r) {
  return Digest{.registers_hash = r.getRegistersHash(),
                .memory_hash = r.getMemoryHash()};
}

// The pages of a Checkpoint or CheckpointPages reader: with pagesZstd, the
// frame must declare exactly the pages' size (checked before allocating:
// the list length is bounded) and every DirtyPage.bytes must be empty.
template <typename Reader>
absl::StatusOr<std::vector<DirtyPage>> ReadPages(Reader r) {
  const auto list = r.getPages();
  std::vector<DirtyPage> pages;
  pages.reserve(list.size());
  for (fl::DirtyPage::Reader p : list) {
    pages.push_back(
        DirtyPage{.gfn = p.getGfn(), .bytes = ToVector(p.getBytes())});
  }
  const auto packed = r.getPagesZstd();
  if (packed.size() == 0) return pages;
  const size_t want = pages.size() * kPageBytes;
  for (const DirtyPage& p : pages) {
    if (!p.bytes.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "checkpoint page %#x has bytes of its own and compressed ones",
          p.gfn));
    }
  }
  const unsigned long long declared =
      ZSTD_getFrameContentSize(packed.begin(), packed.size());
  if (declared != want) {
    return absl::DataLossError(absl::StrFormat(
        "checkpoint pages: the compressed frame declares %s bytes, %u "
        "pages need %u",
        declared == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("unknown")
        : declared == ZSTD_CONTENTSIZE_ERROR ? std::string("invalid")
                                             : absl::StrCat(declared),
        pages.size(), want));
  }
  std::vector<uint8_t> raw(want);
  const size_t n =
      ZSTD_decompress(raw.data(), raw.size(), packed.begin(), packed.size());
  if (ZSTD_isError(n) || n != want) {
    return absl::DataLossError(absl::StrFormat(
        "checkpoint pages do not decompress: %s",
        ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame"));
  }
  for (size_t i = 0; i < pages.size(); ++i) {
    pages[i].bytes.assign(
        raw.begin() + static_cast<ptrdiff_t>(i * kPageBytes),
        raw.begin() + static_cast<ptrdiff_t>((i + 1) * kPageBytes));
  }
  return pages;
}

VcpuState ReadVcpu(fl::VcpuState::Reader r) {
  VcpuState v{.regs = ToVector(r.getRegs()),
              .sregs = ToVector(r.getSregs()),
              .fpu = ToVector(r.getFpu()),
              .xsave = ToVector(r.getXsave()),
              .xcrs = ToVector(r.getXcrs()),
              .events = ToVector(r.getEvents())};
  const auto msrs = r.getMsrs();
  v.msrs.reserve(msrs.size());
  for (fl::Msr::Reader m : msrs) {
    v.msrs.push_back(Msr{.index = m.getIndex(), .value = m.getValue()});
  }
  return v;
}

absl::StatusOr<CheckpointHead> ReadCheckpoint(const LogPosition& at,
                                              fl::Checkpoint::Reader r,
                                              const GuestConfig& guest) {
  CheckpointHead head;
  head.checkpoint.at = at;
  const auto vcpus = r.getVcpus();
  if (vcpus.size() != guest.vcpus) {
    // Checked before copying: the list length is cheap to read.
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint: %u vCPU states for a guest with %u vCPUs",
                        vcpus.size(), guest.vcpus));
  }
  for (fl::VcpuState::Reader v : vcpus) {
    head.checkpoint.vcpus.push_back(ReadVcpu(v));
  }
  FT_RETURN_IF_ERROR(ValidateVcpuStates(head.checkpoint.vcpus, guest, at));
  head.total_pages = r.getTotalPages();
  const auto pages = r.getPages();
  const uint64_t memory_pages = guest.memory_bytes / kPageBytes;
  if (head.total_pages > memory_pages) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint: %u dirty pages in a guest of %u pages",
                        head.total_pages, memory_pages));
  }
  if (pages.size() > std::min<uint64_t>(head.total_pages, kMaxPagesPerFrame)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint: %u pages in its first frame (at most %u, and at most its "
        "total of %u)",
        pages.size(), kMaxPagesPerFrame, head.total_pages));
  }
  FT_ASSIGN_OR_RETURN(head.checkpoint.pages, ReadPages(r));
  FT_RETURN_IF_ERROR(ValidatePages(head.checkpoint.pages, guest, std::nullopt));
  head.checkpoint.full = r.getFull();
  head.checkpoint.halted = r.getHalted();
  const auto devices = r.getDevices();
  if (devices.size() > kMaxDevices) {
    // Checked before copying.
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint: %u device states (at most %u)",
                        devices.size(), kMaxDevices));
  }
  for (fl::DeviceState::Reader d : devices) {
    head.checkpoint.devices.push_back(DeviceState{
        .name = ToString(d.getName()), .state = ToVector(d.getState())});
  }
  FT_RETURN_IF_ERROR(ValidateDevices(head.checkpoint));
  return head;
}

absl::StatusOr<CheckpointPages> ReadCheckpointPages(
    const LogPosition& at, fl::CheckpointPages::Reader r,
    const GuestConfig& guest) {
  const auto pages = r.getPages();
  if (pages.size() == 0 || pages.size() > kMaxPagesPerFrame) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint continuation with %u pages (must be 1..%u)",
                        pages.size(), kMaxPagesPerFrame));
  }
  CheckpointPages out{.at = at};
  FT_ASSIGN_OR_RETURN(out.pages, ReadPages(r));
  // Gfns are checked against the frames before by LogDecoder.
  FT_RETURN_IF_ERROR(ValidatePages(out.pages, guest, std::nullopt));
  return out;
}

// Validates `e` as a whole entry, then hands it over as a record.
template <typename T>
absl::StatusOr<LogRecord> Checked(T e, const GuestConfig& guest) {
  LogEntry entry(std::move(e));
  FT_RETURN_IF_ERROR(ValidateEntry(entry, guest));
  return LogRecord(std::move(std::get<T>(entry)));
}

absl::StatusOr<LogRecord> ReadRecord(fl::Entry::Reader entry,
                                     const GuestConfig& guest) {
  FT_ASSIGN_OR_RETURN(const LogPosition at, ReadPosition(entry.getPosition()));
  FT_RETURN_IF_ERROR(ValidatePosition(at));
  switch (entry.which()) {
    case fl::Entry::CLOCK_READ: {
      const auto r = entry.getClockRead();
      FT_ASSIGN_OR_RETURN(
          const ClockSource source,
          ToEnum("clock source", static_cast<uint16_t>(r.getSource()),
                 ClockSource::kRealtime));
      return Checked(SyncInput{.at = at,
                               .value = ClockRead{.source = source,
                                                  .nanos = r.getNanos()}},
                     guest);
    }
    case fl::Entry::ASYNC_EVENT: {
      const auto r = entry.getAsyncEvent();
      const auto data = r.getData();
      if (data.size() > kMaxEventDataBytes) {
        // Checked before copying.
        return absl::InvalidArgumentError(
            absl::StrFormat("async event: %u bytes of data (at most %u)",
                            data.size(), kMaxEventDataBytes));
      }
      return Checked(AsyncEventEntry{.at = at,
                                     .source = r.getSource(),
                                     .kind = r.getKind(),
                                     .data = ToVector(data)},
                     guest);
    }
    case fl::Entry::CHECKPOINT:
      return ReadCheckpoint(at, entry.getCheckpoint(), guest);
    case fl::Entry::CHECKPOINT_PAGES:
      if (at.exit.kind != ExitKind::kCheckpoint) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "checkpoint pages at position %s (kind must be checkpoint)",
            at.ToString()));
      }
      return ReadCheckpointPages(at, entry.getCheckpointPages(), guest);
    case fl::Entry::DIGEST:
      return Checked(
          StateDigest{.at = at, .digest = ReadDigest(entry.getDigest())},
          guest);
    case fl::Entry::OUTPUT: {
      const auto r = entry.getOutput();
      FT_ASSIGN_OR_RETURN(
          const OutputKind kind,
          ToEnum("output kind", static_cast<uint16_t>(r.getKind()),
                 OutputKind::kDiskWrite));
      return Checked(OutputMarker{.at = at,
                                  .kind = kind,
                                  .device = r.getDevice(),
                                  .length = r.getLength(),
                                  .hash = r.getHash()},
                     guest);
    }
    case fl::Entry::END: {
      const auto r = entry.getEnd();
      FT_ASSIGN_OR_RETURN(
          const EndReason reason,
          ToEnum("end reason", static_cast<uint16_t>(r.getReason()),
                 EndReason::kError));
      EndEntry end{.at = at,
                   .reason = reason,
                   .exit_code = r.getExitCode(),
                   .detail = ToString(r.getDetail())};
      if (r.hasFinalDigest()) end.final_digest = ReadDigest(r.getFinalDigest());
      return Checked(std::move(end), guest);
    }
  }
  // A union member added by a newer writer.
  const auto kind = static_cast<uint16_t>(entry.which());
  if (entry.getSkippable()) return SkippedEntry{.at = at, .kind = kind};
  return Newer("entry kind (union member)", kind);
}

// Runs `read` on the message in `payload` (schema/capnp_message.h).
template <typename Root, typename Fn>
auto WithMessage(std::span<const uint8_t> payload, Fn read) {
  return schema::ReadMessage<Root>(
      payload, "",
      {.traversal_factor = kTraversalFactor, .nesting = kNestingLimit}, read);
}

// Single-frame records as entries.
struct RecordVisitor {
  std::optional<LogEntry> operator()(CheckpointHead&& head) const {
    if (head.total_pages != head.checkpoint.pages.size()) return std::nullopt;
    return LogEntry(std::move(head.checkpoint));
  }
  std::optional<LogEntry> operator()(CheckpointPages&&) const {
    return std::nullopt;
  }
  std::optional<LogEntry> operator()(SkippedEntry&&) const {
    return std::nullopt;
  }
  template <typename T>
  std::optional<LogEntry> operator()(T&& e) const {
    return LogEntry(std::forward<T>(e));
  }
};

absl::StatusOr<LogHeader> ReadHeader(fl::Header::Reader r) {
  LogHeader h;
  h.format_version = r.getFormatVersion();
  h.min_reader_version = r.getMinReaderVersion();
  h.writer = ToString(r.getWriter());
  FT_RETURN_IF_ERROR(CheckReaderVersion(h));
  const auto g = r.getGuest();
  h.guest.memory_bytes = g.getMemoryBytes();
  h.guest.vcpus = g.getVcpus();
  const auto cpuid = g.getCpuid();
  if (cpuid.size() > kMaxCpuidEntries) {
    return absl::InvalidArgumentError(
        absl::StrFormat("header: %u CPUID entries (at most %u)", cpuid.size(),
                        kMaxCpuidEntries));
  }
  for (fl::CpuidEntry::Reader c : cpuid) {
    h.guest.cpuid.push_back(CpuidEntry{.function = c.getFunction(),
                                       .index = c.getIndex(),
                                       .flags = c.getFlags(),
                                       .eax = c.getEax(),
                                       .ebx = c.getEbx(),
                                       .ecx = c.getEcx(),
                                       .edx = c.getEdx()});
  }
  h.guest.kernel = ReadIdentity(g.getKernel());
  h.guest.cmdline = ToString(g.getCmdline());
  const auto disks = g.getDisks();
  const auto nics = g.getNics();
  if (disks.size() > kMaxDisks || nics.size() > kMaxNics) {
    return absl::InvalidArgumentError(
        absl::StrFormat("header: %u disks and %u NICs (at most %u and %u)",
                        disks.size(), nics.size(), kMaxDisks, kMaxNics));
  }
  for (fl::Disk::Reader d : disks) {
    h.guest.disks.push_back(DiskConfig{.image = ReadIdentity(d.getImage()),
                                       .read_only = d.getReadOnly()});
  }
  for (fl::Nic::Reader n : nics) {
    const auto mac = n.getMac();
    NicConfig nic;
    if (mac.size() != nic.mac.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("header: NIC %u: MAC of %u bytes (must be 6)",
                          h.guest.nics.size(), mac.size()));
    }
    std::copy(mac.begin(), mac.end(), nic.mac.begin());
    h.guest.nics.push_back(nic);
  }
  const auto initial = r.getInitialState();
  switch (initial.which()) {
    case fl::InitialState::BOOT:
      h.initial_state = BootFromKernel{};
      break;
    case fl::InitialState::SNAPSHOT: {
      const auto s = initial.getSnapshot();
      h.initial_state = SnapshotRef{.path = ToString(s.getPath()),
                                    .sha256 = ToVector(s.getSha256())};
      break;
    }
    default:
      return Newer("initial state kind",
                   static_cast<unsigned>(initial.which()));
  }
  h.latency_bound_ns = r.getLatencyBoundNs();
  FT_RETURN_IF_ERROR(ValidateHeader(h));
  return h;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> EncodeHeader(const LogHeader& h) {
  FT_RETURN_IF_ERROR(ValidateHeader(h));
  capnp::MallocMessageBuilder message;
  auto r = message.initRoot<fl::Header>();
  r.setFormatVersion(h.format_version);
  r.setMinReaderVersion(h.min_reader_version);
  r.setWriter(AsText(h.writer));
  auto g = r.initGuest();
  g.setMemoryBytes(h.guest.memory_bytes);
  g.setVcpus(h.guest.vcpus);
  auto cpuid = g.initCpuid(static_cast<unsigned>(h.guest.cpuid.size()));
  for (size_t i = 0; i < h.guest.cpuid.size(); ++i) {
    const CpuidEntry& c = h.guest.cpuid[i];
    auto e = cpuid[static_cast<unsigned>(i)];
    e.setFunction(c.function);
    e.setIndex(c.index);
    e.setFlags(c.flags);
    e.setEax(c.eax);
    e.setEbx(c.ebx);
    e.setEcx(c.ecx);
    e.setEdx(c.edx);
  }
  SetIdentity(g.initKernel(), h.guest.kernel);
  g.setCmdline(AsText(h.guest.cmdline));
  auto disks = g.initDisks(static_cast<unsigned>(h.guest.disks.size()));
  for (size_t i = 0; i < h.guest.disks.size(); ++i) {
    SetIdentity(disks[static_cast<unsigned>(i)].initImage(),
                h.guest.disks[i].image);
    disks[static_cast<unsigned>(i)].setReadOnly(h.guest.disks[i].read_only);
  }
  auto nics = g.initNics(static_cast<unsigned>(h.guest.nics.size()));
  for (size_t i = 0; i < h.guest.nics.size(); ++i) {
    const auto& mac = h.guest.nics[i].mac;
    nics[static_cast<unsigned>(i)].setMac(
        capnp::Data::Reader(mac.data(), mac.size()));
  }
  auto initial = r.initInitialState();
  if (const auto* snap = std::get_if<SnapshotRef>(&h.initial_state)) {
    auto s = initial.initSnapshot();
    s.setPath(AsText(snap->path));
    s.setSha256(AsData(snap->sha256));
  } else {
    initial.setBoot();
  }
  r.setLatencyBoundNs(h.latency_bound_ns);
  return ToPayload(message);
}

absl::StatusOr<LogHeader> DecodeHeader(std::span<const uint8_t> payload) {
  absl::StatusOr<LogHeader> header =
      WithMessage<fl::Header>(payload, ReadHeader);
  if (!header.ok()) return Annotate(header.status(), "log header");
  return header;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> EncodeEntry(
    const LogEntry& entry, const GuestConfig& guest,
    const EncodeOptions& options) {
  if (options.pages_per_frame == 0 ||
      options.pages_per_frame > kMaxPagesPerFrame) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%u pages per frame (must be 1..%u)",
                        options.pages_per_frame, kMaxPagesPerFrame));
  }
  FT_RETURN_IF_ERROR(ValidateEntry(entry, guest));
  if (const auto* c = std::get_if<MicroCheckpoint>(&entry)) {
    return EncodeCheckpoint(*c, options.pages_per_frame,
                            options.compress_pages);
  }
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<fl::Entry>();
  SetPosition(root.initPosition(), EntryPosition(entry));
  std::visit(EntryEncoder{root}, entry);
  std::vector<std::vector<uint8_t>> frames;
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ToPayload(message));
  frames.push_back(std::move(bytes));
  return frames;
}

absl::StatusOr<LogRecord> DecodeRecord(std::span<const uint8_t> payload,
                                       const GuestConfig& guest) {
  return WithMessage<fl::Entry>(payload, [&](fl::Entry::Reader entry) {
    return ReadRecord(entry, guest);
  });
}

absl::StatusOr<LogEntry> DecodeEntry(std::span<const uint8_t> payload,
                                     const GuestConfig& guest) {
  FT_ASSIGN_OR_RETURN(LogRecord record, DecodeRecord(payload, guest));
  if (auto* head = std::get_if<CheckpointHead>(&record)) {
    if (head->total_pages != head->checkpoint.pages.size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "a checkpoint of %u pages with %u in this frame: the rest are in "
          "the frames after it (use LogDecoder)",
          head->total_pages, head->checkpoint.pages.size()));
    }
    return std::move(head->checkpoint);
  }
  if (std::holds_alternative<CheckpointPages>(record)) {
    return absl::FailedPreconditionError(
        "a checkpoint continuation frame is not an entry of its own");
  }
  if (const auto* skipped = std::get_if<SkippedEntry>(&record)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "an entry of unknown kind %u (skippable)", skipped->kind));
  }
  return *RecordToEntry(std::move(record));
}

std::optional<LogEntry> RecordToEntry(LogRecord&& record) {
  return std::visit(RecordVisitor{}, std::move(record));
}

}  // namespace ft::replay
