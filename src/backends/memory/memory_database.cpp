#include "backends/memory/memory_database.hpp"

#include <algorithm>
#include <functional>
#include <mutex>

#include "backends/builtin.hpp"
#include "backends/option_reader.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

constexpr std::string_view kBackend = "memory";

[[noreturn]] void Throw(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), std::string(kBackend));
}

}  // namespace

// ---- IdTable ----

std::uint64_t IdTable::Hash(std::string_view id) noexcept {
  return std::hash<std::string_view>()(id);
}

std::uint32_t IdTable::Find(std::string_view id, const std::vector<Row>& rows) const {
  return table_.Find(Hash(id), [&](std::uint32_t slot) { return rows[slot].id() == id; });
}

void IdTable::Insert(std::string_view id, std::uint32_t slot) {
  table_.Insert(Hash(id), slot);
}

void IdTable::Erase(std::string_view id, const std::vector<Row>& rows) {
  const std::uint32_t slot = Find(id, rows);
  if (slot != kNone) table_.Erase(Hash(id), slot);
}

// ---- Cursor ----

class MemoryCursor final : public RecordCursor {
 public:
  MemoryCursor(MemoryDatabase& db, std::vector<std::uint32_t> slots,
               std::vector<ProjectedField> projection, bool project, std::size_t batch_size)
      : db_(db),
        slots_(std::move(slots)),
        projection_(std::move(projection)),
        project_(project),
        batch_size_(batch_size == 0 ? 1 : batch_size) {
    ++db_.open_cursors_;
  }
  ~MemoryCursor() override { --db_.open_cursors_; }

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    std::shared_lock lock(db_.mutex_);
    db_.CheckOpen();
    while (next_ < slots_.size() && batch.size() < batch_size_) {
      const std::uint32_t slot = slots_[next_++];
      if (!db_.rows_[slot]) continue;  // deleted since the cursor was opened
      batch.push_back(db_.Materialize(slot, project_ ? &projection_ : nullptr));
    }
    return !batch.empty();
  }

 private:
  MemoryDatabase& db_;
  std::vector<std::uint32_t> slots_;  // 4 bytes per match; records are decoded batch by batch
  std::vector<ProjectedField> projection_;
  bool project_;
  std::size_t batch_size_;
  std::size_t next_ = 0;
};

// ---- MemoryDatabase ----

Capabilities MemoryDatabase::capabilities() const noexcept {
  Capabilities c;
  c.atomic_batch = true;
  c.secondary_indexes = true;
  c.concurrent_readers = true;
  return c;
}

void MemoryDatabase::CheckOpen() const {
  if (closed_.load(std::memory_order_acquire)) {
    Throw(ErrorCode::kUnavailable, "the memory database is closed");
  }
}

std::string MemoryDatabase::StoreNew(const Record& record, std::string id) {
  StoreEncoded(record, Row::Encode(record, id, 1, dictionary_));
  return id;
}

std::uint32_t MemoryDatabase::AppendRow(Row row) {
  const auto slot = static_cast<std::uint32_t>(rows_.size());
  rows_.push_back(std::move(row));
  ids_.Insert(rows_.back().id(), slot);
  ++live_;
  return slot;
}

void MemoryDatabase::StoreEncoded(const Record& record, Row row) {
  IndexRow(AppendRow(std::move(row)), record);
}

// Encodes first: a record that cannot be stored (NaN) leaves the old row and its index entries.
void MemoryDatabase::Replace(std::uint32_t slot, const Record& record, std::uint64_t version) {
  Row row = Row::Encode(record, rows_[slot].id(), version, dictionary_);
  UnindexRow(slot);
  rows_[slot] = std::move(row);
  IndexRow(slot, record);
}

void MemoryDatabase::IndexRow(std::uint32_t slot, const Record& record) {
  for (auto& index : indexes_) index->Add(record.Get(index->path()), slot);
}

void MemoryDatabase::UnindexRow(std::uint32_t slot) {
  Value scratch;
  for (auto& index : indexes_) {
    const RowPath path(index->path(), dictionary_);
    index->Remove(path.Lookup(rows_[slot], scratch), slot);
  }
}

std::string MemoryDatabase::Create(const Record& record) {
  auto id = record.ResolveId();
  std::unique_lock lock(mutex_);
  CheckOpen();
  if (!id) {
    id = GenerateUuid();
  } else if (ids_.Find(*id, rows_) != IdTable::kNone) {
    Throw(ErrorCode::kAlreadyExists, "a record with id '" + *id + "' exists already");
  }
  return StoreNew(record, std::move(*id));
}

