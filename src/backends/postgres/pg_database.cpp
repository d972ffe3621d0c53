// The postgres backend (pg_database.hpp): the table, CRUD, batches, queries and cursors, indexes
// and transactions.
#include "backends/postgres/pg_database.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "backends/postgres/pg_translate.hpp"
#include "backends/sql/json_rows.hpp"
#include "core/evaluator.hpp"
#include "core/stream_write.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

constexpr const char* kRowColumns = "id, data, metadata, version, dkdata_fields";
// COPY data is sent in chunks of about this many bytes.
constexpr std::size_t kCopyChunk = std::size_t{1} << 20;
// Ids per statement of delete_batch, and of read_batch (whose statements are pipelined).
constexpr std::size_t kIdsPerStatement = 10000;
constexpr std::size_t kIdsPerRead = 1000;
// The comment dkdata puts on its expression indexes (ListIndexes reads it back).
constexpr std::string_view kIndexComment = "dkdata index ";

std::string ResolveOrMakeId(const Record& record) {
  auto id = record.ResolveId();
  return id ? std::move(*id) : GenerateUuid();
}

// PostgreSQL text cannot hold U+0000: no stored id has one, and none can be stored.
bool StorableId(std::string_view id) {
  return id.find('\0') == std::string_view::npos;
}

void CheckStorableId(std::string_view id) {
  if (StorableId(id)) return;
  std::string shown;
  for (const char c : id) shown += c == '\0' ? std::string("\\u0000") : std::string(1, c);
  ThrowPostgres(ErrorCode::kInvalidArgument,
                "id '" + shown + "' holds U+0000, which PostgreSQL cannot store in text");
}

// The ids of items [from, to) that can be stored (the others are found nowhere).
std::vector<std::string> StorableIds(const std::vector<std::string>& ids, std::size_t from,
                                     std::size_t to) {
  std::vector<std::string> out;
  out.reserve(to - from);
  for (std::size_t i = from; i < to; ++i) {
    if (StorableId(ids[i])) out.push_back(ids[i]);
  }
  return out;
}

std::string ItemError(std::string_view operation, std::size_t index, const Error& e) {
  return std::string(operation) + " item " + std::to_string(index) + ": " + e.what();
}

Error Renamed(const Error& e, std::string message) {
  return Error(e.code(), std::move(message), e.backend(), e.native_code());
}

StoredRow RowAt(const PgResult& r, int row) {
  StoredRow out;
  out.id = r.Text(row, 0);
  out.data = r.Text(row, 1);
  out.metadata = r.MaybeText(row, 2);
  out.version = static_cast<std::uint64_t>(r.Int(row, 3));
  out.fields = r.MaybeText(row, 4);
  return out;
}

std::uint64_t Fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hex16(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 15];
  return out;
}

// One line of COPY text: id, data, metadata, dkdata_fields.
void AppendCopyLine(std::string& out, std::string_view id, const EncodedRow& row) {
  AppendCopyField(out, id);
  out += '\t';
  AppendCopyField(out, row.data);
  out += '\t';
  if (row.metadata.empty()) {
    out += "\\N";
  } else {
    AppendCopyField(out, row.metadata);
  }
  out += '\t';
  AppendCopyField(out, row.fields);
  out += '\n';
}

PgParams RowParams(std::string_view id, const EncodedRow& row) {
  PgParams p;
  p.reserve(5);
  p.emplace_back(std::string(id));
  p.emplace_back(row.data);
  if (row.metadata.empty()) {
    p.emplace_back(std::nullopt);
  } else {
    p.emplace_back(row.metadata);
  }
  p.emplace_back(row.fields);
  return p;
}

// The encoding buffers of the calling thread, kept for their capacity.
EncodedRow& ThreadRow() {
  thread_local EncodedRow row;
  return row;
}

RowDecoder& ThreadDecoder() {
  thread_local RowDecoder decoder{kPostgresBackend};
  return decoder;
}

void Encode(const Record& record, EncodedRow& row) {
  EncodeRow(record, row, kPostgresBackend, JsonDialect::kJsonb);
}

}  // namespace

// ---- The store ----

class PgStore {
 public:
  explicit PgStore(const PostgresOptions& opts);

  PostgresOptions options;
  std::string table;      // "schema"."table", quoted
  std::string table_raw;  // schema.table as given, for messages
  std::string name_hash;  // names dkdata's own indexes
  std::unique_ptr<PgPool> pool;
  std::string insert_sql, read_sql, exists_sql, update_sql, update_expected_sql, upsert_sql,
      delete_sql, version_sql, count_sql, facts_sql, copy_sql, read_many_sql;

  // The transaction of one thread (see Transaction in database.hpp).
  std::mutex mutex;
  std::condition_variable transaction_ended;
  std::optional<std::thread::id> owner;
  PgPool::Lease owner_lease;
  std::uint64_t transactions = 0;  // counts BeginTransaction: a cursor knows whose it was
  std::atomic<bool> closed{false};
  std::atomic<std::uint64_t> cursors{0};

  std::chrono::milliseconds wait() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(options.pool_timeout * 1000));
  }

 private:
  void OpenPool();
  void Setup(PgConnection& c);
};

namespace {

// The connection one call runs on: the calling thread's transaction's, or one of the pool's
// (after another thread's transaction has ended, up to pool_timeout).
class Session {
 public:
  explicit Session(PgStore& s) {
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    if (s.owner) {
      if (*s.owner == std::this_thread::get_id()) {
        connection_ = &*s.owner_lease;
        in_transaction_ = true;
        transaction_ = s.transactions;
        return;
      }
      const bool free =
          s.transaction_ended.wait_for(lock, s.wait(), [&] { return !s.owner || s.closed; });
      if (!free) {
        ThrowPostgres(ErrorCode::kTimeout, "another thread's transaction on table '" + s.table_raw +
                                               "' is still open after " +
                                               std::to_string(s.options.pool_timeout) + " s");
      }
      if (s.closed) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    }
    lock.unlock();
    lease_ = s.pool->Acquire();
    connection_ = &*lease_;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  PgConnection& operator*() const { return *connection_; }
  PgConnection* operator->() const { return connection_; }
  bool in_transaction() const { return in_transaction_; }
  // For a session kept across calls (a cursor's): throws unless its connection is still usable,
  // i.e. the database is open and, inside a transaction, that transaction is still open.
  void CheckStillValid(PgStore& s) const {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.closed) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    if (in_transaction_ && (!s.owner || s.transactions != transaction_)) {
      ThrowPostgres(ErrorCode::kInvalidArgument,
                    "the transaction this cursor was opened in has ended");
    }
  }

