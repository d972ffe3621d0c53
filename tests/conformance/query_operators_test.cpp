// Every filter operator, rule by rule, as docs/query-semantics.md states them: missing and null
// ("absent"), kinds (no string/number coercion, ints and floats compared exactly, bools are not
// numbers, the one timestamp/ISO-string coercion), byte-order string comparison, dotted paths,
// structural equality, negations, LIKE/ILIKE/REGEX/STARTS_WITH.
//
// Every expectation below is written by hand from the documentation. Match() also checks, for
// every filter, that Count agrees with Search, that NOT of the filter matches exactly the other
// records (two-valued logic) and that the backend agrees with the reference evaluator
// dkdata::Matches.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/query.hpp"

namespace dkdata::conformance {
namespace {

class QueryOperatorsTest : public BackendTest {
 protected:
  // The sorted ids `expr` matches, after checking Count, NOT and the reference evaluator.
  std::vector<std::string> Match(const Expr& expr) {
    const std::vector<std::string> ids = SortedIdsOf(db_->Search(Query(expr)));
    EXPECT_EQ(db_->Count(expr), ids.size()) << "Count disagrees with Search for\n"
                                            << Describe(expr);

    const std::vector<std::string> all = Sorted(loaded_ids());
    std::vector<std::string> others;
    std::set_difference(all.begin(), all.end(), ids.begin(), ids.end(), std::back_inserter(others));
    EXPECT_EQ(SortedIdsOf(db_->Search(Query(!expr))), others)
        << "NOT must match exactly the records the filter does not match, for\n"
        << Describe(expr);

    std::vector<std::string> reference;
    for (const Record& record : db_->All()) {
      if (Matches(expr, record)) reference.push_back(record.id().value_or("<no id>"));
    }
    EXPECT_EQ(Sorted(reference), ids) << "the backend disagrees with dkdata::Matches for\n"
                                      << Describe(expr);
    return ids;
  }

