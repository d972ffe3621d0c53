// Tests of the Parquet writer: every file written here is read back twice, by ReadFooter() plus a
// small page walker in this file (page headers, levels and values decoded with our encodings, so
// the round trip runs everywhere), and by pyarrow (and once DuckDB, both from .venv-test, which
// scripts/install-deps.sh makes) through tests/parquet/read_back.py, which prints the values as the
// reference readers see them. That part is skipped when they are missing, and fails instead when
// CI=true.
//
// Covered: required and optional columns of every physical type; 3-level LIST columns with null
// lists, empty lists and null elements; dictionary on, off, given up (pages RLE_DICTIONARY then
// PLAIN) and not worth it; several row groups; many pages (repeated columns cut at rows); every
// codec; row groups encoded on several threads; chunk statistics (NaN, -0.0, all-null chunks,
// unsigned ints, strings, decimals); the logical types STRING, INT(8..64, signed and unsigned),
// DATE, TIMESTAMP(MICROS, UTC), DECIMAL, UUID, JSON; and input that does not match the schema.

#include "formats/parquet/parquet_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"
#include "formats/parquet/parquet_codecs.hpp"
#include "formats/parquet/parquet_encodings.hpp"
#include "formats/parquet/parquet_metadata.hpp"
#include "formats/parquet/thrift_compact.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

using testsupport::ExpectError;

using Rep = FieldRepetitionType;

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

SchemaElement Root(int children) {
  SchemaElement e;
  e.name = "schema";
  e.num_children = children;
  return e;
}

SchemaElement Leaf(std::string name, Type type, Rep repetition = Rep::kRequired) {
  SchemaElement e;
  e.name = std::move(name);
  e.type = type;
  e.repetition_type = repetition;
  return e;
}

SchemaElement Fixed(std::string name, int length, Rep repetition = Rep::kRequired) {
  SchemaElement e = Leaf(std::move(name), Type::kFixedLenByteArray, repetition);
  e.type_length = length;
  return e;
}

SchemaElement Annotated(SchemaElement e, std::optional<LogicalType> logical,
                        std::optional<ConvertedType> converted) {
  e.logical_type = logical;
  e.converted_type = converted;
  return e;
}

LogicalType Logical(LogicalTypeKind kind) {
  LogicalType t;
  t.kind = kind;
  return t;
}

LogicalType IntType(int bits, bool is_signed) {
  LogicalType t = Logical(LogicalTypeKind::kInteger);
  t.bit_width = static_cast<std::int8_t>(bits);
  t.is_signed = is_signed;
  return t;
}

LogicalType DecimalType(int precision, int scale) {
  LogicalType t = Logical(LogicalTypeKind::kDecimal);
  t.decimal_precision = precision;
  t.decimal_scale = scale;
  return t;
}

SchemaElement Decimal(SchemaElement e, int precision, int scale) {
  e = Annotated(std::move(e), DecimalType(precision, scale), ConvertedType::kDecimal);
  e.precision = precision;
  e.scale = scale;
  return e;
}

// optional group name (LIST) { repeated group list { <element_repetition> float element } }
std::vector<SchemaElement> ListOfFloat(std::string name, Rep element_repetition) {
  SchemaElement list_group;
  list_group.name = std::move(name);
  list_group.repetition_type = Rep::kOptional;
  list_group.num_children = 1;
  list_group.logical_type = Logical(LogicalTypeKind::kList);
  list_group.converted_type = ConvertedType::kList;
  SchemaElement repeated;
  repeated.name = "list";
  repeated.repetition_type = Rep::kRepeated;
  repeated.num_children = 1;
  return {list_group, repeated, Leaf("element", Type::kFloat, element_repetition)};
}

// ---------------------------------------------------------------------------------------------
// Column data
// ---------------------------------------------------------------------------------------------

template <typename T>
std::vector<T>& ValuesOf(ColumnData& d) {
  if constexpr (std::is_same_v<T, std::int32_t>) {
    return d.int32s;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return d.int64s;
  } else if constexpr (std::is_same_v<T, Int96>) {
    return d.int96s;
  } else if constexpr (std::is_same_v<T, float>) {
    return d.floats;
  } else if constexpr (std::is_same_v<T, double>) {
    return d.doubles;
  } else {
    return d.byte_arrays;
  }
}

template <typename T>
ColumnData Required(std::vector<T> values) {
  ColumnData d;
  ValuesOf<T>(d) = std::move(values);
  return d;
}

template <typename T>
ColumnData Optional(const std::vector<std::optional<T>>& values) {
  ColumnData d;
  for (const std::optional<T>& v : values) {
    d.definition_levels.push_back(v ? 1 : 0);
    if (v) ValuesOf<T>(d).push_back(*v);
  }
  return d;
}

ColumnData Booleans(std::vector<std::uint8_t> values) {
  ColumnData d;
  d.booleans = std::move(values);
  return d;
}

ColumnData OptionalBooleans(const std::vector<std::optional<bool>>& values) {
  ColumnData d;
  for (const std::optional<bool>& v : values) {
    d.definition_levels.push_back(v ? 1 : 0);
    if (v) d.booleans.push_back(*v ? 1 : 0);
  }
  return d;
}

using FloatList = std::optional<std::vector<std::optional<float>>>;

// Levels of `optional group (LIST) { repeated group list { [optional] float element } }`: def 0
// null list, 1 empty list, 2 null element (optional elements only), max element present.
ColumnData ListColumn(const std::vector<FloatList>& rows, bool optional_element) {
  const std::uint32_t max_def = optional_element ? 3 : 2;
  ColumnData d;
  for (const FloatList& row : rows) {
    if (!row) {
      d.repetition_levels.push_back(0);
      d.definition_levels.push_back(0);
    } else if (row->empty()) {
      d.repetition_levels.push_back(0);
      d.definition_levels.push_back(1);
    } else {
      for (std::size_t i = 0; i < row->size(); ++i) {
        d.repetition_levels.push_back(i == 0 ? 0 : 1);
        d.definition_levels.push_back((*row)[i] ? max_def : 2);
        if ((*row)[i]) d.floats.push_back(*(*row)[i]);
      }
    }
  }
  return d;
}

Int96 MakeInt96(std::uint64_t nanos_of_day, std::uint32_t julian_day) {
  Int96 v{};
  std::memcpy(v.data(), &nanos_of_day, 8);
  std::memcpy(v.data() + 8, &julian_day, 4);
  return v;
}

struct Group {
  std::vector<ColumnData> columns;
  std::int64_t rows = 0;
};

// ---------------------------------------------------------------------------------------------
// Reading back with our own pieces
// ---------------------------------------------------------------------------------------------

struct PageSummary {
  PageType type = PageType::kDataPage;
  Encoding encoding = Encoding::kPlain;
  std::int32_t num_values = 0;
  std::uint32_t first_repetition_level = 0;
};

struct ChunkContents {
  std::vector<PageSummary> pages;
  ColumnData data;
};

// Appends the values of src (of type) to dst: all of them, or the one at index.
void AppendValues(const ColumnData& src, Type type, ColumnData& dst,
                  std::optional<std::size_t> index = std::nullopt) {
  const auto append = [&](const auto& from, auto& to) {
    if (index) {
      to.push_back(from.at(*index));
    } else {
      to.insert(to.end(), from.begin(), from.end());
    }
  };
  switch (type) {
    case Type::kBoolean:
      return append(src.booleans, dst.booleans);
    case Type::kInt32:
      return append(src.int32s, dst.int32s);
    case Type::kInt64:
      return append(src.int64s, dst.int64s);
    case Type::kInt96:
      return append(src.int96s, dst.int96s);
    case Type::kFloat:
      return append(src.floats, dst.floats);
    case Type::kDouble:
      return append(src.doubles, dst.doubles);
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      return append(src.byte_arrays, dst.byte_arrays);
  }
}

std::size_t DecodePlain(Type type, std::int32_t type_length, const EncodedBytes& in,
                        std::size_t count, ColumnData& out) {
  switch (type) {
    case Type::kBoolean:
      return DecodePlainBoolean(in, count, out.booleans);
    case Type::kInt32:
      return DecodePlainInt32(in, count, out.int32s);
    case Type::kInt64:
      return DecodePlainInt64(in, count, out.int64s);
    case Type::kInt96:
      return DecodePlainInt96(in, count, out.int96s);
    case Type::kFloat:
      return DecodePlainFloat(in, count, out.floats);
    case Type::kDouble:
      return DecodePlainDouble(in, count, out.doubles);
    case Type::kByteArray:
      return DecodePlainByteArray(in, count, out.byte_arrays);
    case Type::kFixedLenByteArray:
      return DecodePlainFixedLenByteArray(in, type_length, count, out.byte_arrays);
  }
  return 0;
}

