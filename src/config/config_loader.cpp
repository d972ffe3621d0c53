// The load pipeline (see dkdata/config.hpp and docs/config.md): entry document, settings, then
// per object: includes, type and name, settings defaults, ${VAR} substitution, path resolution;
// then DATAKNOBS_ overrides, name checks and xref resolution.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "config/config_internal.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSettings = "settings";
constexpr std::string_view kOverridePrefix = "DATAKNOBS_";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return Lower(a) == Lower(b);
}

std::string Quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string JoinQuoted(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += Quoted(item);
  }
  return out;
}

// A file the loader reads: its absolute path (identity, for cycles) and how messages name it.
struct SourceFile {
  fs::path absolute;
  std::string display;
};

// The contents of a file, or nullopt with errno's text in error.
std::optional<std::string> ReadWholeFile(const fs::path& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = "read failed";
    return std::nullopt;
  }
  return std::move(text).str();
}

// Calls fn(key, value) for each member of object, with the value mutable (Object gives no mutable
// iteration: its keys must not change).
template <class Fn>
void ForEachMember(Object& object, Fn&& fn) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.push_back(member.first);
  for (const std::string& key : keys) fn(key, *object.Find(key));
}

// One object of a type, before it is placed: its positions relative to itself ("" is the object).
struct Item {
  Object object;
  std::vector<std::pair<std::string, SourcePosition>> positions;
};

// The positions of doc under prefix, relative to it.
std::vector<std::pair<std::string, SourcePosition>> PositionsUnder(const PositionMap& positions,
                                                                   const std::string& prefix) {
  std::vector<std::pair<std::string, SourcePosition>> out;
  for (auto it = positions.lower_bound(prefix); it != positions.end(); ++it) {
    const std::string& path = it->first;
    if (!std::string_view(path).starts_with(prefix)) break;
    const std::string_view rest = std::string_view(path).substr(prefix.size());
    if (!prefix.empty() && !rest.empty() && rest[0] != '.' && rest[0] != '[') continue;
    std::string relative(rest);
    if (prefix.empty() && !relative.empty() && relative[0] != '[') relative.insert(0, ".");
    out.emplace_back(std::move(relative), it->second);
  }
  return out;
}

// How path_resolution_attributes selects keys: "key", "type.key", "/regex/", "type./regex/".
struct PathSelector {
  std::string type;  // "" for every type
  std::string key;
  std::optional<std::regex> pattern;

  bool Selects(std::string_view item_type, const std::string& candidate) const {
    if (!type.empty() && type != item_type) return false;
    if (pattern) {
      return std::regex_search(candidate, *pattern, std::regex_constants::match_continuous);
    }
    return candidate == key;
  }
};

struct Settings {
  std::optional<fs::path> config_root;
  std::optional<fs::path> global_root;
  std::map<std::string, fs::path, std::less<>> type_roots;
  std::vector<PathSelector> path_selectors;
  Object global_defaults;
  std::map<std::string, Object, std::less<>> type_defaults;
};

class Loader {
 public:
  Loader(const ConfigOptions& options, ProblemSink& sink)
      : options_(options), sink_(sink), env_(options.environment) {}

  // Fills data and positions from source; false when the entry could not be read at all.
  bool Run(const LoadSource& source, Object& data, PositionMap& positions) {
    std::optional<ParsedDocument> doc = ReadEntry(source);
    if (!doc) return false;
    if (doc->root.is_null()) return true;
    const Object* root = doc->root.Get<Object>();
    if (root == nullptr) {
      Report(entry_position_, "",
             "a config holds a mapping of types at the top level, not " +
                 std::string(ValueKindName(doc->root.kind())));
      return false;
    }
    doc_positions_ = &doc->positions;
    if (const Value* settings = root->Find(kSettings)) ReadSettings(*settings);
    for (const auto& [type, declared] : *root) {
      if (type == kSettings) continue;
      LoadType(type, declared);
    }
    if (options_.apply_env_overrides) ApplyOverrides();
    CheckNames();
    ResolveXrefs();
    if (const Value* settings = root->Find(kSettings)) data_.Set(std::string(kSettings), *settings);
    data = std::move(data_);
    positions = std::move(positions_);
    return true;
  }

