// src/backends/s3/s3_database.hpp: the S3 backend, over S3's REST API through src/net/http_client
// (libcurl, SigV4 signing by libcurl).
//
// One object per record at {prefix}{id}.json whose body is the record's structured JSON (with its
// version), as in the reference; record metadata also goes into the object's tags where S3's tag
// limits allow (README.md). Writes are conditional: create with If-None-Match: *, update with
// If-Match on the ETag read with the version. Searches list the prefix, fetch the objects in
// parallel (an ETag-validated cache skips unchanged ones) and let the core evaluate the query.
//
// Thread-safety: every method may be called from any thread; calls run concurrently on the HTTP
// client's connections. A cursor (StreamRead) must be used by one thread at a time.
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

inline constexpr std::string_view kS3Backend = "s3";

enum class S3Addressing : std::uint8_t {
  kAuto,     // path-style with an endpoint_url (S3-compatible servers), else virtual-hosted
  kPath,     // https://endpoint/bucket/key
  kVirtual,  // https://bucket.endpoint/key
};

struct S3Options {
  std::string bucket;               // required
  std::string prefix = "records/";  // every key starts with it
  // The region: `region`/`region_name`, else $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1.
  std::string region;
  // "http(s)://host[:port]" of an S3-compatible server, or "" for AWS
  // (https://s3.REGION.amazonaws.com).
  std::string endpoint_url;
  // Credentials given in the config (all empty: the chain of s3_credentials.hpp finds them).
  std::string access_key_id, secret_access_key, session_token;
  std::string profile;  // `profile`/`profile_name`: the shared-credentials profile
  S3Addressing addressing = S3Addressing::kAuto;
  std::size_t multipart_threshold = 8 << 20;  // bodies larger than this go in parts
  std::size_t multipart_chunksize = 8 << 20;  // the size of each part (S3: at least 5 MiB)
  std::size_t max_pool_connections = 10;      // requests in flight at once for batches and searches
  int max_attempts = 5;                       // tries per request, the first included
  std::chrono::milliseconds request_timeout{60000};  // `timeout`, seconds: one try
  std::chrono::milliseconds connect_timeout{10000};  // `connect_timeout`, seconds
  bool verify_certs = true;
  std::string ca_certs;                // a CA file to trust, or "" for the system's
  std::size_t cache_records = 100000;  // `cache_records`: records kept by ETag (0: no cache)

  // Reads and checks the options; unknown keys are an error naming the closest key.
  static S3Options FromObject(const Object& options);
  // "s3://bucket/prefix at endpoint" (never credentials).
  std::string Describe() const;
};

// What the database and its cursors share (cursors may outlive Close(), and then fail with
// kUnavailable).
class S3Store;

class S3Database final : public Database {
 public:
  explicit S3Database(const S3Options& options);
  ~S3Database() override;

  std::string_view backend_name() const noexcept override { return kS3Backend; }
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

  // Sent in parallel (max_pool_connections at a time). Not atomic: when items fail, the error
  // names each of them and why, and the others are stored.
  std::vector<std::string> CreateBatch(const std::vector<Record>& records) override;
  std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids) override;
  std::vector<bool> UpdateBatch(
      const std::vector<std::pair<std::string, Record>>& updates) override;
  std::vector<bool> DeleteBatch(const std::vector<std::string>& ids) override;

  std::vector<Record> Search(const Query& query) override;
  std::size_t Count(const Expr& expr) override;
  std::size_t Clear() override;
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;
  StreamResult StreamWrite(const RecordSource& source, StreamOptions options) override;

  void Close() override;

 private:
  std::shared_ptr<S3Store> store_;
};

}  // namespace dkdata::internal
