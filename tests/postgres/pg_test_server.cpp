// The PostgreSQL server of the tests (pg_test_server.hpp), on tests/lib/test_server.
#include "pg_test_server.hpp"

#include <unistd.h>

#include <atomic>

namespace dkdata::pgtest {

namespace {

const testserver::ServerKind& Kind() {
  static const testserver::ServerKind kind{
      "PostgreSQL",
      "tests/postgres/pg_server.sh",
      "",
      "DKDATA_PG_URL",
      "DKDATA_PG_ENV_FILE",
      "DKDATA_PG_DATA",
      "install it with: apt-get install -y postgresql libpq-dev",
      ""};
  return kind;
}

testserver::SharedServer& TheServer() {
  static testserver::SharedServer server(Kind());
  return server;
}

}  // namespace

std::string ServerUrl(std::string* why) {
  return TheServer().Url(why);
}

std::string UnavailableReason() {
  return TheServer().UnavailableReason();
}

std::string FreshTableName() {
  static std::atomic<int> counter{0};
  return "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

int ServerCommand(const std::string& command) {
  return TheServer().Command(command);
}

bool InCi() {
  return testserver::InCi();
}

PrivateServer::PrivateServer() : server_(Kind()) {}

const std::string& PrivateServer::url() const {
  return server_.url();
}

const std::string& PrivateServer::why() const {
  return server_.why();
}

int PrivateServer::Run(const std::string& command) {
  return server_.Run(command);
}

}  // namespace dkdata::pgtest