  // Stores one record per (id, value) under field "s", plus three that every pattern test needs:
  // "num" (s: 1, not a string), "nul" (s: null) and "none" (no s).
  void LoadStrings(std::initializer_list<std::pair<std::string, Value>> values) {
    std::vector<Record> records;
    for (const auto& [id, value] : values) records.push_back(MakeRecord(id, {{"s", value}}));
    records.push_back(MakeRecord("num", {{"s", 1}}));
    records.push_back(MakeRecord("nul", {{"s", nullptr}}));
    records.push_back(MakeRecord("none", {{"other", "x"}}));
    Load(records);
  }
};

// The sorted ids matched by expr equal the listed ids (in any order).
#define EXPECT_MATCHES(expr, ...) \
  EXPECT_EQ(Match(expr), Sorted(std::vector<std::string>{__VA_ARGS__})) << Describe(expr)

// ---- Numbers, bools, and the absence of coercion ----

class NumbersTest : public QueryOperatorsTest {
 protected:
  void SetUp() override {
    QueryOperatorsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Load({
        MakeRecord("i1", {{"x", 1}}),
        MakeRecord("f1", {{"x", 1.0}}),
        MakeRecord("i2", {{"x", 2}}),
        MakeRecord("f25", {{"x", 2.5}}),
        MakeRecord("neg", {{"x", -3}}),
        MakeRecord("zero", {{"x", 0}}),
        MakeRecord("big_i", {{"x", kTwoTo53}}),
        MakeRecord("big_ip1", {{"x", kTwoTo53 + 1}}),
        MakeRecord("big_f", {{"x", static_cast<double>(kTwoTo53)}}),
        MakeRecord("s1", {{"x", "1"}}),
        MakeRecord("s30", {{"x", "30"}}),
        MakeRecord("t", {{"x", true}}),
        MakeRecord("f", {{"x", false}}),
        MakeRecord("nul", {{"x", nullptr}}),
        MakeRecord("none", {{"y", 1}}),
    });
  }
  // Every record with a present, non-null x.
  static std::vector<std::string> Present() {
    return {"i1",      "f1",    "i2", "f25", "neg", "zero", "big_i",
            "big_ip1", "big_f", "s1", "s30", "t",   "f"};
  }
  static std::vector<std::string> PresentExcept(std::initializer_list<std::string> excluded) {
    std::vector<std::string> out;
    for (const std::string& id : Present()) {
      if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) out.push_back(id);
    }
    return out;
  }
};

TEST_P(NumbersTest, IntsAndFloatsAreEqualNumerically) {
  EXPECT_MATCHES(Where("x", Op::kEq, 1), "i1", "f1");
  EXPECT_MATCHES(Where("x", Op::kEq, 1.0), "i1", "f1");
  EXPECT_MATCHES(Where("x", Op::kEq, 2.0), "i2");
  EXPECT_MATCHES(Where("x", Op::kEq, 0.0), "zero");
}

TEST_P(NumbersTest, IntFloatComparisonIsExactBeyondTwoTo53) {
  // 2^53 + 1 (int) is not 2^53 (float), although converting it to double would make it so.
  EXPECT_MATCHES(Where("x", Op::kEq, static_cast<double>(kTwoTo53)), "big_i", "big_f");
  EXPECT_MATCHES(Where("x", Op::kEq, kTwoTo53 + 1), "big_ip1");
  EXPECT_MATCHES(Where("x", Op::kEq, kTwoTo53), "big_i", "big_f");
  EXPECT_MATCHES(Where("x", Op::kGt, static_cast<double>(kTwoTo53)), "big_ip1");
  EXPECT_MATCHES(Where("x", Op::kGte, kTwoTo53 + 1), "big_ip1");
  EXPECT_MATCHES(Where("x", Op::kLt, kTwoTo53 + 1), "i1", "f1", "i2", "f25", "neg", "zero", "big_i",
                 "big_f");
  EXPECT_MATCHES(Where("x", Op::kNeq, kTwoTo53 + 1), PresentExcept({"big_ip1"}));
}

TEST_P(NumbersTest, StringsAndNumbersNeverEqual) {
  EXPECT_MATCHES(Where("x", Op::kEq, "1"), "s1");
  EXPECT_MATCHES(Where("x", Op::kEq, "30"), "s30");
  EXPECT_MATCHES(Where("x", Op::kEq, 30));
  EXPECT_MATCHES(Where("x", Op::kIn, List{"1", 2}), "s1", "i2");
}

TEST_P(NumbersTest, BoolsAreNotNumbers) {
  EXPECT_MATCHES(Where("x", Op::kEq, true), "t");
  EXPECT_MATCHES(Where("x", Op::kEq, false), "f");
  EXPECT_MATCHES(Where("x", Op::kIn, List{true}), "t");
  EXPECT_MATCHES(Where("x", Op::kGt, 0), "i1", "f1", "i2", "f25", "big_i", "big_ip1", "big_f");
  EXPECT_MATCHES(Where("x", Op::kGt, false), "t");
  EXPECT_MATCHES(Where("x", Op::kGte, false), "t", "f");
  EXPECT_MATCHES(Where("x", Op::kBetween, List{false, true}), "t", "f");
}

TEST_P(NumbersTest, NotEqualExcludesAbsentAndMatchesOtherKinds) {
  EXPECT_MATCHES(Where("x", Op::kNeq, 1), PresentExcept({"i1", "f1"}));
  EXPECT_MATCHES(Where("x", Op::kNeq, "1"), PresentExcept({"s1"}));
}

TEST_P(NumbersTest, Ranges) {
  EXPECT_MATCHES(Where("x", Op::kGt, 1), "i2", "f25", "big_i", "big_ip1", "big_f");
  EXPECT_MATCHES(Where("x", Op::kGte, 1), "i1", "f1", "i2", "f25", "big_i", "big_ip1", "big_f");
  EXPECT_MATCHES(Where("x", Op::kLt, 1), "neg", "zero");
  EXPECT_MATCHES(Where("x", Op::kLte, 1.0), "neg", "zero", "i1", "f1");
  EXPECT_MATCHES(Where("x", Op::kGt, 2.4), "f25", "big_i", "big_ip1", "big_f");
  EXPECT_MATCHES(Where("x", Op::kLt, -3));
  EXPECT_MATCHES(Where("x", Op::kLte, -3), "neg");
}

TEST_P(NumbersTest, RangesCompareStringsWithStringsOnly) {
  EXPECT_MATCHES(Where("x", Op::kGt, "1"), "s30");
  EXPECT_MATCHES(Where("x", Op::kGte, "1"), "s1", "s30");
  // Incomparable pairs (number vs string) are false for every range operator.
  EXPECT_MATCHES(Where("x", Op::kLt, "abc"), "s1", "s30");
  EXPECT_MATCHES(Where("x", Op::kGt, "abc"));
}

TEST_P(NumbersTest, BetweenIsInclusive) {
  EXPECT_MATCHES(Where("x", Op::kBetween, List{1, 2}), "i1", "f1", "i2");
  EXPECT_MATCHES(Where("x", Op::kBetween, List{1.0, 2.5}), "i1", "f1", "i2", "f25");
  EXPECT_MATCHES(Where("x", Op::kBetween, List{1.5, 2.4}), "i2");
  EXPECT_MATCHES(Where("x", Op::kBetween, List{"0", "9"}), "s1", "s30");
}

TEST_P(NumbersTest, BetweenWithReversedOrMixedBoundsMatchesNothing) {
  // between [lo, hi] is lo <= x and x <= hi.
  EXPECT_MATCHES(Where("x", Op::kBetween, List{2, 1}));
  EXPECT_MATCHES(Where("x", Op::kNotBetween, List{2, 1}), Present());
  EXPECT_MATCHES(Where("x", Op::kBetween, List{0, "z"}));
}

TEST_P(NumbersTest, NotBetweenMatchesPresentValuesOutsideIncludingIncomparable) {
  EXPECT_MATCHES(Where("x", Op::kNotBetween, List{1, 2}), PresentExcept({"i1", "f1", "i2"}));
  EXPECT_MATCHES(Where("x", Op::kNotBetween, List{"a", "b"}), Present());
}

TEST_P(NumbersTest, InAndNotIn) {
  EXPECT_MATCHES(Where("x", Op::kIn, List{1}), "i1", "f1");
  EXPECT_MATCHES(Where("x", Op::kIn, List{2.0, true, "30"}), "i2", "t", "s30");
  EXPECT_MATCHES(Where("x", Op::kIn, List{}));
  EXPECT_MATCHES(Where("x", Op::kNotIn, List{}), Present());
  EXPECT_MATCHES(Where("x", Op::kNotIn, List{1, false}), PresentExcept({"i1", "f1", "f"}));
}

TEST_P(NumbersTest, InWithNullElementNeverMatchesAbsent) {
  // Positive operators never match an absent field, except `= null`; not_in matches only present,
  // non-null values.
  EXPECT_MATCHES(Where("x", Op::kIn, List{nullptr, 1}), "i1", "f1");
  EXPECT_MATCHES(Where("x", Op::kNotIn, List{nullptr, 1}), PresentExcept({"i1", "f1"}));
}

TEST_P(NumbersTest, NullOperandMeansExistence) {
  EXPECT_MATCHES(Where("x", Op::kEq, nullptr), "nul", "none");
  EXPECT_MATCHES(Where("x", Op::kNotExists), "nul", "none");
  EXPECT_MATCHES(Where("x", Op::kNeq, nullptr), Present());
  EXPECT_MATCHES(Where("x", Op::kExists), Present());
}

// ---- Strings and bytes: ordering ----

TEST_P(QueryOperatorsTest, StringsOrderByCodePointAndAreCaseSensitive) {
  LoadStrings({{"Z", "Z"},
               {"A", "A"},
               {"a", "a"},
               {"ab", "ab"},
               {"e", "e"},
               {"e_acute", "é"},
               {"E_acute", "É"},
               {"emoji", "😀"},
               {"empty", ""}});
  // 'Z' (0x5A) < 'a' (0x61) < 'É' (C3 89) < 'é' (C3 A9) < '😀' (F0 9F 98 80).
  EXPECT_MATCHES(Where("s", Op::kLt, "a"), "Z", "A", "empty");
  EXPECT_MATCHES(Where("s", Op::kGt, "a"), "ab", "e", "e_acute", "E_acute", "emoji");
  EXPECT_MATCHES(Where("s", Op::kGt, "é"), "emoji");
  EXPECT_MATCHES(Where("s", Op::kGte, "é"), "e_acute", "emoji");
  EXPECT_MATCHES(Where("s", Op::kLt, "é"), "Z", "A", "a", "ab", "e", "E_acute", "empty");
  EXPECT_MATCHES(Where("s", Op::kBetween, List{"Z", "a"}), "Z", "a");
  EXPECT_MATCHES(Where("s", Op::kBetween, List{"É", "é"}), "E_acute", "e_acute");
  EXPECT_MATCHES(Where("s", Op::kEq, "A"), "A");
  EXPECT_MATCHES(Where("s", Op::kEq, "É"), "E_acute");
}

TEST_P(QueryOperatorsTest, EmptyStringIsAPresentValue) {
  LoadStrings({{"empty", ""}, {"a", "a"}});
  EXPECT_MATCHES(Where("s", Op::kEq, ""), "empty");
  EXPECT_MATCHES(Where("s", Op::kNeq, ""), "a", "num");
  EXPECT_MATCHES(Where("s", Op::kExists), "empty", "a", "num");
  EXPECT_MATCHES(Where("s", Op::kLt, "a"), "empty");
  EXPECT_MATCHES(Where("s", Op::kLike, ""), "empty");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, ""), "empty", "a");
}

