// formats/parquet/parquet_writer.cpp: see parquet_writer.hpp.
//
// A row group is checked whole (every column against the schema) before it is encoded. Each column
// chunk is encoded into a buffer of its own, its offsets counted from its start, and moved to
// where the chunk lands when the row group is appended to the file:
//
// - Pages are cut before the first slot at which the page already holds data_page_size bytes of
//   values counted in PLAIN size whatever their encoding (a null slot counts as one byte, so that
//   a run of nulls is cut too); in a repeated column only before a slot of repetition level 0, so
//   every page starts a row.
// - Dictionary (every type but BOOLEAN and INT96; floats keyed by their bits): pages are encoded
//   RLE_DICTIONARY and held back (the dictionary page comes first in the chunk and is known only
//   when the dictionary stops growing) until a page leaves the dictionary larger than
//   dictionary_page_limit or no longer worth it (dictionary + indices so far not smaller than the
//   same values in PLAIN). That page and the rest of the chunk are PLAIN; the dictionary page holds
//   only the entries of the pages before it, so it never passes the limit. When no page kept the
//   dictionary (a first page of unique values: the usual case of ids), the chunk has no
//   dictionary page at all.
// - Each page body (levels with their u32 lengths, then values) is compressed as one block.
// - Statistics: the values of dictionary-encoded pages are bounded by the dictionary's entries.
#include "formats/parquet/parquet_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "formats/parquet/parquet_codecs.hpp"
#include "formats/parquet/parquet_encodings.hpp"
#include "formats/parquet/thrift_compact.hpp"

