#include "vmm/snapshot/device_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "schema/capnp_message.h"
#include "schema/devices.capnp.h"

namespace ft::vmm::snapshot {
namespace {

namespace ds = ::ft::schema::devices;

// Enough for any valid state's few pointers; a hostile message cannot make
// the reader walk more than its own size (twice, for shared pointers).
constexpr uint64_t kTraversalFactor = 2;
// Root struct, a list, its elements.
constexpr int kNestingLimit = 8;

absl::Status Malformed(std::string_view device, std::string_view what) {
  return absl::DataLossError(absl::StrFormat(
      "%s state: %s; not a state this ftvm saved", device, what));
}

// Decodes `bytes` as a `Root` message with `read` (schema/capnp_message.h),
// and restores the result into `device`: the device is touched only by its
// RestoreState, after the whole message has been read.
template <typename Root, typename Device, typename Fn>
absl::Status Restore(Device& device, std::span<const uint8_t> bytes, Fn read) {
  const std::string_view name = device.name();
  if (bytes.size() > kMaxDeviceStateBytes) {
    return Malformed(name, absl::StrFormat("%u bytes, more than the %u bytes "
                                           "a device state may take",
                                           bytes.size(), kMaxDeviceStateBytes));
  }
  absl::StatusOr<typename Device::State> state = schema::ReadMessage<Root>(
      bytes, std::string(name) + " state",
      {.traversal_factor = kTraversalFactor, .nesting = kNestingLimit}, read);
  if (!state.ok()) return state.status();
  return device.RestoreState(*state);
}

// --- Pic8259 ---

void SetChip(ds::PicChip::Builder b, const Pic8259::ChipState& c) {
  b.setIrr(c.irr);
  b.setImr(c.imr);
  b.setIsr(c.isr);
  b.setLevel(c.level);
  b.setElcr(c.elcr);
  b.setPriorityAdd(c.priority_add);
  b.setIrqBase(c.irq_base);
  b.setInitState(c.init_state);
  b.setReadIsr(c.read_isr);
  b.setPoll(c.poll);
  b.setSpecialMask(c.special_mask);
  b.setAutoEoi(c.auto_eoi);
  b.setRotateOnAutoEoi(c.rotate_on_auto_eoi);
  b.setSpecialFullyNested(c.special_fully_nested);
  b.setInit4(c.init4);
  b.setSingle(c.single);
  b.setLtim(c.ltim);
}

Pic8259::ChipState ReadChip(ds::PicChip::Reader r) {
  return Pic8259::ChipState{
      .irr = r.getIrr(),
      .imr = r.getImr(),
      .isr = r.getIsr(),
      .level = r.getLevel(),
      .elcr = r.getElcr(),
      .priority_add = r.getPriorityAdd(),
      .irq_base = r.getIrqBase(),
      .init_state = r.getInitState(),
      .read_isr = r.getReadIsr(),
      .poll = r.getPoll(),
      .special_mask = r.getSpecialMask(),
      .auto_eoi = r.getAutoEoi(),
      .rotate_on_auto_eoi = r.getRotateOnAutoEoi(),
      .special_fully_nested = r.getSpecialFullyNested(),
      .init4 = r.getInit4(),
      .single = r.getSingle(),
      .ltim = r.getLtim(),
  };
}

absl::StatusOr<Pic8259::State> ReadPic(ds::Pic8259State::Reader r) {
  if (!r.hasMaster() || !r.hasSlave()) {
    return Malformed("pic-8259",
                     r.hasMaster() ? "slave is missing" : "master is missing");
  }
  return Pic8259::State{.master = ReadChip(r.getMaster()),
                        .slave = ReadChip(r.getSlave())};
}

// --- Pit8254 ---

absl::StatusOr<Pit8254::State> ReadPit(ds::Pit8254State::Reader r) {
  const auto channels = r.getChannels();
  Pit8254::State state;
  if (channels.size() != state.channels.size()) {
    return Malformed("pit-8254", absl::StrFormat("channels has %u entries, "
                                                 "must have 3",
                                                 channels.size()));
  }
  for (size_t i = 0; i < state.channels.size(); ++i) {
    const ds::PitChannel::Reader c = channels[static_cast<unsigned>(i)];
    state.channels[i] = Pit8254::ChannelState{
        .mode = c.getMode(),
        .access = c.getAccess(),
        .reload = c.getReload(),
        .load_ns = c.getLoadNs(),
        .paused_ticks = c.getPausedTicks(),
        .counting = c.getCounting(),
        .gate = c.getGate(),
        .latched = c.getLatched(),
        .latch_value = c.getLatchValue(),
        .read_msb_next = c.getReadMsbNext(),
        .write_msb_next = c.getWriteMsbNext(),
        .pending_lsb = c.getPendingLsb(),
        .status_latched = c.getStatusLatched(),
        .status = c.getStatus(),
    };
  }
  state.port_b = r.getPortB();
  state.irq0_armed = r.getIrq0Armed();
  state.irq0_generation = r.getIrq0Generation();
  state.irq0_edge_ticks = r.getIrq0EdgeTicks();
  return state;
}

// --- CmosRtc ---

absl::StatusOr<CmosRtc::State> ReadRtc(ds::CmosRtcState::Reader r) {
  CmosRtc::State state{.offset_ns = r.getOffsetNs(),
                       .held_year = r.getHeldYear(),
                       .held_month = r.getHeldMonth(),
                       .held_day = r.getHeldDay(),
                       .held_hour = r.getHeldHour(),
                       .held_minute = r.getHeldMinute(),
                       .held_second = r.getHeldSecond(),
                       .uf_second = r.getUfSecond(),
                       .index = r.getIndex(),
                       .nmi_masked = r.getNmiMasked(),
                       .reg_a = r.getRegA(),
                       .reg_b = r.getRegB()};
  const capnp::Data::Reader ram = r.getRam();
  if (ram.size() != state.ram.size()) {
    return Malformed("cmos-rtc", absl::StrFormat("ram is %u bytes, must be %u",
                                                 ram.size(), state.ram.size()));
  }
  std::memcpy(state.ram.data(), ram.begin(), ram.size());
  return state;
}

// --- Serial16550 ---

absl::StatusOr<Serial16550::State> ReadSerial(ds::Serial16550State::Reader r) {
  const capnp::Data::Reader rx = r.getRxFifo();
  // Its size is checked by RestoreState; the message bounds the copy.
  return Serial16550::State{
      .rx_fifo = std::vector<uint8_t>(rx.begin(), rx.end()),
      .ier = r.getIer(),
      .fcr = r.getFcr(),
      .lcr = r.getLcr(),
      .mcr = r.getMcr(),
      .scr = r.getScr(),
      .divisor = r.getDivisor(),
      .overrun = r.getOverrun()};
}

}  // namespace

std::vector<uint8_t> SaveDevice(const Pic8259& device) {
  const Pic8259::State state = device.SaveState();
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ds::Pic8259State>();
  SetChip(root.initMaster(), state.master);
  SetChip(root.initSlave(), state.slave);
  return schema::MessageBytes(message);
}

absl::Status RestoreDevice(Pic8259& device, std::span<const uint8_t> bytes) {
  return Restore<ds::Pic8259State>(device, bytes, ReadPic);
}

std::vector<uint8_t> SaveDevice(const Pit8254& device) {
  const Pit8254::State state = device.SaveState();
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ds::Pit8254State>();
  auto channels =
      root.initChannels(static_cast<unsigned>(state.channels.size()));
  for (size_t i = 0; i < state.channels.size(); ++i) {
    const Pit8254::ChannelState& c = state.channels[i];
    ds::PitChannel::Builder b = channels[static_cast<unsigned>(i)];
    b.setMode(c.mode);
    b.setAccess(c.access);
    b.setReload(c.reload);
    b.setLoadNs(c.load_ns);
    b.setPausedTicks(c.paused_ticks);
    b.setCounting(c.counting);
    b.setGate(c.gate);
    b.setLatched(c.latched);
    b.setLatchValue(c.latch_value);
    b.setReadMsbNext(c.read_msb_next);
    b.setWriteMsbNext(c.write_msb_next);
    b.setPendingLsb(c.pending_lsb);
    b.setStatusLatched(c.status_latched);
    b.setStatus(c.status);
  }
  root.setPortB(state.port_b);
  root.setIrq0Armed(state.irq0_armed);
  root.setIrq0Generation(state.irq0_generation);
  root.setIrq0EdgeTicks(state.irq0_edge_ticks);
  return schema::MessageBytes(message);
}

absl::Status RestoreDevice(Pit8254& device, std::span<const uint8_t> bytes) {
  return Restore<ds::Pit8254State>(device, bytes, ReadPit);
}

std::vector<uint8_t> SaveDevice(const CmosRtc& device) {
  const CmosRtc::State state = device.SaveState();
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ds::CmosRtcState>();
  root.setOffsetNs(state.offset_ns);
  // The device keeps the held time within the schema's field widths (years
  // 0..CmosRtc::kMaxHeldYear, the rest decoded bytes).
  root.setHeldYear(static_cast<uint16_t>(state.held_year));
  root.setHeldMonth(static_cast<uint8_t>(state.held_month));
  root.setHeldDay(static_cast<uint8_t>(state.held_day));
  root.setHeldHour(static_cast<uint8_t>(state.held_hour));
  root.setHeldMinute(static_cast<uint8_t>(state.held_minute));
  root.setHeldSecond(static_cast<uint8_t>(state.held_second));
  root.setUfSecond(state.uf_second);
  root.setIndex(state.index);
  root.setNmiMasked(state.nmi_masked);
  root.setRegA(state.reg_a);
  root.setRegB(state.reg_b);
  root.setRam(capnp::Data::Reader(state.ram.data(), state.ram.size()));
  return schema::MessageBytes(message);
}

absl::Status RestoreDevice(CmosRtc& device, std::span<const uint8_t> bytes) {
  return Restore<ds::CmosRtcState>(device, bytes, ReadRtc);
}

std::vector<uint8_t> SaveDevice(const Serial16550& device) {
  const Serial16550::State state = device.SaveState();
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ds::Serial16550State>();
  root.setRxFifo(
      capnp::Data::Reader(state.rx_fifo.data(), state.rx_fifo.size()));
  root.setIer(state.ier);
  root.setFcr(state.fcr);
  root.setLcr(state.lcr);
  root.setMcr(state.mcr);
  root.setScr(state.scr);
  root.setDivisor(state.divisor);
  root.setOverrun(state.overrun);
  return schema::MessageBytes(message);
}

absl::Status RestoreDevice(Serial16550& device,
                           std::span<const uint8_t> bytes) {
  return Restore<ds::Serial16550State>(device, bytes, ReadSerial);
}

}  // namespace ft::vmm::snapshot
