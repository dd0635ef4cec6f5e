// Machine: the device part of a full checkpoint. Every device model saves
// and restores itself through vmm/snapshot's codecs, under a name that
// pins it to its place in the machine; the list must match exactly, so a
// state never lands in a device of another kind or slot.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "vmm/machine.h"
#include "vmm/snapshot/device_codec.h"
#include "vmm/snapshot/virtio_codec.h"

namespace ft::vmm {

void Machine::Kick() {
  if (!vcpus_.empty()) vcpus_[0]->Wake(/*kick=*/true);
}

absl::StatusOr<DevicesSnapshot> Machine::SaveDevices() {
  DevicesSnapshot s{.halted = halted_};
  s.devices.push_back({std::string(pic_->name()), snapshot::SaveDevice(*pic_)});
  s.devices.push_back({std::string(pit_->name()), snapshot::SaveDevice(*pit_)});
  s.devices.push_back({std::string(rtc_->name()), snapshot::SaveDevice(*rtc_)});
  s.devices.push_back(
      {std::string(serial_->name()), snapshot::SaveDevice(*serial_)});
  for (const auto& t : virtio_) {
    s.devices.push_back({std::string(t->name()), snapshot::SaveDevice(*t)});
  }
  return s;
}

absl::Status Machine::RestoreEach(const DevicesSnapshot& snapshot, size_t& done,
                                  size_t up_to) {
  const auto& d = snapshot.devices;
  auto one = [&](size_t i) -> absl::Status {
    if (i == 0) return snapshot::RestoreDevice(*pic_, d[0].state);
    if (i == 1) return snapshot::RestoreDevice(*pit_, d[1].state);
    if (i == 2) return snapshot::RestoreDevice(*rtc_, d[2].state);
    if (i == 3) return snapshot::RestoreDevice(*serial_, d[3].state);
    return snapshot::RestoreDevice(*virtio_[i - 4], d[i].state);
  };
  for (done = 0; done < std::min(up_to, d.size()); ++done) {
    FT_RETURN_IF_ERROR(one(done));
  }
  return absl::OkStatus();
}

absl::Status Machine::RestoreDevices(const DevicesSnapshot& snapshot) {
  std::vector<std::string> mine = {
      std::string(pic_->name()), std::string(pit_->name()),
      std::string(rtc_->name()), std::string(serial_->name())};
  for (const auto& t : virtio_) mine.push_back(std::string(t->name()));
  std::vector<std::string> theirs;
  for (const DeviceState& d : snapshot.devices) theirs.push_back(d.name);
  if (mine != theirs) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the saved machine has the devices [", absl::StrJoin(theirs, ", "),
        "], this one [", absl::StrJoin(mine, ", "),
        "]: it was not built from the same configuration"));
  }
  // All or nothing: each device refuses a bad state unchanged, and the ones
  // before it get back the state they had, so a refused snapshot (a peer's,
  // a migration's) leaves the machine as it was, able to run on.
  FT_ASSIGN_OR_RETURN(const DevicesSnapshot before, SaveDevices());
  size_t restored = 0;
  if (absl::Status s = RestoreEach(snapshot, restored); !s.ok()) {
    size_t put_back = 0;
    if (absl::Status back = RestoreEach(before, put_back, restored);
        !back.ok()) {
      return absl::InternalError(
          absl::StrCat(s.message(),
                       "; putting back the devices restored before it "
                       "failed too: ",
                       back.message()));
    }
    return s;
  }
  halted_ = snapshot.halted;
  return absl::OkStatus();
}

}  // namespace ft::vmm
