// dkdata/factory.hpp: the backend registry, and constructing a database by name, options or URL.
//
//   auto db = dkdata::OpenDatabase("memory://");
//   auto db2 = dkdata::CreateDatabase("mem", dkdata::Object{});          // by name or alias
//   auto db3 = dkdata::CreateDatabase(dkdata::Object{{"backend", "memory"}});
//
// Backends built into the library register themselves; an embedding application may register its
// own with BackendRegistry::Register before use.
//
// Thread-safety: lookups and construction may run from any thread; Register must not race with
// them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/database.hpp"
#include "dkdata/value.hpp"

namespace dkdata {

using BackendFactory = std::function<std::unique_ptr<Database>(const Object& options)>;

struct BackendInfo {
  std::string name;                      // "memory"
  std::vector<std::string> aliases;      // "mem"
  std::vector<std::string> url_schemes;  // "memory"
  std::string description;
  bool available = true;           // false when built without its dependency
  std::string unavailable_reason;  // what to install or enable when !available
  BackendFactory factory;
  // Every key its options may have, in the order its README's table documents them: the same
  // constant its option parser reads, so the list cannot drift from the code. Empty for a backend
  // built without its dependency (and for one that does not say).
  std::vector<std::string> option_keys;
  // Checks options exactly as the factory would, without creating or opening anything; throws the
  // factory's Error(kInvalidArgument) for the first bad option. `dkdata config check` runs it for
  // every database entry. May be empty: then options are checked only on construction.
  std::function<void(const Object& options)> check_options;
  // Turns the rest of a URL ("//host:port/path?x=y" after "scheme:") into options; may be empty for
  // backends whose URLs carry nothing.
  std::function<Object(std::string_view scheme, std::string_view rest)> url_parser;
};

class BackendRegistry {
 public:
  static void Register(BackendInfo info);
  // The backend of that name or alias (case-insensitive), or nullptr.
  static const BackendInfo* Find(std::string_view name_or_alias);
  static const BackendInfo* FindByScheme(std::string_view scheme);
  static std::vector<const BackendInfo*> List();
};

// Throws Error(kInvalidArgument) for an unknown backend (listing the known ones) and
// Error(kUnsupported) for one built without its dependency.
std::unique_ptr<Database> CreateDatabase(std::string_view backend, const Object& options);
// options["backend"] names the backend; the other keys are its options.
std::unique_ptr<Database> CreateDatabase(const Object& options);
// "memory://", "memory://name" ... the scheme selects the backend.
std::unique_ptr<Database> OpenDatabase(std::string_view url);

// Parses "a=1&b=x%20y" into string options (values stay strings; backends convert and validate).
Object ParseUrlQuery(std::string_view query);

}  // namespace dkdata
