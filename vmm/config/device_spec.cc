#include "vmm/config/device_spec.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ft::vmm {
namespace {

absl::string_view View(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::StatusOr<DiskSpec> ParseDiskSpec(std::string_view input) {
  std::vector<absl::string_view> parts = absl::StrSplit(View(input), ',');
  DiskSpec spec{.path = std::string(parts[0])};
  if (spec.path.empty()) {
    return absl::InvalidArgumentError(
        "--disk needs an image path: --disk PATH[,readonly]");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "readonly" || parts[i] == "ro") {
      spec.read_only = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--disk: unknown option '", parts[i],
                       "' (the form is --disk PATH[,readonly])"));
    }
  }
  return spec;
}

absl::StatusOr<NetSpec> ParseNetSpec(std::string_view input) {
  NetSpec spec;
  for (absl::string_view part : absl::StrSplit(View(input), ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "tap" && !kv.second.empty()) {
      spec.tap = std::string(kv.second);
    } else if (kv.first == "mac") {
      auto mac = MacAddress::Parse(
          std::string_view(kv.second.data(), kv.second.size()));
      if (!mac.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--net: ", mac.status().message()));
      }
      spec.mac = *mac;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--net: unknown or empty setting '", part,
          "' (the form is --net tap=IFNAME[,mac=52:54:00:12:34:56])"));
    }
  }
  if (spec.tap.empty()) {
    return absl::InvalidArgumentError(
        "--net needs a TAP interface: --net tap=IFNAME[,mac=...]");
  }
  return spec;
}

MacAddress DefaultMac(std::string_view seed) {
  // FNV-1a over the seed fills the three device bytes.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : seed) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return MacAddress{{0x52, 0x54, 0x00, static_cast<uint8_t>(h >> 16),
                     static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h)}};
}

}  // namespace ft::vmm
