#include "vmm/virtio/virtio_blk.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/log.h"
#include "common/status.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {

namespace {

namespace blk = virtio::blk;
using virtio::FeatureBit;

void Put32(std::span<uint8_t> at, uint32_t v) { std::memcpy(at.data(), &v, 4); }
void Put64(std::span<uint8_t> at, uint64_t v) { std::memcpy(at.data(), &v, 8); }

// Most buffers one chain can have: a queue's worth of descriptors plus one
// indirect table.
constexpr size_t kMaxChainSegments =
    VirtioBlk::kQueueSize + kMaxIndirectEntries;

absl::Status BadState(const std::string& what) {
  return absl::InvalidArgumentError("virtio-blk state: " + what);
}

// The sum of `segments`' lengths, refusing more than kMaxChainSegments or
// one outside guest RAM (a restored request writes into them).
absl::StatusOr<uint64_t> SumSegments(const GuestMemory& memory,
                                     std::span<const BufferSegment> segments) {
  if (segments.size() > kMaxChainSegments) {
    return BadState(absl::StrFormat("%u buffers in one chain (at most %u)",
                                    segments.size(), kMaxChainSegments));
  }
  uint64_t total = 0;
  for (const BufferSegment& s : segments) {
    if (!memory.Slice(s.addr, s.len).ok()) {
      return BadState(
          absl::StrFormat("buffer [0x%x, +0x%x) is not inside guest RAM",
                          s.addr.value(), s.len));
    }
    total += s.len;  // cannot wrap: kMaxChainSegments * 2^32 < 2^64
  }
  return total;
}

// A request or chain from queue incarnation `epoch`: the epoch must be one
// the transport handed out, and the head must fit the ring it is returned
// to (PushUsed checks that as an invariant).
absl::Status CheckHead(uint16_t head, uint64_t epoch,
                       const VirtioRestoreView& view) {
  if (epoch == 0 || epoch > view.max_epoch) {
    return BadState(
        absl::StrFormat("queue epoch %u was never handed out (the last is %u)",
                        epoch, view.max_epoch));
  }
  if (head >= VirtioBlk::kQueueSize ||
      (view.queue_sizes[0] != 0 && view.queue_epochs[0] == epoch &&
       head >= view.queue_sizes[0])) {
    return BadState(absl::StrFormat("head %u does not fit its queue", head));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<VirtioBlk>> VirtioBlk::Create(Options options) {
  if (options.backend == nullptr) {
    return absl::InvalidArgumentError("virtio-blk needs a back end");
  }
  if (options.serial.size() > blk::kIdBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "virtio-blk serial \"%s\" is longer than 20 bytes", options.serial));
  }
  if (options.backend->size_bytes() % blk::kSectorSize != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("virtio-blk back end size %u is not a multiple of 512",
                        options.backend->size_bytes()));
  }
  return std::unique_ptr<VirtioBlk>(new VirtioBlk(std::move(options)));
}

VirtioBlk::VirtioBlk(Options options)
    : backend_(std::move(options.backend)),
      capacity_sectors_(backend_->size_bytes() / blk::kSectorSize),
      read_only_(backend_->read_only()) {
  std::copy(options.serial.begin(), options.serial.end(), id_.begin());
  // struct virtio_blk_config (5.2.4); fields of features not offered stay 0.
  std::span<uint8_t> c(config_);
  Put64(c.subspan(0), capacity_sectors_);
  // seg_max: data segments per request, leaving room in a chain of the
  // queue's length for the header and status descriptors.
  Put32(c.subspan(12), kQueueSize - 2);
  Put32(c.subspan(20), blk::kSectorSize);  // blk_size
}

uint32_t VirtioBlk::device_id() const { return virtio::kDeviceIdBlock; }

uint64_t VirtioBlk::device_features() const {
  uint64_t f = FeatureBit(blk::kFeatureFlush) |
               FeatureBit(blk::kFeatureSegMax) |
               FeatureBit(blk::kFeatureBlkSize);
  if (read_only_) f |= FeatureBit(blk::kFeatureRo);
  return f;
}

void VirtioBlk::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  ReadConfigBytes(config_, offset, data);
}

void VirtioBlk::ConnectEvents(AsyncEventPoster poster) {
  backend_->Connect(poster);
}

void VirtioBlk::OnQueueNotify(VirtioContext& ctx, uint16_t /*index*/) {
  ProcessQueue(ctx);
}

void VirtioBlk::Reset() {
  inflight_.clear();
  deferred_.reset();
}

