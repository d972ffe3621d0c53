// tests/s3/s3_test_server.hpp: the S3-compatible server the s3 backend's tests use
// (tests/lib/test_server.hpp: $DKDATA_S3_ENDPOINT with $DKDATA_S3_ACCESS_KEY and
// $DKDATA_S3_SECRET_KEY, else the ctest fixture's server, else one started for the process with
// s3_server.sh: moto, checking SigV4 signatures).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dkdata/value.hpp"
#include "test_server.hpp"

namespace dkdata::s3test {

struct S3Server {
  std::string endpoint;  // http://127.0.0.1:PORT, or "" when there is none
  std::string access_key, secret_key, region;
  // Temporary (STS) credentials of the same server, where it has them.
  std::string session_access_key, session_secret_key, session_token;
};

// The shared server; endpoint "" when there is none, and then *why says why.
S3Server Server(std::string* why = nullptr);
// Why the tests cannot run here ("" when they can; always "" under CI=true).
std::string UnavailableReason();
// How to start a server of its own (testserver::PrivateServer).
testserver::ServerKind Kind();
// The credentials a PrivateServer exported.
S3Server FromExports(const std::map<std::string, std::string>& exports);

// A bucket name no other test process uses ("dk-t-<pid>-<n>"), made on the server.
std::string FreshBucket(const S3Server& server);
// The options of a store in bucket under prefix on the server (path-style, its credentials).
Object StoreOptions(const S3Server& server, const std::string& bucket, const std::string& prefix);
// A signed request straight to the server (not through the backend): returns the status; body and
// headers in *body when given. key "" means the bucket itself.
long RawRequest(const S3Server& server, const std::string& method, const std::string& path,
                const std::string& payload = "", std::string* body = nullptr,
                const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace dkdata::s3test

// Skips the test (or, under CI=true, fails it) when there is no server.
#define DKDATA_REQUIRE_S3_SERVER(server, why)                                \
  do {                                                                       \
    if ((server).endpoint.empty()) {                                         \
      if (::dkdata::testserver::InCi()) FAIL() << "no S3 server: " << (why); \
      GTEST_SKIP() << "no S3 server: " << (why);                             \
    }                                                                        \
  } while (0)
