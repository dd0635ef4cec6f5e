// Helpers the benchmarks share: medians, `key=value` fields of program
// output, and redis-benchmark's CSV results.
#ifndef FTVM_BENCH_BENCH_UTIL_H_
#define FTVM_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ft::bench {

double Median(std::vector<double> values);

// The unsigned integer after the last " key=" in `text` (a guest's or
// ftvm's output line), if any.
std::optional<uint64_t> FieldValue(const std::string& text,
                                   const std::string& key);

// One test's line of `redis-benchmark --csv`: "test","rps",
// "avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
// "p99_latency_ms","max_latency_ms".
struct RedisBenchmarkResult {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};
std::optional<RedisBenchmarkResult> ParseRedisBenchmarkCsv(
    const std::string& out, const std::string& test);

}  // namespace ft::bench

#endif  // FTVM_BENCH_BENCH_UTIL_H_
