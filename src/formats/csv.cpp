// CSV and linear TSV reading and writing of records (see formats/csv.hpp and docs/csv-format.md).
//
// Reading is two layers. CsvTokenizer cuts the byte stream into rows of cells: it scans for the
// few bytes that matter (delimiter, quote or backslash, CR, LF, and non-ASCII bytes, whose UTF-8
// it validates) sixteen bytes at a time, and hands out cells as views into its buffer; only a cell
// with escapes is copied, into a scratch string reused from row to row. A row cut by the end of
// the buffer is parsed again from its start once more bytes are in. RowDecoder then turns the
// cells of a row into a Record, following the column types of the header.
//
// Writing plans the columns first (names in first-seen order, one type per column, whether
// versions and metadata need columns) in one pass over the records, then encodes rows into a
// buffer that is handed to the OutputStream in large pieces.
#include "formats/csv.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/value.hpp"
#include "formats/number_text.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dkdata::internal {

namespace {

constexpr std::string_view kIdColumn = "__id__";
constexpr std::string_view kVersionColumn = "__version__";
constexpr std::string_view kMetadataColumn = "__metadata__";

// TSV's whole-cell markers: null and the empty string.
constexpr std::string_view kTsvNull = "\\N";
constexpr std::string_view kTsvEmpty = "\\E";

// The reader's buffer starts at this size and doubles for rows that do not fit.
constexpr std::size_t kInitialReadBuffer = std::size_t{1} << 20;
// The writer hands its buffer to the stream once it holds this much.
constexpr std::size_t kWriteFlushSize = kStreamBufferSize;

// Cells longer than this are shortened in messages.
constexpr std::size_t kMaxQuotedInMessage = 60;

[[noreturn]] void ThrowInvalid(std::string message) {
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

void ValidateDialect(const CsvDialect& dialect) {
  const char d = dialect.delimiter;
  if (dialect.tsv && d != '\t') {
    ThrowInvalid("a TSV dialect must use the tab as its delimiter");
  }
  if (d == '"' || d == '\n' || d == '\r' || d == '\\' || static_cast<unsigned char>(d) >= 0x80) {
    ThrowInvalid("'" + std::string(1, d) + "' cannot be a CSV delimiter");
  }
}

// ---------------------------------------------------------------------------------------------
// UTF-8 and byte scanning
// ---------------------------------------------------------------------------------------------

// The length a UTF-8 sequence with this lead byte has, or 0 when no sequence starts with it.
std::size_t Utf8LengthFromLead(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) that starts with a non-ASCII byte at s, or 0 when it is malformed.
std::size_t Utf8SequenceLength(const unsigned char* s, std::size_t available) {
  const std::size_t length = Utf8LengthFromLead(s[0]);
  if (length == 0 || available < length) return 0;
  unsigned char low = 0x80;  // the range of the second byte
  unsigned char high = 0xBF;
  if (s[0] == 0xE0) low = 0xA0;
  if (s[0] == 0xED) high = 0x9F;
  if (s[0] == 0xF0) low = 0x90;
  if (s[0] == 0xF4) high = 0x8F;
  if (s[1] < low || s[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Finds the first byte that is one of four given bytes or is not ASCII.
class ByteFinder {
 public:
  ByteFinder(char a, char b, char c, char d) {
    for (char x : {a, b, c, d}) table_[static_cast<unsigned char>(x)] = true;
    for (int i = 0x80; i < 0x100; ++i) table_[i] = true;
#if defined(__SSE2__)
    a_ = _mm_set1_epi8(a);
    b_ = _mm_set1_epi8(b);
    c_ = _mm_set1_epi8(c);
    d_ = _mm_set1_epi8(d);
#endif
  }

  // The first such byte in [p, end), or end.
  const char* Find(const char* p, const char* end) const {
#if defined(__SSE2__)
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, a_), _mm_cmpeq_epi8(v, b_)),
                                        _mm_or_si128(_mm_cmpeq_epi8(v, c_), _mm_cmpeq_epi8(v, d_)));
      // movemask of v itself gives the bytes with the high bit set: the non-ASCII ones.
      const int mask = _mm_movemask_epi8(hits) | _mm_movemask_epi8(v);
      if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#endif
    while (p < end && !table_[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }

 private:
  std::array<bool, 256> table_{};
#if defined(__SSE2__)
  __m128i a_, b_, c_, d_;
#endif
};

// 'text' for messages, shortened (at a character boundary) when long.
std::string Shown(std::string_view text) {
  std::string shown = "'";
  if (text.size() <= kMaxQuotedInMessage) {
    shown += text;
  } else {
    std::size_t cut = kMaxQuotedInMessage;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    shown += text.substr(0, cut);
    shown += "...";
  }
  shown += "'";
  return shown;
}

std::string Quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

// What a cell says before the column's type is applied.
enum class CellKind : std::uint8_t {
  kAbsent,  // empty (unquoted): the field is not in the record
  kNull,    // `null` unquoted (CSV) or `\N` (TSV)
  kBare,    // unquoted text: may be inferred as a number or boolean in an untyped column
  kQuoted,  // quoted text (CSV) or `\E` (TSV): always text
};

struct Cell {
  std::string_view text;
  CellKind kind = CellKind::kAbsent;
};

// The cells of one row. Its storage only grows, so that rows after the first allocate nothing.
class CellRow {
 public:
  void clear() { size_ = 0; }
  [[gnu::always_inline]] void push_back(std::string_view text, CellKind kind) {
    if (size_ == cells_.size()) Grow();
    cells_[size_++] = Cell{text, kind};
  }
  std::size_t size() const { return size_; }
  const Cell& operator[](std::size_t i) const { return cells_[i]; }
  const Cell* begin() const { return cells_.data(); }
  const Cell* end() const { return cells_.data() + size_; }

 private:
  void Grow() { cells_.resize(cells_.size() * 2 + 16); }

  std::vector<Cell> cells_;
  std::size_t size_ = 0;
};

// Thrown by a tokenizer reading a part of a file (see CsvTokenizer::ForPart) whose end falls
// inside a quoted cell: the part was not cut at the end of a row.
struct PartEndsInQuotedCell {};

class CsvTokenizer {
 public:
  CsvTokenizer(InputStream& in, const CsvDialect& dialect, std::string_view source)
      : in_(in),
        source_(source),
        delimiter_(dialect.delimiter),
        tsv_(dialect.tsv),
        bare_finder_(dialect.delimiter, dialect.tsv ? '\\' : '"', '\n', '\r'),
        quoted_finder_('"', '"', '\n', '"'),
        capacity_(kInitialReadBuffer),
        buffer_(new char[capacity_]) {}

  // Reads a part of a file cut after a line end, whose first line is first_line: no byte-order
  // mark is looked for, and, unless the part is the file's last, a quoted cell still open at its
  // end throws PartEndsInQuotedCell rather than an error.
  void ForPart(std::size_t first_line, bool last) {
    line_ = row_line_ = first_line;
    part_ = true;
    last_part_ = last;
  }
  // The line at the first byte not yet parsed.
  std::size_t line() const { return line_; }
  // The bytes read but not parsed yet, taken out of the tokenizer (which must not be used again).
  std::string TakeUnparsed() {
    std::string rest(buffer_.get() + begin_, end_ - begin_);
    begin_ = end_;
    return rest;
  }

  // The names of the columns, for messages, and the most cells a row may have. Unset (for the
  // header row), cells are named by their position and there is no limit.
  void SetColumns(const std::vector<std::string>* names) { names_ = names; }

  // Reads the next row that is not blank into cells (views valid until the next call). Returns
  // false at the end of the input; line is the 1-based line where the row starts.
  bool NextRow(CellRow& cells, std::size_t& line) {
    if (!started_) Start();
    for (;;) {
      const Parse result = tsv_ ? ParseTsvRow(cells) : ParseCsvRow(cells);
      switch (result) {
        case Parse::kRow:
          line = row_line_;
          return true;
        case Parse::kBlank:
          break;
        case Parse::kEnd:
          return false;
        case Parse::kMore:
          ReadMore();
          break;
      }
    }
  }

  // Whether every byte of the input has been read into the buffer (so that what is left is small).
  bool read_everything() const { return eof_; }

  // "people.csv:12: column 'age': " for messages about a cell.
  std::string Where(std::size_t line, std::size_t cell_index) const {
    std::string where = std::string(source_) + ":" + std::to_string(line) + ": column ";
    if (names_ != nullptr && cell_index < names_->size()) {
      where += Quoted((*names_)[cell_index]);
    } else {
      where += std::to_string(cell_index + 1);
    }
    return where + ": ";
  }

 private:
  enum class Parse { kRow, kBlank, kEnd, kMore };

  void Start() {
    started_ = true;
    ReadMore();
    if (!part_ && end_ >= 3 && std::memcmp(buffer_.get(), "\xEF\xBB\xBF", 3) == 0)
      begin_ = 3;  // BOM
  }

  // Keeps the unparsed bytes, makes room (doubling the buffer when a row fills it) and reads until
  // the buffer is full or the input ends: filling it keeps re-parsing of long rows linear.
  void ReadMore() {
    if (eof_) return;
    if (begin_ > 0) {
      std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == capacity_) {
      auto bigger = std::unique_ptr<char[]>(new char[capacity_ * 2]);
      std::memcpy(bigger.get(), buffer_.get(), end_);
      buffer_ = std::move(bigger);
      capacity_ *= 2;
    }
    while (end_ < capacity_) {
      const std::size_t got = in_.Read(buffer_.get() + end_, capacity_ - end_);
      if (got == 0) {
        eof_ = true;
        break;
      }
      end_ += got;
    }
  }

  // At a CR or LF: moves p past the line end (CRLF, LF or a lone CR). False when the input may
  // continue with an LF that is not read yet.
  bool SkipLineEnd(const char*& p, const char* end) const {
    if (*p == '\n') {
      ++p;
      return true;
    }
    if (p + 1 == end && !eof_) return false;
    ++p;
    if (p < end && *p == '\n') ++p;
    return true;
  }

  // At a non-ASCII byte of the cell starting at cell_start: moves p past its UTF-8 sequence.
  // False when the sequence may continue past the bytes read so far.
  bool SkipUtf8(const char*& p, const char* end, const char* cell_start, std::size_t cell_index) {
    const auto* s = reinterpret_cast<const unsigned char*>(p);
    const std::size_t available = static_cast<std::size_t>(end - p);
    const std::size_t length = Utf8SequenceLength(s, available);
    if (length == 0) {
      if (!eof_ && available < Utf8LengthFromLead(s[0])) return false;
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", s[0]);
      ThrowInvalid(Where(line_, cell_index) + "invalid UTF-8 (byte " + hex + " at byte " +
                   std::to_string(p - cell_start) + " of the cell)");
    }
    p += length;
    return true;
  }

  [[noreturn]] void ThrowTooManyCells(std::size_t cells) const {
    ThrowInvalid(std::string(source_) + ":" + std::to_string(line_) +
                 ": the row has more cells than the header's " + std::to_string(cells) +
                 " columns");
  }

  // A blank line (nothing before its line end) at p; kMore when the line end is not all read.
  Parse SkipBlankLine(const char* p, const char* end) {
    if (!SkipLineEnd(p, end)) return Parse::kMore;
    begin_ = static_cast<std::size_t>(p - buffer_.get());
    ++line_;
    return Parse::kBlank;
  }

  // Ends a row whose last cell ends at p (at a line end or the end of the input).
  Parse EndRow(const char* p, const char* end, std::size_t newlines_inside) {
    if (p < end && !SkipLineEnd(p, end)) return Parse::kMore;
    begin_ = static_cast<std::size_t>(p - buffer_.get());
    row_line_ = line_;
    line_ += newlines_inside + 1;
    return Parse::kRow;
  }

  std::size_t MaxCells() const {
    return names_ != nullptr ? names_->size() : std::numeric_limits<std::size_t>::max();
  }

  // A scratch string for the unescaped text of a cell (a deque: views stay valid as it grows).
  std::string& Scratch(std::size_t cell_index) {
    while (scratch_.size() <= cell_index) scratch_.emplace_back();
    std::string& s = scratch_[cell_index];
    s.clear();
    return s;
  }

  Parse ParseCsvRow(CellRow& cells) {
    cells.clear();
    const char* p = buffer_.get() + begin_;
    const char* const end = buffer_.get() + end_;
    if (p == end) return eof_ ? Parse::kEnd : Parse::kMore;
    if (*p == '\n' || *p == '\r') return SkipBlankLine(p, end);
    const std::size_t max_cells = MaxCells();
    std::size_t newlines = 0;  // inside quoted cells
    for (;;) {
      const std::size_t index = cells.size();
      if (index == max_cells) ThrowTooManyCells(max_cells);
      if (p < end && *p == '"') {
        const char* const start = ++p;
        bool escaped = false;
        for (;;) {
          p = quoted_finder_.Find(p, end);
          if (p == end) {
            if (!eof_) return Parse::kMore;
            if (part_ && !last_part_) throw PartEndsInQuotedCell{};
            ThrowInvalid(Where(line_, index) + "unterminated quoted cell (no closing quote)");
          }
          if (*p == '"') {
            if (p + 1 == end && !eof_) return Parse::kMore;
            if (p + 1 < end && p[1] == '"') {
              escaped = true;
              p += 2;
              continue;
            }
            break;
          }
          if (*p == '\n') {
            ++newlines;
            ++p;
          } else if (!SkipUtf8(p, end, start, index)) {
            return Parse::kMore;
          }
        }
        std::string_view text(start, static_cast<std::size_t>(p - start));
        ++p;  // the closing quote
        if (p < end && *p != delimiter_ && *p != '\n' && *p != '\r') {
          ThrowInvalid(Where(line_, index) +
                       "unexpected character after the closing quote (a quote inside a quoted "
                       "cell is written as two quotes)");
        }
        if (escaped) text = UnescapeCsv(text, index);
        cells.push_back(text, CellKind::kQuoted);
      } else {
        const char* const start = p;
        for (;;) {
          p = bare_finder_.Find(p, end);
          if (p == end) {
            if (!eof_) return Parse::kMore;
            break;
          }
          const char c = *p;
          if (c == delimiter_ || c == '\n' || c == '\r') break;
          if (c == '"') {
            ++p;  // a quote inside an unquoted cell is kept as it is
          } else if (!SkipUtf8(p, end, start, index)) {
            return Parse::kMore;
          }
        }
        const std::string_view text(start, static_cast<std::size_t>(p - start));
        CellKind kind = CellKind::kBare;
        if (text.empty()) {
          kind = CellKind::kAbsent;
        } else if (text == "null") {
          kind = CellKind::kNull;
        }
        cells.push_back(text, kind);
      }
      if (p < end && *p == delimiter_) {
        ++p;
        continue;
      }
      return EndRow(p, end, newlines);
    }
  }

  std::string_view UnescapeCsv(std::string_view text, std::size_t index) {
    std::string& out = Scratch(index);
    out.reserve(text.size());
    std::size_t start = 0;
    for (std::size_t q = text.find('"'); q != std::string_view::npos; q = text.find('"', start)) {
      out.append(text.data() + start, q + 1 - start);  // up to and with the first quote of a pair
      start = q + 2;
    }
    out.append(text.data() + start, text.size() - start);
    return out;
  }

  static bool IsTsvEscapeLetter(char c) {
    return c == '\\' || c == 't' || c == 'n' || c == 'r' || c == 'N' || c == 'E';
  }

  Parse ParseTsvRow(CellRow& cells) {
    cells.clear();
    const char* p = buffer_.get() + begin_;
    const char* const end = buffer_.get() + end_;
    if (p == end) return eof_ ? Parse::kEnd : Parse::kMore;
    if (*p == '\n' || *p == '\r') return SkipBlankLine(p, end);
    const std::size_t max_cells = MaxCells();
    for (;;) {
      const std::size_t index = cells.size();
      if (index == max_cells) ThrowTooManyCells(max_cells);
      const char* const start = p;
      bool escaped = false;
      for (;;) {
        p = bare_finder_.Find(p, end);
        if (p == end) {
          if (!eof_) return Parse::kMore;
          break;
        }
        const char c = *p;
        if (c == delimiter_ || c == '\n' || c == '\r') break;
        if (c == '\\') {
          if (p + 1 == end && !eof_) return Parse::kMore;
          escaped = true;
          // An unknown escape keeps its backslash and leaves the next byte to be scanned.
          p += (p + 1 < end && IsTsvEscapeLetter(p[1])) ? 2 : 1;
        } else if (!SkipUtf8(p, end, start, index)) {
          return Parse::kMore;
        }
      }
      const std::string_view text(start, static_cast<std::size_t>(p - start));
      if (text.empty()) {
        cells.push_back(text, CellKind::kAbsent);
      } else if (text == kTsvNull) {
        cells.push_back(text, CellKind::kNull);
      } else if (text == kTsvEmpty) {
        cells.push_back(std::string_view(), CellKind::kQuoted);
      } else {
        cells.push_back(escaped ? UnescapeTsv(text, index) : text, CellKind::kBare);
      }
      if (p < end && *p == delimiter_) {
        ++p;
        continue;
      }
      return EndRow(p, end, 0);
    }
  }

  std::string_view UnescapeTsv(std::string_view text, std::size_t index) {
    std::string& out = Scratch(index);
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\' || i + 1 == text.size()) {
        out += text[i];
        continue;
      }
      switch (text[i + 1]) {
        case '\\':
          out += '\\';
          break;
        case 't':
          out += '\t';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        default:  // \N, \E inside a longer cell and unknown escapes are kept as they are
          out += '\\';
          continue;
      }
      ++i;
    }
    return out;
  }

  InputStream& in_;
  std::string_view source_;
  const char delimiter_;
  const bool tsv_;
  const ByteFinder bare_finder_;    // ends of unquoted cells, quotes or backslashes, non-ASCII
  const ByteFinder quoted_finder_;  // quotes, LFs (counted as lines), non-ASCII
  const std::vector<std::string>* names_ = nullptr;

  std::size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;  // the first byte not parsed yet
  std::size_t end_ = 0;    // the end of the bytes read
  bool eof_ = false;
  bool started_ = false;
  bool part_ = false;         // see ForPart
  bool last_part_ = false;    // see ForPart
  std::size_t line_ = 1;      // the line at begin_
  std::size_t row_line_ = 1;  // the line where the last row returned starts
  std::deque<std::string> scratch_;
};

// ---------------------------------------------------------------------------------------------
// Cell values
// ---------------------------------------------------------------------------------------------

// Why a cell could not be read; the row decoder adds the file, line and column.
struct CellFailure {
  std::string reason;
};

[[noreturn]] void FailCell(std::string reason) {
  throw CellFailure{std::move(reason)};
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t i = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, i);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return i;
}

std::optional<double> ParseFiniteDouble(std::string_view text) {
  double d = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, d, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (EqualsIgnoreCase(text, "true")) return true;
  if (EqualsIgnoreCase(text, "false")) return false;
  return std::nullopt;
}

// A vector cell: a JSON list of numbers, read as float32 exactly as written.
Vector ParseVectorCell(std::string_view text) {
  auto fail = [&]() { FailCell(Shown(text) + " is not a vector (a JSON list of numbers)"); };
  auto skip_space = [&](std::size_t& i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  };
  Vector vector;
  std::size_t i = 0;
  skip_space(i);
  if (i == text.size() || text[i] != '[') fail();
  ++i;
  skip_space(i);
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip_space(i);
      float f = 0;
      const char* const begin = text.data() + i;
      const auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), f);
      if (ec != std::errc() || ptr == begin || !std::isfinite(f)) fail();
      vector.push_back(f);
      i = static_cast<std::size_t>(ptr - text.data());
      skip_space(i);
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      fail();
    }
  }
  skip_space(i);
  if (i != text.size()) fail();
  return vector;
}

