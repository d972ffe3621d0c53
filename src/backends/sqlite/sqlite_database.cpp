// The SQLite backend: the connection, the schema, single-record operations, batches, queries and
// their cursor, indexes, transactions, and registration (see sqlite_database.hpp and README.md).
#include "backends/sqlite/sqlite_database.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "backends/builtin.hpp"
#include "backends/option_reader.hpp"
#include "core/evaluator.hpp"
#include "core/stream_write.hpp"
#include "core/url_text.hpp"
#include "dkdata/factory.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

// ---- Statement ----

Statement::Statement(sqlite3* db, std::string_view sql) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    ThrowSqliteError(db, rc, "preparing a statement");
  }
}

Statement::~Statement() {
  Finalize();
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Finalize();
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

void Statement::Finalize() noexcept {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
  stmt_ = nullptr;
}

namespace {

void CheckBind(sqlite3_stmt* stmt, int rc) {
  if (rc != SQLITE_OK) ThrowSqliteError(sqlite3_db_handle(stmt), rc, "binding a parameter");
}

}  // namespace

void Statement::BindText(int index, std::string_view text) {
  CheckBind(stmt_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC,
                                       SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  CheckBind(stmt_, sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC));
}

void Statement::BindInt(int index, std::int64_t value) {
  CheckBind(stmt_, sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindDouble(int index, double value) {
  CheckBind(stmt_, sqlite3_bind_double(stmt_, index, value));
}

void Statement::BindNull(int index) {
  CheckBind(stmt_, sqlite3_bind_null(stmt_, index));
}

bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  sqlite3_reset(stmt_);
  ThrowSqliteError(db, rc, "running a statement");
}

void Statement::Reset() noexcept {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::ColumnText(int column) const noexcept {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::ColumnIsNull(int column) const noexcept {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::ColumnInt(int column) const noexcept {
  return sqlite3_column_int64(stmt_, column);
}

namespace {

// Resets a statement when the scope ends, however it ends.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& stmt) : stmt_(stmt) {}
  ~ResetOnExit() { stmt_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& stmt_;
};

// Prepared statements of queries, by SQL text, least recently used dropped first.
class StatementCache {
 public:
  // A statement for sql, taken out of the cache (or prepared): give it back with Return.
  Statement Take(sqlite3* db, const std::string& sql) {
    if (auto it = index_.find(sql); it != index_.end()) {
      Statement stmt = std::move(it->second->second);
      order_.erase(it->second);
      index_.erase(it);
      return stmt;
    }
    return Statement(db, sql);
  }

  void Return(const std::string& sql, Statement stmt) {
    if (!stmt || index_.count(sql) != 0) return;
    stmt.Reset();
    order_.emplace_front(sql, std::move(stmt));
    index_[sql] = order_.begin();
    if (order_.size() > kCapacity) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void Clear() {
    index_.clear();
    order_.clear();
  }

 private:
  static constexpr std::size_t kCapacity = 64;
  std::list<std::pair<std::string, Statement>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Statement>>::iterator> index_;
};

// The columns every row-reading statement selects, in this order.
constexpr const char* kRowColumns = "rowid, id, data, metadata, version, dkdata_fields";

StoredRow RowAt(const Statement& s) {
  StoredRow row;
  row.id = s.ColumnText(1);
  row.data = s.ColumnText(2);
  if (!s.ColumnIsNull(3)) row.metadata = s.ColumnText(3);
  row.version = static_cast<std::uint64_t>(s.ColumnInt(4));
  if (!s.ColumnIsNull(5)) row.fields = s.ColumnText(5);
  return row;
}

bool IsMemoryPath(const std::string& path) {
  return path.empty() || path == ":memory:";
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

constexpr std::string_view kIndexMarker = "_dkdata_idx:";

}  // namespace

// ---- The connection ----

class SqliteConnection {
 public:
  explicit SqliteConnection(const SqliteOptions& options);
  ~SqliteConnection() { CloseLocked(); }

  // Runs SQL without results (schema changes, transaction control).
  void Exec(const std::string& sql, std::string_view context) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK) ThrowSqliteError(db, rc, context);
  }

  // What the store holds that changes how queries translate.
  StoreFacts Facts() {
    ResetOnExit reset(facts);
    facts.Step();
    return StoreFacts{facts.ColumnInt(0) != 0, facts.ColumnInt(1) != 0};
  }

  void CloseLocked() noexcept {
    if (db == nullptr) return;
    cache.Clear();
    for (Statement* s : {&insert, &read, &exists, &update, &update_expected, &upsert, &version_of,
                         &remove, &count_all, &clear, &facts}) {
      s->Finalize();
    }
    sqlite3_close_v2(db);  // rolls back an open transaction; waits for cursors' statements
    db = nullptr;
    closed = true;
    transaction_owner.reset();
    transaction_ended.notify_all();
  }

  std::mutex mutex;  // one SQLite call at a time (the connection is opened without its own mutex)
  std::condition_variable transaction_ended;
  std::optional<std::thread::id> transaction_owner;
  sqlite3* db = nullptr;
  bool closed = false;
  SqliteOptions options;
  std::string table;      // quoted
  std::string table_raw;  // as given
  std::chrono::milliseconds wait;
  EncodedRow row;  // reused encoding buffers
  RowDecoder decoder{kSqliteBackend};
  StatementCache cache;
  Statement insert, read, exists, update, update_expected, upsert, version_of, remove, count_all,
      clear, facts;

 private:
  void Configure();
  void EnsureTable();
  void Prepare();
};

SqliteConnection::SqliteConnection(const SqliteOptions& opts)
    : options(opts),
      table(QuoteIdentifier(opts.table)),
      table_raw(opts.table),
      wait(static_cast<std::int64_t>(opts.timeout_seconds * 1000)) {
  if (!IsMemoryPath(options.path)) {
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      ThrowSqlite(ErrorCode::kIo, "cannot create the folder '" + parent.string() +
                                      "' for the database: " + ec.message());
    }
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const std::string path = IsMemoryPath(options.path) ? ":memory:" : options.path;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    db = nullptr;
    throw Error(SqliteErrorCode(code), "cannot open '" + path + "': " + message,
                std::string(kSqliteBackend), SqliteCodeName(code));
  }
  try {
    Configure();
    EnsureTable();
    Prepare();
  } catch (...) {
    CloseLocked();
    throw;
  }
}

void SqliteConnection::Configure() {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(std::min<std::int64_t>(wait.count(), INT32_MAX)));
  RegisterSqlFunctions(db);
  const bool file = !IsMemoryPath(options.path);
  const std::string journal = Upper(options.journal_mode.value_or(file ? "WAL" : ""));
  if (!journal.empty()) Exec("PRAGMA journal_mode = " + journal, "setting journal_mode");
  const std::string sync = Upper(options.synchronous.value_or(journal == "WAL" ? "NORMAL" : ""));
  if (!sync.empty()) Exec("PRAGMA synchronous = " + sync, "setting synchronous");
  // As the reference does; and a page cache of up to 64 MiB instead of SQLite's 2 MiB, which
  // keeps the id index of a few hundred thousand records in memory (inserts of random UUIDs
  // measured 20-35 % faster).
  Exec("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536",
       "configuring the connection");
}

void SqliteConnection::EnsureTable() {
  bool exists = false;
  {
    Statement s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    s.BindText(1, table_raw);
    exists = s.Step();
  }
  if (!exists && !options.auto_create_table) {
    ThrowSqlite(ErrorCode::kNotFound, "table '" + table_raw +
                                          "' does not exist and auto_create_table is off: create "
                                          "it first (or turn auto_create_table on)");
  }
  if (!exists) {
    // The reference implementation's table with dkdata's two columns. (Not its two indexes on
    // created_at and updated_at, which no dkdata query reads and which cost a third of the insert
    // speed; the reference creates them when it connects.)
    Exec("CREATE TABLE IF NOT EXISTS " + table +
             " (id VARCHAR(255) PRIMARY KEY, data TEXT NOT NULL CHECK (json_valid(data)), "
             "metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)), "
             "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "
             "updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "
             "version INTEGER NOT NULL DEFAULT 1, dkdata_fields TEXT)",
         "creating table '" + table_raw + "'");
  } else {
    bool has_version = false, has_fields = false, has_data = false;
    Statement columns(db, "SELECT name FROM pragma_table_info(?1)");
    columns.BindText(1, table_raw);
    while (columns.Step()) {
      const std::string_view name = columns.ColumnText(0);
      has_version = has_version || name == "version";
      has_fields = has_fields || name == "dkdata_fields";
      has_data = has_data || name == "data";
    }
    if (!has_data) {
      ThrowSqlite(ErrorCode::kInvalidArgument,
                  "table '" + table_raw + "' exists but is not a records table (no data column)");
    }
    // A table made by the reference implementation: add dkdata's columns. Its rows keep version 1
    // and a NULL dkdata_fields, which marks them as written by another program.
    if (!has_version) {
      Exec("ALTER TABLE " + table + " ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
           "adding the version column");
    }
    if (!has_fields) {
      Exec("ALTER TABLE " + table + " ADD COLUMN dkdata_fields TEXT",
           "adding the dkdata_fields column");
    }
  }
  // Another program's update changes data without knowing dkdata's columns: count it as a new
  // version and drop the type information that described the old data.
  Exec("CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(table_raw + "_dkdata_foreign_update") +
           " AFTER UPDATE OF data, metadata ON " + table +
           " FOR EACH ROW WHEN NEW.version IS OLD.version BEGIN UPDATE " + table +
           " SET version = OLD.version + 1, dkdata_fields = NULL WHERE rowid = NEW.rowid; END;"
           // Rows that change how queries translate, found without a scan (StoreFacts).
           "CREATE INDEX IF NOT EXISTS " +
           QuoteIdentifier(table_raw + "_dkdata_foreign") + " ON " + table +
           " (id) WHERE dkdata_fields IS NULL;"
           "CREATE INDEX IF NOT EXISTS " +
           QuoteIdentifier(table_raw + "_dkdata_nul") + " ON " + table +
           " (id) WHERE instr(data, '\\u0000') > 0;",
       "preparing table '" + table_raw + "'");
}

void SqliteConnection::Prepare() {
  const std::string& t = table;
  insert =
      Statement(db, "INSERT INTO " + t +
                        " (id, data, metadata, version, dkdata_fields) VALUES (?1, ?2, ?3, 1, ?4)");
  read = Statement(db, std::string("SELECT ") + kRowColumns + " FROM " + t + " WHERE id = ?1");
  exists = Statement(db, "SELECT 1 FROM " + t + " WHERE id = ?1");
  const std::string set =
      " SET data = ?2, metadata = ?3, dkdata_fields = ?4, version = version + 1, "
      "updated_at = CURRENT_TIMESTAMP WHERE id = ?1";
  update = Statement(db, "UPDATE " + t + set);
  update_expected = Statement(db, "UPDATE " + t + set + " AND version = ?5");
  upsert = Statement(db, "INSERT INTO " + t +
                             " (id, data, metadata, version, dkdata_fields) VALUES (?1, ?2, ?3, 1, "
                             "?4) ON CONFLICT (id) DO UPDATE SET data = excluded.data, metadata = "
                             "excluded.metadata, dkdata_fields = excluded.dkdata_fields, version = "
                             "version + 1, updated_at = CURRENT_TIMESTAMP");
  version_of = Statement(db, "SELECT version FROM " + t + " WHERE id = ?1");
  remove = Statement(db, "DELETE FROM " + t + " WHERE id = ?1");
  count_all = Statement(db, "SELECT count(*) FROM " + t);
  clear = Statement(db, "DELETE FROM " + t);
  facts = Statement(db, "SELECT EXISTS (SELECT 1 FROM " + t +
                            " WHERE dkdata_fields IS NULL), EXISTS (SELECT 1 FROM " + t +
                            " WHERE instr(data, '\\u0000') > 0)");
}

namespace {

// Holds the connection for one call: waits while another thread's transaction is open (up to the
// timeout), and fails with kUnavailable once the database is closed.
class ConnectionLock {
 public:
  explicit ConnectionLock(SqliteConnection& c) : c_(c), lock_(c.mutex) {
    if (c_.transaction_owner && *c_.transaction_owner != std::this_thread::get_id()) {
      const bool free = c_.transaction_ended.wait_for(
          lock_, c_.wait, [this] { return !c_.transaction_owner || c_.closed; });
      if (!free) {
        ThrowSqlite(ErrorCode::kTimeout, "another thread's transaction on table '" + c_.table_raw +
                                             "' is still open after the timeout");
      }
    }
    if (c_.closed) ThrowSqlite(ErrorCode::kUnavailable, "the sqlite database is closed");
  }
  ConnectionLock(const ConnectionLock&) = delete;
  ConnectionLock& operator=(const ConnectionLock&) = delete;

  SqliteConnection& operator*() const { return c_; }
  SqliteConnection* operator->() const { return &c_; }

 private:
  SqliteConnection& c_;
  std::unique_lock<std::mutex> lock_;
};

// Several writes as one: a transaction of their own, or a savepoint inside the calling thread's
// transaction. Rolls back unless committed.
class WriteScope {
 public:
  explicit WriteScope(SqliteConnection& c) : c_(c), nested_(c.transaction_owner.has_value()) {
    c_.Exec(nested_ ? "SAVEPOINT dkdata_batch" : "BEGIN IMMEDIATE", "beginning a write");
  }
  ~WriteScope() {
    if (done_ || c_.db == nullptr) return;
    const char* sql = nested_ ? "ROLLBACK TO dkdata_batch; RELEASE dkdata_batch" : "ROLLBACK";
    sqlite3_exec(c_.db, sql, nullptr, nullptr, nullptr);
  }
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;

  void Commit() {
    c_.Exec(nested_ ? "RELEASE dkdata_batch" : "COMMIT", "committing a write");
    done_ = true;
  }

 private:
  SqliteConnection& c_;
  bool nested_;
  bool done_ = false;
};

void BindRow(Statement& s, std::string_view id, const EncodedRow& row) {
  s.BindText(1, id);
  s.BindText(2, row.data);
  if (row.metadata.empty()) {
    s.BindNull(3);
  } else {
    s.BindText(3, row.metadata);
  }
  s.BindText(4, row.fields);
}

// Runs an insert; an id stored already is kAlreadyExists naming it.
void RunInsert(SqliteConnection& c, Statement& s, std::string_view id) {
  ResetOnExit reset(s);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return;
  const int code = sqlite3_extended_errcode(c.db);
  if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) {
    throw Error(ErrorCode::kAlreadyExists,
                "a record with id '" + std::string(id) + "' exists already",
                std::string(kSqliteBackend), SqliteCodeName(code));
  }
  ThrowSqliteError(c.db, rc, "storing record '" + std::string(id) + "'");
}

void InsertLocked(SqliteConnection& c, const Record& record, std::string_view id) {
  EncodeRow(record, c.row, kSqliteBackend);
  BindRow(c.insert, id, c.row);
  RunInsert(c, c.insert, id);
}

std::optional<std::uint64_t> VersionLocked(SqliteConnection& c, std::string_view id) {
  ResetOnExit reset(c.version_of);
  c.version_of.BindText(1, id);
  if (!c.version_of.Step()) return std::nullopt;
  return static_cast<std::uint64_t>(c.version_of.ColumnInt(0));
}

[[noreturn]] void ThrowVersionConflict(SqliteConnection& c, std::string_view id,
                                       std::uint64_t expected) {
  const auto version = VersionLocked(c, id);
  ThrowSqlite(ErrorCode::kConflict, "record '" + std::string(id) + "' is at version " +
                                        std::to_string(version.value_or(0)) + ", expected " +
                                        std::to_string(expected));
}

// Replaces a stored record; false when absent (no expected version) or Error(kConflict).
bool UpdateLocked(SqliteConnection& c, std::string_view id, const Record& record,
                  std::optional<std::uint64_t> expected) {
  EncodeRow(record, c.row, kSqliteBackend);
  Statement& s = expected ? c.update_expected : c.update;
  {
    ResetOnExit reset(s);
    BindRow(s, id, c.row);
    if (expected) s.BindInt(5, static_cast<std::int64_t>(*expected));
    s.Step();
  }
  if (sqlite3_changes(c.db) > 0) return true;
  if (!expected) return false;
  if (!VersionLocked(c, id)) {
    ThrowSqlite(ErrorCode::kConflict, "record '" + std::string(id) + "' expected at version " +
                                          std::to_string(*expected) + " does not exist");
  }
  ThrowVersionConflict(c, id, *expected);
}

void UpsertLocked(SqliteConnection& c, std::string_view id, const Record& record,
                  std::optional<std::uint64_t> expected) {
  if (!expected) {
    EncodeRow(record, c.row, kSqliteBackend);
    ResetOnExit reset(c.upsert);
    BindRow(c.upsert, id, c.row);
    c.upsert.Step();
    return;
  }
  if (*expected == 0) {
    try {
      InsertLocked(c, record, id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kAlreadyExists) throw;
      ThrowVersionConflict(c, id, 0);
    }
    return;
  }
  if (!UpdateLocked(c, id, record, expected)) ThrowVersionConflict(c, id, *expected);
}

bool DeleteLocked(SqliteConnection& c, std::string_view id) {
  ResetOnExit reset(c.remove);
  c.remove.BindText(1, id);
  c.remove.Step();
  return sqlite3_changes(c.db) > 0;
}

bool ReadLocked(SqliteConnection& c, std::string_view id, Record& out) {
  ResetOnExit reset(c.read);
  c.read.BindText(1, id);
  if (!c.read.Step()) return false;
  c.decoder.Decode(RowAt(c.read), out);
  return true;
}

std::string ResolveOrMakeId(const Record& record) {
  auto id = record.ResolveId();
  return id ? std::move(*id) : GenerateUuid();
}

std::string ItemError(std::string_view operation, std::size_t index, const Error& e) {
  return std::string(operation) + " item " + std::to_string(index) + ": " + e.what();
}

}  // namespace

// ---- Queries ----

namespace {

// A name of the projection (Query::Select) read by SQL: the field named exactly so, else (for a
// dotted path) the top-level field the path starts in, as Record::Project keeps them.
struct ProjectedName {
  std::string whole;
  int whole_column = -1;
  std::string head;  // empty when the name has no dot
  int head_column = -1;
};

// How a query runs: the SQL, and what is left for the core (a residual filter, paging, sorting,
// projection).
struct QueryPlan {
  std::string sql;
  QueryTranslator translator{StoreFacts{}};
  std::shared_ptr<const CompiledFilter> residual;  // null when SQL filters exactly
  bool sort_in_core = false;
  std::size_t skip = 0;                   // offset applied while reading (when not in SQL)
  std::optional<std::size_t> limit;       // limit applied while reading (when not in SQL)
  std::vector<ProjectedName> projection;  // when SQL reads only the selected fields
};

// The columns reading only the selected fields, or nullopt when SQL cannot read one of them.
std::optional<std::vector<ProjectedName>> PlanProjection(const std::vector<std::string>& names,
                                                         const StoreFacts& facts,
                                                         std::string& columns) {
  std::vector<ProjectedName> out;
  int next = 6;  // after kRowColumns
  auto add = [&](const std::string& key) -> std::optional<int> {
    const std::optional<std::string> json = SqlFieldJson(key, facts);
    if (!json) return std::nullopt;
    columns += ", " + *json;
    return next++;
  };
  for (const std::string& name : names) {
    ProjectedName p;
    p.whole = name;
    const auto whole = add(name);
    if (!whole) return std::nullopt;
    p.whole_column = *whole;
    if (const std::size_t dot = name.find('.'); dot != std::string::npos) {
      p.head = name.substr(0, dot);
      const auto head = add(p.head);
      if (!head) return std::nullopt;
      p.head_column = *head;
    }
    out.push_back(std::move(p));
  }
  return out;
}

QueryPlan PlanQuery(SqliteConnection& c, const Query& query, bool paging) {
  // Validates the filter (operand shapes, regex syntax) before any SQL runs.
  auto filter = std::make_shared<const CompiledFilter>(query.where());
  QueryPlan plan;
  const StoreFacts facts = c.Facts();
  plan.translator = QueryTranslator(facts);
  const SqlCondition where = plan.translator.Where(query.where());
  if (!where.exact) plan.residual = std::move(filter);
  std::optional<std::string> order = query.sort().empty() ? std::optional<std::string>("rowid")
                                                          : plan.translator.OrderBy(query.sort());
  plan.sort_in_core = !order.has_value();
  // Only the selected fields are read when nothing else needs the whole record.
  std::string columns = kRowColumns;
  if (paging && where.exact && !plan.sort_in_core && !query.fields().empty()) {
    std::string projected;
    if (auto projection = PlanProjection(query.fields(), facts, projected)) {
      plan.projection = std::move(*projection);
      columns += projected;
    }
  }
  plan.sql = "SELECT " + columns + " FROM " + c.table + " WHERE " + where.maybe + " ORDER BY " +
             order.value_or("rowid");
  if (!paging) return plan;
  if (where.exact && !plan.sort_in_core) {
    if (query.limit() || query.offset() > 0) {
      const auto limit = query.limit() ? static_cast<std::int64_t>(*query.limit()) : -1;
      plan.sql += " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(query.offset());
    }
  } else {
    plan.skip = query.offset();
    plan.limit = query.limit();
  }
  return plan;
}

// The sort keys of a record, owned, for sorting in the core.
struct SortEntry {
  std::vector<Value> keys;
  std::vector<bool> present;
  std::int64_t rowid = 0;
};

}  // namespace

class SqliteCursor final : public RecordCursor {
 public:
  SqliteCursor(std::shared_ptr<SqliteConnection> c, QueryPlan plan, Query query,
               std::size_t batch_size, Statement stmt)
      : c_(std::move(c)),
        sql_(std::move(plan.sql)),
        translator_(std::move(plan.translator)),
        stmt_(std::move(stmt)),
        residual_(std::move(plan.residual)),
        sort_in_core_(plan.sort_in_core),
        skip_(plan.skip),
        limit_(plan.limit),
        projection_(std::move(plan.projection)),
        query_(std::move(query)),
        batch_size_(batch_size == 0 ? 1 : batch_size) {
    translator_.Bind(stmt_);  // the parameters stay here while the statement runs
  }

  ~SqliteCursor() override {
    std::lock_guard<std::mutex> lock(c_->mutex);
    if (c_->closed) {
      stmt_.Finalize();  // the connection closes when its last statement goes
    } else {
      c_->cache.Return(sql_, std::move(stmt_));
    }
    by_rowid_.Finalize();
  }

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    ConnectionLock lock(*c_);
    if (sort_in_core_) return NextSorted(batch);
    while (!done_ && batch.size() < batch_size_) {
      if (limit_ && *limit_ == 0) {
        Finish();
        break;
      }
      if (!stmt_.Step()) {
        Finish();
        break;
      }
      Record record;
      if (!projection_.empty()) {  // SQL filtered and paged exactly and read only these fields
        c_->decoder.Decode(ProjectedRow(), record);
        batch.push_back(std::move(record));
        continue;
      }
      c_->decoder.Decode(RowAt(stmt_), record);
      if (residual_ && !residual_->Matches(record)) continue;
      if (skip_ > 0) {
        --skip_;
        continue;
      }
      if (limit_) --*limit_;
      batch.push_back(Project(std::move(record)));
    }
    return !batch.empty();
  }

 private:
  Record Project(Record record) const {
    return query_.fields().empty() ? std::move(record) : record.Project(query_.fields());
  }

  // The row with a data object of the selected fields only, in the order Record::Project keeps
  // them.
  StoredRow ProjectedRow() {
    StoredRow row = RowAt(stmt_);
    projected_data_ = "{";
    emitted_.clear();
    for (const ProjectedName& p : projection_) {
      const std::string* key = &p.whole;
      int column = p.whole_column;
      if (stmt_.ColumnIsNull(column)) {
        if (p.head_column < 0 || stmt_.ColumnIsNull(p.head_column)) continue;
        key = &p.head;
        column = p.head_column;
      }
      if (std::find(emitted_.begin(), emitted_.end(), *key) != emitted_.end()) continue;
      emitted_.push_back(*key);
      if (projected_data_.size() > 1) projected_data_ += ',';
      AppendJson(projected_data_, Value(*key));
      projected_data_ += ':';
      projected_data_ += stmt_.ColumnText(column);
    }
    projected_data_ += '}';
    row.data = projected_data_;
    return row;
  }

  void Finish() {
    done_ = true;
    stmt_.Reset();  // ends the statement's read transaction now, not when the cursor goes
  }

  // Sorting the core must do (see QueryTranslator::OrderBy): the matching rows' sort keys and
  // rowids are read first (never the records), sorted, then the records are read batch by batch.
  bool NextSorted(std::vector<Record>& batch) {
    if (!sorted_) SortRows();
    while (next_ < order_.size() && batch.size() < batch_size_) {
      ResetOnExit reset(by_rowid_);
      by_rowid_.BindInt(1, order_[next_++]);
      if (!by_rowid_.Step()) continue;  // deleted meanwhile
      Record record;
      c_->decoder.Decode(RowAt(by_rowid_), record);
      batch.push_back(Project(std::move(record)));
    }
    return !batch.empty();
  }

  void SortRows() {
    sorted_ = true;
    const std::vector<SortKey>& keys = query_.sort();
    std::vector<SortEntry> entries;
    Value id_scratch;
    while (stmt_.Step()) {
      Record record;
      c_->decoder.Decode(RowAt(stmt_), record);
      if (residual_ && !residual_->Matches(record)) continue;
      SortEntry& e = entries.emplace_back();
      e.rowid = stmt_.ColumnInt(0);
      for (const SortKey& key : keys) {
        const Value* v = QueryValue(record, key.field, id_scratch);
        const bool present = v != nullptr && !v->is_null();
        e.keys.push_back(present ? *v : Value());
        e.present.push_back(present);
      }
    }
    Finish();
    std::vector<const Value*> a(keys.size()), b(keys.size());
    std::stable_sort(entries.begin(), entries.end(), [&](const SortEntry& x, const SortEntry& y) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        a[i] = x.present[i] ? &x.keys[i] : nullptr;
        b[i] = y.present[i] ? &y.keys[i] : nullptr;
      }
      return CompareSortRows(keys, a.data(), b.data()) < 0;
    });
    const std::size_t from = std::min(skip_, entries.size());
    const std::size_t to = limit_ ? std::min(entries.size(), from + *limit_) : entries.size();
    for (std::size_t i = from; i < to; ++i) order_.push_back(entries[i].rowid);
    by_rowid_ = Statement(
        c_->db, std::string("SELECT ") + kRowColumns + " FROM " + c_->table + " WHERE rowid = ?1");
  }

  std::shared_ptr<SqliteConnection> c_;
  std::string sql_;
  QueryTranslator translator_;
  Statement stmt_;
  std::shared_ptr<const CompiledFilter> residual_;
  bool sort_in_core_;
  std::size_t skip_;
  std::optional<std::size_t> limit_;
  std::vector<ProjectedName> projection_;
  std::string projected_data_;
  std::vector<std::string> emitted_;
  Query query_;
  std::size_t batch_size_;
  bool done_ = false;
  // Sorting in the core.
  bool sorted_ = false;
  std::vector<std::int64_t> order_;
  std::size_t next_ = 0;
  Statement by_rowid_;
};

