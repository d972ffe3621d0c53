// The query tree in PostgreSQL SQL, over the jsonb rows of backends/sql/json_rows.cpp.
//
// A path is read from the data column as jsonb (J: data->'age'), as text (T: data->>'age') and its
// kind mark from dkdata_fields (K: dkdata_fields->'k'->'age', jsonb: NULL for plain JSON, the
// microseconds of a timestamp, "bytes", "vector", "nul" for a string holding U+0000 stored as
// base64). jsonb keeps JSON types apart ('"30"' is not '30', 'true' is not '1'), compares numbers
// exactly as numbers (the rows' floats are written without exponent, exactly from 2^53 on), so
// each operator of docs/query-semantics.md becomes:
//
//   = number/bool       J = $1::jsonb (and, for a top-level field, data @> {"f": v}, which the
//                       reference's GIN index serves)
//   = string            J = $1::jsonb AND K IS NULL (bytes and U+0000 strings are base64 text)
//   ranges              jsonb_typeof(J) = 'number' AND J > $1::jsonb; strings by bytes:
//                       T COLLATE "C" > $1; timestamps by their microseconds: K > $1::jsonb;
//                       bytes decode(T, 'base64') > $1::bytea
//   like / ilike        T COLLATE "C" LIKE / ILIKE $1 (the C collation folds ASCII only)
//   starts_with         T COLLATE "C" LIKE 'prefix%' (an index on T COLLATE "C" serves it)
//   exists / absent     jsonb_typeof(J) <> 'null' / coalesce(jsonb_typeof(J) = 'null', true)
//   negations           NOT of the positive form with a presence test (absent and null never
//                       match)
//
// A missing key gives NULL in SQL, and NOT NULL is NULL: NOT wraps its operand in coalesce, which
// is kept out of the leaves so that the planner sees the indexed expressions. `a.b` is the field
// named `a.b` when the record has one (data ? 'a.b'), else the walk data #> ARRAY['a','b'] (lists
// by position, as #> does). Where SQL cannot decide exactly, the rows in doubt go to the core
// evaluator (sql_condition.hpp): regex (ECMAScript on bytes is not PostgreSQL's),
// list/object/vector operands, a timestamp operand against plain strings (which compare as instants
// when they parse), strings holding U+0000, rows of another program, and walks that may pass
// through a vector.
//
// Values are always parameters; only field names are spliced, as quoted literals, because an
// expression index serves a query only when its expression is the same.
#include "backends/postgres/pg_translate.hpp"

#include <charconv>
#include <cmath>

#include "backends/sql/json_rows.hpp"
#include "backends/sql/sql_translate.hpp"
#include "core/evaluator.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

// Past this depth of the filter tree a subtree is left to the evaluator.
constexpr int kMaxTranslatedDepth = 60;
// PostgreSQL takes at most 65535 parameters: past this many the filter is left to the evaluator.
constexpr std::size_t kMaxParams = 30000;

constexpr const char* kForeignRows = "dkdata_fields IS NULL";

SqlCondition Exact(std::string sql) {
  return ExactCondition(std::move(sql));
}
SqlCondition Unknown(std::string maybe = {}) {
  return UnknownCondition(kPostgresTruth, std::move(maybe));
}
SqlCondition Combine(const std::vector<SqlCondition>& parts, bool is_and) {
  return CombineConditions(parts, is_and, kPostgresTruth);
}
// Never NULL: false where SQL says NULL (for conditions a NOT may see directly: the doubts).
std::string Sure(const std::string& sql) {
  return "coalesce(" + sql + ", false)";
}
// A leaf's condition. It may be NULL where SQL is (a missing key): WHERE, AND and OR treat that as
// false, and NOT wraps its operand in coalesce (sql_condition.cpp). No coalesce here: the planner
// would no longer see the indexed expression inside it.
std::string Paren(const std::string& sql) {
  return "(" + sql + ")";
}

// ---- Paths ----

// The SQL of one path: J, T and K as described at the top of this file.
struct PathSql {
  bool addressable = true;
  bool is_id = false;
  std::string json;  // J
  std::string text;  // T
  std::string kind;  // K
  std::string walk;  // rows where the walk may pass through a vector (empty: none)
};

