// Tests of the Thrift compact protocol and of Parquet's metadata: byte vectors built by hand from
// the protocol's specification, writer→reader round trips of every metadata struct, bad input
// (each an Error with a clear message, never a crash), and the footer of a real file written by
// pyarrow.
//
// tests/parquet/data/tiny_pyarrow.parquet was written by pyarrow 21.0.0 with:
//   t = pa.table({"id": pa.array([1, 2, 3, 4, 5], pa.int64()),
//                 "name": pa.array(["ann", "bob", None, "dee", "eve"], pa.string()),
//                 "score": pa.array([1.5, 2.5, 3.5, None, 5.5], pa.float64())})
//   pq.write_table(t, "tiny_pyarrow.parquet", compression="snappy")

#include "formats/parquet/parquet_metadata.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "formats/parquet/thrift_compact.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

using testsupport::Bytes;
using testsupport::ExpectError;

void ExpectInvalid(const std::function<void()>& fn, std::initializer_list<std::string_view> parts) {
  ExpectError(fn, ErrorCode::kInvalidArgument, parts);
}

// A CompactReader (context "test") that owns the bytes it reads.
struct OwnedBytes {
  std::string bytes;
};
class Reader : private OwnedBytes, public CompactReader {
 public:
  explicit Reader(std::string bytes, std::uint64_t base_offset = 0)
      : OwnedBytes{std::move(bytes)}, CompactReader(OwnedBytes::bytes, "test", base_offset) {}
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
};

// ---------------------------------------------------------------------------------------------
// The compact protocol
// ---------------------------------------------------------------------------------------------

TEST(ThriftCompactTest, VarintEdgeCases) {
  struct Case {
    std::uint64_t value;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {0, Bytes({0x00})},
      {1, Bytes({0x01})},
      {127, Bytes({0x7f})},
      {128, Bytes({0x80, 0x01})},
      {300, Bytes({0xac, 0x02})},
      {50399, Bytes({0xdf, 0x89, 0x03})},  // the specification's example
      {std::numeric_limits<std::int64_t>::max(),
       Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})},
      {std::numeric_limits<std::uint64_t>::max(),
       Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
  };
  for (const Case& c : cases) {
    CompactWriter writer;
    writer.WriteVarint(c.value);
    EXPECT_EQ(writer.bytes(), c.bytes) << c.value;
    Reader reader(c.bytes);
    EXPECT_EQ(reader.ReadVarint(), c.value);
    EXPECT_EQ(reader.remaining(), 0u);
  }
}

TEST(ThriftCompactTest, ZigzagFoldsSignsIntoSmallNumbers) {
  EXPECT_EQ(ZigzagEncode(0), 0u);
  EXPECT_EQ(ZigzagEncode(-1), 1u);
  EXPECT_EQ(ZigzagEncode(1), 2u);
  EXPECT_EQ(ZigzagEncode(-2), 3u);
  EXPECT_EQ(ZigzagEncode(2), 4u);
  EXPECT_EQ(ZigzagEncode(std::numeric_limits<std::int64_t>::max()),
            std::numeric_limits<std::uint64_t>::max() - 1);
  EXPECT_EQ(ZigzagEncode(std::numeric_limits<std::int64_t>::min()),
            std::numeric_limits<std::uint64_t>::max());
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{123456789},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(ZigzagDecode(ZigzagEncode(v)), v);
  }
}

TEST(ThriftCompactTest, IntegersAreZigzagVarints) {
  Reader reader(Bytes({0x01, 0x03, 0x54, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x80}));
  EXPECT_EQ(reader.ReadI32(), -1);
  EXPECT_EQ(reader.ReadI16(), -2);
  EXPECT_EQ(reader.ReadI64(), 42);
  EXPECT_EQ(reader.ReadI32(), std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(reader.ReadI8(), -128);  // i8 is one plain byte

  CompactWriter writer;
  writer.WriteI32(-1);
  writer.WriteI16(-2);
  writer.WriteI64(42);
  writer.WriteI32(std::numeric_limits<std::int32_t>::max());
  writer.WriteI8(-128);
  EXPECT_EQ(writer.bytes(), Bytes({0x01, 0x03, 0x54, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x80}));

  CompactWriter extremes;
  extremes.WriteI64(std::numeric_limits<std::int64_t>::min());
  extremes.WriteI64(std::numeric_limits<std::int64_t>::max());
  Reader back(extremes.bytes());
  EXPECT_EQ(back.ReadI64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(back.ReadI64(), std::numeric_limits<std::int64_t>::max());
}

TEST(ThriftCompactTest, DoubleIsEightBytesLittleEndian) {
  const std::string bytes = Bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f});  // 1.5
  Reader reader(bytes);
  EXPECT_EQ(reader.ReadDouble(), 1.5);
  CompactWriter writer;
  writer.WriteDouble(1.5);
  EXPECT_EQ(writer.bytes(), bytes);
}

TEST(ThriftCompactTest, BinaryIsLengthThenBytes) {
  Reader reader(Bytes({0x03, 'a', 'b', 'c', 0x00}));
  EXPECT_EQ(reader.ReadBinary(), "abc");
  EXPECT_EQ(reader.ReadString(), "");
  CompactWriter writer;
  writer.WriteBinary("abc");
  writer.WriteBinary("");
  EXPECT_EQ(writer.bytes(), Bytes({0x03, 'a', 'b', 'c', 0x00}));
}

