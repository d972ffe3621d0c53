#include "backends/file/file_io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

void ThrowIo(std::string_view what, const std::string& path, int error_number) {
  throw Error(ErrorCode::kIo, std::string(what) + " '" + path + "': " + std::strerror(error_number),
              "file", std::to_string(error_number));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int UniqueFd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

UniqueFd OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowIo("cannot open", path, errno);
  return UniqueFd(fd);
}

void WriteAllAt(int fd, std::string_view data, std::uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowIo("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

std::size_t ReadAt(int fd, char* buffer, std::size_t n, std::uint64_t offset,
                   const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, buffer + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      ThrowIo("cannot read", path, errno);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

void ReadExactAt(int fd, char* buffer, std::size_t n, std::uint64_t offset,
                 const std::string& path) {
  if (ReadAt(fd, buffer, n, offset, path) != n) {
    throw Error(ErrorCode::kIo,
                "'" + path + "' is shorter than expected: another program may have cut it", "file");
  }
}

void SyncFile(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) ThrowIo("cannot fsync", path, errno);
  }
}

namespace {

std::string ParentFolder(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void SyncParentFolder(const std::string& path) {
  const std::string folder = ParentFolder(path);
  UniqueFd fd = OpenFile(folder, O_RDONLY | O_DIRECTORY);
  SyncFile(fd.get(), folder);
}

namespace {

FileIdentity FromStat(const struct stat& st) {
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.exists = true;
  return id;
}

}  // namespace

FileIdentity IdentifyPath(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    ThrowIo("cannot stat", path, errno);
  }
  return FromStat(st);
}

FileIdentity IdentifyFd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) ThrowIo("cannot stat", path, errno);
  return FromStat(st);
}

// ---- StoreLock ----

StoreLock::StoreLock(std::string lock_path, std::chrono::milliseconds timeout)
    : path_(std::move(lock_path)), timeout_(timeout) {
  fd_ = OpenFile(path_, O_RDWR | O_CREAT);
}

void StoreLock::Acquire(bool exclusive) {
  const int operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  // Back off from 50 µs up to 20 ms between attempts: short waits stay short, long ones stay cheap.
  auto pause = std::chrono::microseconds(50);
  while (::flock(fd_.get(), operation) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) ThrowIo("cannot lock", path_, errno);
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(ErrorCode::kTimeout,
                  "another process held the lock '" + path_ + "' for longer than " +
                      std::to_string(timeout_.count()) + " ms (option lock_timeout)",
                  "file");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

void StoreLock::Unlock() noexcept {
  ::flock(fd_.get(), LOCK_UN);
}

// ---- AtomicFileWriter ----

AtomicFileWriter::AtomicFileWriter(std::string target, bool sync)
    : target_(std::move(target)), sync_(sync) {
  std::random_device random;
  for (int attempt = 0;; ++attempt) {
    temp_path_ = target_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(random());
    const int fd = ::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = UniqueFd(fd);
      return;
    }
    if (errno != EEXIST || attempt > 8)
      ThrowIo("cannot create a temporary file", temp_path_, errno);
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

UniqueFd AtomicFileWriter::Commit() {
  if (sync_) SyncFile(fd_.get(), temp_path_);
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0)
    ThrowIo("cannot rename", temp_path_, errno);
  committed_ = true;
  if (sync_) SyncParentFolder(target_);
  return std::move(fd_);
}

}  // namespace dkdata::internal
