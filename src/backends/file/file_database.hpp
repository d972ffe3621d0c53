// src/backends/file/file_database.hpp: the file backend: a store kept in one file, JSON, JSONL,
// CSV or TSV, optionally gzip- or zstd-compressed.
//
// Two engines behind one set of options (README.md in this folder explains both):
// - LogStore, for uncompressed JSONL: the file is a record log (record_log.hpp). Writes append a
//   line; reads find it through an in-memory index of line offsets; searches stream the file.
//   Memory grows with the number of records (about 50 bytes each), never with the file's bytes.
// - SnapshotStore, for every other format: the records live in a memory image (the memory
//   backend); writes go to a journal beside the file ("<path>.journal", a record log) and are
//   folded into the file, rewritten atomically, when the journal grows or the store closes.
//
// Both serialise writers across processes with an advisory lock on "<path>.lock", notice other
// processes' writes before every call, and recover from a torn end left by a crash.
//
// Thread-safety: every method may be called from any thread; calls on one database object run one
// at a time. Several database objects, in one process or many, may share a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "dkdata/database.hpp"
#include "dkdata/value.hpp"
#include "formats/compression.hpp"
#include "formats/parquet/parquet_metadata.hpp"

namespace dkdata::internal {

enum class FileFormat : std::uint8_t { kJson, kJsonl, kCsv, kTsv, kParquet };
std::string_view FileFormatName(FileFormat format);

// When writes reach the disk (see README.md for what each promises).
enum class SyncMode : std::uint8_t {
  kAlways,  // every acknowledged write is fsynced before it returns
  kBatch,   // every write reaches the OS before it returns; fsync at most once a second, at
            // compaction and at close
  kNone,    // every write reaches the OS before it returns; never fsynced
};

struct FileOptions {
  std::string path;
  bool temporary = false;  // no path was given: a temporary file, removed on Close
  FileFormat format = FileFormat::kJsonl;
  Compression compression = Compression::kNone;
  SyncMode sync = SyncMode::kBatch;
  std::chrono::milliseconds lock_timeout{10000};
  // Compact (rewrite without dead lines) when dead lines are more than this share of the file.
  double compaction_threshold = 0.5;
  std::uint64_t compaction_min_bytes = std::uint64_t{1} << 20;
  // Skip lines that are not valid records (each reported) instead of failing to open.
  bool salvage = false;
  // Threads that read a JSONL store's lines when a call reads the file; 0: the machine's cores.
  unsigned threads = 0;
  // Parquet: the codec of the pages (the `compression` option) and the rows of a row group.
  parquet::CompressionCodec parquet_codec = parquet::CompressionCodec::kSnappy;
  std::size_t row_group_size = std::size_t{1} << 17;
  // CSV/TSV: types for the columns of a plain file, by column name.
  std::map<std::string, FieldType, std::less<>> column_types;
};

// Validates and converts the backend's options without touching the file system; throws
// Error(kInvalidArgument) naming a bad key. Without a
// path, the options say temporary and leave path empty: OpenFileDatabase picks the file.
FileOptions ParseFileOptions(const Object& options);

std::unique_ptr<Database> OpenFileDatabase(FileOptions options);

}  // namespace dkdata::internal
