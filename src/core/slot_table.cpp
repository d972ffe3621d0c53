#include "core/slot_table.hpp"

namespace dkdata::internal {

void SlotTable::Insert(std::uint64_t hash, std::uint32_t slot) {
  if ((used_ + 1) * 2 > entries_.size()) Grow(used_ + 1);
  Place(Tag(hash), slot);
}

std::size_t SlotTable::IndexOf(std::uint64_t tag, std::uint32_t slot) const {
  if (entries_.empty()) return 0;
  const std::uint64_t wanted = (tag << 32) | (static_cast<std::uint64_t>(slot) + 1);
  const std::size_t mask = entries_.size() - 1;
  for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
    if (entries_[i] == wanted) return i;
    if (entries_[i] == 0) return entries_.size();
  }
}

bool SlotTable::Replace(std::uint64_t hash, std::uint32_t old_slot, std::uint32_t new_slot) {
  const std::uint64_t tag = Tag(hash);
  const std::size_t i = IndexOf(tag, old_slot);
  if (i == entries_.size()) return false;
  entries_[i] = (tag << 32) | (static_cast<std::uint64_t>(new_slot) + 1);
  return true;
}

bool SlotTable::Erase(std::uint64_t hash, std::uint32_t slot) {
  const std::size_t i = IndexOf(Tag(hash), slot);
  if (i == entries_.size()) return false;
  entries_[i] = kTombstone;
  return true;
}

void SlotTable::Clear() {
  entries_.clear();
  used_ = 0;
}

void SlotTable::Reserve(std::size_t n) {
  if ((used_ + n) * 2 > entries_.size()) Grow(used_ + n);
}

void SlotTable::Place(std::uint64_t tag, std::uint32_t slot) {
  const std::size_t mask = entries_.size() - 1;
  std::size_t i = tag & mask;
  while (entries_[i] != 0 && entries_[i] != kTombstone) i = (i + 1) & mask;
  if (entries_[i] == 0) ++used_;
  entries_[i] = (tag << 32) | (static_cast<std::uint64_t>(slot) + 1);
}

// Tombstones are dropped on the way.
void SlotTable::Grow(std::size_t min_entries) {
  std::size_t capacity = 16;
  while (capacity < min_entries * 2) capacity *= 2;
  std::vector<std::uint64_t> old = std::move(entries_);
  entries_.assign(capacity, 0);
  used_ = 0;
  for (std::uint64_t e : old) {
    if (e != 0 && e != kTombstone) Place(e >> 32, static_cast<std::uint32_t>(e & 0xFFFFFFFF) - 1);
  }
}

}  // namespace dkdata::internal
