#include "bench/bench_util.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ft::bench {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<uint64_t> FieldValue(const std::string& text,
                                   const std::string& key) {
  size_t at = text.rfind(" " + key + "=");
  if (at == std::string::npos) return std::nullopt;
  at += key.size() + 2;
  uint64_t v;
  if (!absl::SimpleAtoi(
          text.substr(at, text.find_first_not_of("0123456789", at) - at), &v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<RedisBenchmarkResult> ParseRedisBenchmarkCsv(
    const std::string& out, const std::string& test) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::vector<std::string> f;
    for (absl::string_view field : absl::StrSplit(line, ',')) {
      f.emplace_back(absl::StripPrefix(absl::StripSuffix(field, "\""), "\""));
    }
    if (f.size() < 8 || f[0] != test) continue;
    RedisBenchmarkResult r;
    if (absl::SimpleAtod(f[1], &r.rps) && absl::SimpleAtod(f[4], &r.p50_ms) &&
        absl::SimpleAtod(f[6], &r.p99_ms)) {
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace ft::bench
