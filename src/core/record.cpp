#include "dkdata/record.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <random>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata {

namespace {

constexpr std::array<std::string_view, 10> kFieldTypeNames = {
    "string", "integer", "float", "boolean", "datetime",
    "json",   "binary",  "text",  "vector",  "sparse_vector"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

[[noreturn]] void ThrowConversion(const Value& value, FieldType type, std::string_view why = {}) {
  std::string shown = value.ToDisplayString();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  std::string msg = "cannot convert " + std::string(ValueKindName(value.kind())) + " '" + shown +
                    "' to " + std::string(FieldTypeName(type));
  if (!why.empty()) msg += ": " + std::string(why);
  throw Error(ErrorCode::kInvalidArgument, std::move(msg));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// A double that is a whole number within int64 range, as an int.
std::optional<std::int64_t> IntegralDouble(double d) {
  if (!std::isfinite(d) || std::trunc(d) != d || d < -9.2233720368547758e18 ||
      d >= 9.2233720368547758e18) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(d);
}

Value ToStringValue(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kString:
      return v;
    case ValueKind::kBool:
      return std::string(v.AsBool() ? "true" : "false");
    case ValueKind::kTimestamp:
      return v.AsTimestamp().ToIso();
    case ValueKind::kBytes:
      return Base64Encode(v.AsBytes().data);
    default:
      return ToJson(v);  // numbers, lists, objects, vectors: their JSON text
  }
}

Value ToInteger(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kInt:
      return v;
    case ValueKind::kBool:
      return std::int64_t{v.AsBool() ? 1 : 0};
    case ValueKind::kFloat:
      if (auto i = IntegralDouble(v.AsDouble())) return *i;
      ThrowConversion(v, type, "it has a fractional part");
    case ValueKind::kString: {
      if (auto i = ParseInt(v.AsString())) return *i;
      if (auto d = ParseDouble(v.AsString())) {
        if (auto i = IntegralDouble(*d)) return *i;
      }
      ThrowConversion(v, type, "not an integer");
    }
    case ValueKind::kTimestamp:
      return v.AsTimestamp().micros / 1000000;  // Unix seconds
    default:
      ThrowConversion(v, type);
  }
}

Value ToFloat(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kFloat:
      return v;
    case ValueKind::kInt:
      return static_cast<double>(v.AsInt());
    case ValueKind::kBool:
      return v.AsBool() ? 1.0 : 0.0;
    case ValueKind::kString:
      if (auto d = ParseDouble(v.AsString())) return *d;
      ThrowConversion(v, type, "not a number");
    case ValueKind::kTimestamp:
      return static_cast<double>(v.AsTimestamp().micros) / 1e6;
    default:
      ThrowConversion(v, type);
  }
}

Value ToBoolean(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kBool:
      return v;
    case ValueKind::kInt:
      return v.AsInt() != 0;
    case ValueKind::kFloat:
      return v.AsDouble() != 0.0;
    case ValueKind::kString: {
      const std::string_view s = Trim(v.AsString());
      for (std::string_view t : {"true", "yes", "y", "on", "1"}) {
        if (EqualsIgnoreCase(s, t)) return true;
      }
      for (std::string_view f : {"false", "no", "n", "off", "0"}) {
        if (EqualsIgnoreCase(s, f)) return false;
      }
      ThrowConversion(v, type, "expected true/false, yes/no, on/off or 1/0");
    }
    default:
      ThrowConversion(v, type);
  }
}

Value ToDatetime(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kTimestamp:
      return v;
    case ValueKind::kString:
      if (auto t = Timestamp::Parse(Trim(v.AsString()))) return *t;
      ThrowConversion(v, type, "not an ISO-8601 date");
    case ValueKind::kInt:
      return Timestamp{v.AsInt() * 1000000};  // Unix seconds
    case ValueKind::kFloat: {
      const double micros = std::round(v.AsDouble() * 1e6);
      if (!std::isfinite(micros) || std::fabs(micros) > 9.2e18) ThrowConversion(v, type);
      return Timestamp{static_cast<std::int64_t>(micros)};
    }
    default:
      ThrowConversion(v, type);
  }
}

Value ToBinary(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kBytes:
      return v;
    case ValueKind::kString:
      if (auto b = Base64Decode(Trim(v.AsString()))) return Bytes{std::move(*b)};
      ThrowConversion(v, type, "not base64");
    default:
      ThrowConversion(v, type);
  }
}

Value ToVector(const Value& v, FieldType type) {
  switch (v.kind()) {
    case ValueKind::kVector:
      return v;
    case ValueKind::kList: {
      Vector out;
      out.reserve(v.AsList().size());
      for (const Value& e : v.AsList()) {
        if (!e.is_number()) ThrowConversion(v, type, "a vector holds only numbers");
        out.push_back(static_cast<float>(e.AsDouble()));
      }
      return out;
    }
    case ValueKind::kString:
      return ToVector(ParseJson(v.AsString()), type);
    default:
      ThrowConversion(v, type);
  }
}

Value ToJsonValue(const Value& v, FieldType type) {
  if (const auto* s = v.Get<std::string>()) {
    try {
      return ParseJson(*s);
    } catch (const Error& e) {
      ThrowConversion(v, type, e.what());
    }
  }
  return v;  // every other value is already a JSON value
}

}  // namespace

