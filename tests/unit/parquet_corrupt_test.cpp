// The Parquet reader on damaged files: every kind of damage is a dkdata::Error (kInvalidArgument,
// or kUnsupported for what the format allows but the reader does not) whose message names the
// file and, for damage inside a column chunk, the row group, the column and the page with its
// byte offset; never a crash, and never an allocation sized by the damage.
//
// The files start from tests/parquet/data/tiny_pyarrow.parquet (three optional columns, id INT64,
// name STRING, score DOUBLE; 5 rows; SNAPPY; a dictionary page and a v1 data page per column; see
// parquet_metadata_test.cpp for how pyarrow wrote it), taken apart into pages (PageFile), damaged,
// and put back together with the offsets and sizes of the footer recomputed, so that each test
// damages exactly one thing. tests/parquet/data/tiny_crc_pyarrow.parquet is the same table with
// page checksums (pyarrow 21: write_page_checksum=True, store_schema=False);
// tiny_list_v2_pyarrow.parquet has a list<float> column and an INT32 one in data pages v2 (pyarrow
// 21: vec [[1, 2], None, [], [3.5, None, 4]], n [10, 20, 30, 40]; ZSTD, store_schema=False).
//
// Inputs the fuzzer (tests/fuzz/) found are regression cases here too.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"
#include "formats/parquet/parquet_codecs.hpp"
#include "formats/parquet/parquet_column.hpp"
#include "formats/parquet/parquet_encodings.hpp"
#include "formats/parquet/parquet_metadata.hpp"
#include "formats/parquet/parquet_reader.hpp"
#include "formats/parquet/parquet_records.hpp"
#include "formats/parquet/thrift_compact.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

constexpr std::string_view kName = "damaged.parquet";
constexpr std::int32_t kInt32Max = std::numeric_limits<std::int32_t>::max();

