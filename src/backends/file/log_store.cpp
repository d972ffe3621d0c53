#include "backends/file/log_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "core/evaluator.hpp"
#include "core/worker_pool.hpp"
#include "dkdata/diagnostics.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

constexpr std::string_view kBackend = "file";
constexpr std::size_t kReadChunk = std::size_t{4} << 20;

[[noreturn]] void Throw(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), std::string(kBackend));
}

std::uint64_t HashId(std::string_view id) noexcept {
  return std::hash<std::string_view>()(id);
}

// The part of a query left after filtering: sort, paging, projection.
Query WithoutFilter(const Query& query) {
  Query rest;
  for (const SortKey& key : query.sort()) rest.Sort(key.field, key.order);
  rest.Offset(query.offset());
  if (query.limit()) rest.Limit(*query.limit());
  if (!query.fields().empty()) rest.Select(query.fields());
  return rest;
}

}  // namespace

// ---- LogStore: opening and catching up ----

// Opening only opens: the file is read at the first call, which for a search or a count reads it
// in the same pass as the query (ScanTap).
LogStore::LogStore(FileOptions options) : FileStore(std::move(options)) {
  fd_ = OpenFile(options_.path, O_RDWR | O_CREAT);
}

LogStore::~LogStore() {
  try {
    Close();
  } catch (const Error& error) {
    Warn(std::string("closing: ") + error.what());
  }
}

Capabilities LogStore::capabilities() const noexcept {
  Capabilities c;
  c.persistent = true;
  c.atomic_batch = true;
  return c;
}

void LogStore::Reload() {
  fd_ = OpenFile(options_.path, O_RDWR | O_CREAT);
  file_ = IdentifyFd(fd_.get(), options_.path);
  file_.size = 0;
  end_ = 0;
  lines_ = 0;
  missing_final_newline_ = false;
  torn_reported_ = false;
  offsets_.clear();
  lengths_.clear();
  versions_.clear();
  live_.clear();
  line_number_ids_.clear();
  index_.Clear();
  live_count_ = 0;
  dead_bytes_ = 0;
  pending_count_ = 0;
  read_ = false;
  ScanFrom(0);
  read_ = true;
}

void LogStore::ScanFrom(std::uint64_t offset) {
  if (tap_ != nullptr) tap_->first_ordinal = static_cast<std::uint32_t>(offsets_.size());
  // Once the first lines show how long lines are, room is made for all the file holds, rather
  // than growing (and copying) the per-line tables and the index again and again.
  constexpr std::size_t kSampleLines = 1024;
  const std::uint64_t file_size = IdentifyFd(fd_.get(), options_.path).size;
  const std::size_t sample_end = offsets_.size() + kSampleLines;
  LogScanEnd end;
  try {
    end = ScanLog(
        fd_.get(), options_.path, offset, lines_ + 1,
        [&](const LogLine& line, LogLineInfo& info) {
          if (offsets_.size() == sample_end && line.offset > offset) {
            const double per_line = static_cast<double>(line.offset - offset) / kSampleLines;
            const auto more = static_cast<std::size_t>(
                static_cast<double>(file_size - std::min(file_size, line.offset)) / per_line);
            offsets_.reserve(offsets_.size() + more);
            lengths_.reserve(offsets_.size() + more);
            versions_.reserve(offsets_.size() + more);
            live_.reserve(offsets_.size() + more);
            index_.Reserve(more);
          }
          ApplyLine(info, line.offset, line.text.size());
          if (tap_ != nullptr && info.record) {
            tap_->on_record(static_cast<std::uint32_t>(offsets_.size() - 1), line.text,
                            *info.record);
          }
        },
        SalvageReporter(options_.path), tap_ != nullptr ? tap_->selection : nullptr,
        WorkerPool::ThreadsFor(options_.threads));
    FlushIndexUpdates();
  } catch (...) {
    // Some lines are applied, the rest are not: read the whole file again next time.
    read_ = false;
    pending_count_ = 0;
    throw;
  }
  end_ = end.valid_end;
  lines_ = end.lines;
  missing_final_newline_ = end.missing_final_newline;
  file_.size = end.valid_end + end.torn_bytes;
  if (end.torn_bytes > 0 && !torn_reported_) {
    torn_reported_ = true;
    Warn("dropped a torn end of " + std::to_string(end.torn_bytes) + " bytes after line " +
         std::to_string(end.lines) + " (an interrupted write; nothing acknowledged is lost)");
  }
}

