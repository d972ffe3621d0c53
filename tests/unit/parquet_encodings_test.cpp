// Tests of Parquet's value and level encodings: byte vectors written by hand from the examples of
// Encodings.md, encoder→decoder round trips over random data of every type and many sizes, the
// 33-bit INT32 miniblocks DuckDB writes, bad input for every decoder (each an Error with a clear
// message, never a crash), and random and mutated bytes into every decoder (only dkdata::Error).

#include "formats/parquet/parquet_encodings.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

using testsupport::ExpectError;

using testsupport::Bytes;

EncodedBytes In(const std::string& bytes, std::uint64_t base_offset = 0) {
  return {bytes, "test", base_offset};
}

// Runs fn, expecting Error(kInvalidArgument) whose message contains every one of parts.
void ExpectInvalid(const std::function<void()>& fn, std::initializer_list<std::string_view> parts) {
  ExpectError(fn, ErrorCode::kInvalidArgument, parts);
}

// Bit-packs values LSB first (a second, plain implementation to build test vectors with).
std::string Pack(const std::vector<std::uint64_t>& values, int width) {
  std::string out((values.size() * static_cast<std::size_t>(width) + 7) / 8, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (int b = 0; b < width; ++b) {
      if ((values[i] >> b) & 1) {
        const std::size_t bit = i * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
        out[bit / 8] = static_cast<char>(out[bit / 8] | (1 << (bit % 8)));
      }
    }
  }
  return out;
}

void AppendVarint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t Zigzag(std::int64_t n) {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}

const std::vector<std::size_t> kSizes = {0, 1, 7, 8, 9, 127, 128, 129, 1000};

// ---------------------------------------------------------------------------------------------
// Vectors from the specification
// ---------------------------------------------------------------------------------------------

TEST(ParquetEncodingTest, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
  EXPECT_EQ(BitWidth(0xffffffffu), 32);
  EXPECT_EQ(BitWidth(~std::uint64_t{0}), 64);
}

TEST(ParquetEncodingTest, RleHybridSpecExample) {
  // Encodings.md: 0..7 at width 3, bit-packed: one group, header (1 << 1) | 1.
  const std::string bytes = Bytes({0x03, 0x88, 0xC6, 0xFA});
  std::vector<std::uint32_t> out;
  EXPECT_EQ(DecodeRleHybrid(In(bytes), 3, 8, out), 4u);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  std::string encoded;
  EncodeRleHybrid(out, 3, encoded);
  EXPECT_EQ(encoded, bytes);

  // Fewer values than the group holds: the padding is not read as values.
  EXPECT_EQ(DecodeRleHybrid(In(bytes), 3, 5, out), 4u);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
}

TEST(ParquetEncodingTest, RleHybridRunsAndLengthPrefix) {
  // An RLE run of 10 fours at width 3 (header 10 << 1, value in one byte), then a bit-packed
  // group 1,0,1,0,1,0,1,0 at width 1 would need another width, so: 10 x 4 then 8 x 5 at width 3.
  const std::string bare = Bytes({0x14, 0x04, 0x10, 0x05});
  std::vector<std::uint32_t> out;
  EXPECT_EQ(DecodeRleHybrid(In(bare), 3, 18, out), 4u);
  std::vector<std::uint32_t> expected(10, 4);
  expected.insert(expected.end(), 8, 5);
  EXPECT_EQ(out, expected);
  std::string encoded;
  EncodeRleHybrid(expected, 3, encoded);
  EXPECT_EQ(encoded, bare);

  // v1 page form: u32 LE length first; the decoder consumes exactly 4 + length.
  const std::string v1 = Bytes({0x04, 0x00, 0x00, 0x00}) + bare + "trailing";
  EXPECT_EQ(DecodeRleHybridWithLength(In(v1), 3, 18, out), 8u);
  EXPECT_EQ(out, expected);
  encoded.clear();
  EncodeRleHybridWithLength(expected, 3, encoded);
  EXPECT_EQ(encoded, v1.substr(0, 8));

  // Width 0: an RLE run has no value bytes.
  const std::string zero = Bytes({0x20});
  EXPECT_EQ(DecodeRleHybrid(In(zero), 0, 16, out), 1u);
  EXPECT_EQ(out, std::vector<std::uint32_t>(16, 0));

  // Width 32: RLE values take 4 bytes.
  const std::string wide = Bytes({0x04, 0x78, 0x56, 0x34, 0x12});
  EXPECT_EQ(DecodeRleHybrid(In(wide), 32, 2, out), 5u);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{0x12345678, 0x12345678}));
}

TEST(ParquetEncodingTest, EncoderMixesRunsAndGroups) {
  // 3 literals, then 12 sevens: 5 sevens complete the literal group, the other 7 are too few for
  // an RLE run, so all 15 values go bit-packed in two groups (the last padded).
  std::vector<std::uint32_t> values = {1, 2, 3};
  values.insert(values.end(), 12, 7);
  std::string encoded;
  EncodeRleHybrid(values, 3, encoded);
  EXPECT_EQ(encoded[0], 0x05);  // 2 groups, bit-packed
  EXPECT_EQ(encoded.size(), 1u + 6u);
  // With 13 more sevens, 5 complete the group and 20 make an RLE run.
  values.insert(values.end(), 13, 7);
  encoded.clear();
  EncodeRleHybrid(values, 3, encoded);
  EXPECT_EQ(encoded, Bytes({0x03}) + Pack({1, 2, 3, 7, 7, 7, 7, 7}, 3) + Bytes({0x28, 0x07}));
  std::vector<std::uint32_t> out;
  EXPECT_EQ(DecodeRleHybrid(In(encoded), 3, values.size(), out), encoded.size());
  EXPECT_EQ(out, values);
}

