// The Config methods, the checks, Show(), and the small shared pieces (problems, key paths).
#include "dkdata/config.hpp"

#include <charconv>
#include <cmath>

#include "config/config_internal.hpp"
#include "dkdata/json.hpp"

namespace dkdata {

using internal::ConfigBuilder;
using internal::LoadSource;
using internal::ProblemSink;

std::string SourcePosition::ToString() const {
  if (file.empty() && line == 0) return "<config>";
  std::string out = file.empty() ? "<config>" : file;
  if (line > 0) {
    out.append(":").append(std::to_string(line)).append(":").append(std::to_string(column));
  }
  return out;
}

std::string ConfigProblem::ToString() const {
  std::string out = where.ToString();
  if (!key_path.empty()) out += ": " + key_path;
  return out + ": " + message;
}

namespace internal {

void ProblemSink::Report(ConfigProblem problem) {
  problem.message = RedactUrls(problem.message);
  if (!collect_) throw Error(problem.code, problem.ToString(), "config");
  problems_.push_back(std::move(problem));
}

void ProblemSink::Report(ErrorCode code, SourcePosition where, std::string key_path,
                         std::string message) {
  Report(ConfigProblem{code, std::move(where), std::move(key_path), std::move(message)});
}

bool ProblemSink::HasProblemUnder(std::string_view path) const {
  for (const ConfigProblem& p : problems_) {
    const std::string_view k = p.key_path;
    if (k.starts_with(path) &&
        (k.size() == path.size() || k[path.size()] == '.' || k[path.size()] == '[')) {
      return true;
    }
  }
  return false;
}

std::string MemberPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out.push_back('.');
  out.append(key);
  return out;
}

std::string IndexPath(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::optional<SourcePosition> NearestPosition(const PositionMap& positions, std::string_view path) {
  while (true) {
    if (auto it = positions.find(path); it != positions.end()) return it->second;
    if (path.empty()) return std::nullopt;
    const std::size_t cut = path.back() == ']' ? path.rfind('[') : path.find_last_of(".[");
    path = path.substr(0, cut == std::string_view::npos ? 0 : cut);
  }
}

}  // namespace internal

namespace {

Config LoadOrThrow(const LoadSource& source, const ConfigOptions& options) {
  ProblemSink sink(/*collect=*/false);
  std::optional<Config> config = ConfigBuilder::Load(source, options, sink);
  // Without collecting, every problem throws; a load that returns nothing has reported one.
  if (!config) throw Error(ErrorCode::kInternal, "config load failed without a problem", "config");
  return std::move(*config);
}

std::vector<ConfigProblem> CheckSource(const LoadSource& source, const ConfigOptions& options) {
  ProblemSink sink(/*collect=*/true);
  if (std::optional<Config> config = ConfigBuilder::Load(source, options, sink)) {
    ConfigBuilder::CheckDatabases(*config, sink);
  }
  return sink.Take();
}

LoadSource FileSource(const std::filesystem::path& path) {
  LoadSource source;
  source.path = path;
  source.source_name = path.string();
  return source;
}

LoadSource TextSource(std::string_view text, ConfigFormat format, std::string_view name) {
  LoadSource source;
  source.text = text;
  source.format = format;
  source.source_name = std::string(name);
  return source;
}

const List* ItemsOf(const Object& data, std::string_view type) {
  if (type == "settings") return nullptr;
  const Value* items = data.Find(type);
  return items == nullptr ? nullptr : items->Get<List>();
}

std::string JoinQuoted(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
  return out;
}

// ---- YAML output (Show) ----

bool IsPlainSafe(const std::string& s) {
  if (s.empty()) return false;
  const char first = s[0];
  if (!(std::isalpha(static_cast<unsigned char>(first)) || first == '_' || first == '/')) {
    return false;
  }
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '/' || c == '@' || c == '+')) {
      return false;
    }
  }
  // Words that YAML 1.1 reads as something else (yes, off, null, ...) are quoted.
  static constexpr std::string_view kSpecial[] = {"y",   "n",    "yes",   "no",  "on",
                                                  "off", "true", "false", "null"};
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word : kSpecial) {
    if (lower == word) return false;
  }
  return true;
}

std::string YamlScalar(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return value.AsBool() ? "true" : "false";
    case ValueKind::kInt:
      return std::to_string(value.AsInt());
    case ValueKind::kFloat: {
      const double d = value.AsDouble();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      char buffer[64];
      const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
      std::string text(buffer, end);
      // YAML 1.1 floats need a '.' (1e+20 would read back as a string).
      if (text.find('.') == std::string::npos) {
        const std::size_t e = text.find('e');
        text.insert(e == std::string::npos ? text.size() : e, ".0");
      }
      return text;
    }
    case ValueKind::kString:
      return IsPlainSafe(value.AsString()) ? value.AsString() : ToJson(value);
    default:
      return ToJson(Value(value.ToDisplayString()));
  }
}

bool IsBlock(const Value& value) {
  if (const Object* o = value.Get<Object>()) return !o->empty();
  if (const List* l = value.Get<List>()) return !l->empty();
  return false;
}

