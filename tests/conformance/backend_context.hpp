// tests/conformance/backend_context.hpp: how a backend plugs into the conformance suite.
//
// The conformance suite is one set of behaviour cases (crud_test.cpp, query_operators_test.cpp,
// ...) run against every enabled backend, in the manner of SOCI's shared tests and ADBC's
// validation suite. A backend takes part by adding one BackendContext to AllBackends() in
// backends.cpp: how to open a fresh empty store, how to clean up after a case, which capabilities
// it is expected to declare, and its quirks. Nothing else in the suite names a backend.
//
// A case that needs a capability the backend lacks skips with a message naming the capability
// (DKDATA_REQUIRE_CAPABILITY); a known gap declared in the quirks skips with its reason. A gap is
// always a named skip, never a silent pass.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/record.hpp"

namespace dkdata::conformance {

// What a backend does differently from the plain contract, where the contract allows it.
struct BackendQuirks {
  // The store's order (the order of a search without ORDER BY) is insertion order, as
  // docs/query-semantics.md states for the memory backend. When false, cases about the store's
  // order take it from All() instead of from the order the records were written.
  bool insertion_ordered = false;
  // Cases the backend is known not to pass yet: "Suite.Case" (e.g.
  // "CrudTest.UpsertCreatesThenReplaces") to the reason, which the skip prints. Meant for a bug
  // being fixed, never to paper over a difference in semantics: the semantics are one for all
  // backends.
  std::map<std::string, std::string, std::less<>> known_gaps;
  // The backend keeps a json field's value as plain JSON, so timestamps, bytes and vectors nested
  // inside a list or object come back in their JSON forms (ISO-8601 string, base64 string, list of
  // numbers), as docs/query-semantics.md allows for JSON-based stores. The differential test then
  // writes only such values. (Top-level fields keep their types in every backend.)
  bool nested_values_as_plain_json = false;
  // Random queries per pass of the differential test; a backend behind a network may lower it.
  int differential_queries = 3000;
  // Random records loaded by the differential test.
  int differential_records = 300;
};

struct BackendContext {
  // Label in test names ("memory", "sqlite_file"); letters, digits and '_' only.
  std::string name;
  // The capabilities the backend is expected to declare.
  // BackendContract.DeclaresExpectedCapabilities fails when the backend declares something else, so
  // a capability dropped by mistake cannot turn the cases that need it into skips unnoticed.
  Capabilities expected_capabilities;
  // Why the backend cannot run here (no server reachable, ...), or "" when it can. Asked before
  // every case; a reason skips the case and names the reason. May be empty (always available).
  std::function<std::string()> unavailable_reason;
  // Opens a fresh, empty store. Every case gets its own.
  std::function<std::unique_ptr<Database>()> open_empty;
  // Called after every case, once the database is closed (drop tables, remove files, ...). May be
  // empty.
  std::function<void()> teardown;
  BackendQuirks quirks;
};

// Every enabled backend (backends.cpp).
const std::vector<BackendContext>& AllBackends();

// gtest prints parameters in messages; the name is all that matters.
inline void PrintTo(const BackendContext& context, std::ostream* os) {
  *os << context.name;
}

// Names the instantiated cases after the backend: CrudTest.ReadAbsent/memory.
inline std::string BackendParamName(const testing::TestParamInfo<BackendContext>& info) {
  return info.param.name;
}

// The fixture every conformance case derives from: db_ is a fresh empty store of the backend.
class BackendTest : public testing::TestWithParam<BackendContext> {
 protected:
  void SetUp() override;
  void TearDown() override;

  const BackendContext& context() const { return GetParam(); }
  const BackendQuirks& quirks() const { return GetParam().quirks; }

  // Creates the records in order, checking that each is stored under its resolved id.
  void Load(const std::vector<Record>& records);
  // The ids of all records Load() created, in load order.
  const std::vector<std::string>& loaded_ids() const { return loaded_ids_; }

  std::unique_ptr<Database> db_;

 private:
  std::vector<std::string> loaded_ids_;
};

}  // namespace dkdata::conformance

// Skips the current case, naming the capability, unless the backend declares it. `cap` is a member
// of dkdata::Capabilities: DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
#define DKDATA_REQUIRE_CAPABILITY(cap)                                             \
  do {                                                                             \
    if (!db_->capabilities().cap) {                                                \
      GTEST_SKIP() << "backend " << GetParam().name << " lacks capability: " #cap; \
    }                                                                              \
  } while (0)

// Expects `statement` to throw dkdata::Error with the given ErrorCode (a dkdata::ErrorCode value).
#define EXPECT_DKDATA_ERROR(statement, expected_code)                                      \
  do {                                                                                     \
    try {                                                                                  \
      statement;                                                                           \
      ADD_FAILURE() << "expected dkdata::Error(" << ::dkdata::ErrorCodeName(expected_code) \
                    << ") from: " #statement;                                              \
    } catch (const ::dkdata::Error& dkdata_error_) {                                       \
      EXPECT_EQ(::dkdata::ErrorCodeName(dkdata_error_.code()),                             \
                ::dkdata::ErrorCodeName(expected_code))                                    \
          << "from: " #statement << "\nmessage: " << dkdata_error_.what();                 \
    } catch (const std::exception& other_error_) {                                         \
      ADD_FAILURE() << "expected dkdata::Error(" << ::dkdata::ErrorCodeName(expected_code) \
                    << ") from: " #statement                                               \
                    << "\ngot another exception: " << other_error_.what();                 \
    }                                                                                      \
  } while (0)

// Instantiates a conformance suite for every backend in AllBackends(). A build with no backend
// enabled generates no cases, which is allowed rather than reported as an error.
#define DKDATA_INSTANTIATE_CONFORMANCE_SUITE(suite)                                   \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(suite);                               \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                           \
                           ::testing::ValuesIn(::dkdata::conformance::AllBackends()), \
                           ::dkdata::conformance::BackendParamName)
