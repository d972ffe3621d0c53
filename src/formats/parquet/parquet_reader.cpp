// formats/parquet/parquet_reader.cpp: see parquet_reader.hpp.
#include "formats/parquet/parquet_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dkdata/errors.hpp"
#include "formats/parquet/parquet_codecs.hpp"
#include "formats/parquet/parquet_encodings.hpp"
#include "formats/parquet/thrift_compact.hpp"

namespace dkdata::internal::parquet {
namespace {

[[noreturn]] void Invalid(const std::string& where, std::string_view what) {
  std::string message = where;
  message.append(": ").append(what);
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

[[noreturn]] void Unsupported(const std::string& where, std::string_view what) {
  std::string message = where;
  message.append(": ").append(what);
  throw Error(ErrorCode::kUnsupported, std::move(message));
}

// A column's dictionary: the values of its dictionary page, in the physical type.
struct Dictionary {
  bool present = false;
  std::size_t size = 0;
  std::vector<std::int32_t> int32s;
  std::vector<std::int64_t> int64s;
  std::vector<Int96> int96s;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<std::string_view> byte_arrays;
};

template <typename T>
void Gather(std::vector<T>& to, const std::vector<T>& dictionary,
            const std::vector<std::uint32_t>& indices) {
  const std::size_t start = to.size();
  to.resize(start + indices.size());
  T* out = to.data() + start;
  const T* values = dictionary.data();
  for (std::size_t i = 0; i < indices.size(); ++i) out[i] = values[indices[i]];
}

// Decodes one column chunk's pages; one per ReadColumnChunk call.
class ChunkDecoder {
 public:
  ChunkDecoder(const LeafColumn& column, const SchemaElement& element, const ColumnMetaData& meta,
               std::string where, ColumnData& out)
      : column_(column), element_(element), meta_(meta), where_(std::move(where)), out_(out) {}

  // bytes: the chunk's stored bytes, which begin at file offset base.
  void Decode(std::string_view bytes, std::uint64_t base, std::int64_t num_rows) {
    std::size_t position = 0;
    std::size_t page_index = 0;
    const std::uint64_t wanted = static_cast<std::uint64_t>(meta_.num_values);
    while (slots_ < wanted) {
      page_where_ = where_ + ", page " + std::to_string(page_index) + " (byte " +
                    std::to_string(base + position) + ")";
      if (position >= bytes.size()) {
        Invalid(page_where_, "the column chunk ends after " + std::to_string(slots_) + " of its " +
                                 std::to_string(wanted) + " values");
      }
      CompactReader reader(bytes.substr(position), page_where_ + ": page header", base + position);
      const PageHeader header = DecodePageHeader(reader);
      const std::size_t body_start = position + reader.position();
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0) {
        Invalid(page_where_, "negative page size");
      }
      const auto stored = static_cast<std::size_t>(header.compressed_page_size);
      if (stored > bytes.size() - body_start) {
        Invalid(page_where_, "page size " + std::to_string(stored) + " is past the end of the " +
                                 "column chunk (" + std::to_string(bytes.size() - body_start) +
                                 " bytes left)");
      }
      body_offset_ = base + body_start;
      const std::string_view body = bytes.substr(body_start, stored);
      if (header.crc && PageCrc(body) != *header.crc) {
        Invalid(page_where_, "page checksum (CRC-32) does not match its bytes");
      }
      DecodePage(header, body);
      position = body_start + stored;
      ++page_index;
    }
    if (column_.max_repetition_level > 0 && rows_ != static_cast<std::uint64_t>(num_rows)) {
      Invalid(where_, "holds " + std::to_string(rows_) + " rows, the row group " +
                          std::to_string(num_rows));
    }
    if (column_.max_repetition_level == 0 && slots_ != static_cast<std::uint64_t>(num_rows)) {
      Invalid(where_, "holds " + std::to_string(slots_) + " values, the row group " +
                          std::to_string(num_rows) + " rows");
    }
  }

 private:
  void DecodePage(const PageHeader& header, std::string_view body) {
    switch (header.type) {
      case PageType::kDictionaryPage:
        if (!header.dictionary_page_header) Invalid(page_where_, "dictionary page without header");
        DecodeDictionaryPage(header, *header.dictionary_page_header, body);
        return;
      case PageType::kDataPage:
        if (!header.data_page_header) Invalid(page_where_, "data page without its header");
        DecodeDataPageV1(header, *header.data_page_header, body);
        return;
      case PageType::kDataPageV2:
        if (!header.data_page_header_v2) Invalid(page_where_, "data page v2 without its header");
        DecodeDataPageV2(header, *header.data_page_header_v2, body);
        return;
      case PageType::kIndexPage:
      default:
        return;  // not needed to read values
    }
  }

  // The page body decompressed (or the stored bytes when the page is not compressed): a view that
  // lives as long as out_.
  std::string_view Uncompressed(std::string_view stored, std::size_t uncompressed_size,
                                bool compressed) {
    if (!compressed || meta_.codec == CompressionCodec::kUncompressed) {
      if (stored.size() != uncompressed_size) {
        Invalid(page_where_, "uncompressed page of " + std::to_string(stored.size()) +
                                 " bytes says it has " + std::to_string(uncompressed_size));
      }
      return stored;
    }
    if (uncompressed_size > kMaxPageBytes ||
        uncompressed_size > std::max<std::size_t>(stored.size(), 64) * kMaxExpansion) {
      Invalid(page_where_, "uncompressed page size " + std::to_string(uncompressed_size) +
                               " is implausible for " + std::to_string(stored.size()) +
                               " compressed bytes");
    }
    std::string& buffer = out_.storage.emplace_back();
    Decompress(meta_.codec, stored, uncompressed_size, page_where_, buffer);
    return buffer;
  }

  void DecodeDictionaryPage(const PageHeader& header, const DictionaryPageHeader& dictionary,
                            std::string_view stored) {
    if (dictionary_.present) Invalid(page_where_, "a second dictionary page in the column chunk");
    if (slots_ > 0) Invalid(page_where_, "dictionary page after data pages");
    if (dictionary.encoding != Encoding::kPlain &&
        dictionary.encoding != Encoding::kPlainDictionary) {
      Unsupported(page_where_, "dictionary page encoding " + EncodingName(dictionary.encoding) +
                                   " is not PLAIN");
    }
    if (dictionary.num_values < 0) Invalid(page_where_, "negative dictionary size");
    const std::string_view bytes = Uncompressed(
        stored, static_cast<std::size_t>(header.uncompressed_page_size), /*compressed=*/true);
    const EncodedBytes in{bytes, page_where_, body_offset_};
    const auto count = static_cast<std::size_t>(dictionary.num_values);
    switch (column_.type) {
      case Type::kBoolean:
        Unsupported(page_where_, "dictionary page for a BOOLEAN column");
      case Type::kInt32:
        DecodePlainInt32(in, count, dictionary_.int32s);
        break;
      case Type::kInt64:
        DecodePlainInt64(in, count, dictionary_.int64s);
        break;
      case Type::kInt96:
        DecodePlainInt96(in, count, dictionary_.int96s);
        break;
      case Type::kFloat:
        DecodePlainFloat(in, count, dictionary_.floats);
        break;
      case Type::kDouble:
        DecodePlainDouble(in, count, dictionary_.doubles);
        break;
      case Type::kByteArray:
        DecodePlainByteArray(in, count, dictionary_.byte_arrays);
        break;
      case Type::kFixedLenByteArray:
        DecodePlainFixedLenByteArray(in, element_.type_length.value_or(0), count,
                                     dictionary_.byte_arrays);
        break;
    }
    dictionary_.present = true;
    dictionary_.size = count;
  }

  void CheckSlots(std::int32_t num_values) {
    if (num_values < 0) Invalid(page_where_, "negative value count");
    const std::uint64_t left = static_cast<std::uint64_t>(meta_.num_values) - slots_;
    if (static_cast<std::uint64_t>(num_values) > left) {
      Invalid(page_where_, "page holds " + std::to_string(num_values) + " values, but only " +
                               std::to_string(left) + " of the column chunk's are left");
    }
  }

  void DecodeDataPageV1(const PageHeader& header, const DataPageHeader& page,
                        std::string_view stored) {
    CheckSlots(page.num_values);
    const auto count = static_cast<std::size_t>(page.num_values);
    const std::string_view bytes =
        Uncompressed(stored, static_cast<std::size_t>(header.uncompressed_page_size), true);
    std::size_t position = 0;
    if (column_.max_repetition_level > 0) {
      position += DecodeLevelsV1(bytes, position, page.repetition_level_encoding,
                                 column_.max_repetition_level, count, repetition_);
    }
    if (column_.max_definition_level > 0) {
      position += DecodeLevelsV1(bytes, position, page.definition_level_encoding,
                                 column_.max_definition_level, count, definition_);
    }
    FinishPage(page.encoding, bytes.substr(position), body_offset_ + position, count);
  }

  std::size_t DecodeLevelsV1(std::string_view bytes, std::size_t position, Encoding encoding,
                             std::int32_t max_level, std::size_t count,
                             std::vector<std::uint32_t>& levels) {
    const int width = BitWidth(static_cast<std::uint64_t>(max_level));
    const EncodedBytes in{bytes.substr(position), page_where_, body_offset_ + position};
    if (encoding == Encoding::kRle) return DecodeRleHybridWithLength(in, width, count, levels);
    if (encoding == Encoding::kBitPacked) {
      // The deprecated form: MSB first, no length prefix.
      const std::size_t needed = (count * static_cast<std::size_t>(width) + 7) / 8;
      if (needed > in.bytes.size()) Invalid(page_where_, "BIT_PACKED levels past the page's end");
      levels.resize(count);
      for (std::size_t i = 0; i < count; ++i) {
        std::uint32_t level = 0;
        for (int b = 0; b < width; ++b) {
          const std::size_t bit = i * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
          const auto byte = static_cast<std::uint8_t>(in.bytes[bit / 8]);
          level = (level << 1) | ((byte >> (7 - bit % 8)) & 1u);
        }
        levels[i] = level;
      }
      return needed;
    }
    Unsupported(page_where_, "level encoding " + EncodingName(encoding));
  }

  void DecodeDataPageV2(const PageHeader& header, const DataPageHeaderV2& page,
                        std::string_view stored) {
    CheckSlots(page.num_values);
    const auto count = static_cast<std::size_t>(page.num_values);
    if (page.repetition_levels_byte_length < 0 || page.definition_levels_byte_length < 0) {
      Invalid(page_where_, "negative level byte length");
    }
    const auto repetition_bytes = static_cast<std::size_t>(page.repetition_levels_byte_length);
    const auto definition_bytes = static_cast<std::size_t>(page.definition_levels_byte_length);
    if (repetition_bytes + definition_bytes > stored.size() ||
        repetition_bytes + definition_bytes >
            static_cast<std::size_t>(header.uncompressed_page_size)) {
      Invalid(page_where_, "level byte lengths are past the end of the page");
    }
    if (column_.max_repetition_level > 0) {
      DecodeRleHybrid(EncodedBytes{stored.substr(0, repetition_bytes), page_where_, body_offset_},
                      BitWidth(static_cast<std::uint64_t>(column_.max_repetition_level)), count,
                      repetition_);
    }
    if (column_.max_definition_level > 0) {
      DecodeRleHybrid(EncodedBytes{stored.substr(repetition_bytes, definition_bytes), page_where_,
                                   body_offset_ + repetition_bytes},
                      BitWidth(static_cast<std::uint64_t>(column_.max_definition_level)), count,
                      definition_);
    }
    const std::size_t levels = repetition_bytes + definition_bytes;
    const std::string_view values = Uncompressed(
        stored.substr(levels), static_cast<std::size_t>(header.uncompressed_page_size) - levels,
        page.is_compressed);
    FinishPage(page.encoding, values, body_offset_ + levels, count);
  }

  // Appends the page's levels and decodes its present values.
  void FinishPage(Encoding encoding, std::string_view values, std::uint64_t values_offset,
                  std::size_t count) {
    std::size_t present = count;
    if (column_.max_definition_level > 0) {
      const auto max = static_cast<std::uint32_t>(column_.max_definition_level);
      present = 0;
      for (std::uint32_t level : definition_) {
        if (level > max) {
          Invalid(page_where_,
                  "definition level " + std::to_string(level) + " is above " + std::to_string(max));
        }
        present += level == max;
      }
      AppendTo(out_.definition_levels, definition_);
    }
    if (column_.max_repetition_level > 0) {
      const auto max = static_cast<std::uint32_t>(column_.max_repetition_level);
      for (std::uint32_t level : repetition_) {
        if (level > max) {
          Invalid(page_where_,
                  "repetition level " + std::to_string(level) + " is above " + std::to_string(max));
        }
        rows_ += level == 0;
      }
      if (slots_ == 0 && count > 0 && repetition_[0] != 0) {
        Invalid(page_where_, "the column chunk's first value does not start a row");
      }
      AppendTo(out_.repetition_levels, repetition_);
    }
    DecodeValues(encoding, EncodedBytes{values, page_where_, values_offset}, present);
    slots_ += count;
  }

  void DecodeValues(Encoding encoding, const EncodedBytes& in, std::size_t count) {
    switch (encoding) {
      case Encoding::kPlain:
        DecodePlain(in, count);
        return;
      case Encoding::kPlainDictionary:
      case Encoding::kRleDictionary:
        DecodeDictionaryValues(in, count);
        return;
      case Encoding::kRle:
        if (column_.type != Type::kBoolean) break;
        DecodeRleHybridWithLength(in, 1, count, indices_);
        for (std::uint32_t bit : indices_) out_.booleans.push_back(static_cast<std::uint8_t>(bit));
        return;
      case Encoding::kDeltaBinaryPacked:
        if (column_.type == Type::kInt32) {
          DecodeDeltaBinaryPackedInt32(in, count, scratch_.int32s);
          CheckDecoded(scratch_.int32s.size(), count);
          AppendTo(out_.int32s, scratch_.int32s);
          return;
        }
        if (column_.type == Type::kInt64) {
          DecodeDeltaBinaryPackedInt64(in, count, scratch_.int64s);
          CheckDecoded(scratch_.int64s.size(), count);
          AppendTo(out_.int64s, scratch_.int64s);
          return;
        }
        break;
      case Encoding::kDeltaLengthByteArray:
        if (column_.type != Type::kByteArray) break;
        DecodeDeltaLengthByteArray(in, count, scratch_.byte_arrays);
        CheckDecoded(scratch_.byte_arrays.size(), count);
        AppendTo(out_.byte_arrays, scratch_.byte_arrays);
        return;
      case Encoding::kDeltaByteArray: {
        if (column_.type != Type::kByteArray && column_.type != Type::kFixedLenByteArray) break;
        std::optional<std::int32_t> fixed;
        if (column_.type == Type::kFixedLenByteArray) fixed = element_.type_length;
        std::string& storage = out_.storage.emplace_back();
        // Shared prefixes let a few bytes describe long values: the page's values may take
        // kMaxExpansion times its bytes (at least 64 MiB), and never more than kMaxPageBytes.
        const std::size_t bound =
            std::min(kMaxPageBytes,
                     std::max<std::size_t>(std::size_t{64} << 20, in.bytes.size() * kMaxExpansion));
        DecodeDeltaByteArray(in, count, bound, fixed, storage, scratch_.byte_arrays);
        CheckDecoded(scratch_.byte_arrays.size(), count);
        AppendTo(out_.byte_arrays, scratch_.byte_arrays);
        return;
      }
      case Encoding::kByteStreamSplit:
        DecodeByteStreamSplit(in, count);
        return;
      default:
        break;
    }
    Unsupported(page_where_, "encoding " + EncodingName(encoding) + " for a " +
                                 TypeName(column_.type) + " column");
  }

  void CheckDecoded(std::size_t decoded, std::size_t wanted) {
    if (decoded != wanted) {
      Invalid(page_where_, "page has " + std::to_string(decoded) + " values where its levels say " +
                               std::to_string(wanted));
    }
  }

  void DecodePlain(const EncodedBytes& in, std::size_t count) {
    switch (column_.type) {
      case Type::kBoolean:
        DecodePlainBoolean(in, count, scratch_bools_);
        AppendTo(out_.booleans, scratch_bools_);
        return;
      case Type::kInt32:
        DecodePlainInt32(in, count, scratch_.int32s);
        AppendTo(out_.int32s, scratch_.int32s);
        return;
      case Type::kInt64:
        DecodePlainInt64(in, count, scratch_.int64s);
        AppendTo(out_.int64s, scratch_.int64s);
        return;
      case Type::kInt96:
        DecodePlainInt96(in, count, scratch_.int96s);
        AppendTo(out_.int96s, scratch_.int96s);
        return;
      case Type::kFloat:
        DecodePlainFloat(in, count, scratch_.floats);
        AppendTo(out_.floats, scratch_.floats);
        return;
      case Type::kDouble:
        DecodePlainDouble(in, count, scratch_.doubles);
        AppendTo(out_.doubles, scratch_.doubles);
        return;
      case Type::kByteArray:
        DecodePlainByteArray(in, count, scratch_.byte_arrays);
        AppendTo(out_.byte_arrays, scratch_.byte_arrays);
        return;
      case Type::kFixedLenByteArray:
        DecodePlainFixedLenByteArray(in, element_.type_length.value_or(0), count,
                                     scratch_.byte_arrays);
        AppendTo(out_.byte_arrays, scratch_.byte_arrays);
        return;
    }
  }

  void DecodeDictionaryValues(const EncodedBytes& in, std::size_t count) {
    if (!dictionary_.present) {
      Invalid(page_where_, "dictionary-encoded page without a dictionary page before it");
    }
    DecodeDictionaryIndices(in, count, dictionary_.size, indices_);
    switch (column_.type) {
      case Type::kBoolean:
        break;  // refused when the dictionary page was read
      case Type::kInt32:
        Gather(out_.int32s, dictionary_.int32s, indices_);
        break;
      case Type::kInt64:
        Gather(out_.int64s, dictionary_.int64s, indices_);
        break;
      case Type::kInt96:
        Gather(out_.int96s, dictionary_.int96s, indices_);
        break;
      case Type::kFloat:
        Gather(out_.floats, dictionary_.floats, indices_);
        break;
      case Type::kDouble:
        Gather(out_.doubles, dictionary_.doubles, indices_);
        break;
      case Type::kByteArray:
      case Type::kFixedLenByteArray:
        Gather(out_.byte_arrays, dictionary_.byte_arrays, indices_);
        break;
    }
  }

  void DecodeByteStreamSplit(const EncodedBytes& in, std::size_t count) {
    switch (column_.type) {
      case Type::kFloat:
        DecodeByteStreamSplitFloat(in, count, scratch_.floats);
        AppendTo(out_.floats, scratch_.floats);
        return;
      case Type::kDouble:
        DecodeByteStreamSplitDouble(in, count, scratch_.doubles);
        AppendTo(out_.doubles, scratch_.doubles);
        return;
      case Type::kInt32:
        DecodeByteStreamSplitInt32(in, count, scratch_.int32s);
        AppendTo(out_.int32s, scratch_.int32s);
        return;
      case Type::kInt64:
        DecodeByteStreamSplitInt64(in, count, scratch_.int64s);
        AppendTo(out_.int64s, scratch_.int64s);
        return;
      case Type::kFixedLenByteArray: {
        std::string& storage = out_.storage.emplace_back();
        DecodeByteStreamSplitFixedLenByteArray(in, element_.type_length.value_or(0), count, storage,
                                               scratch_.byte_arrays);
        AppendTo(out_.byte_arrays, scratch_.byte_arrays);
        return;
      }
      default:
        Unsupported(page_where_, "BYTE_STREAM_SPLIT for a " + TypeName(column_.type) + " column");
    }
  }

  const LeafColumn& column_;
  const SchemaElement& element_;
  const ColumnMetaData& meta_;
  std::string where_;
  std::string page_where_;
  std::uint64_t body_offset_ = 0;
  ColumnData& out_;
  Dictionary dictionary_;
  std::uint64_t slots_ = 0;  // level entries decoded so far
  std::uint64_t rows_ = 0;   // rows started so far (columns with repetition)
  // Per-page scratch, reused.
  std::vector<std::uint32_t> definition_;
  std::vector<std::uint32_t> repetition_;
  std::vector<std::uint32_t> indices_;
  std::vector<std::uint8_t> scratch_bools_;
  Dictionary scratch_;
};

}  // namespace

ParquetFileReader::ParquetFileReader(ParquetFileReader&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::exchange(other.fd_, -1)),
      memory_(std::move(other.memory_)),
      file_size_(other.file_size_),
      metadata_(std::move(other.metadata_)),
      leaves_(std::move(other.leaves_)) {}

ParquetFileReader& ParquetFileReader::operator=(ParquetFileReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    name_ = std::move(other.name_);
    fd_ = std::exchange(other.fd_, -1);
    memory_ = std::move(other.memory_);
    file_size_ = other.file_size_;
    metadata_ = std::move(other.metadata_);
    leaves_ = std::move(other.leaves_);
  }
  return *this;
}