// Walks a column chunk page by page and decodes it, checking the chunk's sizes and offsets.
ChunkContents ReadChunk(std::string_view file, const ColumnMetaData& meta, const LeafColumn& leaf,
                        std::int32_t type_length) {
  ChunkContents chunk;
  ColumnData dictionary;
  std::size_t dictionary_size = 0;
  const std::int64_t start = meta.dictionary_page_offset.value_or(meta.data_page_offset);
  std::int64_t pos = start;
  const std::int64_t end = start + meta.total_compressed_size;
  std::int64_t uncompressed = 0;
  std::optional<std::int64_t> first_data_page;
  while (pos < end) {
    CompactReader reader(file.substr(static_cast<std::size_t>(pos)), "page header");
    const PageHeader header = DecodePageHeader(reader);
    const std::int64_t header_bytes = static_cast<std::int64_t>(reader.position());
    uncompressed += header_bytes + header.uncompressed_page_size;
    const std::string_view stored =
        file.substr(static_cast<std::size_t>(pos + header_bytes),
                    static_cast<std::size_t>(header.compressed_page_size));
    std::string& body = chunk.data.storage.emplace_back();
    Decompress(meta.codec, stored, static_cast<std::size_t>(header.uncompressed_page_size), "test",
               body);
    if (header.type == PageType::kDictionaryPage) {
      EXPECT_EQ(pos, start) << "the dictionary page comes first";
      EXPECT_EQ(meta.dictionary_page_offset, pos);
      const auto count = static_cast<std::size_t>(header.dictionary_page_header->num_values);
      EXPECT_EQ(header.dictionary_page_header->encoding, Encoding::kPlain);
      EXPECT_EQ(DecodePlain(leaf.type, type_length, {body, "dictionary"}, count, dictionary),
                body.size());
      dictionary_size = count;
      chunk.pages.push_back(
          {header.type, Encoding::kPlain, header.dictionary_page_header->num_values, 0});
    } else {
      EXPECT_EQ(header.type, PageType::kDataPage);
      if (!first_data_page) first_data_page = pos;
      const DataPageHeader& page = *header.data_page_header;
      EXPECT_EQ(page.definition_level_encoding, Encoding::kRle);
      EXPECT_EQ(page.repetition_level_encoding, Encoding::kRle);
      const auto count = static_cast<std::size_t>(page.num_values);
      std::size_t at = 0;
      std::vector<std::uint32_t> levels;
      PageSummary summary{header.type, page.encoding, page.num_values, 0};
      if (leaf.max_repetition_level > 0) {
        at += DecodeRleHybridWithLength({std::string_view(body).substr(at), "rep"},
                                        BitWidth(leaf.max_repetition_level), count, levels);
        if (!levels.empty()) summary.first_repetition_level = levels[0];
        chunk.data.repetition_levels.insert(chunk.data.repetition_levels.end(), levels.begin(),
                                            levels.end());
      }
      std::size_t present = count;
      if (leaf.max_definition_level > 0) {
        at += DecodeRleHybridWithLength({std::string_view(body).substr(at), "def"},
                                        BitWidth(leaf.max_definition_level), count, levels);
        present = 0;
        for (std::uint32_t level : levels) {
          present += level == static_cast<std::uint32_t>(leaf.max_definition_level) ? 1 : 0;
        }
        chunk.data.definition_levels.insert(chunk.data.definition_levels.end(), levels.begin(),
                                            levels.end());
      }
      const EncodedBytes values{std::string_view(body).substr(at), "values"};
      if (page.encoding == Encoding::kRleDictionary) {
        std::vector<std::uint32_t> indices;
        at += DecodeDictionaryIndices(values, present, dictionary_size, indices);
        for (std::uint32_t index : indices) AppendValues(dictionary, leaf.type, chunk.data, index);
      } else {
        EXPECT_EQ(page.encoding, Encoding::kPlain);
        ColumnData decoded;
        at += DecodePlain(leaf.type, type_length, values, present, decoded);
        AppendValues(decoded, leaf.type, chunk.data);
      }
      EXPECT_LE(at, body.size());
      if (leaf.type != Type::kBoolean) {
        EXPECT_EQ(at, body.size()) << "bytes after the values";
      }
      chunk.pages.push_back(summary);
    }
    pos += header_bytes + header.compressed_page_size;
  }
  EXPECT_EQ(pos, end) << "pages end where total_compressed_size says";
  EXPECT_EQ(uncompressed, meta.total_uncompressed_size);
  EXPECT_EQ(first_data_page, meta.data_page_offset);
  return chunk;
}

template <typename T>
std::vector<std::uint64_t> Bits(const std::vector<T>& values) {
  std::vector<std::uint64_t> bits;
  for (T v : values) {
    if constexpr (sizeof(T) == 4) {
      bits.push_back(std::bit_cast<std::uint32_t>(v));
    } else {
      bits.push_back(std::bit_cast<std::uint64_t>(v));
    }
  }
  return bits;
}

void ExpectSameColumn(const ColumnData& want, const ColumnData& got, Type type,
                      const std::string& what) {
  EXPECT_EQ(got.definition_levels, want.definition_levels) << what;
  EXPECT_EQ(got.repetition_levels, want.repetition_levels) << what;
  switch (type) {
    case Type::kBoolean: {
      std::vector<bool> w(want.booleans.begin(), want.booleans.end());
      std::vector<bool> g(got.booleans.begin(), got.booleans.end());
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = want.booleans[i] != 0;
      EXPECT_EQ(g, w) << what;
      break;
    }
    case Type::kInt32:
      EXPECT_EQ(got.int32s, want.int32s) << what;
      break;
    case Type::kInt64:
      EXPECT_EQ(got.int64s, want.int64s) << what;
      break;
    case Type::kInt96:
      EXPECT_EQ(got.int96s, want.int96s) << what;
      break;
    case Type::kFloat:
      EXPECT_EQ(Bits(got.floats), Bits(want.floats)) << what;
      break;
    case Type::kDouble:
      EXPECT_EQ(Bits(got.doubles), Bits(want.doubles)) << what;
      break;
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      EXPECT_EQ(got.byte_arrays, want.byte_arrays) << what;
      break;
  }
}

std::string Write(const std::vector<SchemaElement>& schema, const WriterOptions& options,
                  const std::vector<Group>& groups) {
  std::string file;
  ParquetWriter writer(schema, options, [&](std::string_view bytes) { file.append(bytes); });
  EXPECT_EQ(file, "PAR1");
  for (const Group& group : groups) writer.WriteRowGroup(group.columns, group.rows);
  writer.Finish();
  EXPECT_EQ(writer.bytes_written(), file.size());
  return file;
}

struct ReadResult {
  FileMetaData meta;
  std::vector<LeafColumn> leaves;
  std::vector<std::vector<ChunkContents>> chunks;  // [row group][column]
};

// ReadFooter, the metadata every file must have, and each chunk decoded and compared with what
// was written.
ReadResult ReadAndCompare(const std::string& file, const std::vector<SchemaElement>& schema,
                          const WriterOptions& options, const std::vector<Group>& groups) {
  ReadResult result;
  result.meta = ReadFooter(file, "written.parquet");
  const FileMetaData& meta = result.meta;
  result.leaves = SchemaLeaves(schema, "test");
  EXPECT_EQ(meta.version, 1);
  EXPECT_EQ(meta.schema, schema);
  EXPECT_EQ(meta.created_by, options.created_by);
  EXPECT_EQ(meta.key_value_metadata, options.key_value_metadata);
  EXPECT_EQ(meta.column_orders,
            std::vector<ColumnOrder>(result.leaves.size(), ColumnOrder::kTypeDefinedOrder));
  EXPECT_EQ(meta.row_groups.size(), groups.size());
  std::int64_t rows = 0;
  std::int64_t expected_offset = 4;
  for (std::size_t g = 0; g < groups.size() && g < meta.row_groups.size(); ++g) {
    const RowGroup& group = meta.row_groups[g];
    rows += groups[g].rows;
    EXPECT_EQ(group.num_rows, groups[g].rows);
    EXPECT_EQ(group.ordinal, static_cast<std::int16_t>(g));
    EXPECT_EQ(group.file_offset, expected_offset);
    std::int64_t uncompressed = 0;
    std::int64_t compressed = 0;
    result.chunks.emplace_back();
    for (std::size_t c = 0; c < result.leaves.size(); ++c) {
      const LeafColumn& leaf = result.leaves[c];
      const ColumnMetaData& column = *group.columns[c].meta_data;
      const std::string what = "row group " + std::to_string(g) + " column " + std::to_string(c) +
                               " " + leaf.path.back();
      EXPECT_EQ(group.columns[c].file_offset, 0) << what;
      EXPECT_EQ(column.type, leaf.type) << what;
      EXPECT_EQ(column.path_in_schema, leaf.path) << what;
      EXPECT_EQ(column.codec, options.codec) << what;
      EXPECT_EQ(static_cast<std::size_t>(column.num_values),
                groups[g].columns[c].slot_count(leaf.type))
          << what;
      EXPECT_EQ(column.dictionary_page_offset.value_or(column.data_page_offset), expected_offset)
          << what << ": chunks follow each other";
      expected_offset += column.total_compressed_size;
      uncompressed += column.total_uncompressed_size;
      compressed += column.total_compressed_size;
      const std::int32_t type_length = schema[leaf.elements.back()].type_length.value_or(0);
      ChunkContents chunk = ReadChunk(file, column, leaf, type_length);
      ExpectSameColumn(groups[g].columns[c], chunk.data, leaf.type, what);
      // The encodings list names exactly those used (RLE for the levels always).
      bool plain = false;
      bool dictionary = false;
      for (const PageSummary& page : chunk.pages) {
        (page.encoding == Encoding::kRleDictionary ? dictionary : plain) = true;
        if (page.type == PageType::kDataPage) {
          EXPECT_EQ(page.first_repetition_level, 0u) << what << ": pages start at rows";
        }
      }
      std::vector<Encoding> encodings;
      if (plain) encodings.push_back(Encoding::kPlain);
      encodings.push_back(Encoding::kRle);
      if (dictionary) encodings.push_back(Encoding::kRleDictionary);
      EXPECT_EQ(column.encodings, encodings) << what;
      if (options.statistics) {
        const std::size_t slots = groups[g].columns[c].slot_count(leaf.type);
        const std::size_t values = groups[g].columns[c].value_count(leaf.type);
        EXPECT_TRUE(column.statistics.has_value()) << what;
        if (column.statistics) {
          EXPECT_EQ(column.statistics->null_count, static_cast<std::int64_t>(slots - values))
              << what;
        }
      } else {
        EXPECT_FALSE(column.statistics.has_value()) << what;
      }
      result.chunks.back().push_back(std::move(chunk));
    }
    EXPECT_EQ(group.total_byte_size, uncompressed);
    EXPECT_EQ(group.total_compressed_size, compressed);
  }
  EXPECT_EQ(meta.num_rows, rows);
  return result;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (char c : bytes) {
    hex += kDigits[static_cast<std::uint8_t>(c) >> 4];
    hex += kDigits[static_cast<std::uint8_t>(c) & 15];
  }
  return hex;
}

