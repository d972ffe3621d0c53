// formats/parquet/thrift_compact.hpp: the Thrift compact protocol, read from a byte span and
// written to a string, for Parquet's footer and page headers.
//
// Written from the protocol's specification (apache/thrift doc/specs/thrift-compact-protocol.md);
// only what Parquet uses is here: structs, lists and sets, maps (skipped only), and the scalar
// types. Messages (RPC) are not.
//
// Reading never trusts the input: every read is bounds-checked; varints are at most 10 bytes; a
// list, set or map size is checked against the bytes left (every element takes at least one byte)
// before anyone may reserve memory for it; structs and containers nest at most max_depth deep.
// Every failure is Error(kInvalidArgument) whose message names the context given to the reader
// and the byte offset where the problem is, e.g. "data.parquet: footer: varint longer than 10
// bytes at byte 1234". Offsets are counted from base_offset, so that a reader over a footer cut
// out of a file reports offsets in the file.
//
// Struct reading is driven by the caller: BeginStruct(), NextField() until it returns nullopt
// (the stop field), EndStruct(); fields the caller does not know are passed to Skip() so that files
// from newer writers can be read. ReadStruct() wraps the three.
//
// Thread-safety: a reader or writer is used by one thread at a time. The reader does not own the
// bytes it reads: they must outlive it and every string_view it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dkdata::internal::parquet {

// The type codes of the compact protocol. In a field header, kBoolTrue and kBoolFalse carry the
// field's value; as a list/set/map element type both mean bool (elements are then one byte each).
enum class CompactType : std::uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,  // binary and string
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,  // structs and unions
  kUuid = 13,    // 16 bytes, no length
};

// "i32", "binary", "struct", ... for error messages ("bool" for both bool codes).
std::string_view CompactTypeName(CompactType type);

struct FieldHeader {
  std::int16_t id = 0;
  CompactType type = CompactType::kStop;
  // Only for type kBoolTrue/kBoolFalse: the field's value.
  bool bool_value() const { return type == CompactType::kBoolTrue; }
  bool is_bool() const { return type == CompactType::kBoolTrue || type == CompactType::kBoolFalse; }
};

struct ListHeader {
  CompactType element_type = CompactType::kStop;  // kBoolTrue for bool elements, whichever code
  std::uint32_t size = 0;  // checked: at most the bytes left after the header
};

struct MapHeader {
  CompactType key_type = CompactType::kStop;
  CompactType value_type = CompactType::kStop;
  std::uint32_t size = 0;  // checked: at most half the bytes left after the header
};

class CompactReader {
 public:
  static constexpr int kDefaultMaxDepth = 32;

  // Reads bytes (not copied: they must outlive the reader). context names what is read in errors
  // ("data.parquet: footer"); base_offset is added to the offsets errors report.
  CompactReader(std::string_view bytes, std::string context, std::uint64_t base_offset = 0,
                int max_depth = kDefaultMaxDepth);

  // The offset of the next byte to read, from the start of bytes (not counting base_offset).
  std::size_t position() const { return position_; }
  std::size_t remaining() const { return bytes_.size() - position_; }
  const std::string& context() const { return context_; }

  // Structs. BeginStruct() fails when structs and containers already nest max_depth deep.
  void BeginStruct();
  // The next field of the current struct, or nullopt at its stop field. A bool field's value is
  // in the header: read nothing more for it.
  std::optional<FieldHeader> NextField();
  void EndStruct();
  // BeginStruct(), on_field(header) for each field (it must read or Skip() the value), EndStruct().
  template <typename OnField>
  void ReadStruct(OnField&& on_field) {
    BeginStruct();
    while (std::optional<FieldHeader> field = NextField()) on_field(*field);
    EndStruct();
  }

