// tests/conformance/conformance_helpers.hpp: small helpers shared by the conformance cases.
//
// Describe* render values, expressions and queries for failure messages without relying on the
// library's own text form alone (Query::ToString may not express every value, and when it is wrong
// the message should still say what was asked).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "dkdata/query.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata::conformance {

inline constexpr std::int64_t kTwoTo53 = std::int64_t{1} << 53;

// A record with an explicit id: MakeRecord("r1", {{"age", 30}, {"name", "Ada"}}).
Record MakeRecord(std::string id, std::initializer_list<std::pair<std::string, Value>> fields);

// The ids of records, in their order ("<no id>" for a record without one).
std::vector<std::string> IdsOf(const std::vector<Record>& records);
// The same ids, sorted: for comparing result sets where the order is not the point.
std::vector<std::string> SortedIdsOf(const std::vector<Record>& records);
std::vector<std::string> Sorted(std::vector<std::string> ids);

// Renders a value with its kind visible: 1 vs 1.0, "1" vs 1, b"00ff", t"2024-05-01T08:00:00Z".
std::string DescribeValue(const Value& value);
std::string DescribeRecord(const Record& record);
// The expression's text form when the library can produce it, followed by a tree rendering that
// does not depend on the library's printer.
std::string Describe(const Expr& expr);
std::string Describe(const Query& query);

// A path named name in a new, empty folder of its own (under the system's temp folder), for
// backends that keep a store in files.
std::string FreshStorePath(const std::string& name);
// Removes every folder FreshStorePath made (call once the stores are closed).
void RemoveFreshStores();

}  // namespace dkdata::conformance
