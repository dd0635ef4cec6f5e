#include "vmm/virtio/virtio_net.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/log.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {

namespace {

namespace net = virtio::net;
using virtio::FeatureBit;

// Ethernet destination, source and type.
constexpr size_t kEthernetHeader = 14;

}  // namespace

absl::StatusOr<std::unique_ptr<VirtioNet>> VirtioNet::Create(Options options) {
  if (options.backend == nullptr) {
    return absl::InvalidArgumentError("virtio-net needs a back end");
  }
  if (options.mac.bytes[0] & 1) {
    return absl::InvalidArgumentError(
        "virtio-net needs a unicast MAC address, not " +
        options.mac.ToString());
  }
  return std::unique_ptr<VirtioNet>(new VirtioNet(std::move(options)));
}

VirtioNet::VirtioNet(Options options) : backend_(std::move(options.backend)) {
  // struct virtio_net_config (5.1.4): mac, then status.
  std::memcpy(config_.data(), options.mac.bytes, 6);
  config_[6] = static_cast<uint8_t>(net::kStatusLinkUp);
  config_[7] = 0;
}

uint32_t VirtioNet::device_id() const { return virtio::kDeviceIdNet; }

uint64_t VirtioNet::device_features() const {
  return FeatureBit(net::kFeatureMac) | FeatureBit(net::kFeatureStatus);
}

uint64_t VirtioNet::max_chain_bytes(uint16_t index) const {
  // Transmit chains carry one frame; receive chains only need to hold one,
  // but a driver may post bigger buffers (Linux posts pages).
  return index == net::kTxQueue ? kHeaderBytes + Tap::kMaxFrame
                                : kDefaultMaxChainBytes;
}

void VirtioNet::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  ReadConfigBytes(config_, offset, data);
}

void VirtioNet::ConnectEvents(AsyncEventPoster poster) {
  backend_->Connect(poster);
}

VirtioNet::Stats VirtioNet::stats() const {
  return Stats{.rx_frames = rx_frames_.load(),
               .rx_dropped = rx_dropped_.load(),
               .tx_frames = tx_frames_.load(),
               .tx_dropped = tx_dropped_.load()};
}

void VirtioNet::OnDriverReady(VirtioContext& ctx) {
  // The queues are set up before DRIVER_OK (3.1.1): without a receive
  // queue now, this driver takes no frames.
  backend_->SetReceiving(ctx.queue(net::kRxQueue) != nullptr);
  DeliverRx(ctx);
  ProcessTx(ctx);
}

void VirtioNet::OnQueueNotify(VirtioContext& ctx, uint16_t index) {
  if (index == net::kRxQueue) {
    DeliverRx(ctx);
  } else {
    ProcessTx(ctx);
  }
}

void VirtioNet::OnAsyncEvent(VirtioContext& ctx, const AsyncEvent& event) {
  if (event.kind != kNetRxFramesEvent) {
    FT_LOG(kWarning) << "virtio-net: ignored event of unknown kind "
                     << event.kind;
    return;
  }
  absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
      DecodeRxFrames(event.data);
  if (!frames.ok()) {
    // Only a corrupt log can get here; the back end encodes correctly.
    FT_LOG(kWarning) << "virtio-net: " << frames.status().message();
    return;
  }
  for (auto& f : *frames) pending_rx_.push_back(std::move(f));
  // Without a ready receive queue there is nowhere to put them.
  if (ctx.needs_reset() || ctx.queue(net::kRxQueue) == nullptr) {
    DropPending();
    return;
  }
  DeliverRx(ctx);
}

void VirtioNet::Reset() {
  backend_->SetReceiving(false);
  DropPending();
}

void VirtioNet::DropPending() {
  if (pending_rx_.empty()) return;
  Count(rx_dropped_, pending_rx_.size());
  backend_->ReleaseRx(pending_rx_.size());
  pending_rx_.clear();
}