 private:
  // ---- problems ----

  SourcePosition Where(std::string_view path) const {
    return NearestPosition(positions_, path).value_or(entry_position_);
  }
  SourcePosition WhereInDoc(std::string_view doc_path) const {
    if (doc_positions_ == nullptr) return entry_position_;
    return NearestPosition(*doc_positions_, doc_path).value_or(entry_position_);
  }
  void Report(SourcePosition where, std::string key_path, std::string message,
              ErrorCode code = ErrorCode::kInvalidArgument) {
    sink_.Report(code, std::move(where), std::move(key_path), std::move(message));
  }

  // ---- entry ----

  std::optional<ParsedDocument> ReadEntry(const LoadSource& source) {
    if (source.object != nullptr) {
      entry_position_ = SourcePosition{source.source_name, 0, 0};
      ParsedDocument doc;
      doc.root = Value(*source.object);
      return doc;
    }
    if (!source.path) {
      entry_position_ = SourcePosition{source.source_name, 0, 0};
      return ParseConfigDocument(source.text, source.format, source.source_name, sink_);
    }
    const fs::path& path = *source.path;
    entry_file_ = SourceFile{fs::absolute(path).lexically_normal(), path.string()};
    entry_position_ = SourcePosition{entry_file_->display, 0, 0};
    root_ = entry_file_->absolute.parent_path();
    const std::optional<ConfigFormat> format = FormatOfPath(path);
    if (!format) {
      Report(entry_position_, "",
             "unsupported config file extension " + Quoted(path.extension().string()) +
                 ": use .yaml, .yml or .json");
      return std::nullopt;
    }
    std::string error;
    std::optional<std::string> text = ReadWholeFile(path, error);
    if (!text) {
      Report(entry_position_, "", "cannot read the config file: " + error, ErrorCode::kIo);
      return std::nullopt;
    }
    include_stack_.push_back(*entry_file_);
    return ParseConfigDocument(*text, *format, entry_file_->display, sink_);
  }

  // ---- settings ----

  // A directory setting as an absolute path: relative ones are relative to the entry file's
  // directory (or the working directory for text and objects).
  std::optional<fs::path> DirectorySetting(const Value& value, const std::string& path) {
    const std::string* text = value.Get<std::string>();
    if (text == nullptr || text->empty()) {
      Report(WhereInDoc(path), path, "must be a non-empty path string");
      return std::nullopt;
    }
    const fs::path dir(*text);
    const fs::path base = entry_file_ ? entry_file_->absolute.parent_path() : fs::current_path();
    return (dir.is_absolute() ? dir : base / dir).lexically_normal();
  }

  void ReadPathSelectors(const Value& value, const std::string& path) {
    const List* list = value.Get<List>();
    if (list == nullptr) {
      Report(WhereInDoc(path), path, "must be a list of key selectors");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string item_path = IndexPath(path, i);
      const std::string* text = (*list)[i].Get<std::string>();
      if (text == nullptr || text->empty()) {
        Report(WhereInDoc(item_path), item_path, "must be a key, 'type.key', or '/regex/'");
        continue;
      }
      PathSelector selector;
      std::string_view rest = *text;
      const bool whole_regex = rest.size() >= 2 && rest.front() == '/' && rest.back() == '/';
      if (const std::size_t dot = rest.find('.'); !whole_regex && dot != std::string_view::npos) {
        selector.type = std::string(rest.substr(0, dot));
        rest = rest.substr(dot + 1);
      }
      if (rest.size() >= 2 && rest.front() == '/' && rest.back() == '/') {
        try {
          selector.pattern.emplace(std::string(rest.substr(1, rest.size() - 2)));
        } catch (const std::regex_error& e) {
          Report(WhereInDoc(item_path), item_path,
                 "invalid regular expression " + Quoted(rest) + ": " + e.what());
          continue;
        }
      } else {
        selector.key = std::string(rest);
      }
      settings_.path_selectors.push_back(std::move(selector));
    }
  }

