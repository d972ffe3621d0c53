// Parquet metadata: decoding, encoding and the footer (see formats/parquet/parquet_metadata.hpp).
//
// Each Decode*() is one loop over the struct's fields, a case per field id we keep; the field's
// wire type is checked before its value is read, so that a corrupt or foreign file is an error
// that names the field rather than garbage. Each Encode*() writes the fields in ascending id order
// (every header then takes the one-byte short form).
#include "formats/parquet/parquet_metadata.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "dkdata/errors.hpp"

namespace dkdata::internal::parquet {

namespace {

// ---------------------------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------------------------

void ExpectType(CompactReader& reader, const FieldHeader& field, CompactType expected,
                std::string_view field_name) {
  const bool matches =
      expected == CompactType::kBoolTrue ? field.is_bool() : field.type == expected;
  if (!matches) {
    reader.Fail(std::string(field_name) + " (field " + std::to_string(field.id) +
                    ") has wire type " + std::string(CompactTypeName(field.type)) + ", expected " +
                    std::string(CompactTypeName(expected)),
                reader.position());
  }
}

[[noreturn]] void Missing(CompactReader& reader, std::string_view field_name) {
  reader.Fail("required field " + std::string(field_name) + " is missing", reader.position());
}

bool BoolField(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kBoolTrue, name);
  return field.bool_value();
}

std::int8_t I8Field(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kI8, name);
  return reader.ReadI8();
}

std::int16_t I16Field(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kI16, name);
  return reader.ReadI16();
}

std::int32_t I32Field(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kI32, name);
  return reader.ReadI32();
}

std::int64_t I64Field(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kI64, name);
  return reader.ReadI64();
}

std::string StringField(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  ExpectType(reader, field, CompactType::kBinary, name);
  return reader.ReadString();
}

// Thrift enums are i32 on the wire; the value is kept as read.
template <typename Enum>
Enum EnumField(CompactReader& reader, const FieldHeader& field, std::string_view name) {
  return static_cast<Enum>(I32Field(reader, field, name));
}

template <typename Decode>
auto StructField(CompactReader& reader, const FieldHeader& field, std::string_view name,
                 Decode decode) {
  ExpectType(reader, field, CompactType::kStruct, name);
  return decode(reader);
}

// Reads a list field whose elements have the given wire type, calling read_element for each
// (read_element reads one element).
template <typename ReadElement>
void ListField(CompactReader& reader, const FieldHeader& field, CompactType element_type,
               std::string_view name, ReadElement read_element) {
  ExpectType(reader, field, CompactType::kList, name);
  const std::size_t start = reader.position();
  const ListHeader list = reader.BeginList();
  if (list.element_type != element_type) {
    reader.Fail(std::string(name) + " is a list of " +
                    std::string(CompactTypeName(list.element_type)) + ", expected " +
                    std::string(CompactTypeName(element_type)),
                start);
  }
  for (std::uint32_t i = 0; i < list.size; ++i) read_element();
  reader.EndList();
}

template <typename Enum>
std::vector<Enum> EnumListField(CompactReader& reader, const FieldHeader& field,
                                std::string_view name) {
  std::vector<Enum> values;
  ListField(reader, field, CompactType::kI32, name,
            [&] { values.push_back(static_cast<Enum>(reader.ReadI32())); });
  return values;
}

std::vector<std::string> StringListField(CompactReader& reader, const FieldHeader& field,
                                         std::string_view name) {
  std::vector<std::string> values;
  ListField(reader, field, CompactType::kBinary, name,
            [&] { values.push_back(reader.ReadString()); });
  return values;
}

template <typename Decode>
auto StructListField(CompactReader& reader, const FieldHeader& field, std::string_view name,
                     Decode decode) {
  std::vector<decltype(decode(reader))> values;
  ListField(reader, field, CompactType::kStruct, name, [&] { values.push_back(decode(reader)); });
  return values;
}

// A union whose members are all empty structs (TimeUnit, ColumnOrder): the member's field id.
// nullopt for an empty union; more than one member is an error.
std::optional<std::int16_t> EmptyStructUnion(CompactReader& reader, std::string_view name) {
  std::optional<std::int16_t> member;
  reader.ReadStruct([&](const FieldHeader& field) {
    ExpectType(reader, field, CompactType::kStruct, name);
    if (member)
      reader.Fail(std::string(name) + " union has more than one member", reader.position());
    member = field.id;
    reader.Skip(CompactType::kStruct);
  });
  return member;
}

void DecodeDecimalType(CompactReader& reader, LogicalType& type) {
  bool has_scale = false;
  bool has_precision = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        type.decimal_scale = I32Field(reader, field, "DecimalType.scale");
        has_scale = true;
        break;
      case 2:
        type.decimal_precision = I32Field(reader, field, "DecimalType.precision");
        has_precision = true;
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_scale) Missing(reader, "DecimalType.scale");
  if (!has_precision) Missing(reader, "DecimalType.precision");
}

// TimeType and TimestampType have the same fields.
void DecodeTimeType(CompactReader& reader, LogicalType& type) {
  bool has_utc = false;
  bool has_unit = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        type.is_adjusted_to_utc = BoolField(reader, field, "TimeType.isAdjustedToUTC");
        has_utc = true;
        break;
      case 2: {
        ExpectType(reader, field, CompactType::kStruct, "TimeType.unit");
        const std::optional<std::int16_t> unit = EmptyStructUnion(reader, "TimeUnit");
        if (!unit) reader.Fail("TimeUnit union has no member", reader.position());
        type.unit = static_cast<TimeUnit>(*unit);
        has_unit = true;
        break;
      }
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_utc) Missing(reader, "TimeType.isAdjustedToUTC");
  if (!has_unit) Missing(reader, "TimeType.unit");
}