void VirtioNet::DeliverRx(VirtioContext& ctx) {
  Virtqueue* vq = ctx.queue(net::kRxQueue);
  if (vq == nullptr || ctx.needs_reset()) return;
  bool pushed = false;
  size_t done = 0;
  std::vector<uint8_t> packet;
  while (!pending_rx_.empty()) {
    absl::StatusOr<std::optional<DescriptorChain>> next = vq->PopAvail();
    if (!next.ok()) {
      const absl::string_view why = next.status().message();
      ctx.SetNeedsReset(std::string_view(why.data(), why.size()));
      break;
    }
    if (!next->has_value()) break;  // the driver will notify with buffers
    const DescriptorChain& chain = **next;
    const std::vector<uint8_t>& frame = pending_rx_.front();
    if (chain.writable_bytes < kHeaderBytes + frame.size()) {
      ctx.SetNeedsReset(absl::StrFormat(
          "receive buffer at head %u holds %u bytes, less than a %u-byte "
          "frame and its header (mergeable buffers are not offered)",
          chain.head, chain.writable_bytes, frame.size()));
      break;
    }
    net::Header header{};
    header.num_buffers = 1;
    packet.resize(kHeaderBytes + frame.size());
    std::memcpy(packet.data(), &header, kHeaderBytes);
    std::memcpy(packet.data() + kHeaderBytes, frame.data(), frame.size());
    // Cannot fail: the chain's buffers were checked against guest memory
    // and are long enough.
    if (!WriteToSegments(ctx.memory(), chain.writable, 0, packet).ok()) {
      ctx.SetNeedsReset("receive buffer outside guest memory");
      break;
    }
    vq->PushUsed(chain.head, static_cast<uint32_t>(packet.size()));
    pushed = true;
    pending_rx_.pop_front();
    ++done;
  }
  if (done != 0) {
    Count(rx_frames_, done);
    backend_->ReleaseRx(done);
  }
  if (ctx.needs_reset()) DropPending();
  if (pushed) ctx.NotifyUsed(net::kRxQueue);
}

void VirtioNet::ProcessTx(VirtioContext& ctx) {
  Virtqueue* vq = ctx.queue(net::kTxQueue);
  if (vq == nullptr || ctx.needs_reset()) return;
  bool pushed = false;
  std::vector<uint8_t> packet;
  while (!ctx.needs_reset()) {
    absl::StatusOr<std::optional<DescriptorChain>> next = vq->PopAvail();
    if (!next.ok()) {
      const absl::string_view why = next.status().message();
      ctx.SetNeedsReset(std::string_view(why.data(), why.size()));
      break;
    }
    if (!next->has_value()) break;
    const DescriptorChain& chain = **next;
    // Transmit buffers are device-readable; writable ones are ignored.
    if (chain.readable_bytes < kHeaderBytes + kEthernetHeader) {
      Count(tx_dropped_);
    } else {
      packet.resize(chain.readable_bytes);
      if (ReadFromSegments(ctx.memory(), chain.readable, 0, packet).ok()) {
        backend_->Transmit(std::span(packet).subspan(kHeaderBytes));
        Count(tx_frames_);
      } else {
        Count(tx_dropped_);
      }
    }
    vq->PushUsed(chain.head, 0);
    pushed = true;
  }
  if (pushed) ctx.NotifyUsed(net::kTxQueue);
}

VirtioDeviceState VirtioNet::SaveState() const {
  return VirtioNetState{.pending_rx = {pending_rx_.begin(), pending_rx_.end()},
                        .rx_frames = rx_frames_.load(),
                        .rx_dropped = rx_dropped_.load(),
                        .tx_frames = tx_frames_.load(),
                        .tx_dropped = tx_dropped_.load()};
}

absl::Status VirtioNet::RestoreState(const VirtioDeviceState& any,
                                     const VirtioRestoreView& view) {
  const auto* state = std::get_if<VirtioNetState>(&any);
  if (state == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a %s device state cannot be restored into virtio-net",
                        DeviceStateKind(any)));
  }
  // What a back end can have posted and not had released, each frame as
  // DecodeRxFrames accepts it.
  if (state->pending_rx.size() > kMaxRxFramesInFlight) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "virtio-net state: %u received frames waiting (at most %u)",
        state->pending_rx.size(), kMaxRxFramesInFlight));
  }
  for (const std::vector<uint8_t>& frame : state->pending_rx) {
    if (frame.empty() || frame.size() > Tap::kMaxFrame) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "virtio-net state: a waiting frame of %u bytes (1..%u)", frame.size(),
          Tap::kMaxFrame));
    }
  }
  // The back end did not post these frames; releasing them later is
  // harmless (a back end's count of posted frames stops at zero).
  pending_rx_.assign(state->pending_rx.begin(), state->pending_rx.end());
  rx_frames_.store(state->rx_frames);
  rx_dropped_.store(state->rx_dropped);
  tx_frames_.store(state->tx_frames);
  tx_dropped_.store(state->tx_dropped);
  // As OnDriverReady would have left it.
  backend_->SetReceiving(view.live && view.queue_sizes.size() > net::kRxQueue &&
                         view.queue_sizes[net::kRxQueue] != 0);
  return absl::OkStatus();
}

}  // namespace ft::vmm