std::string ReadTestFile(const std::string& relative) {
  const std::string path = std::string(DKDATA_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string& TinyFile() {
  static const std::string bytes = ReadTestFile("tests/parquet/data/tiny_pyarrow.parquet");
  return bytes;
}

std::uint32_t LittleEndian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

void AppendLittleEndian32(std::uint32_t value, std::string& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// The file as records, as ReadParquet reads it.
void ReadRecords(const ParquetFileReader& reader) {
  RecordReadOptions options;
  options.threads = 1;
  ReadParquetRecords(reader, options, [](Record&) {});
}

// Everything the reader does with a file: the footer, every column chunk, then the records.
void ReadAll(const std::string& bytes) {
  const ParquetFileReader reader = ParquetFileReader::FromBytes(bytes, std::string(kName));
  ColumnData column;
  for (std::size_t group = 0; group < reader.metadata().row_groups.size(); ++group) {
    for (std::size_t leaf = 0; leaf < reader.leaves().size(); ++leaf) {
      reader.ReadColumnChunk(group, leaf, column);
    }
  }
  ReadRecords(reader);
}

// The file as decoded rows (what ReadParquetTable holds): every record built at random access
// (last to first), then all in order.
void ReadAsDecodedRows(const ParquetFileReader& reader) {
  RecordReadOptions options;
  options.threads = 1;
  const DecodedRows rows(reader, options);
  Record record;
  for (std::size_t row = rows.size(); row-- > 0;) rows.RecordAt(row, record);
  rows.ForEach(1, [](Record&) {});
}

// The code and message of the error that reading the file with read throws ("" when none).
std::string ErrorOf(const std::string& bytes, void (*read)(const ParquetFileReader&)) {
  try {
    read(ParquetFileReader::FromBytes(bytes, std::string(kName)));
  } catch (const Error& error) {
    return std::to_string(static_cast<int>(error.code())) + ": " + error.what();
  }
  return "";
}

// Reads bytes, expecting Error(code) whose message contains every one of parts; decoded rows
// must fail exactly as the records read does.
void ExpectError(const std::string& bytes, ErrorCode code,
                 std::initializer_list<std::string_view> parts) {
  testsupport::ExpectError([&] { ReadAll(bytes); }, code, parts);
  EXPECT_EQ(ErrorOf(bytes, ReadAsDecodedRows), ErrorOf(bytes, ReadRecords));
}

void ExpectInvalid(const std::string& bytes, std::initializer_list<std::string_view> parts) {
  ExpectError(bytes, ErrorCode::kInvalidArgument, parts);
}

// ---------------------------------------------------------------------------------------------
// A file taken apart into pages
// ---------------------------------------------------------------------------------------------

struct Page {
  PageHeader header;
  std::string body;          // as stored (compressed)
  std::uint64_t offset = 0;  // of the header, set by PageFile::Assemble()
};

struct PageFile {
  FileMetaData metadata;
  std::vector<std::vector<std::vector<Page>>> pages;  // [row group][column][page]

  ColumnMetaData& meta(std::size_t group, std::size_t column) {
    return *metadata.row_groups[group].columns[column].meta_data;
  }
  Page& page(std::size_t group, std::size_t column, std::size_t page) {
    return pages[group][column][page];
  }

  // The file: "PAR1", the pages as they are now (headers written as they are, sizes included),
  // the footer with each chunk's offsets and total sizes recomputed and then damage_footer
  // applied to it, its length, "PAR1". Sets every page's offset.
  std::string Assemble(const std::function<void(FileMetaData&)>& damage_footer = {}) {
    std::string out(kParquetMagic);
    for (std::size_t g = 0; g < pages.size(); ++g) {
      RowGroup& group = metadata.row_groups[g];
      group.file_offset = static_cast<std::int64_t>(out.size());
      for (std::size_t c = 0; c < pages[g].size(); ++c) {
        ColumnMetaData& chunk = meta(g, c);
        const std::uint64_t start = out.size();
        chunk.dictionary_page_offset.reset();
        std::int64_t uncompressed = 0;
        bool data_page_seen = false;
        for (Page& p : pages[g][c]) {
          p.offset = out.size();
          if (p.header.type == PageType::kDictionaryPage && !data_page_seen) {
            chunk.dictionary_page_offset = static_cast<std::int64_t>(p.offset);
          } else if (!data_page_seen) {
            chunk.data_page_offset = static_cast<std::int64_t>(p.offset);
            data_page_seen = true;
          }
          CompactWriter header;
          Encode(p.header, header);
          out += header.bytes();
          out += p.body;
          uncompressed +=
              static_cast<std::int64_t>(header.bytes().size()) + p.header.uncompressed_page_size;
        }
        chunk.total_compressed_size = static_cast<std::int64_t>(out.size() - start);
        chunk.total_uncompressed_size = uncompressed;
        group.columns[c].file_offset = static_cast<std::int64_t>(start);
      }
      group.total_compressed_size = static_cast<std::int64_t>(out.size()) - *group.file_offset;
    }
    FileMetaData footer_metadata = metadata;
    if (damage_footer) damage_footer(footer_metadata);
    CompactWriter footer;
    Encode(footer_metadata, footer);
    out += footer.bytes();
    AppendLittleEndian32(static_cast<std::uint32_t>(footer.bytes().size()), out);
    out += kParquetMagic;
    return out;
  }
};

PageFile TakeApart(const std::string& bytes) {
  PageFile file;
  file.metadata = ReadFooter(bytes, kName);
  for (std::size_t g = 0; g < file.metadata.row_groups.size(); ++g) {
    auto& group = file.pages.emplace_back();
    for (std::size_t c = 0; c < file.metadata.row_groups[g].columns.size(); ++c) {
      const ColumnMetaData& meta = file.meta(g, c);
      std::uint64_t position = static_cast<std::uint64_t>(meta.data_page_offset);
      if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0) {
        position = std::min(position, static_cast<std::uint64_t>(*meta.dictionary_page_offset));
      }
      const std::uint64_t end = position + static_cast<std::uint64_t>(meta.total_compressed_size);
      auto& chunk = group.emplace_back();
      while (position < end) {
        CompactReader reader(std::string_view(bytes).substr(position, end - position), "test",
                             position);
        Page page;
        page.header = DecodePageHeader(reader);
        page.body = bytes.substr(position + reader.position(),
                                 static_cast<std::size_t>(page.header.compressed_page_size));
        position += reader.position() + page.body.size();
        chunk.push_back(std::move(page));
      }
    }
  }
  return file;
}

// The page's body uncompressed (the whole body: tiny_pyarrow's pages are v1).
std::string Uncompressed(const Page& page, CompressionCodec codec) {
  std::string out;
  Decompress(codec, page.body, static_cast<std::size_t>(page.header.uncompressed_page_size), "test",
             out);
  return out;
}

// Replaces the page's body with raw compressed with codec, and its sizes with the new ones.
void SetBody(Page& page, CompressionCodec codec, std::string_view raw) {
  page.body.clear();
  Compress(codec, raw, 0, page.body);
  page.header.uncompressed_page_size = static_cast<std::int32_t>(raw.size());
  page.header.compressed_page_size = static_cast<std::int32_t>(page.body.size());
}

// Recompresses every page of the file with codec.
void Recompress(PageFile& file, CompressionCodec codec) {
  for (std::size_t g = 0; g < file.pages.size(); ++g) {
    for (std::size_t c = 0; c < file.pages[g].size(); ++c) {
      const CompressionCodec old = file.meta(g, c).codec;
      for (Page& page : file.pages[g][c]) SetBody(page, codec, Uncompressed(page, old));
      file.meta(g, c).codec = codec;
    }
  }
}

// "page 1 (byte 123)": how errors name a page.
std::string PageAt(const PageFile& file, std::size_t group, std::size_t column, std::size_t page) {
  return "page " + std::to_string(page) + " (byte " +
         std::to_string(file.pages[group][column][page].offset) + ")";
}

// The v1 definition levels of n present values of an optional column (max level 1).
std::string AllPresentLevels(std::size_t n) {
  std::string out;
  const std::vector<std::uint32_t> levels(n, 1);
  EncodeRleHybridWithLength(levels, 1, out);
  return out;
}

// The column indexes of tiny_pyarrow.parquet.
constexpr std::size_t kId = 0;
constexpr std::size_t kNameColumn = 1;
constexpr std::size_t kDictionaryPage = 0;
constexpr std::size_t kDataPage = 1;

// ---------------------------------------------------------------------------------------------
// The harness itself
// ---------------------------------------------------------------------------------------------

TEST(ParquetCorruptTest, TakenApartAndAssembledAgainReadsTheSameValues) {
  PageFile file = TakeApart(TinyFile());
  ASSERT_EQ(file.pages.size(), 1u);
  ASSERT_EQ(file.pages[0].size(), 3u);
  for (const auto& chunk : file.pages[0]) {
    ASSERT_EQ(chunk.size(), 2u);
    EXPECT_EQ(chunk[kDictionaryPage].header.type, PageType::kDictionaryPage);
    EXPECT_EQ(chunk[kDataPage].header.type, PageType::kDataPage);
  }
  const std::string bytes = file.Assemble();
  ASSERT_NO_THROW(ReadAll(bytes));
  const ParquetFileReader reader = ParquetFileReader::FromBytes(bytes, std::string(kName));
  ColumnData id;
  reader.ReadColumnChunk(0, kId, id);
  EXPECT_EQ(id.int64s, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  ColumnData name;
  reader.ReadColumnChunk(0, kNameColumn, name);
  EXPECT_EQ(name.byte_arrays, (std::vector<std::string_view>{"ann", "bob", "dee", "eve"}));
  EXPECT_EQ(name.definition_levels, (std::vector<std::uint32_t>{1, 1, 0, 1, 1}));

  // The same after recompressing with every codec this build has.
  for (CompressionCodec codec : {CompressionCodec::kUncompressed, CompressionCodec::kGzip,
                                 CompressionCodec::kZstd, CompressionCodec::kLz4Raw}) {
    if (!CodecAvailable(codec)) continue;
    PageFile copy = TakeApart(TinyFile());
    Recompress(copy, codec);
    const ParquetFileReader again = ParquetFileReader::FromBytes(copy.Assemble(), "copy");
    again.ReadColumnChunk(0, kId, id);
    EXPECT_EQ(id.int64s, (std::vector<std::int64_t>{1, 2, 3, 4, 5})) << CompressionCodecName(codec);
  }
}

// ---------------------------------------------------------------------------------------------
// The frame and the footer
// ---------------------------------------------------------------------------------------------

TEST(ParquetCorruptTest, TruncatedFileNamesTheFile) {
  const std::string& file = TinyFile();
  for (std::size_t size : {std::size_t{0}, std::size_t{3}, std::size_t{11}, file.size() / 2,
                           file.size() - 9, file.size() - 5, file.size() - 1}) {
    SCOPED_TRACE(size);
    ExpectInvalid(file.substr(0, size), {kName});
  }
  ExpectInvalid(file.substr(0, file.size() - 1), {kName, "does not end with the Parquet magic"});
  ExpectInvalid(file.substr(0, 8), {kName, "too small to be Parquet"});
}

TEST(ParquetCorruptTest, TruncatedFooter) {
  // The frame is intact but the footer's Thrift bytes stop halfway: the length says so.
  const std::string& file = TinyFile();
  const std::uint32_t length = LittleEndian32(std::string_view(file).substr(file.size() - 8));
  const std::size_t footer_start = file.size() - 8 - length;
  const std::uint32_t half = length / 2;
  std::string cut = file.substr(0, footer_start + half);
  AppendLittleEndian32(half, cut);
  cut += kParquetMagic;
  ExpectInvalid(cut, {kName, "footer"});
}

TEST(ParquetCorruptTest, WrongMagicAtEitherEnd) {
  std::string head = TinyFile();
  head[0] = 'X';
  ExpectInvalid(head, {kName, "does not start with the Parquet magic"});
  std::string tail = TinyFile();
  tail[tail.size() - 1] = 'X';
  ExpectInvalid(tail, {kName, "does not end with the Parquet magic"});
  // "PARE" is an encrypted footer: a real format, not one the reader supports.
  tail[tail.size() - 1] = 'E';
  ExpectError(tail, ErrorCode::kUnsupported, {kName, "encrypted footer"});
}

TEST(ParquetCorruptTest, FooterLengthPastTheStartOfTheFile) {
  const std::string& good = TinyFile();
  const auto size = static_cast<std::uint32_t>(good.size());
  for (std::uint32_t length : {size - 11, size, std::uint32_t{0xffffffff}}) {
    std::string file = good.substr(0, good.size() - 8);
    AppendLittleEndian32(length, file);
    file += kParquetMagic;
    ExpectInvalid(file, {kName, "footer length " + std::to_string(length) +
                                    " is past the start of the file"});
  }
}

TEST(ParquetCorruptTest, ColumnChunkPastTheFooter) {
  PageFile file = TakeApart(TinyFile());
  const std::string bytes = file.Assemble([](FileMetaData& metadata) {
    metadata.row_groups[0].columns[kNameColumn].meta_data->total_compressed_size = 1 << 20;
  });
  ExpectInvalid(bytes, {kName, "row group 0, column 'name'", "runs past the footer"});
}

// ---------------------------------------------------------------------------------------------
// Page headers
// ---------------------------------------------------------------------------------------------

TEST(ParquetCorruptTest, PageSizePastTheEndOfTheChunk) {
  for (std::size_t page : {kDictionaryPage, kDataPage}) {
    SCOPED_TRACE(page);
    PageFile file = TakeApart(TinyFile());
    file.page(0, kNameColumn, page).header.compressed_page_size += 1000;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'name', " + PageAt(file, 0, kNameColumn, page),
                   "is past the end of the column chunk"});
  }
  PageFile file = TakeApart(TinyFile());
  file.page(0, kId, kDataPage).header.compressed_page_size = -1;
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes,
                {kName, "column 'id', " + PageAt(file, 0, kId, kDataPage), "negative page size"});
}

