// The PostgreSQL server of the tests (pg_test_server.hpp).
#include "pg_test_server.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace dkdata::pgtest {

namespace {

struct Server {
  std::string url;
  std::string why;
  std::map<std::string, std::string> exports;  // PGPORT, DKDATA_PG_DATA, ...
  bool own = false;                            // started by this process
};

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

std::string ServerScript() {
  return std::string(DKDATA_SOURCE_DIR) + "/tests/postgres/pg_server.sh";
}

// Starts a server with pg_server.sh; false (and why) when it cannot.
bool Start(std::map<std::string, std::string>& exports, std::string& url, std::string& why) {
  int rc = 0;
  const std::string out = Shell("bash '" + ServerScript() + "' start 2>&1", &rc);
  std::istringstream in(out);
  exports = ParseExports(in);
  url = rc == 0 ? exports["DKDATA_PG_URL"] : "";
  if (url.empty()) {
    why = "no PostgreSQL server could be started (" + out +
          "); install it with: apt-get install -y postgresql libpq-dev, or set DKDATA_PG_URL";
    return false;
  }
  return true;
}

// Runs pg_server.sh command on the server of exports (updating them); returns its exit code.
int Command(std::map<std::string, std::string>& exports, const std::string& command) {
  int rc = 0;
  const std::string out = Shell("DKDATA_PG_DATA='" + exports["DKDATA_PG_DATA"] + "' bash '" +
                                    ServerScript() + "' " + command + " 2>&1",
                                &rc);
  std::istringstream in(out);
  for (const auto& [key, value] : ParseExports(in)) exports[key] = value;
  return rc;
}

Server& TheServer() {
  static Server server = [] {
    Server s;
    if (const char* url = std::getenv("DKDATA_PG_URL"); url != nullptr && *url != '\0') {
      s.url = url;
      return s;
    }
    if (const char* file = std::getenv("DKDATA_PG_ENV_FILE"); file != nullptr && *file != '\0') {
      std::ifstream in(file);
      if (in) {
        s.exports = ParseExports(in);
        s.url = s.exports["DKDATA_PG_URL"];
        if (!s.url.empty()) return s;
      }
    }
    if (!Start(s.exports, s.url, s.why)) return s;
    s.own = true;
    std::atexit([] { Command(TheServer().exports, "stop"); });
    return s;
  }();
  return server;
}

}  // namespace

std::string ServerUrl(std::string* why) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  Server& s = TheServer();
  if (why != nullptr) *why = s.why;
  return s.url;
}

std::string UnavailableReason() {
  std::string why;
  if (!ServerUrl(&why).empty() || InCi()) return "";
  return why;
}

std::string FreshTableName() {
  static std::atomic<int> counter{0};
  return "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

int ServerCommand(const std::string& command) {
  std::string why;
  if (ServerUrl(&why).empty()) return -1;
  Server& s = TheServer();
  if (s.exports.count("DKDATA_PG_DATA") == 0) return -1;  // a server given by URL: not ours
  return Command(s.exports, command);
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

PrivateServer::PrivateServer() {
  Start(exports_, url_, why_);
}

PrivateServer::~PrivateServer() {
  if (!url_.empty()) Command(exports_, "stop");
}

int PrivateServer::Run(const std::string& command) {
  return Command(exports_, command);
}

}  // namespace dkdata::pgtest
