// Tests of the plain, gzip and zstd streams: names and extensions, round trips through files and
// strings, concatenated members/frames, truncated and corrupt input, write errors, big streams
// read in small pieces.

#include "formats/compression.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"

namespace dkdata::internal {
namespace {

namespace fs = std::filesystem;

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kZstd};
constexpr Compression kCompressed[] = {Compression::kGzip, Compression::kZstd};

// A fresh directory under the system's temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dkdata-compression-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Text that compresses somewhat, like records do, with some randomness so that codecs work.
std::string SampleData(std::size_t size, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string data;
  data.reserve(size);
  std::size_t n = 0;
  while (data.size() < size) {
    data += "{\"id\":" + std::to_string(n++) + ",\"name\":\"user" + std::to_string(rng() % 1000) +
            "\",\"score\":" + std::to_string(rng()) + "}\n";
  }
  data.resize(size);
  return data;
}

std::string_view Extension(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return ".gz";
    case Compression::kZstd:
      return ".zst";
    case Compression::kNone:
      break;
  }
  return "";
}

void WriteFileBytes(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// Writes data to path through an OutputStream, in pieces of `piece` bytes.
void WriteThroughStream(const std::string& path, Compression c, std::string_view data,
                        std::size_t piece = 100000) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  {
    auto out = OutputStream::ToFd(fd, c, path);
    for (std::size_t i = 0; i < data.size(); i += piece) out->Write(data.substr(i, piece));
    out->Finish();
  }
  ::close(fd);
}

// The kIo error that reading the whole of path throws, or "" (failing) when none is thrown.
std::string ReadError(const std::string& path, Compression c) {
  try {
    InputStream::Open(path, c)->ReadAll();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error reading " << path;
  return "";
}

class CompressionTest : public ::testing::TestWithParam<Compression> {
 protected:
  void SetUp() override {
    if (!CompressionAvailable(GetParam())) GTEST_SKIP() << "built without zlib/zstd";
  }
};

std::string CodecName(const ::testing::TestParamInfo<Compression>& info) {
  return std::string(CompressionName(info.param));
}

TEST(CompressionNamesTest, NamesParseBack) {
  for (Compression c : kAllCodecs) EXPECT_EQ(ParseCompressionName(CompressionName(c)), c);
  EXPECT_EQ(ParseCompressionName(""), Compression::kNone);
  EXPECT_EQ(ParseCompressionName("NONE"), Compression::kNone);
  EXPECT_EQ(ParseCompressionName("gz"), Compression::kGzip);
  EXPECT_EQ(ParseCompressionName("GZip"), Compression::kGzip);
  EXPECT_EQ(ParseCompressionName("zst"), Compression::kZstd);
  EXPECT_EQ(ParseCompressionName("ZSTD"), Compression::kZstd);
  EXPECT_EQ(ParseCompressionName("bz2"), std::nullopt);
  EXPECT_EQ(ParseCompressionName("gzipx"), std::nullopt);
}

TEST(CompressionNamesTest, ExtensionsGiveTheCodecAndStripOff) {
  EXPECT_EQ(CompressionFromPath("a.jsonl.gz"), Compression::kGzip);
  EXPECT_EQ(CompressionFromPath("/x/a.csv.GZ"), Compression::kGzip);
  EXPECT_EQ(CompressionFromPath("a.csv.zst"), Compression::kZstd);
  EXPECT_EQ(CompressionFromPath("a.csv"), Compression::kNone);
  EXPECT_EQ(CompressionFromPath("gz"), Compression::kNone);
  EXPECT_EQ(CompressionFromPath("a.tgz"), Compression::kNone);
  EXPECT_EQ(StripCompressionExtension("a.jsonl.gz"), "a.jsonl");
  EXPECT_EQ(StripCompressionExtension("dir.gz/a.csv.zst"), "dir.gz/a.csv");
  EXPECT_EQ(StripCompressionExtension("a.jsonl"), "a.jsonl");
  EXPECT_EQ(StripCompressionExtension(".gz"), "");
}

TEST_P(CompressionTest, RoundTripsThroughAFile) {
  TempDir dir;
  const std::string path = dir.File("data" + std::string(Extension(GetParam())));
  const std::string data = SampleData(1 << 20);
  WriteThroughStream(path, GetParam(), data, 4096);
  EXPECT_EQ(InputStream::Open(path, GetParam())->ReadAll(), data);
  if (GetParam() != Compression::kNone) {
    EXPECT_LT(fs::file_size(path), data.size() / 2) << "the data was not compressed";
  }
}

TEST_P(CompressionTest, RoundTripsThroughStrings) {
  for (const std::string& data : {std::string(), std::string("x"), SampleData(300000)}) {
    const std::string packed = CompressToString(data, GetParam());
    EXPECT_EQ(InputStream::FromString(packed, GetParam(), "mem")->ReadAll(), data);
  }
}

TEST_P(CompressionTest, EmptyStreamIsValidAndEmptyInputReadsEmpty) {
  std::string packed;
  OutputStream::ToString(&packed, GetParam())->Finish();
  if (GetParam() != Compression::kNone) {
    EXPECT_FALSE(packed.empty()) << "no empty member/frame";
  }
  EXPECT_EQ(InputStream::FromString(packed, GetParam(), "mem")->ReadAll(), "");
  EXPECT_EQ(InputStream::FromString("", GetParam(), "mem")->ReadAll(), "");
}

TEST_P(CompressionTest, FinishTwiceIsANoOpAndWritingAgainStartsANewMember) {
  std::string packed;
  auto out = OutputStream::ToString(&packed, GetParam());
  out->Write("abc");
  out->Finish();
  const std::size_t after_first = packed.size();
  out->Finish();
  EXPECT_EQ(packed.size(), after_first);
  out->Write("def");
  out->Finish();
  EXPECT_EQ(InputStream::FromString(packed, GetParam(), "mem")->ReadAll(), "abcdef");
}

TEST_P(CompressionTest, ConcatenatedMembersOrFramesReadAsOneStream) {
  const std::string a = SampleData(200000, 1);
  const std::string b = SampleData(1, 2);
  const std::string c = SampleData(70000, 3);
  const std::string packed = CompressToString(a, GetParam()) + CompressToString(b, GetParam(), 1) +
                             CompressToString("", GetParam()) + CompressToString(c, GetParam(), 9);
  EXPECT_EQ(InputStream::FromString(packed, GetParam(), "mem")->ReadAll(), a + b + c);
}

TEST_P(CompressionTest, LargeStreamReadInSmallPieces) {
  const std::string data = SampleData(10 << 20, 11);
  const std::string packed = CompressToString(data, GetParam());
  auto in = InputStream::FromString(packed, GetParam(), "big");
  std::string read;
  read.reserve(data.size());
  char buf[4096];
  std::size_t piece = 1;
  for (;;) {
    const std::size_t got = in->Read(buf, piece);
    ASSERT_LE(got, piece);
    if (got == 0) break;
    read.append(buf, got);
    piece = (piece * 31 + 7) % sizeof buf + 1;  // sizes from 1 to sizeof buf, in no order
  }
  EXPECT_TRUE(read == data) << "read " << read.size() << " bytes of " << data.size();
  EXPECT_EQ(in->Read(buf, sizeof buf), 0u);
}

TEST_P(CompressionTest, ReadsFromAFdAtItsCurrentOffset) {
  TempDir dir;
  const std::string path = dir.File("offset");
  const std::string preamble = "PLAIN PREAMBLE\n";
  const std::string data = SampleData(50000);
  WriteFileBytes(path, preamble + CompressToString(data, GetParam()));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, static_cast<off_t>(preamble.size()), SEEK_SET),
            static_cast<off_t>(preamble.size()));
  EXPECT_EQ(InputStream::FromFd(fd, GetParam(), "offset")->ReadAll(), data);
  // The stream did not close the descriptor.
  EXPECT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  ::close(fd);
}

