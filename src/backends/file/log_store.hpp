// src/backends/file/log_store.hpp: the engine of uncompressed JSONL stores, where the file is the
// record log (record_log.hpp). See file_database.hpp for the contract.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/file/file_store.hpp"

namespace dkdata::internal {

// Maps record ids to record-line ordinals by the ids' 64-bit hashes (open addressing). Ids
// themselves stay in the file: a caller confirms a candidate by reading its line.
class LogIndex {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;
  static std::uint64_t Hash(std::string_view id) noexcept;

  // Calls confirm(ordinal) for each entry with id's hash until it returns true; returns that
  // ordinal, or kNone.
  template <typename Confirm>
  std::uint32_t Find(std::uint64_t hash, Confirm&& confirm) const;
  void Insert(std::uint64_t hash, std::uint32_t ordinal);
  // Points the entry holding old_ordinal at new_ordinal.
  void Replace(std::uint64_t hash, std::uint32_t old_ordinal, std::uint32_t new_ordinal);
  void Erase(std::uint64_t hash, std::uint32_t ordinal);
  void Clear();

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint32_t ordinal_plus_one = 0;  // 0 = empty
    bool tombstone = false;
  };
  std::size_t SlotOf(std::uint64_t hash, std::uint32_t ordinal) const;
  void Grow();

  std::vector<Entry> entries_;
  std::size_t used_ = 0;  // live entries and tombstones
};

class LogStore final : public FileStore {
 public:
  explicit LogStore(FileOptions options);
  ~LogStore() override;

  Capabilities capabilities() const noexcept override;

  std::optional<Record> Read(std::string_view id) override;
  std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids) override;
  std::vector<Record> Search(const Query& query) override;
  std::size_t Count(const Expr& expr) override;
  std::size_t Clear() override;
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;

 private:
  friend class LogCursor;

  void SyncWithFile(bool exclusive) override;
  std::uint64_t VersionOf(std::string_view id) override;
  void Append(LogWrite& write) override;
  void SyncNow() override;
  void OnClose() override;

  void Reload();
  void ScanFrom(std::uint64_t offset);
  void ApplyLine(const LogLineInfo& info, std::uint64_t offset, std::uint64_t length,
                 std::uint64_t line_number);
  // The ordinal of id's live record line, or LogIndex::kNone; line receives its text when found.
  std::uint32_t Locate(std::string_view id, std::string* line);
  std::uint32_t Locate(std::string_view id, std::uint64_t hash, std::string* line);
  std::string ReadLine(std::uint32_t ordinal);
  Record DecodeRecord(std::uint32_t ordinal, std::string_view text) const;
  void MaybeCompact();
  void Compact();

  // Calls visit(ordinal, text) for each live record line in file order until it returns false.
  template <typename Visit>
  void ForEachLive(Visit&& visit);

  UniqueFd fd_;
  FileIdentity file_;        // the file as last synced with (size = bytes looked at)
  std::uint64_t end_ = 0;    // offset past the last line that counts
  std::uint64_t lines_ = 0;  // line number of the last line that counts
  bool missing_final_newline_ = false;
  bool torn_reported_ = false;

  // Per record line, by ordinal (file order).
  std::vector<std::uint64_t> offsets_;
  std::vector<std::uint32_t> lengths_;
  std::vector<std::uint64_t> versions_;
  std::vector<bool> live_;
  std::unordered_map<std::uint32_t, std::string> line_number_ids_;  // lines without an id
  LogIndex index_;
  std::size_t live_count_ = 0;
  std::uint64_t dead_bytes_ = 0;
};

}  // namespace dkdata::internal
