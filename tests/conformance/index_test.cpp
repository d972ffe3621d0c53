// Secondary indexes (capabilities().secondary_indexes): an index changes speed, never answers.
// Results with and without an index are identical for every operator an index can serve, and the
// index follows every kind of write.
#include <gtest/gtest.h>

#include <algorithm>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

constexpr std::int64_t kMay1At8Utc = 1714550400000000;  // 2024-05-01T08:00:00Z

class IndexTest : public BackendTest {
 protected:
  std::vector<std::string> Ids(const Expr& expr) {
    const std::vector<std::string> ids = SortedIdsOf(db_->Search(Query(expr)));
    EXPECT_EQ(db_->Count(expr), ids.size()) << Describe(expr);
    return ids;
  }

  // Values of every kind an index might key differently from the query semantics: 1 and 1.0,
  // "1", true, 2^53 vs 2^53 + 1, timestamps (equal to ISO strings), lists, bytes, unicode.
  static Value KValue(int i) {
    switch (i % 22) {
      case 0:
        return 1;
      case 1:
        return 1.0;
      case 2:
        return 2;
      case 3:
        return 2.5;
      case 4:
        return "1";
      case 5:
        return "a";
      case 6:
        return "ab";
      case 7:
        return "abc";
      case 8:
        return "b";
      case 9:
        return "é";
      case 10:
        return "éa";
      case 11:
        return "";
      case 12:
        return true;
      case 13:
        return false;
      case 14:
        return nullptr;
      case 16:
        return Timestamp{kMay1At8Utc};
      case 17:
        return kTwoTo53;
      case 18:
        return kTwoTo53 + 1;
      case 19:
        return static_cast<double>(kTwoTo53);
      case 20:
        return List{1, 2};
      case 21:
        return Bytes{"\x80"};
      default:
        return Value();  // 15: the field is left out
    }
  }

  void LoadMixed() {
    static const char* const kCities[] = {"SF", "NY", "LA", nullptr};
    std::vector<Record> records;
    for (int i = 0; i < 132; ++i) {
      Record record;
      record.set_id("x" + std::to_string(1000 + (i * 37) % 132));  // ids not in load order
      if (i % 22 != 15) record.Set("k", KValue(i));
      switch (i % 5) {
        case 0:
          record.Set("h", 0);
          break;
        case 1:
          record.Set("h", "0");
          break;
        case 2:
          record.Set("h", 0.0);
          break;
        case 3:
          record.Set("h", "x");
          break;
        default:
          break;
      }
      const char* city = kCities[i % 4];
      record.Set("n", Object{{"city", city == nullptr ? Value() : Value(city)}});
      records.push_back(std::move(record));
    }
    Load(records);
  }

  static std::vector<Query> IndexableQueries() {
    std::vector<Query> queries;
    for (const Expr& e : {
             Where("k", Op::kEq, 1),
             Where("k", Op::kEq, 1.0),
             Where("k", Op::kEq, "1"),
             Where("k", Op::kEq, true),
             Where("k", Op::kEq, nullptr),
             Where("k", Op::kEq, static_cast<double>(kTwoTo53)),
             Where("k", Op::kEq, kTwoTo53 + 1),
             Where("k", Op::kEq, "2024-05-01T10:00:00+02:00"),
             Where("k", Op::kEq, List{1.0, 2}),
             Where("k", Op::kEq, Bytes{"\x80"}),
             Where("k", Op::kNeq, 1),
             Where("k", Op::kIn, List{1, "a", false}),
             Where("k", Op::kIn, List{2.0, "é", "2024-05-01T08:00:00Z"}),
             Where("k", Op::kNotIn, List{1, "b"}),
             Where("k", Op::kGt, 1),
             Where("k", Op::kGte, 1),
             Where("k", Op::kLt, 2.5),
             Where("k", Op::kLte, "ab"),
             Where("k", Op::kGt, "a"),
             Where("k", Op::kGte, ""),
             Where("k", Op::kLt, "é"),
             Where("k", Op::kGt, false),
             Where("k", Op::kGt, "2024-01-01"),
             Where("k", Op::kGt, Bytes{"\x7f"}),
             Where("k", Op::kBetween, List{1, kTwoTo53}),
             Where("k", Op::kBetween, List{"a", "b"}),
             Where("k", Op::kNotBetween, List{1, 2}),
             Where("k", Op::kStartsWith, "a"),
             Where("k", Op::kStartsWith, "ab"),
             Where("k", Op::kStartsWith, "é"),
             Where("k", Op::kStartsWith, ""),
             Where("k", Op::kStartsWith, "zz"),
             Where("k", Op::kExists),
             Where("k", Op::kNotExists),
             Where("h", Op::kEq, 0),
             Where("h", Op::kEq, "0"),
             Where("h", Op::kIn, List{0, "x"}),
             Where("h", Op::kNeq, 0),
             Where("n.city", Op::kEq, "SF"),
             Where("n.city", Op::kIn, List{"SF", "LA"}),
             Where("n.city", Op::kGt, "M"),
             Where("n.city", Op::kStartsWith, "S"),
             Where("n.city", Op::kNotExists),
             Where("k", Op::kGt, 1) && Where("h", Op::kEq, 0),
             Where("k", Op::kEq, "a") || Where("h", Op::kEq, "x"),
             !Where("k", Op::kGte, 2),
         }) {
      queries.emplace_back(e);
    }
    queries.push_back(Query().Sort("k"));
    queries.push_back(Query().Sort("k", SortOrder::kDesc).Limit(10));
    queries.push_back(Query().Sort("k").Offset(5).Limit(20));
    queries.push_back(Query(Where("k", Op::kGte, 1)).Sort("k"));
    queries.push_back(Query(Where("k", Op::kStartsWith, "a")).Sort("k", SortOrder::kDesc));
    queries.push_back(Query().Sort("n.city").Sort("k", SortOrder::kDesc));
    queries.push_back(Query().Sort("h").Limit(30));
    return queries;
  }
};

