#include "backends/file/snapshot_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <span>
#include <string>

#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "formats/compression.hpp"
#include "formats/csv.hpp"
#include "formats/parquet/parquet_records.hpp"

namespace dkdata::internal {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

[[noreturn]] void Throw(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), "file");
}

CsvOptions CsvOptionsFor(const FileOptions& options) {
  CsvOptions csv;
  csv.dialect = CsvDialectFor(FileFormatName(options.format));
  csv.column_types = options.column_types;
  return csv;
}

// Writes a CSV field's value (see CsvField) into the row being encoded.
void EncodeCsvValue(const CsvField& field, RowEncoder& encoder) {
  if (field.boxed) return encoder.Any(field.value);
  switch (field.kind) {
    case ValueKind::kBool:
      return encoder.Bool(field.boolean);
    case ValueKind::kInt:
      return encoder.Int(field.integer);
    case ValueKind::kFloat:
      return encoder.Float(field.number);
    case ValueKind::kString:
      return encoder.String(field.text);
    case ValueKind::kTimestamp:
      return encoder.Timestamp(field.integer);
    default:
      return encoder.Null();
  }
}

// Calls on_line(text, line number) for each line of a stream; text is followed by kLinePadding
// readable bytes.
template <typename OnLine>
void ForEachStreamLine(InputStream& in, OnLine&& on_line) {
  std::vector<char> buffer(kChunk + kLinePadding);
  std::size_t filled = 0;
  std::uint64_t line_number = 1;
  while (true) {
    if (buffer.size() - kLinePadding == filled) buffer.resize(buffer.size() * 2);
    const std::size_t got = in.Read(buffer.data() + filled, buffer.size() - kLinePadding - filled);
    filled += got;
    std::size_t pos = 0;
    while (pos < filled) {
      const void* nl = std::memchr(buffer.data() + pos, '\n', filled - pos);
      if (nl == nullptr) break;
      const std::size_t end = static_cast<const char*>(nl) - buffer.data();
      on_line(std::string_view(buffer.data() + pos, end - pos), line_number++);
      pos = end + 1;
    }
    std::memmove(buffer.data(), buffer.data() + pos, filled - pos);
    filled -= pos;
    if (got == 0) break;
  }
  if (filled > 0) {
    std::memset(buffer.data() + filled, 0, kLinePadding);
    on_line(std::string_view(buffer.data(), filled), line_number);
  }
}

}  // namespace

SnapshotStore::SnapshotStore(FileOptions options)
    : FileStore(std::move(options)), journal_path_(options_.path + ".journal") {
  StoreLockGuard guard(lock_, /*exclusive=*/true);
  Reload();
  SyncWithFile(/*exclusive=*/true);
}

SnapshotStore::~SnapshotStore() {
  try {
    Close();
  } catch (const Error& error) {
    Warn(std::string("closing: ") + error.what());
  }
}

Capabilities SnapshotStore::capabilities() const noexcept {
  Capabilities c;
  c.persistent = true;
  c.atomic_batch = true;
  c.secondary_indexes = true;
  return c;
}

// ---- Loading ----

void SnapshotStore::Reload() {
  image_ = std::make_shared<MemoryDatabase>();
  for (const IndexInfo& index : indexes_) image_->CreateIndex(index);
  LoadBase();
  journal_fd_ = OpenFile(journal_path_, O_RDWR | O_CREAT);
  journal_ = IdentifyFd(journal_fd_.get(), journal_path_);
  journal_.size = 0;
  journal_end_ = 0;
  journal_lines_ = 0;
  journal_missing_newline_ = false;
  torn_reported_ = false;
  ScanJournal(0);
}