TEST(ParquetEncodingTest, DictionaryIndices) {
  const std::string bytes = Bytes({0x02, 0x03}) + Pack({0, 1, 2, 3, 3, 2, 1, 0}, 2);
  std::vector<std::uint32_t> out;
  EXPECT_EQ(DecodeDictionaryIndices(In(bytes), 8, 4, out), bytes.size());
  EXPECT_EQ(out, (std::vector<std::uint32_t>{0, 1, 2, 3, 3, 2, 1, 0}));
  ExpectInvalid([&] { DecodeDictionaryIndices(In(bytes), 8, 3, out); },
                {"test: dictionary indices: dictionary index 3 is not below the dictionary size 3",
                 "at byte 1"});
  const std::string rle = Bytes({0x02, 0x10, 0x03});
  ExpectInvalid([&] { DecodeDictionaryIndices(In(rle), 8, 2, out); },
                {"dictionary index 3 is not below the dictionary size 2", "at byte 2"});
  ExpectInvalid(
      [&] {
        DecodeDictionaryIndices(In(Bytes({33, 0})), 1, 2, out);
      },
      {"bit width 33 is above 32", "at byte 0"});
  ExpectInvalid(
      [&] {
        DecodeDictionaryIndices(In(Bytes({0, 2})), 1, 0, out);
      },
      {"empty dictionary"});
  EXPECT_EQ(DecodeDictionaryIndices(In(""), 0, 0, out), 0u);
  EXPECT_TRUE(out.empty());

  std::string encoded;
  EncodeDictionaryIndices(std::vector<std::uint32_t>{0, 1, 2, 3, 3, 2, 1, 0}, 4, encoded);
  EXPECT_EQ(encoded, bytes);
  EXPECT_THROW(EncodeDictionaryIndices(std::vector<std::uint32_t>{4}, 4, encoded), Error);
}

TEST(ParquetEncodingTest, DeltaBinaryPackedSpecExamples) {
  // Encodings.md: 1 2 3 4 5 — deltas all 1: min delta 1, every miniblock width 0, no data bytes.
  const std::string simple = Bytes({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0});
  std::vector<std::int32_t> out32;
  EXPECT_EQ(DecodeDeltaBinaryPackedInt32(In(simple), 5, out32), simple.size());
  EXPECT_EQ(out32, (std::vector<std::int32_t>{1, 2, 3, 4, 5}));
  std::string encoded;
  EncodeDeltaBinaryPackedInt32(out32, encoded);
  EXPECT_EQ(encoded, simple);

  // 7 5 3 1 2 3 4 5 — deltas -2 -2 -2 1 1 1 1: min delta -2, packed 0 0 0 3 3 3 3 at width 2,
  // a miniblock of 32 values (8 bytes), the other three unused (width byte, no data).
  const std::string example = Bytes({0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0, 0, 0}) +
                              Pack({0, 0, 0, 3, 3, 3, 3}, 2) + std::string(6, '\0') + "after";
  std::vector<std::int64_t> out64;
  EXPECT_EQ(DecodeDeltaBinaryPackedInt64(In(example), 8, out64), example.size() - 5);
  EXPECT_EQ(out64, (std::vector<std::int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  encoded.clear();
  EncodeDeltaBinaryPackedInt64(out64, encoded);
  EXPECT_EQ(encoded, example.substr(0, example.size() - 5));

  // Counts 0 and 1: the header alone.
  const std::string one = Bytes({0x80, 0x01, 0x04, 0x01, 0x05});
  EXPECT_EQ(DecodeDeltaBinaryPackedInt32(In(one), 1, out32), 5u);
  EXPECT_EQ(out32, (std::vector<std::int32_t>{-3}));
  const std::string none = Bytes({0x80, 0x01, 0x04, 0x00, 0x00});
  EXPECT_EQ(DecodeDeltaBinaryPackedInt32(In(none), 0, out32), 5u);
  EXPECT_TRUE(out32.empty());
}

TEST(ParquetEncodingTest, DeltaBinaryPackedInt32With33BitMiniblocks) {
  // As DuckDB writes INT32 columns spanning the whole range: min delta below int32, 33-bit
  // deltas. Values: 0, then + (-2^31) + (2^32 + 5) = 2^31 + 5 -> wraps to INT32_MIN + 5, then
  // + (-2^31) + 0 = 5.
  std::string bytes = Bytes({0x80, 0x01, 0x04, 0x03, 0x00});
  AppendVarint(Zigzag(-(std::int64_t{1} << 31)), bytes);
  bytes += Bytes({33, 0x00, 0xff, 0xff});  // unused miniblocks' widths: any value
  std::vector<std::uint64_t> packed(32, 0);
  packed[0] = (std::uint64_t{1} << 32) + 5;
  bytes += Pack(packed, 33);
  std::vector<std::int32_t> out;
  EXPECT_EQ(DecodeDeltaBinaryPackedInt32(In(bytes), 3, out), bytes.size());
  EXPECT_EQ(out, (std::vector<std::int32_t>{0, std::numeric_limits<std::int32_t>::min() + 5, 5}));

  // Width 64 on INT64: deltas wrap modulo 2^64.
  std::string wide = Bytes({0x80, 0x01, 0x04, 0x02});
  AppendVarint(Zigzag(std::numeric_limits<std::int64_t>::max()), wide);
  AppendVarint(Zigzag(0), wide);
  wide += Bytes({64, 0, 0, 0});
  packed.assign(32, 0);
  packed[0] = ~std::uint64_t{0};
  wide += Pack(packed, 64);
  std::vector<std::int64_t> out64;
  EXPECT_EQ(DecodeDeltaBinaryPackedInt64(In(wide), 2, out64), wide.size());
  EXPECT_EQ(out64, (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(),
                                              std::numeric_limits<std::int64_t>::max() - 1}));
}

TEST(ParquetEncodingTest, DeltaByteArraySpecExample) {
  const std::vector<std::string_view> values = {"axis", "axle", "babble", "babyhood"};
  std::string encoded;
  EncodeDeltaByteArray(values, encoded);
  // Prefix lengths 0 2 0 3 then suffix lengths 4 2 6 5, then the suffixes concatenated.
  std::string expected;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{0, 2, 0, 3}, expected);
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{4, 2, 6, 5}, expected);
  expected += "axislebabbleyhood";
  EXPECT_EQ(encoded, expected);
  std::string storage;
  std::vector<std::string_view> out;
  EXPECT_EQ(DecodeDeltaByteArray(In(encoded), 4, 1 << 20, std::nullopt, storage, out),
            encoded.size());
  EXPECT_EQ(out, values);

  // DELTA_LENGTH_BYTE_ARRAY of the same: lengths 4 4 6 8, bytes concatenated.
  encoded.clear();
  EncodeDeltaLengthByteArray(values, encoded);
  expected.clear();
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{4, 4, 6, 8}, expected);
  expected += "axisaxlebabblebabyhood";
  EXPECT_EQ(encoded, expected);
  EXPECT_EQ(DecodeDeltaLengthByteArray(In(encoded), 4, out), encoded.size());
  EXPECT_EQ(out, values);
}

