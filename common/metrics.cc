#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace ft::metrics {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    return true;
  }
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool ValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

void CheckLabels(std::string_view metric, const Labels& labels) {
  for (const auto& [name, value] : labels) {
    FT_CHECK(ValidName(name, /*allow_colon=*/false) && !name.starts_with("__"))
        << "metric " << metric << ": bad label name '" << name << "'";
    // "le" is the bucket label of histograms.
    FT_CHECK(name != "le") << "metric " << metric << ": label 'le' is reserved";
  }
}

// Backslash and newline escaped, and in label values (`quotes`) the double
// quote too (help text may contain it as is).
std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  for (char c : text) {
    if (quotes && c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Prometheus floats: integers without an exponent (counts read better),
// everything else in the shortest form that round-trips.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  FT_CHECK(r.ec == std::errc()) << "formatting " << v;
  return std::string(buf, r.ptr);
}

// {a="1",b="2"} with `extra` (the bucket's le) last; empty for no labels.
std::string FormatLabels(const Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ",";
    first = false;
    absl::StrAppend(&out, name, "=\"", Escape(value, /*quotes=*/true), "\"");
  }
  if (!extra.empty()) {
    if (!first) out += ",";
    out += extra;
  }
  out += "}";
  return out;
}

void AppendHistogram(const std::string& name, const Labels& labels,
                     const Histogram& h, std::string& out) {
  uint64_t cumulative = 0;
  const std::vector<double>& bounds = h.upper_bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.bucket_count(i);
    const std::string le =
        i < bounds.size() ? FormatValue(bounds[i]) : std::string("+Inf");
    absl::StrAppend(&out, name, "_bucket",
                    FormatLabels(labels, absl::StrCat("le=\"", le, "\"")), " ",
                    cumulative, "\n");
  }
  // _count equals the +Inf bucket, as the format requires, even while
  // observations race with the export.
  absl::StrAppend(&out, name, "_sum", FormatLabels(labels), " ",
                  FormatValue(h.sum()), "\n");
  absl::StrAppend(&out, name, "_count", FormatLabels(labels), " ", cumulative,
                  "\n");
}

}  // namespace

void Counter::Add(double delta) {
  FT_CHECK(delta >= 0) << "counter decremented by " << delta;
  value_.fetch_add(delta, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  FT_CHECK(!bounds_.empty()) << "a histogram needs at least one bucket";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    FT_CHECK(std::isfinite(bounds_[i])) << "bucket bound " << bounds_[i];
    FT_CHECK(i == 0 || bounds_[i] > bounds_[i - 1])
        << "bucket bounds must increase strictly";
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double value) {
  // A NaN has no bucket and would turn the sum into NaN for good.
  if (std::isnan(value)) return;
  // The first bucket whose bound is >= value.
  const size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::bucket_count(size_t i) const {
  FT_CHECK(i <= bounds_.size()) << "bucket " << i;
  return buckets_[i].load(std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += bucket_count(i);
  return n;
}

std::vector<double> ExponentialBuckets(double start, double factor,
                                       size_t count) {
  FT_CHECK(start > 0 && factor > 1 && count > 0)
      << "ExponentialBuckets(" << start << ", " << factor << ", " << count
      << ")";
  std::vector<double> out;
  double v = start;
  for (size_t i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

Registry::Family& Registry::FamilyFor(std::string_view name,
                                      std::string_view help, Kind kind,
                                      const Labels& labels) {
  FT_CHECK(ValidName(name, /*allow_colon=*/true))
      << "bad metric name '" << name << "'";
  CheckLabels(name, labels);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{.kind = kind}).first;
    it->second.help = std::string(help);
  }
  FT_CHECK(it->second.kind == kind)
      << "metric " << name << " registered as two kinds";
  return it->second;
}

Counter* Registry::GetCounter(std::string_view name, std::string_view help,
                              const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, Kind::kCounter, labels);
  std::unique_ptr<Counter>& c = f.counters[labels];
  if (c == nullptr) c = std::make_unique<Counter>();
  return c.get();
}

Gauge* Registry::GetGauge(std::string_view name, std::string_view help,
                          const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, Kind::kGauge, labels);
  std::unique_ptr<Gauge>& g = f.gauges[labels];
  if (g == nullptr) g = std::make_unique<Gauge>();
  return g.get();
}

Histogram* Registry::GetHistogram(std::string_view name, std::string_view help,
                                  const std::vector<double>& upper_bounds,
                                  const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, Kind::kHistogram, labels);
  if (f.histograms.empty()) {
    f.bounds = upper_bounds;
  } else {
    FT_CHECK(f.bounds == upper_bounds)
        << "histogram " << name << " registered with two bucket layouts";
  }
  std::unique_ptr<Histogram>& h = f.histograms[labels];
  if (h == nullptr) h = std::make_unique<Histogram>(upper_bounds);
  return h.get();
}

std::string Registry::ExportPrometheus() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    static constexpr const char* kTypeNames[] = {"counter", "gauge",
                                                 "histogram"};
    absl::StrAppend(&out, "# HELP ", name, " ",
                    Escape(f.help, /*quotes=*/false), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ",
                    kTypeNames[static_cast<int>(f.kind)], "\n");
    for (const auto& [labels, c] : f.counters) {
      absl::StrAppend(&out, name, FormatLabels(labels), " ",
                      FormatValue(c->value()), "\n");
    }
    for (const auto& [labels, g] : f.gauges) {
      absl::StrAppend(&out, name, FormatLabels(labels), " ",
                      FormatValue(g->value()), "\n");
    }
    for (const auto& [labels, h] : f.histograms) {
      AppendHistogram(name, labels, *h, out);
    }
  }
  return out;
}

}  // namespace ft::metrics
