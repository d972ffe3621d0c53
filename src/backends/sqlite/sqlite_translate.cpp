// The query tree in SQL, over the row layout of backends/sql/json_rows.cpp.
//
// A path is read from the data column with json_extract (its value, VAL) and json_type (its JSON
// type, TY: 'null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object', or NULL when
// missing), and dkdata_fields says what the JSON does not (its kind, K: 'timestamp', 'bytes',
// 'vector' or NULL for plain JSON). Each operator of docs/query-semantics.md is written over
// (TY, VAL, K) so that the JSON types are respected: '30' is not 30 (TY differs), ints and floats
// compare numerically (SQLite compares INTEGER and REAL exactly), true is not 1 (TY again),
// timestamps compare as instants (dkdata_timestamp), bytes as bytes (dkdata_base64), LIKE is GLOB
// (case-sensitive) and ILIKE is LIKE (ASCII case folding, as SQLite's), REGEX is a registered
// regexp() running std::regex like the core evaluator.
//
// Where SQL cannot decide a filter exactly for some rows, the translation says so: every filter
// becomes a pair (maybe, sure) of SQL conditions, maybe true for at least the matching rows, sure
// for at most them. The rows in between go through the core evaluator. That happens for list,
// object and vector operands (structural equality), for paths SQLite cannot address (keys with '"',
// '\' or control characters), for strings holding U+0000 (json_extract stops there), and for
// non-ASCII keys on rows written by the reference implementation (Python escapes them, and SQLite
// compares keys without unescaping).
//
// Each value is a bound parameter; only JSON paths (made from field names) are spliced, as quoted
// literals, because an expression index serves a query only when the path is the same literal.
#include <charconv>
#include <functional>
#include <regex>

#include "backends/sql/sql_translate.hpp"
#include "backends/sqlite/sqlite_database.hpp"
#include "core/evaluator.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

// Past this depth of the filter tree a subtree is left to the evaluator (SQLite limits expression
// depth to 1000, and every level of the tree costs a few).
constexpr int kMaxTranslatedDepth = 60;
// Past this many parameters the filter is left to the evaluator (SQLite's limit is higher).
constexpr std::size_t kMaxParams = 30000;
// SQLite's limit on LIKE and GLOB patterns is 50000 bytes.
constexpr std::size_t kMaxPatternBytes = 40000;
// Paths with more list-or-key steps than this are left to the evaluator (each doubles the SQL).
constexpr int kMaxAmbiguousSteps = 4;

constexpr const char* kNulRows = "instr(data, '\\u0000') > 0";
constexpr const char* kForeignRows = "dkdata_fields IS NULL";

// ---- Paths ----

// Whether SQLite's JSON path can name a key: it compares keys with the JSON text as written, so a
// key the encoder escapes ('"', '\\', control characters) cannot be named.
bool AddressableKey(std::string_view key) {
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20) return false;
  }
  return true;
}

bool HasNonAscii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::string KeyStep(std::string_view key) {
  std::string out = ".\"";
  out += key;
  out += '"';
  return out;
}

// One way a path may resolve in a row: its JSON path in data, the JSON path of its mirror in
// dkdata_fields, and the mirror paths of the containers walked through (a walk into a vector finds
// nothing, though the JSON holds a list there).
struct Resolution {
  std::string data_path;
  std::string mirror_path;
  std::vector<std::string> walked_mirrors;
};

using ResolutionSql = std::function<std::string(const Resolution&)>;

// The SQL choosing among the resolutions of a walk: a list position or a key, as the JSON holds a
// list or an object at that point.
std::string BuildWalk(const Resolution& at, const std::vector<PathStep>& steps, std::size_t i,
                      const ResolutionSql& leaf) {
  if (i == steps.size()) return leaf(at);
  const PathStep& step = steps[i];
  Resolution by_key = at;
  by_key.data_path += KeyStep(step.key);
  by_key.mirror_path += KeyStep(step.key);
  by_key.walked_mirrors.push_back(at.mirror_path);
  if (!step.index) return BuildWalk(by_key, steps, i + 1, leaf);
  Resolution by_index = at;
  by_index.data_path += "[" + std::to_string(*step.index) + "]";
  by_index.mirror_path += KeyStep(std::to_string(*step.index));
  by_index.walked_mirrors.push_back(at.mirror_path);
  return "CASE json_type(data, " + QuoteLiteral(at.data_path) + ") WHEN 'array' THEN " +
         BuildWalk(by_index, steps, i + 1, leaf) + " ELSE " +
         BuildWalk(by_key, steps, i + 1, leaf) + " END";
}

