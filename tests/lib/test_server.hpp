// tests/lib/test_server.hpp: a real server (PostgreSQL, Elasticsearch, ...) for the tests of a
// backend that talks to one, started by the backend's server script (tests/<backend>/*_server.sh,
// which prints `export NAME=value` lines and is stopped by PID).
//
// The shared server is, in order: $<override_env> when set; else the server of the ctest fixture
// (whose export file tests/CMakeLists.txt names in $<env_file_env>); else (a test binary run by
// hand) one started once per process and stopped at exit. Under CI=true a server that cannot be had
// is a failure, never a skip.
#pragma once

#include <map>
#include <string>

namespace dkdata::testserver {

// Which server, and how its script reports it.
struct ServerKind {
  std::string label;         // "PostgreSQL", for messages
  std::string script;        // the server script, relative to the source tree
  std::string start_args;    // extra arguments of `start` ("" or "opensearch")
  std::string url_env;       // the variable of the URL it exports
  std::string env_file_env;  // the variable naming the fixture's export file
  std::string data_env;      // the exported variable that names its folder (for its commands)
  std::string install_hint;  // how to make one available
  std::string override_env;  // the variable that gives a running server's URL ("": url_env)
};

// True under CI=true.
bool InCi();

// The shared server of a kind (one per kind and process).
class SharedServer {
 public:
  explicit SharedServer(ServerKind kind) : kind_(std::move(kind)) {}
  // Stops the server when this process started it.
  ~SharedServer();
  SharedServer(const SharedServer&) = delete;
  SharedServer& operator=(const SharedServer&) = delete;
  // Its URL, or "" when there is none; then *why says why.
  std::string Url(std::string* why = nullptr);
  // Why its tests cannot run here ("" when they can): always "" under CI=true.
  std::string UnavailableReason();
  // Another value its script exported (an access key, ...), else the environment's, else "".
  std::string Export(const std::string& name);
  // Runs a script command (restart, kill, up, ...) on it; returns the exit code, -1 when the
  // server was given by URL (not ours to command).
  int Command(const std::string& command);

 private:
  void Find();
  ServerKind kind_;
  bool looked_ = false;
  bool own_ = false;
  std::string url_, why_;
  std::map<std::string, std::string> exports_;
};

// A server of its own, for tests that restart or kill it: started by the constructor, stopped
// (by its PID) by the destructor.
class PrivateServer {
 public:
  explicit PrivateServer(ServerKind kind);
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  // "" when it could not start; why() says why.
  const std::string& url() const { return url_; }
  const std::string& why() const { return why_; }
  const std::map<std::string, std::string>& exports() const { return exports_; }
  // Runs `<script> command` on it (restart, down, up, kill); returns the exit code.
  int Run(const std::string& command);

 private:
  ServerKind kind_;
  std::map<std::string, std::string> exports_;
  std::string url_, why_;
};

}  // namespace dkdata::testserver
