// src/backends/file/log_store.hpp: the engine of uncompressed JSONL stores, where the file is the
// record log (record_log.hpp). See file_database.hpp for the contract.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/file/file_store.hpp"
#include "core/slot_table.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

// A query riding along a catch-up scan (the first read of the file, or lines another process
// appended): the scan reads each record line once, with the query's selection, and hands the
// query that record, so a store opened for one query is read once, not twice.
struct ScanTap {
  const FieldSelection* selection = nullptr;
  // Each record line the scan read: its ordinal (already indexed), text (valid during the call)
  // and record (with the selected fields, its id and version).
  std::function<void(std::uint32_t ordinal, std::string_view text, Record& record)> on_record;
  // Set by the scan: the ordinal of the first line it read. The lines below it were indexed
  // before and are the query's own to read.
  std::optional<std::uint32_t> first_ordinal;
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

  // Forgets what it knows of the file and reads it again from the start.
  void Reload();
  void ScanFrom(std::uint64_t offset);
  // A Locked(false, ...) call whose catch-up scan feeds tap.
  template <typename Body>
  auto LockedWithTap(ScanTap& tap, Body&& body);
  // Records a line read or written; its index update may wait until FlushIndexUpdates.
  void ApplyLine(const LogLineInfo& info, std::uint64_t offset, std::uint64_t length);
  struct PendingIndexUpdate {
    std::string id;
    std::uint64_t hash = 0;
    std::uint32_t ordinal = 0;  // of the line putting id (not for a delete)
    bool is_delete = false;
  };
  void QueueIndexUpdate(const std::string& id, std::uint32_t ordinal, bool is_delete);
  void ApplyIndexUpdate(const PendingIndexUpdate& update);
  void FlushIndexUpdates();
  // The ordinal of id's live record line, or SlotTable::kNone; line receives its text when found.
  std::uint32_t Locate(std::string_view id, std::string* line);
  std::uint32_t Locate(std::string_view id, std::uint64_t hash, std::string* line);
  std::string ReadLine(std::uint32_t ordinal);
  // The record of a live line; only the selected fields (and perhaps others) when selection is
  // given.
  Record DecodeRecord(std::uint32_t ordinal, std::string_view text,
                      const FieldSelection* selection = nullptr) const;
  void MaybeCompact();
  void Compact();

  // Calls visit(ordinal, text) for each live record line below end_ordinal in file order until it
  // returns false.
  template <typename Visit>
  void ForEachLive(std::uint32_t end_ordinal, Visit&& visit);

  bool read_ = false;       // the file has been read (it is read at the first call, not at open)
  ScanTap* tap_ = nullptr;  // during LockedWithTap
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
  SlotTable index_;  // id hash -> ordinal of its live line (ids stay in the file)
  std::array<PendingIndexUpdate, 4> pending_;  // a ring: pending_count_ from pending_first_
  std::size_t pending_first_ = 0;
  std::size_t pending_count_ = 0;
  std::size_t live_count_ = 0;
  std::uint64_t dead_bytes_ = 0;
};

}  // namespace dkdata::internal