void LogStore::ApplyLine(const LogLineInfo& info, std::uint64_t offset, std::uint64_t length) {
  switch (info.kind) {
    case LogLineInfo::Kind::kPut: {
      const auto ordinal = static_cast<std::uint32_t>(offsets_.size());
      if (ordinal == SlotTable::kNone) Throw(ErrorCode::kUnsupported, "too many lines in one log");
      offsets_.push_back(offset);
      lengths_.push_back(static_cast<std::uint32_t>(length));
      versions_.push_back(info.version == 0 ? 1 : info.version);
      live_.push_back(true);
      if (info.id_is_line_number) line_number_ids_[ordinal] = info.id;
      QueueIndexUpdate(info.id, ordinal, /*is_delete=*/false);
      break;
    }
    case LogLineInfo::Kind::kDelete:
      dead_bytes_ += length + 1;
      QueueIndexUpdate(info.id, 0, /*is_delete=*/true);
      break;
    case LogLineInfo::Kind::kBatch:
    case LogLineInfo::Kind::kBlank:
      dead_bytes_ += length + 1;
      break;
  }
}

// The id index is a table far larger than the caches, so each update would wait for memory: the
// slot is prefetched when the line is read, and the update made a few lines later.
void LogStore::QueueIndexUpdate(const std::string& id, std::uint32_t ordinal, bool is_delete) {
  if (pending_count_ == pending_.size()) ApplyIndexUpdate(pending_[pending_first_]);
  PendingIndexUpdate& update = pending_[(pending_first_ + pending_count_) % pending_.size()];
  if (pending_count_ == pending_.size()) {
    pending_first_ = (pending_first_ + 1) % pending_.size();
  } else {
    ++pending_count_;
  }
  update.id.assign(id);
  update.hash = HashId(id);
  update.ordinal = ordinal;
  update.is_delete = is_delete;
  index_.Prefetch(update.hash);
}

void LogStore::FlushIndexUpdates() {
  for (; pending_count_ > 0; --pending_count_) {
    ApplyIndexUpdate(pending_[pending_first_]);
    pending_first_ = (pending_first_ + 1) % pending_.size();
  }
}

void LogStore::ApplyIndexUpdate(const PendingIndexUpdate& update) {
  const std::uint32_t previous = Locate(update.id, update.hash, nullptr);
  if (update.is_delete) {
    if (previous == SlotTable::kNone) return;
    index_.Erase(update.hash, previous);
    --live_count_;
  } else if (previous == SlotTable::kNone) {
    index_.Insert(update.hash, update.ordinal);
    ++live_count_;
    return;
  } else {
    index_.Replace(update.hash, previous, update.ordinal);
  }
  live_[previous] = false;
  dead_bytes_ += lengths_[previous] + 1;
}

void LogStore::SyncWithFile(bool exclusive) {
  const FileIdentity now = IdentifyPath(options_.path);
  if (!read_ || !now.exists || !now.SameFile(file_) || now.size < end_) {
    // Replaced (compacted or cleared by another process), removed, or cut short: start over.
    Reload();
  } else if (now.size > file_.size) {
    ScanFrom(end_);
  }
  if (exclusive && file_.size > end_) {
    // Cut the torn end off before appending after it.
    if (::ftruncate(fd_.get(), static_cast<off_t>(end_)) != 0) {
      ThrowIo("cannot cut the torn end of", options_.path, errno);
    }
    file_.size = end_;
  }
}

// ---- Lines ----

std::string LogStore::ReadLine(std::uint32_t ordinal) {
  std::string text(lengths_[ordinal], '\0');
  text.reserve(text.size() + kLinePadding);
  ReadExactAt(fd_.get(), text.data(), text.size(), offsets_[ordinal], options_.path);
  return text;
}

std::uint32_t LogStore::Locate(std::string_view id, std::string* line) {
  return Locate(id, HashId(id), line);
}

std::uint32_t LogStore::Locate(std::string_view id, std::uint64_t hash, std::string* line) {
  LogLineInfo info;
  return index_.Find(hash, [&](std::uint32_t ordinal) {
    std::string text = ReadLine(ordinal);
    PeekLogLine(text, 0, info);
    const bool same =
        info.id == id || (line_number_ids_.count(ordinal) && line_number_ids_[ordinal] == id);
    if (same && line != nullptr) *line = std::move(text);
    return same;
  });
}