TEST(ParquetCorruptTest, AbsurdUncompressedSize) {
  // 2^31-1 bytes from a dozen compressed ones: refused before anything is allocated.
  for (std::size_t page : {kDictionaryPage, kDataPage}) {
    SCOPED_TRACE(page);
    PageFile file = TakeApart(TinyFile());
    Page& damaged = file.page(0, kId, page);
    damaged.header.uncompressed_page_size = kInt32Max;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "row group 0, column 'id', " + PageAt(file, 0, kId, page),
                          "uncompressed page size 2147483647 is implausible for " +
                              std::to_string(damaged.body.size()) + " compressed bytes"});
  }
  // A plausible size that is not the real one: the codec says so.
  PageFile file = TakeApart(TinyFile());
  file.page(0, kId, kDataPage).header.uncompressed_page_size += 1;
  std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "column 'id', " + PageAt(file, 0, kId, kDataPage), "SNAPPY"});
  // Without compression the stored size must be the uncompressed size.
  PageFile plain = TakeApart(TinyFile());
  Recompress(plain, CompressionCodec::kUncompressed);
  plain.page(0, kNameColumn, kDataPage).header.uncompressed_page_size = kInt32Max;
  bytes = plain.Assemble();
  ExpectInvalid(bytes, {kName, "column 'name', " + PageAt(plain, 0, kNameColumn, kDataPage),
                        "says it has 2147483647"});
}