void DecodeIntType(CompactReader& reader, LogicalType& type) {
  bool has_width = false;
  bool has_signed = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        type.bit_width = I8Field(reader, field, "IntType.bitWidth");
        has_width = true;
        break;
      case 2:
        type.is_signed = BoolField(reader, field, "IntType.isSigned");
        has_signed = true;
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_width) Missing(reader, "IntType.bitWidth");
  if (!has_signed) Missing(reader, "IntType.isSigned");
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

template <typename Enum>
void WriteEnumField(CompactWriter& writer, std::int16_t id, Enum value) {
  writer.WriteI32Field(id, static_cast<std::int32_t>(value));
}

template <typename T>
void WriteStructField(CompactWriter& writer, std::int16_t id, const T& value) {
  writer.WriteFieldHeader(id, CompactType::kStruct);
  Encode(value, writer);
}

template <typename T>
void WriteStructListField(CompactWriter& writer, std::int16_t id, const std::vector<T>& values) {
  writer.WriteFieldHeader(id, CompactType::kList);
  writer.WriteListHeader(CompactType::kStruct, static_cast<std::uint32_t>(values.size()));
  for (const T& value : values) Encode(value, writer);
}

void WriteStringListField(CompactWriter& writer, std::int16_t id,
                          const std::vector<std::string>& values) {
  writer.WriteFieldHeader(id, CompactType::kList);
  writer.WriteListHeader(CompactType::kBinary, static_cast<std::uint32_t>(values.size()));
  for (const std::string& value : values) writer.WriteBinary(value);
}

// A union member that is an empty struct: { id: {} }.
void WriteEmptyStructUnion(CompactWriter& writer, std::int16_t member) {
  writer.BeginStruct();
  writer.WriteFieldHeader(member, CompactType::kStruct);
  writer.BeginStruct();
  writer.EndStruct();
  writer.EndStruct();
}

void WriteOptionalString(CompactWriter& writer, std::int16_t id,
                         const std::optional<std::string>& value) {
  if (value) writer.WriteBinaryField(id, *value);
}

void WriteOptionalI32(CompactWriter& writer, std::int16_t id,
                      const std::optional<std::int32_t>& value) {
  if (value) writer.WriteI32Field(id, *value);
}

void WriteOptionalI64(CompactWriter& writer, std::int16_t id,
                      const std::optional<std::int64_t>& value) {
  if (value) writer.WriteI64Field(id, *value);
}

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

[[noreturn]] void Invalid(std::string_view file_name, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, std::string(file_name) + ": " + what);
}

[[noreturn]] void Unsupported(std::string_view file_name, const std::string& what) {
  throw Error(ErrorCode::kUnsupported, std::string(file_name) + ": " + what);
}

std::string Quoted(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted.append(1, '\'').append(s).append(1, '\'');
  return quoted;
}

}  // namespace

std::string JoinPath(const std::vector<std::string>& path) {
  std::string joined;
  for (const std::string& part : path) {
    if (!joined.empty()) joined += '.';
    joined += part;
  }
  return joined;
}

std::vector<LeafColumn> SchemaLeaves(const std::vector<SchemaElement>& schema,
                                     std::string_view file_name) {
  if (schema.empty()) Invalid(file_name, "schema is empty");
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].num_children && *schema[i].num_children < 0) {
      Invalid(file_name, "schema element " + std::to_string(i) + " (" + Quoted(schema[i].name) +
                             ") has negative num_children " +
                             std::to_string(*schema[i].num_children));
    }
  }
  if (!schema[0].num_children) {
    Invalid(file_name,
            "schema root " + Quoted(schema[0].name) + " is not a group (no num_children)");
  }
  struct OpenGroup {
    std::size_t index;
    std::int64_t children_left;
  };
  std::vector<OpenGroup> open = {{0, *schema[0].num_children}};
  std::vector<LeafColumn> leaves;
  for (std::size_t i = 1; i < schema.size(); ++i) {
    while (!open.empty() && open.back().children_left == 0) open.pop_back();
    const SchemaElement& element = schema[i];
    if (open.empty()) {
      Invalid(file_name, "schema has " + std::to_string(schema.size()) +
                             " elements but the root's tree ends after " + std::to_string(i) +
                             " (num_children do not add up)");
    }
    --open.back().children_left;
    if (element.num_children && *element.num_children > 0) {
      open.push_back({i, *element.num_children});
    } else if (element.type) {
      LeafColumn leaf;
      for (std::size_t g = 1; g < open.size(); ++g) {
        leaf.path.push_back(schema[open[g].index].name);
        leaf.elements.push_back(open[g].index);
      }
      leaf.path.push_back(element.name);
      leaf.elements.push_back(i);
      for (std::size_t e : leaf.elements) {
        const auto repetition = schema[e].repetition_type.value_or(FieldRepetitionType::kRequired);
        if (repetition != FieldRepetitionType::kRequired) ++leaf.max_definition_level;
        if (repetition == FieldRepetitionType::kRepeated) ++leaf.max_repetition_level;
      }
      leaf.type = *element.type;
      if (leaf.type == Type::kFixedLenByteArray && element.type_length.value_or(0) <= 0) {
        Invalid(file_name, "column " + Quoted(JoinPath(leaf.path)) +
                               " is FIXED_LEN_BYTE_ARRAY without a positive type_length");
      }
      leaves.push_back(std::move(leaf));
    } else if (!element.num_children) {
      Invalid(file_name, "schema element " + std::to_string(i) + " (" + Quoted(element.name) +
                             ") has neither a type nor num_children");
    }
  }
  while (!open.empty() && open.back().children_left == 0) open.pop_back();
  if (!open.empty()) {
    const SchemaElement& group = schema[open.back().index];
    Invalid(file_name, "schema element " + std::to_string(open.back().index) + " (" +
                           Quoted(group.name) + ") has num_children " +
                           std::to_string(*group.num_children) + " but the schema ends after " +
                           std::to_string(schema.size()) + " elements");
  }
  return leaves;
}

