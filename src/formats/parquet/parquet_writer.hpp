// formats/parquet/parquet_writer.hpp: writes a Parquet file from columns of values (ColumnData),
// one row group at a time.
//
// The caller gives the schema (FileMetaData::schema form: the root group first, depth-first) and,
// per row group, one ColumnData per leaf column in schema order, with the levels the leaf's
// maxima call for. The writer cuts each column chunk into data pages (v1) of about
// WriterOptions::data_page_size bytes (values counted at their PLAIN size, a null slot as one
// byte; a page of a repeated column always starts a row), encodes values with a dictionary
// (RLE_DICTIONARY, the dictionary PLAIN in a dictionary page) while the dictionary stays under
// WriterOptions::dictionary_page_limit bytes and is worth it (dictionary and indices smaller than
// the same values PLAIN), and falls back to PLAIN for the rest of the chunk (no dictionary page
// at all when the first page with values already falls back, e.g. unique ids; BOOLEAN and INT96
// are always PLAIN), compresses each page with the codec, and records chunk statistics
// (null_count, min_value / max_value in the column's sort order, with TYPE_ORDER in
// column_orders; NaN never a bound; -0.0 written as a zero min and +0.0 as a zero max; no bounds
// when there are no non-NaN values, nor for INT96, INTERVAL and FLOAT16; nan_count for FLOAT and
// DOUBLE; byte-array bounds not truncated). FileMetaData.version is 1, as parquet.thrift asks.
//
// Output goes through a sink function, in order, each byte once (the file backend writes to a
// temp file that it renames; see file_io.hpp). The writer never seeks. The file's bytes depend on
// the schema, the options and the data alone: not on WriterOptions::threads, nor on how the row
// groups were encoded (WriteRowGroup, or EncodeRowGroup on several threads).
//
// Errors: Error(kInvalidArgument) for input that does not match the schema (a column count,
// level or value count that disagrees, a level above its maximum, a FIXED_LEN_BYTE_ARRAY value of
// the wrong length), naming the column; the sink's own errors pass through. After an error (but
// one of EncodeRowGroup) the output is incomplete and the writer unusable.
//
// Thread-safety: a writer is used by one thread at a time, but for EncodeRowGroup, which several
// threads may call at once (see there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/parquet_column.hpp"
#include "formats/parquet/parquet_metadata.hpp"

namespace dkdata::internal::parquet {

struct WriterOptions {
  CompressionCodec codec = CompressionCodec::kSnappy;
  int compression_level = 0;  // 0: the codec's default (see parquet_codecs.hpp)
  bool dictionary = true;
  std::size_t dictionary_page_limit = std::size_t{1} << 20;  // bytes of PLAIN dictionary values
  std::size_t data_page_size = std::size_t{1} << 20;         // bytes of encoded values per page
  bool statistics = true;
  std::string created_by = "dkdata";
  std::vector<KeyValue> key_value_metadata;  // written in the footer
  // Threads that WriteRowGroup encodes a row group's column chunks on (0: the machine's cores).
  // The file is the same whatever the count.
  unsigned threads = 1;
};

// A row group that ParquetWriter::EncodeRowGroup encoded, waiting for AppendRowGroup. It keeps the
// buffers its encoding used: encoding the next row group into the same object reuses them.
class EncodedRowGroup {
 public:
  EncodedRowGroup();
  ~EncodedRowGroup();
  EncodedRowGroup(EncodedRowGroup&&) noexcept;
  EncodedRowGroup& operator=(EncodedRowGroup&&) noexcept;

 private:
  friend class ParquetWriter;
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

class ParquetWriter {
 public:
  using Sink = std::function<void(std::string_view bytes)>;

  // Writes the leading magic through sink. schema is validated (SchemaLeaves) and kept.
  ParquetWriter(std::vector<SchemaElement> schema, WriterOptions options, Sink sink);
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // The schema's leaf columns (the order WriteRowGroup takes their data in).
  const std::vector<LeafColumn>& leaves() const;

  // Writes one row group of num_rows rows: columns[i] is leaf i's data. A row group of 0 rows is
  // written like any other (readers accept it). Its column chunks are encoded on
  // WriterOptions::threads threads.
  void WriteRowGroup(std::span<const ColumnData> columns, std::int64_t num_rows);

  // WriteRowGroup in two steps, so that a caller can encode several row groups at once, on
  // threads of its own. EncodeRowGroup checks and encodes a row group into encoded (replacing
  // what it held), on the calling thread alone; columns need to live only until it returns.
  // Several threads may call it at once, each with its own encoded, also while another thread
  // calls AppendRowGroup. Its errors are WriteRowGroup's, but it writes nothing: the writer stays
  // usable.
  void EncodeRowGroup(std::span<const ColumnData> columns, std::int64_t num_rows,
                      EncodedRowGroup& encoded) const;
  // Writes a row group that EncodeRowGroup encoded after the row groups written so far; encoded
  // keeps its buffers for reuse. One not encoded, or appended already, is Error(kInvalidArgument)
  // and writes nothing.
  void AppendRowGroup(EncodedRowGroup& encoded);

  // Writes the footer and the trailing magic. Call once, last.
  void Finish();

  // Bytes written so far.
  std::uint64_t bytes_written() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dkdata::internal::parquet
