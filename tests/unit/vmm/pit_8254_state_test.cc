// Tests for Pit8254's save/restore contract and its encoding
// (vmm/snapshot/device_codec.h): a PIT restored from another's saved state
// answers every later access and every later IRQ 0 expiry event as the
// saver does. The saver plays a recording primary (its own timers post
// expiries); the restored one a replaying secondary, whose queue is sealed
// and which gets the saver's expiry events as a log would deliver them.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "schema/devices.capnp.h"
#include "tests/unit/vmm/device_state_test_util.h"
#include "tests/unit/vmm/pit_test_util.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/events/async_event.h"
#include "vmm/snapshot/device_codec.h"

namespace ft::vmm {
namespace {

namespace ds = ::ft::schema::devices;

using ::ft::vmm::snapshot::RestoreDevice;
using ::ft::vmm::snapshot::SaveDevice;
using ::ft::vmm::testing::EdgeCounter;
using ::ft::vmm::testing::FakeTimers;
using ::ft::vmm::testing::Garbage;
using ::ft::vmm::testing::kMs;
using ::ft::vmm::testing::NanosForTicks;
using ::ft::vmm::testing::Rewrite;

// One machine's PIT with everything it is wired to.
struct Rig {
  explicit Rig(bool replaying = false) {
    if (replaying) queue.Seal();
  }
  void Out(uint16_t port, uint8_t value) { testing::PitOut(pit, port, value); }
  uint8_t In(uint16_t port) { return testing::PitIn(pit, port); }
  // This machine's clock reads what `other`'s does, as a replaying
  // machine's logged clock reads equal the recording's.
  void AlignClock(Rig& other) {
    clock.Advance(other.clock.NowNanos() - clock.NowNanos());
  }