namespace dkdata::internal::parquet {

namespace {

constexpr std::int32_t kMaxI32 = std::numeric_limits<std::int32_t>::max();

[[noreturn]] void Fail(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "Parquet writer: " + what);
}

// "column 'v.list.element'", for errors.
std::string ColumnName(const LeafColumn& leaf) {
  std::string name = "column '";
  name += JoinPath(leaf.path);
  name += '\'';
  return name;
}

template <typename T>
std::string PlainBytes(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

// ---- Statistics ----

// How min_value / max_value are ordered (TYPE_ORDER: the logical type's order).
enum class SortOrder {
  kNone,         // undefined: INT96, INTERVAL, FLOAT16 (no bounds written)
  kSigned,       // signed integers (plain, DATE, TIME, TIMESTAMP, DECIMAL), BOOLEAN
  kUnsigned,     // INTEGER(unsigned) / UINT_*
  kFloat,        // FLOAT, DOUBLE
  kBytes,        // BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY: unsigned byte-wise
  kSignedBytes,  // DECIMAL in bytes: big-endian two's complement
};

SortOrder ColumnSortOrder(const SchemaElement& element) {
  const std::optional<LogicalType>& logical = element.logical_type;
  const std::optional<ConvertedType>& converted = element.converted_type;
  switch (*element.type) {
    case Type::kBoolean:
      return SortOrder::kSigned;
    case Type::kInt32:
    case Type::kInt64: {
      const bool is_unsigned =
          logical ? logical->kind == LogicalTypeKind::kInteger && !logical->is_signed
                  : converted && *converted >= ConvertedType::kUint8 &&
                        *converted <= ConvertedType::kUint64;
      return is_unsigned ? SortOrder::kUnsigned : SortOrder::kSigned;
    }
    case Type::kInt96:
      return SortOrder::kNone;
    case Type::kFloat:
    case Type::kDouble:
      return SortOrder::kFloat;
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      if (logical ? logical->kind == LogicalTypeKind::kDecimal
                  : converted == ConvertedType::kDecimal) {
        return SortOrder::kSignedBytes;
      }
      if ((logical && logical->kind == LogicalTypeKind::kFloat16) ||
          converted == ConvertedType::kInterval) {
        return SortOrder::kNone;
      }
      return SortOrder::kBytes;
  }
  return SortOrder::kNone;
}

// Big-endian two's complement integers of any length (the shorter sign-extended): <0, 0, >0.
int CompareSignedBigEndian(std::string_view a, std::string_view b) {
  const bool a_negative = !a.empty() && (static_cast<std::uint8_t>(a[0]) & 0x80) != 0;
  const bool b_negative = !b.empty() && (static_cast<std::uint8_t>(b[0]) & 0x80) != 0;
  if (a_negative != b_negative) return a_negative ? -1 : 1;
  const std::uint8_t pad = a_negative ? 0xff : 0x00;
  const std::size_t n = std::max(a.size(), b.size());
  const std::size_t a_pad = n - a.size();
  const std::size_t b_pad = n - b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t x = i < a_pad ? pad : static_cast<std::uint8_t>(a[i - a_pad]);
    const std::uint8_t y = i < b_pad ? pad : static_cast<std::uint8_t>(b[i - b_pad]);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

// The least and greatest of a column chunk's values in its sort order, found over parts of them
// (the dictionary's entries stand for the values of its pages). NaN is never a bound.
template <typename T>
class ChunkBounds {
 public:
  explicit ChunkBounds(SortOrder order) : order_(order) {}

  void Add(std::span<const T> values) {
    if (order_ == SortOrder::kNone) return;
    if constexpr (std::is_same_v<T, std::uint8_t>) {  // BOOLEAN: any nonzero byte is true
      for (std::uint8_t value : values) Extend(value != 0, std::less<>());
    } else if constexpr (std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>) {
      if (order_ == SortOrder::kUnsigned) {
        ExtendAll(values, [](T a, T b) {
          using U = std::make_unsigned_t<T>;
          return static_cast<U>(a) < static_cast<U>(b);
        });
      } else {
        ExtendAll(values, std::less<>());
      }
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      for (T value : values) {
        if (!std::isnan(value)) Extend(value, std::less<>());
      }
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      // string_view compares as unsigned char (char_traits<char>), as Parquet orders bytes.
      if (order_ == SortOrder::kSignedBytes) {
        ExtendAll(values, [](std::string_view a, std::string_view b) {
          return CompareSignedBigEndian(a, b) < 0;
        });
      } else {
        ExtendAll(values, std::less<>());
      }
    }
  }

  // Sets stats' min_value and max_value, when the order has bounds and a value was added. A zero
  // float min is written -0.0 and a zero max +0.0, so that a reader comparing with either zero
  // keeps the chunk.
  void Write(Statistics& stats) const {
    if (!any_) return;
    if constexpr (std::is_same_v<T, std::string_view>) {
      stats.min_value = std::string(lo_);
      stats.max_value = std::string(hi_);
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      stats.min_value = PlainBytes(lo_ == 0 ? -T{0} : lo_);
      stats.max_value = PlainBytes(hi_ == 0 ? T{0} : hi_);
    } else {
      stats.min_value = PlainBytes(lo_);
      stats.max_value = PlainBytes(hi_);
    }
  }

 private:
  template <typename Less>
  void Extend(T value, Less less) {
    if (!any_) {
      lo_ = hi_ = value;
      any_ = true;
    } else if (less(value, lo_)) {
      lo_ = value;
    } else if (less(hi_, value)) {
      hi_ = value;
    }
  }

  template <typename Less>
  void ExtendAll(std::span<const T> values, Less less) {
    for (const T& value : values) Extend(value, less);
  }

  const SortOrder order_;
  bool any_ = false;
  T lo_{};
  T hi_{};
};

// ---- Dictionaries ----

// Whether a chunk of values of physical type T may be dictionary-encoded (DictionaryBuilder<T>):
// all but BOOLEAN and INT96.
template <typename T>
constexpr bool kDictionaryEncodable = !std::is_same_v<T, std::uint8_t> && !std::is_same_v<T, Int96>;

// PLAIN values; type_length > 0 marks FIXED_LEN_BYTE_ARRAY among the string views.
template <typename T>
void EncodePlainValues(std::span<const T> values, std::int32_t type_length, std::string& out) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    EncodePlainBoolean(values, out);
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    EncodePlainInt32(values, out);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    EncodePlainInt64(values, out);
  } else if constexpr (std::is_same_v<T, Int96>) {
    EncodePlainInt96(values, out);
  } else if constexpr (std::is_same_v<T, float>) {
    EncodePlainFloat(values, out);
  } else if constexpr (std::is_same_v<T, double>) {
    EncodePlainDouble(values, out);
  } else if (type_length > 0) {
    EncodePlainFixedLenByteArray(values, type_length, out);
  } else {
    EncodePlainByteArray(values, out);
  }
}

// ---- Output ----

// Where the file goes, and how much of it has gone.
struct Output {
  ParquetWriter::Sink sink;
  std::uint64_t offset = 0;

