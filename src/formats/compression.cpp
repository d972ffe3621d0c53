// Plain, gzip and zstd byte streams (see formats/compression.hpp).
//
// Each stream is two layers: a byte source or sink (a file descriptor or a string) and a codec
// between it and the caller. Codecs decompress straight into the caller's buffer and keep one
// bounded buffer of compressed bytes; plain reads from a descriptor are read(2) into the caller's
// buffer with nothing in between.
//
// zlib and zstd are optional at build time (DKDATA_HAVE_COMPRESSION): without them, gzip and zstd
// streams are Error(kUnsupported) and plain streams still work.
#include "formats/compression.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "dkdata/errors.hpp"

#if DKDATA_HAVE_COMPRESSION
#include <zlib.h>
#include <zstd.h>
#endif

namespace dkdata::internal {

namespace {

[[noreturn]] void ThrowIo(std::string message, int error_number = 0) {
  throw Error(ErrorCode::kIo, std::move(message), "",
              error_number != 0 ? std::to_string(error_number) : std::string());
}

[[noreturn]] void ThrowSystemError(const std::string& name, std::string_view what, int error) {
  ThrowIo(name + ": " + std::string(what) + ": " + std::strerror(error), error);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// ---------------------------------------------------------------------------------------------
// Sources and sinks
// ---------------------------------------------------------------------------------------------

// Where compressed (or plain) bytes come from.
class ByteSource {
 public:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  virtual ~ByteSource() = default;
  // Up to n bytes; 0 only at the end.
  virtual std::size_t Read(char* buf, std::size_t n) = 0;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string name)
      : ByteSource(std::move(name)), fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }

  std::size_t Read(char* buf, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) ThrowSystemError(name(), "read failed", errno);
    }
  }

 private:
  int fd_;
  bool owned_;
};

class StringSource final : public ByteSource {
 public:
  StringSource(std::string data, std::string name)
      : ByteSource(std::move(name)), data_(std::move(data)) {}

  std::size_t Read(char* buf, std::size_t n) override {
    const std::size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// Where compressed (or plain) bytes go.
class ByteSink {
 public:
  explicit ByteSink(std::string name) : name_(std::move(name)) {}
  virtual ~ByteSink() = default;
  virtual void Write(const char* data, std::size_t n) = 0;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string name) : ByteSink(std::move(name)), fd_(fd) {}

  // Writes everything, retrying short writes and EINTR.
  void Write(const char* data, std::size_t n) override {
    while (n > 0) {
      const ssize_t put = ::write(fd_, data, n);
      if (put < 0) {
        if (errno == EINTR) continue;
        ThrowSystemError(name(), "write failed", errno);
      }
      if (put == 0) ThrowIo(name() + ": write failed: the file accepts no more bytes");
      data += put;
      n -= static_cast<std::size_t>(put);
    }
  }

 private:
  int fd_;
};

class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string* out) : ByteSink("string"), out_(out) {}
  void Write(const char* data, std::size_t n) override { out_->append(data, n); }

 private:
  std::string* out_;
};

// ---------------------------------------------------------------------------------------------
// Plain streams
// ---------------------------------------------------------------------------------------------

class PlainInputStream final : public InputStream {
 public:
  explicit PlainInputStream(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
  std::size_t Read(char* buf, std::size_t n) override { return source_->Read(buf, n); }

 private:
  std::unique_ptr<ByteSource> source_;
};

class PlainOutputStream final : public OutputStream {
 public:
  explicit PlainOutputStream(std::unique_ptr<ByteSink> sink) : sink_(std::move(sink)) {}

  void Write(std::string_view bytes) override {
    if (buffer_.size() + bytes.size() > kStreamBufferSize) {
      Flush();
      if (bytes.size() >= kStreamBufferSize) {  // big writes bypass the buffer
        sink_->Write(bytes.data(), bytes.size());
        return;
      }
    }
    buffer_.append(bytes);
  }

  void Finish() override { Flush(); }

 private:
  void Flush() {
    if (buffer_.empty()) return;
    sink_->Write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }

  std::unique_ptr<ByteSink> sink_;
  std::string buffer_;
};

#if DKDATA_HAVE_COMPRESSION

// ---------------------------------------------------------------------------------------------
// Compressed input
// ---------------------------------------------------------------------------------------------

// What the decompressors share: the source, the buffer of compressed bytes and the accounting of
// compressed offsets for messages.
class CompressedInput : public InputStream {
 protected:
  CompressedInput(std::unique_ptr<ByteSource> source, std::string_view codec)
      : source_(std::move(source)), codec_(codec), buffer_(new char[kStreamBufferSize]) {}

  // Reads more compressed bytes into the buffer; returns how many (0 at the end of the source).
  std::size_t Refill() {
    const std::size_t got = source_->Read(buffer_.get(), kStreamBufferSize);
    source_offset_ += got;
    if (got == 0) at_end_ = true;
    return got;
  }

