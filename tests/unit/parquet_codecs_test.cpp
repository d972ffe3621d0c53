// Tests of Parquet's page codecs: round trips of every codec over empty, small, random and
// compressible data; a page header size other than what the block yields (an Error naming the
// context and codec); every truncation and many byte flips of every codec's blocks (Errors, never
// crashes); several gzip members and zstd frames; blocks written by pyarrow and the zstd tool; the
// pages of a real pyarrow file; the unsupported codecs; the CRC-32 check value.

#include "formats/parquet/parquet_codecs.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "formats/parquet/parquet_metadata.hpp"
#include "formats/parquet/thrift_compact.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

using testsupport::ExpectError;

constexpr CompressionCodec kCodecs[] = {CompressionCodec::kUncompressed, CompressionCodec::kSnappy,
                                        CompressionCodec::kGzip, CompressionCodec::kZstd,
                                        CompressionCodec::kLz4Raw};

constexpr std::string_view kContext = "t.parquet: row group 0, column x, page 3";

std::string RandomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random() & 0xFF);
  return s;
}

// Text-like bytes that every codec shrinks a lot.
std::string CompressibleBytes(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i)
    s += "row " + std::to_string(i % 1000) + ", value ok; ";
  s.resize(n);
  return s;
}

std::string Hex(std::string_view hex) {
  std::string s;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    s.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return s;
}

std::string Compressed(CompressionCodec codec, std::string_view data, int level = 0) {
  std::string out;
  Compress(codec, data, level, out);
  return out;
}

std::string Decompressed(CompressionCodec codec, std::string_view block, std::size_t size) {
  std::string out = "stale";
  Decompress(codec, block, size, kContext, out);
  return out;
}

// Decompresses bytes, which may be damaged: a dkdata::Error (kInvalidArgument) or exactly size
// bytes, never anything else. Returns whether it was an error.
bool DecompressDamaged(CompressionCodec codec, std::string_view bytes, std::size_t size) {
  std::string out;
  try {
    Decompress(codec, bytes, size, kContext, out);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_EQ(std::string_view(e.what()).substr(0, kContext.size()), kContext) << e.what();
    return true;
  }
  EXPECT_EQ(out.size(), size);
  return false;
}

class ParquetCodecTest : public testing::TestWithParam<CompressionCodec> {
 protected:
  void SetUp() override {
    if (!CodecAvailable(GetParam())) {
      GTEST_SKIP() << CompressionCodecName(GetParam()) << " is not in this build";
    }
  }
  CompressionCodec codec() const { return GetParam(); }
  std::string name() const { return CompressionCodecName(GetParam()); }
};

TEST_P(ParquetCodecTest, RoundTrips) {
  const std::vector<std::string> inputs = {
      "",
      "a",
      "hello, parquet",
      std::string(1000, 'x'),
      RandomBytes(100, 1),
      RandomBytes(1 << 20, 2),
      CompressibleBytes(1 << 20),
  };
  for (const std::string& data : inputs) {
    const std::string block = Compressed(codec(), data);
    EXPECT_EQ(Decompressed(codec(), block, data.size()), data) << name() << " " << data.size();
  }
  if (codec() != CompressionCodec::kUncompressed) {
    const std::string data = CompressibleBytes(1 << 20);
    EXPECT_LT(Compressed(codec(), data).size(), data.size() / 4) << name();
  }
}

TEST_P(ParquetCodecTest, CompressAppends) {
  std::string out = "prefix";
  Compress(codec(), "some page bytes", 0, out);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(Decompressed(codec(), std::string_view(out).substr(6), 15), "some page bytes");
}

TEST_P(ParquetCodecTest, WrongSizeIsAnErrorNamingContextAndCodec) {
  const std::string data = CompressibleBytes(1000);
  const std::string block = Compressed(codec(), data);
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, data.size() - 1, data.size() + 1, data.size() * 2}) {
    ExpectError([&] { Decompressed(codec(), block, size); }, ErrorCode::kInvalidArgument,
                {kContext, name() + ": "});
  }
  // An empty block is no bytes, and only that (parquet-java writes one for an empty v2 values
  // section).
  EXPECT_EQ(Decompressed(codec(), "", 0), "");
  ExpectError([&] { Decompressed(codec(), "", 10); }, ErrorCode::kInvalidArgument,
              {kContext, name()});
}

