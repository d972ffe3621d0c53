#include "backends/file/record_log.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "backends/file/file_io.hpp"
#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "formats/json_internal.hpp"

namespace dkdata::internal {

namespace od = simdjson::ondemand;

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING, "lines need simdjson's padding");

void AppendPutLine(std::string& out, const Record& record) {
  AppendRecordJson(out, record, RecordFormat::kStructured);
  out.push_back('\n');
}

void AppendDeleteLine(std::string& out, std::string_view id) {
  out.append("{\"_deleted\":");
  AppendJson(out, Value(std::string(id)));
  out.append("}\n");
}

void AppendBatchLine(std::string& out, std::size_t lines_that_follow) {
  out.append("{\"_batch\":").append(std::to_string(lines_that_follow)).append("}\n");
}

namespace {

// Appends the line that append(lines) writes, its length and what it is.
template <typename Append>
void AddLine(LogWrite& write, LogLineInfo::Kind kind, const std::string& id, std::uint64_t version,
             Append&& append) {
  const std::size_t before = write.lines.size();
  append(write.lines);
  write.lengths.push_back(static_cast<std::uint32_t>(write.lines.size() - before - 1));
  LogLineInfo& info = write.infos.emplace_back();
  info.kind = kind;
  info.id = id;
  info.version = version;
}

}  // namespace

void LogWrite::AddPut(Record record, const std::string& id, std::uint64_t version) {
  record.set_id(id);
  record.set_version(version);
  AddLine(*this, LogLineInfo::Kind::kPut, id, version,
          [&](std::string& lines) { AppendPutLine(lines, record); });
}

void LogWrite::AddDelete(const std::string& id) {
  AddLine(*this, LogLineInfo::Kind::kDelete, id, 0,
          [&](std::string& lines) { AppendDeleteLine(lines, id); });
}

namespace {

[[noreturn]] void ThrowBadLine(std::uint64_t line_number, std::string_view why) {
  throw Error(ErrorCode::kInvalidArgument,
              "line " + std::to_string(line_number) + ": " + std::string(why), "file");
}

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Reads the id an "id" or "_id" member gives (a string, or an integer written as text), as
// Record::ResolveId does, into out; false when the member gives none.
bool IdFromValue(od::value value, std::string& out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type == od::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s) || s.empty()) return false;
    out.assign(s);
    return true;
  }
  if (type == od::json_type::number) {
    std::int64_t i;
    if (value.get_int64().get(i)) return false;
    out = std::to_string(i);
    return true;
  }
  return false;
}

// What a line is (PeekLogLine without a selection); line is not blank.
void PeekLine(std::string_view line, std::uint64_t line_number, LogLineInfo& info) {
  thread_local od::parser parser;
  od::document doc;
  const simdjson::padded_string_view padded(line.data(), line.size(), line.size() + kLinePadding);
  if (auto error = parser.iterate(padded).get(doc)) {
    ThrowBadLine(line_number, simdjson::error_message(error));
  }
  od::object object;
  if (doc.get_object().get(object)) ThrowBadLine(line_number, "not a JSON object");
  thread_local std::string data_id;  // flat form "id", used when there is no "_id"
  bool have_data_id = false;
  bool have_id = false;
  bool deleted = false;
  for (auto member_result : object) {
    od::field member;
    if (auto error = std::move(member_result).get(member)) {
      ThrowBadLine(line_number, simdjson::error_message(error));
    }
    std::string_view key;
    if (member.unescaped_key().get(key)) ThrowBadLine(line_number, "a bad member name");
    od::value value = member.value();
    if (key == "_id") {
      have_id = IdFromValue(value, info.id) || have_id;
    } else if (key == "id") {
      have_data_id = IdFromValue(value, data_id) || have_data_id;
    } else if (key == "_version") {
      if (value.get_uint64().get(info.version)) ThrowBadLine(line_number, "a bad _version");
    } else if (key == "_deleted") {
      std::string_view id;
      if (value.get_string().get(id)) ThrowBadLine(line_number, "a bad _deleted id");
      info.id.assign(id);
      deleted = true;
    } else if (key == "_batch") {
      if (value.get_uint64().get(info.batch)) ThrowBadLine(line_number, "a bad _batch count");
      info.kind = LogLineInfo::Kind::kBatch;
      return;
    }
    // Other members are skipped when the loop moves on; their structure is checked as it does.
  }
  if (deleted) {
    info.kind = LogLineInfo::Kind::kDelete;
    return;
  }
  info.kind = LogLineInfo::Kind::kPut;
  if (have_id) return;
  if (have_data_id) {
    info.id = data_id;
  } else {
    info.id = std::to_string(line_number);
    info.id_is_line_number = true;
  }
}

}  // namespace