TEST_P(QueryOperatorsTest, BytesCompareAsUnsignedBytes) {
  Load({
      MakeRecord("b_empty", {{"b", Bytes{}}}),
      MakeRecord("b00", {{"b", Bytes{std::string(1, '\0')}}}),
      MakeRecord("b01", {{"b", Bytes{"\x01"}}}),
      MakeRecord("b7f", {{"b", Bytes{"\x7f"}}}),
      MakeRecord("b80", {{"b", Bytes{"\x80"}}}),
      MakeRecord("bff", {{"b", Bytes{"\xff"}}}),
      MakeRecord("str", {{"b", "\x7f"}}),
  });
  EXPECT_MATCHES(Where("b", Op::kGt, Bytes{"\x7f"}), "b80", "bff");
  EXPECT_MATCHES(Where("b", Op::kLt, Bytes{"\x01"}), "b_empty", "b00");
  EXPECT_MATCHES(Where("b", Op::kEq, Bytes{std::string(1, '\0')}), "b00");
  EXPECT_MATCHES(Where("b", Op::kEq, Bytes{}), "b_empty");
  EXPECT_MATCHES(Where("b", Op::kBetween, List{Bytes{"\x01"}, Bytes{"\x80"}}), "b01", "b7f", "b80");
  // Bytes and strings never mix.
  EXPECT_MATCHES(Where("b", Op::kEq, "\x7f"), "str");
  EXPECT_MATCHES(Where("b", Op::kEq, Bytes{"\x7f"}), "b7f");
  EXPECT_MATCHES(Where("b", Op::kGt, "\x01"), "str");
}

// ---- Timestamps ----

constexpr std::int64_t kMay1At8Utc = 1714550400000000;  // 2024-05-01T08:00:00Z
constexpr std::int64_t kDayMicros = 86400000000;

class TimestampsTest : public QueryOperatorsTest {
 protected:
  void SetUp() override {
    QueryOperatorsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Load({
        MakeRecord("t0", {{"ts", Timestamp{kMay1At8Utc - kDayMicros * 30}}}),  // 2024-04-01T08:00Z
        MakeRecord("t1", {{"ts", Timestamp{kMay1At8Utc}}}),
        MakeRecord("t2", {{"ts", Timestamp{kMay1At8Utc + 1}}}),
        MakeRecord("int", {{"ts", 12345}}),
        MakeRecord("nul", {{"ts", nullptr}}),
        MakeRecord("none", {{"other", 1}}),
    });
  }
};