  void Write(std::string_view bytes) {
    if (bytes.empty()) return;
    sink(bytes);
    offset += bytes.size();
  }
};

// Slots [slot_begin, slot_end) of a column chunk and their present values.
struct PageRange {
  std::size_t slot_begin = 0;
  std::size_t slot_end = 0;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
};

// Buffers every page reuses, so that a chunk allocates only while they grow.
struct Buffers {
  std::string body;        // a page before compression
  std::string compressed;  // and after
  std::string pending;     // dictionary-encoded pages waiting for their dictionary page
  std::vector<std::uint32_t> indices;
  std::vector<PageRange> pages;
};

// ---- Validation ----

// Checks one column's data against its leaf (see the header's error list); every error names the
// column.
class ColumnCheck {
 public:
  ColumnCheck(const std::vector<SchemaElement>& schema, const LeafColumn& leaf,
              const ColumnData& data)
      : schema_(schema),
        leaf_(leaf),
        data_(data),
        max_def_(static_cast<std::uint32_t>(leaf.max_definition_level)),
        max_rep_(static_cast<std::uint32_t>(leaf.max_repetition_level)),
        values_(data.value_count(leaf.type)) {}

  void Run(std::int64_t num_rows) const {
    CheckLevelCounts();
    if (!data_.definition_levels.empty()) CheckDefinitionLevels();
    const std::size_t slots = data_.slot_count(leaf_.type);
    const std::uint64_t rows = max_rep_ > 0 ? CountRows() : slots;
    if (rows != static_cast<std::uint64_t>(num_rows)) {
      Fail(std::to_string(rows) + " rows (" + std::to_string(slots) + " slots) in a row group of " +
           std::to_string(num_rows) + " rows");
    }
    if (leaf_.type == Type::kFixedLenByteArray) CheckFixedLengths();
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    parquet::Fail(ColumnName(leaf_) + ": " + what);
  }

  void CheckLevelCounts() const {
    const std::size_t defs = data_.definition_levels.size();
    const std::size_t reps = data_.repetition_levels.size();
    if (max_def_ == 0 && defs > 0) {
      Fail(std::to_string(defs) + " definition levels, but the column has none (max 0)");
    }
    if (max_rep_ == 0 && reps > 0) {
      Fail(std::to_string(reps) + " repetition levels, but the column has none (max 0)");
    }
    if (max_def_ > 0 && defs == 0 && values_ > 0) {
      Fail(std::to_string(values_) + " " + TypeName(leaf_.type) +
           " values but no definition levels (max " + std::to_string(max_def_) + ")");
    }
    if (max_rep_ > 0 && reps != defs) {
      Fail(std::to_string(reps) + " repetition levels but " + std::to_string(defs) +
           " definition levels");
    }
  }

  void CheckDefinitionLevels() const {
    const std::vector<std::uint32_t>& def = data_.definition_levels;
    std::size_t present = 0;
    std::uint32_t highest = 0;
    for (std::uint32_t level : def) {
      present += level == max_def_ ? 1 : 0;
      highest = std::max(highest, level);
    }
    if (highest > max_def_) {
      const auto at = static_cast<std::size_t>(
          std::find_if(def.begin(), def.end(), [&](std::uint32_t l) { return l > max_def_; }) -
          def.begin());
      Fail("definition level " + std::to_string(def[at]) + " at slot " + std::to_string(at) +
           " is above the maximum " + std::to_string(max_def_));
    }
    if (present != values_) {
      Fail(std::to_string(present) + " slots have the maximum definition level (present values) " +
           "but there are " + std::to_string(values_) + " " + TypeName(leaf_.type) + " values");
    }
  }

  // The rows of a repeated column: its slots of repetition level 0. A slot continuing a list at
  // level r must have a definition level at least that of the r-th repeated element on the path
  // (the list it continues exists).
  std::uint64_t CountRows() const {
    std::vector<std::uint32_t> list_def = {0};
    std::uint32_t level = 0;
    for (std::size_t e : leaf_.elements) {
      const auto repetition = schema_[e].repetition_type.value_or(FieldRepetitionType::kRequired);
      if (repetition != FieldRepetitionType::kRequired) ++level;
      if (repetition == FieldRepetitionType::kRepeated) list_def.push_back(level);
    }
    const std::vector<std::uint32_t>& rep = data_.repetition_levels;
    const std::vector<std::uint32_t>& def = data_.definition_levels;
    std::uint64_t rows = 0;
    for (std::size_t i = 0; i < rep.size(); ++i) {
      const std::uint32_t r = rep[i];
      if (r == 0) {
        ++rows;
      } else if (r > max_rep_) {
        Fail("repetition level " + std::to_string(r) + " at slot " + std::to_string(i) +
             " is above the maximum " + std::to_string(max_rep_));
      } else if (i == 0) {
        Fail("the first slot has repetition level " + std::to_string(r) + ", not 0");
      } else if (def[i] < list_def[r]) {
        Fail("repetition level " + std::to_string(r) + " at slot " + std::to_string(i) +
             " continues a list, but its definition level " + std::to_string(def[i]) +
             " is below " + std::to_string(list_def[r]));
      }
    }
    return rows;
  }