TEST(ParquetCorruptTest, AbsurdNumValuesInPageHeader) {
  {
    PageFile file = TakeApart(TinyFile());
    file.page(0, kId, kDataPage).header.data_page_header->num_values = kInt32Max;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'id', " + PageAt(file, 0, kId, kDataPage),
                   "page holds 2147483647 values, but only 5 of the column chunk's are left"});
  }
  {
    PageFile file = TakeApart(TinyFile());
    file.page(0, kId, kDataPage).header.data_page_header->num_values = -3;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, PageAt(file, 0, kId, kDataPage), "negative value count"});
  }
  {
    // A dictionary of 2^31-1 values in 40 bytes.
    PageFile file = TakeApart(TinyFile());
    file.page(0, kId, kDictionaryPage).header.dictionary_page_header->num_values = kInt32Max;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "column 'id', " + PageAt(file, 0, kId, kDictionaryPage)});
  }
  {
    PageFile file = TakeApart(TinyFile());
    file.page(0, kId, kDictionaryPage).header.dictionary_page_header->num_values = -1;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes,
                  {kName, PageAt(file, 0, kId, kDictionaryPage), "negative dictionary size"});
  }
}

TEST(ParquetCorruptTest, AbsurdNumValuesInColumnMetaData) {
  {
    // More values than the pages hold: the chunk ends first.
    PageFile file = TakeApart(TinyFile());
    file.meta(0, kNameColumn).num_values = 1000;
    const std::string bytes = file.Assemble();
    // Page 2 would start where the next column's chunk does.
    const std::uint64_t end = file.page(0, kNameColumn + 1, 0).offset;
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'name', page 2 (byte " + std::to_string(end) + ")",
                   "the column chunk ends after 5 of its 1000 values"});
  }
  {
    // More than any chunk the reader holds in memory.
    PageFile file = TakeApart(TinyFile());
    file.meta(0, kNameColumn).num_values = std::int64_t{1} << 62;
    const std::string bytes = file.Assemble();
    ExpectError(bytes, ErrorCode::kUnsupported,
                {kName, "row group 0, column 'name'",
                 "4611686018427387904 values is above the reader's limit of " +
                     std::to_string(kMaxChunkValues)});
  }
  {
    // Fewer values than the row group's rows: refused with the footer.
    PageFile file = TakeApart(TinyFile());
    file.meta(0, kNameColumn).num_values = 3;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'name'", "3 values for the row group's 5 rows"});
  }
  {
    // A data page with more values than the chunk declares: a list column's 4 rows hold 7 values;
    // the chunk says 5.
    PageFile file = TakeApart(ReadTestFile("tests/parquet/data/tiny_list_v2_pyarrow.parquet"));
    file.meta(0, 0).num_values = 5;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "row group 0, column 'vec.list.element', " + PageAt(file, 0, 0, 1),
                          "page holds 7 values, but only 5 of the column chunk's are left"});
  }
  {
    // Values that disagree with the row group's rows.
    PageFile file = TakeApart(TinyFile());
    file.metadata.row_groups[0].num_rows = 7;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'id'", "5 values for the row group's 7 rows"});
    // Refused with the footer, so that a projection reading no chunk gets no rows from nowhere.
    EXPECT_THROW(ParquetFileReader::FromBytes(bytes, "x"), Error);
  }
  {
    PageFile file = TakeApart(TinyFile());
    file.metadata.row_groups[0].num_rows = 3;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "row group 0, column 'id'", "holds 5 values, the row group 3"});
  }
  {
    PageFile file = TakeApart(TinyFile());
    file.meta(0, kId).num_values = -1;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "row group 0, column 'id'", "negative num_values"});
  }
}