template <typename T>
std::string Plain(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

// Runs fn, expecting Error(kInvalidArgument) whose message contains every one of parts.
void ExpectInvalid(const std::function<void()>& fn, std::initializer_list<std::string_view> parts) {
  ExpectError(fn, ErrorCode::kInvalidArgument, parts);
}

// ---------------------------------------------------------------------------------------------
// Reading back with the reference readers
// ---------------------------------------------------------------------------------------------

std::filesystem::path SourceDir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

// A Python with pyarrow and duckdb (testsupport::PeersPython), or "" when there is none.
std::string ReferencePython() {
  static const std::string python = testsupport::PeersPython();
  return python;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

#define NEED_REFERENCE_PYTHON()                                       \
  do {                                                                \
    if (ReferencePython().empty()) {                                  \
      if (InCi()) FAIL() << "CI=true but pyarrow/duckdb are missing"; \
      GTEST_SKIP() << "pyarrow/duckdb are not installed: run "        \
                      "scripts/install-deps.sh";                      \
    }                                                                 \
  } while (false)

class ParquetWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    folder_ =
        std::filesystem::temp_directory_path() /
        ("dkdata_parquet_writer_" + std::to_string(getpid()) + "_" + std::to_string(++counter));
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }

  // A string the test keeps alive, for ColumnData::byte_arrays.
  std::string_view Keep(std::string s) { return strings_.emplace_back(std::move(s)); }

  // Writes file to the temp folder, reads it with read_back.py (reader "pyarrow" or "duckdb") and
  // returns its lines by key ("rows", "col NAME", "stats PATH GROUP").
  std::map<std::string, std::string> ReadBack(const std::string& file,
                                              const std::string& reader = "pyarrow") {
    const std::filesystem::path path = folder_ / "written.parquet";
    std::ofstream(path, std::ios::binary) << file;
    const std::string command = "PYTHONIOENCODING=utf-8 " + ReferencePython() + " " +
                                (SourceDir() / "tests" / "parquet" / "read_back.py").string() +
                                " " + path.string() + " " + reader + " 2>&1";
    std::string out;
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buffer[4096];
      std::size_t n = 0;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
      pclose(pipe);
    }
    std::map<std::string, std::string> lines;
    std::size_t start = 0;
    while (start < out.size()) {
      std::size_t end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      const std::string line = out.substr(start, end - start);
      const std::size_t eq = line.find('=');
      if (eq != std::string::npos) lines[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
    if (!lines.contains("rows")) ADD_FAILURE() << reader << " could not read the file:\n" << out;
    return lines;
  }

  std::filesystem::path folder_;
  std::deque<std::string> strings_;
};

WriterOptions Uncompressed() {
  WriterOptions options;
  options.codec = CompressionCodec::kUncompressed;
  return options;
}

// The default options (SNAPPY), or UNCOMPRESSED in a build without snappy.
WriterOptions Defaults() {
  WriterOptions options;
  if (!CodecAvailable(options.codec)) options.codec = CompressionCodec::kUncompressed;
  return options;
}

// ---------------------------------------------------------------------------------------------
// Every physical type
// ---------------------------------------------------------------------------------------------

// Two columns (required, optional) of each physical type, n rows, every third optional slot null.
struct AllTypes {
  std::vector<SchemaElement> schema;
  Group group;
};

AllTypes MakeAllTypes(std::size_t n, std::deque<std::string>& strings, std::uint32_t seed) {
  AllTypes t;
  const Type types[] = {Type::kBoolean, Type::kInt32,  Type::kInt64,     Type::kInt96,
                        Type::kFloat,   Type::kDouble, Type::kByteArray, Type::kFixedLenByteArray};
  t.schema.push_back(Root(16));
  for (Type type : types) {
    for (Rep rep : {Rep::kRequired, Rep::kOptional}) {
      const std::string name = TypeName(type) + (rep == Rep::kRequired ? "_required" : "_optional");
      t.schema.push_back(type == Type::kFixedLenByteArray ? Fixed(name, 3, rep)
                                                          : Leaf(name, type, rep));
    }
  }
  std::mt19937 random(seed);
  for (Type type : types) {
    for (bool optional : {false, true}) {
      ColumnData d;
      for (std::size_t i = 0; i < n; ++i) {
        if (optional) {
          const bool present = i % 3 != 1;
          d.definition_levels.push_back(present ? 1 : 0);
          if (!present) continue;
        }
        // A few distinct values early (dictionary pays), then wider ranges.
        const std::uint32_t r = i < n / 2 ? random() % 7 : random();
        switch (type) {
          case Type::kBoolean:
            d.booleans.push_back(r & 1);
            break;
          case Type::kInt32:
            d.int32s.push_back(static_cast<std::int32_t>(r) - 3);
            break;
          case Type::kInt64:
            d.int64s.push_back((static_cast<std::int64_t>(r) << 20) - 5);
            break;
          case Type::kInt96:
            d.int96s.push_back(MakeInt96(r % 86'400'000'000'000ull, 2440588 + r % 1000));
            break;
          case Type::kFloat:
            d.floats.push_back(static_cast<float>(r) / 4 - 1);
            break;
          case Type::kDouble:
            d.doubles.push_back(static_cast<double>(r) / 8 - 2);
            break;
          case Type::kByteArray:
            d.byte_arrays.push_back(strings.emplace_back("v" + std::to_string(r % 1000)));
            break;
          case Type::kFixedLenByteArray: {
            std::string s(3, '\0');
            s[0] = static_cast<char>(r);
            s[1] = static_cast<char>(r >> 8);
            s[2] = static_cast<char>(r >> 16);
            d.byte_arrays.push_back(strings.emplace_back(std::move(s)));
            break;
          }
        }
      }
      t.group.columns.push_back(std::move(d));
    }
  }
  t.group.rows = static_cast<std::int64_t>(n);
  return t;
}

TEST_F(ParquetWriterTest, RequiredAndOptionalColumnsOfEveryPhysicalTypeRoundTrip) {
  for (bool dictionary : {true, false}) {
    SCOPED_TRACE(dictionary ? "dictionary" : "no dictionary");
    AllTypes t = MakeAllTypes(1000, strings_, 1);
    WriterOptions options = Uncompressed();
    options.dictionary = dictionary;
    options.key_value_metadata = {{"origin", "dkdata test"}, {"empty", std::nullopt}};
    options.created_by = "dkdata test";
    const std::string file = Write(t.schema, options, {t.group});
    const ReadResult read = ReadAndCompare(file, t.schema, options, {t.group});
    const auto& columns = read.meta.row_groups[0].columns;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const Type type = read.leaves[c].type;
      const bool can = type != Type::kBoolean && type != Type::kInt96;
      EXPECT_EQ(columns[c].meta_data->dictionary_page_offset.has_value(), dictionary && can)
          << read.leaves[c].path.back();
    }
  }
}

