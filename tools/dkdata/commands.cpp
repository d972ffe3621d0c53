#include "commands.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/parquet.hpp"
#include "output.hpp"

namespace dkdata::cli {
namespace {

constexpr std::string_view kQueryLanguageHelp =
    R"help(The query language (docs/query-semantics.md), one quoted argument:
  "age >= 25 and (city = 'SF' or name like 'a%')"
  "address.city = 'Berlin' order by age desc, name limit 10 offset 5"
  "select name, age where active = true"
Operators: = != > >= < <= in not_in between not_between like not_like ilike
not_ilike regex starts_with exists not_exists; strings in single quotes.)help";

constexpr std::string_view kQueryFlagsHelp =
    R"(The flags add to the text: --where is ANDed on, --sort keys come after its order by,
--limit, --offset and --fields replace its limit, offset and select.)";

// "age", "age:asc" or "age:desc".
SortKey ParseSortSpec(const std::string& spec) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos) return {spec, SortOrder::kAsc};
  const std::string field = spec.substr(0, colon);
  const std::string order = spec.substr(colon + 1);
  if (field.empty() || (order != "asc" && order != "desc")) {
    throw UsageError("--sort " + spec + ": expected FIELD, FIELD:asc or FIELD:desc");
  }
  return {field, order == "desc" ? SortOrder::kDesc : SortOrder::kAsc};
}

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Reads a record argument: JSON text, or "-" for stdin.
Record ParseRecordArgument(const Session& session, const std::string& argument) {
  const std::string text = argument == "-" ? ReadInput(session, "-") : argument;
  return RecordFromJson(text);
}

// Adds --format table|jsonl|csv.
void AddFormatFlag(CLI::App& command, std::string& format) {
  command
      .add_option("--format", format,
                  "table, jsonl or csv (default: a table on a terminal, JSON lines otherwise)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember(kOutputFormatNames));
}

void PrintRecords(const Session& session, const std::vector<Record>& records,
                  const std::string& format) {
  WriteRecords(std::cout, records,
               ResolveOutputFormat(ParseOutputFormat(format), session.stdout_is_terminal()));
}

int NotFound(const std::string& id) {
  PrintError("not found: " + id);
  return kExitFailed;
}

// ---- create ----

struct CreateOptions {
  std::optional<std::string> id;
  std::string json;
};

int RunCreate(Session& session, const CreateOptions& options) {
  Record record = ParseRecordArgument(session, options.json);
  if (options.id) record.set_id(*options.id);
  std::cout << session.db().Create(record) << '\n';
  return kExitOk;
}

// ---- get ----

struct GetOptions {
  std::string id;
  std::string format;
};

int RunGet(Session& session, const GetOptions& options) {
  std::optional<Record> record = session.db().Read(options.id);
  if (!record) return NotFound(options.id);
  PrintRecords(session, {*record}, options.format);
  return kExitOk;
}

// ---- update ----

struct UpdateOptions {
  std::string id;
  std::string json;
  std::optional<std::uint64_t> expected_version;
};

int RunUpdate(Session& session, const UpdateOptions& options) {
  const Record record = ParseRecordArgument(session, options.json);
  if (!session.db().Update(options.id, record, options.expected_version)) {
    return NotFound(options.id);
  }
  return kExitOk;
}

// ---- delete ----

int RunDelete(Session& session, const std::string& id) {
  return session.db().Delete(id) ? kExitOk : NotFound(id);
}

// ---- query and count ----

struct QueryCommandOptions {
  QueryOptions query;
  std::string format;
};

int RunQuery(Session& session, const QueryCommandOptions& options) {
  const Query query = BuildQuery(options.query);
  PrintRecords(session, session.db().Search(query), options.format);
  return kExitOk;
}

int RunCount(Session& session, const QueryOptions& options) {
  const Query query = BuildQuery(options);
  std::cout << session.db().Count(query.where()) << '\n';
  return kExitOk;
}

// ---- export ----

struct ExportOptions {
  std::string file = "-";
  std::string format;       // "": parquet for .parquet / .pq files, else jsonl
  std::string compression;  // Parquet's page codec ("": snappy)
  QueryOptions query;
};

// Where export writes: stdout for "-", else the file (replaced).
class ExportTarget {
 public:
  explicit ExportTarget(const std::string& path) : path_(path) {
    if (path_ == "-") return;
    file_.open(path_, std::ios::binary | std::ios::trunc);
    if (!file_) Fail("cannot write");
  }
  std::ostream& Stream() { return path_ == "-" ? std::cout : file_; }
  void Finish() {
    Stream().flush();
    if (!Stream()) Fail("write failed for");
  }

 private:
  [[noreturn]] void Fail(std::string_view what) {
    throw Error(ErrorCode::kIo, std::string(what) + " " + path_ + ": " + std::strerror(errno));
  }
  std::string path_;
  std::ofstream file_;
};

std::size_t ExportJsonLines(Session& session, const Query& query, RecordFormat format,
                            std::ostream& out) {
  std::size_t count = 0;
  std::unique_ptr<RecordCursor> cursor = session.db().StreamRead(query);
  std::vector<Record> batch;
  while (cursor->NextBatch(batch)) {
    for (const Record& record : batch) WriteJsonLine(out, record, format);
    count += batch.size();
  }
  return count;
}

// Writes the records as Parquet, atomically: a failed export leaves an existing file as it was.
int ExportParquet(Session& session, const Query& query, const ExportOptions& options) {
  if (options.file == "-") {
    throw Error(ErrorCode::kInvalidArgument,
                "export --format parquet needs a file: Parquet cannot be written to stdout");
  }
  const std::vector<Record> records = session.db().Search(query);
  ParquetWriteOptions write;
  if (!options.compression.empty()) write.compression = options.compression;
  WriteParquet(options.file, records, write);
  std::cerr << "exported " << RecordCount(records.size()) << " to " << options.file << '\n';
  return kExitOk;
}

int RunExport(Session& session, const ExportOptions& options) {
  const Query query = BuildQuery(options.query);
  std::string format = options.format;
  if (format.empty()) {
    format =
        options.file.ends_with(".parquet") || options.file.ends_with(".pq") ? "parquet" : "jsonl";
  }
  if (format == "parquet") return ExportParquet(session, query, options);
  if (!options.compression.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--compression is for --format parquet only");
  }
  ExportTarget target(options.file);
  std::size_t count = 0;
  if (format == "csv") {
    const std::vector<Record> records = session.db().Search(query);
    WriteCsv(target.Stream(), records);
    count = records.size();
  } else {
    const RecordFormat record_format =
        format == "structured" ? RecordFormat::kStructured : RecordFormat::kFlat;
    count = ExportJsonLines(session, query, record_format, target.Stream());
  }
  target.Finish();
  if (options.file != "-")
    std::cerr << "exported " << RecordCount(count) << " to " << options.file << '\n';
  return kExitOk;
}

// Records the chosen command's run function in action once parsing has chosen it.
template <class Options, class Run>
void OnChosen(CLI::App& command, Action& action, std::shared_ptr<Options> options, Run run) {
  command.callback([&action, options, run] {
    action = [options, run](Session& session) { return run(session, *options); };
  });
}

}  // namespace

