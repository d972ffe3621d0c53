// dkdata/query.hpp: the query tree, its fluent builder, the text query language and the reference
// evaluator.
//
// A Query is a filter expression (leaf filters combined by AND, OR and NOT to any depth), a list of
// sort keys, an offset, an optional limit and an optional projection. The semantics every backend
// follows are in docs/query-semantics.md; Matches() below is their executable definition.
//
//   Query q = Query().Filter("age", Op::kGte, 25).Sort("age", SortOrder::kDesc).Limit(10);
//   Query same = Query::Parse("age >= 25 order by age desc limit 10");
//   Expr e = Where("city", Op::kEq, "SF") || !Where("name", Op::kLike, "a%");
//
// Thread-safety: queries are values; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata {

// The 16 operators of the reference, plus the explicit case-insensitive LIKE pair.
enum class Op : std::uint8_t {
  kEq,          // "="
  kNeq,         // "!="
  kGt,          // ">"
  kGte,         // ">="
  kLt,          // "<"
  kLte,         // "<="
  kIn,          // "in": value is a list
  kNotIn,       // "not_in"
  kBetween,     // "between": value is a list [low, high], inclusive
  kNotBetween,  // "not_between"
  kLike,        // "like": % any run, _ one character, whole string, case-sensitive
  kNotLike,     // "not_like"
  kRegex,       // "regex": ECMAScript syntax, unanchored search
  kStartsWith,  // "starts_with"
  kExists,      // "exists": the field is present and not null
  kNotExists,   // "not_exists"
  kILike,       // "ilike": like, ignoring the case of ASCII letters only
  kNotILike,    // "not_ilike"
};

// The canonical spelling ("=", "not_in", ...).
std::string_view OpName(Op op) noexcept;
// Accepts the canonical spellings, the reference's enum names (EQ, NOT_IN, ...) in either case, and
// "==" / "<>" for EQ / NEQ. Returns nullopt for anything else: an unknown operator is never EQ.
std::optional<Op> ParseOp(std::string_view text) noexcept;

// One leaf condition: field <op> value. For kIn/kNotIn the value is a List; for kBetween/
// kNotBetween a List of two; for kExists/kNotExists it is ignored.
struct Filter {
  std::string field;
  Op op = Op::kEq;
  Value value;
  friend bool operator==(const Filter&, const Filter&) = default;
};

// A node of the filter tree. An AND with no children is true; an OR with no children is false;
// And/Or of a single child return that child, so every tree has exactly one text form.
class Expr {
 public:
  enum class Kind : std::uint8_t { kFilter, kAnd, kOr, kNot };

  Expr() : kind_(Kind::kAnd) {}  // true
  static Expr Leaf(Filter filter);
  static Expr And(std::vector<Expr> children);
  static Expr Or(std::vector<Expr> children);
  static Expr Not(Expr child);

  Kind kind() const noexcept { return kind_; }
  bool is_true() const noexcept { return kind_ == Kind::kAnd && children_.empty(); }
  // Valid for kFilter nodes.
  const Filter& filter() const noexcept { return filter_; }
  // Children of kAnd/kOr, or the one child of kNot.
  const std::vector<Expr>& children() const noexcept { return children_; }

  // Text form in the query language; Query::Parse of it gives back an equal tree.
  std::string ToString() const;

  friend bool operator==(const Expr&, const Expr&) = default;

 private:
  Kind kind_;
  Filter filter_;
  std::vector<Expr> children_;
};

// A leaf expression; throws Error(kInvalidArgument) when the value does not fit the operator.
Expr Where(std::string field, Op op, Value value = {});
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);
Expr operator!(Expr a);

enum class SortOrder : std::uint8_t { kAsc, kDesc };

struct SortKey {
  std::string field;
  SortOrder order = SortOrder::kAsc;
  friend bool operator==(const SortKey&, const SortKey&) = default;
};

class Query {
 public:
  Query() = default;
  explicit Query(Expr where) : where_(std::move(where)) {}

  // Parses the text query language, e.g.
  //   age >= 25 and (city = 'SF' or name like 'a%') order by age desc, name limit 10 offset 5
  //   select name, age where active = true
  // Throws Error(kInvalidArgument) whose message names the column of the first error.
  static Query Parse(std::string_view text);

  // ANDs a filter (or expression) onto the current filter.
  Query& Filter(std::string field, Op op, Value value = {});
  Query& Where(Expr expr);
  // ORs an expression with the current filter as a whole.
  Query& OrWhere(Expr expr);
  Query& Sort(std::string field, SortOrder order = SortOrder::kAsc);
  Query& Offset(std::size_t n) {
    offset_ = n;
    return *this;
  }
  Query& Limit(std::size_t n) {
    limit_ = n;
    return *this;
  }
  // Keeps only these fields in the results (dotted paths keep their top-level field).
  Query& Select(std::vector<std::string> fields) {
    fields_ = std::move(fields);
    return *this;
  }

  const Expr& where() const noexcept { return where_; }
  const std::vector<SortKey>& sort() const noexcept { return sort_; }
  std::size_t offset() const noexcept { return offset_; }
  const std::optional<std::size_t>& limit() const noexcept { return limit_; }
  const std::vector<std::string>& fields() const noexcept { return fields_; }

  std::string ToString() const;
  friend bool operator==(const Query&, const Query&) = default;

 private:
  Expr where_;
  std::vector<SortKey> sort_;
  std::size_t offset_ = 0;
  std::optional<std::size_t> limit_;
  std::vector<std::string> fields_;
};

// ---- The reference semantics (docs/query-semantics.md) ----

// Whether a record satisfies an expression.
bool Matches(const Expr& expr, const Record& record);

// Orders two values for sorting and range operators: numbers numerically (int and float mixed),
// strings by UTF-8 bytes (= code points), bools false < true, timestamps by time, bytes by bytes.
// Returns nullopt when the kinds are not comparable (string vs number, ...).
std::optional<std::strong_ordering> CompareValues(const Value& a, const Value& b) noexcept;

// The total order used by ORDER BY: nulls/missing last (in both directions), then by kind rank
// (bool < number < string < timestamp < bytes < other), then CompareValues within a kind.
int SortCompare(const Value* a, const Value* b) noexcept;

// Applies the whole query to a set of records the way every backend must answer it: filter, stable
// sort (input order breaks ties), offset, limit, projection.
std::vector<Record> EvaluateQuery(const Query& query, std::vector<Record> records);

}  // namespace dkdata