  [[noreturn]] void ThrowTruncated(std::size_t unread) const {
    ThrowIo(source_->name() + ": truncated " + std::string(codec_) +
            " data: the stream ends inside a " + std::string(Unit()) +
            " (at compressed byte offset " + std::to_string(source_offset_ - unread) + ")");
  }
  [[noreturn]] void ThrowCorrupt(std::size_t unread, std::string_view reason) const {
    ThrowIo(source_->name() + ": corrupt " + std::string(codec_) +
            " data at compressed byte offset " + std::to_string(source_offset_ - unread) + ": " +
            std::string(reason));
  }

  std::string_view Unit() const { return codec_ == "gzip" ? "member" : "frame"; }

  std::unique_ptr<ByteSource> source_;
  std::string_view codec_;
  std::unique_ptr<char[]> buffer_;
  std::size_t source_offset_ = 0;  // compressed bytes read from the source so far
  bool at_end_ = false;            // the source has no more bytes
};

class GzipInputStream final : public CompressedInput {
 public:
  explicit GzipInputStream(std::unique_ptr<ByteSource> source)
      : CompressedInput(std::move(source), "gzip") {
    // 16 + MAX_WBITS: gzip framing only (a zlib or raw deflate stream is corrupt here).
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
      throw Error(ErrorCode::kInternal, "zlib: cannot initialise the decompressor");
    }
  }
  ~GzipInputStream() override { inflateEnd(&z_); }

  std::size_t Read(char* buf, std::size_t n) override {
    std::size_t produced = 0;
    while (produced < n) {
      if (z_.avail_in == 0 && !at_end_) {
        z_.avail_in = static_cast<uInt>(Refill());
        z_.next_in = reinterpret_cast<Bytef*>(buffer_.get());
      }
      if (z_.avail_in == 0 && !in_member_) break;  // the end, between members
      const std::size_t want =
          std::min<std::size_t>(n - produced, std::numeric_limits<uInt>::max());
      z_.next_out = reinterpret_cast<Bytef*>(buf + produced);
      z_.avail_out = static_cast<uInt>(want);
      in_member_ = true;
      const int status = inflate(&z_, Z_NO_FLUSH);
      produced += want - z_.avail_out;
      if (status == Z_STREAM_END) {
        in_member_ = false;  // another member may follow
        inflateReset(&z_);
      } else if (status == Z_BUF_ERROR) {
        // No progress: the input ran out (the output has room).
        if (at_end_ && z_.avail_in == 0) {
          if (produced > 0) break;  // report what we have; the next call says truncated
          ThrowTruncated(0);
        }
      } else if (status != Z_OK) {
        ThrowCorrupt(z_.avail_in, z_.msg != nullptr ? z_.msg : "inflate failed");
      }
    }
    return produced;
  }

 private:
  z_stream z_{};
  bool in_member_ = false;  // inside a member that has not ended
};

class ZstdInputStream final : public CompressedInput {
 public:
  explicit ZstdInputStream(std::unique_ptr<ByteSource> source)
      : CompressedInput(std::move(source), "zstd"), dctx_(ZSTD_createDCtx()) {
    if (dctx_ == nullptr) throw Error(ErrorCode::kInternal, "zstd: cannot create a decompressor");
  }
  ~ZstdInputStream() override { ZSTD_freeDCtx(dctx_); }

  std::size_t Read(char* buf, std::size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos < out.size) {
      if (in_.pos == in_.size && !at_end_) {
        in_.size = Refill();
        in_.pos = 0;
        in_.src = buffer_.get();
      }
      const bool no_input = in_.pos == in_.size;
      if (no_input && !in_frame_) break;  // the end, between frames
      const std::size_t out_before = out.pos;
      const std::size_t in_before = in_.pos;
      const std::size_t hint = ZSTD_decompressStream(dctx_, &out, &in_);
      if (ZSTD_isError(hint)) ThrowCorrupt(in_.size - in_.pos, ZSTD_getErrorName(hint));
      in_frame_ = hint != 0;  // 0: a frame ended and is fully flushed
      if (no_input && in_frame_ && out.pos == out_before && in_.pos == in_before) {
        if (out.pos > 0) break;  // report what we have; the next call says truncated
        ThrowTruncated(0);
      }
    }
    return out.pos;
  }

 private:
  ZSTD_DCtx* dctx_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool in_frame_ = false;  // inside a frame that has not ended
};

// ---------------------------------------------------------------------------------------------
// Compressed output
// ---------------------------------------------------------------------------------------------

class CompressedOutput : public OutputStream {
 protected:
  explicit CompressedOutput(std::unique_ptr<ByteSink> sink)
      : sink_(std::move(sink)), buffer_(new char[kStreamBufferSize]) {}