TEST_P(CompressionTest, WriteErrorsSurfaceWithTheNameAndReason) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  try {
    auto out = OutputStream::ToFd(fd, GetParam(), "full.out");
    out->Write(SampleData(1 << 20));
    out->Finish();
    ADD_FAILURE() << "writing to /dev/full did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("full.out"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest, ::testing::ValuesIn(kAllCodecs), CodecName);

class CompressedInputTest : public CompressionTest {};

TEST_P(CompressedInputTest, TruncatedFilesAreErrorsThatSayTruncated) {
  TempDir dir;
  const std::string data = SampleData(300000);
  const std::string packed = CompressToString(data, GetParam());
  // Cut inside the header, the body and the trailer, and inside a second member/frame.
  const std::string second = CompressToString("tail", GetParam());
  const std::vector<std::string> cuts = {
      packed.substr(0, 5),
      packed.substr(0, packed.size() / 2),
      packed.substr(0, packed.size() - 1),
      packed + second.substr(0, second.size() - 2),
  };
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const std::string path = dir.File("cut" + std::to_string(i));
    WriteFileBytes(path, cuts[i]);
    const std::string message = ReadError(path, GetParam());
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("offset"), std::string::npos) << message;
  }
}

TEST_P(CompressedInputTest, GarbageIsAnIoErrorNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("garbage");
  WriteFileBytes(path, "this is not compressed data, not at all\n");
  std::string message = ReadError(path, GetParam());
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;

  // Junk after a complete member/frame.
  WriteFileBytes(path, CompressToString("fine", GetParam()) + "junk after the end");
  message = ReadError(path, GetParam());
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;

  // A damaged body: flip bytes in the middle (checksums catch what decoding does not).
  std::string damaged = CompressToString(SampleData(100000), GetParam());
  for (std::size_t i = damaged.size() / 2; i < damaged.size() / 2 + 16; ++i) damaged[i] ^= 0x55;
  WriteFileBytes(path, damaged);
  message = ReadError(path, GetParam());
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST_P(CompressedInputTest, LevelsOutOfRangeAreRejected) {
  std::string out;
  EXPECT_THROW(OutputStream::ToString(&out, GetParam(), 1000), Error);
  EXPECT_NO_THROW(OutputStream::ToString(&out, GetParam(), 1));
}

TEST_P(CompressedInputTest, InteroperatesWithTheCommandLineTool) {
  const char* tool = GetParam() == Compression::kGzip ? "gzip" : "zstd";
  if (std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << tool << " is not installed";
  }
  TempDir dir;
  const std::string data = SampleData(200000);
  const std::string ours = dir.File("ours");
  WriteThroughStream(ours, GetParam(), data);
  const std::string plain = dir.File("plain");
  ASSERT_EQ(std::system((std::string(tool) + " -dc < " + ours + " > " + plain).c_str()), 0);
  EXPECT_EQ(InputStream::Open(plain, Compression::kNone)->ReadAll(), data);
  const std::string theirs = dir.File("theirs");
  ASSERT_EQ(std::system((std::string(tool) + " -c < " + plain + " > " + theirs).c_str()), 0);
  EXPECT_EQ(InputStream::Open(theirs, GetParam())->ReadAll(), data);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressedInputTest, ::testing::ValuesIn(kCompressed), CodecName);

TEST(InputStreamTest, OpeningAMissingFileNamesIt) {
  try {
    InputStream::Open("/nonexistent/dir/file.csv", Compression::kNone);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/file.csv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dkdata::internal