  void ReadSettings(const Value& value) {
    const std::string path(kSettings);
    const Object* settings = value.Get<Object>();
    if (settings == nullptr) {
      Report(WhereInDoc(path), path, "settings must be a mapping");
      return;
    }
    for (const auto& [key, setting] : *settings) {
      const std::string key_path = MemberPath(path, key);
      if (key == "allow_reference_outside_config_root") {
        Report(WhereInDoc(key_path), key_path,
               "may not be set from configuration content: use "
               "ConfigOptions::allow_include_outside_root");
      } else if (key == "config_root") {
        // A file's own directory is its root (as in the reference, which pins config_root to the
        // entry file's directory before reading its settings); text and objects take it here.
        if (!entry_file_) {
          settings_.config_root = DirectorySetting(setting, key_path);
          if (settings_.config_root) root_ = *settings_.config_root;
        }
      } else if (key == "global_root") {
        settings_.global_root = DirectorySetting(setting, key_path);
      } else if (key == "path_resolution_attributes") {
        ReadPathSelectors(setting, key_path);
      } else if (const std::size_t dot = key.find('.'); dot != std::string::npos) {
        const std::string type = key.substr(0, dot);
        const std::string attr = key.substr(dot + 1);
        if (attr == "global_root") {
          if (auto dir = DirectorySetting(setting, key_path)) settings_.type_roots[type] = *dir;
        } else {
          settings_.type_defaults[type].Set(attr, setting);
        }
      } else {
        settings_.global_defaults.Set(key, setting);
      }
    }
  }

  // ---- types and includes ----

