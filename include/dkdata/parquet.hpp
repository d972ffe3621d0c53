// dkdata/parquet.hpp: records to and from Parquet files, with dkdata's own reader and writer.
//
// Any Parquet file reads as records: each top-level column is a field, a null cell leaves the
// field absent, and the logical types become values as docs/parquet-format.md says (strings, ints,
// floats, timestamps, bytes, lists and float vectors, ...). Files dkdata writes keep every record
// exactly (id in `__id__`, version, metadata, field types, explicit nulls) and are read by
// pyarrow, pandas, DuckDB and Spark like any other.
//
// Errors: Error(kIo) when the file cannot be opened, read or written; Error(kInvalidArgument) for
// a file that is not valid Parquet, naming the file, row group, column and page of the problem;
// Error(kUnsupported) for what Parquet allows but dkdata does not read (a struct or map column, a
// BROTLI page), naming the column.
//
// Thread-safety: the functions are reentrant; several threads may read the same file at once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dkdata/query.hpp"
#include "dkdata/record.hpp"

namespace dkdata {

struct ParquetReadOptions {
  // The fields to read (a dotted path selects its top-level field); empty reads every column. The
  // other columns' bytes are not read.
  std::vector<std::string> fields;
  // Row groups whose min/max statistics show that no row can match are skipped, and the rows of
  // the others are filtered, so that exactly the matching records are delivered.
  std::optional<Expr> filter;
  // Threads that decode a row group's columns and build its records at once; 0: the machine's
  // cores. The records, their order and any error are the same whatever the count.
  unsigned threads = 0;
};

// Calls sink with each record of the file, in the file's order, always on the calling thread;
// sink may move from the record. A bad row is an error thrown after the rows before it were
// delivered (a bad page: after the row groups before its own); an exception from sink stops the
// read and passes through.
void ReadParquet(const std::string& path, const ParquetReadOptions& options,
                 const std::function<void(Record&)>& sink);
// Every record of the file.
std::vector<Record> ReadParquet(const std::string& path, const ParquetReadOptions& options = {});

// A Parquet file held in memory as its decoded columns, each row's record built when it is
// asked for: the records ReadParquet gives, at hand by row number, in a fraction of the memory
// (a record takes several times the bytes of the column values it is built from) and read in a
// fraction of the time.
//
// Cells are converted when a record is built, so an error in a cell (a string that is not UTF-8,
// a JSON cell that does not parse, a bad `__version__`) comes from record() or ForEach for that
// row, naming the file, row group, column and row; errors of the file itself (bad pages, a
// truncated chunk) come from ReadParquetTable.
//
// Thread-safety: immutable; record(), ForEach() and ToRecords() may run on several threads at
// once. Copies share the columns.
class ParquetTable {
 public:
  // A table of no rows.
  ParquetTable();

  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  // The record at row (below size(), else Error(kInvalidArgument)): the one ReadParquet gives at
  // that place, with the same options.
  Record record(std::size_t row) const;
  // Every record in order to sink, on the calling thread; sink may move from it. Records are
  // built on `threads` threads (0: the machine's cores). A bad row is an error thrown after the
  // rows before it were delivered; an exception from sink stops the pass and passes through.
  void ForEach(const std::function<void(Record&)>& sink, unsigned threads = 0) const;
  // Every record, built as by ForEach.
  std::vector<Record> ToRecords(unsigned threads = 0) const;

 private:
  struct State;
  explicit ParquetTable(std::shared_ptr<const State> state);
  friend ParquetTable ReadParquetTable(const std::string&, const ParquetReadOptions&);

  std::shared_ptr<const State> state_;
};

// Reads the columns of the file that options select into a table: only the projection's column
// chunks (and the filter's), of the row groups that the filter's statistics do not exclude, on
// options.threads threads. With a filter the table holds the matching rows only (each row's
// record is built once here to test it, so its cells' errors come from here).
ParquetTable ReadParquetTable(const std::string& path, const ParquetReadOptions& options = {});

struct ParquetWriteOptions {
  // The pages' codec: "snappy" (the default), "zstd", "gzip", "lz4" or "none".
  std::string compression = "snappy";
  // 0: the codec's default level (zstd takes its own range, gzip 1..9).
  int compression_level = 0;
  // Rows per row group: smaller groups let readers skip more by statistics; larger ones compress
  // better.
  std::size_t row_group_size = std::size_t{1} << 17;
  // Threads that turn records into columns and encode them: several row groups at once (one
  // per thread), or a lone row group's slices of rows and column chunks; 0: the machine's cores.
  // The file is the same whatever the count.
  unsigned threads = 0;
  // Column types by field name, for columns that should not take their type from the values (a
  // column of only nulls, ints stored as floats, ...). These columns come first, in this order;
  // a value of another kind is converted (ConvertValue in record.hpp) or is
  // Error(kInvalidArgument) naming the record and field. Reading the file back gives each field
  // its own type again, with the converted value (the same value when the conversion is exact,
  // as int 3 → 3.0 → 3; "2024-05-01" in a datetime column reads back as "2024-05-01T00:00:00Z").
  std::vector<std::pair<std::string, FieldType>> schema;
};

// Writes the records as a Parquet file at path, atomically (a temp file beside it, fsynced and
// renamed over it): a failure leaves any file already there as it was.
void WriteParquet(const std::string& path, std::span<const Record> records,
                  const ParquetWriteOptions& options = {});

}  // namespace dkdata