TEST_P(TimestampsTest, TimestampEqualsIsoStringOfTheSameInstant) {
  EXPECT_MATCHES(Where("ts", Op::kEq, "2024-05-01T10:00:00+02:00"), "t1");
  EXPECT_MATCHES(Where("ts", Op::kEq, "2024-05-01T08:00:00Z"), "t1");
  EXPECT_MATCHES(Where("ts", Op::kEq, "2024-05-01T08:00:00.000001Z"), "t2");
  EXPECT_MATCHES(Where("ts", Op::kEq, Timestamp{kMay1At8Utc}), "t1");
  EXPECT_MATCHES(Where("ts", Op::kIn, List{"2024-05-01T08:00:00Z", 12345}), "t1", "int");
  EXPECT_MATCHES(Where("ts", Op::kNeq, "2024-05-01T08:00:00Z"), "t0", "t2", "int");
}

TEST_P(TimestampsTest, NonIsoStringNeverEqualsATimestamp) {
  EXPECT_MATCHES(Where("ts", Op::kEq, "not a date"));
  EXPECT_MATCHES(Where("ts", Op::kEq, "1714550400"));
  EXPECT_MATCHES(Where("ts", Op::kNeq, "not a date"), "t0", "t1", "t2", "int");
  EXPECT_MATCHES(Where("ts", Op::kGt, "not a date"));
}

TEST_P(TimestampsTest, TimestampsOrderByTimeAgainstTimestampsAndIsoStrings) {
  EXPECT_MATCHES(Where("ts", Op::kGt, "2024-04-02"), "t1", "t2");
  EXPECT_MATCHES(Where("ts", Op::kGt, "2024-04-01"), "t0", "t1", "t2");
  EXPECT_MATCHES(Where("ts", Op::kGt, "2024-05-01T08:00:00Z"), "t2");
  EXPECT_MATCHES(Where("ts", Op::kLt, "2024-05-01T08:00:00.000001Z"), "t0", "t1");
  EXPECT_MATCHES(Where("ts", Op::kGte, Timestamp{kMay1At8Utc}), "t1", "t2");
  EXPECT_MATCHES(
      Where("ts", Op::kBetween, List{"2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00.000001Z"}),
      "t1", "t2");
  EXPECT_MATCHES(Where("ts", Op::kNotBetween, List{"2024-05-01", "2024-05-02"}), "t0", "int");
  // A number is not comparable with a timestamp (the int record compares with numbers only).
  EXPECT_MATCHES(Where("ts", Op::kGt, 5), "int");
}

// ---- Structural equality ----

TEST_P(QueryOperatorsTest, ListsAreEqualElementWiseInOrder) {
  Load({
      MakeRecord("l12", {{"tags", List{"t1", "t2"}}}),
      MakeRecord("l21", {{"tags", List{"t2", "t1"}}}),
      MakeRecord("l1", {{"tags", List{"t1"}}}),
      MakeRecord("scalar", {{"tags", "t1"}}),
      MakeRecord("nums", {{"tags", List{1, 2}}}),
      MakeRecord("numsf", {{"tags", List{1.0, 2}}}),
      MakeRecord("empty", {{"tags", List{}}}),
      MakeRecord("nested", {{"tags", List{List{1}, Object{{"a", 1}}}}}),
  });
  EXPECT_MATCHES(Where("tags", Op::kEq, List{"t1", "t2"}), "l12");
  EXPECT_MATCHES(Where("tags", Op::kEq, List{1.0, 2.0}), "nums", "numsf");
  EXPECT_MATCHES(Where("tags", Op::kEq, List{}), "empty");
  EXPECT_MATCHES(Where("tags", Op::kEq, List{List{1.0}, Object{{"a", 1.0}}}), "nested");
  // A list does not equal one of its elements.
  EXPECT_MATCHES(Where("tags", Op::kEq, "t1"), "scalar");
  EXPECT_MATCHES(Where("tags", Op::kIn, List{"t1"}), "scalar");
  EXPECT_MATCHES(Where("tags", Op::kIn, List{List{"t1"}, "t2"}), "l1");
  EXPECT_MATCHES(Where("tags", Op::kNeq, List{"t1", "t2"}), "l21", "l1", "scalar", "nums", "numsf",
                 "empty", "nested");
}

TEST_P(QueryOperatorsTest, ObjectsAreEqualMemberWiseRegardlessOfOrder) {
  Load({
      MakeRecord("ab", {{"o", Object{{"a", 1}, {"b", 2}}}}),
      MakeRecord("ba", {{"o", Object{{"b", 2}, {"a", 1}}}}),
      MakeRecord("abf", {{"o", Object{{"a", 1.0}, {"b", 2}}}}),
      MakeRecord("a", {{"o", Object{{"a", 1}}}}),
      MakeRecord("abc", {{"o", Object{{"a", 1}, {"b", 2}, {"c", 3}}}}),
      MakeRecord("abs", {{"o", Object{{"a", "1"}, {"b", 2}}}}),
  });
  EXPECT_MATCHES(Where("o", Op::kEq, Object{{"a", 1}, {"b", 2}}), "ab", "ba", "abf");
  EXPECT_MATCHES(Where("o", Op::kEq, Object{{"b", 2.0}, {"a", 1}}), "ab", "ba", "abf");
  EXPECT_MATCHES(Where("o", Op::kEq, Object{}));
}

TEST_P(QueryOperatorsTest, VectorsAndBytesAreEqualStructurally) {
  Load({
      MakeRecord("v12", {{"v", Vector{1.0f, 2.0f}}}),
      MakeRecord("v21", {{"v", Vector{2.0f, 1.0f}}}),
      MakeRecord("v1", {{"v", Vector{1.0f}}}),
  });
  EXPECT_MATCHES(Where("v", Op::kEq, Vector{1.0f, 2.0f}), "v12");
  EXPECT_MATCHES(Where("v", Op::kNeq, Vector{1.0f, 2.0f}), "v21", "v1");
}