TEST(ThriftCompactTest, ShortFieldHeaderIsDeltaAndType) {
  // 0x15: delta 1, type 5 (i32); 0x54: zigzag 42; then the stop field.
  Reader reader(Bytes({0x15, 0x54, 0x00}));
  reader.BeginStruct();
  const std::optional<FieldHeader> field = reader.NextField();
  ASSERT_TRUE(field);
  EXPECT_EQ(field->id, 1);
  EXPECT_EQ(field->type, CompactType::kI32);
  EXPECT_EQ(reader.ReadI32(), 42);
  EXPECT_FALSE(reader.NextField());
  reader.EndStruct();
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ThriftCompactTest, LongFieldHeaderCarriesTheIdAsZigzagI16) {
  // Field 16 (too far for a delta): 0x05 then zigzag(16) = 32; field 17 is a delta of 1 from it;
  // field -1 and field 300 need the long form again.
  const std::string bytes =
      Bytes({0x05, 0x20, 0x02, 0x15, 0x04, 0x05, 0x01, 0x06, 0x05, 0xd8, 0x04, 0x08, 0x00});
  Reader reader(bytes);
  std::vector<std::pair<int, int>> fields;
  reader.ReadStruct([&](const FieldHeader& field) {
    ASSERT_EQ(field.type, CompactType::kI32);
    fields.emplace_back(field.id, reader.ReadI32());
  });
  EXPECT_EQ(fields, (std::vector<std::pair<int, int>>{{16, 1}, {17, 2}, {-1, 3}, {300, 4}}));

  CompactWriter writer;
  writer.BeginStruct();
  writer.WriteI32Field(16, 1);
  writer.WriteI32Field(17, 2);
  writer.WriteI32Field(-1, 3);
  writer.WriteI32Field(300, 4);
  writer.EndStruct();
  EXPECT_EQ(writer.bytes(), bytes);
}

TEST(ThriftCompactTest, BoolFieldsCarryTheirValueInTheHeader) {
  // 0x11: field 1, BOOLEAN_TRUE; 0x12: field 2, BOOLEAN_FALSE; no value bytes.
  const std::string bytes = Bytes({0x11, 0x12, 0x00});
  Reader reader(bytes);
  std::vector<std::pair<int, bool>> fields;
  reader.ReadStruct([&](const FieldHeader& field) {
    ASSERT_TRUE(field.is_bool());
    fields.emplace_back(field.id, field.bool_value());
  });
  EXPECT_EQ(fields, (std::vector<std::pair<int, bool>>{{1, true}, {2, false}}));
  CompactWriter writer;
  writer.BeginStruct();
  writer.WriteBoolField(1, true);
  writer.WriteBoolField(2, false);
  writer.EndStruct();
  EXPECT_EQ(writer.bytes(), bytes);
}

TEST(ThriftCompactTest, NestedStructRestoresTheOuterFieldIds) {
  // Field 1 is a struct holding field 1 (i32 1); the outer field after it is a delta of 1 from
  // the outer field 1, so field 2, not a delta from the inner one.
  const std::string bytes = Bytes({0x1c, 0x15, 0x02, 0x00, 0x15, 0x04, 0x00});
  Reader reader(bytes);
  int inner = 0;
  std::vector<int> outer_ids;
  reader.ReadStruct([&](const FieldHeader& field) {
    outer_ids.push_back(field.id);
    if (field.type == CompactType::kStruct) {
      reader.ReadStruct([&](const FieldHeader&) { inner = reader.ReadI32(); });
    } else {
      EXPECT_EQ(reader.ReadI32(), 2);
    }
  });
  EXPECT_EQ(inner, 1);
  EXPECT_EQ(outer_ids, (std::vector<int>{1, 2}));

  CompactWriter writer;
  writer.BeginStruct();
  writer.WriteFieldHeader(1, CompactType::kStruct);
  writer.BeginStruct();
  writer.WriteI32Field(1, 1);
  writer.EndStruct();
  writer.WriteI32Field(2, 2);
  writer.EndStruct();
  EXPECT_EQ(writer.bytes(), bytes);
}

TEST(ThriftCompactTest, ListHeaderShortAndLongForms) {
  // 0x35: 3 elements of i32.
  Reader reader(Bytes({0x35, 0x02, 0x04, 0x06}));
  ListHeader list = reader.BeginList();
  EXPECT_EQ(list.element_type, CompactType::kI32);
  ASSERT_EQ(list.size, 3u);
  EXPECT_EQ(reader.ReadI32(), 1);
  EXPECT_EQ(reader.ReadI32(), 2);
  EXPECT_EQ(reader.ReadI32(), 3);
  reader.EndList();

  // 15 and 200 elements need the long form: 0xf8 (binary), then the size as a varint.
  for (std::uint32_t size : {14u, 15u, 200u}) {
    CompactWriter writer;
    writer.WriteListHeader(CompactType::kBinary, size);
    for (std::uint32_t i = 0; i < size; ++i) writer.WriteBinary("x");
    const std::string& bytes = writer.bytes();
    const std::string expected_header = size == 14   ? Bytes({0xe8})
                                        : size == 15 ? Bytes({0xf8, 0x0f})
                                                     : Bytes({0xf8, 0xc8, 0x01});
    EXPECT_EQ(bytes.substr(0, expected_header.size()), expected_header);
    Reader back(bytes);
    list = back.BeginList();
    EXPECT_EQ(list.element_type, CompactType::kBinary);
    ASSERT_EQ(list.size, size);
    for (std::uint32_t i = 0; i < size; ++i) EXPECT_EQ(back.ReadBinary(), "x");
    back.EndList();
    EXPECT_EQ(back.remaining(), 0u);
  }
}

TEST(ThriftCompactTest, BoolListElementsAreBytes) {
  // Element type 2 (the specification) and 1 (some writers) both mean bool; 0 and 2 are false.
  for (int type_code : {1, 2}) {
    Reader reader(Bytes({0x40 | type_code, 0x01, 0x00, 0x02, 0x01}));
    const ListHeader list = reader.BeginList();
    EXPECT_EQ(list.element_type, CompactType::kBoolTrue);
    ASSERT_EQ(list.size, 4u);
    EXPECT_TRUE(reader.ReadBool());
    EXPECT_FALSE(reader.ReadBool());
    EXPECT_FALSE(reader.ReadBool());
    EXPECT_TRUE(reader.ReadBool());
    reader.EndList();
  }
  CompactWriter writer;
  writer.WriteListHeader(CompactType::kBoolTrue, 2);
  writer.WriteBool(true);
  writer.WriteBool(false);
  EXPECT_EQ(writer.bytes(), Bytes({0x22, 0x01, 0x00}));
  ExpectInvalid([] { Reader(Bytes({0x07})).ReadBool(); }, {"bool element 7"});
}