namespace {

void ValidateColumnChunk(const ColumnChunk& chunk, const LeafColumn& leaf,
                         std::uint64_t footer_start, const std::string& where,
                         std::string_view file_name) {
  if (chunk.file_path) {
    Unsupported(file_name, where + ": column data in another file (" + Quoted(*chunk.file_path) +
                               ") is not supported");
  }
  if (!chunk.meta_data) {
    Unsupported(file_name,
                where + ": column chunk has no metadata (encrypted columns are not supported)");
  }
  const ColumnMetaData& meta = *chunk.meta_data;
  if (meta.path_in_schema != leaf.path) {
    Invalid(file_name, where + ": path_in_schema " + Quoted(JoinPath(meta.path_in_schema)) +
                           " does not match the schema's column");
  }
  if (meta.type != leaf.type) {
    Invalid(file_name, where + ": column chunk type " + TypeName(meta.type) +
                           " does not match the schema's " + TypeName(leaf.type));
  }
  const auto non_negative = [&](std::int64_t value, std::string_view name) {
    if (value < 0)
      Invalid(file_name, where + ": negative " + std::string(name) + " " + std::to_string(value));
  };
  non_negative(meta.num_values, "num_values");
  non_negative(meta.total_compressed_size, "total_compressed_size");
  non_negative(meta.total_uncompressed_size, "total_uncompressed_size");
  const auto in_data_area = [&](std::int64_t offset, std::string_view name) {
    if (offset < static_cast<std::int64_t>(kParquetMagic.size()) ||
        static_cast<std::uint64_t>(offset) >= footer_start) {
      Invalid(file_name, where + ": " + std::string(name) + " " + std::to_string(offset) +
                             " is outside the column data (bytes 4 to " +
                             std::to_string(footer_start) + ")");
    }
  };
  // A chunk of no values may have no data page at all (pyarrow's zero-row files: only an empty
  // dictionary page, data_page_offset 0); there is nothing to read in it.
  if (meta.num_values == 0 && meta.data_page_offset == 0) return;
  in_data_area(meta.data_page_offset, "data_page_offset");
  std::int64_t chunk_start = meta.data_page_offset;
  // Some writers put 0 for "no dictionary page"; 0 is never a page (the magic is there).
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset != 0) {
    in_data_area(*meta.dictionary_page_offset, "dictionary_page_offset");
    chunk_start = std::min(chunk_start, *meta.dictionary_page_offset);
  }
  const std::uint64_t room = footer_start - static_cast<std::uint64_t>(chunk_start);
  if (static_cast<std::uint64_t>(meta.total_compressed_size) > room) {
    Invalid(file_name, where + ": column chunk of " + std::to_string(meta.total_compressed_size) +
                           " bytes at offset " + std::to_string(chunk_start) +
                           " runs past the footer at " + std::to_string(footer_start));
  }
}

std::uint32_t ReadLittleEndian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