 private:
  PgPool::Lease lease_;
  PgConnection* connection_ = nullptr;
  bool in_transaction_ = false;
  std::uint64_t transaction_ = 0;
};

// Runs fn as one unit that fails as a whole: inside the caller's transaction a savepoint (so a
// failed write leaves the transaction usable), else a transaction of its own when `transaction`,
// else fn alone (one statement is atomic by itself).
template <typename Fn>
auto Unit(Session& s, bool transaction, Fn&& fn) -> decltype(fn()) {
  const bool nested = s.in_transaction();
  if (!nested && !transaction) return fn();
  s->ExecSimple(nested ? "SAVEPOINT dkdata_unit" : "BEGIN", "beginning a write");
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      s->ExecSimple(nested ? "RELEASE SAVEPOINT dkdata_unit" : "COMMIT", "committing a write");
    } else {
      auto result = fn();
      s->ExecSimple(nested ? "RELEASE SAVEPOINT dkdata_unit" : "COMMIT", "committing a write");
      return result;
    }
  } catch (...) {
    if (!s->broken()) {
      try {
        s->ExecSimple(nested ? "ROLLBACK TO SAVEPOINT dkdata_unit; RELEASE SAVEPOINT dkdata_unit"
                             : "ROLLBACK",
                      "rolling back a write");
      } catch (const Error&) {
        s->MarkBroken();  // in an unknown state: not to be reused
      }
    }
    throw;
  }
}

}  // namespace

PgStore::PgStore(const PostgresOptions& opts) : options(opts) {
  table = QuoteIdentifier(options.schema) + "." + QuoteIdentifier(options.table);
  table_raw = options.schema + "." + options.table;
  name_hash = Hex16(Fnv1a(table_raw));
  insert_sql = "INSERT INTO " + table +
               " (id, data, metadata, dkdata_fields) VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb)";
  read_sql = "SELECT " + std::string(kRowColumns) + " FROM " + table + " WHERE id = $1";
  read_many_sql =
      "SELECT " + std::string(kRowColumns) + " FROM " + table + " WHERE id = ANY($1::text[])";
  exists_sql = "SELECT 1 FROM " + table + " WHERE id = $1";
  const std::string set =
      " SET data = $2::jsonb, metadata = $3::jsonb, dkdata_fields = "
      "$4::jsonb, version = version + 1, updated_at = CURRENT_TIMESTAMP";
  update_sql = "UPDATE " + table + set + " WHERE id = $1";
  update_expected_sql = update_sql + " AND version = $5::bigint";
  upsert_sql = insert_sql +
               " ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, metadata = "
               "EXCLUDED.metadata, dkdata_fields = EXCLUDED.dkdata_fields, version = " +
               table + ".version + 1, updated_at = CURRENT_TIMESTAMP";
  delete_sql = "DELETE FROM " + table + " WHERE id = $1";
  version_sql = "SELECT version FROM " + table + " WHERE id = $1";
  count_sql = "SELECT count(*) FROM " + table;
  // Partial indexes (Setup) make each of these a look at an almost always empty index.
  facts_sql = "SELECT EXISTS (SELECT 1 FROM " + table +
              " WHERE dkdata_fields IS NULL), EXISTS (SELECT 1 FROM " + table +
              " WHERE dkdata_fields ? '" + std::string(kNulStringsFlag) +
              "'), EXISTS (SELECT 1 FROM " + table + " WHERE dkdata_fields ? '" +
              std::string(kVectorsFlag) + "')";
  copy_sql = "COPY " + table + " (id, data, metadata, dkdata_fields) FROM STDIN";
  OpenPool();
  PgPool::Lease c = pool->Acquire();
  Setup(*c);
}

void PgStore::OpenPool() {
  PgPoolOptions p;
  p.info = options.Info();
  p.min_size = options.min_pool_size;
  p.max_size = options.max_pool_size;
  p.acquire_timeout = wait();
  p.describe = options.Describe();
  try {
    pool = std::make_unique<PgPool>(p);
    return;
  } catch (const Error& e) {
    const bool missing_database = e.code() == ErrorCode::kNotFound &&
                                  std::string_view(e.what()).find("database") != std::string::npos;
    if (!missing_database) {
      throw Error(e.code(), options.Describe() + ": " + e.what(), e.backend(), e.native_code());
    }
    if (!options.ensure_database) {
      throw Error(e.code(), options.Describe() + ": " + e.what() + " (ensure_database is false)",
                  e.backend(), e.native_code());
    }
  }
  // ensure_database: create it from the maintenance database, as the reference does.
  {
    PgConnection maintenance(options.Info("postgres"));
    try {
      maintenance.ExecSimple("CREATE DATABASE " + QuoteIdentifier(options.database),
                             "creating " + options.Describe());
    } catch (const Error& e) {
      if (e.native_code() != "42P04") throw;  // 42P04: created meanwhile by someone else
    }
  }
  pool = std::make_unique<PgPool>(p);
}