Value ParseJsonCell(std::string_view text) {
  try {
    return ParseJson(text);
  } catch (const Error& error) {
    FailCell(Shown(text) + " is not valid JSON (" + error.what() + ")");
  }
}

bool IsStringType(FieldType type) {
  return type == FieldType::kString || type == FieldType::kText;
}

// Sets field to a scalar of the given kind (boxed false).
void SetScalar(CsvField& field, ValueKind kind) {
  field.kind = kind;
  field.boxed = false;
}

// Sets field to a value held in field.value (boxed).
void SetBoxed(CsvField& field, Value value) {
  field.value = std::move(value);
  field.kind = field.value.kind();
  field.boxed = true;
}

// Reads a text cell in a column (or under a type tag) of the given type into field.
void DecodeTypedInto(std::string_view text, FieldType type, CsvField& field) {
  field.type = type;
  switch (type) {
    case FieldType::kString:
    case FieldType::kText:
      field.text = text;
      return SetScalar(field, ValueKind::kString);
    case FieldType::kInteger:
      if (auto i = ParseInt(text)) {
        field.integer = *i;
        return SetScalar(field, ValueKind::kInt);
      }
      FailCell(Shown(text) + " is not an integer");
    case FieldType::kFloat:
      if (auto d = ParseFiniteDouble(text)) {
        field.number = *d;
        return SetScalar(field, ValueKind::kFloat);
      }
      FailCell(Shown(text) + " is not a finite float");
    case FieldType::kBoolean:
      if (auto b = ParseBool(text)) {
        field.boolean = *b;
        return SetScalar(field, ValueKind::kBool);
      }
      FailCell(Shown(text) + " is not a boolean (true or false)");
    case FieldType::kDatetime:
      if (auto t = Timestamp::Parse(text)) {
        field.integer = t->micros;
        return SetScalar(field, ValueKind::kTimestamp);
      }
      FailCell(Shown(text) + " is not an ISO-8601 datetime");
    case FieldType::kBinary:
      if (auto b = Base64Decode(text)) return SetBoxed(field, Value(Bytes{std::move(*b)}));
      FailCell(Shown(text) + " is not base64");
    case FieldType::kVector:
      return SetBoxed(field, Value(ParseVectorCell(text)));
    case FieldType::kJson:
    case FieldType::kSparseVector:
      return SetBoxed(field, ParseJsonCell(text));
  }
  FailCell("unknown field type");
}

