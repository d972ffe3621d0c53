// tools/dkdata/output.hpp: how records are printed: an aligned table, JSON lines or CSV.
//
// Tables and CSV share their columns: `id` first, then the union of the records' field names in
// the order they are first seen.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/json.hpp"
#include "dkdata/record.hpp"

namespace dkdata::cli {

enum class OutputFormat { kAuto, kTable, kJsonl, kCsv };

// The names accepted by --format ("table", "jsonl", "csv"), for CLI11's IsMember check.
inline const std::vector<std::string> kOutputFormatNames = {"table", "jsonl", "csv"};
// "" (not given) is kAuto; the names above map to their formats.
OutputFormat ParseOutputFormat(std::string_view name);
// kAuto becomes a table on a terminal and JSON lines otherwise.
OutputFormat ResolveOutputFormat(OutputFormat format, bool stdout_is_terminal);

// Writes records in a resolved format (not kAuto).
void WriteRecords(std::ostream& out, const std::vector<Record>& records, OutputFormat format);

// A table for people: aligned columns, cells cut to kMaxCellWidth columns with "…", numbers
// right-aligned, and a last line saying how many records there were.
inline constexpr std::size_t kMaxCellWidth = 40;
void WriteTable(std::ostream& out, const std::vector<Record>& records);
// One JSON document per line.
void WriteJsonLine(std::ostream& out, const Record& record, RecordFormat format);
// RFC 4180 CSV with a header row; strings as they are, other values as JSON.
void WriteCsv(std::ostream& out, const std::vector<Record>& records);

// "1 record", "2 records".
std::string RecordCount(std::size_t n);

// The terminal width of UTF-8 text: East Asian wide characters and emoji take two columns,
// combining marks none.
std::size_t DisplayWidth(std::string_view text);
// text cut to at most max_width columns, ending in "…" when it was cut.
std::string TruncateToWidth(std::string_view text, std::size_t max_width);
// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string CsvField(std::string_view text);

}  // namespace dkdata::cli