// ---- Missing, null and exists ----

TEST_P(QueryOperatorsTest, ExistsMeansPresentAndNotNullEvenForFalsyValues) {
  Load({
      MakeRecord("zero", {{"x", 0}}),
      MakeRecord("false", {{"x", false}}),
      MakeRecord("empty_string", {{"x", ""}}),
      MakeRecord("empty_list", {{"x", List{}}}),
      MakeRecord("empty_object", {{"x", Object{}}}),
      MakeRecord("nul", {{"x", nullptr}}),
      MakeRecord("none", {{"y", 0}}),
  });
  EXPECT_MATCHES(Where("x", Op::kExists), "zero", "false", "empty_string", "empty_list",
                 "empty_object");
  EXPECT_MATCHES(Where("x", Op::kNotExists), "nul", "none");
  EXPECT_MATCHES(Where("x", Op::kEq, nullptr), "nul", "none");
  EXPECT_MATCHES(Where("x", Op::kNeq, nullptr), "zero", "false", "empty_string", "empty_list",
                 "empty_object");
  EXPECT_MATCHES(Where("nowhere", Op::kNotExists), "zero", "false", "empty_string", "empty_list",
                 "empty_object", "nul", "none");
}

TEST_P(QueryOperatorsTest, NegatedOperatorsExcludeAbsentFields) {
  Load({
      MakeRecord("five", {{"x", 5}}),
      MakeRecord("six", {{"x", 6}}),
      MakeRecord("word", {{"x", "w"}}),
      MakeRecord("nul", {{"x", nullptr}}),
      MakeRecord("none", {{"y", 5}}),
  });
  EXPECT_MATCHES(Where("x", Op::kNeq, 5), "six", "word");
  EXPECT_MATCHES(Where("x", Op::kNotIn, List{5}), "six", "word");
  EXPECT_MATCHES(Where("x", Op::kNotBetween, List{0, 5}), "six", "word");
  EXPECT_MATCHES(Where("x", Op::kNotLike, "w"), "five", "six");
  EXPECT_MATCHES(Where("x", Op::kNotILike, "W"), "five", "six");
  // Positive operators never match absent fields either.
  EXPECT_MATCHES(Where("x", Op::kLt, 100), "five", "six");
  EXPECT_MATCHES(Where("x", Op::kLike, "%"), "word");
}

// ---- Dotted paths ----

class PathsTest : public QueryOperatorsTest {
 protected:
  void SetUp() override {
    QueryOperatorsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Load({
        MakeRecord("sf", {{"address", Object{{"city", "SF"},
                                             {"zip", 94107},
                                             {"geo", Object{{"lat", 37.7}}},
                                             {"zips", List{94107, 94108}}}},
                          {"tags", List{"t1", "t2"}}}),
        MakeRecord("ny",
                   {{"address", Object{{"city", "NY"}, {"zip", "10001"}}}, {"tags", List{"t2"}}}),
        MakeRecord("no_address", {{"name", "x"}, {"tags", List{}}}),
        MakeRecord("null_address", {{"address", nullptr}}),
        MakeRecord("scalar_address", {{"address", "SF"}, {"tags", "t1"}}),
        // A field whose name is exactly the path wins over walking the path.
        MakeRecord("dotted_name", {{"address.city", "LA"}, {"address", Object{{"city", "SF"}}}}),
        MakeRecord("list_address", {{"address", List{Object{{"city", "SF"}}}}}),
        MakeRecord("null_city", {{"address", Object{{"city", nullptr}}}}),
    });
  }
};

TEST_P(PathsTest, DottedPathsWalkObjects) {
  EXPECT_MATCHES(Where("address.city", Op::kEq, "SF"), "sf");
  EXPECT_MATCHES(Where("address.city", Op::kEq, "LA"), "dotted_name");
  EXPECT_MATCHES(Where("address.zip", Op::kEq, 94107), "sf");
  EXPECT_MATCHES(Where("address.zip", Op::kEq, "10001"), "ny");
  EXPECT_MATCHES(Where("address.geo.lat", Op::kGt, 37), "sf");
  EXPECT_MATCHES(Where("address.city", Op::kLike, "S%"), "sf");
  EXPECT_MATCHES(Where("address.city", Op::kIn, List{"NY", "LA"}), "ny", "dotted_name");
}

TEST_P(PathsTest, DottedPathsWalkListsByIndex) {
  EXPECT_MATCHES(Where("tags.0", Op::kEq, "t1"), "sf");
  EXPECT_MATCHES(Where("tags.0", Op::kEq, "t2"), "ny");
  EXPECT_MATCHES(Where("tags.1", Op::kEq, "t2"), "sf");
  EXPECT_MATCHES(Where("tags.1", Op::kExists), "sf");
  EXPECT_MATCHES(Where("address.zips.1", Op::kEq, 94108), "sf");
  EXPECT_MATCHES(Where("address.0.city", Op::kEq, "SF"), "list_address");
}

