// The query tree as query DSL (es_translate.hpp). Field names and values are written only as JSON
// strings and numbers, so nothing in a query can change the DSL's structure.
#include "backends/elasticsearch/es_translate.hpp"

#include <algorithm>
#include <cmath>

#include "backends/elasticsearch/es_documents.hpp"
#include "core/evaluator.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

// The longest string operand of a range, wildcard or prefix query: the server builds an automaton
// of it and refuses those of 1000 characters or more (index.max_regex_length); longer operands are
// left to the core.
constexpr std::size_t kMaxAutomatonOperand = 900;

// Documents without dkdata's projection (written by another program): the core decides them.
constexpr std::string_view kForeign = R"({"bool":{"must_not":[{"exists":{"field":"_dk.v"}}]}})";

Dsl Term(std::string_view field, std::string_view json_value) {
  std::string out = R"({"term":{")";
  out += field;
  out += "\":";
  out += json_value;
  out += "}}";
  return Dsl::Clause(std::move(out));
}

Dsl TermString(std::string_view field, std::string_view value) {
  std::string json;
  AppendJsonString(json, value);
  return Term(field, json);
}

Dsl Exists(std::string_view field) {
  std::string out = R"({"exists":{"field":")";
  out += field;
  out += "\"}}";
  return Dsl::Clause(std::move(out));
}

// A projection field: "_dk.s." + key, for a field name.
std::string SlotField(char slot, std::string_view name) {
  std::string out = "_dk.";
  out += slot;
  out += '.';
  AppendProjectionKey(out, name);
  return out;
}

// The JSON number a double field compares exactly with the operand, or "" when none does (an int
// no double holds, NaN, infinity). -0.0 is written as 0: stored -0.0 values are odd.
std::string ExactNumber(const Value& v) {
  if (const auto* i = v.Get<std::int64_t>()) {
    const double d = static_cast<double>(*i);
    // A double rounds the int to a neighbour unless it holds it; 2^63 itself is out of range.
    if (d >= 9223372036854775808.0 || static_cast<std::int64_t>(d) != *i) return {};
    return std::to_string(*i);
  }
  double d = *v.Get<double>();
  if (!std::isfinite(d)) return {};
  if (d == 0) d = 0;
  std::string out;
  AppendJson(out, Value(d));
  return out;
}

// The range clause on field with bounds already in JSON.
Dsl Range(std::string_view field, std::string_view op, std::string_view bound,
          std::string_view op2 = {}, std::string_view bound2 = {}) {
  std::string out = R"({"range":{")";
  out += field;
  out += "\":{\"";
  out += op;
  out += "\":";
  out += bound;
  if (!op2.empty()) {
    out += ",\"";
    out += op2;
    out += "\":";
    out += bound2;
  }
  out += "}}}";
  return Dsl::Clause(std::move(out));
}

