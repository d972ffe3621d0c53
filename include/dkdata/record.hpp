// dkdata/record.hpp: FieldType, Field and Record, the unit every backend stores.
//
// A Record is an optional id (the storage key), named fields in insertion order, record metadata
// and a version. Field names are unique within a record. Dotted paths ("address.city") reach into
// object and list values: Get() first looks for a field with exactly that name, then follows the
// path.
//
// Ids follow the reference implementation: an explicit id, else a data field named "id", else (when
// stored) a generated UUIDv4. Databases return records with their id and version set; they never
// modify the caller's record.
//
// Thread-safety: a Record is a value; concurrent reads are safe, writes need external locking.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/value.hpp"

namespace dkdata {

// Field types, named as in the reference implementation.
enum class FieldType : std::uint8_t {
  kString,
  kInteger,
  kFloat,
  kBoolean,
  kDatetime,
  kJson,
  kBinary,
  kText,
  kVector,
  kSparseVector,
};

// "string", "integer", "float", "boolean", "datetime", "json", "binary", "text", "vector",
// "sparse_vector".
std::string_view FieldTypeName(FieldType type) noexcept;
// The inverse of FieldTypeName; also accepts the reference's upper-case enum names ("STRING").
std::optional<FieldType> ParseFieldType(std::string_view name) noexcept;

// The type the reference would infer for a value: bool → boolean, int → integer, float → float,
// string → string, or text when longer than kTextThreshold characters, bytes → binary,
// timestamp → datetime, list/object → json, vector → vector, null → string.
FieldType DetectFieldType(const Value& value) noexcept;
inline constexpr std::size_t kTextThreshold = 1000;

// Converts value to the representation of type, following the reference's conversion pairs plus
// datetime↔ISO-8601 string, binary↔base64 string and json↔JSON text. Null stays null. Throws
// Error(kInvalidArgument) saying which value could not become which type (e.g. "abc" → integer).
Value ConvertValue(const Value& value, FieldType type);

struct Field {
  std::string name;
  Value value;
  FieldType type = FieldType::kString;
  Object metadata;

  Field() = default;
  // The type is detected from the value.
  Field(std::string name, Value value);
  Field(std::string name, Value value, FieldType type, Object metadata = {});

  friend bool operator==(const Field&, const Field&) = default;
};

class Record {
 public:
  Record() = default;
  // Fields from name/value pairs, types detected: Record{{"name", "Ada"}, {"age", 36}}.
  Record(std::initializer_list<std::pair<std::string, Value>> fields);
  // Every member of an object becomes a field.
  static Record FromObject(const Object& object);

  // The storage id, when the record has one.
  const std::optional<std::string>& id() const noexcept { return id_; }
  // Assigns in place, reusing the id's storage.
  void set_id(std::string_view id) {
    if (id_) {
      id_->assign(id);
    } else {
      id_.emplace(id);
    }
  }
  void clear_id() noexcept { id_.reset(); }
  // The id the record would be stored under: the explicit id, else a string or integer field "id".
  std::optional<std::string> ResolveId() const;

  // Sets a field, replacing one of the same name in place (keeping its position) or appending.
  Record& Set(std::string name, Value value);
  Record& Set(Field field);
  // Removes a top-level field; returns whether it was there.
  bool Remove(std::string_view name);

  // The top-level field of that name, or nullptr.
  const Field* FindField(std::string_view name) const noexcept;
  Field* FindField(std::string_view name) noexcept;
  // The value at a field name or dotted path, or nullptr when absent.
  const Value* Get(std::string_view path) const noexcept;
  bool Has(std::string_view path) const noexcept { return Get(path) != nullptr; }

  const std::vector<Field>& fields() const noexcept { return fields_; }
  std::vector<Field>& mutable_fields() noexcept { return fields_; }
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }

  const Object& metadata() const noexcept { return metadata_; }
  Object& metadata() noexcept { return metadata_; }

  // The stored version (1 after create, +1 per update); 0 for a record that was never stored.
  std::uint64_t version() const noexcept { return version_; }
  void set_version(std::uint64_t version) noexcept { version_ = version; }

  // A copy with only the named fields (dotted paths copy the top-level field they start in), in the
  // order given; id, metadata and version are kept.
  Record Project(const std::vector<std::string>& names) const;
  // The fields as an object of name → value.
  Object ToObject() const;

  friend bool operator==(const Record&, const Record&) = default;

 private:
  std::optional<std::string> id_;
  std::vector<Field> fields_;
  Object metadata_;
  std::uint64_t version_ = 0;
};

// A random UUIDv4 in canonical lower-case form.
std::string GenerateUuid();

}  // namespace dkdata