  ManualClock clock;
  FakeTimers timers;
  EdgeCounter irq0;
  AsyncEventQueue queue;
  Pit8254 pit{&clock, {.irq0 = &irq0, .timers = &timers, .events = &queue}};
};

// Copies `from`'s state into `to` through the encoding.
void Transfer(Rig& from, Rig& to) {
  to.AlignClock(from);
  const std::vector<uint8_t> bytes = SaveDevice(from.pit);
  ASSERT_TRUE(RestoreDevice(to.pit, bytes).ok());
  EXPECT_EQ(to.pit.SaveState(), from.pit.SaveState());
}

// Runs the recording's next timer at its deadline: its expiry is queued,
// not yet delivered.
void FireRecording(Rig& rec) {
  ASSERT_GT(rec.timers.armed(), 0u);
  rec.clock.Advance(rec.timers.next_deadline() - rec.clock.NowNanos());
  rec.timers.FireNext();
}

// Delivers the recording's queued events to it and, as a log would, to the
// replaying machine, whose clock follows.
void DeliverBoth(Rig& rec, Rig& rep) {
  std::vector<AsyncEvent> logged;
  rec.queue.DeliverPending(
      [&logged](const AsyncEvent& e) { logged.push_back(e); });
  rep.AlignClock(rec);
  for (const AsyncEvent& e : logged) EXPECT_TRUE(rep.queue.Deliver(e));
}

// Guest accesses after the transfer, touching every piece of the state
// set up by the tests below. Returns what the guest read.
std::vector<int> ContinueCounters(Rig& r) {
  std::vector<int> seen;
  auto in = [&](uint16_t port) { seen.push_back(r.In(port)); };
  in(0x42);  // the latched count's MSB
  in(0x42);  // live count: LSB, then MSB
  in(0x42);
  in(0x41);           // the latched status
  r.Out(0x41, 0x12);  // completes the half-written count
  in(0x41);
  in(0x41);
  in(0x61);           // gate low, OUT, refresh
  r.Out(0x61, 0x03);  // gate rises: restarts channel 2
  r.clock.Advance(kMs / 3);
  in(0x42);
  in(0x42);
  in(0x61);
  r.Out(0x43, 0xc2);  // read-back status of channel 0
  in(0x40);
  in(0x40);  // channel 0's live count
  in(0x40);
  return seen;
}

TEST(Pit8254StateTest, LatchedAndHalfWrittenCountsContinueIdentically) {
  Rig a;
  a.clock.Advance(3 * kMs);
  a.Out(0x43, 0xb6);  // channel 2, word, mode 3
  a.Out(0x42, 0x34);
  a.Out(0x42, 0x12);
  a.clock.Advance(kMs);
  a.Out(0x61, 0x02);  // channel 2's gate low: paused
  a.clock.Advance(kMs / 2);
  a.Out(0x43, 0x74);  // channel 1, word, mode 2
  a.Out(0x41, 0x34);  // only the LSB
  a.Out(0x43, 0x34);  // channel 0, word, mode 2
  a.Out(0x40, 0x88);
  a.Out(0x40, 0x13);
  a.Out(0x43, 0x80);  // latch channel 2
  EXPECT_EQ(a.In(0x42), a.pit.SaveState().channels[2].latch_value & 0xff);
  a.Out(0x43, 0xe4);  // read-back: channel 1's status only
  a.clock.Advance(kMs / 5);

  Rig b(/*replaying=*/true);
  Transfer(a, b);
  Rig fresh;
  fresh.AlignClock(a);

  const std::vector<int> from_a = ContinueCounters(a);
  EXPECT_EQ(ContinueCounters(b), from_a);
  // The script sees the state: a machine without it reads differently.
  EXPECT_NE(ContinueCounters(fresh), from_a);
  EXPECT_EQ(b.pit.SaveState(), a.pit.SaveState());
}

TEST(Pit8254StateTest, PeriodicExpiriesOldAndNewGenerations) {
  Rig a;
  a.clock.Advance(kMs);
  a.Out(0x43, 0x34);  // channel 0, mode 2, every 1000 ticks
  a.Out(0x40, 1000 & 0xff);
  a.Out(0x40, 1000 >> 8);
  FireRecording(a);
  std::vector<AsyncEvent> first;
  a.queue.DeliverPending([&first](const AsyncEvent& e) { first.push_back(e); });
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(a.irq0.rising, 1);

  Rig b(/*replaying=*/true);
  Transfer(a, b);
  // The restored timer is armed locally, for the same deadline.
  EXPECT_TRUE(b.pit.irq0_timer_armed());
  ASSERT_EQ(b.timers.armed(), 1u);
  EXPECT_EQ(b.timers.next_deadline(), a.timers.next_deadline());

  // A stale expiry (generation 1) is dropped by both.
  EXPECT_TRUE(a.queue.Deliver(first[0]));
  EXPECT_TRUE(b.queue.Deliver(first[0]));
  EXPECT_EQ(a.irq0.rising, 1);
  EXPECT_EQ(b.irq0.rising, 0);

  // The current one (generation 2) is taken by both, and both schedule
  // generation 3 for the same edge.
  FireRecording(a);
  DeliverBoth(a, b);
  EXPECT_EQ(a.irq0.rising, 2);
  EXPECT_EQ(b.irq0.rising, 1);
  EXPECT_EQ(b.pit.SaveState(), a.pit.SaveState());
  EXPECT_EQ(b.pit.SaveState().irq0_generation, 3u);
  EXPECT_EQ(b.timers.next_deadline(), a.timers.next_deadline());

  // The replaying machine's own expiry goes nowhere: its queue is sealed.
  b.timers.FireNext();
  EXPECT_FALSE(b.queue.HasPending());

  // Generation 3 expires on the recording, then the guest reprograms
  // channel 0 before the expiry is delivered: both drop it.
  FireRecording(a);
  a.Out(0x43, 0x30);
  b.Out(0x43, 0x30);
  DeliverBoth(a, b);
  EXPECT_EQ(a.irq0.rising, 2);
  EXPECT_EQ(b.irq0.rising, 1);
  EXPECT_FALSE(b.pit.irq0_timer_armed());
  EXPECT_EQ(b.pit.SaveState(), a.pit.SaveState());
}

TEST(Pit8254StateTest, ExpiryQueuedAtTheSaveIsTakenAfterRestore) {
  Rig a;
  a.clock.Advance(2 * kMs);
  a.Out(0x43, 0x30);  // channel 0, mode 0, 500 ticks
  a.Out(0x40, 500 & 0xff);
  a.Out(0x40, 500 >> 8);
  FireRecording(a);  // queued, not yet delivered
  Rig b(/*replaying=*/true);
  Transfer(a, b);
  ASSERT_TRUE(b.pit.irq0_timer_armed());

  DeliverBoth(a, b);
  EXPECT_EQ(a.irq0.rising, 1);
  EXPECT_EQ(b.irq0.rising, 1);
  // One-shot: the local timer was cancelled by the logged expiry.
  EXPECT_FALSE(b.pit.irq0_timer_armed());
  EXPECT_EQ(b.timers.armed(), 0u);
  EXPECT_EQ(b.pit.SaveState(), a.pit.SaveState());
}

TEST(Pit8254StateTest, HalfWrittenMode0CountRearmsWithTheNextGeneration) {
  Rig a;
  a.Out(0x43, 0x30);
  a.Out(0x40, 0x00);
  a.Out(0x40, 0x10);  // generation 1
  a.clock.Advance(kMs);
  a.Out(0x40, 0x20);  // LSB only: the count stops, no timer
  ASSERT_FALSE(a.pit.irq0_timer_armed());

  Rig b(/*replaying=*/true);
  Transfer(a, b);
  EXPECT_EQ(b.timers.armed(), 0u);
  EXPECT_FALSE(b.pit.irq0_timer_armed());

  a.Out(0x40, 0x01);  // MSB: generation 2 from 0x0120 ticks now
  b.Out(0x40, 0x01);
  ASSERT_EQ(b.timers.armed(), 1u);
  EXPECT_EQ(b.timers.next_deadline(), a.timers.next_deadline());
  EXPECT_EQ(a.timers.next_deadline(),
            a.clock.NowNanos() + NanosForTicks(0x0120));
  FireRecording(a);
  DeliverBoth(a, b);
  EXPECT_EQ(a.irq0.rising, 1);
  EXPECT_EQ(b.irq0.rising, 1);
  EXPECT_EQ(b.pit.SaveState().irq0_generation, 2u);
}

TEST(Pit8254StateTest, RestoringAnUnarmedStateCancelsTheLocalTimer) {
  Rig a;
  Rig b(/*replaying=*/true);
  b.Out(0x43, 0x34);
  b.Out(0x40, 0x00);
  b.Out(0x40, 0x10);
  ASSERT_EQ(b.timers.armed(), 1u);
  Transfer(a, b);
  EXPECT_EQ(b.timers.armed(), 0u);
  EXPECT_FALSE(b.pit.irq0_timer_armed());
}

// A PIT with channel 0 armed, to check that refusals leave it unchanged.
class Pit8254StateRejectTest : public ::testing::Test {
 protected:
  Pit8254StateRejectTest() {
    rig_.clock.Advance(kMs);
    rig_.Out(0x43, 0x34);
    rig_.Out(0x40, 0x00);
    rig_.Out(0x40, 0x10);
    rig_.Out(0x43, 0x80);  // a latched channel 2
    before_ = rig_.pit.SaveState();
    bytes_ = SaveDevice(rig_.pit);
  }

