// formats/csv.hpp: records as CSV or TSV, with types that round-trip.
//
// The format is specified in docs/csv-format.md; in short:
// - The header names the columns: `__id__` (the record id), `__version__` (only when some record
//   has a version), one `name:type` column per field (FieldType names), and `__metadata__` (only
//   when needed: a JSON object with record metadata, field metadata and per-field type exceptions).
// - A cell is absent (empty), null (`null`; `\N` in TSV) or a value in the column's type.
// - A plain CSV/TSV from another tool (no `:type` and no `__id__`) is read with per-cell type
//   inference; CsvOptions::column_types can fix the type of any column that has no `:type`.
// - TSV is "linear TSV": no quoting; backslash escapes for \\ \t \n \r; `\N` is null, `\E` the
//   empty string.
//
// Reading streams: one row at a time through a bounded buffer that grows only to hold the longest
// row. Writing needs every record up front (the header lists every field).
//
// Thread-safety: the functions are reentrant; a stream is used by one thread at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/record.hpp"
#include "formats/compression.hpp"

namespace dkdata::internal {

class WorkerPool;

struct CsvDialect {
  char delimiter = ',';
  bool tsv = false;  // true: "linear TSV": no quoting; \t \n \r \\ are backslash-escaped in cells
};

// "csv" → comma-separated, "tsv" → tab-separated linear TSV (case-insensitive). Anything else is
// Error(kInvalidArgument).
CsvDialect CsvDialectFor(std::string_view format);

struct CsvOptions {
  CsvDialect dialect;
  // Types for columns of a plain (untyped) file, by column name; others are inferred. A column
  // whose header has a `:type` keeps that type.
  std::map<std::string, FieldType, std::less<>> column_types;
  // Reading: decode on a second thread while the sink runs on the calling thread (the sink is
  // still called from the calling thread only, in row order). Inputs that fit in the first read
  // (about 1 MiB) are always read on the calling thread. Off by default: on a busy two-core
  // machine it was slower (the sink frees records another thread allocated); measure on the
  // target machine before turning it on.
  bool pipelined = false;
};

// Reads a whole CSV/TSV stream as records, calling sink for each (line: the 1-based line where the
// row starts). Blank lines are skipped; a UTF-8 BOM at the start is skipped; CRLF, LF and CR line
// ends are read. Errors are Error(kInvalidArgument) naming source_name, the line and the column,
// e.g. "people.csv:12: column 'age': '4x' is not an integer"; stream errors pass through.
// The record handed to sink belongs to the reader, which refills it for a later row: the sink
// moves from it, swaps it with a record of its own or copies what it keeps. Refilling reuses the
// storage of fields with the same name at the same position, so a sink that swaps in a record
// of the previous rows' layout makes reading allocate almost nothing.
void ReadCsvRecords(InputStream& in, const CsvOptions& options, std::string_view source_name,
                    const std::function<void(Record& record, std::size_t line)>& sink);

// One field of a CsvRow: its value without a Value for the scalar kinds.
struct CsvField {
  std::size_t column = 0;  // the cell's column: an index into the names ReadCsvRows reports
  FieldType type = FieldType::kString;
  // Where the value is: with boxed false, kind is kNull, kBool, kInt, kFloat, kString or
  // kTimestamp and the value is in the member of that kind; with boxed true it is in value.
  ValueKind kind = ValueKind::kNull;
  bool boxed = false;
  bool boolean = false;
  std::int64_t integer = 0;  // kInt; kTimestamp: microseconds since the epoch
  double number = 0;         // kFloat
  std::string_view text;     // kString: in the reader's buffer, valid until the sink returns
  Value value;
  Object metadata;  // the field's metadata, from the `__metadata__` column
};

// One row, as ReadCsvRows hands it over. Reused from row to row: fields keeps its storage, and
// only its first field_count entries belong to this row.
struct CsvRow {
  std::size_t line = 0;  // where the row starts (1-based)
  bool has_id = false;
  std::string_view id;  // valid until the sink returns
  std::uint64_t version = 0;
  Object metadata;  // the record's metadata
  std::vector<CsvField> fields;
  std::size_t field_count = 0;  // the row's fields, in column order, absent cells left out
};

// The rows of a CSV/TSV stream without building Records, for readers that store rows their own
// way (the file backend's memory image); rules and errors as ReadCsvRecords, which is built on
// it. on_header gets the names of all columns first (a field column by its field name). Reads on
// the calling thread (options.pipelined is not used).
void ReadCsvRows(InputStream& in, const CsvOptions& options, std::string_view source_name,
                 const std::function<void(const std::vector<std::string>& names)>& on_header,
                 const std::function<void(CsvRow& row)>& sink);

// Where ReadCsvRowsInParallel puts the rows of one part of the file. Add runs on the thread that
// decodes the part, for its rows in order; the row's views are valid until Add returns.
class CsvPartSink {
 public:
  virtual ~CsvPartSink() = default;
  virtual void Add(CsvRow& row) = 0;
};

// ReadCsvRows on the threads of pool: the file is cut into parts of whole rows (about 1 MiB) that
// the pool's threads decode at the same time. For each part, new_part() makes its sink (on the
// calling thread); then the part's rows go to it, on the thread decoding the part; then
// part_done(sink) runs on the calling thread, for the parts in file order. The rows, their lines
// and every error are exactly those of ReadCsvRows: an error is thrown once the rows before the
// one at fault have reached part_done. A part cut inside a quoted cell (a quote inside an unquoted
// cell misleads the cutting) or after a lone CR (which makes line numbers unknown) is noticed, and
// the rest of the file is then read on the calling thread, in parts of 4096 rows.
void ReadCsvRowsInParallel(
    InputStream& in, const CsvOptions& options, std::string_view source_name, WorkerPool& pool,
    const std::function<void(const std::vector<std::string>& names)>& on_header,
    const std::function<std::unique_ptr<CsvPartSink>()>& new_part,
    const std::function<void(CsvPartSink& part)>& part_done);

// The record of a row (moving its boxed values and metadata out), refilling record as
// ReadCsvRecords does; names are those ReadCsvRows reported.
void CsvRowToRecord(CsvRow& row, const std::vector<std::string>& names, Record& record);

// Writes the header and one row per record, then calls out.Finish() (calling it again is a
// no-op). Throws Error(kInvalidArgument) for NaN/infinity (before writing anything), invalid
// UTF-8 in a string, field name or id, or a delimiter that cannot be used; the output is then
// incomplete and the caller discards it. Options other than the dialect are not used.
void WriteCsvRecords(OutputStream& out, const CsvOptions& options,
                     const std::vector<const Record*>& records);

}  // namespace dkdata::internal