TEST_P(PathsTest, UnresolvedPathsAreAbsent) {
  EXPECT_MATCHES(Where("address.city", Op::kExists), "sf", "ny", "dotted_name");
  EXPECT_MATCHES(Where("address.city", Op::kNotExists), "no_address", "null_address",
                 "scalar_address", "list_address", "null_city");
  EXPECT_MATCHES(Where("address.city", Op::kNeq, "SF"), "ny", "dotted_name");
  EXPECT_MATCHES(Where("tags.5", Op::kExists));
  EXPECT_MATCHES(Where("tags.0.x", Op::kExists));
  EXPECT_MATCHES(Where("address.city.x", Op::kNotExists), "sf", "ny", "no_address", "null_address",
                 "scalar_address", "dotted_name", "list_address", "null_city");
}

// ---- LIKE ----

TEST_P(QueryOperatorsTest, LikeIsCaseSensitiveAndMatchesTheWholeString) {
  LoadStrings({{"abc", "abc"}, {"Abc", "Abc"}, {"a", "a"}, {"ba", "ba"}, {"xabc", "xabc"}});
  EXPECT_MATCHES(Where("s", Op::kLike, "a%"), "abc", "a");
  EXPECT_MATCHES(Where("s", Op::kLike, "abc"), "abc");
  EXPECT_MATCHES(Where("s", Op::kLike, "ABC"));
  EXPECT_MATCHES(Where("s", Op::kLike, "b"));
  EXPECT_MATCHES(Where("s", Op::kLike, "%b%"), "abc", "Abc", "ba", "xabc");
  EXPECT_MATCHES(Where("s", Op::kNotLike, "a%"), "Abc", "ba", "xabc", "num");
}

TEST_P(QueryOperatorsTest, LikePercentMatchesAnyRunIncludingEmptyAndNewlines) {
  LoadStrings({{"abc", "abc"}, {"ab", "ab"}, {"a_nl_b", "a\nb"}, {"empty", ""}});
  EXPECT_MATCHES(Where("s", Op::kLike, "ab%"), "abc", "ab");
  EXPECT_MATCHES(Where("s", Op::kLike, "a%b"), "ab", "a_nl_b");
  EXPECT_MATCHES(Where("s", Op::kLike, "%"), "abc", "ab", "a_nl_b", "empty");
  EXPECT_MATCHES(Where("s", Op::kLike, "%%"), "abc", "ab", "a_nl_b", "empty");
  EXPECT_MATCHES(Where("s", Op::kLike, ""), "empty");
  EXPECT_MATCHES(Where("s", Op::kLike, "a_b"), "a_nl_b");
}

TEST_P(QueryOperatorsTest, LikeUnderscoreMatchesExactlyOneCodePoint) {
  LoadStrings({{"hello", "hello"},
               {"hallo", "hallo"},
               {"hllo", "hllo"},
               {"heello", "heello"},
               {"cafe_acute", "café"},
               {"cafe", "cafe"},
               {"caf", "caf"},
               {"x_emoji_y", "x😀y"},
               {"x_2emoji_y", "x😀😀y"},
               {"xy", "xy"},
               {"e_acute", "é"}});
  EXPECT_MATCHES(Where("s", Op::kLike, "h_llo"), "hello", "hallo");
  EXPECT_MATCHES(Where("s", Op::kLike, "caf_"), "cafe_acute", "cafe");
  EXPECT_MATCHES(Where("s", Op::kLike, "caf__"));
  EXPECT_MATCHES(Where("s", Op::kLike, "x_y"), "x_emoji_y");
  EXPECT_MATCHES(Where("s", Op::kLike, "x__y"), "x_2emoji_y");
  EXPECT_MATCHES(Where("s", Op::kLike, "_"), "e_acute");
  EXPECT_MATCHES(Where("s", Op::kLike, "%é"), "cafe_acute", "e_acute");
}

TEST_P(QueryOperatorsTest, LikeBackslashEscapesTheNextCharacter) {
  LoadStrings({{"pct", "a%b"},
               {"axb", "axb"},
               {"und", "a_b"},
               {"hundred_pct", "100%"},
               {"hundred", "100"},
               {"backslash", "a\\b"}});
  EXPECT_MATCHES(Where("s", Op::kLike, "a\\%b"), "pct");
  EXPECT_MATCHES(Where("s", Op::kLike, "a\\_b"), "und");
  EXPECT_MATCHES(Where("s", Op::kLike, "100\\%"), "hundred_pct");
  EXPECT_MATCHES(Where("s", Op::kLike, "a\\\\b"), "backslash");
  EXPECT_MATCHES(Where("s", Op::kLike, "a_b"), "pct", "axb", "und", "backslash");
  EXPECT_MATCHES(Where("s", Op::kLike, "%\\%"), "hundred_pct");
  EXPECT_MATCHES(Where("s", Op::kNotLike, "a\\%b"), "axb", "und", "hundred_pct", "hundred",
                 "backslash", "num");
}

TEST_P(QueryOperatorsTest, LikeTreatsRegexCharactersLiterally) {
  LoadStrings({{"dot", "a.c"},
               {"abc", "abc"},
               {"star", "a*"},
               {"aaa", "aaa"},
               {"brackets", "[ab]"},
               {"a", "a"},
               {"parens", "(x)"},
               {"plus", "a+b"},
               {"anchors", "^a$"},
               {"question", "a?"},
               {"brace", "a{2}"},
               {"pipe", "a|b"}});
  EXPECT_MATCHES(Where("s", Op::kLike, "a.c"), "dot");
  EXPECT_MATCHES(Where("s", Op::kLike, "a*"), "star");
  EXPECT_MATCHES(Where("s", Op::kLike, "[ab]"), "brackets");
  EXPECT_MATCHES(Where("s", Op::kLike, "(x)"), "parens");
  EXPECT_MATCHES(Where("s", Op::kLike, "a+b"), "plus");
  EXPECT_MATCHES(Where("s", Op::kLike, "^a$"), "anchors");
  EXPECT_MATCHES(Where("s", Op::kLike, "a?"), "question");
  EXPECT_MATCHES(Where("s", Op::kLike, "a{2}"), "brace");
  EXPECT_MATCHES(Where("s", Op::kLike, "a|b"), "pipe");
}

