#include "backends/file/file_store.hpp"

#include <unistd.h>

#include <unordered_map>

#include "dkdata/diagnostics.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

constexpr std::string_view kBackend = "file";

[[noreturn]] void Throw(ErrorCode code, std::string message) {
  throw Error(code, std::move(message), std::string(kBackend));
}

void CheckExpectedVersion(std::string_view id, std::optional<std::uint64_t> expected,
                          std::uint64_t actual) {
  if (!expected || *expected == actual) return;
  if (actual == 0) {
    Throw(ErrorCode::kConflict, "record '" + std::string(id) + "' expected at version " +
                                    std::to_string(*expected) + " does not exist");
  }
  Throw(ErrorCode::kConflict, "record '" + std::string(id) + "' is at version " +
                                  std::to_string(actual) + ", expected " +
                                  std::to_string(*expected));
}

}  // namespace

FileStore::FileStore(FileOptions options)
    : options_(std::move(options)),
      lock_(options_.path + ".lock", options_.lock_timeout),
      last_fsync_(std::chrono::steady_clock::now()) {}

void FileStore::CheckOpen() const {
  if (closed_)
    Throw(ErrorCode::kUnavailable, "the file database '" + options_.path + "' is closed");
}

void FileStore::Warn(std::string_view message) const {
  EmitWarning(kBackend, "'" + options_.path + "': " + std::string(message));
}

std::function<void(std::uint64_t, std::string_view)> FileStore::SalvageReporter(
    std::string file) const {
  if (!options_.salvage) return {};
  return [file = std::move(file)](std::uint64_t line, std::string_view why) {
    EmitWarning(kBackend, "'" + file + "' line " + std::to_string(line) +
                              " skipped (salvage): " + std::string(why));
  };
}

void FileStore::SyncIfDue(bool force) {
  if (!unsynced_ || options_.sync == SyncMode::kNone) return;
  const auto now = std::chrono::steady_clock::now();
  if (force || options_.sync == SyncMode::kAlways || now - last_fsync_ >= std::chrono::seconds(1)) {
    SyncNow();
    unsynced_ = false;
    last_fsync_ = now;
  }
}

std::string FileStore::Create(const Record& record) {
  CheckFinite(record);
  auto resolved = record.ResolveId();
  const std::string id = resolved ? std::move(*resolved) : GenerateUuid();
  return Locked(true, [&] {
    if (VersionOf(id) != 0) {
      Throw(ErrorCode::kAlreadyExists, "a record with id '" + id + "' exists already");
    }
    LogWrite write;
    write.AddPut(record, id, 1);
    Append(write);
    return id;
  });
}

bool FileStore::Update(std::string_view id, const Record& record,
                       std::optional<std::uint64_t> expected_version) {
  CheckFinite(record);
  return Locked(true, [&] {
    const std::uint64_t version = VersionOf(id);
    CheckExpectedVersion(id, expected_version, version);
    if (version == 0) return false;
    LogWrite write;
    write.AddPut(record, std::string(id), version + 1);
    Append(write);
    return true;
  });
}

std::string FileStore::Upsert(std::string_view id_arg, const Record& record,
                              std::optional<std::uint64_t> expected_version) {
  CheckFinite(record);
  std::string id(id_arg);
  if (id.empty()) {
    auto resolved = record.ResolveId();
    id = resolved ? std::move(*resolved) : GenerateUuid();
  }
  return Locked(true, [&] {
    const std::uint64_t version = VersionOf(id);
    if (expected_version && *expected_version != version) {
      CheckExpectedVersion(id, expected_version, version);
    }
    LogWrite write;
    write.AddPut(record, id, version + 1);
    Append(write);
    return id;
  });
}

bool FileStore::Delete(std::string_view id) {
  return Locked(true, [&] {
    if (VersionOf(id) == 0) return false;
    LogWrite write;
    write.AddDelete(std::string(id));
    Append(write);
    return true;
  });
}

bool FileStore::Exists(std::string_view id) {
  return Locked(false, [&] { return VersionOf(id) != 0; });
}

std::vector<std::string> FileStore::CreateBatch(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      CheckFinite(records[i]);
    } catch (const Error& e) {
      Throw(e.code(),
            "create_batch item " + std::to_string(i) + ": " + e.what() + "; nothing was stored");
    }
    auto id = records[i].ResolveId();
    ids.push_back(id ? std::move(*id) : GenerateUuid());
  }
  return Locked(true, [&] {
    std::unordered_map<std::string_view, std::size_t> seen;
    LogWrite write;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (!seen.emplace(ids[i], i).second || VersionOf(ids[i]) != 0) {
        Throw(ErrorCode::kAlreadyExists, "create_batch item " + std::to_string(i) +
                                             ": a record with id '" + ids[i] +
                                             "' exists already; nothing was stored");
      }
      write.AddPut(records[i], ids[i], 1);
    }
    if (!write.empty()) Append(write);
    return ids;
  });
}

std::vector<bool> FileStore::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  for (const auto& [id, record] : updates) CheckFinite(record);
  return Locked(true, [&] {
    std::vector<bool> out;
    std::unordered_map<std::string_view, std::uint64_t> versions;  // as of this batch
    LogWrite write;
    for (const auto& [id, record] : updates) {
      auto it = versions.find(id);
      const std::uint64_t version = it != versions.end() ? it->second : VersionOf(id);
      out.push_back(version != 0);
      if (version == 0) continue;
      write.AddPut(record, id, version + 1);
      versions[id] = version + 1;
    }
    if (!write.empty()) Append(write);
    return out;
  });
}

std::vector<bool> FileStore::DeleteBatch(const std::vector<std::string>& ids) {
  return Locked(true, [&] {
    std::vector<bool> out;
    std::unordered_map<std::string_view, bool> deleted;
    LogWrite write;
    for (const std::string& id : ids) {
      const bool present = deleted.count(id) == 0 && VersionOf(id) != 0;
      out.push_back(present);
      if (!present) continue;
      deleted[id] = true;
      write.AddDelete(id);
    }
    if (!write.empty()) Append(write);
    return out;
  });
}

void FileStore::Close() {
  std::lock_guard guard(mutex_);
  if (closed_) return;
  closed_ = true;
  SyncIfDue(/*force=*/true);
  OnClose();
  if (options_.temporary) {
    ::unlink(options_.path.c_str());
    ::unlink((options_.path + ".lock").c_str());
  }
}

}  // namespace dkdata::internal