// Makes out the value field holds (moving it out when boxed), reusing out's string buffer.
void AssignValue(CsvField& field, Value& out) {
  if (field.boxed) {
    out = std::move(field.value);
    return;
  }
  switch (field.kind) {
    case ValueKind::kBool:
      out = field.boolean;
      return;
    case ValueKind::kInt:
      out = field.integer;
      return;
    case ValueKind::kFloat:
      out = field.number;
      return;
    case ValueKind::kString:
      out.AssignString(field.text);
      return;
    case ValueKind::kTimestamp:
      out = Timestamp{field.integer};
      return;
    default:
      out = Value();
      return;
  }
}

// The value of a text cell in a column (or under a type tag) of the given type.
Value DecodeTyped(std::string_view text, FieldType type) {
  CsvField field;
  DecodeTypedInto(text, type, field);
  Value value;
  AssignValue(field, value);
  return value;
}

// The type a `:json` column gives a value when no type tag says otherwise.
FieldType NaturalJsonType(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kBytes: {
      const std::size_t base64_size = (value.Get<Bytes>()->data.size() + 2) / 3 * 4;
      return base64_size > kTextThreshold ? FieldType::kText : FieldType::kString;
    }
    case ValueKind::kTimestamp:
      return FieldType::kString;
    case ValueKind::kVector:
      return FieldType::kJson;  // a JSON list
    default:
      return DetectFieldType(value);
  }
}

