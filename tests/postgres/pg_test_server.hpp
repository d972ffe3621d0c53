// tests/postgres/pg_test_server.hpp: the PostgreSQL server the postgres backend's tests use.
//
// In order: $DKDATA_PG_URL when set; else the server of the ctest fixture (tests/CMakeLists.txt
// starts it with pg_fixture.sh and names its export file in DKDATA_PG_ENV_FILE); else (a test
// binary run by hand) a private server started once per process with pg_server.sh and stopped at
// exit. Under CI=true a server that cannot be had is a failure, never a skip.
#pragma once

#include <string>

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

}  // namespace dkdata::pgtest
