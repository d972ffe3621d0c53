// Parquet's page codecs and the pages' CRC-32 (see formats/parquet/parquet_codecs.hpp).
//
// Decompression writes straight into out, sized once to the page header's uncompressed size: the
// header (which the caller checked against the file's size) bounds what a page can allocate. Each
// codec is given exactly that capacity and fails rather than write past it; a block that yields
// fewer bytes fails after it.
//
// Every library is optional at build time: zlib and zstd come with DKDATA_HAVE_COMPRESSION (as for
// formats/compression.cpp), snappy with DKDATA_HAVE_SNAPPY, lz4 with DKDATA_HAVE_LZ4. A codec whose
// library is missing is Error(kUnsupported) to decompress and Error(kInvalidArgument) to compress;
// PageCrc has a table-driven CRC-32 for builds without zlib.
#include "formats/parquet/parquet_codecs.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "dkdata/errors.hpp"

#if DKDATA_HAVE_COMPRESSION
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#endif
#if DKDATA_HAVE_SNAPPY
#include <snappy.h>
#endif
#if DKDATA_HAVE_LZ4
#include <lz4.h>
#endif

namespace dkdata::internal::parquet {

namespace {

#if DKDATA_HAVE_SNAPPY
constexpr bool kHaveSnappy = true;
#else
constexpr bool kHaveSnappy = false;
#endif
#if DKDATA_HAVE_COMPRESSION
constexpr bool kHaveZlibAndZstd = true;
#else
constexpr bool kHaveZlibAndZstd = false;
#endif
#if DKDATA_HAVE_LZ4
constexpr bool kHaveLz4 = true;
#else
constexpr bool kHaveLz4 = false;
#endif

[[noreturn]] void ThrowInvalid(std::string_view context, CompressionCodec codec,
                               std::string_view what) {
  throw Error(ErrorCode::kInvalidArgument,
              std::string(context) + ": " + CompressionCodecName(codec) + ": " + std::string(what));
}

[[maybe_unused]] std::string WrongSize(std::size_t got, std::size_t expected) {
  return "the block decompresses to " + std::to_string(got) + " bytes, the page header says " +
         std::to_string(expected);
}

[[maybe_unused]] std::string TooLarge(std::size_t expected) {
  return "the block decompresses to more than the page header's " + std::to_string(expected) +
         " bytes";
}

// The library each codec needs, for the messages of a build without it.
std::string_view LibraryOf(CompressionCodec codec) {
  switch (codec) {
    case CompressionCodec::kSnappy:
      return "snappy (libsnappy-dev)";
    case CompressionCodec::kGzip:
    case CompressionCodec::kZstd:
      return "zlib and zstd (zlib1g-dev libzstd-dev)";
    case CompressionCodec::kLz4Raw:
      return "lz4 (liblz4-dev)";
    default:
      return "";
  }
}

// Why codec cannot be used: unsupported by dkdata, or by this build.
std::string WhyUnavailable(CompressionCodec codec) {
  if (!LibraryOf(codec).empty()) {
    return "this build of dkdata has no " + std::string(LibraryOf(codec)) +
           ": install it and rebuild";
  }
  if (codec == CompressionCodec::kLz4) {
    return "the deprecated LZ4 codec (Hadoop framing) is not supported; LZ4_RAW is";
  }
  return "unsupported codec (dkdata reads UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW)";
}

#if DKDATA_HAVE_SNAPPY

void DecompressSnappy(std::string_view in, std::size_t size, std::string_view context,
                      std::string& out) {
  constexpr CompressionCodec kCodec = CompressionCodec::kSnappy;
  // The block starts with its uncompressed length: check it before allocating.
  std::size_t length = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &length)) {
    ThrowInvalid(context, kCodec, "the block's length prefix is corrupt");
  }
  if (length != size) ThrowInvalid(context, kCodec, WrongSize(length, size));
  out.resize(size);
  // Writes at most the prefix's length and fails unless the block yields exactly that.
  if (!snappy::RawUncompress(in.data(), in.size(), out.data())) {
    ThrowInvalid(context, kCodec, "the block is corrupt or truncated");
  }
}