TEST_F(ParquetWriterTest, EveryPhysicalTypeReadsBackInPyarrow) {
  NEED_REFERENCE_PYTHON();
  const std::vector<SchemaElement> schema = {
      Root(10),
      Leaf("b", Type::kBoolean),
      Leaf("b_opt", Type::kBoolean, Rep::kOptional),
      Leaf("i32", Type::kInt32),
      Leaf("i32_opt", Type::kInt32, Rep::kOptional),
      Leaf("i64", Type::kInt64, Rep::kOptional),
      Leaf("i96", Type::kInt96, Rep::kOptional),
      Leaf("f32", Type::kFloat, Rep::kOptional),
      Leaf("f64", Type::kDouble),
      Leaf("bytes", Type::kByteArray, Rep::kOptional),
      Fixed("fixed", 3, Rep::kOptional),
  };
  std::vector<ColumnData> columns;
  columns.push_back(Booleans({1, 0, 1, 1}));
  columns.push_back(OptionalBooleans({true, std::nullopt, false, std::nullopt}));
  columns.push_back(Required<std::int32_t>({1, -2, 2147483647, -2147483647 - 1}));
  columns.push_back(Optional<std::int32_t>({std::nullopt, 5, std::nullopt, 7}));
  columns.push_back(Optional<std::int64_t>(
      {std::numeric_limits<std::int64_t>::min(), std::nullopt, 0, 9'000'000'000'000}));
  columns.push_back(Optional<Int96>(
      {MakeInt96(1000, 2440588), std::nullopt, MakeInt96(0, 2440589), MakeInt96(0, 2440587)}));
  columns.push_back(Optional<float>({1.5f, -0.0f, std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::quiet_NaN()}));
  columns.push_back(Required<double>({0.1, -2.5, 1e300, std::nan("")}));
  columns.push_back(Optional<std::string_view>(
      {Keep(std::string("\x00\xff", 2)), Keep(""), std::nullopt, Keep("abc")}));
  columns.push_back(Optional<std::string_view>(
      {std::nullopt, Keep("xyz"), Keep(std::string("\x01\x02\x03")), std::nullopt}));
  const Group group{std::move(columns), 4};
  for (bool dictionary : {true, false}) {
    WriterOptions options = Defaults();
    options.dictionary = dictionary;
    const std::string file = Write(schema, options, {group});
    ReadAndCompare(file, schema, options, {group});
    auto lines = ReadBack(file);
    EXPECT_EQ(lines["rows"], "4");
    EXPECT_EQ(lines["col b"], "[true,false,true,true]");
    EXPECT_EQ(lines["col b_opt"], "[true,null,false,null]");
    EXPECT_EQ(lines["col i32"], "[1,-2,2147483647,-2147483648]");
    EXPECT_EQ(lines["col i32_opt"], "[null,5,null,7]");
    EXPECT_EQ(lines["col i64"], "[-9223372036854775808,null,0,9000000000000]");
    // INT96 reads as nanoseconds since the epoch.
    EXPECT_EQ(lines["col i96"], "[\"ts:1000\",null,\"ts:86400000000000\",\"ts:-86400000000000\"]");
    EXPECT_EQ(lines["col f32"], "[1.5,-0.0,\"inf\",\"nan\"]");
    EXPECT_EQ(lines["col f64"], "[0.1,-2.5,1e+300,\"nan\"]");
    EXPECT_EQ(lines["col bytes"], "[\"hex:00ff\",\"hex:\",null,\"hex:616263\"]");
    EXPECT_EQ(lines["col fixed"], "[null,\"hex:78797a\",\"hex:010203\",null]");
  }
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

TEST_F(ParquetWriterTest, ListColumnsWithNullAndEmptyListsAndNullElements) {
  const std::vector<FloatList> rows_required = {
      std::vector<std::optional<float>>{1.0f, 2.5f}, std::nullopt,
      std::vector<std::optional<float>>{}, std::vector<std::optional<float>>{-3.0f},
      std::vector<std::optional<float>>{4.0f, 5.0f, 6.0f}};
  const std::vector<FloatList> rows_optional = {
      std::vector<std::optional<float>>{1.0f, std::nullopt}, std::nullopt,
      std::vector<std::optional<float>>{}, std::vector<std::optional<float>>{2.0f},
      std::vector<std::optional<float>>{std::nullopt}};
  std::vector<SchemaElement> schema = {Root(3)};
  for (auto& e : ListOfFloat("req", Rep::kRequired)) schema.push_back(e);
  for (auto& e : ListOfFloat("opt", Rep::kOptional)) schema.push_back(e);
  schema.push_back(Leaf("id", Type::kInt32));
  Group group;
  group.columns.push_back(ListColumn(rows_required, false));
  group.columns.push_back(ListColumn(rows_optional, true));
  group.columns.push_back(Required<std::int32_t>({0, 1, 2, 3, 4}));
  group.rows = 5;

  // The spec's own example: (rep, def) (0,3) (1,2) (0,0) (0,1) (0,3) (0,2).
  EXPECT_EQ(group.columns[1].definition_levels, (std::vector<std::uint32_t>{3, 2, 0, 1, 3, 2}));
  EXPECT_EQ(group.columns[1].repetition_levels, (std::vector<std::uint32_t>{0, 1, 0, 0, 0, 0}));

  const WriterOptions options = Uncompressed();
  const std::string file = Write(schema, options, {group});
  const ReadResult read = ReadAndCompare(file, schema, options, {group});
  EXPECT_EQ(read.leaves[0].max_definition_level, 2);
  EXPECT_EQ(read.leaves[1].max_definition_level, 3);
  EXPECT_EQ(read.leaves[1].path, (std::vector<std::string>{"opt", "list", "element"}));
  const ColumnMetaData& req = *read.meta.row_groups[0].columns[0].meta_data;
  const ColumnMetaData& opt = *read.meta.row_groups[0].columns[1].meta_data;
  EXPECT_EQ(req.num_values, 8);              // level entries, not rows
  EXPECT_EQ(req.statistics->null_count, 2);  // the null list and the empty one
  EXPECT_EQ(opt.num_values, 6);
  EXPECT_EQ(opt.statistics->null_count, 4);  // null list, empty list, two null elements
  EXPECT_EQ(opt.statistics->min_value, Plain(1.0f));
  EXPECT_EQ(opt.statistics->max_value, Plain(2.0f));

  NEED_REFERENCE_PYTHON();
  for (const std::string reader : {"pyarrow", "duckdb"}) {
    SCOPED_TRACE(reader);
    auto lines = ReadBack(file, reader);
    EXPECT_EQ(lines["rows"], "5");
    EXPECT_EQ(lines["col req"], "[[1.0,2.5],null,[],[-3.0],[4.0,5.0,6.0]]");
    EXPECT_EQ(lines["col opt"], "[[1.0,null],null,[],[2.0],[null]]");
    EXPECT_EQ(lines["col id"], "[0,1,2,3,4]");
  }
  EXPECT_EQ(ReadBack(file)["stats opt.list.element 0"], "[1.0,2.0,4]");
}

// ---------------------------------------------------------------------------------------------
// Dictionary
// ---------------------------------------------------------------------------------------------

std::vector<PageSummary> PagesOf(const ReadResult& read, std::size_t group, std::size_t column) {
  return read.chunks[group][column].pages;
}

std::vector<Encoding> PageEncodings(const std::vector<PageSummary>& pages) {
  std::vector<Encoding> encodings;
  for (const PageSummary& page : pages) encodings.push_back(page.encoding);
  return encodings;
}

TEST_F(ParquetWriterTest, DictionaryOnOffAndNotWorthIt) {
  const std::vector<SchemaElement> schema = {
      Root(4), Leaf("category", Type::kByteArray), Leaf("id", Type::kInt64),
      Leaf("small", Type::kInt32, Rep::kOptional), Leaf("nulls", Type::kDouble, Rep::kOptional)};
  Group group;
  const std::string_view names[] = {Keep("red"), Keep("green"), Keep("blue")};
  ColumnData category;
  ColumnData id;
  ColumnData small;
  ColumnData nulls;
  for (int i = 0; i < 3000; ++i) {
    category.byte_arrays.push_back(names[i % 3]);
    id.int64s.push_back(i * 7919);
    small.definition_levels.push_back(i % 5 == 0 ? 0 : 1);
    if (i % 5 != 0) small.int32s.push_back(i % 4);
    nulls.definition_levels.push_back(0);
  }
  group.columns = {category, id, small, nulls};
  group.rows = 3000;

  WriterOptions options = Uncompressed();
  ReadResult read = ReadAndCompare(Write(schema, options, {group}), schema, options, {group});
  const auto& chunks = read.meta.row_groups[0].columns;
  // Few distinct values: a dictionary page, then RLE_DICTIONARY pages.
  EXPECT_EQ(PageEncodings(PagesOf(read, 0, 0)),
            (std::vector<Encoding>{Encoding::kPlain, Encoding::kRleDictionary}));
  EXPECT_EQ(PagesOf(read, 0, 0)[0].type, PageType::kDictionaryPage);
  EXPECT_EQ(PagesOf(read, 0, 0)[0].num_values, 3);
  EXPECT_EQ(chunks[0].meta_data->dictionary_page_offset, 4);
  EXPECT_EQ(PageEncodings(PagesOf(read, 0, 2)),
            (std::vector<Encoding>{Encoding::kPlain, Encoding::kRleDictionary}));
  // Unique ids: the dictionary would not be smaller, so the chunk is PLAIN without one.
  EXPECT_EQ(PageEncodings(PagesOf(read, 0, 1)), (std::vector<Encoding>{Encoding::kPlain}));
  EXPECT_FALSE(chunks[1].meta_data->dictionary_page_offset.has_value());
  // No values at all: no dictionary either.
  EXPECT_EQ(PageEncodings(PagesOf(read, 0, 3)), (std::vector<Encoding>{Encoding::kPlain}));
  EXPECT_EQ(chunks[3].meta_data->statistics->null_count, 3000);

  options.dictionary = false;
  read = ReadAndCompare(Write(schema, options, {group}), schema, options, {group});
  for (std::size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(PageEncodings(PagesOf(read, 0, c)), (std::vector<Encoding>{Encoding::kPlain}));
    EXPECT_FALSE(read.meta.row_groups[0].columns[c].meta_data->dictionary_page_offset);
  }
}

TEST_F(ParquetWriterTest, DictionaryPastItsLimitFallsBackToPlainForTheRestOfTheChunk) {
  const std::vector<SchemaElement> schema = {Root(2), Leaf("s", Type::kByteArray, Rep::kOptional),
                                             Fixed("f", 4)};
  Group group;
  ColumnData s;
  ColumnData f;
  // Values repeat within each page of ~100 values, but every page brings new ones.
  for (int i = 0; i < 2000; ++i) {
    s.definition_levels.push_back(i % 10 == 3 ? 0 : 1);
    if (i % 10 != 3)
      s.byte_arrays.push_back(Keep("value-" + std::to_string(i / 100 * 10 + i % 10)));
    std::string fixed(4, '\0');
    const std::uint32_t v = static_cast<std::uint32_t>(i / 100 * 10 + i % 10);
    std::memcpy(fixed.data(), &v, 4);
    f.byte_arrays.push_back(Keep(fixed));
  }
  group.columns = {s, f};
  group.rows = 2000;
  WriterOptions options = Uncompressed();
  options.data_page_size = 400;
  options.dictionary_page_limit = 200;
  const std::string file = Write(schema, options, {group});
  const ReadResult read = ReadAndCompare(file, schema, options, {group});
  for (std::size_t c = 0; c < 2; ++c) {
    SCOPED_TRACE(c);
    const std::vector<PageSummary> pages = PagesOf(read, 0, c);
    ASSERT_GT(pages.size(), 4u);
    EXPECT_EQ(pages[0].type, PageType::kDictionaryPage);
    // The dictionary page keeps to the limit: only the entries of the pages that use it.
    const std::size_t entry_bytes = c == 0 ? 4 + 8 : 4;  // "value-NN" with its length, or 4
    EXPECT_LE(static_cast<std::size_t>(pages[0].num_values) * entry_bytes, 200u);
    EXPECT_EQ(pages[1].encoding, Encoding::kRleDictionary);
    EXPECT_EQ(pages.back().encoding, Encoding::kPlain);
    std::size_t switches = 0;
    for (std::size_t p = 2; p < pages.size(); ++p) {
      if (pages[p].encoding != pages[p - 1].encoding) ++switches;
    }
    EXPECT_EQ(switches, 1u) << "RLE_DICTIONARY pages, then PLAIN pages";
  }
  NEED_REFERENCE_PYTHON();
  auto lines = ReadBack(file);
  EXPECT_EQ(lines["rows"], "2000");
  // pyarrow reads BYTE_ARRAY without annotation as binary.
  std::string got = lines["col s"];
  std::string want_hex = "[";
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) want_hex += ",";
    want_hex += i % 10 == 3
                    ? "null"
                    : "\"hex:" + Hex("value-" + std::to_string(i / 100 * 10 + i % 10)) + "\"";
  }
  EXPECT_EQ(got, want_hex + "]");
}

