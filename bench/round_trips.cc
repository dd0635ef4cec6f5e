#include "bench/round_trips.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ft::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kAnswerBytes = 8;

void PutU64(uint64_t v, std::array<uint8_t, 8>& out) {
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t GetU64(const std::array<uint8_t, 8>& in) {
  uint64_t v = 0;
  for (size_t i = 0; i < in.size(); ++i)
    v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

}  // namespace

double RoundTrips::Mean() const {
  if (seconds.empty()) return 0;
  return std::accumulate(seconds.begin(), seconds.end(), 0.0) /
         static_cast<double>(seconds.size());
}

double RoundTrips::Quantile(double q) const {
  if (seconds.empty()) return 0;
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  const size_t i = static_cast<size_t>(std::max(rank, 1.0)) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

std::string RoundTrips::Fields() const {
  return absl::StrFormat(
      " round_trips=%u rtt_mean_ms=%.3f rtt_p50_ms=%.3f rtt_p99_ms=%.3f",
      seconds.size(), Mean() * 1e3, Quantile(0.5) * 1e3, Quantile(0.99) * 1e3);
}

absl::StatusOr<RoundTrips> BareTcpSend(logchannel::Transport& transport,
                                       uint64_t record_bytes,
                                       absl::Duration duration) {
  std::array<uint8_t, 8> size{};
  PutU64(record_bytes, size);
  if (absl::Status s = transport.Write(size); !s.ok()) return s;
  const std::vector<uint8_t> record(record_bytes, 0x5a);
  std::array<uint8_t, kAnswerBytes> answer{};
  RoundTrips trips;
  const SteadyClock::time_point stop =
      SteadyClock::now() + absl::ToChronoNanoseconds(duration);
  for (SteadyClock::time_point t = SteadyClock::now(); t < stop;) {
    if (absl::Status s = transport.Write(record); !s.ok()) return s;
    if (absl::Status s = logchannel::ReadExact(transport, answer,
                                               absl::Now() + absl::Minutes(1));
        !s.ok()) {
      return s;
    }
    const SteadyClock::time_point back = SteadyClock::now();
    trips.seconds.push_back(std::chrono::duration<double>(back - t).count());
    t = back;
  }
  transport.ShutdownWrite();
  return trips;
}

absl::StatusOr<uint64_t> BareTcpAnswer(logchannel::Transport& transport,
                                       uint64_t max_record_bytes,
                                       absl::Duration idle_timeout) {
  std::array<uint8_t, 8> size_bytes{};
  if (absl::Status s = logchannel::ReadExact(transport, size_bytes,
                                             absl::Now() + idle_timeout);
      !s.ok()) {
    return s;
  }
  const uint64_t record_bytes = GetU64(size_bytes);
  if (record_bytes == 0 || record_bytes > max_record_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the sender announced records of ", record_bytes,
                     " bytes; the bound is 1 to ", max_record_bytes));
  }
  std::vector<uint8_t> buf(record_bytes);
  const std::array<uint8_t, kAnswerBytes> answer{};
  uint64_t records = 0;
  uint64_t have = 0;  // of the current record
  while (true) {
    absl::StatusOr<size_t> n = transport.Read(std::span(buf).subspan(have),
                                              absl::Now() + idle_timeout);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    have += *n;
    if (have < record_bytes) continue;
    have = 0;
    ++records;
    if (absl::Status s = transport.Write(answer); !s.ok()) return s;
  }
  if (have != 0) {
    return absl::OutOfRangeError("the sender ended the stream inside a record");
  }
  return records;
}

}  // namespace ft::bench