TEST_P(ParquetCodecTest, TruncatedBlocksAreErrors) {
  for (const std::string& data : {CompressibleBytes(3000), RandomBytes(3000, 3)}) {
    const std::string block = Compressed(codec(), data);
    for (std::size_t n = 0; n < block.size(); ++n) {
      EXPECT_TRUE(DecompressDamaged(codec(), std::string_view(block).substr(0, n), data.size()))
          << name() << ": " << n << " of " << block.size() << " bytes";
    }
  }
}

// Flipped bytes are Errors or a block of the right size (not every codec has a checksum), never a
// crash or a write out of bounds (run under the sanitizers too).
TEST_P(ParquetCodecTest, DamagedBlocksAreErrorsNeverCrashes) {
  const std::string data = CompressibleBytes(5000);
  const std::string block = Compressed(codec(), data);
  std::mt19937 random(4);
  for (std::size_t i = 0; i < block.size(); ++i) {
    for (int flip : {0x01, 0x80, 0xFF}) {
      std::string damaged = block;
      damaged[i] = static_cast<char>(damaged[i] ^ flip);
      DecompressDamaged(codec(), damaged, data.size());
    }
    std::string damaged = block;
    damaged[i] = static_cast<char>(random() & 0xFF);
    DecompressDamaged(codec(), damaged, data.size() / 2);
  }
  // Bytes after the block.
  if (codec() != CompressionCodec::kUncompressed) {
    EXPECT_TRUE(DecompressDamaged(codec(), block + "junk!", data.size())) << name();
  }
}

TEST_P(ParquetCodecTest, RandomBytesAreErrorsNeverCrashes) {
  for (std::uint32_t seed = 0; seed < 200; ++seed) {
    const std::string bytes = RandomBytes(seed % 64 + 1, seed);
    DecompressDamaged(codec(), bytes, seed % 3 == 0 ? 100 : bytes.size());
    DecompressDamaged(codec(), bytes, 1 << 16);
  }
}

INSTANTIATE_TEST_SUITE_P(ParquetCodecs, ParquetCodecTest, testing::ValuesIn(kCodecs),
                         [](const testing::TestParamInfo<CompressionCodec>& info) {
                           return CompressionCodecName(info.param);
                         });

#define SKIP_WITHOUT(codec)                                                 \
  if (!CodecAvailable(codec)) {                                             \
    GTEST_SKIP() << CompressionCodecName(codec) << " is not in this build"; \
  }

TEST(ParquetCodecGzipTest, SeveralMembersDecode) {
  SKIP_WITHOUT(CompressionCodec::kGzip);
  const std::string block = Compressed(CompressionCodec::kGzip, "hello, ") +
                            Compressed(CompressionCodec::kGzip, "") +
                            Compressed(CompressionCodec::kGzip, "world", 9);
  EXPECT_EQ(Decompressed(CompressionCodec::kGzip, block, 12), "hello, world");
  ExpectError([&] { Decompressed(CompressionCodec::kGzip, block, 11); },
              ErrorCode::kInvalidArgument, {kContext, "GZIP: ", "more than"});
  ExpectError([&] { Decompressed(CompressionCodec::kGzip, block, 13); },
              ErrorCode::kInvalidArgument, {kContext, "GZIP: ", "12 bytes"});
  // A zlib stream (not gzip) is corrupt here.
  ExpectError([&] { Decompressed(CompressionCodec::kGzip, Hex("789c4b040000620062"), 1); },
              ErrorCode::kInvalidArgument, {kContext, "GZIP: "});
}

TEST(ParquetCodecZstdTest, SeveralFramesDecode) {
  SKIP_WITHOUT(CompressionCodec::kZstd);
  const std::string block = Compressed(CompressionCodec::kZstd, "hello, ") +
                            Compressed(CompressionCodec::kZstd, "world", 19);
  EXPECT_EQ(Decompressed(CompressionCodec::kZstd, block, 12), "hello, world");
  ExpectError([&] { Decompressed(CompressionCodec::kZstd, block, 11); },
              ErrorCode::kInvalidArgument, {kContext, "ZSTD: ", "more than"});
  // A skippable frame (magic 0x184D2A50, 4 bytes of content) between them is skipped.
  const std::string skippable = Hex("502a4d1804000000") + "abcd";
  EXPECT_EQ(Decompressed(CompressionCodec::kZstd,
                         Compressed(CompressionCodec::kZstd, "hello, ") + skippable +
                             Compressed(CompressionCodec::kZstd, "world"),
                         12),
            "hello, world");
}

