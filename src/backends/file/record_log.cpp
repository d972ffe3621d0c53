#include "backends/file/record_log.hpp"

#include <simdjson.h>

#include <cstring>
#include <optional>

#include "backends/file/file_io.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

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

void LogWrite::AddPut(Record record, const std::string& id, std::uint64_t version) {
  record.set_id(id);
  record.set_version(version);
  const std::size_t before = lines.size();
  AppendPutLine(lines, record);
  lengths.push_back(static_cast<std::uint32_t>(lines.size() - before - 1));
  LogLineInfo info;
  info.kind = LogLineInfo::Kind::kPut;
  info.id = id;
  info.version = version;
  infos.push_back(std::move(info));
}

void LogWrite::AddDelete(const std::string& id) {
  const std::size_t before = lines.size();
  AppendDeleteLine(lines, id);
  lengths.push_back(static_cast<std::uint32_t>(lines.size() - before - 1));
  LogLineInfo info;
  info.kind = LogLineInfo::Kind::kDelete;
  info.id = id;
  infos.push_back(std::move(info));
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

// The id a flat-form "id" member gives (a string, or an integer written as text), as
// Record::ResolveId does.
std::optional<std::string> IdFromValue(od::value value) {
  od::json_type type;
  if (value.type().get(type)) return std::nullopt;
  if (type == od::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s)) return std::nullopt;
    if (s.empty()) return std::nullopt;
    return std::string(s);
  }
  if (type == od::json_type::number) {
    std::int64_t i;
    if (!value.get_int64().get(i)) return std::to_string(i);
  }
  return std::nullopt;
}

}  // namespace

