// The Thrift compact protocol (see formats/parquet/thrift_compact.hpp).
//
// Wire format, from the specification: integers are zigzag-encoded ULEB128 varints (i8 is a plain
// byte); doubles are 8 bytes little-endian; binary is a varint length and the bytes. A field header
// is one byte `ddddtttt` (id delta 1-15 from the previous field of the struct, type code), or
// `0000tttt` followed by the id as a zigzag i16 varint; a struct ends with a 0 byte. A list or set
// header is `sssstttt` (size 0-14, element type) or `1111tttt` followed by the size as a varint.
// A map header is a varint size, then (when the size is not 0) one byte `kkkkvvvv`.
#include "formats/parquet/thrift_compact.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "dkdata/errors.hpp"

namespace dkdata::internal::parquet {

namespace {

constexpr std::uint8_t kMaxTypeCode = static_cast<std::uint8_t>(CompactType::kUuid);
constexpr std::size_t kMaxVarintBytes = 10;
constexpr std::size_t kUuidBytes = 16;

// The fewest bytes one value of this type takes on the wire (never 0, so that a count times this
// is a lower bound on the bytes a container needs).
std::size_t MinValueBytes(CompactType type) {
  switch (type) {
    case CompactType::kDouble:
      return 8;
    case CompactType::kUuid:
      return kUuidBytes;
    default:
      return 1;
  }
}

}  // namespace

std::string_view CompactTypeName(CompactType type) {
  switch (type) {
    case CompactType::kStop:
      return "stop";
    case CompactType::kBoolTrue:
    case CompactType::kBoolFalse:
      return "bool";
    case CompactType::kI8:
      return "i8";
    case CompactType::kI16:
      return "i16";
    case CompactType::kI32:
      return "i32";
    case CompactType::kI64:
      return "i64";
    case CompactType::kDouble:
      return "double";
    case CompactType::kBinary:
      return "binary";
    case CompactType::kList:
      return "list";
    case CompactType::kSet:
      return "set";
    case CompactType::kMap:
      return "map";
    case CompactType::kStruct:
      return "struct";
    case CompactType::kUuid:
      return "uuid";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// CompactReader
// ---------------------------------------------------------------------------------------------

CompactReader::CompactReader(std::string_view bytes, std::string context, std::uint64_t base_offset,
                             int max_depth)
    : bytes_(bytes),
      context_(std::move(context)),
      base_offset_(base_offset),
      max_depth_(max_depth) {}

void CompactReader::Fail(std::string_view what, std::size_t position) const {
  throw Error(ErrorCode::kInvalidArgument, context_ + ": " + std::string(what) + " at byte " +
                                               std::to_string(base_offset_ + position));
}

std::uint8_t CompactReader::ReadByte() {
  if (position_ >= bytes_.size()) Fail("unexpected end of input", position_);
  return static_cast<std::uint8_t>(bytes_[position_++]);
}

std::string_view CompactReader::ReadBytes(std::size_t n, std::size_t start, std::string_view what) {
  if (n > remaining()) {
    Fail(std::string(what) + " of " + std::to_string(n) + " bytes is past the end (" +
             std::to_string(remaining()) + " bytes left)",
         start);
  }
  std::string_view result = bytes_.substr(position_, n);
  position_ += n;
  return result;
}

void CompactReader::EnterNested(std::size_t start) {
  if (depth_ >= max_depth_) {
    Fail("structs and containers nest deeper than " + std::to_string(max_depth_) + " levels",
         start);
  }
  ++depth_;
}

void CompactReader::BeginStruct() {
  EnterNested(position_);
  saved_field_ids_.push_back(last_field_id_);
  last_field_id_ = 0;
}

void CompactReader::EndStruct() {
  last_field_id_ = saved_field_ids_.back();
  saved_field_ids_.pop_back();
  --depth_;
}

std::optional<FieldHeader> CompactReader::NextField() {
  const std::size_t start = position_;
  if (remaining() == 0) Fail("struct has no stop field (input truncated)", start);
  const std::uint8_t byte = ReadByte();
  if (byte == 0) return std::nullopt;
  const std::uint8_t type_code = byte & 0x0f;
  const int delta = byte >> 4;
  if (type_code == 0 || type_code > kMaxTypeCode) {
    Fail("field header has unknown type code " + std::to_string(type_code), start);
  }
  FieldHeader field;
  field.type = static_cast<CompactType>(type_code);
  if (delta == 0) {
    field.id = ReadI16();
  } else {
    const int id = last_field_id_ + delta;
    if (id > std::numeric_limits<std::int16_t>::max()) Fail("field id past 32767", start);
    field.id = static_cast<std::int16_t>(id);
  }
  last_field_id_ = field.id;
  return field;
}

std::uint64_t CompactReader::ReadVarint() {
  const std::size_t start = position_;
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (position_ >= bytes_.size()) Fail("truncated varint", start);
    const std::uint8_t byte = static_cast<std::uint8_t>(bytes_[position_++]);
    if (i == kMaxVarintBytes - 1) {
      if (byte & 0x80) Fail("varint longer than 10 bytes", start);
      if (byte > 1) Fail("varint overflows 64 bits", start);
    }
    result |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) break;
  }
  return result;
}

std::int8_t CompactReader::ReadI8() {
  return static_cast<std::int8_t>(ReadByte());
}

std::int16_t CompactReader::ReadI16() {
  const std::size_t start = position_;
  const std::int64_t value = ZigzagDecode(ReadVarint());
  if (value < std::numeric_limits<std::int16_t>::min() ||
      value > std::numeric_limits<std::int16_t>::max()) {
    Fail("i16 value " + std::to_string(value) + " out of range", start);
  }
  return static_cast<std::int16_t>(value);
}

std::int32_t CompactReader::ReadI32() {
  const std::size_t start = position_;
  const std::int64_t value = ZigzagDecode(ReadVarint());
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max()) {
    Fail("i32 value " + std::to_string(value) + " out of range", start);
  }
  return static_cast<std::int32_t>(value);
}

