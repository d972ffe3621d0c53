// src/backends/memory/memory_rows.hpp: the compact encoding of records held by the memory backend.
//
// A stored record is one heap block ("row"): its id, version and fields, with field names replaced
// by ids from a FieldDictionary shared by the whole store, and values in a tagged binary form
// (varints for integers and lengths). A row of eight typical fields takes well under its compact
// JSON size, and a single field can be found and decoded without decoding the others, which is what
// filters, sort keys and projections need.
//
// Layout: u32 total size | varint id length, id bytes | varint version | varint field count |
//   per field: varint name id, u8 field type (bit 7: has metadata), varint value size, value
//   [, metadata object] | u8 has record metadata [, metadata object]
// Value: u8 kind tag, then: bool → nothing (tag carries it: kBoolTrue), int → zigzag varint,
//   float → 8 bytes, string/bytes → varint length + bytes, timestamp → zigzag varint,
//   list → varint count + values, object → varint count + (varint key length, key, value)*,
//   vector → varint count + 4 bytes each.
//
// Thread-safety: FieldDictionary is not synchronised; the store guards it with its own lock.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dkdata/record.hpp"

namespace dkdata::internal {

class FieldDictionary {
 public:
  // The id of name, adding it when new. position is the field's place in its record: records of
  // one store mostly share a layout, so the name seen last at that place is tried first.
  std::uint32_t Intern(std::string_view name, std::size_t position = SIZE_MAX);
  std::optional<std::uint32_t> Find(std::string_view name) const;
  const std::string& Name(std::uint32_t id) const { return names_[id]; }

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>()(s);
    }
  };
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> ids_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> last_at_position_;  // name id last seen at each field position
};

// A projected name: the field of exactly that name, else (for "a.b") the top-level field "a".
struct ProjectedField {
  std::optional<std::uint32_t> whole_id;
  std::optional<std::uint32_t> head_id;
};