TEST(ParquetCodecZstdTest, FrameWithoutContentSizeDecodes) {
  SKIP_WITHOUT(CompressionCodec::kZstd);
  // printf 'parquet page parquet page parquet page ' | zstd -c: streamed, so the frame header has
  // no content size (and the frame a checksum).
  const std::string block = Hex("28b52ffd04589d00006870617271756574207061676520010060cf2febbc3baa");
  EXPECT_EQ(Decompressed(CompressionCodec::kZstd, block, 39),
            "parquet page parquet page parquet page ");
  ExpectError([&] { Decompressed(CompressionCodec::kZstd, block, 38); },
              ErrorCode::kInvalidArgument, {kContext, "ZSTD: "});
  ExpectError([&] { Decompressed(CompressionCodec::kZstd, block, 40); },
              ErrorCode::kInvalidArgument, {kContext, "ZSTD: ", "39 bytes"});
}

TEST(ParquetCodecLevelTest, LevelsInRangeRoundTrip) {
  const std::string data = CompressibleBytes(20000);
  if (CodecAvailable(CompressionCodec::kGzip)) {
    for (int level = 0; level <= 9; ++level) {
      EXPECT_EQ(Decompressed(CompressionCodec::kGzip,
                             Compressed(CompressionCodec::kGzip, data, level), data.size()),
                data)
          << level;
    }
  }
  if (CodecAvailable(CompressionCodec::kZstd)) {
    for (int level : {-100, -1, 0, 1, 3, 19, 22}) {
      EXPECT_EQ(Decompressed(CompressionCodec::kZstd,
                             Compressed(CompressionCodec::kZstd, data, level), data.size()),
                data)
          << level;
    }
  }
  // The level is ignored where the codec has none.
  for (CompressionCodec codec :
       {CompressionCodec::kUncompressed, CompressionCodec::kSnappy, CompressionCodec::kLz4Raw}) {
    if (!CodecAvailable(codec)) continue;
    EXPECT_EQ(Compressed(codec, data, 99), Compressed(codec, data, 0));
  }
}

TEST(ParquetCodecLevelTest, LevelsOutOfRangeAreErrors) {
  if (CodecAvailable(CompressionCodec::kGzip)) {
    for (int level : {-1, 10, 100}) {
      ExpectError([&] { Compressed(CompressionCodec::kGzip, "x", level); },
                  ErrorCode::kInvalidArgument, {"GZIP", std::to_string(level), "1..9"});
    }
  }
  if (CodecAvailable(CompressionCodec::kZstd)) {
    for (int level : {23, 1000, -1000000}) {
      ExpectError([&] { Compressed(CompressionCodec::kZstd, "x", level); },
                  ErrorCode::kInvalidArgument, {"ZSTD", std::to_string(level)});
    }
  }
}

TEST(ParquetCodecSupportTest, UnsupportedCodecs) {
  EXPECT_TRUE(CodecAvailable(CompressionCodec::kUncompressed));
  for (CompressionCodec codec :
       {CompressionCodec::kLzo, CompressionCodec::kBrotli, CompressionCodec::kLz4,
        static_cast<CompressionCodec>(42), static_cast<CompressionCodec>(-1)}) {
    const std::string name = CompressionCodecName(codec);
    EXPECT_FALSE(CodecAvailable(codec)) << name;
    ExpectError([&] { Decompressed(codec, "abc", 3); }, ErrorCode::kUnsupported,
                {kContext, name + ": "});
    ExpectError([&] { Decompressed(codec, "", 0); }, ErrorCode::kUnsupported, {kContext, name});
    ExpectError([&] { Compressed(codec, "abc"); }, ErrorCode::kInvalidArgument, {name});
  }
  ExpectError([&] { Decompressed(CompressionCodec::kLz4, "abc", 3); }, ErrorCode::kUnsupported,
              {"LZ4_RAW"});
}

TEST(ParquetCodecSupportTest, UncompressedSizeMustMatch) {
  EXPECT_EQ(Decompressed(CompressionCodec::kUncompressed, "abc", 3), "abc");
  ExpectError([&] { Decompressed(CompressionCodec::kUncompressed, "abc", 2); },
              ErrorCode::kInvalidArgument, {kContext, "UNCOMPRESSED: ", "3 bytes"});
  ExpectError([&] { Decompressed(CompressionCodec::kUncompressed, "abc", 4); },
              ErrorCode::kInvalidArgument, {kContext, "UNCOMPRESSED: ", "4"});
}

