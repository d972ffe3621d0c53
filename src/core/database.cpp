// Default implementations of the Database surface in terms of the single-record operations.
// Backends override what they can do better (atomic batches, native streaming).
#include "dkdata/database.hpp"

#include "dkdata/errors.hpp"

namespace dkdata {

namespace {

constexpr std::size_t kMaxStreamErrors = 100;

// Serves a finished result in batches; for backends that cannot stream natively.
class VectorCursor final : public RecordCursor {
 public:
  VectorCursor(std::vector<Record> records, std::size_t batch_size)
      : records_(std::move(records)), batch_size_(batch_size == 0 ? 1 : batch_size) {}

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    while (next_ < records_.size() && batch.size() < batch_size_) {
      batch.push_back(std::move(records_[next_++]));
    }
    return !batch.empty();
  }

 private:
  std::vector<Record> records_;
  std::size_t batch_size_;
  std::size_t next_ = 0;
};

}  // namespace

std::string Database::Upsert(const Record& record) {
  const auto id = record.ResolveId();
  return Upsert(id ? std::string_view(*id) : std::string_view(), record);
}

bool Database::ReadInto(std::string_view id, Record& out) {
  std::optional<Record> record = Read(id);
  if (!record) return false;
  out = std::move(*record);
  return true;
}

std::vector<std::string> Database::CreateBatch(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      ids.push_back(Create(records[i]));
    } catch (const Error& e) {
      throw Error(e.code(), "create_batch item " + std::to_string(i) + ": " + e.what(), e.backend(),
                  e.native_code());
    }
  }
  return ids;
}

std::vector<std::optional<Record>> Database::ReadBatch(const std::vector<std::string>& ids) {
  std::vector<std::optional<Record>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(Read(id));
  return out;
}

std::vector<bool> Database::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  std::vector<bool> out;
  out.reserve(updates.size());
  for (const auto& [id, record] : updates) out.push_back(Update(id, record));
  return out;
}

std::vector<bool> Database::DeleteBatch(const std::vector<std::string>& ids) {
  std::vector<bool> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(Delete(id));
  return out;
}

std::vector<AggregationResult> Database::Aggregate(const Expr& where,
                                                   const std::vector<Aggregation>& aggregations) {
  Aggregator aggregator(aggregations);
  std::vector<std::string> fields;
  for (const Aggregation& a : aggregations) {
    if (a.op == AggregationOp::kCount) continue;
    if (a.field == "id") continue;  // always there
    fields.push_back(a.field);
  }
  Query query(where);
  // Only the fields aggregated are read (count alone needs none: the id is always kept).
  query.Select(fields.empty() ? std::vector<std::string>{"id"} : fields);
  const std::unique_ptr<RecordCursor> cursor = StreamRead(query, StreamOptions{});
  std::vector<Record> batch;
  while (cursor->NextBatch(batch)) {
    for (const Record& record : batch) aggregator.Add(record);
  }
  return aggregator.Results();
}

std::unique_ptr<RecordCursor> Database::StreamRead(const Query& query, StreamOptions options) {
  return std::make_unique<VectorCursor>(Search(query), options.batch_size);
}

StreamResult Database::StreamWrite(const RecordSource& source, StreamOptions options) {
  StreamResult result;
  bool stopped = false;
  while (auto record = source()) {
    const std::size_t index = result.processed++;
    if (stopped) {
      ++result.skipped;
      continue;
    }
    try {
      if (options.upsert) {
        Upsert(*record);
      } else {
        Create(*record);
      }
      ++result.succeeded;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kUnavailable) throw;  // the store is gone: not a per-item failure
      ++result.failed;
      if (result.errors.size() < kMaxStreamErrors) {
        result.errors.push_back(StreamError{index, record->ResolveId(), e.what()});
      }
      stopped = options.stop_on_error;
    }
  }
  return result;
}

void Database::CreateIndex(const IndexInfo& index) {
  throw Error(ErrorCode::kUnsupported,
              "backend '" + std::string(backend_name()) + "' has no secondary indexes (field '" +
                  index.field + "')",
              std::string(backend_name()));
}

bool Database::DropIndex(std::string_view) {
  return false;
}

std::vector<IndexInfo> Database::ListIndexes() const {
  return {};
}

}  // namespace dkdata
