#include "core/evaluator.hpp"

#include <cmath>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

constexpr std::int16_t kLikeAny = -1;  // %
constexpr std::int16_t kLikeOne = -2;  // _
constexpr int kMaxDepth = 1000;

// Length of the UTF-8 sequence starting with byte c (1 for invalid lead bytes, so we always
// advance).
std::size_t Utf8Length(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Exact comparison of an int64 with a double (no rounding of the int).
std::strong_ordering CompareIntDouble(std::int64_t i, double d) {
  if (d >= 9.2233720368547758e18) return std::strong_ordering::less;
  if (d < -9.2233720368547758e18) return std::strong_ordering::greater;
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (i != ti) return i <=> ti;
  if (d > t) return std::strong_ordering::less;
  if (d < t) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

std::strong_ordering CompareDoubles(double a, double b) {
  if (a < b) return std::strong_ordering::less;
  if (a > b) return std::strong_ordering::greater;
  return std::strong_ordering::equal;  // NaN: see CompareNumbers
}

std::optional<std::strong_ordering> CompareNumbers(const Value& a, const Value& b) {
  const auto* ai = a.Get<std::int64_t>();
  const auto* bi = b.Get<std::int64_t>();
  // NaN (a query operand: none is stored) compares with nothing.
  if ((ai == nullptr && std::isnan(*a.Get<double>())) ||
      (bi == nullptr && std::isnan(*b.Get<double>()))) {
    return std::nullopt;
  }
  if (ai && bi) return *ai <=> *bi;
  if (ai) return CompareIntDouble(*ai, *b.Get<double>());
  if (bi) return 0 <=> CompareIntDouble(*bi, *a.Get<double>());
  return CompareDoubles(*a.Get<double>(), *b.Get<double>());
}

std::optional<Timestamp> AsInstant(const Value& v) {
  if (const auto* t = v.Get<Timestamp>()) return *t;
  if (const auto* s = v.Get<std::string>()) return Timestamp::Parse(*s);
  return std::nullopt;
}

int KindRank(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return 0;
    case ValueKind::kInt:
    case ValueKind::kFloat:
      return 1;
    case ValueKind::kString:
      return 2;
    case ValueKind::kTimestamp:
      return 3;
    case ValueKind::kBytes:
      return 4;
    default:
      return 5;
  }
}

}  // namespace

const Value* QueryValue(const Record& record, std::string_view path, Value& id_scratch) {
  if (path != kIdPath) return record.Get(path);
  if (!record.id()) return nullptr;
  id_scratch = *record.id();
  return &id_scratch;
}

// ---- Equality and ordering ----

