// src/core/evaluator.hpp: the compiled form of a filter expression, evaluated against any source of
// field values (a Record, or a backend's own encoded row). This is the one implementation of
// docs/query-semantics.md; dkdata::Matches and every backend's residual filtering use it.
//
// Thread-safety: a CompiledFilter is immutable after construction and may be shared by threads.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "dkdata/query.hpp"

namespace dkdata::internal {

// Gives the value at one of the filter's paths for the record being evaluated, or nullptr when
// absent. Paths are numbered as in CompiledFilter::paths().
class FieldSource {
 public:
  virtual const Value* Lookup(std::size_t path_index) = 0;

 protected:
  ~FieldSource() = default;
};

// The name that means the record's id (its storage key) in filters and sort keys, as in the
// reference, whatever data fields the record has.
inline constexpr std::string_view kIdPath = "id";

// The value a query sees at path: the record's id for kIdPath (held in id_scratch), else
// Record::Get(path).
const Value* QueryValue(const Record& record, std::string_view path, Value& id_scratch);

// A FieldSource over a Record.
class RecordFieldSource final : public FieldSource {
 public:
  RecordFieldSource(const Record& record, const std::vector<std::string>& paths)
      : record_(record), paths_(paths) {}
  const Value* Lookup(std::size_t path_index) override {
    return QueryValue(record_, paths_[path_index], id_scratch_);
  }

 private:
  const Record& record_;
  const std::vector<std::string>& paths_;
  Value id_scratch_;
};

class CompiledFilter {
 public:
  // Validates the expression (operand shapes, regex syntax): throws Error(kInvalidArgument).
  explicit CompiledFilter(const Expr& expr);

  // The distinct field paths the filter reads.
  const std::vector<std::string>& paths() const noexcept { return paths_; }
  bool always_true() const noexcept { return nodes_.empty(); }

  bool Matches(FieldSource& source) const;
  bool Matches(const Record& record) const;

 private:
  struct Node {
    Expr::Kind kind = Expr::Kind::kAnd;
    Op op = Op::kEq;
    std::uint32_t path = 0;
    Value operand;
    std::vector<std::int16_t> like_pattern;  // for LIKE/ILIKE: bytes, kLikeAny, kLikeOne
    std::shared_ptr<const std::regex> regex;
    std::vector<std::uint32_t> children;
  };

  std::uint32_t Compile(const Expr& expr, int depth);
  bool Eval(std::uint32_t node, FieldSource& source) const;
  bool EvalLeaf(const Node& node, const Value* value) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root; empty means "always true"
  std::vector<std::string> paths_;
};

// Equality as in the query semantics (numbers numerically, timestamps against ISO strings,
// objects regardless of member order).
bool ValuesEqual(const Value& a, const Value& b) noexcept;

// Validates a leaf's operand shape for its operator; throws Error(kInvalidArgument).
void ValidateFilter(const Filter& filter);

// Compares two rows' sort keys (each row: one value pointer per key, nullptr when absent).
// Negative when a sorts first.
int CompareSortRows(const std::vector<SortKey>& keys, const Value* const* a, const Value* const* b);

// LIKE matching on a compiled pattern (see CompiledFilter): whole-string, '_' = one code point.
bool LikeMatch(const std::vector<std::int16_t>& pattern, std::string_view text, bool ignore_case);
std::vector<std::int16_t> CompileLikePattern(std::string_view pattern);

}  // namespace dkdata::internal