  // Scalars. Integers are zigzag varints (i8 is one plain byte); a value out of the type's range
  // is an error.
  std::uint64_t ReadVarint();
  std::int8_t ReadI8();
  std::int16_t ReadI16();
  std::int32_t ReadI32();
  std::int64_t ReadI64();
  double ReadDouble();
  // A bool list element: one byte, 1 is true, 0 (the specification) or 2 (some writers) false.
  bool ReadBool();
  // Length-prefixed bytes, a view into the input.
  std::string_view ReadBinary();
  std::string ReadString() { return std::string(ReadBinary()); }
  // 16 bytes, a view into the input.
  std::string_view ReadUuid();

  // Containers. A set header is the same as a list header. The caller reads size elements (or
  // SkipElement()s them) between Begin and End; BeginList() counts towards the depth limit.
  ListHeader BeginList();
  void EndList() { --depth_; }
  MapHeader BeginMap();
  void EndMap() { --depth_; }

  // Skips a field value of this type (bool fields have no value bytes; an unknown type code was
  // already rejected by NextField()).
  void Skip(CompactType field_type);
  // Skips one list/set/map element of this type (a bool element is one byte).
  void SkipElement(CompactType element_type);

  // Error(kInvalidArgument): "<context>: <what> at byte <offset>", offset the start of the value
  // being read (position given, from the start of bytes).
  [[noreturn]] void Fail(std::string_view what, std::size_t position) const;

 private:
  std::uint8_t ReadByte();
  std::string_view ReadBytes(std::size_t n, std::size_t start, std::string_view what);
  void EnterNested(std::size_t start);
  CompactType ElementType(std::uint8_t code, std::size_t start) const;
  std::uint32_t ReadSize(std::size_t start, std::string_view what);

  std::string_view bytes_;
  std::size_t position_ = 0;
  std::string context_;
  std::uint64_t base_offset_;
  int max_depth_;
  int depth_ = 0;
  std::int16_t last_field_id_ = 0;
  std::vector<std::int16_t> saved_field_ids_;  // of the enclosing structs
};

class CompactWriter {
 public:
  // Structs: BeginStruct(), fields in any order (ascending ids make the short headers), EndStruct()
  // (writes the stop field). Nested structs are written between the field header and the next.
  void BeginStruct();
  void EndStruct();
  void WriteFieldHeader(std::int16_t id, CompactType type);
  // A whole field (header and value).
  void WriteBoolField(std::int16_t id, bool value);
  void WriteI8Field(std::int16_t id, std::int8_t value);
  void WriteI16Field(std::int16_t id, std::int16_t value);
  void WriteI32Field(std::int16_t id, std::int32_t value);
  void WriteI64Field(std::int16_t id, std::int64_t value);
  void WriteDoubleField(std::int16_t id, double value);
  void WriteBinaryField(std::int16_t id, std::string_view value);

  // Values (list elements, or after WriteFieldHeader()).
  void WriteVarint(std::uint64_t value);
  void WriteI8(std::int8_t value);
  void WriteI16(std::int16_t value);
  void WriteI32(std::int32_t value);
  void WriteI64(std::int64_t value);
  void WriteDouble(double value);
  void WriteBool(bool value);  // a list element: one byte, 1 or 0
  void WriteBinary(std::string_view value);
  // A list (or set) header; bool elements are written with element type kBoolFalse (2, the
  // specification's code for bool elements).
  void WriteListHeader(CompactType element_type, std::uint32_t size);

  const std::string& bytes() const { return bytes_; }
  std::string Release() { return std::move(bytes_); }

 private:
  std::string bytes_;
  std::int16_t last_field_id_ = 0;
  std::vector<std::int16_t> saved_field_ids_;
};

// Zigzag: signed to unsigned so that small magnitudes make short varints (0, -1, 1, -2 → 0, 1, 2,
// 3), and back.
constexpr std::uint64_t ZigzagEncode(std::int64_t n) {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}
constexpr std::int64_t ZigzagDecode(std::uint64_t n) {
  return static_cast<std::int64_t>((n >> 1) ^ (~(n & 1) + 1));
}

}  // namespace dkdata::internal::parquet
