// The servers of the tests (test_server.hpp).
#include "test_server.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace dkdata::testserver {

namespace {

// The S3 backend's credentials chain ends at the EC2 instance metadata service (169.254.169.254),
// which tests must never reach: off in every test process, unless a test turns it on with a local
// fake (tests/unit/s3_credentials_test.cpp).
[[maybe_unused]] const bool kNoInstanceMetadata = [] {
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 0);
  return true;
}();

}  // namespace

namespace {

std::map<std::string, std::string> ParseExports(std::istream& in) {
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) {
      value = value.substr(1, value.size() - 2);
    }
    out[line.substr(7, eq - 7)] = value;
  }
  return out;
}

std::string Shell(const std::string& command, int* rc) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *rc = -1;
    return out;
  }
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string Script(const ServerKind& kind) {
  return std::string(DKDATA_SOURCE_DIR) + "/" + kind.script;
}

// Starts a server with its script; false (and why) when it cannot.
bool Start(const ServerKind& kind, std::map<std::string, std::string>& exports, std::string& url,
           std::string& why) {
  int rc = 0;
  const std::string out =
      Shell("bash '" + Script(kind) + "' start " + kind.start_args + " 2>&1", &rc);
  std::istringstream in(out);
  exports = ParseExports(in);
  url = rc == 0 ? exports[kind.url_env] : "";
  if (url.empty()) {
    why = "no " + kind.label + " server could be started (" + out + "); " + kind.install_hint +
          ", or set " + (kind.override_env.empty() ? kind.url_env : kind.override_env);
    return false;
  }
  return true;
}

// Runs a script command on the server of exports (updating them); returns its exit code.
int RunCommand(const ServerKind& kind, std::map<std::string, std::string>& exports,
               const std::string& command) {
  int rc = 0;
  const std::string out = Shell(kind.data_env + "='" + exports[kind.data_env] + "' bash '" +
                                    Script(kind) + "' " + command + " 2>&1",
                                &rc);
  std::istringstream in(out);
  for (const auto& [key, value] : ParseExports(in)) exports[key] = value;
  return rc;
}

std::mutex& Mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

void SharedServer::Find() {
  if (looked_) return;
  looked_ = true;
  const std::string& override_env = kind_.override_env.empty() ? kind_.url_env : kind_.override_env;
  if (const char* url = std::getenv(override_env.c_str()); url != nullptr && *url != '\0') {
    url_ = url;
    return;
  }
  if (const char* file = std::getenv(kind_.env_file_env.c_str());
      file != nullptr && *file != '\0') {
    std::ifstream in(file);
    if (in) {
      exports_ = ParseExports(in);
      url_ = exports_[kind_.url_env];
      if (!url_.empty()) return;
    }
  }
  if (!Start(kind_, exports_, url_, why_)) return;
  own_ = true;
}

SharedServer::~SharedServer() {
  if (own_) RunCommand(kind_, exports_, "stop");
}

std::string SharedServer::Url(std::string* why) {
  std::lock_guard<std::mutex> lock(Mutex());
  Find();
  if (why != nullptr) *why = why_;
  return url_;
}

std::string SharedServer::UnavailableReason() {
  std::string why;
  if (!Url(&why).empty() || InCi()) return "";
  return why;
}

int SharedServer::Command(const std::string& command) {
  if (Url().empty()) return -1;
  std::lock_guard<std::mutex> lock(Mutex());
  if (exports_.count(kind_.data_env) == 0) return -1;  // given by URL: not ours
  return RunCommand(kind_, exports_, command);
}

std::string SharedServer::Export(const std::string& name) {
  std::lock_guard<std::mutex> lock(Mutex());
  Find();
  if (const auto found = exports_.find(name); found != exports_.end()) return found->second;
  const char* set = std::getenv(name.c_str());
  return set == nullptr ? std::string() : std::string(set);
}

PrivateServer::PrivateServer(ServerKind kind) : kind_(std::move(kind)) {
  Start(kind_, exports_, url_, why_);
}

PrivateServer::~PrivateServer() {
  if (!url_.empty()) RunCommand(kind_, exports_, "stop");
}

int PrivateServer::Run(const std::string& command) {
  return RunCommand(kind_, exports_, command);
}

}  // namespace dkdata::testserver
