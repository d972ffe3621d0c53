// formats/parquet/parquet_file.cpp: the public Parquet API (dkdata/parquet.hpp) over the reader,
// the writer and the record mapping.
#include <algorithm>
#include <cctype>

#include "backends/file/file_io.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/parquet.hpp"
#include "formats/parquet/parquet_records.hpp"

namespace dkdata {
namespace {

internal::parquet::CompressionCodec CodecNamed(const std::string& name) {
  using internal::parquet::CompressionCodec;
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "snappy") return CompressionCodec::kSnappy;
  if (lower == "zstd") return CompressionCodec::kZstd;
  if (lower == "gzip") return CompressionCodec::kGzip;
  if (lower == "lz4" || lower == "lz4_raw") return CompressionCodec::kLz4Raw;
  if (lower == "none" || lower == "uncompressed") return CompressionCodec::kUncompressed;
  throw Error(ErrorCode::kInvalidArgument,
              "Parquet compression '" + name + "' is not one of snappy, zstd, gzip, lz4, none");
}

void AddFilterFields(const Expr& expr, std::vector<std::string>& fields) {
  if (expr.kind() == Expr::Kind::kFilter) {
    fields.push_back(expr.filter().field);
    return;
  }
  for (const Expr& child : expr.children()) AddFilterFields(child, fields);
}

// ReadParquet on a file already opened.
void ReadRecords(const internal::parquet::ParquetFileReader& reader,
                 const ParquetReadOptions& options, const std::function<void(Record&)>& sink) {
  internal::parquet::RecordReadOptions read;
  read.fields = options.fields;
  read.threads = options.threads;
  if (options.filter) read.filter = &*options.filter;
  if (!options.filter || options.filter->is_true()) {
    internal::parquet::ReadParquetRecords(reader, read, sink);
    return;
  }
  if (options.fields.empty()) {
    internal::parquet::ReadParquetRecords(reader, read, [&](Record& record) {
      if (Matches(*options.filter, record)) sink(record);
    });
    return;
  }
  // The filter's fields are read too, and left out of the records after filtering.
  AddFilterFields(*options.filter, read.fields);
  internal::parquet::ReadParquetRecords(reader, read, [&](Record& record) {
    if (!Matches(*options.filter, record)) return;
    Record projected = record.Project(options.fields);
    sink(projected);
  });
}

}  // namespace

void ReadParquet(const std::string& path, const ParquetReadOptions& options,
                 const std::function<void(Record&)>& sink) {
  ReadRecords(internal::parquet::ParquetFileReader::Open(path), options, sink);
}

std::vector<Record> ReadParquet(const std::string& path, const ParquetReadOptions& options) {
  const auto reader = internal::parquet::ParquetFileReader::Open(path);
  std::vector<Record> records;
  if (!options.filter) {
    // Room for every row (the count is the file's word: bounded, so that a corrupt count cannot
    // ask for memory the file could never fill).
    const std::int64_t rows = reader.metadata().num_rows;
    records.reserve(static_cast<std::size_t>(std::clamp<std::int64_t>(rows, 0, 1 << 24)));
  }
  ReadRecords(reader, options, [&](Record& record) { records.push_back(std::move(record)); });
  return records;
}

void WriteParquet(const std::string& path, std::span<const Record> records,
                  const ParquetWriteOptions& options) {
  internal::parquet::RecordWriteOptions write;
  write.writer.codec = CodecNamed(options.compression);
  write.writer.compression_level = options.compression_level;
  write.row_group_rows = options.row_group_size == 0 ? 1 : options.row_group_size;
  write.schema = options.schema;
  write.writer.threads = options.threads;
  std::vector<const Record*> pointers;
  pointers.reserve(records.size());
  for (const Record& record : records) pointers.push_back(&record);
  internal::AtomicFileWriter file(path, /*sync=*/true);
  std::uint64_t offset = 0;
  internal::parquet::WriteParquetRecords(pointers, write, [&](std::string_view bytes) {
    internal::WriteAllAt(file.fd(), bytes, offset, file.temp_path());
    offset += bytes.size();
  });
  file.Commit();
}

}  // namespace dkdata