// A cell of a `:json` column: the JSON of the value, whose type is detected from it unless a type
// tag (from `__metadata__`) names the type the value had.
Value DecodeJsonColumn(std::string_view text, std::optional<FieldType> tag, FieldType& type) {
  if (tag == FieldType::kVector) {
    type = *tag;
    return Value(ParseVectorCell(text));
  }
  Value value = ParseJsonCell(text);
  if (!tag) {
    type = DetectFieldType(value);
    return value;
  }
  type = *tag;
  switch (*tag) {
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kDatetime:
    case FieldType::kBinary:
      if (const auto* s = value.Get<std::string>()) return DecodeTyped(*s, *tag);
      FailCell(Shown(text) + " is not a JSON string, as a " + std::string(FieldTypeName(*tag)) +
               " must be here");
    case FieldType::kFloat:
      if (const auto* i = value.Get<std::int64_t>()) return Value(static_cast<double>(*i));
      if (value.kind() == ValueKind::kFloat) return value;
      FailCell(Shown(text) + " is not a float");
    case FieldType::kInteger:
      if (value.kind() == ValueKind::kInt) return value;
      FailCell(Shown(text) + " is not an integer");
    case FieldType::kBoolean:
      if (value.kind() == ValueKind::kBool) return value;
      FailCell(Shown(text) + " is not a boolean (true or false)");
    default:
      return value;
  }
}

// Whether text is a number by the JSON grammar; sets is_integer when it has no fraction or
// exponent.
bool IsJsonNumber(std::string_view s, bool& is_integer) {
  std::size_t i = 0;
  const auto digit = [&](std::size_t at) { return at < s.size() && s[at] >= '0' && s[at] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  is_integer = true;
  if (i < s.size() && s[i] == '.') {
    is_integer = false;
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    is_integer = false;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

FieldType TextType(std::string_view text) {
  return text.size() > kTextThreshold ? FieldType::kText : FieldType::kString;
}

// Reads an unquoted cell in a column without a type into field: a JSON-grammar integer that fits
// int64, a finite JSON-grammar float, true/false (any case), else the text.
void DecodeInferredInto(std::string_view text, CsvField& field) {
  const char c = text[0];
  if (c == '-' || (c >= '0' && c <= '9')) {
    bool is_integer = false;
    if (IsJsonNumber(text, is_integer)) {
      if (is_integer) {
        if (auto i = ParseInt(text)) {
          field.type = FieldType::kInteger;
          field.integer = *i;
          return SetScalar(field, ValueKind::kInt);
        }
      } else if (auto d = ParseFiniteDouble(text)) {
        field.type = FieldType::kFloat;
        field.number = *d;
        return SetScalar(field, ValueKind::kFloat);
      }
    }
  } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
    if (auto b = ParseBool(text)) {
      field.type = FieldType::kBoolean;
      field.boolean = *b;
      return SetScalar(field, ValueKind::kBool);
    }
  }
  field.type = TextType(text);
  field.text = text;
  SetScalar(field, ValueKind::kString);
}

// ---------------------------------------------------------------------------------------------
// Reading: header and rows
// ---------------------------------------------------------------------------------------------

struct Column {
  enum class Role : std::uint8_t { kId, kVersion, kMetadata, kField };
  Role role = Role::kField;
  std::string name;               // the field name: the header text without its type suffix
  std::optional<FieldType> type;  // nullopt: inferred per cell
};

// "name:type" → {"name", type} when the suffix is a type name; otherwise the whole text, untyped.
std::pair<std::string_view, std::optional<FieldType>> SplitTypeSuffix(std::string_view header) {
  const std::size_t colon = header.rfind(':');
  if (colon == std::string_view::npos) return {header, std::nullopt};
  const std::optional<FieldType> type = ParseFieldType(header.substr(colon + 1));
  if (!type) return {header, std::nullopt};
  return {header.substr(0, colon), type};
}

// The field at position used of a record being refilled (renamed when its name differs), or a new
// one at the end.
Field& RefillField(std::vector<Field>& fields, std::size_t& used, const std::string& name) {
  if (used == fields.size()) {
    // Built by its constructor: a default-constructed Field zero-fills first, which costs more
    // than the rest of a small cell.
    fields.emplace_back(name, Value(), FieldType::kString);
  } else if (fields[used].name != name) {
    fields[used].name.assign(name);
  }
  return fields[used++];
}

}  // namespace

void CsvRowToRecord(CsvRow& row, const std::vector<std::string>& names, Record& record) {
  if (row.has_id) {
    record.set_id(row.id);
  } else {
    record.clear_id();
  }
  record.set_version(row.version);
  record.metadata() = std::move(row.metadata);
  std::vector<Field>& fields = record.mutable_fields();
  std::size_t used = 0;
  for (std::size_t i = 0; i < row.field_count; ++i) {
    CsvField& from = row.fields[i];
    Field& field = RefillField(fields, used, names[from.column]);
    field.type = from.type;
    AssignValue(from, field.value);
    field.metadata = std::move(from.metadata);
  }
  fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(used), fields.end());
}

namespace {

class RowDecoder {
 public:
  RowDecoder(const CellRow& header, std::size_t header_line, const CsvOptions& options,
             std::string_view source) {
    std::unordered_set<std::string_view> seen_fields;
    std::unordered_set<Column::Role> seen_special;
    columns_.reserve(header.size());
    for (const Cell& cell : header) {
      Column column;
      const std::string_view text = cell.kind == CellKind::kNull ? "null" : cell.text;
      if (text == kIdColumn) {
        column.role = Column::Role::kId;
        column.name = text;
      } else if (text == kVersionColumn) {
        column.role = Column::Role::kVersion;
        column.name = text;
      } else if (text == kMetadataColumn) {
        column.role = Column::Role::kMetadata;
        column.name = text;
        metadata_column_ = columns_.size();
      } else {
        auto [name, type] = SplitTypeSuffix(text);
        column.name = name;
        column.type = type;
        if (!type) {
          if (auto it = options.column_types.find(name); it != options.column_types.end()) {
            column.type = it->second;
          }
        }
      }
      columns_.push_back(std::move(column));
    }
    for (const Column& column : columns_) {
      const bool repeated = column.role == Column::Role::kField
                                ? !seen_fields.insert(column.name).second
                                : !seen_special.insert(column.role).second;
      if (repeated) {
        ThrowInvalid(std::string(source) + ":" + std::to_string(header_line) +
                     ": the header names column " + Quoted(column.name) + " twice");
      }
      names_.push_back(column.name);
    }
  }

  const std::vector<std::string>& names() const { return names_; }

  Record Decode(const CellRow& cells, std::size_t line, const CsvTokenizer& where) {
    Record record;
    DecodeInto(cells, line, where, record);
    return record;
  }

  // Decodes a row into record, replacing all it held (see CsvRowToRecord).
  void DecodeInto(const CellRow& cells, std::size_t line, const CsvTokenizer& where,
                  Record& record) {
    DecodeRow(cells, line, where, scratch_row_);
    CsvRowToRecord(scratch_row_, names_, record);
  }

  // Decodes a row into row, replacing all it held.
  void DecodeRow(const CellRow& cells, std::size_t line, const CsvTokenizer& where,
                 CsvRow& row) const {
    row.line = line;
    row.has_id = false;
    row.id = {};
    row.version = 0;
    row.field_count = 0;
    if (!row.metadata.empty()) row.metadata = Object();
    std::size_t index = 0;
    try {
      Object field_metadata;
      Object types;
      if (metadata_column_ && *metadata_column_ < cells.size()) {
        index = *metadata_column_;
        ReadMetadataCell(cells[index], row.metadata, field_metadata, types);
      }
      const std::size_t n = std::min(cells.size(), columns_.size());
      for (index = 0; index < n; ++index) {
        const Cell& cell = cells[index];
        if (cell.kind == CellKind::kAbsent) continue;
        const Column& column = columns_[index];
        switch (column.role) {
          case Column::Role::kField:
            DecodeField(cell, column, types, NextField(row, index));
            break;
          case Column::Role::kId:
            if (cell.kind != CellKind::kNull) {
              row.id = cell.text;
              row.has_id = true;
            }
            break;
          case Column::Role::kVersion:
            if (cell.kind != CellKind::kNull) row.version = ParseVersion(cell.text);
            break;
          case Column::Role::kMetadata:
            break;
        }
      }
      if (!field_metadata.empty()) {
        index = *metadata_column_;
        ApplyFieldMetadata(std::move(field_metadata), row);
      }
    } catch (const CellFailure& failure) {
      ThrowInvalid(where.Where(line, index) + failure.reason);
    }
  }

