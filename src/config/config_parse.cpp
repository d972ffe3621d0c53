// Config text to values with positions. yaml-cpp parses YAML and gives every node its line and
// column; it does not type plain scalars, so they are typed here by the YAML 1.1 rules of PyYAML's
// safe_load (what the reference uses). JSON is parsed by ParseJson (exact JSON typing and
// syntax errors); yaml-cpp then reads the same text once more, for positions only (JSON is YAML).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "config/config_internal.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

constexpr int kMaxDepth = 100;
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool AllOf(std::string_view s, std::string_view allowed) {
  return s.find_first_not_of(allowed) == std::string_view::npos;
}

std::string WithoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

// An int as PyYAML reads one: [-+]? then 0, 0b[01_]+, 0x[0-9a-fA-F_]+, 0[0-7_]+ (octal) or
// [1-9][0-9_]*. out_of_range is set for one that does not fit int64.
std::optional<std::int64_t> YamlInt(std::string_view s, bool& out_of_range) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  if (s == "0") return 0;
  int base = 10;
  std::string_view digits = s;
  if (s.starts_with("0b")) {
    base = 2;
    digits = s.substr(2);
    if (!AllOf(digits, "01_")) return std::nullopt;
  } else if (s.starts_with("0x")) {
    base = 16;
    digits = s.substr(2);
    if (!AllOf(digits, "0123456789abcdefABCDEF_")) return std::nullopt;
  } else if (s[0] == '0') {
    base = 8;
    digits = s.substr(1);
    if (!AllOf(digits, "01234567_")) return std::nullopt;
  } else if (s[0] >= '1' && s[0] <= '9') {
    if (!AllOf(digits, "0123456789_")) return std::nullopt;
  } else {
    return std::nullopt;
  }
  const std::string clean = WithoutUnderscores(digits);
  if (clean.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  const auto [end, error] =
      std::from_chars(clean.data(), clean.data() + clean.size(), magnitude, base);
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  if (error != std::errc() || end != clean.data() + clean.size() || magnitude > limit) {
    out_of_range = true;
    return std::nullopt;
  }
  if (negative) return static_cast<std::int64_t>(0 - magnitude);
  return static_cast<std::int64_t>(magnitude);
}

// A float as PyYAML reads one: [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?, \.[0-9_]+(...)?,
// [-+]?\.(inf|Inf|INF), \.(nan|NaN|NAN). (Sexagesimal 1:30.5 stays a string: see docs/config.md.)
std::optional<double> YamlFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  std::string_view body = s;
  bool negative = false;
  const bool signed_text = !body.empty() && (body[0] == '-' || body[0] == '+');
  if (signed_text) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  const std::size_t dot = body.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view whole = body.substr(0, dot);
  if (whole.empty() ? signed_text : !(whole[0] >= '0' && whole[0] <= '9')) return std::nullopt;
  if (!AllOf(whole, "0123456789_")) return std::nullopt;
  std::string_view rest = body.substr(dot + 1);
  const std::size_t e = rest.find_first_of("eE");
  const std::string_view fraction = rest.substr(0, e);
  if (!AllOf(fraction, "0123456789_")) return std::nullopt;
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (e != std::string_view::npos) {
    const std::string_view exponent = rest.substr(e + 1);
    if (exponent.size() < 2 || (exponent[0] != '-' && exponent[0] != '+') ||
        !AllOf(exponent.substr(1), "0123456789")) {
      return std::nullopt;
    }
  }
  std::string clean = WithoutUnderscores(body);
  if (clean.starts_with('.')) clean.insert(clean.begin(), '0');
  double value = 0;
  const auto [end, error] = std::from_chars(clean.data(), clean.data() + clean.size(), value);
  if (error != std::errc() && error != std::errc::result_out_of_range) return std::nullopt;
  if (end != clean.data() + clean.size()) return std::nullopt;
  return negative ? -value : value;
}