TEST(ThriftCompactTest, SkipsUnknownFieldsOfEveryType) {
  // A struct with the fields a newer writer might add around the two we know (1 and 9).
  CompactWriter writer;
  writer.BeginStruct();
  writer.WriteI32Field(1, 7);
  writer.WriteBoolField(2, true);
  writer.WriteI8Field(3, -5);
  writer.WriteI16Field(4, 1000);
  writer.WriteDoubleField(5, 2.25);
  writer.WriteBinaryField(6, "unknown");
  writer.WriteFieldHeader(7, CompactType::kList);  // list<struct{list<i64>, bool}>
  writer.WriteListHeader(CompactType::kStruct, 16);
  for (int i = 0; i < 16; ++i) {
    writer.BeginStruct();
    writer.WriteFieldHeader(1, CompactType::kList);
    writer.WriteListHeader(CompactType::kI64, 2);
    writer.WriteI64(i);
    writer.WriteI64(-i);
    writer.WriteBoolField(2, i % 2 == 0);
    writer.EndStruct();
  }
  writer.WriteFieldHeader(8, CompactType::kStruct);  // struct{struct{set<binary>, bools}}
  writer.BeginStruct();
  writer.WriteFieldHeader(40, CompactType::kStruct);
  writer.BeginStruct();
  writer.WriteFieldHeader(1, CompactType::kSet);
  writer.WriteListHeader(CompactType::kBinary, 2);
  writer.WriteBinary("a");
  writer.WriteBinary("b");
  writer.WriteFieldHeader(2, CompactType::kList);
  writer.WriteListHeader(CompactType::kBoolTrue, 3);
  for (bool b : {true, false, true}) writer.WriteBool(b);
  writer.EndStruct();
  writer.EndStruct();
  std::string bytes = writer.Release();
  // A map<i32, binary> {1: "x", 2: "y"} and a uuid, written by hand (the writer has no maps).
  bytes += Bytes({0x1b, 0x02, 0x58, 0x02, 0x01, 'x', 0x04, 0x01, 'y'});  // field 9: map
  bytes += Bytes({0x1d});                                                // field 10: uuid
  bytes += std::string(16, '\x42');
  bytes += Bytes({0x05, 0x3c, 0x54, 0x00});  // field 30 (long form): i32 42; stop

  Reader reader(bytes);
  std::vector<std::pair<int, int>> known;
  reader.ReadStruct([&](const FieldHeader& field) {
    if (field.id == 1 || field.id == 30) {
      known.emplace_back(field.id, reader.ReadI32());
    } else {
      reader.Skip(field.type);
    }
  });
  EXPECT_EQ(known, (std::vector<std::pair<int, int>>{{1, 7}, {30, 42}}));
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ThriftCompactTest, MapHeaders) {
  Reader empty(Bytes({0x00}));
  EXPECT_EQ(empty.BeginMap().size, 0u);
  empty.EndMap();
  Reader reader(Bytes({0x01, 0x85, 0x01, 'k', 0x02}));
  const MapHeader map = reader.BeginMap();
  EXPECT_EQ(map.size, 1u);
  EXPECT_EQ(map.key_type, CompactType::kBinary);
  EXPECT_EQ(map.value_type, CompactType::kI32);
  EXPECT_EQ(reader.ReadBinary(), "k");
  EXPECT_EQ(reader.ReadI32(), 1);
  reader.EndMap();
  ExpectInvalid(
      [] {
        Reader(Bytes({0x64, 0x55, 0x01, 0x02})).Skip(CompactType::kMap);
      },
      {"map of 100 entries is longer than the input (2 bytes left) at byte 0"});
}

TEST(ThriftCompactTest, TruncatedVarintIsAnError) {
  ExpectInvalid([] { Reader(Bytes({0x80})).ReadVarint(); }, {"test: truncated varint at byte 0"});
  ExpectInvalid([] { Reader(Bytes({})).ReadI32(); }, {"truncated varint at byte 0"});
  // Offsets count from base_offset.
  ExpectInvalid(
      [] {
        Reader(Bytes({0x00, 0xff, 0xff}), 1000).Skip(CompactType::kList);
      },
      {"at byte 1000"});
  ExpectInvalid(
      [] {
        Reader reader(Bytes({0x01, 0xff, 0xff}), 1000);
        reader.ReadI32();
        reader.ReadI64();
      },
      {"truncated varint at byte 1001"});
}

TEST(ThriftCompactTest, VarintLongerThanTenBytesIsAnError) {
  ExpectInvalid([] { Reader(std::string(10, '\xff') + Bytes({0x01})).ReadVarint(); },
                {"varint longer than 10 bytes at byte 0"});
  ExpectInvalid([] { Reader(std::string(9, '\xff') + Bytes({0x02})).ReadVarint(); },
                {"varint overflows 64 bits"});
}

TEST(ThriftCompactTest, IntegerOutOfRangeIsAnError) {
  ExpectInvalid(
      [] {
        Reader(Bytes({0x80, 0x80, 0x80, 0x80, 0x10})).ReadI32();
      },
      {"i32 value 2147483648 out of range"});
  ExpectInvalid(
      [] {
        Reader(Bytes({0x80, 0x80, 0x04})).ReadI16();
      },
      {"i16 value 32768 out of range"});
}

TEST(ThriftCompactTest, ListCountLargerThanTheBytesLeftIsAnError) {
  // 2^31-1 i32 elements announced, 2 bytes follow: refused before anything is read or reserved.
  ExpectInvalid(
      [] {
        Reader(Bytes({0xf5, 0xff, 0xff, 0xff, 0xff, 0x07, 0x02, 0x04})).BeginList();
      },
      {"list of 2147483647 i32 elements is longer than the input (2 bytes left)", "at byte 0"});
  // Doubles take 8 bytes each: 2 doubles need 16 bytes.
  ExpectInvalid([] { Reader(Bytes({0x27}) + std::string(15, '\0')).BeginList(); },
                {"list of 2 double elements"});
  // A size past the i32 range.
  ExpectInvalid(
      [] {
        Reader(Bytes({0xf5, 0x80, 0x80, 0x80, 0x80, 0x10})).BeginList();
      },
      {"list size 4294967296 is past the i32 range"});
  // The short form is bounded too.
  ExpectInvalid(
      [] {
        Reader(Bytes({0xe8, 0x01, 'x'})).BeginList();
      },
      {"list of 14 binary elements"});
}

