// The import command: JSON lines in, records out.
//
// The whole input is parsed before anything is written, so that a malformed line leaves the store
// untouched (unless --continue-on-error asks for the valid lines to be imported anyway).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>

#include "commands.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/parquet.hpp"
#include "output.hpp"

namespace dkdata::cli {
namespace {

constexpr std::size_t kErrorsShown = 10;

struct ImportOptions {
  std::string file;
  std::string format;  // "" (from the file name), "jsonl" or "parquet"
  bool continue_on_error = false;
  bool upsert = false;
  std::size_t batch_size = 1000;
};

// A problem with one input line, already located: "FILE:LINE:COLUMN: message".
struct LineError {
  std::size_t line = 0;
  std::string message;
};

struct ParsedInput {
  std::vector<Record> records;
  std::vector<std::size_t> lines;  // the input line of each record, 1-based
  std::vector<LineError> errors;
};

std::string InputName(const std::string& file) {
  return file == "-" ? "<stdin>" : file;
}

// Where "line L, column C" stands in a message.
struct JsonPosition {
  std::size_t line = 0;
  std::size_t column = 0;
  std::size_t begin = 0;  // of "line"
  std::size_t end = 0;    // after the column's digits
};

// Reads the digits at pos (advancing it); nullopt when there are none.
std::optional<std::size_t> ReadNumber(std::string_view text, std::size_t& pos) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  pos = static_cast<std::size_t>(end - text.data());
  return value;
}

std::optional<JsonPosition> FindPosition(std::string_view message) {
  constexpr std::string_view kLine = "line ";
  constexpr std::string_view kColumn = ", column ";
  for (std::size_t begin = message.find(kLine); begin != std::string_view::npos;
       begin = message.find(kLine, begin + 1)) {
    std::size_t pos = begin + kLine.size();
    const std::optional<std::size_t> line = ReadNumber(message, pos);
    if (!line || message.substr(pos, kColumn.size()) != kColumn) continue;
    pos += kColumn.size();
    if (const std::optional<std::size_t> column = ReadNumber(message, pos)) {
      return JsonPosition{*line, *column, begin, pos};
    }
  }
  return std::nullopt;
}

// The message without its position: "invalid JSON at line 1, column 5: unexpected '}'" becomes
// "invalid JSON: unexpected '}'".
std::string WithoutPosition(std::string_view message, const JsonPosition& position) {
  std::string_view before = message.substr(0, position.begin);
  std::string_view after = message.substr(position.end);
  while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
  if (before.ends_with(" at")) before.remove_suffix(3);
  while (!after.empty() && (after.front() == ':' || after.front() == ' ')) after.remove_prefix(1);
  if (before.empty() || after.empty()) return std::string(before.empty() ? after : before);
  return std::string(before) + ": " + std::string(after);
}

// RecordFromJson reports "line L, column C" within the text it was given (one input line): that
// position becomes the "NAME:LINE:COLUMN:" prefix of the message.
LineError LocateError(const std::string& name, std::size_t line, const std::string& message) {
  const std::optional<JsonPosition> position = FindPosition(message);
  if (!position) return {line, name + ":" + std::to_string(line) + ": " + message};
  const std::size_t actual_line = line + std::max<std::size_t>(position->line, 1) - 1;
  return {actual_line, name + ":" + std::to_string(actual_line) + ":" +
                           std::to_string(position->column) + ": " +
                           WithoutPosition(message, *position)};
}

ParsedInput ParseJsonLines(std::string_view text, const std::string& name) {
  ParsedInput parsed;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    try {
      parsed.records.push_back(RecordFromJson(line));
      parsed.lines.push_back(line_number);
    } catch (const Error& e) {
      parsed.errors.push_back(LocateError(name, line_number, e.what()));
    }
  }
  return parsed;
}

void PrintErrors(const std::vector<LineError>& errors) {
  for (std::size_t i = 0; i < std::min(errors.size(), kErrorsShown); ++i) {
    PrintError(errors[i].message);
  }
  if (errors.size() > kErrorsShown) {
    PrintError("... and " + std::to_string(errors.size() - kErrorsShown) + " more errors");
  }
}

// Stores every record, batch by batch (all-or-nothing per batch where the backend can).
int WriteAll(Session& session, ParsedInput input, const ImportOptions& options) {
  std::vector<Record>& records = input.records;
  std::size_t written = 0;
  while (written < records.size()) {
    const std::size_t end = std::min(records.size(), written + options.batch_size);
    try {
      session.db().CreateBatch(std::vector<Record>(
          std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(written)),
          std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(end))));
    } catch (const Error& e) {
      PrintError(InputName(options.file) + ": lines " + std::to_string(input.lines[written]) + "-" +
                 std::to_string(input.lines[end - 1]) + ": " + e.what());
      if (written > 0) {
        PrintError(RecordCount(written) + " of the batches before stay imported");
      }
      if (e.code() == ErrorCode::kAlreadyExists) {
        PrintError("(import --upsert replaces the records whose id is stored already)");
      }
      return kExitFailed;
    }
    written = end;
  }
  std::cerr << "imported " << RecordCount(written) << '\n';
  return kExitOk;
}

