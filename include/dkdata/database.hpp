// dkdata/database.hpp: the one database interface every backend implements.
//
// Contracts shared by all backends (tested by tests/conformance/):
// - Create fails with Error(kAlreadyExists) when the id is stored already; it returns the id used
//   (explicit id, else the record's "id" field, else a new UUIDv4). The caller's record is not
//   changed.
// - Read of an absent id returns nullopt; Update/Delete of an absent id return false.
// - Every stored record has a version: 1 after create, +1 on each update or upsert. Update and
// Upsert
//   with expected_version fail with Error(kConflict) when the stored version differs (for Update of
//   an absent id with an expected_version: kConflict too, since the caller expected it to exist).
// - Records read back have their id and version set.
// - Search follows docs/query-semantics.md exactly, whatever the backend runs natively.
//
// Thread-safety: each backend documents its own; the memory backend allows any number of concurrent
// callers (many readers, one writer at a time). A cursor belongs to the thread that uses it, and so
// does a transaction: see Transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/aggregation.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/query.hpp"
#include "dkdata/record.hpp"

namespace dkdata {

// What a backend can do, declared by it and asked by callers and the conformance suite.
struct Capabilities {
  bool persistent = false;          // data outlives the process
  bool transactions = false;        // multi-operation transactions
  bool atomic_batch = false;        // create_batch is all-or-nothing
  bool secondary_indexes = false;   // CreateIndex is supported
  bool native_full_text = false;    // full-text search runs in the backend
  bool vector_search = false;       // nearest-neighbour search runs in the backend
  bool concurrent_readers = false;  // reads may run in parallel with each other
};

// Kinds of secondary index.
enum class IndexKind : std::uint8_t {
  kHash,     // EQ and IN lookups
  kOrdered,  // EQ, IN, ranges, BETWEEN, STARTS_WITH and ORDER BY
};

struct IndexInfo {
  std::string field;  // field name or dotted path
  IndexKind kind = IndexKind::kHash;
};

// Reads records in batches; never holds more than one batch of results at once where the backend
// can stream. Obtained from Database::StreamRead.
class RecordCursor {
 public:
  virtual ~RecordCursor() = default;
  // Fills batch (cleared first) with up to the cursor's batch size; returns false when no record
  // was left to read (batch is then empty).
  virtual bool NextBatch(std::vector<Record>& batch) = 0;
};

struct StreamOptions {
  std::size_t batch_size = 1000;
  // For StreamWrite: stop at the first failure instead of going on.
  bool stop_on_error = false;
  // For StreamWrite: replace records whose id exists (upsert) instead of counting them as failed.
  bool upsert = false;
};

struct StreamError {
  std::size_t index = 0;  // 0-based position of the item in the input
  std::optional<std::string> id;
  std::string message;
};

// What StreamWrite did. processed = succeeded + failed + skipped.
struct StreamResult {
  std::size_t processed = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;          // items not attempted after stop_on_error stopped the stream
  std::vector<StreamError> errors;  // the first 100 failures
};

// Produces the records of a write stream: returns nullopt at the end.
using RecordSource = std::function<std::optional<Record>()>;

// A transaction (capabilities().transactions), begun by Database::BeginTransaction:
//
//   auto txn = db->BeginTransaction();
//   db->Update("a", a);
//   db->Update("b", b);
//   txn->Commit();          // both or, if anything threw before this line, neither
//
// While it is open, every call the beginning thread makes on that database runs inside it (reads
// see its own writes); other threads' calls wait until it ends, or fail with Error(kTimeout) after
// the backend's timeout. It ends with Commit(), Rollback(), or its destruction, which rolls back an
// uncommitted transaction (a destructor cannot report errors: call Rollback() to hear about them).
// One transaction per thread and database at a time; they do not nest. A Transaction is used by
// the thread that began it and must not outlive the Database object (Close() rolls it back).
class Transaction {
 public:
  virtual ~Transaction() = default;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Makes the transaction's writes durable and visible to others. Throws Error(kInvalidArgument)
  // when it has ended already, Error(kUnavailable) when the database was closed, or the backend's
  // Error when the commit fails (the writes are then rolled back).
  virtual void Commit() = 0;
  // Undoes the transaction's writes. Does nothing when it has ended already.
  virtual void Rollback() = 0;
  // True until Commit() or Rollback().
  virtual bool active() const noexcept = 0;