TEST(ThriftCompactTest, StringLengthPastTheEndIsAnError) {
  ExpectInvalid(
      [] {
        Reader(Bytes({0x05, 'a', 'b'})).ReadBinary();
      },
      {"binary length 5 is past the end (2 bytes left) at byte 0"});
  ExpectInvalid(
      [] {
        Reader(Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})).ReadBinary();
      },
      {"binary length 18446744073709551615 is past the end"});
  ExpectInvalid([] { Reader(Bytes({0x00, 0x00})).ReadDouble(); }, {"double of 8 bytes"});
  ExpectInvalid([] { Reader(Bytes({0x00, 0x00})).ReadUuid(); }, {"uuid of 16 bytes"});
}

TEST(ThriftCompactTest, NestingPastTheDepthLimitIsAnError) {
  // 1000 nested structs: field 1 of each is the next one.
  std::string deep(1000, '\x1c');
  deep += std::string(1001, '\0');
  ExpectInvalid([&] { Reader(deep).Skip(CompactType::kStruct); }, {"nest deeper than 32 levels"});
  // 1000 nested lists of one list each.
  std::string lists(1000, '\x19');
  ExpectInvalid([&] { Reader(lists).Skip(CompactType::kList); }, {"nest deeper than 32 levels"});
  // Up to the limit is fine.
  std::string ok(31, '\x1c');
  ok += std::string(32, '\0');
  Reader reader(ok);
  reader.Skip(CompactType::kStruct);
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ThriftCompactTest, MalformedFieldHeadersAreErrors) {
  ExpectInvalid([] { Reader(Bytes({0x1e})).Skip(CompactType::kStruct); },
                {"field header has unknown type code 14 at byte 0"});
  ExpectInvalid([] { Reader(Bytes({0x10})).Skip(CompactType::kStruct); }, {"unknown type code 0"});
  ExpectInvalid(
      [] {
        Reader(Bytes({0x15, 0x02})).Skip(CompactType::kStruct);
      },
      {"struct has no stop field (input truncated) at byte 2"});
  ExpectInvalid([] { Reader(Bytes({0x3f})).BeginList(); }, {"unknown element type code 15"});
  // A delta that takes the id past 32767.
  ExpectInvalid(
      [] {
        Reader(Bytes({0x05, 0xfc, 0xff, 0x03, 0x00, 0x25})).Skip(CompactType::kStruct);
      },
      {"field id past 32767"});
}

// ---------------------------------------------------------------------------------------------
// Metadata structs
// ---------------------------------------------------------------------------------------------

template <typename T, typename Decode>
void ExpectRoundTrip(const T& value, Decode decode) {
  CompactWriter writer;
  Encode(value, writer);
  Reader reader(writer.bytes());
  const T back = decode(reader);
  EXPECT_TRUE(back == value);
  EXPECT_EQ(reader.remaining(), 0u);
}

Statistics FullStatistics() {
  Statistics stats;
  stats.max = std::string("\x05\0\0\0", 4);
  stats.min = std::string("\x01\0\0\0", 4);
  stats.null_count = 3;
  stats.distinct_count = 12;
  stats.max_value = "zebra";
  stats.min_value = "aardvark";
  stats.is_max_value_exact = true;
  stats.is_min_value_exact = false;
  stats.nan_count = 0;
  return stats;
}

SchemaElement Leaf(std::string name, Type type,
                   FieldRepetitionType repetition = FieldRepetitionType::kOptional) {
  SchemaElement element;
  element.name = std::move(name);
  element.type = type;
  element.repetition_type = repetition;
  return element;
}

SchemaElement Group(std::string name, int num_children) {
  SchemaElement element;
  element.name = std::move(name);
  element.num_children = num_children;
  return element;
}

ColumnMetaData Column(std::vector<std::string> path, Type type, std::int64_t offset,
                      std::int64_t size) {
  ColumnMetaData meta;
  meta.type = type;
  meta.encodings = {Encoding::kPlain, Encoding::kRle};
  meta.path_in_schema = std::move(path);
  meta.codec = CompressionCodec::kSnappy;
  meta.num_values = 5;
  meta.total_uncompressed_size = size;
  meta.total_compressed_size = size;
  meta.data_page_offset = offset;
  return meta;
}

ColumnChunk Chunk(ColumnMetaData meta) {
  ColumnChunk chunk;
  chunk.meta_data = std::move(meta);
  return chunk;
}

Statistics NullCount(std::int64_t n) {
  Statistics stats;
  stats.null_count = n;
  return stats;
}

TEST(ParquetMetadataTest, LogicalTypesRoundTrip) {
  const auto decode = [](CompactReader& r) { return *DecodeLogicalType(r); };
  for (LogicalTypeKind kind :
       {LogicalTypeKind::kString, LogicalTypeKind::kMap, LogicalTypeKind::kList,
        LogicalTypeKind::kEnum, LogicalTypeKind::kDate, LogicalTypeKind::kNull,
        LogicalTypeKind::kJson, LogicalTypeKind::kBson, LogicalTypeKind::kUuid,
        LogicalTypeKind::kFloat16}) {
    LogicalType type;
    type.kind = kind;
    ExpectRoundTrip(type, decode);
  }
  LogicalType decimal{
      .kind = LogicalTypeKind::kDecimal, .decimal_scale = 2, .decimal_precision = 9};
  ExpectRoundTrip(decimal, decode);
  for (TimeUnit unit : {TimeUnit::kMillis, TimeUnit::kMicros, TimeUnit::kNanos}) {
    for (bool utc : {false, true}) {
      for (LogicalTypeKind kind : {LogicalTypeKind::kTime, LogicalTypeKind::kTimestamp}) {
        LogicalType type{.kind = kind, .is_adjusted_to_utc = utc, .unit = unit};
        ExpectRoundTrip(type, decode);
      }
    }
  }
  LogicalType uint8{.kind = LogicalTypeKind::kInteger, .bit_width = 8, .is_signed = false};
  ExpectRoundTrip(uint8, decode);
  LogicalType int64{.kind = LogicalTypeKind::kInteger, .bit_width = 64, .is_signed = true};
  ExpectRoundTrip(int64, decode);

  // TIMESTAMP(isAdjustedToUTC=true, MICROS) by hand: {8: {1: true, 2: {2: {}}}}.
  Reader reader(Bytes({0x8c, 0x11, 0x1c, 0x2c, 0x00, 0x00, 0x00, 0x00}));
  const std::optional<LogicalType> timestamp = DecodeLogicalType(reader);
  ASSERT_TRUE(timestamp);
  EXPECT_EQ(timestamp->kind, LogicalTypeKind::kTimestamp);
  EXPECT_TRUE(timestamp->is_adjusted_to_utc);
  EXPECT_EQ(timestamp->unit, TimeUnit::kMicros);
  // An empty union is no logical type; two members are an error; an unknown member is kept.
  Reader empty(Bytes({0x00}));
  EXPECT_FALSE(DecodeLogicalType(empty));
  ExpectInvalid(
      [] {
        Reader r(Bytes({0x1c, 0x00, 0x1c, 0x00, 0x00}));
        DecodeLogicalType(r);
      },
      {"LogicalType union has more than one member"});
  Reader future(Bytes({0x0c, 0x3c, 0x15, 0x02, 0x00, 0x00}));  // member 30
  EXPECT_EQ(static_cast<int>(DecodeLogicalType(future)->kind), 30);
}

