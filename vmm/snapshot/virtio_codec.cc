#include "vmm/snapshot/virtio_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "schema/capnp_message.h"
#include "schema/virtio_devices.capnp.h"
#include "vmm/backends/tap.h"
#include "vmm/virtio/net_backend.h"
#include "vmm/virtio/virtio_blk.h"

namespace ft::vmm::snapshot {

namespace {

namespace sv = ::ft::schema::virtio;
using State = MmioTransport::State;

// A well-formed message is traversed about once; the slack covers readers
// that look at a list twice. Zero-sized list elements count as a word each,
// so a small message cannot claim a huge list.
constexpr uint64_t kTraversalFactor = 2;
constexpr int kNestingLimit = 8;

// List bounds checked before anything is allocated. The devices check them
// again (RestoreState); these keep a hostile message from costing memory
// first.
constexpr size_t kMaxQueues = 0xffff;
constexpr size_t kMaxBlkRequests =
    VirtioBlk::kMaxOutstandingBytes / VirtioBlk::kMinRequestCost;
constexpr size_t kMaxChainSegments =
    VirtioBlk::kQueueSize + kMaxIndirectEntries;

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("virtio state: " + what);
}

// --- Encoding ---

void SetSegments(capnp::List<sv::Segment>::Builder out,
                 const std::vector<BufferSegment>& segments) {
  for (size_t i = 0; i < segments.size(); ++i) {
    out[i].setAddr(segments[i].addr.value());
    out[i].setLen(segments[i].len);
  }
}

void SetBlk(sv::BlkState::Builder out, const VirtioBlkState& s) {
  out.setNextId(s.next_id);
  auto in_flight = out.initInFlight(s.in_flight.size());
  for (size_t i = 0; i < s.in_flight.size(); ++i) {
    const VirtioBlkState::Request& r = s.in_flight[i];
    auto b = in_flight[i];
    b.setId(r.id);
    b.setEpoch(r.epoch);
    b.setHead(r.head);
    b.setType(r.type);
    SetSegments(b.initWritable(r.writable.size()), r.writable);
    b.setStatusOffset(r.status_offset);
    b.setDataLen(r.data_len);
  }
  auto outstanding = out.initOutstanding(s.outstanding.size());
  for (size_t i = 0; i < s.outstanding.size(); ++i) {
    outstanding[i].setId(s.outstanding[i].id);
    outstanding[i].setCost(s.outstanding[i].cost);
  }
  if (s.deferred) {
    auto chain = out.initDeferred();
    chain.setHead(s.deferred->head);
    SetSegments(chain.initReadable(s.deferred->readable.size()),
                s.deferred->readable);
    SetSegments(chain.initWritable(s.deferred->writable.size()),
                s.deferred->writable);
  }
  out.setDeferredEpoch(s.deferred_epoch);
}

void SetNet(sv::NetState::Builder out, const VirtioNetState& s) {
  auto frames = out.initPendingRx(s.pending_rx.size());
  for (size_t i = 0; i < s.pending_rx.size(); ++i) {
    frames.set(
        i, capnp::Data::Reader(s.pending_rx[i].data(), s.pending_rx[i].size()));
  }
  out.setRxFrames(s.rx_frames);
  out.setRxDropped(s.rx_dropped);
  out.setTxFrames(s.tx_frames);
  out.setTxDropped(s.tx_dropped);
}

// --- Decoding ---

absl::StatusOr<std::vector<BufferSegment>> GetSegments(
    capnp::List<sv::Segment>::Reader in) {
  if (in.size() > kMaxChainSegments) {
    return Bad(absl::StrFormat("%u buffers in one chain (at most %u)",
                               in.size(), kMaxChainSegments));
  }
  std::vector<BufferSegment> out;
  out.reserve(in.size());
  for (sv::Segment::Reader s : in) {
    out.push_back(BufferSegment{.addr = Gpa(s.getAddr()), .len = s.getLen()});
  }
  return out;
}

uint64_t Sum(const std::vector<BufferSegment>& segments) {
  uint64_t total = 0;
  for (const BufferSegment& s : segments) total += s.len;  // < 2^43
  return total;
}

absl::StatusOr<VirtioBlkState> GetBlk(sv::BlkState::Reader in) {
  VirtioBlkState s{.next_id = in.getNextId(),
                   .deferred_epoch = in.getDeferredEpoch()};
  auto in_flight = in.getInFlight();
  auto outstanding = in.getOutstanding();
  if (in_flight.size() > kMaxBlkRequests ||
      outstanding.size() > kMaxBlkRequests) {
    return Bad(absl::StrFormat(
        "%u in-flight and %u outstanding block requests (at most %u)",
        in_flight.size(), outstanding.size(), kMaxBlkRequests));
  }
  for (sv::BlkRequest::Reader r : in_flight) {
    FT_ASSIGN_OR_RETURN(std::vector<BufferSegment> writable,
                        GetSegments(r.getWritable()));
    s.in_flight.push_back(
        VirtioBlkState::Request{.id = r.getId(),
                                .epoch = r.getEpoch(),
                                .head = r.getHead(),
                                .type = r.getType(),
                                .writable = std::move(writable),
                                .status_offset = r.getStatusOffset(),
                                .data_len = r.getDataLen()});
  }
  for (sv::BlkOutstanding::Reader o : outstanding) {
    s.outstanding.push_back({.id = o.getId(), .cost = o.getCost()});
  }
  if (in.hasDeferred()) {
    sv::Chain::Reader c = in.getDeferred();
    DescriptorChain chain{.head = c.getHead()};
    FT_ASSIGN_OR_RETURN(chain.readable, GetSegments(c.getReadable()));
    FT_ASSIGN_OR_RETURN(chain.writable, GetSegments(c.getWritable()));
    chain.readable_bytes = Sum(chain.readable);
    chain.writable_bytes = Sum(chain.writable);
    s.deferred = std::move(chain);
  }
  return s;
}

absl::StatusOr<VirtioNetState> GetNet(sv::NetState::Reader in) {
  VirtioNetState s{.rx_frames = in.getRxFrames(),
                   .rx_dropped = in.getRxDropped(),
                   .tx_frames = in.getTxFrames(),
                   .tx_dropped = in.getTxDropped()};
  auto frames = in.getPendingRx();
  if (frames.size() > kMaxRxFramesInFlight) {
    return Bad(absl::StrFormat("%u received frames waiting (at most %u)",
                               frames.size(), kMaxRxFramesInFlight));
  }
  for (capnp::Data::Reader f : frames) {
    if (f.size() > Tap::kMaxFrame) {
      return Bad(absl::StrFormat("a waiting frame of %u bytes (at most %u)",
                                 f.size(), Tap::kMaxFrame));
    }
    s.pending_rx.emplace_back(f.begin(), f.end());
  }
  return s;
}

absl::StatusOr<State> GetState(sv::VirtioMmioSlot::Reader in) {
  if (in.getMinReaderVersion() > kVirtioStateVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "virtio state needs a reader of version %u; this one is version %u "
        "(upgrade ftvm on this host)",
        in.getMinReaderVersion(), kVirtioStateVersion));
  }
  State s{.device_id = in.getDeviceId(),
          .offered_features = in.getOfferedFeatures(),
          .status = in.getStatus(),
          .device_features_sel = in.getDeviceFeaturesSel(),
          .driver_features_sel = in.getDriverFeaturesSel(),
          .driver_features = in.getDriverFeatures(),
          .driver_features_unknown = in.getDriverFeaturesUnknown(),
          .queue_sel = in.getQueueSel(),
          .interrupt_status = in.getInterruptStatus(),
          .config_generation = in.getConfigGeneration(),
          .next_epoch = in.getNextEpoch()};
  auto queues = in.getQueues();
  if (queues.size() > kMaxQueues) {
    return Bad(absl::StrFormat("%u queues", queues.size()));
  }
  for (sv::Queue::Reader q : queues) {
    MmioTransport::QueueState queue{.num = q.getNum(),
                                    .desc = q.getDesc(),
                                    .driver = q.getDriver(),
                                    .device = q.getDevice(),
                                    .ready = q.getReady(),
                                    .epoch = q.getEpoch()};
    if (q.hasPosition()) {
      sv::RingPosition::Reader p = q.getPosition();
      queue.position =
          Virtqueue::State{.last_avail_idx = p.getLastAvailIdx(),
                           .used_idx = p.getUsedIdx(),
                           .signalled_used = p.getSignalledUsed(),
                           .signalled_used_valid = p.getSignalledUsedValid(),
                           .notifications = p.getNotifications()};
    }
    s.queues.push_back(queue);
  }
  auto device = in.getDevice();
  switch (device.which()) {
    case sv::VirtioMmioSlot::Device::NONE:
      s.device = std::monostate{};
      break;
    case sv::VirtioMmioSlot::Device::BLK: {
      FT_ASSIGN_OR_RETURN(s.device, GetBlk(device.getBlk()));
      break;
    }
    case sv::VirtioMmioSlot::Device::NET: {
      FT_ASSIGN_OR_RETURN(s.device, GetNet(device.getNet()));
      break;
    }
    default:
      return absl::FailedPreconditionError(absl::StrFormat(
          "virtio state of a device kind this reader does not know (%u)",
          static_cast<unsigned>(device.which())));
  }
  return s;
}

}  // namespace