Record LogStore::DecodeRecord(std::uint32_t ordinal, std::string_view text,
                              const FieldSelection* selection) const {
  Record record = selection ? RecordFromJson(text, *selection) : RecordFromJson(text);
  if (!record.id()) {
    auto it = line_number_ids_.find(ordinal);
    if (it != line_number_ids_.end()) {
      record.set_id(it->second);
    } else if (auto id = record.ResolveId()) {
      record.set_id(*id);
    }
  }
  record.set_version(versions_[ordinal]);
  return record;
}

template <typename Body>
auto LogStore::LockedWithTap(ScanTap& tap, Body&& body) {
  struct TapScope {
    LogStore& store;
    ~TapScope() { store.tap_ = nullptr; }
  };
  return Locked(
      false,
      [&] {
        tap_ = &tap;
        return TapScope{*this};
      },
      std::forward<Body>(body));
}

template <typename Visit>
void LogStore::ForEachLive(std::uint32_t end_ordinal, Visit&& visit) {
  std::string chunk;
  std::uint64_t chunk_offset = 0;
  const std::size_t n = std::min<std::size_t>(end_ordinal, offsets_.size());
  std::uint32_t ordinal = 0;
  while (ordinal < n) {
    if (!live_[ordinal]) {
      ++ordinal;
      continue;
    }
    const std::uint64_t begin = offsets_[ordinal];
    const std::uint64_t line_end = begin + lengths_[ordinal];
    if (begin < chunk_offset || line_end + kLinePadding > chunk_offset + chunk.size()) {
      // Read the next chunk, starting at this line, at least as long as it.
      const std::uint64_t want = std::max<std::uint64_t>(kReadChunk, lengths_[ordinal] + 1);
      const std::uint64_t available = end_ > begin ? end_ - begin : 0;
      chunk.assign(std::min(want, available) + kLinePadding, '\0');
      ReadAt(fd_.get(), chunk.data(), chunk.size() - kLinePadding, begin, options_.path);
      chunk_offset = begin;
      if (line_end + kLinePadding > chunk_offset + chunk.size()) {
        Throw(ErrorCode::kIo, "'" + options_.path + "' is shorter than its index");
      }
    }
    const std::string_view text(chunk.data() + (begin - chunk_offset), lengths_[ordinal]);
    if (!visit(ordinal, text)) return;
    ++ordinal;
  }
}

// ---- Writing ----

void LogStore::Append(LogWrite& write) {
  std::string prefix;
  if (missing_final_newline_) prefix = "\n";
  const bool batch = write.infos.size() > 1;
  if (batch) AppendBatchLine(prefix, write.infos.size());
  std::uint64_t offset = end_ + prefix.size();
  if (!prefix.empty()) write.lines.insert(0, prefix);
  WriteAllAt(fd_.get(), write.lines, end_, options_.path);
  missing_final_newline_ = false;
  if (batch) {
    dead_bytes_ += prefix.size() - (prefix[0] == '\n' ? 1 : 0);
    ++lines_;
  }
  for (std::size_t i = 0; i < write.infos.size(); ++i) {
    ++lines_;
    ApplyLine(write.infos[i], offset, write.lengths[i]);
    offset += write.lengths[i] + 1;
  }
  FlushIndexUpdates();
  end_ = offset;
  file_.size = end_;
  unsynced_ = true;
  SyncIfDue(/*force=*/false);
  MaybeCompact();
}

void LogStore::SyncNow() {
  SyncFile(fd_.get(), options_.path);
}

std::uint64_t LogStore::VersionOf(std::string_view id) {
  const std::uint32_t ordinal = Locate(id, nullptr);
  return ordinal == SlotTable::kNone ? 0 : versions_[ordinal];
}

void LogStore::MaybeCompact() {
  if (end_ < options_.compaction_min_bytes) return;
  if (static_cast<double>(dead_bytes_) <=
      options_.compaction_threshold * static_cast<double>(end_)) {
    return;
  }
  Compact();
}

void LogStore::Compact() {
  AtomicFileWriter writer(options_.path, options_.sync != SyncMode::kNone);
  std::string out;
  std::uint64_t written = 0;
  ForEachLive(SlotTable::kNone, [&](std::uint32_t ordinal, std::string_view text) {
    if (line_number_ids_.count(ordinal) != 0) {
      // Its id is its line number, which compaction changes: write the id out.
      AppendPutLine(out, DecodeRecord(ordinal, text));
    } else {
      out.append(text).push_back('\n');
    }
    if (out.size() >= kReadChunk) {
      WriteAllAt(writer.fd(), out, written, writer.temp_path());
      written += out.size();
      out.clear();
    }
    return true;
  });
  WriteAllAt(writer.fd(), out, written, writer.temp_path());
  writer.Commit();
  unsynced_ = false;
  Reload();
}