std::string Inline(const Value& value) {
  if (value.Get<Object>()) return "{}";
  if (value.Get<List>()) return "[]";
  return YamlScalar(value);
}

void AppendYaml(std::string& out, const Value& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (const Object* object = value.Get<Object>()) {
    for (const auto& [key, member] : *object) {
      out += pad + YamlScalar(Value(key)) + ":";
      if (IsBlock(member)) {
        out += "\n";
        AppendYaml(out, member, indent + 2);
      } else {
        out.append(" ").append(Inline(member)).append("\n");
      }
    }
    return;
  }
  for (const Value& item : value.AsList()) {
    if (IsBlock(item)) {
      // "- " then the item's first line; its other lines indented under it.
      std::string nested;
      AppendYaml(nested, item, indent + 2);
      out.append(pad).append("- ").append(nested, static_cast<std::size_t>(indent) + 2);
    } else {
      out.append(pad).append("- ").append(Inline(item)).append("\n");
    }
  }
}

// JSON has no NaN or infinity: they are written as the strings "NaN", "Infinity", "-Infinity".
Value JsonSafe(const Value& value) {
  if (value.kind() == ValueKind::kFloat && !std::isfinite(value.AsDouble())) {
    const double d = value.AsDouble();
    return Value(std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
  }
  if (const List* list = value.Get<List>()) {
    List out;
    for (const Value& item : *list) out.push_back(JsonSafe(item));
    return Value(std::move(out));
  }
  if (const Object* object = value.Get<Object>()) {
    Object out;
    for (const auto& [key, member] : *object) out.Set(key, JsonSafe(member));
    return Value(std::move(out));
  }
  return value;
}

}  // namespace

Config Config::LoadFile(const std::filesystem::path& path, const ConfigOptions& options) {
  return LoadOrThrow(FileSource(path), options);
}

Config Config::FromText(std::string_view text, ConfigFormat format, std::string_view source_name,
                        const ConfigOptions& options) {
  return LoadOrThrow(TextSource(text, format, source_name), options);
}

Config Config::FromObject(const Object& data, const ConfigOptions& options) {
  LoadSource source;
  source.object = &data;
  return LoadOrThrow(source, options);
}

std::vector<std::string> Config::Types() const {
  std::vector<std::string> out;
  for (const auto& [type, items] : data_) {
    if (type != "settings") out.push_back(type);
  }
  return out;
}

std::vector<std::string> Config::Names(std::string_view type) const {
  std::vector<std::string> out;
  if (const List* items = ItemsOf(data_, type)) {
    for (const Value& item : *items) {
      const Value* name = item.AsObject().Find("name");
      out.push_back(name != nullptr ? name->ToDisplayString() : std::string());
    }
  }
  return out;
}

std::optional<std::size_t> Config::IndexOf(std::string_view type,
                                           std::string_view name_or_index) const {
  const List* items = ItemsOf(data_, type);
  if (items == nullptr) return std::nullopt;
  const internal::Selector selector = internal::ParseSelector(name_or_index);
  if (selector.index) return internal::ResolveIndex(*selector.index, items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const Value* name = (*items)[i].AsObject().Find("name");
    if (name != nullptr && name->Get<std::string>() && name->AsString() == selector.name) return i;
  }
  return std::nullopt;
}

const Object& Config::Get(std::string_view type, std::string_view name_or_index) const {
  const List* items = ItemsOf(data_, type);
  if (items == nullptr) {
    throw Error(
        ErrorCode::kNotFound,
        "no type '" + std::string(type) + "' in the config (types: " + JoinQuoted(Types()) + ")",
        "config");
  }
  if (const std::optional<std::size_t> index = IndexOf(type, name_or_index)) {
    return (*items)[*index].AsObject();
  }
  if (internal::ParseSelector(name_or_index).index) {
    throw Error(ErrorCode::kNotFound,
                "index " + std::string(name_or_index) + " is out of range: '" + std::string(type) +
                    "' has " + std::to_string(items->size()) + " item(s)",
                "config");
  }
  throw Error(ErrorCode::kNotFound,
              "no item of '" + std::string(type) + "' is named '" + std::string(name_or_index) +
                  "' (names: " + JoinQuoted(Names(type)) + ")",
              "config");
}

std::optional<SourcePosition> Config::SourceOf(std::string_view key_path) const {
  return internal::NearestPosition(positions_, key_path);
}

std::string Config::Show(ConfigFormat format) const {
  const Object redacted = RedactSecrets(data_);
  if (format == ConfigFormat::kJson) return ToJson(JsonSafe(Value(redacted))) + "\n";
  if (redacted.empty()) return "{}\n";
  std::string out;
  AppendYaml(out, Value(redacted), 0);
  return out;
}

std::vector<ConfigProblem> CheckConfigFile(const std::filesystem::path& path,
                                           const ConfigOptions& options) {
  return CheckSource(FileSource(path), options);
}

std::vector<ConfigProblem> CheckConfigText(std::string_view text, ConfigFormat format,
                                           std::string_view source_name,
                                           const ConfigOptions& options) {
  return CheckSource(TextSource(text, format, source_name), options);
}

}  // namespace dkdata