// The SQL of one path: VAL, TY and K as described at the top of this file.
struct PathSql {
  bool addressable = true;
  bool is_id = false;
  bool non_ascii = false;  // some key is not ASCII
  std::string value;       // VAL
  std::string type;        // TY (NULL when absent)
  std::string kind;        // K
};

// K of a top-level field: its mirror, or for another program's row the reference's vector form.
std::string HeadKind(std::string_view key, bool foreign_rows) {
  const std::string mirror =
      "json_extract(dkdata_fields, " + QuoteLiteral("$.k" + KeyStep(key)) + ")";
  if (!foreign_rows) return mirror;
  return "CASE WHEN dkdata_fields IS NULL THEN CASE WHEN json_extract(data, " +
         QuoteLiteral("$" + KeyStep(key) + ".type") + ") = 'vector' THEN 'vector' END ELSE " +
         mirror + " END";
}

PathSql MakePath(std::string_view path, const StoreFacts& facts) {
  PathSql out;
  if (path == kIdPath) {
    out.is_id = true;
    out.value = "id";
    out.type = "'text'";
    out.kind = "NULL";
    return out;
  }
  out.non_ascii = HasNonAscii(path);
  const std::size_t dot = path.find('.');
  if (!AddressableKey(path)) {
    out.addressable = false;
    return out;
  }
  const std::string whole = "$" + KeyStep(path);
  if (dot == std::string_view::npos) {
    out.value = "json_extract(data, " + QuoteLiteral(whole) + ")";
    out.type = "json_type(data, " + QuoteLiteral(whole) + ")";
    out.kind = HeadKind(path, facts.foreign_rows);
    return out;
  }
  // Record::Get: a field named exactly `path` wins; else the first step names a field and the
  // rest walks into its value.
  const std::string_view head = path.substr(0, dot);
  const std::vector<PathStep> steps = WalkSteps(path.substr(dot + 1));
  int ambiguous = 0;
  for (const PathStep& step : steps) ambiguous += step.index ? 1 : 0;
  if (ambiguous > kMaxAmbiguousSteps) {
    out.addressable = false;
    return out;
  }
  const Resolution start{"$" + KeyStep(head), "$.k" + KeyStep(head), {}};
  const std::string head_kind = HeadKind(head, facts.foreign_rows);
  const std::string data_path =
      BuildWalk(start, steps, 0, [](const Resolution& r) { return QuoteLiteral(r.data_path); });
  const std::string walk_kind = BuildWalk(start, steps, 0, [](const Resolution& r) {
    return "json_extract(dkdata_fields, " + QuoteLiteral(r.mirror_path) + ")";
  });
  const std::string walked_into_vector =
      BuildWalk(start, steps, 0, [&head_kind](const Resolution& r) {
        std::string any = "(" + head_kind + ") = 'vector'";
        for (std::size_t i = 1; i < r.walked_mirrors.size(); ++i) {
          any += " OR json_extract(dkdata_fields, " + QuoteLiteral(r.walked_mirrors[i]) +
                 ") = 'vector'";
        }
        return "(" + any + ")";
      });
  const std::string is_whole = "json_type(data, " + QuoteLiteral(whole) + ") IS NOT NULL";
  const std::string resolved =
      "CASE WHEN " + is_whole + " THEN " + QuoteLiteral(whole) + " ELSE " + data_path + " END";
  out.value = "json_extract(data, " + resolved + ")";
  if (steps.empty()) {
    out.type = "json_type(data, " + resolved + ")";
  } else {
    out.type = "CASE WHEN " + is_whole + " THEN json_type(data, " + QuoteLiteral(whole) +
               ") WHEN " + walked_into_vector + " THEN NULL ELSE json_type(data, " + data_path +
               ") END";
  }
  out.kind = "CASE WHEN " + is_whole + " THEN " + HeadKind(path, facts.foreign_rows) + " ELSE " +
             (steps.empty() ? head_kind : walk_kind) + " END";
  return out;
}

// ---- Conditions ----

SqlCondition Exact(std::string sql) {
  return ExactCondition(std::move(sql));
}

