// src/core/slot_table.hpp: the id index of the storage engines: an open-addressing hash table
// from a key's 64-bit hash to a 32-bit slot (a row, a log line). Keys themselves stay where the
// engine keeps them: a lookup asks the caller to confirm each candidate slot whose hash matches.
//
// An entry is 8 bytes (32 bits of the hash, the slot + 1), the table at most half full, so a
// missing key costs about two probes, usually in one cache line. Growing needs no keys: the
// stored 32 bits are the position hash.
//
// Thread-safety: none; the owner serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dkdata::internal {

class SlotTable {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;

  // Calls is_slot(slot) for each entry whose hash matches until it returns true; returns that
  // slot, or kNone.
  template <typename IsSlot>
  std::uint32_t Find(std::uint64_t hash, IsSlot&& is_slot) const {
    if (entries_.empty()) return kNone;
    const std::uint64_t tag = Tag(hash);
    const std::size_t mask = entries_.size() - 1;
    for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
      const std::uint64_t e = entries_[i];
      if (e == 0) return kNone;
      if (e != kTombstone && (e >> 32) == tag) {
        const auto slot = static_cast<std::uint32_t>((e & 0xFFFFFFFF) - 1);
        if (is_slot(slot)) return slot;
      }
    }
  }

  void Insert(std::uint64_t hash, std::uint32_t slot);
  // Points the entry of (hash, old_slot) at new_slot; false when there is none.
  bool Replace(std::uint64_t hash, std::uint32_t old_slot, std::uint32_t new_slot);
  // Removes the entry of (hash, slot); false when there is none.
  bool Erase(std::uint64_t hash, std::uint32_t slot);
  // Starts loading the memory a lookup of hash reads first (for lookups made a little later).
  void Prefetch(std::uint64_t hash) const noexcept {
    if (entries_.empty()) return;
    const std::uint64_t* entry = &entries_[Tag(hash) & (entries_.size() - 1)];
#if defined(__x86_64__)
    // GCC 12 drops __builtin_prefetch on a member's vector as dead code (-ftree-dce).
    asm volatile("prefetcht0 %0" : : "m"(*entry));
#else
    __builtin_prefetch(entry);
#endif
  }
  void Clear();
  // Makes room for n more entries.
  void Reserve(std::size_t n);

 private:
  static constexpr std::uint64_t kTombstone = ~std::uint64_t{0};
  static std::uint64_t Tag(std::uint64_t hash) noexcept {
    return hash & 0xFFFFFFFF;
  }
  // The index of the entry of (tag, slot), or entries_.size().
  std::size_t IndexOf(std::uint64_t tag, std::uint32_t slot) const;
  void Place(std::uint64_t tag, std::uint32_t slot);
  void Grow(std::size_t min_entries);

  std::vector<std::uint64_t> entries_;  // 0 = empty, kTombstone = removed
  std::size_t used_ = 0;                // live entries + tombstones
};

}  // namespace dkdata::internal