void PgStore::Setup(PgConnection& c) {
  // One setup at a time per schema: concurrent DDL on the same catalog rows (the shared trigger
  // function, the schema) fails with "tuple concurrently updated".
  const std::string lock =
      "SELECT pg_advisory_xact_lock(" +
      std::to_string(static_cast<std::int64_t>(Fnv1a("dkdata schema " + options.schema))) + ");";
  const std::string prefix = "dkdata_" + name_hash;
  std::string sql = "BEGIN; " + lock;
  if (options.auto_create_table) {
    if (options.schema != "public") {
      sql += "CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(options.schema) + ";";
    }
    // The reference's table and indexes (PostgresTableManager), then dkdata's columns.
    sql += "CREATE TABLE IF NOT EXISTS " + table +
           " (id TEXT PRIMARY KEY, data JSONB NOT NULL, metadata JSONB, created_at TIMESTAMP "
           "DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, version "
           "BIGINT NOT NULL DEFAULT 1, dkdata_fields JSONB);";
    if (options.gin_index) {
      // The reference's names, unless the server would cut them short at 63 bytes (two names
      // could then collide, and IF NOT EXISTS skip one): then dkdata's hashed ones.
      for (const char* column : {"data", "metadata"}) {
        std::string name = "idx_" + options.table + "_" + column;
        if (name.size() > 63) name = prefix + "_gin_" + column;
        sql += "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(name) + " ON " + table +
               " USING GIN (" + column + ");";
      }
    }
  } else {
    PgResult r = c.Exec("SELECT to_regclass($1)", {table}, "looking for table " + table_raw);
    if (r.IsNull(0, 0)) {
      ThrowPostgres(ErrorCode::kNotFound, "table " + table_raw + " does not exist in " +
                                              options.Describe() +
                                              " and auto_create_table is false");
    }
  }
  // dkdata's columns, also on a table the reference made (existing rows: version 1, another
  // program's); partial indexes telling the translator cheaply whether rows of another program,
  // U+0000 strings or vectors exist; and a trigger turning another program's UPDATE into a new
  // version (whose dkdata_fields no longer describe the data).
  sql += "ALTER TABLE " + table +
         " ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1, ADD COLUMN IF NOT EXISTS "
         "dkdata_fields JSONB;";
  sql += "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(prefix + "_foreign") + " ON " + table +
         " (id) WHERE dkdata_fields IS NULL;";
  sql += "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(prefix + "_nul") + " ON " + table +
         " (id) WHERE dkdata_fields ? '" + std::string(kNulStringsFlag) + "';";
  sql += "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(prefix + "_vectors") + " ON " + table +
         " (id) WHERE dkdata_fields ? '" + std::string(kVectorsFlag) + "';";
  const std::string function = QuoteIdentifier(options.schema) + ".dkdata_versioned_update";
  sql += "CREATE OR REPLACE FUNCTION " + function +
         "() RETURNS trigger LANGUAGE plpgsql AS $dkdata$ BEGIN IF NEW.version IS NOT DISTINCT "
         "FROM OLD.version THEN NEW.version := OLD.version + 1; NEW.dkdata_fields := NULL; END "
         "IF; RETURN NEW; END $dkdata$;";
  sql += "CREATE OR REPLACE TRIGGER " + QuoteIdentifier(prefix + "_foreign_update") +
         " BEFORE UPDATE ON " + table + " FOR EACH ROW EXECUTE FUNCTION " + function + "();";
  sql += "COMMIT;";
  try {
    c.ExecSimple(sql, "preparing table " + table_raw + " in " + options.Describe());
  } catch (...) {
    if (!c.broken()) {
      try {
        c.ExecSimple("ROLLBACK", "rolling back");
      } catch (const Error&) {
        c.MarkBroken();
      }
    }
    throw;
  }
}

// ---- Point operations ----

namespace {

void Insert(PgStore& s, Session& session, std::string_view id, const EncodedRow& row) {
  try {
    Unit(session, false, [&] {
      session->ExecPrepared("dk_insert", s.insert_sql, RowParams(id, row),
                            "storing record '" + std::string(id) + "'");
    });
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists) throw;
    throw Renamed(e, "a record with id '" + std::string(id) + "' exists already");
  }
}

std::optional<std::uint64_t> VersionOf(PgStore& s, Session& session, std::string_view id) {
  PgResult r = session->ExecPrepared("dk_version", s.version_sql, {std::string(id)},
                                     "reading the version of '" + std::string(id) + "'");
  if (r.rows() == 0) return std::nullopt;
  return static_cast<std::uint64_t>(r.Int(0, 0));
}

[[noreturn]] void ThrowVersionConflict(PgStore& s, Session& session, std::string_view id,
                                       std::uint64_t expected) {
  const auto version = VersionOf(s, session, id);
  if (!version) {
    ThrowPostgres(ErrorCode::kConflict, "record '" + std::string(id) + "' expected at version " +
                                            std::to_string(expected) + " does not exist");
  }
  ThrowPostgres(ErrorCode::kConflict, "record '" + std::string(id) + "' is at version " +
                                          std::to_string(*version) + ", expected " +
                                          std::to_string(expected));
}

bool UpdateRow(PgStore& s, Session& session, std::string_view id, const EncodedRow& row,
               std::optional<std::uint64_t> expected) {
  return Unit(session, false, [&] {
    PgParams params = RowParams(id, row);
    const std::string context = "updating record '" + std::string(id) + "'";
    if (expected) params.emplace_back(std::to_string(*expected));
    PgResult r = expected
                     ? session->ExecPrepared("dk_update_v", s.update_expected_sql, params, context)
                     : session->ExecPrepared("dk_update", s.update_sql, params, context);
    if (r.Affected() > 0) return true;
    if (!expected) return false;
    ThrowVersionConflict(s, session, id, *expected);
  });
}

bool ReadRow(PgStore& s, Session& session, std::string_view id, Record& out) {
  PgResult r = session->ExecPrepared("dk_read", s.read_sql, {std::string(id)},
                                     "reading record '" + std::string(id) + "'");
  if (r.rows() == 0) return false;
  ThreadDecoder().Decode(RowAt(r, 0), out);
  return true;
}

}  // namespace

PostgresDatabase::PostgresDatabase(const PostgresOptions& options)
    : store_(std::make_shared<PgStore>(options)) {}

PostgresDatabase::~PostgresDatabase() {
  try {
    Close();
  } catch (...) {  // a destructor cannot report; Close() can
  }
}

Capabilities PostgresDatabase::capabilities() const noexcept {
  Capabilities c;
  c.persistent = true;
  c.transactions = true;
  c.atomic_batch = true;
  c.secondary_indexes = true;
  c.concurrent_readers = true;
  return c;
}

std::string PostgresDatabase::Create(const Record& record) {
  std::string id = ResolveOrMakeId(record);
  CheckStorableId(id);
  EncodedRow& row = ThreadRow();
  Encode(record, row);
  Session session(*store_);
  Insert(*store_, session, id, row);
  return id;
}