void VirtioBlk::ProcessQueue(VirtioContext& ctx) {
  Virtqueue* vq = ctx.queue(0);
  if (vq == nullptr || ctx.needs_reset()) return;
  bool pushed = false;
  bool more = true;
  if (deferred_) {
    DescriptorChain chain = std::move(*deferred_);
    deferred_.reset();
    // A chain from a queue the driver has since replaced is dropped.
    if (deferred_epoch_ == ctx.queue_epoch(0)) {
      more = HandleChain(ctx, *vq, chain, pushed);
    }
  }
  while (more && !ctx.needs_reset()) {
    absl::StatusOr<std::optional<DescriptorChain>> next = vq->PopAvail();
    if (!next.ok()) {
      const absl::string_view why = next.status().message();
      ctx.SetNeedsReset(std::string_view(why.data(), why.size()));
      break;
    }
    if (!next->has_value()) break;
    more = HandleChain(ctx, *vq, **next, pushed);
  }
  if (pushed) ctx.NotifyUsed(0);
}

bool VirtioBlk::HandleChain(VirtioContext& ctx, Virtqueue& vq,
                            DescriptorChain& chain, bool& pushed) {
  const GuestMemory& memory = ctx.memory();
  blk::RequestHeader header;
  if (chain.readable_bytes < sizeof(header) || chain.writable_bytes < 1 ||
      !ReadFromSegments(
           memory, chain.readable, 0,
           std::span(reinterpret_cast<uint8_t*>(&header), sizeof(header)))
           .ok()) {
    ctx.SetNeedsReset(absl::StrFormat(
        "request at head %u lacks the 16-byte header or the status byte",
        chain.head));
    return false;
  }
  InFlight request{.epoch = ctx.queue_epoch(0),
                   .head = chain.head,
                   .type = header.type,
                   .writable = chain.writable,
                   .status_offset = chain.writable_bytes - 1};
  auto complete_now = [&](uint8_t status, uint64_t written) {
    Complete(ctx, vq, request, status, written);
    pushed = true;
    return !ctx.needs_reset();
  };
  auto defer = [&] {
    deferred_ = std::move(chain);
    deferred_epoch_ = request.epoch;
    return false;
  };

  switch (header.type) {
    case blk::kTypeIn: {
      const uint64_t len = chain.writable_bytes - 1;
      const uint8_t status = CheckTransfer(header.sector, len);
      if (status != blk::kStatusOk || len == 0) return complete_now(status, 0);
      const uint64_t cost = std::max(len, kMinRequestCost);
      if (!FitsBudget(cost)) return defer();
      request.data_len = len;
      SubmitToBackend(BlockRequest{.op = BlockRequest::Op::kRead,
                                   .offset = header.sector * blk::kSectorSize,
                                   .length = static_cast<uint32_t>(len)},
                      std::move(request), cost);
      return true;
    }
    case blk::kTypeOut: {
      const uint64_t len = chain.readable_bytes - sizeof(header);
      const uint8_t status =
          read_only_ ? blk::kStatusIoErr : CheckTransfer(header.sector, len);
      if (status != blk::kStatusOk || len == 0) return complete_now(status, 0);
      const uint64_t cost = std::max(len, kMinRequestCost);
      if (!FitsBudget(cost)) return defer();
      // Copied now, on the vCPU thread: the back end never reads the guest,
      // and the guest cannot change the data once the request is taken.
      std::vector<uint8_t> data(len);
      if (!ReadFromSegments(memory, chain.readable, sizeof(header), data)
               .ok()) {
        ctx.SetNeedsReset("write data vanished from the chain");
        return false;
      }
      SubmitToBackend(BlockRequest{.op = BlockRequest::Op::kWrite,
                                   .offset = header.sector * blk::kSectorSize,
                                   .data = std::move(data)},
                      std::move(request), cost);
      return true;
    }
    case blk::kTypeFlush: {
      if (!FitsBudget(kMinRequestCost)) return defer();
      SubmitToBackend(BlockRequest{.op = BlockRequest::Op::kFlush},
                      std::move(request), kMinRequestCost);
      return true;
    }
    case blk::kTypeGetId: {
      // Up to 20 bytes, as many as the buffer (less the status byte) holds.
      const uint64_t n =
          std::min<uint64_t>(blk::kIdBytes, request.status_offset);
      if (!WriteToSegments(memory, request.writable, 0, std::span(id_).first(n))
               .ok()) {
        ctx.SetNeedsReset("GET_ID buffer vanished from the chain");
        return false;
      }
      return complete_now(blk::kStatusOk, n);
    }
    default:
      return complete_now(blk::kStatusUnsupported, 0);
  }
}