// dkdata's LIKE pattern (% any run, _ one character, \ escapes) as a Lucene wildcard; *literal
// is set when the pattern has no wildcard (the literal text it matches).
std::string WildcardPattern(std::string_view like, bool* literal) {
  std::string out;
  *literal = true;
  for (std::size_t i = 0; i < like.size(); ++i) {
    char c = like[i];
    if (c == '%' || c == '_') {
      out += c == '%' ? '*' : '?';
      *literal = false;
      continue;
    }
    if (c == '\\' && i + 1 < like.size()) c = like[++i];
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The text a pattern without wildcards matches.
std::string LikeLiteral(std::string_view like) {
  std::string out;
  for (std::size_t i = 0; i < like.size(); ++i) {
    if (like[i] == '\\' && i + 1 < like.size()) ++i;
    out += like[i];
  }
  return out;
}

Dsl Wildcard(std::string_view field, std::string_view like, bool ignore_case) {
  bool literal = false;
  const std::string pattern = WildcardPattern(like, &literal);
  // A pattern without wildcards is a term (Lucene's wildcard query matches nothing for "").
  std::string out = literal ? R"({"term":{")" : R"({"wildcard":{")";
  out += field;
  out += R"(":{"value":)";
  AppendJsonString(out, literal ? LikeLiteral(like) : pattern);
  // Lucene folds ASCII letters only (RegExp.ASCII_CASE_INSENSITIVE), as dkdata's ilike does.
  // Without letters there is nothing to fold (and OpenSearch's case-insensitive term matches
  // nothing for "").
  const bool letters = std::any_of(like.begin(), like.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
  if (ignore_case && letters) out += R"(,"case_insensitive":true)";
  out += "}}}";
  return Dsl::Clause(std::move(out));
}

bool IsNegation(Op op) {
  return op == Op::kNeq || op == Op::kNotIn || op == Op::kNotBetween || op == Op::kNotLike ||
         op == Op::kNotILike;
}

Op Positive(Op op) {
  switch (op) {
    case Op::kNeq:
      return Op::kEq;
    case Op::kNotIn:
      return Op::kIn;
    case Op::kNotBetween:
      return Op::kBetween;
    case Op::kNotLike:
      return Op::kLike;
    case Op::kNotILike:
      return Op::kILike;
    default:
      return op;
  }
}

std::string_view RangeOp(Op op) {
  switch (op) {
    case Op::kGt:
      return "gt";
    case Op::kGte:
      return "gte";
    case Op::kLt:
      return "lt";
    default:
      return "lte";
  }
}

// How one positive leaf reads on the top-level field `name`, or on the id keyword.
class LeafTranslator {
 public:
  // For the id: string operators on the `id` keyword, nothing uncertain (every document has one;
  // documents without the projection are uncertain anyway).
  static LeafTranslator ForId() { return LeafTranslator("id", "id", "id", true); }
  static LeafTranslator ForField(std::string_view name) {
    return LeafTranslator(name, SlotField('s', name), SlotField('n', name), false);
  }

  EsFilter Translate(Op op, const Value& operand) const {
    if (IsNegation(op)) {
      // Present and not the positive form: values of another kind match, absent ones do not.
      EsFilter positive = Translate(Positive(op), operand);
      return {DslAnd({Present(), DslNot(std::move(positive.match))}),
              std::move(positive.uncertain)};
    }
    switch (op) {
      case Op::kExists:
        return {Present(), Dsl::None()};
      case Op::kNotExists:
        return {DslNot(Present()), Dsl::None()};
      case Op::kEq:
        if (operand.is_null()) return {DslNot(Present()), Dsl::None()};
        return {Equal(operand), Uncertain(operand)};
      case Op::kIn: {
        std::vector<Dsl> any;
        std::vector<Dsl> uncertain{Odd()};
        for (const Value& v : *operand.Get<List>()) {
          if (v.is_null()) continue;  // never equal to a present value
          any.push_back(Equal(v));
          uncertain.push_back(Uncertain(v));
        }
        return {DslOr(std::move(any)), DslOr(std::move(uncertain))};
      }
      case Op::kGt:
      case Op::kGte:
      case Op::kLt:
      case Op::kLte:
        return Compare(RangeOp(op), operand, {}, Value());
      case Op::kBetween: {
        const List& bounds = *operand.Get<List>();
        return Compare("gte", bounds[0], "lte", bounds[1]);
      }
      case Op::kLike:
      case Op::kILike: {
        const std::string& pattern = *operand.Get<std::string>();
        if (pattern.size() > kMaxAutomatonOperand)
          return {Dsl::None(), DslOr({Odd(), StringsPresent()})};
        return {Wildcard(string_field_, pattern, op == Op::kILike), Odd()};
      }
      case Op::kStartsWith: {
        if (operand.Get<std::string>()->size() > kMaxAutomatonOperand) {
          return {Dsl::None(), DslOr({Odd(), StringsPresent()})};
        }
        std::string out = R"({"prefix":{")";
        out += string_field_;
        out += "\":";
        AppendJsonString(out, *operand.Get<std::string>());
        out += "}}";
        return {Dsl::Clause(std::move(out)), Odd()};
      }
      case Op::kRegex:
        return {Dsl::None(), DslOr({Odd(), StringsPresent()})};
      default:
        return {Dsl::None(), Present()};
    }
  }

 private:
  LeafTranslator(std::string_view name, std::string string_field, std::string number_field, bool id)
      : name_(name),
        string_field_(std::move(string_field)),
        number_field_(std::move(number_field)),
        id_(id) {}

  Dsl Present() const { return id_ ? Dsl::All() : TermString("_dk.p", name_); }
  Dsl Odd() const { return id_ ? Dsl::None() : TermString("_dk.o", name_); }
  Dsl StringsPresent() const { return id_ ? Dsl::All() : Exists(string_field_); }

  // The documents whose value equals v, among those whose value is not odd.
  Dsl Equal(const Value& v) const {
    if (const auto* s = v.Get<std::string>()) return TermString(string_field_, *s);
    if (id_) return Dsl::None();  // an id is a string
    if (v.is_number()) {
      const std::string n = ExactNumber(v);
      return n.empty() ? Dsl::None() : Term(number_field_, n);
    }
    if (const auto* b = v.Get<bool>()) return Term(SlotField('b', name_), *b ? "true" : "false");
    return Dsl::None();  // timestamps, bytes, lists, objects, vectors: only odd values equal them
  }

  // The documents where v's equality or order is beyond the DSL: odd values, and plain strings
  // when v is a timestamp (an ISO string equals the instant it spells).
  Dsl Uncertain(const Value& v) const {
    if (v.kind() == ValueKind::kTimestamp) return DslOr({Odd(), StringsPresent()});
    return Odd();
  }

  // A comparison (one bound, or two for between); bounds of the same plain kind only.
  EsFilter Compare(std::string_view op1, const Value& v1, std::string_view op2,
                   const Value& v2) const {
    const bool two = !op2.empty();
    if (v1.is_null() || (two && v2.is_null())) {
      // Nothing compares with null: false everywhere (dkdata's rule for incomparable pairs).
      return {Dsl::None(), Dsl::None()};
    }
    const auto* s1 = v1.Get<std::string>();
    const auto* s2 = two ? v2.Get<std::string>() : nullptr;
    if (s1 != nullptr && (!two || s2 != nullptr) && s1->size() <= kMaxAutomatonOperand &&
        (s2 == nullptr || s2->size() <= kMaxAutomatonOperand)) {
      std::string b1, b2;
      AppendJsonString(b1, *s1);
      if (two) AppendJsonString(b2, *s2);
      return {Range(string_field_, op1, b1, op2, b2), Odd()};
    }
    if (!id_ && v1.is_number() && (!two || v2.is_number())) {
      const std::string n1 = ExactNumber(v1);
      const std::string n2 = two ? ExactNumber(v2) : std::string();
      if (!n1.empty() && (!two || !n2.empty())) {
        return {Range(number_field_, op1, n1, op2, n2), Odd()};
      }
    }
    if (s1 != nullptr && (!two || s2 != nullptr))
      return {Dsl::None(), DslOr({Odd(), StringsPresent()})};
    if (id_) return {Dsl::None(), Dsl::None()};  // an id compares with strings only
    // Bools, timestamps, huge ints, mixed bounds: the evaluator decides wherever a value is there.
    return {Dsl::None(), Present()};
  }

  std::string name_;
  std::string string_field_, number_field_;
  bool id_;
};

// A dotted path: documents where none of its prefixes names a present top-level field do not
// have it at all; the evaluator decides the others.
EsFilter TranslateDottedPath(const Filter& filter) {
  std::vector<Dsl> prefixes;
  const std::string_view path = filter.field;
  for (std::size_t dot = path.find('.'); dot != std::string_view::npos;
       dot = path.find('.', dot + 1)) {
    prefixes.push_back(TermString("_dk.p", path.substr(0, dot)));
  }
  prefixes.push_back(TermString("_dk.p", path));
  const bool absent_matches =
      filter.op == Op::kNotExists || (filter.op == Op::kEq && filter.value.is_null());
  return {absent_matches ? Dsl::All() : Dsl::None(), DslOr(std::move(prefixes))};
}

EsFilter TranslateNode(const Expr& expr) {
  switch (expr.kind()) {
    case Expr::Kind::kFilter: {
      const Filter& filter = expr.filter();
      if (filter.field == kIdPath)
        return LeafTranslator::ForId().Translate(filter.op, filter.value);
      if (filter.field.find('.') != std::string::npos) return TranslateDottedPath(filter);
      return LeafTranslator::ForField(filter.field).Translate(filter.op, filter.value);
    }
    case Expr::Kind::kNot: {
      EsFilter child = TranslateNode(expr.children().front());
      return {DslNot(std::move(child.match)), std::move(child.uncertain)};
    }
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      std::vector<Dsl> matches, uncertain;
      for (const Expr& child : expr.children()) {
        EsFilter f = TranslateNode(child);
        matches.push_back(std::move(f.match));
        uncertain.push_back(std::move(f.uncertain));
      }
      Dsl match =
          expr.kind() == Expr::Kind::kAnd ? DslAnd(std::move(matches)) : DslOr(std::move(matches));
      return {std::move(match), DslOr(std::move(uncertain))};
    }
  }
  return {};
}

std::string BoolClause(std::string_view occur, std::vector<Dsl>& parts, bool min_should) {
  std::string out = R"({"bool":{")";
  out += occur;
  out += "\":[";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ',';
    out += parts[i].json;
  }
  out += ']';
  if (min_should) out += R"(,"minimum_should_match":1)";
  out += "}}";
  return out;
}

}  // namespace

