#include "backends/file/log_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "core/evaluator.hpp"
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

// ---- LogIndex ----

std::uint64_t LogIndex::Hash(std::string_view id) noexcept {
  return std::hash<std::string_view>()(id);
}

template <typename Confirm>
std::uint32_t LogIndex::Find(std::uint64_t hash, Confirm&& confirm) const {
  if (entries_.empty()) return kNone;
  const std::size_t mask = entries_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Entry& e = entries_[i];
    if (e.ordinal_plus_one == 0 && !e.tombstone) return kNone;
    if (!e.tombstone && e.hash == hash && confirm(e.ordinal_plus_one - 1)) {
      return e.ordinal_plus_one - 1;
    }
  }
}

std::size_t LogIndex::SlotOf(std::uint64_t hash, std::uint32_t ordinal) const {
  const std::size_t mask = entries_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Entry& e = entries_[i];
    if (!e.tombstone && e.ordinal_plus_one == ordinal + 1) return i;
    if (e.ordinal_plus_one == 0 && !e.tombstone) {
      Throw(ErrorCode::kInternal, "the log index lost an entry");
    }
  }
}

void LogIndex::Insert(std::uint64_t hash, std::uint32_t ordinal) {
  if ((used_ + 1) * 4 > entries_.size() * 3) Grow();
  const std::size_t mask = entries_.size() - 1;
  std::size_t i = hash & mask;
  while (entries_[i].ordinal_plus_one != 0) i = (i + 1) & mask;
  if (!entries_[i].tombstone) ++used_;
  entries_[i] = Entry{hash, ordinal + 1, false};
}

void LogIndex::Replace(std::uint64_t hash, std::uint32_t old_ordinal, std::uint32_t new_ordinal) {
  entries_[SlotOf(hash, old_ordinal)].ordinal_plus_one = new_ordinal + 1;
}

void LogIndex::Erase(std::uint64_t hash, std::uint32_t ordinal) {
  Entry& e = entries_[SlotOf(hash, ordinal)];
  e.ordinal_plus_one = 0;
  e.tombstone = true;
}

void LogIndex::Clear() {
  entries_.clear();
  used_ = 0;
}

void LogIndex::Grow() {
  std::vector<Entry> old = std::move(entries_);
  entries_.assign(std::max<std::size_t>(64, old.size() * 2), Entry{});
  used_ = 0;
  for (const Entry& e : old) {
    if (e.ordinal_plus_one != 0) Insert(e.hash, e.ordinal_plus_one - 1);
  }
}

// ---- LogStore: opening and catching up ----

LogStore::LogStore(FileOptions options) : FileStore(std::move(options)) {
  StoreLockGuard guard(lock_, /*exclusive=*/true);
  Reload();
  SyncWithFile(/*exclusive=*/true);
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
  ScanFrom(0);
}

