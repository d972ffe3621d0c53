// src/core/aggregation_keys.hpp: how aggregations key and order their terms (docs/aggregations.md),
// shared by the core's Aggregator and the backends that aggregate natively, so that both give the
// same keys in the same order.
#pragma once

#include "dkdata/value.hpp"

namespace dkdata::internal {

// A number as a term's key: the int when the value is integral (30.0 is the term 30).
Value CanonicalNumber(const Value& v);
// Terms order among equal counts: ascending, in the order sorting uses (booleans, numbers,
// strings, timestamps, bytes).
bool AggregationKeyLess(const Value& a, const Value& b);

}  // namespace dkdata::internal