TEST(ParquetEncodingTest, PlainHandVectors) {
  std::vector<std::uint8_t> bools;
  EXPECT_EQ(DecodePlainBoolean(In(Bytes({0x0D, 0x01})), 9, bools), 2u);
  EXPECT_EQ(bools, (std::vector<std::uint8_t>{1, 0, 1, 1, 0, 0, 0, 0, 1}));
  std::string encoded;
  EncodePlainBoolean(bools, encoded);
  EXPECT_EQ(encoded, Bytes({0x0D, 0x01}));

  std::vector<std::int32_t> ints;
  EXPECT_EQ(DecodePlainInt32(In(Bytes({0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})), 2, ints), 8u);
  EXPECT_EQ(ints, (std::vector<std::int32_t>{1, -1}));

  std::vector<std::string_view> strings;
  const std::string ba = Bytes({3, 0, 0, 0}) + "abc" + Bytes({0, 0, 0, 0}) + "rest";
  EXPECT_EQ(DecodePlainByteArray(In(ba), 2, strings), 11u);
  EXPECT_EQ(strings, (std::vector<std::string_view>{"abc", ""}));
  EXPECT_EQ(strings[0].data(), ba.data() + 4);  // a view into the input

  const std::string fixed = "abcdefg";
  EXPECT_EQ(DecodePlainFixedLenByteArray(In(fixed), 3, 2, strings), 6u);
  EXPECT_EQ(strings, (std::vector<std::string_view>{"abc", "def"}));

  std::vector<Int96> int96;
  const std::string twelve = "0123456789ab";
  EXPECT_EQ(DecodePlainInt96(In(twelve), 1, int96), 12u);
  EXPECT_EQ(std::string(int96[0].begin(), int96[0].end()), twelve);
}

TEST(ParquetEncodingTest, ByteStreamSplitHandVector) {
  // Two INT32 values 0x04030201 and 0x08070605: streams of byte 0, byte 1, ...
  const std::string bytes = Bytes({0x01, 0x05, 0x02, 0x06, 0x03, 0x07, 0x04, 0x08});
  std::vector<std::int32_t> out;
  DecodeByteStreamSplitInt32(In(bytes), 2, out);
  EXPECT_EQ(out, (std::vector<std::int32_t>{0x04030201, 0x08070605}));
  std::string encoded;
  EncodeByteStreamSplit(Bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}), 4, encoded);
  EXPECT_EQ(encoded, bytes);
  std::string storage;
  std::vector<std::string_view> flba;
  DecodeByteStreamSplitFixedLenByteArray(In(Bytes({'a', 'c', 'b', 'd'})), 2, 2, storage, flba);
  EXPECT_EQ(flba, (std::vector<std::string_view>{"ab", "cd"}));
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

// Random values of width bits, with runs so that both RLE runs and bit-packed groups occur.
std::vector<std::uint32_t> RandomLevels(std::mt19937_64& rng, std::size_t n, int width) {
  const std::uint64_t mask = width == 32 ? 0xffffffffu : (std::uint64_t{1} << width) - 1;
  std::vector<std::uint32_t> values;
  while (values.size() < n) {
    const auto value = static_cast<std::uint32_t>(rng() & mask);
    const std::size_t repeat = rng() % 3 == 0 ? 1 + rng() % 40 : 1;
    for (std::size_t i = 0; i < repeat && values.size() < n; ++i) values.push_back(value);
  }
  return values;
}

TEST(ParquetEncodingTest, RleHybridRoundTrips) {
  std::mt19937_64 rng(8);
  for (int width = 0; width <= 32; ++width) {
    for (std::size_t n : kSizes) {
      const std::vector<std::uint32_t> values = RandomLevels(rng, n, width);
      std::string encoded;
      EncodeRleHybrid(values, width, encoded);
      std::vector<std::uint32_t> out;
      ASSERT_EQ(DecodeRleHybrid(In(encoded), width, n, out), encoded.size())
          << "width " << width << " n " << n;
      ASSERT_EQ(out, values) << "width " << width << " n " << n;
      // The span form over a buffer of exactly n.
      std::vector<std::uint32_t> span_out(n);
      DecodeRleHybrid(In(encoded), width, std::span<std::uint32_t>(span_out));
      ASSERT_EQ(span_out, values);
      encoded.clear();
      EncodeRleHybridWithLength(values, width, encoded);
      ASSERT_EQ(DecodeRleHybridWithLength(In(encoded), width, n, out), encoded.size());
      ASSERT_EQ(out, values);
    }
  }
}

template <typename T>
std::vector<T> RandomInts(std::mt19937_64& rng, std::size_t n, int kind) {
  std::vector<T> values(n);
  T previous = 0;
  for (T& v : values) {
    switch (kind) {
      case 0:  // full range
        v = static_cast<T>(rng());
        break;
      case 1:  // small steps
        v = static_cast<T>(previous + static_cast<T>(static_cast<int>(rng() % 21) - 10));
        break;
      default:  // extremes
        v = rng() % 2 ? std::numeric_limits<T>::min() : std::numeric_limits<T>::max();
    }
    previous = v;
  }
  return values;
}