std::string Dsl::Json() const {
  switch (kind) {
    case Kind::kAll:
      return R"({"match_all":{}})";
    case Kind::kNone:
      return R"({"match_none":{}})";
    default:
      return json;
  }
}

Dsl DslAnd(std::vector<Dsl> parts) {
  std::vector<Dsl> kept;
  for (Dsl& p : parts) {
    if (p.none()) return Dsl::None();
    if (!p.all()) kept.push_back(std::move(p));
  }
  if (kept.empty()) return Dsl::All();
  if (kept.size() == 1) return std::move(kept.front());
  return Dsl::Clause(BoolClause("filter", kept, false));
}

Dsl DslOr(std::vector<Dsl> parts) {
  std::vector<Dsl> kept;
  for (Dsl& p : parts) {
    if (p.all()) return Dsl::All();
    if (!p.none()) kept.push_back(std::move(p));
  }
  if (kept.empty()) return Dsl::None();
  if (kept.size() == 1) return std::move(kept.front());
  return Dsl::Clause(BoolClause("should", kept, true));
}

Dsl DslNot(Dsl part) {
  if (part.all()) return Dsl::None();
  if (part.none()) return Dsl::All();
  std::vector<Dsl> parts;
  parts.push_back(std::move(part));
  return Dsl::Clause(BoolClause("must_not", parts, false));
}