  void CheckFixedLengths() const {
    const auto length = static_cast<std::size_t>(*schema_[leaf_.elements.back()].type_length);
    for (std::size_t i = 0; i < data_.byte_arrays.size(); ++i) {
      if (data_.byte_arrays[i].size() != length) {
        Fail("value " + std::to_string(i) + " has " + std::to_string(data_.byte_arrays[i].size()) +
             " bytes, FIXED_LEN_BYTE_ARRAY(" + std::to_string(length) + ") needs " +
             std::to_string(length));
      }
    }
  }

  const std::vector<SchemaElement>& schema_;
  const LeafColumn& leaf_;
  const ColumnData& data_;
  const std::uint32_t max_def_;
  const std::uint32_t max_rep_;
  const std::size_t values_;
};

// ---- Column chunks ----

// Encodes one column chunk of values of physical type T (BOOLEAN as std::uint8_t, byte arrays as
// std::string_view), appending it to out, and returns its metadata (offsets counted from out's
// start).
template <typename T>
class ChunkWriter {
 public:
  ChunkWriter(const SchemaElement& element, const LeafColumn& leaf, const ColumnData& data,
              std::span<const T> values, const WriterOptions& options, std::string& out,
              Buffers& buffers)
      : element_(element),
        leaf_(leaf),
        data_(data),
        values_(values),
        options_(options),
        out_(out),
        buffers_(buffers),
        type_length_(leaf.type == Type::kFixedLenByteArray ? *element.type_length : 0),
        slots_(data.definition_levels.empty() ? values.size() : data.definition_levels.size()) {}

  ColumnMetaData Write() {
    const std::uint64_t chunk_start = out_.size();
    CutPages();
    bool dictionary_page = false;
    if constexpr (kDictionaryEncodable<T>) {
      if (options_.dictionary && !values_.empty()) dictionary_page = WriteWithDictionary();
    }
    if (!dictionary_page) WritePlainPages(0);

    ColumnMetaData meta;
    meta.type = leaf_.type;
    if (dictionary_page || plain_pages_) meta.encodings.push_back(Encoding::kPlain);
    meta.encodings.push_back(Encoding::kRle);  // the levels' encoding in every page header
    if (dictionary_page) meta.encodings.push_back(Encoding::kRleDictionary);
    meta.path_in_schema = leaf_.path;
    meta.codec = options_.codec;
    meta.num_values = static_cast<std::int64_t>(slots_);
    meta.total_uncompressed_size = uncompressed_bytes_;
    meta.total_compressed_size = compressed_bytes_;
    meta.data_page_offset = static_cast<std::int64_t>(chunk_start + dictionary_page_bytes_);
    if (dictionary_page) meta.dictionary_page_offset = static_cast<std::int64_t>(chunk_start);
    if (options_.statistics) meta.statistics = ChunkStatistics();
    return meta;
  }

 private:
  // The chunk's statistics (see the header). The values in dictionary pages have the bounds of
  // the dictionary's entries, far fewer to compare.
  Statistics ChunkStatistics() const {
    Statistics stats;
    stats.null_count = static_cast<std::int64_t>(slots_ - values_.size());
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      stats.nan_count =
          std::count_if(values_.begin(), values_.end(), [](T value) { return std::isnan(value); });
    }
    ChunkBounds<T> bounds(ColumnSortOrder(element_));
    if constexpr (kDictionaryEncodable<T>) {
      bounds.Add(std::span(dictionary_.values()).first(dictionary_entries_));
    }
    bounds.Add(values_.subspan(plain_values_begin_));
    bounds.Write(stats);
    return stats;
  }