TEST_P(QueryOperatorsTest, PatternOperatorsMatchStringsOnly) {
  Load({
      MakeRecord("str1", {{"s", "1"}}),
      MakeRecord("int1", {{"s", 1}}),
      MakeRecord("bool", {{"s", true}}),
      MakeRecord("list", {{"s", List{"1"}}}),
      MakeRecord("bytes", {{"s", Bytes{"1"}}}),
      MakeRecord("nul", {{"s", nullptr}}),
  });
  EXPECT_MATCHES(Where("s", Op::kLike, "1"), "str1");
  EXPECT_MATCHES(Where("s", Op::kLike, "%"), "str1");
  EXPECT_MATCHES(Where("s", Op::kILike, "%"), "str1");
  EXPECT_MATCHES(Where("s", Op::kRegex, "1"), "str1");
  EXPECT_MATCHES(Where("s", Op::kRegex, "t"));
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "1"), "str1");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, ""), "str1");
  // Present non-null non-strings match the negated forms.
  EXPECT_MATCHES(Where("s", Op::kNotLike, "%"), "int1", "bool", "list", "bytes");
  EXPECT_MATCHES(Where("s", Op::kNotILike, "%"), "int1", "bool", "list", "bytes");
}

// ---- ILIKE ----

TEST_P(QueryOperatorsTest, ILikeIgnoresAsciiCase) {
  LoadStrings({{"lower", "abcdef"}, {"upper", "ABCDEF"}, {"mixed", "AbC"}, {"xabc", "xabc"}});
  EXPECT_MATCHES(Where("s", Op::kILike, "abc%"), "lower", "upper", "mixed");
  EXPECT_MATCHES(Where("s", Op::kILike, "ABC"), "mixed");
  EXPECT_MATCHES(Where("s", Op::kILike, "%B%"), "lower", "upper", "mixed", "xabc");
  EXPECT_MATCHES(Where("s", Op::kILike, "a_C%"), "lower", "upper", "mixed");
  EXPECT_MATCHES(Where("s", Op::kNotILike, "abc%"), "xabc", "num");
  // LIKE stays case-sensitive beside it.
  EXPECT_MATCHES(Where("s", Op::kLike, "abc%"), "lower");
}

TEST_P(QueryOperatorsTest, ILikeFoldsAsciiLettersOnly) {
  // docs/query-semantics.md: "ignoring case for ASCII letters only ('ä' does not match 'Ä')".
  LoadStrings({{"A_umlaut", "Äpfel"},
               {"a_umlaut", "äpfel"},
               {"A_umlaut_upper", "ÄPFEL"},
               {"e_acute", "é"},
               {"E_acute", "É"}});
  EXPECT_MATCHES(Where("s", Op::kILike, "äpfel"), "a_umlaut");
  EXPECT_MATCHES(Where("s", Op::kILike, "Äpfel"), "A_umlaut", "A_umlaut_upper");
  EXPECT_MATCHES(Where("s", Op::kILike, "äPFEL"), "a_umlaut");
  EXPECT_MATCHES(Where("s", Op::kILike, "_pfel"), "A_umlaut", "a_umlaut", "A_umlaut_upper");
  EXPECT_MATCHES(Where("s", Op::kILike, "é"), "e_acute");
  EXPECT_MATCHES(Where("s", Op::kILike, "É"), "E_acute");
  EXPECT_MATCHES(Where("s", Op::kNotILike, "é"), "A_umlaut", "a_umlaut", "A_umlaut_upper",
                 "E_acute", "num");
}

TEST_P(QueryOperatorsTest, ILikeEscapes) {
  LoadStrings({{"pct", "A%B"}, {"axb", "axb"}, {"und", "A_B"}});
  EXPECT_MATCHES(Where("s", Op::kILike, "a\\%b"), "pct");
  EXPECT_MATCHES(Where("s", Op::kILike, "a\\_b"), "und");
  EXPECT_MATCHES(Where("s", Op::kILike, "a_b"), "pct", "axb", "und");
}

// ---- REGEX ----

TEST_P(QueryOperatorsTest, RegexIsAnUnanchoredSearch) {
  LoadStrings({{"abc", "abc"},
               {"xabcx", "xabcx"},
               {"ABC", "ABC"},
               {"b", "b"},
               {"a1", "a1"},
               {"digits", "123"},
               {"empty", ""}});
  EXPECT_MATCHES(Where("s", Op::kRegex, "b"), "abc", "xabcx", "b");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^b"), "b");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^abc$"), "abc");
  EXPECT_MATCHES(Where("s", Op::kRegex, "c$"), "abc");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^$"), "empty");
  EXPECT_MATCHES(Where("s", Op::kRegex, ""), "abc", "xabcx", "ABC", "b", "a1", "digits", "empty");
  EXPECT_MATCHES(Where("s", Op::kRegex, "ABC"), "ABC") << "regex is case-sensitive";
}