SqlCondition Unknown(std::string maybe = "1") {
  return UnknownCondition(kSqliteTruth, std::move(maybe));
}

SqlCondition Combine(const std::vector<SqlCondition>& parts, bool is_and) {
  return CombineConditions(parts, is_and, kSqliteTruth);
}

SqlCondition Uncertain(SqlCondition c, const std::string& uncertain) {
  return UncertainCondition(std::move(c), uncertain);
}

std::string Either(const std::string& a, const std::string& b) {
  return EitherSql(a, b);
}

// ---- Operand analysis ----

}  // namespace

// ---- Public helpers ----

std::optional<std::string> SqlFieldJson(std::string_view name, const StoreFacts& facts) {
  if (!AddressableKey(name) || (facts.foreign_rows && HasNonAscii(name))) return std::nullopt;
  return "data -> " + QuoteLiteral("$" + KeyStep(name));
}

std::optional<std::string> SqlValueExpression(std::string_view path) {
  // The value expression does not depend on the store's facts, only kinds and types do.
  PathSql p = MakePath(path, StoreFacts{});
  if (!p.addressable) return std::nullopt;
  return std::move(p.value);
}

// ---- QueryTranslator ----

std::string QueryTranslator::Param(SqlParam param) {
  params_.push_back(std::move(param));
  return "?" + std::to_string(params_.size());
}

void QueryTranslator::Bind(Statement& stmt) const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::int64_t>) {
            stmt.BindInt(index, v);
          } else if constexpr (std::is_same_v<T, double>) {
            stmt.BindDouble(index, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            stmt.BindText(index, v);
          } else {
            stmt.BindBlob(index, v.bytes);
          }
        },
        params_[i].value);
  }
}

SqlCondition QueryTranslator::Where(const Expr& expr) {
  if (expr.is_true()) return Exact("1");
  SqlCondition c = TranslateTree(expr, kSqliteTruth, kMaxTranslatedDepth,
                                 [this](const Filter& filter) { return Leaf(filter); });
  if (params_.size() > kMaxParams) {
    params_.clear();
    return Unknown();
  }
  return c;
}

namespace {

// Builds the conditions of one leaf's path. `t` is TY, `v` VAL, `k` K.
class LeafBuilder {
 public:
  LeafBuilder(const PathSql& path, const StoreFacts& facts,
              std::function<std::string(SqlParam)> param)
      : p_(path), facts_(facts), param_(std::move(param)) {}

  // Rows where the path's presence or value may be read wrongly.
  std::string PresenceDoubt() const {
    return facts_.foreign_rows && p_.non_ascii ? kForeignRows : "";
  }
  // ... and where a string's content may be read wrongly.
  std::string ContentDoubt() const {
    return Either(PresenceDoubt(), facts_.nul_strings && !p_.is_id ? kNulRows : "");
  }

  std::string Present() const { return p_.is_id ? "1" : "(" + p_.type + " <> 'null')"; }
  std::string Absent() const { return p_.is_id ? "0" : "coalesce(" + p_.type + " = 'null', 1)"; }
  std::string IsText() const { return "(" + p_.type + " = 'text')"; }
  std::string IsNumber() const { return "(" + p_.type + " IN ('integer', 'real'))"; }
  std::string Kind() const { return "coalesce(" + p_.kind + ", '')"; }
  std::string PlainText() const {
    return p_.is_id ? "1" : "(" + Kind() + " NOT IN ('timestamp', 'bytes'))";
  }
  std::string KindIs(std::string_view kind) const {
    return p_.is_id ? "0" : "(" + Kind() + " = '" + std::string(kind) + "')";
  }
  const std::string& V() const { return p_.value; }

  std::string Int(std::int64_t i) { return param_(SqlParam{i}); }
  std::string Real(double d) { return param_(SqlParam{d}); }
  std::string Text(std::string s) { return param_(SqlParam{std::move(s)}); }
  std::string Blob(std::string b) { return param_(SqlParam{SqlParam::Blob{std::move(b)}}); }
  std::string Number(const Value& n) {
    if (const auto* i = n.Get<std::int64_t>()) return Int(*i);
    return Real(*n.Get<double>());
  }

