// libpq connections, the pool, and COPY/pipeline helpers (pg_connection.hpp).
#include "backends/postgres/pg_connection.hpp"

#include <poll.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace dkdata::internal {

namespace {

// Statements per pipeline sync: small enough that neither side's socket buffer fills with
// results the other has not read yet.
constexpr std::size_t kPipelineWindow = 256;

// Every parameter is sent as text and declared text (so that one the SQL does not use is no
// error); the SQL casts where it needs another type ($1::jsonb).
constexpr Oid kTextOid = 25;

struct ParamArrays {
  std::vector<const char*> values;
  std::vector<Oid> types;
  explicit ParamArrays(const PgParams& params) : types(params.size(), kTextOid) {
    values.reserve(params.size());
    for (const auto& p : params) {
      // libpq takes text parameters as C strings: one holding U+0000 would be cut short there and
      // mean another value. Callers keep such values out; this is the last guard.
      if (p && p->find('\0') != std::string::npos) {
        ThrowPostgres(ErrorCode::kInvalidArgument,
                      "a value holding U+0000 cannot be sent to PostgreSQL as text");
      }
      values.push_back(p ? p->c_str() : nullptr);
    }
  }
  int size() const { return static_cast<int>(values.size()); }
  const char* const* data() const { return values.empty() ? nullptr : values.data(); }
  const Oid* type_data() const { return types.empty() ? nullptr : types.data(); }
};

bool Ok(const PGresult* r) {
  const ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

std::string Trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// ---- PgResult ----

std::int64_t PgResult::Int(int row, int column) const {
  const std::string_view text = Text(row, column);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    ThrowPostgres(ErrorCode::kInternal,
                  "expected an integer from the server, got '" + std::string(text) + "'");
  }
  return value;
}

std::uint64_t PgResult::Affected() const {
  const char* text = PQcmdTuples(result_);
  std::uint64_t value = 0;
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

// ---- PgConnection ----

PgConnection::PgConnection(const ConnInfo& info) {
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : info) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr) ThrowPostgres(ErrorCode::kUnavailable, "libpq could not allocate");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = Trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    // libpq gives no SQLSTATE for a refused connection: the server's message says why.
    ErrorCode code = ErrorCode::kUnavailable;
    const auto says = [&message](const char* text) {
      return message.find(text) != std::string::npos;
    };
    if (says("database \"") && says("does not exist")) {
      code = ErrorCode::kNotFound;  // 3D000: ensure_database may create it
    } else if (says("password authentication failed") || says("no password supplied") ||
               says("no pg_hba.conf entry") || (says("role \"") && says("does not exist")) ||
               says("permission denied")) {
      code = ErrorCode::kUnauthorized;  // 28P01, 28000, 42501
    }
    ThrowPostgres(code, "cannot connect: " + message);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::broken() const noexcept {
  return broken_ || conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
}

bool PgConnection::DiedWhileIdle() noexcept {
  if (broken()) return true;
  const int fd = PQsocket(conn_);
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  // dkdata never LISTENs, so an idle connection has nothing to read unless the server ended it
  // (a shutdown or restart sends a FATAL message and closes).
  if (poll(&p, 1, 0) == 0) return false;
  broken_ = true;
  return true;
}

bool PgConnection::InTransaction() const noexcept {
  return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

PgResult PgConnection::Exec(const std::string& sql, const PgParams& params,
                            std::string_view context) {
  const ParamArrays p(params);
  PgResult r(
      PQexecParams(conn_, sql.c_str(), p.size(), p.type_data(), p.data(), nullptr, nullptr, 0));
  if (r.get() == nullptr || !Ok(r.get())) {
    if (broken()) broken_ = true;
    ThrowResultError(r.get(), conn_, context);
  }
  return r;
}

void PgConnection::EnsurePrepared(const char* name, const std::string& sql, int params) {
  if (prepared_.contains(name)) return;
  const std::vector<Oid> types(static_cast<std::size_t>(params), kTextOid);
  PgResult r(PQprepare(conn_, name, sql.c_str(), params, types.empty() ? nullptr : types.data()));
  if (r.get() == nullptr || !Ok(r.get())) {
    if (broken()) broken_ = true;
    ThrowResultError(r.get(), conn_, "preparing a statement");
  }
  prepared_.insert(name);
}

PgResult PgConnection::ExecPrepared(const char* name, const std::string& sql,
                                    const PgParams& params, std::string_view context) {
  const ParamArrays p(params);
  EnsurePrepared(name, sql, p.size());
  PgResult r(PQexecPrepared(conn_, name, p.size(), p.data(), nullptr, nullptr, 0));
  if (r.get() == nullptr || !Ok(r.get())) {
    if (broken()) broken_ = true;
    ThrowResultError(r.get(), conn_, context);
  }
  return r;
}

void PgConnection::ExecSimple(const std::string& sql, std::string_view context) {
  PGresult* last = nullptr;
  if (PQsendQuery(conn_, sql.c_str()) != 1) {
    broken_ = broken_ || broken();
    ThrowResultError(nullptr, conn_, context);
  }
  // Several statements give several results: the first error is the one to report.
  PgResult failed;
  while ((last = PQgetResult(conn_)) != nullptr) {
    if (!Ok(last) && failed.get() == nullptr) {
      failed = PgResult(last);
    } else {
      PQclear(last);
    }
  }
  if (failed.get() != nullptr) {
    if (broken()) broken_ = true;
    ThrowResultError(failed.get(), conn_, context);
  }
  if (broken()) {
    broken_ = true;
    ThrowResultError(nullptr, conn_, context);
  }
}

PgResult PgConnection::CopyIn(const std::string& sql, const std::function<bool(std::string&)>& fill,
                              std::string_view context) {
  {
    PgResult start(PQexec(conn_, sql.c_str()));
    if (start.get() == nullptr || PQresultStatus(start.get()) != PGRES_COPY_IN) {
      if (broken()) broken_ = true;
      ThrowResultError(start.get(), conn_, context);
    }
  }
  auto drain = [this] {
    PgResult last;
    while (PGresult* r = PQgetResult(conn_)) {
      if (last.get() == nullptr || !Ok(r)) {
        last = PgResult(r);
      } else {
        PQclear(r);
      }
    }
    return last;
  };
  std::string chunk;
  bool more = true;
  try {
    while (more) {
      chunk.clear();
      more = fill(chunk);
      if (!chunk.empty() &&
          PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
        break;  // the connection failed: the result below says how
      }
    }
  } catch (...) {
    // Abandoning the COPY makes the server undo it.
    PQputCopyEnd(conn_, "dkdata abandoned the batch");
    drain();
    throw;
  }
  if (more || PQputCopyEnd(conn_, nullptr) != 1) {
    broken_ = true;
    PgResult last = drain();
    ThrowResultError(last.get(), conn_, context);
  }
  PgResult last = drain();
  if (last.get() == nullptr || !Ok(last.get())) {
    if (broken()) broken_ = true;
    ThrowResultError(last.get(), conn_, context);
  }
  return last;
}

void PgConnection::SendPrepared(const char* name, const PgParams& params) {
  const ParamArrays p(params);
  if (PQsendQueryPrepared(conn_, name, p.size(), p.data(), nullptr, nullptr, 0) != 1) {
    broken_ = true;
    ThrowResultError(nullptr, conn_, "queueing a statement");
  }
}

void PgConnection::Pipeline(const std::function<bool(std::size_t)>& send,
                            const std::function<void(std::size_t, PgResult&)>& on_result,
                            std::string_view context, std::size_t* failed_index) {
  if (PQenterPipelineMode(conn_) != 1) {
    broken_ = broken_ || broken();
    ThrowResultError(nullptr, conn_, context);
  }
  std::optional<Error> failure;
  std::exception_ptr send_failure;
  std::size_t next = 0;
  bool more = true;
  auto lost = [&](const PGresult* r) {
    broken_ = true;
    ThrowResultError(r, conn_, context);
  };
  while (more && !failure && !send_failure) {
    const std::size_t first = next;
    try {
      while (next - first < kPipelineWindow && (more = send(next))) ++next;
    } catch (const Error&) {
      if (broken()) throw;
      send_failure = std::current_exception();  // an item that could not be sent: stop here
    }
    if (PQpipelineSync(conn_) != 1) lost(nullptr);
    for (std::size_t i = first; i < next; ++i) {
      PgResult r(PQgetResult(conn_));
      if (r.get() == nullptr) lost(nullptr);
      const ExecStatusType status = PQresultStatus(r.get());
      if (status == PGRES_FATAL_ERROR) {
        if (!failure) {
          try {
            ThrowResultError(r.get(), conn_, context);
          } catch (const Error& e) {
            failure = e;
            if (failed_index != nullptr) *failed_index = i;
          }
        }
      } else if (status != PGRES_PIPELINE_ABORTED && !failure) {
        on_result(i, r);
      }
      while (PGresult* end = PQgetResult(conn_)) PQclear(end);  // the NULL after each statement
    }
    PgResult sync(PQgetResult(conn_));
    if (sync.get() == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
      lost(sync.get());
    }
  }
  PQexitPipelineMode(conn_);
  if (send_failure) std::rethrow_exception(send_failure);
  if (failure) throw *failure;
}

// ---- PgPool ----

PgPool::PgPool(PgPoolOptions options) : options_(std::move(options)) {
  if (options_.max_size == 0) options_.max_size = 1;
  options_.min_size = std::min(options_.min_size, options_.max_size);
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.min_size, 1); ++i) {
    idle_.push_back(std::make_unique<PgConnection>(options_.info));
    ++open_;
  }
}