TEST_P(QueryOperatorsTest, RegexUsesEcmaScriptSyntax) {
  LoadStrings(
      {{"abc", "abc"}, {"a1", "a1"}, {"digits", "123"}, {"space", "a b"}, {"word", "hello_world"}});
  EXPECT_MATCHES(Where("s", Op::kRegex, "\\d+"), "a1", "digits");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^\\d+$"), "digits");
  EXPECT_MATCHES(Where("s", Op::kRegex, "\\s"), "space");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^\\w+$"), "abc", "a1", "digits", "word");
  EXPECT_MATCHES(Where("s", Op::kRegex, "x|^a"), "abc", "a1", "space");
  EXPECT_MATCHES(Where("s", Op::kRegex, "^[a-c]{3}$"), "abc");
  EXPECT_MATCHES(Where("s", Op::kRegex, "(?:a)1"), "a1");
  EXPECT_MATCHES(Where("s", Op::kRegex, "l(?=o)"), "word");
}

TEST_P(QueryOperatorsTest, InvalidRegexIsInvalidArgumentWhenTheQueryRuns) {
  LoadStrings({{"abc", "abc"}});
  for (const char* pattern : {"(", "[a-", "a{2,1}", "*a"}) {
    SCOPED_TRACE(std::string("pattern ") + pattern);
    EXPECT_DKDATA_ERROR(db_->Search(Query(Where("s", Op::kRegex, pattern))),
                        ErrorCode::kInvalidArgument);
    EXPECT_DKDATA_ERROR(db_->Count(Where("s", Op::kRegex, pattern)), ErrorCode::kInvalidArgument);
    // Never a silent non-match, which NOT would turn into a silent match.
    EXPECT_DKDATA_ERROR(db_->Search(Query(!Where("s", Op::kRegex, pattern))),
                        ErrorCode::kInvalidArgument);
  }
}

// ---- STARTS_WITH ----

TEST_P(QueryOperatorsTest, StartsWithIsACaseSensitivePrefixTestWithoutWildcards) {
  LoadStrings({{"abc", "abc"},
               {"Abc", "Abc"},
               {"ab", "ab"},
               {"a", "a"},
               {"empty", ""},
               {"pct", "%abc"},
               {"und", "_x"},
               {"e_acute", "éa"},
               {"backslash", "\\a"}});
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "a"), "abc", "ab", "a");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "A"), "Abc");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "abc"), "abc");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "abcd"));
  EXPECT_MATCHES(Where("s", Op::kStartsWith, ""), "abc", "Abc", "ab", "a", "empty", "pct", "und",
                 "e_acute", "backslash");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "%"), "pct");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "_"), "und");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "é"), "e_acute");
  EXPECT_MATCHES(Where("s", Op::kStartsWith, "\\"), "backslash");
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(QueryOperatorsTest);
DKDATA_INSTANTIATE_CONFORMANCE_SUITE(NumbersTest);
DKDATA_INSTANTIATE_CONFORMANCE_SUITE(TimestampsTest);
DKDATA_INSTANTIATE_CONFORMANCE_SUITE(PathsTest);

// ---- Operator names (core only: run once, not per backend) ----

TEST(OperatorNames, EveryOperatorHasItsDocumentedSpellingAndParsesBack) {
  const std::vector<std::pair<Op, std::string_view>> spellings = {
      {Op::kEq, "="},
      {Op::kNeq, "!="},
      {Op::kGt, ">"},
      {Op::kGte, ">="},
      {Op::kLt, "<"},
      {Op::kLte, "<="},
      {Op::kIn, "in"},
      {Op::kNotIn, "not_in"},
      {Op::kBetween, "between"},
      {Op::kNotBetween, "not_between"},
      {Op::kLike, "like"},
      {Op::kNotLike, "not_like"},
      {Op::kRegex, "regex"},
      {Op::kStartsWith, "starts_with"},
      {Op::kExists, "exists"},
      {Op::kNotExists, "not_exists"},
      {Op::kILike, "ilike"},
      {Op::kNotILike, "not_ilike"},
  };
  ASSERT_EQ(spellings.size(), 18u);
  for (const auto& [op, text] : spellings) {
    EXPECT_EQ(OpName(op), text);
    EXPECT_EQ(ParseOp(text), std::optional<Op>(op)) << text;
  }
}

TEST(OperatorNames, ReferenceEnumNamesAndAliasesParse) {
  EXPECT_EQ(ParseOp("EQ"), std::optional<Op>(Op::kEq));
  EXPECT_EQ(ParseOp("eq"), std::optional<Op>(Op::kEq));
  EXPECT_EQ(ParseOp("NOT_IN"), std::optional<Op>(Op::kNotIn));
  EXPECT_EQ(ParseOp("not_between"), std::optional<Op>(Op::kNotBetween));
  EXPECT_EQ(ParseOp("STARTS_WITH"), std::optional<Op>(Op::kStartsWith));
  EXPECT_EQ(ParseOp("NOT_EXISTS"), std::optional<Op>(Op::kNotExists));
  EXPECT_EQ(ParseOp("GTE"), std::optional<Op>(Op::kGte));
  EXPECT_EQ(ParseOp("=="), std::optional<Op>(Op::kEq));
  EXPECT_EQ(ParseOp("<>"), std::optional<Op>(Op::kNeq));
}

TEST(OperatorNames, UnknownOperatorIsNeverEq) {
  for (const char* text : {"foo", "", "equals", "=~", "===", " =", "likes", "not like"}) {
    EXPECT_EQ(ParseOp(text), std::nullopt) << "'" << text << "'";
  }
  EXPECT_DKDATA_ERROR(Query::Parse("a foo 1"), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dkdata::conformance
