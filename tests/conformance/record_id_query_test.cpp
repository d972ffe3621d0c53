// The path "id" in filters and sort keys means the record's id (docs/query-semantics.md), as in
// the reference, whatever data fields the record has.
#include <gtest/gtest.h>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"

namespace dkdata::conformance {
namespace {

class RecordIdQueryTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    db_->Create(MakeRecord("b", {{"n", 1}}));
    db_->Create(MakeRecord("a", {{"n", 2}, {"id", "not-the-key"}}));  // a data field "id" differs
    db_->Create(MakeRecord("c", {{"n", 3}}));
  }
};

TEST_P(RecordIdQueryTest, EqualityAndInUseTheStorageKey) {
  EXPECT_EQ(IdsOf(db_->Search(Query(Where("id", Op::kEq, "a")))), (std::vector<std::string>{"a"}));
  EXPECT_EQ(SortedIdsOf(db_->Search(Query(Where("id", Op::kIn, List{"c", "b", "zz"})))),
            (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(db_->Search(Query(Where("id", Op::kEq, "not-the-key"))).empty());
  EXPECT_EQ(db_->Count(Where("id", Op::kNeq, "a")), 2u);
}

TEST_P(RecordIdQueryTest, RangesPatternsAndSortUseTheStorageKey) {
  EXPECT_EQ(IdsOf(db_->Search(Query(Where("id", Op::kGte, "b")).Sort("id"))),
            (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(IdsOf(db_->Search(Query().Sort("id", SortOrder::kDesc))),
            (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(IdsOf(db_->Search(Query(Where("id", Op::kLike, "_")).Sort("id").Limit(2))),
            (std::vector<std::string>{"a", "b"}));
}

TEST_P(RecordIdQueryTest, AnIdFilterCombinesWithOtherFilters) {
  EXPECT_EQ(
      IdsOf(db_->Search(Query(Where("id", Op::kIn, List{"a", "b"}) && Where("n", Op::kGt, 1)))),
      (std::vector<std::string>{"a"}));
  EXPECT_EQ(SortedIdsOf(db_->Search(Query(Where("id", Op::kEq, "a") || Where("n", Op::kEq, 3)))),
            (std::vector<std::string>{"a", "c"}));
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(RecordIdQueryTest);

}  // namespace
}  // namespace dkdata::conformance