std::string_view FieldTypeName(FieldType type) noexcept {
  return kFieldTypeNames[static_cast<std::size_t>(type)];
}

std::optional<FieldType> ParseFieldType(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kFieldTypeNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kFieldTypeNames[i])) return static_cast<FieldType>(i);
  }
  return std::nullopt;
}

FieldType DetectFieldType(const Value& value) noexcept {
  switch (value.kind()) {
    case ValueKind::kNull:
      return FieldType::kString;
    case ValueKind::kBool:
      return FieldType::kBoolean;
    case ValueKind::kInt:
      return FieldType::kInteger;
    case ValueKind::kFloat:
      return FieldType::kFloat;
    case ValueKind::kString:
      return value.Get<std::string>()->size() > kTextThreshold ? FieldType::kText
                                                               : FieldType::kString;
    case ValueKind::kBytes:
      return FieldType::kBinary;
    case ValueKind::kTimestamp:
      return FieldType::kDatetime;
    case ValueKind::kList:
    case ValueKind::kObject:
      return FieldType::kJson;
    case ValueKind::kVector:
      return FieldType::kVector;
  }
  return FieldType::kString;
}

Value ConvertValue(const Value& value, FieldType type) {
  if (value.is_null()) return value;
  switch (type) {
    case FieldType::kString:
    case FieldType::kText:
      return ToStringValue(value);
    case FieldType::kInteger:
      return ToInteger(value, type);
    case FieldType::kFloat:
      return ToFloat(value, type);
    case FieldType::kBoolean:
      return ToBoolean(value, type);
    case FieldType::kDatetime:
      return ToDatetime(value, type);
    case FieldType::kJson:
      return ToJsonValue(value, type);
    case FieldType::kBinary:
      return ToBinary(value, type);
    case FieldType::kVector:
      return ToVector(value, type);
    case FieldType::kSparseVector:
      if (value.kind() == ValueKind::kObject) return value;
      ThrowConversion(value, type, "a sparse vector is an object of index to weight");
  }
  ThrowConversion(value, type);
}

// ---- Field ----

Field::Field(std::string name_in, Value value_in)
    : name(std::move(name_in)), value(std::move(value_in)), type(DetectFieldType(value)) {}

Field::Field(std::string name_in, Value value_in, FieldType type_in, Object metadata_in)
    : name(std::move(name_in)),
      value(std::move(value_in)),
      type(type_in),
      metadata(std::move(metadata_in)) {}

// ---- Record ----

Record::Record(std::initializer_list<std::pair<std::string, Value>> fields) {
  fields_.reserve(fields.size());
  for (const auto& [name, value] : fields) Set(name, value);
}

Record Record::FromObject(const Object& object) {
  Record r;
  r.fields_.reserve(object.size());
  for (const auto& [name, value] : object) r.Set(name, value);
  return r;
}

std::optional<std::string> Record::ResolveId() const {
  if (id_) return id_;
  if (const Field* f = FindField("id")) {
    if (const auto* s = f->value.Get<std::string>()) {
      if (!s->empty()) return *s;
    }
    if (const auto* i = f->value.Get<std::int64_t>()) return std::to_string(*i);
  }
  return std::nullopt;
}

Record& Record::Set(std::string name, Value value) {
  return Set(Field(std::move(name), std::move(value)));
}

Record& Record::Set(Field field) {
  if (Field* existing = FindField(field.name)) {
    *existing = std::move(field);
  } else {
    fields_.push_back(std::move(field));
  }
  return *this;
}

bool Record::Remove(std::string_view name) {
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (it->name == name) {
      fields_.erase(it);
      return true;
    }
  }
  return false;
}

const Field* Record::FindField(std::string_view name) const noexcept {
  for (const Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Field* Record::FindField(std::string_view name) noexcept {
  for (Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Value* Record::Get(std::string_view path) const noexcept {
  if (const Field* f = FindField(path)) return &f->value;
  const std::size_t dot = path.find('.');
  if (dot == std::string_view::npos) return nullptr;
  const Field* f = FindField(path.substr(0, dot));
  return f == nullptr ? nullptr : f->value.FindPath(path.substr(dot + 1));
}

Record Record::Project(const std::vector<std::string>& names) const {
  Record out;
  out.id_ = id_;
  out.metadata_ = metadata_;
  out.version_ = version_;
  out.fields_.reserve(names.size());
  for (const std::string& name : names) {
    const Field* f = FindField(name);
    if (f == nullptr) {
      const std::size_t dot = name.find('.');
      if (dot != std::string::npos) f = FindField(std::string_view(name).substr(0, dot));
    }
    if (f != nullptr && out.FindField(f->name) == nullptr) out.fields_.push_back(*f);
  }
  return out;
}

Object Record::ToObject() const {
  Object out;
  out.Reserve(fields_.size());
  for (const Field& f : fields_) out.Set(f.name, f.value);
  return out;
}

std::string GenerateUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    const std::uint64_t word = i < 16 ? hi : lo;
    const int shift = 60 - 4 * (i % 16);
    out[pos++] = kHex[(word >> shift) & 0xF];
  }
  return out;
}

}  // namespace dkdata
