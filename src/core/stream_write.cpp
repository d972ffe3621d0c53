// What the backends' streams share (stream_write.hpp).
#include "core/stream_write.hpp"

#include <algorithm>

namespace dkdata::internal {

StreamWriteProgress::StreamWriteProgress(const StreamOptions& options)
    : batch_size_(std::max<std::size_t>(1, options.batch_size)),
      stop_on_error_(options.stop_on_error) {}

bool StreamWriteProgress::ReadBatch(const RecordSource& source, std::vector<Record>& batch) {
  batch.clear();
  while (batch.size() < batch_size_) {
    std::optional<Record> record = source();
    if (!record) break;
    batch.push_back(std::move(*record));
  }
  base_ = result_.processed;
  result_.processed += batch.size();
  return !batch.empty();
}

void StreamWriteProgress::Fail(std::size_t index, std::optional<std::string> id,
                               std::string message) {
  ++result_.failed;
  if (result_.errors.size() < kMaxErrors) {
    result_.errors.push_back(StreamError{index, std::move(id), std::move(message)});
  }
  stopped_ = stop_on_error_;
}

bool VectorCursor::NextBatch(std::vector<Record>& batch) {
  batch.clear();
  while (next_ < records_.size() && batch.size() < batch_size_) {
    batch.push_back(std::move(records_[next_++]));
  }
  return !batch.empty();
}

}  // namespace dkdata::internal