TEST_P(IndexTest, WithoutTheCapabilityCreateIndexIsUnsupported) {
  if (db_->capabilities().secondary_indexes) {
    GTEST_SKIP() << "backend " << context().name << " has secondary_indexes";
  }
  EXPECT_DKDATA_ERROR(db_->CreateIndex(IndexInfo{"k", IndexKind::kHash}), ErrorCode::kUnsupported);
}

TEST_P(IndexTest, ResultsAreIdenticalWithAndWithoutIndexes) {
  DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
  LoadMixed();
  const std::vector<Query> queries = IndexableQueries();
  std::vector<std::vector<Record>> before;
  for (const Query& q : queries) before.push_back(db_->Search(q));

  db_->CreateIndex(IndexInfo{"k", IndexKind::kOrdered});
  db_->CreateIndex(IndexInfo{"h", IndexKind::kHash});
  db_->CreateIndex(IndexInfo{"n.city", IndexKind::kOrdered});

  const std::vector<Record> all = db_->All();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(Describe(queries[i]));
    const std::vector<Record> after = db_->Search(queries[i]);
    EXPECT_EQ(IdsOf(after), IdsOf(before[i])) << "the index changed the answer";
    EXPECT_EQ(IdsOf(after), IdsOf(EvaluateQuery(queries[i], all)))
        << "the indexed answer differs from dkdata::EvaluateQuery";
    EXPECT_EQ(db_->Count(queries[i].where()), EvaluateQuery(Query(queries[i].where()), all).size());
  }
}

TEST_P(IndexTest, HashIndexServesEqualityAndInAcrossKinds) {
  DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
  db_->CreateIndex(IndexInfo{"k", IndexKind::kHash});
  Load({
      MakeRecord("int1", {{"k", 1}}),
      MakeRecord("float1", {{"k", 1.0}}),
      MakeRecord("str1", {{"k", "1"}}),
      MakeRecord("true", {{"k", true}}),
      MakeRecord("big_i", {{"k", kTwoTo53}}),
      MakeRecord("big_ip1", {{"k", kTwoTo53 + 1}}),
      MakeRecord("big_f", {{"k", static_cast<double>(kTwoTo53)}}),
      MakeRecord("ts", {{"k", Timestamp{kMay1At8Utc}}}),
      MakeRecord("obj_ab", {{"k", Object{{"a", 1}, {"b", 2}}}}),
      MakeRecord("nul", {{"k", nullptr}}),
      MakeRecord("none", {{"j", 1}}),
  });
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), Sorted({"int1", "float1"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1.0)), Sorted({"int1", "float1"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, "1")), Sorted({"str1"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, true)), Sorted({"true"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, kTwoTo53 + 1)), Sorted({"big_ip1"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, static_cast<double>(kTwoTo53))), Sorted({"big_i", "big_f"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, "2024-05-01T10:00:00+02:00")), Sorted({"ts"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, Object{{"b", 2}, {"a", 1.0}})), Sorted({"obj_ab"}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, nullptr)), Sorted({"nul", "none"}));
  EXPECT_EQ(Ids(Where("k", Op::kIn, List{1.0, "2024-05-01T08:00:00Z"})),
            Sorted({"int1", "float1", "ts"}));
  EXPECT_EQ(Ids(Where("k", Op::kNotIn, List{1})),
            Sorted({"str1", "true", "big_i", "big_ip1", "big_f", "ts", "obj_ab"}));
}