std::vector<std::string> MemoryDatabase::CreateBatch(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const Record& record : records) {
    auto id = record.ResolveId();
    ids.push_back(id ? std::move(*id) : GenerateUuid());
  }
  std::unique_lock lock(mutex_);
  CheckOpen();
  // All-or-nothing: encode every record first (bad values fail here, before anything is stored),
  // then store them, taking every stored one back if an id turns out to exist already.
  std::vector<Row> rows;
  rows.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      rows.push_back(Row::Encode(records[i], ids[i], 1, dictionary_));
    } catch (const Error& e) {
      Throw(e.code(),
            "create_batch item " + std::to_string(i) + ": " + e.what() + "; nothing was stored");
    }
  }
  const std::size_t first_slot = rows_.size();
  rows_.reserve(first_slot + records.size());
  ids_.Reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (ids_.Find(ids[i], rows_) != IdTable::kNone) {
      for (std::size_t j = i; j-- > 0;) Unstore(static_cast<std::uint32_t>(first_slot + j));
      Throw(ErrorCode::kAlreadyExists, "create_batch item " + std::to_string(i) +
                                           ": a record with id '" + ids[i] +
                                           "' exists already; nothing was stored");
    }
    StoreEncoded(records[i], std::move(rows[i]));
  }
  return ids;
}

// Takes back the row stored last (at the end of rows_), for a failed batch.
void MemoryDatabase::Unstore(std::uint32_t slot) {
  UnindexRow(slot);
  ids_.Erase(rows_[slot].id(), rows_);
  rows_.pop_back();
  --live_;
}

std::optional<Record> MemoryDatabase::Read(std::string_view id) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  const std::uint32_t slot = ids_.Find(id, rows_);
  if (slot == IdTable::kNone) return std::nullopt;
  return rows_[slot].Decode(dictionary_);
}

bool MemoryDatabase::ReadInto(std::string_view id, Record& out) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  const std::uint32_t slot = ids_.Find(id, rows_);
  if (slot == IdTable::kNone) return false;
  rows_[slot].DecodeInto(dictionary_, out);
  return true;
}

std::vector<std::optional<Record>> MemoryDatabase::ReadBatch(const std::vector<std::string>& ids) {
  std::vector<std::optional<Record>> out;
  out.reserve(ids.size());
  std::shared_lock lock(mutex_);
  CheckOpen();
  for (const std::string& id : ids) {
    const std::uint32_t slot = ids_.Find(id, rows_);
    if (slot == IdTable::kNone) {
      out.emplace_back();
    } else {
      out.emplace_back(rows_[slot].Decode(dictionary_));
    }
  }
  return out;
}

bool MemoryDatabase::Update(std::string_view id, const Record& record,
                            std::optional<std::uint64_t> expected_version) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  const std::uint32_t slot = ids_.Find(id, rows_);
  if (slot == IdTable::kNone) {
    if (expected_version) {
      Throw(ErrorCode::kConflict, "record '" + std::string(id) + "' expected at version " +
                                      std::to_string(*expected_version) + " does not exist");
    }
    return false;
  }
  const std::uint64_t version = rows_[slot].version();
  if (expected_version && *expected_version != version) {
    Throw(ErrorCode::kConflict, "record '" + std::string(id) + "' is at version " +
                                    std::to_string(version) + ", expected " +
                                    std::to_string(*expected_version));
  }
  Replace(slot, record, version + 1);
  return true;
}

std::string MemoryDatabase::Upsert(std::string_view id_arg, const Record& record,
                                   std::optional<std::uint64_t> expected_version) {
  std::string id(id_arg);
  if (id.empty()) {
    auto resolved = record.ResolveId();
    id = resolved ? std::move(*resolved) : GenerateUuid();
  }
  std::unique_lock lock(mutex_);
  CheckOpen();
  const std::uint32_t slot = ids_.Find(id, rows_);
  const std::uint64_t version = slot == IdTable::kNone ? 0 : rows_[slot].version();
  if (expected_version && *expected_version != version) {
    Throw(ErrorCode::kConflict, "record '" + id + "' is at version " + std::to_string(version) +
                                    ", expected " + std::to_string(*expected_version));
  }
  if (slot == IdTable::kNone) return StoreNew(record, std::move(id));
  Replace(slot, record, version + 1);
  return id;
}

