// Boolean logic: AND, OR, NOT to any depth, empty AND/OR, and NOT over absent fields under the
// two-valued rule (docs/query-semantics.md, "Boolean logic"). Expectations come from a plain C++
// model of the data, independent of the library's evaluator.
#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/query.hpp"

namespace dkdata::conformance {
namespace {

// One row of the model: absent (missing or null) fields are nullopt.
struct Row {
  std::string id;
  std::optional<int> x;
  std::optional<std::string> y;
  bool z = false;
};

class QueryLogicTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // 20 records: x = i except missing for i = 6, 13 and null for i = 10; y = "a" for even i,
    // "b" for odd multiples of 3, null for i % 5 == 4 (when not set otherwise), else missing;
    // z = (i % 4 == 0).
    std::vector<Record> records;
    for (int i = 0; i < 20; ++i) {
      Row row{"r" + std::to_string(100 + i), std::nullopt, std::nullopt, i % 4 == 0};
      Record record;
      record.set_id(row.id);
      if (i == 10) {
        record.Set("x", nullptr);
      } else if (i % 7 != 6) {
        row.x = i;
        record.Set("x", i);
      }
      if (i % 2 == 0) {
        row.y = "a";
        record.Set("y", "a");
      } else if (i % 3 == 0) {
        row.y = "b";
        record.Set("y", "b");
      } else if (i % 5 == 4) {
        record.Set("y", nullptr);
      }
      record.Set("z", row.z);
      rows_.push_back(row);
      records.push_back(record);
    }
    Load(records);
  }

  // The sorted ids the model says match.
  std::vector<std::string> Model(const std::function<bool(const Row&)>& predicate) const {
    std::vector<std::string> ids;
    for (const Row& row : rows_) {
      if (predicate(row)) ids.push_back(row.id);
    }
    return Sorted(ids);
  }
  std::vector<std::string> Found(const Expr& expr) {
    const std::vector<std::string> ids = SortedIdsOf(db_->Search(Query(expr)));
    EXPECT_EQ(db_->Count(expr), ids.size()) << "Count disagrees with Search for\n"
                                            << Describe(expr);
    return ids;
  }
  std::vector<std::string> Found(const Query& query) { return SortedIdsOf(db_->Search(query)); }

  std::vector<Row> rows_;
};

#define EXPECT_LIKE_MODEL(expr, predicate) \
  EXPECT_EQ(Found(expr), Model(predicate)) << Describe(expr)

// Leaf predicates of the model, following the documented absent rules.
bool XGte(const Row& r, int v) {
  return r.x && *r.x >= v;
}
bool XLte(const Row& r, int v) {
  return r.x && *r.x <= v;
}
bool XGt(const Row& r, int v) {
  return r.x && *r.x > v;
}
bool XEq(const Row& r, int v) {
  return r.x && *r.x == v;
}
bool XNeq(const Row& r, int v) {
  return r.x && *r.x != v;
}
bool YEq(const Row& r, const char* v) {
  return r.y && *r.y == v;
}

TEST_P(QueryLogicTest, AndOrNot) {
  EXPECT_LIKE_MODEL(Where("x", Op::kGte, 5) && Where("y", Op::kEq, "a"),
                    [](const Row& r) { return XGte(r, 5) && YEq(r, "a"); });
  EXPECT_LIKE_MODEL(Where("x", Op::kLt, 3) || Where("y", Op::kEq, "b"),
                    [](const Row& r) { return (r.x && *r.x < 3) || YEq(r, "b"); });
  EXPECT_LIKE_MODEL(!Where("y", Op::kEq, "a"), [](const Row& r) { return !YEq(r, "a"); });
  EXPECT_LIKE_MODEL(
      Expr::And({Where("z", Op::kEq, true), Where("x", Op::kGt, 4), Where("y", Op::kExists)}),
      [](const Row& r) { return r.z && XGt(r, 4) && r.y.has_value(); });
  EXPECT_LIKE_MODEL(
      Expr::Or({Where("x", Op::kEq, 1), Where("x", Op::kEq, 2), Where("x", Op::kEq, 19),
                Where("y", Op::kEq, "b")}),
      [](const Row& r) { return XEq(r, 1) || XEq(r, 2) || XEq(r, 19) || YEq(r, "b"); });
}

TEST_P(QueryLogicTest, NotOverAnAbsentFieldIsTrue) {
  // `not (x > 10)` matches records without x; `x <= 10` does not.
  EXPECT_LIKE_MODEL(!Where("x", Op::kGt, 10), [](const Row& r) { return !XGt(r, 10); });
  EXPECT_LIKE_MODEL(Where("x", Op::kLte, 10), [](const Row& r) { return XLte(r, 10); });
  EXPECT_NE(Found(!Where("x", Op::kGt, 10)), Found(Where("x", Op::kLte, 10)))
      << "the data must tell the two apart";
  // not (x != 5) is x = 5 or x absent.
  EXPECT_LIKE_MODEL(!Where("x", Op::kNeq, 5), [](const Row& r) { return !XNeq(r, 5); });
  EXPECT_LIKE_MODEL(!Where("x", Op::kExists), [](const Row& r) { return !r.x.has_value(); });
  EXPECT_LIKE_MODEL(!Where("y", Op::kNotExists), [](const Row& r) { return r.y.has_value(); });
  EXPECT_LIKE_MODEL(!Where("y", Op::kNotIn, List{"a"}),
                    [](const Row& r) { return !(r.y && *r.y != "a"); });
}