void PeekLogLine(std::string_view line, std::uint64_t line_number, LogLineInfo& info,
                 const FieldSelection* selection) {
  info.kind = LogLineInfo::Kind::kBlank;
  info.id.clear();
  info.version = 0;
  info.batch = 0;
  info.id_is_line_number = false;
  info.record.reset();
  if (IsBlank(line)) return;
  if (selection != nullptr) {
    // Lines this library wrote: one parse gives what the line is and the selected fields.
    std::optional<Record> written;
    try {
      written = ReadWrittenRecord(line, selection);
    } catch (const Error&) {
      // Not JSON, or a value that does not fit its type: the reading below says which.
    }
    if (written && written->id() && !written->id()->empty()) {
      info.kind = LogLineInfo::Kind::kPut;
      info.id = *written->id();
      info.version = written->version();
      if (info.version == 0) written->set_version(1);
      info.record = std::move(written);
      return;
    }
  }
  PeekLine(line, line_number, info);
  if (selection != nullptr && info.kind == LogLineInfo::Kind::kPut) {
    info.record = DecodePutLine(line, info, selection);
  }
}

Record DecodePutLine(std::string_view line, const LogLineInfo& info,
                     const FieldSelection* selection) {
  Record record = selection ? RecordFromJson(line, *selection) : RecordFromJson(line);
  record.set_id(info.id);
  record.set_version(info.version == 0 ? 1 : info.version);
  return record;
}

// ---- ScanLog ----

namespace {

// The scan reads the file kChunk bytes at a time into a buffer of kBufferSize, so that it can read
// on while other threads still read earlier lines (the buffer's start moves only when it is full).
constexpr std::size_t kChunk = std::size_t{4} << 20;
constexpr std::size_t kBufferSize = std::size_t{16} << 20;
// Batches up to this size are checked for completeness in the buffer; longer ones are counted in
// the file first (read twice rather than held).
constexpr std::size_t kBatchInBuffer = std::size_t{32} << 20;

// The scan's buffer: capacity bytes for the file, then kLinePadding more that simdjson may read.
// Not zeroed first: the file's bytes overwrite it.
class ScanBuffer {
 public:
  explicit ScanBuffer(std::size_t capacity)
      : capacity_(capacity),
        data_(std::make_unique_for_overwrite<char[]>(capacity + kLinePadding)) {}
  char* data() noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }
  // Doubles the capacity, keeping the first `keep` bytes.
  void Grow(std::size_t keep) {
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity_ * 2 + kLinePadding);
    std::memcpy(bigger.get(), data_.get(), keep);
    data_ = std::move(bigger);
    capacity_ *= 2;
  }

 private:
  std::size_t capacity_;
  std::unique_ptr<char[]> data_;
};

// Whether the `count` lines after file offset `from` are all there, each ending in a newline:
// counted in the file without keeping them, so a batch longer than the scan buffer costs no
// memory. complete = false gives the end of the file in end.
bool LinesAreComplete(int fd, const std::string& path, std::uint64_t from, std::uint64_t count,
                      std::uint64_t& end) {
  std::vector<char> chunk(std::size_t{1} << 20);
  std::uint64_t offset = from;
  while (count > 0) {
    const std::size_t got = ReadAt(fd, chunk.data(), chunk.size(), offset, path);
    if (got == 0) {
      end = offset;
      return false;
    }
    const char* p = chunk.data();
    const char* stop = chunk.data() + got;
    while (count > 0 && p < stop) {
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(stop - p));
      if (nl == nullptr) break;
      p = static_cast<const char*>(nl) + 1;
      --count;
    }
    offset += got;
  }
  return true;
}

// The complete lines of the scan buffer not yet delivered, and what each is: lines are found
// (memchr) once, and read (PeekLogLine, the costly part) a window at a time, spread over the
// scan's threads, then delivered in order by the scanning thread. Both survive refills of the
// buffer, so a batch waiting for its lines is not read twice.
// The complete lines of the scan buffer not yet delivered, and what each is. Lines are found
// (memchr) once, and read (PeekLogLine, the costly part) a window at a time, by the scan's
// threads; the scanning thread delivers them in order. With threads, the next window is read
// while the scanning thread delivers the current one. Both survive refills of the buffer, so a
// batch waiting for its lines is not read twice.
class PendingLines {
 public:
  PendingLines(const FieldSelection* selection, unsigned threads)
      : selection_(selection), threads_(threads) {}
  PendingLines(const PendingLines&) = delete;
  PendingLines& operator=(const PendingLines&) = delete;