ParquetFileReader::~ParquetFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

ParquetFileReader ParquetFileReader::FromBytes(std::string bytes, std::string name) {
  ParquetFileReader reader;
  reader.name_ = std::move(name);
  reader.memory_ = std::move(bytes);
  reader.file_size_ = reader.memory_.size();
  reader.metadata_ = ReadFooter(reader.memory_, reader.name_);
  reader.leaves_ = SchemaLeaves(reader.metadata_.schema, reader.name_);
  return reader;
}

ParquetFileReader ParquetFileReader::Open(const std::string& path) {
  ParquetFileReader reader;
  reader.name_ = path;
  reader.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader.fd_ < 0) {
    throw Error(ErrorCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(reader.fd_, &info) != 0) {
    throw Error(ErrorCode::kIo, "cannot stat '" + path + "': " + std::strerror(errno));
  }
  reader.file_size_ = static_cast<std::uint64_t>(info.st_size);
  const std::uint64_t size = reader.file_size_;
  const std::string head = reader.ReadRange(0, std::min<std::uint64_t>(size, 4));
  const std::string tail =
      reader.ReadRange(size - std::min<std::uint64_t>(size, 8), std::min<std::uint64_t>(size, 8));
  const std::uint32_t footer_length = CheckFrame(head, tail, size, path);
  const std::uint64_t footer_start = size - 8 - footer_length;
  reader.metadata_ = ParseFooter(reader.ReadRange(footer_start, footer_length), footer_start, path);
  reader.leaves_ = SchemaLeaves(reader.metadata_.schema, path);
  return reader;
}

