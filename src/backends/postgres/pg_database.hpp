// src/backends/postgres/pg_database.hpp: the PostgreSQL backend, on libpq.
//
// One table per store, in the reference implementation's layout (id text primary key, data jsonb,
// metadata jsonb, created_at, updated_at, GIN indexes on data and metadata) plus dkdata's
// `version` and `dkdata_fields` columns. backends/sql/json_rows.cpp (jsonb dialect) turns records
// into rows and back; pg_translate.cpp turns the query tree into SQL; pg_connection.cpp holds the
// connections, the pool, COPY, pipelines and the SQLSTATE mapping. README.md in this folder
// explains the layout and its decisions.
//
// Thread-safety: every method may be called from any thread; calls run concurrently on the
// pool's connections (up to max_pool_size). A transaction (BeginTransaction) belongs to the thread
// that began it: that thread's calls run inside it, on its connection; other threads' calls wait
// until it ends (up to pool_timeout, then Error(kTimeout)). A cursor holds a connection until it
// is exhausted or destroyed, and must be used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/postgres/pg_connection.hpp"
#include "dkdata/database.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

struct PostgresOptions {
  std::string host = "localhost";
  int port = 5432;
  std::string database = "postgres";
  std::string user = "postgres";
  std::string password;
  std::optional<std::string> sslmode;  // libpq's sslmode; default: libpq's (prefer)
  double command_timeout = 0;          // seconds; 0: none (statement_timeout on the server)
  std::size_t min_pool_size = 2;
  std::size_t max_pool_size = 5;
  double pool_timeout = 30;     // seconds a call waits for a connection (or a transaction)
  double connect_timeout = 10;  // seconds
  std::string table = "records";
  std::string schema = "public";
  bool ensure_database = true;
  bool auto_create_table = true;
  bool gin_index = true;  // the reference's GIN indexes on data and metadata, on table creation

  // Reads and checks the options (and the environment: DATABASE_URL, POSTGRES_HOST, ...); unknown
  // keys are an error naming them.
  static PostgresOptions FromObject(const Object& options);
  // The libpq connection parameters for a database (this one's by default).
  ConnInfo Info(std::optional<std::string_view> database = std::nullopt) const;
  // "database 'x' at host:port as user 'u'" (never the password).
  std::string Describe() const;
};

// The connections and everything the database, its cursors and its transactions share (they may
// outlive Close(), and then fail with kUnavailable).
class PgStore;

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(const PostgresOptions& options);
  ~PostgresDatabase() override;

  std::string_view backend_name() const noexcept override { return kPostgresBackend; }
  Capabilities capabilities() const noexcept override;

  std::string Create(const Record& record) override;
  std::optional<Record> Read(std::string_view id) override;
  bool ReadInto(std::string_view id, Record& out) override;
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
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;
  StreamResult StreamWrite(const RecordSource& source, StreamOptions options) override;

  void CreateIndex(const IndexInfo& index) override;
  bool DropIndex(std::string_view field) override;
  std::vector<IndexInfo> ListIndexes() const override;

  std::unique_ptr<Transaction> BeginTransaction() override;

  void Close() override;

 private:
  std::shared_ptr<PgStore> store_;
};

}  // namespace dkdata::internal