// ---- SqliteDatabase ----

namespace {

std::unique_ptr<SqliteCursor> OpenCursor(const std::shared_ptr<SqliteConnection>& connection,
                                         SqliteConnection& c, const Query& query,
                                         std::size_t batch_size) {
  QueryPlan plan = PlanQuery(c, query, true);
  Statement stmt = c.cache.Take(c.db, plan.sql);
  return std::make_unique<SqliteCursor>(connection, std::move(plan), query, batch_size,
                                        std::move(stmt));
}

}  // namespace

SqliteDatabase::SqliteDatabase(const SqliteOptions& options)
    : connection_(std::make_shared<SqliteConnection>(options)) {}

SqliteDatabase::~SqliteDatabase() {
  try {
    Close();
  } catch (...) {  // a destructor cannot report; Close() can
  }
}

Capabilities SqliteDatabase::capabilities() const noexcept {
  Capabilities c;
  c.persistent = !IsMemoryPath(connection_->options.path);
  c.transactions = true;
  c.atomic_batch = true;
  c.secondary_indexes = true;
  return c;
}

std::string SqliteDatabase::Create(const Record& record) {
  std::string id = ResolveOrMakeId(record);
  ConnectionLock c(*connection_);
  InsertLocked(*c, record, id);
  return id;
}

