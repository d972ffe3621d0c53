// dkdata/config.hpp: configuration files (YAML, JSON) and in-memory configs, in the reference's
// shape, and constructing databases from them.
//
//   auto config = dkdata::Config::LoadFile("config.yaml");
//   auto db = dkdata::CreateDatabaseFromConfig(config, "primary");
//
// A config holds top-level *types* ("databases", "cache", ...), each a list of named objects, plus
// an optional "settings" block. Loading does, in this order, for each object: "@file" includes,
// `type` and `name` defaults, settings defaults, ${VAR} substitution, settings path resolution;
// then DATAKNOBS_<TYPE>__<NAME_OR_INDEX>__<ATTR> environment overrides, name checks and
// "xref:type[name]" resolution. docs/config.md is the user reference, with every place where
// dkdata differs from the Python reference (dataknobs-config) and why.
//
// Errors: loading throws Error (backend "config") at the first problem, with the file, line,
// column and key path ("databases[0].password") in its message; CheckConfigFile/CheckConfigText
// report every problem instead. Secret values (see IsSecretKey) and URL user-info never appear in
// any message of this layer, nor in Show().
//
// Thread-safety: a Config is immutable once built; its const methods may be called from any number
// of threads. Loading reads the process environment (unless ConfigOptions::environment is given),
// so it must not race with setenv/putenv. All free functions are reentrant.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/value.hpp"

namespace dkdata {

namespace internal {
class ConfigBuilder;
}  // namespace internal

enum class ConfigFormat { kYaml, kJson };

// Where a value came from. file is the path as it was reached (the entry file as given, an
// included file relative to it), "environment variable NAME" for an override, or "" for an
// in-memory object. line and column are 1-based; 0 when unknown.
struct SourcePosition {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:column", "file" when the line is unknown, "<config>" when nothing is known.
  std::string ToString() const;
  friend bool operator==(const SourcePosition&, const SourcePosition&) = default;
};

// One problem found while loading a config.
struct ConfigProblem {
  ErrorCode code = ErrorCode::kInvalidArgument;  // kIo for an unreadable entry file
  SourcePosition where;
  std::string key_path;  // "databases[0].password"; "" for the file as a whole
  std::string message;   // never holds a secret

  // "where: key_path: message" (parts that are empty are left out).
  std::string ToString() const;
};

// Environment variables by name.
using Environment = std::map<std::string, std::string, std::less<>>;

struct ConfigOptions {
  // The variables ${VAR} and DATAKNOBS_ overrides read. nullopt: the process environment. When
  // set, exactly these variables exist (tests and embedders use it to leave the process alone).
  std::optional<Environment> environment;
  // Apply DATAKNOBS_<TYPE>__<NAME_OR_INDEX>__<ATTR> overrides (the reference's use_env).
  bool apply_env_overrides = true;
  // Allow an "@file" include to reach outside the entry file's directory (the reference's
  // allow_reference_outside_config_root). Content cannot set this.
  bool allow_include_outside_root = false;
};

class Config {
 public:
  // Loads a .yaml/.yml or .json file (by extension, case-insensitive). Throws Error(kIo) when the
  // file cannot be read and Error(kInvalidArgument) for any problem in it or in its includes.
  static Config LoadFile(const std::filesystem::path& path, const ConfigOptions& options = {});
  // Loads config text; source_name names it in messages. Relative "@file" includes need
  // settings.config_root.
  static Config FromText(std::string_view text, ConfigFormat format,
                         std::string_view source_name = "<text>",
                         const ConfigOptions& options = {});
  // Loads an in-memory config of the same shape as a file ({type: [objects], settings: {...}}).
  static Config FromObject(const Object& data, const ConfigOptions& options = {});

  // The resolved config: {type: [objects]} in file order, plus "settings" as written when the
  // source has one. Every object has "type" and "name"; variables, overrides and xrefs are
  // resolved. Secrets are in clear here: print RedactSecrets(Data()) or Show(), never Data().
  const Object& Data() const noexcept { return data_; }
  // The type names, in file order ("settings" is not a type).
  std::vector<std::string> Types() const;
  // The names of a type's objects, in order; empty when the type does not exist.
  std::vector<std::string> Names(std::string_view type) const;

