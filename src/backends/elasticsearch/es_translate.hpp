// src/backends/elasticsearch/es_translate.hpp: the query tree as Elasticsearch query DSL.
//
// The translation is exact where the projection of es_documents.hpp lets it be, and says where it
// is not: each expression becomes two queries,
//   match      the documents that satisfy it, exact for every document outside `uncertain`;
//   uncertain  the documents the DSL cannot decide (odd values, dotted paths, regexes, documents
//              without dkdata's projection), which the core's evaluator decides from _source.
// So `match OR uncertain` is a superset of the answer, and `match AND NOT uncertain` a subset; a
// search re-checks only when `uncertain` is not empty, and a count adds the uncertain documents
// the evaluator accepts to the _count of the certain ones.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "dkdata/query.hpp"

namespace dkdata::internal {

// A query DSL clause, with the two trivial ones told apart so that they fold away.
struct Dsl {
  enum class Kind : std::uint8_t { kAll, kNone, kClause };
  Kind kind = Kind::kAll;
  std::string json;  // for kClause

  static Dsl All() { return Dsl{Kind::kAll, {}}; }
  static Dsl None() { return Dsl{Kind::kNone, {}}; }
  static Dsl Clause(std::string json) { return Dsl{Kind::kClause, std::move(json)}; }
  bool all() const noexcept { return kind == Kind::kAll; }
  bool none() const noexcept { return kind == Kind::kNone; }
  // The JSON of the clause ({"match_all":{}} / {"match_none":{}} for the trivial ones).
  std::string Json() const;
};

Dsl DslAnd(std::vector<Dsl> parts);
Dsl DslOr(std::vector<Dsl> parts);
Dsl DslNot(Dsl part);

struct EsFilter {
  Dsl match = Dsl::All();
  Dsl uncertain = Dsl::None();
};

// Translates a filter expression (already validated by CompiledFilter).
EsFilter TranslateFilter(const Expr& expr);

// The sort clause for keys (ending with the id tie-breaker, which makes the order total and
// search_after exact), and the documents among which that order is not dkdata's (odd values or
// no projection); nullopt when a key cannot be sorted natively at all (a dotted path).
struct EsSort {
  std::string json;  // a JSON array
  Dsl uncertain = Dsl::None();
};
std::optional<EsSort> TranslateSort(const std::vector<SortKey>& keys);

}  // namespace dkdata::internal