std::optional<Record> SqliteDatabase::Read(std::string_view id) {
  ConnectionLock c(*connection_);
  Record out;
  if (!ReadLocked(*c, id, out)) return std::nullopt;
  return out;
}

bool SqliteDatabase::ReadInto(std::string_view id, Record& out) {
  ConnectionLock c(*connection_);
  return ReadLocked(*c, id, out);
}

bool SqliteDatabase::Update(std::string_view id, const Record& record,
                            std::optional<std::uint64_t> expected_version) {
  ConnectionLock c(*connection_);
  return UpdateLocked(*c, id, record, expected_version);
}

bool SqliteDatabase::Delete(std::string_view id) {
  ConnectionLock c(*connection_);
  return DeleteLocked(*c, id);
}

bool SqliteDatabase::Exists(std::string_view id) {
  ConnectionLock c(*connection_);
  ResetOnExit reset(c->exists);
  c->exists.BindText(1, id);
  return c->exists.Step();
}

std::string SqliteDatabase::Upsert(std::string_view id_arg, const Record& record,
                                   std::optional<std::uint64_t> expected_version) {
  std::string id = id_arg.empty() ? ResolveOrMakeId(record) : std::string(id_arg);
  ConnectionLock c(*connection_);
  UpsertLocked(*c, id, record, expected_version);
  return id;
}

