// The file backend's options, its choice of engine, and its registry entry.
#include "backends/file/file_database.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "backends/builtin.hpp"
#include "backends/file/log_store.hpp"
#include "backends/file/snapshot_store.hpp"
#include "backends/option_reader.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::internal {

namespace {

constexpr std::string_view kBackend = "file";

// Every key the backend takes, in the order of its README's table. schema, vector_enabled and
// vector_metric are the reference's and change nothing here yet.
constexpr std::string_view kOptionKeys[] = {"path",
                                            "format",
                                            "compression",
                                            "sync",
                                            "lock_timeout",
                                            "salvage",
                                            "compaction_threshold",
                                            "column_types",
                                            "threads",
                                            "row_group_size",
                                            "schema",
                                            "vector_enabled",
                                            "vector_metric"};

constexpr OptionReader kReader(kBackend, kOptionKeys);

std::optional<FileFormat> ParseFormat(std::string_view name) {
  if (name == "json") return FileFormat::kJson;
  if (name == "jsonl" || name == "ndjson") return FileFormat::kJsonl;
  if (name == "csv") return FileFormat::kCsv;
  if (name == "tsv") return FileFormat::kTsv;
  if (name == "parquet" || name == "pq") return FileFormat::kParquet;
  return std::nullopt;
}

// The page codec of a Parquet store, by the `compression` option's value.
parquet::CompressionCodec ParseParquetCodec(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "snappy") return parquet::CompressionCodec::kSnappy;
  if (lower == "zstd" || lower == "zst") return parquet::CompressionCodec::kZstd;
  if (lower == "gzip" || lower == "gz") return parquet::CompressionCodec::kGzip;
  if (lower == "lz4" || lower == "lz4_raw") return parquet::CompressionCodec::kLz4Raw;
  if (lower == "none" || lower == "uncompressed" || lower.empty()) {
    return parquet::CompressionCodec::kUncompressed;
  }
  kReader.Fail("compression", "is '" + std::string(name) +
                                  "'; a Parquet store takes snappy, zstd, gzip, lz4 or none");
}

std::string Extension(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "";
  return std::string(path.substr(dot + 1));
}

std::string MakeTemporaryPath(FileFormat format, Compression compression) {
  std::string path = (std::filesystem::temp_directory_path() / "dkdata-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) ThrowIo("cannot create a temporary file in", path, errno);
  ::close(fd);
  ::unlink(path.c_str());
  path += ".";
  path += FileFormatName(format);
  if (compression == Compression::kGzip) path += ".gz";
  if (compression == Compression::kZstd) path += ".zst";
  return path;
}

}  // namespace

std::string_view FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kJson:
      return "json";
    case FileFormat::kJsonl:
      return "jsonl";
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kTsv:
      return "tsv";
    case FileFormat::kParquet:
      return "parquet";
  }
  return "jsonl";
}