TEST(ParquetCodecCrcTest, CheckValue) {
  // The CRC-32/ISO-HDLC check value; PageCrc stores the unsigned value's bit pattern.
  EXPECT_EQ(PageCrc("123456789"), static_cast<std::int32_t>(0xCBF43926u));
  EXPECT_EQ(PageCrc(""), 0);
  EXPECT_EQ(PageCrc(std::string(1, '\0')), static_cast<std::int32_t>(0xD202EF8Du));
}

// ---------------------------------------------------------------------------------------------
// Blocks written by others
// ---------------------------------------------------------------------------------------------

// pyarrow 21.0.0: pa.compress(b"parquet page " * 8 + bytes(range(20)), codec=..., asbytes=True).
TEST(ParquetCodecPyarrowTest, BlocksWrittenByPyarrow) {
  std::string data;
  for (int i = 0; i < 8; ++i) data += "parquet page ";
  for (int i = 0; i < 20; ++i) data.push_back(static_cast<char>(i));
  const struct {
    CompressionCodec codec;
    std::string_view hex;
  } blocks[] = {
      {CompressionCodec::kSnappy,
       "7c3070617271756574207061676520fe0d006a0d004c000102030405060708090a0b0c0d0e0f10111213"},
      {CompressionCodec::kLz4Raw,
       "df706172717565742070616765200d0048f005000102030405060708090a0b0c0d0e0f10111213"},
      {CompressionCodec::kZstd,
       "28b52ffd207c4d0100140270617271756574207061676520000102030405060708090a0b0c0d0e0f1011121301"
       "0008d3fc02"},
      {CompressionCodec::kGzip,
       "1f8b08000000000000032b482c2a2c4d2d5128484c4f051234e330303231b3b0b2b173707271f3f0f2f10b080a"
       "0903006765e22e7c000000"},
  };
  for (const auto& block : blocks) {
    if (!CodecAvailable(block.codec)) continue;
    EXPECT_EQ(Decompressed(block.codec, Hex(block.hex), data.size()), data)
        << CompressionCodecName(block.codec);
  }
}

std::string ReadTestFile(const std::string& relative) {
  const std::string path = std::string(DKDATA_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every page of tests/parquet/data/tiny_pyarrow.parquet (SNAPPY) decompresses to its header's
// size; the id column's dictionary holds the INT64 values 1..5.
TEST(ParquetCodecPyarrowTest, PagesOfATinyFile) {
  SKIP_WITHOUT(CompressionCodec::kSnappy);
  const std::string file = ReadTestFile("tests/parquet/data/tiny_pyarrow.parquet");
  ASSERT_FALSE(file.empty());
  const FileMetaData metadata = ReadFooter(file, "tiny_pyarrow.parquet");
  int pages = 0;
  for (const ColumnChunk& chunk : metadata.row_groups.at(0).columns) {
    const ColumnMetaData& meta = chunk.meta_data.value();
    ASSERT_EQ(meta.codec, CompressionCodec::kSnappy);
    auto offset =
        static_cast<std::size_t>(meta.dictionary_page_offset.value_or(meta.data_page_offset));
    const std::size_t end = offset + static_cast<std::size_t>(meta.total_compressed_size);
    ASSERT_LE(end, file.size());
    while (offset < end) {
      CompactReader reader(std::string_view(file).substr(offset, end - offset),
                           "tiny_pyarrow.parquet", offset);
      const PageHeader header = DecodePageHeader(reader);
      offset += reader.position();
      const std::string_view body = std::string_view(file).substr(
          offset, static_cast<std::size_t>(header.compressed_page_size));
      offset += body.size();
      std::string page;
      Decompress(meta.codec, body, static_cast<std::size_t>(header.uncompressed_page_size),
                 "tiny_pyarrow.parquet: page " + std::to_string(pages), page);
      EXPECT_EQ(page.size(), static_cast<std::size_t>(header.uncompressed_page_size));
      if (header.crc) {
        EXPECT_EQ(PageCrc(body), *header.crc);
      }
      if (pages == 0) {
        ASSERT_EQ(header.type, PageType::kDictionaryPage);
        ASSERT_EQ(page.size(), 40u);
        for (std::int64_t i = 0; i < 5; ++i) {
          std::int64_t value = 0;
          std::memcpy(&value, page.data() + 8 * i, 8);  // little-endian, as the test machines
          EXPECT_EQ(value, i + 1);
        }
      }
      ++pages;
    }
    EXPECT_EQ(offset, end);
  }
  EXPECT_EQ(pages, 6);  // a dictionary page and a data page per column
}

}  // namespace
}  // namespace dkdata::internal::parquet
