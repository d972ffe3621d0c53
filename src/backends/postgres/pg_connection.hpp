// src/backends/postgres/pg_connection.hpp: libpq connections for the postgres backend: results,
// one connection (statements, COPY, pipelines), a pool of them, and SQLSTATE-to-ErrorCode mapping.
//
// Thread-safety: a PgConnection is used by one thread at a time (the pool hands each to one
// caller); PgPool may be used from any thread.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

inline constexpr std::string_view kPostgresBackend = "postgres";

// ---- Errors (pg_errors.cpp) ----

// The ErrorCode of a SQLSTATE (see README.md's table).
ErrorCode PostgresErrorCode(std::string_view sqlstate) noexcept;
// Throws an Error of the postgres backend with no native code.
[[noreturn]] void ThrowPostgres(ErrorCode code, std::string message);
// Throws the Error of a failed result (or of a lost connection when there is no result): the
// mapped code, `context`, the server's message and detail; the SQLSTATE as the native code.
[[noreturn]] void ThrowResultError(const PGresult* result, PGconn* conn, std::string_view context);

// ---- Results ----

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult() { PQclear(result_); }
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept {
    if (this != &other) {
      PQclear(result_);
      result_ = std::exchange(other.result_, nullptr);
    }
    return *this;
  }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  PGresult* get() const noexcept { return result_; }
  int rows() const noexcept { return PQntuples(result_); }
  bool IsNull(int row, int column) const noexcept { return PQgetisnull(result_, row, column) != 0; }
  std::string_view Text(int row, int column) const noexcept {
    return std::string_view(PQgetvalue(result_, row, column),
                            static_cast<std::size_t>(PQgetlength(result_, row, column)));
  }
  std::optional<std::string_view> MaybeText(int row, int column) const noexcept {
    if (IsNull(row, column)) return std::nullopt;
    return Text(row, column);
  }
  std::int64_t Int(int row, int column) const;
  // The count of rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t Affected() const;

 private:
  PGresult* result_ = nullptr;
};

// Text parameters of a statement ($1, $2, ...); nullopt is NULL.
using PgParams = std::vector<std::optional<std::string>>;

// ---- A connection ----

// The libpq connection keywords and values (host, port, dbname, user, password, sslmode, ...).
using ConnInfo = std::vector<std::pair<std::string, std::string>>;

class PgConnection {
 public:
  // Connects; throws Error(kUnavailable / kUnauthorized / kNotFound) with libpq's message.
  explicit PgConnection(const ConnInfo& info);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() const noexcept { return conn_; }
  // The connection cannot be used again (lost, or left in a state dkdata did not expect).
  bool broken() const noexcept;
  void MarkBroken() noexcept { broken_ = true; }
  // True when the server closed the connection while it sat idle (a restart): checked without a
  // round trip, by reading what the socket has.
  bool DiedWhileIdle() noexcept;
  // Inside a transaction block (BEGIN without COMMIT yet).
  bool InTransaction() const noexcept;

  // Runs one statement with text parameters; throws the mapped Error naming `context`.
  PgResult Exec(const std::string& sql, const PgParams& params, std::string_view context);
  // The same, through a statement prepared once per connection under `name`.
  PgResult ExecPrepared(const char* name, const std::string& sql, const PgParams& params,
                        std::string_view context);
  // Runs SQL without parameters (may hold several statements).
  void ExecSimple(const std::string& sql, std::string_view context);

  // COPY ... FROM STDIN: `fill` appends the next chunk of COPY text to its argument and returns
  // false at the end. Returns the final result (an error is thrown, the COPY then being undone).
  PgResult CopyIn(const std::string& sql, const std::function<bool(std::string&)>& fill,
                  std::string_view context);

  // Prepares sql as `name` on this connection unless done already.
  void EnsurePrepared(const char* name, const std::string& sql, int params);
  // Runs statements in one pipeline (libpq pipeline mode): `send` is called with i = 0, 1, ...
  // and queues statement i with SendPrepared (prepared before the pipeline), or returns false
  // when there is none left; each result goes to `on_result(i, result)` in order. A failed
  // statement ends the pipeline: its Error is thrown once the pipeline is drained (statements
  // after it did not run), and its index put in *failed_index when given. Meant for use inside a
  // transaction, which the caller ends.
  void Pipeline(const std::function<bool(std::size_t i)>& send,
                const std::function<void(std::size_t i, PgResult& result)>& on_result,
                std::string_view context, std::size_t* failed_index = nullptr);
  // In a pipeline: queues a prepared statement.
  void SendPrepared(const char* name, const PgParams& params);

 private:
  PGconn* conn_ = nullptr;
  bool broken_ = false;
  std::unordered_set<std::string> prepared_;
};

// ---- The pool ----

struct PgPoolOptions {
  ConnInfo info;
  std::size_t min_size = 2;
  std::size_t max_size = 5;
  std::chrono::milliseconds acquire_timeout{30000};
  std::string describe;  // "postgres database 'x' at host:port", for messages
};

class PgPool {
 public:
  // Opens min_size connections (throws when the first cannot be opened).
  explicit PgPool(PgPoolOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A connection checked out of the pool; returned to it on destruction (or dropped when broken).
  class Lease {
   public:
    Lease() = default;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease() { Release(); }
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        Release();
        pool_ = std::exchange(other.pool_, nullptr);
        connection_ = std::move(other.connection_);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    explicit operator bool() const noexcept { return connection_ != nullptr; }
    PgConnection& operator*() const noexcept { return *connection_; }
    PgConnection* operator->() const noexcept { return connection_.get(); }
    void Release() noexcept;

   private:
    PgPool* pool_ = nullptr;
    std::unique_ptr<PgConnection> connection_;
  };

  // Checks a connection out: an idle one that is still alive, else a new one while fewer than
  // max_size are open, else waits for one to come back (Error(kTimeout) after acquire_timeout).
  // Throws Error(kUnavailable) once closed, or when no connection can be opened.
  Lease Acquire();
  // Closes the idle connections; connections out on lease are closed as they come back.
  void Close() noexcept;

  const PgPoolOptions& options() const noexcept { return options_; }

 private:
  void Return(std::unique_ptr<PgConnection> connection) noexcept;

  PgPoolOptions options_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased + being opened
  bool closed_ = false;
};

// Appends a field of COPY's text format: \ tab newline CR escaped.
void AppendCopyField(std::string& out, std::string_view text);
// A text[] literal ({"a","b"}) of the strings, for a parameter such as `id = ANY($1::text[])`.
std::string TextArrayLiteral(const std::vector<std::string>& items);

}  // namespace dkdata::internal