TEST(ParquetEncodingTest, DeltaBinaryPackedRoundTrips) {
  std::mt19937_64 rng(5);
  for (std::size_t n : kSizes) {
    for (int kind = 0; kind < 3; ++kind) {
      const auto v32 = RandomInts<std::int32_t>(rng, n, kind);
      std::string encoded;
      EncodeDeltaBinaryPackedInt32(v32, encoded);
      std::vector<std::int32_t> out32;
      ASSERT_EQ(DecodeDeltaBinaryPackedInt32(In(encoded), n, out32), encoded.size());
      ASSERT_EQ(out32, v32) << n << " " << kind;
      // The INT32 encoder never writes a miniblock wider than 32 bits.
      const auto v64 = RandomInts<std::int64_t>(rng, n, kind);
      encoded.clear();
      EncodeDeltaBinaryPackedInt64(v64, encoded);
      std::vector<std::int64_t> out64;
      ASSERT_EQ(DecodeDeltaBinaryPackedInt64(In(encoded), n, out64), encoded.size());
      ASSERT_EQ(out64, v64) << n << " " << kind;
    }
  }
}

std::vector<std::string> RandomStrings(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::string> values(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Often share a prefix with the previous value, as sorted keys do.
    std::string s = i > 0 && rng() % 2 ? values[i - 1].substr(0, rng() % (values[i - 1].size() + 1))
                                       : std::string();
    const std::size_t extra = rng() % 12;
    for (std::size_t k = 0; k < extra; ++k) s.push_back(static_cast<char>(rng() % 256));
    values[i] = s;
  }
  return values;
}

std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return {strings.begin(), strings.end()};
}

TEST(ParquetEncodingTest, ByteArrayRoundTrips) {
  std::mt19937_64 rng(6);
  for (std::size_t n : kSizes) {
    const std::vector<std::string> strings = RandomStrings(rng, n);
    const std::vector<std::string_view> values = Views(strings);
    std::vector<std::string_view> out;
    std::string encoded;
    EncodePlainByteArray(values, encoded);
    ASSERT_EQ(DecodePlainByteArray(In(encoded), n, out), encoded.size());
    ASSERT_EQ(out, values);
    encoded.clear();
    EncodeDeltaLengthByteArray(values, encoded);
    ASSERT_EQ(DecodeDeltaLengthByteArray(In(encoded), n, out), encoded.size());
    ASSERT_EQ(out, values);
    encoded.clear();
    EncodeDeltaByteArray(values, encoded);
    std::string storage;
    ASSERT_EQ(DecodeDeltaByteArray(In(encoded), n, 1 << 20, std::nullopt, storage, out),
              encoded.size());
    ASSERT_EQ(out, values);

    // FIXED_LEN_BYTE_ARRAY(5): PLAIN, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
    std::vector<std::string> fixed(n);
    for (std::string& s : fixed) {
      for (int k = 0; k < 5; ++k) s.push_back(static_cast<char>('a' + rng() % 3));
    }
    const std::vector<std::string_view> fixed_views = Views(fixed);
    encoded.clear();
    EncodePlainFixedLenByteArray(fixed_views, 5, encoded);
    ASSERT_EQ(DecodePlainFixedLenByteArray(In(encoded), 5, n, out), encoded.size());
    ASSERT_EQ(out, fixed_views);
    encoded.clear();
    EncodeDeltaByteArray(fixed_views, encoded);
    ASSERT_EQ(DecodeDeltaByteArray(In(encoded), n, 1 << 20, 5, storage, out), encoded.size());
    ASSERT_EQ(out, fixed_views);
    std::string concatenated;
    for (const std::string& s : fixed) concatenated += s;
    encoded.clear();
    EncodeByteStreamSplit(concatenated, 5, encoded);
    DecodeByteStreamSplitFixedLenByteArray(In(encoded), 5, n, storage, out);
    ASSERT_EQ(out, fixed_views);
  }
}

template <typename T>
std::string_view AsBytes(const std::vector<T>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)};
}

TEST(ParquetEncodingTest, FixedWidthRoundTrips) {
  std::mt19937_64 rng(7);
  for (std::size_t n : kSizes) {
    std::vector<std::uint8_t> bools(n);
    for (auto& b : bools) b = rng() % 2;
    std::vector<std::int32_t> i32 = RandomInts<std::int32_t>(rng, n, 0);
    std::vector<std::int64_t> i64 = RandomInts<std::int64_t>(rng, n, 0);
    std::vector<Int96> i96(n);
    for (Int96& v : i96) {
      for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    }
    std::vector<float> f32(n);
    std::vector<double> f64(n);
    for (std::size_t i = 0; i < n; ++i) {
      f32[i] = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
      f64[i] = std::bit_cast<double>(static_cast<std::uint64_t>(rng()));
    }
    // Compare bits (NaNs included).
    auto same = [](const auto& a, const auto& b) { return AsBytes(a) == AsBytes(b); };

    std::string e;
    EncodePlainBoolean(bools, e);
    std::vector<std::uint8_t> bools_out;
    ASSERT_EQ(DecodePlainBoolean(In(e), n, bools_out), e.size());
    ASSERT_EQ(bools_out, bools);
    e.clear();
    EncodePlainInt32(i32, e);
    std::vector<std::int32_t> i32_out;
    ASSERT_EQ(DecodePlainInt32(In(e), n, i32_out), e.size());
    ASSERT_EQ(i32_out, i32);
    e.clear();
    EncodePlainInt64(i64, e);
    std::vector<std::int64_t> i64_out;
    ASSERT_EQ(DecodePlainInt64(In(e), n, i64_out), e.size());
    ASSERT_EQ(i64_out, i64);
    e.clear();
    EncodePlainInt96(i96, e);
    std::vector<Int96> i96_out;
    ASSERT_EQ(DecodePlainInt96(In(e), n, i96_out), e.size());
    ASSERT_EQ(i96_out, i96);
    e.clear();
    EncodePlainFloat(f32, e);
    std::vector<float> f32_out;
    ASSERT_EQ(DecodePlainFloat(In(e), n, f32_out), e.size());
    ASSERT_TRUE(same(f32_out, f32));
    e.clear();
    EncodePlainDouble(f64, e);
    std::vector<double> f64_out;
    ASSERT_EQ(DecodePlainDouble(In(e), n, f64_out), e.size());
    ASSERT_TRUE(same(f64_out, f64));

    e.clear();
    EncodeByteStreamSplit(AsBytes(f32), 4, e);
    DecodeByteStreamSplitFloat(In(e), n, f32_out);
    ASSERT_TRUE(same(f32_out, f32));
    e.clear();
    EncodeByteStreamSplit(AsBytes(f64), 8, e);
    DecodeByteStreamSplitDouble(In(e), n, f64_out);
    ASSERT_TRUE(same(f64_out, f64));
    e.clear();
    EncodeByteStreamSplit(AsBytes(i32), 4, e);
    DecodeByteStreamSplitInt32(In(e), n, i32_out);
    ASSERT_EQ(i32_out, i32);
    e.clear();
    EncodeByteStreamSplit(AsBytes(i64), 8, e);
    DecodeByteStreamSplitInt64(In(e), n, i64_out);
    ASSERT_EQ(i64_out, i64);
  }
}