std::vector<std::string> SqliteDatabase::CreateBatch(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const Record& record : records) ids.push_back(ResolveOrMakeId(record));
  ConnectionLock c(*connection_);
  if (records.empty()) return ids;
  WriteScope scope(*c);
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      InsertLocked(*c, records[i], ids[i]);
    } catch (const Error& e) {
      throw Error(e.code(), ItemError("create_batch", i, e) + "; nothing was stored", e.backend(),
                  e.native_code());
    }
  }
  scope.Commit();
  return ids;
}

std::vector<std::optional<Record>> SqliteDatabase::ReadBatch(const std::vector<std::string>& ids) {
  std::vector<std::optional<Record>> out;
  out.reserve(ids.size());
  ConnectionLock c(*connection_);
  for (const std::string& id : ids) {
    Record record;
    if (ReadLocked(*c, id, record)) {
      out.emplace_back(std::move(record));
    } else {
      out.emplace_back();
    }
  }
  return out;
}

std::vector<bool> SqliteDatabase::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  std::vector<bool> out;
  out.reserve(updates.size());
  ConnectionLock c(*connection_);
  if (updates.empty()) return out;
  WriteScope scope(*c);
  for (std::size_t i = 0; i < updates.size(); ++i) {
    try {
      out.push_back(UpdateLocked(*c, updates[i].first, updates[i].second, std::nullopt));
    } catch (const Error& e) {
      throw Error(e.code(), ItemError("update_batch", i, e) + "; nothing was changed", e.backend(),
                  e.native_code());
    }
  }
  scope.Commit();
  return out;
}

