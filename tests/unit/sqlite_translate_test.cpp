// The SQLite query translation (src/backends/sqlite/sqlite_translate.cpp): which filters SQL
// answers on its own, that expression indexes serve them, and that values are never spliced into
// the SQL. Correctness of the answers is the conformance suite's and the differential test's job.
#if DKDATA_HAVE_SQLITE
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "backends/sqlite/sqlite_database.hpp"
#include "dkdata/dkdata.hpp"

namespace dkdata::internal {
namespace {

bool IsExact(const Expr& expr, StoreFacts facts = {}) {
  QueryTranslator translator(facts);
  return translator.Where(expr).exact;
}

TEST(SqliteTranslate, ScalarOperandsAreAnsweredBySqlAlone) {
  for (const Expr& e : {
           Where("age", Op::kGte, 30),
           Where("age", Op::kEq, 30.5),
           Where("name", Op::kEq, "Ada"),
           Where("name", Op::kNeq, "Ada"),
           Where("active", Op::kEq, true),
           Where("age", Op::kEq, nullptr),
           Where("city", Op::kIn, List{"SF", "LA", 3, nullptr}),
           Where("city", Op::kNotIn, List{"SF"}),
           Where("age", Op::kBetween, List{20, 30}),
           Where("age", Op::kNotBetween, List{20, 30}),
           Where("name", Op::kLike, "A%"),
           Where("name", Op::kILike, "a_a"),
           Where("name", Op::kNotLike, "A%"),
           Where("name", Op::kRegex, "^A"),
           Where("name", Op::kStartsWith, "Ad"),
           Where("created", Op::kGt, "2024-01-01"),
           Where("created", Op::kEq, Timestamp{1714550400000000}),
           Where("blob", Op::kLt, Bytes{"\x80"}),
           Where("address.city", Op::kEq, "SF"),
           Where("tags.0", Op::kEq, "t1"),
           Where("id", Op::kIn, List{"a", "b"}),
           Where("age", Op::kExists),
           !(Where("age", Op::kGt, 3) || Where("name", Op::kNotExists)),
       }) {
    EXPECT_TRUE(IsExact(e)) << e.ToString();
  }
}

TEST(SqliteTranslate, StructuralOperandsGoToTheEvaluator) {
  EXPECT_FALSE(IsExact(Where("tags", Op::kEq, List{"a", "b"})));
  EXPECT_FALSE(IsExact(Where("address", Op::kIn, List{Object{{"city", "SF"}}})));
  EXPECT_FALSE(IsExact(Where("embedding", Op::kEq, Vector{1.0f, 2.0f})));
  // A key SQLite's JSON paths cannot name.
  EXPECT_FALSE(IsExact(Where("say \"hi\"", Op::kEq, 1)));
  EXPECT_FALSE(IsExact(Where("back\\slash", Op::kExists)));
}

TEST(SqliteTranslate, StoreFactsMakeSomeRowsTheEvaluators) {
  // Strings with U+0000 are cut short by json_extract: string filters leave those rows to the
  // evaluator, others stay exact.
  const StoreFacts nul{false, true};
  EXPECT_FALSE(IsExact(Where("name", Op::kEq, "Ada"), nul));
  EXPECT_TRUE(IsExact(Where("age", Op::kGte, 30), nul));
  // Rows of another program (Python escapes non-ASCII keys): only non-ASCII paths are affected.
  const StoreFacts foreign{true, false};
  EXPECT_FALSE(IsExact(Where("café", Op::kEq, "yes"), foreign));
  EXPECT_TRUE(IsExact(Where("cafe", Op::kEq, "yes"), foreign));
  EXPECT_TRUE(IsExact(Where("café", Op::kEq, "yes")));
}

TEST(SqliteTranslate, ValuesAreBoundNeverSpliced) {
  QueryTranslator translator({});
  const std::string evil = "x'); DROP TABLE records; --";
  const SqlCondition c =
      translator.Where(Where("name", Op::kEq, evil) || Where("name", Op::kLike, evil) ||
                       Where("name", Op::kRegex, evil));
  EXPECT_EQ(c.maybe.find("DROP"), std::string::npos) << c.maybe;
  EXPECT_FALSE(translator.params().empty());
}

TEST(SqliteTranslate, SortIsExactExceptWhereStringsMayHoldNul) {
  QueryTranslator plain({});
  EXPECT_TRUE(plain.OrderBy({{"age", SortOrder::kDesc}, {"id", SortOrder::kAsc}}).has_value());
  QueryTranslator nul({false, true});
  EXPECT_FALSE(nul.OrderBy({{"name", SortOrder::kAsc}}).has_value());
}

// The query plan SQLite picks for a filter, on a store with indexes.
class SqliteIndexPlan : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("dkdata-sqlite-plan-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    path_ = (folder_ / "plan.db").string();
    db_ = OpenDatabase("sqlite://" + path_);
    for (int i = 0; i < 200; ++i) {
      db_->Create(Record{{"id", "r" + std::to_string(i)},
                         {"age", i % 80},
                         {"name", "user" + std::to_string(i)},
                         {"address", Object{{"city", i % 2 ? "SF" : "LA"}}}});
    }
    db_->CreateIndex({"age", IndexKind::kOrdered});
    db_->CreateIndex({"name", IndexKind::kOrdered});
    db_->CreateIndex({"address.city", IndexKind::kHash});
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw_), SQLITE_OK);
    RegisterSqlFunctions(raw_);
  }
  void TearDown() override {
    sqlite3_close(raw_);
    db_->Close();
    std::filesystem::remove_all(folder_);
  }

  std::string Plan(const Expr& expr) {
    QueryTranslator translator(StoreFacts{});
    const SqlCondition c = translator.Where(expr);
    Statement stmt(raw_, "EXPLAIN QUERY PLAN SELECT id FROM records WHERE " + c.maybe);
    translator.Bind(stmt);
    std::string plan;
    while (stmt.Step()) {
      plan += std::string(stmt.ColumnText(3));
      plan += '\n';
    }
    return plan;
  }

  std::filesystem::path folder_;
  std::string path_;
  std::unique_ptr<Database> db_;
  sqlite3* raw_ = nullptr;
};

TEST_F(SqliteIndexPlan, ExpressionIndexesServeTheTranslatedFilters) {
  for (const Expr& e : {Where("age", Op::kEq, 30), Where("age", Op::kGte, 30),
                        Where("age", Op::kBetween, List{10, 20}),
                        Where("age", Op::kIn, List{1, 2, 3}), Where("name", Op::kEq, "user7"),
                        Where("name", Op::kStartsWith, "user1"), Where("name", Op::kLike, "user1%"),
                        Where("name", Op::kLt, "user2"), Where("address.city", Op::kEq, "SF"),
                        Where("age", Op::kGt, 70) && Where("name", Op::kRegex, "3$")}) {
    const std::string plan = Plan(e);
    EXPECT_NE(plan.find("USING INDEX"), std::string::npos) << e.ToString() << "\n" << plan;
  }
  const std::string by_id = Plan(Where("id", Op::kEq, "r7"));
  EXPECT_NE(by_id.find("sqlite_autoindex_records_1"), std::string::npos) << by_id;
}

}  // namespace
}  // namespace dkdata::internal
#endif  // DKDATA_HAVE_SQLITE
