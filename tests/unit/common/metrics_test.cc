// Tests for common/metrics.h: get-or-create, values, histogram buckets,
// concurrency and the Prometheus text format.
#include "common/metrics.h"

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  Counter* a = r.GetCounter("x_total", "help", {{"ch", "a"}});
  Counter* a2 = r.GetCounter("x_total", "other help", {{"ch", "a"}});
  Counter* b = r.GetCounter("x_total", "help", {{"ch", "b"}});
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  a->Increment();
  a2->Add(2.5);
  EXPECT_DOUBLE_EQ(a->value(), 3.5);
  EXPECT_DOUBLE_EQ(b->value(), 0);
}

TEST(MetricsTest, GaugeGoesBothWays) {
  Registry r;
  Gauge* g = r.GetGauge("lag_bytes", "lag");
  g->Set(10);
  g->Add(-4);
  EXPECT_DOUBLE_EQ(g->value(), 6);
}

TEST(MetricsTest, HistogramBucketsAreUpperBoundsInclusive) {
  Histogram h({1, 2, 4});
  h.Observe(0.5);
  h.Observe(1);  // <= 1: first bucket
  h.Observe(1.5);
  h.Observe(4);
  h.Observe(100);
  h.Observe(std::nan(""));  // ignored
  EXPECT_EQ(h.bucket_count(0), 2u);
  EXPECT_EQ(h.bucket_count(1), 1u);
  EXPECT_EQ(h.bucket_count(2), 1u);
  EXPECT_EQ(h.bucket_count(3), 1u);  // +Inf
  EXPECT_EQ(h.count(), 5u);
  EXPECT_DOUBLE_EQ(h.sum(), 107);
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  Counter* c = r.GetCounter("events_total", "events");
  Histogram* h = r.GetHistogram("lat_seconds", "latency", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
        h->Observe(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(c->value(), 40000);
  EXPECT_EQ(h->count(), 40000u);
  EXPECT_EQ(h->bucket_count(1), 40000u);
}

TEST(MetricsTest, PrometheusTextFormat) {
  Registry r;
  r.GetCounter("b_total", "Things.\nSecond line \\ end", {{"ch", "x\"y"}})
      ->Add(3);
  r.GetGauge("a_gauge", "A gauge.")->Set(1.25);
  Histogram* h =
      r.GetHistogram("c_seconds", "Latency.", {0.1, 1}, {{"ch", "z"}});
  h->Observe(0.0625);
  h->Observe(0.5);
  h->Observe(2);
  EXPECT_EQ(r.ExportPrometheus(),
            "# HELP a_gauge A gauge.\n"
            "# TYPE a_gauge gauge\n"
            "a_gauge 1.25\n"
            "# HELP b_total Things.\\nSecond line \\\\ end\n"
            "# TYPE b_total counter\n"
            "b_total{ch=\"x\\\"y\"} 3\n"
            "# HELP c_seconds Latency.\n"
            "# TYPE c_seconds histogram\n"
            "c_seconds_bucket{ch=\"z\",le=\"0.1\"} 1\n"
            "c_seconds_bucket{ch=\"z\",le=\"1\"} 2\n"
            "c_seconds_bucket{ch=\"z\",le=\"+Inf\"} 3\n"
            "c_seconds_sum{ch=\"z\"} 2.5625\n"
            "c_seconds_count{ch=\"z\"} 3\n");
}

TEST(MetricsTest, LabelsAreSortedWithinASeries) {
  Registry r;
  r.GetCounter("x_total", "x", {{"zeta", "1"}, {"alpha", "2"}})->Increment();
  EXPECT_THAT(r.ExportPrometheus(),
              HasSubstr("x_total{alpha=\"2\",zeta=\"1\"} 1\n"));
}

TEST(MetricsDeathTest, MisuseIsAProgrammingError) {
  Registry r;
  r.GetCounter("dup", "d");
  EXPECT_DEATH(r.GetGauge("dup", "d"), "two kinds");
  EXPECT_DEATH(r.GetCounter("9bad", "d"), "bad metric name");
  EXPECT_DEATH(r.GetCounter("ok", "d", {{"__x", "1"}}), "bad label name");
  EXPECT_DEATH(r.GetCounter("ok2", "d")->Add(-1), "decremented");
  r.GetHistogram("h", "h", {1, 2});
  EXPECT_DEATH(r.GetHistogram("h", "h", {1, 3}, {{"a", "b"}}),
               "two bucket layouts");
  EXPECT_DEATH(Histogram({2, 1}), "increase");
}

}  // namespace
}  // namespace ft::metrics
