// formats/compression.hpp: byte streams over files and file descriptors, plain, gzip or zstd.
//
// Readers and writers of record files (JSON lines, CSV) work on these streams so that compression
// is one decision made when a file is opened, not a concern of every format. Streams use bounded
// buffers (kStreamBufferSize) and never hold a whole file in memory.
//
// Reading: concatenated gzip members and concatenated zstd frames read as one stream (as `gzip -dc`
// and `zstd -dc` do). An empty input is an empty stream. Failures are Error(ErrorCode::kIo) whose
// message names the file and the compressed byte offset; a stream cut short inside a member or
// frame says "truncated"; bytes that are not gzip/zstd data (including junk after the last member
// or frame) say "corrupt".
//
// Writing: Write() compresses into a bounded buffer and writes it out as it fills; Finish() ends
// the gzip member / zstd frame and writes everything out. Writing again after Finish() starts a new
// member/frame (readers see one stream); Finish() with nothing written since the last Finish() does
// nothing, except that a stream's first Finish() always writes a complete (possibly empty) member
// or frame, so that an empty file is still valid gzip/zstd. Bytes not Finish()ed are discarded by
// the destructor, which cannot report errors. Nothing is fsync'ed: that is the caller's decision.
//
// Thread-safety: a stream is used by one thread at a time; distinct streams are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dkdata::internal {

enum class Compression : std::uint8_t { kNone, kGzip, kZstd };

// The size of the buffers streams use for compressed and uncompressed bytes.
inline constexpr std::size_t kStreamBufferSize = std::size_t{256} << 10;

// "none", "gzip", "zstd".
std::string_view CompressionName(Compression c);
// "none" or "" → kNone, "gzip" or "gz" → kGzip, "zstd" or "zst" → kZstd (case-insensitive);
// nullopt for anything else.
std::optional<Compression> ParseCompressionName(std::string_view name);
// ".gz" → kGzip, ".zst" → kZstd (case-insensitive), anything else kNone.
Compression CompressionFromPath(std::string_view path);
// Whether this build can read and write c (gzip and zstd need zlib and libzstd at build time;
// without them such streams are Error(kUnsupported)).
bool CompressionAvailable(Compression c);
// The path without its compression extension: "a.jsonl.gz" → "a.jsonl"; "a.jsonl" → "a.jsonl".
std::string_view StripCompressionExtension(std::string_view path);

class InputStream {
 public:
  // Opens path for reading (the stream owns and closes the file). Error(kIo) naming path and the
  // system's reason when it cannot be opened.
  static std::unique_ptr<InputStream> Open(const std::string& path, Compression c);
  // Reads from fd (not owned, not closed) from its current offset; name is used in errors.
  static std::unique_ptr<InputStream> FromFd(int fd, Compression c, std::string name);
  // Reads (possibly compressed) bytes held in memory; name is used in errors.
  static std::unique_ptr<InputStream> FromString(std::string data, Compression c, std::string name);

  virtual ~InputStream() = default;
  InputStream() = default;
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Up to n decompressed bytes into buf; returns 0 only at the end of the stream (or when n is 0).
  virtual std::size_t Read(char* buf, std::size_t n) = 0;
  // Convenience: everything that is left (for tests and small files).
  std::string ReadAll();
};

class OutputStream {
 public:
  // Writes to fd (not owned, not closed). level 0 is the codec's default (gzip 6, zstd 3); other
  // levels are gzip 1..9 and zstd's own range (negative levels are zstd's fast modes); a level out
  // of range is Error(kInvalidArgument). The level is ignored for kNone.
  static std::unique_ptr<OutputStream> ToFd(int fd, Compression c, std::string name, int level = 0);
  // Appends to *out, which must outlive the stream.
  static std::unique_ptr<OutputStream> ToString(std::string* out, Compression c, int level = 0);

  virtual ~OutputStream() = default;
  OutputStream() = default;
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  // Write errors are Error(kIo) naming the stream and the system's reason (ENOSPC included); after
  // one, the stream is unusable.
  virtual void Write(std::string_view bytes) = 0;
  // Ends the member/frame and writes every byte out (see the top of this file).
  virtual void Finish() = 0;
};

// One complete gzip member / zstd frame holding data (for appending to a compressed file); for
// kNone, data itself.
std::string CompressToString(std::string_view data, Compression c, int level = 0);

}  // namespace dkdata::internal