TEST(ParquetMetadataTest, SchemaElementRoundTrips) {
  SchemaElement full = Leaf("price", Type::kFixedLenByteArray, FieldRepetitionType::kRequired);
  full.type_length = 16;
  full.converted_type = ConvertedType::kDecimal;
  full.scale = 4;
  full.precision = 30;
  full.field_id = 17;
  full.logical_type =
      LogicalType{.kind = LogicalTypeKind::kDecimal, .decimal_scale = 4, .decimal_precision = 30};
  ExpectRoundTrip(full, DecodeSchemaElement);
  ExpectRoundTrip(Group("root", 3), DecodeSchemaElement);
  ExpectRoundTrip(Leaf("", Type::kBoolean), DecodeSchemaElement);
}

TEST(ParquetMetadataTest, StatisticsKeyValueAndColumnStructsRoundTrip) {
  ExpectRoundTrip(FullStatistics(), DecodeStatistics);
  ExpectRoundTrip(Statistics{}, DecodeStatistics);
  ExpectRoundTrip(KeyValue{"k", "v"}, DecodeKeyValue);
  ExpectRoundTrip(KeyValue{"k", std::nullopt}, DecodeKeyValue);

  ColumnMetaData meta = Column({"a", "b"}, Type::kByteArray, 100, 5000);
  meta.encodings = {Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary,
                    Encoding::kDeltaByteArray};
  meta.key_value_metadata = {{"x", "1"}, {"y", std::nullopt}};
  meta.index_page_offset = 99;
  meta.dictionary_page_offset = 4;
  meta.statistics = FullStatistics();
  meta.num_values = std::numeric_limits<std::int64_t>::max();
  ExpectRoundTrip(meta, DecodeColumnMetaData);

  ColumnChunk chunk;
  chunk.file_offset = 0;
  chunk.meta_data = meta;
  ExpectRoundTrip(chunk, DecodeColumnChunk);
  chunk.file_path = "other.parquet";
  chunk.meta_data.reset();
  ExpectRoundTrip(chunk, DecodeColumnChunk);

  RowGroup group;
  group.columns.assign(20, Chunk(meta));
  group.total_byte_size = 123456;
  group.num_rows = 1000;
  group.file_offset = 4;
  group.total_compressed_size = 100000;
  group.ordinal = 3;
  ExpectRoundTrip(group, DecodeRowGroup);
}

TEST(ParquetMetadataTest, FileMetaDataRoundTrips) {
  FileMetaData metadata;
  metadata.version = 2;
  metadata.schema = {Group("schema", 2), Leaf("id", Type::kInt64), Group("tags", 1),
                     Leaf("tag", Type::kByteArray, FieldRepetitionType::kRepeated)};
  metadata.schema[3].logical_type = LogicalType{.kind = LogicalTypeKind::kString};
  metadata.schema[3].converted_type = ConvertedType::kUtf8;
  metadata.num_rows = 10;
  RowGroup group;
  group.columns = {Chunk(Column({"id"}, Type::kInt64, 4, 50)),
                   Chunk(Column({"tags", "tag"}, Type::kByteArray, 54, 50))};
  group.num_rows = 10;
  group.total_byte_size = 100;
  metadata.row_groups = {group, group};
  metadata.key_value_metadata = {{"writer", "dkdata"}};
  metadata.created_by = "dkdata version 0.1";
  metadata.column_orders = {ColumnOrder::kTypeDefinedOrder, ColumnOrder::kIeee754TotalOrder};
  ExpectRoundTrip(metadata, DecodeFileMetaData);
}

TEST(ParquetMetadataTest, PageHeadersRoundTrip) {
  PageHeader data;
  data.type = PageType::kDataPage;
  data.uncompressed_page_size = 1000;
  data.compressed_page_size = 400;
  data.crc = -123456;
  data.data_page_header = DataPageHeader{.num_values = 100,
                                         .encoding = Encoding::kRleDictionary,
                                         .definition_level_encoding = Encoding::kRle,
                                         .repetition_level_encoding = Encoding::kBitPacked,
                                         .statistics = FullStatistics()};
  ExpectRoundTrip(data, DecodePageHeader);
  ExpectRoundTrip(*data.data_page_header, DecodeDataPageHeader);

  PageHeader dictionary;
  dictionary.type = PageType::kDictionaryPage;
  dictionary.uncompressed_page_size = 80;
  dictionary.compressed_page_size = 60;
  dictionary.dictionary_page_header =
      DictionaryPageHeader{.num_values = 10, .encoding = Encoding::kPlain, .is_sorted = true};
  ExpectRoundTrip(dictionary, DecodePageHeader);
  ExpectRoundTrip(DictionaryPageHeader{}, DecodeDictionaryPageHeader);

  PageHeader v2;
  v2.type = PageType::kDataPageV2;
  v2.uncompressed_page_size = 2000;
  v2.compressed_page_size = 900;
  v2.data_page_header_v2 = DataPageHeaderV2{.num_values = 50,
                                            .num_nulls = 5,
                                            .num_rows = 50,
                                            .encoding = Encoding::kDeltaBinaryPacked,
                                            .definition_levels_byte_length = 7,
                                            .repetition_levels_byte_length = 0,
                                            .is_compressed = false,
                                            .statistics = NullCount(5)};
  ExpectRoundTrip(v2, DecodePageHeader);

  // is_compressed absent means true.
  CompactWriter writer;
  writer.BeginStruct();
  for (std::int16_t id = 1; id <= 6; ++id) writer.WriteI32Field(id, id == 4 ? 0 : 1);
  writer.EndStruct();
  Reader reader(writer.bytes());
  EXPECT_TRUE(DecodeDataPageHeaderV2(reader).is_compressed);
}

