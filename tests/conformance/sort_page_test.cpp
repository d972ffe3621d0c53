// ORDER BY, OFFSET, LIMIT and projection (docs/query-semantics.md, "Ordering" and "Paging and
// projection"): multi-key stable sort, absent values last in both directions, mixed kinds ordered
// by kind, paging after sorting, projection keeping id/version/metadata.
#include <gtest/gtest.h>

#include <limits>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/query.hpp"

namespace dkdata::conformance {
namespace {

class SortPageTest : public BackendTest {
 protected:
  // Checks the order of db_->Search(query): against the reference evaluator over the store's
  // records in the store's order (All()), and, when the backend's store order is insertion order,
  // against the order written by hand from the documentation.
  void ExpectOrder(const Query& query, const std::vector<std::string>& by_hand) {
    const std::vector<std::string> got = IdsOf(db_->Search(query));
    EXPECT_EQ(got, IdsOf(EvaluateQuery(query, db_->All())))
        << "the backend disagrees with dkdata::EvaluateQuery for\n"
        << Describe(query);
    if (quirks().insertion_ordered) {
      EXPECT_EQ(got, by_hand) << Describe(query);
    }
  }
};

TEST_P(SortPageTest, StoreOrderOfTheMemoryBackendIsInsertionOrder) {
  if (!quirks().insertion_ordered) {
    GTEST_SKIP() << "backend " << context().name << " does not keep insertion order";
  }
  Load({MakeRecord("c", {{"n", 1}}), MakeRecord("a", {{"n", 2}}), MakeRecord("b", {{"n", 3}})});
  EXPECT_EQ(IdsOf(db_->All()), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(IdsOf(db_->Search(Query(Where("n", Op::kGte, 2)))),
            (std::vector<std::string>{"a", "b"}));
}

TEST_P(SortPageTest, MultiKeySortAscAndDesc) {
  Load({
      MakeRecord("p1", {{"city", "SF"}, {"age", 30}, {"name", "c"}}),
      MakeRecord("p2", {{"city", "NY"}, {"age", 25}, {"name", "d"}}),
      MakeRecord("p3", {{"city", "SF"}, {"age", 40}, {"name", "e"}}),
      MakeRecord("p4", {{"city", "LA"}, {"age", 30}, {"name", "f"}}),
      MakeRecord("p5", {{"city", "NY"}, {"age", 35}, {"name", "g"}}),
      MakeRecord("p6", {{"city", "SF"}, {"age", 30}, {"name", "a"}}),
  });
  ExpectOrder(Query().Sort("city").Sort("age", SortOrder::kDesc),
              {"p4", "p5", "p2", "p3", "p1", "p6"});
  ExpectOrder(Query().Sort("city", SortOrder::kDesc).Sort("age").Sort("name"),
              {"p6", "p1", "p3", "p2", "p5", "p4"});
  ExpectOrder(Query().Sort("age").Sort("name", SortOrder::kDesc),
              {"p2", "p4", "p1", "p6", "p5", "p3"});
  ExpectOrder(Query(Where("age", Op::kGte, 30)).Sort("name"), {"p6", "p1", "p3", "p4", "p5"});
}

TEST_P(SortPageTest, TiesKeepTheStoreOrderInBothDirections) {
  Load({
      MakeRecord("t7", {{"k", 1}, {"j", 1}}),
      MakeRecord("t2", {{"k", 1}, {"j", 2}}),
      MakeRecord("t9", {{"k", 0}, {"j", 1}}),
      MakeRecord("t1", {{"k", 1.0}, {"j", 1}}),
      MakeRecord("t5", {{"k", 1}, {"j", 2}}),
  });
  ExpectOrder(Query().Sort("k"), {"t9", "t7", "t2", "t1", "t5"});
  // Descending reverses the keys, not the ties.
  ExpectOrder(Query().Sort("k", SortOrder::kDesc), {"t7", "t2", "t1", "t5", "t9"});
  ExpectOrder(Query().Sort("k", SortOrder::kDesc).Sort("j", SortOrder::kDesc),
              {"t2", "t5", "t7", "t1", "t9"});
  ExpectOrder(Query().Sort("k").Limit(3), {"t9", "t7", "t2"});
}

TEST_P(SortPageTest, AbsentValuesSortLastInBothDirections) {
  Load({
      MakeRecord("r1", {{"v", 3}, {"w", 1}}),
      MakeRecord("r2", {{"w", 3}}),
      MakeRecord("r3", {{"v", 1}, {"w", 1}}),
      MakeRecord("r4", {{"v", nullptr}, {"w", 2}}),
      MakeRecord("r5", {{"v", 2}, {"w", 1}}),
      MakeRecord("r6", {{"w", 1}}),
  });
  ExpectOrder(Query().Sort("v"), {"r3", "r5", "r1", "r2", "r4", "r6"});
  ExpectOrder(Query().Sort("v", SortOrder::kDesc), {"r1", "r5", "r3", "r2", "r4", "r6"});
  // Among the absent, the next key decides.
  ExpectOrder(Query().Sort("v").Sort("w"), {"r3", "r5", "r1", "r6", "r4", "r2"});
  ExpectOrder(Query().Sort("v", SortOrder::kDesc).Sort("w", SortOrder::kDesc),
              {"r1", "r5", "r3", "r2", "r4", "r6"});
  ExpectOrder(Query().Sort("nowhere", SortOrder::kDesc).Sort("w"),
              {"r1", "r3", "r5", "r6", "r4", "r2"});
}

TEST_P(SortPageTest, MixedKindsOrderByKindThenValue) {
  // bool < number < string < timestamp < bytes < list/object/vector (equal to each other).
  Load({
      MakeRecord("m_list", {{"k", List{1}}}),
      MakeRecord("m_str_b", {{"k", "b"}}),
      MakeRecord("m_true", {{"k", true}}),
      MakeRecord("m_int3", {{"k", 3}}),
      MakeRecord("m_bytes", {{"k", Bytes{"\x01"}}}),
      MakeRecord("m_ts", {{"k", Timestamp{0}}}),
      MakeRecord("m_obj", {{"k", Object{{"a", 1}}}}),
      MakeRecord("m_false", {{"k", false}}),
      MakeRecord("m_float", {{"k", 2.5}}),
      MakeRecord("m_str_A", {{"k", "A"}}),
      MakeRecord("m_vec", {{"k", Vector{1.0f}}}),
      MakeRecord("m_neg", {{"k", -1}}),
      MakeRecord("m_null", {{"k", nullptr}}),
      MakeRecord("m_missing", {{"other", 1}}),
  });
  ExpectOrder(Query().Sort("k"),
              {"m_false", "m_true", "m_neg", "m_float", "m_int3", "m_str_A", "m_str_b", "m_ts",
               "m_bytes", "m_list", "m_obj", "m_vec", "m_null", "m_missing"});
  ExpectOrder(Query().Sort("k", SortOrder::kDesc),
              {"m_list", "m_obj", "m_vec", "m_bytes", "m_ts", "m_str_b", "m_str_A", "m_int3",
               "m_float", "m_neg", "m_true", "m_false", "m_null", "m_missing"});
}

TEST_P(SortPageTest, NumbersSortNumericallyAndExactly) {
  Load({
      MakeRecord("int1", {{"n", 1}}),
      MakeRecord("big_ip1", {{"n", kTwoTo53 + 1}}),
      MakeRecord("float1", {{"n", 1.0}}),
      MakeRecord("big_f", {{"n", static_cast<double>(kTwoTo53)}}),
      MakeRecord("half", {{"n", 0.5}}),
      MakeRecord("min", {{"n", std::numeric_limits<std::int64_t>::min()}}),
      MakeRecord("ten", {{"n", 10}}),
  });
  ExpectOrder(Query().Sort("n"), {"min", "half", "int1", "float1", "ten", "big_f", "big_ip1"});
  ExpectOrder(Query().Sort("n", SortOrder::kDesc),
              {"big_ip1", "big_f", "ten", "int1", "float1", "half", "min"});
}

TEST_P(SortPageTest, StringsSortByCodePoint) {
  Load({
      MakeRecord("e_acute", {{"s", "é"}}),
      MakeRecord("Z", {{"s", "Z"}}),
      MakeRecord("a", {{"s", "a"}}),
      MakeRecord("emoji", {{"s", "😀"}}),
      MakeRecord("empty", {{"s", ""}}),
      MakeRecord("ab", {{"s", "ab"}}),
      MakeRecord("E_acute", {{"s", "É"}}),
  });
  ExpectOrder(Query().Sort("s"), {"empty", "Z", "a", "ab", "E_acute", "e_acute", "emoji"});
}

TEST_P(SortPageTest, SortByDottedPath) {
  Load({
      MakeRecord("sf", {{"address", Object{{"city", "SF"}}}}),
      MakeRecord("none", {{"name", "x"}}),
      MakeRecord("la", {{"address", Object{{"city", "LA"}}}}),
      MakeRecord("first_tag_b", {{"tags", List{"b", "a"}}}),
      MakeRecord("first_tag_a", {{"tags", List{"a", "z"}}}),
  });
  ExpectOrder(Query().Sort("address.city"), {"la", "sf", "none", "first_tag_b", "first_tag_a"});
  ExpectOrder(Query().Sort("tags.0", SortOrder::kDesc),
              {"first_tag_b", "first_tag_a", "sf", "none", "la"});
}

class PagingTest : public SortPageTest {
 protected:
  void SetUp() override {
    SortPageTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // n9 first: the store's order is the reverse of the sort order.
    std::vector<Record> records;
    for (int n = 9; n >= 0; --n) records.push_back(MakeRecord("n" + std::to_string(n), {{"n", n}}));
    Load(records);
  }
};

TEST_P(PagingTest, OffsetAndLimitApplyAfterSorting) {
  ExpectOrder(Query().Sort("n").Offset(2).Limit(3), {"n2", "n3", "n4"});
  ExpectOrder(Query().Sort("n").Limit(3), {"n0", "n1", "n2"});
  ExpectOrder(Query().Sort("n").Offset(8).Limit(5), {"n8", "n9"});
  ExpectOrder(Query().Sort("n").Offset(7), {"n7", "n8", "n9"});
  ExpectOrder(Query().Sort("n").Limit(100),
              {"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"});
  ExpectOrder(Query(Where("n", Op::kGte, 4)).Sort("n", SortOrder::kDesc).Offset(1).Limit(2),
              {"n8", "n7"});
}

TEST_P(PagingTest, LimitZeroAndOffsetPastTheEndReturnNothing) {
  EXPECT_TRUE(db_->Search(Query().Limit(0)).empty());
  EXPECT_TRUE(db_->Search(Query().Sort("n").Limit(0)).empty());
  EXPECT_TRUE(db_->Search(Query().Offset(10)).empty());
  EXPECT_TRUE(db_->Search(Query().Sort("n").Offset(11).Limit(3)).empty());
  EXPECT_TRUE(db_->Search(Query().Offset(1000000)).empty());
  EXPECT_EQ(db_->Search(Query().Offset(9)).size(), 1u);
}

TEST_P(PagingTest, PagingWithoutSortFollowsTheStoreOrder) {
  ExpectOrder(Query().Offset(2).Limit(3), {"n7", "n6", "n5"});
  const std::vector<std::string> all = IdsOf(db_->All());
  ASSERT_EQ(all.size(), 10u);
  // Pages of 3 put back together give the whole store, in order, once.
  std::vector<std::string> paged;
  for (std::size_t offset = 0; offset < 12; offset += 3) {
    for (const std::string& id : IdsOf(db_->Search(Query().Offset(offset).Limit(3)))) {
      paged.push_back(id);
    }
  }
  EXPECT_EQ(paged, all);
}

TEST_P(PagingTest, CountIsNotPaged) {
  // count(e) equals the number of records search(e) returns without offset and limit.
  EXPECT_EQ(db_->Count(Where("n", Op::kGte, 3)), 7u);
  EXPECT_EQ(db_->Search(Query(Where("n", Op::kGte, 3)).Limit(2)).size(), 2u);
}

class ProjectionTest : public SortPageTest {
 protected:
  void SetUp() override {
    SortPageTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Record ada = MakeRecord("ada", {{"name", "Ada"},
                                    {"age", 36},
                                    {"address", Object{{"city", "London"}, {"zip", "W1"}}},
                                    {"tags", List{"math"}}});
    ada.metadata().Set("source", "test");
    Load({ada, MakeRecord("bob", {{"name", "Bob"}, {"age", 25}}),
          MakeRecord("cy", {{"age", 50}, {"address", Object{{"city", "Paris"}}}})});
    ASSERT_TRUE(db_->Update("bob", Record{{"name", "Bob"}, {"age", 26}}));
  }
  static std::vector<std::string> FieldNames(const Record& record) {
    std::vector<std::string> names;
    for (const Field& f : record.fields()) names.push_back(f.name);
    return Sorted(names);
  }
};

TEST_P(ProjectionTest, KeepsOnlyTheNamedFieldsAndAlwaysIdVersionMetadata) {
  const auto found = db_->Search(Query().Select({"name"}).Sort("age"));
  ASSERT_EQ(IdsOf(found), (std::vector<std::string>{"bob", "ada", "cy"}));
  EXPECT_EQ(FieldNames(found[0]), (std::vector<std::string>{"name"}));
  EXPECT_EQ(FieldNames(found[1]), (std::vector<std::string>{"name"}));
  EXPECT_TRUE(FieldNames(found[2]).empty()) << "a named field the record lacks is simply absent";
  EXPECT_EQ(*found[0].Get("name"), Value("Bob"));
  EXPECT_EQ(found[0].version(), 2u);
  EXPECT_EQ(found[1].version(), 1u);
  EXPECT_EQ(found[2].version(), 1u);
  EXPECT_EQ(found[1].metadata(), (Object{{"source", "test"}}));
}

TEST_P(ProjectionTest, SeveralFieldsAndUnknownNames) {
  const auto found =
      db_->Search(Query(Where("name", Op::kEq, "Ada")).Select({"age", "nosuch", "tags"}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(FieldNames(found[0]), (std::vector<std::string>{"age", "tags"}));
  EXPECT_EQ(*found[0].Get("tags"), Value(List{"math"}));
}

TEST_P(ProjectionTest, DottedPathKeepsTheWholeTopLevelField) {
  const auto found = db_->Search(Query().Select({"address.city"}).Sort("age"));
  ASSERT_EQ(IdsOf(found), (std::vector<std::string>{"bob", "ada", "cy"}));
  EXPECT_TRUE(FieldNames(found[0]).empty());
  EXPECT_EQ(FieldNames(found[1]), (std::vector<std::string>{"address"}));
  EXPECT_EQ(*found[1].Get("address"), Value(Object{{"city", "London"}, {"zip", "W1"}}));
  EXPECT_EQ(FieldNames(found[2]), (std::vector<std::string>{"address"}));
}

TEST_P(ProjectionTest, DottedPathAmongOtherFields) {
  const auto found = db_->Search(Query().Select({"name", "address.city"}).Sort("age"));
  ASSERT_EQ(IdsOf(found), (std::vector<std::string>{"bob", "ada", "cy"}));
  EXPECT_EQ(FieldNames(found[0]), (std::vector<std::string>{"name"}));
  EXPECT_EQ(FieldNames(found[1]), (std::vector<std::string>{"address", "name"}));
  EXPECT_EQ(FieldNames(found[2]), (std::vector<std::string>{"address"}));
}

TEST_P(ProjectionTest, DottedPathResolvesPerRecordWhenAnotherRecordHasAFieldOfThatName) {
  // One record has a field literally named "address.city"; the others must still keep their
  // top-level "address" for `select address.city`.
  db_->Create(MakeRecord("dotted", {{"address.city", "Rome"}, {"age", 99}}));
  const auto found = db_->Search(Query().Select({"address.city"}).Sort("age"));
  ASSERT_EQ(IdsOf(found), (std::vector<std::string>{"bob", "ada", "cy", "dotted"}));
  EXPECT_TRUE(FieldNames(found[0]).empty());
  EXPECT_EQ(FieldNames(found[1]), (std::vector<std::string>{"address"}));
  EXPECT_EQ(FieldNames(found[2]), (std::vector<std::string>{"address"}));
  EXPECT_EQ(FieldNames(found[3]), (std::vector<std::string>{"address.city"}));
}

TEST_P(ProjectionTest, FilterAndSortMayUseFieldsOutsideTheProjection) {
  const auto found =
      db_->Search(Query(Where("age", Op::kGt, 30)).Sort("age", SortOrder::kDesc).Select({"name"}));
  ASSERT_EQ(IdsOf(found), (std::vector<std::string>{"cy", "ada"}));
  EXPECT_FALSE(found[1].Has("age"));
  EXPECT_EQ(*found[1].Get("name"), Value("Ada"));
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(SortPageTest);
DKDATA_INSTANTIATE_CONFORMANCE_SUITE(PagingTest);
DKDATA_INSTANTIATE_CONFORMANCE_SUITE(ProjectionTest);

}  // namespace
}  // namespace dkdata::conformance