 private:
  // The next field of row, for the cell in column (its metadata dropped).
  static CsvField& NextField(CsvRow& row, std::size_t column) {
    if (row.field_count == row.fields.size()) row.fields.emplace_back();
    CsvField& field = row.fields[row.field_count++];
    field.column = column;
    if (!field.metadata.empty()) field.metadata = Object();
    return field;
  }

  // Reads a cell that is not absent into field.
  static void DecodeField(const Cell& cell, const Column& column, const Object& types,
                          CsvField& field) {
    if (cell.kind == CellKind::kNull) {
      field.type = column.type.value_or(FieldType::kString);
      SetScalar(field, ValueKind::kNull);
      return;
    }
    std::optional<FieldType> tag;
    if (!types.empty()) {
      if (const Value* tag_value = types.Find(column.name)) tag = ReadTypeTag(*tag_value);
    }
    if (column.type == FieldType::kJson) {
      SetBoxed(field, DecodeJsonColumn(cell.text, tag, field.type));
    } else if (tag || column.type) {
      DecodeTypedInto(cell.text, tag ? *tag : *column.type, field);
    } else if (cell.kind == CellKind::kBare) {
      DecodeInferredInto(cell.text, field);
    } else {
      field.type = TextType(cell.text);
      field.text = cell.text;
      SetScalar(field, ValueKind::kString);
    }
  }

  static FieldType ReadTypeTag(const Value& value) {
    const auto* name = value.Get<std::string>();
    std::optional<FieldType> type;
    if (name != nullptr) type = ParseFieldType(*name);
    if (!type) FailCell("unknown field type " + value.ToDisplayString() + " in \"types\"");
    return *type;
  }

  static std::uint64_t ParseVersion(std::string_view text) {
    std::uint64_t version = 0;
    const char* const end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, version);
    if (ec != std::errc() || ptr != end) {
      FailCell(Shown(text) + " is not a version (a non-negative integer)");
    }
    return version;
  }

  // `__metadata__`: {"record": {..}, "fields": {name: {..}}, "types": {name: type}}.
  static void ReadMetadataCell(const Cell& cell, Object& record_metadata, Object& field_metadata,
                               Object& types) {
    if (cell.kind == CellKind::kAbsent || cell.kind == CellKind::kNull) return;
    Value value = ParseJsonCell(cell.text);
    Object* object = value.Get<Object>();
    if (object == nullptr) FailCell("metadata must be a JSON object");
    auto take_object = [&](std::string_view key, Object& into) {
      Value* member = object->Find(key);
      if (member == nullptr || member->is_null()) return;
      Object* inner = member->Get<Object>();
      if (inner == nullptr) FailCell("\"" + std::string(key) + "\" must be a JSON object");
      into = std::move(*inner);
    };
    take_object("record", record_metadata);
    take_object("fields", field_metadata);
    take_object("types", types);
  }

  void ApplyFieldMetadata(Object&& field_metadata, CsvRow& row) const {
    for (const auto& [name, metadata] : field_metadata) {
      CsvField* field = nullptr;
      for (std::size_t i = 0; i < row.field_count && field == nullptr; ++i) {
        if (names_[row.fields[i].column] == name) field = &row.fields[i];
      }
      if (field == nullptr) {
        FailCell("metadata for field " + Quoted(name) + ", which the row does not have");
      }
      const Object* object = metadata.Get<Object>();
      if (object == nullptr)
        FailCell("the metadata of field " + Quoted(name) + " is not an object");
      field->metadata = *object;
    }
  }

  std::vector<Column> columns_;
  std::vector<std::string> names_;
  std::optional<std::size_t> metadata_column_;
  CsvRow scratch_row_;  // DecodeInto's
};

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

bool IsJsonNative(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBytes:
    case ValueKind::kTimestamp:
    case ValueKind::kVector:
      return false;
    default:
      return true;
  }
}

// Whether a (non-null) value of this kind can be written in a column of this type and read back
// as the same value.
bool FitsColumnType(FieldType type, ValueKind kind) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kText:
      return kind == ValueKind::kString;
    case FieldType::kInteger:
      return kind == ValueKind::kInt;
    case FieldType::kFloat:
      return kind == ValueKind::kFloat || kind == ValueKind::kInt;
    case FieldType::kBoolean:
      return kind == ValueKind::kBool;
    case FieldType::kDatetime:
      return kind == ValueKind::kTimestamp;
    case FieldType::kBinary:
      return kind == ValueKind::kBytes;
    case FieldType::kVector:
      return kind == ValueKind::kVector;
    case FieldType::kJson:
      return IsJsonNative(kind);
    case FieldType::kSparseVector:
      return kind == ValueKind::kObject || kind == ValueKind::kList;
  }
  return false;
}

struct PlannedColumn {
  enum class State : std::uint8_t { kOnlyNulls, kTyped, kJson };
  std::string_view name;
  State state = State::kOnlyNulls;
  FieldType type = FieldType::kString;  // kOnlyNulls: the type of the first null
  bool string_and_text = false;         // a string column that also holds text, or the reverse

  FieldType ColumnType() const { return state == State::kJson ? FieldType::kJson : type; }
};

// The columns of a file and what each row needs.
class CsvPlan {
 public:
  explicit CsvPlan(const std::vector<const Record*>& records) {
    std::vector<std::size_t> previous;
    std::vector<std::size_t> current;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& record = *records[i];
      try {
        CheckFinite(record);
      } catch (const Error& error) {
        ThrowInvalid("record " + std::to_string(i + 1) + ": " + error.what());
      }
      if (record.version() != 0) has_version_ = true;
      if (!record.metadata().empty()) has_metadata_ = true;
      current.clear();
      for (const Field& field : record.fields()) {
        std::size_t index = ColumnOf(field.name, current.size(), previous);
        if (index == columns_.size()) {
          columns_.push_back(
              PlannedColumn{field.name, PlannedColumn::State::kOnlyNulls, field.type, false});
          index_.emplace(field.name, index);
        }
        current.push_back(index);
        if (!field.metadata.empty()) has_metadata_ = true;
        if (!field.value.is_null()) Observe(columns_[index], field);
      }
      std::swap(previous, current);
    }
    if (!has_metadata_) has_metadata_ = AnyTypeTag(records);
  }

  const std::vector<PlannedColumn>& columns() const { return columns_; }
  bool has_version() const { return has_version_; }
  bool has_metadata() const { return has_metadata_; }

  // The column of the field at this position of a record, or columns().size() when there is
  // none. Records usually list their fields in the same order, so guesses (the columns of the
  // previous record's fields, by position) are tried before the hash table.
  std::size_t ColumnOf(std::string_view name, std::size_t position,
                       const std::vector<std::size_t>& guesses) const {
    if (position < guesses.size()) {
      const std::size_t guess = guesses[position];
      if (columns_[guess].name == name) return guess;
    }
    auto it = index_.find(name);
    return it == index_.end() ? columns_.size() : it->second;
  }

  // Whether a field needs a type tag: its type is not the one its column gives it on reading. A
  // value that does not fit its own type (5 in a boolean field) has none: it reads back as what
  // it is.
  static bool NeedsTypeTag(const PlannedColumn& column, const Field& field) {
    if (field.value.is_null() || !FitsColumnType(field.type, field.value.kind())) return false;
    if (column.ColumnType() == FieldType::kJson) {
      return field.type != NaturalJsonType(field.value);
    }
    return field.type != column.type;
  }

 private:
  static void Observe(PlannedColumn& column, const Field& field) {
    using State = PlannedColumn::State;
    if (column.state == State::kJson) return;
    if (!FitsColumnType(field.type, field.value.kind())) {
      column.state = State::kJson;
    } else if (column.state == State::kOnlyNulls) {
      column.state = State::kTyped;
      column.type = field.type;
    } else if (column.type != field.type) {
      if (IsStringType(column.type) && IsStringType(field.type)) {
        column.string_and_text = true;
      } else {
        column.state = State::kJson;
      }
    }
  }

  bool AnyTypeTag(const std::vector<const Record*>& records) const {
    const bool possible = std::any_of(columns_.begin(), columns_.end(), [](const auto& column) {
      return column.ColumnType() == FieldType::kJson || column.string_and_text;
    });
    if (!possible) return false;
    for (const Record* record : records) {
      for (const Field& field : record->fields()) {
        if (NeedsTypeTag(columns_[index_.find(field.name)->second], field)) return true;
      }
    }
    return false;
  }

  std::vector<PlannedColumn> columns_;
  std::unordered_map<std::string_view, std::size_t> index_;
  bool has_version_ = false;
  bool has_metadata_ = false;
};