void CompressSnappy(std::string_view data, std::string& out) {
  // The block's length prefix is a 32-bit varint.
  if (data.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error(ErrorCode::kInvalidArgument,
                "SNAPPY: cannot compress " + std::to_string(data.size()) + " bytes in one block");
  }
  const std::size_t start = out.size();
  out.resize(start + snappy::MaxCompressedLength(data.size()));
  std::size_t length = 0;
  snappy::RawCompress(data.data(), data.size(), out.data() + start, &length);
  out.resize(start + length);
}

#endif  // DKDATA_HAVE_SNAPPY

#if DKDATA_HAVE_COMPRESSION

// zlib counts in uInt; Parquet's page sizes are int32, so a page never needs more.
bool FitsZlib(std::size_t n) {
  return n <= std::numeric_limits<uInt>::max();
}

class Inflater {
 public:
  Inflater() {
    // 16 + MAX_WBITS: gzip framing only (a zlib or raw deflate stream is corrupt here).
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
      throw Error(ErrorCode::kInternal, "zlib: cannot initialise the decompressor");
    }
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  z_stream& z() { return z_; }

 private:
  z_stream z_{};
};

// One or more gzip members (the spec asks readers to accept several), nothing after the last.
void DecompressGzip(std::string_view in, std::size_t size, std::string_view context,
                    std::string& out) {
  constexpr CompressionCodec kCodec = CompressionCodec::kGzip;
  if (!FitsZlib(in.size()) || !FitsZlib(size)) {
    ThrowInvalid(context, kCodec, "the block is too large for zlib");
  }
  out.resize(size);
  Inflater inflater;
  z_stream& z = inflater.z();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(size);
  for (;;) {
    const int status = inflate(&z, Z_NO_FLUSH);
    if (status == Z_STREAM_END) {
      if (z.avail_in == 0) break;  // the last member
      inflateReset(&z);            // another member follows
    } else if (status == Z_BUF_ERROR) {
      // No progress possible: the input ran out inside a member, or the output is full.
      if (z.avail_in == 0) ThrowInvalid(context, kCodec, "the block is truncated");
      ThrowInvalid(context, kCodec, TooLarge(size));
    } else if (status != Z_OK) {
      ThrowInvalid(context, kCodec, z.msg != nullptr ? z.msg : "the block is corrupt");
    }
  }
  if (z.avail_out != 0) ThrowInvalid(context, kCodec, WrongSize(size - z.avail_out, size));
}

// One gzip member; level is 1..9.
void CompressGzip(std::string_view data, int level, std::string& out) {
  if (!FitsZlib(data.size())) {
    throw Error(ErrorCode::kInvalidArgument,
                "GZIP: cannot compress " + std::to_string(data.size()) + " bytes in one block");
  }
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error(ErrorCode::kInternal, "zlib: cannot initialise the compressor");
  }
  // deflateBound() is enough for one deflate(Z_FINISH) over all the input.
  const std::size_t start = out.size();
  const uLong bound = deflateBound(&z, static_cast<uLong>(data.size()));
  out.resize(start + bound);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  z.avail_out = static_cast<uInt>(bound);
  const int status = deflate(&z, Z_FINISH);
  const std::size_t length = bound - z.avail_out;
  deflateEnd(&z);
  if (status != Z_STREAM_END) throw Error(ErrorCode::kInternal, "zlib: deflate failed");
  out.resize(start + length);
}

struct ZstdFree {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};

// One context per thread, reused: creating one costs more than a small page takes to decode.
ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdFree> dctx;
  if (dctx == nullptr) dctx.reset(ZSTD_createDCtx());
  if (dctx == nullptr) throw Error(ErrorCode::kInternal, "zstd: cannot create a decompressor");
  return dctx.get();
}

ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdFree> cctx;
  if (cctx == nullptr) cctx.reset(ZSTD_createCCtx());
  if (cctx == nullptr) throw Error(ErrorCode::kInternal, "zstd: cannot create a compressor");
  return cctx.get();
}