TEST_F(ParquetWriterTest, PagesOfNullsBeforeTheFirstValueKeepTheDictionary) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("n", Type::kInt32, Rep::kOptional)};
  ColumnData n;
  for (int i = 0; i < 400; ++i) {
    n.definition_levels.push_back(i < 100 ? 0 : 1);
    if (i >= 100) n.int32s.push_back(i % 3);
  }
  const Group group{{n}, 400};
  WriterOptions options = Uncompressed();
  options.data_page_size = 40;
  const std::string file = Write(schema, options, {group});
  const ReadResult read = ReadAndCompare(file, schema, options, {group});
  const std::vector<PageSummary> pages = PagesOf(read, 0, 0);
  ASSERT_GT(pages.size(), 5u);
  EXPECT_EQ(pages[0].type, PageType::kDictionaryPage);
  for (std::size_t p = 1; p < pages.size(); ++p) {
    EXPECT_EQ(pages[p].encoding, Encoding::kRleDictionary) << "page " << p;
  }
  NEED_REFERENCE_PYTHON();
  std::string want = "[";
  for (int i = 0; i < 400; ++i) {
    want += (i > 0 ? "," : "") + (i < 100 ? std::string("null") : std::to_string(i % 3));
  }
  EXPECT_EQ(ReadBack(file)["col n"], want + "]");
}

TEST_F(ParquetWriterTest, FloatsGetADictionaryKeyedByTheirBits) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("f", Type::kFloat)};
  Group group;
  ColumnData f;
  const float values[] = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), 1.5f};
  for (int i = 0; i < 400; ++i) f.floats.push_back(values[i % 4]);
  group.columns = {f};
  group.rows = 400;
  const WriterOptions options = Uncompressed();
  const ReadResult read = ReadAndCompare(Write(schema, options, {group}), schema, options, {group});
  const std::vector<PageSummary> pages = PagesOf(read, 0, 0);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].num_values, 4) << "0.0 and -0.0 are different entries";
  EXPECT_EQ(pages[1].encoding, Encoding::kRleDictionary);
}

// ---------------------------------------------------------------------------------------------
// Row groups and pages
// ---------------------------------------------------------------------------------------------

TEST_F(ParquetWriterTest, SeveralRowGroupsAndManyPages) {
  std::vector<SchemaElement> schema = {Root(3), Leaf("n", Type::kInt64),
                                       Leaf("s", Type::kByteArray, Rep::kOptional)};
  for (auto& e : ListOfFloat("v", Rep::kOptional)) schema.push_back(e);
  std::vector<Group> groups;
  std::int64_t next = 0;
  for (int g = 0; g < 3; ++g) {
    Group group;
    ColumnData n;
    ColumnData s;
    std::vector<FloatList> lists;
    const int rows = 500 + 100 * g;
    for (int i = 0; i < rows; ++i, ++next) {
      n.int64s.push_back(next);
      s.definition_levels.push_back(next % 7 == 0 ? 0 : 1);
      if (next % 7 != 0) s.byte_arrays.push_back(Keep(std::string(next % 13, 'a' + next % 5)));
      if (next % 11 == 0) {
        lists.push_back(std::nullopt);
      } else {
        std::vector<std::optional<float>> list;
        for (int k = 0; k < next % 6; ++k) {
          list.push_back(k == 2 ? std::nullopt : std::optional<float>(static_cast<float>(k)));
        }
        lists.push_back(list);
      }
    }
    group.columns = {n, s, ListColumn(lists, true)};
    group.rows = rows;
    groups.push_back(std::move(group));
  }
  WriterOptions options;
  options.data_page_size = 100;
  options.codec = CompressionCodec::kUncompressed;
  const std::string file = Write(schema, options, groups);
  const ReadResult read = ReadAndCompare(file, schema, options, groups);
  ASSERT_EQ(read.meta.row_groups.size(), 3u);
  EXPECT_EQ(read.meta.num_rows, 500 + 600 + 700);
  for (std::size_t g = 0; g < 3; ++g) {
    for (std::size_t c = 0; c < 3; ++c) {
      const std::vector<PageSummary> pages = PagesOf(read, g, c);
      EXPECT_GT(pages.size(), 10u) << g << " " << c;
    }
    // INT64 without nulls: 100 bytes are 13 values (the page is cut once it holds 100 bytes).
    const std::vector<PageSummary> pages = PagesOf(read, g, 0);
    EXPECT_EQ(pages[0].num_values, 13);
  }
  NEED_REFERENCE_PYTHON();
  auto lines = ReadBack(file);
  EXPECT_EQ(lines["rows"], "1800");
  std::string want = "[";
  for (int i = 0; i < 1800; ++i) want += (i > 0 ? "," : "") + std::to_string(i);
  EXPECT_EQ(lines["col n"], want + "]");
  std::string want_lists = "[";
  for (int i = 0; i < 1800; ++i) {
    if (i > 0) want_lists += ",";
    if (i % 11 == 0) {
      want_lists += "null";
      continue;
    }
    want_lists += "[";
    for (int k = 0; k < i % 6; ++k) {
      want_lists += (k > 0 ? "," : "") + (k == 2 ? std::string("null") : std::to_string(k) + ".0");
    }
    want_lists += "]";
  }
  EXPECT_EQ(lines["col v"], want_lists + "]");
  EXPECT_EQ(lines["stats n 2"], "[1100,1799,0]");
}

