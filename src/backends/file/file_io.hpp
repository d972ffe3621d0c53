// src/backends/file/file_io.hpp: the file-system primitives the file backend is built on: an
// owned descriptor, the advisory lock that serialises writers across processes, atomic
// whole-file replacement, and the identity of a file (to notice another process's writes).
//
// Thread-safety: none of these objects may be used by two threads at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dkdata::internal {

// Every failure here is Error(kIo) with the file name and the errno text, backend "file".
[[noreturn]] void ThrowIo(std::string_view what, const std::string& path, int error_number);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { reset(); }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// Opens path with flags (O_CLOEXEC added); throws on failure.
UniqueFd OpenFile(const std::string& path, int flags, mode_t mode = 0644);
// Writes all of data at offset (pwrite, retried on EINTR and short writes).
void WriteAllAt(int fd, std::string_view data, std::uint64_t offset, const std::string& path);
// Reads exactly n bytes at offset; throws when the file is shorter.
void ReadExactAt(int fd, char* buffer, std::size_t n, std::uint64_t offset,
                 const std::string& path);
// Reads up to n bytes at offset; returns the count (0 at the end).
std::size_t ReadAt(int fd, char* buffer, std::size_t n, std::uint64_t offset,
                   const std::string& path);
void SyncFile(int fd, const std::string& path);
// fsyncs the folder holding path, so a rename or a new file in it survives a power loss.
void SyncParentFolder(const std::string& path);

// What tells one version of a file from another: a new inode means the file was replaced (a
// compaction renamed a new file over it); a different size means it was appended to or cut.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  std::uint64_t size = 0;
  bool exists = false;

  bool SameFile(const FileIdentity& other) const noexcept {
    return exists == other.exists && device == other.device && inode == other.inode;
  }
};
FileIdentity IdentifyPath(const std::string& path);
FileIdentity IdentifyFd(int fd, const std::string& path);

// An advisory lock (flock) on "<store path>.lock", the reference's lock file, which stays in place.
// Writers take it exclusively, readers shared; acquiring waits up to timeout, then throws
// Error(kTimeout) naming the lock file.
class StoreLock {
 public:
  StoreLock(std::string lock_path, std::chrono::milliseconds timeout);
  void LockShared() { Acquire(/*exclusive=*/false); }
  void LockExclusive() { Acquire(/*exclusive=*/true); }
  void Unlock() noexcept;
  const std::string& path() const noexcept { return path_; }

 private:
  void Acquire(bool exclusive);

  std::string path_;
  std::chrono::milliseconds timeout_;
  UniqueFd fd_;
};

// Holds a StoreLock for a scope.
class StoreLockGuard {
 public:
  StoreLockGuard(StoreLock& lock, bool exclusive) : lock_(lock) {
    exclusive ? lock_.LockExclusive() : lock_.LockShared();
  }
  ~StoreLockGuard() { lock_.Unlock(); }
  StoreLockGuard(const StoreLockGuard&) = delete;
  StoreLockGuard& operator=(const StoreLockGuard&) = delete;

 private:
  StoreLock& lock_;
};

// Replaces a file atomically: write to fd() (a temp file in the same folder), then Commit()
// fsyncs it (when sync), renames it over the target and fsyncs the folder (when sync). Destroyed
// without Commit(), it removes the temp file and leaves the target as it was.
class AtomicFileWriter {
 public:
  AtomicFileWriter(std::string target, bool sync);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  int fd() const noexcept { return fd_.get(); }
  const std::string& temp_path() const noexcept { return temp_path_; }
  // Returns the committed file, opened read-write (the new inode, for callers that keep it open).
  UniqueFd Commit();

 private:
  std::string target_;
  std::string temp_path_;
  bool sync_;
  bool committed_ = false;
  UniqueFd fd_;
};

}  // namespace dkdata::internal