TEST(ParquetMetadataTest, UnknownFieldsFromNewerWritersAreSkipped) {
  // SchemaElement {4: "x", 11: vector_length 8, 20: {1: [ {}, {} ]}, 1: INT32}.
  CompactWriter writer;
  writer.BeginStruct();
  writer.WriteBinaryField(4, "x");
  writer.WriteI32Field(11, 8);
  writer.WriteFieldHeader(20, CompactType::kStruct);
  writer.BeginStruct();
  writer.WriteFieldHeader(1, CompactType::kList);
  writer.WriteListHeader(CompactType::kStruct, 2);
  for (int i = 0; i < 2; ++i) {
    writer.BeginStruct();
    writer.EndStruct();
  }
  writer.EndStruct();
  writer.WriteI32Field(1, 1);
  writer.EndStruct();
  Reader reader(writer.bytes());
  const SchemaElement element = DecodeSchemaElement(reader);
  EXPECT_EQ(element.name, "x");
  EXPECT_EQ(element.type, Type::kInt32);
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ParquetMetadataTest, WrongWireTypeOrMissingRequiredFieldIsAnError) {
  ExpectInvalid(
      [] {
        Reader reader(Bytes({0x45, 0x02, 0x00}));
        DecodeSchemaElement(reader);
      },
      {"SchemaElement.name (field 4) has wire type i32, expected binary"});
  ExpectInvalid(
      [] {
        Reader reader(Bytes({0x15, 0x02, 0x00}));
        DecodeSchemaElement(reader);
      },
      {"required field SchemaElement.name is missing"});
  ExpectInvalid(
      [] {
        CompactWriter writer;
        writer.BeginStruct();
        writer.WriteI32Field(1, 1);
        writer.WriteI64Field(3, 0);
        writer.WriteFieldHeader(4, CompactType::kList);
        writer.WriteListHeader(CompactType::kStruct, 0);
        writer.EndStruct();
        Reader reader(writer.bytes());
        DecodeFileMetaData(reader);
      },
      {"required field FileMetaData.schema is missing"});
  ExpectInvalid(
      [] {
        // ColumnMetaData.encodings as a list of binary.
        Reader reader(Bytes({0x15, 0x02, 0x19, 0x18, 0x01, 'x', 0x00}));
        DecodeColumnMetaData(reader);
      },
      {"ColumnMetaData.encodings is a list of binary, expected i32"});
  ExpectInvalid(
      [] {
        Reader reader(Bytes({0x15, 0x00, 0x00}));
        DecodePageHeader(reader);
      },
      {"required field PageHeader.uncompressed_page_size is missing"});
}

TEST(ParquetMetadataTest, EnumNames) {
  EXPECT_EQ(TypeName(Type::kFixedLenByteArray), "FIXED_LEN_BYTE_ARRAY");
  EXPECT_EQ(TypeName(static_cast<Type>(42)), "Type(42)");
  EXPECT_EQ(CompressionCodecName(CompressionCodec::kLz4Raw), "LZ4_RAW");
  EXPECT_EQ(EncodingName(Encoding::kByteStreamSplit), "BYTE_STREAM_SPLIT");
  EXPECT_EQ(EncodingName(static_cast<Encoding>(1)), "Encoding(1)");
  EXPECT_EQ(EncodingName(static_cast<Encoding>(-3)), "Encoding(-3)");
}

// ---------------------------------------------------------------------------------------------
// The footer
// ---------------------------------------------------------------------------------------------

// "PAR1", column data, the encoded footer, its length, "PAR1".
std::string FileWith(const std::string& footer, std::size_t data_bytes = 100) {
  std::string file = "PAR1" + std::string(data_bytes, '\x07') + footer;
  const auto length = static_cast<std::uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return file + "PAR1";
}

std::string Encoded(const FileMetaData& metadata) {
  CompactWriter writer;
  Encode(metadata, writer);
  return writer.Release();
}

// A valid file: two columns (a, g.b) in one row group over 100 bytes of column data.
FileMetaData SmallMetadata() {
  FileMetaData metadata;
  metadata.schema = {Group("schema", 2), Leaf("a", Type::kInt32), Group("g", 1),
                     Leaf("b", Type::kDouble)};
  metadata.num_rows = 5;
  RowGroup group;
  group.columns = {Chunk(Column({"a"}, Type::kInt32, 4, 50)),
                   Chunk(Column({"g", "b"}, Type::kDouble, 54, 50))};
  group.num_rows = 5;
  group.total_byte_size = 100;
  metadata.row_groups = {group};
  return metadata;
}

TEST(ParquetFooterTest, ReadsAValidFooter) {
  const FileMetaData metadata = SmallMetadata();
  EXPECT_TRUE(ReadFooter(FileWith(Encoded(metadata)), "small.parquet") == metadata);
  // No row groups and no columns is a valid (empty) file.
  FileMetaData empty;
  empty.schema = {Group("schema", 0)};
  EXPECT_TRUE(ReadFooter(FileWith(Encoded(empty), 0), "empty.parquet") == empty);
}

TEST(ParquetFooterTest, FrameErrors) {
  const std::string good = FileWith(Encoded(SmallMetadata()));
  ExpectInvalid([] { ReadFooter("PAR1PAR1", "d.parquet"); },
                {"d.parquet: file of 8 bytes is too small to be Parquet"});
  ExpectInvalid([&] { ReadFooter("PAR0" + good.substr(4), "d.parquet"); },
                {"d.parquet: does not start with the Parquet magic \"PAR1\""});
  ExpectInvalid([&] { ReadFooter(good.substr(0, good.size() - 1) + "X", "d.parquet"); },
                {"d.parquet: does not end with the Parquet magic"});
  ExpectError([&] { ReadFooter(good.substr(0, good.size() - 4) + "PARE", "d.parquet"); },
              ErrorCode::kUnsupported, {"d.parquet: encrypted footer"});
  // A file cut short loses its trailing magic.
  ExpectInvalid([&] { ReadFooter(good.substr(0, good.size() - 10), "d.parquet"); },
                {"does not end with the Parquet magic"});
}