 protected:
  Transaction() = default;
};

class Database {
 public:
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The registry name of the backend ("memory", "file", ...).
  virtual std::string_view backend_name() const noexcept = 0;
  virtual Capabilities capabilities() const noexcept = 0;

  // ---- Single records ----
  virtual std::string Create(const Record& record) = 0;
  virtual std::optional<Record> Read(std::string_view id) = 0;
  // Like Read, but into out, reusing its storage: a loop reading into one Record allocates nothing
  // once out has grown to fit. Returns false, leaving out unchanged, when the id is absent.
  virtual bool ReadInto(std::string_view id, Record& out);
  virtual bool Update(std::string_view id, const Record& record,
                      std::optional<std::uint64_t> expected_version = std::nullopt) = 0;
  virtual bool Delete(std::string_view id) = 0;
  virtual bool Exists(std::string_view id) = 0;
  // Creates or replaces; returns the id. With no id argument the record's own id is used (or made).
  virtual std::string Upsert(std::string_view id, const Record& record,
                             std::optional<std::uint64_t> expected_version = std::nullopt) = 0;
  std::string Upsert(const Record& record);

  // ---- Batches ----
  // All-or-nothing where capabilities().atomic_batch: on any failure nothing is stored and the
  // error names the failing item's index. Otherwise the items before the failure stay stored.
  virtual std::vector<std::string> CreateBatch(const std::vector<Record>& records);
  virtual std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids);
  // Per-item results: false where the id was absent.
  virtual std::vector<bool> UpdateBatch(const std::vector<std::pair<std::string, Record>>& updates);
  virtual std::vector<bool> DeleteBatch(const std::vector<std::string>& ids);

  // ---- Queries ----
  virtual std::vector<Record> Search(const Query& query) = 0;
  // The number of records matching expr (all records for the default, always-true expression).
  virtual std::size_t Count(const Expr& expr = Expr()) = 0;
  std::vector<Record> All() { return Search(Query()); }
  // Removes every record; returns how many there were.
  virtual std::size_t Clear() = 0;

  // ---- Aggregations (dkdata/aggregation.hpp, docs/aggregations.md) ----
  // The aggregations over the records `where` matches, in order. The default runs the core's
  // Aggregator over StreamRead, reading only the aggregated fields; a backend may compute them
  // natively, with the same results. Throws Error(kInvalidArgument) for an invalid list.
  virtual std::vector<AggregationResult> Aggregate(const Expr& where,
                                                   const std::vector<Aggregation>& aggregations);

  // ---- Streaming ----
  virtual std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options = {});
  virtual StreamResult StreamWrite(const RecordSource& source, StreamOptions options = {});

  // ---- Indexes (capabilities().secondary_indexes) ----
  virtual void CreateIndex(const IndexInfo& index);
  virtual bool DropIndex(std::string_view field);
  virtual std::vector<IndexInfo> ListIndexes() const;

  // ---- Transactions (capabilities().transactions) ----
  // Begins a transaction for the calling thread (see Transaction). Throws Error(kUnsupported) when
  // the backend has none, Error(kInvalidArgument) when this thread has one open already.
  virtual std::unique_ptr<Transaction> BeginTransaction() {
    throw Error(ErrorCode::kUnsupported,
                "backend '" + std::string(backend_name()) + "' has no transactions",
                std::string(backend_name()));
  }

  // Releases resources; later calls fail with Error(kUnavailable). Idempotent.
  virtual void Close() = 0;

 protected:
  Database() = default;
};

}  // namespace dkdata
