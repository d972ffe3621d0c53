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
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/record.hpp"
#include "formats/compression.hpp"

namespace dkdata::internal {

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

// Writes the header and one row per record, then calls out.Finish() (calling it again is a
// no-op). Throws Error(kInvalidArgument) for NaN/infinity (before writing anything), invalid
// UTF-8 in a string, field name or id, or a delimiter that cannot be used; the output is then
// incomplete and the caller discards it. Options other than the dialect are not used.
void WriteCsvRecords(OutputStream& out, const CsvOptions& options,
                     const std::vector<const Record*>& records);

}  // namespace dkdata::internal