TEST(ParquetFooterTest, FooterLengthPastTheStartIsAnError) {
  std::string file = FileWith("", 88);  // 100 bytes
  // Length 123456 = 0x0001e240, little-endian.
  file.replace(file.size() - 8, 4, Bytes({0x40, 0xe2, 0x01, 0x00}));
  ExpectInvalid([&] { ReadFooter(file, "data.parquet"); },
                {"data.parquet: footer length 123456 is past the start of the file (size 100)"});
  // 89 would overlap the leading magic (100 - 12 = 88 is the most).
  file.replace(file.size() - 8, 4, Bytes({89, 0, 0, 0}));
  ExpectInvalid([&] { ReadFooter(file, "data.parquet"); }, {"footer length 89 is past the start"});
  file.replace(file.size() - 8, 4, Bytes({0xff, 0xff, 0xff, 0xff}));
  ExpectInvalid([&] { ReadFooter(file, "data.parquet"); }, {"footer length 4294967295"});
}

TEST(ParquetFooterTest, TruncatedFooterIsAnError) {
  const std::string footer = Encoded(SmallMetadata());
  // The length frames fewer bytes than the metadata takes: the struct runs out.
  ExpectInvalid([&] { ReadFooter(FileWith(footer.substr(0, footer.size() - 3)), "t.parquet"); },
                {"t.parquet: footer: "});
  ExpectInvalid([&] { ReadFooter(FileWith(""), "t.parquet"); },
                {"t.parquet: footer: struct has no stop field (input truncated) at byte 104"});
}

TEST(ParquetFooterTest, AbsurdCountsAreErrors) {
  // FileMetaData {1: 1, 2: list of 2^31-1 structs} in a 10-byte footer.
  ExpectInvalid(
      [] {
        ReadFooter(FileWith(Bytes({0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00})),
                   "a.parquet");
      },
      {"a.parquet: footer: list of 2147483647 struct elements is longer than the input",
       "at byte 107"});
  FileMetaData metadata = SmallMetadata();
  metadata.num_rows = -1;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "a.parquet"); },
                {"a.parquet: negative num_rows -1"});
  metadata = SmallMetadata();
  metadata.row_groups[0].num_rows = -5;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "a.parquet"); },
                {"row group 0: negative num_rows -5"});
  metadata = SmallMetadata();
  metadata.row_groups[0].columns[1].meta_data->num_values = -2;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "a.parquet"); },
                {"row group 0, column 'g.b': negative num_values -2"});
  metadata = SmallMetadata();
  metadata.schema[2].num_children = -1;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "a.parquet"); },
                {"schema element 2 ('g') has negative num_children -1"});
  // A deeply nested unknown field cannot exhaust the stack.
  std::string deep = Bytes({0x15, 0x02}) + Bytes({0x0c, 0xc6, 0x01});  // field 99: struct
  deep += std::string(5000, '\x1c') + std::string(5002, '\0');
  ExpectInvalid([&] { ReadFooter(FileWith(deep), "a.parquet"); }, {"nest deeper than 32 levels"});
}

TEST(ParquetFooterTest, InconsistentSchemaIsAnError) {
  FileMetaData metadata = SmallMetadata();
  metadata.schema.clear();
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"s.parquet: schema is empty"});

  metadata = SmallMetadata();
  metadata.schema[0].num_children = 3;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"schema element 0 ('schema') has num_children 3 but the schema ends after 4"});

  metadata = SmallMetadata();
  metadata.schema[0].num_children = 1;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"schema has 4 elements but the root's tree ends after 2"});

  metadata = SmallMetadata();
  metadata.schema[0].num_children.reset();
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"schema root 'schema' is not a group"});

  metadata = SmallMetadata();
  metadata.schema[1].type.reset();
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"schema element 1 ('a') has neither a type nor num_children"});

  metadata = SmallMetadata();
  metadata.schema[3].type = Type::kFixedLenByteArray;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "s.parquet"); },
                {"column 'g.b' is FIXED_LEN_BYTE_ARRAY without a positive type_length"});
}