std::vector<uint8_t> EncodeVirtioState(const State& s) {
  capnp::MallocMessageBuilder message;
  auto out = message.initRoot<sv::VirtioMmioSlot>();
  out.setMinReaderVersion(kVirtioStateVersion);
  out.setDeviceId(s.device_id);
  out.setOfferedFeatures(s.offered_features);
  out.setStatus(s.status);
  out.setDeviceFeaturesSel(s.device_features_sel);
  out.setDriverFeaturesSel(s.driver_features_sel);
  out.setDriverFeatures(s.driver_features);
  out.setDriverFeaturesUnknown(s.driver_features_unknown);
  out.setQueueSel(s.queue_sel);
  out.setInterruptStatus(s.interrupt_status);
  out.setConfigGeneration(s.config_generation);
  out.setNextEpoch(s.next_epoch);
  auto queues = out.initQueues(s.queues.size());
  for (size_t i = 0; i < s.queues.size(); ++i) {
    const MmioTransport::QueueState& q = s.queues[i];
    auto b = queues[i];
    b.setNum(q.num);
    b.setDesc(q.desc);
    b.setDriver(q.driver);
    b.setDevice(q.device);
    b.setReady(q.ready);
    b.setEpoch(q.epoch);
    if (q.position) {
      auto p = b.initPosition();
      p.setLastAvailIdx(q.position->last_avail_idx);
      p.setUsedIdx(q.position->used_idx);
      p.setSignalledUsed(q.position->signalled_used);
      p.setSignalledUsedValid(q.position->signalled_used_valid);
      p.setNotifications(q.position->notifications);
    }
  }
  auto device = out.getDevice();
  if (const auto* blk = std::get_if<VirtioBlkState>(&s.device)) {
    SetBlk(device.initBlk(), *blk);
  } else if (const auto* net = std::get_if<VirtioNetState>(&s.device)) {
    SetNet(device.initNet(), *net);
  } else {
    device.setNone();
  }
  return schema::MessageBytes(message);
}

absl::StatusOr<State> DecodeVirtioState(std::span<const uint8_t> bytes) {
  return schema::ReadMessage<sv::VirtioMmioSlot>(
      bytes, "virtio state",
      {.traversal_factor = kTraversalFactor, .nesting = kNestingLimit},
      [](sv::VirtioMmioSlot::Reader r) { return GetState(r); });
}

std::vector<uint8_t> SaveDevice(const MmioTransport& device) {
  return EncodeVirtioState(device.SaveState());
}

absl::Status RestoreDevice(MmioTransport& device,
                           std::span<const uint8_t> bytes) {
  FT_ASSIGN_OR_RETURN(State state, DecodeVirtioState(bytes));
  return device.RestoreState(state);
}

}  // namespace ft::vmm::snapshot
