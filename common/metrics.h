// A metrics registry: counters, gauges and histograms with names, help text
// and labels, exposed in the Prometheus text format.
//
// There is no global registry: whoever owns a component creates a Registry
// (or is given one) and passes it explicitly, so that two VMs in one process,
// or a test, each see their own numbers. A metric is created once (GetCounter
// and friends return the existing one for the same name and labels) and then
// updated lock-free from any thread; the pointers stay valid for the
// registry's lifetime.
//
// Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*; label names
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). They are code constants, so
// a bad name, or one name used with two kinds or two bucket layouts, is a
// programming error (FT_CHECK). Label values are free text and are escaped.
//
// Thread ownership: everything is thread-safe.
#ifndef FTVM_COMMON_METRICS_H_
#define FTVM_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ft::metrics {

// Label name -> value. A std::map so that a series has one canonical order.
using Labels = std::map<std::string, std::string>;

// A value that only goes up (Prometheus "counter"): events, bytes, seconds.
class Counter {
 public:
  // `delta` must be >= 0 (FT_CHECK): a counter never goes down.
  void Add(double delta);
  void Increment() { Add(1); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (Prometheus "gauge"): a queue length, a lag.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (Prometheus "histogram"): each
// bucket counts the observations <= its upper bound; one more bucket (+Inf)
// takes the rest. Also keeps the count and sum.
class Histogram {
 public:
  // `upper_bounds`: finite, strictly increasing, at least one (FT_CHECK).
  explicit Histogram(std::vector<double> upper_bounds);

  // A NaN is ignored.
  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == upper_bounds().size() is +Inf).
  uint64_t bucket_count(size_t i) const;
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Bucket bounds start, start*factor, ... (`count` of them); for latencies.
std::vector<double> ExponentialBuckets(double start, double factor,
                                       size_t count);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The metric named `name` with `labels`, created on first use. `help` is
  // taken from the first call for a name.
  Counter* GetCounter(std::string_view name, std::string_view help,
                      const Labels& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help,
                  const Labels& labels = {});
  // Every series of one histogram name must use the same `upper_bounds`.
  Histogram* GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& upper_bounds,
                          const Labels& labels = {});

  // Every metric in the Prometheus text exposition format (version 0.0.4),
  // families sorted by name and series by labels; for an exporter's /metrics.
  std::string ExportPrometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<double> bounds;  // histograms
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };

  Family& FamilyFor(std::string_view name, std::string_view help, Kind kind,
                    const Labels& labels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::metrics

#endif  // FTVM_COMMON_METRICS_H_