std::optional<Record> PostgresDatabase::Read(std::string_view id) {
  if (!StorableId(id)) return std::nullopt;
  Session session(*store_);
  Record out;
  if (!ReadRow(*store_, session, id, out)) return std::nullopt;
  return out;
}

bool PostgresDatabase::ReadInto(std::string_view id, Record& out) {
  if (!StorableId(id)) return false;
  Session session(*store_);
  return ReadRow(*store_, session, id, out);
}

bool PostgresDatabase::Update(std::string_view id, const Record& record,
                              std::optional<std::uint64_t> expected_version) {
  if (!StorableId(id)) {
    if (expected_version) CheckStorableId(id);  // expected to exist: it cannot
    return false;
  }
  EncodedRow& row = ThreadRow();
  Encode(record, row);
  Session session(*store_);
  return UpdateRow(*store_, session, id, row, expected_version);
}

bool PostgresDatabase::Delete(std::string_view id) {
  if (!StorableId(id)) return false;
  Session session(*store_);
  PgResult r = session->ExecPrepared("dk_delete", store_->delete_sql, {std::string(id)},
                                     "deleting record '" + std::string(id) + "'");
  return r.Affected() > 0;
}

bool PostgresDatabase::Exists(std::string_view id) {
  if (!StorableId(id)) return false;
  Session session(*store_);
  PgResult r = session->ExecPrepared("dk_exists", store_->exists_sql, {std::string(id)},
                                     "looking for record '" + std::string(id) + "'");
  return r.rows() > 0;
}

std::string PostgresDatabase::Upsert(std::string_view id_arg, const Record& record,
                                     std::optional<std::uint64_t> expected_version) {
  std::string id = id_arg.empty() ? ResolveOrMakeId(record) : std::string(id_arg);
  CheckStorableId(id);
  EncodedRow& row = ThreadRow();
  Encode(record, row);
  Session session(*store_);
  PgStore& s = *store_;
  if (!expected_version) {
    Unit(session, false, [&] {
      session->ExecPrepared("dk_upsert", s.upsert_sql, RowParams(id, row),
                            "storing record '" + id + "'");
    });
  } else if (*expected_version == 0) {
    try {
      Insert(s, session, id, row);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kAlreadyExists) throw;
      ThrowVersionConflict(s, session, id, 0);
    }
  } else if (!UpdateRow(s, session, id, row, expected_version)) {
    ThrowVersionConflict(s, session, id, *expected_version);
  }
  return id;
}

// ---- Batches ----

std::vector<std::string> PostgresDatabase::CreateBatch(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  std::unordered_map<std::string_view, std::size_t> seen;
  seen.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) ids.push_back(ResolveOrMakeId(records[i]));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    try {
      CheckStorableId(ids[i]);
    } catch (const Error& e) {
      throw Renamed(e, ItemError("create_batch", i, e) + "; nothing was stored");
    }
    const auto [it, fresh] = seen.emplace(ids[i], i);
    if (!fresh) {
      ThrowPostgres(ErrorCode::kAlreadyExists,
                    "create_batch item " + std::to_string(i) + ": id '" + ids[i] +
                        "' is also item " + std::to_string(it->second) + "'s; nothing was stored");
    }
  }
  if (records.empty()) return ids;
  Session session(*store_);
  PgStore& s = *store_;
  try {
    Unit(session, false, [&] {
      EncodedRow& row = ThreadRow();
      std::size_t next = 0;
      session->CopyIn(
          s.copy_sql,
          [&](std::string& chunk) {
            while (next < records.size() && chunk.size() < kCopyChunk) {
              try {
                Encode(records[next], row);
              } catch (const Error& e) {
                throw Renamed(e, ItemError("create_batch", next, e) + "; nothing was stored");
              }
              AppendCopyLine(chunk, ids[next], row);
              ++next;
            }
            return next < records.size();
          },
          "create_batch");
    });
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists) throw;
    // Which id: the stored one the batch collided with (the COPY was undone).
    PgResult r = session->Exec("SELECT id FROM " + s.table + " WHERE id = ANY($1::text[]) LIMIT 1",
                               {TextArrayLiteral(ids)}, "create_batch");
    if (r.rows() == 0) throw;
    const std::string id(r.Text(0, 0));
    throw Renamed(e, "create_batch item " + std::to_string(seen[id]) + ": a record with id '" + id +
                         "' exists already; nothing was stored");
  }
  return ids;
}

std::vector<std::optional<Record>> PostgresDatabase::ReadBatch(
    const std::vector<std::string>& ids) {
  std::vector<std::optional<Record>> out(ids.size());
  if (ids.empty()) return out;
  Session session(*store_);
  // One SELECT ... = ANY per part, all parts in one pipeline: one round trip, and parts small
  // enough for an index scan each.
  const std::size_t parts = (ids.size() + kIdsPerRead - 1) / kIdsPerRead;
  std::vector<PgResult> results(parts);
  session->EnsurePrepared("dk_read_many", store_->read_many_sql, 1);
  session->Pipeline(
      [&](std::size_t i) {
        if (i >= parts) return false;
        const std::size_t first = i * kIdsPerRead;
        const std::size_t last = std::min(ids.size(), first + kIdsPerRead);
        session->SendPrepared("dk_read_many", {TextArrayLiteral(StorableIds(ids, first, last))});
        return true;
      },
      [&](std::size_t i, PgResult& r) { results[i] = std::move(r); }, "read_batch");
  RowDecoder& decoder = ThreadDecoder();
  for (std::size_t part = 0; part < parts; ++part) {
    const PgResult& r = results[part];
    std::unordered_map<std::string_view, int> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) rows.emplace(r.Text(i, 0), i);
    const std::size_t to = std::min(ids.size(), (part + 1) * kIdsPerRead);
    for (std::size_t i = part * kIdsPerRead; i < to; ++i) {
      const auto it = rows.find(ids[i]);
      if (it == rows.end()) continue;
      Record record;
      decoder.Decode(RowAt(r, it->second), record);
      out[i] = std::move(record);
    }
  }
  return out;
}

