#include "dkdata/value.hpp"

#include <charconv>

#include "core/civil_time.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata {

std::string_view ValueKindName(ValueKind kind) noexcept {
  switch (kind) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kString:
      return "string";
    case ValueKind::kBytes:
      return "bytes";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kList:
      return "list";
    case ValueKind::kObject:
      return "object";
    case ValueKind::kVector:
      return "vector";
  }
  return "?";
}

// ---- Timestamp ----

namespace internal {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

}  // namespace internal

namespace {

using internal::CivilFromDays;
using internal::DaysFromCivil;

bool IsLeap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at pos.
bool ReadDigits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

}  // namespace

std::optional<Timestamp> Timestamp::Parse(std::string_view s) noexcept {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ReadDigits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
        !ReadDigits(s, pos, 2, minute)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadDigits(s, pos, 2, second)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 6) micros = micros * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 6; ++i) micros *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (pos < s.size()) {
      const char c = s[pos];
      if ((c == 'Z' || c == 'z') && pos + 1 == s.size()) {
        ++pos;
      } else if (c == '+' || c == '-') {
        ++pos;
        int oh = 0, om = 0;
        if (!ReadDigits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!ReadDigits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
        offset_seconds = std::int64_t{oh} * 3600 + std::int64_t{om} * 60;
        if (c == '-') offset_seconds = -offset_seconds;
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  const std::int64_t days = DaysFromCivil(year, month, day);
  const std::int64_t seconds = days * 86400 + std::int64_t{hour} * 3600 +
                               std::int64_t{minute} * 60 + second - offset_seconds;
  return Timestamp{seconds * 1000000 + micros};
}

std::string Timestamp::ToIso() const {
  std::int64_t seconds = micros / 1000000;
  std::int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    seconds -= 1;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  // Hand-written digits: snprintf was a third of the flat JSON encoder's time.
  char buf[40];
  char* p = buf;
  auto put = [&p](std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  if (y < 0 ||
      y > 9999) {  // outside ISO-8601's four-digit years: sign and as many digits as needed
    const auto [end, ec] = std::to_chars(p, p + 12, y);
    (void)ec;
    p = end;
  } else {
    put(y, 4);
  }
  *p++ = '-';
  put(m, 2);
  *p++ = '-';
  put(d, 2);
  *p++ = 'T';
  put(rem / 3600, 2);
  *p++ = ':';
  put(rem / 60 % 60, 2);
  *p++ = ':';
  put(rem % 60, 2);
  if (frac != 0) {
    *p++ = '.';
    put(frac, 6);
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

// ---- Object ----

Object::Object(std::initializer_list<Member> members) {
  members_.reserve(members.size());
  for (const auto& m : members) Set(m.first, m.second);
}

const Value* Object::Find(std::string_view key) const noexcept {
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Object::Find(std::string_view key) noexcept {
  for (auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value& Object::Set(std::string key, Value value) {
  if (Value* existing = Find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

bool Object::Erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

// ---- Value ----

namespace {

[[noreturn]] void ThrowKind(ValueKind want, ValueKind have) {
  throw Error(ErrorCode::kInvalidArgument, "expected a " + std::string(ValueKindName(want)) +
                                               " value, found " + std::string(ValueKindName(have)));
}

template <class T>
const T& Checked(const Value& v, ValueKind want) {
  const T* p = v.Get<T>();
  if (p == nullptr) ThrowKind(want, v.kind());
  return *p;
}

}  // namespace

bool Value::AsBool() const {
  return Checked<bool>(*this, ValueKind::kBool);
}
std::int64_t Value::AsInt() const {
  return Checked<std::int64_t>(*this, ValueKind::kInt);
}
double Value::AsDouble() const {
  if (const auto* i = Get<std::int64_t>()) return static_cast<double>(*i);
  return Checked<double>(*this, ValueKind::kFloat);
}
const std::string& Value::AsString() const {
  return Checked<std::string>(*this, ValueKind::kString);
}
const Bytes& Value::AsBytes() const {
  return Checked<Bytes>(*this, ValueKind::kBytes);
}
Timestamp Value::AsTimestamp() const {
  return Checked<Timestamp>(*this, ValueKind::kTimestamp);
}
const List& Value::AsList() const {
  return Checked<List>(*this, ValueKind::kList);
}
const Object& Value::AsObject() const {
  return Checked<Object>(*this, ValueKind::kObject);
}
const Vector& Value::AsVector() const {
  return Checked<Vector>(*this, ValueKind::kVector);
}

const Value* Value::FindPath(std::string_view path) const noexcept {
  const Value* current = this;
  while (!path.empty()) {
    const std::size_t dot = path.find('.');
    const std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (const auto* obj = current->Get<Object>()) {
      current = obj->Find(step);
    } else if (const auto* list = current->Get<List>()) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (ec != std::errc() || end != step.data() + step.size() || index >= list->size()) {
        return nullptr;
      }
      current = &(*list)[index];
    } else {
      return nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

std::string Value::ToDisplayString() const {
  switch (kind()) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kString:
      return *Get<std::string>();
    case ValueKind::kTimestamp:
      return Get<Timestamp>()->ToIso();
    default: {
      try {
        return ToJson(*this);
      } catch (const Error&) {  // NaN or infinity: show it anyway
        return std::to_string(AsDouble());
      }
    }
  }
}

}  // namespace dkdata
