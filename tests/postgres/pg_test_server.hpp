// tests/postgres/pg_test_server.hpp: the PostgreSQL server the postgres backend's tests use.
//
// In order: $DKDATA_PG_URL when set; else the server of the ctest fixture (tests/CMakeLists.txt
// starts it with pg_fixture.sh and names its export file in DKDATA_PG_ENV_FILE); else (a test
// binary run by hand) a private server started once per process with pg_server.sh and stopped at
// exit. Under CI=true a server that cannot be had is a failure, never a skip.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "test_server.hpp"

namespace dkdata::pgtest {

// The server's URL (postgres://postgres@127.0.0.1:PORT/postgres), or "" when there is none;
// then *why says why.
std::string ServerUrl(std::string* why = nullptr);
// Why the postgres tests cannot run here ("" when they can): always "" under CI=true, so that
// the tests run and fail instead of skipping.
std::string UnavailableReason();
// A table name no other test process uses ("t_<pid>_<n>").
std::string FreshTableName();
// Runs a pg_server.sh command (restart, kill, up, ...) on the tests' server; returns its exit
// code. Only for a server this process started itself or the fixture's.
int ServerCommand(const std::string& command);

// True under CI=true, where a server that cannot be had fails the test instead of skipping it.
bool InCi();

// A server of its own, for tests that restart or kill it (the shared one must stay up for the tests
// running beside them): started by the constructor, stopped (by its PID) by the destructor.
class PrivateServer {
 public:
  PrivateServer();

  // "" when it could not start; why() says why.
  const std::string& url() const;
  const std::string& why() const;
  // Runs `pg_server.sh command` on it (restart, down, up, kill); returns the exit code.
  int Run(const std::string& command);

 private:
  testserver::PrivateServer server_;
};

}  // namespace dkdata::pgtest

// Skips the test (or, under CI=true, fails it) when url is empty.
#define DKDATA_REQUIRE_PG_SERVER(url, why)                                       \
  do {                                                                           \
    if ((url).empty()) {                                                         \
      if (::dkdata::pgtest::InCi()) FAIL() << "no PostgreSQL server: " << (why); \
      GTEST_SKIP() << "no PostgreSQL server: " << (why);                         \
    }                                                                            \
  } while (0)
