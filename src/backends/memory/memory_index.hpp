// src/backends/memory/memory_index.hpp: secondary indexes of the memory backend.
//
// An index maps the value at one field path to the row slots holding it. Hash indexes answer EQ and
// IN; ordered indexes (sorted by dkdata::SortCompare order, then slot) also answer ranges, BETWEEN
// and STARTS_WITH. Only scalar values (bool, number, string, bytes) are indexed: lists, objects,
// vectors, timestamps and absent values are not, and the planner never asks an index about them
// (see IndexableOperand), so an index answer is always exactly the set of rows a scan would find.
//
// Thread-safety: none of its own; the store's lock guards it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "dkdata/database.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

// Whether an operand may be looked up in an index: a scalar that is not a timestamp and not a
// string that reads as an ISO-8601 date (those compare with timestamps, which indexes do not hold).
bool IndexableOperand(const Value& operand);

class SecondaryIndex {
 public:
  SecondaryIndex(std::string path, IndexKind kind) : path_(std::move(path)), kind_(kind) {}

  const std::string& path() const noexcept { return path_; }
  IndexKind kind() const noexcept { return kind_; }

  // value may be nullptr (absent): then nothing is indexed.
  void Add(const Value* value, std::uint32_t slot);
  void Remove(const Value* value, std::uint32_t slot);
  void Clear();

  // Slots whose value equals operand (unsorted).
  void Equal(const Value& operand, std::vector<std::uint32_t>& out) const;
  // Ordered indexes only: slots with a value comparable to and within the bounds.
  void Range(const Value* low, bool low_inclusive, const Value* high, bool high_inclusive,
             std::vector<std::uint32_t>& out) const;
  void Prefix(const std::string& prefix, std::vector<std::uint32_t>& out) const;

 private:
  struct ValueHash {
    std::size_t operator()(const Value& v) const noexcept;
  };
  struct ValueEqual {
    bool operator()(const Value& a, const Value& b) const noexcept;
  };
  struct SortLess {
    bool operator()(const Value& a, const Value& b) const noexcept;
  };

  // Integral floats become ints so that 1 and 1.0 share a key.
  static std::optional<Value> Key(const Value* value);

  std::string path_;
  IndexKind kind_;
  std::unordered_map<Value, std::vector<std::uint32_t>, ValueHash, ValueEqual> hash_;
  std::map<Value, std::vector<std::uint32_t>, SortLess> ordered_;
};

}  // namespace dkdata::internal
