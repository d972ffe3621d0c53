// src/backends/sql/sql_translate.hpp: the part of query translation every SQL dialect shares:
// walking the filter tree, and what each operator means in terms of a few conditions on one path.
// A backend supplies only its SQL for one path (a leaf builder).
//
// Thread-safety: reentrant.
#pragma once

#include <functional>
#include <string>

#include "backends/sql/sql_condition.hpp"
#include "dkdata/query.hpp"

namespace dkdata::internal {

// " > ", " >= ", " < " or " <= " for a range operator.
std::string ComparisonSql(Op op);

// The filter tree as SQL conditions: leaves by `leaf`, AND, OR and NOT combined
// (sql_condition.hpp); a subtree deeper than max_depth is left to the evaluator.
SqlCondition TranslateTree(const Expr& expr, const SqlTruth& truth, int max_depth,
                           const std::function<SqlCondition(const Filter&)>& leaf);

// One filter as SQL conditions, after docs/query-semantics.md: negations are NOT of the positive
// form plus a presence test (absent and null never match them), between is two comparisons,
// equality with null is absence. `b` writes its dialect's SQL for the filter's path:
//   std::string Present(), Absent()            exact conditions
//   std::string PresenceDoubt(), ContentDoubt()   rows whose presence, or content, SQL may read
//                                                 wrongly ("" for none): the evaluator decides them
//   SqlCondition Equal(const Value& operand)   a non-null operand, without the doubts
//   SqlCondition In(const List&), Compare(Op, const Value&, bool bound),
//       Like(const std::string& pattern, bool ignore_case), Regex(const std::string& pattern),
//       StartsWith(const std::string& prefix)  with their doubts; `bound` asks Compare for the
//                                              other end of the operand kind's range (an index
//                                              range; BETWEEN of one kind gives both ends)
template <typename Builder>
SqlCondition TranslateLeaf(const Filter& filter, Builder& b, const SqlTruth& truth) {
  const Value& o = filter.value;
  auto both = [&truth](SqlCondition x, SqlCondition y) {
    return CombineConditions({std::move(x), std::move(y)}, true, truth);
  };
  auto negated = [&truth](const SqlCondition& c) { return NotCondition(c, truth); };
  auto present = [&] { return UncertainCondition(ExactCondition(b.Present()), b.PresenceDoubt()); };
  auto absent = [&] { return UncertainCondition(ExactCondition(b.Absent()), b.PresenceDoubt()); };
  auto equal = [&](const Value& operand) {
    if (operand.is_null()) return absent();
    const bool content =
        operand.kind() == ValueKind::kString || operand.kind() == ValueKind::kTimestamp;
    return UncertainCondition(b.Equal(operand), content ? b.ContentDoubt() : b.PresenceDoubt());
  };
  auto between = [&] {
    const List& bounds = *o.Get<List>();
    const bool same_kind =
        (bounds[0].is_number() && bounds[1].is_number()) || bounds[0].kind() == bounds[1].kind();
    return both(b.Compare(Op::kGte, bounds[0], !same_kind),
                b.Compare(Op::kLte, bounds[1], !same_kind));
  };
  switch (filter.op) {
    case Op::kExists:
      return present();
    case Op::kNotExists:
      return absent();
    case Op::kEq:
      return equal(o);
    case Op::kNeq:
      if (o.is_null()) return present();
      return both(present(), negated(equal(o)));
    case Op::kIn:
      return b.In(*o.Get<List>());
    case Op::kNotIn:
      return both(present(), negated(b.In(*o.Get<List>())));
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte:
      return b.Compare(filter.op, o, true);
    case Op::kBetween:
      return between();
    case Op::kNotBetween:
      return both(present(), negated(between()));
    case Op::kLike:
    case Op::kILike:
      return b.Like(*o.Get<std::string>(), filter.op == Op::kILike);
    case Op::kNotLike:
    case Op::kNotILike:
      return both(present(), negated(b.Like(*o.Get<std::string>(), filter.op == Op::kNotILike)));
    case Op::kRegex:
      return b.Regex(*o.Get<std::string>());
    case Op::kStartsWith:
      return b.StartsWith(*o.Get<std::string>());
  }
  return UnknownCondition(truth);
}

}  // namespace dkdata::internal