  // PLAIN bits of a value, to cut pages.
  std::uint64_t ValueBits(const T& value) const {
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      return 1;
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      return 8 * (type_length_ > 0 ? static_cast<std::uint64_t>(type_length_) : 4 + value.size());
    } else {
      return 8 * sizeof(T);
    }
  }

  void CutPages() {
    std::vector<PageRange>& pages = buffers_.pages;
    pages.clear();
    const std::uint64_t limit =
        options_.data_page_size > std::numeric_limits<std::uint64_t>::max() / 8
            ? std::numeric_limits<std::uint64_t>::max()
            : std::uint64_t{options_.data_page_size} * 8;
    const std::uint32_t* def =
        data_.definition_levels.empty() ? nullptr : data_.definition_levels.data();
    const std::uint32_t* rep =
        data_.repetition_levels.empty() ? nullptr : data_.repetition_levels.data();
    const auto max_def = static_cast<std::uint32_t>(leaf_.max_definition_level);
    PageRange page;
    std::uint64_t bits = 0;
    std::size_t v = 0;
    for (std::size_t i = 0; i < slots_; ++i) {
      if ((bits >= limit || i - page.slot_begin == static_cast<std::size_t>(kMaxI32)) &&
          i > page.slot_begin && (rep == nullptr || rep[i] == 0)) {
        page.slot_end = i;
        page.value_end = v;
        pages.push_back(page);
        page = PageRange{i, 0, v, 0};
        bits = 0;
      }
      if (def == nullptr || def[i] == max_def) {
        bits += ValueBits(values_[v++]);
      } else {
        bits += 8;
      }
    }
    page.slot_end = slots_;
    page.value_end = v;
    pages.push_back(page);  // a chunk of no slots still has one (empty) page
  }

  // Returns whether a dictionary page was written (and the pages that use it); false when the
  // dictionary was given up before any page used it, with nothing written.
  bool WriteWithDictionary() {
    DictionaryBuilder<T>& dictionary = dictionary_;
    std::size_t committed = 0;  // the entries the kept pages use
    std::uint64_t plain_bytes = 0;
    std::uint64_t dictionary_encoded_bytes = 0;
    buffers_.pending.clear();
    std::size_t p = 0;
    for (; p < buffers_.pages.size(); ++p) {
      const PageRange& page = buffers_.pages[p];
      std::vector<std::uint32_t>& indices = buffers_.indices;
      indices.clear();
      // Whether the dictionary (entries so far, with the indices of count more values) takes
      // the room of the same values in PLAIN or passes its limit: then it is given up.
      auto not_worth_it = [&](std::size_t count, std::uint64_t plain) {
        const int width = BitWidth(dictionary.size() == 0 ? 0 : dictionary.size() - 1);
        const std::uint64_t encoded =
            dictionary_encoded_bytes + 1 + (count * static_cast<std::size_t>(width) + 7) / 8;
        const std::size_t dictionary_bytes =
            type_length_ > 0 ? dictionary.size() * static_cast<std::size_t>(type_length_)
                             : dictionary.plain_size();
        return dictionary_bytes > options_.dictionary_page_limit ||
               (plain > 0 && dictionary_bytes + encoded >= plain);
      };
      // The same test at 4096 values into the page and each doubling after: a page of unique
      // values (ids, measurements) gives the dictionary up early instead of filling it whole.
      std::size_t checkpoint = page.value_begin + 4096;
      bool give_up = false;
      std::uint64_t page_plain = 0;
      for (std::size_t v = page.value_begin; v < page.value_end; ++v) {
        indices.push_back(dictionary.Add(values_[v]));
        page_plain += ValueBits(values_[v]) / 8;
        if (v + 1 == checkpoint) {
          if (not_worth_it(indices.size(), plain_bytes + page_plain)) {
            give_up = true;
            break;
          }
          checkpoint = page.value_begin + 2 * (checkpoint - page.value_begin);
        }
      }
      plain_bytes += page_plain;
      if (give_up || not_worth_it(indices.size(), plain_bytes)) break;
      const std::size_t count = indices.size();
      const int width = BitWidth(dictionary.size() == 0 ? 0 : dictionary.size() - 1);
      dictionary_encoded_bytes += 1 + (count * static_cast<std::size_t>(width) + 7) / 8;
      EncodeDataPage(page, dictionary.size(), &buffers_.pending);  // an empty page: width 0
      committed = dictionary.size();
    }
    if (committed == 0) {  // the pages held back have no values: they are rewritten PLAIN
      buffers_.pending.clear();
      uncompressed_bytes_ = 0;
      compressed_bytes_ = 0;
      return false;
    }
    std::string& body = buffers_.body;
    body.clear();
    const std::span<const T> entries(dictionary.values().data(), committed);
    EncodePlainValues(entries, type_length_, body);
    PageHeader header;
    header.type = PageType::kDictionaryPage;
    header.dictionary_page_header = DictionaryPageHeader{};
    header.dictionary_page_header->num_values = static_cast<std::int32_t>(committed);
    header.dictionary_page_header->encoding = Encoding::kPlain;
    dictionary_page_bytes_ = EmitPage(header, body, nullptr);
    out_.append(buffers_.pending);
    dictionary_entries_ = committed;
    plain_values_begin_ =
        p < buffers_.pages.size() ? buffers_.pages[p].value_begin : values_.size();
    WritePlainPages(p);
    return true;
  }

  void WritePlainPages(std::size_t first) {
    for (std::size_t p = first; p < buffers_.pages.size(); ++p) {
      EncodeDataPage(buffers_.pages[p], std::nullopt, nullptr);
      plain_pages_ = true;
    }
  }

  // A v1 data page of the page's slots: RLE_DICTIONARY with buffers_.indices when a dictionary
  // size is given, else PLAIN. Appended to pending when given, else to the chunk.
  void EncodeDataPage(const PageRange& page, std::optional<std::size_t> dictionary_size,
                      std::string* pending) {
    std::string& body = buffers_.body;
    body.clear();
    const std::size_t slots = page.slot_end - page.slot_begin;
    if (slots > static_cast<std::size_t>(kMaxI32)) {
      Fail(ColumnName(leaf_) + ": a row of " + std::to_string(slots) +
           " slots does not fit in a page (2^31-1 at most)");
    }
    if (leaf_.max_repetition_level > 0) {
      EncodeRleHybridWithLength(std::span(data_.repetition_levels).subspan(page.slot_begin, slots),
                                BitWidth(static_cast<std::uint64_t>(leaf_.max_repetition_level)),
                                body);
    }
    if (leaf_.max_definition_level > 0) {
      EncodeRleHybridWithLength(std::span(data_.definition_levels).subspan(page.slot_begin, slots),
                                BitWidth(static_cast<std::uint64_t>(leaf_.max_definition_level)),
                                body);
    }
    PageHeader header;
    header.type = PageType::kDataPage;
    header.data_page_header = DataPageHeader{};
    header.data_page_header->num_values = static_cast<std::int32_t>(slots);
    if (dictionary_size) {
      EncodeDictionaryIndices(buffers_.indices, *dictionary_size, body);
      header.data_page_header->encoding = Encoding::kRleDictionary;
    } else {
      EncodePlainValues(values_.subspan(page.value_begin, page.value_end - page.value_begin),
                        type_length_, body);
      header.data_page_header->encoding = Encoding::kPlain;
    }
    EmitPage(header, body, pending);
  }

  // Compresses body, completes header, and appends both to pending (when given) or to the chunk.
  // Returns the bytes they take in the file.
  std::uint64_t EmitPage(PageHeader& header, const std::string& body, std::string* pending) {
    if (body.size() > static_cast<std::size_t>(kMaxI32)) {
      Fail(ColumnName(leaf_) + ": a page of " + std::to_string(body.size()) +
           " bytes is above 2^31-1 bytes (a smaller data_page_size or dictionary limit helps)");
    }
    std::string_view stored = body;
    if (options_.codec != CompressionCodec::kUncompressed) {
      buffers_.compressed.clear();
      Compress(options_.codec, body, options_.compression_level, buffers_.compressed);
      stored = buffers_.compressed;
      if (stored.size() > static_cast<std::size_t>(kMaxI32)) {
        Fail(ColumnName(leaf_) + ": a compressed page of " + std::to_string(stored.size()) +
             " bytes is above 2^31-1 bytes");
      }
    }
    header.uncompressed_page_size = static_cast<std::int32_t>(body.size());
    header.compressed_page_size = static_cast<std::int32_t>(stored.size());
    CompactWriter writer;
    Encode(header, writer);
    const std::string& header_bytes = writer.bytes();
    uncompressed_bytes_ += static_cast<std::int64_t>(header_bytes.size() + body.size());
    compressed_bytes_ += static_cast<std::int64_t>(header_bytes.size() + stored.size());
    if (pending != nullptr) {
      pending->append(header_bytes);
      pending->append(stored);
    } else {
      out_.append(header_bytes);
      out_.append(stored);
    }
    return header_bytes.size() + stored.size();
  }

  const SchemaElement& element_;
  const LeafColumn& leaf_;
  const ColumnData& data_;
  const std::span<const T> values_;
  const WriterOptions& options_;
  std::string& out_;
  Buffers& buffers_;
  const std::int32_t type_length_;  // > 0 only for FIXED_LEN_BYTE_ARRAY
  const std::size_t slots_;
  // The dictionary, its entries that the dictionary page holds, and the first value after the
  // pages that use them.
  std::conditional_t<kDictionaryEncodable<T>, DictionaryBuilder<T>, std::monostate> dictionary_;
  std::size_t dictionary_entries_ = 0;
  std::size_t plain_values_begin_ = 0;
  std::int64_t uncompressed_bytes_ = 0;
  std::int64_t compressed_bytes_ = 0;
  std::uint64_t dictionary_page_bytes_ = 0;
  bool plain_pages_ = false;
};