std::vector<bool> SqliteDatabase::DeleteBatch(const std::vector<std::string>& ids) {
  std::vector<bool> out;
  out.reserve(ids.size());
  ConnectionLock c(*connection_);
  if (ids.empty()) return out;
  WriteScope scope(*c);
  for (const std::string& id : ids) out.push_back(DeleteLocked(*c, id));
  scope.Commit();
  return out;
}

std::vector<Record> SqliteDatabase::Search(const Query& query) {
  std::unique_ptr<SqliteCursor> cursor;
  {
    ConnectionLock c(*connection_);
    cursor = OpenCursor(connection_, *c, query, SIZE_MAX);
  }
  std::vector<Record> out;
  cursor->NextBatch(out);
  return out;
}

std::size_t SqliteDatabase::Count(const Expr& expr) {
  ConnectionLock c(*connection_);
  if (expr.is_true()) {
    ResetOnExit reset(c->count_all);
    c->count_all.Step();
    return static_cast<std::size_t>(c->count_all.ColumnInt(0));
  }
  const CompiledFilter filter(expr);  // validates before any SQL runs
  QueryTranslator translator(c->Facts());
  const SqlCondition where = translator.Where(expr);
  auto run = [&](const std::string& sql, auto&& each_row) {
    Statement stmt = c->cache.Take(c->db, sql);
    {
      ResetOnExit reset(stmt);
      translator.Bind(stmt);
      while (stmt.Step()) each_row(stmt);
    }
    c->cache.Return(sql, std::move(stmt));
  };
  std::size_t count = 0;
  run("SELECT count(*) FROM " + c->table + " WHERE coalesce(" + where.sure + ", 0)",
      [&](Statement& s) { count = static_cast<std::size_t>(s.ColumnInt(0)); });
  if (where.exact) return count;
  // The rows SQL could not decide: the evaluator decides.
  Record record;
  run(std::string("SELECT ") + kRowColumns + " FROM " + c->table + " WHERE (" + where.maybe +
          ") AND NOT coalesce(" + where.sure + ", 0)",
      [&](Statement& s) {
        c->decoder.Decode(RowAt(s), record);
        if (filter.Matches(record)) ++count;
      });
  return count;
}