template <typename Enum>
std::string EnumName(Enum value, std::string_view enum_name, const std::string_view* names,
                     std::size_t count) {
  const auto index = static_cast<std::int64_t>(value);
  if (index >= 0 && static_cast<std::size_t>(index) < count && !names[index].empty()) {
    return std::string(names[index]);
  }
  return std::string(enum_name) + "(" + std::to_string(index) + ")";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

std::string TypeName(Type type) {
  static constexpr std::string_view kNames[] = {
      "BOOLEAN", "INT32",  "INT64",      "INT96",
      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return EnumName(type, "Type", kNames, std::size(kNames));
}

std::string CompressionCodecName(CompressionCodec codec) {
  static constexpr std::string_view kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                                "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return EnumName(codec, "CompressionCodec", kNames, std::size(kNames));
}

std::string EncodingName(Encoding encoding) {
  static constexpr std::string_view kNames[] = {"PLAIN",
                                                "",  // 1: GROUP_VAR_INT, never used
                                                "PLAIN_DICTIONARY",
                                                "RLE",
                                                "BIT_PACKED",
                                                "DELTA_BINARY_PACKED",
                                                "DELTA_LENGTH_BYTE_ARRAY",
                                                "DELTA_BYTE_ARRAY",
                                                "RLE_DICTIONARY",
                                                "BYTE_STREAM_SPLIT"};
  return EnumName(encoding, "Encoding", kNames, std::size(kNames));
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

std::optional<LogicalType> DecodeLogicalType(CompactReader& reader) {
  std::optional<LogicalType> result;
  reader.ReadStruct([&](const FieldHeader& field) {
    ExpectType(reader, field, CompactType::kStruct, "LogicalType member");
    if (result) reader.Fail("LogicalType union has more than one member", reader.position());
    LogicalType& type = result.emplace();
    type.kind = static_cast<LogicalTypeKind>(field.id);
    switch (type.kind) {
      case LogicalTypeKind::kDecimal:
        DecodeDecimalType(reader, type);
        break;
      case LogicalTypeKind::kTime:
      case LogicalTypeKind::kTimestamp:
        DecodeTimeType(reader, type);
        break;
      case LogicalTypeKind::kInteger:
        DecodeIntType(reader, type);
        break;
      default:
        reader.Skip(CompactType::kStruct);
    }
  });
  return result;
}

SchemaElement DecodeSchemaElement(CompactReader& reader) {
  SchemaElement element;
  bool has_name = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        element.type = EnumField<Type>(reader, field, "SchemaElement.type");
        break;
      case 2:
        element.type_length = I32Field(reader, field, "SchemaElement.type_length");
        break;
      case 3:
        element.repetition_type =
            EnumField<FieldRepetitionType>(reader, field, "SchemaElement.repetition_type");
        break;
      case 4:
        element.name = StringField(reader, field, "SchemaElement.name");
        has_name = true;
        break;
      case 5:
        element.num_children = I32Field(reader, field, "SchemaElement.num_children");
        break;
      case 6:
        element.converted_type =
            EnumField<ConvertedType>(reader, field, "SchemaElement.converted_type");
        break;
      case 7:
        element.scale = I32Field(reader, field, "SchemaElement.scale");
        break;
      case 8:
        element.precision = I32Field(reader, field, "SchemaElement.precision");
        break;
      case 9:
        element.field_id = I32Field(reader, field, "SchemaElement.field_id");
        break;
      case 10:
        element.logical_type =
            StructField(reader, field, "SchemaElement.logicalType", DecodeLogicalType);
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_name) Missing(reader, "SchemaElement.name");
  return element;
}

KeyValue DecodeKeyValue(CompactReader& reader) {
  KeyValue kv;
  bool has_key = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        kv.key = StringField(reader, field, "KeyValue.key");
        has_key = true;
        break;
      case 2:
        kv.value = StringField(reader, field, "KeyValue.value");
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_key) Missing(reader, "KeyValue.key");
  return kv;
}

Statistics DecodeStatistics(CompactReader& reader) {
  Statistics stats;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        stats.max = StringField(reader, field, "Statistics.max");
        break;
      case 2:
        stats.min = StringField(reader, field, "Statistics.min");
        break;
      case 3:
        stats.null_count = I64Field(reader, field, "Statistics.null_count");
        break;
      case 4:
        stats.distinct_count = I64Field(reader, field, "Statistics.distinct_count");
        break;
      case 5:
        stats.max_value = StringField(reader, field, "Statistics.max_value");
        break;
      case 6:
        stats.min_value = StringField(reader, field, "Statistics.min_value");
        break;
      case 7:
        stats.is_max_value_exact = BoolField(reader, field, "Statistics.is_max_value_exact");
        break;
      case 8:
        stats.is_min_value_exact = BoolField(reader, field, "Statistics.is_min_value_exact");
        break;
      case 9:
        stats.nan_count = I64Field(reader, field, "Statistics.nan_count");
        break;
      default:
        reader.Skip(field.type);
    }
  });
  return stats;
}

ColumnMetaData DecodeColumnMetaData(CompactReader& reader) {
  ColumnMetaData meta;
  // Bit i: required field i was read.
  unsigned seen = 0;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        meta.type = EnumField<Type>(reader, field, "ColumnMetaData.type");
        break;
      case 2:
        meta.encodings = EnumListField<Encoding>(reader, field, "ColumnMetaData.encodings");
        break;
      case 3:
        meta.path_in_schema = StringListField(reader, field, "ColumnMetaData.path_in_schema");
        break;
      case 4:
        meta.codec = EnumField<CompressionCodec>(reader, field, "ColumnMetaData.codec");
        break;
      case 5:
        meta.num_values = I64Field(reader, field, "ColumnMetaData.num_values");
        break;
      case 6:
        meta.total_uncompressed_size =
            I64Field(reader, field, "ColumnMetaData.total_uncompressed_size");
        break;
      case 7:
        meta.total_compressed_size =
            I64Field(reader, field, "ColumnMetaData.total_compressed_size");
        break;
      case 8:
        meta.key_value_metadata =
            StructListField(reader, field, "ColumnMetaData.key_value_metadata", DecodeKeyValue);
        break;
      case 9:
        meta.data_page_offset = I64Field(reader, field, "ColumnMetaData.data_page_offset");
        break;
      case 10:
        meta.index_page_offset = I64Field(reader, field, "ColumnMetaData.index_page_offset");
        break;
      case 11:
        meta.dictionary_page_offset =
            I64Field(reader, field, "ColumnMetaData.dictionary_page_offset");
        break;
      case 12:
        meta.statistics = StructField(reader, field, "ColumnMetaData.statistics", DecodeStatistics);
        break;
      default:
        reader.Skip(field.type);
        return;
    }
    seen |= 1u << field.id;
  });
  static constexpr std::string_view kRequired[] = {"",
                                                   "ColumnMetaData.type",
                                                   "ColumnMetaData.encodings",
                                                   "ColumnMetaData.path_in_schema",
                                                   "ColumnMetaData.codec",
                                                   "ColumnMetaData.num_values",
                                                   "ColumnMetaData.total_uncompressed_size",
                                                   "ColumnMetaData.total_compressed_size",
                                                   "",
                                                   "ColumnMetaData.data_page_offset"};
  for (std::size_t id = 1; id < std::size(kRequired); ++id) {
    if (!kRequired[id].empty() && (seen & (1u << id)) == 0) Missing(reader, kRequired[id]);
  }
  return meta;
}

