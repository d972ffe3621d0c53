// dkdata/aggregation.hpp: aggregations over the records a filter matches, the same on every
// backend (docs/aggregations.md): count, count by term (top k), min, max, sum, avg, cardinality,
// number and date histograms.
//
//   auto results = db->Aggregate(Where("city", Op::kEq, "SF"),
//                                {Aggregation::Terms("by_category", "category", 5),
//                                 Aggregation::Avg("mean_age", "age"),
//                                 Aggregation::DateHistogram("per_month", "created",
//                                                            DateInterval::kMonth)});
//   results[0].buckets[0].key, results[0].buckets[0].count, results[1].value ...
//
// Thread-safety: plain values; Aggregator is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata {

enum class AggregationOp : std::uint8_t {
  kCount,          // records matched
  kTerms,          // records per distinct value, most frequent first, the top `size`
  kMin,            // smallest number (or timestamp, where the field holds no number)
  kMax,            // largest number (or timestamp)
  kSum,            // sum of the numbers
  kAvg,            // mean of the numbers
  kCardinality,    // number of distinct values
  kHistogram,      // numbers in buckets of `interval` width
  kDateHistogram,  // timestamps in calendar buckets (UTC)
};

// "count", "terms", ... (as in JSON output and the CLI).
std::string_view AggregationOpName(AggregationOp op) noexcept;

enum class DateInterval : std::uint8_t { kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

// "minute", "hour", "day", "week" (ISO weeks, from Monday), "month", "quarter", "year".
std::string_view DateIntervalName(DateInterval interval) noexcept;

struct Aggregation {
  std::string name;  // names the result
  AggregationOp op = AggregationOp::kCount;
  std::string field;      // a path, as in filters ("age", "address.city", "id"); empty for kCount
  std::size_t size = 10;  // kTerms: how many terms
  double interval = 0;    // kHistogram: the bucket width, > 0
  DateInterval date_interval = DateInterval::kDay;  // kDateHistogram

  static Aggregation Count(std::string name);
  static Aggregation Terms(std::string name, std::string field, std::size_t size = 10);
  static Aggregation Min(std::string name, std::string field);
  static Aggregation Max(std::string name, std::string field);
  static Aggregation Sum(std::string name, std::string field);
  static Aggregation Avg(std::string name, std::string field);
  static Aggregation Cardinality(std::string name, std::string field);
  static Aggregation Histogram(std::string name, std::string field, double interval);
  static Aggregation DateHistogram(std::string name, std::string field, DateInterval interval);

  friend bool operator==(const Aggregation&, const Aggregation&) = default;
};

struct AggregationBucket {
  Value key;  // the term; a histogram bucket's lower bound (a number, or a timestamp)
  std::size_t count = 0;
  friend bool operator==(const AggregationBucket&, const AggregationBucket&) = default;
};

struct AggregationResult {
  std::string name;
  AggregationOp op = AggregationOp::kCount;
  // kCount, kCardinality: an int. kMin, kMax: a number or a timestamp, null when no value counted.
  // kSum: an int while every number is an int and the sum fits, else a float (0 for none).
  // kAvg: a float, null when no number counted.
  Value value;
  std::vector<AggregationBucket> buckets;  // kTerms, kHistogram, kDateHistogram
  std::size_t other_count = 0;             // kTerms: values counted beyond the top `size` terms

  friend bool operator==(const AggregationResult&, const AggregationResult&) = default;
};

// Checks an aggregation list: names non-empty and distinct, a field where the op needs one, size
// >= 1, a finite interval > 0. Throws Error(kInvalidArgument) naming the aggregation.
void ValidateAggregations(const std::vector<Aggregation>& aggregations);

// Computes aggregations over records fed one at a time: the core's implementation, which every
// backend without its own uses (Database::Aggregate), and the definition of the results.
class Aggregator {
 public:
  // Validates (ValidateAggregations).
  explicit Aggregator(std::vector<Aggregation> aggregations);
  ~Aggregator();
  Aggregator(Aggregator&&) noexcept;
  Aggregator& operator=(Aggregator&&) noexcept;

  void Add(const Record& record);
  // The results, in the order of the aggregations.
  std::vector<AggregationResult> Results() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dkdata