void PeekLogLine(std::string_view line, std::uint64_t line_number, LogLineInfo& info) {
  info.kind = LogLineInfo::Kind::kBlank;
  info.id.clear();
  info.version = 0;
  info.batch = 0;
  if (IsBlank(line)) return;
  thread_local od::parser parser;
  od::document doc;
  const simdjson::padded_string_view padded(line.data(), line.size(), line.size() + kLinePadding);
  if (auto error = parser.iterate(padded).get(doc)) {
    ThrowBadLine(line_number, simdjson::error_message(error));
  }
  od::object object;
  if (doc.get_object().get(object)) ThrowBadLine(line_number, "not a JSON object");
  std::optional<std::string> data_id;  // flat form "id", used when there is no "_id"
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
    if (key == "id" || key == "_id") {
      auto id = IdFromValue(value);
      if (key == "_id" && id) {
        info.id = std::move(*id);
        have_id = true;
      } else if (key == "id" && id) {
        data_id = std::move(id);
      }
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
  if (!have_id) info.id = data_id ? std::move(*data_id) : std::to_string(line_number);
}

Record DecodePutLine(std::string_view line, const LogLineInfo& info) {
  Record record = RecordFromJson(line);
  record.set_id(info.id);
  record.set_version(info.version == 0 ? 1 : info.version);
  return record;
}

// ---- ScanLog ----

namespace {

constexpr std::size_t kChunk = std::size_t{4} << 20;

struct PendingLine {
  std::string text;  // with kLinePadding spare capacity
  std::uint64_t offset;
  std::uint64_t number;
  LogLineInfo info;
};

}  // namespace

LogScanEnd ScanLog(int fd, const std::string& path, std::uint64_t start, std::uint64_t first_line,
                   const std::function<void(const LogLine&, const LogLineInfo&)>& on_line,
                   const std::function<void(std::uint64_t, std::string_view)>& on_bad_line) {
  std::vector<char> buffer(kChunk + kLinePadding);
  std::size_t filled = 0;               // bytes in buffer
  std::uint64_t buffer_offset = start;  // file offset of buffer[0]
  std::uint64_t line_number = first_line;
  LogScanEnd end;
  end.valid_end = start;
  end.lines = first_line - 1;
  bool at_eof = false;
  LogLineInfo info;
  // A batch collects its lines until all have arrived.
  std::uint64_t batch_wanted = 0;
  std::uint64_t batch_offset = 0;
  LogLine batch_header;
  LogLineInfo batch_info;
  std::vector<PendingLine> batch_lines;

  auto deliver = [&](const LogLine& line, const LogLineInfo& line_info) {
    if (batch_wanted > 0) {
      PendingLine pending{std::string(line.text), line.offset, line.number, line_info};
      pending.text.reserve(pending.text.size() + kLinePadding);
      batch_lines.push_back(std::move(pending));
      if (batch_lines.size() == batch_wanted) {
        on_line(batch_header, batch_info);
        for (const PendingLine& p : batch_lines) {
          on_line(LogLine{p.text, p.offset, p.number}, p.info);
        }
        batch_wanted = 0;
        batch_lines.clear();
        end.valid_end = line.offset + line.text.size() + 1;
        end.lines = line.number;
      }
      return;
    }
    if (line_info.kind == LogLineInfo::Kind::kBatch && line_info.batch > 0) {
      batch_wanted = line_info.batch;
      batch_offset = line.offset;
      batch_header = line;
      batch_info = line_info;
      return;
    }
    on_line(line, line_info);
    end.valid_end = line.offset + line.text.size() + 1;
    end.lines = line.number;
  };

  while (true) {
    if (!at_eof) {
      if (buffer.size() - kLinePadding == filled) {
        buffer.resize(buffer.size() * 2);  // one line longer than the buffer
      }
      const std::size_t room = buffer.size() - kLinePadding - filled;
      const std::size_t got =
          ReadAt(fd, buffer.data() + filled, room, buffer_offset + filled, path);
      if (got == 0) at_eof = true;
      filled += got;
    }
    std::size_t pos = 0;
    while (pos < filled) {
      const void* nl = std::memchr(buffer.data() + pos, '\n', filled - pos);
      if (nl == nullptr) break;
      const std::size_t line_end = static_cast<const char*>(nl) - buffer.data();
      LogLine line{std::string_view(buffer.data() + pos, line_end - pos), buffer_offset + pos,
                   line_number};
      try {
        PeekLogLine(line.text, line.number, info);
      } catch (const Error& error) {
        if (!on_bad_line) {
          throw Error(ErrorCode::kIo,
                      "'" + path + "' " + error.what() +
                          " (open the store with salvage: true to skip invalid lines)",
                      "file");
        }
        on_bad_line(line.number, error.what());
        info.kind = LogLineInfo::Kind::kBlank;
      }
      // The header's view points into the buffer, which moves on: keep a copy of its text.
      if (info.kind == LogLineInfo::Kind::kBatch && batch_wanted == 0 && info.batch > 0) {
        line.text = {};
      }
      deliver(line, info);
      pos = line_end + 1;
      ++line_number;
    }
    // Move the partial line to the front.
    if (pos > 0) {
      std::memmove(buffer.data(), buffer.data() + pos, filled - pos);
      filled -= pos;
      buffer_offset += pos;
    }
    if (at_eof) break;
  }
  // What is left has no newline: a line written by a tool that ends files without one, or torn.
  if (filled > 0 && batch_wanted == 0) {
    std::memset(buffer.data() + filled, 0, kLinePadding);
    const LogLine line{std::string_view(buffer.data(), filled), buffer_offset, line_number};
    bool complete = false;
    try {
      PeekLogLine(line.text, line.number, info);
      complete = info.kind != LogLineInfo::Kind::kBatch;
    } catch (const Error&) {
      complete = false;
    }
    if (complete) {
      deliver(line, info);
      end.valid_end = buffer_offset + filled;
      end.missing_final_newline = true;
      filled = 0;
    }
  }
  const std::uint64_t file_end = buffer_offset + filled;
  if (batch_wanted > 0) end.valid_end = batch_offset;
  end.torn_bytes = file_end - end.valid_end;
  return end;
}

}  // namespace dkdata::internal