std::string ReadInput(const Session& session, const std::string& path) {
  if (path == "-") {
    RequireStdinForData(session);
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) throw Error(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(errno));
  return std::move(contents).str();
}

CLI::Validator AtLeast(long long min) {
  const std::string expected = "a whole number >= " + std::to_string(min);
  return CLI::Validator(
      [min, expected](const std::string& text) -> std::string {
        long long value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min) {
          return "expected " + expected + ", got '" + text + "'";
        }
        return {};
      },
      "", "AtLeast");
}

Query ParseQueryText(std::string_view text) {
  try {
    return Query::Parse(text);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidArgument) throw UsageError(e.what());
    throw;
  }
}

Query BuildQuery(const QueryOptions& options) {
  Query query = IsBlank(options.text) ? Query() : ParseQueryText(options.text);
  if (!IsBlank(options.where)) {
    const Query where = ParseQueryText(options.where);
    if (!(where == Query(where.where()))) {
      throw UsageError("--where takes a filter only; use --sort, --limit, --offset, --fields");
    }
    query.Where(where.where());
  }
  for (const std::string& spec : options.sort) {
    SortKey key = ParseSortSpec(spec);
    query.Sort(std::move(key.field), key.order);
  }
  if (options.offset) query.Offset(*options.offset);
  if (options.limit) query.Limit(*options.limit);
  if (!options.fields.empty()) query.Select(options.fields);
  return query;
}

void AddQueryFlags(CLI::App& command, QueryOptions& options) {
  command.add_option("--where", options.where, "A filter in the query language, ANDed on")
      ->type_name("FILTER");
  command.add_option("--sort", options.sort, "Sort key; repeat for more keys")
      ->type_name("FIELD[:desc]")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command
      .add_option_function<std::size_t>(
          "--limit", [&options](const std::size_t& n) { options.limit = n; }, "At most N records")
      ->type_name("N")
      ->check(AtLeast(0));
  command
      .add_option_function<std::size_t>(
          "--offset", [&options](const std::size_t& n) { options.offset = n; },
          "Skip the first N records")
      ->type_name("N")
      ->check(AtLeast(0));
  command.add_option("--fields", options.fields, "Only these fields (comma-separated)")
      ->type_name("A,B,...")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->delimiter(',');
}

void AddCreateCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<CreateOptions>();
  CLI::App* command = app.add_subcommand("create", "Store a new record; prints its id");
  command->add_option("JSON", options->json, "The record: flat or structured JSON, or - for stdin")
      ->type_name("")
      ->required();
  command
      ->add_option_function<std::string>(
          "--id", [options](const std::string& id) { options->id = id; },
          "Store under this id (default: the record's _id or id, else a new UUID)")
      ->type_name("ID");
  command->footer("Example: dkdata create --id p1 '{\"name\": \"Ada\", \"age\": 36}'");
  OnChosen(*command, action, options, RunCreate);
}

void AddGetCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<GetOptions>();
  CLI::App* command = app.add_subcommand("get", "Print the record with that id");
  command->add_option("ID", options->id, "Record id")->type_name("")->required();
  AddFormatFlag(*command, options->format);
  command->footer(
      "Exits with 1 and prints \"not found: ID\" on stderr when there is no such record.");
  OnChosen(*command, action, options, RunGet);
}

void AddUpdateCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<UpdateOptions>();
  CLI::App* command = app.add_subcommand("update", "Replace the fields of a stored record");
  command->add_option("ID", options->id, "Record id")->type_name("")->required();
  command->add_option("JSON", options->json, "The new record: JSON, or - for stdin")
      ->type_name("")
      ->required();
  command
      ->add_option_function<std::uint64_t>(
          "--expected-version",
          [options](const std::uint64_t& v) { options->expected_version = v; },
          "Fail (exit 1) unless the stored version is N")
      ->type_name("N")
      ->check(AtLeast(0));
  OnChosen(*command, action, options, RunUpdate);
}

void AddDeleteCommand(CLI::App& app, Action& action) {
  auto id = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("delete", "Delete the record with that id");
  command->add_option("ID", *id, "Record id")->type_name("")->required();
  OnChosen(*command, action, id, RunDelete);
}

void AddQueryCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<QueryCommandOptions>();
  CLI::App* command = app.add_subcommand("query", "Print the records that match a query");
  command->add_option("TEXT", options->query.text, "Query text, e.g. \"age >= 25 limit 10\"")
      ->type_name("");
  AddQueryFlags(*command, options->query);
  AddFormatFlag(*command, options->format);
  command->footer(std::string(kQueryLanguageHelp) + "\n" + std::string(kQueryFlagsHelp));
  OnChosen(*command, action, options, RunQuery);
}

void AddCountCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<QueryOptions>();
  CLI::App* command = app.add_subcommand("count", "Print how many records match a filter");
  command->add_option("TEXT", options->text, "Query text (only its filter counts)")->type_name("");
  command->add_option("--where", options->where, "A filter in the query language, ANDed on")
      ->type_name("FILTER");
  command->footer(std::string(kQueryLanguageHelp));
  OnChosen(*command, action, options, RunCount);
}

void AddExportCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command =
      app.add_subcommand("export", "Write records to a file as JSON lines, CSV or Parquet");
  command->add_option("FILE", options->file, "Output file, or - for stdout (the default)")
      ->type_name("");
  command->add_option("-q,--query", options->query.text, "Query text selecting what to export");
  AddQueryFlags(*command, options->query);
  command
      ->add_option(
          "--format", options->format,
          "jsonl (flat, the default), structured, csv or parquet (the default for .parquet "
          "and .pq files)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"jsonl", "structured", "csv", "parquet"}));
  command
      ->add_option("--compression", options->compression,
                   "Parquet pages: snappy (the default), zstd, gzip, lz4 or none")
      ->type_name("CODEC")
      ->check(CLI::IsMember({"snappy", "zstd", "gzip", "lz4", "none"}));
  command->footer(
      "The flat and structured JSON lines and Parquet files all import back with\n"
      "`dkdata import`.\n\n" +
      std::string(kQueryLanguageHelp) + "\n" + std::string(kQueryFlagsHelp));
  OnChosen(*command, action, options, RunExport);
}

void AddStoreCommand(CLI::App& app, Action& action) {
  CLI::App* command = app.add_subcommand(
      "store", "Print the URL of the store the commands use (see --store and --config)");
  command->footer(
      "With --config, prints FILE: databases[INDEX] 'NAME' (BACKEND).\n"
      "The default store keeps its records between runs; to start afresh, delete its file\n"
      "(and the -wal and -shm files beside it) or point DKDATA_HOME elsewhere.");
  command->callback([&action] {
    action = [](Session& session) {
      std::cout << session.StoreDescription() << '\n';
      return kExitOk;
    };
  });
}

void AddRecordCommands(CLI::App& app, Action& action) {
  AddCreateCommand(app, action);
  AddGetCommand(app, action);
  AddUpdateCommand(app, action);
  AddDeleteCommand(app, action);
  AddQueryCommand(app, action);
  AddCountCommand(app, action);
  AddImportCommand(app, action);
  AddExportCommand(app, action);
  AddStoreCommand(app, action);
  AddConfigCommand(app, action);
  AddBackendsCommand(app, action);
}

}  // namespace dkdata::cli