// One or more frames (skippable ones too), with or without their content size: the one-shot
// decompressor writes into out's capacity and fails with dstSize_tooSmall when they yield more.
void DecompressZstd(std::string_view in, std::size_t size, std::string_view context,
                    std::string& out) {
  constexpr CompressionCodec kCodec = CompressionCodec::kZstd;
  out.resize(size);
  const std::size_t got =
      ZSTD_decompressDCtx(ThreadDecompressor(), out.data(), size, in.data(), in.size());
  if (ZSTD_isError(got)) {
    switch (ZSTD_getErrorCode(got)) {
      case ZSTD_error_dstSize_tooSmall:
        ThrowInvalid(context, kCodec, TooLarge(size));
      case ZSTD_error_srcSize_wrong:
        ThrowInvalid(context, kCodec, "the block is truncated or has bytes after its last frame");
      default:
        ThrowInvalid(context, kCodec, ZSTD_getErrorName(got));
    }
  }
  if (got != size) ThrowInvalid(context, kCodec, WrongSize(got, size));
}

void CompressZstd(std::string_view data, int level, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + ZSTD_compressBound(data.size()));
  const std::size_t length = ZSTD_compressCCtx(ThreadCompressor(), out.data() + start,
                                               out.size() - start, data.data(), data.size(), level);
  if (ZSTD_isError(length)) {
    throw Error(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(length));
  }
  out.resize(start + length);
}

int GzipLevel(int level) {
  if (level == 0) return 6;
  if (level < 1 || level > 9) {
    throw Error(ErrorCode::kInvalidArgument,
                "GZIP compression level " + std::to_string(level) + " is not in 1..9");
  }
  return level;
}

int ZstdLevel(int level) {
  if (level == 0) return ZSTD_CLEVEL_DEFAULT;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    throw Error(ErrorCode::kInvalidArgument, "ZSTD compression level " + std::to_string(level) +
                                                 " is not in " + std::to_string(ZSTD_minCLevel()) +
                                                 ".." + std::to_string(ZSTD_maxCLevel()));
  }
  return level;
}

#endif  // DKDATA_HAVE_COMPRESSION

#if DKDATA_HAVE_LZ4

void DecompressLz4Raw(std::string_view in, std::size_t size, std::string_view context,
                      std::string& out) {
  constexpr CompressionCodec kCodec = CompressionCodec::kLz4Raw;
  constexpr std::size_t kMax = std::numeric_limits<int>::max();
  if (in.size() > kMax || size > kMax) {
    ThrowInvalid(context, kCodec, "the block is too large for lz4");
  }
  out.resize(size);
  const int got = LZ4_decompress_safe(in.data(), out.data(), static_cast<int>(in.size()),
                                      static_cast<int>(size));
  // lz4 reports a block that would overflow the buffer as corrupt: it cannot tell the two apart.
  if (got < 0) {
    ThrowInvalid(
        context, kCodec,
        "the block is corrupt or decompresses to more than " + std::to_string(size) + " bytes");
  }
  if (static_cast<std::size_t>(got) != size) {
    ThrowInvalid(context, kCodec, WrongSize(static_cast<std::size_t>(got), size));
  }
}

void CompressLz4Raw(std::string_view data, std::string& out) {
  if (data.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) {
    throw Error(ErrorCode::kInvalidArgument,
                "LZ4_RAW: cannot compress " + std::to_string(data.size()) + " bytes in one block");
  }
  const int n = static_cast<int>(data.size());
  const int bound = LZ4_compressBound(n);
  const std::size_t start = out.size();
  out.resize(start + static_cast<std::size_t>(bound));
  const int length = LZ4_compress_default(data.data(), out.data() + start, n, bound);
  if (length <= 0) throw Error(ErrorCode::kInternal, "lz4: compression failed");
  out.resize(start + static_cast<std::size_t>(length));
}

#endif  // DKDATA_HAVE_LZ4

#if !DKDATA_HAVE_COMPRESSION

// CRC-32/ISO-HDLC, reflected, one byte at a time: what zlib's crc32 computes.
constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

