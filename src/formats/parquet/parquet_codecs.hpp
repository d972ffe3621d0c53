// formats/parquet/parquet_codecs.hpp: the compression codecs of Parquet pages, one block at a
// time (docs/research/parquet.md section 7), and the pages' CRC-32.
//
// Parquet compresses each page body as one block with no framing of its own: SNAPPY is the raw
// Snappy block format, GZIP one or more RFC 1952 members, ZSTD one or more frames, LZ4_RAW the LZ4
// block format. The page header gives the uncompressed size, so decompression writes into a buffer
// of exactly that size and fails when the codec yields a different number of bytes.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "formats/parquet/parquet_metadata.hpp"

namespace dkdata::internal::parquet {

// Whether this build can decompress and compress codec (UNCOMPRESSED always; SNAPPY, GZIP, ZSTD
// and LZ4_RAW when their libraries were found at build time).
bool CodecAvailable(CompressionCodec codec);

// Replaces out with the uncompressed_size bytes that compressed decompresses to. Errors are
// Error(kInvalidArgument) starting with context (which names the file, row group, column and page)
// and naming the codec: corrupt data, a size other than uncompressed_size, an unknown or
// unavailable codec (Error(kUnsupported) for BROTLI, LZO, the deprecated LZ4 and codecs this build
// lacks). uncompressed_size is the caller's bound: it is checked against the file size before.
void Decompress(CompressionCodec codec, std::string_view compressed, std::size_t uncompressed_size,
                std::string_view context, std::string& out);

// Appends data compressed with codec to out. level 0 is the codec's default; GZIP takes 1..9 and
// ZSTD its own range; the level is ignored for SNAPPY, LZ4_RAW and UNCOMPRESSED. An unavailable
// codec or a level out of range is Error(kInvalidArgument).
void Compress(CompressionCodec codec, std::string_view data, int level, std::string& out);

// The CRC-32 (ISO-HDLC: polynomial 0x04C11DB7, as zlib's crc32) of bytes, as the PageHeader's crc
// field stores it (the unsigned value's bit pattern).
std::int32_t PageCrc(std::string_view bytes);

}  // namespace dkdata::internal::parquet
