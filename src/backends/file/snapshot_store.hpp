// src/backends/file/snapshot_store.hpp: the engine of whole-file stores (JSON, CSV, TSV, Parquet)
// and of compressed JSONL: a memory image of the records, a journal of writes beside the file
// ("<path>.journal", a record log), and atomic rewrites of the file that fold the journal in.
// See file_database.hpp for the contract.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/file/file_store.hpp"
#include "backends/memory/memory_database.hpp"

namespace dkdata::internal {

class SnapshotStore final : public FileStore {
 public:
  explicit SnapshotStore(FileOptions options);
  ~SnapshotStore() override;

  Capabilities capabilities() const noexcept override;

  std::optional<Record> Read(std::string_view id) override;
  bool ReadInto(std::string_view id, Record& out) override;
  std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids) override;
  std::vector<Record> Search(const Query& query) override;
  std::size_t Count(const Expr& expr) override;
  std::size_t Clear() override;
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;

  void CreateIndex(const IndexInfo& index) override;
  bool DropIndex(std::string_view field) override;
  std::vector<IndexInfo> ListIndexes() const override;

 private:
  void SyncWithFile(bool exclusive) override;
  std::uint64_t VersionOf(std::string_view id) override;
  void Append(LogWrite& write) override;
  void SyncNow() override;
  void OnClose() override;

  void Reload();
  void LoadBase();
  void LoadParquet();
  // Writes records to fd as a Parquet file.
  void WriteParquetStore(int fd, const std::vector<Record>& records);
  void ScanJournal(std::uint64_t offset);
  void ApplyJournalLine(std::string_view text, const LogLineInfo& info);
  void MaybeFold();
  // Rewrites the file with every record, atomically, and empties the journal.
  void Fold();

  std::string journal_path_;
  std::shared_ptr<MemoryDatabase> image_;  // shared with open cursors
  std::vector<IndexInfo> indexes_;         // made again on every reload
  FileIdentity base_;
  UniqueFd journal_fd_;
  FileIdentity journal_;  // size = bytes looked at
  std::uint64_t journal_end_ = 0;
  std::uint64_t journal_lines_ = 0;
  bool journal_missing_newline_ = false;
  bool torn_reported_ = false;
};

}  // namespace dkdata::internal
