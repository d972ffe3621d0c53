// src/backends/file/record_log.hpp: the record log, the line format of JSONL stores and of the
// journal of whole-file stores.
//
// A log is a JSONL file; each line is one of:
//   {"id":"a","fields":{...},"metadata":{...},"_version":2}   a record (structured form) as of a
//                                                            write; a later line for the same id
//                                                            replaces it
//   {"_deleted":"a"}                                          the record "a" was deleted
//   {"_batch":3}                                              the next 3 lines are one write that
//                                                            counts only if all of them are there
// Lines in the flat form ({"name": .., "_id": ..}) written by other tools are records too. A
// record line without an id gets its line number as id. Blank lines are ignored.
//
// A crash can leave a torn end: a last line without its newline that is not valid JSON, or a
// batch with fewer lines than announced. Readers stop before it (ScanLog reports where it starts);
// writers cut it off before appending.
//
// Thread-safety: functions are reentrant; a LogReader belongs to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/json.hpp"
#include "dkdata/record.hpp"

namespace dkdata::internal {

void AppendPutLine(std::string& out, const Record& record);  // record has its id and version set
void AppendDeleteLine(std::string& out, std::string_view id);
void AppendBatchLine(std::string& out, std::size_t lines_that_follow);

struct LogLineInfo {
  enum class Kind : std::uint8_t { kPut, kDelete, kBatch, kBlank };
  Kind kind = Kind::kBlank;
  std::string id;                  // kPut, kDelete
  std::uint64_t version = 0;       // kPut: "_version", or 0 when absent
  std::uint64_t batch = 0;         // kBatch: the lines that follow
  bool id_is_line_number = false;  // kPut: the line gives no id, so its number is the id
  // kPut, when the line was read with a FieldSelection: its record with (at least) those fields.
  std::optional<Record> record;
};

// The lines of one write, built in memory before anything is appended.
struct LogWrite {
  std::string lines;
  std::vector<LogLineInfo> infos;      // one per line
  std::vector<std::uint32_t> lengths;  // of each line, newline excluded

  void AddPut(Record record, const std::string& id, std::uint64_t version);
  void AddDelete(const std::string& id);
  bool empty() const noexcept { return infos.empty(); }
};

// Reads what a line is without building the record, or, given a selection, building the record
// of a kPut line with only the selected fields (info.record) in the same parse. line must be
// followed by at least kLinePadding readable bytes. Throws Error(kInvalidArgument) naming the line
// when it is not a JSON object.
inline constexpr std::size_t kLinePadding = 64;
void PeekLogLine(std::string_view line, std::uint64_t line_number, LogLineInfo& info,
                 const FieldSelection* selection = nullptr);

// The record of a kPut line, with id and version set from the line; only the selected fields
// (and perhaps others) when selection is given.
Record DecodePutLine(std::string_view line, const LogLineInfo& info,
                     const FieldSelection* selection = nullptr);

// One line of a log as ScanLog delivers it: text excludes the newline and is followed by
// kLinePadding readable bytes.
struct LogLine {
  std::string_view text;
  std::uint64_t offset = 0;  // of the line's first byte in the file
  std::uint64_t number = 0;  // 1-based line number in the file
};

struct LogScanEnd {
  std::uint64_t valid_end = 0;         // offset just past the last line that counts
  std::uint64_t lines = 0;             // line number of the last line that counts
  std::uint64_t torn_bytes = 0;        // bytes after valid_end (a torn end), 0 when none
  bool missing_final_newline = false;  // the last line counts but has no '\n' after it
};

// Reads fd from offset start (line number first_line) to its end in chunks and calls on_line for
// every complete line in order, batches only once all their lines are there (a batch over 32 MiB
// is counted in the file first, not held). Memory stays bounded by 32 MiB and the longest line.
// on_line may throw to stop the scan.
// A complete line that is not a JSON object is an Error(kIo) naming the file and line, unless
// on_bad_line is given: then it is told (line number, why) and the line is skipped (salvage).
// With a selection, lines are read as PeekLogLine reads them with it. With threads > 1, lines are
// read by that many threads (started for the scan, only when the file has enough to share);
// on_line and on_bad_line still run on the calling thread, in the file's order.
LogScanEnd ScanLog(int fd, const std::string& path, std::uint64_t start, std::uint64_t first_line,
                   const std::function<void(const LogLine&, LogLineInfo&)>& on_line,
                   const std::function<void(std::uint64_t, std::string_view)>& on_bad_line = {},
                   const FieldSelection* selection = nullptr, unsigned threads = 1);

}  // namespace dkdata::internal
