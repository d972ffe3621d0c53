// src/backends/option_reader.hpp: how every backend reads its options, so that all of them give
// the same messages for an unknown key ("unknown option 'pathh' for backend 'file' (did you mean
// 'path'? it takes: path, format, ...)") and for a value of the wrong type ("option 'timeout' of
// backend 'sqlite' must be a number (got the string 'soon')").
//
// A backend lists its keys once, in a constant its parser reads through an OptionReader and its
// registry entry publishes (BackendInfo::option_keys), so the two cannot drift apart; a test
// checks its README's table against the same list.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

// A bad option. key() names it ("" when the problem is not one key's), so that `config check`
// can point at the key's line.
class OptionError : public Error {
 public:
  OptionError(ErrorCode code, std::string message, std::string backend, std::string key)
      : Error(code, std::move(message), std::move(backend)), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

// The reference's keys that every backend takes (dataknobs_data/backends/config.py): `schema`
// (a map, or null), `vector_enabled` (bool) and `vector_metric` (string). dkdata accepts them so
// that a reference config means the same; they change nothing yet.
inline constexpr std::string_view kReferenceSharedKeys[] = {"schema", "vector_enabled",
                                                            "vector_metric"};

// Reads the options of one backend. Every method throws OptionError (kInvalidArgument) naming the
// key and the backend. Holds views: backend and keys must outlive it (constants do).
class OptionReader {
 public:
  constexpr OptionReader(std::string_view backend, std::span<const std::string_view> keys)
      : backend_(backend), keys_(keys) {}

  // The keys, in order, as BackendInfo::option_keys publishes them.
  std::vector<std::string> Keys() const;

  // The unknown-key error, with the closest key and the list of keys.
  [[noreturn]] void Unknown(std::string_view key) const;
  // "option 'key' of backend 'name' " + what.
  [[noreturn]] void Fail(std::string_view key, std::string_view what,
                         ErrorCode code = ErrorCode::kInvalidArgument) const;
  // "option 'key' of backend 'name' must be <expected> (got ...)".
  [[noreturn]] void WrongType(std::string_view key, std::string_view expected,
                              const Value& got) const;

  // A string.
  std::string String(std::string_view key, const Value& value) const;
  // A bool, or a string or number spelling one: true/1/yes/on, false/0/no/off/"" (any case; URL
  // options are strings).
  bool Bool(std::string_view key, const Value& value) const;
  // A number, or a string holding one.
  double Number(std::string_view key, const Value& value) const;
  // A whole number from min to max, or a string holding one.
  long long WholeNumber(std::string_view key, const Value& value, long long min,
                        long long max) const;
  // A duration given in seconds (> 0 and at most 1000000), in milliseconds (at least 1).
  std::chrono::milliseconds Seconds(std::string_view key, const Value& value) const;
  // The path of a file the backend reads later (a CA bundle, a certificate), checked to be a
  // readable file now, so that a wrong path is an option error rather than a failure at the first
  // request; "" stays "" (none).
  std::string ReadableFile(std::string_view key, const Value& value) const;
  // Checks the type of one of kReferenceSharedKeys and returns true; false for any other key.
  bool ReferenceSharedKey(std::string_view key, const Value& value) const;

 private:
  std::string_view backend_;
  std::span<const std::string_view> keys_;
};

}  // namespace dkdata::internal