std::vector<bool> PostgresDatabase::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  std::vector<bool> out(updates.size(), false);
  if (updates.empty()) return out;
  // Ids PostgreSQL cannot hold are found nowhere: false, without a statement.
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (StorableId(updates[i].first)) sent.push_back(i);
  }
  Session session(*store_);
  PgStore& s = *store_;
  std::size_t failed = 0;  // the position in `sent` of the item that failed
  try {
    Unit(session, true, [&] {
      session->EnsurePrepared("dk_update", s.update_sql, 4);
      EncodedRow& row = ThreadRow();
      session->Pipeline(
          [&](std::size_t k) {
            if (k >= sent.size()) return false;
            failed = k;
            const auto& [id, record] = updates[sent[k]];
            Encode(record, row);
            session->SendPrepared("dk_update", RowParams(id, row));
            return true;
          },
          [&](std::size_t k, PgResult& r) { out[sent[k]] = r.Affected() > 0; }, "update_batch",
          &failed);
    });
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kUnavailable) throw;
    throw Renamed(e, ItemError("update_batch", sent[failed], e) + "; nothing was changed");
  }
  return out;
}

std::vector<bool> PostgresDatabase::DeleteBatch(const std::vector<std::string>& ids) {
  std::vector<bool> out(ids.size(), false);
  if (ids.empty()) return out;
  Session session(*store_);
  const std::string sql =
      "DELETE FROM " + store_->table + " WHERE id = ANY($1::text[]) RETURNING id";
  Unit(session, ids.size() > kIdsPerStatement, [&] {
    for (std::size_t from = 0; from < ids.size(); from += kIdsPerStatement) {
      const std::size_t to = std::min(ids.size(), from + kIdsPerStatement);
      PgResult r =
          session->Exec(sql, {TextArrayLiteral(StorableIds(ids, from, to))}, "delete_batch");
      // Each deleted id is true once, for its first occurrence (as deleting one by one gives).
      std::unordered_set<std::string_view> deleted;
      for (int i = 0; i < r.rows(); ++i) deleted.insert(r.Text(i, 0));
      for (std::size_t i = from; i < to; ++i) out[i] = deleted.erase(ids[i]) > 0;
    }
  });
  return out;
}

// ---- Queries ----

namespace {

struct QueryPlan {
  std::string sql;
  PgParams params;
  std::shared_ptr<const CompiledFilter> residual;  // null when SQL filters exactly
  bool sort_in_core = false;
  std::size_t skip = 0;              // offset applied while reading (when not in SQL)
  std::optional<std::size_t> limit;  // limit applied while reading (when not in SQL)
};

PgStoreFacts Facts(PgStore& s, Session& session) {
  PgResult r = session->ExecPrepared("dk_facts", s.facts_sql, {}, "reading the table's facts");
  return PgStoreFacts{r.Text(0, 0) == "t", r.Text(0, 1) == "t", r.Text(0, 2) == "t"};
}

QueryPlan PlanQuery(PgStore& s, Session& session, const Query& query, bool paging) {
  // Validates the filter (operand shapes, regex syntax) before any SQL runs.
  auto filter = std::make_shared<const CompiledFilter>(query.where());
  QueryPlan plan;
  const bool needs_facts = !query.where().is_true() || !query.sort().empty();
  PgQueryTranslator t(needs_facts ? Facts(s, session) : PgStoreFacts{});
  const SqlCondition where = t.Where(query.where());
  if (!where.exact) plan.residual = std::move(filter);
  const std::optional<std::string> order =
      query.sort().empty() ? std::optional<std::string>("id") : t.OrderBy(query.sort());
  plan.sort_in_core = !order.has_value();
  std::string data = "data";
  const bool exact = where.exact && !plan.sort_in_core;
  if (paging && exact && !query.fields().empty()) {
    // Only the selected top-level fields leave the server (Record::Project then keeps exactly
    // what the names select).
    std::vector<std::string> heads;
    for (const std::string& name : query.fields()) {
      heads.push_back(name);
      if (const std::size_t dot = name.find('.'); dot != std::string::npos) {
        heads.push_back(name.substr(0, dot));
      }
    }
    data =
        "(SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM jsonb_each(data) "
        "e WHERE e.key = ANY(" +
        t.Param(TextArrayLiteral(heads)) + "::text[]))";
  }
  plan.sql = "SELECT id, " + data + ", metadata, version, dkdata_fields FROM " + s.table +
             " WHERE " + where.maybe;
  // When the core sorts, rows still come in the store's order: its sort is stable.
  plan.sql += " ORDER BY " + order.value_or("id");
  if (paging && exact) {
    if (query.limit()) plan.sql += " LIMIT " + t.Param(std::to_string(*query.limit())) + "::bigint";
    if (query.offset() > 0) {
      plan.sql += " OFFSET " + t.Param(std::to_string(query.offset())) + "::bigint";
    }
  } else if (paging) {
    plan.skip = query.offset();
    plan.limit = query.limit();
  }
  plan.params = t.params();
  return plan;
}

// The sort keys of a record, owned, for sorting in the core.
struct SortEntry {
  std::vector<Value> keys;
  std::vector<bool> present;
  Record record;
};

}  // namespace

// Reads a query's rows: all at once (Search), or through a server-side cursor, a batch per
// FETCH (StreamRead), on a connection it holds until exhausted.
class PgCursor final : public RecordCursor {
 public:
  PgCursor(std::shared_ptr<PgStore> store, std::unique_ptr<Session> session, QueryPlan plan,
           Query query, std::size_t batch_size, bool streaming)
      : store_(std::move(store)),
        session_(std::move(session)),
        plan_(std::move(plan)),
        query_(std::move(query)),
        batch_size_(batch_size == 0 ? 1 : batch_size),
        streaming_(streaming),
        skip_(plan_.skip),
        limit_(plan_.limit) {}

