// tools/dkdata/commands.hpp: the subcommands: records, the store, config files, backends.
//
// Each Add*Command adds one CLI11 subcommand to app. When parsing chooses that subcommand, its
// callback stores in `action` what to run; the caller runs it after parsing, so that parse errors
// (exit code 2) never leave half-done work behind.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dkdata/query.hpp"
#include "session.hpp"

namespace CLI {
class App;
class Validator;
}  // namespace CLI

namespace dkdata::cli {

// Runs a parsed command; returns its exit code.
using Action = std::function<int(Session&)>;

void AddCreateCommand(CLI::App& app, Action& action);
void AddGetCommand(CLI::App& app, Action& action);
void AddUpdateCommand(CLI::App& app, Action& action);
void AddDeleteCommand(CLI::App& app, Action& action);
void AddQueryCommand(CLI::App& app, Action& action);
void AddCountCommand(CLI::App& app, Action& action);
void AddExportCommand(CLI::App& app, Action& action);
void AddImportCommand(CLI::App& app, Action& action);  // import.cpp
void AddStoreCommand(CLI::App& app, Action& action);
void AddConfigCommand(CLI::App& app, Action& action);    // config_commands.cpp: check, show
void AddBackendsCommand(CLI::App& app, Action& action);  // config_commands.cpp

// All of the above, in the order `dkdata --help` lists them.
void AddRecordCommands(CLI::App& app, Action& action);

// The query flags shared by query, count and export.
struct QueryOptions {
  std::string text;               // the query language: one argument
  std::string where;              // --where: a filter ANDed onto the text's
  std::vector<std::string> sort;  // --sort FIELD[:asc|:desc], after the text's order by
  std::optional<std::size_t> limit;
  std::optional<std::size_t> offset;
  std::vector<std::string> fields;
};
// Adds --where, --sort, --limit, --offset and --fields (not the text, which commands take their
// own way).
void AddQueryFlags(CLI::App& command, QueryOptions& options);
// Throws UsageError for query syntax errors, bad --sort specs and the like.
Query BuildQuery(const QueryOptions& options);
// Query::Parse, with its invalid_argument errors turned into UsageError (exit code 2).
Query ParseQueryText(std::string_view text);

// A CLI11 check: a whole number >= min (CLI11 itself would turn "-1" into a huge unsigned).
CLI::Validator AtLeast(long long min);

// Reads a whole file, or stdin for "-". Throws dkdata::Error(kIo) when the file cannot be read.
std::string ReadInput(const Session& session, const std::string& path);

}  // namespace dkdata::cli
