#include "backends/option_reader.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <system_error>

#include "core/closest_name.hpp"

namespace dkdata::internal {

namespace {

// Whether text is one of words, ignoring ASCII case.
bool IsOneOf(const std::string& text, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(), [&](std::string_view w) {
    return text.size() == w.size() && ::strncasecmp(text.data(), w.data(), w.size()) == 0;
  });
}

// "a string 'soon'", "an int 5", "a list": what a value of the wrong type was. Long text is cut
// short.
std::string Describe(const Value& value) {
  if (value.is_null()) return "null";
  const std::string_view kind = ValueKindName(value.kind());
  const bool vowel = kind.find_first_of("aeiou") == 0;
  std::string out = std::string(vowel ? "an " : "a ") + std::string(kind);
  if (value.Get<Object>() != nullptr || value.Get<List>() != nullptr) return out;
  std::string shown = value.ToDisplayString();
  if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
  return out + (value.Get<std::string>() != nullptr ? " '" + shown + "'" : " " + shown);
}

}  // namespace

std::vector<std::string> OptionReader::Keys() const {
  return std::vector<std::string>(keys_.begin(), keys_.end());
}

void OptionReader::Unknown(std::string_view key) const {
  const std::string closest = ClosestName(key, keys_);
  std::string list;
  for (std::string_view k : keys_) list += (list.empty() ? "" : ", ") + std::string(k);
  const std::string hint = closest.empty() ? "" : "did you mean '" + closest + "'? ";
  throw OptionError(ErrorCode::kInvalidArgument,
                    "unknown option '" + std::string(key) + "' for backend '" +
                        std::string(backend_) + "' (" + hint + "it takes: " + list + ")",
                    std::string(backend_), std::string(key));
}

void OptionReader::Fail(std::string_view key, std::string_view what, ErrorCode code) const {
  throw OptionError(code,
                    "option '" + std::string(key) + "' of backend '" + std::string(backend_) +
                        "' " + std::string(what),
                    std::string(backend_), std::string(key));
}

void OptionReader::WrongType(std::string_view key, std::string_view expected,
                             const Value& got) const {
  Fail(key, "must be " + std::string(expected) + " (got " + Describe(got) + ")");
}

std::string OptionReader::String(std::string_view key, const Value& value) const {
  if (const auto* s = value.Get<std::string>()) return *s;
  WrongType(key, "a string", value);
}

bool OptionReader::Bool(std::string_view key, const Value& value) const {
  if (const auto* b = value.Get<bool>()) return *b;
  if (const auto* i = value.Get<std::int64_t>()) {
    if (*i == 0 || *i == 1) return *i == 1;
  }
  if (const auto* s = value.Get<std::string>()) {
    if (IsOneOf(*s, {"true", "1", "yes", "on"})) return true;
    if (IsOneOf(*s, {"false", "0", "no", "off", ""})) return false;
  }
  WrongType(key, "a boolean (true or false)", value);
}

double OptionReader::Number(std::string_view key, const Value& value) const {
  if (value.is_number()) return value.AsDouble();
  if (const auto* s = value.Get<std::string>()) {
    char* end = nullptr;
    const double d = std::strtod(s->c_str(), &end);
    if (!s->empty() && end == s->c_str() + s->size()) return d;
  }
  WrongType(key, "a number", value);
}

long long OptionReader::WholeNumber(std::string_view key, const Value& value, long long min,
                                    long long max) const {
  const double d = Number(key, value);
  if (d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    Fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<long long>(d);
}

std::chrono::milliseconds OptionReader::Seconds(std::string_view key, const Value& value) const {
  const double seconds = Number(key, value);
  if (!(seconds > 0 && seconds <= 1e6)) {
    Fail(key, "must be a number of seconds > 0 (and at most 1000000)");
  }
  return std::chrono::milliseconds(std::max<long long>(1, std::llround(seconds * 1000)));
}

std::string OptionReader::ReadableFile(std::string_view key, const Value& value) const {
  std::string path = String(key, value);
  if (path.empty()) return path;
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    Fail(key, "names '" + path + "', which is a directory, not a file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    const std::error_code error(errno, std::generic_category());
    Fail(key, "names '" + path + "', which cannot be read: " + error.message());
  }
  return path;
}

bool OptionReader::ReferenceSharedKey(std::string_view key, const Value& value) const {
  if (key == "schema") {
    if (!value.is_null() && value.Get<Object>() == nullptr) {
      WrongType(key, "a map (the reference's schema) or null", value);
    }
  } else if (key == "vector_enabled") {
    Bool(key, value);
  } else if (key == "vector_metric") {
    String(key, value);
  } else {
    return false;
  }
  return true;
}

}  // namespace dkdata::internal