std::optional<bool> YamlBool(std::string_view s) {
  static constexpr std::string_view kTrue[] = {"yes",  "Yes", "YES", "true", "True",
                                               "TRUE", "on",  "On",  "ON"};
  static constexpr std::string_view kFalse[] = {"no",    "No",  "NO",  "false", "False",
                                                "FALSE", "off", "Off", "OFF"};
  for (std::string_view t : kTrue) {
    if (s == t) return true;
  }
  for (std::string_view f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

bool IsYamlNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

SourcePosition PositionOf(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return SourcePosition{file, 0, 0};
  return SourcePosition{file, mark.line + 1, mark.column + 1};
}

// Walks a yaml-cpp tree: records the position of every value and reports duplicate keys and
// unsupported constructs. With build_values, also builds the Value (YAML); without, returns null
// (JSON, whose values come from ParseJson).
class NodeWalker {
 public:
  NodeWalker(const std::string& file, bool build_values, PositionMap& positions, ProblemSink& sink)
      : file_(file), build_values_(build_values), positions_(positions), sink_(sink) {}

  Value Walk(const YAML::Node& node, const std::string& path, const YAML::Mark& fallback,
             int depth) {
    const SourcePosition where = PositionOf(file_, node.IsNull() ? fallback : node.Mark());
    positions_.emplace(path, where);
    if (depth > kMaxDepth) {
      Problem(where, path, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      return Value();
    }
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return WalkMap(node, path, depth);
      case YAML::NodeType::Sequence: {
        List items;
        std::size_t i = 0;
        for (const YAML::Node& item : node) {
          Value v = Walk(item, IndexPath(path, i++), node.Mark(), depth + 1);
          if (build_values_) items.push_back(std::move(v));
        }
        return build_values_ ? Value(std::move(items)) : Value();
      }
      case YAML::NodeType::Scalar:
        return build_values_ ? Scalar(node, where, path) : Value();
      default:
        return Value();
    }
  }

 private:
  void Problem(const SourcePosition& where, const std::string& path, std::string message) {
    sink_.Report(ErrorCode::kInvalidArgument, where, path, std::move(message));
  }

  static bool IsMergeKey(const YAML::Node& key) {
    return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
  }

  Value WalkMap(const YAML::Node& node, const std::string& path, int depth) {
    Object out;
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& member : node) {
      const YAML::Node& key = member.first;
      if (IsMergeKey(key)) continue;
      const SourcePosition key_where = PositionOf(file_, key.Mark());
      if (!key.IsScalar()) {
        Problem(key_where, path, "a key must be a scalar (text), not a list or mapping");
        continue;
      }
      const std::string name = key.Scalar();
      const std::string child = MemberPath(path, name);
      if (auto [it, fresh] = first_line.emplace(name, key_where.line); !fresh) {
        Problem(key_where, child,
                "duplicate key '" + name + "' (first at line " + std::to_string(it->second) + ")");
      }
      Value v = Walk(member.second, child, key.Mark(), depth + 1);
      if (build_values_) out.Set(name, std::move(v));
    }
    // YAML 1.1 merge keys ("<<: *base"): the merged mappings fill in the keys the map lacks.
    for (const auto& member : node) {
      if (!IsMergeKey(member.first)) continue;
      std::vector<YAML::Node> sources;
      if (member.second.IsMap()) {
        sources.push_back(member.second);
      } else if (member.second.IsSequence()) {
        for (const YAML::Node& s : member.second) sources.push_back(s);
      }
      for (const YAML::Node& source : sources) {
        if (!source.IsMap()) {
          Problem(PositionOf(file_, member.first.Mark()), path,
                  "a merge key '<<' takes a mapping or a list of mappings");
          continue;
        }
        Value merged = Walk(source, path, member.first.Mark(), depth + 1);
        if (!build_values_) continue;
        for (const auto& [k, v] : merged.AsObject()) {
          if (out.Find(k) == nullptr) out.Set(k, v);
        }
      }
    }
    return build_values_ ? Value(std::move(out)) : Value();
  }

  Value Scalar(const YAML::Node& node, const SourcePosition& where, const std::string& path) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == std::string(kTagPrefix) + "str") return Value(text);
    if (tag == "?") return Plain(text, where, path);
    const std::string_view short_tag = std::string_view(tag).starts_with(kTagPrefix)
                                           ? std::string_view(tag).substr(kTagPrefix.size())
                                           : std::string_view();
    bool out_of_range = false;
    if (short_tag == "int") {
      if (auto i = YamlInt(text, out_of_range)) return Value(*i);
    } else if (short_tag == "float") {
      if (auto f = YamlFloat(text)) return Value(*f);
      if (auto i = YamlInt(text, out_of_range)) return Value(static_cast<double>(*i));
    } else if (short_tag == "bool") {
      if (auto b = YamlBool(text)) return Value(*b);
    } else if (short_tag == "null") {
      if (IsYamlNull(text)) return Value();
    } else {
      Problem(where, path, "unsupported YAML tag '" + tag + "'");
      return Value(text);
    }
    Problem(where, path, "'" + text + "' is not a valid !!" + std::string(short_tag));
    return Value(text);
  }

  Value Plain(const std::string& text, const SourcePosition& where, const std::string& path) {
    if (IsYamlNull(text)) return Value();
    if (auto b = YamlBool(text)) return Value(*b);
    bool out_of_range = false;
    if (auto i = YamlInt(text, out_of_range)) return Value(*i);
    if (out_of_range) {
      Problem(where, path, "integer " + text + " does not fit in 64 bits");
      return Value(text);
    }
    if (auto f = YamlFloat(text)) return Value(*f);
    return Value(text);
  }

  const std::string& file_;
  bool build_values_;
  PositionMap& positions_;
  ProblemSink& sink_;
};