  std::size_t size() const noexcept { return ends_.size() - first_; }
  // Buffer positions of line i (counted from the first pending line): [begin, end), end at '\n'.
  std::size_t Begin(std::size_t i) const noexcept { return BeginOf(first_ + i); }
  std::size_t End(std::size_t i) const noexcept { return ends_[first_ + i]; }

  // Records the lines of the buffer's first `filled` bytes that end in a newline and are not
  // recorded yet.
  void FindLines(const char* buffer, std::size_t filled) {
    filled_ = filled;
    std::size_t at = ends_.empty() ? begin_ : ends_.back() + 1;
    while (at < filled) {
      const void* nl = std::memchr(buffer + at, '\n', filled - at);
      if (nl == nullptr) break;
      const std::size_t line_end = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer);
      ends_.push_back(line_end);
      at = line_end + 1;
    }
  }

  // What a line is; error is set (and info is blank) for a line that is not a record-log line.
  struct Read {
    LogLineInfo info;
    std::string error;
  };
  // Line i, read (with the lines after it in its window) if it was not yet. first_line_number
  // is the number of line 0.
  Read& At(std::size_t i, const char* buffer, std::uint64_t first_line_number) {
    const std::size_t k = first_ + i;
    if (k >= current_.end || k < current_.begin) {
      FinishNext();
      if (k >= next_.begin && k < next_.end) {
        std::swap(current_, next_);
      } else {
        Fill(current_, k, buffer, first_line_number - i, /*wait=*/true);
      }
      next_.Clear(current_.end);
      if (threads_ > 1 && current_.end < ends_.size()) {
        Fill(next_, current_.end, buffer, first_line_number - i, /*wait=*/false);
      }
    }
    return current_.reads[k - current_.begin];
  }

  // The first `count` pending lines are delivered.
  void Consume(std::size_t count) { first_ += count; }

  // The buffer is about to move (grow, shift) or to be read into: no thread may be using it.
  // (Reading more into the buffer past what FindLines saw is safe meanwhile: windows read in
  // the background end kLinePadding bytes before that. That is what a read-ahead does.)
  void Quiesce() { FinishNext(); }

  // Offers a job (reading the next chunk of the file) to run as the first task of the next
  // window read in the background, so that a pool thread reads the file while the scanning thread
  // delivers lines. Whether it ran is known after Quiesce: TakeReadAhead returns false when it
  // did not (nor will: the offer is withdrawn).
  void OfferReadAhead(std::function<void()> job) {
    read_ahead_ = std::move(job);
    read_ahead_started_ = false;
  }
  bool TakeReadAhead() {
    read_ahead_ = nullptr;
    return std::exchange(read_ahead_started_, false);
  }

  // The buffer dropped its first `shift` bytes, all of them delivered: positions move with it.
  void ShiftBuffer(std::size_t shift) {
    const std::size_t drop = first_;
    begin_ = BeginOf(drop) - shift;
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(drop));
    for (std::size_t& end : ends_) end -= shift;
    current_.DropLines(drop);
    next_.DropLines(drop);
    first_ = 0;
  }

 private:
  // Lines read at once: enough to share among threads, few enough that their records (with a
  // selection) stay small next to the buffer.
  static constexpr std::size_t kWindow = 8192;
  static constexpr std::size_t kTask = 256;
  // Below this many bytes in a window, threads cost more than they save.
  static constexpr std::size_t kParallelBytes = std::size_t{256} << 10;

  // Lines [begin, end) of ends_, read into reads[0, end - begin); entries past those are spare.
  // The threads reading it use its own copy of where the lines are (line_ends, after the first
  // line's start first_begin), since FindLines may grow ends_ meanwhile.
  struct Window {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::vector<Read> reads;
    std::size_t first_begin = 0;
    std::vector<std::size_t> line_ends;
    void Clear(std::size_t at) { begin = end = at; }
    // The first `drop` lines of ends_ are gone.
    void DropLines(std::size_t drop) {
      const std::size_t gone = std::min(drop, end) - std::min(drop, begin);
      std::rotate(reads.begin(), reads.begin() + static_cast<std::ptrdiff_t>(gone), reads.end());
      begin = begin > drop ? begin - drop : 0;
      end = end > drop ? end - drop : 0;
    }
  };

  std::size_t BeginOf(std::size_t k) const noexcept { return k == 0 ? begin_ : ends_[k - 1] + 1; }

  // Reads the window of lines from `from` into window: at once, or (wait = false) started on the
  // pool for FinishNext to collect. number_of_first is the line number of ends_[first_].
  void Fill(Window& window, std::size_t from, const char* buffer, std::uint64_t number_of_first,
            bool wait) {
    std::size_t to = std::min(ends_.size(), from + kWindow);
    if (!wait) {
      // In the background only lines whose padding (which PeekLogLine may read) is in the
      // buffer already: the scan may read more into the bytes after filled_ meanwhile.
      while (to > from && ends_[to - 1] + 1 + kLinePadding > filled_) --to;
      if (to == from) return;
    }
    window.begin = from;
    window.end = to;
    window.first_begin = BeginOf(from);
    window.line_ends.assign(ends_.begin() + static_cast<std::ptrdiff_t>(from),
                            ends_.begin() + static_cast<std::ptrdiff_t>(to));
    // Reads are overwritten, not rebuilt: their strings keep their memory, and the records of
    // the last window are freed by the threads reading the new one.
    if (window.reads.size() < to - from) window.reads.resize(to - from);
    const std::uint64_t number_of_from = number_of_first + (from - first_);
    auto read_lines = [this, &window, buffer, number_of_from](std::size_t task) {
      const std::size_t count = window.line_ends.size();
      const std::size_t stop = std::min(count, (task + 1) * kTask);
      for (std::size_t i = task * kTask; i < stop; ++i) {
        const std::size_t begin = i == 0 ? window.first_begin : window.line_ends[i - 1] + 1;
        Read& read = window.reads[i];
        read.error.clear();
        try {
          PeekLogLine(std::string_view(buffer + begin, window.line_ends[i] - begin),
                      number_of_from + i, read.info, selection_);
        } catch (const Error& error) {
          read.error = error.what();
          read.info.kind = LogLineInfo::Kind::kBlank;
        }
      }
    };
    const std::size_t tasks = (to - from + kTask - 1) / kTask;
    if (threads_ > 1 && ends_[to - 1] - window.first_begin >= kParallelBytes) {
      if (!pool_) pool_ = std::make_unique<WorkerPool>(threads_);
      if (!wait && read_ahead_ && !read_ahead_started_) {
        // Task 0 reads the file ahead; the others read lines.
        read_ahead_started_ = true;
        pool_->Start(tasks + 1, [this, read_lines](std::size_t task) {
          task == 0 ? read_ahead_() : read_lines(task - 1);
        });
      } else {
        pool_->Start(tasks, read_lines);
      }
      in_flight_ = true;
      if (wait) FinishNext();
    } else {
      for (std::size_t task = 0; task < tasks; ++task) read_lines(task);
    }
  }

  void FinishNext() {
    if (!in_flight_) return;
    in_flight_ = false;
    pool_->Wait();
  }

  const FieldSelection* selection_;
  unsigned threads_;
  std::size_t begin_ = 0;             // buffer position of the first line in ends_
  std::vector<std::size_t> ends_;     // buffer positions of the line ends found
  std::size_t first_ = 0;             // the first undelivered line in ends_
  std::size_t filled_ = 0;            // the buffer's bytes when FindLines last looked
  Window current_;                    // the window being delivered
  Window next_;                       // the window after it, perhaps being read by the pool
  bool in_flight_ = false;            // the pool is reading a window
  std::function<void()> read_ahead_;  // offered by OfferReadAhead
  bool read_ahead_started_ = false;
  // Last, so that it is destroyed first: its destructor waits for a window still being read.
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace

LogScanEnd ScanLog(int fd, const std::string& path, std::uint64_t start, std::uint64_t first_line,
                   const std::function<void(const LogLine&, LogLineInfo&)>& on_line,
                   const std::function<void(std::uint64_t, std::string_view)>& on_bad_line,
                   const FieldSelection* selection, unsigned threads) {
  ScanBuffer buffer(kBufferSize);
  std::size_t filled = 0;               // bytes in buffer
  std::uint64_t buffer_offset = start;  // file offset of buffer[0]
  std::uint64_t line_number = first_line;
  LogScanEnd end;
  end.valid_end = start;
  end.lines = first_line - 1;
  bool at_eof = false;
  std::uint64_t batch_left = 0;  // lines still to come of a batch known to be complete
  bool batch_waiting = false;    // the buffer starts with a batch whose lines are not all there
  std::optional<std::uint64_t> torn_batch_file_end;  // set when the last batch is incomplete
  PendingLines pending(selection, threads);

  // A line that is not a record-log line: an error naming the file, or skipped when salvaging.
  auto bad_line = [&](std::uint64_t number, const std::string& why) {
    if (!on_bad_line) {
      throw Error(
          ErrorCode::kIo,
          "'" + path + "' " + why + " (open the store with salvage: true to skip invalid lines)",
          "file");
    }
    on_bad_line(number, why);
  };

  // With threads, a pool thread reads the next chunk while this one delivers lines (see
  // PendingLines::OfferReadAhead); read_ahead_got is what it read, after filled.
  std::size_t read_ahead_got = 0;
  bool read_ahead = false;  // this round's chunk was read ahead
  while (true) {
    if (read_ahead) {
      read_ahead = false;
      if (read_ahead_got == 0) at_eof = true;  // seen at the start of a round, as below
    } else if (!at_eof) {
      // A line longer than the buffer, or a batch that may still fit (kBatchInBuffer).
      if (buffer.capacity() == filled) {
        pending.Quiesce();
        buffer.Grow(filled);
      }
      const std::size_t room = std::min(kChunk, buffer.capacity() - filled);
      const std::size_t got =
          ReadAt(fd, buffer.data() + filled, room, buffer_offset + filled, path);
      if (got == 0) at_eof = true;
      filled += got;
    }
    batch_waiting = false;
    pending.FindLines(buffer.data(), filled);
    if (threads > 1 && !at_eof && buffer.capacity() - filled >= kChunk) {
      pending.OfferReadAhead([&, at = filled] {
        read_ahead_got = ReadAt(fd, buffer.data() + at, kChunk, buffer_offset + at, path);
      });
    }
    std::size_t delivered = 0;
    const std::size_t lines = pending.size();
    for (; delivered < lines; ++delivered) {
      auto& read = pending.At(delivered, buffer.data(), line_number);
      LogLineInfo& info = read.info;
      const std::size_t begin = pending.Begin(delivered);
      const LogLine line{std::string_view(buffer.data() + begin, pending.End(delivered) - begin),
                         buffer_offset + begin, line_number};
      if (!read.error.empty()) bad_line(line.number, read.error);
      if (batch_left > 0) {
        --batch_left;
      } else if (info.kind == LogLineInfo::Kind::kBatch && info.batch > 0) {
        // A batch counts only if all its lines are there: count them (in the buffer when they
        // fit, else in the file) before delivering any.
        if (lines - delivered - 1 < info.batch) {
          if (!at_eof && buffer.capacity() < kBatchInBuffer) {
            batch_waiting = true;  // read on (the buffer grows) and come back to the header
            break;
          }
          std::uint64_t file_end = 0;
          if (!LinesAreComplete(fd, path, line.offset + line.text.size() + 1, info.batch,
                                file_end)) {
            torn_batch_file_end = file_end;
            break;
          }
        }
        batch_left = info.batch;
      }
      on_line(line, info);
      end.valid_end = line.offset + line.text.size() + 1;
      end.lines = line_number;
      ++line_number;
    }
    const std::size_t pos = delivered == 0 ? pending.Begin(0) : pending.End(delivered - 1) + 1;
    pending.Consume(delivered);
    pending.Quiesce();
    if (pending.TakeReadAhead()) {
      read_ahead = true;
      filled += read_ahead_got;
    }
    if (torn_batch_file_end) break;
    // Move what is not delivered to the front, once the buffer has no room for another chunk
    // (or at the end, where what is left is read below from the front).
    if (pos > 0 && (at_eof || buffer.capacity() - filled < kChunk)) {
      std::memmove(buffer.data(), buffer.data() + pos, filled - pos);
      filled -= pos;
      buffer_offset += pos;
      pending.ShiftBuffer(pos);
    }
    if (at_eof) break;
  }
  pending.Quiesce();
  if (torn_batch_file_end) {
    end.torn_bytes = *torn_batch_file_end - end.valid_end;
    return end;
  }
  // What is left has no newline: a line written by a tool that ends files without one, or torn.
  // A batch still waiting for its lines at the end is torn.
  if (filled > 0 && !batch_waiting) {
    std::memset(buffer.data() + filled, 0, kLinePadding);
    bool complete = false;
    LogLine line;
    LogLineInfo info;
    try {
      line = LogLine{std::string_view(buffer.data(), filled), buffer_offset, line_number};
      PeekLogLine(line.text, line.number, info, selection);
      complete = info.kind != LogLineInfo::Kind::kBatch;
    } catch (const Error&) {
      complete = false;
    }
    if (complete) {
      on_line(line, info);
      end.valid_end = buffer_offset + filled;
      end.lines = line_number;
      end.missing_final_newline = true;
      filled = 0;
    }
  }
  end.torn_bytes = buffer_offset + filled - end.valid_end;
  return end;
}

}  // namespace dkdata::internal
