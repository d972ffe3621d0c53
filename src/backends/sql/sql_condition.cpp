// The shared pieces of the SQL translators (sql_condition.hpp).
#include "backends/sql/sql_condition.hpp"

#include <charconv>

#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

std::string JoinBalanced(const std::vector<std::string>& parts, std::size_t from, std::size_t to,
                         std::string_view op) {
  if (to - from == 1) return parts[from];
  const std::size_t mid = from + (to - from) / 2;
  std::string out = "(";
  out += JoinBalanced(parts, from, mid, op);
  out += ')';
  out += op;
  out += '(';
  out += JoinBalanced(parts, mid, to, op);
  out += ')';
  return out;
}

}  // namespace

SqlCondition ExactCondition(std::string sql) {
  SqlCondition out;
  out.sure = sql;
  out.maybe = std::move(sql);
  return out;
}

SqlCondition UnknownCondition(const SqlTruth& truth, std::string maybe) {
  if (maybe.empty()) maybe = truth.true_sql;
  return SqlCondition{std::move(maybe), std::string(truth.false_sql), false};
}

SqlCondition CombineConditions(const std::vector<SqlCondition>& parts, bool is_and,
                               const SqlTruth& truth) {
  if (parts.empty()) return ExactCondition(std::string(is_and ? truth.true_sql : truth.false_sql));
  if (parts.size() == 1) return parts[0];
  std::vector<std::string> maybe, sure;
  bool exact = true;
  for (const SqlCondition& p : parts) {
    maybe.push_back(p.maybe);
    sure.push_back(p.sure);
    exact = exact && p.exact;
  }
  const std::string_view op = is_and ? " AND " : " OR ";
  SqlCondition out;
  out.maybe = JoinBalanced(maybe, 0, maybe.size(), op);
  out.exact = exact;
  out.sure = exact ? out.maybe : JoinBalanced(sure, 0, sure.size(), op);
  return out;
}

SqlCondition NotCondition(const SqlCondition& c, const SqlTruth& truth) {
  const std::string tail = ", " + std::string(truth.false_sql) + ")";
  SqlCondition out;
  out.maybe = "NOT coalesce(" + c.sure + tail;
  out.exact = c.exact;
  out.sure = c.exact ? out.maybe : "NOT coalesce(" + c.maybe + tail;
  return out;
}

SqlCondition UncertainCondition(SqlCondition c, const std::string& uncertain) {
  if (uncertain.empty()) return c;
  SqlCondition out;
  out.maybe = "(" + c.maybe + ") OR (" + uncertain + ")";
  out.sure = "(" + c.sure + ") AND NOT (" + uncertain + ")";
  out.exact = false;
  return out;
}

std::string EitherSql(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " OR " + b;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

bool IsCanonicalBase64(const std::string& s) {
  const auto bytes = Base64Decode(s);
  return bytes && Base64Encode(*bytes) == s;
}

std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::vector<PathStep> WalkSteps(std::string_view rest) {
  std::vector<PathStep> steps;
  while (!rest.empty()) {
    const std::size_t dot = rest.find('.');
    const std::string_view step = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    PathStep s{std::string(step), std::nullopt};
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
    if (!step.empty() && ec == std::errc() && end == step.data() + step.size()) s.index = index;
    steps.push_back(std::move(s));
  }
  return steps;
}

}  // namespace dkdata::internal