std::optional<YAML::Node> LoadSingleDocument(std::string_view text, const std::string& file,
                                             ProblemSink& sink, bool report) {
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.size() > 1) {
      if (report) {
        sink.Report(ErrorCode::kInvalidArgument, SourcePosition{file, 0, 0}, "",
                    "holds " + std::to_string(documents.size()) +
                        " YAML documents ('---'); a config file holds one");
      }
      return std::nullopt;
    }
    return documents.empty() ? YAML::Node() : documents.front();
  } catch (const YAML::Exception& e) {
    if (report) {
      sink.Report(ErrorCode::kInvalidArgument, PositionOf(file, e.mark), "",
                  "invalid YAML: " + e.msg);
    }
    return std::nullopt;
  }
}

// "invalid JSON at line N, column M: reason" (the documented form of ParseJson's errors) as a
// problem at that position.
void ReportJsonError(const Error& e, const std::string& file, ProblemSink& sink) {
  std::string_view message = e.what();
  SourcePosition where{file, 0, 0};
  constexpr std::string_view kPrefix = "invalid JSON at line ";
  if (message.starts_with(kPrefix)) {
    std::string_view rest = message.substr(kPrefix.size());
    int line = 0;
    int column = 0;
    auto r = std::from_chars(rest.data(), rest.data() + rest.size(), line);
    rest = rest.substr(r.ptr - rest.data());
    constexpr std::string_view kColumn = ", column ";
    if (rest.starts_with(kColumn)) {
      rest.remove_prefix(kColumn.size());
      r = std::from_chars(rest.data(), rest.data() + rest.size(), column);
      rest = rest.substr(r.ptr - rest.data());
      if (rest.starts_with(": ")) {
        where.line = line;
        where.column = column;
        message = rest.substr(2);
      }
    }
  }
  sink.Report(ErrorCode::kInvalidArgument, std::move(where), "",
              "invalid JSON: " + std::string(message));
}

}  // namespace

std::optional<ConfigFormat> FormatOfPath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".yaml" || ext == ".yml") return ConfigFormat::kYaml;
  if (ext == ".json") return ConfigFormat::kJson;
  return std::nullopt;
}

std::optional<ParsedDocument> ParseConfigDocument(std::string_view text, ConfigFormat format,
                                                  const std::string& file, ProblemSink& sink) {
  ParsedDocument doc;
  if (format == ConfigFormat::kYaml) {
    std::optional<YAML::Node> node = LoadSingleDocument(text, file, sink, /*report=*/true);
    if (!node) return std::nullopt;
    NodeWalker walker(file, /*build_values=*/true, doc.positions, sink);
    doc.root = walker.Walk(*node, "", YAML::Mark::null_mark(), 0);
    return doc;
  }
  try {
    doc.root = ParseJson(text);
  } catch (const Error& e) {
    ReportJsonError(e, file, sink);
    return std::nullopt;
  }
  // Positions only; should yaml-cpp ever refuse valid JSON, values keep the file's name alone.
  if (std::optional<YAML::Node> node = LoadSingleDocument(text, file, sink, /*report=*/false)) {
    NodeWalker walker(file, /*build_values=*/false, doc.positions, sink);
    walker.Walk(*node, "", YAML::Mark::null_mark(), 0);
  } else {
    doc.positions.emplace("", SourcePosition{file, 0, 0});
  }
  return doc;
}

}  // namespace dkdata::internal
