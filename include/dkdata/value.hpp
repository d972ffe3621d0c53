// dkdata/value.hpp: the dynamically typed Value stored in record fields.
//
// A Value is one of: null, bool, int64, float64, string (UTF-8), bytes, timestamp (UTC,
// microseconds since the Unix epoch), list, object (string keys, insertion order kept) or vector
// (float32 array). Scalars live inline (no heap); strings use the small-string buffer when short.
// Values are regular C++ values: copy is deep, move is cheap.
//
// Equality (operator==) is structural and strict: 1 == 1.0 is false here, because the two values
// have different types. Query comparison (see query.hpp and docs/query-semantics.md) compares ints
// and floats numerically; that rule lives in the query layer, not in Value.
//
// Thread-safety: a Value is safe to read from many threads at once; writes need external locking.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dkdata {

class Value;

enum class ValueKind : std::uint8_t {
  kNull,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTimestamp,
  kList,
  kObject,
  kVector,
};

// The lower-case name of a kind ("null", "bool", "int", ...), for messages.
std::string_view ValueKindName(ValueKind kind) noexcept;

// Raw bytes; distinct from a string so that the two never mix silently.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// A point in time, UTC, with microsecond resolution.
struct Timestamp {
  std::int64_t micros = 0;  // since 1970-01-01T00:00:00Z
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;

  // Parses ISO-8601 / RFC 3339 ("2024-05-01", "2024-05-01T10:00:00", "...Z", "...+02:00",
  // fractional seconds up to microseconds). A time without an offset is taken as UTC. Returns
  // nullopt when the text is not such a date.
  static std::optional<Timestamp> Parse(std::string_view text) noexcept;
  // "2024-05-01T08:00:00Z", with ".ffffff" only when the microseconds are not zero.
  std::string ToIso() const;
};

using List = std::vector<Value>;
using Vector = std::vector<float>;

// An ordered string-keyed map. Lookups are linear: objects in records are small, and keeping
// insertion order matters more than asymptotic lookup.
class Object {
 public:
  using Member = std::pair<std::string, Value>;

  Object() = default;
  Object(std::initializer_list<Member> members);

  // The value under key, or nullptr.
  const Value* Find(std::string_view key) const noexcept;
  Value* Find(std::string_view key) noexcept;
  // Sets key to value, replacing an existing member in place or appending a new one.
  Value& Set(std::string key, Value value);
  // Removes key; returns whether it was there.
  bool Erase(std::string_view key);

  // (Defined after Value: Member is complete only there.)
  bool empty() const noexcept;
  std::size_t size() const noexcept;
  const std::vector<Member>& members() const noexcept { return members_; }
  std::vector<Member>::const_iterator begin() const noexcept;
  std::vector<Member>::const_iterator end() const noexcept;
  void Reserve(std::size_t n);

  friend bool operator==(const Object& a, const Object& b);

 private:
  std::vector<Member> members_;
};

class Value {
 public:
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  Value(bool b) noexcept : data_(b) {}
  Value(int i) noexcept : data_(static_cast<std::int64_t>(i)) {}
  Value(long i) noexcept : data_(static_cast<std::int64_t>(i)) {}
  Value(long long i) noexcept : data_(static_cast<std::int64_t>(i)) {}
  Value(unsigned i) noexcept : data_(static_cast<std::int64_t>(i)) {}
  Value(double d) noexcept : data_(d) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::string s) noexcept : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(Bytes b) noexcept : data_(std::move(b)) {}
  Value(Timestamp t) noexcept : data_(t) {}
  Value(List l) noexcept : data_(std::move(l)) {}
  Value(Object o) noexcept : data_(std::move(o)) {}
  Value(Vector v) noexcept : data_(std::move(v)) {}

  // Makes this value the string s, reusing its buffer when it already holds a string (decoders
  // that fill one record per row allocate nothing for strings that fit).
  void AssignString(std::string_view s) {
    if (auto* existing = std::get_if<std::string>(&data_)) {
      existing->assign(s);
    } else {
      data_ = std::string(s);
    }
  }

  ValueKind kind() const noexcept { return static_cast<ValueKind>(data_.index()); }
  bool is_null() const noexcept { return kind() == ValueKind::kNull; }
  bool is_number() const noexcept {
    return kind() == ValueKind::kInt || kind() == ValueKind::kFloat;
  }

  // Typed access. Get<T>() returns nullptr when the value holds another kind; T is one of bool,
  // std::int64_t, double, std::string, Bytes, Timestamp, List, Object, Vector.
  template <class T>
  const T* Get() const noexcept {
    return std::get_if<T>(&data_);
  }
  template <class T>
  T* Get() noexcept {
    return std::get_if<T>(&data_);
  }
  // Checked access: throws Error(kInvalidArgument) naming both kinds when the value holds another
  // kind.
  bool AsBool() const;
  std::int64_t AsInt() const;
  double AsDouble() const;  // int or float, as double
  const std::string& AsString() const;
  const Bytes& AsBytes() const;
  Timestamp AsTimestamp() const;
  const List& AsList() const;
  const Object& AsObject() const;
  const Vector& AsVector() const;

  // Follows a dotted path ("address.city", "tags.0") through objects and lists. An empty path is
  // this value. Returns nullptr when a step is missing or the value is not a container.
  const Value* FindPath(std::string_view path) const noexcept;

  // A compact JSON-like rendering for messages and tables (strings unquoted at the top level).
  std::string ToDisplayString() const;

  friend bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }

 private:
  // The index of each alternative equals its ValueKind.
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Bytes, Timestamp, List,
               Object, Vector>
      data_;
};

inline bool operator==(const Object& a, const Object& b) {
  return a.members_ == b.members_;
}
inline bool Object::empty() const noexcept {
  return members_.empty();
}
inline std::size_t Object::size() const noexcept {
  return members_.size();
}
inline std::vector<Object::Member>::const_iterator Object::begin() const noexcept {
  return members_.begin();
}
inline std::vector<Object::Member>::const_iterator Object::end() const noexcept {
  return members_.end();
}
inline void Object::Reserve(std::size_t n) {
  members_.reserve(n);
}

}  // namespace dkdata