TEST_P(QueryLogicTest, DoubleNegationAndDeMorgan) {
  const Expr a = Where("x", Op::kGte, 7);
  const Expr b = Where("y", Op::kEq, "a");
  EXPECT_EQ(Found(!!a), Found(a));
  EXPECT_EQ(Found(!(a && b)), Found(!a || !b));
  EXPECT_EQ(Found(!(a || b)), Found(!a && !b));
  EXPECT_LIKE_MODEL(!(a || b), [](const Row& r) { return !XGte(r, 7) && !YEq(r, "a"); });
}

TEST_P(QueryLogicTest, EmptyAndIsTrueEmptyOrIsFalse) {
  const std::vector<std::string> all = Model([](const Row&) { return true; });
  const std::vector<std::string> none;
  EXPECT_EQ(Found(Expr()), all);
  EXPECT_EQ(Found(Expr::And({})), all);
  EXPECT_EQ(Found(Expr::Or({})), none);
  EXPECT_EQ(Found(Expr::Not(Expr::Or({}))), all);
  EXPECT_EQ(Found(Expr::Not(Expr::And({}))), none);
  EXPECT_EQ(Found(Expr::And({Where("x", Op::kExists), Expr::Or({})})), none);
  EXPECT_EQ(Found(Expr::Or({Where("x", Op::kEq, 3), Expr::And({})})), all);
  EXPECT_EQ(Found(Expr::And({Expr::And({}), Where("x", Op::kEq, 3)})),
            Model([](const Row& r) { return XEq(r, 3); }));
  EXPECT_EQ(Found(Expr::Or({Expr::Or({}), Where("x", Op::kEq, 3)})),
            Model([](const Row& r) { return XEq(r, 3); }));
}

TEST_P(QueryLogicTest, DeepNesting) {
  // Depth 8: and > or > and > not > or > and > or > not > leaf.
  const Expr deep = Expr::And({
      Where("x", Op::kGte, 1),
      Expr::Or({
          Expr::And({
              Where("x", Op::kLte, 12),
              Expr::Not(Expr::Or({
                  Where("x", Op::kEq, 3),
                  Expr::And({
                      Where("x", Op::kGte, 8),
                      Expr::Or({Where("y", Op::kEq, "a"), Expr::Not(Where("y", Op::kExists))}),
                  }),
              })),
          }),
          Where("z", Op::kEq, true),
      }),
  });
  EXPECT_LIKE_MODEL(deep, [](const Row& r) {
    const bool inner = XEq(r, 3) || (XGte(r, 8) && (YEq(r, "a") || !r.y.has_value()));
    return XGte(r, 1) && ((XLte(r, 12) && !inner) || r.z);
  });
  EXPECT_LIKE_MODEL(!deep, [](const Row& r) {
    const bool inner = XEq(r, 3) || (XGte(r, 8) && (YEq(r, "a") || !r.y.has_value()));
    return !(XGte(r, 1) && ((XLte(r, 12) && !inner) || r.z));
  });
}

TEST_P(QueryLogicTest, LongChainsOfSingletonsAndNots) {
  Expr wrapped = Where("x", Op::kGt, 12);
  for (int depth = 0; depth < 12; ++depth) {
    wrapped = depth % 2 == 0 ? Expr::And({wrapped}) : Expr::Or({wrapped});
  }
  EXPECT_LIKE_MODEL(wrapped, [](const Row& r) { return XGt(r, 12); });

  Expr negated = Where("x", Op::kGt, 12);
  for (int depth = 0; depth < 7; ++depth) negated = Expr::Not(negated);
  EXPECT_LIKE_MODEL(negated, [](const Row& r) { return !XGt(r, 12); });
}

TEST_P(QueryLogicTest, OperatorsAndConstructorsBuildTheSameFilter) {
  const Expr a = Where("x", Op::kLt, 10);
  const Expr b = Where("y", Op::kEq, "a");
  const Expr c = Where("z", Op::kEq, true);
  EXPECT_EQ(Found((a && b) || !c), Found(Expr::Or({Expr::And({a, b}), Expr::Not(c)})));
  EXPECT_LIKE_MODEL((a && b) || !c,
                    [](const Row& r) { return (r.x && *r.x < 10 && YEq(r, "a")) || !r.z; });
}

TEST_P(QueryLogicTest, QueryFilterAndsAndOrWhereOrsTheWholeFilter) {
  Query anded;
  anded.Filter("x", Op::kGte, 5).Filter("y", Op::kEq, "a");
  EXPECT_EQ(Found(anded), Model([](const Row& r) { return XGte(r, 5) && YEq(r, "a"); }));

  Query ored;
  ored.Filter("x", Op::kGte, 15).Filter("y", Op::kEq, "a").OrWhere(Where("x", Op::kEq, 1));
  EXPECT_EQ(Found(ored),
            Model([](const Row& r) { return (XGte(r, 15) && YEq(r, "a")) || XEq(r, 1); }));

  Query mixed;
  mixed.Where(Where("x", Op::kLt, 4) || Where("x", Op::kGt, 16)).Filter("z", Op::kEq, true);
  EXPECT_EQ(Found(mixed),
            Model([](const Row& r) { return ((r.x && *r.x < 4) || XGt(r, 16)) && r.z; }));
}

TEST_P(QueryLogicTest, TextQueryGivesTheSameAnswerAsTheBuilder) {
  const Query parsed = Query::Parse("x >= 3 and (y = 'a' or y = 'b')");
  EXPECT_EQ(Found(parsed),
            Model([](const Row& r) { return XGte(r, 3) && (YEq(r, "a") || YEq(r, "b")); }))
      << Describe(parsed);
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(QueryLogicTest);

}  // namespace
}  // namespace dkdata::conformance