std::string ArrayOf(std::string_view first, const std::vector<PathStep>& steps) {
  std::string out = "ARRAY[";
  if (!first.empty()) out += QuoteLiteral(first) + ", ";
  out += QuoteLiteral(steps[0].key);
  for (std::size_t i = 1; i < steps.size(); ++i) out += ", " + QuoteLiteral(steps[i].key);
  out += ']';
  return out;
}

PathSql MakePath(std::string_view path) {
  PathSql out;
  if (path == kIdPath) {
    out.is_id = true;
    out.json = "to_jsonb(id)";
    out.text = "id";
    out.kind = "NULL::jsonb";
    return out;
  }
  // jsonb cannot hold U+0000 in a key: no record has such a field.
  if (path.find('\0') != std::string_view::npos) {
    out.addressable = false;
    return out;
  }
  const std::string whole = QuoteLiteral(path);
  const std::size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    out.json = "(data->" + whole + ")";
    out.text = "(data->>" + whole + ")";
    out.kind = "(dkdata_fields->'k'->" + whole + ")";
    return out;
  }
  // Record::Get: a field named exactly `path` wins; else the first step names a field and the
  // rest walks into its value.
  std::vector<PathStep> steps;
  steps.push_back(PathStep{std::string(path.substr(0, dot)), std::nullopt});
  for (PathStep& step : WalkSteps(path.substr(dot + 1))) {
    // #> reads "-1", "+1" and " 1" as list positions (from the end for negatives); a walk does
    // not: such steps are left to the evaluator.
    if (!step.index && !step.key.empty()) {
      const char c = step.key[0];
      if (c == '-' || c == '+' || c == ' ' || (c >= '\t' && c <= '\r')) {
        out.addressable = false;
        return out;
      }
    }
    steps.push_back(std::move(step));
  }
  const std::string has_whole = "data ? " + whole;
  const std::string data_path = ArrayOf("", steps);
  out.json =
      "(CASE WHEN " + has_whole + " THEN data->" + whole + " ELSE data #> " + data_path + " END)";
  out.text =
      "(CASE WHEN " + has_whole + " THEN data->>" + whole + " ELSE data #>> " + data_path + " END)";
  out.kind = "(CASE WHEN " + has_whole + " THEN dkdata_fields->'k'->" + whole +
             " ELSE dkdata_fields #> " + ArrayOf("k", steps) + " END)";
  out.walk = "(NOT " + has_whole + " AND dkdata_fields ? '" + std::string(kVectorsFlag) + "')";
  return out;
}