uint8_t VirtioBlk::CheckTransfer(uint64_t sector, uint64_t len) const {
  if (len % blk::kSectorSize != 0) return blk::kStatusIoErr;
  // Written so that sector + sectors cannot wrap.
  if (sector > capacity_sectors_ ||
      len / blk::kSectorSize > capacity_sectors_ - sector) {
    return blk::kStatusIoErr;
  }
  return blk::kStatusOk;
}

bool VirtioBlk::FitsBudget(uint64_t cost) const {
  // Nothing outstanding: always room for one, so a request larger than the
  // budget cannot stall the queue forever.
  return outstanding_bytes_ == 0 ||
         outstanding_bytes_ + cost <= kMaxOutstandingBytes;
}

void VirtioBlk::SubmitToBackend(BlockRequest request, InFlight inflight,
                                uint64_t cost) {
  const uint64_t id = next_id_++;
  request.id = id;
  inflight_.emplace(id, std::move(inflight));
  outstanding_.emplace(id, cost);
  outstanding_bytes_ += cost;
  backend_->Submit(std::move(request));
}

void VirtioBlk::OnAsyncEvent(VirtioContext& ctx, const AsyncEvent& event) {
  if (event.kind != kBlockCompletionEvent) {
    FT_LOG(kWarning) << "virtio-blk: ignored event of unknown kind "
                     << event.kind;
    return;
  }
  absl::StatusOr<BlockCompletion> completion =
      DecodeBlockCompletion(event.data);
  if (!completion.ok()) {
    FT_LOG(kWarning) << "virtio-blk: " << completion.status().message();
    return;
  }
  // The back end is done with this request whatever the guest did since.
  if (auto it = outstanding_.find(completion->id); it != outstanding_.end()) {
    outstanding_bytes_ -= it->second;
    outstanding_.erase(it);
  }
  auto it = inflight_.find(completion->id);
  if (it == inflight_.end()) return;  // the driver reset the device since
  const InFlight request = std::move(it->second);
  inflight_.erase(it);

  Virtqueue* vq = ctx.queue(0);
  if (vq != nullptr && !ctx.needs_reset() &&
      ctx.queue_epoch(0) == request.epoch) {
    uint8_t status = completion->status == blk::kStatusOk ? blk::kStatusOk
                                                          : blk::kStatusIoErr;
    uint64_t written = 0;
    if (request.type == blk::kTypeIn && status == blk::kStatusOk) {
      if (completion->data.size() == request.data_len &&
          WriteToSegments(ctx.memory(), request.writable, 0, completion->data)
              .ok()) {
        written = request.data_len;
      } else {
        status = blk::kStatusIoErr;
      }
    }
    Complete(ctx, *vq, request, status, written);
    ctx.NotifyUsed(0);
  }
  // Room at the back end may let a deferred request go.
  ProcessQueue(ctx);
}

void VirtioBlk::Complete(VirtioContext& ctx, Virtqueue& vq,
                         const InFlight& request, uint8_t status,
                         uint64_t data_written) {
  if (!WriteToSegments(ctx.memory(), request.writable, request.status_offset,
                       std::span(&status, 1))
           .ok()) {
    ctx.SetNeedsReset("status byte vanished from the chain");
    return;
  }
  // Bounded by the chain's total length (kDefaultMaxChainBytes).
  vq.PushUsed(request.head, static_cast<uint32_t>(data_written + 1));
}

VirtioDeviceState VirtioBlk::SaveState() const {
  VirtioBlkState state{.next_id = next_id_,
                       .deferred = deferred_,
                       .deferred_epoch = deferred_epoch_};
  for (const auto& [id, r] : inflight_) {
    state.in_flight.push_back(
        VirtioBlkState::Request{.id = id,
                                .epoch = r.epoch,
                                .head = r.head,
                                .type = r.type,
                                .writable = r.writable,
                                .status_offset = r.status_offset,
                                .data_len = r.data_len});
  }
  for (const auto& [id, cost] : outstanding_) {
    state.outstanding.push_back({.id = id, .cost = cost});
  }
  return state;
}