template <typename T>
ColumnMetaData EncodeChunk(const SchemaElement& element, const LeafColumn& leaf,
                           const ColumnData& data, const std::vector<T>& values,
                           const WriterOptions& options, std::string& out, Buffers& buffers) {
  return ChunkWriter<T>(element, leaf, data, std::span<const T>(values), options, out, buffers)
      .Write();
}

ColumnMetaData EncodeColumnChunk(const SchemaElement& element, const LeafColumn& leaf,
                                 const ColumnData& data, const WriterOptions& options,
                                 std::string& out, Buffers& buffers) {
  switch (leaf.type) {
    case Type::kBoolean:
      return EncodeChunk(element, leaf, data, data.booleans, options, out, buffers);
    case Type::kInt32:
      return EncodeChunk(element, leaf, data, data.int32s, options, out, buffers);
    case Type::kInt64:
      return EncodeChunk(element, leaf, data, data.int64s, options, out, buffers);
    case Type::kInt96:
      return EncodeChunk(element, leaf, data, data.int96s, options, out, buffers);
    case Type::kFloat:
      return EncodeChunk(element, leaf, data, data.floats, options, out, buffers);
    case Type::kDouble:
      return EncodeChunk(element, leaf, data, data.doubles, options, out, buffers);
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      return EncodeChunk(element, leaf, data, data.byte_arrays, options, out, buffers);
  }
  Fail(ColumnName(leaf) + ": unknown physical type " + TypeName(leaf.type));
}

}  // namespace