TEST(ParquetEncodingTest, DictionaryBuilders) {
  std::mt19937_64 rng(9);
  for (std::size_t n : kSizes) {
    // BYTE_ARRAY: values from a small set, so that there are repeats.
    std::vector<std::string> strings(n);
    for (std::string& s : strings) s = "v" + std::to_string(rng() % 50);
    const std::vector<std::string_view> views = Views(strings);
    DictionaryBuilder<std::string_view> dictionary;
    std::vector<std::uint32_t> indices;
    dictionary.AddAll(views, indices);
    std::string page;
    dictionary.EncodeDictionaryPage(page);
    EXPECT_EQ(page.size(), dictionary.plain_size());
    std::string encoded;
    EncodeDictionaryIndices(indices, dictionary.size(), encoded);
    std::vector<std::string_view> dict_values;
    ASSERT_EQ(DecodePlainByteArray(In(page), dictionary.size(), dict_values), page.size());
    std::vector<std::uint32_t> decoded;
    ASSERT_EQ(DecodeDictionaryIndices(In(encoded), n, dictionary.size(), decoded), encoded.size());
    ASSERT_EQ(decoded, indices);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(dict_values[decoded[i]], strings[i]);

    // Numbers.
    std::vector<double> doubles(n);
    for (double& d : doubles) d = static_cast<double>(rng() % 7) - 3.0;
    if (n > 2) {
      doubles[0] = 0.0;
      doubles[1] = -0.0;  // a value of its own
    }
    DictionaryBuilder<double> double_dictionary;
    indices.clear();
    double_dictionary.AddAll(doubles, indices);
    page.clear();
    double_dictionary.EncodeDictionaryPage(page);
    std::vector<double> double_values;
    ASSERT_EQ(DecodePlainDouble(In(page), double_dictionary.size(), double_values), page.size());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(std::bit_cast<std::uint64_t>(double_values[indices[i]]),
                std::bit_cast<std::uint64_t>(doubles[i]));
    }
    if (n > 2) {
      EXPECT_NE(indices[0], indices[1]);
    }

    const auto ints = RandomInts<std::int64_t>(rng, n, 1);
    DictionaryBuilder<std::int64_t> int_dictionary;
    indices.clear();
    int_dictionary.AddAll(ints, indices);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(int_dictionary.values()[indices[i]], ints[i]);
    const auto ints32 = RandomInts<std::int32_t>(rng, n, 1);
    DictionaryBuilder<std::int32_t> int32_dictionary;
    indices.clear();
    int32_dictionary.AddAll(ints32, indices);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(int32_dictionary.values()[indices[i]], ints32[i]);
    EXPECT_EQ(int32_dictionary.plain_size(), 4 * int32_dictionary.size());
  }
  // The builder keeps its own copies: the values it was given may go away.
  DictionaryBuilder<std::string_view> d;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100; ++i) {
      const std::string value =
          std::string(static_cast<std::size_t>(i % 30), 'x') + "#" + std::to_string(i);
      EXPECT_EQ(d.Add(value), static_cast<std::uint32_t>(i));
    }
  }
  EXPECT_EQ(d.size(), 100u);
  EXPECT_EQ(d.values()[99], std::string(9, 'x') + "#99");

  // Many values (the table grows many times), of every length up to a few words: each keeps its
  // index, and a value seen again finds it.
  DictionaryBuilder<std::string_view> many;
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i)
    texts.push_back(std::string(i % 19, 'a' + i % 3) + std::to_string(i));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ(many.Add(texts[i]), static_cast<std::uint32_t>(i)) << texts[i];
    }
  }
  // FLOAT: keyed by the bits, so that NaN patterns and -0.0 are values of their own.
  DictionaryBuilder<float> floats;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float other_nan = std::bit_cast<float>(std::bit_cast<std::uint32_t>(nan) | 1);
  for (float f : {0.0f, -0.0f, nan, other_nan, 1.5f, nan, 0.0f}) floats.Add(f);
  EXPECT_EQ(floats.size(), 5u);
  std::string page;
  floats.EncodeDictionaryPage(page);
  EXPECT_EQ(page.size(), 20u);
  EXPECT_EQ(floats.Add(-0.0f), 1u);
  EXPECT_EQ(floats.Add(other_nan), 3u);
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

