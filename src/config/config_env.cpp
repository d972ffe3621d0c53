// The environment, ${VAR} substitution and the reference's two typing rules (placeholders and
// DATAKNOBS_ overrides), with Python's int()/float() leniency copied so that a value types the
// same here as in the reference.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "config/config_internal.hpp"

extern char** environ;

namespace dkdata::internal {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view StripSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Python's digitpart: digit (_? digit)*. Appends the digits to out and advances s; false when s
// does not start with one.
bool TakeDigitPart(std::string_view& s, std::string& out) {
  if (s.empty() || !IsDigit(s[0])) return false;
  std::size_t i = 0;
  while (i < s.size()) {
    if (IsDigit(s[i])) {
      out.push_back(s[i++]);
    } else if (s[i] == '_' && i + 1 < s.size() && IsDigit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  s.remove_prefix(i);
  return true;
}

// A placeholder's parts: ${name}, ${name:default}, ${name:-default}, ${name:?message}.
struct Placeholder {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past '}'
  std::string_view name;
  bool has_default = false;  // a ':' part is present
  bool required_message = false;
  std::string_view text;  // the default or the message
};

// The first placeholder at or after from, as the reference's pattern
// \$\{([^}:]+)(?::([-?]?)([^}]*))?\} finds it.
std::optional<Placeholder> FindPlaceholder(std::string_view s, std::size_t from) {
  for (std::size_t start = s.find("${", from); start != std::string_view::npos;
       start = s.find("${", start + 1)) {
    const std::size_t name_begin = start + 2;
    const std::size_t name_end = s.find_first_of(":}", name_begin);
    if (name_end == std::string_view::npos || name_end == name_begin) continue;
    Placeholder p;
    p.begin = start;
    p.name = s.substr(name_begin, name_end - name_begin);
    if (s[name_end] == '}') {
      p.end = name_end + 1;
      return p;
    }
    std::size_t rest = name_end + 1;
    const std::size_t close = s.find('}', rest);
    if (close == std::string_view::npos) continue;
    p.has_default = true;
    if (rest < close && (s[rest] == '-' || s[rest] == '?')) {
      p.required_message = s[rest] == '?';
      ++rest;
    }
    p.text = s.substr(rest, close - rest);
    p.end = close + 1;
    return p;
  }
  return std::nullopt;
}

// The text a placeholder stands for; nullopt (and missing filled) when a required variable is
// unset. A variable set to "" is used as is, as in the reference (no bash-style fallback).
std::optional<std::string> Expand(const Placeholder& p, const EnvironmentView& env,
                                  MissingVariable& missing) {
  if (std::optional<std::string> value = env.Get(p.name)) return value;
  if (p.required_message || !p.has_default) {
    missing.name = std::string(p.name);
    missing.message = p.required_message ? std::string(p.text) : std::string();
    return std::nullopt;
  }
  return std::string(p.text);
}

Value TypeNumberOrString(std::string_view text) {
  if (auto i = ParsePythonInt(text)) return Value(*i);
  if (auto f = ParsePythonFloat(text)) return Value(*f);
  return Value(std::string(text));
}

}  // namespace

std::optional<std::string> EnvironmentView::Get(std::string_view name) const {
  if (injected_) {
    const auto it = injected_->find(name);
    if (it == injected_->end()) return std::nullopt;
    return it->second;
  }
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::vector<std::pair<std::string, std::string>> EnvironmentView::WithPrefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (injected_) {
    for (const auto& [name, value] : *injected_) {
      if (std::string_view(name).starts_with(prefix)) out.emplace_back(name, value);
    }
    return out;
  }
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos || !text.starts_with(prefix)) continue;
    out.emplace_back(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<Value> SubstituteText(std::string_view text, const EnvironmentView& env,
                                    bool type_whole, MissingVariable& missing) {
  std::optional<Placeholder> p = FindPlaceholder(text, 0);
  if (!p) return Value(std::string(text));
  if (p->begin == 0 && p->end == text.size()) {
    std::optional<std::string> expanded = Expand(*p, env, missing);
    if (!expanded) return std::nullopt;
    return type_whole ? TypePlaceholderText(*expanded) : Value(std::move(*expanded));
  }
  // One pass, no re-scan: substituted text is never expanded again.
  std::string out;
  std::size_t copied = 0;
  for (; p; p = FindPlaceholder(text, p->end)) {
    out.append(text.substr(copied, p->begin - copied));
    std::optional<std::string> expanded = Expand(*p, env, missing);
    if (!expanded) return std::nullopt;
    out += *expanded;
    copied = p->end;
  }
  out.append(text.substr(copied));
  return Value(std::move(out));
}

Value TypePlaceholderText(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "yes") return Value(true);
  if (lower == "false" || lower == "no") return Value(false);
  return TypeNumberOrString(text);
}

Value TypeOverrideText(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "yes" || lower == "1") return Value(true);
  if (lower == "false" || lower == "no" || lower == "0") return Value(false);
  return TypeNumberOrString(text);
}

std::optional<std::int64_t> ParsePythonInt(std::string_view text) {
  std::string_view s = StripSpace(text);
  std::string digits;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') digits.push_back('-');
    s.remove_prefix(1);
  }
  if (!TakeDigitPart(s, digits) || !s.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<double> ParsePythonFloat(std::string_view text) {
  std::string_view s = StripSpace(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  const std::string lower = Lower(s);
  if (lower == "inf" || lower == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  std::string number;
  const bool whole = TakeDigitPart(s, number);
  bool fraction = false;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    number.push_back('.');
    fraction = TakeDigitPart(s, number);
  }
  if (!whole && !fraction) return std::nullopt;
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    number.push_back('e');
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      number.push_back(s[0]);
      s.remove_prefix(1);
    }
    if (!TakeDigitPart(s, number)) return std::nullopt;
  }
  if (!s.empty()) return std::nullopt;
  if (number.starts_with('.')) number.insert(number.begin(), '0');
  double value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error == std::errc::result_out_of_range) {
    // Python gives inf for an overflow and 0.0 for an underflow (a negative exponent).
    const bool underflow = number.find("e-") != std::string::npos;
    value = underflow ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (error != std::errc() || end != number.data() + number.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

Selector ParseSelector(std::string_view text) {
  Selector out;
  std::string_view digits = text;
  if (digits.starts_with('-')) digits.remove_prefix(1);
  const bool numeric = !digits.empty() && std::all_of(digits.begin(), digits.end(), IsDigit);
  if (numeric) {
    std::int64_t index = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (error == std::errc() && end == text.data() + text.size()) {
      out.index = index;
      return out;
    }
    out.index = std::numeric_limits<std::int64_t>::max();  // out of range for any list
    return out;
  }
  out.name = std::string(text);
  return out;
}

std::optional<std::size_t> ResolveIndex(std::int64_t index, std::size_t size) {
  const auto n = static_cast<std::int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  return static_cast<std::size_t>(index);
}

}  // namespace dkdata::internal
