// src/backends/sqlite/sqlite_database.hpp: the SQLite backend.
//
// One table per store, in the reference implementation's layout (id primary key, data JSON,
// metadata JSON, created_at, updated_at) plus two columns of dkdata's own: `version` and
// `dkdata_fields` (what plain JSON cannot say: datetimes, bytes, vectors, declared field types,
// field metadata). backends/sql/json_rows.cpp turns records into rows and back;
// sqlite_translate.cpp turns the query tree into SQL over json_extract; sqlite_errors.cpp maps
// SQLite's result codes to ErrorCode. README.md in this folder explains the layout and its
// decisions.
//
// Thread-safety: one connection per store, guarded by a mutex: every method may be called from any
// thread, one call at a time runs on the connection. A transaction (BeginTransaction) belongs to
// the thread that began it: that thread's calls run inside it, other threads' calls wait until it
// ends (up to the `timeout` option, then Error(kTimeout)). A cursor must be used by one thread at a
// time.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "backends/sql/json_rows.hpp"
#include "backends/sql/sql_condition.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

inline constexpr std::string_view kSqliteBackend = "sqlite";

// ---- Errors (sqlite_errors.cpp) ----

// The ErrorCode for an (extended) SQLite result code.
ErrorCode SqliteErrorCode(int extended_code) noexcept;
// "SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_BUSY", ... (or "SQLITE_<n>" for an unknown code).
std::string SqliteCodeName(int extended_code);
// Throws the Error for a failed SQLite call: the mapped code, `context` and SQLite's message, the
// backend name and the code's name as the native code.
[[noreturn]] void ThrowSqliteError(sqlite3* db, int rc, std::string_view context);
// Throws an Error of the sqlite backend with no native code.
[[noreturn]] void ThrowSqlite(ErrorCode code, std::string message);

// ---- A prepared statement ----

class Statement {
 public:
  Statement() = default;
  // Prepares sql on db (SQLITE_PREPARE_PERSISTENT: statements are kept and reused).
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  explicit operator bool() const noexcept { return stmt_ != nullptr; }
  sqlite3_stmt* get() const noexcept { return stmt_; }

  void BindText(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void BindInt(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindNull(int index);

  // Runs one step: true when a row is ready, false when done. Throws on an error (after resetting
  // the statement, so that SQLite's error code is the step's own).
  bool Step();
  // Resets and clears the bindings, ready for the next use.
  void Reset() noexcept;
  // Releases the statement (finalizes it).
  void Finalize() noexcept;

  std::string_view ColumnText(int column) const noexcept;
  bool ColumnIsNull(int column) const noexcept;
  std::int64_t ColumnInt(int column) const noexcept;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// ---- Query translation (sqlite_translate.cpp) ----

// A value bound to a statement parameter.
struct SqlParam {
  struct Blob {
    std::string bytes;
  };
  std::variant<std::int64_t, double, std::string, Blob> value;
};

// What the store holds that changes how queries translate; asked before each query.
struct StoreFacts {
  bool foreign_rows = false;  // rows written by another program (dkdata_fields IS NULL)
  bool nul_strings = false;   // rows whose data holds a string with U+0000
};

class QueryTranslator {
 public:
  explicit QueryTranslator(StoreFacts facts) : facts_(facts) {}

  SqlCondition Where(const Expr& expr);
  // The ORDER BY terms (without "ORDER BY", ending with rowid for stability), or nullopt when SQL
  // cannot order exactly as docs/query-semantics.md says (the core then sorts).
  std::optional<std::string> OrderBy(const std::vector<SortKey>& keys);

  const std::vector<SqlParam>& params() const noexcept { return params_; }
  // Binds every parameter to stmt.
  void Bind(Statement& stmt) const;

 private:
  SqlCondition Leaf(const Filter& filter);
  std::string Param(SqlParam param);

  StoreFacts facts_;
  std::vector<SqlParam> params_;
};

// The SQL expression of the value at path (json_extract over the data column), as used by queries:
// an index on it serves them. nullopt for a path SQLite's JSON paths cannot name (a key with '"',
// '\' or a control character).
std::optional<std::string> SqlValueExpression(std::string_view path);
// The JSON text of the top-level field `name` (data -> '$."name"': NULL when absent), or nullopt
// when SQL cannot read it exactly (a key SQLite cannot name; a non-ASCII key when the store has
// rows of another program).
std::optional<std::string> SqlFieldJson(std::string_view name, const StoreFacts& facts);
// Registers regexp(), dkdata_timestamp() and dkdata_base64() on a connection.
void RegisterSqlFunctions(sqlite3* db);

// ---- The database ----

struct SqliteOptions {
  std::string path = ":memory:";
  std::string table = "records";
  double timeout_seconds = 5.0;
  std::optional<std::string> journal_mode;  // default: WAL for files
  std::optional<std::string> synchronous;   // default: NORMAL with WAL
  bool auto_create_table = true;

  // Reads and checks the options of the factory; unknown keys are an error naming them.
  static SqliteOptions FromObject(const Object& options);
};

// The connection and everything that uses it, shared by the database, its cursors and its
// transactions (which may outlive Close(), and then fail with kUnavailable).
class SqliteConnection;

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const SqliteOptions& options);
  ~SqliteDatabase() override;

  std::string_view backend_name() const noexcept override { return kSqliteBackend; }
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
  std::shared_ptr<SqliteConnection> connection_;
};

}  // namespace dkdata::internal
