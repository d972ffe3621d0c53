// tools/dkdata/session.hpp: what the commands of one dkdata process share.
//
// A Session owns the store (opened on first use, so that `--help` and usage errors never touch it)
// and knows where output goes. `dkdata shell` and `dkdata --script` run many commands against one
// Session, which is what makes `memory://` useful from the command line.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dkdata/config.hpp"
#include "dkdata/database.hpp"

namespace dkdata::cli {

// Exit codes, documented in the footer of `dkdata --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // not found, or a dkdata::Error
inline constexpr int kExitUsage = 2;   // bad flags or arguments, query syntax errors

// A mistake in how the command line was written (exit code 2). Operations that fail for other
// reasons throw dkdata::Error (exit code 1).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The store used when --store is not given: $DKDATA_STORE when set and not empty, else the
// default store, a SQLite file at DefaultStorePath() that outlives the process (memory:// in a
// build without the sqlite backend). This is the one place to change the default.
std::string DefaultStoreUrl();
// Where the default store lives: $DKDATA_HOME/default.sqlite when DKDATA_HOME is set and not
// empty, else ${XDG_DATA_HOME:-$HOME/.local/share}/dkdata/default.sqlite (the folder is created on
// first use); "" when none of these variables is set.
std::string DefaultStorePath();
// The sqlite:// URL of a file path ('%' and '?' escaped, as the URL parser reads them).
std::string SqliteUrlOf(std::string_view path);

// Prints "dkdata: message" on stderr.
void PrintError(std::string_view message);

class Session {
 public:
  explicit Session(std::string store_url);

  // Only takes effect before the store is opened.
  void set_store_url(std::string url) { store_url_ = std::move(url); }
  const std::string& store_url() const noexcept { return store_url_; }

  // --config FILE and --db NAME: the store is then the database entry NAME of the config file's
  // `databases` (CreateDatabaseFromConfig) instead of the store URL. Without a name, the entry
  // named "default" when there is one, else the first. Only takes effect before the store is
  // opened.
  void set_config(std::string path, std::string db_name) {
    config_path_ = std::move(path);
    db_name_ = std::move(db_name);
  }
  const std::string& config_path() const noexcept { return config_path_; }
  // What the commands use: the store URL, or "FILE: databases[i] 'name' (backend)".
  std::string StoreDescription();

  // The store, opened on first use. Throws dkdata::Error when it cannot be opened (or when there
  // is no store URL: no --store, DKDATA_STORE, DKDATA_HOME, XDG_DATA_HOME or HOME; or when the
  // config file has no such database, naming those it has).
  Database& db();
  // Closes the store when it was opened. Throws dkdata::Error when closing fails.
  void Close();

  bool stdout_is_terminal() const noexcept { return stdout_is_terminal_; }

  // True while stdin carries commands (`dkdata shell`, `--script -`): `-` cannot then read data.
  bool stdin_is_command_stream() const noexcept { return stdin_is_command_stream_; }
  void set_stdin_is_command_stream(bool value) noexcept { stdin_is_command_stream_ = value; }

 private:
  // The name of the config's entry that --db (or the default) selects; loads the config.
  std::string ConfigDatabaseName();

  std::string store_url_;
  std::string config_path_;
  std::string db_name_;
  std::shared_ptr<const Config> config_;  // loaded on first use
  std::unique_ptr<Database> db_;
  bool stdout_is_terminal_;
  bool stdin_is_command_stream_ = false;
};

// Throws UsageError when `-` (stdin) is asked for while stdin carries the commands.
void RequireStdinForData(const Session& session);

}  // namespace dkdata::cli