std::string BytesLiteral(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

// A float operand no stored number can be (stored numbers are finite): infinity or NaN.
bool NonFinite(const Value& v) {
  const double* d = v.Get<double>();
  return d != nullptr && !std::isfinite(*d);
}

// The JSON text of a scalar operand as the rows hold it.
std::string JsonText(const Value& value) {
  std::string out;
  AppendRowJson(out, value, kPostgresBackend, JsonDialect::kJsonb);
  return out;
}

// Builds the conditions of one leaf's path.
class LeafBuilder {
 public:
  LeafBuilder(const PathSql& path, const PgStoreFacts& facts, PgQueryTranslator& t)
      : p_(path), facts_(facts), t_(t) {}

  // Rows where the path's presence or value may be read wrongly.
  std::string PresenceDoubt() const {
    std::string doubt = facts_.foreign_rows ? kForeignRows : "";
    if (facts_.vectors && !p_.walk.empty()) doubt = EitherSql(doubt, p_.walk);
    return doubt;
  }
  // ... and where a string's content may be read wrongly (U+0000 strings are base64 text).
  std::string ContentDoubt() const {
    if (!facts_.nul_strings || p_.is_id) return PresenceDoubt();
    return EitherSql(PresenceDoubt(), Sure(K() + " = '\"nul\"'"));
  }
  SqlCondition Doubted(SqlCondition c, bool content) const {
    return UncertainCondition(std::move(c), content ? ContentDoubt() : PresenceDoubt());
  }

  const std::string& J() const { return p_.json; }
  const std::string& T() const { return p_.text; }
  const std::string& K() const { return p_.kind; }
  std::string Type() const { return "jsonb_typeof(" + J() + ")"; }
  std::string Present() const { return p_.is_id ? "true" : Paren(Type() + " <> 'null'"); }
  std::string Absent() const {
    return p_.is_id ? "false" : "coalesce(" + Type() + " = 'null', true)";
  }
  // A plain string: JSON string without a kind mark.
  std::string PlainString() const {
    return p_.is_id ? "true" : "(" + Type() + " = 'string' AND " + K() + " IS NULL)";
  }
  std::string Jsonb(const Value& v) { return t_.Param(JsonText(v)) + "::jsonb"; }
  std::string Text(std::string s) { return t_.Param(std::move(s)); }

  // A top-level field: data @> {"name": v} as well, which a GIN index on data serves.
  std::string Containment(const Value& v) {
    if (p_.is_id || !p_.walk.empty()) return "";
    std::string json = "{";
    AppendJson(json, Value(std::string(field_)));
    json += ':';
    json += JsonText(v);
    json += '}';
    return "data @> " + t_.Param(std::move(json)) + "::jsonb AND ";
  }
  void set_field(std::string_view field) { field_ = field; }

  // Equality with one non-null operand (the caller adds the doubts).
  SqlCondition Equal(const Value& o) {
    switch (o.kind()) {
      case ValueKind::kBool:
        if (p_.is_id) return Exact("false");
        return Exact(Paren(Containment(o) + J() + " = '" + (*o.Get<bool>() ? "true" : "false") +
                           "'::jsonb"));
      case ValueKind::kInt:
      case ValueKind::kFloat:
        if (p_.is_id || NonFinite(o)) return Exact("false");  // nothing stored equals them
        return Exact(Paren(Containment(o) + J() + " = " + Jsonb(o)));
      case ValueKind::kString:
        return EqualString(*o.Get<std::string>());
      case ValueKind::kBytes:
        if (p_.is_id) return Exact("false");
        return Exact(Paren(J() + " = " + Jsonb(Value(Base64Encode(o.Get<Bytes>()->data))) +
                           " AND " + K() + " = '\"bytes\"'"));
      case ValueKind::kTimestamp: {
        const Timestamp t = *o.Get<Timestamp>();
        // Plain strings equal a timestamp when they parse as the same instant: SQL knows the
        // canonical spelling only.
        const std::string iso = Text(t.ToIso());
        if (p_.is_id) {
          return SqlCondition{"true", Paren("id = " + iso), false};
        }
        const std::string stamped =
            Paren(K() + " = " + t_.Param(std::to_string(t.micros)) + "::jsonb");
        return SqlCondition{stamped + " OR " + Paren(PlainString()),
                            stamped + " OR " + Paren(PlainString() + " AND " + T() + " = " + iso),
                            false};
      }
      case ValueKind::kVector:
        if (p_.is_id) return Exact("false");
        return Unknown(Paren(K() + " = '\"vector\"'"));
      default:  // lists and objects: structural equality is the evaluator's
        if (p_.is_id) return Exact("false");
        return Unknown(Paren(Type() + " IN ('array', 'object')"));
    }
  }

  // Equality with a string: strings equal byte for byte; timestamps equal when the string is an
  // ISO-8601 date of the same instant.
  SqlCondition EqualString(const std::string& s) {
    if (p_.is_id) {
      if (s.find('\0') != std::string::npos) return Exact("false");
      return Exact("id = " + Text(s));
    }
    if (s.find('\0') != std::string::npos) {
      return Exact(
          Paren(J() + " = " + Jsonb(Value(Base64Encode(s))) + " AND " + K() + " = '\"nul\"'"));
    }
    const auto instant = Timestamp::Parse(s);
    std::string plain = J() + " = " + Jsonb(Value(s)) + " AND " + K() + " IS NULL";
    if (!instant) return Exact(Paren(Containment(Value(s)) + plain));
    return Exact(Paren(plain) + " OR " +
                 Paren(K() + " = " + t_.Param(std::to_string(instant->micros)) + "::jsonb"));
  }

  SqlCondition In(const List& items) {
    std::vector<SqlCondition> parts;
    std::vector<std::string> plain;  // JSON texts of numbers and plain strings (ids: the strings)
    bool content = false;
    for (const Value& item : items) {
      if (item.is_null()) continue;  // null in the list matches nothing
      const auto* s = item.Get<std::string>();
      content = content || s != nullptr || item.kind() == ValueKind::kTimestamp;
      if (p_.is_id && s != nullptr && s->find('\0') != std::string::npos) continue;  // no such id
      const bool simple_string =
          s != nullptr && s->find('\0') == std::string::npos && (p_.is_id || !Timestamp::Parse(*s));
      if (simple_string) {
        plain.push_back(p_.is_id ? *s : JsonText(item));
      } else if (item.is_number() && !p_.is_id) {
        if (!NonFinite(item)) plain.push_back(JsonText(item));
      } else {
        parts.push_back(Equal(item));
      }
    }
    if (!plain.empty()) {
      const std::string array = t_.Param(TextArrayLiteral(plain));
      parts.push_back(
          Exact(p_.is_id ? "id = ANY(" + array + "::text[])"
                         : Paren(J() + " = ANY(" + array + "::jsonb[]) AND " + K() + " IS NULL")));
    }
    return Doubted(Combine(parts, false), content);
  }

  // One range comparison: `value op o`, false for incomparable kinds.
  SqlCondition Compare(Op op, const Value& o, bool /*bound*/ = true) {
    const std::string cmp = ComparisonSql(op);
    switch (o.kind()) {
      case ValueKind::kBool:
        if (p_.is_id) return Exact("false");
        return Doubted(Exact(Paren(Type() + " = 'boolean' AND " + J() + cmp + "'" +
                                   (*o.Get<bool>() ? "true" : "false") + "'::jsonb")),
                       false);
      case ValueKind::kInt:
      case ValueKind::kFloat: {
        if (p_.is_id) return Exact("false");
        if (NonFinite(o)) {
          // Every stored number is below +inf and above -inf; NaN compares with nothing.
          const double d = *o.Get<double>();
          const bool below = op == Op::kLt || op == Op::kLte;
          const bool all = !std::isnan(d) && (d > 0) == below;
          return Doubted(Exact(all ? Paren(Type() + " = 'number'") : "false"), false);
        }
        return Doubted(Exact(Paren(Type() + " = 'number' AND " + J() + cmp + Jsonb(o))), false);
      }
      case ValueKind::kString: {
        const std::string& s = *o.Get<std::string>();
        if (s.find('\0') != std::string::npos) return Unknown(Paren(Type() + " = 'string'"));
        std::string sql = Paren(PlainString() + " AND " + T() + " COLLATE \"C\"" + cmp + Text(s));
        if (const auto instant = Timestamp::Parse(s); instant && !p_.is_id) {
          sql += " OR " + Stamped(cmp, instant->micros);
        }
        return Doubted(Exact(std::move(sql)), true);
      }
      case ValueKind::kTimestamp: {
        if (p_.is_id) return Unknown();
        // Plain strings compare as instants when they parse: the evaluator decides those.
        const std::string stamped = Stamped(cmp, o.Get<Timestamp>()->micros);
        return Doubted(SqlCondition{stamped + " OR " + Paren(PlainString()), stamped, false}, true);
      }
      case ValueKind::kBytes:
        if (p_.is_id) return Exact("false");
        // CASE: decode() must not see the text of a row that is not bytes.
        return Doubted(Exact(Paren("CASE WHEN " + K() + " = '\"bytes\"' THEN decode(" + T() +
                                   ", 'base64') END" + cmp +
                                   Text(BytesLiteral(o.Get<Bytes>()->data)) + "::bytea")),
                       false);
      default:  // null, lists, objects, vectors compare with nothing
        return Exact("false");
    }
  }

  // A timestamp's microseconds (its kind mark) compared with micros.
  std::string Stamped(const std::string& cmp, std::int64_t micros) {
    return Paren("jsonb_typeof(" + K() + ") = 'number' AND " + K() + cmp +
                 t_.Param(std::to_string(micros)) + "::jsonb");
  }

  SqlCondition Like(const std::string& pattern, bool ignore_case) {
    if (pattern.find('\0') != std::string::npos) return Unknown(Paren(Type() + " = 'string'"));
    std::string sql_pattern;
    for (const std::int16_t element : CompileLikePattern(pattern)) {
      if (element < 0) {
        sql_pattern += element == -1 ? '%' : '_';
        continue;
      }
      const char c = static_cast<char>(element);
      if (c == '%' || c == '_' || c == '\\') sql_pattern += '\\';
      sql_pattern += c;
    }
    return TextMatch(ignore_case ? " ILIKE " : " LIKE ", std::move(sql_pattern));
  }

  SqlCondition StartsWith(const std::string& prefix) {
    if (prefix.find('\0') != std::string::npos) return Unknown(Paren(Type() + " = 'string'"));
    std::string sql_pattern;
    for (const char c : prefix) {
      if (c == '%' || c == '_' || c == '\\') sql_pattern += '\\';
      sql_pattern += c;
    }
    sql_pattern += '%';
    return TextMatch(" LIKE ", std::move(sql_pattern));
  }

  SqlCondition TextMatch(const char* op, std::string pattern) {
    return Doubted(Exact(Paren(PlainString() + " AND " + T() + " COLLATE \"C\"" + op +
                               Text(std::move(pattern)))),
                   true);
  }

  SqlCondition Regex(const std::string& /*pattern*/) {
    // ECMAScript on UTF-8 bytes is not PostgreSQL's regex: the evaluator matches.
    return Unknown(p_.is_id ? "true" : Paren(Type() + " = 'string'"));
  }

 private:
  const PathSql& p_;
  const PgStoreFacts& facts_;
  PgQueryTranslator& t_;
  std::string_view field_;
};

}  // namespace