// ---- The Database surface ----

std::optional<Record> LogStore::Read(std::string_view id) {
  return Locked(false, [&]() -> std::optional<Record> {
    std::string line;
    const std::uint32_t ordinal = Locate(id, &line);
    if (ordinal == SlotTable::kNone) return std::nullopt;
    return DecodeRecord(ordinal, line);
  });
}

std::vector<std::optional<Record>> LogStore::ReadBatch(const std::vector<std::string>& ids) {
  return Locked(false, [&] {
    std::vector<std::optional<Record>> out;
    out.reserve(ids.size());
    std::string line;
    for (const std::string& id : ids) {
      const std::uint32_t ordinal = Locate(id, &line);
      if (ordinal == SlotTable::kNone) {
        out.emplace_back();
      } else {
        out.emplace_back(DecodeRecord(ordinal, line));
      }
    }
    return out;
  });
}

// Decodes the lines a query visits as cheaply as its result allows: only the filter's fields to
// decide, then the whole record for a match, or, when the query projects, only the fields the
// filter, the sort and the projection need, once.
class QueryDecoder {
 public:
  QueryDecoder(const Query& query, const CompiledFilter& filter)
      : filter_(filter), for_filter_(filter.paths()) {
    if (query.fields().empty()) return;
    std::vector<std::string> paths = filter.paths();
    for (const SortKey& key : query.sort()) paths.push_back(key.field);
    paths.insert(paths.end(), query.fields().begin(), query.fields().end());
    for_result_.emplace(paths);
  }

  // What a scan reads of each line for Match: decode(selection) is asked for this selection
  // first, and for the whole record (nullptr) only after.
  const FieldSelection* scan_selection() const {
    return for_result_ ? &*for_result_ : &for_filter_;
  }

  // The record to return when the line matches; decode(selection or nullptr) decodes it.
  template <typename Decode>
  std::optional<Record> Match(Decode&& decode) const {
    if (for_result_) {
      Record record = decode(&*for_result_);
      if (!filter_.Matches(record)) return std::nullopt;
      return record;
    }
    if (!filter_.always_true() && !filter_.Matches(decode(&for_filter_))) return std::nullopt;
    return decode(nullptr);
  }

 private:
  const CompiledFilter& filter_;
  FieldSelection for_filter_;
  std::optional<FieldSelection> for_result_;
};

std::vector<Record> LogStore::Search(const Query& query) {
  const CompiledFilter filter(query.where());
  const QueryDecoder decoder(query, filter);
  // Without a sort, the scan can stop once offset + limit records matched.
  std::optional<std::size_t> enough;
  if (query.sort().empty() && query.limit()) enough = query.offset() + *query.limit();
  if (enough && *enough == 0) return {};
  std::vector<std::pair<std::uint32_t, Record>> scanned;  // matches the catch-up scan read
  ScanTap tap;
  tap.selection = decoder.scan_selection();
  tap.on_record = [&](std::uint32_t ordinal, std::string_view text, Record& record) {
    std::optional<Record> match = decoder.Match([&](const FieldSelection* selection) {
      return selection ? std::move(record) : DecodeRecord(ordinal, text);
    });
    if (match) scanned.emplace_back(ordinal, std::move(*match));
  };
  return LockedWithTap(tap, [&]() -> std::vector<Record> {
    std::vector<Record> matches;
    const auto full = [&] { return enough && matches.size() >= *enough; };
    ForEachLive(tap.first_ordinal.value_or(SlotTable::kNone),
                [&](std::uint32_t ordinal, std::string_view text) {
                  std::optional<Record> match = decoder.Match([&](const FieldSelection* selection) {
                    return DecodeRecord(ordinal, text, selection);
                  });
                  if (match) matches.push_back(std::move(*match));
                  return !full();
                });
    for (auto& [ordinal, record] : scanned) {
      if (full()) break;
      if (live_[ordinal]) matches.push_back(std::move(record));
    }
    return EvaluateQuery(WithoutFilter(query), std::move(matches));
  });
}