bool ValuesEqual(const Value& a, const Value& b) noexcept {
  if (a.is_number() && b.is_number()) {
    const auto order = CompareNumbers(a, b);
    return order && *order == 0;
  }
  const ValueKind ka = a.kind(), kb = b.kind();
  if (ka != kb) {
    if ((ka == ValueKind::kTimestamp && kb == ValueKind::kString) ||
        (ka == ValueKind::kString && kb == ValueKind::kTimestamp)) {
      const auto ta = AsInstant(a), tb = AsInstant(b);
      return ta && tb && *ta == *tb;
    }
    return false;
  }
  switch (ka) {
    case ValueKind::kList: {
      const List& la = *a.Get<List>();
      const List& lb = *b.Get<List>();
      if (la.size() != lb.size()) return false;
      for (std::size_t i = 0; i < la.size(); ++i) {
        if (!ValuesEqual(la[i], lb[i])) return false;
      }
      return true;
    }
    case ValueKind::kObject: {
      const Object& oa = *a.Get<Object>();
      const Object& ob = *b.Get<Object>();
      if (oa.size() != ob.size()) return false;
      for (const auto& [key, value] : oa) {
        const Value* other = ob.Find(key);
        if (other == nullptr || !ValuesEqual(value, *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

}  // namespace dkdata::internal

namespace dkdata {

std::optional<std::strong_ordering> CompareValues(const Value& a, const Value& b) noexcept {
  if (a.is_number() && b.is_number()) return internal::CompareNumbers(a, b);
  const ValueKind ka = a.kind(), kb = b.kind();
  if (ka != kb) {
    if ((ka == ValueKind::kTimestamp && kb == ValueKind::kString) ||
        (ka == ValueKind::kString && kb == ValueKind::kTimestamp)) {
      const auto ta = internal::AsInstant(a), tb = internal::AsInstant(b);
      if (ta && tb) return *ta <=> *tb;
    }
    return std::nullopt;
  }
  switch (ka) {
    case ValueKind::kBool:
      return *a.Get<bool>() <=> *b.Get<bool>();
    case ValueKind::kString: {
      const int c = a.Get<std::string>()->compare(*b.Get<std::string>());
      return c <=> 0;
    }
    case ValueKind::kTimestamp:
      return *a.Get<Timestamp>() <=> *b.Get<Timestamp>();
    case ValueKind::kBytes: {
      const int c = a.Get<Bytes>()->data.compare(b.Get<Bytes>()->data);
      return c <=> 0;
    }
    default:
      return std::nullopt;
  }
}

int SortCompare(const Value* a, const Value* b) noexcept {
  const bool a_absent = a == nullptr || a->is_null();
  const bool b_absent = b == nullptr || b->is_null();
  if (a_absent || b_absent) return static_cast<int>(a_absent) - static_cast<int>(b_absent);
  const int ra = internal::KindRank(a->kind()), rb = internal::KindRank(b->kind());
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 5) return 0;  // lists, objects and vectors tie with each other
  const auto c = CompareValues(*a, *b);
  if (!c || *c == 0) return 0;
  return *c < 0 ? -1 : 1;
}

}  // namespace dkdata

namespace dkdata::internal {

int CompareSortRows(const std::vector<SortKey>& keys, const Value* const* a,
                    const Value* const* b) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool a_absent = a[i] == nullptr || a[i]->is_null();
    const bool b_absent = b[i] == nullptr || b[i]->is_null();
    if (a_absent || b_absent) {  // absent last in both directions
      if (a_absent != b_absent) return a_absent ? 1 : -1;
      continue;
    }
    int c = SortCompare(a[i], b[i]);
    if (c != 0) return keys[i].order == SortOrder::kDesc ? -c : c;
  }
  return 0;
}

// ---- LIKE ----

std::vector<std::int16_t> CompileLikePattern(std::string_view pattern) {
  std::vector<std::int16_t> out;
  out.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out.push_back(static_cast<unsigned char>(pattern[++i]));
    } else if (c == '%') {
      if (out.empty() || out.back() != kLikeAny) out.push_back(kLikeAny);
    } else if (c == '_') {
      out.push_back(kLikeOne);
    } else {
      out.push_back(static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool LikeMatch(const std::vector<std::int16_t>& pattern, std::string_view text, bool ignore_case) {
  std::size_t p = 0, s = 0;
  std::size_t star_p = std::string_view::npos, star_s = 0;
  const std::size_t m = pattern.size(), n = text.size();
  while (s < n) {
    if (p < m && pattern[p] == kLikeAny) {
      star_p = ++p;
      star_s = s;
      continue;
    }
    if (p < m && pattern[p] == kLikeOne) {
      ++p;
      s += Utf8Length(static_cast<unsigned char>(text[s]));
      continue;
    }
    if (p < m) {
      char want = static_cast<char>(pattern[p]);
      char have = text[s];
      if (ignore_case) {
        want = AsciiLower(want);
        have = AsciiLower(have);
      }
      if (want == have) {
        ++p;
        ++s;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    // Let the last % swallow one more character and retry from there.
    star_s += Utf8Length(static_cast<unsigned char>(text[star_s]));
    s = star_s;
    p = star_p;
  }
  while (p < m && pattern[p] == kLikeAny) ++p;
  return p == m && s == n;
}

// ---- Validation and compilation ----

void ValidateFilter(const Filter& filter) {
  auto fail = [&](const std::string& what) {
    throw Error(ErrorCode::kInvalidArgument, "operator '" + std::string(OpName(filter.op)) +
                                                 "' on field '" + filter.field + "' " + what);
  };
  if (filter.field.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "a filter needs a field name");
  }
  switch (filter.op) {
    case Op::kIn:
    case Op::kNotIn:
      if (filter.value.kind() != ValueKind::kList) fail("needs a list of values");
      break;
    case Op::kBetween:
    case Op::kNotBetween:
      if (filter.value.kind() != ValueKind::kList || filter.value.AsList().size() != 2) {
        fail("needs a list of exactly two values [low, high]");
      }
      break;
    case Op::kLike:
    case Op::kNotLike:
    case Op::kILike:
    case Op::kNotILike:
    case Op::kRegex:
    case Op::kStartsWith:
      if (filter.value.kind() != ValueKind::kString) fail("needs a string pattern");
      break;
    default:
      break;
  }
}

CompiledFilter::CompiledFilter(const Expr& expr) {
  if (!expr.is_true()) Compile(expr, 0);
}

std::uint32_t CompiledFilter::Compile(const Expr& expr, int depth) {
  if (depth > kMaxDepth) {
    throw Error(ErrorCode::kInvalidArgument, "query nesting deeper than 1000 levels");
  }
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  nodes_[index].kind = expr.kind();
  if (expr.kind() == Expr::Kind::kFilter) {
    const Filter& f = expr.filter();
    ValidateFilter(f);
    Node& node = nodes_[index];
    node.op = f.op;
    node.operand = f.value;
    std::uint32_t path = 0;
    while (path < paths_.size() && paths_[path] != f.field) ++path;
    if (path == paths_.size()) paths_.push_back(f.field);
    node.path = path;
    if (f.op == Op::kLike || f.op == Op::kNotLike || f.op == Op::kILike || f.op == Op::kNotILike) {
      node.like_pattern = CompileLikePattern(f.value.AsString());
    } else if (f.op == Op::kRegex) {
      try {
        node.regex = std::make_shared<const std::regex>(f.value.AsString(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw Error(ErrorCode::kInvalidArgument, "invalid regex '" + f.value.AsString() +
                                                     "' on field '" + f.field + "': " + e.what());
      }
    }
    return index;
  }
  std::vector<std::uint32_t> children;
  children.reserve(expr.children().size());
  for (const Expr& child : expr.children()) children.push_back(Compile(child, depth + 1));
  nodes_[index].children = std::move(children);
  return index;
}

bool CompiledFilter::Matches(FieldSource& source) const {
  return nodes_.empty() || Eval(0, source);
}

bool CompiledFilter::Matches(const Record& record) const {
  RecordFieldSource source(record, paths_);
  return Matches(source);
}

bool CompiledFilter::Eval(std::uint32_t index, FieldSource& source) const {
  const Node& node = nodes_[index];
  switch (node.kind) {
    case Expr::Kind::kFilter:
      return EvalLeaf(node, source.Lookup(node.path));
    case Expr::Kind::kAnd:
      for (std::uint32_t child : node.children) {
        if (!Eval(child, source)) return false;
      }
      return true;
    case Expr::Kind::kOr:
      for (std::uint32_t child : node.children) {
        if (Eval(child, source)) return true;
      }
      return false;
    case Expr::Kind::kNot:
      return !Eval(node.children[0], source);
  }
  return false;
}

bool CompiledFilter::EvalLeaf(const Node& node, const Value* value) const {
  const bool absent = value == nullptr || value->is_null();
  const Value& operand = node.operand;
  const auto compare = [&]() { return CompareValues(*value, operand); };
  const auto* text = absent ? nullptr : value->Get<std::string>();
  switch (node.op) {
    case Op::kEq:
      if (operand.is_null()) return absent;
      return !absent && ValuesEqual(*value, operand);
    case Op::kNeq:
      if (operand.is_null()) return !absent;
      return !absent && !ValuesEqual(*value, operand);
    case Op::kGt: {
      if (absent) return false;
      const auto c = compare();
      return c && *c > 0;
    }
    case Op::kGte: {
      if (absent) return false;
      const auto c = compare();
      return c && *c >= 0;
    }
    case Op::kLt: {
      if (absent) return false;
      const auto c = compare();
      return c && *c < 0;
    }
    case Op::kLte: {
      if (absent) return false;
      const auto c = compare();
      return c && *c <= 0;
    }
    case Op::kIn:
      if (absent) return false;  // as in SQL, a null in the list never matches an absent value
      for (const Value& candidate : *operand.Get<List>()) {
        if (ValuesEqual(*value, candidate)) return true;
      }
      return false;
    case Op::kNotIn:
      if (absent) return false;
      for (const Value& candidate : *operand.Get<List>()) {
        if (ValuesEqual(*value, candidate)) return false;
      }
      return true;
    case Op::kBetween:
    case Op::kNotBetween: {
      if (absent) return false;
      const List& bounds = *operand.Get<List>();
      const auto lo = CompareValues(*value, bounds[0]);
      const auto hi = CompareValues(*value, bounds[1]);
      const bool between = lo && hi && *lo >= 0 && *hi <= 0;
      return node.op == Op::kBetween ? between : !between;
    }
    case Op::kLike:
    case Op::kILike:
      return text != nullptr && LikeMatch(node.like_pattern, *text, node.op == Op::kILike);
    case Op::kNotLike:
    case Op::kNotILike:
      if (absent) return false;
      return text == nullptr || !LikeMatch(node.like_pattern, *text, node.op == Op::kNotILike);
    case Op::kRegex:
      return text != nullptr && std::regex_search(*text, *node.regex);
    case Op::kStartsWith:
      return text != nullptr && std::string_view(*text).starts_with(*operand.Get<std::string>());
    case Op::kExists:
      return !absent;
    case Op::kNotExists:
      return absent;
  }
  return false;
}

}  // namespace dkdata::internal
