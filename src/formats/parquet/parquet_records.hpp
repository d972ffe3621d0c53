// formats/parquet/parquet_records.hpp: dkdata records as Parquet rows, both ways.
//
// The mapping is specified in docs/parquet-format.md; in short:
// - Reading any Parquet file: each top-level column is a field; a null cell leaves the field
//   absent (as the reference does). Logical types become values: strings (STRING, ENUM), parsed
//   JSON (JSON), ints (INT8..64, UINT8..32, UINT64 up to 2^63-1 and its exact decimal text
//   above), floats (FLOAT, DOUBLE, FLOAT16), bool, bytes (binary, BSON, FIXED_LEN_BYTE_ARRAY),
//   timestamps (TIMESTAMP in any unit, UTC or local, nanoseconds floored to microseconds; DATE at
//   midnight UTC; INT96), TIME as "HH:MM:SS[.ffffff[fff]]", UUID as its canonical text, DECIMAL
//   as a float when its precision is at most 15 digits (exact) and as its exact decimal text
//   otherwise; lists of those as lists, and lists of FLOAT as vectors. Columns `__id__`,
//   `__version__` and `__metadata__` carry the record id, version and metadata.
// - Writing: one column per field name, typed from the records' values; dkdata's own files read
//   back as exactly the records written (ids, versions, metadata, field types, explicit nulls).
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkdata/query.hpp"
#include "dkdata/record.hpp"
#include "formats/parquet/parquet_reader.hpp"
#include "formats/parquet/parquet_writer.hpp"

namespace dkdata::internal::parquet {

// The columns that carry what is not a field (docs/parquet-format.md).
inline constexpr std::string_view kIdColumn = "__id__";
inline constexpr std::string_view kVersionColumn = "__version__";
inline constexpr std::string_view kMetadataColumn = "__metadata__";

struct RecordReadOptions {
  // The top-level fields to read (a dotted path selects its first part); empty reads all. Only
  // the chunks of these columns (and of `__id__`, `__version__`, `__metadata__`) are read.
  std::vector<std::string> fields;
  // When set, row groups whose statistics show that no row can match are skipped. Rows of the
  // other groups are all delivered: filtering them is the caller's job.
  const Expr* filter = nullptr;
  // Threads that decode a row group's column chunks, then build its records, at once (0: the
  // machine's cores). Records, order and errors do not depend on the count.
  unsigned threads = 1;
};

// What a read did, for tests and benchmarks.
struct RecordReadStats {
  std::size_t row_groups_read = 0;
  std::size_t row_groups_skipped = 0;
  std::size_t column_chunks_read = 0;
};

// Reads the file's rows as records, in order, calling sink for each on the calling thread; the
// sink may move from the record. A bad row is an error thrown after the rows before it were
// delivered (a bad page: after the row groups before its own); an exception from sink stops the
// read and passes through. A column the mapping cannot read (a struct or map, a list of lists) is
// Error(kUnsupported) naming it, unless the projection leaves it out. Errors of the reader pass
// through; a JSON cell that does not parse, or a `__metadata__` that is not dkdata's, is
// Error(kInvalidArgument) naming the file, row group, column and row.
RecordReadStats ReadParquetRecords(const ParquetFileReader& reader,
                                   const RecordReadOptions& options,
                                   const std::function<void(Record&)>& sink);

// A file's rows held in memory as their decoded column chunks, each row's record built only when
// it is asked for (a record takes several times the memory of the column values it comes from).
// Holds a reference to the reader, which must outlive it. Immutable once made: RecordAt and
// ForEach may run on several threads at once.
class DecodedRows {
 public:
  // Decodes, on options.threads threads and all row groups at once, the chunks that
  // ReadParquetRecords would read with these options (the projection's columns of the row groups
  // the filter's statistics leave; the rows of those groups are all kept). Errors of the reader
  // pass through, the first in file order; a column the mapping cannot read is
  // Error(kUnsupported) naming it.
  DecodedRows(const ParquetFileReader& reader, const RecordReadOptions& options);
  ~DecodedRows();
  DecodedRows(const DecodedRows&) = delete;
  DecodedRows& operator=(const DecodedRows&) = delete;

  // The rows kept.
  std::size_t size() const noexcept;
  const RecordReadStats& stats() const noexcept;
  // Refills out with the record of row (below size()), exactly as ReadParquetRecords gives it; a
  // cell that does not convert is the error ReadParquetRecords throws for that row.
  void RecordAt(std::size_t row, Record& out) const;
  // Every row's record, as ReadParquetRecords delivers them (same order, thread, errors), built
  // on `threads` threads (0: the machine's cores).
  void ForEach(unsigned threads, const std::function<void(Record&)>& sink) const;

 private:
  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

struct RecordWriteOptions {
  WriterOptions writer;
  std::size_t row_group_rows = std::size_t{1} << 17;
  // Column types by field name, for the columns that should not take their type from the values
  // (a column of only nulls, ints to store as floats, ...): these columns come first, in this
  // order, and a value of another kind is converted (dkdata::ConvertValue) or is an error naming
  // the record and field.
  std::vector<std::pair<std::string, FieldType>> schema;
};

// Writes the records as one Parquet file through sink, which gets the bytes in order, one call at
// a time, but not always on the calling thread: options.writer.threads threads fill and encode
// several row groups at once. The file, and the error when records are bad, do not depend on the
// count. NaN and infinities are written in float columns; in a column of mixed kinds (stored as
// JSON) they are Error(kInvalidArgument) naming the record and field. Invalid UTF-8 in a string is
// an error too (Parquet strings are UTF-8).
void WriteParquetRecords(std::span<const Record* const> records, const RecordWriteOptions& options,
                         const ParquetWriter::Sink& sink);

}  // namespace dkdata::internal::parquet
