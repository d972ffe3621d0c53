// src/config/config_internal.hpp: the parts of the config layer shared by its .cpp files.
//
//   config_parse.cpp     YAML/JSON text to a Value plus the position of every value (yaml-cpp)
//   config_env.cpp       the environment, ${VAR} substitution and the two typing rules
//   config_loader.cpp    the load pipeline (includes, settings, overrides, xrefs): ConfigBuilder
//   config_database.cpp  backend selection (backend, factory, class) and construction
//   config_redact.cpp    secrets and URL user-info
//   config.cpp           the Config methods, the checks, Show()
//
// Thread-safety: everything here is reentrant; a ProblemSink belongs to one load.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/config.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

// Positions by key path, for one document or for the whole config.
using PositionMap = std::map<std::string, SourcePosition, std::less<>>;

// Collects problems, or throws the first one as an Error (backend "config") when not collecting.
class ProblemSink {
 public:
  explicit ProblemSink(bool collect) : collect_(collect) {}

  void Report(ConfigProblem problem);
  void Report(ErrorCode code, SourcePosition where, std::string key_path, std::string message);
  bool collecting() const noexcept { return collect_; }
  // Whether a problem was reported at path or inside it.
  bool HasProblemUnder(std::string_view path) const;
  std::size_t count() const noexcept { return problems_.size(); }
  std::vector<ConfigProblem> Take() { return std::move(problems_); }

 private:
  bool collect_;
  std::vector<ConfigProblem> problems_;
};

// ---- Key paths: "databases[0].connection.host" ----

std::string MemberPath(std::string_view parent, std::string_view key);
std::string IndexPath(std::string_view parent, std::size_t index);
// The position of path or of its nearest ancestor in positions; nullopt when none has one.
std::optional<SourcePosition> NearestPosition(const PositionMap& positions, std::string_view path);

// ---- Parsing (config_parse.cpp) ----

struct ParsedDocument {
  Value root;
  PositionMap positions;  // by key path inside the document ("" is the root)
};

// Parses text in format; file names it in positions and problems. Reports a syntax error (with
// its line and column), a duplicate key or an unsupported YAML construct to sink and returns
// nullopt when the document cannot be used. YAML scalars are typed as YAML 1.1 (PyYAML's
// safe_load, which the reference uses): see docs/config.md.
std::optional<ParsedDocument> ParseConfigDocument(std::string_view text, ConfigFormat format,
                                                  const std::string& file, ProblemSink& sink);
// The format a file name's extension selects; nullopt for any other extension.
std::optional<ConfigFormat> FormatOfPath(const std::filesystem::path& path);

// ---- Environment and substitution (config_env.cpp) ----

// Lookups in ConfigOptions::environment, or in the process environment.
class EnvironmentView {
 public:
  explicit EnvironmentView(const std::optional<Environment>& injected) : injected_(injected) {}
  std::optional<std::string> Get(std::string_view name) const;
  // Every variable whose name starts with prefix, sorted by name.
  std::vector<std::pair<std::string, std::string>> WithPrefix(std::string_view prefix) const;

 private:
  const std::optional<Environment>& injected_;
};

// A variable that a placeholder needs and the environment lacks.
struct MissingVariable {
  std::string name;
  std::string message;  // the :?message, or "" for a bare ${VAR}
};

// Substitutes the placeholders in text. A text that is exactly one placeholder is typed by
// TypePlaceholderText when type_whole is set; any other text stays a string. Returns nullopt and
// fills missing when a required variable is unset.
std::optional<Value> SubstituteText(std::string_view text, const EnvironmentView& env,
                                    bool type_whole, MissingVariable& missing);

// The reference's typing of a substituted placeholder: true/yes, false/no (any case), then a
// Python int, then a Python float, else the string.
Value TypePlaceholderText(std::string_view text);
// The reference's typing of a DATAKNOBS_ override: true/yes/1, false/no/0 (any case), then a
// Python int, then a Python float, else the string.
Value TypeOverrideText(std::string_view text);
// Python's int() and float() of a string (surrounding whitespace, sign, '_' between digits;
// float also inf, infinity, nan).
std::optional<std::int64_t> ParsePythonInt(std::string_view text);
std::optional<double> ParsePythonFloat(std::string_view text);

// ---- Selectors shared by xrefs, overrides and lookups ----

struct Selector {
  std::optional<std::int64_t> index;  // "-?[0-9]+"
  std::string name;                   // otherwise
};
Selector ParseSelector(std::string_view text);
// The position the selector picks in a list of size items, or nullopt when out of range.
std::optional<std::size_t> ResolveIndex(std::int64_t index, std::size_t size);

// ---- Databases (config_database.cpp) ----

// The backend and options of one database entry; reports problems (at the position of the
// offending key, found through positions and key_path) to sink and returns nullopt.
std::optional<DatabaseSpec> SelectDatabaseBackend(const Object& entry, const std::string& key_path,
                                                  const PositionMap& positions, ProblemSink& sink);

// The key path a backend's error points at: entry_path.key for an OptionError naming a key,
// else entry_path.
std::string OptionKeyPath(const std::string& entry_path, const Error& error);

// ---- Redaction (config_redact.cpp) ----

// message with every secret value found in context (strings of 4 or more characters under secret
// keys, at any depth) replaced by "***", and URL user-info redacted.
std::string RedactMessage(std::string_view message, const Value& context);

// ---- The loader (config_loader.cpp) ----

struct LoadSource {
  std::optional<std::filesystem::path> path;  // a file to read
  std::string_view text;                      // or text in format
  ConfigFormat format = ConfigFormat::kYaml;
  std::string source_name;         // how messages name the entry source
  const Object* object = nullptr;  // or an in-memory config
};

class ConfigBuilder {
 public:
  // Loads source; problems go to sink. Returns nullopt when the entry source could not be read at
  // all (the problems say why); otherwise the config, complete when sink holds no problem.
  static std::optional<Config> Load(const LoadSource& source, const ConfigOptions& options,
                                    ProblemSink& sink);
  // Reports the backend selection problems of every "databases" entry.
  static void CheckDatabases(const Config& config, ProblemSink& sink);
  static const PositionMap& Positions(const Config& config) { return config.positions_; }
};

}  // namespace dkdata::internal