  void LoadType(const std::string& type, const Value& declared) {
    std::vector<Item> items;
    if (const List* list = declared.Get<List>()) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        GatherItem((*list)[i], *doc_positions_, IndexPath(type, i), entry_file_, type, items);
      }
    } else if (!declared.is_null()) {
      // A single object (or include) stands for a one-item list, as in the reference.
      GatherItem(declared, *doc_positions_, type, entry_file_, type, items);
    }
    List& stored = *data_.Set(type, List()).Get<List>();
    for (Item& item : items) {
      const std::size_t index = stored.size();
      const std::string path = IndexPath(type, index);
      for (auto& [relative, where] : item.positions) positions_[path + relative] = where;
      ProcessItem(type, index, path, item.object);
      stored.push_back(Value(std::move(item.object)));
    }
  }

  void GatherItem(const Value& element, const PositionMap& doc_positions,
                  const std::string& doc_path, const std::optional<SourceFile>& file,
                  const std::string& type, std::vector<Item>& out) {
    const SourcePosition where = NearestPosition(doc_positions, doc_path).value_or(entry_position_);
    if (const Object* object = element.Get<Object>()) {
      out.push_back(Item{*object, PositionsUnder(doc_positions, doc_path)});
      return;
    }
    if (const std::string* text = element.Get<std::string>(); text && text->starts_with('@')) {
      // Problems of an include name the item's place in the entry, or the type in a nested one.
      const bool nested = file && entry_file_ && file->absolute != entry_file_->absolute;
      Include(text->substr(1), where, nested ? type : doc_path, file, type, out);
      return;
    }
    Report(where, doc_path,
           "each item of " + Quoted(type) + " must be a mapping or an \"@file\" include, not " +
               (element.Get<std::string>() ? "the string " + Quoted(element.AsString())
                                           : std::string(ValueKindName(element.kind()))));
  }

  std::string IncludeChain(const SourceFile& target) const {
    std::string chain;
    bool in_cycle = false;
    for (const SourceFile& f : include_stack_) {
      in_cycle = in_cycle || f.absolute == target.absolute;
      if (!in_cycle) continue;
      chain += f.display + " -> ";
    }
    return chain + target.display;
  }

  void Include(const std::string& reference, const SourcePosition& where,
               const std::string& key_path, const std::optional<SourceFile>& including,
               const std::string& type, std::vector<Item>& out) {
    const std::string shown = "\"@" + reference + "\"";
    if (reference.empty()) {
      Report(where, key_path, "an include " + shown + " needs a file name after '@'");
      return;
    }
    const fs::path relative(reference);
    fs::path base;
    std::string display_base;
    if (including) {
      base = including->absolute.parent_path();
      display_base = fs::path(including->display).parent_path().string();
    } else if (settings_.config_root) {
      base = *settings_.config_root;
      display_base = base.string();
    } else if (!relative.is_absolute()) {
      Report(where, key_path,
             "include " + shown +
                 " is relative, but this config has no file and no "
                 "settings.config_root to resolve it against");
      return;
    }
    SourceFile target;
    target.absolute = (relative.is_absolute() ? relative : base / relative).lexically_normal();
    target.display = relative.is_absolute()
                         ? target.absolute.string()
                         : (fs::path(display_base) / relative).lexically_normal().string();
    if (!root_.empty() && !options_.allow_include_outside_root) {
      const fs::path inside = target.absolute.lexically_relative(root_);
      if (inside.empty() || *inside.begin() == "..") {
        Report(where, key_path,
               "include " + shown + " reaches outside the config's directory " + root_.string() +
                   " (ConfigOptions::allow_include_outside_root allows it)");
        return;
      }
    }
    for (const SourceFile& open : include_stack_) {
      if (open.absolute == target.absolute) {
        Report(where, key_path, "include cycle: " + IncludeChain(target));
        return;
      }
    }
    const std::optional<ConfigFormat> format = FormatOfPath(target.absolute);
    if (!format) {
      Report(where, key_path,
             "include " + shown + ": unsupported config file extension " +
                 Quoted(target.absolute.extension().string()) + " (use .yaml, .yml or .json)");
      return;
    }
    std::string error;
    std::optional<std::string> text = ReadWholeFile(target.absolute, error);
    if (!text) {
      Report(where, key_path, "included file " + target.display + " cannot be read: " + error);
      return;
    }
    std::optional<ParsedDocument> doc = ParseConfigDocument(*text, *format, target.display, sink_);
    if (!doc) return;
    include_stack_.push_back(target);
    const SourcePosition file_where{target.display, 1, 1};
    if (doc->root.Get<Object>() != nullptr) {
      GatherItem(doc->root, doc->positions, "", target, type, out);
    } else if (const List* list = doc->root.Get<List>()) {
      // dkdata extension: an included list holds several items, which may include further files.
      for (std::size_t i = 0; i < list->size(); ++i) {
        GatherItem((*list)[i], doc->positions, IndexPath("", i), target, type, out);
      }
    } else if (doc->root.is_null()) {
      Report(file_where, key_path, "included file " + target.display + " is empty");
    } else {
      Report(file_where, key_path,
             "included file " + target.display +
                 " must hold a mapping (one object) or a list, not " +
                 std::string(ValueKindName(doc->root.kind())));
    }
    include_stack_.pop_back();
  }

  // ---- one object ----

  void ProcessItem(const std::string& type, std::size_t index, const std::string& path,
                   Object& object) {
    if (const Value* declared = object.Find("type")) {
      if (!(declared->Get<std::string>() && declared->AsString() == type)) {
        const std::string type_path = MemberPath(path, "type");
        Report(Where(type_path), type_path,
               "type mismatch: the object is listed under " + Quoted(type) + " but says type " +
                   Quoted(declared->ToDisplayString()));
      }
    } else {
      object.Set("type", type);
    }
    if (const Value* name = object.Find("name")) {
      if (name->Get<std::string>() == nullptr) {
        const std::string name_path = MemberPath(path, "name");
        Report(Where(name_path), name_path,
               "a name must be a string, not " + std::string(ValueKindName(name->kind())) +
                   " (quote it: name: \"" + name->ToDisplayString() + "\")");
      }
    } else {
      object.Set("name", std::to_string(index));
    }
    ApplyDefaults(type, path, object);
    ForEachMember(object, [&](const std::string& key, Value& value) {
      Substitute(value, MemberPath(path, key), /*type_whole=*/key != "name");
    });
    ResolvePaths(type, path, object);
  }

  void ApplyDefaults(const std::string& type, const std::string& path, Object& object) {
    auto apply = [&](const Object& defaults, const std::string& settings_prefix) {
      for (const auto& [key, value] : defaults) {
        if (object.Find(key) != nullptr) continue;
        object.Set(key, value);
        positions_.emplace(MemberPath(path, key),
                           WhereInDoc(MemberPath(kSettings, settings_prefix + key)));
      }
    };
    if (auto it = settings_.type_defaults.find(type); it != settings_.type_defaults.end()) {
      apply(it->second, type + ".");
    }
    apply(settings_.global_defaults, "");
  }

  void Substitute(Value& value, const std::string& path, bool type_whole) {
    if (const std::string* text = value.Get<std::string>()) {
      MissingVariable missing;
      std::optional<Value> result = SubstituteText(*text, env_, type_whole, missing);
      if (result) {
        value = std::move(*result);
        return;
      }
      std::string message = "required environment variable " + missing.name + " is not set";
      if (!missing.message.empty()) message += ": " + missing.message;
      Report(Where(path), path, std::move(message));
      value = Value();
    } else if (List* list = value.Get<List>()) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        Substitute((*list)[i], IndexPath(path, i), true);
      }
    } else if (Object* object = value.Get<Object>()) {
      ForEachMember(*object, [&](const std::string& key, Value& member) {
        Substitute(member, MemberPath(path, key), true);
      });
    }
  }

  void ResolvePaths(const std::string& type, const std::string& path, Object& object) {
    if (settings_.path_selectors.empty()) return;
    ForEachMember(object, [&](const std::string& key, Value& value) {
      const std::string* text = value.Get<std::string>();
      if (text == nullptr || text->empty() || fs::path(*text).is_absolute()) return;
      bool selected = false;
      for (const PathSelector& s : settings_.path_selectors) {
        selected = selected || s.Selects(type, key);
      }
      if (!selected) return;
      const auto type_root = settings_.type_roots.find(type);
      const std::optional<fs::path> base = type_root != settings_.type_roots.end()
                                               ? std::optional<fs::path>(type_root->second)
                                               : settings_.global_root;
      if (!base) {
        const std::string key_path = MemberPath(path, key);
        Report(Where(key_path), key_path,
               "cannot resolve the relative path " + Quoted(*text) +
                   ": set settings.global_root or settings." + type + ".global_root");
        return;
      }
      value = Value((*base / *text).lexically_normal().string());
    });
  }

  // ---- after all objects ----

  List* TypeList(std::string_view type) {
    Value* v = data_.Find(type);
    return v == nullptr ? nullptr : v->Get<List>();
  }

  std::vector<std::string> TypeNames() const {
    std::vector<std::string> out;
    for (const auto& [type, items] : data_) out.push_back(type);
    return out;
  }

  static std::vector<std::string> ItemNames(const List& items) {
    std::vector<std::string> out;
    for (const Value& item : items) {
      const Value* name = item.AsObject().Find("name");
      out.push_back(name ? name->ToDisplayString() : "");
    }
    return out;
  }

  // DATAKNOBS_<TYPE>__<NAME_OR_INDEX>__<ATTR>[__<ATTR>...]: sets type[sel].attr(.attr...).
  void ApplyOverrides() {
    for (const auto& [variable, text] : env_.WithPrefix(kOverridePrefix)) {
      std::vector<std::string> parts;
      std::string_view rest = std::string_view(variable).substr(kOverridePrefix.size());
      for (std::size_t sep; (sep = rest.find("__")) != std::string_view::npos;) {
        parts.emplace_back(rest.substr(0, sep));
        rest.remove_prefix(sep + 2);
      }
      parts.emplace_back(rest);
      if (parts.size() < 3) continue;  // not an override (as in the reference)
      const SourcePosition where{"environment variable " + variable, 0, 0};
      if (std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
        Report(where, "",
               "an override is DATAKNOBS_<TYPE>__<NAME_OR_INDEX>__<ATTR>, with no empty part");
        continue;
      }
      std::string type;
      for (const auto& [candidate, items] : data_) {
        if (EqualsIgnoreCase(candidate, parts[0])) type = candidate;
      }
      List* items = type.empty() ? nullptr : TypeList(type);
      if (items == nullptr) {
        Report(where, "",
               "no type " + Quoted(Lower(parts[0])) +
                   " in the config (types: " + JoinQuoted(TypeNames()) + ")");
        continue;
      }
      const std::optional<std::size_t> index = OverrideTarget(type, *items, parts[1], where);
      if (!index) continue;
      std::string path = IndexPath(type, *index);
      Object* target = (*items)[*index].Get<Object>();
      for (std::size_t i = 2; i + 1 < parts.size() && target != nullptr; ++i) {
        const std::string key = Lower(parts[i]);
        path = MemberPath(path, key);
        Value* next = target->Find(key);
        if (next == nullptr) next = &target->Set(key, Object());
        target = next->Get<Object>();
        if (target == nullptr) {
          Report(where, path,
                 "cannot set a key inside a " + std::string(ValueKindName(next->kind())));
        }
      }
      if (target == nullptr) continue;
      const std::string key = Lower(parts.back());
      path = MemberPath(path, key);
      target->Set(key, TypeOverrideText(text));
      positions_[path] = where;
    }
  }

  std::optional<std::size_t> OverrideTarget(const std::string& type, const List& items,
                                            const std::string& selector_text,
                                            const SourcePosition& where) {
    const Selector selector = ParseSelector(selector_text);
    if (selector.index) {
      std::optional<std::size_t> index = ResolveIndex(*selector.index, items.size());
      if (!index) {
        Report(where, "",
               "index " + selector_text + " is out of range: " + Quoted(type) + " has " +
                   std::to_string(items.size()) + " item(s)");
      }
      return index;
    }
    // Names match case-insensitively: variable names are upper case, config names usually not.
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Value* name = items[i].AsObject().Find("name");
      if (name == nullptr || !name->Get<std::string>() ||
          !EqualsIgnoreCase(name->AsString(), selector_text)) {
        continue;
      }
      if (found) {
        Report(where, "",
               "name " + Quoted(selector_text) + " matches several items of " + Quoted(type) +
                   " (names differ only in case): use an index");
        return std::nullopt;
      }
      found = i;
    }
    if (!found) {
      Report(where, "",
             "no item of " + Quoted(type) + " is named " + Quoted(Lower(selector_text)) +
                 " (names: " + JoinQuoted(ItemNames(items)) + ")");
    }
    return found;
  }

  void CheckNames() {
    for (auto& [type, value] : data_) {
      const List* items = value.Get<List>();
      std::map<std::string, std::size_t, std::less<>> seen;
      for (std::size_t i = 0; i < items->size(); ++i) {
        const Value* name = (*items)[i].AsObject().Find("name");
        const std::string name_path = MemberPath(IndexPath(type, i), "name");
        if (name == nullptr || name->Get<std::string>() == nullptr) continue;  // reported already
        auto [it, fresh] = seen.emplace(name->AsString(), i);
        if (!fresh) {
          const std::string first = IndexPath(type, it->second);
          Report(Where(name_path), name_path,
                 "duplicate name " + Quoted(name->AsString()) + " (also " + first + " at " +
                     Where(first).ToString() + ")");
        }
      }
    }
  }

  // ---- xrefs ----

  struct XrefTarget {
    std::string type;
    std::size_t index = 0;
  };

  // "xref:type", "xref:type[name]", "xref:type[3]", "xref:type[-1]" (the reference's grammar).
  std::optional<XrefTarget> ParseXref(std::string_view text, const std::string& path) {
    std::string_view rest = text.substr(5);
    std::size_t n = 0;
    auto identifier = [&](char c) {
      return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
             (n > 0 && std::isdigit(static_cast<unsigned char>(c)));
    };
    while (n < rest.size() && identifier(rest[n])) ++n;
    const std::string type(rest.substr(0, n));
    rest.remove_prefix(n);
    std::string selector_text = "0";  // no selector: the first item
    const bool well_formed = rest.empty() || (rest.size() > 2 && rest.front() == '[' &&
                                              rest.find(']') == rest.size() - 1);
    if (well_formed && !rest.empty()) selector_text = std::string(rest.substr(1, rest.size() - 2));
    if (!well_formed || type.empty()) {
      Report(Where(path), path,
             std::string(well_formed ? "missing type in reference " : "invalid reference ") +
                 Quoted(text) + ": use xref:type, xref:type[name] or xref:type[index]");
      return std::nullopt;
    }
    const List* items = TypeList(type);
    if (items == nullptr) {
      Report(Where(path), path,
             "reference " + Quoted(text) + ": no type " + Quoted(type) +
                 " (types: " + JoinQuoted(TypeNames()) + ")");
      return std::nullopt;
    }
    const Selector selector = ParseSelector(selector_text);
    if (selector.index) {
      if (auto index = ResolveIndex(*selector.index, items->size()))
        return XrefTarget{type, *index};
      Report(Where(path), path,
             "reference " + Quoted(text) + ": index out of range (" + Quoted(type) + " has " +
                 std::to_string(items->size()) + " item(s))");
      return std::nullopt;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      const Value* name = (*items)[i].AsObject().Find("name");
      if (name != nullptr && name->Get<std::string>() && name->AsString() == selector.name) {
        return XrefTarget{type, i};
      }
    }
    Report(Where(path), path,
           "reference " + Quoted(text) + ": no item of " + Quoted(type) + " is named " +
               Quoted(selector.name) + " (names: " + JoinQuoted(ItemNames(*items)) + ")");
    return std::nullopt;
  }

  enum class XrefState : std::uint8_t { kPending, kResolving, kDone };

  struct XrefFrame {
    std::string item_path;  // "cyc[0]"
    std::string via;        // the reference that led here, "" for the first
    SourcePosition via_where;
  };

  void ResolveXrefs() {
    for (auto& [type, value] : data_) {
      for (std::size_t i = 0; i < value.Get<List>()->size(); ++i) ResolveItem(type, i);
    }
  }

  void ResolveItem(const std::string& type, std::size_t index) {
    const std::string path = IndexPath(type, index);
    XrefState& state = xref_state_[path];
    if (state != XrefState::kPending) return;
    state = XrefState::kResolving;
    ResolveValue((*TypeList(type))[index], path);
    xref_state_[path] = XrefState::kDone;
  }

  void ResolveValue(Value& value, const std::string& path) {
    if (const std::string* text = value.Get<std::string>()) {
      if (!text->starts_with("xref:")) return;
      const std::string reference = *text;
      std::optional<XrefTarget> target = ParseXref(reference, path);
      if (!target) return;
      const std::string target_path = IndexPath(target->type, target->index);
      if (xref_state_[target_path] == XrefState::kResolving) {
        ReportCycle(target_path, reference, path);
        return;
      }
      xref_stack_.push_back(XrefFrame{target_path, reference, Where(path)});
      ResolveItem(target->type, target->index);
      xref_stack_.pop_back();
      value = (*TypeList(target->type))[target->index];
    } else if (List* list = value.Get<List>()) {
      for (std::size_t i = 0; i < list->size(); ++i) ResolveValue((*list)[i], IndexPath(path, i));
    } else if (Object* object = value.Get<Object>()) {
      ForEachMember(*object, [&](const std::string& key, Value& member) {
        ResolveValue(member, MemberPath(path, key));
      });
    }
  }

  // "xref cycle: cyc[0] -> xref:cyc[b] (f.yaml:3:8) -> xref:cyc[a] (f.yaml:6:8)"
  void ReportCycle(const std::string& target_path, const std::string& reference,
                   const std::string& path) {
    std::size_t start = xref_stack_.size();
    while (start > 0 && xref_stack_[start - 1].item_path != target_path) --start;
    std::string chain = target_path;
    for (std::size_t i = start; i < xref_stack_.size(); ++i) {
      chain += " -> " + xref_stack_[i].via + " (" + xref_stack_[i].via_where.ToString() + ")";
    }
    chain += " -> " + reference + " (" + Where(path).ToString() + ")";
    Report(Where(path), path, "xref cycle: " + chain);
  }

  const ConfigOptions& options_;
  ProblemSink& sink_;
  EnvironmentView env_;
  std::optional<SourceFile> entry_file_;
  SourcePosition entry_position_;
  fs::path root_;  // includes must stay under it; empty: no bound
  std::vector<SourceFile> include_stack_;
  const PositionMap* doc_positions_ = nullptr;
  Settings settings_;
  Object data_;
  PositionMap positions_;
  std::map<std::string, XrefState, std::less<>> xref_state_;
  std::vector<XrefFrame> xref_stack_;
};

}  // namespace

std::optional<Config> ConfigBuilder::Load(const LoadSource& source, const ConfigOptions& options,
                                          ProblemSink& sink) {
  Config config;
  Loader loader(options, sink);
  if (!loader.Run(source, config.data_, config.positions_)) return std::nullopt;
  return config;
}

}  // namespace dkdata::internal