  ~PgCursor() override {
    try {
      Finish();
    } catch (...) {  // a destructor cannot report
    }
  }

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    if (plan_.sort_in_core) return NextSorted(batch);
    RowDecoder& decoder = ThreadDecoder();
    while (!done_ && batch.size() < batch_size_) {
      if (limit_ && *limit_ == 0) {
        Finish();
        break;
      }
      if (row_ >= result_.rows() || result_.get() == nullptr) {
        if (!Fetch()) {
          Finish();
          break;
        }
        continue;
      }
      Record record;
      decoder.Decode(RowAt(result_, row_++), record);
      if (plan_.residual && !plan_.residual->Matches(record)) continue;
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

  // The next rows into result_; false when there are none.
  bool Fetch() {
    if (session_ == nullptr) return false;
    session_->CheckStillValid(*store_);
    row_ = 0;
    if (!streaming_) {
      if (fetched_) return false;
      fetched_ = true;
      result_ = (*session_)->Exec(plan_.sql, plan_.params, "searching " + store_->table_raw);
      return result_.rows() > 0;
    }
    if (!fetched_) {
      fetched_ = true;
      if (!session_->in_transaction()) {
        (*session_)->ExecSimple("BEGIN", "opening a cursor");
        own_transaction_ = true;
      }
      name_ = "dkdata_cursor_" + std::to_string(store_->cursors.fetch_add(1));
      (*session_)->Exec("DECLARE " + name_ + " NO SCROLL CURSOR FOR " + plan_.sql, plan_.params,
                        "opening a cursor on " + store_->table_raw);
    }
    result_ = (*session_)->Exec("FETCH FORWARD " + std::to_string(batch_size_) + " FROM " + name_,
                                {}, "reading a cursor on " + store_->table_raw);
    return result_.rows() > 0;
  }

  void Finish() {
    done_ = true;
    if (session_ == nullptr) return;
    std::unique_ptr<Session> session = std::move(session_);
    result_ = PgResult();
    session->CheckStillValid(*store_);
    if (!name_.empty() && !(*session)->broken()) {
      if (own_transaction_) {
        (*session)->ExecSimple("COMMIT", "closing a cursor");  // closes it too
      } else {
        (*session)->ExecSimple("CLOSE " + name_, "closing a cursor");
      }
    }
  }

  // Sorting the core must do (see PgQueryTranslator::OrderBy): the matching records are read,
  // sorted, paged, then handed out batch by batch.
  bool NextSorted(std::vector<Record>& batch) {
    if (!sorted_) SortRows();
    while (next_ < sorted_records_.size() && batch.size() < batch_size_) {
      batch.push_back(Project(std::move(sorted_records_[next_++])));
    }
    return !batch.empty();
  }

  void SortRows() {
    sorted_ = true;
    const std::vector<SortKey>& keys = query_.sort();
    std::vector<SortEntry> entries;
    Value id_scratch;
    RowDecoder& decoder = ThreadDecoder();
    while (Fetch()) {
      for (; row_ < result_.rows(); ++row_) {
        SortEntry& e = entries.emplace_back();
        decoder.Decode(RowAt(result_, row_), e.record);
        if (plan_.residual && !plan_.residual->Matches(e.record)) {
          entries.pop_back();
          continue;
        }
        for (const SortKey& key : keys) {
          const Value* v = QueryValue(e.record, key.field, id_scratch);
          const bool present = v != nullptr && !v->is_null();
          e.keys.push_back(present ? *v : Value());
          e.present.push_back(present);
        }
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
    for (std::size_t i = from; i < to; ++i) sorted_records_.push_back(std::move(entries[i].record));
  }

  std::shared_ptr<PgStore> store_;
  std::unique_ptr<Session> session_;
  QueryPlan plan_;
  Query query_;
  std::size_t batch_size_;
  bool streaming_;
  std::size_t skip_;
  std::optional<std::size_t> limit_;
  PgResult result_;
  int row_ = 0;
  bool fetched_ = false;
  bool done_ = false;
  bool own_transaction_ = false;
  std::string name_;
  bool sorted_ = false;
  std::vector<Record> sorted_records_;
  std::size_t next_ = 0;
};

namespace {

std::unique_ptr<PgCursor> OpenCursor(const std::shared_ptr<PgStore>& store, const Query& query,
                                     std::size_t batch_size, bool streaming) {
  auto session = std::make_unique<Session>(*store);
  QueryPlan plan = PlanQuery(*store, *session, query, true);
  return std::make_unique<PgCursor>(store, std::move(session), std::move(plan), query, batch_size,
                                    streaming);
}

}  // namespace

std::vector<Record> PostgresDatabase::Search(const Query& query) {
  std::unique_ptr<PgCursor> cursor = OpenCursor(store_, query, SIZE_MAX, false);
  std::vector<Record> out;
  cursor->NextBatch(out);
  return out;
}

std::size_t PostgresDatabase::Count(const Expr& expr) {
  Session session(*store_);
  PgStore& s = *store_;
  if (expr.is_true()) {
    PgResult r = session->ExecPrepared("dk_count", s.count_sql, {}, "counting " + s.table_raw);
    return static_cast<std::size_t>(r.Int(0, 0));
  }
  const CompiledFilter filter(expr);  // validates before any SQL runs
  PgQueryTranslator t(Facts(s, session));
  const SqlCondition where = t.Where(expr);
  PgResult counted = session->Exec("SELECT count(*) FROM " + s.table + " WHERE " + where.sure,
                                   t.params(), "counting " + s.table_raw);
  std::size_t count = static_cast<std::size_t>(counted.Int(0, 0));
  if (where.exact) return count;
  // The rows SQL could not decide: the evaluator decides.
  PgResult doubtful =
      session->Exec("SELECT " + std::string(kRowColumns) + " FROM " + s.table + " WHERE (" +
                        where.maybe + ") AND NOT coalesce(" + where.sure + ", false)",
                    t.params(), "counting " + s.table_raw);
  Record record;
  for (int i = 0; i < doubtful.rows(); ++i) {
    ThreadDecoder().Decode(RowAt(doubtful, i), record);
    if (filter.Matches(record)) ++count;
  }
  return count;
}

std::size_t PostgresDatabase::Clear() {
  Session session(*store_);
  PgResult r = session->Exec("DELETE FROM " + store_->table, {}, "clearing " + store_->table_raw);
  return static_cast<std::size_t>(r.Affected());
}

std::unique_ptr<RecordCursor> PostgresDatabase::StreamRead(const Query& query,
                                                           StreamOptions options) {
  return OpenCursor(store_, query, options.batch_size, true);
}

StreamResult PostgresDatabase::StreamWrite(const RecordSource& source, StreamOptions options) {
  PgStore& s = *store_;
  // One statement per batch: rows that collide with a stored id are skipped (create) or replace
  // it (upsert); RETURNING says which were written.
  const std::string insert =
      "INSERT INTO " + s.table +
      " AS r (id, data, metadata, dkdata_fields) SELECT i, d, NULLIF(m, 'null'::jsonb), f FROM "
      "unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::jsonb[]) AS u(i, d, m, f) ON CONFLICT "
      "(id) ";
  const std::string sql =
      insert +
      (options.upsert ? "DO UPDATE SET data = EXCLUDED.data, metadata = "
                        "EXCLUDED.metadata, dkdata_fields = EXCLUDED.dkdata_fields, "
                        "version = r.version + 1, updated_at = CURRENT_TIMESTAMP"
                      : "DO NOTHING") +
      " RETURNING id";
  StreamWriteProgress progress(options);
  std::vector<Record> batch;
  // (The source is read outside any lock: it may call into this database.)
  while (progress.ReadBatch(source, batch)) {
    const std::size_t base = progress.base();
    if (progress.stopped()) {
      progress.Skipped(batch.size());
      continue;
    }
    // Encode: an item that cannot be encoded fails on its own.
    std::vector<std::string> ids, data, metadata, fields;
    std::vector<std::size_t> positions;  // batch positions of the encoded items
    std::optional<std::size_t> encode_failure;
    EncodedRow& row = ThreadRow();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string id = ResolveOrMakeId(batch[i]);
      try {
        CheckStorableId(id);
        Encode(batch[i], row);
      } catch (const Error& e) {
        progress.Fail(base + i, std::move(id), e.what());
        if (progress.stopped()) {
          encode_failure = i;
          break;
        }
        continue;
      }
      ids.push_back(std::move(id));
      data.push_back(row.data);
      metadata.push_back(row.metadata.empty() ? "null" : row.metadata);
      fields.push_back(row.fields);
      positions.push_back(i);
    }
    // Runs items [0, n) of the encoded ones; returns the ids written. ON CONFLICT cannot touch a
    // row twice in one statement: an upsert batch is cut where an id comes again.
    Session session(s);
    auto run = [&](std::size_t n) {
      std::unordered_multiset<std::string> written;
      std::size_t from = 0;
      while (from < n) {
        std::size_t to = from;
        std::unordered_set<std::string_view> in_part;
        while (to < n && (!options.upsert || in_part.insert(ids[to]).second)) ++to;
        auto slice = [&](const std::vector<std::string>& v) {
          return TextArrayLiteral(
              std::vector<std::string>(v.begin() + static_cast<std::ptrdiff_t>(from),
                                       v.begin() + static_cast<std::ptrdiff_t>(to)));
        };
        PgResult r = session->Exec(sql, {slice(ids), slice(data), slice(metadata), slice(fields)},
                                   "stream_write");
        for (int i = 0; i < r.rows(); ++i) written.emplace(r.Text(i, 0));
        from = to;
      }
      return written;
    };
    struct StopAt {
      std::size_t index;
    };
    std::size_t count = ids.size();
    std::optional<std::size_t> collision;  // the encoded item whose id stopped the stream
    std::unordered_multiset<std::string> written;
    for (;;) {
      try {
        written = Unit(session, true, [&] {
          auto w = run(count);
          if (options.stop_on_error && !options.upsert) {
            // Items after the first collision must not stay written: undo, then write fewer.
            std::unordered_multiset<std::string> check = w;
            for (std::size_t k = 0; k < count; ++k) {
              const auto it = check.find(ids[k]);
              if (it == check.end()) throw StopAt{k};
              check.erase(it);
            }
          }
          return w;
        });
        break;
      } catch (const StopAt& stop) {
        count = stop.index;
        collision = stop.index;
        progress.Stop();
      }
    }
    // Per item, in order: written (once per id written) or failed.
    std::size_t k = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (k < positions.size() && positions[k] == i) {
        if (k < count) {
          const auto it = written.find(ids[k]);
          if (it != written.end()) {
            written.erase(it);
            progress.Succeeded();
          } else {
            progress.Fail(base + i, ids[k], "a record with id '" + ids[k] + "' exists already");
          }
        } else if (collision && k == *collision) {
          progress.Fail(base + i, ids[k], "a record with id '" + ids[k] + "' exists already");
        } else {
          progress.Skipped();
        }
        ++k;
      } else if (encode_failure && i > *encode_failure) {
        progress.Skipped();
      }
    }
    if (count < ids.size()) progress.Stop();
  }
  return std::move(progress.result());
}

// ---- Indexes ----

namespace {

std::string_view KindName(IndexKind kind) {
  return kind == IndexKind::kOrdered ? "ordered" : "hash";
}

struct NamedIndex {
  std::string name;
  IndexInfo info;
};

// dkdata's indexes on the table, read from their comments ("dkdata index <kind> <field>").
std::vector<NamedIndex> ListIndexesOf(PgStore& s, Session& session) {
  PgResult r = session->Exec(
      "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_index x JOIN pg_class c ON "
      "c.oid = x.indexrelid WHERE x.indrelid = $1::regclass ORDER BY c.relname",
      {s.table}, "listing the indexes of " + s.table_raw);
  std::vector<NamedIndex> out;
  for (int i = 0; i < r.rows(); ++i) {
    const std::optional<std::string_view> comment = r.MaybeText(i, 1);
    if (!comment || !comment->starts_with(kIndexComment)) continue;
    const std::string_view rest = comment->substr(kIndexComment.size());
    const std::size_t space = rest.find(' ');
    if (space == std::string_view::npos) continue;
    const std::string_view kind = rest.substr(0, space);
    out.push_back(
        NamedIndex{std::string(r.Text(i, 0)),
                   IndexInfo{std::string(rest.substr(space + 1)),
                             kind == "ordered" ? IndexKind::kOrdered : IndexKind::kHash}});
  }
  return out;
}

}  // namespace

void PostgresDatabase::CreateIndex(const IndexInfo& index) {
  if (index.field.empty())
    ThrowPostgres(ErrorCode::kInvalidArgument, "an index needs a field name");
  if (index.field == kIdPath) {
    ThrowPostgres(ErrorCode::kInvalidArgument, "'id' is the record id, which is always indexed");
  }
  const std::optional<std::string> value = PgValueExpression(index.field);
  const std::optional<std::string> text = PgTextExpression(index.field);
  if (!value || !text) {
    ThrowPostgres(ErrorCode::kInvalidArgument,
                  "cannot index field '" + index.field +
                      "': its path has a step PostgreSQL reads as a list position from the end "
                      "('-1') or holds U+0000 (queries on it still work, without an index)");
  }
  Session session(*store_);
  PgStore& s = *store_;
  Unit(session, true, [&] {
    for (const NamedIndex& existing : ListIndexesOf(s, session)) {
      if (existing.info.field != index.field) continue;
      if (existing.info.kind == index.kind) return;
      session->ExecSimple(
          "DROP INDEX " + QuoteIdentifier(s.options.schema) + "." + QuoteIdentifier(existing.name),
          "dropping an index");
    }
    // Names stay within PostgreSQL's 63 bytes whatever the field; the comment says what it is.
    const std::string base = "dkdata_" + Hex16(Fnv1a(s.table_raw + '\n' + index.field)) + "_" +
                             std::string(KindName(index.kind));
    const std::string comment = QuoteLiteral(std::string(kIndexComment) +
                                             std::string(KindName(index.kind)) + " " + index.field);
    auto create = [&](const std::string& name, const std::string& expression) {
      session->ExecSimple("CREATE INDEX " + QuoteIdentifier(name) + " ON " + s.table + " ((" +
                              expression + "));COMMENT ON INDEX " +
                              QuoteIdentifier(s.options.schema) + "." + QuoteIdentifier(name) +
                              " IS " + comment,
                          "creating an index on '" + index.field + "'");
    };
    // The jsonb value serves =, IN, and ranges and order on numbers and booleans; an ordered
    // index adds the text in byte order, for string ranges, LIKE prefixes and starts_with.
    create(base, *value);
    if (index.kind == IndexKind::kOrdered) create(base + "_text", *text + " COLLATE \"C\"");
  });
}

bool PostgresDatabase::DropIndex(std::string_view field) {
  Session session(*store_);
  PgStore& s = *store_;
  return Unit(session, true, [&] {
    bool dropped = false;
    for (const NamedIndex& existing : ListIndexesOf(s, session)) {
      if (existing.info.field != field) continue;
      session->ExecSimple(
          "DROP INDEX " + QuoteIdentifier(s.options.schema) + "." + QuoteIdentifier(existing.name),
          "dropping an index");
      dropped = true;
    }
    return dropped;
  });
}

std::vector<IndexInfo> PostgresDatabase::ListIndexes() const {
  Session session(*store_);
  std::vector<IndexInfo> out;
  for (NamedIndex& index : ListIndexesOf(*store_, session)) {
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const IndexInfo& i) { return i.field == index.info.field; });
    if (!seen) out.push_back(std::move(index.info));  // an ordered index has two parts
  }
  return out;
}

