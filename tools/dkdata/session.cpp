#include "session.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::cli {

namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string DefaultStorePath() {
  if (std::string home = Environment("DKDATA_HOME"); !home.empty()) {
    return home + "/default.sqlite";
  }
  std::string data = Environment("XDG_DATA_HOME");
  if (data.empty()) {
    const std::string home = Environment("HOME");
    if (home.empty()) return {};
    data = home + "/.local/share";
  }
  return data + "/dkdata/default.sqlite";
}

std::string SqliteUrlOf(std::string_view path) {
  std::string url = "sqlite://";
  for (const char c : path) {
    if (c == '%') {
      url += "%25";
    } else if (c == '?') {
      url += "%3F";
    } else {
      url += c;
    }
  }
  return url;
}

std::string DefaultStoreUrl() {
  if (std::string from_env = Environment("DKDATA_STORE"); !from_env.empty()) return from_env;
  const BackendInfo* sqlite = BackendRegistry::Find("sqlite");
  if (sqlite == nullptr || !sqlite->available) return "memory://";
  const std::string path = DefaultStorePath();
  return path.empty() ? std::string() : SqliteUrlOf(path);
}

void PrintError(std::string_view message) {
  std::cout.flush();
  std::cerr << "dkdata: " << message << '\n';
}

Session::Session(std::string store_url)
    : store_url_(std::move(store_url)), stdout_is_terminal_(isatty(STDOUT_FILENO) == 1) {}

Database& Session::db() {
  if (!db_) {
    if (store_url_.empty()) {
      throw Error(ErrorCode::kInvalidArgument,
                  "no store: give --store URL, or set DKDATA_STORE, or DKDATA_HOME (or HOME) for "
                  "the default store");
    }
    db_ = OpenDatabase(store_url_);
  }
  return *db_;
}

void Session::Close() {
  if (!db_) return;
  std::unique_ptr<Database> db = std::move(db_);
  db->Close();
}

void RequireStdinForData(const Session& session) {
  if (session.stdin_is_command_stream()) {
    throw UsageError(
        "'-' cannot read data from stdin while stdin carries the commands; "
        "use a file, or run the commands with --script FILE");
  }
}

}  // namespace dkdata::cli
