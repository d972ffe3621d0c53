// tests/elasticsearch/es_test_server.hpp: the Elasticsearch node the elasticsearch backend's tests
// use (tests/lib/test_server.hpp: $DKDATA_ES_URL, else the ctest fixture's node, else one started
// for the process with es_server.sh).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "test_server.hpp"

namespace dkdata::estest {

// The shared node's URL (http://127.0.0.1:PORT), or "" when there is none; then *why says why.
// Flavor elasticsearch ($DKDATA_ES_URL, the fixture file $DKDATA_ES_ENV_FILE) or opensearch
// ($DKDATA_OS_URL, $DKDATA_OS_ENV_FILE).
std::string ServerUrl(std::string* why = nullptr, const std::string& flavor = "elasticsearch");
// Why the tests cannot run here ("" when they can; always "" under CI=true).
std::string UnavailableReason(const std::string& flavor = "elasticsearch");
// An index name no other test process uses ("dk_t_<pid>_<n>").
std::string FreshIndexName();
// Deletes indexes on the node (best effort), by name or pattern.
void DeleteIndex(const std::string& url, const std::string& index);
// How to start a node of its own (testserver::PrivateServer), of a flavor: elasticsearch or
// opensearch.
testserver::ServerKind Kind(const std::string& flavor = "elasticsearch");

}  // namespace dkdata::estest

// Skips the test (or, under CI=true, fails it) when url is empty.
#define DKDATA_REQUIRE_ES_SERVER(url, why)                                            \
  do {                                                                                \
    if ((url).empty()) {                                                              \
      if (::dkdata::testserver::InCi()) FAIL() << "no Elasticsearch node: " << (why); \
      GTEST_SKIP() << "no Elasticsearch node: " << (why);                             \
    }                                                                                 \
  } while (0)
