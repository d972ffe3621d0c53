// src/core/stream_write.hpp: what the backends' StreamWrite and StreamRead share: reading the
// source in batches and keeping the StreamResult, and a cursor over records already in memory.
//
// Thread-safety: a StreamWriteProgress and a VectorCursor are used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dkdata/database.hpp"

namespace dkdata::internal {

class StreamWriteProgress {
 public:
  // The first 100 failures are kept in the result's errors.
  static constexpr std::size_t kMaxErrors = 100;

  explicit StreamWriteProgress(const StreamOptions& options);

  // Fills batch (cleared first) with up to batch_size records of source, and counts them as
  // processed. Call it outside any lock: the source may call into the database. Returns false
  // when the source had none left.
  bool ReadBatch(const RecordSource& source, std::vector<Record>& batch);
  // The input index of the first record of the last batch read.
  std::size_t base() const noexcept { return base_; }
  // After a failure with stop_on_error: the rest is skipped, not written.
  bool stopped() const noexcept { return stopped_; }
  // Stops the stream as a failure with stop_on_error does (the backend saw it stop elsewhere).
  void Stop() noexcept { stopped_ = true; }

  void Succeeded(std::size_t n = 1) noexcept { result_.succeeded += n; }
  // Items not attempted because the stream stopped.
  void Skipped(std::size_t n = 1) noexcept { result_.skipped += n; }
  // Counts a failure of the item at index (in the whole input).
  void Fail(std::size_t index, std::optional<std::string> id, std::string message);

  StreamResult& result() noexcept { return result_; }

 private:
  std::size_t batch_size_;
  bool stop_on_error_;
  StreamResult result_;
  std::size_t base_ = 0;
  bool stopped_ = false;
};

// Hands out records held in memory in batches.
class VectorCursor final : public RecordCursor {
 public:
  VectorCursor(std::vector<Record> records, std::size_t batch_size)
      : records_(std::move(records)), batch_size_(batch_size == 0 ? 1 : batch_size) {}
  bool NextBatch(std::vector<Record>& batch) override;

 private:
  std::vector<Record> records_;
  std::size_t batch_size_;
  std::size_t next_ = 0;
};

}  // namespace dkdata::internal