std::size_t SqliteDatabase::Clear() {
  ConnectionLock c(*connection_);
  ResetOnExit reset(c->clear);
  c->clear.Step();
  return static_cast<std::size_t>(sqlite3_changes64(c->db));
}

std::unique_ptr<RecordCursor> SqliteDatabase::StreamRead(const Query& query,
                                                         StreamOptions options) {
  ConnectionLock c(*connection_);
  return OpenCursor(connection_, *c, query, options.batch_size);
}

StreamResult SqliteDatabase::StreamWrite(const RecordSource& source, StreamOptions options) {
  StreamWriteProgress progress(options);
  std::vector<Record> batch;
  // (The source is read outside the lock: it may call into this database.)
  while (progress.ReadBatch(source, batch)) {
    if (progress.stopped()) {
      progress.Skipped(batch.size());
      continue;
    }
    ConnectionLock c(*connection_);
    WriteScope scope(*c);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Record& record = batch[i];
      if (progress.stopped()) {
        progress.Skipped();
        continue;
      }
      try {
        const std::string id = ResolveOrMakeId(record);
        if (options.upsert) {
          UpsertLocked(*c, id, record, std::nullopt);
        } else {
          InsertLocked(*c, record, id);
        }
        progress.Succeeded();
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kUnavailable) throw;
        progress.Fail(progress.base() + i, record.ResolveId(), e.what());
      }
    }
    scope.Commit();
  }
  return std::move(progress.result());
}