void SnapshotStore::LoadBase() {
  base_ = IdentifyPath(options_.path);
  if (!base_.exists) {
    // A new store: create the file, so that other processes see the same base.
    AtomicFileWriter writer(options_.path, options_.sync != SyncMode::kNone);
    if (options_.format == FileFormat::kJson) {
      auto out = OutputStream::ToFd(writer.fd(), options_.compression, options_.path);
      out->Write("{}\n");
      out->Finish();
    } else if (options_.format == FileFormat::kParquet) {
      WriteParquetStore(writer.fd(), {});  // an empty file is not Parquet: write one of no rows
    }
    writer.Commit();
    base_ = IdentifyPath(options_.path);
    return;
  }
  if (base_.size == 0) return;  // an empty file is an empty store
  if (options_.format == FileFormat::kParquet) {
    LoadParquet();
    return;
  }
  auto in = InputStream::Open(options_.path, options_.compression);
  MemoryDatabase& image = *image_;
  // Records go into the image in batches (MemoryDatabase::RestoreBatch); a delete, or the end,
  // flushes what is pending first. The batch's records are swapped with the decoder's, so a
  // decoder that refills its record (CSV rows without an id) gets back one of the same layout 256
  // rows later and reuses its storage.
  constexpr std::size_t kRestoreBatch = 256;
  std::vector<MemoryDatabase::RestoreItem> pending(kRestoreBatch);
  std::size_t pending_count = 0;
  auto flush = [&] {
    image.RestoreBatch(std::span(pending.data(), pending_count));
    pending_count = 0;
  };
  auto restore = [&](std::string_view id, Record& record, std::uint64_t version) {
    MemoryDatabase::RestoreItem& item = pending[pending_count++];
    item.id.assign(id);
    std::swap(item.record, record);
    item.version = version == 0 ? 1 : version;
    if (pending_count == kRestoreBatch) flush();
  };
  std::string position_id;
  auto store = [&](Record& record, std::uint64_t position) {
    if (record.id()) {
      restore(*record.id(), record, record.version());
    } else if (auto resolved = record.ResolveId()) {
      restore(*resolved, record, record.version());
    } else {
      position_id = std::to_string(position);  // as a log line without an id: its line number
      restore(position_id, record, record.version());
    }
  };
  switch (options_.format) {
    case FileFormat::kParquet:
      break;  // read by LoadParquet()
    case FileFormat::kJsonl: {
      LogLineInfo info;
      auto report = SalvageReporter(options_.path);
      ForEachStreamLine(*in, [&](std::string_view text, std::uint64_t line) {
        try {
          PeekLogLine(text, line, info);
          if (info.kind == LogLineInfo::Kind::kPut) {
            Record record = DecodePutLine(text, info);
            restore(info.id, record, record.version());
          } else if (info.kind == LogLineInfo::Kind::kDelete) {
            flush();
            image.Delete(info.id);
          }
        } catch (const Error& error) {
          if (!report) {
            Throw(ErrorCode::kIo, "'" + options_.path + "' " + error.what() +
                                      " (open the store with salvage: true to skip invalid lines)");
          }
          report(line, error.what());
        }
      });
      break;
    }
    case FileFormat::kJson: {
      const std::string text = in->ReadAll();
      Value document;
      try {
        document = ParseJson(text);
      } catch (const Error& error) {
        Throw(ErrorCode::kIo, "'" + options_.path + "': " + error.what());
      }
      if (const Object* object = document.Get<Object>()) {
        // The reference's layout: {id: structured record, ...}.
        for (const auto& [id, value] : *object) {
          Record record = RecordFromJsonValue(value);
          restore(id, record, record.version());
        }
      } else if (const List* list = document.Get<List>()) {
        std::uint64_t position = 0;
        for (const Value& value : *list) {
          Record record = RecordFromJsonValue(value);
          store(record, ++position);
        }
      } else {
        Throw(ErrorCode::kIo,
              "'" + options_.path + "' holds neither a JSON object of records by id nor a list");
      }
      break;
    }
    case FileFormat::kCsv:
    case FileFormat::kTsv: {
      // Rows with an `__id__` go straight from their cells into the image's row encoding, with
      // no Record in between, on the threads that decode them (ReadCsvRowsInParallel); the
      // others get their id from an "id" field or their line, which is decided on a Record, on
      // this thread. The file's order is kept: each part's rows are restored in order, and an
      // encoded run is restored before a Record that follows it.
      const std::vector<std::string>* names = nullptr;
      std::vector<std::uint32_t> name_ids;  // by column
      struct Part final : CsvPartSink {
        const std::vector<std::string>* names;
        const std::vector<std::uint32_t>* name_ids;
        RowEncoder encoder;
        std::vector<Row> rows;
        struct WithoutId {
          std::size_t before_row;  // its place: before rows[before_row]
          Record record;
          std::size_t line;
        };
        std::vector<WithoutId> without_id;
        void Add(CsvRow& row) override {
          if (!row.has_id) {
            WithoutId& item = without_id.emplace_back();
            item.before_row = rows.size();
            item.line = row.line;
            CsvRowToRecord(row, *names, item.record);
            return;
          }
          encoder.Begin(row.id, row.version == 0 ? 1 : row.version, row.field_count);
          for (std::size_t i = 0; i < row.field_count; ++i) {
            const CsvField& field = row.fields[i];
            encoder.BeginField((*name_ids)[field.column], field.type, !field.metadata.empty());
            EncodeCsvValue(field, encoder);
            encoder.EndField(field.metadata);
          }
          rows.push_back(encoder.Finish(row.metadata));
        }
      };
      bool reserved = false;
      const unsigned threads = WorkerPool::ThreadsFor(options_.threads);
      WorkerPool pool(base_.size >= (std::uint64_t{4} << 20) ? threads : 1);
      ReadCsvRowsInParallel(
          *in, CsvOptionsFor(options_), options_.path, pool,
          [&](const std::vector<std::string>& column_names) {
            names = &column_names;
            name_ids.clear();
            for (const std::string& name : column_names) {
              name_ids.push_back(image.InternFieldName(name));
            }
          },
          [&]() -> std::unique_ptr<CsvPartSink> {
            auto part = std::make_unique<Part>();
            part->names = names;
            part->name_ids = &name_ids;
            return part;
          },
          [&](CsvPartSink& sink) {
            Part& part = static_cast<Part&>(sink);
            if (!reserved && !part.rows.empty() && options_.compression == Compression::kNone) {
              // A row takes about the room of its line: the file holds about size / (bytes of a
              // row) of them. Room for them now spares growing the id table and the row list
              // step by step.
              reserved = true;
              std::size_t bytes = 0;
              for (const Row& encoded : part.rows) bytes += encoded.size();
              image.ReserveRecords(base_.size / std::max<std::size_t>(1, bytes / part.rows.size()));
            }
            std::size_t restored = 0;
            auto restore_rows_before = [&](std::size_t end) {
              if (end == restored) return;
              if (pending_count > 0) flush();
              for (std::size_t at = restored; at < end; at += kRestoreBatch) {
                image.RestoreEncoded(
                    std::span(part.rows.data() + at, std::min(end, at + kRestoreBatch) - at));
              }
              restored = end;
            };
            for (Part::WithoutId& item : part.without_id) {
              restore_rows_before(item.before_row);
              store(item.record, item.line);
            }
            restore_rows_before(part.rows.size());
          });
      break;
    }
  }
  flush();
}

