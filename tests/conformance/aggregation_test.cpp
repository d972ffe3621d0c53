// Aggregations (include/dkdata/aggregation.hpp, docs/aggregations.md): every backend gives the
// same results, whether the core computes them or the backend does.
#include "dkdata/aggregation.hpp"

#include <gtest/gtest.h>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

Timestamp At(const char* iso) {
  return *Timestamp::Parse(iso);
}

class AggregationTest : public BackendTest {
 protected:
  // Ten people; some fields missing or null, ages int and float, tags lists.
  void LoadPeople() {
    Load({
        MakeRecord("p0", {{"city", "SF"},
                          {"age", 30},
                          {"tags", List{Value("a"), Value("b")}},
                          {"joined", At("2024-01-15T10:00:00Z")},
                          {"score", 1.5}}),
        MakeRecord("p1", {{"city", "NYC"},
                          {"age", 30.0},
                          {"tags", List{Value("a"), Value("a")}},
                          {"joined", At("2024-01-31T23:59:59Z")},
                          {"score", 2.5}}),
        MakeRecord("p2", {{"city", "SF"},
                          {"age", 41},
                          {"tags", List{Value("c")}},
                          {"joined", At("2024-03-01T00:00:00Z")}}),
        MakeRecord("p3", {{"city", "LA"}, {"age", -5}, {"tags", List()}}),
        MakeRecord("p4", {{"city", "SF"}, {"age", 17.5}, {"tags", Value("b")}}),
        MakeRecord("p5", {{"city", "NYC"}, {"joined", At("2023-12-31T23:00:00Z")}}),
        MakeRecord("p6", {{"city", Value()}, {"age", Value()}}),
        MakeRecord("p7", {{"age", 99}, {"score", -1.0}}),
        MakeRecord("p8", {{"city", "Boston"}, {"age", 30}, {"flag", true}}),
        MakeRecord("p9", {{"city", "LA"}, {"age", "thirty"}, {"flag", false}}),
    });
  }

  std::vector<AggregationResult> Run(const Expr& where, std::vector<Aggregation> aggregations) {
    return db_->Aggregate(where, aggregations);
  }
};

TEST_P(AggregationTest, CountIsTheRecordsTheFilterMatches) {
  LoadPeople();
  const auto all = Run(Expr(), {Aggregation::Count("n")});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "n");
  EXPECT_EQ(all[0].value, Value(10));
  EXPECT_EQ(Run(Where("city", Op::kEq, "SF"), {Aggregation::Count("n")})[0].value, Value(3));
  EXPECT_EQ(Run(Where("city", Op::kEq, "nowhere"), {Aggregation::Count("n")})[0].value, Value(0));
}

TEST_P(AggregationTest, TermsAreMostFrequentFirstWithTiesByKey) {
  LoadPeople();
  const AggregationResult r = Run(Expr(), {Aggregation::Terms("cities", "city", 3)})[0];
  // SF 3, LA 2, NYC 2, Boston 1; null and absent are not terms.
  ASSERT_EQ(r.buckets.size(), 3u);
  EXPECT_EQ(r.buckets[0], (AggregationBucket{Value("SF"), 3}));
  EXPECT_EQ(r.buckets[1], (AggregationBucket{Value("LA"), 2}));
  EXPECT_EQ(r.buckets[2], (AggregationBucket{Value("NYC"), 2}));
  EXPECT_EQ(r.other_count, 1u);
}

TEST_P(AggregationTest, NumbersEqualAsNumbersAreOneTerm) {
  LoadPeople();
  const AggregationResult r = Run(Expr(), {Aggregation::Terms("ages", "age", 2)})[0];
  // 30, 30.0 and 30 are one term; then -5 (the smallest of the terms seen once).
  ASSERT_EQ(r.buckets.size(), 2u);
  EXPECT_EQ(r.buckets[0].count, 3u);
  EXPECT_TRUE(r.buckets[0].key.is_number());
  EXPECT_EQ(r.buckets[0].key.AsDouble(), 30.0);
  EXPECT_EQ(r.buckets[1], (AggregationBucket{Value(-5), 1}));
  EXPECT_EQ(r.other_count, 4u);  // 41, 17.5, 99, "thirty"
}