// Appends to a reusable byte buffer. Callers Ensure() room for a run of small writes first, so the
// writes themselves need no checks.
class RowWriter {
 public:
  std::size_t size() const noexcept { return pos_; }
  const char* data() const noexcept { return bytes_.data(); }
  void Clear() noexcept { pos_ = 0; }
  void Ensure(std::size_t n) {
    if (bytes_.size() - pos_ < n) bytes_.resize(std::max(bytes_.size() * 2, pos_ + n + 256));
  }
  void Byte(std::uint8_t b) noexcept { bytes_[pos_++] = static_cast<char>(b); }
  void Varint(std::uint64_t v) noexcept {
    while (v >= 0x80) {
      bytes_[pos_++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    bytes_[pos_++] = static_cast<char>(v);
  }
  void Raw(const void* p, std::size_t n) noexcept {
    if (n == 0) return;  // p may be null (an empty vector's data())
    std::memcpy(bytes_.data() + pos_, p, n);
    pos_ += n;
  }
  // Writes a length-prefixed string.
  void String(std::string_view s) {
    Ensure(s.size() + 10);
    Varint(s.size());
    Raw(s.data(), s.size());
  }
  // Overwrites the one byte reserved at `at` with the varint `v`, moving what follows when the
  // varint needs more than one byte.
  void PatchLength(std::size_t at, std::uint64_t v) {
    if (v < 0x80) {
      bytes_[at] = static_cast<char>(v);
      return;
    }
    PatchLongLength(at, v);
  }

 private:
  void PatchLongLength(std::size_t at, std::uint64_t v);

  std::string bytes_;
  std::size_t pos_ = 0;
};

class Row;

// The row format's tags and flags (see the layout above).
namespace row_format {
enum Tag : std::uint8_t {
  kTagNull,
  kTagFalse,
  kTagTrue,
  kTagInt,
  kTagFloat,
  kTagString,
  kTagBytes,
  kTagTimestamp,
  kTagList,
  kTagObject,
  kTagVector,
};

// In a field's type byte: the field has metadata.
constexpr std::uint8_t kHasMetadata = 0x80;

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
}  // namespace row_format

// Builds a row field by field. Row::Encode is built on it; loaders that decode a file into typed
// values (the file backend reading CSV) use it directly and build no Record. Names are ids from
// the store's FieldDictionary. For each row: Begin; for each of the field_count fields BeginField,
// exactly one value call (Null .. Any), EndField; then Finish. Not thread-safe; reusable.
class RowEncoder {
 public:
  // Thrown by Float and Any for NaN or ±infinity; the row under way is then abandoned.
  struct NonFinite {};

  void Begin(std::string_view id, std::uint64_t version, std::size_t field_count);
  // The calls of a field are inline: a CSV load makes one of each per cell.
  void BeginField(std::uint32_t name_id, FieldType type, bool has_metadata) {
    out_.Ensure(16 + 11);  // the field's head, then a value's tag with a varint or a double
    out_.Varint(name_id);
    out_.Byte(static_cast<std::uint8_t>(type) | (has_metadata ? row_format::kHasMetadata : 0));
    // The value goes right after a one-byte length, patched by EndField once its size is known.
    length_at_ = out_.size();
    out_.Byte(0);
    field_has_metadata_ = has_metadata;
  }
  void Null() { out_.Byte(row_format::kTagNull); }
  void Bool(bool b) { out_.Byte(b ? row_format::kTagTrue : row_format::kTagFalse); }
  void Int(std::int64_t i) {
    out_.Byte(row_format::kTagInt);
    out_.Varint(row_format::ZigZag(i));
  }
  void Float(double d) {
    if (!std::isfinite(d)) throw NonFinite{};
    out_.Byte(row_format::kTagFloat);
    out_.Raw(&d, 8);
  }
  void String(std::string_view s) {
    out_.Byte(row_format::kTagString);
    out_.String(s);
  }
  void Timestamp(std::int64_t micros) {
    out_.Byte(row_format::kTagTimestamp);
    out_.Varint(row_format::ZigZag(micros));
  }
  void Any(const Value& value);
  // metadata is written when BeginField said the field has some.
  void EndField(const Object& metadata) {
    out_.PatchLength(length_at_, out_.size() - length_at_ - 1);
    if (field_has_metadata_) WriteMetadata(metadata);
  }
  Row Finish(const Object& record_metadata);

 private:
  void WriteMetadata(const Object& metadata);

  RowWriter out_;
  std::size_t length_at_ = 0;
  bool field_has_metadata_ = false;
};

// One encoded record. Move-only.
class Row {
 public:
  Row() = default;
  static Row Encode(const Record& record, std::string_view id, std::uint64_t version,
                    FieldDictionary& dictionary);

  explicit operator bool() const noexcept { return bytes_ != nullptr; }
  std::string_view id() const noexcept;
  std::uint64_t version() const noexcept;
  std::size_t size() const noexcept;

  // Decodes the whole record (id and version set).
  Record Decode(const FieldDictionary& dictionary) const;
  // The same into an existing record, reusing its storage.
  void DecodeInto(const FieldDictionary& dictionary, Record& record) const;
  // Decodes only the projected fields, in the order given, for projections.
  Record DecodeFields(const FieldDictionary& dictionary,
                      const std::vector<ProjectedField>& fields) const;
  // Decodes one top-level field's value into out; returns false when the row lacks the field.
  bool DecodeField(std::uint32_t name_id, Value& out) const;

 private:
  friend class RowEncoder;

  std::unique_ptr<std::uint8_t[]> bytes_;
};

// Resolves a field name or dotted path against rows: the exact field name first, then the first
// segment as a field and the rest as a path inside its value.
class RowPath {
 public:
  RowPath(std::string_view path, const FieldDictionary& dictionary);
  // The value at the path in row, using scratch for storage; nullptr when absent.
  const Value* Lookup(const Row& row, Value& scratch) const;

 private:
  bool is_record_id_ = false;  // the path names the record's id (see kIdPath)
  std::optional<std::uint32_t> whole_id_;
  std::optional<std::uint32_t> head_id_;
  std::string rest_;
};

}  // namespace dkdata::internal