std::size_t LogStore::Count(const Expr& expr) {
  const CompiledFilter filter(expr);
  const FieldSelection selection(filter.paths());
  std::vector<std::uint32_t> scanned;  // ordinals of the matches the catch-up scan read
  ScanTap tap;
  if (!filter.always_true()) {
    tap.selection = &selection;
    tap.on_record = [&](std::uint32_t ordinal, std::string_view, Record& record) {
      if (filter.Matches(record)) scanned.push_back(ordinal);
    };
  }
  return LockedWithTap(tap, [&]() -> std::size_t {
    if (filter.always_true()) return live_count_;
    std::size_t count = 0;
    ForEachLive(tap.first_ordinal.value_or(SlotTable::kNone),
                [&](std::uint32_t ordinal, std::string_view text) {
                  if (filter.Matches(DecodeRecord(ordinal, text, &selection))) ++count;
                  return true;
                });
    for (std::uint32_t ordinal : scanned) count += live_[ordinal] ? 1 : 0;
    return count;
  });
}

std::size_t LogStore::Clear() {
  return Locked(true, [&] {
    const std::size_t count = live_count_;
    AtomicFileWriter writer(options_.path, options_.sync != SyncMode::kNone);
    writer.Commit();
    unsynced_ = false;
    Reload();
    return count;
  });
}

// ---- Streaming ----

// Streams the records that were live when it was opened, from a descriptor of the file as it was
// then (a later compaction replaces the file but not what this descriptor reads). Holds 12 bytes
// per record, never the records themselves.
class LogCursor final : public RecordCursor {
 public:
  LogCursor(LogStore& store, const Query& query, std::size_t batch_size)
      : store_(store),
        filter_(query.where()),
        decoder_(query, filter_),
        batch_size_(batch_size == 0 ? 1 : batch_size) {
    limit_ = query.limit();
    to_skip_ = query.offset();
    fields_ = query.fields();
    fd_ = UniqueFd(::dup(store.fd_.get()));
    if (!fd_) ThrowIo("cannot duplicate the descriptor of", store.options_.path, errno);
    for (std::uint32_t ordinal = 0; ordinal < store.offsets_.size(); ++ordinal) {
      if (!store.live_[ordinal]) continue;
      lines_.push_back(
          {store.offsets_[ordinal], store.lengths_[ordinal], ordinal, store.versions_[ordinal]});
    }
  }

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    {
      std::lock_guard guard(store_.mutex_);
      store_.CheckOpen();
    }
    while (next_ < lines_.size() && batch.size() < batch_size_ && (!limit_ || *limit_ > 0)) {
      const Line& line = lines_[next_++];
      std::string text(line.length, '\0');
      text.reserve(line.length + kLinePadding);
      ReadExactAt(fd_.get(), text.data(), text.size(), line.offset, store_.options_.path);
      std::optional<Record> record = decoder_.Match(
          [&](const FieldSelection* selection) { return Decode(line, text, selection); });
      if (!record) continue;
      if (to_skip_ > 0) {
        --to_skip_;
        continue;
      }
      if (limit_) --*limit_;
      if (!fields_.empty()) *record = record->Project(fields_);
      batch.push_back(std::move(*record));
    }
    return !batch.empty();
  }

 private:
  struct Line {
    std::uint64_t offset;
    std::uint32_t length;
    std::uint32_t ordinal;
    std::uint64_t version;
  };
  Record Decode(const Line& line, std::string_view text, const FieldSelection* selection) {
    Record record = selection ? RecordFromJson(text, *selection) : RecordFromJson(text);
    if (!record.id()) {
      // An id from the line number (held by the store) or from a data field.
      std::lock_guard guard(store_.mutex_);
      record = store_.DecodeRecord(line.ordinal, text, selection);
    }
    record.set_version(line.version);
    return record;
  }

  LogStore& store_;
  CompiledFilter filter_;
  QueryDecoder decoder_;
  std::size_t batch_size_;
  std::optional<std::size_t> limit_;
  std::size_t to_skip_ = 0;
  std::vector<std::string> fields_;
  UniqueFd fd_;
  std::vector<Line> lines_;
  std::size_t next_ = 0;
};

std::unique_ptr<RecordCursor> LogStore::StreamRead(const Query& query, StreamOptions options) {
  if (!query.sort().empty()) return Database::StreamRead(query, options);
  return Locked(false, [&]() -> std::unique_ptr<RecordCursor> {
    return std::make_unique<LogCursor>(*this, query, options.batch_size);
  });
}

void LogStore::OnClose() {
  fd_.reset();
}

}  // namespace dkdata::internal