void MemoryDatabase::Restore(std::string_view id, const Record& record, std::uint64_t version) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  RestoreLocked(id, record, version);
}

void MemoryDatabase::RestoreBatch(std::span<const RestoreItem> items) {
  constexpr std::size_t kAhead = 4;
  std::unique_lock lock(mutex_);
  CheckOpen();
  for (std::size_t i = 0; i < std::min(kAhead, items.size()); ++i) ids_.Prefetch(items[i].id);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i + kAhead < items.size()) ids_.Prefetch(items[i + kAhead].id);
    RestoreLocked(items[i].id, items[i].record, items[i].version);
  }
}

std::uint32_t MemoryDatabase::InternFieldName(std::string_view name) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  return dictionary_.Intern(name);
}

void MemoryDatabase::ReserveRecords(std::size_t n) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  rows_.reserve(rows_.size() + n);
  ids_.Reserve(n);
}

void MemoryDatabase::RestoreEncoded(std::span<Row> rows) {
  constexpr std::size_t kAhead = 4;
  std::unique_lock lock(mutex_);
  CheckOpen();
  for (std::size_t i = 0; i < std::min(kAhead, rows.size()); ++i) ids_.Prefetch(rows[i].id());
  Record record;  // for the indexes, when the store has any
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + kAhead < rows.size()) ids_.Prefetch(rows[i + kAhead].id());
    std::uint32_t slot = ids_.Find(rows[i].id(), rows_);
    if (slot != IdTable::kNone) {
      UnindexRow(slot);
      rows_[slot] = std::move(rows[i]);
    } else {
      slot = AppendRow(std::move(rows[i]));
    }
    if (!indexes_.empty()) {
      rows_[slot].DecodeInto(dictionary_, record);
      IndexRow(slot, record);
    }
  }
}

void MemoryDatabase::RestoreLocked(std::string_view id, const Record& record,
                                   std::uint64_t version) {
  const std::uint32_t slot = ids_.Find(id, rows_);
  if (slot != IdTable::kNone) {
    Replace(slot, record, version);
    return;
  }
  StoreEncoded(record, Row::Encode(record, id, version, dictionary_));
}

bool MemoryDatabase::Delete(std::string_view id) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  const std::uint32_t slot = ids_.Find(id, rows_);
  if (slot == IdTable::kNone) return false;
  UnindexRow(slot);
  ids_.Erase(id, rows_);
  rows_[slot] = Row();
  --live_;
  MaybeCompact();
  return true;
}

bool MemoryDatabase::Exists(std::string_view id) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  return ids_.Find(id, rows_) != IdTable::kNone;
}

std::size_t MemoryDatabase::Clear() {
  std::unique_lock lock(mutex_);
  CheckOpen();
  const std::size_t removed = live_;
  if (open_cursors_.load() > 0) {
    // Keep slot numbers stable for open cursors: empty the slots instead of dropping them.
    for (Row& row : rows_) row = Row();
  } else {
    rows_.clear();
    rows_.shrink_to_fit();
  }
  ids_.Clear();
  for (auto& index : indexes_) index->Clear();
  live_ = 0;
  return removed;
}

// Drops deleted slots once they outnumber the live ones, keeping insertion order.
void MemoryDatabase::MaybeCompact() {
  const std::size_t dead = rows_.size() - live_;
  if (dead < 1024 || dead < live_ || open_cursors_.load() > 0) return;
  std::vector<Row> compacted;
  compacted.reserve(live_);
  for (Row& row : rows_) {
    if (row) compacted.push_back(std::move(row));
  }
  rows_ = std::move(compacted);
  ids_.Clear();
  ids_.Reserve(rows_.size());
  for (std::size_t slot = 0; slot < rows_.size(); ++slot) {
    ids_.Insert(rows_[slot].id(), static_cast<std::uint32_t>(slot));
  }
  Value scratch;
  for (auto& index : indexes_) {
    index->Clear();
    const RowPath path(index->path(), dictionary_);
    for (std::size_t slot = 0; slot < rows_.size(); ++slot) {
      index->Add(path.Lookup(rows_[slot], scratch), static_cast<std::uint32_t>(slot));
    }
  }
}

std::vector<Record> MemoryDatabase::Search(const Query& query) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  const std::vector<std::uint32_t> slots = SelectSlots(query, true);
  const bool project = !query.fields().empty();
  const std::vector<ProjectedField> projection =
      project ? ProjectionIds(query.fields()) : std::vector<ProjectedField>();
  std::vector<Record> out;
  out.reserve(slots.size());
  for (std::uint32_t slot : slots)
    out.push_back(Materialize(slot, project ? &projection : nullptr));
  return out;
}

