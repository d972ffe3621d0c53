#include "output.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "dkdata/value.hpp"

namespace dkdata::cli {
namespace {

// ---- UTF-8 ----

struct CodePoint {
  char32_t value;
  std::size_t length;  // bytes it took; an invalid byte counts as one code point of its own
};

CodePoint DecodeUtf8(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = lead < 0x80         ? 1
                       : lead >> 5 == 0x6  ? 2
                       : lead >> 4 == 0xE  ? 3
                       : lead >> 3 == 0x1E ? 4
                                           : 0;
  if (length == 0 || pos + length > text.size()) return {lead, 1};
  char32_t value = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return {lead, 1};
    value = (value << 6) | (next & 0x3F);
  }
  return {value, length};
}

bool InRanges(char32_t c, std::initializer_list<std::pair<char32_t, char32_t>> ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [c](const auto& r) { return c >= r.first && c <= r.second; });
}

// Columns a code point takes on a terminal (a compact version of wcwidth).
std::size_t CodePointWidth(char32_t c) {
  if (InRanges(c, {{0x0300, 0x036F}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}})) {
    return 0;
  }
  if (InRanges(c, {{0x1100, 0x115F},
                   {0x2E80, 0x303E},
                   {0x3041, 0x33FF},
                   {0x3400, 0x4DBF},
                   {0x4E00, 0x9FFF},
                   {0xA000, 0xA4CF},
                   {0xAC00, 0xD7A3},
                   {0xF900, 0xFAFF},
                   {0xFE30, 0xFE4F},
                   {0xFF00, 0xFF60},
                   {0xFFE0, 0xFFE6},
                   {0x1F300, 0x1F64F},
                   {0x1F900, 0x1F9FF},
                   {0x20000, 0x3FFFD}})) {
    return 2;
  }
  return 1;
}

// ---- Columns and cells ----

constexpr std::string_view kIdColumn = "id";

// `id`, then every field name in the order first seen (a data field named "id" shares the id
// column).
std::vector<std::string> CollectColumns(const std::vector<Record>& records) {
  std::vector<std::string> columns = {std::string(kIdColumn)};
  for (const Record& record : records) {
    for (const Field& field : record.fields()) {
      if (std::find(columns.begin(), columns.end(), field.name) == columns.end()) {
        columns.push_back(field.name);
      }
    }
  }
  return columns;
}

// The value shown in a column, or nullptr when the record has none.
const Value* CellValue(const Record& record, const std::string& column) {
  const Field* field = record.FindField(column);
  return field == nullptr ? nullptr : &field->value;
}

std::optional<std::string> IdCell(const Record& record) {
  if (record.id()) return *record.id();
  return record.ResolveId();
}

// Line breaks and tabs would break the table's rows: show them as visible escapes.
std::string SingleLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t' || static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string TableCell(const Record& record, const std::string& column) {
  if (column == kIdColumn) return SingleLine(IdCell(record).value_or(""));
  const Value* value = CellValue(record, column);
  if (value == nullptr || value->is_null()) return "";
  return TruncateToWidth(SingleLine(value->ToDisplayString()), kMaxCellWidth);
}

// Numbers are right-aligned: a column is numeric when every value in it is a number.
bool IsNumericColumn(const std::vector<Record>& records, const std::string& column) {
  bool any = false;
  for (const Record& record : records) {
    const Value* value = CellValue(record, column);
    if (value == nullptr || value->is_null()) continue;
    if (!value->is_number()) return false;
    any = true;
  }
  return any && column != kIdColumn;
}

std::string Padded(const std::string& text, std::size_t width, bool right) {
  const std::string padding(width - std::min(width, DisplayWidth(text)), ' ');
  return right ? padding + text : text + padding;
}

void WriteRow(std::ostream& out, const std::vector<std::string>& cells,
              const std::vector<std::size_t>& widths, const std::vector<bool>& right) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    line += Padded(cells[i], widths[i], right[i]);
  }
  line.erase(line.find_last_not_of(' ') + 1);  // no trailing blanks
  out << line << '\n';
}

std::string CsvText(const Value* value) {
  if (value == nullptr || value->is_null()) return "";
  if (const auto* s = value->Get<std::string>()) return *s;
  if (const auto* t = value->Get<Timestamp>()) return t->ToIso();
  if (const auto* b = value->Get<Bytes>()) return Base64Encode(b->data);
  return ToJson(*value);
}

}  // namespace

OutputFormat ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "jsonl") return OutputFormat::kJsonl;
  if (name == "csv") return OutputFormat::kCsv;
  return OutputFormat::kAuto;
}

OutputFormat ResolveOutputFormat(OutputFormat format, bool stdout_is_terminal) {
  if (format != OutputFormat::kAuto) return format;
  return stdout_is_terminal ? OutputFormat::kTable : OutputFormat::kJsonl;
}

void WriteRecords(std::ostream& out, const std::vector<Record>& records, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return WriteTable(out, records);
    case OutputFormat::kCsv:
      return WriteCsv(out, records);
    case OutputFormat::kAuto:
    case OutputFormat::kJsonl:
      for (const Record& record : records) WriteJsonLine(out, record, RecordFormat::kFlat);
      return;
  }
}

void WriteTable(std::ostream& out, const std::vector<Record>& records) {
  if (records.empty()) {
    out << "(no records)\n";
    return;
  }
  const std::vector<std::string> columns = CollectColumns(records);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> widths;
  std::vector<bool> right;
  for (const std::string& column : columns) {
    widths.push_back(DisplayWidth(column));
    right.push_back(IsNumericColumn(records, column));
  }
  for (const Record& record : records) {
    std::vector<std::string>& row = rows.emplace_back();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      row.push_back(TableCell(record, columns[i]));
      widths[i] = std::max(widths[i], DisplayWidth(row.back()));
    }
  }
  std::vector<std::string> rules;
  for (std::size_t width : widths) rules.emplace_back(width, '-');
  WriteRow(out, columns, widths, right);
  WriteRow(out, rules, widths, right);
  for (const auto& row : rows) WriteRow(out, row, widths, right);
  out << '(' << RecordCount(records.size()) << ")\n";
}

void WriteJsonLine(std::ostream& out, const Record& record, RecordFormat format) {
  std::string line;
  AppendRecordJson(line, record, format);
  line += '\n';
  out << line;
}

void WriteCsv(std::ostream& out, const std::vector<Record>& records) {
  const std::vector<std::string> columns = CollectColumns(records);
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    line += (i > 0 ? "," : "") + CsvField(columns[i]);
  }
  out << line << '\n';
  for (const Record& record : records) {
    line.clear();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) line += ',';
      line += CsvField(columns[i] == kIdColumn ? IdCell(record).value_or("")
                                               : CsvText(CellValue(record, columns[i])));
    }
    out << line << '\n';
  }
}

std::string RecordCount(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " record" : " records");
}

std::size_t DisplayWidth(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const CodePoint cp = DecodeUtf8(text, pos);
    width += CodePointWidth(cp.value);
    pos += cp.length;
  }
  return width;
}

std::string TruncateToWidth(std::string_view text, std::size_t max_width) {
  if (DisplayWidth(text) <= max_width) return std::string(text);
  constexpr std::string_view kEllipsis = "…";  // one column wide
  std::size_t width = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const CodePoint cp = DecodeUtf8(text, pos);
    if (width + CodePointWidth(cp.value) + 1 > max_width) break;
    width += CodePointWidth(cp.value);
    pos += cp.length;
  }
  return std::string(text.substr(0, pos)) + std::string(kEllipsis);
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace dkdata::cli