absl::Status VirtioBlk::CheckRequest(const VirtioBlkState::Request& r,
                                     const VirtioRestoreView& view) const {
  FT_RETURN_IF_ERROR(CheckHead(r.head, r.epoch, view));
  FT_ASSIGN_OR_RETURN(const uint64_t writable,
                      SumSegments(*view.memory, r.writable));
  if (writable == 0 || writable > max_chain_bytes(0) ||
      r.status_offset != writable - 1) {
    return BadState(
        absl::StrFormat("request %u: status byte at %u of %u writable bytes",
                        r.id, r.status_offset, writable));
  }
  // Only transfers and flushes go to the back end; a read writes exactly
  // the bytes before the status byte, whole sectors of the disk.
  const bool data_ok =
      r.type == blk::kTypeIn
          ? r.data_len == r.status_offset && r.data_len != 0 &&
                CheckTransfer(0, r.data_len) == blk::kStatusOk
          : (r.type == blk::kTypeOut || r.type == blk::kTypeFlush) &&
                r.data_len == 0;
  if (!data_ok) {
    return BadState(absl::StrFormat(
        "request %u: type %u with %u data bytes is not one the device sends "
        "to its back end",
        r.id, r.type, r.data_len));
  }
  return absl::OkStatus();
}

absl::Status VirtioBlk::CheckDeferred(const DescriptorChain& chain,
                                      uint64_t epoch,
                                      const VirtioRestoreView& view) const {
  FT_RETURN_IF_ERROR(CheckHead(chain.head, epoch, view));
  if (chain.readable.size() + chain.writable.size() > kMaxChainSegments) {
    return BadState("the deferred chain has too many buffers");
  }
  FT_ASSIGN_OR_RETURN(const uint64_t readable,
                      SumSegments(*view.memory, chain.readable));
  FT_ASSIGN_OR_RETURN(const uint64_t writable,
                      SumSegments(*view.memory, chain.writable));
  if (readable != chain.readable_bytes || writable != chain.writable_bytes ||
      readable + writable > max_chain_bytes(0)) {
    return BadState("the deferred chain's lengths do not add up");
  }
  return absl::OkStatus();
}

absl::Status VirtioBlk::RestoreState(const VirtioDeviceState& any,
                                     const VirtioRestoreView& view) {
  FT_CHECK(view.memory != nullptr && view.queue_sizes.size() == 1 &&
           view.queue_epochs.size() == 1);
  const auto* state = std::get_if<VirtioBlkState>(&any);
  if (state == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a %s device state cannot be restored into virtio-blk",
                        DeviceStateKind(any)));
  }
  if (state->next_id == 0) return BadState("next request id 0");
  // Built aside and swapped in at the end, so a refusal changes nothing.
  std::map<uint64_t, uint64_t> outstanding;
  uint64_t outstanding_bytes = 0;
  for (const VirtioBlkState::Outstanding& o : state->outstanding) {
    if (o.id == 0 || o.id >= state->next_id ||
        (!outstanding.empty() && o.id <= outstanding.rbegin()->first)) {
      return BadState(absl::StrFormat(
          "back-end request id %u is out of order or not below %u", o.id,
          state->next_id));
    }
    // Every request costs kMinRequestCost..kMaxOutstandingBytes, and the
    // device never lets their sum pass kMaxOutstandingBytes.
    if (o.cost < kMinRequestCost || o.cost > kMaxOutstandingBytes ||
        outstanding_bytes + o.cost > kMaxOutstandingBytes) {
      return BadState(absl::StrFormat(
          "back-end request %u costs %u bytes, more than the budget allows",
          o.id, o.cost));
    }
    outstanding.emplace(o.id, o.cost);
    outstanding_bytes += o.cost;
  }
  std::map<uint64_t, InFlight> inflight;
  for (const VirtioBlkState::Request& r : state->in_flight) {
    if (!outstanding.contains(r.id) ||
        (!inflight.empty() && r.id <= inflight.rbegin()->first)) {
      return BadState(absl::StrFormat(
          "in-flight request %u is out of order or not with the back end",
          r.id));
    }
    FT_RETURN_IF_ERROR(CheckRequest(r, view));
    inflight.emplace(r.id, InFlight{.epoch = r.epoch,
                                    .head = r.head,
                                    .type = r.type,
                                    .writable = r.writable,
                                    .status_offset = r.status_offset,
                                    .data_len = r.data_len});
  }
  if (state->deferred) {
    FT_RETURN_IF_ERROR(
        CheckDeferred(*state->deferred, state->deferred_epoch, view));
  }
  next_id_ = state->next_id;
  inflight_ = std::move(inflight);
  outstanding_ = std::move(outstanding);
  outstanding_bytes_ = outstanding_bytes;
  deferred_ = state->deferred;
  deferred_epoch_ = state->deferred_epoch;
  return absl::OkStatus();
}

}  // namespace ft::vmm