struct EncodedRowGroup::Parts {
  // One column chunk as it goes in the file.
  struct Chunk {
    std::string bytes;
    ColumnMetaData meta;  // its offsets counted from the chunk's first byte
    Buffers buffers;      // the pages' buffers, reused by the next chunk encoded here
  };
  std::int64_t num_rows = 0;
  std::vector<Chunk> chunks;  // by leaf column
  bool appended = true;       // false from EncodeRowGroup until AppendRowGroup
};

EncodedRowGroup::EncodedRowGroup() = default;
EncodedRowGroup::~EncodedRowGroup() = default;
EncodedRowGroup::EncodedRowGroup(EncodedRowGroup&&) noexcept = default;
EncodedRowGroup& EncodedRowGroup::operator=(EncodedRowGroup&&) noexcept = default;

struct ParquetWriter::State {
  std::vector<SchemaElement> schema;
  std::vector<LeafColumn> leaves;
  WriterOptions options;
  Output out;
  std::unique_ptr<WorkerPool> pool;  // WriteRowGroup's, made on its first use
  EncodedRowGroup row_group;         // WriteRowGroup's
  std::int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  bool finished = false;
  bool broken = false;  // an error left the output incomplete

  void CheckUsable(std::string_view call) const {
    if (broken) Fail(std::string(call) + " after an earlier error: the output is incomplete");
    if (finished) Fail(std::string(call) + " after Finish()");
  }

  // Checks the row group whole, then encodes its column chunks into group, on pool's threads
  // when given (each chunk into a buffer of its own). Reads only what the constructor set.
  void Encode(std::span<const ColumnData> columns, std::int64_t num_rows,
              EncodedRowGroup::Parts& group, WorkerPool* pool) const {
    if (num_rows < 0) Fail("negative row count " + std::to_string(num_rows));
    if (columns.size() != leaves.size()) {
      Fail("a row group of " + std::to_string(columns.size()) + " columns, the schema has " +
           std::to_string(leaves.size()));
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
      ColumnCheck(schema, leaves[i], columns[i]).Run(num_rows);
    }
    group.appended = true;  // until encoded whole
    group.num_rows = num_rows;
    group.chunks.resize(columns.size());
    auto encode = [&](std::size_t i) {
      EncodedRowGroup::Parts::Chunk& chunk = group.chunks[i];
      chunk.bytes.clear();
      chunk.meta = EncodeColumnChunk(schema[leaves[i].elements.back()], leaves[i], columns[i],
                                     options, chunk.bytes, chunk.buffers);
    };
    if (pool != nullptr) {
      pool->Run(columns.size(), encode);
    } else {
      for (std::size_t i = 0; i < columns.size(); ++i) encode(i);
    }
    group.appended = false;
  }