std::uint32_t Crc32(std::string_view bytes) {
  static constexpr std::array<std::uint32_t, 256> kTable = MakeCrcTable();
  std::uint32_t c = 0xFFFFFFFFu;
  for (char b : bytes) c = kTable[(c ^ static_cast<unsigned char>(b)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

#endif  // !DKDATA_HAVE_COMPRESSION

}  // namespace

bool CodecAvailable(CompressionCodec codec) {
  switch (codec) {
    case CompressionCodec::kUncompressed:
      return true;
    case CompressionCodec::kSnappy:
      return kHaveSnappy;
    case CompressionCodec::kGzip:
    case CompressionCodec::kZstd:
      return kHaveZlibAndZstd;
    case CompressionCodec::kLz4Raw:
      return kHaveLz4;
    default:
      return false;
  }
}

void Decompress(CompressionCodec codec, std::string_view compressed, std::size_t uncompressed_size,
                std::string_view context, std::string& out) {
  if (!CodecAvailable(codec)) {
    throw Error(ErrorCode::kUnsupported, std::string(context) + ": " + CompressionCodecName(codec) +
                                             ": " + WhyUnavailable(codec));
  }
  out.clear();
  // No bytes for no bytes: parquet-java and Spark write an empty block for a v2 page's empty
  // values section (parquet-java issue 3122); Arrow, arrow-rs and DuckDB read it.
  if (compressed.empty() && uncompressed_size == 0) return;
  switch (codec) {
    case CompressionCodec::kUncompressed:
      if (compressed.size() != uncompressed_size) {
        ThrowInvalid(context, codec,
                     "the page has " + std::to_string(compressed.size()) +
                         " bytes, the page header says " + std::to_string(uncompressed_size));
      }
      out.assign(compressed);
      return;
#if DKDATA_HAVE_SNAPPY
    case CompressionCodec::kSnappy:
      DecompressSnappy(compressed, uncompressed_size, context, out);
      return;
#endif
#if DKDATA_HAVE_COMPRESSION
    case CompressionCodec::kGzip:
      DecompressGzip(compressed, uncompressed_size, context, out);
      return;
    case CompressionCodec::kZstd:
      DecompressZstd(compressed, uncompressed_size, context, out);
      return;
#endif
#if DKDATA_HAVE_LZ4
    case CompressionCodec::kLz4Raw:
      DecompressLz4Raw(compressed, uncompressed_size, context, out);
      return;
#endif
    default:
      break;
  }
  throw Error(ErrorCode::kInternal, "Decompress: no decoder for " + CompressionCodecName(codec));
}

void Compress(CompressionCodec codec, std::string_view data, [[maybe_unused]] int level,
              std::string& out) {
  if (!CodecAvailable(codec)) {
    throw Error(ErrorCode::kInvalidArgument, "cannot compress with " + CompressionCodecName(codec) +
                                                 ": " + WhyUnavailable(codec));
  }
  switch (codec) {
    case CompressionCodec::kUncompressed:
      out.append(data);
      return;
#if DKDATA_HAVE_SNAPPY
    case CompressionCodec::kSnappy:
      CompressSnappy(data, out);
      return;
#endif
#if DKDATA_HAVE_COMPRESSION
    case CompressionCodec::kGzip:
      CompressGzip(data, GzipLevel(level), out);
      return;
    case CompressionCodec::kZstd:
      CompressZstd(data, ZstdLevel(level), out);
      return;
#endif
#if DKDATA_HAVE_LZ4
    case CompressionCodec::kLz4Raw:
      CompressLz4Raw(data, out);
      return;
#endif
    default:
      break;
  }
  throw Error(ErrorCode::kInternal, "Compress: no encoder for " + CompressionCodecName(codec));
}

std::int32_t PageCrc(std::string_view bytes) {
#if DKDATA_HAVE_COMPRESSION
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
#else
  const std::uint32_t crc = Crc32(bytes);
#endif
  return std::bit_cast<std::int32_t>(crc);
}

}  // namespace dkdata::internal::parquet