  // `status` is a refusal naming `field`, and nothing changed.
  void ExpectRefused(const absl::Status& status, std::string_view field) {
    EXPECT_FALSE(status.ok());
    EXPECT_NE(std::string(status.message()).find("pit-8254"),
              std::string_view::npos)
        << status;
    EXPECT_NE(std::string(status.message()).find(field), std::string_view::npos)
        << status;
    EXPECT_EQ(rig_.pit.SaveState(), before_);
    EXPECT_EQ(rig_.timers.armed(), 1u);
    EXPECT_TRUE(rig_.pit.irq0_timer_armed());
  }
  absl::Status RestoreEdited(
      const std::function<void(ds::Pit8254State::Builder)>& edit) {
    return RestoreDevice(rig_.pit, Rewrite<ds::Pit8254State>(bytes_, edit));
  }

  Rig rig_;
  Pit8254::State before_;
  std::vector<uint8_t> bytes_;
};

TEST_F(Pit8254StateRejectTest, ModeOutOfRange) {
  Pit8254::State state = before_;
  state.channels[1].mode = 9;
  ExpectRefused(rig_.pit.RestoreState(state), "channels[1].mode is 9");
  const absl::Status status = RestoreEdited(
      [](ds::Pit8254State::Builder b) { b.getChannels()[1].setMode(9); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ExpectRefused(status, "channels[1].mode is 9");
}

TEST_F(Pit8254StateRejectTest, ChannelFieldsOutOfRange) {
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[0].setAccess(0);
                }),
                "channels[0].access");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[2].setReload(0x10001);
                }),
                "channels[2].reload");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[2].setLoadNs(-1);
                }),
                "channels[2].load_ns");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[1].setGate(false);
                }),
                "channels[1].gate");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[2].setAccess(1);
                  b.getChannels()[2].setWriteMsbNext(true);
                }),
                "channels[2].write_msb_next");
  ExpectRefused(
      RestoreEdited([](ds::Pit8254State::Builder b) { b.setPortB(0x10); }),
      "port_b");
}

TEST_F(Pit8254StateRejectTest, TimerThatChannel0CouldNotHaveArmed) {
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[0].setCounting(false);
                }),
                "channel 0 is not counting");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.getChannels()[0].setMode(1);
                }),
                "gate-triggered");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.setIrq0Generation(0);
                }),
                "irq0_generation");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.setIrq0EdgeTicks(b.getIrq0EdgeTicks() + 1);
                }),
                "irq0_edge_ticks");
  ExpectRefused(RestoreEdited([](ds::Pit8254State::Builder b) {
                  b.setIrq0EdgeTicks(uint64_t{0x1000} << 50);
                }),
                "irq0_edge_ticks");
}

TEST_F(Pit8254StateRejectTest, WrongNumberOfChannels) {
  const absl::Status status =
      RestoreEdited([](ds::Pit8254State::Builder b) { b.initChannels(2); });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  ExpectRefused(status, "channels has 2 entries");
}

TEST_F(Pit8254StateRejectTest, ArmedTimerNeedsWiring) {
  Pit8254 unwired(&rig_.clock);
  const Pit8254::State unwired_before = unwired.SaveState();
  const absl::Status status = RestoreDevice(unwired, bytes_);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(unwired.SaveState(), unwired_before);
  // Without a timer armed, an unwired PIT takes the state.
  Pit8254::State unarmed = before_;
  unarmed.irq0_armed = false;
  EXPECT_TRUE(unwired.RestoreState(unarmed).ok());
  EXPECT_EQ(unwired.SaveState(), unarmed);
}

TEST_F(Pit8254StateRejectTest, Garbage) {
  for (const std::vector<uint8_t>& input : Garbage(bytes_)) {
    SCOPED_TRACE(::testing::Message() << input.size() << " bytes");
    const absl::Status status = RestoreDevice(rig_.pit, input);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    ExpectRefused(status, "pit-8254 state");
  }
}

}  // namespace
}  // namespace ft::vmm
