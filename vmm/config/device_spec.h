// Device specifications as an operator writes them on the command line:
//   --disk PATH[,readonly]
//   --net tap=IFNAME[,mac=52:54:00:xx:xx:xx]
#ifndef FTVM_VMM_CONFIG_DEVICE_SPEC_H_
#define FTVM_VMM_CONFIG_DEVICE_SPEC_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "vmm/backends/tap.h"

namespace ft::vmm {

struct DiskSpec {
  std::string path;
  bool read_only = false;
};

struct NetSpec {
  std::string tap;                // TAP interface name
  std::optional<MacAddress> mac;  // default: derived from the TAP name
};

absl::StatusOr<DiskSpec> ParseDiskSpec(std::string_view text);
absl::StatusOr<NetSpec> ParseNetSpec(std::string_view text);

// A locally administered unicast MAC (52:54:00 prefix as QEMU uses) derived
// from `seed`, so a VM keeps its MAC across restarts without configuration.
MacAddress DefaultMac(std::string_view seed);

}  // namespace ft::vmm

#endif  // FTVM_VMM_CONFIG_DEVICE_SPEC_H_