// ---- Transactions ----

namespace {

class PgTransaction final : public Transaction {
 public:
  explicit PgTransaction(std::shared_ptr<PgStore> s) : s_(std::move(s)) {}
  ~PgTransaction() override {
    try {
      Rollback();
    } catch (...) {  // a destructor cannot report; Rollback() can
    }
  }

  void Commit() override {
    if (!active_) ThrowPostgres(ErrorCode::kInvalidArgument, "the transaction has ended already");
    active_ = false;
    std::unique_lock<std::mutex> lock(s_->mutex);
    if (s_->closed) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    try {
      s_->owner_lease->ExecSimple("COMMIT", "committing the transaction");
    } catch (...) {
      End();
      throw;
    }
    End();
  }

  void Rollback() override {
    if (!active_) return;
    active_ = false;
    std::unique_lock<std::mutex> lock(s_->mutex);
    if (s_->closed) return;  // closing rolled it back
    try {
      s_->owner_lease->ExecSimple("ROLLBACK", "rolling back the transaction");
    } catch (...) {
      s_->owner_lease->MarkBroken();
      End();
      throw;
    }
    End();
  }

  bool active() const noexcept override { return active_; }

 private:
  // With the store's mutex held.
  void End() {
    s_->owner.reset();
    s_->owner_lease.Release();  // back to the pool (dropped if still inside a transaction)
    s_->transaction_ended.notify_all();
  }