  // Writes an encoded row group, its chunks' offsets moved to where they land.
  void Append(EncodedRowGroup::Parts& encoded) {
    RowGroup group;
    group.num_rows = encoded.num_rows;
    group.file_offset = static_cast<std::int64_t>(out.offset);
    std::int64_t compressed = 0;
    for (EncodedRowGroup::Parts::Chunk& encoded_chunk : encoded.chunks) {
      ColumnChunk chunk;
      chunk.meta_data = std::move(encoded_chunk.meta);
      const auto start = static_cast<std::int64_t>(out.offset);
      chunk.meta_data->data_page_offset += start;
      if (chunk.meta_data->dictionary_page_offset)
        *chunk.meta_data->dictionary_page_offset += start;
      out.Write(encoded_chunk.bytes);
      group.total_byte_size += chunk.meta_data->total_uncompressed_size;
      compressed += chunk.meta_data->total_compressed_size;
      group.columns.push_back(std::move(chunk));
    }
    group.total_compressed_size = compressed;
    if (row_groups.size() <= static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
      group.ordinal = static_cast<std::int16_t>(row_groups.size());
    }
    row_groups.push_back(std::move(group));
    num_rows += encoded.num_rows;
    encoded.appended = true;
  }
};

ParquetWriter::ParquetWriter(std::vector<SchemaElement> schema, WriterOptions options, Sink sink)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.leaves = SchemaLeaves(schema, "Parquet writer");
  s.schema = std::move(schema);
  if (!CodecAvailable(options.codec)) {
    Fail("codec " + CompressionCodecName(options.codec) + " is not available in this build");
  }
  std::string scratch;
  Compress(options.codec, "", options.compression_level, scratch);  // checks the level
  s.options = std::move(options);
  s.out.sink = std::move(sink);
  s.out.Write(kParquetMagic);
}

ParquetWriter::~ParquetWriter() = default;

const std::vector<LeafColumn>& ParquetWriter::leaves() const {
  return state_->leaves;
}

std::uint64_t ParquetWriter::bytes_written() const {
  return state_->out.offset;
}

void ParquetWriter::WriteRowGroup(std::span<const ColumnData> columns, std::int64_t num_rows) {
  State& s = *state_;
  s.CheckUsable("WriteRowGroup");
  try {
    const unsigned threads = WorkerPool::ThreadsFor(s.options.threads);
    if (threads > 1 && !s.pool) s.pool = std::make_unique<WorkerPool>(threads);
    if (!s.row_group.parts_) s.row_group.parts_ = std::make_unique<EncodedRowGroup::Parts>();
    s.Encode(columns, num_rows, *s.row_group.parts_, s.pool.get());
    s.Append(*s.row_group.parts_);
  } catch (...) {
    s.broken = true;
    throw;
  }
}

void ParquetWriter::EncodeRowGroup(std::span<const ColumnData> columns, std::int64_t num_rows,
                                   EncodedRowGroup& encoded) const {
  if (!encoded.parts_) encoded.parts_ = std::make_unique<EncodedRowGroup::Parts>();
  state_->Encode(columns, num_rows, *encoded.parts_, nullptr);
}

void ParquetWriter::AppendRowGroup(EncodedRowGroup& encoded) {
  State& s = *state_;
  s.CheckUsable("AppendRowGroup");
  if (!encoded.parts_ || encoded.parts_->appended) {
    Fail("AppendRowGroup of a row group that EncodeRowGroup did not encode, or appended already");
  }
  try {
    s.Append(*encoded.parts_);
  } catch (...) {
    s.broken = true;
    throw;
  }
}

void ParquetWriter::Finish() {
  State& s = *state_;
  s.CheckUsable("Finish");
  try {
    FileMetaData metadata;
    metadata.version = 1;  // parquet.thrift: "writers should always populate 1"
    metadata.schema = s.schema;
    metadata.num_rows = s.num_rows;
    metadata.row_groups = std::move(s.row_groups);
    metadata.key_value_metadata = s.options.key_value_metadata;
    metadata.created_by = s.options.created_by;
    metadata.column_orders.assign(s.leaves.size(), ColumnOrder::kTypeDefinedOrder);
    CompactWriter writer;
    Encode(metadata, writer);
    const std::string& footer = writer.bytes();
    if (footer.size() > std::numeric_limits<std::uint32_t>::max()) {
      Fail("a footer of " + std::to_string(footer.size()) + " bytes does not fit its u32 length");
    }
    const auto length = static_cast<std::uint32_t>(footer.size());
    std::string trailer(4, '\0');
    std::memcpy(trailer.data(), &length, 4);  // little-endian host (see parquet_encodings.cpp)
    trailer.append(kParquetMagic);
    s.out.Write(footer);
    s.out.Write(trailer);
    s.finished = true;
  } catch (...) {
    s.broken = true;
    throw;
  }
}

}  // namespace dkdata::internal::parquet