TEST(ParquetEncodingTest, RleHybridBadInput) {
  std::vector<std::uint32_t> out;
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x03, 0x88})), 3, 8, out);
      },
      {"test: RLE hybrid: bit-packed run of 8 values needs 3 bytes", "1 left", "at byte 0"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x10, 0x01}), 100), 3, 9, out);
      },
      {"input ends after 8 of 9 values", "at byte 102"});
  ExpectInvalid([&] { DecodeRleHybrid(In(Bytes({0x10})), 3, 8, out); },
                {"RLE run value needs 1 bytes, 0 left", "at byte 1"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x10, 0x08})), 3, 8, out);
      },
      {"value 8 is wider than 3 bits", "at byte 1"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x10, 0x08})), 33, 8, out);
      },
      {"bit width 33 is outside 0..32"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x10, 0x08})), -1, 8, out);
      },
      {"bit width -1 is outside 0..32"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0x80, 0x80})), 3, 8, out);
      },
      {"input ends inside run header", "at byte 0"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0xff, 0xff, 0xff, 0xff, 0x7f})), 3, 8, out);
      },
      {"run header 34359738367 is above 2^32-1"});
  ExpectInvalid(
      [&] {
        DecodeRleHybrid(In(Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})), 3,
                        8, out);
      },
      {"run header is a varint longer than 64 bits"});
  ExpectInvalid([&] { DecodeRleHybrid(In(""), 1, 1, out); }, {"input ends after 0 of 1 values"});
  ExpectInvalid(
      [&] {
        DecodeRleHybridWithLength(In(Bytes({0x05, 0, 0, 0, 0x10, 0x01})), 1, 8, out);
      },
      {"length 5 is past the end (2 bytes left)"});
  ExpectInvalid(
      [&] {
        DecodeRleHybridWithLength(In(Bytes({0x05, 0})), 1, 8, out);
      },
      {"length prefix needs 4 bytes, 2 left"});
  // The prefixed length bounds the data: a run past it is an error even if bytes follow.
  ExpectInvalid(
      [&] {
        DecodeRleHybridWithLength(In(Bytes({0x01, 0, 0, 0, 0x03, 0xff}), 50), 1, 8, out);
      },
      {"bit-packed run of 8 values needs 1 bytes", "at byte 54"});
  // Encoders refuse values wider than the width.
  std::string encoded;
  EXPECT_THROW(EncodeRleHybrid(std::vector<std::uint32_t>{8}, 3, encoded), Error);
  EXPECT_THROW(EncodeRleHybrid(std::vector<std::uint32_t>{0}, 33, encoded), Error);
}

TEST(ParquetEncodingTest, PlainBadInput) {
  std::vector<std::uint8_t> bools;
  ExpectInvalid([&] { DecodePlainBoolean(In(Bytes({1})), 9, bools); },
                {"test: PLAIN: 9 BOOLEAN values need 2 bytes, 1 left", "at byte 0"});
  std::vector<std::int32_t> i32;
  ExpectInvalid([&] { DecodePlainInt32(In("abcdefg"), 2, i32); },
                {"2 INT32 values of 4 bytes need more than the 7 bytes left"});
  ExpectInvalid([&] { DecodePlainInt32(In("abcd"), std::numeric_limits<std::size_t>::max(), i32); },
                {"INT32 values"});
  std::vector<std::int64_t> i64;
  ExpectInvalid([&] { DecodePlainInt64(In("abcdefg"), 1, i64); }, {"INT64"});
  std::vector<Int96> i96;
  ExpectInvalid([&] { DecodePlainInt96(In("abcdefg"), 1, i96); }, {"INT96"});
  std::vector<float> f;
  ExpectInvalid([&] { DecodePlainFloat(In("abc"), 1, f); }, {"FLOAT"});
  std::vector<double> d;
  ExpectInvalid([&] { DecodePlainDouble(In("abc"), 1, d); }, {"DOUBLE"});
  std::vector<std::string_view> s;
  ExpectInvalid(
      [&] {
        DecodePlainByteArray(In(Bytes({3, 0, 0, 0, 'a', 'b'}), 10), 1, s);
      },
      {"BYTE_ARRAY value 0 of 3 bytes is past the end (2 bytes left)", "at byte 10"});
  ExpectInvalid(
      [&] {
        DecodePlainByteArray(In(Bytes({3, 0, 0, 0, 'a', 'b', 'c', 1, 0})), 2, s);
      },
      {"BYTE_ARRAY length needs 4 bytes, 2 left", "at byte 7"});
  ExpectInvalid(
      [&] {
        DecodePlainByteArray(In(Bytes({0, 0, 0, 0})), 1000000, s);
      },
      {"1000000 BYTE_ARRAY values need at least 1000000 length prefixes"});
  ExpectInvalid([&] { DecodePlainFixedLenByteArray(In("abcde"), 3, 2, s); },
                {"2 FIXED_LEN_BYTE_ARRAY(3) values need more than the 5 bytes left"});
  ExpectInvalid([&] { DecodePlainFixedLenByteArray(In("abcde"), -1, 1, s); },
                {"type_length -1 is negative"});
  std::string encoded;
  EXPECT_THROW(EncodePlainFixedLenByteArray(std::vector<std::string_view>{"ab"}, 3, encoded),
               Error);
}