  // Whether Finish() has to end a member/frame: one is open, or none was ever written.
  bool NeedsFinish() const { return open_ || !finished_once_; }

  std::unique_ptr<ByteSink> sink_;
  std::unique_ptr<char[]> buffer_;
  bool open_ = false;           // bytes were written since the last Finish()
  bool finished_once_ = false;  // a member/frame has been ended
};

class GzipOutputStream final : public CompressedOutput {
 public:
  GzipOutputStream(std::unique_ptr<ByteSink> sink, int level) : CompressedOutput(std::move(sink)) {
    if (deflateInit2(&z_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(ErrorCode::kInternal, "zlib: cannot initialise the compressor");
    }
    ResetOutput();
  }
  ~GzipOutputStream() override { deflateEnd(&z_); }

  void Write(std::string_view bytes) override {
    if (bytes.empty()) return;
    open_ = true;
    while (!bytes.empty()) {
      const std::size_t chunk =
          std::min<std::size_t>(bytes.size(), std::numeric_limits<uInt>::max());
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
      z_.avail_in = static_cast<uInt>(chunk);
      while (z_.avail_in > 0) {
        Deflate(Z_NO_FLUSH);
        if (z_.avail_out == 0) FlushOutput();
      }
      bytes.remove_prefix(chunk);
    }
  }

  void Finish() override {
    if (NeedsFinish()) {
      z_.avail_in = 0;
      while (Deflate(Z_FINISH) != Z_STREAM_END) FlushOutput();
      deflateReset(&z_);
      open_ = false;
      finished_once_ = true;
    }
    FlushOutput();
  }

 private:
  int Deflate(int flush) {
    const int status = deflate(&z_, flush);
    if (status == Z_STREAM_ERROR) throw Error(ErrorCode::kInternal, "zlib: deflate failed");
    return status;
  }

  void ResetOutput() {
    z_.next_out = reinterpret_cast<Bytef*>(buffer_.get());
    z_.avail_out = static_cast<uInt>(kStreamBufferSize);
  }

  void FlushOutput() {
    const std::size_t used = kStreamBufferSize - z_.avail_out;
    if (used > 0) sink_->Write(buffer_.get(), used);
    ResetOutput();
  }

  z_stream z_{};
};

class ZstdOutputStream final : public CompressedOutput {
 public:
  ZstdOutputStream(std::unique_ptr<ByteSink> sink, int level)
      : CompressedOutput(std::move(sink)), cctx_(ZSTD_createCCtx()) {
    if (cctx_ == nullptr) throw Error(ErrorCode::kInternal, "zstd: cannot create a compressor");
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level));
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1));  // as the zstd tool does
  }
  ~ZstdOutputStream() override { ZSTD_freeCCtx(cctx_); }

  void Write(std::string_view bytes) override {
    if (bytes.empty()) return;
    open_ = true;
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (in.pos < in.size) Compress(in, ZSTD_e_continue);
  }

  void Finish() override {
    if (NeedsFinish()) {
      ZSTD_inBuffer in{nullptr, 0, 0};
      while (Compress(in, ZSTD_e_end) != 0) {
      }
      open_ = false;
      finished_once_ = true;
    }
    if (used_ > 0) {
      sink_->Write(buffer_.get(), used_);
      used_ = 0;
    }
  }

 private:
  static std::size_t Check(std::size_t code) {
    if (ZSTD_isError(code)) {
      throw Error(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(code));
    }
    return code;
  }

  // One call into the compressor; writes the buffer out when it is full. Returns zstd's hint
  // (for ZSTD_e_end: 0 once the frame is complete).
  std::size_t Compress(ZSTD_inBuffer& in, ZSTD_EndDirective directive) {
    ZSTD_outBuffer out{buffer_.get(), kStreamBufferSize, used_};
    const std::size_t remaining = Check(ZSTD_compressStream2(cctx_, &out, &in, directive));
    used_ = out.pos;
    if (used_ == kStreamBufferSize) {
      sink_->Write(buffer_.get(), used_);
      used_ = 0;
    }
    return remaining;
  }

  ZSTD_CCtx* cctx_;
  std::size_t used_ = 0;  // bytes of buffer_ holding compressed output not yet written
};

int GzipLevel(int level) {
  if (level == 0) return 6;
  if (level < 1 || level > 9) {
    throw Error(ErrorCode::kInvalidArgument,
                "gzip compression level " + std::to_string(level) + " is not in 1..9");
  }
  return level;
}

int ZstdLevel(int level) {
  if (level == 0) return 3;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    throw Error(ErrorCode::kInvalidArgument, "zstd compression level " + std::to_string(level) +
                                                 " is not in " + std::to_string(ZSTD_minCLevel()) +
                                                 ".." + std::to_string(ZSTD_maxCLevel()));
  }
  return level;
}