class CsvWriter {
 public:
  CsvWriter(OutputStream& out, const CsvDialect& dialect)
      : out_(out),
        delimiter_(dialect.delimiter),
        tsv_(dialect.tsv),
        special_finder_(dialect.delimiter, dialect.tsv ? '\\' : '"', '\n', '\r') {}

  void WriteAll(const std::vector<const Record*>& records) {
    const CsvPlan plan(records);
    try {
      WriteHeader(plan);
    } catch (const Error& error) {
      ThrowInvalid(std::string("the header: ") + error.what());
    }
    std::vector<const Field*> slots(plan.columns().size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      try {
        WriteRow(plan, *records[i], slots);
      } catch (const Error& error) {
        ThrowInvalid("record " + std::to_string(i + 1) + ": " + error.what());
      }
      if (buffer_.size() >= kWriteFlushSize) Flush();
    }
    Flush();
    out_.Finish();
  }

 private:
  void Flush() {
    if (buffer_.empty()) return;
    out_.Write(buffer_);
    buffer_.clear();
  }

  void WriteHeader(const CsvPlan& plan) {
    SetSubject("a column name");
    AppendText(kIdColumn, false);
    if (plan.has_version()) {
      buffer_ += delimiter_;
      AppendText(kVersionColumn, false);
    }
    for (const PlannedColumn& column : plan.columns()) {
      buffer_ += delimiter_;
      std::string& header = scratch_;
      header.assign(column.name);
      header += ':';
      header += FieldTypeName(column.ColumnType());
      AppendText(header, true);
    }
    if (plan.has_metadata()) {
      buffer_ += delimiter_;
      AppendText(kMetadataColumn, false);
    }
    buffer_ += '\n';
  }

  void WriteRow(const CsvPlan& plan, const Record& record, std::vector<const Field*>& slots) {
    std::fill(slots.begin(), slots.end(), nullptr);
    std::size_t position = 0;
    for (const Field& field : record.fields()) {
      const std::size_t column = plan.ColumnOf(field.name, position, guesses_);
      slots[column] = &field;
      // Each guess is read before it is replaced; stale ones past this record's fields only
      // miss.
      if (position < guesses_.size()) {
        guesses_[position] = column;
      } else {
        guesses_.push_back(column);
      }
      ++position;
    }

    const std::size_t row_start = buffer_.size();
    if (record.id()) {
      SetSubject("the id");
      AppendText(*record.id(), true);
    }
    if (plan.has_version()) {
      buffer_ += delimiter_;
      AppendInteger(buffer_, record.version());
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
      buffer_ += delimiter_;
      if (slots[i] != nullptr) AppendField(plan.columns()[i], *slots[i]);
    }
    if (plan.has_metadata()) {
      buffer_ += delimiter_;
      AppendMetadata(plan, record, slots);
    }
    if (buffer_.size() == row_start) AppendNull();  // keep the row from reading as a blank line
    buffer_ += '\n';
  }

  void AppendField(const PlannedColumn& column, const Field& field) {
    const Value& value = field.value;
    if (value.is_null()) {
      AppendNull();
      return;
    }
    field_name_ = &field.name;
    if (column.ColumnType() == FieldType::kJson) {
      AppendJsonText(value);
      return;
    }
    switch (value.kind()) {
      case ValueKind::kString:
        AppendText(*value.Get<std::string>(), true);
        return;
      case ValueKind::kInt:
        AppendInteger(buffer_, *value.Get<std::int64_t>());
        return;
      case ValueKind::kFloat:
        AppendFloating(buffer_, *value.Get<double>());
        return;
      case ValueKind::kBool:
        buffer_ += *value.Get<bool>() ? "true" : "false";
        return;
      case ValueKind::kTimestamp:
        buffer_ += value.Get<Timestamp>()->ToIso();
        return;
      case ValueKind::kBytes:
        scratch_ = Base64Encode(value.Get<Bytes>()->data);
        AppendText(scratch_, false);
        return;
      case ValueKind::kVector:
        scratch_.clear();
        AppendFloatList(scratch_, *value.Get<Vector>());
        AppendText(scratch_, false);
        return;
      default:  // sparse_vector: lists and objects
        AppendJsonText(value);
        return;
    }
  }

  void AppendJsonText(const Value& value) {
    scratch_.clear();
    try {
      AppendJson(scratch_, value);
    } catch (const Error& error) {
      ThrowInvalid(Subject() + ": " + error.what());
    }
    AppendText(scratch_, false);
  }

  void AppendMetadata(const CsvPlan& plan, const Record& record,
                      const std::vector<const Field*>& slots) {
    std::string& json = scratch_;
    json.clear();
    auto open_part = [&](std::string_view key) {
      json += json.empty() ? "{\"" : ",\"";
      json += key;
      json += "\":{";
    };
    auto append_key = [&](bool first, const std::string& name) {
      if (!first) json += ',';
      AppendJson(json, Value(name));
      json += ':';
    };
    if (!record.metadata().empty()) {
      json += "{\"record\":";
      AppendJson(json, Value(record.metadata()));
    }
    bool first = true;
    for (const Field& field : record.fields()) {
      if (field.metadata.empty()) continue;
      if (first) open_part("fields");
      append_key(first, field.name);
      AppendJson(json, Value(field.metadata));
      first = false;
    }
    if (!first) json += '}';
    first = true;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i] == nullptr || !CsvPlan::NeedsTypeTag(plan.columns()[i], *slots[i])) continue;
      if (first) open_part("types");
      append_key(first, slots[i]->name);
      json += '"';
      json += FieldTypeName(slots[i]->type);
      json += '"';
      first = false;
    }
    if (!first) json += '}';
    if (json.empty()) return;  // absent: nothing to say
    json += '}';
    SetSubject("the metadata");
    AppendText(json, false);
  }

  void SetSubject(std::string_view subject) {
    subject_ = subject;
    field_name_ = nullptr;
  }
  std::string Subject() const {
    return field_name_ != nullptr ? "field " + Quoted(*field_name_) : std::string(subject_);
  }

  void AppendNull() { buffer_ += tsv_ ? kTsvNull : std::string_view("null"); }

  static void AppendFloatList(std::string& out, const Vector& vector) {
    out += '[';
    char digits[32];
    for (std::size_t i = 0; i < vector.size(); ++i) {
      if (i != 0) out += ',';
      const auto result = std::to_chars(digits, digits + sizeof digits, vector[i]);
      out.append(digits, result.ptr);
    }
    out += ']';
  }

  // A cell holding text: quoted (CSV) or escaped (TSV) as needed. With check_utf8, non-ASCII
  // bytes are validated (text that is not from the JSON encoder or this file).
  void AppendText(std::string_view text, bool check_utf8) {
    if (tsv_) {
      AppendTsvText(text, check_utf8);
    } else {
      AppendCsvText(text, check_utf8);
    }
  }

  // Scans text for bytes that need quoting or escaping, validating UTF-8 on the way. Returns
  // whether any was found.
  bool ScanText(std::string_view text, bool check_utf8) {
    const char* p = text.data();
    const char* const end = p + text.size();
    bool special = false;
    for (;;) {
      p = special_finder_.Find(p, end);
      if (p == end) return special;
      if (static_cast<unsigned char>(*p) < 0x80) {
        special = true;
        if (!check_utf8) return true;
        ++p;
        continue;
      }
      if (!check_utf8) {
        ++p;
        continue;
      }
      const std::size_t length =
          Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p), end - p);
      if (length == 0) {
        ThrowInvalid(Subject() + ": invalid UTF-8 at byte " + std::to_string(p - text.data()));
      }
      p += length;
    }
  }

  void AppendCsvText(std::string_view text, bool check_utf8) {
    bool quote = text.empty() || text == "null" || ScanText(text, check_utf8);
    if (!quote) {
      const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
      quote = is_space(text.front()) || is_space(text.back());
    }
    if (!quote) {
      buffer_ += text;
      return;
    }
    buffer_ += '"';
    std::size_t start = 0;
    for (std::size_t q = text.find('"'); q != std::string_view::npos; q = text.find('"', q + 1)) {
      buffer_.append(text.data() + start, q + 1 - start);
      buffer_ += '"';
      start = q + 1;
    }
    buffer_.append(text.data() + start, text.size() - start);
    buffer_ += '"';
  }

  void AppendTsvText(std::string_view text, bool check_utf8) {
    if (text.empty()) {
      buffer_ += kTsvEmpty;
      return;
    }
    if (!ScanText(text, check_utf8)) {
      buffer_ += text;
      return;
    }
    for (const char c : text) {
      switch (c) {
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\r':
          buffer_ += "\\r";
          break;
        default:
          buffer_ += c;
      }
    }
  }

  OutputStream& out_;
  const char delimiter_;
  const bool tsv_;
  const ByteFinder special_finder_;
  std::string buffer_;
  std::string scratch_;
  std::vector<std::size_t> guesses_;  // the columns of the last record's fields, by position
  // What is being written, for messages: subject_, or the field field_name_ when set.
  std::string_view subject_;
  const std::string* field_name_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Pipelined reading