  std::shared_ptr<PgStore> s_;
  bool active_ = true;
};

}  // namespace

std::unique_ptr<Transaction> PostgresDatabase::BeginTransaction() {
  PgStore& s = *store_;
  {
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.owner && *s.owner == std::this_thread::get_id()) {
      ThrowPostgres(ErrorCode::kInvalidArgument,
                    "this thread has a transaction open on this database already (they do not "
                    "nest)");
    }
  }
  for (;;) {
    PgPool::Lease lease = s.pool->Acquire();
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.closed) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    if (s.owner) {  // another thread's: wait for its end, then try again
      lease.Release();
      if (!s.transaction_ended.wait_for(lock, s.wait(), [&] { return !s.owner || s.closed; })) {
        ThrowPostgres(ErrorCode::kTimeout, "another thread's transaction on table '" + s.table_raw +
                                               "' is still open after " +
                                               std::to_string(s.options.pool_timeout) + " s");
      }
      continue;
    }
    lease->ExecSimple("BEGIN", "beginning a transaction");
    ++s.transactions;
    s.owner = std::this_thread::get_id();
    s.owner_lease = std::move(lease);
    return std::make_unique<PgTransaction>(store_);
  }
}

void PostgresDatabase::Close() {
  PgStore& s = *store_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.closed) return;
  s.closed = true;
  if (s.owner) {
    try {
      s.owner_lease->ExecSimple("ROLLBACK", "rolling back the open transaction");
    } catch (const Error&) {
      s.owner_lease->MarkBroken();
    }
    s.owner.reset();
    s.owner_lease.Release();
  }
  s.transaction_ended.notify_all();
  lock.unlock();
  s.pool->Close();
}

}  // namespace dkdata::internal
