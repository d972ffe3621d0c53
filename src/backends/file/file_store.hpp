// src/backends/file/file_store.hpp: what both file engines share: the locking discipline
// (calls one at a time per object; the store lock shared for reads, exclusive for writes; catch
// up with the file before every call) and the write operations, which check ids and versions
// against the engine and hand it the lines to append.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "backends/file/file_database.hpp"
#include "backends/file/file_io.hpp"
#include "backends/file/record_log.hpp"

namespace dkdata::internal {

class FileStore : public Database {
 public:
  ~FileStore() override = default;

  std::string_view backend_name() const noexcept override { return "file"; }

  std::string Create(const Record& record) final;
  bool Update(std::string_view id, const Record& record,
              std::optional<std::uint64_t> expected_version) final;
  bool Delete(std::string_view id) final;
  std::string Upsert(std::string_view id, const Record& record,
                     std::optional<std::uint64_t> expected_version) final;
  using Database::Upsert;
  std::vector<std::string> CreateBatch(const std::vector<Record>& records) final;
  std::vector<bool> UpdateBatch(const std::vector<std::pair<std::string, Record>>& updates) final;
  std::vector<bool> DeleteBatch(const std::vector<std::string>& ids) final;
  bool Exists(std::string_view id) final;
  void Close() final;

 protected:
  explicit FileStore(FileOptions options);

  // Runs body with this object's mutex and the store lock held (exclusive for writes), after
  // catching up with the file.
  template <typename Body>
  auto Locked(bool exclusive, Body&& body) {
    return Locked(
        exclusive, [] { return 0; }, std::forward<Body>(body));
  }
  // As above, with prepare() run under the locks before catching up; what it returns lives until
  // body has returned (a scope that sets up how the catch-up reads the file).
  template <typename Prepare, typename Body>
  auto Locked(bool exclusive, Prepare&& prepare, Body&& body) {
    std::lock_guard guard(mutex_);
    CheckOpen();
    StoreLockGuard lock(lock_, exclusive);
    [[maybe_unused]] auto scope = prepare();
    SyncWithFile(exclusive);
    return body();
  }

  void CheckOpen() const;
  // fsyncs through SyncNow() when the sync mode asks for it now (force: always, unless kNone).
  void SyncIfDue(bool force);
  // Emits a warning about this store.
  void Warn(std::string_view message) const;
  std::function<void(std::uint64_t, std::string_view)> SalvageReporter(std::string file) const;

  // ---- What each engine provides (called with the locks held) ----
  virtual void SyncWithFile(bool exclusive) = 0;
  // The stored version of id, or 0 when absent.
  virtual std::uint64_t VersionOf(std::string_view id) = 0;
  // Appends the lines durably as the sync mode says and applies them to the engine's state.
  virtual void Append(LogWrite& write) = 0;
  virtual void SyncNow() = 0;
  // Releases the engine's resources at Close (after a last fsync).
  virtual void OnClose() = 0;

  FileOptions options_;
  StoreLock lock_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  bool unsynced_ = false;  // appended since the last fsync

 private:
  std::chrono::steady_clock::time_point last_fsync_;
};

}  // namespace dkdata::internal
