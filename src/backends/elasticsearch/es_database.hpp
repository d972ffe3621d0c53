// src/backends/elasticsearch/es_database.hpp: the Elasticsearch (and OpenSearch) backend, over the
// REST API through src/net/http_client.
//
// One index per store, holding documents in the reference implementation's layout
// ({"id", "data": {...}, "metadata": {...}}, _id = id) plus dkdata's "_dk" object: the record's
// version, what plain JSON cannot say about its values, and a typed projection of its top-level
// values that the queries run on (es_documents.hpp). es_translate.cpp turns the query tree into the
// query DSL; README.md in this folder explains the layout and its decisions.
//
// Thread-safety: every method may be called from any thread; calls run concurrently on the HTTP
// client's connections. A cursor (StreamRead) holds a point in time on the server until it is
// exhausted or destroyed, and must be used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkdata/database.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

inline constexpr std::string_view kElasticsearchBackend = "elasticsearch";

// When writes become visible to searches: the reference's `refresh` key.
enum class RefreshPolicy : std::uint8_t {
  kTrue,     // refresh once at the end of each call (the reference's default: read your writes)
  kWaitFor,  // wait, at the end of each call, for the next scheduled refresh
  kFalse,    // do not wait: searches see the writes within the index's refresh interval
};

struct ElasticsearchOptions {
  // Base URLs tried in order ("http://host:port", "https://host:port/prefix"); a host that cannot
  // be reached is skipped for a while and the next one is used (failover). Built from `hosts`, else
  // from `host` and `port`, else http://localhost:9200. Never empty after FromObject.
  std::vector<std::string> hosts;
  std::string index = "records";
  RefreshPolicy refresh = RefreshPolicy::kTrue;
  // Credentials: `api_key` (sent as "Authorization: ApiKey <key>") wins over `basic_auth`.
  std::string api_key;
  std::optional<std::pair<std::string, std::string>> basic_auth;  // user, password
  bool verify_certs = true;
  std::string ca_certs, client_cert, client_key;  // file paths; empty for none
  // Merged into dkdata's index mapping and settings when the index is created (a key given here
  // replaces dkdata's key of the same name; see README.md).
  Object mappings, settings;
  // dkdata's own keys.
  std::chrono::milliseconds request_timeout{30000};  // `timeout`, seconds: one HTTP request
  std::chrono::milliseconds connect_timeout{10000};  // `connect_timeout`, seconds
  int max_retries = 3;               // `max_retries`: retries after the first try (429, 502-504...)
  std::size_t bulk_size = 5000;      // `bulk_size`: documents per _bulk request
  std::size_t bulk_bytes = 8 << 20;  // `bulk_bytes`: bytes per _bulk request (at least one doc)
  bool auto_create_index = true;     // `auto_create_index`: create the index when it is missing

  // Reads and checks the options; unknown keys are an error naming the closest key.
  static ElasticsearchOptions FromObject(const Object& options);
  // "index 'x' at http://host:port" (never credentials).
  std::string Describe() const;
};

// Everything the database and its cursors share (cursors may outlive Close(), and then fail with
// kUnavailable).
class EsStore;

class ElasticsearchDatabase final : public Database {
 public:
  explicit ElasticsearchDatabase(const ElasticsearchOptions& options);
  ~ElasticsearchDatabase() override;

  std::string_view backend_name() const noexcept override { return kElasticsearchBackend; }
  Capabilities capabilities() const noexcept override;

  std::string Create(const Record& record) override;
  std::optional<Record> Read(std::string_view id) override;
  bool Update(std::string_view id, const Record& record,
              std::optional<std::uint64_t> expected_version) override;
  bool Delete(std::string_view id) override;
  bool Exists(std::string_view id) override;
  std::string Upsert(std::string_view id, const Record& record,
                     std::optional<std::uint64_t> expected_version) override;
  using Database::Upsert;

  std::vector<std::string> CreateBatch(const std::vector<Record>& records) override;
  std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids) override;
  std::vector<bool> UpdateBatch(
      const std::vector<std::pair<std::string, Record>>& updates) override;
  std::vector<bool> DeleteBatch(const std::vector<std::string>& ids) override;

  std::vector<Record> Search(const Query& query) override;
  std::size_t Count(const Expr& expr) override;
  std::size_t Clear() override;
  // Natively (terms, min, max, sum, avg, histograms on dkdata's projection: es_aggregate.cpp)
  // where that gives the core's results exactly, else through the core.
  std::vector<AggregationResult> Aggregate(const Expr& where,
                                           const std::vector<Aggregation>& aggregations) override;
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;
  StreamResult StreamWrite(const RecordSource& source, StreamOptions options) override;

  void Close() override;

 private:
  std::shared_ptr<EsStore> store_;
};

}  // namespace dkdata::internal