void SnapshotStore::ScanJournal(std::uint64_t offset) {
  const LogScanEnd end = ScanLog(
      journal_fd_.get(), journal_path_, offset, journal_lines_ + 1,
      [&](const LogLine& line, LogLineInfo& info) { ApplyJournalLine(line.text, info); },
      SalvageReporter(journal_path_));
  journal_end_ = end.valid_end;
  journal_lines_ = end.lines;
  journal_missing_newline_ = end.missing_final_newline;
  journal_.size = end.valid_end + end.torn_bytes;
  if (end.torn_bytes > 0 && !torn_reported_) {
    torn_reported_ = true;
    Warn("dropped a torn end of " + std::to_string(end.torn_bytes) +
         " bytes of the journal after line " + std::to_string(end.lines) +
         " (an interrupted write; nothing acknowledged is lost)");
  }
}

void SnapshotStore::ApplyJournalLine(std::string_view text, const LogLineInfo& info) {
  if (info.kind == LogLineInfo::Kind::kPut) {
    const Record record = DecodePutLine(text, info);
    image_->Restore(info.id, record, record.version());
  } else if (info.kind == LogLineInfo::Kind::kDelete) {
    image_->Delete(info.id);
  }
}

void SnapshotStore::SyncWithFile(bool exclusive) {
  const FileIdentity base_now = IdentifyPath(options_.path);
  const FileIdentity journal_now = IdentifyPath(journal_path_);
  if (!base_now.SameFile(base_) || base_now.size != base_.size || !journal_now.SameFile(journal_) ||
      journal_now.size < journal_end_) {
    Reload();  // another process folded the journal in, or the files were replaced
  } else if (journal_now.size > journal_.size) {
    ScanJournal(journal_end_);
  }
  if (exclusive && journal_.size > journal_end_) {
    if (::ftruncate(journal_fd_.get(), static_cast<off_t>(journal_end_)) != 0) {
      ThrowIo("cannot cut the torn end of", journal_path_, errno);
    }
    journal_.size = journal_end_;
  }
}