// ---------------------------------------------------------------------------------------------

// Records decoded together, handed from the decoding thread to the caller's.
struct RecordBatch {
  std::vector<Record> records;
  std::vector<std::size_t> lines;
  std::exception_ptr error;  // what ended decoding, after these records
};

// A bounded queue of batches between one producer and one consumer. Cancel() makes the producer
// stop (Push returns false); Close() tells the consumer there is no more.
class BatchQueue {
 public:
  bool Push(RecordBatch&& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || batches_.size() < kMaxQueuedBatches; });
    if (cancelled_) return false;
    batches_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  void Cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

  // The next batch, or nullopt once the queue is closed and empty.
  std::optional<RecordBatch> Pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (batches_.empty()) return std::nullopt;
    RecordBatch batch = std::move(batches_.front());
    batches_.pop_front();
    changed_.notify_all();
    return batch;
  }

 private:
  static constexpr std::size_t kMaxQueuedBatches = 4;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<RecordBatch> batches_;
  bool closed_ = false;
  bool cancelled_ = false;
};

// Reads the rows after the header: a second thread reads, tokenizes and decodes batches of
// records while the calling thread runs the sink, in row order. An error while decoding reaches
// the caller after the records before it; an exception from the sink stops the decoding thread.
void ReadPipelined(CsvTokenizer& tokenizer, RowDecoder& decoder,
                   const std::function<void(Record& record, std::size_t line)>& sink) {
  constexpr std::size_t kBatchRows = 2048;
  BatchQueue queue;
  std::thread decoding([&] {
    RecordBatch batch;
    try {
      CellRow cells;
      std::size_t line = 0;
      while (tokenizer.NextRow(cells, line)) {
        batch.records.push_back(decoder.Decode(cells, line, tokenizer));
        batch.lines.push_back(line);
        if (batch.records.size() == kBatchRows) {
          if (!queue.Push(std::move(batch))) return;
          batch = RecordBatch();
          batch.records.reserve(kBatchRows);
          batch.lines.reserve(kBatchRows);
        }
      }
    } catch (...) {
      batch.error = std::current_exception();
    }
    if (!batch.records.empty() || batch.error) queue.Push(std::move(batch));
    queue.Close();
  });
  try {
    while (std::optional<RecordBatch> batch = queue.Pop()) {
      for (std::size_t i = 0; i < batch->records.size(); ++i) {
        sink(batch->records[i], batch->lines[i]);
      }
      if (batch->error) std::rethrow_exception(batch->error);
    }
  } catch (...) {
    queue.Cancel();
    decoding.join();
    throw;
  }
  decoding.join();
}

}  // namespace

CsvDialect CsvDialectFor(std::string_view format) {
  if (EqualsIgnoreCase(format, "csv")) return CsvDialect{',', false};
  if (EqualsIgnoreCase(format, "tsv")) return CsvDialect{'\t', true};
  ThrowInvalid("unknown delimited format '" + std::string(format) + "' (expected csv or tsv)");
}

namespace {

// Reads the header, then calls body(tokenizer, decoder) for the rows, unless the input is empty.
template <typename Body>
void ReadAfterHeader(InputStream& in, const CsvOptions& options, std::string_view source_name,
                     Body&& body) {
  ValidateDialect(options.dialect);
  CsvTokenizer tokenizer(in, options.dialect, source_name);
  CellRow header;
  std::size_t line = 0;
  if (!tokenizer.NextRow(header, line)) return;  // an empty file: no header, no records
  RowDecoder decoder(header, line, options, source_name);
  tokenizer.SetColumns(&decoder.names());
  body(tokenizer, decoder);
}

}  // namespace

void ReadCsvRecords(InputStream& in, const CsvOptions& options, std::string_view source_name,
                    const std::function<void(Record& record, std::size_t line)>& sink) {
  ReadAfterHeader(in, options, source_name, [&](CsvTokenizer& tokenizer, RowDecoder& decoder) {
    if (options.pipelined && !tokenizer.read_everything()) {
      ReadPipelined(tokenizer, decoder, sink);
      return;
    }
    CellRow cells;
    std::size_t line = 0;
    Record record;  // refilled for each row (see the contract in csv.hpp)
    while (tokenizer.NextRow(cells, line)) {
      decoder.DecodeInto(cells, line, tokenizer, record);
      sink(record, line);
    }
  });
}

void ReadCsvRows(InputStream& in, const CsvOptions& options, std::string_view source_name,
                 const std::function<void(const std::vector<std::string>& names)>& on_header,
                 const std::function<void(CsvRow& row)>& sink) {
  ReadAfterHeader(in, options, source_name, [&](CsvTokenizer& tokenizer, RowDecoder& decoder) {
    on_header(decoder.names());
    CellRow cells;
    std::size_t line = 0;
    CsvRow row;
    while (tokenizer.NextRow(cells, line)) {
      decoder.DecodeRow(cells, line, tokenizer, row);
      sink(row);
    }
  });
}

namespace {

// The stream of some texts (not copied: they must outlive the stream), then of another stream,
// if any: a part of a file held in memory, or what is left of a file once parts of it were read.
class ChainedInput final : public InputStream {
 public:
  ChainedInput(std::vector<std::string_view> texts, InputStream* rest)
      : texts_(std::move(texts)), rest_(rest) {}
  std::size_t Read(char* buf, std::size_t n) override {
    for (; next_ < texts_.size(); ++next_, at_ = 0) {
      const std::string_view text = texts_[next_];
      if (at_ < text.size()) {
        const std::size_t got = std::min(n, text.size() - at_);
        std::memcpy(buf, text.data() + at_, got);
        at_ += got;
        return got;
      }
    }
    return rest_ != nullptr ? rest_->Read(buf, n) : 0;
  }