// Counts that agree with each other: a few bytes of RLE stand for 2^31-1 nulls. Decoding them
// would allocate 8 GiB of levels (and as much again for the chunk's copy); the reader refuses
// before allocating (before kMaxChunkValues it did allocate them).
TEST(ParquetCorruptTest, AbsurdButConsistentCountsAllocateNothingHuge) {
  PageFile file = TakeApart(TinyFile());
  const CompressionCodec codec = file.meta(0, kId).codec;
  file.metadata.num_rows = kInt32Max;
  file.metadata.row_groups[0].num_rows = kInt32Max;
  for (std::size_t c = 0; c < 3; ++c) file.meta(0, c).num_values = kInt32Max;
  Page& page = file.page(0, kId, kDataPage);
  page.header.data_page_header->num_values = kInt32Max;
  // The definition levels: one RLE run of 2^31-1 zeros (bit width 1), behind its u32 length; no
  // values follow (every slot is null).
  CompactWriter run;
  run.WriteVarint(static_cast<std::uint64_t>(kInt32Max) << 1);
  run.WriteI8(0);
  std::string raw;
  AppendLittleEndian32(static_cast<std::uint32_t>(run.bytes().size()), raw);
  raw += run.bytes();
  SetBody(page, codec, raw);
  const std::string bytes = file.Assemble();
  ExpectError(bytes, ErrorCode::kUnsupported,
              {kName, "row group 0, column 'id'", "2147483647 values is above the reader's limit"});
  // The same page within a chunk of 5 values: the page's count is checked before its levels.
  file.metadata.num_rows = 5;
  file.metadata.row_groups[0].num_rows = 5;
  for (std::size_t c = 0; c < 3; ++c) file.meta(0, c).num_values = 5;
  const std::string small = file.Assemble();
  ExpectInvalid(small, {kName, "row group 0, column 'id', " + PageAt(file, 0, kId, kDataPage),
                        "page holds 2147483647 values, but only 5"});
}

// Found while fuzzing (a libFuzzer timeout): 49 bytes of footer without columns claimed 2^40
// rows, and ReadParquetRecords emitted 2^40 empty records (a sink that keeps them, as the file
// backend does, runs out of memory).
TEST(ParquetCorruptTest, RowsWithoutColumns) {
  PageFile file = TakeApart(TinyFile());
  file.metadata.schema.resize(1);
  file.metadata.schema[0].num_children = 0;
  file.metadata.column_orders.clear();
  file.metadata.row_groups[0].columns.clear();
  file.pages[0].clear();
  file.metadata.num_rows = std::int64_t{1} << 40;
  file.metadata.row_groups[0].num_rows = std::int64_t{1} << 40;
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "row group 0 has 1099511627776 rows but the schema has no columns"});
  // No columns and no rows is a file (pyarrow writes a table without columns so).
  file.metadata.num_rows = 0;
  file.metadata.row_groups[0].num_rows = 0;
  EXPECT_NO_THROW(ReadAll(file.Assemble()));
}

