// Walking the filter tree (sql_translate.hpp).
#include "backends/sql/sql_translate.hpp"

#include <vector>

namespace dkdata::internal {

std::string ComparisonSql(Op op) {
  switch (op) {
    case Op::kGt:
      return " > ";
    case Op::kGte:
      return " >= ";
    case Op::kLt:
      return " < ";
    default:
      return " <= ";
  }
}

SqlCondition TranslateTree(const Expr& expr, const SqlTruth& truth, int max_depth,
                           const std::function<SqlCondition(const Filter&)>& leaf) {
  if (max_depth < 0) return UnknownCondition(truth);
  switch (expr.kind()) {
    case Expr::Kind::kFilter:
      return leaf(expr.filter());
    case Expr::Kind::kNot:
      return NotCondition(TranslateTree(expr.children()[0], truth, max_depth - 1, leaf), truth);
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      std::vector<SqlCondition> parts;
      parts.reserve(expr.children().size());
      for (const Expr& child : expr.children()) {
        parts.push_back(TranslateTree(child, truth, max_depth - 1, leaf));
      }
      return CombineConditions(parts, expr.kind() == Expr::Kind::kAnd, truth);
    }
  }
  return UnknownCondition(truth);
}

}  // namespace dkdata::internal
