// Database entries: which backend a `backend:`, `factory:` or `class:` names (with the
// reference's names, aliases and class paths), and construction through the BackendRegistry.
#include <algorithm>
#include <cctype>

#include "backends/option_reader.hpp"
#include "config/config_internal.hpp"
#include "core/closest_name.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"

namespace dkdata {

namespace internal {

namespace {

// The reference's backends (dataknobs_data 0.11.0, backends/__init__.py) and their classes.
struct ReferenceBackend {
  std::string_view name;
  std::vector<std::string_view> aliases;
  std::vector<std::string_view> classes;  // sync, then async
};

const std::vector<ReferenceBackend>& ReferenceBackends() {
  static const std::vector<ReferenceBackend> kBackends = {
      {"memory",
       {"mem"},
       {"dataknobs_data.backends.memory.SyncMemoryDatabase",
        "dataknobs_data.backends.memory.AsyncMemoryDatabase"}},
      {"file",
       {},
       {"dataknobs_data.backends.file.SyncFileDatabase",
        "dataknobs_data.backends.file.AsyncFileDatabase"}},
      {"sqlite",
       {"sqlite3"},
       {"dataknobs_data.backends.sqlite.SyncSQLiteDatabase",
        "dataknobs_data.backends.sqlite_async.AsyncSQLiteDatabase"}},
      {"postgres",
       {"postgresql", "pg"},
       {"dataknobs_data.backends.postgres.SyncPostgresDatabase",
        "dataknobs_data.backends.postgres.AsyncPostgresDatabase"}},
      {"elasticsearch",
       {"es"},
       {"dataknobs_data.backends.elasticsearch.SyncElasticsearchDatabase",
        "dataknobs_data.backends.elasticsearch_async.AsyncElasticsearchDatabase"}},
      {"s3",
       {},
       {"dataknobs_data.backends.s3.SyncS3Database",
        "dataknobs_data.backends.s3_async.AsyncS3Database"}},
      {"duckdb",
       {},
       {"dataknobs_data.backends.duckdb.SyncDuckDBDatabase",
        "dataknobs_data.backends.duckdb.AsyncDuckDBDatabase"}},
  };
  return kBackends;
}

// The factories a reference config names: the README's registered name, the module paths of the
// factory objects and classes (sync and async: dkdata builds the same database for both).
constexpr std::string_view kFactories[] = {
    "database",
    "async_database",
    "dataknobs_data.factory.database_factory",
    "dataknobs_data.factory.async_database_factory",
    "dataknobs_data.factory.DatabaseFactory",
    "dataknobs_data.factory.AsyncDatabaseFactory",
    "dataknobs_data.database_factory",
    "dataknobs_data.async_database_factory",
};

// Keys that select how an entry is built; the backend never sees them.
constexpr std::string_view kRoutingKeys[] = {"name", "type", "class", "factory", "backend"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Strip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "pkg.mod:Name" is the same path as "pkg.mod.Name".
std::string DottedPath(std::string_view path) {
  std::string out(Strip(path));
  std::replace(out.begin(), out.end(), ':', '.');
  return out;
}

std::vector<std::string> BackendNames() {
  std::vector<std::string> out;
  for (const ReferenceBackend& b : ReferenceBackends()) {
    out.emplace_back(b.name);
    for (std::string_view alias : b.aliases) out.emplace_back(alias);
  }
  for (const BackendInfo* info : BackendRegistry::List()) {
    if (std::find(out.begin(), out.end(), info->name) == out.end()) out.push_back(info->name);
  }
  return out;
}

std::string BackendList() {
  std::string out;
  for (const ReferenceBackend& b : ReferenceBackends()) {
    if (!out.empty()) out += ", ";
    out += b.name;
    if (!b.aliases.empty()) {
      out += " (";
      for (std::size_t i = 0; i < b.aliases.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::string(b.aliases[i]);
      }
      out += ")";
    }
  }
  return out;
}

// Selects the backend of one entry; every problem goes to the sink at the offending key.
class BackendSelection {
 public:
  BackendSelection(const Object& entry, const std::string& path, const PositionMap& positions,
                   ProblemSink& sink)
      : entry_(entry), path_(path), positions_(positions), sink_(sink) {}

  std::optional<std::string> Select() {
    const Value* cls = entry_.Find("class");
    const Value* factory = entry_.Find("factory");
    const Value* backend = entry_.Find("backend");
    std::optional<std::string> from_class;
    if (cls != nullptr) {
      from_class = FromClass(*cls);
      if (!from_class) return std::nullopt;
    }
    if (factory != nullptr) {
      if (cls != nullptr) {
        return Fail("factory", "give either 'class' or 'factory', not both");
      }
      if (!CheckFactory(*factory)) return std::nullopt;
      if (backend == nullptr) {
        return Fail("factory",
                    "'factory' needs a 'backend' key naming the backend (the reference would "
                    "silently use memory); backends: " +
                        BackendList());
      }
    }
    if (backend == nullptr) {
      if (from_class) return from_class;
      return Fail("",
                  "a database entry needs 'backend' (or the reference's 'class' or "
                  "'factory'); backends: " +
                      BackendList());
    }
    std::optional<std::string> from_backend = FromBackend(*backend);
    if (!from_backend) return std::nullopt;
    if (from_class && *from_class != *from_backend) {
      return Fail("backend",
                  "'backend' says '" + *from_backend + "' but 'class' says '" + *from_class + "'");
    }
    return from_backend;
  }

 private:
  std::optional<std::string> Fail(std::string_view key, std::string message,
                                  ErrorCode code = ErrorCode::kInvalidArgument) {
    const std::string key_path = key.empty() ? path_ : MemberPath(path_, key);
    sink_.Report(code, NearestPosition(positions_, key_path).value_or(SourcePosition{}), key_path,
                 std::move(message));
    return std::nullopt;
  }

  std::optional<std::string> FromClass(const Value& value) {
    const std::string* text = value.Get<std::string>();
    if (text == nullptr) {
      return Fail("class", "'class' must be a string naming a class, not " +
                               std::string(ValueKindName(value.kind())));
    }
    const std::string path = DottedPath(*text);
    std::vector<std::string> classes;
    for (const ReferenceBackend& b : ReferenceBackends()) {
      for (std::string_view c : b.classes) {
        if (c == path) return Available(b.name, "class");
        classes.emplace_back(c);
      }
    }
    return Fail("class", "unknown class '" + *text + "'" + DidYouMean(path, classes) +
                             "; dkdata maps the reference's database classes "
                             "dataknobs_data.backends.<module>.Sync<Name>Database and their "
                             "Async twins to its backends");
  }

  bool CheckFactory(const Value& value) {
    const std::string* text = value.Get<std::string>();
    if (text == nullptr) {
      Fail("factory",
           "'factory' must be a string, not " + std::string(ValueKindName(value.kind())));
      return false;
    }
    const std::string path = DottedPath(*text);
    std::vector<std::string> factories;
    for (std::string_view f : kFactories) {
      if (f == path) return true;
      factories.emplace_back(f);
    }
    Fail("factory", "unknown factory '" + *text + "'" + DidYouMean(path, factories));
    return false;
  }

  // The reference's normalize_backend: strip, lower-case; null, empty and non-strings are errors.
  std::optional<std::string> FromBackend(const Value& value) {
    if (value.is_null()) {
      return Fail("backend",
                  "the 'backend' key is present but null: name a backend (" + BackendList() + ")");
    }
    const std::string* text = value.Get<std::string>();
    if (text == nullptr) {
      return Fail("backend", "'backend' must be a string naming a backend, got " +
                                 std::string(ValueKindName(value.kind())) + ": " +
                                 value.ToDisplayString());
    }
    const std::string name = Lower(Strip(*text));
    if (name.empty()) {
      return Fail("backend",
                  "the 'backend' key is present but empty: name a backend (" + BackendList() + ")");
    }
    for (const ReferenceBackend& b : ReferenceBackends()) {
      const bool alias = std::find(b.aliases.begin(), b.aliases.end(), name) != b.aliases.end();
      if (b.name == name || alias) return Available(b.name, "backend");
    }
    // A backend an embedding application registered under its own name.
    if (const BackendInfo* info = BackendRegistry::Find(name))
      return Available(info->name, "backend");
    return Fail("backend", "unknown backend '" + *text + "'" + DidYouMean(name, BackendNames()) +
                               "; backends: " + BackendList());
  }

  // name, when this build can construct it.
  std::optional<std::string> Available(std::string_view name, std::string_view key) {
    const BackendInfo* info = BackendRegistry::Find(name);
    if (info == nullptr) {
      std::string built;
      for (const BackendInfo* b : BackendRegistry::List()) {
        if (b->available) built += (built.empty() ? "" : ", ") + b->name;
      }
      return Fail(key,
                  "backend '" + std::string(name) +
                      "' is not implemented in dkdata yet (this build has: " + built + ")",
                  ErrorCode::kUnsupported);
    }
    if (!info->available) {
      // The registry's own message: what to install.
      return Fail(key,
                  "backend '" + info->name +
                      "' is not available in this build: " + info->unavailable_reason,
                  ErrorCode::kUnsupported);
    }
    return info->name;
  }

  const Object& entry_;
  const std::string& path_;
  const PositionMap& positions_;
  ProblemSink& sink_;
};

}  // namespace

std::optional<DatabaseSpec> SelectDatabaseBackend(const Object& entry, const std::string& key_path,
                                                  const PositionMap& positions, ProblemSink& sink) {
  std::optional<std::string> backend = BackendSelection(entry, key_path, positions, sink).Select();
  if (!backend) return std::nullopt;
  DatabaseSpec spec;
  spec.backend = std::move(*backend);
  for (const auto& [key, value] : entry) {
    const bool routing =
        std::find(std::begin(kRoutingKeys), std::end(kRoutingKeys), key) != std::end(kRoutingKeys);
    if (!routing) spec.options.Set(key, value);
  }
  return spec;
}

std::string OptionKeyPath(const std::string& entry_path, const Error& error) {
  const auto* option = dynamic_cast<const OptionError*>(&error);
  return option == nullptr || option->key().empty() ? entry_path
                                                    : MemberPath(entry_path, option->key());
}

namespace {

// Reports every bad option of one entry: after a problem with one key, the check runs again
// without that key, until the options pass or a problem names no key.
void CheckDatabaseOptions(const Object& entry, const DatabaseSpec& spec, const std::string& path,
                          const PositionMap& positions, ProblemSink& sink) {
  const BackendInfo* info = BackendRegistry::Find(spec.backend);
  if (info == nullptr || !info->check_options) return;
  Object options = spec.options;
  for (std::size_t round = 0; round <= spec.options.size(); ++round) {
    try {
      info->check_options(options);
      return;
    } catch (const Error& e) {
      const std::string key_path = OptionKeyPath(path, e);
      sink.Report(e.code(), NearestPosition(positions, key_path).value_or(SourcePosition{}),
                  key_path, RedactMessage(e.what(), Value(entry)));
      const auto* option = dynamic_cast<const OptionError*>(&e);
      if (option == nullptr || !options.Erase(option->key())) return;
    }
  }
}

}  // namespace

void ConfigBuilder::CheckDatabases(const Config& config, ProblemSink& sink) {
  const Value* items = config.Data().Find("databases");
  if (items == nullptr || items->Get<List>() == nullptr) return;
  for (std::size_t i = 0; i < items->AsList().size(); ++i) {
    const std::string path = IndexPath("databases", i);
    const Object* entry = items->AsList()[i].Get<Object>();
    if (entry == nullptr || sink.HasProblemUnder(path)) continue;
    const std::optional<DatabaseSpec> spec =
        SelectDatabaseBackend(*entry, path, config.positions_, sink);
    if (spec) CheckDatabaseOptions(*entry, *spec, path, config.positions_, sink);
  }
}

}  // namespace internal

namespace {

// The entry, its key path and its position, for ResolveDatabaseSpec and its messages.
struct Entry {
  const Object* object;
  std::string path;
  SourcePosition where;
};

Entry FindEntry(const Config& config, std::string_view name_or_index, std::string_view type) {
  const Object& object = config.Get(type, name_or_index);  // throws kNotFound
  const std::string path = internal::IndexPath(type, *config.IndexOf(type, name_or_index));
  return Entry{&object, path, config.SourceOf(path).value_or(SourcePosition{})};
}

}  // namespace

DatabaseSpec ResolveDatabaseSpec(const Config& config, std::string_view name_or_index,
                                 std::string_view type) {
  const Entry entry = FindEntry(config, name_or_index, type);
  internal::ProblemSink sink(/*collect=*/false);
  return *internal::SelectDatabaseBackend(*entry.object, entry.path,
                                          internal::ConfigBuilder::Positions(config), sink);
}

std::unique_ptr<Database> CreateDatabaseFromConfig(const Config& config,
                                                   std::string_view name_or_index,
                                                   std::string_view type) {
  const Entry entry = FindEntry(config, name_or_index, type);
  const DatabaseSpec spec = ResolveDatabaseSpec(config, name_or_index, type);
  try {
    return CreateDatabase(spec.backend, spec.options);
  } catch (const Error& e) {
    // A bad option is cited at its key's line.
    const SourcePosition where =
        config.SourceOf(internal::OptionKeyPath(entry.path, e)).value_or(entry.where);
    const Value* name = entry.object->Find("name");
    const std::string label =
        entry.path + (name != nullptr ? " '" + name->ToDisplayString() + "'" : std::string());
    throw Error(e.code(),
                where.ToString() + ": " + label + ": " +
                    internal::RedactMessage(e.what(), Value(*entry.object)),
                e.backend(), e.native_code());
  }
}

}  // namespace dkdata