#endif  // DKDATA_HAVE_COMPRESSION

[[maybe_unused]] [[noreturn]] void ThrowNoCodec(Compression c) {
  throw Error(ErrorCode::kUnsupported, "dkdata was built without " +
                                           std::string(CompressionName(c)) +
                                           " support (zlib and zstd are needed)");
}

std::unique_ptr<InputStream> MakeInput(std::unique_ptr<ByteSource> source, Compression c) {
  switch (c) {
    case Compression::kNone:
      return std::make_unique<PlainInputStream>(std::move(source));
#if DKDATA_HAVE_COMPRESSION
    case Compression::kGzip:
      return std::make_unique<GzipInputStream>(std::move(source));
    case Compression::kZstd:
      return std::make_unique<ZstdInputStream>(std::move(source));
#else
    case Compression::kGzip:
    case Compression::kZstd:
      ThrowNoCodec(c);
#endif
  }
  throw Error(ErrorCode::kInternal, "unknown compression");
}

std::unique_ptr<OutputStream> MakeOutput(std::unique_ptr<ByteSink> sink, Compression c,
                                         [[maybe_unused]] int level) {
  switch (c) {
    case Compression::kNone:
      return std::make_unique<PlainOutputStream>(std::move(sink));
#if DKDATA_HAVE_COMPRESSION
    case Compression::kGzip:
      return std::make_unique<GzipOutputStream>(std::move(sink), GzipLevel(level));
    case Compression::kZstd:
      return std::make_unique<ZstdOutputStream>(std::move(sink), ZstdLevel(level));
#else
    case Compression::kGzip:
    case Compression::kZstd:
      ThrowNoCodec(c);
#endif
  }
  throw Error(ErrorCode::kInternal, "unknown compression");
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

std::optional<Compression> ParseCompressionName(std::string_view name) {
  if (name.empty() || EqualsIgnoreCase(name, "none")) return Compression::kNone;
  if (EqualsIgnoreCase(name, "gzip") || EqualsIgnoreCase(name, "gz")) return Compression::kGzip;
  if (EqualsIgnoreCase(name, "zstd") || EqualsIgnoreCase(name, "zst")) return Compression::kZstd;
  return std::nullopt;
}

Compression CompressionFromPath(std::string_view path) {
  if (EndsWithIgnoreCase(path, ".gz")) return Compression::kGzip;
  if (EndsWithIgnoreCase(path, ".zst")) return Compression::kZstd;
  return Compression::kNone;
}

bool CompressionAvailable(Compression c) {
#if DKDATA_HAVE_COMPRESSION
  (void)c;
  return true;
#else
  return c == Compression::kNone;
#endif
}

std::string_view StripCompressionExtension(std::string_view path) {
  switch (CompressionFromPath(path)) {
    case Compression::kGzip:
      return path.substr(0, path.size() - 3);
    case Compression::kZstd:
      return path.substr(0, path.size() - 4);
    case Compression::kNone:
      break;
  }
  return path;
}

std::unique_ptr<InputStream> InputStream::Open(const std::string& path, Compression c) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowSystemError(path, "cannot open", errno);
  auto source = std::make_unique<FdSource>(fd, /*owned=*/true, path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint only: failure does not matter
  return MakeInput(std::move(source), c);
}

std::unique_ptr<InputStream> InputStream::FromFd(int fd, Compression c, std::string name) {
  return MakeInput(std::make_unique<FdSource>(fd, /*owned=*/false, std::move(name)), c);
}

std::unique_ptr<InputStream> InputStream::FromString(std::string data, Compression c,
                                                     std::string name) {
  return MakeInput(std::make_unique<StringSource>(std::move(data), std::move(name)), c);
}

std::string InputStream::ReadAll() {
  std::string all;
  std::size_t size = 0;
  for (;;) {
    all.resize(size + kStreamBufferSize);
    const std::size_t got = Read(all.data() + size, kStreamBufferSize);
    size += got;
    if (got == 0) break;
  }
  all.resize(size);
  return all;
}

std::unique_ptr<OutputStream> OutputStream::ToFd(int fd, Compression c, std::string name,
                                                 int level) {
  return MakeOutput(std::make_unique<FdSink>(fd, std::move(name)), c, level);
}

std::unique_ptr<OutputStream> OutputStream::ToString(std::string* out, Compression c, int level) {
  return MakeOutput(std::make_unique<StringSink>(out), c, level);
}

std::string CompressToString(std::string_view data, Compression c, int level) {
  std::string out;
  const std::unique_ptr<OutputStream> stream = OutputStream::ToString(&out, c, level);
  stream->Write(data);
  stream->Finish();
  return out;
}

}  // namespace dkdata::internal