std::int64_t CompactReader::ReadI64() {
  return ZigzagDecode(ReadVarint());
}

double CompactReader::ReadDouble() {
  const std::string_view raw = ReadBytes(8, position_, "double");
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<std::uint8_t>(raw[i]);
  return std::bit_cast<double>(bits);
}

bool CompactReader::ReadBool() {
  const std::size_t start = position_;
  const std::uint8_t byte = ReadByte();
  if (byte == 1) return true;
  if (byte == 0 || byte == 2) return false;
  Fail("bool element " + std::to_string(byte) + " is not 0, 1 or 2", start);
}

std::string_view CompactReader::ReadBinary() {
  const std::size_t start = position_;
  const std::uint64_t length = ReadVarint();
  if (length > remaining()) {
    Fail("binary length " + std::to_string(length) + " is past the end (" +
             std::to_string(remaining()) + " bytes left)",
         start);
  }
  return ReadBytes(static_cast<std::size_t>(length), start, "binary");
}

std::string_view CompactReader::ReadUuid() {
  return ReadBytes(kUuidBytes, position_, "uuid");
}

CompactType CompactReader::ElementType(std::uint8_t code, std::size_t start) const {
  if (code == 1 || code == 2) return CompactType::kBoolTrue;
  if (code == 0 || code > kMaxTypeCode) {
    Fail("unknown element type code " + std::to_string(code), start);
  }
  return static_cast<CompactType>(code);
}

std::uint32_t CompactReader::ReadSize(std::size_t start, std::string_view what) {
  const std::uint64_t size = ReadVarint();
  if (size > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
    Fail(std::string(what) + " size " + std::to_string(size) + " is past the i32 range", start);
  }
  return static_cast<std::uint32_t>(size);
}

ListHeader CompactReader::BeginList() {
  const std::size_t start = position_;
  const std::uint8_t byte = ReadByte();
  ListHeader header;
  header.element_type = ElementType(byte & 0x0f, start);
  header.size = byte >> 4;
  if (header.size == 15) header.size = ReadSize(start, "list");
  const std::size_t min_bytes = MinValueBytes(header.element_type);
  if (header.size > remaining() / min_bytes) {
    Fail("list of " + std::to_string(header.size) + " " +
             std::string(CompactTypeName(header.element_type)) +
             " elements is longer than the input (" + std::to_string(remaining()) + " bytes left)",
         start);
  }
  EnterNested(start);
  return header;
}

MapHeader CompactReader::BeginMap() {
  const std::size_t start = position_;
  MapHeader header;
  header.size = ReadSize(start, "map");
  if (header.size != 0) {
    const std::uint8_t types = ReadByte();
    header.key_type = ElementType(types >> 4, start);
    header.value_type = ElementType(types & 0x0f, start);
    const std::size_t min_bytes = MinValueBytes(header.key_type) + MinValueBytes(header.value_type);
    if (header.size > remaining() / min_bytes) {
      Fail("map of " + std::to_string(header.size) + " entries is longer than the input (" +
               std::to_string(remaining()) + " bytes left)",
           start);
    }
  }
  EnterNested(start);
  return header;
}