// Stores the records one by one (replacing stored ones with --upsert); with --continue-on-error
// goes on after a failure. Then reports what could not be stored, by input line.
int WriteEach(Session& session, ParsedInput input, const ImportOptions& options) {
  std::size_t next = 0;
  RecordSource source = [&]() -> std::optional<Record> {
    if (next == input.records.size()) return std::nullopt;
    return std::move(input.records[next++]);
  };
  StreamOptions stream_options;
  stream_options.batch_size = options.batch_size;
  stream_options.upsert = options.upsert;
  stream_options.stop_on_error = !options.continue_on_error;
  const StreamResult result = session.db().StreamWrite(source, stream_options);
  const std::size_t failed = input.errors.size() + result.failed;
  std::vector<LineError> errors = std::move(input.errors);
  for (const StreamError& error : result.errors) {
    const std::size_t line = error.index < input.lines.size() ? input.lines[error.index] : 0;
    errors.push_back(
        {line, InputName(options.file) + ":" + std::to_string(line) + ": " + error.message});
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const LineError& a, const LineError& b) { return a.line < b.line; });
  PrintErrors(errors);
  std::cerr << "imported " << RecordCount(result.succeeded);
  if (failed > 0) std::cerr << ", " << failed << " failed";
  if (result.skipped > 0) std::cerr << ", " << result.skipped << " not attempted after the failure";
  std::cerr << '\n';
  return failed == 0 ? kExitOk : kExitFailed;
}

bool IsParquetName(const std::string& file) {
  return file.ends_with(".parquet") || file.ends_with(".pq");
}

// The rows of a Parquet file as records; "lines" are the row numbers (1-based). A file that is not
// valid Parquet fails as a whole: its errors name the row group, column and page, not a row.
ParsedInput ReadParquetInput(const std::string& file) {
  if (file == "-") {
    throw Error(ErrorCode::kInvalidArgument,
                "import --format parquet needs a file: Parquet cannot be read from stdin");
  }
  ParsedInput parsed;
  ReadParquet(file, ParquetReadOptions{}, [&](Record& record) {
    parsed.records.push_back(std::move(record));
    parsed.lines.push_back(parsed.records.size());
  });
  return parsed;
}

int RunImport(Session& session, const ImportOptions& options) {
  const std::string name = InputName(options.file);
  const bool parquet =
      options.format == "parquet" || (options.format.empty() && IsParquetName(options.file));
  ParsedInput input = parquet ? ReadParquetInput(options.file)
                              : ParseJsonLines(ReadInput(session, options.file), name);
  if (options.continue_on_error) return WriteEach(session, std::move(input), options);
  if (!input.errors.empty()) {
    PrintErrors(input.errors);
    PrintError(name + ": " + std::to_string(input.errors.size()) +
               " invalid lines, nothing imported (--continue-on-error imports the valid ones)");
    return kExitFailed;
  }
  if (options.upsert) return WriteEach(session, std::move(input), options);
  return WriteAll(session, std::move(input), options);
}

}  // namespace

void AddImportCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App* command =
      app.add_subcommand("import", "Store the records of a JSON lines or Parquet file");
  command->add_option("FILE", options->file, "JSON lines file (flat or structured records), or -")
      ->type_name("")
      ->required();
  command
      ->add_option("--format", options->format,
                   "jsonl or parquet (default: parquet for .parquet and .pq files, else jsonl)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"jsonl", "parquet"}));
  command->add_flag("--continue-on-error", options->continue_on_error,
                    "Import the valid lines, report the others (exit 1 if any failed)");
  command->add_flag("--upsert", options->upsert,
                    "Replace records whose id is stored already (running the import again then "
                    "changes nothing but their versions)");
  command->add_option("--batch-size", options->batch_size, "Records per write (default 1000)")
      ->type_name("N")
      ->check(AtLeast(1));
  command->footer(
      "One record per line; blank lines are ignored. Without --continue-on-error a malformed\n"
      "line is reported as FILE:LINE:COLUMN: message and nothing is imported. Without --upsert\n"
      "a record whose id is stored already fails the import (already exists).\n"
      "A Parquet file's columns become fields (its __id__ column the ids; "
      "docs/parquet-format.md);\n"
      "its row numbers stand for the line numbers in messages.");
  command->callback([&action, options] {
    action = [options](Session& session) { return RunImport(session, *options); };
  });
}

}  // namespace dkdata::cli