  // Equality with one non-null operand, without the doubt about content (the caller adds it).
  SqlCondition Equal(const Value& o) {
    switch (o.kind()) {
      case ValueKind::kBool: {
        const bool b = *o.Get<bool>();
        return Exact("(" + p_.type + " = '" + (b ? "true" : "false") + "') AND " + V() + " = " +
                     (b ? "1" : "0"));
      }
      case ValueKind::kInt:
      case ValueKind::kFloat:
        return Exact(IsNumber() + " AND " + V() + " = " + Number(o));
      case ValueKind::kString:
        return EqualText(*o.Get<std::string>());
      case ValueKind::kBytes:
        return Exact(IsText() + " AND " + V() + " = " + Text(Base64Encode(o.Get<Bytes>()->data)) +
                     " AND " + KindIs("bytes"));
      case ValueKind::kTimestamp: {
        const Timestamp t = *o.Get<Timestamp>();
        return Exact(IsText() + " AND CASE " + Kind() + " WHEN 'timestamp' THEN " + V() + " = " +
                     Text(t.ToIso()) + " WHEN 'bytes' THEN 0 ELSE coalesce(dkdata_timestamp(" +
                     V() + ") = " + Int(t.micros) + ", 0) END");
      }
      case ValueKind::kVector:
        return Unknown(KindIs("vector"));
      default:  // lists and objects: structural equality is the evaluator's
        return Unknown("(" + p_.type + " IN ('array', 'object'))");
    }
  }

  // Equality with a string: strings equal byte for byte; timestamps equal when the string is an
  // ISO-8601 date of the same instant (whose stored text is the canonical form).
  SqlCondition EqualText(const std::string& s) {
    const auto instant = Timestamp::Parse(s);
    if (instant) {
      const std::string canonical = instant->ToIso();
      if (canonical == s) return Exact(IsText() + " AND " + V() + " = " + Text(s));
      const std::string ps = Text(s), pc = Text(canonical);
      return Exact(IsText() + " AND " + V() + " IN (" + ps + ", " + pc + ") AND CASE " + Kind() +
                   " WHEN 'timestamp' THEN " + V() + " = " + pc + " WHEN 'bytes' THEN 0 ELSE " +
                   V() + " = " + ps + " END");
    }
    if (IsCanonicalBase64(s)) {
      return Exact(IsText() + " AND " + V() + " = " + Text(s) + " AND " + Kind() + " <> 'bytes'");
    }
    return Exact(IsText() + " AND " + V() + " = " + Text(s));
  }

  bool NeedsContentDoubt(const Value& o) const {
    return o.kind() == ValueKind::kString || o.kind() == ValueKind::kTimestamp;
  }

  SqlCondition In(const List& items) {
    std::vector<SqlCondition> parts;
    std::vector<std::string> texts, numbers;
    bool content = false;
    for (const Value& item : items) {
      content = content || NeedsContentDoubt(item);
      if (item.is_null()) continue;  // null in the list matches nothing
      if (const auto* s = item.Get<std::string>();
          s != nullptr && !Timestamp::Parse(*s) && !IsCanonicalBase64(*s)) {
        texts.push_back(Text(*s));
      } else if (item.is_number()) {
        numbers.push_back(Number(item));
      } else {
        parts.push_back(Equal(item));
      }
    }
    auto list = [](const std::vector<std::string>& ps) {
      std::string out;
      for (const std::string& p : ps) out += (out.empty() ? "" : ", ") + p;
      return out;
    };
    if (!texts.empty())
      parts.push_back(Exact(IsText() + " AND " + V() + " IN (" + list(texts) + ")"));
    if (!numbers.empty()) {
      parts.push_back(Exact(IsNumber() + " AND " + V() + " IN (" + list(numbers) + ")"));
    }
    return Uncertain(Combine(parts, false), content ? ContentDoubt() : PresenceDoubt());
  }