TEST(ParquetCorruptTest, BadCodecId) {
  for (std::int32_t id : {42, -1}) {
    PageFile file = TakeApart(TinyFile());
    file.meta(0, kNameColumn).codec = static_cast<CompressionCodec>(id);
    const std::string bytes = file.Assemble();
    ExpectError(bytes, ErrorCode::kUnsupported,
                {kName, "row group 0, column 'name', " + PageAt(file, 0, kNameColumn, 0),
                 "CompressionCodec(" + std::to_string(id) + ")"});
  }
  PageFile file = TakeApart(TinyFile());
  file.meta(0, kId).codec = CompressionCodec::kBrotli;
  const std::string bytes = file.Assemble();
  ExpectError(bytes, ErrorCode::kUnsupported, {kName, "column 'id', page 0", "BROTLI"});
}

// ---------------------------------------------------------------------------------------------
// Page bodies
// ---------------------------------------------------------------------------------------------

TEST(ParquetCorruptTest, DictionaryIndexPastTheDictionary) {
  PageFile file = TakeApart(TinyFile());
  const CompressionCodec codec = file.meta(0, kId).codec;
  // Five present values; indices 0, 1, 2, 3, 6 (bit width 3) into the 5-value dictionary.
  std::string raw = AllPresentLevels(5);
  raw.push_back(3);
  EncodeRleHybrid(std::vector<std::uint32_t>{0, 1, 2, 3, 6}, 3, raw);
  SetBody(file.page(0, kId, kDataPage), codec, raw);
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "row group 0, column 'id', " + PageAt(file, 0, kId, kDataPage),
                        "dictionary index 6 is not below the dictionary size 5"});

  // The same through a dictionary cut down to 2 values.
  PageFile small = TakeApart(TinyFile());
  Page& dictionary = small.page(0, kId, kDictionaryPage);
  SetBody(dictionary, codec, Uncompressed(dictionary, codec).substr(0, 16));
  dictionary.header.dictionary_page_header->num_values = 2;
  const std::string small_bytes = small.Assemble();
  ExpectInvalid(small_bytes, {kName, "column 'id', " + PageAt(small, 0, kId, kDataPage),
                              "is not below the dictionary size 2"});
}

TEST(ParquetCorruptTest, DeltaBinaryPackedWithAHugeCount) {
  PageFile file = TakeApart(TinyFile());
  const CompressionCodec codec = file.meta(0, kId).codec;
  // Block size 128, 4 miniblocks, 2^62 values, first value 1 (zigzag 2).
  std::string raw = AllPresentLevels(5);
  CompactWriter header;
  header.WriteVarint(128);
  header.WriteVarint(4);
  header.WriteVarint(std::uint64_t{1} << 62);
  header.WriteVarint(2);
  raw += header.bytes();
  Page& page = file.page(0, kId, kDataPage);
  SetBody(page, codec, raw);
  page.header.data_page_header->encoding = Encoding::kDeltaBinaryPacked;
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "row group 0, column 'id', " + PageAt(file, 0, kId, kDataPage),
                        "DELTA_BINARY_PACKED", "4611686018427387904"});
}

TEST(ParquetCorruptTest, DefinitionLevelsPastThePage) {
  PageFile file = TakeApart(TinyFile());
  const CompressionCodec codec = file.meta(0, kNameColumn).codec;
  // A length prefix of 1000 bytes in a page of a dozen.
  std::string raw = Uncompressed(file.page(0, kNameColumn, kDataPage), codec);
  raw[0] = static_cast<char>(0xe8);
  raw[1] = 0x03;
  SetBody(file.page(0, kNameColumn, kDataPage), codec, raw);
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "column 'name', " + PageAt(file, 0, kNameColumn, kDataPage),
                        "length 1000 is past the end"});
}

TEST(ParquetCorruptTest, TruncatedCompressedData) {
  for (CompressionCodec codec : {CompressionCodec::kSnappy, CompressionCodec::kZstd,
                                 CompressionCodec::kGzip, CompressionCodec::kLz4Raw}) {
    if (!CodecAvailable(codec)) continue;
    SCOPED_TRACE(CompressionCodecName(codec));
    for (std::size_t p : {kDictionaryPage, kDataPage}) {
      PageFile file = TakeApart(TinyFile());
      Recompress(file, codec);
      Page& page = file.page(0, kNameColumn, p);
      page.body.resize(page.body.size() / 2);
      page.header.compressed_page_size = static_cast<std::int32_t>(page.body.size());
      const std::string bytes = file.Assemble();
      ExpectInvalid(bytes, {kName, "row group 0, column 'name', " + PageAt(file, 0, kNameColumn, p),
                            CompressionCodecName(codec)});
    }
  }
}