  // The index of the object that name_or_index selects: "-?[0-9]+" is an index (negative counts
  // from the end), anything else a name (exact match). nullopt when there is none.
  std::optional<std::size_t> IndexOf(std::string_view type, std::string_view name_or_index) const;
  // The resolved object, selected as by IndexOf. Throws Error(kNotFound) naming the types or the
  // names that exist. The reference stays valid while this Config lives.
  const Object& Get(std::string_view type, std::string_view name_or_index) const;

  // Where the value at key_path ("databases[0].host", indices only) came from; for a path with no
  // position of its own (a value an xref copied, a settings default), its nearest ancestor's.
  std::optional<SourcePosition> SourceOf(std::string_view key_path) const;

  // The config as YAML or JSON text with every secret redacted (for `dkdata config show`). The
  // YAML reads back to the same values; JSON, which has no NaN or infinity, writes those as the
  // strings "NaN", "Infinity" and "-Infinity".
  std::string Show(ConfigFormat format = ConfigFormat::kYaml) const;

 private:
  friend class internal::ConfigBuilder;
  Config() = default;

  Object data_;
  std::map<std::string, SourcePosition, std::less<>> positions_;
};

// Every problem in a config file and its includes, in the order found (empty when it is fine),
// including the database entries' backend selection (unknown backend or class, conflicting
// keys) and their options, checked by the backend without creating anything
// (BackendInfo::check_options): every unknown key or value of the wrong type, each at its key's
// position. Never throws for problems in the config.
std::vector<ConfigProblem> CheckConfigFile(const std::filesystem::path& path,
                                           const ConfigOptions& options = {});
std::vector<ConfigProblem> CheckConfigText(std::string_view text, ConfigFormat format,
                                           std::string_view source_name = "<text>",
                                           const ConfigOptions& options = {});

// ---- Secrets ----

// True for keys whose values are secret: password, passwd, secret, api_key, token, access_token,
// auth_token, client_secret, secret_access_key, aws_secret_access_key, session_token,
// aws_session_token, basic_auth, private_key, and any key ending in _password, _secret, _token or
// _api_key (case-insensitive).
bool IsSecretKey(std::string_view key) noexcept;
// text with the user-info of every URL in it ("scheme://user:pass@host") replaced by "***".
std::string RedactUrls(std::string_view text);
// A copy with every secret key's value (when not null) replaced by "***" and every string's URL
// user-info redacted, at any depth.
Value RedactSecrets(const Value& value);
Object RedactSecrets(const Object& object);

// ---- Databases ----

// What a database entry of a config constructs: a registry backend name and its options.
struct DatabaseSpec {
  std::string backend;  // the canonical name ("memory", "file", "sqlite", ...)
  Object options;       // the entry without name, type, class, factory and backend
};

// The backend and options of the object `type`[name_or_index] (selected as by Config::Get). The
// backend comes from `class:` (a reference class path, sync or async), `factory:` (database,
// the reference's factory paths) plus `backend:`, or `backend:` alone, with the reference's names
// and aliases (mem, sqlite3, postgresql, pg, es). Throws Error(kNotFound) for a missing entry,
// Error(kInvalidArgument) naming the closest valid backend or class for an unknown one, and
// Error(kUnsupported) for a reference backend that dkdata does not implement yet. Options are not
// checked here: the backend checks them when it is constructed.
DatabaseSpec ResolveDatabaseSpec(const Config& config, std::string_view name_or_index,
                                 std::string_view type = "databases");

// Constructs the database ResolveDatabaseSpec describes, through the BackendRegistry. Errors are
// those of ResolveDatabaseSpec and of the backend (Error(kUnsupported) with what to install for a
// backend built without its dependency), prefixed with the entry and its position, secrets
// redacted. Backends check every option before creating anything, so a failed construction
// leaves no file behind.
std::unique_ptr<Database> CreateDatabaseFromConfig(const Config& config,
                                                   std::string_view name_or_index,
                                                   std::string_view type = "databases");

}  // namespace dkdata