// Row groups encoded at once on threads of the caller's (EncodeRowGroup, also while another row
// group is appended) and appended in order make the file that WriteRowGroup makes, at any
// WriterOptions::threads. (Named *Concurren* so that the TSan job runs it.)
TEST_F(ParquetWriterTest, ConcurrentlyEncodedRowGroupsMakeTheSameFile) {
  std::vector<SchemaElement> schema;
  std::vector<Group> groups;
  for (std::uint32_t g = 0; g < 7; ++g) {
    AllTypes t = MakeAllTypes(300 + 150 * g, strings_, g);
    schema = t.schema;
    groups.push_back(std::move(t.group));
  }
  WriterOptions options = Defaults();
  options.data_page_size = 1000;  // several pages, some after the dictionary is given up
  options.threads = 1;
  const std::string one_thread = Write(schema, options, groups);
  ReadAndCompare(one_thread, schema, options, groups);
  options.threads = 3;
  EXPECT_EQ(Write(schema, options, groups), one_thread);

  // Rounds of 3 row groups, each encoded by a thread of its own into one of two sets of
  // EncodedRowGroup (reused), while this thread appends the round before from the other set.
  constexpr std::size_t kThreads = 3;
  std::string file;
  ParquetWriter writer(schema, options, [&](std::string_view bytes) { file.append(bytes); });
  std::vector<EncodedRowGroup> encoded(2 * kThreads);
  auto append_round = [&](std::size_t round) {
    for (std::size_t g = round * kThreads; g < std::min(groups.size(), (round + 1) * kThreads);
         ++g) {
      writer.AppendRowGroup(encoded[round % 2 * kThreads + g % kThreads]);
    }
  };
  const std::size_t rounds = (groups.size() + kThreads - 1) / kThreads;
  for (std::size_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    for (std::size_t g = round * kThreads; g < std::min(groups.size(), (round + 1) * kThreads);
         ++g) {
      threads.emplace_back([&, g, round] {
        writer.EncodeRowGroup(groups[g].columns, groups[g].rows,
                              encoded[round % 2 * kThreads + g % kThreads]);
      });
    }
    if (round > 0) append_round(round - 1);
    for (std::thread& thread : threads) thread.join();
  }
  append_round(rounds - 1);
  writer.Finish();
  EXPECT_EQ(file, one_thread);
}

TEST_F(ParquetWriterTest, EncodeRowGroupErrorsWriteNothingAndAppendTakesOnlyAnEncodedGroup) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("a", Type::kInt32)};
  const std::vector<Group> groups = {{{Required<std::int32_t>({1, 2})}, 2}};
  const std::string expected = Write(schema, Uncompressed(), groups);
  std::string file;
  ParquetWriter writer(schema, Uncompressed(), [&](std::string_view b) { file.append(b); });
  EncodedRowGroup encoded;
  ExpectInvalid([&] { writer.AppendRowGroup(encoded); }, {"did not encode"});
  const std::vector<ColumnData> bad = {Required<std::int32_t>({1})};
  ExpectInvalid([&] { writer.EncodeRowGroup(bad, 2, encoded); }, {"column 'a'"});
  ExpectInvalid([&] { writer.AppendRowGroup(encoded); }, {"did not encode"});
  writer.EncodeRowGroup(groups[0].columns, 2, encoded);
  writer.AppendRowGroup(encoded);
  ExpectInvalid([&] { writer.AppendRowGroup(encoded); }, {"appended already"});
  writer.Finish();
  EXPECT_EQ(file, expected);
}

TEST_F(ParquetWriterTest, RepeatedColumnsCutPagesOnlyBetweenRows) {
  std::vector<SchemaElement> schema = {Root(1)};
  for (auto& e : ListOfFloat("v", Rep::kRequired)) schema.push_back(e);
  // Rows of 50 elements: a page of 8 bytes would end inside every row.
  std::vector<FloatList> rows;
  for (int r = 0; r < 20; ++r) {
    std::vector<std::optional<float>> list;
    for (int k = 0; k < 50; ++k) list.push_back(static_cast<float>(r * 100 + k));
    rows.push_back(list);
  }
  Group group{{ListColumn(rows, false)}, 20};
  WriterOptions options = Uncompressed();
  options.data_page_size = 8;
  options.dictionary = false;
  const ReadResult read = ReadAndCompare(Write(schema, options, {group}), schema, options, {group});
  const std::vector<PageSummary> pages = PagesOf(read, 0, 0);
  ASSERT_EQ(pages.size(), 20u) << "one row per page";
  for (const PageSummary& page : pages) EXPECT_EQ(page.num_values, 50);
}

TEST_F(ParquetWriterTest, ZeroRowsMakeAFileReadersAccept) {
  const std::vector<SchemaElement> schema = {Root(2), Leaf("a", Type::kInt32),
                                             Leaf("b", Type::kByteArray, Rep::kOptional)};
  const Group empty{{ColumnData{}, ColumnData{}}, 0};
  const WriterOptions options = Defaults();
  std::string file = Write(schema, options, {empty});
  ReadResult read = ReadAndCompare(file, schema, options, {empty});
  EXPECT_FALSE(read.meta.row_groups[0].columns[0].meta_data->statistics->min_value);
  const std::string no_groups = Write(schema, options, {});
  EXPECT_EQ(ReadFooter(no_groups, "empty").row_groups.size(), 0u);
  NEED_REFERENCE_PYTHON();
  EXPECT_EQ(ReadBack(file)["rows"], "0");
  EXPECT_EQ(ReadBack(no_groups)["rows"], "0");
}

// ---------------------------------------------------------------------------------------------
// Codecs
// ---------------------------------------------------------------------------------------------

class ParquetWriterCodecTest : public ParquetWriterTest,
                               public ::testing::WithParamInterface<CompressionCodec> {};

TEST_P(ParquetWriterCodecTest, EveryPageIsCompressedWithTheCodec) {
  if (!CodecAvailable(GetParam())) {
    GTEST_SKIP() << CompressionCodecName(GetParam()) << " is not in this build";
  }
  AllTypes t = MakeAllTypes(3000, strings_, 7);
  WriterOptions options;
  options.codec = GetParam();
  options.data_page_size = 2000;
  const std::string file = Write(t.schema, options, {t.group, t.group});
  const ReadResult read = ReadAndCompare(file, t.schema, options, {t.group, t.group});
  if (GetParam() != CompressionCodec::kUncompressed) {
    const ColumnMetaData& int96 = *read.meta.row_groups[0].columns[6].meta_data;
    EXPECT_LT(int96.total_compressed_size, int96.total_uncompressed_size);
  }
  NEED_REFERENCE_PYTHON();
  auto lines = ReadBack(file);
  EXPECT_EQ(lines["rows"], "6000");
  std::string want = "[";
  for (std::size_t i = 0; i < 6000; ++i) {
    want += (i > 0 ? "," : "") + std::to_string(t.group.columns[2].int32s[i % 3000]);
  }
  EXPECT_EQ(lines["col INT32_required"], want + "]");
}

INSTANTIATE_TEST_SUITE_P(ParquetWriter, ParquetWriterCodecTest,
                         ::testing::Values(CompressionCodec::kUncompressed,
                                           CompressionCodec::kSnappy, CompressionCodec::kGzip,
                                           CompressionCodec::kZstd, CompressionCodec::kLz4Raw),
                         [](const auto& info) { return CompressionCodecName(info.param); });

TEST_F(ParquetWriterTest, CodecOptionsAreCheckedBeforeAnythingIsWritten) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("a", Type::kInt32)};
  std::string file;
  const auto sink = [&](std::string_view bytes) { file.append(bytes); };
  WriterOptions lzo;
  lzo.codec = CompressionCodec::kLzo;
  ExpectInvalid([&] { ParquetWriter writer(schema, lzo, sink); }, {"LZO"});
  if (CodecAvailable(CompressionCodec::kGzip)) {
    WriterOptions gzip;
    gzip.codec = CompressionCodec::kGzip;
    gzip.compression_level = 42;
    ExpectInvalid([&] { ParquetWriter writer(schema, gzip, sink); }, {"level"});
  }
  EXPECT_EQ(file, "");
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

const Statistics& StatsOf(const ReadResult& read, std::size_t column, std::size_t group = 0) {
  return *read.meta.row_groups[group].columns[column].meta_data->statistics;
}