std::optional<std::string> PgValueExpression(std::string_view path) {
  PathSql p = MakePath(path);
  if (!p.addressable || p.is_id) return std::nullopt;
  return std::move(p.json);
}

std::optional<std::string> PgTextExpression(std::string_view path) {
  PathSql p = MakePath(path);
  if (!p.addressable || p.is_id) return std::nullopt;
  return std::move(p.text);
}

std::string PgQueryTranslator::Param(std::string text) {
  params_.emplace_back(std::move(text));
  return "$" + std::to_string(params_.size());
}

SqlCondition PgQueryTranslator::Where(const Expr& expr) {
  if (expr.is_true()) return Exact("true");
  SqlCondition c = TranslateTree(expr, kPostgresTruth, kMaxTranslatedDepth,
                                 [this](const Filter& filter) { return Leaf(filter); });
  if (params_.size() > kMaxParams) {
    params_.clear();
    return Unknown();
  }
  return c;
}

SqlCondition PgQueryTranslator::Leaf(const Filter& filter) {
  const PathSql path = MakePath(filter.field);
  if (!path.addressable) return Unknown();
  LeafBuilder b(path, facts_, *this);
  b.set_field(filter.field);
  return TranslateLeaf(filter, b, kPostgresTruth);
}

std::optional<std::string> PgQueryTranslator::OrderBy(const std::vector<SortKey>& keys) {
  std::string out;
  for (const SortKey& key : keys) {
    const std::string dir = key.order == SortOrder::kDesc ? " DESC" : " ASC";
    const PathSql p = MakePath(key.field);
    if (p.is_id) {
      out += "id COLLATE \"C\"" + dir + ", ";
      continue;
    }
    if (!p.addressable || facts_.nul_strings || facts_.foreign_rows ||
        (facts_.vectors && !p.walk.empty())) {
      return std::nullopt;
    }
    const std::string type = "jsonb_typeof(" + p.json + ")";
    const std::string k = p.kind;
    // Absent last in both directions, then kind rank (bool < number < string < timestamp < bytes
    // < the rest), then the value within its kind.
    out += "coalesce(" + type + " = 'null', true) ASC, ";
    out += "CASE WHEN jsonb_typeof(" + k + ") = 'number' THEN 3 WHEN " + k +
           " = '\"bytes\"' THEN 4 WHEN " + k + " IS NOT NULL THEN 5 ELSE CASE " + type +
           " WHEN 'boolean' THEN 0 WHEN 'number' THEN 1 WHEN 'string' THEN 2 ELSE 5 END END" + dir +
           ", ";
    out += "CASE WHEN " + type + " IN ('boolean', 'number') THEN " + p.json + " END" + dir + ", ";
    out += "CASE WHEN " + type + " = 'string' AND " + k + " IS NULL THEN " + p.text +
           " END COLLATE \"C\"" + dir + ", ";
    out += "CASE WHEN jsonb_typeof(" + k + ") = 'number' THEN " + k + " END" + dir + ", ";
    out +=
        "CASE WHEN " + k + " = '\"bytes\"' THEN decode(" + p.text + ", 'base64') END" + dir + ", ";
  }
  out += "id";  // the store's order (the primary key's)
  return out;
}

}  // namespace dkdata::internal
