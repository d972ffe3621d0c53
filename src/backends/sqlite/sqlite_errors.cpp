// SQLite result codes to dkdata errors. The Error keeps the extended code's name (for example
// "SQLITE_CONSTRAINT_PRIMARYKEY") as its native code, and SQLite's own message in its text.
#include <string>

#include "backends/sqlite/sqlite_database.hpp"

namespace dkdata::internal {

ErrorCode SqliteErrorCode(int extended_code) noexcept {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return ErrorCode::kAlreadyExists;
    default:
      break;
  }
  switch (extended_code & 0xFF) {
    case SQLITE_BUSY:  // the busy timeout ran out while another connection held the lock
      return ErrorCode::kTimeout;
    case SQLITE_INTERRUPT:
      return ErrorCode::kTimeout;
    case SQLITE_LOCKED:  // a table this connection is reading cannot change now: retry later
      return ErrorCode::kUnavailable;
    case SQLITE_NOMEM:
      return ErrorCode::kUnavailable;
    case SQLITE_CONSTRAINT:  // NOT NULL, CHECK (json_valid): the row was refused, as in the
                             // reference
      return ErrorCode::kValidation;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return ErrorCode::kUnauthorized;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return ErrorCode::kIo;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return ErrorCode::kInvalidArgument;
    default:  // SQLITE_ERROR (SQL that dkdata got wrong), SQLITE_MISUSE, SQLITE_INTERNAL, ...
      return ErrorCode::kInternal;
  }
}

std::string SqliteCodeName(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return "SQLITE_CONSTRAINT_PRIMARYKEY";
    case SQLITE_CONSTRAINT_UNIQUE:
      return "SQLITE_CONSTRAINT_UNIQUE";
    case SQLITE_CONSTRAINT_CHECK:
      return "SQLITE_CONSTRAINT_CHECK";
    case SQLITE_CONSTRAINT_NOTNULL:
      return "SQLITE_CONSTRAINT_NOTNULL";
    case SQLITE_BUSY_SNAPSHOT:
      return "SQLITE_BUSY_SNAPSHOT";
    case SQLITE_BUSY_RECOVERY:
      return "SQLITE_BUSY_RECOVERY";
    case SQLITE_READONLY_DBMOVED:
      return "SQLITE_READONLY_DBMOVED";
    case SQLITE_CANTOPEN_ISDIR:
      return "SQLITE_CANTOPEN_ISDIR";
    default:
      break;
  }
  static const char* const kPrimary[] = {
      "SQLITE_OK",       "SQLITE_ERROR",     "SQLITE_INTERNAL", "SQLITE_PERM",
      "SQLITE_ABORT",    "SQLITE_BUSY",      "SQLITE_LOCKED",   "SQLITE_NOMEM",
      "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR",    "SQLITE_CORRUPT",
      "SQLITE_NOTFOUND", "SQLITE_FULL",      "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
      "SQLITE_EMPTY",    "SQLITE_SCHEMA",    "SQLITE_TOOBIG",   "SQLITE_CONSTRAINT",
      "SQLITE_MISMATCH", "SQLITE_MISUSE",    "SQLITE_NOLFS",    "SQLITE_AUTH",
      "SQLITE_FORMAT",   "SQLITE_RANGE",     "SQLITE_NOTADB"};
  const int primary = extended_code & 0xFF;
  std::string name = primary >= 0 && primary < static_cast<int>(std::size(kPrimary))
                         ? kPrimary[primary]
                         : "SQLITE_" + std::to_string(primary);
  if (extended_code != primary) name += " (" + std::to_string(extended_code) + ")";
  return name;
}

void ThrowSqliteError(sqlite3* db, int rc, std::string_view context) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  // sqlite3_extended_errcode describes the last call on the connection; use it when it agrees.
  const int code = (extended & 0xFF) == (rc & 0xFF) ? extended : rc;
  std::string message(context);
  message += ": ";
  message +=
      db != nullptr && (extended & 0xFF) == (rc & 0xFF) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error(SqliteErrorCode(code), std::move(message), std::string(kSqliteBackend),
              SqliteCodeName(code));
}

void ThrowSqlite(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), std::string(kSqliteBackend));
}

}  // namespace dkdata::internal