ColumnChunk DecodeColumnChunk(CompactReader& reader) {
  ColumnChunk chunk;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        chunk.file_path = StringField(reader, field, "ColumnChunk.file_path");
        break;
      case 2:
        chunk.file_offset = I64Field(reader, field, "ColumnChunk.file_offset");
        break;
      case 3:
        chunk.meta_data = StructField(reader, field, "ColumnChunk.meta_data", DecodeColumnMetaData);
        break;
      default:
        reader.Skip(field.type);
    }
  });
  // file_offset is required in the IDL, but deprecated with a default of 0: its absence is fine.
  return chunk;
}

RowGroup DecodeRowGroup(CompactReader& reader) {
  RowGroup group;
  bool has_columns = false;
  bool has_byte_size = false;
  bool has_num_rows = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        group.columns = StructListField(reader, field, "RowGroup.columns", DecodeColumnChunk);
        has_columns = true;
        break;
      case 2:
        group.total_byte_size = I64Field(reader, field, "RowGroup.total_byte_size");
        has_byte_size = true;
        break;
      case 3:
        group.num_rows = I64Field(reader, field, "RowGroup.num_rows");
        has_num_rows = true;
        break;
      case 5:
        group.file_offset = I64Field(reader, field, "RowGroup.file_offset");
        break;
      case 6:
        group.total_compressed_size = I64Field(reader, field, "RowGroup.total_compressed_size");
        break;
      case 7:
        group.ordinal = I16Field(reader, field, "RowGroup.ordinal");
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_columns) Missing(reader, "RowGroup.columns");
  if (!has_byte_size) Missing(reader, "RowGroup.total_byte_size");
  if (!has_num_rows) Missing(reader, "RowGroup.num_rows");
  return group;
}

FileMetaData DecodeFileMetaData(CompactReader& reader) {
  FileMetaData metadata;
  bool has_version = false;
  bool has_schema = false;
  bool has_num_rows = false;
  bool has_row_groups = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        metadata.version = I32Field(reader, field, "FileMetaData.version");
        has_version = true;
        break;
      case 2:
        metadata.schema =
            StructListField(reader, field, "FileMetaData.schema", DecodeSchemaElement);
        has_schema = true;
        break;
      case 3:
        metadata.num_rows = I64Field(reader, field, "FileMetaData.num_rows");
        has_num_rows = true;
        break;
      case 4:
        metadata.row_groups =
            StructListField(reader, field, "FileMetaData.row_groups", DecodeRowGroup);
        has_row_groups = true;
        break;
      case 5:
        metadata.key_value_metadata =
            StructListField(reader, field, "FileMetaData.key_value_metadata", DecodeKeyValue);
        break;
      case 6:
        metadata.created_by = StringField(reader, field, "FileMetaData.created_by");
        break;
      case 7:
        ListField(reader, field, CompactType::kStruct, "FileMetaData.column_orders", [&] {
          const std::optional<std::int16_t> order = EmptyStructUnion(reader, "ColumnOrder");
          if (!order) reader.Fail("ColumnOrder union has no member", reader.position());
          metadata.column_orders.push_back(static_cast<ColumnOrder>(*order));
        });
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_version) Missing(reader, "FileMetaData.version");
  if (!has_schema) Missing(reader, "FileMetaData.schema");
  if (!has_num_rows) Missing(reader, "FileMetaData.num_rows");
  if (!has_row_groups) Missing(reader, "FileMetaData.row_groups");
  return metadata;
}

DataPageHeader DecodeDataPageHeader(CompactReader& reader) {
  DataPageHeader header;
  unsigned seen = 0;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        header.num_values = I32Field(reader, field, "DataPageHeader.num_values");
        break;
      case 2:
        header.encoding = EnumField<Encoding>(reader, field, "DataPageHeader.encoding");
        break;
      case 3:
        header.definition_level_encoding =
            EnumField<Encoding>(reader, field, "DataPageHeader.definition_level_encoding");
        break;
      case 4:
        header.repetition_level_encoding =
            EnumField<Encoding>(reader, field, "DataPageHeader.repetition_level_encoding");
        break;
      case 5:
        header.statistics =
            StructField(reader, field, "DataPageHeader.statistics", DecodeStatistics);
        break;
      default:
        reader.Skip(field.type);
        return;
    }
    seen |= 1u << field.id;
  });
  if ((seen & (1u << 1)) == 0) Missing(reader, "DataPageHeader.num_values");
  if ((seen & (1u << 2)) == 0) Missing(reader, "DataPageHeader.encoding");
  if ((seen & (1u << 3)) == 0) Missing(reader, "DataPageHeader.definition_level_encoding");
  if ((seen & (1u << 4)) == 0) Missing(reader, "DataPageHeader.repetition_level_encoding");
  return header;
}