// tests/parquet/data/tiny_list_v2_pyarrow.parquet: a list column, levels in data pages v2.
TEST(ParquetCorruptTest, ListColumnInDataPagesV2) {
  const std::string list_file = ReadTestFile("tests/parquet/data/tiny_list_v2_pyarrow.parquet");
  ASSERT_NO_THROW(ReadAll(list_file));
  constexpr std::size_t kVec = 0;
  {
    PageFile file = TakeApart(list_file);
    ASSERT_TRUE(file.page(0, kVec, kDataPage).header.data_page_header_v2);
    EXPECT_NO_THROW(ReadAll(file.Assemble()));
  }
  {
    PageFile file = TakeApart(list_file);
    file.page(0, kVec, kDataPage).header.data_page_header_v2->repetition_levels_byte_length = 100;
    const std::string bytes = file.Assemble();
    ExpectInvalid(
        bytes,
        {kName, "row group 0, column 'vec.list.element', " + PageAt(file, 0, kVec, kDataPage),
         "level byte lengths are past the end of the page"});
  }
  {
    PageFile file = TakeApart(list_file);
    file.page(0, kVec, kDataPage).header.data_page_header_v2->definition_levels_byte_length = -1;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, PageAt(file, 0, kVec, kDataPage), "negative level byte length"});
  }
  {
    // Repetition levels all 1 (one RLE run of 7): the first value continues a row before it.
    PageFile file = TakeApart(list_file);
    Page& page = file.page(0, kVec, kDataPage);
    ASSERT_EQ(page.header.data_page_header_v2->repetition_levels_byte_length, 2);
    page.body[0] = 7 << 1;
    page.body[1] = 1;
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, PageAt(file, 0, kVec, kDataPage),
                          "the column chunk's first value does not start a row"});
  }
  {
    PageFile file = TakeApart(list_file);
    file.metadata.row_groups[0].num_rows = 3;
    const std::string bytes = file.Assemble();
    ExpectInvalid(
        bytes, {kName, "row group 0, column 'vec.list.element'", "holds 4 rows, the row group 3"});
  }
}

TEST(ParquetCorruptTest, CrcMismatch) {
  // pyarrow's checksums are the ones the reader computes.
  const std::string crc_file = ReadTestFile("tests/parquet/data/tiny_crc_pyarrow.parquet");
  PageFile file = TakeApart(crc_file);
  for (const auto& chunk : file.pages[0]) {
    for (const Page& page : chunk) ASSERT_TRUE(page.header.crc) << "no CRC in the test file";
  }
  ASSERT_NO_THROW(ReadAll(crc_file));
  EXPECT_NO_THROW(ReadAll(file.Assemble()));

  // One flipped bit in a page's stored bytes.
  for (std::size_t p : {kDictionaryPage, kDataPage}) {
    PageFile damaged = TakeApart(crc_file);
    damaged.page(0, kNameColumn, p).body[3] ^= 0x10;
    const std::string bytes = damaged.Assemble();
    ExpectInvalid(bytes,
                  {kName, "row group 0, column 'name', " + PageAt(damaged, 0, kNameColumn, p),
                   "page checksum (CRC-32) does not match"});
  }
  // A wrong checksum over the right bytes.
  PageFile wrong = TakeApart(crc_file);
  *wrong.page(0, kId, kDataPage).header.crc += 1;
  const std::string bytes = wrong.Assemble();
  ExpectInvalid(bytes, {kName, "column 'id', " + PageAt(wrong, 0, kId, kDataPage),
                        "page checksum (CRC-32) does not match"});
}

// ---------------------------------------------------------------------------------------------
// Values that do not convert (ReadParquetRecords)
// ---------------------------------------------------------------------------------------------

// Replaces the values of the chunk's dictionary page (PLAIN, count values) with raw.
void SetDictionary(PageFile& file, std::size_t column, std::string_view raw, std::int32_t count) {
  Page& page = file.page(0, column, kDictionaryPage);
  SetBody(page, file.meta(0, column).codec, raw);
  page.header.dictionary_page_header->num_values = count;
}