 private:
  std::vector<std::string_view> texts_;
  std::size_t next_ = 0;  // the text being read
  std::size_t at_ = 0;    // how much of it is read
  InputStream* rest_;
};

// Where to cut text (the bytes after a row start) so that the part before is whole rows: just past
// a line feed that, counting quotes from the start, is outside quotes. 0 when there is none. A
// quote inside an unquoted cell can fool the count; the part's reader then finds its end inside a
// quoted cell, and the caller falls back to reading on.
std::size_t PartEnd(std::string_view text, bool csv) {
  std::size_t end = text.rfind('\n');
  if (end == std::string_view::npos) return 0;
  if (!csv) return end + 1;
  const auto quotes_in = [&](std::size_t from, std::size_t to) {
    return static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                               text.begin() + static_cast<std::ptrdiff_t>(to),
                                               '"'));
  };
  std::size_t before = quotes_in(0, end);  // quotes before the line feed at end
  while ((before & 1) != 0) {
    const std::size_t previous = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    if (previous == std::string_view::npos) return 0;
    before -= quotes_in(previous, end);
    end = previous;
  }
  return end + 1;
}

// The lines a tokenizer counts in text, when it can be known from line feeds alone: a CR not
// followed by an LF (a lone CR, which ends a line too, except inside a quoted cell) makes it
// unknown (nullopt).
std::optional<std::size_t> LineFeeds(std::string_view text) {
  for (std::size_t cr = text.find('\r'); cr != std::string_view::npos;
       cr = text.find('\r', cr + 1)) {
    if (cr + 1 == text.size() || text[cr + 1] != '\n') return std::nullopt;
  }
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

void ReadCsvRowsInParallel(
    InputStream& in, const CsvOptions& options, std::string_view source_name, WorkerPool& pool,
    const std::function<void(const std::vector<std::string>& names)>& on_header,
    const std::function<std::unique_ptr<CsvPartSink>()>& new_part,
    const std::function<void(CsvPartSink& part)>& part_done) {
  ReadAfterHeader(in, options, source_name, [&](CsvTokenizer& header_reader, RowDecoder& decoder) {
    on_header(decoder.names());
    // A part: whole rows of the file, decoded by one task into its sink.
    struct Part {
      std::string text;
      std::size_t first_line = 0;  // as counted by line feeds (checked when it is consumed)
      bool last = false;           // ends the file
      std::unique_ptr<CsvPartSink> sink;
      std::size_t end_line = 0;  // the line after the part, as its reader counted
      bool ends_in_quotes = false;
      std::exception_ptr error;
    };
    const auto decode = [&](Part& part) {
      try {
        ChainedInput input({part.text}, nullptr);
        CsvTokenizer tokenizer(input, options.dialect, source_name);
        tokenizer.ForPart(part.first_line, part.last);
        tokenizer.SetColumns(&decoder.names());
        CellRow cells;
        CsvRow row;
        std::size_t line = 0;
        while (tokenizer.NextRow(cells, line)) {
          decoder.DecodeRow(cells, line, tokenizer, row);
          part.sink->Add(row);
        }
        part.end_line = tokenizer.line();
      } catch (const PartEndsInQuotedCell&) {
        part.ends_in_quotes = true;
      } catch (...) {
        part.error = std::current_exception();
      }
    };

    // Parts go to the pool a round at a time; the calling thread hands the parts of one round to
    // part_done while the pool decodes the next.
    const std::size_t parts_per_round = std::max<std::size_t>(2, pool.threads() * 2);
    constexpr std::size_t kPartSize = std::size_t{1} << 20;
    const bool csv = !options.dialect.tsv;
    std::string carry = header_reader.TakeUnparsed();  // bytes read after the header
    std::size_t next_line = header_reader.line();      // of the first byte of carry
    bool at_end = false;
    std::vector<char> chunk(kPartSize);
    const auto read_more = [&] {
      const std::size_t got = in.Read(chunk.data(), chunk.size());
      if (got == 0) at_end = true;
      carry.append(chunk.data(), got);
    };
    // The next part: at least kPartSize bytes cut after a row, or the rest of the file.
    const auto next_part = [&]() -> std::optional<Part> {
      while (!at_end && carry.size() < kPartSize) read_more();
      if (carry.empty()) return std::nullopt;
      std::size_t cut = at_end ? carry.size() : PartEnd(carry, csv);
      while (cut == 0 && !at_end) {  // no row ends in what was read: read on
        read_more();
        cut = at_end ? carry.size() : PartEnd(carry, csv);
      }
      Part part;
      part.first_line = next_line;
      part.last = cut == carry.size() && at_end;
      part.text.assign(carry, 0, cut);
      carry.erase(0, cut);
      part.sink = new_part();
      // Lines are counted by line feeds; a part with a lone CR gets no count, and the check at
      // consumption then sends the rest of the file to the one-thread reading.
      const std::optional<std::size_t> lines = LineFeeds(part.text);
      next_line = lines ? next_line + *lines : 0;
      return part;
    };

    std::deque<Part> ready;     // read, for the next round
    std::deque<Part> decoding;  // the round the pool is decoding
    std::deque<Part> decoded;   // the round before: handed to part_done in order
    std::size_t expected_line = header_reader.line();
    bool fall_back = false;
    const auto read_round = [&] {
      while (ready.size() < parts_per_round) {
        std::optional<Part> part = next_part();
        if (!part) break;
        ready.push_back(std::move(*part));
      }
    };
    const auto start_round = [&] {
      decoding = std::move(ready);
      ready.clear();
      if (!decoding.empty()) {
        pool.Start(decoding.size(), [&](std::size_t i) { decode(decoding[i]); });
      }
    };
    // Hands decoded parts to part_done while each is what a one-thread reading would have read.
    const auto consume = [&] {
      while (!decoded.empty()) {
        Part& part = decoded.front();
        if (part.first_line != expected_line) {
          fall_back = true;  // a lone CR before: the line count is not known
          return;
        }
        if (part.error) {
          part_done(*part.sink);  // the rows before the one at fault
          std::rethrow_exception(part.error);
        }
        if (part.ends_in_quotes) {
          fall_back = true;  // cut inside a quoted cell
          return;
        }
        part_done(*part.sink);
        expected_line = part.end_line;
        decoded.pop_front();
      }
    };
    read_round();
    start_round();
    while (!decoding.empty()) {
      read_round();  // while the pool decodes
      pool.Wait();
      decoded = std::move(decoding);
      decoding.clear();
      start_round();
      try {
        consume();
      } catch (...) {
        pool.Wait();
        throw;
      }
      if (fall_back) {
        pool.Wait();
        break;
      }
    }
    if (!fall_back) return;
    // The rest of the file, from the first part not consumed, read by one tokenizer on this
    // thread: exact whatever the file holds. What the pool decoded of it is dropped.
    std::vector<std::string_view> texts;
    for (const Part& part : decoded) texts.push_back(part.text);
    for (const Part& part : decoding) texts.push_back(part.text);
    texts.push_back(carry);
    ChainedInput input(std::move(texts), &in);
    CsvTokenizer tokenizer(input, options.dialect, source_name);
    tokenizer.ForPart(expected_line, /*last=*/true);
    tokenizer.SetColumns(&decoder.names());
    constexpr std::size_t kRowsPerSink = 4096;
    std::unique_ptr<CsvPartSink> sink = new_part();
    std::size_t rows = 0;
    CellRow cells;
    CsvRow row;
    std::size_t line = 0;
    while (tokenizer.NextRow(cells, line)) {
      decoder.DecodeRow(cells, line, tokenizer, row);
      sink->Add(row);
      if (++rows == kRowsPerSink) {
        part_done(*sink);
        sink = new_part();
        rows = 0;
      }
    }
    if (rows > 0) part_done(*sink);
  });
}

void WriteCsvRecords(OutputStream& out, const CsvOptions& options,
                     const std::vector<const Record*>& records) {
  ValidateDialect(options.dialect);
  CsvWriter(out, options.dialect).WriteAll(records);
}

}  // namespace dkdata::internal