// ---- Indexes ----

namespace {

std::string_view KindName(IndexKind kind) {
  return kind == IndexKind::kOrdered ? "ordered" : "hash";
}

// The indexes dkdata made on the table: (SQLite name, field, kind).
struct NamedIndex {
  std::string name;
  IndexInfo info;
};

std::vector<NamedIndex> ListLocked(SqliteConnection& c) {
  std::vector<NamedIndex> out;
  Statement s(c.db,
              "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 ORDER BY "
              "rowid");
  s.BindText(1, c.table_raw);
  const std::string prefix = c.table_raw + std::string(kIndexMarker);
  while (s.Step()) {
    const std::string_view name = s.ColumnText(0);
    if (!name.starts_with(prefix)) continue;
    const std::string_view rest = name.substr(prefix.size());
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view kind = rest.substr(0, colon);
    out.push_back(NamedIndex{
        std::string(name), IndexInfo{std::string(rest.substr(colon + 1)),
                                     kind == "ordered" ? IndexKind::kOrdered : IndexKind::kHash}});
  }
  return out;
}

}  // namespace

void SqliteDatabase::CreateIndex(const IndexInfo& index) {
  if (index.field.empty()) ThrowSqlite(ErrorCode::kInvalidArgument, "an index needs a field name");
  if (index.field == kIdPath) {
    ThrowSqlite(ErrorCode::kInvalidArgument, "'id' is the record id, which is always indexed");
  }
  const std::optional<std::string> expression = SqlValueExpression(index.field);
  if (!expression) {
    ThrowSqlite(ErrorCode::kInvalidArgument,
                "cannot index field '" + index.field +
                    "': SQLite's JSON paths cannot name a key with '\"', '\\' or a control "
                    "character (queries on it still work, without an index)");
  }
  ConnectionLock c(*connection_);
  for (const NamedIndex& existing : ListLocked(*c)) {
    if (existing.info.field == index.field) {
      if (existing.info.kind == index.kind) return;
      c->Exec("DROP INDEX " + QuoteIdentifier(existing.name), "dropping an index");
    }
  }
  // An expression index on the value the queries read: SQLite uses it for =, IN, ranges and
  // prefixes. Both kinds are B-trees; the kind is kept in the name for ListIndexes.
  const std::string name = c->table_raw + std::string(kIndexMarker) +
                           std::string(KindName(index.kind)) + ":" + index.field;
  c->Exec("CREATE INDEX " + QuoteIdentifier(name) + " ON " + c->table + " (" + *expression + ")",
          "creating an index on '" + index.field + "'");
}

bool SqliteDatabase::DropIndex(std::string_view field) {
  ConnectionLock c(*connection_);
  bool dropped = false;
  for (const NamedIndex& existing : ListLocked(*c)) {
    if (existing.info.field != field) continue;
    c->Exec("DROP INDEX " + QuoteIdentifier(existing.name), "dropping an index");
    dropped = true;
  }
  return dropped;
}

std::vector<IndexInfo> SqliteDatabase::ListIndexes() const {
  ConnectionLock c(*connection_);
  std::vector<IndexInfo> out;
  for (NamedIndex& index : ListLocked(*c)) out.push_back(std::move(index.info));
  return out;
}

// ---- Transactions ----

