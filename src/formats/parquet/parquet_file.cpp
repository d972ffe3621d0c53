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

// What ReadParquet's options ask of the record mapping: the columns to read (the filter's fields
// too) and what to do with each record it gives.
class RecordRequest {
 public:
  explicit RecordRequest(const ParquetReadOptions& options) : options_(options) {
    read_.fields = options.fields;
    read_.threads = options.threads;
    filtered_ = options.filter && !options.filter->is_true();
    if (!filtered_) return;
    read_.filter = &*options.filter;
    if (!options.fields.empty()) {
      // The filter's fields are read too, and left out of the records after filtering.
      AddFilterFields(*options.filter, read_.fields);
      project_ = true;
    }
  }

  const internal::parquet::RecordReadOptions& read() const noexcept { return read_; }
  bool filtered() const noexcept { return filtered_; }
  bool Matches(const Record& record) const {
    return !filtered_ || dkdata::Matches(*options_.filter, record);
  }
  // The record as the caller asked for it: without the fields only the filter needed.
  void Finish(Record& record) const {
    if (project_) record = record.Project(options_.fields);
  }

 private:
  const ParquetReadOptions& options_;
  internal::parquet::RecordReadOptions read_;
  bool filtered_ = false;
  bool project_ = false;
};

// ReadParquet on a file already opened.
void ReadRecords(const internal::parquet::ParquetFileReader& reader,
                 const ParquetReadOptions& options, const std::function<void(Record&)>& sink) {
  const RecordRequest request(options);
  if (!request.filtered()) {
    internal::parquet::ReadParquetRecords(reader, request.read(), sink);
    return;
  }
  internal::parquet::ReadParquetRecords(reader, request.read(), [&](Record& record) {
    if (!request.Matches(record)) return;
    request.Finish(record);
    sink(record);
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

struct ParquetTable::State {
  State(const std::string& path, const ParquetReadOptions& read_options)
      : options(read_options),
        request(options),
        reader(internal::parquet::ParquetFileReader::Open(path)),
        rows(reader, request.read()) {}

  ParquetReadOptions options;
  RecordRequest request;  // over options
  internal::parquet::ParquetFileReader reader;
  internal::parquet::DecodedRows rows;  // over reader
  std::vector<std::size_t> selection;   // when filtered: the rows that match, ascending
};

ParquetTable::ParquetTable() = default;

ParquetTable::ParquetTable(std::shared_ptr<const State> state) : state_(std::move(state)) {}

std::size_t ParquetTable::size() const noexcept {
  if (!state_) return 0;
  return state_->request.filtered() ? state_->selection.size() : state_->rows.size();
}

Record ParquetTable::record(std::size_t row) const {
  if (row >= size()) {
    throw Error(ErrorCode::kInvalidArgument, "Parquet table: row " + std::to_string(row) +
                                                 " is not below its " + std::to_string(size()) +
                                                 " rows");
  }
  Record record;
  state_->rows.RecordAt(state_->request.filtered() ? state_->selection[row] : row, record);
  state_->request.Finish(record);
  return record;
}

void ParquetTable::ForEach(const std::function<void(Record&)>& sink, unsigned threads) const {
  if (!state_) return;
  if (!state_->request.filtered()) {
    state_->rows.ForEach(threads, sink);
    return;
  }
  const std::vector<std::size_t>& selection = state_->selection;
  std::size_t row = 0;
  std::size_t next = 0;  // of selection
  state_->rows.ForEach(threads, [&](Record& record) {
    if (next < selection.size() && selection[next] == row) {
      ++next;
      state_->request.Finish(record);
      sink(record);
    }
    ++row;
  });
}

std::vector<Record> ParquetTable::ToRecords(unsigned threads) const {
  std::vector<Record> records;
  records.reserve(size());
  ForEach([&](Record& record) { records.push_back(std::move(record)); }, threads);
  return records;
}

ParquetTable ReadParquetTable(const std::string& path, const ParquetReadOptions& options) {
  auto state = std::make_shared<ParquetTable::State>(path, options);
  if (state->request.filtered()) {
    std::size_t row = 0;
    state->rows.ForEach(options.threads, [&](Record& record) {
      if (state->request.Matches(record)) state->selection.push_back(row);
      ++row;
    });
  }
  return ParquetTable(std::move(state));
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