EsFilter TranslateFilter(const Expr& expr) {
  if (expr.is_true()) return {};
  EsFilter out = TranslateNode(expr);
  out.uncertain = DslOr({std::move(out.uncertain), Dsl::Clause(std::string(kForeign))});
  return out;
}

std::optional<EsSort> TranslateSort(const std::vector<SortKey>& keys) {
  EsSort out;
  out.json = "[";
  std::vector<Dsl> uncertain;
  const auto add = [&out](std::string_view field, bool desc, std::string_view type) {
    out.json += "{\"";
    out.json += field;
    out.json += desc ? R"(":{"order":"desc")" : R"(":{"order":"asc")";
    out.json += R"(,"missing":"_last","unmapped_type":")";
    out.json += type;
    out.json += "\"}},";
  };
  for (const SortKey& key : keys) {
    const bool desc = key.order == SortOrder::kDesc;
    if (key.field == kIdPath) {
      add("id", desc, "keyword");
      continue;
    }
    if (key.field.find('.') != std::string::npos) return std::nullopt;
    // dkdata orders kinds bool < number < string (reversed when descending), absent last: one
    // sort field per kind, each putting the documents without it last.
    const std::string b = SlotField('b', key.field), n = SlotField('n', key.field),
                      s = SlotField('s', key.field);
    if (desc) {
      add(s, true, "keyword");
      add(n, true, "double");
      add(b, true, "boolean");
    } else {
      add(b, false, "boolean");
      add(n, false, "double");
      add(s, false, "keyword");
    }
    uncertain.push_back(TermString("_dk.o", key.field));
  }
  out.json += R"({"id":{"order":"asc"}}])";
  if (!keys.empty()) uncertain.push_back(Dsl::Clause(std::string(kForeign)));
  out.uncertain = DslOr(std::move(uncertain));
  return out;
}

}  // namespace dkdata::internal