namespace {

class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(std::shared_ptr<SqliteConnection> c) : c_(std::move(c)) {}
  ~SqliteTransaction() override {
    try {
      Rollback();
    } catch (...) {  // a destructor cannot report; Rollback() can
    }
  }

  void Commit() override {
    if (!active_) ThrowSqlite(ErrorCode::kInvalidArgument, "the transaction has ended already");
    std::lock_guard<std::mutex> lock(c_->mutex);
    active_ = false;
    if (c_->closed) ThrowSqlite(ErrorCode::kUnavailable, "the sqlite database is closed");
    const int rc = sqlite3_exec(c_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      const int code = sqlite3_extended_errcode(c_->db);
      const std::string message = sqlite3_errmsg(c_->db);
      if (sqlite3_get_autocommit(c_->db) == 0) {
        sqlite3_exec(c_->db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      End();
      throw Error(SqliteErrorCode(code), "committing the transaction: " + message,
                  std::string(kSqliteBackend), SqliteCodeName(code));
    }
    End();
  }

  void Rollback() override {
    if (!active_) return;
    std::lock_guard<std::mutex> lock(c_->mutex);
    active_ = false;
    if (c_->closed) return;  // closing rolled it back
    const int rc = sqlite3_exec(c_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    End();
    if (rc != SQLITE_OK) ThrowSqliteError(c_->db, rc, "rolling back the transaction");
  }

  bool active() const noexcept override { return active_; }

 private:
  void End() {
    c_->transaction_owner.reset();
    c_->transaction_ended.notify_all();
  }

  std::shared_ptr<SqliteConnection> c_;
  bool active_ = true;
};

}  // namespace

std::unique_ptr<Transaction> SqliteDatabase::BeginTransaction() {
  ConnectionLock c(*connection_);
  if (c->transaction_owner) {
    ThrowSqlite(ErrorCode::kInvalidArgument,
                "this thread has a transaction open on this database already (they do not nest)");
  }
  c->Exec("BEGIN IMMEDIATE", "beginning a transaction");
  c->transaction_owner = std::this_thread::get_id();
  return std::make_unique<SqliteTransaction>(connection_);
}

void SqliteDatabase::Close() {
  std::lock_guard<std::mutex> lock(connection_->mutex);
  connection_->CloseLocked();
}

// ---- Options and registration ----

namespace {

// Every key the backend takes, in the order of its README's table: the reference's
// (SyncSQLiteDatabaseConfig) and its shared keys.
constexpr std::string_view kOptionKeys[] = {"path",
                                            "table",
                                            "timeout",
                                            "journal_mode",
                                            "synchronous",
                                            "auto_create_table",
                                            "check_same_thread",
                                            "schema",
                                            "vector_enabled",
                                            "vector_metric"};

constexpr OptionReader kReader("sqlite", kOptionKeys);

double SecondsOption(std::string_view key, const Value& value) {
  const double d = kReader.Number(key, value);
  if (!std::isfinite(d) || d < 0) kReader.Fail(key, "must be a number of seconds >= 0");
  return d;
}

// PRAGMA values cannot be bound: only known words are accepted.
std::string PragmaOption(std::string_view key, const Value& value,
                         std::initializer_list<std::string_view> allowed) {
  const std::string word = Upper(kReader.String(key, value));
  for (std::string_view a : allowed) {
    if (word == a) return word;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  kReader.Fail(key, "is '" + word + "', not one of " + list);
}

// sqlite:///abs/path.db, sqlite://relative.db, sqlite://:memory:, sqlite:// (memory), each with
// ?table=...&timeout=... options.
Object ParseSqliteUrl(std::string_view, std::string_view rest) {
  if (rest.starts_with("//")) rest.remove_prefix(2);
  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  Object options = ParseUrlQuery(query);
  if (!rest.empty()) options.Set("path", PercentDecode(rest, false));
  return options;
}

}  // namespace

SqliteOptions SqliteOptions::FromObject(const Object& options) {
  SqliteOptions out;
  for (const auto& [key, value] : options) {
    if (key == "path") {
      out.path = kReader.String(key, value);
    } else if (key == "table") {
      out.table = kReader.String(key, value);
      if (out.table.empty() || out.table.find('\0') != std::string::npos) {
        kReader.Fail(key, "needs a non-empty table name");
      }
    } else if (key == "timeout") {
      out.timeout_seconds = SecondsOption(key, value);
    } else if (key == "journal_mode") {
      if (!value.is_null()) {
        out.journal_mode =
            PragmaOption(key, value, {"DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"});
      }
    } else if (key == "synchronous") {
      if (!value.is_null()) {
        out.synchronous =
            PragmaOption(key, value, {"OFF", "NORMAL", "FULL", "EXTRA", "0", "1", "2", "3"});
      }
    } else if (key == "auto_create_table") {
      out.auto_create_table = kReader.Bool(key, value);
    } else if (key == "check_same_thread") {
      kReader.Bool(key, value);  // the reference's knob: dkdata's connection serves any thread
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
  return out;
}

BackendInfo MakeSqliteBackendInfo() {
  BackendInfo info;
  info.name = "sqlite";
  info.aliases = {"sqlite3"};
  info.url_schemes = {"sqlite", "sqlite3"};
  info.description = "SQLite file or in-memory database, in the reference's table layout";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    return std::make_unique<SqliteDatabase>(SqliteOptions::FromObject(options));
  };
  info.url_parser = ParseSqliteUrl;
  info.option_keys = kReader.Keys();
  info.check_options = [](const Object& options) { SqliteOptions::FromObject(options); };
  return info;
}

}  // namespace dkdata::internal