// ---- Writing ----

std::uint64_t SnapshotStore::VersionOf(std::string_view id) {
  // The memory image answers a point read in well under a microsecond.
  thread_local Record scratch;
  return image_->ReadInto(id, scratch) ? scratch.version() : 0;
}

void SnapshotStore::Append(LogWrite& write) {
  std::string prefix;
  if (journal_missing_newline_) prefix = "\n";
  if (write.infos.size() > 1) AppendBatchLine(prefix, write.infos.size());
  if (!prefix.empty()) write.lines.insert(0, prefix);
  WriteAllAt(journal_fd_.get(), write.lines, journal_end_, journal_path_);
  journal_missing_newline_ = false;
  journal_end_ += write.lines.size();
  journal_.size = journal_end_;
  journal_lines_ += write.infos.size() + (write.infos.size() > 1 ? 1 : 0);
  std::size_t offset = prefix.size();
  for (std::size_t i = 0; i < write.infos.size(); ++i) {
    std::string line = write.lines.substr(offset, write.lengths[i]);
    line.reserve(line.size() + kLinePadding);
    ApplyJournalLine(line, write.infos[i]);
    offset += write.lengths[i] + 1;
  }
  unsynced_ = true;
  SyncIfDue(/*force=*/false);
  MaybeFold();
}

void SnapshotStore::SyncNow() {
  SyncFile(journal_fd_.get(), journal_path_);
}

void SnapshotStore::MaybeFold() {
  if (journal_end_ < options_.compaction_min_bytes) return;
  if (static_cast<double>(journal_end_) <=
      options_.compaction_threshold * static_cast<double>(base_.size)) {
    return;
  }
  Fold();
}

void SnapshotStore::LoadParquet() {
  const parquet::ParquetFileReader reader = parquet::ParquetFileReader::Open(options_.path);
  parquet::RecordReadOptions read;
  read.threads = options_.threads;
  constexpr std::size_t kRestoreBatch = 256;
  std::vector<MemoryDatabase::RestoreItem> pending(kRestoreBatch);
  std::size_t pending_count = 0;
  std::uint64_t position = 0;
  parquet::ReadParquetRecords(reader, read, [&](Record& record) {
    ++position;
    MemoryDatabase::RestoreItem& item = pending[pending_count++];
    if (record.id()) {
      item.id.assign(*record.id());
    } else if (auto resolved = record.ResolveId()) {
      item.id = std::move(*resolved);
    } else {
      item.id = std::to_string(position);  // as a CSV row without an id: its position
    }
    item.version = record.version() == 0 ? 1 : record.version();
    std::swap(item.record, record);
    if (pending_count == kRestoreBatch) {
      image_->RestoreBatch(std::span(pending.data(), pending_count));
      pending_count = 0;
    }
  });
  image_->RestoreBatch(std::span(pending.data(), pending_count));
}

void SnapshotStore::WriteParquetStore(int fd, const std::vector<Record>& records) {
  std::vector<const Record*> pointers;
  pointers.reserve(records.size());
  for (const Record& record : records) pointers.push_back(&record);
  parquet::RecordWriteOptions write;
  write.writer.codec = options_.parquet_codec;
  write.row_group_rows = options_.row_group_size;
  write.writer.threads = options_.threads;
  // The writer's output goes out in pieces of about kChunk bytes.
  auto out = OutputStream::ToFd(fd, Compression::kNone, options_.path);
  parquet::WriteParquetRecords(pointers, write, [&](std::string_view bytes) { out->Write(bytes); });
  out->Finish();
}