TEST(ParquetEncodingTest, DeltaBinaryPackedBadInput) {
  std::vector<std::int32_t> out;
  std::vector<std::int64_t> out64;
  auto header = [](int block, int miniblocks, int count, int first) {
    std::string s;
    AppendVarint(static_cast<std::uint64_t>(block), s);
    AppendVarint(static_cast<std::uint64_t>(miniblocks), s);
    AppendVarint(static_cast<std::uint64_t>(count), s);
    AppendVarint(Zigzag(first), s);
    return s;
  };
  ExpectInvalid(
      [&] { DecodeDeltaBinaryPackedInt32(In(header(100, 4, 1, 0)), 10, out); },
      {"test: DELTA_BINARY_PACKED: block size 100 is not a multiple of 128", "at byte 0"});
  ExpectInvalid([&] { DecodeDeltaBinaryPackedInt32(In(header(0, 4, 1, 0)), 10, out); },
                {"block size 0"});
  ExpectInvalid([&] { DecodeDeltaBinaryPackedInt32(In(header(128, 0, 1, 0)), 10, out); },
                {"cannot have 0 miniblocks", "at byte 2"});
  ExpectInvalid([&] { DecodeDeltaBinaryPackedInt32(In(header(128, 8, 1, 0)), 10, out); },
                {"cannot have 8 miniblocks"});
  ExpectInvalid([&] { DecodeDeltaBinaryPackedInt32(In(header(128, 4, 11, 0)), 10, out); },
                {"value count 11 is above the 10 expected", "at byte 3"});
  ExpectInvalid(
      [&] {
        DecodeDeltaBinaryPackedInt32(In(Bytes({0x80, 0x01, 0x04})), 10, out);
      },
      {"input ends inside value count", "at byte 3"});
  // A block whose data is missing.
  ExpectInvalid([&] { DecodeDeltaBinaryPackedInt32(In(header(128, 4, 3, 0)), 10, out); },
                {"input ends inside min delta"});
  ExpectInvalid(
      [&] {
        DecodeDeltaBinaryPackedInt32(In(header(128, 4, 3, 0) + Bytes({0x00, 0x01})), 10, out);
      },
      {"miniblock bit widths needs 4 bytes, 1 left", "at byte 6"});
  ExpectInvalid(
      [&] {
        DecodeDeltaBinaryPackedInt32(In(header(128, 4, 3, 0) + Bytes({0x00, 65, 0, 0, 0})), 10,
                                     out);
      },
      {"miniblock bit width 65 is above 64", "at byte 6"});
  ExpectInvalid(
      [&] {
        DecodeDeltaBinaryPackedInt64(In(header(128, 4, 3, 0) + Bytes({0x00, 200, 0, 0, 0})), 10,
                                     out64);
      },
      {"miniblock bit width 200 is above 64"});
  ExpectInvalid(
      [&] {
        DecodeDeltaBinaryPackedInt64(
            In(header(128, 4, 40, 0) + Bytes({0x00, 8, 8, 0, 0}) + std::string(32, 'x')), 100,
            out64);
      },
      {"miniblock of 7 values at 8 bits needs 7 bytes, 0 left", "at byte 42"});
  // Counts beyond what a caller expects are refused before anything is allocated.
  ExpectInvalid(
      [&] { DecodeDeltaBinaryPackedInt64(In(header(128, 4, 1 << 30, 0) + "x"), 1000, out64); },
      {"value count 1073741824 is above the 1000 expected"});
}

TEST(ParquetEncodingTest, ByteArrayEncodingsBadInput) {
  std::vector<std::string_view> out;
  std::string storage;
  // DELTA_LENGTH_BYTE_ARRAY: lengths 4 and 4, but only 5 bytes follow.
  std::string lengths;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{4, 4}, lengths);
  ExpectInvalid([&] { DecodeDeltaLengthByteArray(In(lengths + "abcde"), 2, out); },
                {"test: DELTA_LENGTH_BYTE_ARRAY: values of 8 bytes in all are past the end (5 "
                 "bytes left)"});
  std::string negative;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{4, -1}, negative);
  ExpectInvalid([&] { DecodeDeltaLengthByteArray(In(negative + "abcd"), 2, out); },
                {"length -1 of value 1 is negative"});
  ExpectInvalid([&] { DecodeDeltaLengthByteArray(In(lengths + "abcdefgh"), 1, out); },
                {"value count 2 is above the 1 expected"});

  // DELTA_BYTE_ARRAY: a prefix longer than the previous value.
  std::string bad;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{0, 3}, bad);
  EncodeDeltaLengthByteArray(std::vector<std::string_view>{"ab", "c"}, bad);
  ExpectInvalid([&] { DecodeDeltaByteArray(In(bad), 2, 1000, std::nullopt, storage, out); },
                {"test: DELTA_BYTE_ARRAY: prefix length 3 of value 1 is longer than the previous "
                 "value (2 bytes)"});
  std::string first_prefix;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{1}, first_prefix);
  EncodeDeltaLengthByteArray(std::vector<std::string_view>{"ab"}, first_prefix);
  ExpectInvalid(
      [&] { DecodeDeltaByteArray(In(first_prefix), 1, 1000, std::nullopt, storage, out); },
      {"prefix length 1 of value 0 is longer than the previous value (0 bytes)"});
  std::string mismatch;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{0, 0}, mismatch);
  EncodeDeltaLengthByteArray(std::vector<std::string_view>{"ab"}, mismatch);
  ExpectInvalid([&] { DecodeDeltaByteArray(In(mismatch), 2, 1000, std::nullopt, storage, out); },
                {"2 prefix lengths but 1 suffixes"});
  // A few bytes describing long values: bounded by max_total_bytes.
  std::string bomb;
  EncodeDeltaBinaryPackedInt32(std::vector<std::int32_t>{0, 8, 8, 8, 8}, bomb);
  EncodeDeltaLengthByteArray(std::vector<std::string_view>{"abcdefgh", "", "", "", ""}, bomb);
  ExpectInvalid([&] { DecodeDeltaByteArray(In(bomb), 5, 30, std::nullopt, storage, out); },
                {"values of more than 30 bytes in all"});
  EXPECT_EQ(DecodeDeltaByteArray(In(bomb), 5, 40, std::nullopt, storage, out), bomb.size());
  EXPECT_EQ(out[4], "abcdefgh");
  ExpectInvalid([&] { DecodeDeltaByteArray(In(bomb), 5, 40, 7, storage, out); },
                {"value 0 of 8 bytes in a FIXED_LEN_BYTE_ARRAY(7) column"});
  // Truncated suffixes.
  ExpectInvalid(
      [&] { DecodeDeltaByteArray(In(bomb.substr(0, bomb.size() - 1)), 5, 40, {}, storage, out); },
      {"past the end"});
}