// Found by the fuzzer: a DATE of 1380055538 days overflowed int64 microseconds (UBSan: signed
// integer overflow in ConvertValue).
TEST(ParquetCorruptTest, DateOutOfRange) {
  PageFile file = TakeApart(ReadTestFile("tests/parquet/data/tiny_list_v2_pyarrow.parquet"));
  constexpr std::size_t kN = 1;  // INT32, 10 20 30 40 in a dictionary
  SchemaElement& element = file.metadata.schema.back();
  ASSERT_EQ(element.name, "n");
  element.logical_type = LogicalType{.kind = LogicalTypeKind::kDate};
  element.converted_type = ConvertedType::kDate;
  file.meta(0, kN).statistics.reset();
  std::string raw;
  EncodePlainInt32(std::vector<std::int32_t>{1380055538, 20, 30, 40}, raw);
  SetDictionary(file, kN, raw, 4);
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "row group 0, column 'n', row 0", "date out of range"});

  // The last days that fit are dates.
  raw.clear();
  const std::int32_t last =
      static_cast<std::int32_t>(std::numeric_limits<std::int64_t>::max() / 86'400'000'000);
  EncodePlainInt32(std::vector<std::int32_t>{last, -last, 0, 1}, raw);
  SetDictionary(file, kN, raw, 4);
  EXPECT_NO_THROW(ReadAll(file.Assemble()));
}

TEST(ParquetCorruptTest, Int96TimestampOutOfRange) {
  // tiny_pyarrow's id column (5 dictionary values) made INT96: 12 bytes a value, the Julian day
  // in the last 4.
  PageFile file = TakeApart(TinyFile());
  file.metadata.schema[1].type = Type::kInt96;
  file.meta(0, kId).type = Type::kInt96;
  file.meta(0, kId).statistics.reset();
  std::string raw(5 * 12, '\0');
  for (int i = 0; i < 5; ++i) raw[static_cast<std::size_t>(i) * 12 + 10] = 0x25;  // day 2424832
  for (int b = 0; b < 4; ++b) raw[8 + static_cast<std::size_t>(b)] = static_cast<char>(0xff);
  SetDictionary(file, kId, raw, 5);
  const std::string bytes = file.Assemble();
  ExpectInvalid(bytes, {kName, "row group 0, column 'id', row 0", "INT96 timestamp out of range"});
}

TEST(ParquetCorruptTest, DecimalScaleOutsideItsPrecision) {
  // A scale pads values with zeros: 2^31-1 of them would be a 2 GiB string per value.
  for (std::int32_t scale : {kInt32Max, std::numeric_limits<std::int32_t>::min(), 19}) {
    SCOPED_TRACE(scale);
    PageFile file = TakeApart(TinyFile());
    file.metadata.schema[1].logical_type = LogicalType{
        .kind = LogicalTypeKind::kDecimal, .decimal_scale = scale, .decimal_precision = 18};
    const std::string bytes = file.Assemble();
    ExpectInvalid(bytes, {kName, "column 'id'",
                          "DECIMAL scale " + std::to_string(scale) + " is outside 0..18"});
  }
  // The same through the converted type.
  PageFile converted = TakeApart(TinyFile());
  SchemaElement& element = converted.metadata.schema[1];
  element.converted_type = ConvertedType::kDecimal;
  element.precision = 10;
  element.scale = kInt32Max;
  ExpectInvalid(converted.Assemble(), {kName, "column 'id'", "DECIMAL scale 2147483647"});
  // A precision beyond Decimal256's.
  PageFile wide = TakeApart(TinyFile());
  wide.metadata.schema[1].logical_type = LogicalType{
      .kind = LogicalTypeKind::kDecimal, .decimal_scale = 2, .decimal_precision = kInt32Max};
  ExpectError(wide.Assemble(), ErrorCode::kUnsupported,
              {kName, "column 'id'", "DECIMAL(2147483647) above 76 digits"});
  // DECIMAL(18, 18) is a decimal.
  PageFile valid = TakeApart(TinyFile());
  valid.metadata.schema[1].logical_type =
      LogicalType{.kind = LogicalTypeKind::kDecimal, .decimal_scale = 18, .decimal_precision = 18};
  EXPECT_NO_THROW(ReadAll(valid.Assemble()));
}

TEST(ParquetCorruptTest, TimeAtTheEndsOfInt64) {
  // TIME(MICROS) and TIME(NANOS) of -2^63 and 2^63-1 microseconds: absurd, but text, not an
  // overflow (TimeText's fraction once overflowed for these; UBSan builds check it).
  for (TimeUnit unit : {TimeUnit::kMicros, TimeUnit::kNanos}) {
    PageFile file = TakeApart(TinyFile());
    file.metadata.schema[1].logical_type =
        LogicalType{.kind = LogicalTypeKind::kTime, .unit = unit};
    file.meta(0, kId).statistics.reset();
    std::string raw;
    EncodePlainInt64(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                               std::numeric_limits<std::int64_t>::max(), -1, 0, 1},
                     raw);
    SetDictionary(file, kId, raw, 5);
    EXPECT_NO_THROW(ReadAll(file.Assemble()));
  }
}

}  // namespace
}  // namespace dkdata::internal::parquet