TEST_P(AggregationTest, ListElementsCountOncePerRecord) {
  LoadPeople();
  const AggregationResult r = Run(Expr(), {Aggregation::Terms("tags", "tags", 10)})[0];
  ASSERT_EQ(r.buckets.size(), 3u);
  EXPECT_EQ(r.buckets[0], (AggregationBucket{Value("a"), 2}));  // p1's two "a" count once
  EXPECT_EQ(r.buckets[1], (AggregationBucket{Value("b"), 2}));
  EXPECT_EQ(r.buckets[2], (AggregationBucket{Value("c"), 1}));
  EXPECT_EQ(r.other_count, 0u);
  EXPECT_EQ(Run(Expr(), {Aggregation::Cardinality("n", "tags")})[0].value, Value(3));
}

TEST_P(AggregationTest, MinMaxSumAvgOverNumbers) {
  LoadPeople();
  const auto r = Run(Expr(), {Aggregation::Min("lo", "age"), Aggregation::Max("hi", "age"),
                              Aggregation::Sum("total", "score"), Aggregation::Avg("mean", "age"),
                              Aggregation::Cardinality("distinct", "age")});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].value, Value(-5));
  EXPECT_EQ(r[1].value, Value(99));
  EXPECT_EQ(r[2].value, Value(3.0));  // 1.5 + 2.5 - 1.0, a float
  // 30 + 30 + 41 - 5 + 17.5 + 99 + 30 = 242.5 over 7 numbers ("thirty" and null are not).
  ASSERT_TRUE(r[3].value.is_number());
  EXPECT_DOUBLE_EQ(r[3].value.AsDouble(), 242.5 / 7);
  EXPECT_EQ(r[4].value, Value(6));  // 30, 41, -5, 17.5, 99, "thirty"
}

TEST_P(AggregationTest, NothingToAggregateGivesNullOrZero) {
  LoadPeople();
  const auto r = Run(Where("city", Op::kEq, "nowhere"),
                     {Aggregation::Min("lo", "age"), Aggregation::Avg("mean", "age"),
                      Aggregation::Sum("total", "age"), Aggregation::Terms("t", "age"),
                      Aggregation::Histogram("h", "age", 10)});
  EXPECT_TRUE(r[0].value.is_null());
  EXPECT_TRUE(r[1].value.is_null());
  EXPECT_EQ(r[2].value, Value(0.0));
  EXPECT_TRUE(r[3].buckets.empty());
  EXPECT_TRUE(r[4].buckets.empty());
}

TEST_P(AggregationTest, MinAndMaxOfTimestamps) {
  LoadPeople();
  const auto r =
      Run(Expr(), {Aggregation::Min("first", "joined"), Aggregation::Max("last", "joined")});
  EXPECT_EQ(r[0].value, Value(At("2023-12-31T23:00:00Z")));
  EXPECT_EQ(r[1].value, Value(At("2024-03-01T00:00:00Z")));
}

TEST_P(AggregationTest, HistogramBucketsFromFirstToLastIncludingEmptyOnes) {
  LoadPeople();
  const AggregationResult r =
      Run(Where("age", Op::kLt, 50), {Aggregation::Histogram("h", "age", 20)})[0];
  // -5 → [-20, 0); 17.5 → [0, 20); 30, 30.0, 30, 41 → [20, 40) 3 and [40, 60) 1.
  ASSERT_EQ(r.buckets.size(), 4u);
  EXPECT_EQ(r.buckets[0], (AggregationBucket{Value(-20.0), 1}));
  EXPECT_EQ(r.buckets[1], (AggregationBucket{Value(0.0), 1}));
  EXPECT_EQ(r.buckets[2], (AggregationBucket{Value(20.0), 3}));
  EXPECT_EQ(r.buckets[3], (AggregationBucket{Value(40.0), 1}));
  const AggregationResult wide = Run(Expr(), {Aggregation::Histogram("h", "age", 50)})[0];
  ASSERT_EQ(wide.buckets.size(), 3u);  // [-50, 0) [0, 50) [50, 100)
  EXPECT_EQ(wide.buckets[1], (AggregationBucket{Value(0.0), 5}));
}

