// SQLSTATE to dkdata::ErrorCode (README.md's table), and the errors of failed results.
#include <string>

#include "backends/postgres/pg_connection.hpp"

namespace dkdata::internal {

ErrorCode PostgresErrorCode(std::string_view sqlstate) noexcept {
  if (sqlstate == "23505") return ErrorCode::kAlreadyExists;
  if (sqlstate == "23502" || sqlstate == "23514" || sqlstate == "23503" || sqlstate == "23P01") {
    return ErrorCode::kValidation;
  }
  if (sqlstate == "40001" || sqlstate == "40P01") return ErrorCode::kConflict;
  if (sqlstate == "57014" || sqlstate == "55P03" || sqlstate == "25P03") return ErrorCode::kTimeout;
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300" ||
      sqlstate.starts_with("08")) {
    return ErrorCode::kUnavailable;
  }
  if (sqlstate == "28000" || sqlstate == "28P01" || sqlstate == "42501") {
    return ErrorCode::kUnauthorized;
  }
  if (sqlstate == "3D000" || sqlstate == "42P01" || sqlstate == "3F000") {
    return ErrorCode::kNotFound;
  }
  if (sqlstate == "0A000") return ErrorCode::kUnsupported;
  if (sqlstate.starts_with("22")) return ErrorCode::kInvalidArgument;
  if (sqlstate.starts_with("53") || sqlstate.starts_with("58")) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

void ThrowPostgres(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), std::string(kPostgresBackend));
}

void ThrowResultError(const PGresult* result, PGconn* conn, std::string_view context) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message(context);
  if (state == nullptr) {
    // No SQLSTATE: libpq's own failure, normally a lost connection.
    std::string text = conn != nullptr ? PQerrorMessage(conn) : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    const bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
    message += lost ? ": lost the connection to the server" : ": libpq failed";
    if (!text.empty()) message += " (" + text + ")";
    throw Error(lost ? ErrorCode::kUnavailable : ErrorCode::kInternal, std::move(message),
                std::string(kPostgresBackend));
  }
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  message += ": ";
  message += primary != nullptr ? primary : "error";
  if (detail != nullptr) {
    message += " (";
    message += detail;
    message += ')';
  }
  throw Error(PostgresErrorCode(state), std::move(message), std::string(kPostgresBackend), state);
}

}  // namespace dkdata::internal