TEST_P(IndexTest, IndexFollowsEveryKindOfWrite) {
  DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
  db_->CreateIndex(IndexInfo{"k", IndexKind::kOrdered});
  db_->CreateIndex(IndexInfo{"h", IndexKind::kHash});
  using V = std::vector<std::string>;

  db_->Create(MakeRecord("r1", {{"k", 1}, {"h", "a"}}));
  db_->Create(MakeRecord("r2", {{"k", 2}, {"h", "b"}}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), V{"r1"});
  EXPECT_EQ(Ids(Where("h", Op::kEq, "a")), V{"r1"});

  ASSERT_TRUE(db_->Update("r1", Record{{"k", 2}, {"h", "b"}}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 2)), (V{"r1", "r2"}));
  EXPECT_EQ(Ids(Where("h", Op::kEq, "a")), V{});
  EXPECT_EQ(Ids(Where("h", Op::kEq, "b")), (V{"r1", "r2"}));

  ASSERT_TRUE(db_->Update("r2", Record{{"h", "b"}}));  // k removed
  EXPECT_EQ(Ids(Where("k", Op::kExists)), V{"r1"});
  EXPECT_EQ(Ids(Where("k", Op::kGte, 0)), V{"r1"});

  db_->Upsert("r3", Record{{"k", 1}});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), V{"r3"});
  db_->Upsert("r3", Record{{"k", 3}});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kGt, 2)), V{"r3"});

  ASSERT_TRUE(db_->Delete("r1"));
  EXPECT_EQ(Ids(Where("k", Op::kEq, 2)), V{});
  EXPECT_EQ(Ids(Where("h", Op::kEq, "b")), V{"r2"});

  // A failed write leaves the index as it was.
  EXPECT_DKDATA_ERROR(db_->Update("r3", Record{{"k", 9}}, 99), ErrorCode::kConflict);
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("r3", {{"k", 8}})), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Ids(Where("k", Op::kEq, 9)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 8)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 3)), V{"r3"});
  if (db_->capabilities().atomic_batch) {
    EXPECT_DKDATA_ERROR(
        db_->CreateBatch({MakeRecord("r8", {{"k", 8}}), MakeRecord("r3", {{"k", 8}})}),
        ErrorCode::kAlreadyExists);
    EXPECT_EQ(Ids(Where("k", Op::kEq, 8)), V{}) << "no phantom entry from a failed atomic batch";
  }

  // Batches and streams.
  db_->CreateBatch({MakeRecord("r4", {{"k", 5}}), MakeRecord("r5", {{"k", 5}})});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 5)), (V{"r4", "r5"}));
  db_->UpdateBatch({{"r4", Record{{"k", 6}}}});
  db_->DeleteBatch({"r5"});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 5)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kBetween, List{5, 6})), V{"r4"});
  StreamOptions upsert;
  upsert.upsert = true;
  bool given = false;
  db_->StreamWrite(
      [&given]() -> std::optional<Record> {
        if (given) return std::nullopt;
        given = true;
        return MakeRecord("r4", {{"k", 7}});
      },
      upsert);
  EXPECT_EQ(Ids(Where("k", Op::kEq, 6)), V{});
  EXPECT_EQ(Ids(Where("k", Op::kEq, 7)), V{"r4"});

  // Clear empties the index; later writes fill it again.
  db_->Clear();
  EXPECT_EQ(Ids(Where("k", Op::kExists)), V{});
  EXPECT_EQ(Ids(Where("h", Op::kEq, "b")), V{});
  db_->Create(MakeRecord("r1", {{"k", 1}}));
  EXPECT_EQ(Ids(Where("k", Op::kEq, 1)), V{"r1"});
  EXPECT_EQ(IdsOf(db_->Search(Query().Sort("k", SortOrder::kDesc))), V{"r1"});
}

TEST_P(IndexTest, ListAndDropIndexes) {
  DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
  EXPECT_TRUE(db_->ListIndexes().empty());
  db_->CreateIndex(IndexInfo{"a", IndexKind::kHash});
  db_->CreateIndex(IndexInfo{"b.c", IndexKind::kOrdered});
  auto listed = db_->ListIndexes();
  std::sort(listed.begin(), listed.end(),
            [](const IndexInfo& x, const IndexInfo& y) { return x.field < y.field; });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].field, "a");
  EXPECT_EQ(listed[0].kind, IndexKind::kHash);
  EXPECT_EQ(listed[1].field, "b.c");
  EXPECT_EQ(listed[1].kind, IndexKind::kOrdered);

  Load({MakeRecord("r1", {{"a", 1}, {"b", Object{{"c", "x"}}}}),
        MakeRecord("r2", {{"a", 2}, {"b", Object{{"c", "y"}}}})});
  EXPECT_TRUE(db_->DropIndex("a"));
  EXPECT_FALSE(db_->DropIndex("a"));
  EXPECT_FALSE(db_->DropIndex("never"));
  listed = db_->ListIndexes();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].field, "b.c");
  // Queries on a dropped index's field still answer.
  EXPECT_EQ(Ids(Where("a", Op::kEq, 1)), std::vector<std::string>{"r1"});
  EXPECT_EQ(Ids(Where("b.c", Op::kGt, "x")), std::vector<std::string>{"r2"});
  EXPECT_TRUE(db_->DropIndex("b.c"));
  EXPECT_TRUE(db_->ListIndexes().empty());
  EXPECT_EQ(Ids(Where("b.c", Op::kGt, "x")), std::vector<std::string>{"r2"});
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(IndexTest);

}  // namespace
}  // namespace dkdata::conformance