  // One range comparison: `value op o`, false for incomparable kinds. `bound` adds the other end of
  // the kind's range in SQLite's order, for an index scan (not needed when BETWEEN gives both).
  SqlCondition Compare(Op op, const Value& o, bool bound = true) {
    const std::string cmp = ComparisonSql(op);
    const bool lower = op == Op::kGt || op == Op::kGte;
    switch (o.kind()) {
      case ValueKind::kBool:
        return Uncertain(Exact("(" + p_.type + " IN ('true', 'false')) AND " + V() + cmp +
                               (*o.Get<bool>() ? "1" : "0")),
                         PresenceDoubt());
      case ValueKind::kInt:
      case ValueKind::kFloat:
        // Numbers sort before text in SQLite: the bound keeps an index scan among numbers.
        return Uncertain(Exact(IsNumber() + " AND " + V() + cmp + Number(o) +
                               (lower && bound ? " AND " + V() + " < ''" : "")),
                         PresenceDoubt());
      case ValueKind::kString: {
        const std::string& s = *o.Get<std::string>();
        if (const auto instant = Timestamp::Parse(s)) {
          return Uncertain(Exact(IsText() + " AND CASE " + Kind() +
                                 " WHEN 'timestamp' THEN coalesce(dkdata_timestamp(" + V() +
                                 ", 1)" + cmp + Int(instant->micros) +
                                 ", 0) WHEN 'bytes' THEN 0 ELSE " + V() + cmp + Text(s) + " END"),
                           ContentDoubt());
        }
        return Uncertain(Exact(IsText() + " AND " + PlainText() + " AND " + V() + cmp + Text(s) +
                               (lower || !bound ? "" : " AND " + V() + " >= ''")),
                         ContentDoubt());
      }
      case ValueKind::kTimestamp: {
        const std::string micros = Int(o.Get<Timestamp>()->micros);
        return Uncertain(Exact(IsText() + " AND CASE " + Kind() +
                               " WHEN 'timestamp' THEN coalesce(dkdata_timestamp(" + V() + ", 1)" +
                               cmp + micros + ", 0) WHEN 'bytes' THEN 0 ELSE coalesce(" +
                               "dkdata_timestamp(" + V() + ")" + cmp + micros + ", 0) END"),
                         ContentDoubt());
      }
      case ValueKind::kBytes:
        return Uncertain(Exact(IsText() + " AND " + KindIs("bytes") + " AND dkdata_base64(" + V() +
                               ")" + cmp + Blob(o.Get<Bytes>()->data)),
                         PresenceDoubt());
      default:  // null, lists, objects, vectors compare with nothing
        return Exact("0");
    }
  }

  SqlCondition Like(const std::string& pattern, bool ignore_case) {
    if (pattern.find('\0') != std::string::npos || pattern.size() > kMaxPatternBytes) {
      return Unknown();
    }
    const std::vector<std::int16_t> compiled = CompileLikePattern(pattern);
    std::string sql_pattern, prefix;
    bool in_prefix = true;
    for (const std::int16_t element : compiled) {
      if (element < 0) {
        in_prefix = false;
        const bool any = element == -1;
        sql_pattern += ignore_case ? (any ? '%' : '_') : (any ? '*' : '?');
        continue;
      }
      const char c = static_cast<char>(element);
      if (in_prefix) prefix += c;
      if (ignore_case) {
        if (c == '%' || c == '_' || c == '\\') sql_pattern += '\\';
        sql_pattern += c;
      } else if (c == '*' || c == '?' || c == '[') {
        sql_pattern += '[';
        sql_pattern += c;
        sql_pattern += ']';
      } else {
        sql_pattern += c;
      }
    }
    std::string sql = IsText() + " AND " + PlainText() + " AND ";
    if (ignore_case) {
      sql += V() + " LIKE " + Text(sql_pattern) + " ESCAPE '\\'";
    } else {
      sql += V() + " GLOB " + Text(sql_pattern);
      sql += PrefixRange(prefix);
    }
    return Uncertain(Exact(sql), ContentDoubt());
  }

  // " AND VAL >= prefix AND VAL < end": the strings starting with prefix, as an index range.
  std::string PrefixRange(const std::string& prefix) {
    if (prefix.empty()) return "";
    std::string sql = " AND " + V() + " >= " + Text(prefix);
    if (auto end = PrefixEnd(prefix)) sql += " AND " + V() + " < " + Text(*end);
    return sql;
  }

  SqlCondition StartsWith(const std::string& prefix) {
    return Uncertain(Exact(IsText() + " AND " + PlainText() + PrefixRange(prefix)), ContentDoubt());
  }

  SqlCondition Regex(const std::string& pattern) {
    return Uncertain(
        Exact(IsText() + " AND " + PlainText() + " AND regexp(" + Text(pattern) + ", " + V() + ")"),
        ContentDoubt());
  }

 private:
  const PathSql& p_;
  const StoreFacts& facts_;
  std::function<std::string(SqlParam)> param_;
};

}  // namespace