std::size_t MemoryDatabase::Count(const Expr& expr) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  if (expr.is_true()) return live_;
  return SelectSlots(Query(expr), false).size();
}

std::unique_ptr<RecordCursor> MemoryDatabase::StreamRead(const Query& query,
                                                         StreamOptions options) {
  std::shared_lock lock(mutex_);
  CheckOpen();
  const bool project = !query.fields().empty();
  return std::make_unique<MemoryCursor>(
      *this, SelectSlots(query, true),
      project ? ProjectionIds(query.fields()) : std::vector<ProjectedField>(), project,
      options.batch_size);
}

Record MemoryDatabase::Materialize(std::uint32_t slot,
                                   const std::vector<ProjectedField>* projection) const {
  return projection ? rows_[slot].DecodeFields(dictionary_, *projection)
                    : rows_[slot].Decode(dictionary_);
}

std::vector<ProjectedField> MemoryDatabase::ProjectionIds(
    const std::vector<std::string>& fields) const {
  std::vector<ProjectedField> out;
  out.reserve(fields.size());
  for (const std::string& field : fields) {
    ProjectedField projected{dictionary_.Find(field), std::nullopt};
    if (const std::size_t dot = field.find('.'); dot != std::string::npos) {
      projected.head_id = dictionary_.Find(std::string_view(field).substr(0, dot));
    }
    out.push_back(projected);
  }
  return out;
}

void MemoryDatabase::CreateIndex(const IndexInfo& info) {
  if (info.field.empty()) Throw(ErrorCode::kInvalidArgument, "an index needs a field name");
  if (info.field == kIdPath) {
    Throw(ErrorCode::kInvalidArgument, "'id' is the record id, which is always indexed");
  }
  std::unique_lock lock(mutex_);
  CheckOpen();
  indexes_.erase(std::remove_if(indexes_.begin(), indexes_.end(),
                                [&](const auto& index) { return index->path() == info.field; }),
                 indexes_.end());
  auto index = std::make_unique<SecondaryIndex>(info.field, info.kind);
  const RowPath path(info.field, dictionary_);
  Value scratch;
  for (std::size_t slot = 0; slot < rows_.size(); ++slot) {
    if (rows_[slot])
      index->Add(path.Lookup(rows_[slot], scratch), static_cast<std::uint32_t>(slot));
  }
  indexes_.push_back(std::move(index));
}

bool MemoryDatabase::DropIndex(std::string_view field) {
  std::unique_lock lock(mutex_);
  CheckOpen();
  const auto before = indexes_.size();
  indexes_.erase(std::remove_if(indexes_.begin(), indexes_.end(),
                                [&](const auto& index) { return index->path() == field; }),
                 indexes_.end());
  return indexes_.size() != before;
}

std::vector<IndexInfo> MemoryDatabase::ListIndexes() const {
  std::shared_lock lock(mutex_);
  std::vector<IndexInfo> out;
  for (const auto& index : indexes_) out.push_back(IndexInfo{index->path(), index->kind()});
  return out;
}

void MemoryDatabase::Close() {
  std::unique_lock lock(mutex_);
  if (closed_.exchange(true)) return;
  rows_.clear();
  rows_.shrink_to_fit();
  ids_.Clear();
  indexes_.clear();
  live_ = 0;
}

// ---- Registration ----

namespace {

// Every key the backend takes, in the order of its README's table: `name` (accepted for
// compatibility; each store is its own) and the reference's shared keys. None changes anything.
constexpr std::string_view kOptionKeys[] = {"name", "schema", "vector_enabled", "vector_metric"};

constexpr OptionReader kReader(kBackend, kOptionKeys);

void CheckMemoryOptions(const Object& options) {
  for (const auto& [key, value] : options) {
    if (key == "name") {
      kReader.String(key, value);
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
}

}  // namespace

BackendInfo MakeMemoryBackendInfo() {
  BackendInfo info;
  info.name = "memory";
  info.aliases = {"mem"};
  info.url_schemes = {"memory", "mem"};
  info.description = "in-process store: compact rows, secondary indexes, no persistence";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    CheckMemoryOptions(options);
    return std::make_unique<MemoryDatabase>();
  };
  info.option_keys = kReader.Keys();
  info.check_options = CheckMemoryOptions;
  return info;
}

}  // namespace dkdata::internal