DictionaryPageHeader DecodeDictionaryPageHeader(CompactReader& reader) {
  DictionaryPageHeader header;
  bool has_num_values = false;
  bool has_encoding = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        header.num_values = I32Field(reader, field, "DictionaryPageHeader.num_values");
        has_num_values = true;
        break;
      case 2:
        header.encoding = EnumField<Encoding>(reader, field, "DictionaryPageHeader.encoding");
        has_encoding = true;
        break;
      case 3:
        header.is_sorted = BoolField(reader, field, "DictionaryPageHeader.is_sorted");
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_num_values) Missing(reader, "DictionaryPageHeader.num_values");
  if (!has_encoding) Missing(reader, "DictionaryPageHeader.encoding");
  return header;
}

DataPageHeaderV2 DecodeDataPageHeaderV2(CompactReader& reader) {
  DataPageHeaderV2 header;
  unsigned seen = 0;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        header.num_values = I32Field(reader, field, "DataPageHeaderV2.num_values");
        break;
      case 2:
        header.num_nulls = I32Field(reader, field, "DataPageHeaderV2.num_nulls");
        break;
      case 3:
        header.num_rows = I32Field(reader, field, "DataPageHeaderV2.num_rows");
        break;
      case 4:
        header.encoding = EnumField<Encoding>(reader, field, "DataPageHeaderV2.encoding");
        break;
      case 5:
        header.definition_levels_byte_length =
            I32Field(reader, field, "DataPageHeaderV2.definition_levels_byte_length");
        break;
      case 6:
        header.repetition_levels_byte_length =
            I32Field(reader, field, "DataPageHeaderV2.repetition_levels_byte_length");
        break;
      case 7:
        header.is_compressed = BoolField(reader, field, "DataPageHeaderV2.is_compressed");
        break;
      case 8:
        header.statistics =
            StructField(reader, field, "DataPageHeaderV2.statistics", DecodeStatistics);
        break;
      default:
        reader.Skip(field.type);
        return;
    }
    seen |= 1u << field.id;
  });
  static constexpr std::string_view kRequired[] = {
      "",
      "DataPageHeaderV2.num_values",
      "DataPageHeaderV2.num_nulls",
      "DataPageHeaderV2.num_rows",
      "DataPageHeaderV2.encoding",
      "DataPageHeaderV2.definition_levels_byte_length",
      "DataPageHeaderV2.repetition_levels_byte_length"};
  for (std::size_t id = 1; id < std::size(kRequired); ++id) {
    if ((seen & (1u << id)) == 0) Missing(reader, kRequired[id]);
  }
  return header;
}