FileOptions ParseFileOptions(const Object& options) {
  FileOptions out;
  std::optional<std::string> format_name;
  std::optional<std::string> compression_name;
  for (const auto& [key, value] : options) {
    if (key == "path") {
      out.path = kReader.String(key, value);
    } else if (key == "format") {
      format_name = kReader.String(key, value);
    } else if (key == "compression") {
      if (!value.is_null()) compression_name = kReader.String(key, value);
    } else if (key == "sync") {
      const std::string mode = kReader.String(key, value);
      if (mode == "always") {
        out.sync = SyncMode::kAlways;
      } else if (mode == "batch") {
        out.sync = SyncMode::kBatch;
      } else if (mode == "none") {
        out.sync = SyncMode::kNone;
      } else {
        kReader.Fail(key, "is '" + mode + "'; use always, batch or none");
      }
    } else if (key == "lock_timeout") {
      const double seconds = kReader.Number(key, value);
      if (!(seconds >= 0)) kReader.Fail(key, "must be >= 0");
      out.lock_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    } else if (key == "salvage") {
      out.salvage = kReader.Bool(key, value);
    } else if (key == "compaction_threshold") {
      out.compaction_threshold = kReader.Number(key, value);
      if (!(out.compaction_threshold > 0 && out.compaction_threshold <= 1)) {
        kReader.Fail(key, "must be in (0, 1]");
      }
    } else if (key == "column_types") {
      const Object* types = value.Get<Object>();
      if (types == nullptr) kReader.WrongType(key, "a map of column to type", value);
      for (const auto& [column, type_value] : *types) {
        const std::string type_name = kReader.String(key, type_value);
        const auto type = ParseFieldType(type_name);
        if (!type) {
          kReader.Fail(key, "has an unknown type '" + type_name + "' for column '" + column + "'");
        }
        out.column_types[column] = *type;
      }
    } else if (key == "threads") {
      const double threads = kReader.Number(key, value);
      if (!(threads >= 0 && threads <= 256) ||
          threads != static_cast<double>(static_cast<int>(threads))) {
        kReader.Fail(key, "must be a whole number from 0 (the machine's cores) to 256");
      }
      out.threads = static_cast<unsigned>(threads);
    } else if (key == "row_group_size") {
      const double rows = kReader.Number(key, value);
      if (!(rows >= 1 && rows <= 1e9) ||
          rows != static_cast<double>(static_cast<std::int64_t>(rows))) {
        kReader.Fail(key, "must be a whole number of rows from 1 to 1000000000");
      }
      out.row_group_size = static_cast<std::size_t>(rows);
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
  if (format_name) {
    const auto format = ParseFormat(*format_name);
    if (!format) {
      kReader.Fail("format", "is '" + *format_name + "'; use json, jsonl, csv, tsv or parquet");
    }
    out.format = *format;
  }
  if (out.path.empty()) {
    out.temporary = true;  // OpenFileDatabase picks the file
    if (!format_name) out.format = FileFormat::kJsonl;
  } else {
    // What the name says, unless the options said otherwise: "people.csv.gz" is gzip'd CSV.
    if (!compression_name) out.compression = CompressionFromPath(out.path);
    if (!format_name) {
      const std::string extension = Extension(out.compression == CompressionFromPath(out.path)
                                                  ? StripCompressionExtension(out.path)
                                                  : std::string_view(out.path));
      const auto format = ParseFormat(extension);
      if (!format) {
        kReader.Fail("path", "is '" + out.path +
                                 "': cannot tell its format from its name; give the option "
                                 "format: json, jsonl, csv, tsv or parquet");
      }
      out.format = *format;
    }
  }
  if (out.format == FileFormat::kParquet) {
    // A Parquet file is compressed inside, page by page: `compression` names the pages' codec.
    if (!compression_name && out.compression != Compression::kNone) {
      kReader.Fail("path", "is '" + out.path +
                               "': a Parquet file is compressed inside, page by page (the option "
                               "compression: snappy, zstd, gzip, lz4 or none), not as a whole");
    }
    out.compression = Compression::kNone;
    if (compression_name) out.parquet_codec = ParseParquetCodec(*compression_name);
  } else if (compression_name) {
    const auto compression = ParseCompressionName(*compression_name);
    if (!compression) {
      kReader.Fail("compression", "is '" + *compression_name + "'; use gzip, zstd or none");
    }
    out.compression = *compression;
  }
  return out;
}

std::unique_ptr<Database> OpenFileDatabase(FileOptions options) {
  if (options.temporary && options.path.empty()) {
    options.path = MakeTemporaryPath(options.format, options.compression);
  }
  const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) ThrowIo("cannot create the folder", parent.string(), error.value());
  }
  if (options.format == FileFormat::kJsonl && options.compression == Compression::kNone) {
    return std::make_unique<LogStore>(std::move(options));
  }
  return std::make_unique<SnapshotStore>(std::move(options));
}

BackendInfo MakeFileBackendInfo() {
  BackendInfo info;
  info.name = "file";
  info.url_schemes = {"file"};
  info.description =
      "one file: JSON, JSONL, CSV or TSV, optionally gzip or zstd; appends, compacts, locks";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    return OpenFileDatabase(ParseFileOptions(options));
  };
  info.option_keys = kReader.Keys();
  info.check_options = [](const Object& options) { ParseFileOptions(options); };
  // file:///abs/path.jsonl?sync=always, file://relative/path.csv, file:path.json
  info.url_parser = [](std::string_view, std::string_view rest) {
    std::string_view query;
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.starts_with("//")) rest.remove_prefix(2);
    Object options = ParseUrlQuery(query);
    if (!rest.empty()) options.Set("path", Value(std::string(rest)));
    return options;
  };
  return info;
}

}  // namespace dkdata::internal
