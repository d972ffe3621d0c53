// src/backends/memory/memory_database.hpp: the memory backend.
//
// Records live as compact rows (memory_rows.hpp) in insertion order; an open-addressing table maps
// ids to rows; optional secondary indexes (memory_index.hpp) serve EQ/IN/range/prefix filters; the
// planner (memory_translate.cpp) picks index candidates and the core evaluator checks every
// candidate against the whole filter. Sort with a limit keeps a bounded heap of the best rows and
// decodes only those.
//
// Thread-safety: every method may be called from any thread; readers share a lock, writers take it
// exclusively. Cursors hold no lock between batches: they see writes made meanwhile (a deleted row
// is skipped, an updated row is returned as updated).
#pragma once

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/memory/memory_index.hpp"
#include "backends/memory/memory_rows.hpp"
#include "core/evaluator.hpp"
#include "core/slot_table.hpp"
#include "dkdata/database.hpp"

namespace dkdata::internal {

// Maps ids to row slots (a SlotTable confirming candidates against the rows' ids).
class IdTable {
 public:
  static constexpr std::uint32_t kNone = SlotTable::kNone;

  // The slot of id, or kNone.
  std::uint32_t Find(std::string_view id, const std::vector<Row>& rows) const;
  void Insert(std::string_view id, std::uint32_t slot);
  void Erase(std::string_view id, const std::vector<Row>& rows);
  void Clear() { table_.Clear(); }
  void Prefetch(std::string_view id) const noexcept { table_.Prefetch(Hash(id)); }
  void Reserve(std::size_t n) { table_.Reserve(n); }

 private:
  static std::uint64_t Hash(std::string_view id) noexcept;
  SlotTable table_;
};

class MemoryDatabase final : public Database {
 public:
  MemoryDatabase() = default;
  ~MemoryDatabase() override = default;

  std::string_view backend_name() const noexcept override { return "memory"; }
  Capabilities capabilities() const noexcept override;

  std::string Create(const Record& record) override;
  std::optional<Record> Read(std::string_view id) override;
  bool ReadInto(std::string_view id, Record& out) override;
  bool Update(std::string_view id, const Record& record,
              std::optional<std::uint64_t> expected_version) override;
  bool Delete(std::string_view id) override;
  bool Exists(std::string_view id) override;
  std::string Upsert(std::string_view id, const Record& record,
                     std::optional<std::uint64_t> expected_version) override;
  using Database::Upsert;

  std::vector<std::string> CreateBatch(const std::vector<Record>& records) override;
  std::vector<std::optional<Record>> ReadBatch(const std::vector<std::string>& ids) override;

  std::vector<Record> Search(const Query& query) override;
  std::size_t Count(const Expr& expr) override;
  std::size_t Clear() override;
  std::unique_ptr<RecordCursor> StreamRead(const Query& query, StreamOptions options) override;

  void CreateIndex(const IndexInfo& index) override;
  bool DropIndex(std::string_view field) override;
  std::vector<IndexInfo> ListIndexes() const override;

  void Close() override;

  // Stores record under id exactly as given, version included, replacing any record of that id
  // (which keeps its place in the store order). For backends that keep a memory image of a store
  // they load from elsewhere (the file backend); not part of the Database contract.
  void Restore(std::string_view id, const Record& record, std::uint64_t version);
  // Restore for many records at once, as when loading a file: one lock, and the id table's
  // memory for each record fetched a few records ahead.
  struct RestoreItem {
    std::string id;
    Record record;
    std::uint64_t version = 1;
  };
  void RestoreBatch(std::span<const RestoreItem> items);
  // The id of a field name in this store's dictionary, for rows built with a RowEncoder.
  std::uint32_t InternFieldName(std::string_view name);
  // Restore for rows already encoded (RowEncoder, with names from InternFieldName): each replaces
  // a row of the same id or is appended. Takes the rows (they are left empty).
  void RestoreEncoded(std::span<Row> rows);
  // Makes room for n more records, so that a load of a known size does not grow the tables step
  // by step.
  void ReserveRecords(std::size_t n);

 private:
  friend class MemoryCursor;

  void CheckOpen() const;
  // With the write lock held.
  void RestoreLocked(std::string_view id, const Record& record, std::uint64_t version);
  std::string StoreNew(const Record& record, std::string id);
  // Appends a row under its id; returns its slot. The caller indexes it.
  std::uint32_t AppendRow(Row row);
  // Appends an encoded row (its id is the key) and indexes record, which it encodes.
  void StoreEncoded(const Record& record, Row row);
  void Unstore(std::uint32_t slot);
  void Replace(std::uint32_t slot, const Record& record, std::uint64_t version);
  void IndexRow(std::uint32_t slot, const Record& record);
  void UnindexRow(std::uint32_t slot);
  void MaybeCompact();

  // With a read lock held: the slots matching the query's filter, in result order (sorted and
  // paged as the query asks, projection aside).
  std::vector<std::uint32_t> SelectSlots(const Query& query, bool apply_paging) const;
  std::optional<std::vector<std::uint32_t>> PlanCandidates(const Expr& expr) const;
  std::optional<std::vector<std::uint32_t>> IdCandidates(const Filter& filter) const;
  const SecondaryIndex* FindIndex(std::string_view path) const;
  Record Materialize(std::uint32_t slot, const std::vector<ProjectedField>* projection) const;
  std::vector<ProjectedField> ProjectionIds(const std::vector<std::string>& fields) const;

  mutable std::shared_mutex mutex_;
  FieldDictionary dictionary_;
  std::vector<Row> rows_;  // by slot; an empty Row is a deleted slot
  std::size_t live_ = 0;
  IdTable ids_;
  std::vector<std::unique_ptr<SecondaryIndex>> indexes_;
  std::atomic<bool> closed_{false};
  std::atomic<int> open_cursors_{0};
};

}  // namespace dkdata::internal