std::string ParquetFileReader::ReadRange(std::uint64_t offset, std::uint64_t size) const {
  if (offset > file_size_ || size > file_size_ - offset) {
    throw Error(ErrorCode::kInvalidArgument, name_ + ": bytes " + std::to_string(offset) + ".." +
                                                 std::to_string(offset + size) +
                                                 " are past the end of the file");
  }
  if (fd_ < 0) return memory_.substr(offset, size);
  std::string bytes(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got =
        ::pread(fd_, bytes.data() + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw Error(ErrorCode::kIo, "cannot read '" + name_ + "': " + std::strerror(errno));
    }
    if (got == 0) {
      throw Error(ErrorCode::kIo, "'" + name_ + "' is shorter than when it was opened (changed " +
                                      "by another program while being read?)");
    }
    done += static_cast<std::size_t>(got);
  }
  return bytes;
}

void ParquetFileReader::ReadColumnChunk(std::size_t row_group, std::size_t leaf,
                                        ColumnData& out) const {
  const RowGroup& group = metadata_.row_groups.at(row_group);
  const LeafColumn& column = leaves_.at(leaf);
  const ColumnMetaData& meta = *group.columns.at(leaf).meta_data;  // ReadFooter checked it is there
  std::uint64_t start = static_cast<std::uint64_t>(meta.data_page_offset);
  // Some writers put 0 in dictionary_page_offset when there is no dictionary page.
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      static_cast<std::uint64_t>(*meta.dictionary_page_offset) < start) {
    start = static_cast<std::uint64_t>(*meta.dictionary_page_offset);
  }
  out.clear();
  if (meta.num_values == 0) return;  // nothing to decode (and possibly no data page to find)
  std::string where = name_ + ": row group " + std::to_string(row_group) + ", column '" +
                      JoinPath(column.path) + "'";
  if (meta.num_values > 0 && meta.total_compressed_size <= 0) {
    Invalid(where, "column chunk of " + std::to_string(meta.num_values) + " values has no bytes");
  }
  // Every page's value count is checked against what is left of num_values before its levels
  // are allocated: bounding num_values bounds them all.
  if (static_cast<std::uint64_t>(meta.num_values) > kMaxChunkValues) {
    Unsupported(where, "column chunk of " + std::to_string(meta.num_values) +
                           " values is above the reader's limit of " +
                           std::to_string(kMaxChunkValues));
  }
  std::string& bytes = out.storage.emplace_back(
      ReadRange(start, static_cast<std::uint64_t>(meta.total_compressed_size)));
  ChunkDecoder decoder(column, metadata_.schema[column.elements.back()], meta, std::move(where),
                       out);
  decoder.Decode(bytes, start, group.num_rows);
}

}  // namespace dkdata::internal::parquet
