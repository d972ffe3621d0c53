// formats/parquet/parquet_reader.hpp: reads a Parquet file's footer and decodes its column
// chunks into ColumnData (parquet_column.hpp).
//
// A ParquetFileReader reads the footer when it is made, then one column chunk at a time, on
// demand: a projection that needs 2 of 8 columns reads only those chunks' bytes. Pages: an
// optional dictionary page (PLAIN or PLAIN_DICTIONARY), data pages v1 and v2 (levels RLE, or the
// deprecated BIT_PACKED in v1), values in PLAIN, RLE_DICTIONARY / PLAIN_DICTIONARY, RLE
// (booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY or BYTE_STREAM_SPLIT,
// each page compressed with the chunk's codec (parquet_codecs.hpp); index pages and unknown page
// types are skipped; a page's CRC is checked when it has one.
//
// Untrusted input: every size is checked before it is used, so a corrupt file gives an error and
// never a crash, and nothing is allocated from a size in the file without a bound: page sizes
// must lie within the chunk, and a page's uncompressed size within kMaxPageBytes and
// kMaxExpansion times its compressed size. Errors are Error(kInvalidArgument) (Error(kUnsupported)
// for what the format allows but this reader does not, e.g. a BROTLI page) whose message names the
// file, the row group, the column and the page: "data.parquet: row group 2, column 'price', page 3
// (byte 81234): dictionary index 70 is not below the dictionary's 64 values".
//
// Thread-safety: the reader is immutable after construction; ReadColumnChunk may be called from
// several threads at once (it only preads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/parquet_column.hpp"
#include "formats/parquet/parquet_metadata.hpp"

namespace dkdata::internal::parquet {

// The largest page (uncompressed) the reader accepts, and the largest ratio of uncompressed to
// compressed page size (zstd's and gzip's best ratios on runs stay far below it).
inline constexpr std::size_t kMaxPageBytes = std::size_t{1} << 30;
inline constexpr std::size_t kMaxExpansion = 4096;
// The most level entries (values, nulls and list elements) a column chunk may hold: each takes 4
// to 24 bytes decoded, and a few bytes of RLE can stand for billions of nulls or of repeats of one
// dictionary index (pyarrow writes 10 M nulls in 51 bytes), so no ratio to the chunk's size bounds
// them. A chunk above it is Error(kUnsupported); 2^28 entries are 1 GiB of levels of one kind.
inline constexpr std::uint64_t kMaxChunkValues = std::uint64_t{1} << 28;

class ParquetFileReader {
 public:
  // Opens path and reads its footer; Error(kIo) when it cannot be opened or read, the errors of
  // ReadFooter when the footer is not valid. name is used in errors (the path when empty).
  static ParquetFileReader Open(const std::string& path);
  // Over bytes held in memory (tests, fuzzing, files fetched whole); name is used in errors.
  static ParquetFileReader FromBytes(std::string bytes, std::string name);

  ParquetFileReader(ParquetFileReader&&) noexcept;
  ParquetFileReader& operator=(ParquetFileReader&&) noexcept;
  ~ParquetFileReader();

  const std::string& name() const noexcept { return name_; }
  const FileMetaData& metadata() const noexcept { return metadata_; }
  const std::vector<LeafColumn>& leaves() const noexcept { return leaves_; }
  std::uint64_t file_size() const noexcept { return file_size_; }

  // Decodes the chunk of leaf column `leaf` in row group `row_group` into out (replaced). The
  // result holds exactly ColumnMetaData::num_values level entries (values for a flat required
  // column) and, for a column with repetition, RowGroup::num_rows rows.
  void ReadColumnChunk(std::size_t row_group, std::size_t leaf, ColumnData& out) const;

 private:
  ParquetFileReader() = default;
  // The chunk's stored bytes (pages with their headers).
  std::string ReadRange(std::uint64_t offset, std::uint64_t size) const;

  std::string name_;
  int fd_ = -1;         // when reading a file
  std::string memory_;  // when reading bytes held in memory
  std::uint64_t file_size_ = 0;
  FileMetaData metadata_;
  std::vector<LeafColumn> leaves_;
};

}  // namespace dkdata::internal::parquet