void LogStore::ScanFrom(std::uint64_t offset) {
  const LogScanEnd end = ScanLog(
      fd_.get(), options_.path, offset, lines_ + 1,
      [&](const LogLine& line, const LogLineInfo& info) {
        ApplyLine(info, line.offset, line.text.size(), line.number);
      },
      SalvageReporter(options_.path));
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

void LogStore::ApplyLine(const LogLineInfo& info, std::uint64_t offset, std::uint64_t length,
                         std::uint64_t line_number) {
  switch (info.kind) {
    case LogLineInfo::Kind::kPut: {
      const auto ordinal = static_cast<std::uint32_t>(offsets_.size());
      if (ordinal == LogIndex::kNone) Throw(ErrorCode::kUnsupported, "too many lines in one log");
      offsets_.push_back(offset);
      lengths_.push_back(static_cast<std::uint32_t>(length));
      versions_.push_back(info.version == 0 ? 1 : info.version);
      live_.push_back(true);
      if (info.id == std::to_string(line_number)) line_number_ids_[ordinal] = info.id;
      const std::uint64_t hash = LogIndex::Hash(info.id);
      const std::uint32_t previous = Locate(info.id, hash, nullptr);
      if (previous == LogIndex::kNone) {
        index_.Insert(hash, ordinal);
        ++live_count_;
      } else {
        index_.Replace(hash, previous, ordinal);
        live_[previous] = false;
        dead_bytes_ += lengths_[previous] + 1;
      }
      break;
    }
    case LogLineInfo::Kind::kDelete: {
      dead_bytes_ += length + 1;
      const std::uint64_t hash = LogIndex::Hash(info.id);
      const std::uint32_t previous = Locate(info.id, hash, nullptr);
      if (previous != LogIndex::kNone) {
        index_.Erase(hash, previous);
        live_[previous] = false;
        dead_bytes_ += lengths_[previous] + 1;
        --live_count_;
      }
      break;
    }
    case LogLineInfo::Kind::kBatch:
    case LogLineInfo::Kind::kBlank:
      dead_bytes_ += length + 1;
      break;
  }
}

void LogStore::SyncWithFile(bool exclusive) {
  const FileIdentity now = IdentifyPath(options_.path);
  if (!now.exists || !now.SameFile(file_) || now.size < end_) {
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
  return Locate(id, LogIndex::Hash(id), line);
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

Record LogStore::DecodeRecord(std::uint32_t ordinal, std::string_view text) const {
  Record record = RecordFromJson(text);
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

template <typename Visit>
void LogStore::ForEachLive(Visit&& visit) {
  std::string chunk;
  std::uint64_t chunk_offset = 0;
  const std::size_t n = offsets_.size();
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
    ApplyLine(write.infos[i], offset, write.lengths[i], lines_);
    offset += write.lengths[i] + 1;
  }
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
  return ordinal == LogIndex::kNone ? 0 : versions_[ordinal];
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
  ForEachLive([&](std::uint32_t ordinal, std::string_view text) {
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
    if (ordinal == LogIndex::kNone) return std::nullopt;
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
      if (ordinal == LogIndex::kNone) {
        out.emplace_back();
      } else {
        out.emplace_back(DecodeRecord(ordinal, line));
      }
    }
    return out;
  });
}

std::vector<Record> LogStore::Search(const Query& query) {
  const CompiledFilter filter(query.where());
  return Locked(false, [&]() -> std::vector<Record> {
    std::vector<Record> matches;
    // Without a sort, the scan can stop once offset + limit records matched.
    std::optional<std::size_t> enough;
    if (query.sort().empty() && query.limit()) enough = query.offset() + *query.limit();
    if (enough && *enough == 0) return {};
    ForEachLive([&](std::uint32_t ordinal, std::string_view text) {
      Record record = DecodeRecord(ordinal, text);
      if (filter.Matches(record)) matches.push_back(std::move(record));
      return !enough || matches.size() < *enough;
    });
    return EvaluateQuery(WithoutFilter(query), std::move(matches));
  });
}

std::size_t LogStore::Count(const Expr& expr) {
  const CompiledFilter filter(expr);
  return Locked(false, [&]() -> std::size_t {
    if (filter.always_true()) return live_count_;
    std::size_t count = 0;
    ForEachLive([&](std::uint32_t ordinal, std::string_view text) {
      if (filter.Matches(DecodeRecord(ordinal, text))) ++count;
      return true;
    });
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
      : store_(store), filter_(query.where()), batch_size_(batch_size == 0 ? 1 : batch_size) {
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
      Record record = RecordFromJson(text);
      if (!record.id()) {
        std::lock_guard guard(store_.mutex_);
        record = store_.DecodeRecord(line.ordinal, text);
      }
      record.set_version(line.version);
      if (!filter_.Matches(record)) continue;
      if (to_skip_ > 0) {
        --to_skip_;
        continue;
      }
      if (limit_) --*limit_;
      if (!fields_.empty()) record = record.Project(fields_);
      batch.push_back(std::move(record));
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
  LogStore& store_;
  CompiledFilter filter_;
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