TEST_P(AggregationTest, DateHistogramsAreUtcCalendarBuckets) {
  LoadPeople();
  const AggregationResult months =
      Run(Expr(), {Aggregation::DateHistogram("m", "joined", DateInterval::kMonth)})[0];
  ASSERT_EQ(months.buckets.size(), 4u);
  EXPECT_EQ(months.buckets[0], (AggregationBucket{Value(At("2023-12-01T00:00:00Z")), 1}));
  EXPECT_EQ(months.buckets[1], (AggregationBucket{Value(At("2024-01-01T00:00:00Z")), 2}));
  EXPECT_EQ(months.buckets[2], (AggregationBucket{Value(At("2024-02-01T00:00:00Z")), 0}));
  EXPECT_EQ(months.buckets[3], (AggregationBucket{Value(At("2024-03-01T00:00:00Z")), 1}));
  const AggregationResult weeks =
      Run(Where("joined", Op::kLt, At("2024-02-01T00:00:00Z")),
          {Aggregation::DateHistogram("w", "joined", DateInterval::kWeek)})[0];
  // Weeks start on Monday: 2023-12-25, 2024-01-01, 2024-01-08, 2024-01-15, 2024-01-22, 2024-01-29.
  ASSERT_EQ(weeks.buckets.size(), 6u);
  EXPECT_EQ(weeks.buckets[0], (AggregationBucket{Value(At("2023-12-25T00:00:00Z")), 1}));
  EXPECT_EQ(weeks.buckets[3], (AggregationBucket{Value(At("2024-01-15T00:00:00Z")), 1}));
  EXPECT_EQ(weeks.buckets[5], (AggregationBucket{Value(At("2024-01-29T00:00:00Z")), 1}));
  const AggregationResult years =
      Run(Expr(), {Aggregation::DateHistogram("y", "joined", DateInterval::kYear)})[0];
  ASSERT_EQ(years.buckets.size(), 2u);
  EXPECT_EQ(years.buckets[1], (AggregationBucket{Value(At("2024-01-01T00:00:00Z")), 3}));
}

TEST_P(AggregationTest, BooleansAndIdsAreTermsToo) {
  LoadPeople();
  const auto r =
      Run(Expr(), {Aggregation::Terms("flags", "flag"), Aggregation::Cardinality("ids", "id")});
  ASSERT_EQ(r[0].buckets.size(), 2u);
  EXPECT_EQ(r[0].buckets[0], (AggregationBucket{Value(false), 1}));  // ties: false < true
  EXPECT_EQ(r[0].buckets[1], (AggregationBucket{Value(true), 1}));
  EXPECT_EQ(r[1].value, Value(10));
}

TEST_P(AggregationTest, InvalidListsAreInvalidArgument) {
  LoadPeople();
  EXPECT_DKDATA_ERROR(Run(Expr(), {Aggregation::Count("a"), Aggregation::Count("a")}),
                      ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Run(Expr(), {Aggregation::Min("m", "")}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Run(Expr(), {Aggregation::Histogram("h", "age", 0)}),
                      ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Run(Expr(), {Aggregation::Terms("t", "city", 0)}),
                      ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Run(Expr(), {Aggregation::Histogram("h", "age", 1e-9)}),
                      ErrorCode::kInvalidArgument);  // too many buckets
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(AggregationTest);

}  // namespace
}  // namespace dkdata::conformance
