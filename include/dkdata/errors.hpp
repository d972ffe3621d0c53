// dkdata/errors.hpp: the one exception type of the public API.
//
// Every failure that crosses the public API is a dkdata::Error carrying a code (what kind of
// failure), the backend that raised it ("memory", "sqlite", ... or "" for the core) and, when there
// is one, the native detail (SQLSTATE, HTTP status, errno). Lookups that may miss return
// std::optional instead of throwing; hot loops never throw for control flow.
//
// Thread-safety: Error is an immutable value; copies may be used from any thread.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dkdata {

enum class ErrorCode {
  kNotFound,       // the id or object does not exist (only where absence is an error: update, ...)
  kAlreadyExists,  // create with an id that is stored already
  kConflict,       // expected_version did not match the stored version
  kInvalidArgument,  // bad input: malformed query text, unknown operator, bad option, bad JSON
  kValidation,       // a record failed schema validation
  kUnavailable,      // a server or resource cannot be reached (may succeed if retried)
  kIo,               // a file-system or stream failure
  kTimeout,          // an operation ran out of time
  kUnauthorized,     // credentials were refused
  kUnsupported,      // the backend does not offer this capability
  kInternal,         // a bug in dkdata or a backend: please report it
};

// The stable lower-case name of a code ("not_found", "already_exists", ...).
std::string_view ErrorCodeName(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string backend = {},
        std::string native_code = {});

  ErrorCode code() const noexcept { return code_; }
  // The backend that raised the error, or "" for the core.
  const std::string& backend() const noexcept { return backend_; }
  // The backend's own code (SQLSTATE, HTTP status, errno), or "" when there is none.
  const std::string& native_code() const noexcept { return native_code_; }

 private:
  ErrorCode code_;
  std::string backend_;
  std::string native_code_;
};

}  // namespace dkdata
