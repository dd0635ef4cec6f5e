// Machine: the device part of a full checkpoint. Every device model saves
// and restores itself through vmm/snapshot's codecs, under a name that
// pins it to its place in the machine; the list must match exactly, so a
// state never lands in a device of another kind or slot.
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
  const auto& d = snapshot.devices;
  FT_RETURN_IF_ERROR(snapshot::RestoreDevice(*pic_, d[0].state));
  FT_RETURN_IF_ERROR(snapshot::RestoreDevice(*pit_, d[1].state));
  FT_RETURN_IF_ERROR(snapshot::RestoreDevice(*rtc_, d[2].state));
  FT_RETURN_IF_ERROR(snapshot::RestoreDevice(*serial_, d[3].state));
  for (size_t i = 0; i < virtio_.size(); ++i) {
    FT_RETURN_IF_ERROR(snapshot::RestoreDevice(*virtio_[i], d[4 + i].state));
  }
  halted_ = snapshot.halted;
  return absl::OkStatus();
}

}  // namespace ft::vmm