void SnapshotStore::Fold() {
  const bool sync = options_.sync != SyncMode::kNone;
  const std::vector<Record> records = image_->Search(Query());
  {
    AtomicFileWriter writer(options_.path, sync);
    auto out = OutputStream::ToFd(writer.fd(), options_.compression, options_.path);
    std::string text;
    switch (options_.format) {
      case FileFormat::kJsonl:
        for (const Record& record : records) {
          AppendPutLine(text, record);
          if (text.size() >= kChunk) {
            out->Write(text);
            text.clear();
          }
        }
        break;
      case FileFormat::kJson: {
        text = "{";
        bool first = true;
        for (const Record& record : records) {
          text.append(first ? "\n" : ",\n");
          first = false;
          AppendJson(text, Value(*record.id()));
          text.push_back(':');
          AppendRecordJson(text, record, RecordFormat::kStructured);
          if (text.size() >= kChunk) {
            out->Write(text);
            text.clear();
          }
        }
        text.append("\n}\n");
        break;
      }
      case FileFormat::kCsv:
      case FileFormat::kTsv: {
        std::vector<const Record*> pointers;
        pointers.reserve(records.size());
        for (const Record& record : records) pointers.push_back(&record);
        WriteCsvRecords(*out, CsvOptionsFor(options_), pointers);
        break;
      }
      case FileFormat::kParquet:
        WriteParquetStore(writer.fd(), records);
        break;
    }
    out->Write(text);
    out->Finish();
    writer.Commit();
  }
  // The file now holds everything: empty the journal. (A crash before this line replays the
  // journal onto the new file, which changes nothing: its lines set records to what they are.)
  if (::ftruncate(journal_fd_.get(), 0) != 0) ThrowIo("cannot empty", journal_path_, errno);
  if (sync) SyncFile(journal_fd_.get(), journal_path_);
  unsynced_ = false;
  base_ = IdentifyPath(options_.path);
  journal_ = IdentifyFd(journal_fd_.get(), journal_path_);
  journal_end_ = 0;
  journal_lines_ = 0;
  journal_missing_newline_ = false;
}

void SnapshotStore::OnClose() {
  // Leave a complete file for other tools: fold the journal in.
  if (journal_end_ > 0 || journal_.size > 0) {
    StoreLockGuard lock(lock_, true);
    SyncWithFile(true);
    if (journal_end_ > 0) Fold();
  }
  journal_fd_.reset();
  if (options_.temporary) ::unlink(journal_path_.c_str());
  image_.reset();
}

// ---- Reading: the memory image answers ----

std::optional<Record> SnapshotStore::Read(std::string_view id) {
  return Locked(false, [&] { return image_->Read(id); });
}

bool SnapshotStore::ReadInto(std::string_view id, Record& out) {
  return Locked(false, [&] { return image_->ReadInto(id, out); });
}

std::vector<std::optional<Record>> SnapshotStore::ReadBatch(const std::vector<std::string>& ids) {
  return Locked(false, [&] { return image_->ReadBatch(ids); });
}

std::vector<Record> SnapshotStore::Search(const Query& query) {
  return Locked(false, [&] { return image_->Search(query); });
}

std::size_t SnapshotStore::Count(const Expr& expr) {
  return Locked(false, [&] { return image_->Count(expr); });
}

std::size_t SnapshotStore::Clear() {
  return Locked(true, [&] {
    const std::size_t count = image_->Count(Expr());
    image_->Clear();
    Fold();
    return count;
  });
}

namespace {

// Keeps the memory image a cursor reads alive after a reload replaced it.
class SnapshotCursor final : public RecordCursor {
 public:
  SnapshotCursor(std::shared_ptr<MemoryDatabase> image, std::unique_ptr<RecordCursor> inner)
      : image_(std::move(image)), inner_(std::move(inner)) {}
  bool NextBatch(std::vector<Record>& batch) override { return inner_->NextBatch(batch); }

 private:
  std::shared_ptr<MemoryDatabase> image_;  // declared first: destroyed after inner_
  std::unique_ptr<RecordCursor> inner_;
};

}  // namespace

std::unique_ptr<RecordCursor> SnapshotStore::StreamRead(const Query& query, StreamOptions options) {
  return Locked(false, [&]() -> std::unique_ptr<RecordCursor> {
    return std::make_unique<SnapshotCursor>(image_, image_->StreamRead(query, options));
  });
}

void SnapshotStore::CreateIndex(const IndexInfo& index) {
  Locked(false, [&] {
    image_->CreateIndex(index);
    std::erase_if(indexes_, [&](const IndexInfo& i) { return i.field == index.field; });
    indexes_.push_back(index);
  });
}

bool SnapshotStore::DropIndex(std::string_view field) {
  return Locked(false, [&] {
    std::erase_if(indexes_, [&](const IndexInfo& i) { return i.field == field; });
    return image_->DropIndex(field);
  });
}

std::vector<IndexInfo> SnapshotStore::ListIndexes() const {
  std::lock_guard guard(mutex_);
  CheckOpen();
  return image_->ListIndexes();
}

}  // namespace dkdata::internal
