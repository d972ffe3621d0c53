// src/backends/sql/sql_condition.hpp: what the SQL backends' query translators share: filters as
// pairs of SQL conditions, quoting, and the parts of a field path.
//
// A filter in SQL is a pair (maybe, sure): `maybe` is true for every row the filter matches (and
// perhaps more), `sure` only for rows it matches (and perhaps not all). When exact, the two are
// the same expression and SQL answers the filter on its own; otherwise the rows of `maybe` go
// through the core evaluator. Neither is ever NULL-valued where a NOT could see it.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dkdata::internal {

struct SqlCondition {
  std::string maybe;
  std::string sure;
  bool exact = true;
};

// How a dialect spells true and false.
struct SqlTruth {
  std::string_view true_sql;
  std::string_view false_sql;
};
inline constexpr SqlTruth kSqliteTruth{"1", "0"};
inline constexpr SqlTruth kPostgresTruth{"true", "false"};

// A condition SQL answers exactly.
SqlCondition ExactCondition(std::string sql);
// A condition left to the evaluator: maybe (true by default), never sure.
SqlCondition UnknownCondition(const SqlTruth& truth, std::string maybe = {});
// AND or OR of conditions, as a balanced tree so that long lists stay shallow.
SqlCondition CombineConditions(const std::vector<SqlCondition>& parts, bool is_and,
                               const SqlTruth& truth);
SqlCondition NotCondition(const SqlCondition& c, const SqlTruth& truth);
// c, except on the rows where `uncertain` holds (SQL; empty for none), which it leaves to the
// evaluator.
SqlCondition UncertainCondition(SqlCondition c, const std::string& uncertain);
// "a OR b", either of which may be empty.
std::string EitherSql(const std::string& a, const std::string& b);

// "quoted" identifier, with " doubled.
std::string QuoteIdentifier(std::string_view name);
// 'quoted' string literal, with ' doubled (standard SQL: no backslash escapes).
std::string QuoteLiteral(std::string_view text);

// A string that is some bytes' base64: a bytes value could be stored as the same text.
bool IsCanonicalBase64(const std::string& s);
// The smallest string greater than every string starting with prefix, or nullopt when there is
// none (a prefix of 0xFF bytes).
std::optional<std::string> PrefixEnd(std::string prefix);

// A step of a walk into a value (Value::FindPath): a key, which may also be a list position.
struct PathStep {
  std::string key;
  std::optional<std::size_t> index;
};
// The steps of Value::FindPath: split at '.', a trailing '.' adds no step.
std::vector<PathStep> WalkSteps(std::string_view rest);

}  // namespace dkdata::internal
