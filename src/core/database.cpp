// Default implementations of the Database surface in terms of the single-record operations.
// Backends override what they can do better (atomic batches, native streaming).
#include "dkdata/database.hpp"

#include "core/stream_write.hpp"
#include "dkdata/errors.hpp"

namespace dkdata {

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
  return std::make_unique<internal::VectorCursor>(Search(query), options.batch_size);
}

StreamResult Database::StreamWrite(const RecordSource& source, StreamOptions options) {
  internal::StreamWriteProgress progress(options);
  std::vector<Record> batch;
  while (progress.ReadBatch(source, batch)) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (progress.stopped()) {
        progress.Skipped();
        continue;
      }
      try {
        if (options.upsert) {
          Upsert(batch[i]);
        } else {
          Create(batch[i]);
        }
        progress.Succeeded();
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kUnavailable)
          throw;  // the store is gone: not a per-item failure
        progress.Fail(progress.base() + i, batch[i].ResolveId(), e.what());
      }
    }
  }
  return std::move(progress.result());
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