TEST_F(ParquetWriterTest, StatisticsFollowEachColumnsSortOrder) {
  const float nan_f = std::numeric_limits<float>::quiet_NaN();
  const double nan_d = std::numeric_limits<double>::quiet_NaN();
  const std::vector<SchemaElement> schema = {
      Root(15),
      Leaf("i32", Type::kInt32),
      Annotated(Leaf("u32", Type::kInt32), IntType(32, false), ConvertedType::kUint32),
      Annotated(Leaf("u64", Type::kInt64), IntType(64, false), ConvertedType::kUint64),
      Leaf("i64", Type::kInt64),
      Leaf("f_nan", Type::kFloat),
      Leaf("d_zero_min", Type::kDouble),
      Leaf("d_zero_max", Type::kDouble),
      Leaf("d_all_nan", Type::kDouble),
      Leaf("all_null", Type::kInt32, Rep::kOptional),
      Annotated(Leaf("str", Type::kByteArray), Logical(LogicalTypeKind::kString),
                ConvertedType::kUtf8),
      Decimal(Fixed("dec", 2), 4, 2),  // FLBA(2) holds 4 digits
      Leaf("bool", Type::kBoolean),
      Leaf("i96", Type::kInt96),
      Annotated(Leaf("u8", Type::kInt32), std::nullopt, ConvertedType::kUint8),
      Leaf("bool_true", Type::kBoolean, Rep::kOptional),
  };
  Group group;
  group.rows = 4;
  group.columns.push_back(Required<std::int32_t>({5, -7, 3, 0}));
  group.columns.push_back(Required<std::int32_t>({5, -1, 0, 7}));  // -1 is 4294967295
  group.columns.push_back(Required<std::int64_t>({1, -2, 0, 3}));
  group.columns.push_back(Required<std::int64_t>({1, -2, 0, 3}));
  group.columns.push_back(Required<float>({nan_f, 2.5f, -1.5f, nan_f}));
  group.columns.push_back(Required<double>({0.0, 1.0, 2.0, 0.0}));
  group.columns.push_back(Required<double>({-1.0, -0.0, -2.0, -0.0}));
  group.columns.push_back(Required<double>({nan_d, nan_d, nan_d, nan_d}));
  group.columns.push_back(
      Optional<std::int32_t>({std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  group.columns.push_back(
      Required<std::string_view>({Keep("b"), Keep("\xc3\xa9"), Keep("abc"), Keep("ab")}));
  group.columns.push_back(Required<std::string_view>(
      {Keep(std::string("\x00\x05", 2)), Keep("\xff\xfe"), Keep(std::string("\x27\x00", 2)),
       Keep("\xd8\xf1")}));  // 0.05, -0.02, 99.84, -99.99
  group.columns.push_back(Booleans({1, 0, 1, 1}));
  group.columns.push_back(
      Required<Int96>({MakeInt96(1, 2), MakeInt96(3, 4), MakeInt96(5, 6), MakeInt96(7, 8)}));
  group.columns.push_back(Required<std::int32_t>({200, 3, 255, 0}));
  group.columns.push_back(OptionalBooleans({true, std::nullopt, true, true}));

  const WriterOptions options = Uncompressed();
  const std::string file = Write(schema, options, {group});
  const ReadResult read = ReadAndCompare(file, schema, options, {group});
  const auto expect_bounds = [&](std::size_t column, const std::string& min,
                                 const std::string& max) {
    const Statistics& s = StatsOf(read, column);
    EXPECT_EQ(s.min_value, min) << read.leaves[column].path.back();
    EXPECT_EQ(s.max_value, max) << read.leaves[column].path.back();
    EXPECT_FALSE(s.min.has_value());
    EXPECT_FALSE(s.max.has_value());
  };
  expect_bounds(0, Plain<std::int32_t>(-7), Plain<std::int32_t>(5));
  expect_bounds(1, Plain<std::int32_t>(0), Plain<std::int32_t>(-1));
  expect_bounds(2, Plain<std::int64_t>(0), Plain<std::int64_t>(-2));
  expect_bounds(3, Plain<std::int64_t>(-2), Plain<std::int64_t>(3));
  expect_bounds(4, Plain(-1.5f), Plain(2.5f));
  EXPECT_EQ(StatsOf(read, 4).nan_count, 2);
  expect_bounds(5, Plain(-0.0), Plain(2.0));
  expect_bounds(6, Plain(-2.0), Plain(0.0));
  EXPECT_FALSE(StatsOf(read, 7).min_value.has_value());
  EXPECT_FALSE(StatsOf(read, 7).max_value.has_value());
  EXPECT_EQ(StatsOf(read, 7).nan_count, 4);
  EXPECT_EQ(StatsOf(read, 8).null_count, 4);
  EXPECT_FALSE(StatsOf(read, 8).min_value.has_value());
  expect_bounds(9, "ab", "\xc3\xa9");
  expect_bounds(10, "\xd8\xf1", std::string("\x27\x00", 2));
  expect_bounds(11, std::string(1, '\0'), "\x01");
  EXPECT_FALSE(StatsOf(read, 12).min_value.has_value()) << "INT96 has no order";
  expect_bounds(13, Plain<std::int32_t>(0), Plain<std::int32_t>(255));
  expect_bounds(14, "\x01", "\x01");
  EXPECT_EQ(StatsOf(read, 14).null_count, 1);

  NEED_REFERENCE_PYTHON();
  auto lines = ReadBack(file);
  EXPECT_EQ(lines["stats i32 0"], "[-7,5,0]");
  EXPECT_EQ(lines["stats u32 0"], "[0,4294967295,0]");
  EXPECT_EQ(lines["stats u64 0"], "[0,18446744073709551614,0]");
  EXPECT_EQ(lines["stats f_nan 0"], "[-1.5,2.5,0]");
  EXPECT_EQ(lines["stats d_zero_min 0"], "[-0.0,2.0,0]");
  EXPECT_EQ(lines["stats d_zero_max 0"], "[-2.0,0.0,0]");
  EXPECT_EQ(lines["stats d_all_nan 0"], "[null,null,0]");
  EXPECT_EQ(lines["stats all_null 0"], "[null,null,4]");
  EXPECT_EQ(lines["stats str 0"], "[\"ab\",\"é\",0]");
  EXPECT_EQ(lines["stats dec 0"], "[\"dec:-99.99\",\"dec:99.84\",0]");
  EXPECT_EQ(lines["stats bool 0"], "[false,true,0]");
  EXPECT_EQ(lines["stats u8 0"], "[0,255,0]");
}

TEST_F(ParquetWriterTest, StatisticsCanBeLeftOut) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("a", Type::kInt32)};
  const Group group{{Required<std::int32_t>({1, 2})}, 2};
  WriterOptions options = Uncompressed();
  options.statistics = false;
  ReadAndCompare(Write(schema, options, {group}), schema, options, {group});
}

// ---------------------------------------------------------------------------------------------
// Logical types, read by pyarrow and DuckDB
// ---------------------------------------------------------------------------------------------

TEST_F(ParquetWriterTest, LogicalTypesReadBackInPyarrowAndDuckdb) {
  LogicalType timestamp = Logical(LogicalTypeKind::kTimestamp);
  timestamp.is_adjusted_to_utc = true;
  timestamp.unit = TimeUnit::kMicros;
  const std::vector<SchemaElement> schema = {
      Root(17),
      Annotated(Leaf("s", Type::kByteArray, Rep::kOptional), Logical(LogicalTypeKind::kString),
                ConvertedType::kUtf8),
      Annotated(Leaf("i8", Type::kInt32, Rep::kOptional), IntType(8, true), ConvertedType::kInt8),
      Annotated(Leaf("u8", Type::kInt32, Rep::kOptional), IntType(8, false), ConvertedType::kUint8),
      Annotated(Leaf("i16", Type::kInt32), IntType(16, true), ConvertedType::kInt16),
      Annotated(Leaf("u16", Type::kInt32), IntType(16, false), ConvertedType::kUint16),
      Annotated(Leaf("i32", Type::kInt32), IntType(32, true), ConvertedType::kInt32),
      Annotated(Leaf("u32", Type::kInt32), IntType(32, false), ConvertedType::kUint32),
      Annotated(Leaf("i64", Type::kInt64), IntType(64, true), ConvertedType::kInt64),
      Annotated(Leaf("u64", Type::kInt64), IntType(64, false), ConvertedType::kUint64),
      Annotated(Leaf("d", Type::kInt32, Rep::kOptional), Logical(LogicalTypeKind::kDate),
                ConvertedType::kDate),
      Annotated(Leaf("ts", Type::kInt64, Rep::kOptional), timestamp,
                ConvertedType::kTimestampMicros),
      Decimal(Leaf("dec9", Type::kInt32, Rep::kOptional), 9, 2),
      Decimal(Leaf("dec18", Type::kInt64), 18, 3),
      Decimal(Fixed("dec20", 9, Rep::kOptional), 20, 2),
      Annotated(Fixed("uuid", 16, Rep::kOptional), Logical(LogicalTypeKind::kUuid), std::nullopt),
      Annotated(Leaf("json", Type::kByteArray, Rep::kOptional), Logical(LogicalTypeKind::kJson),
                ConvertedType::kJson),
      Annotated(Leaf("bin", Type::kByteArray), std::nullopt, std::nullopt),
  };
  const std::string uuid("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
  Group group;
  group.rows = 4;
  group.columns.push_back(
      Optional<std::string_view>({Keep("h\xc3\xa9llo"), std::nullopt, Keep(""), Keep("z")}));
  group.columns.push_back(Optional<std::int32_t>({-128, 127, std::nullopt, 0}));
  group.columns.push_back(Optional<std::int32_t>({0, 255, std::nullopt, 7}));
  group.columns.push_back(Required<std::int32_t>({-32768, 32767, 0, -1}));
  group.columns.push_back(Required<std::int32_t>({0, 65535, 1, 2}));
  group.columns.push_back(Required<std::int32_t>({-2147483647 - 1, 2147483647, 0, -1}));
  group.columns.push_back(Required<std::int32_t>({0, -1, 2147483647, -2147483647 - 1}));
  group.columns.push_back(Required<std::int64_t>(
      {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), 0, -1}));
  group.columns.push_back(
      Required<std::int64_t>({0, -1, 1, std::numeric_limits<std::int64_t>::min()}));
  group.columns.push_back(Optional<std::int32_t>({0, 19000, -1, std::nullopt}));
  group.columns.push_back(Optional<std::int64_t>({0, 1'700'000'000'123'456, -1, std::nullopt}));
  group.columns.push_back(Optional<std::int32_t>({150, -150, 0, std::nullopt}));
  group.columns.push_back(Required<std::int64_t>({123456789012345678, -1, 0, 5}));
  group.columns.push_back(Optional<std::string_view>(
      {Keep(std::string(9, '\xff')), Keep(std::string("\x00\x00\x00\x00\x00\x00\x00\x30\x39", 9)),
       std::nullopt, Keep("\x05\x6b\xc7\x5e\x2d\x63\x0f\xff\xff")}));
  group.columns.push_back(Optional<std::string_view>(
      {Keep(uuid), std::nullopt, std::nullopt, Keep(std::string(16, '\0'))}));
  group.columns.push_back(
      Optional<std::string_view>({Keep("[1,2]"), Keep("{}"), std::nullopt, Keep("null")}));
  group.columns.push_back(Required<std::string_view>({Keep("a"), Keep("a"), Keep("b"), Keep("")}));

  WriterOptions options;
  options.codec = CodecAvailable(CompressionCodec::kZstd) ? CompressionCodec::kZstd
                                                          : CompressionCodec::kUncompressed;
  const std::string file = Write(schema, options, {group});
  ReadAndCompare(file, schema, options, {group});

  NEED_REFERENCE_PYTHON();
  const std::map<std::string, std::string> want = {
      {"rows", "4"},
      {"col s", "[\"h\xc3\xa9llo\",null,\"\",\"z\"]"},
      {"col i8", "[-128,127,null,0]"},
      {"col u8", "[0,255,null,7]"},
      {"col i16", "[-32768,32767,0,-1]"},
      {"col u16", "[0,65535,1,2]"},
      {"col i32", "[-2147483648,2147483647,0,-1]"},
      {"col u32", "[0,4294967295,2147483647,2147483648]"},
      {"col i64", "[-9223372036854775808,9223372036854775807,0,-1]"},
      {"col u64", "[0,18446744073709551615,1,9223372036854775808]"},
      {"col d", "[\"date:0\",\"date:19000\",\"date:-1\",null]"},
      {"col ts", "[\"ts:0\",\"ts:1700000000123456\",\"ts:-1\",null]"},
      {"col dec9", "[\"dec:1.50\",\"dec:-1.50\",\"dec:0.00\",null]"},
      {"col dec18", "[\"dec:123456789012345.678\",\"dec:-0.001\",\"dec:0.000\",\"dec:0.005\"]"},
      {"col dec20", "[\"dec:-0.01\",\"dec:123.45\",null,\"dec:999999999999999999.99\"]"},
      {"col uuid",
       "[\"hex:00112233445566778899aabbccddeeff\",null,null,"
       "\"hex:00000000000000000000000000000000\"]"},
      {"col json", "[\"[1,2]\",\"{}\",null,\"null\"]"},
      {"col bin", "[\"hex:61\",\"hex:61\",\"hex:62\",\"hex:\"]"},
  };
  for (const std::string reader : {"pyarrow", "duckdb"}) {
    SCOPED_TRACE(reader);
    auto lines = ReadBack(file, reader);
    for (const auto& [key, value] : want) EXPECT_EQ(lines[key], value) << key;
  }
  auto lines = ReadBack(file);
  EXPECT_EQ(lines["stats u32 0"], "[0,4294967295,0]");
  EXPECT_EQ(lines["stats u64 0"], "[0,18446744073709551615,0]");
  EXPECT_EQ(lines["stats ts 0"], "[\"ts:-1\",\"ts:1700000000123456\",1]");
  EXPECT_EQ(lines["stats dec20 0"], "[\"dec:-0.01\",\"dec:999999999999999999.99\",1]");
  EXPECT_EQ(lines["stats s 0"], "[\"\",\"z\",1]");
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

TEST_F(ParquetWriterTest, InputThatDoesNotMatchTheSchemaIsAnErrorNamingTheColumn) {
  std::vector<SchemaElement> schema = {Root(3), Leaf("a", Type::kInt32),
                                       Fixed("f", 2, Rep::kOptional)};
  for (auto& e : ListOfFloat("v", Rep::kOptional)) schema.push_back(e);
  const auto list = [](std::vector<std::uint32_t> rep, std::vector<std::uint32_t> def,
                       std::vector<float> values) {
    ColumnData d;
    d.repetition_levels = std::move(rep);
    d.definition_levels = std::move(def);
    d.floats = std::move(values);
    return d;
  };
  const auto good_f = [&] { return Optional<std::string_view>({Keep("ab"), std::nullopt}); };
  const auto good_v = [&] { return list({0, 0}, {0, 3}, {1.0f}); };
  const auto attempt = [&](std::vector<ColumnData> columns, std::int64_t rows) {
    std::string file;
    ParquetWriter writer(schema, Uncompressed(), [&](std::string_view b) { file.append(b); });
    writer.WriteRowGroup(columns, rows);
  };
  const auto a2 = [] { return Required<std::int32_t>({1, 2}); };

  attempt({a2(), good_f(), good_v()}, 2);  // the good case passes
  ExpectInvalid([&] { attempt({a2(), good_f()}, 2); }, {"2 columns", "schema has 3"});
  ExpectInvalid(
      [&] {
        attempt({Required<std::int32_t>({1}), good_f(), good_v()}, 2);
      },
      {"column 'a'", "1 rows", "2 rows"});
  ExpectInvalid([&] { attempt({a2(), good_f(), good_v()}, -1); }, {"negative row count"});
  ColumnData with_levels = a2();
  with_levels.definition_levels = {0, 0};
  ExpectInvalid(
      [&] {
        attempt({with_levels, good_f(), good_v()}, 2);
      },
      {"column 'a'", "2 definition levels"});
  ColumnData wrong_length = Optional<std::string_view>({Keep("abc"), std::nullopt});
  ExpectInvalid(
      [&] {
        attempt({a2(), wrong_length, good_v()}, 2);
      },
      {"column 'f'", "3 bytes", "FIXED_LEN_BYTE_ARRAY(2)"});
  ColumnData too_high = good_f();
  too_high.definition_levels[1] = 2;
  ExpectInvalid(
      [&] {
        attempt({a2(), too_high, good_v()}, 2);
      },
      {"column 'f'", "definition level 2 at slot 1", "maximum 1"});
  ColumnData count_mismatch = good_f();
  count_mismatch.byte_arrays.push_back(Keep("cd"));
  ExpectInvalid(
      [&] {
        attempt({a2(), count_mismatch, good_v()}, 2);
      },
      {"column 'f'", "1 slots have the maximum", "2 FIXED_LEN_BYTE_ARRAY values"});
  ColumnData no_levels;
  no_levels.byte_arrays = {Keep("ab"), Keep("cd")};
  ExpectInvalid(
      [&] {
        attempt({a2(), no_levels, good_v()}, 2);
      },
      {"column 'f'", "no definition levels"});
  ExpectInvalid(
      [&] {
        attempt({a2(), good_f(), list({0}, {0, 3}, {1.0f})}, 2);
      },
      {"column 'v.list.element'", "1 repetition levels but 2 definition levels"});
  ExpectInvalid(
      [&] {
        attempt({a2(), good_f(), list({1, 0}, {3, 3}, {1.0f, 2.0f})}, 2);
      },
      {"column 'v.list.element'", "first slot has repetition level 1"});
  ExpectInvalid(
      [&] {
        attempt({a2(), good_f(), list({0, 2}, {3, 3}, {1.0f, 2.0f})}, 2);
      },
      {"column 'v.list.element'", "repetition level 2 at slot 1", "maximum 1"});
  ExpectInvalid(
      [&] {
        attempt({a2(), good_f(), list({0, 1}, {3, 0}, {1.0f})}, 2);
      },
      {"column 'v.list.element'", "continues a list", "definition level 0"});
  ExpectInvalid(
      [&] {
        attempt({a2(), good_f(), list({0, 0, 0}, {3, 3, 3}, {1.0f, 2.0f, 3.0f})}, 2);
      },
      {"column 'v.list.element'", "3 rows (3 slots) in a row group of 2 rows"});
}

TEST_F(ParquetWriterTest, AfterAnErrorOrFinishTheWriterRefusesMore) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("a", Type::kInt32)};
  std::string file;
  ParquetWriter writer(schema, Uncompressed(), [&](std::string_view b) { file.append(b); });
  const std::vector<ColumnData> bad = {Required<std::int32_t>({1})};
  ExpectInvalid([&] { writer.WriteRowGroup(bad, 2); }, {"column 'a'"});
  ExpectInvalid([&] { writer.WriteRowGroup(bad, 1); }, {"after an earlier error"});
  ExpectInvalid([&] { writer.Finish(); }, {"after an earlier error"});

  ParquetWriter done(schema, Uncompressed(), [](std::string_view) {});
  done.Finish();
  ExpectInvalid([&] { done.Finish(); }, {"after Finish()"});
  ExpectInvalid([&] { done.WriteRowGroup(bad, 1); }, {"after Finish()"});
}

TEST_F(ParquetWriterTest, SinkErrorsPassThrough) {
  const std::vector<SchemaElement> schema = {Root(1), Leaf("a", Type::kInt32)};
  int calls = 0;
  ParquetWriter writer(schema, Uncompressed(), [&](std::string_view) {
    if (++calls > 1) throw Error(ErrorCode::kIo, "disk full");
  });
  const std::vector<ColumnData> columns = {Required<std::int32_t>({1})};
  try {
    writer.WriteRowGroup(columns, 1);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
  ExpectInvalid([&] { writer.Finish(); }, {"after an earlier error"});
}

TEST_F(ParquetWriterTest, BadSchemaIsAnError) {
  std::vector<SchemaElement> schema = {Root(2), Leaf("a", Type::kInt32)};
  ExpectInvalid([&] { ParquetWriter writer(schema, WriterOptions{}, [](std::string_view) {}); },
                {"num_children"});
}

}  // namespace
}  // namespace dkdata::internal::parquet