void CompactReader::Skip(CompactType field_type) {
  switch (field_type) {
    case CompactType::kStop:
      Fail("cannot skip a stop field", position_);
    case CompactType::kBoolTrue:
    case CompactType::kBoolFalse:
      return;
    case CompactType::kI8:
      ReadByte();
      return;
    case CompactType::kI16:
    case CompactType::kI32:
    case CompactType::kI64:
      ReadVarint();
      return;
    case CompactType::kDouble:
      ReadBytes(8, position_, "double");
      return;
    case CompactType::kBinary:
      ReadBinary();
      return;
    case CompactType::kUuid:
      ReadUuid();
      return;
    case CompactType::kList:
    case CompactType::kSet: {
      const ListHeader list = BeginList();
      for (std::uint32_t i = 0; i < list.size; ++i) SkipElement(list.element_type);
      EndList();
      return;
    }
    case CompactType::kMap: {
      const MapHeader map = BeginMap();
      for (std::uint32_t i = 0; i < map.size; ++i) {
        SkipElement(map.key_type);
        SkipElement(map.value_type);
      }
      EndMap();
      return;
    }
    case CompactType::kStruct:
      ReadStruct([this](const FieldHeader& field) { Skip(field.type); });
      return;
  }
  Fail("cannot skip unknown type code " + std::to_string(static_cast<int>(field_type)), position_);
}

void CompactReader::SkipElement(CompactType element_type) {
  if (element_type == CompactType::kBoolTrue || element_type == CompactType::kBoolFalse) {
    ReadBool();
  } else {
    Skip(element_type);
  }
}

// ---------------------------------------------------------------------------------------------
// CompactWriter
// ---------------------------------------------------------------------------------------------

void CompactWriter::BeginStruct() {
  saved_field_ids_.push_back(last_field_id_);
  last_field_id_ = 0;
}

void CompactWriter::EndStruct() {
  bytes_.push_back('\0');
  last_field_id_ = saved_field_ids_.back();
  saved_field_ids_.pop_back();
}

void CompactWriter::WriteFieldHeader(std::int16_t id, CompactType type) {
  const int delta = id - last_field_id_;
  const auto code = static_cast<std::uint8_t>(type);
  if (delta > 0 && delta <= 15) {
    bytes_.push_back(static_cast<char>((delta << 4) | code));
  } else {
    bytes_.push_back(static_cast<char>(code));
    WriteI16(id);
  }
  last_field_id_ = id;
}

void CompactWriter::WriteBoolField(std::int16_t id, bool value) {
  WriteFieldHeader(id, value ? CompactType::kBoolTrue : CompactType::kBoolFalse);
}

void CompactWriter::WriteI8Field(std::int16_t id, std::int8_t value) {
  WriteFieldHeader(id, CompactType::kI8);
  WriteI8(value);
}

void CompactWriter::WriteI16Field(std::int16_t id, std::int16_t value) {
  WriteFieldHeader(id, CompactType::kI16);
  WriteI16(value);
}

void CompactWriter::WriteI32Field(std::int16_t id, std::int32_t value) {
  WriteFieldHeader(id, CompactType::kI32);
  WriteI32(value);
}

void CompactWriter::WriteI64Field(std::int16_t id, std::int64_t value) {
  WriteFieldHeader(id, CompactType::kI64);
  WriteI64(value);
}

void CompactWriter::WriteDoubleField(std::int16_t id, double value) {
  WriteFieldHeader(id, CompactType::kDouble);
  WriteDouble(value);
}

void CompactWriter::WriteBinaryField(std::int16_t id, std::string_view value) {
  WriteFieldHeader(id, CompactType::kBinary);
  WriteBinary(value);
}

void CompactWriter::WriteVarint(std::uint64_t value) {
  while (value >= 0x80) {
    bytes_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<char>(value));
}

void CompactWriter::WriteI8(std::int8_t value) {
  bytes_.push_back(static_cast<char>(value));
}
void CompactWriter::WriteI16(std::int16_t value) {
  WriteVarint(ZigzagEncode(value));
}
void CompactWriter::WriteI32(std::int32_t value) {
  WriteVarint(ZigzagEncode(value));
}
void CompactWriter::WriteI64(std::int64_t value) {
  WriteVarint(ZigzagEncode(value));
}

void CompactWriter::WriteDouble(double value) {
  std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i, bits >>= 8) bytes_.push_back(static_cast<char>(bits & 0xff));
}

void CompactWriter::WriteBool(bool value) {
  bytes_.push_back(value ? '\1' : '\0');
}

void CompactWriter::WriteBinary(std::string_view value) {
  WriteVarint(value.size());
  bytes_.append(value);
}

void CompactWriter::WriteListHeader(CompactType element_type, std::uint32_t size) {
  if (element_type == CompactType::kBoolTrue) element_type = CompactType::kBoolFalse;
  const auto code = static_cast<std::uint8_t>(element_type);
  if (size < 15) {
    bytes_.push_back(static_cast<char>((size << 4) | code));
  } else {
    bytes_.push_back(static_cast<char>(0xf0 | code));
    WriteVarint(size);
  }
}

}  // namespace dkdata::internal::parquet