PgPool::~PgPool() {
  Close();
}

void PgPool::Lease::Release() noexcept {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Return(std::move(connection_));
  pool_ = nullptr;
  connection_.reset();
}

PgPool::Lease PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (closed_) ThrowPostgres(ErrorCode::kUnavailable, "the postgres database is closed");
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->DiedWhileIdle()) {  // e.g. the server restarted: open another
        --open_;
        continue;
      }
      return Lease(this, std::move(c));
    }
    if (open_ < options_.max_size) {
      ++open_;
      lock.unlock();
      try {
        return Lease(this, std::make_unique<PgConnection>(options_.info));
      } catch (...) {
        lock.lock();
        --open_;
        returned_.notify_one();
        try {
          throw;
        } catch (const Error& e) {
          // Say which server: the pool's description (never the password).
          throw Error(e.code(), options_.describe + ": " + e.what(), e.backend(), e.native_code());
        }
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_size) {
      ThrowPostgres(ErrorCode::kTimeout,
                    "every connection of the pool (max_pool_size " +
                        std::to_string(options_.max_size) + ") stayed in use for " +
                        std::to_string(options_.acquire_timeout.count() / 1000.0) +
                        " s (pool_timeout); raise max_pool_size or end long-running cursors");
    }
  }
}

void PgPool::Return(std::unique_ptr<PgConnection> connection) noexcept {
  // A connection left inside a transaction (or broken) is not handed out again.
  const bool keep = !connection->broken() && !connection->InTransaction();
  std::unique_ptr<PgConnection> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (keep && !closed_) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
      dropped = std::move(connection);
    }
  }
  returned_.notify_one();
}

void PgPool::Close() noexcept {
  std::vector<std::unique_ptr<PgConnection>> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    open_ -= idle_.size();
    idle.swap(idle_);
  }
  returned_.notify_all();
}

// ---- Text formats ----

void AppendCopyField(std::string& out, std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* escape = c == '\\'   ? "\\\\"
                         : c == '\t' ? "\\t"
                         : c == '\n' ? "\\n"
                         : c == '\r' ? "\\r"
                                     : nullptr;
    if (escape == nullptr) continue;
    out.append(text.data() + start, i - start);
    out += escape;
    start = i + 1;
  }
  out.append(text.data() + start, text.size() - start);
}

std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace dkdata::internal
