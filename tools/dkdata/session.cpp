#include "session.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "dkdata/factory.hpp"

namespace dkdata::cli {

std::string DefaultStoreUrl() {
  const char* from_env = std::getenv("DKDATA_STORE");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return std::string(kBuiltinDefaultStore);
}

void PrintError(std::string_view message) {
  std::cout.flush();
  std::cerr << "dkdata: " << message << '\n';
}

Session::Session(std::string store_url)
    : store_url_(std::move(store_url)), stdout_is_terminal_(isatty(STDOUT_FILENO) == 1) {}

Database& Session::db() {
  if (!db_) db_ = OpenDatabase(store_url_);
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
