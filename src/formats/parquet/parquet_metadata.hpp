// formats/parquet/parquet_metadata.hpp: Parquet's file metadata (the footer) and page headers as
// C++ structs, decoded from and encoded to the Thrift compact protocol.
//
// The structs hold what our reader and writer use, with the field ids of apache/parquet-format's
// parquet.thrift (noted on each member); fields not here (page indexes, bloom filters, encryption,
// size statistics, ...) are skipped when decoding and not written when encoding. Optional Thrift
// fields are std::optional; a required field missing from the input is an error. Enum values are
// kept as read, so a value from a newer writer (an encoding we do not know) reaches the code that
// has to decide whether it can read it.
//
// ReadFooter() checks the file's frame ("PAR1" at both ends, the footer length) and validates the
// metadata before anyone uses it: the schema tree is consistent, every count is non-negative,
// every row group has one column chunk per leaf column, and every column chunk lies within the
// file. Errors are Error(kInvalidArgument) naming the file and what is wrong ("data.parquet:
// footer length 123456 is past the start of the file (size 100)"); encrypted footers and column
// data in other files are Error(kUnsupported).
//
// Thread-safety: the functions are reentrant; the structs are plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/thrift_compact.hpp"

namespace dkdata::internal::parquet {

// ---- Enums (values as in parquet.thrift) ----

enum class Type : std::int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class ConvertedType : std::int32_t {
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTimeMillis = 7,
  kTimeMicros = 8,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
  kBson = 20,
  kInterval = 21,
};

enum class FieldRepetitionType : std::int32_t {
  kRequired = 0,
  kOptional = 1,
  kRepeated = 2,
};

enum class Encoding : std::int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

enum class CompressionCodec : std::int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

enum class PageType : std::int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

// The members of the LogicalType union; the value is the union's field id.
enum class LogicalTypeKind : std::int16_t {
  kString = 1,
  kMap = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTime = 7,
  kTimestamp = 8,
  kInteger = 10,
  kNull = 11,  // "UNKNOWN" in parquet.thrift: the column is always null
  kJson = 12,
  kBson = 13,
  kUuid = 14,
  kFloat16 = 15,
  kVariant = 16,
  kGeometry = 17,
  kGeography = 18,
};

enum class TimeUnit : std::int16_t { kMillis = 1, kMicros = 2, kNanos = 3 };

// The members of the ColumnOrder union; the value is the union's field id.
enum class ColumnOrder : std::int16_t {
  kTypeDefinedOrder = 1,
  kIeee754TotalOrder = 2,
  kInt96TimestampOrder = 3,
};

// "BOOLEAN", "INT32", ... (the parquet.thrift names); "Type(42)" for a value we do not know.
std::string TypeName(Type type);
// "UNCOMPRESSED", "SNAPPY", ...; "CompressionCodec(42)" for a value we do not know.
std::string CompressionCodecName(CompressionCodec codec);
// "PLAIN", "RLE_DICTIONARY", ...; "Encoding(42)" for a value we do not know.
std::string EncodingName(Encoding encoding);

// ---- Structs ----

// union LogicalType. Only the parameters of DECIMAL, TIME, TIMESTAMP and INTEGER are kept (the
// optional parameters of VARIANT, GEOMETRY and GEOGRAPHY are skipped). A member this code does
// not know keeps its field id in kind.
struct LogicalType {
  LogicalTypeKind kind = LogicalTypeKind::kString;
  std::int32_t decimal_scale = 0;      // DecimalType 1
  std::int32_t decimal_precision = 0;  // DecimalType 2
  bool is_adjusted_to_utc = false;     // TimeType/TimestampType 1
  TimeUnit unit = TimeUnit::kMillis;   // TimeType/TimestampType 2
  std::int8_t bit_width = 0;           // IntType 1
  bool is_signed = false;              // IntType 2
  bool operator==(const LogicalType&) const = default;
};

struct SchemaElement {
  std::optional<Type> type;                            // 1 (leaves only)
  std::optional<std::int32_t> type_length;             // 2
  std::optional<FieldRepetitionType> repetition_type;  // 3 (all but the root)
  std::string name;                                    // 4 required
  std::optional<std::int32_t> num_children;            // 5 (groups only)
  std::optional<ConvertedType> converted_type;         // 6
  std::optional<std::int32_t> scale;                   // 7
  std::optional<std::int32_t> precision;               // 8
  std::optional<std::int32_t> field_id;                // 9
  std::optional<LogicalType> logical_type;             // 10
  bool operator==(const SchemaElement&) const = default;
};

struct KeyValue {
  std::string key;                   // 1 required
  std::optional<std::string> value;  // 2
  bool operator==(const KeyValue&) const = default;
};

// Min and max are PLAIN-encoded values (byte arrays without their length prefix).
struct Statistics {
  std::optional<std::string> max;              // 1 (deprecated: signed comparison)
  std::optional<std::string> min;              // 2 (deprecated)
  std::optional<std::int64_t> null_count;      // 3
  std::optional<std::int64_t> distinct_count;  // 4
  std::optional<std::string> max_value;        // 5 (in the column order)
  std::optional<std::string> min_value;        // 6
  std::optional<bool> is_max_value_exact;      // 7
  std::optional<bool> is_min_value_exact;      // 8
  std::optional<std::int64_t> nan_count;       // 9
  bool operator==(const Statistics&) const = default;
};

struct ColumnMetaData {
  Type type = Type::kBoolean;                                // 1 required
  std::vector<Encoding> encodings;                           // 2 required
  std::vector<std::string> path_in_schema;                   // 3 required
  CompressionCodec codec = CompressionCodec::kUncompressed;  // 4 required
  std::int64_t num_values = 0;                               // 5 required
  std::int64_t total_uncompressed_size = 0;                  // 6 required (with page headers)
  std::int64_t total_compressed_size = 0;                    // 7 required (with page headers)
  std::vector<KeyValue> key_value_metadata;                  // 8 (written when not empty)
  std::int64_t data_page_offset = 0;                         // 9 required
  std::optional<std::int64_t> index_page_offset;             // 10
  std::optional<std::int64_t> dictionary_page_offset;        // 11
  std::optional<Statistics> statistics;                      // 12
  bool operator==(const ColumnMetaData&) const = default;
};

struct ColumnChunk {
  std::optional<std::string> file_path;     // 1 (column data in another file: unsupported)
  std::int64_t file_offset = 0;             // 2 required (deprecated; writers put 0)
  std::optional<ColumnMetaData> meta_data;  // 3 (absent only in encrypted files)
  bool operator==(const ColumnChunk&) const = default;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;                   // 1 required, one per leaf column
  std::int64_t total_byte_size = 0;                   // 2 required (uncompressed)
  std::int64_t num_rows = 0;                          // 3 required
  std::optional<std::int64_t> file_offset;            // 5
  std::optional<std::int64_t> total_compressed_size;  // 6
  std::optional<std::int16_t> ordinal;                // 7
  bool operator==(const RowGroup&) const = default;
};

struct FileMetaData {
  std::int32_t version = 1;                  // 1 required
  std::vector<SchemaElement> schema;         // 2 required: the root first, depth-first
  std::int64_t num_rows = 0;                 // 3 required
  std::vector<RowGroup> row_groups;          // 4 required
  std::vector<KeyValue> key_value_metadata;  // 5 (written when not empty)
  std::optional<std::string> created_by;     // 6
  std::vector<ColumnOrder> column_orders;    // 7 (one per leaf column; written when not empty)
  bool operator==(const FileMetaData&) const = default;
};

struct DataPageHeader {
  std::int32_t num_values = 0;                          // 1 required (with nulls)
  Encoding encoding = Encoding::kPlain;                 // 2 required
  Encoding definition_level_encoding = Encoding::kRle;  // 3 required
  Encoding repetition_level_encoding = Encoding::kRle;  // 4 required
  std::optional<Statistics> statistics;                 // 5
  bool operator==(const DataPageHeader&) const = default;
};

struct DictionaryPageHeader {
  std::int32_t num_values = 0;           // 1 required
  Encoding encoding = Encoding::kPlain;  // 2 required
  std::optional<bool> is_sorted;         // 3
  bool operator==(const DictionaryPageHeader&) const = default;
};

struct DataPageHeaderV2 {
  std::int32_t num_values = 0;                     // 1 required (with nulls)
  std::int32_t num_nulls = 0;                      // 2 required
  std::int32_t num_rows = 0;                       // 3 required
  Encoding encoding = Encoding::kPlain;            // 4 required
  std::int32_t definition_levels_byte_length = 0;  // 5 required
  std::int32_t repetition_levels_byte_length = 0;  // 6 required
  bool is_compressed = true;                       // 7 (absent means true; always written)
  std::optional<Statistics> statistics;            // 8
  bool operator==(const DataPageHeaderV2&) const = default;
};

struct PageHeader {
  PageType type = PageType::kDataPage;                         // 1 required
  std::int32_t uncompressed_page_size = 0;                     // 2 required (without the header)
  std::int32_t compressed_page_size = 0;                       // 3 required (without the header)
  std::optional<std::int32_t> crc;                             // 4
  std::optional<DataPageHeader> data_page_header;              // 5
  std::optional<DictionaryPageHeader> dictionary_page_header;  // 7
  std::optional<DataPageHeaderV2> data_page_header_v2;         // 8
  bool operator==(const PageHeader&) const = default;
};

// ---- Decoding and encoding ----
//
// Decode*() reads one struct at the reader's position (unknown fields skipped; a required field
// missing, or a known field with an unexpected wire type, is the reader's Error). Encode*() writes
// one struct; the writer's bytes decode back to an equal struct.

// nullopt for an empty union (no member set).
std::optional<LogicalType> DecodeLogicalType(CompactReader& reader);
SchemaElement DecodeSchemaElement(CompactReader& reader);
KeyValue DecodeKeyValue(CompactReader& reader);
Statistics DecodeStatistics(CompactReader& reader);
ColumnMetaData DecodeColumnMetaData(CompactReader& reader);
ColumnChunk DecodeColumnChunk(CompactReader& reader);
RowGroup DecodeRowGroup(CompactReader& reader);
FileMetaData DecodeFileMetaData(CompactReader& reader);
DataPageHeader DecodeDataPageHeader(CompactReader& reader);
DictionaryPageHeader DecodeDictionaryPageHeader(CompactReader& reader);
DataPageHeaderV2 DecodeDataPageHeaderV2(CompactReader& reader);
PageHeader DecodePageHeader(CompactReader& reader);

void Encode(const LogicalType& value, CompactWriter& writer);
void Encode(const SchemaElement& value, CompactWriter& writer);
void Encode(const KeyValue& value, CompactWriter& writer);
void Encode(const Statistics& value, CompactWriter& writer);
void Encode(const ColumnMetaData& value, CompactWriter& writer);
void Encode(const ColumnChunk& value, CompactWriter& writer);
void Encode(const RowGroup& value, CompactWriter& writer);
void Encode(const FileMetaData& value, CompactWriter& writer);
void Encode(const DataPageHeader& value, CompactWriter& writer);
void Encode(const DictionaryPageHeader& value, CompactWriter& writer);
void Encode(const DataPageHeaderV2& value, CompactWriter& writer);
void Encode(const PageHeader& value, CompactWriter& writer);

// ---- The schema's columns ----

// One leaf of the schema tree: a column, whose chunks hold its values.
struct LeafColumn {
  std::vector<std::string> path;      // the names below the root, the leaf's last
  std::vector<std::size_t> elements;  // their indexes in FileMetaData::schema, in the same order
  Type type = Type::kBoolean;
  // The levels' maxima: OPTIONAL or REPEATED elements on the path, and REPEATED ones. Their
  // number is bounded by the schema's size.
  std::int32_t max_definition_level = 0;
  std::int32_t max_repetition_level = 0;
};

// "a.b.c": a column's path as messages name it.
std::string JoinPath(const std::vector<std::string>& path);

// Walks the depth-first schema list (iteratively: its depth comes from the input) and returns the
// leaf columns in order. A tree whose num_children do not add up, an element that is neither a
// group nor a leaf, or a FIXED_LEN_BYTE_ARRAY without a positive type_length is
// Error(kInvalidArgument) naming file_name.
std::vector<LeafColumn> SchemaLeaves(const std::vector<SchemaElement>& schema,
                                     std::string_view file_name);

// ---- The footer ----

// "PAR1", at the start and at the end of every (unencrypted) Parquet file.
inline constexpr std::string_view kParquetMagic = "PAR1";

// Reads and validates the metadata of a whole Parquet file held in file_bytes (file_name is used
// in errors). The layout is "PAR1", column chunks, the FileMetaData, its length (4 bytes,
// little-endian), "PAR1".
FileMetaData ReadFooter(std::string_view file_bytes, std::string_view file_name);

// The pieces of ReadFooter, for readers that do not hold the whole file. kFrameBytes: the magic at
// both ends and the footer length. CheckFrame() checks the magic at both ends (head: the file's
// first bytes, tail: its last 8 or more) and returns the footer length, checked against the file
// size; ParseFooter() decodes and validates the footer's bytes, which start at footer_start.
inline constexpr std::size_t kFrameBytes = 12;
std::uint32_t CheckFrame(std::string_view head, std::string_view tail, std::uint64_t file_size,
                         std::string_view file_name);
FileMetaData ParseFooter(std::string_view footer, std::uint64_t footer_start,
                         std::string_view file_name);

// The validation ReadFooter() does, for metadata read some other way: footer_start is the offset
// where the FileMetaData begins (column chunks must end before it).
void ValidateFileMetaData(const FileMetaData& metadata, std::uint64_t footer_start,
                          std::string_view file_name);

}  // namespace dkdata::internal::parquet