TEST(ParquetFooterTest, ColumnChunksMustMatchTheSchemaAndLieInTheFile) {
  FileMetaData metadata = SmallMetadata();
  metadata.row_groups[0].columns.pop_back();
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"c.parquet: row group 0 has 1 column chunks, the schema has 2 columns"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[1].meta_data->path_in_schema = {"g", "c"};
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"row group 0, column 'g.b': path_in_schema 'g.c' does not match"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].meta_data->type = Type::kInt64;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"column chunk type INT64 does not match the schema's INT32"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[1].meta_data->data_page_offset = 5000;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"row group 0, column 'g.b': data_page_offset 5000 is outside the column data "
                 "(bytes 4 to 104)"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].meta_data->data_page_offset = 0;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"data_page_offset 0 is outside the column data"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].meta_data->dictionary_page_offset = -7;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"dictionary_page_offset -7 is outside the column data"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[1].meta_data->total_compressed_size = 51;
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"row group 0, column 'g.b': column chunk of 51 bytes at offset 54 runs past the "
                 "footer at 104"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[1].meta_data->total_compressed_size =
      std::numeric_limits<std::int64_t>::max();
  ExpectInvalid([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
                {"runs past the footer"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].file_path = "elsewhere.parquet";
  ExpectError([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
              ErrorCode::kUnsupported, {"column data in another file ('elsewhere.parquet')"});

  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].meta_data.reset();
  ExpectError([&] { ReadFooter(FileWith(Encoded(metadata)), "c.parquet"); },
              ErrorCode::kUnsupported, {"column chunk has no metadata"});

  // A dictionary page offset of 0 means none (some writers put it there).
  metadata = SmallMetadata();
  metadata.row_groups[0].columns[0].meta_data->dictionary_page_offset = 0;
  EXPECT_NO_THROW(ReadFooter(FileWith(Encoded(metadata)), "c.parquet"));
}

// ---------------------------------------------------------------------------------------------
// A real file
// ---------------------------------------------------------------------------------------------

std::string ReadTestFile(const std::string& relative) {
  const std::string path = std::string(DKDATA_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string& TinyPyarrowFile() {
  static const std::string bytes = ReadTestFile("tests/parquet/data/tiny_pyarrow.parquet");
  return bytes;
}

TEST(ParquetPyarrowTest, FooterOfATinyFile) {
  const std::string& file = TinyPyarrowFile();
  ASSERT_FALSE(file.empty());
  const FileMetaData metadata = ReadFooter(file, "tiny_pyarrow.parquet");
  EXPECT_EQ(metadata.num_rows, 5);
  ASSERT_TRUE(metadata.created_by);
  EXPECT_EQ(metadata.created_by->rfind("parquet-cpp-arrow version", 0), 0u) << *metadata.created_by;
  ASSERT_EQ(metadata.key_value_metadata.size(), 1u);
  EXPECT_EQ(metadata.key_value_metadata[0].key, "ARROW:schema");

  ASSERT_EQ(metadata.schema.size(), 4u);
  EXPECT_EQ(metadata.schema[0].name, "schema");
  EXPECT_EQ(metadata.schema[0].num_children, 3);
  const struct {
    std::string name;
    Type type;
  } columns[] = {{"id", Type::kInt64}, {"name", Type::kByteArray}, {"score", Type::kDouble}};
  for (std::size_t i = 0; i < 3; ++i) {
    const SchemaElement& element = metadata.schema[i + 1];
    EXPECT_EQ(element.name, columns[i].name);
    EXPECT_EQ(element.type, columns[i].type);
    EXPECT_EQ(element.repetition_type, FieldRepetitionType::kOptional);
  }
  ASSERT_TRUE(metadata.schema[2].logical_type);
  EXPECT_EQ(metadata.schema[2].logical_type->kind, LogicalTypeKind::kString);
  EXPECT_EQ(metadata.schema[2].converted_type, ConvertedType::kUtf8);
  EXPECT_FALSE(metadata.schema[1].logical_type);

  ASSERT_EQ(metadata.row_groups.size(), 1u);
  const RowGroup& group = metadata.row_groups[0];
  EXPECT_EQ(group.num_rows, 5);
  ASSERT_EQ(group.columns.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(group.columns[i].meta_data);
    const ColumnMetaData& meta = *group.columns[i].meta_data;
    EXPECT_EQ(meta.path_in_schema, std::vector<std::string>{columns[i].name});
    EXPECT_EQ(meta.type, columns[i].type);
    EXPECT_EQ(meta.codec, CompressionCodec::kSnappy);
    EXPECT_EQ(meta.num_values, 5);
    EXPECT_TRUE(meta.dictionary_page_offset);
    ASSERT_TRUE(meta.statistics);
  }
  const ColumnMetaData& name = *group.columns[1].meta_data;
  EXPECT_EQ(name.statistics->null_count, 1);
  EXPECT_EQ(name.statistics->min_value, "ann");
  EXPECT_EQ(name.statistics->max_value, "eve");
  EXPECT_EQ(group.columns[0].meta_data->statistics->null_count, 0);
  EXPECT_EQ(group.columns[0].meta_data->dictionary_page_offset, 4);

  // Our encoding of what we decoded decodes to the same.
  const std::string encoded = Encoded(metadata);
  Reader reader(encoded);
  EXPECT_TRUE(DecodeFileMetaData(reader) == metadata);
}

TEST(ParquetPyarrowTest, PageHeadersOfATinyFile) {
  const std::string& file = TinyPyarrowFile();
  ASSERT_FALSE(file.empty());
  const FileMetaData metadata = ReadFooter(file, "tiny_pyarrow.parquet");
  const ColumnMetaData& id = *metadata.row_groups[0].columns[0].meta_data;

  const auto dictionary_offset = static_cast<std::size_t>(*id.dictionary_page_offset);
  CompactReader dictionary_reader(std::string_view(file).substr(dictionary_offset),
                                  "tiny_pyarrow.parquet", dictionary_offset);
  const PageHeader dictionary = DecodePageHeader(dictionary_reader);
  EXPECT_EQ(dictionary.type, PageType::kDictionaryPage);
  ASSERT_TRUE(dictionary.dictionary_page_header);
  EXPECT_EQ(dictionary.dictionary_page_header->num_values, 5);
  EXPECT_EQ(dictionary.dictionary_page_header->encoding, Encoding::kPlain);
  EXPECT_EQ(dictionary.uncompressed_page_size, 5 * 8);
  // The dictionary page (header and bytes) ends where the data page starts.
  EXPECT_EQ(dictionary_offset + dictionary_reader.position() + dictionary.compressed_page_size,
            static_cast<std::size_t>(id.data_page_offset));

  const auto data_offset = static_cast<std::size_t>(id.data_page_offset);
  CompactReader data_reader(std::string_view(file).substr(data_offset), "tiny_pyarrow.parquet",
                            data_offset);
  const PageHeader data = DecodePageHeader(data_reader);
  EXPECT_EQ(data.type, PageType::kDataPage);
  ASSERT_TRUE(data.data_page_header);
  EXPECT_EQ(data.data_page_header->num_values, 5);
  EXPECT_EQ(data.data_page_header->encoding, Encoding::kRleDictionary);
  EXPECT_EQ(data_offset + data_reader.position() + data.compressed_page_size,
            static_cast<std::size_t>(*id.dictionary_page_offset + id.total_compressed_size));
}

// Every truncation and many single-byte corruptions of a real file are an Error or a valid
// footer: never a crash, a hang or another exception (run under the sanitizers too).
TEST(ParquetPyarrowTest, CorruptedCopiesAreErrorsNeverCrashes) {
  const std::string& file = TinyPyarrowFile();
  ASSERT_FALSE(file.empty());
  int errors = 0;
  for (std::size_t size = 0; size < file.size(); ++size) {
    try {
      ReadFooter(std::string_view(file).substr(0, size), "cut.parquet");
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, static_cast<int>(file.size()));
  for (std::size_t i = 0; i < file.size(); ++i) {
    for (char value : {'\x00', '\x7f', '\x80', '\xff'}) {
      std::string copy = file;
      copy[i] = value;
      try {
        ReadFooter(copy, "flip.parquet");
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace dkdata::internal::parquet
