#include "session.hpp"

#include <unistd.h>

#include <algorithm>
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

std::string Session::ConfigDatabaseName() {
  if (!config_) config_ = std::make_shared<const Config>(Config::LoadFile(config_path_));
  const std::vector<std::string> names = config_->Names("databases");
  if (!db_name_.empty()) {
    if (!config_->IndexOf("databases", db_name_)) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
      throw Error(ErrorCode::kNotFound,
                  config_path_ + " has no database '" + db_name_ +
                      "' (--db); its databases: " + (list.empty() ? "none" : list));
    }
    return db_name_;
  }
  if (names.empty()) {
    throw Error(ErrorCode::kNotFound, config_path_ + " has no databases (a 'databases:' list)");
  }
  const bool has_default = std::find(names.begin(), names.end(), "default") != names.end();
  return has_default ? "default" : names.front();
}

std::string Session::StoreDescription() {
  if (config_path_.empty()) {
    if (store_url_.empty()) db();  // says why there is none
    return store_url_;
  }
  const std::string name = ConfigDatabaseName();
  const std::size_t index = *config_->IndexOf("databases", name);
  return config_path_ + ": databases[" + std::to_string(index) + "] '" +
         config_->Names("databases")[index] + "' (" + ResolveDatabaseSpec(*config_, name).backend +
         ")";
}

Database& Session::db() {
  if (!db_ && !config_path_.empty()) {
    const std::string name = ConfigDatabaseName();  // loads config_
    db_ = CreateDatabaseFromConfig(*config_, name);
  }
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
