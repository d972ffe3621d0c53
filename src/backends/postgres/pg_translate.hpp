// src/backends/postgres/pg_translate.hpp: the query tree in PostgreSQL SQL over the jsonb row
// layout of backends/sql/json_rows.hpp (see pg_translate.cpp for the rules).
//
// Thread-safety: a translator is used by one thread; the functions are reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_connection.hpp"
#include "backends/sql/sql_condition.hpp"
#include "dkdata/query.hpp"

namespace dkdata::internal {

// What the store holds that changes how queries translate; asked before a query that needs it.
struct PgStoreFacts {
  bool foreign_rows = false;  // rows written by another program (dkdata_fields IS NULL)
  bool nul_strings = false;   // rows holding a string with U+0000 (stored as base64)
  bool vectors = false;       // rows holding a vector (a walk into one finds nothing)
};

class PgQueryTranslator {
 public:
  explicit PgQueryTranslator(PgStoreFacts facts) : facts_(facts) {}

  // The filter as SQL conditions (sql_condition.hpp); every value is a parameter.
  SqlCondition Where(const Expr& expr);
  // The ORDER BY terms (without "ORDER BY", ending with id for a stable order), or nullopt when
  // SQL cannot order exactly as docs/query-semantics.md says (the core then sorts).
  std::optional<std::string> OrderBy(const std::vector<SortKey>& keys);

  // Adds a text parameter; returns its placeholder ("$3").
  std::string Param(std::string text);
  const PgParams& params() const noexcept { return params_; }

 private:
  SqlCondition Leaf(const Filter& filter);

  PgStoreFacts facts_;
  PgParams params_;
};

// The jsonb expression of the value at path (data->'age', or the walk of a dotted path) as
// queries write it, so that an expression index on it serves them; nullopt for "id" or a path SQL
// cannot name. The text form (data->>'age') is PgTextExpression.
std::optional<std::string> PgValueExpression(std::string_view path);
std::optional<std::string> PgTextExpression(std::string_view path);

}  // namespace dkdata::internal
