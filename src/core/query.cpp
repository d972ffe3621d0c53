#include "dkdata/query.hpp"

#include <algorithm>
#include <array>
#include <numeric>

#include "core/evaluator.hpp"
#include "dkdata/errors.hpp"

namespace dkdata {

namespace {

struct OpSpelling {
  Op op;
  std::string_view canonical;
  std::string_view enum_name;
};

constexpr std::array<OpSpelling, 18> kOps = {{
    {Op::kEq, "=", "eq"},
    {Op::kNeq, "!=", "neq"},
    {Op::kGt, ">", "gt"},
    {Op::kGte, ">=", "gte"},
    {Op::kLt, "<", "lt"},
    {Op::kLte, "<=", "lte"},
    {Op::kIn, "in", "in"},
    {Op::kNotIn, "not_in", "not_in"},
    {Op::kBetween, "between", "between"},
    {Op::kNotBetween, "not_between", "not_between"},
    {Op::kLike, "like", "like"},
    {Op::kNotLike, "not_like", "not_like"},
    {Op::kRegex, "regex", "regex"},
    {Op::kStartsWith, "starts_with", "starts_with"},
    {Op::kExists, "exists", "exists"},
    {Op::kNotExists, "not_exists", "not_exists"},
    {Op::kILike, "ilike", "ilike"},
    {Op::kNotILike, "not_ilike", "not_ilike"},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view OpName(Op op) noexcept {
  for (const auto& spelling : kOps) {
    if (spelling.op == op) return spelling.canonical;
  }
  return "?";
}

std::optional<Op> ParseOp(std::string_view text) noexcept {
  if (text == "==") return Op::kEq;
  if (text == "<>") return Op::kNeq;
  const std::string lower = Lower(text);
  for (const auto& spelling : kOps) {
    if (lower == spelling.canonical || lower == spelling.enum_name) return spelling.op;
  }
  return std::nullopt;
}

// ---- Expr ----

Expr Expr::Leaf(Filter filter) {
  Expr e;
  e.kind_ = Kind::kFilter;
  e.filter_ = std::move(filter);
  return e;
}

Expr Expr::And(std::vector<Expr> children) {
  if (children.size() == 1) return std::move(children.front());  // a group of one is its child
  Expr e;
  e.kind_ = Kind::kAnd;
  e.children_ = std::move(children);
  return e;
}

Expr Expr::Or(std::vector<Expr> children) {
  if (children.size() == 1) return std::move(children.front());
  Expr e;
  e.kind_ = Kind::kOr;
  e.children_ = std::move(children);
  return e;
}

Expr Expr::Not(Expr child) {
  Expr e;
  e.kind_ = Kind::kNot;
  e.children_.push_back(std::move(child));
  return e;
}

Expr Where(std::string field, Op op, Value value) {
  Filter filter{std::move(field), op, std::move(value)};
  internal::ValidateFilter(filter);
  return Expr::Leaf(std::move(filter));
}

namespace {

// Joins a and b under kind, flattening children of the same kind.
Expr Join(Expr::Kind kind, Expr a, Expr b) {
  std::vector<Expr> children;
  for (Expr* e : {&a, &b}) {
    if (e->kind() == kind) {
      for (const Expr& c : e->children()) children.push_back(c);
    } else {
      children.push_back(std::move(*e));
    }
  }
  return kind == Expr::Kind::kAnd ? Expr::And(std::move(children)) : Expr::Or(std::move(children));
}

}  // namespace

Expr operator&&(Expr a, Expr b) {
  return Join(Expr::Kind::kAnd, std::move(a), std::move(b));
}
Expr operator||(Expr a, Expr b) {
  return Join(Expr::Kind::kOr, std::move(a), std::move(b));
}
Expr operator!(Expr a) {
  return Expr::Not(std::move(a));
}

// ---- Query builder ----

Query& Query::Filter(std::string field, Op op, Value value) {
  return Where(dkdata::Where(std::move(field), op, std::move(value)));
}

Query& Query::Where(Expr expr) {
  where_ = where_.is_true() ? std::move(expr) : std::move(where_) && std::move(expr);
  return *this;
}

Query& Query::OrWhere(Expr expr) {
  where_ = where_.is_true() ? std::move(expr) : std::move(where_) || std::move(expr);
  return *this;
}

Query& Query::Sort(std::string field, SortOrder order) {
  sort_.push_back(SortKey{std::move(field), order});
  return *this;
}

// ---- Reference evaluation ----

bool Matches(const Expr& expr, const Record& record) {
  return internal::CompiledFilter(expr).Matches(record);
}

std::vector<Record> EvaluateQuery(const Query& query, std::vector<Record> records) {
  const internal::CompiledFilter filter(query.where());
  std::vector<Record> matched;
  for (Record& r : records) {
    if (filter.Matches(r)) matched.push_back(std::move(r));
  }
  if (!query.sort().empty()) {
    const auto& keys = query.sort();
    std::vector<std::vector<const Value*>> rows(matched.size());
    std::vector<Value> ids(matched.size());  // for sort keys on the record id
    for (std::size_t i = 0; i < matched.size(); ++i) {
      for (const SortKey& k : keys)
        rows[i].push_back(internal::QueryValue(matched[i], k.field, ids[i]));
    }
    std::vector<std::size_t> order(matched.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return internal::CompareSortRows(keys, rows[a].data(), rows[b].data()) < 0;
    });
    std::vector<Record> sorted;
    sorted.reserve(matched.size());
    for (std::size_t i : order) sorted.push_back(std::move(matched[i]));
    matched = std::move(sorted);
  }
  const std::size_t begin = std::min(query.offset(), matched.size());
  std::size_t end = matched.size();
  if (query.limit()) end = std::min(end, begin + *query.limit());
  std::vector<Record> out;
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    out.push_back(query.fields().empty() ? std::move(matched[i])
                                         : matched[i].Project(query.fields()));
  }
  return out;
}

}  // namespace dkdata