TEST(ParquetEncodingTest, ByteStreamSplitBadInput) {
  std::vector<float> f;
  ExpectInvalid([&] { DecodeByteStreamSplitFloat(In("abcdefg"), 2, f); },
                {"test: BYTE_STREAM_SPLIT: 2 values of 4 bytes do not make the 7 bytes of the "
                 "section"});
  ExpectInvalid([&] { DecodeByteStreamSplitFloat(In("abcdefghi"), 2, f); }, {"do not make"});
  std::vector<double> d;
  ExpectInvalid([&] { DecodeByteStreamSplitDouble(In("abcdefg"), 1, d); }, {"do not make"});
  std::vector<std::int32_t> i32;
  ExpectInvalid(
      [&] { DecodeByteStreamSplitInt32(In("abcd"), std::numeric_limits<std::size_t>::max(), i32); },
      {"do not make"});
  std::vector<std::int64_t> i64;
  ExpectInvalid([&] { DecodeByteStreamSplitInt64(In("abcd"), 1, i64); }, {"do not make"});
  std::string storage;
  std::vector<std::string_view> out;
  ExpectInvalid([&] { DecodeByteStreamSplitFixedLenByteArray(In("abcd"), 3, 1, storage, out); },
                {"1 values of 3 bytes do not make the 4 bytes"});
  ExpectInvalid([&] { DecodeByteStreamSplitFixedLenByteArray(In("abcd"), 0, 1, storage, out); },
                {"type_length 0 is not positive"});
  std::string encoded;
  EXPECT_THROW(EncodeByteStreamSplit("abc", 2, encoded), Error);
}

// ---------------------------------------------------------------------------------------------
// Random and mutated bytes: only ever dkdata::Error
// ---------------------------------------------------------------------------------------------

// Runs every decoder over bytes with small, caller-like counts.
void DecodeEverything(const std::string& bytes, std::size_t count, int width) {
  const EncodedBytes in = In(bytes);
  auto attempt = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string_view(e.what()).find("test: "), std::string_view::npos);
    }
  };
  std::vector<std::uint32_t> u32;
  std::vector<std::uint8_t> b;
  std::vector<std::int32_t> i32;
  std::vector<std::int64_t> i64;
  std::vector<Int96> i96;
  std::vector<float> f;
  std::vector<double> d;
  std::vector<std::string_view> s;
  std::string storage;
  attempt([&] { DecodeRleHybrid(in, width, count, u32); });
  attempt([&] { DecodeRleHybridWithLength(in, width, count, u32); });
  attempt([&] { DecodeDictionaryIndices(in, count, 1 + count % 40, u32); });
  attempt([&] { DecodePlainBoolean(in, count, b); });
  attempt([&] { DecodePlainInt32(in, count, i32); });
  attempt([&] { DecodePlainInt64(in, count, i64); });
  attempt([&] { DecodePlainInt96(in, count, i96); });
  attempt([&] { DecodePlainFloat(in, count, f); });
  attempt([&] { DecodePlainDouble(in, count, d); });
  attempt([&] { DecodePlainByteArray(in, count, s); });
  attempt([&] { DecodePlainFixedLenByteArray(in, width % 5, count, s); });
  attempt([&] { DecodeDeltaBinaryPackedInt32(in, count, i32); });
  attempt([&] { DecodeDeltaBinaryPackedInt64(in, count, i64); });
  attempt([&] { DecodeDeltaLengthByteArray(in, count, s); });
  attempt([&] { DecodeDeltaByteArray(in, count, 1 << 16, std::nullopt, storage, s); });
  attempt([&] { DecodeDeltaByteArray(in, count, 1 << 16, 3, storage, s); });
  attempt([&] { DecodeByteStreamSplitFloat(in, count, f); });
  attempt([&] { DecodeByteStreamSplitDouble(in, count, d); });
  attempt([&] { DecodeByteStreamSplitInt32(in, count, i32); });
  attempt([&] { DecodeByteStreamSplitInt64(in, count, i64); });
  attempt([&] { DecodeByteStreamSplitFixedLenByteArray(in, 1 + width % 4, count, storage, s); });
}

TEST(ParquetEncodingTest, RandomBytesOnlyEverThrowError) {
  std::mt19937_64 rng(2024);
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::string bytes(rng() % 80, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    DecodeEverything(bytes, rng() % 300, static_cast<int>(rng() % 34));
  }
}

TEST(ParquetEncodingTest, MutatedEncodingsOnlyEverThrowError) {
  std::mt19937_64 rng(77);
  for (int iteration = 0; iteration < 1500; ++iteration) {
    const std::size_t n = rng() % 300;
    std::string encoded;
    switch (iteration % 5) {
      case 0:
        EncodeRleHybrid(RandomLevels(rng, n, 5), 5, encoded);
        break;
      case 1:
        EncodeDeltaBinaryPackedInt64(RandomInts<std::int64_t>(rng, n, 1), encoded);
        break;
      case 2:
        EncodeDeltaBinaryPackedInt32(RandomInts<std::int32_t>(rng, n, 0), encoded);
        break;
      case 3: {
        const std::vector<std::string> strings = RandomStrings(rng, n);
        EncodeDeltaByteArray(Views(strings), encoded);
        break;
      }
      default: {
        const std::vector<std::string> strings = RandomStrings(rng, n);
        EncodeDeltaLengthByteArray(Views(strings), encoded);
      }
    }
    // Flip a few bytes, or cut the end off.
    if (!encoded.empty()) {
      if (rng() % 2) {
        for (int k = 0; k < 3; ++k) encoded[rng() % encoded.size()] = static_cast<char>(rng());
      } else {
        encoded.resize(rng() % encoded.size());
      }
    }
    DecodeEverything(encoded, n, 5);
  }
}

}  // namespace
}  // namespace dkdata::internal::parquet