PageHeader DecodePageHeader(CompactReader& reader) {
  PageHeader header;
  bool has_type = false;
  bool has_uncompressed = false;
  bool has_compressed = false;
  reader.ReadStruct([&](const FieldHeader& field) {
    switch (field.id) {
      case 1:
        header.type = EnumField<PageType>(reader, field, "PageHeader.type");
        has_type = true;
        break;
      case 2:
        header.uncompressed_page_size =
            I32Field(reader, field, "PageHeader.uncompressed_page_size");
        has_uncompressed = true;
        break;
      case 3:
        header.compressed_page_size = I32Field(reader, field, "PageHeader.compressed_page_size");
        has_compressed = true;
        break;
      case 4:
        header.crc = I32Field(reader, field, "PageHeader.crc");
        break;
      case 5:
        header.data_page_header =
            StructField(reader, field, "PageHeader.data_page_header", DecodeDataPageHeader);
        break;
      case 7:
        header.dictionary_page_header = StructField(
            reader, field, "PageHeader.dictionary_page_header", DecodeDictionaryPageHeader);
        break;
      case 8:
        header.data_page_header_v2 =
            StructField(reader, field, "PageHeader.data_page_header_v2", DecodeDataPageHeaderV2);
        break;
      default:
        reader.Skip(field.type);
    }
  });
  if (!has_type) Missing(reader, "PageHeader.type");
  if (!has_uncompressed) Missing(reader, "PageHeader.uncompressed_page_size");
  if (!has_compressed) Missing(reader, "PageHeader.compressed_page_size");
  return header;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

void Encode(const LogicalType& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteFieldHeader(static_cast<std::int16_t>(value.kind), CompactType::kStruct);
  writer.BeginStruct();
  switch (value.kind) {
    case LogicalTypeKind::kDecimal:
      writer.WriteI32Field(1, value.decimal_scale);
      writer.WriteI32Field(2, value.decimal_precision);
      break;
    case LogicalTypeKind::kTime:
    case LogicalTypeKind::kTimestamp:
      writer.WriteBoolField(1, value.is_adjusted_to_utc);
      writer.WriteFieldHeader(2, CompactType::kStruct);
      WriteEmptyStructUnion(writer, static_cast<std::int16_t>(value.unit));
      break;
    case LogicalTypeKind::kInteger:
      writer.WriteI8Field(1, value.bit_width);
      writer.WriteBoolField(2, value.is_signed);
      break;
    default:
      break;
  }
  writer.EndStruct();
  writer.EndStruct();
}

void Encode(const SchemaElement& value, CompactWriter& writer) {
  writer.BeginStruct();
  if (value.type) WriteEnumField(writer, 1, *value.type);
  WriteOptionalI32(writer, 2, value.type_length);
  if (value.repetition_type) WriteEnumField(writer, 3, *value.repetition_type);
  writer.WriteBinaryField(4, value.name);
  WriteOptionalI32(writer, 5, value.num_children);
  if (value.converted_type) WriteEnumField(writer, 6, *value.converted_type);
  WriteOptionalI32(writer, 7, value.scale);
  WriteOptionalI32(writer, 8, value.precision);
  WriteOptionalI32(writer, 9, value.field_id);
  if (value.logical_type) WriteStructField(writer, 10, *value.logical_type);
  writer.EndStruct();
}

void Encode(const KeyValue& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteBinaryField(1, value.key);
  WriteOptionalString(writer, 2, value.value);
  writer.EndStruct();
}

void Encode(const Statistics& value, CompactWriter& writer) {
  writer.BeginStruct();
  WriteOptionalString(writer, 1, value.max);
  WriteOptionalString(writer, 2, value.min);
  WriteOptionalI64(writer, 3, value.null_count);
  WriteOptionalI64(writer, 4, value.distinct_count);
  WriteOptionalString(writer, 5, value.max_value);
  WriteOptionalString(writer, 6, value.min_value);
  if (value.is_max_value_exact) writer.WriteBoolField(7, *value.is_max_value_exact);
  if (value.is_min_value_exact) writer.WriteBoolField(8, *value.is_min_value_exact);
  WriteOptionalI64(writer, 9, value.nan_count);
  writer.EndStruct();
}

void Encode(const ColumnMetaData& value, CompactWriter& writer) {
  writer.BeginStruct();
  WriteEnumField(writer, 1, value.type);
  writer.WriteFieldHeader(2, CompactType::kList);
  writer.WriteListHeader(CompactType::kI32, static_cast<std::uint32_t>(value.encodings.size()));
  for (Encoding encoding : value.encodings) writer.WriteI32(static_cast<std::int32_t>(encoding));
  WriteStringListField(writer, 3, value.path_in_schema);
  WriteEnumField(writer, 4, value.codec);
  writer.WriteI64Field(5, value.num_values);
  writer.WriteI64Field(6, value.total_uncompressed_size);
  writer.WriteI64Field(7, value.total_compressed_size);
  if (!value.key_value_metadata.empty()) WriteStructListField(writer, 8, value.key_value_metadata);
  writer.WriteI64Field(9, value.data_page_offset);
  WriteOptionalI64(writer, 10, value.index_page_offset);
  WriteOptionalI64(writer, 11, value.dictionary_page_offset);
  if (value.statistics) WriteStructField(writer, 12, *value.statistics);
  writer.EndStruct();
}

void Encode(const ColumnChunk& value, CompactWriter& writer) {
  writer.BeginStruct();
  WriteOptionalString(writer, 1, value.file_path);
  writer.WriteI64Field(2, value.file_offset);
  if (value.meta_data) WriteStructField(writer, 3, *value.meta_data);
  writer.EndStruct();
}

void Encode(const RowGroup& value, CompactWriter& writer) {
  writer.BeginStruct();
  WriteStructListField(writer, 1, value.columns);
  writer.WriteI64Field(2, value.total_byte_size);
  writer.WriteI64Field(3, value.num_rows);
  WriteOptionalI64(writer, 5, value.file_offset);
  WriteOptionalI64(writer, 6, value.total_compressed_size);
  if (value.ordinal) writer.WriteI16Field(7, *value.ordinal);
  writer.EndStruct();
}

void Encode(const FileMetaData& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteI32Field(1, value.version);
  WriteStructListField(writer, 2, value.schema);
  writer.WriteI64Field(3, value.num_rows);
  WriteStructListField(writer, 4, value.row_groups);
  if (!value.key_value_metadata.empty()) WriteStructListField(writer, 5, value.key_value_metadata);
  WriteOptionalString(writer, 6, value.created_by);
  if (!value.column_orders.empty()) {
    writer.WriteFieldHeader(7, CompactType::kList);
    writer.WriteListHeader(CompactType::kStruct,
                           static_cast<std::uint32_t>(value.column_orders.size()));
    for (ColumnOrder order : value.column_orders) {
      WriteEmptyStructUnion(writer, static_cast<std::int16_t>(order));
    }
  }
  writer.EndStruct();
}

void Encode(const DataPageHeader& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteI32Field(1, value.num_values);
  WriteEnumField(writer, 2, value.encoding);
  WriteEnumField(writer, 3, value.definition_level_encoding);
  WriteEnumField(writer, 4, value.repetition_level_encoding);
  if (value.statistics) WriteStructField(writer, 5, *value.statistics);
  writer.EndStruct();
}

void Encode(const DictionaryPageHeader& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteI32Field(1, value.num_values);
  WriteEnumField(writer, 2, value.encoding);
  if (value.is_sorted) writer.WriteBoolField(3, *value.is_sorted);
  writer.EndStruct();
}

void Encode(const DataPageHeaderV2& value, CompactWriter& writer) {
  writer.BeginStruct();
  writer.WriteI32Field(1, value.num_values);
  writer.WriteI32Field(2, value.num_nulls);
  writer.WriteI32Field(3, value.num_rows);
  WriteEnumField(writer, 4, value.encoding);
  writer.WriteI32Field(5, value.definition_levels_byte_length);
  writer.WriteI32Field(6, value.repetition_levels_byte_length);
  writer.WriteBoolField(7, value.is_compressed);
  if (value.statistics) WriteStructField(writer, 8, *value.statistics);
  writer.EndStruct();
}

void Encode(const PageHeader& value, CompactWriter& writer) {
  writer.BeginStruct();
  WriteEnumField(writer, 1, value.type);
  writer.WriteI32Field(2, value.uncompressed_page_size);
  writer.WriteI32Field(3, value.compressed_page_size);
  WriteOptionalI32(writer, 4, value.crc);
  if (value.data_page_header) WriteStructField(writer, 5, *value.data_page_header);
  if (value.dictionary_page_header) WriteStructField(writer, 7, *value.dictionary_page_header);
  if (value.data_page_header_v2) WriteStructField(writer, 8, *value.data_page_header_v2);
  writer.EndStruct();
}

// ---------------------------------------------------------------------------------------------
// The footer
// ---------------------------------------------------------------------------------------------

void ValidateFileMetaData(const FileMetaData& metadata, std::uint64_t footer_start,
                          std::string_view file_name) {
  const std::vector<LeafColumn> leaves = SchemaLeaves(metadata.schema, file_name);
  if (metadata.num_rows < 0) {
    Invalid(file_name, "negative num_rows " + std::to_string(metadata.num_rows));
  }
  for (std::size_t g = 0; g < metadata.row_groups.size(); ++g) {
    const RowGroup& group = metadata.row_groups[g];
    const std::string where = "row group " + std::to_string(g);
    if (group.num_rows < 0) {
      Invalid(file_name, where + ": negative num_rows " + std::to_string(group.num_rows));
    }
    if (group.total_byte_size < 0) {
      Invalid(file_name,
              where + ": negative total_byte_size " + std::to_string(group.total_byte_size));
    }
    if (group.columns.size() != leaves.size()) {
      Invalid(file_name, where + " has " + std::to_string(group.columns.size()) +
                             " column chunks, the schema has " + std::to_string(leaves.size()) +
                             " columns");
    }
    // Every row has at least one level entry in every column (a null or an empty list is one), so
    // no chunk holds fewer values than the group has rows, and a group without columns has no
    // rows (pyarrow writes 0 for a table without columns). Otherwise the rows would come from
    // nowhere: a 49-byte file of no columns could claim 2^40 of them.
    if (leaves.empty() && group.num_rows != 0) {
      Invalid(file_name, where + " has " + std::to_string(group.num_rows) +
                             " rows but the schema has no columns");
    }
    for (std::size_t c = 0; c < leaves.size(); ++c) {
      const std::string column = where + ", column " + Quoted(JoinPath(leaves[c].path));
      ValidateColumnChunk(group.columns[c], leaves[c], footer_start, column, file_name);
      const std::int64_t values = group.columns[c].meta_data->num_values;
      if (values < group.num_rows) {
        Invalid(file_name, column + ": " + std::to_string(values) + " values for the row group's " +
                               std::to_string(group.num_rows) + " rows");
      }
    }
  }
}

std::uint32_t CheckFrame(std::string_view head, std::string_view tail, std::uint64_t file_size,
                         std::string_view file_name) {
  constexpr std::size_t kMagicBytes = kParquetMagic.size();
  if (file_size < kFrameBytes || head.size() < kMagicBytes || tail.size() < kFrameBytes - 4) {
    Invalid(file_name, "file of " + std::to_string(file_size) +
                           " bytes is too small to be Parquet (" + std::to_string(kFrameBytes) +
                           " bytes at least)");
  }
  const std::string_view trailing_magic = tail.substr(tail.size() - kMagicBytes);
  if (trailing_magic == "PARE") {
    Unsupported(file_name, "encrypted footer (magic \"PARE\") is not supported");
  }
  if (head.substr(0, kMagicBytes) != kParquetMagic) {
    Invalid(file_name, "does not start with the Parquet magic \"PAR1\"");
  }
  if (trailing_magic != kParquetMagic) {
    Invalid(file_name, "does not end with the Parquet magic \"PAR1\" (truncated, or not Parquet)");
  }
  const std::uint32_t footer_length =
      ReadLittleEndian32(tail.substr(tail.size() - kMagicBytes - 4, 4));
  if (footer_length > file_size - kFrameBytes) {
    Invalid(file_name, "footer length " + std::to_string(footer_length) +
                           " is past the start of the file (size " + std::to_string(file_size) +
                           ")");
  }
  return footer_length;
}

FileMetaData ParseFooter(std::string_view footer, std::uint64_t footer_start,
                         std::string_view file_name) {
  CompactReader reader(footer, std::string(file_name) + ": footer", footer_start);
  FileMetaData metadata = DecodeFileMetaData(reader);
  ValidateFileMetaData(metadata, footer_start, file_name);
  return metadata;
}

FileMetaData ReadFooter(std::string_view file_bytes, std::string_view file_name) {
  const std::size_t size = file_bytes.size();
  const std::uint32_t footer_length =
      CheckFrame(file_bytes, file_bytes.substr(size < 8 ? 0 : size - 8), size, file_name);
  const std::size_t footer_start = size - 8 - footer_length;
  return ParseFooter(file_bytes.substr(footer_start, footer_length), footer_start, file_name);
}

}  // namespace dkdata::internal::parquet