SqlCondition QueryTranslator::Leaf(const Filter& filter) {
  const PathSql path = MakePath(filter.field, facts_);
  if (!path.addressable) return Unknown();
  LeafBuilder b(path, facts_, [this](SqlParam p) { return Param(std::move(p)); });
  return TranslateLeaf(filter, b, kSqliteTruth);
}

std::optional<std::string> QueryTranslator::OrderBy(const std::vector<SortKey>& keys) {
  std::string out;
  for (const SortKey& key : keys) {
    const std::string dir = key.order == SortOrder::kDesc ? " DESC" : " ASC";
    const PathSql p = MakePath(key.field, facts_);
    if (p.is_id) {
      out += "id" + dir + ", ";
      continue;
    }
    if (!p.addressable || facts_.nul_strings || (facts_.foreign_rows && p.non_ascii)) {
      return std::nullopt;
    }
    const std::string kind = "coalesce(" + p.kind + ", '')";
    // Absent last in both directions, then kind rank (bool < number < string < timestamp < bytes
    // < the rest), then the value within its kind.
    out += "coalesce(" + p.type + " = 'null', 1) ASC, ";
    out += "CASE " + kind +
           " WHEN 'timestamp' THEN 3 WHEN 'bytes' THEN 4 WHEN 'vector' THEN 5 ELSE CASE " + p.type +
           " WHEN 'true' THEN 0 WHEN 'false' THEN 0 WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN "
           "'text' THEN 2 ELSE 5 END END" +
           dir + ", ";
    out += "CASE " + kind + " WHEN 'timestamp' THEN dkdata_timestamp(" + p.value +
           ", 1) WHEN 'bytes' THEN dkdata_base64(" + p.value +
           ") WHEN 'vector' THEN NULL ELSE CASE WHEN " + p.type +
           " IN ('true', 'false', 'integer', 'real', 'text') THEN " + p.value + " END END" + dir +
           ", ";
  }
  out += "rowid";
  return out;
}

// ---- SQL functions ----

namespace {

void RegexpFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  try {
    auto* re = static_cast<std::regex*>(sqlite3_get_auxdata(ctx, 0));
    if (re == nullptr) {
      const auto* pattern = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
      const std::string text(pattern, static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
      re = new std::regex(text, std::regex::ECMAScript);  // owned by SQLite from here on
      sqlite3_set_auxdata(ctx, 0, re, [](void* p) { delete static_cast<std::regex*>(p); });
      re = static_cast<std::regex*>(sqlite3_get_auxdata(ctx, 0));
      if (re == nullptr) {  // SQLite could not keep it and has deleted it
        sqlite3_result_error_nomem(ctx);
        return;
      }
    }
    const auto* subject = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    const std::size_t n = static_cast<std::size_t>(sqlite3_value_bytes(argv[1]));
    sqlite3_result_int(ctx, std::regex_search(subject, subject + n, *re) ? 1 : 0);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

void TimestampFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const std::string_view view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
  // dkdata_timestamp(text): a string read as an instant, as the query semantics do;
  // dkdata_timestamp(text, 1): a stored timestamp's text.
  const bool stored = argc > 1 && sqlite3_value_int(argv[1]) != 0;
  const auto t = stored ? ParseStoredTimestamp(view) : Timestamp::Parse(view);
  if (t) {
    sqlite3_result_int64(ctx, t->micros);
  } else {
    sqlite3_result_null(ctx);
  }
}

void Base64Function(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  try {
    const auto bytes = Base64Decode(
        std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[0]))));
    if (bytes) {
      sqlite3_result_blob64(ctx, bytes->data(), bytes->size(), SQLITE_TRANSIENT);
    } else {
      sqlite3_result_null(ctx);
    }
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

}  // namespace

void RegisterSqlFunctions(sqlite3* db) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  struct Function {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  for (const Function& f :
       {Function{"regexp", 2, RegexpFunction}, Function{"dkdata_timestamp", 1, TimestampFunction},
        Function{"dkdata_timestamp", 2, TimestampFunction},
        Function{"dkdata_base64", 1, Base64Function}}) {
    const int rc = sqlite3_create_function_v2(db, f.name, f.args, kFlags, nullptr, f.fn, nullptr,
                                              nullptr, nullptr);
    if (rc != SQLITE_OK) ThrowSqliteError(db, rc, std::string("registering ") + f.name + "()");
  }
}

}  // namespace dkdata::internal
