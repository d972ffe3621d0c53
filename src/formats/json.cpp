// JSON encoding and decoding of values and records (see include/dkdata/json.hpp).
//
// The encoder appends straight into one std::string: no iostreams, no intermediate Values. The
// decoder walks a simdjson On-Demand document and builds Values as it goes. simdjson does not
// report where a document is malformed, so when it fails, a small validating scanner
// (JsonSyntaxScanner) reads the text again to find the first offending byte and say what is wrong
// there; it runs only on failure and never on the fast path.
//
// Decisions:
// - Strings must be valid UTF-8: invalid UTF-8 is an Error naming the value's path, never replaced.
//   '"', '\\' and control characters are escaped (\n, \t, ... or \u00XX); all else is kept as is.
// - Doubles are written shortest-round-trip and always as floats (1.0, 1e+300); float32 vector
//   elements shortest for float32. NaN and infinity are Errors naming the value's path.
// - Numbers read back as int64 when they are integers that fit, else as doubles.
// - Duplicate object keys: the last value wins, at the position of the first (as Object::Set).
// - Nesting deeper than kMaxDepth is an error; the decoder keeps its own stack, so deep documents
//   cost heap, never call stack.
#include "dkdata/json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"
#include "formats/json_internal.hpp"
#include "formats/number_text.hpp"

namespace dkdata {

namespace {

namespace sj = simdjson;
namespace od = simdjson::ondemand;

// Containers nested deeper than this are rejected (simdjson's own default limit).
constexpr std::size_t kMaxDepth = 1024;

// Documents larger than this are parsed with a parser of their own, so that a thread does not keep
// big buffers alive after one big document.
constexpr std::size_t kLargeDocument = std::size_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// base64
// ---------------------------------------------------------------------------------------------

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kNotBase64 = 0xFF;

constexpr std::array<std::uint8_t, 256> kBase64Values = [] {
  std::array<std::uint8_t, 256> table{};
  table.fill(kNotBase64);
  for (std::uint8_t i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  }
  return table;
}();

void AppendBase64(std::string& out, std::string_view bytes) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  const std::size_t start = out.size();
  out.resize(start + (n + 2) / 3 * 4);
  char* dst = out.data() + start;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t word = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    *dst++ = kBase64Alphabet[(word >> 18) & 63];
    *dst++ = kBase64Alphabet[(word >> 12) & 63];
    *dst++ = kBase64Alphabet[(word >> 6) & 63];
    *dst++ = kBase64Alphabet[word & 63];
  }
  if (i + 1 == n) {
    const std::uint32_t word = in[i] << 16;
    *dst++ = kBase64Alphabet[(word >> 18) & 63];
    *dst++ = kBase64Alphabet[(word >> 12) & 63];
    *dst++ = '=';
    *dst++ = '=';
  } else if (i + 2 == n) {
    const std::uint32_t word = (in[i] << 16) | (in[i + 1] << 8);
    *dst++ = kBase64Alphabet[(word >> 18) & 63];
    *dst++ = kBase64Alphabet[(word >> 12) & 63];
    *dst++ = kBase64Alphabet[(word >> 6) & 63];
    *dst++ = '=';
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

// How the encoder treats each byte of a string: copied as is, escaped, or the lead of a multi-byte
// UTF-8 sequence that has to be validated.
enum class ByteClass : std::uint8_t { kPlain, kEscape, kNonAscii };

constexpr std::array<ByteClass, 256> kByteClasses = [] {
  std::array<ByteClass, 256> table{};
  for (int c = 0; c < 256; ++c) {
    if (c < 0x20 || c == '"' || c == '\\') {
      table[c] = ByteClass::kEscape;
    } else if (c >= 0x80) {
      table[c] = ByteClass::kNonAscii;
    } else {
      table[c] = ByteClass::kPlain;
    }
  }
  return table;
}();

// Whether any of the 8 bytes at p is one that WriteString must look at: a control character, '"',
// '\\' or a non-ASCII byte. (SWAR: may report a false positive after a true one, never a false
// negative.)
bool NeedsAttention(const unsigned char* p) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighBits; };
  const std::uint64_t control = (w - kOnes * 0x20) & ~w & kHighBits;
  return (control | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\')) |
          (w & kHighBits)) != 0;
}

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) that starts with a non-ASCII byte at s, or 0 when it is malformed.
std::size_t Utf8SequenceLength(const unsigned char* s, std::size_t available) noexcept {
  const unsigned char lead = s[0];
  std::size_t length;
  unsigned char low = 0x80;  // the range of the second byte
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (available < length || s[1] < low || s[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Thrown inside the encoder and turned into an Error by the public functions, which know what the
// path is a path of (a value, a field, metadata).
struct EncodeFailure {
  std::string reason;
  std::vector<std::string> path;  // innermost step first
};

std::string_view NonFiniteName(double d) {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "infinity" : "-infinity";
}

[[noreturn]] void ThrowNonFinite(double d) {
  throw EncodeFailure{std::string(NonFiniteName(d)) + " is not a valid JSON number", {}};
}

// "a.b.0" from a path collected innermost first.
std::string JoinPath(const std::vector<std::string>& path) {
  std::string joined;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (!joined.empty()) joined += '.';
    joined += *it;
  }
  return joined;
}

std::string Quoted(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted += '"';
  quoted += s;
  quoted += '"';
  return quoted;
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void WriteValue(const Value& value) {
    switch (value.kind()) {
      case ValueKind::kNull:
        out_ += "null";
        return;
      case ValueKind::kBool:
        out_ += *value.Get<bool>() ? "true" : "false";
        return;
      case ValueKind::kInt:
        WriteInt(*value.Get<std::int64_t>());
        return;
      case ValueKind::kFloat:
        WriteDouble(*value.Get<double>());
        return;
      case ValueKind::kString:
        WriteString(*value.Get<std::string>(), "string");
        return;
      case ValueKind::kBytes:
        out_ += '"';
        AppendBase64(out_, value.Get<Bytes>()->data);
        out_ += '"';
        return;
      case ValueKind::kTimestamp:
        out_ += '"';
        out_ += value.Get<Timestamp>()->ToIso();
        out_ += '"';
        return;
      case ValueKind::kList:
        WriteList(*value.Get<List>());
        return;
      case ValueKind::kObject:
        WriteObject(*value.Get<Object>());
        return;
      case ValueKind::kVector:
        WriteVector(*value.Get<Vector>());
        return;
    }
  }

  void WriteObject(const Object& object) {
    out_ += '{';
    bool first = true;
    for (const auto& [key, value] : object) {
      if (!first) out_ += ',';
      first = false;
      try {
        WriteKey(key);
        WriteValue(value);
      } catch (EncodeFailure& failure) {
        failure.path.push_back(key);
        throw;
      }
    }
    out_ += '}';
  }

  // Escapes per RFC 8259: '"', '\\' and control characters; UTF-8 is kept as is but must be valid.
  // `what` names the string in the error ("string", "object key", "field name").
  void WriteString(std::string_view s, std::string_view what) {
    out_ += '"';
    const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t run_start = 0;
    std::size_t i = 0;
    while (i < n) {
      while (i + 8 <= n && !NeedsAttention(bytes + i)) i += 8;
      while (i < n && kByteClasses[bytes[i]] == ByteClass::kPlain) ++i;
      if (i == n) break;
      switch (kByteClasses[bytes[i]]) {
        case ByteClass::kPlain:
          ++i;
          break;
        case ByteClass::kNonAscii: {
          const std::size_t length = Utf8SequenceLength(bytes + i, n - i);
          if (length == 0) {
            throw EncodeFailure{
                "invalid UTF-8 in " + std::string(what) + " at byte " + std::to_string(i), {}};
          }
          i += length;
          break;
        }
        case ByteClass::kEscape:
          out_.append(s.data() + run_start, i - run_start);
          AppendEscape(bytes[i]);
          run_start = ++i;
          break;
      }
    }
    out_.append(s.data() + run_start, n - run_start);
    out_ += '"';
  }

  void WriteKey(std::string_view key) {
    WriteString(key, "object key");
    out_ += ':';
  }

  void WriteInt(std::int64_t i) { internal::AppendInteger(out_, i); }

  void WriteUnsigned(std::uint64_t u) { internal::AppendInteger(out_, u); }

  // The shortest text that reads back as the same double, always with a fraction or exponent.
  void WriteDouble(double d) {
    if (!std::isfinite(d)) ThrowNonFinite(d);
    internal::AppendFloating(out_, d);
  }

  // The shortest text that reads back as the same float32.
  void WriteFloat(float f) {
    if (!std::isfinite(f)) ThrowNonFinite(f);
    internal::AppendFloating(out_, f);
  }

  void WriteRaw(std::string_view s) { out_ += s; }

 private:
  void WriteList(const List& list) {
    out_ += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i != 0) out_ += ',';
      try {
        WriteValue(list[i]);
      } catch (EncodeFailure& failure) {
        failure.path.push_back(std::to_string(i));
        throw;
      }
    }
    out_ += ']';
  }

  void WriteVector(const Vector& vector) {
    out_ += '[';
    for (std::size_t i = 0; i < vector.size(); ++i) {
      if (i != 0) out_ += ',';
      if (!std::isfinite(vector[i])) {
        throw EncodeFailure{std::string(NonFiniteName(vector[i])) + " is not a valid JSON number",
                            {std::to_string(i)}};
      }
      WriteFloat(vector[i]);
    }
    out_ += ']';
  }

  void AppendEscape(unsigned char c) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        return;
      case '\\':
        out_ += "\\\\";
        return;
      case '\n':
        out_ += "\\n";
        return;
      case '\r':
        out_ += "\\r";
        return;
      case '\t':
        out_ += "\\t";
        return;
      case '\b':
        out_ += "\\b";
        return;
      case '\f':
        out_ += "\\f";
        return;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out_.append(escape, sizeof escape);
      }
    }
  }

  std::string& out_;
};

// ---------------------------------------------------------------------------------------------
// Locating syntax errors
// ---------------------------------------------------------------------------------------------

struct SyntaxError {
  std::size_t offset;  // of the offending byte; text.size() when the text ends too early
  std::string reason;
};

bool IsJsonWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
std::string_view TrimJsonWhitespace(std::string_view text) {
  while (!text.empty() && IsJsonWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsJsonWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

// Whether s (without surrounding whitespace) is a number per the RFC 8259 grammar.
bool IsJsonNumber(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i == s.size();
}

// A JSON number token as a double: used for integers beyond 64 bits and for numbers simdjson does
// not take. nullopt when the token is not a number or is too large for a double; numbers too small
// for a double become ±0, as in simdjson.
std::optional<double> ParseNumberToken(std::string_view token) {
  token = TrimJsonWhitespace(token);
  if (!IsJsonNumber(token)) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
  if (ec == std::errc::result_out_of_range) {
    const std::size_t e = token.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < token.size() && token[e + 1] == '-';
    if (!tiny) return std::nullopt;
    return token.front() == '-' ? -0.0 : 0.0;
  }
  if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

// A strict JSON validator that stops at the first error. Only used to explain a failure that
// simdjson reported, so it favours clear messages over speed. It has no recursion: nesting is
// kept in an explicit stack limited to kMaxDepth, like the decoder.
class JsonSyntaxScanner {
 public:
  explicit JsonSyntaxScanner(std::string_view text) : text_(text) {}

  std::optional<SyntaxError> Scan() {
    State state = State::kValue;
    for (;;) {
      SkipWhitespace();
      if (state == State::kDone) {
        if (pos_ < text_.size()) return Fail(pos_, "unexpected content after the document");
        return std::nullopt;
      }
      if (pos_ == text_.size()) {
        return Fail(pos_, stack_.empty() && state == State::kValue ? "empty document"
                                                                   : "unexpected end of input");
      }
      const char c = text_[pos_];
      switch (state) {
        case State::kValue:
        case State::kElement:
        case State::kElementOrClose:
          if (c == ']' && state == State::kElementOrClose) {
            ++pos_;
            state = CloseContainer();
          } else if (c == ']' && state == State::kElement) {
            return Fail(pos_, "trailing comma before ']'");
          } else if (auto error = ScanValue(state)) {
            return error;
          }
          break;
        case State::kKey:
        case State::kKeyOrClose:
          if (c == '}' && state == State::kKeyOrClose) {
            ++pos_;
            state = CloseContainer();
          } else if (c == '}') {
            return Fail(pos_, "trailing comma before '}'");
          } else if (c == '"') {
            if (auto error = ScanString()) return error;
            state = State::kColon;
          } else {
            return Fail(pos_, "expected a string key in double quotes");
          }
          break;
        case State::kColon:
          if (c != ':') return Fail(pos_, "expected ':' after the object key");
          ++pos_;
          state = State::kValue;
          break;
        case State::kCommaOrClose: {
          const bool in_array = stack_.back() == '[';
          if (c == ',') {
            ++pos_;
            state = in_array ? State::kElement : State::kKey;
          } else if (c == (in_array ? ']' : '}')) {
            ++pos_;
            state = CloseContainer();
          } else {
            return Fail(pos_, in_array ? "expected ',' or ']' after an array element"
                                       : "expected ',' or '}' after an object member");
          }
          break;
        }
        case State::kDone:
          break;
      }
    }
  }

 private:
  enum class State {
    kValue,           // a value: the document, or after ':'
    kElement,         // an array element after ','
    kElementOrClose,  // after '['
    kKey,             // after ',' in an object
    kKeyOrClose,      // after '{'
    kColon,
    kCommaOrClose,
    kDone,
  };

  static SyntaxError Fail(std::size_t offset, std::string reason) {
    return SyntaxError{offset, std::move(reason)};
  }

  void SkipWhitespace() {
    while (pos_ < text_.size() && IsJsonWhitespace(text_[pos_])) ++pos_;
  }

  State AfterValue() const { return stack_.empty() ? State::kDone : State::kCommaOrClose; }

  State CloseContainer() {
    stack_.pop_back();
    return AfterValue();
  }

  std::optional<SyntaxError> ScanValue(State& state) {
    const char c = text_[pos_];
    if (c == '[' || c == '{') {
      if (stack_.size() >= kMaxDepth) {
        return Fail(pos_, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      }
      stack_.push_back(c);
      ++pos_;
      state = c == '[' ? State::kElementOrClose : State::kKeyOrClose;
      return std::nullopt;
    }
    std::optional<SyntaxError> error;
    if (c == '"') {
      error = ScanString();
    } else if (c == '-' || IsDigit(c)) {
      error = ScanNumber();
    } else if (c == 't' || c == 'f' || c == 'n') {
      error = ScanLiteral();
    } else if (c == '}' || c == ']' || c == ',' || c == ':') {
      return Fail(pos_, std::string("expected a value, found '") + c + "'");
    } else {
      return Fail(pos_, "expected a value");
    }
    if (!error) state = AfterValue();
    return error;
  }

  std::optional<SyntaxError> ScanLiteral() {
    const std::size_t start = pos_;
    std::size_t end = pos_;
    while (end < text_.size() && std::isalnum(static_cast<unsigned char>(text_[end]))) ++end;
    const std::string_view word = text_.substr(start, end - start);
    if (word != "true" && word != "false" && word != "null") {
      return Fail(start, "invalid literal (expected true, false or null)");
    }
    pos_ = end;
    return std::nullopt;
  }

  std::optional<SyntaxError> ScanNumber() {
    const std::size_t start = pos_;
    std::size_t end = pos_;
    auto in_number = [](char c) {
      return IsDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
             std::isalpha(static_cast<unsigned char>(c));
    };
    while (end < text_.size() && in_number(text_[end])) ++end;
    const std::string_view token = text_.substr(start, end - start);
    if (!IsJsonNumber(token)) {
      const std::size_t first_digit = token[0] == '-' ? 1 : 0;
      const bool leading_zero = token.size() > first_digit + 1 && token[first_digit] == '0' &&
                                IsDigit(token[first_digit + 1]);
      return Fail(start, leading_zero ? "invalid number (leading zeros are not allowed)"
                                      : "invalid number");
    }
    if (!ParseNumberToken(token)) return Fail(start, "number out of range");
    pos_ = end;
    return std::nullopt;
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // The code unit of the \uXXXX escape at pos (pointing at the backslash), or -1.
  int ReadUnicodeEscape(std::size_t pos) const {
    if (pos + 6 > text_.size() || text_[pos] != '\\' || text_[pos + 1] != 'u') return -1;
    int unit = 0;
    for (std::size_t i = pos + 2; i < pos + 6; ++i) {
      const int digit = HexValue(text_[i]);
      if (digit < 0) return -1;
      unit = unit * 16 + digit;
    }
    return unit;
  }

  std::optional<SyntaxError> ScanString() {
    const std::size_t start = pos_++;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
    while (pos_ < text_.size()) {
      const unsigned char c = bytes[pos_];
      if (c == '"') {
        ++pos_;
        return std::nullopt;
      }
      if (c == '\n' || c == '\r') return Fail(start, "unterminated string");
      if (c < 0x20) return Fail(pos_, "unescaped control character in string");
      if (c == '\\') {
        if (auto error = ScanEscape()) return error;
      } else if (c >= 0x80) {
        const std::size_t length = Utf8SequenceLength(bytes + pos_, text_.size() - pos_);
        if (length == 0) return Fail(pos_, "invalid UTF-8");
        pos_ += length;
      } else {
        ++pos_;
      }
    }
    return Fail(start, "unterminated string");
  }

  std::optional<SyntaxError> ScanEscape() {
    if (pos_ + 1 >= text_.size()) return Fail(pos_, "unterminated escape sequence");
    const char kind = text_[pos_ + 1];
    if (std::strchr("\"\\/bfnrt", kind) != nullptr && kind != '\0') {
      pos_ += 2;
      return std::nullopt;
    }
    if (kind != 'u') return Fail(pos_, "invalid escape sequence");
    const int unit = ReadUnicodeEscape(pos_);
    if (unit < 0) return Fail(pos_, "invalid \\u escape (expected four hex digits)");
    if (unit >= 0xDC00 && unit <= 0xDFFF) return Fail(pos_, "unpaired UTF-16 surrogate");
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int low = ReadUnicodeEscape(pos_ + 6);
      if (low < 0xDC00 || low > 0xDFFF) return Fail(pos_, "unpaired UTF-16 surrogate");
      pos_ += 6;
    }
    pos_ += 6;
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<char> stack_;  // '[' or '{' for each open container
};

// 1-based line and column of offset; columns count characters (UTF-8 sequences), not bytes.
std::pair<std::size_t, std::size_t> LineAndColumn(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::size_t column = 1;
  for (std::size_t i = line_start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return {line, column};
}

Error InvalidJson(std::string_view text, sj::error_code code) {
  std::optional<SyntaxError> error = JsonSyntaxScanner(text).Scan();
  // The scanner is at least as strict as simdjson, so it finds the error; should the two ever
  // disagree, the message still carries simdjson's reason.
  const std::size_t offset = error ? error->offset : 0;
  const auto [line, column] = LineAndColumn(text, offset);
  std::string message =
      "invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  if (error) message += error->reason + " (simdjson: ";
  message += sj::error_message(code);
  if (error) message += ")";
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

// Thrown by the decoder on a simdjson error; the public functions turn it into an Error with the
// line and column.
struct ParseFailure {
  sj::error_code code;
};

template <class T>
T Take(sj::simdjson_result<T>&& result) {
  T value;
  if (const sj::error_code code = std::move(result).get(value)) throw ParseFailure{code};
  return value;
}

// Object members in document order. A duplicate key replaces the earlier value at the earlier
// position (the last one wins), exactly like Object::Set, but without its linear search once an
// object grows large.
class MemberList {
 public:
  void Add(std::string key, Value value) {
    if (Value* existing = Find(key)) {
      *existing = std::move(value);
      return;
    }
    key_bits_ |= KeyBit(key);
    members_.emplace_back(std::move(key), std::move(value));
    if (!index_.empty() || members_.size() > kLinearLimit) IndexFrom(index_.size());
  }

  Value* Find(std::string_view key) {
    if (members_.size() <= kLinearLimit) {
      if ((key_bits_ & KeyBit(key)) == 0) return nullptr;
      for (auto& member : members_) {
        if (member.first == key) return &member.second;
      }
      return nullptr;
    }
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &members_[it->second].second;
  }

  void Reserve(std::size_t n) { members_.reserve(n); }
  std::vector<Object::Member>& members() { return members_; }

  Object ToObject() && {
    Object object;
    object.Reserve(members_.size());
    for (auto& [key, value] : members_) object.Set(std::move(key), std::move(value));
    return object;
  }

 private:
  static constexpr std::size_t kLinearLimit = 32;

  // One of 64 bits for a key: most lookups of a missing key end at key_bits_.
  static std::uint64_t KeyBit(std::string_view key) {
    const std::size_t h = key.empty()
                              ? 0
                              : key.size() * 7 + static_cast<unsigned char>(key.front()) * 3 +
                                    static_cast<unsigned char>(key.back());
    return std::uint64_t{1} << (h & 63);
  }

  void IndexFrom(std::size_t first) {
    for (std::size_t i = first; i < members_.size(); ++i) index_.emplace(members_[i].first, i);
  }

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>()(key);
    }
  };

  std::vector<Object::Member> members_;
  std::uint64_t key_bits_ = 0;  // the KeyBit of every key
  std::unordered_map<std::string, std::size_t, KeyHash, std::equal_to<>> index_;
};

// An array or object being built, with the position of its iteration.
struct OpenContainer {
  bool is_object = false;
  od::array_iterator next_element;
  od::array_iterator end_of_array;
  od::object_iterator next_member;
  od::object_iterator end_of_object;
  std::string_view key;  // of the member being built; in the text or the parser's string buffer
  std::size_t base = 0;  // where its elements or members start on the scratch stacks
};

// The explicit stack of open containers (the decoder does not recurse, so deep nesting costs heap,
// not call stack) and stacks of the members and elements built so far. Reused from document to
// document, so that building a container allocates only the container itself, at its final size.
struct BuildScratch {
  std::vector<OpenContainer> open;
  std::vector<Object::Member> members;
  std::vector<Value> elements;

  // Empties the stacks (a document that failed half-way leaves children on them), releasing the
  // memory of unusually large ones.
  void Clear() {
    constexpr std::size_t kKeep = 4096;
    open.clear();
    members.clear();
    elements.clear();
    if (open.capacity() > kKeep) open.shrink_to_fit();
    if (members.capacity() > kKeep) members.shrink_to_fit();
    if (elements.capacity() > kKeep) elements.shrink_to_fit();
  }
};

Value DecodeFieldValue(Value value, FieldType type, const std::string& name);

class ValueBuilder {
 public:
  // The key of a member. Keys without escapes (nearly all) are read where they stand in the text;
  // only the others are unescaped into the parser's buffer, which simdjson's portable kernel does
  // a byte at a time.
  static std::string_view KeyOf(od::field& field) {
    const char* raw = field.key().raw();
    const char* end = raw;
    while (*end != '"') {
      if (*end == '\\') return Take(field.unescaped_key());
      ++end;
    }
    return std::string_view(raw, static_cast<std::size_t>(end - raw));
  }

  explicit ValueBuilder(BuildScratch& scratch) : scratch_(scratch) {}

  // The whole document (text), which must hold exactly one value.
  Value BuildDocument(od::document& doc, std::string_view text) {
    Value result;
    switch (Take(doc.type())) {
      case od::json_type::array:
      case od::json_type::object: {
        od::value root = Take(doc.get_value());
        result = Build(root, 0);
        break;
      }
      case od::json_type::number:
        // The document is nothing but the number, read from its text: simdjson 3.0.1's
        // document::get_number() fails on trailing whitespace ("5 " became the double 5.0).
        return RootNumber(text);
      case od::json_type::string:
        result = Value(Take(doc.get_string()));
        break;
      case od::json_type::boolean: {
        // From the text, as for numbers: get_bool() fails on trailing whitespace.
        const std::string_view atom = TrimJsonWhitespace(text);
        if (atom != "true" && atom != "false") throw ParseFailure{sj::T_ATOM_ERROR};
        return Value(atom == "true");
      }
      case od::json_type::null:
        if (TrimJsonWhitespace(text) != "null") throw ParseFailure{sj::N_ATOM_ERROR};
        return Value();
    }
    ExpectEnd(doc);
    return result;
  }

  // A document that must be an object, as its members (with "fields", when it is an object, as
  // the members of that too, so that a record's fields can be moved out).
  struct RecordMembers {
    MemberList members;
    std::optional<MemberList> fields;
    bool skipped_non_field_object = false;
  };

  // The structured form exactly as this library and the reference write it ({"id", "fields":
  // {name: {"name", "value", "type", "metadata"}}, "metadata", "_version"}), read straight into a
  // Record without building the field objects as Values; only the selected fields when there is a
  // selection. nullopt when the document strays from that form in any way (another key, "_id",
  // a repeated key, a member of "fields" that is not a field object, a type name it does not
  // know): the general path then decides what the document is, and reports what is wrong.
  std::optional<Record> ReadPlainStructured(od::document& doc, const FieldSelection* selection) {
    if (Take(doc.type()) != od::json_type::object) return std::nullopt;
    Record record;
    bool seen_id = false, seen_fields = false, seen_metadata = false, seen_version = false;
    od::object object = Take(doc.get_object());
    for (auto member : object) {
      od::field field = Take(std::move(member));
      const std::string_view key = KeyOf(field);
      od::value& value = field.value();
      if (key == "fields" && !seen_fields) {
        seen_fields = true;
        od::object fields;
        if (value.get_object().get(fields) || !ReadFieldObjects(fields, selection, record)) {
          return std::nullopt;
        }
      } else if (key == "id" && !seen_id) {
        seen_id = true;
        switch (Take(value.type())) {
          case od::json_type::string:
            record.set_id(Take(value.get_string()));
            break;
          case od::json_type::number: {
            std::int64_t id;
            if (value.get_int64().get(id)) return std::nullopt;
            record.set_id(std::to_string(id));
            break;
          }
          case od::json_type::null:
            break;
          default:
            return std::nullopt;
        }
      } else if (key == "metadata" && !seen_metadata) {
        seen_metadata = true;
        if (!ReadMetadata(value, 1, record.metadata())) return std::nullopt;
      } else if (key == "_version" && !seen_version) {
        seen_version = true;
        const Value version = Build(value, 1);
        const auto* number = version.Get<std::int64_t>();
        if (number == nullptr || *number < 0) return std::nullopt;
        record.set_version(static_cast<std::uint64_t>(*number));
      } else {
        return std::nullopt;
      }
    }
    ExpectEnd(doc);
    if (!seen_fields) return std::nullopt;
    return record;
  }

  // With a selection, members that can only be data fields are built only when selected (see
  // RecordFromJson(text, selected)); skipped_non_field_object then tells whether a skipped
  // member of "fields" was not a field object, which makes the structured form doubtful.
  std::optional<RecordMembers> BuildRecordMembers(od::document& doc,
                                                  const FieldSelection* selection = nullptr) {
    if (Take(doc.type()) != od::json_type::object) return std::nullopt;
    RecordMembers record;
    const std::size_t base = scratch_.members.size();
    od::object object = Take(doc.get_object());
    for (auto member : object) {
      od::field field = Take(std::move(member));
      const std::string_view key = KeyOf(field);
      od::value& value = field.value();
      if (key == "fields" && Take(value.type()) == od::json_type::object) {
        record.fields.emplace();
        const std::size_t fields_base =
            selection ? PushSelectedFields(Take(value.get_object()), *selection, record)
                      : PushMembers(Take(value.get_object()), 1);
        PopMembers(fields_base, *record.fields);
        scratch_.members.emplace_back(key, Value());  // a placeholder keeping its position
      } else if (selection && !IsRecordKey(key) && !selection->Selects(key)) {
        continue;  // a flat-form data field nobody asked for: simdjson skips it
      } else {
        if (key == "fields") record.fields.reset();  // a later "fields" wins
        Value built = Build(value, 1);
        scratch_.members.emplace_back(key, std::move(built));
      }
    }
    ExpectEnd(doc);
    PopMembers(base, record.members);
    return record;
  }

 private:
  // The value, which is inside `depth` containers. Iterative: containers are pushed on
  // scratch_.open, children built into scratch_.members and scratch_.elements.
  Value Build(od::value& value, std::size_t depth) {
    std::vector<OpenContainer>& open = scratch_.open;
    const std::size_t bottom = open.size();
    Value done;  // the value completed last
    bool have_value = Start(value, depth, done);
    for (;;) {
      if (have_value) {
        if (open.size() == bottom) return done;
        OpenContainer& parent = open.back();
        if (parent.is_object) {
          scratch_.members.emplace_back(parent.key, std::move(done));
          ++parent.next_member;
        } else {
          scratch_.elements.push_back(std::move(done));
          ++parent.next_element;
        }
      }
      OpenContainer& top = open.back();
      od::value child;
      if (top.is_object && top.next_member != top.end_of_object) {
        od::field field = Take(*top.next_member);
        top.key = KeyOf(field);
        child = field.value();
      } else if (!top.is_object && top.next_element != top.end_of_array) {
        child = Take(*top.next_element);
      } else {
        done = Close(top);
        open.pop_back();
        have_value = true;
        continue;
      }
      have_value = Start(child, depth + (open.size() - bottom), done);
    }
  }

  // Reads a scalar into done (returning true), or opens a container (returning false).
  bool Start(od::value& value, std::size_t depth, Value& done) {
    switch (Take(value.type())) {
      // An empty container is done at once (most metadata is `{}`): no stack frame, no Close.
      case od::json_type::array: {
        CheckDepth(depth + 1);
        od::array array = Take(value.get_array());
        od::array_iterator first = Take(array.begin());
        od::array_iterator last = Take(array.end());
        if (!(first != last)) {
          done = Value(List());
          return true;
        }
        OpenContainer& container = scratch_.open.emplace_back();
        container.is_object = false;
        container.next_element = first;
        container.end_of_array = last;
        container.base = scratch_.elements.size();
        return false;
      }
      case od::json_type::object: {
        CheckDepth(depth + 1);
        od::object object = Take(value.get_object());
        od::object_iterator first = Take(object.begin());
        od::object_iterator last = Take(object.end());
        if (!(first != last)) {
          done = Value(Object());
          return true;
        }
        OpenContainer& container = scratch_.open.emplace_back();
        container.is_object = true;
        container.next_member = first;
        container.end_of_object = last;
        container.base = scratch_.members.size();
        return false;
      }
      case od::json_type::number:
        done = BuildNumber(value);
        return true;
      case od::json_type::string:
        done = Value(Take(value.get_string()));
        return true;
      case od::json_type::boolean:
        done = Value(Take(value.get_bool()));
        return true;
      case od::json_type::null:
        if (!Take(value.is_null())) throw ParseFailure{sj::N_ATOM_ERROR};
        done = Value();
        return true;
    }
    throw ParseFailure{sj::TAPE_ERROR};
  }

  // The finished container, made of the children on the scratch stacks (which it takes).
  Value Close(const OpenContainer& container) {
    if (!container.is_object) {
      auto first = scratch_.elements.begin() + container.base;
      List list(std::make_move_iterator(first), std::make_move_iterator(scratch_.elements.end()));
      scratch_.elements.resize(container.base);
      return Value(std::move(list));
    }
    // Object::Set keeps the first position of a duplicate key and the last value.
    Object object;
    object.Reserve(scratch_.members.size() - container.base);
    for (auto it = scratch_.members.begin() + container.base; it != scratch_.members.end(); ++it) {
      object.Set(std::move(it->first), std::move(it->second));
    }
    scratch_.members.resize(container.base);
    return Value(std::move(object));
  }

  static void CheckDepth(std::size_t depth) {
    if (depth > kMaxDepth) throw ParseFailure{sj::DEPTH_ERROR};
  }

  // Pushes the members of object, which is inside `depth` containers, onto the scratch stack;
  // returns where they start.
  std::size_t PushMembers(od::object object, std::size_t depth) {
    CheckDepth(depth + 1);
    const std::size_t base = scratch_.members.size();
    for (auto member : object) {
      od::field field = Take(std::move(member));
      const std::string_view key = KeyOf(field);
      Value built = Build(field.value(), depth + 1);
      scratch_.members.emplace_back(key, std::move(built));
    }
    return base;
  }

  // The members of a structured "fields" object (see ReadPlainStructured) appended to record as
  // fields; false when one is not a field object as the structured form writes it.
  bool ReadFieldObjects(od::object fields, const FieldSelection* selection, Record& record) {
    for (auto member : fields) {
      od::field field = Take(std::move(member));
      const std::string_view name = KeyOf(field);
      if (selection && !selection->Selects(name)) {
        if (!IsFieldObject(field.value())) return false;
        continue;
      }
      od::object object;
      if (field.value().get_object().get(object)) return false;
      if (record.FindField(name) != nullptr) return false;
      Field& built = record.mutable_fields().emplace_back();
      built.name = name;
      if (!ReadFieldObject(object, built)) return false;
    }
    return true;
  }

  // A "metadata" member (inside `depth` containers) into into: an object, or null for none; false
  // for anything else.
  bool ReadMetadata(od::value& value, std::size_t depth, Object& into) {
    Value metadata = Build(value, depth);
    if (Object* members = metadata.Get<Object>()) {
      into = std::move(*members);
      return true;
    }
    return metadata.is_null();
  }

  // {"name", "value", "type", "metadata"} into field (whose name is set), as ReadStructuredField
  // does; false when it is not quite that.
  bool ReadFieldObject(od::object object, Field& field) {
    bool seen_value = false, seen_type = false, seen_metadata = false;
    std::optional<FieldType> type;
    for (auto member : object) {
      od::field part = Take(std::move(member));
      const std::string_view key = KeyOf(part);
      od::value& value = part.value();
      if (key == "value" && !seen_value) {
        seen_value = true;
        field.value = Build(value, 3);
      } else if (key == "type" && !seen_type) {
        seen_type = true;
        switch (Take(value.type())) {
          case od::json_type::null:
            break;
          case od::json_type::string:
            type = ParseFieldType(Take(value.get_string()));
            if (!type) return false;
            break;
          default:
            return false;
        }
      } else if (key == "metadata" && !seen_metadata) {
        seen_metadata = true;
        if (!ReadMetadata(value, 3, field.metadata)) return false;
      } else if (key == "value" || key == "type" || key == "metadata") {
        return false;  // repeated
      }
      // "name" and unknown members are ignored, as ReadStructuredField does.
    }
    if (!seen_value) return false;
    field.type = type ? *type : DetectFieldType(field.value);
    field.value = DecodeFieldValue(std::move(field.value), field.type, field.name);
    return true;
  }

  // Whether value, which is not read further, is a field object: an object with a "value" key.
  // The field objects this library and the reference write ({"value": .. or {"name":"..",
  // "value": ..) are recognised from their text, without iterating them (a share of every scan
  // that filters); anything else is looked into.
  static bool IsFieldObject(od::value& value) {
    // The value's text is followed by the rest of the document and simdjson's zeroed padding, so
    // the bytes compared are there, and a scan for '"' stops at the padding at the latest.
    const char* p = value.raw_json_token().data();
    if (*p == '{') {
      constexpr std::string_view kValueKey = "\"value\":";
      constexpr std::string_view kNameKey = "\"name\":\"";
      constexpr std::string_view kThenValueKey = ",\"value\":";
      if (std::memcmp(p + 1, kValueKey.data(), kValueKey.size()) == 0) return true;
      if (std::memcmp(p + 1, kNameKey.data(), kNameKey.size()) == 0) {
        const char* q = p + 1 + kNameKey.size();
        while (*q != '"' && *q != '\\' && *q != '\0') ++q;
        if (*q == '"' && std::memcmp(q + 1, kThenValueKey.data(), kThenValueKey.size()) == 0) {
          return true;
        }
      }
    }
    od::object object;
    od::value ignored;
    return !value.get_object().get(object) && !object.find_field_unordered("value").get(ignored);
  }

  // The keys that say what a record is, in either form: always read.
  static bool IsRecordKey(std::string_view key) {
    return key == "id" || key == "_id" || key == "metadata" || key == "_metadata" ||
           key == "_version" || key == "_types";
  }

  // Pushes the selected members of a "fields" object; of the others, only checks that they are
  // field objects ({"value": ..}) without building them.
  std::size_t PushSelectedFields(od::object object, const FieldSelection& selection,
                                 RecordMembers& record) {
    const std::size_t base = scratch_.members.size();
    for (auto member : object) {
      od::field field = Take(std::move(member));
      const std::string_view key = KeyOf(field);
      od::value& value = field.value();
      if (selection.Selects(key)) {
        Value built = Build(value, 2);
        scratch_.members.emplace_back(key, std::move(built));
        continue;
      }
      if (!IsFieldObject(value)) record.skipped_non_field_object = true;
    }
    return base;
  }

  // Moves the members from base to the top of the scratch stack into members.
  void PopMembers(std::size_t base, MemberList& members) {
    members.Reserve(scratch_.members.size() - base);
    for (auto it = scratch_.members.begin() + base; it != scratch_.members.end(); ++it) {
      members.Add(std::move(it->first), std::move(it->second));
    }
    scratch_.members.resize(base);
  }

  // int64 when the number is an integer that fits, else a double.
  static Value NumberValue(od::number number) {
    switch (number.get_number_type()) {
      case od::number_type::signed_integer:
        return Value(number.get_int64());
      case od::number_type::unsigned_integer:
        return Value(static_cast<double>(number.get_uint64()));
      case od::number_type::floating_point_number:
        break;
    }
    return Value(number.get_double());
  }

  // Whether a number token is a float with more than 19 characters of digits and '.' before its
  // exponent. simdjson 3.0.1 reads some of those wrong: get_number() returns 0 when such a float
  // takes its slow path (simdjson issue #2099, e.g. 1000000000.000000001), and long fractions can
  // overflow (#2093, e.g. 0.95000000000000000000). Such numbers are parsed by std::from_chars.
  static bool IsLongFloat(std::string_view token) {
    int digits = 0;
    bool fraction = false;
    for (const char c : token) {
      if (IsDigit(c)) {
        ++digits;
      } else if (c == '.') {
        fraction = true;
      } else if (c == 'e' || c == 'E') {
        return digits + fraction > 19;
      }
    }
    return fraction && digits + 1 > 19;
  }

  // simdjson rejects integers beyond 64 bits; they become doubles like every other number that
  // does not fit int64.
  static Value LongNumber(std::string_view token) {
    const std::optional<double> d = ParseNumberToken(token);
    if (!d) throw ParseFailure{sj::NUMBER_ERROR};
    return Value(*d);
  }

  // A document that is one number (with whitespace around it): an integer that fits int64 is an
  // int, any other number a double, exactly as inside a container.
  static Value RootNumber(std::string_view text) {
    text = TrimJsonWhitespace(text);
    if (!IsJsonNumber(text)) throw ParseFailure{sj::NUMBER_ERROR};
    if (text.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && end == text.data() + text.size()) return Value(i);
    }
    return LongNumber(text);
  }

  static Value BuildNumber(od::value& value) {
    const std::string_view token = value.raw_json_token();
    if (IsLongFloat(token)) return LongNumber(token);
    od::number number;
    const sj::error_code code = value.get_number().get(number);
    if (code == sj::NUMBER_ERROR) return LongNumber(token);
    if (code) throw ParseFailure{code};
    return NumberValue(number);
  }

  BuildScratch& scratch_;

  static void ExpectEnd(od::document& doc) {
    const char* location = nullptr;
    if (doc.current_location().get(location) != sj::OUT_OF_BOUNDS) {
      throw ParseFailure{sj::TRAILING_CONTENT};
    }
  }
};

// A copy of the text with the zeroed padding simdjson reads past the end; grows, never shrinks.
class PaddedBuffer {
 public:
  sj::padded_string_view Fill(std::string_view text) {
    const std::size_t needed = text.size() + sj::SIMDJSON_PADDING;
    if (capacity_ < needed) {
      data_ = std::make_unique_for_overwrite<char[]>(needed);
      capacity_ = needed;
    }
    std::memcpy(data_.get(), text.data(), text.size());
    std::memset(data_.get() + text.size(), 0, sj::SIMDJSON_PADDING);
    return sj::padded_string_view(data_.get(), text.size(), capacity_);
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
};

// What parsing a document needs; each thread keeps one for documents up to kLargeDocument.
struct ParserState {
  // simdjson's On-Demand parser does not check depth itself (only a debug assertion guards its
  // per-depth array): give it room beyond kMaxDepth, which CheckDepth enforces before it matters.
  ParserState() {
    if (parser.allocate(kInitialCapacity, kMaxDepth + 8) != sj::SUCCESS) throw std::bad_alloc();
  }
  static constexpr std::size_t kInitialCapacity = 64 * 1024;
  od::parser parser;
  PaddedBuffer buffer;
  BuildScratch scratch;
  bool busy = false;
};

ParserState& ThreadParserState() {
  thread_local ParserState state;
  return state;
}

// Runs build(document, scratch) on a padded copy of text, with this thread's parser (or a parser
// of its own for a large document, or when the thread's parser is busy further up the stack).
template <class Build>
auto WithDocument(std::string_view text, Build&& build) {
  ParserState& shared = ThreadParserState();
  const bool use_shared = !shared.busy && text.size() <= kLargeDocument;
  std::optional<ParserState> own;
  ParserState& state = use_shared ? shared : own.emplace();

  struct BusyGuard {
    ParserState& state;
    ~BusyGuard() {
      state.scratch.Clear();
      state.busy = false;
    }
  } guard{state};
  state.busy = true;

  try {
    od::document doc = Take(state.parser.iterate(state.buffer.Fill(text)));
    return build(doc, state.scratch);
  } catch (const ParseFailure& failure) {
    throw InvalidJson(text, failure.code);
  }
}

// ---------------------------------------------------------------------------------------------
// Small documents (a CSV cell, a metadata object)
// ---------------------------------------------------------------------------------------------

// Up to this size a document is parsed with simdjson's DOM parser and built recursively: for a
// document of a few values that is about twice as fast as On-Demand with the explicit stack, whose
// set-up costs more than the parse (measured on CSV `json` cells).
constexpr std::size_t kSmallDocument = 1024;

// Whether text has a run of 20 or more digits and dots: a number simdjson 3.0.1 may read wrong (see
// ValueBuilder::IsLongFloat) or an integer beyond 64 bits. The DOM parser does not show a number's
// text, so such documents take the On-Demand path, which handles them.
bool HasLongNumber(std::string_view text) {
  std::size_t run = 0;
  for (const char c : text) {
    run = (IsDigit(c) || c == '.') ? run + 1 : 0;
    if (run >= 20) return true;
  }
  return false;
}

Value BuildDomValue(sj::dom::element element) {
  switch (element.type()) {
    case sj::dom::element_type::ARRAY: {
      const sj::dom::array array = element.get_array().value_unsafe();
      List list;
      list.reserve(array.size());
      for (sj::dom::element child : array) list.push_back(BuildDomValue(child));
      return Value(std::move(list));
    }
    case sj::dom::element_type::OBJECT: {
      const sj::dom::object object = element.get_object().value_unsafe();
      Object members;
      members.Reserve(object.size());
      // Set: a duplicate key keeps its first position and takes the last value, as On-Demand does.
      for (sj::dom::key_value_pair member : object) {
        members.Set(std::string(member.key), BuildDomValue(member.value));
      }
      return Value(std::move(members));
    }
    case sj::dom::element_type::STRING:
      return Value(std::string(element.get_string().value_unsafe()));
    case sj::dom::element_type::INT64:
      return Value(element.get_int64().value_unsafe());
    case sj::dom::element_type::UINT64:  // beyond int64: a double, like every such number
      return Value(static_cast<double>(element.get_uint64().value_unsafe()));
    case sj::dom::element_type::DOUBLE:
      return Value(element.get_double().value_unsafe());
    case sj::dom::element_type::BOOL:
      return Value(element.get_bool().value_unsafe());
    case sj::dom::element_type::NULL_VALUE:
      return Value();
  }
  return Value();
}

// The value of a small document, or nullopt when it is not small, may hold a long number, or does
// not parse: the On-Demand path then gives the value or the exact error (so both paths agree on
// every input; tests/unit/json_test.cpp checks it).
std::optional<Value> ParseSmallDocument(std::string_view text) {
  if (text.size() > kSmallDocument || HasLongNumber(text)) return std::nullopt;
  thread_local sj::dom::parser parser;
  sj::dom::element root;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root)) {
    return std::nullopt;
  }
  return BuildDomValue(root);
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

std::string FieldSubject(const std::string& field, const std::vector<std::string>& path) {
  std::vector<std::string> full = path;
  full.push_back(field);
  return "field " + Quoted(JoinPath(full));
}

std::string MetadataSubject(const std::vector<std::string>& path) {
  return path.empty() ? "metadata" : "metadata " + Quoted(JoinPath(path));
}

[[noreturn]] void ThrowEncodeError(const std::string& subject, const EncodeFailure& failure) {
  throw Error(ErrorCode::kInvalidArgument,
              "cannot write " + subject + " as JSON: " + failure.reason);
}

// Writes metadata (an object of plain JSON), naming it in errors: the record's, or the field's
// when field is not null.
void WriteMetadata(JsonWriter& writer, const Object& metadata, const Field* field) {
  try {
    writer.WriteObject(metadata);
  } catch (const EncodeFailure& failure) {
    ThrowEncodeError(MetadataSubject(failure.path) +
                         (field ? " of field " + Quoted(field->name) : " of the record"),
                     failure);
  }
}

void WriteFieldName(JsonWriter& writer, const Field& field) {
  try {
    writer.WriteString(field.name, "field name");
  } catch (const EncodeFailure& failure) {
    ThrowEncodeError("a field name", failure);
  }
}

void WriteFieldValue(JsonWriter& writer, const Field& field) {
  try {
    writer.WriteValue(field.value);
  } catch (const EncodeFailure& failure) {
    ThrowEncodeError(FieldSubject(field.name, failure.path), failure);
  }
}

void WriteStructured(JsonWriter& writer, const Record& record) {
  writer.WriteRaw("{");
  if (record.id()) {
    writer.WriteRaw("\"id\":");
    try {
      writer.WriteString(*record.id(), "record id");
    } catch (const EncodeFailure& failure) {
      ThrowEncodeError("the record id", failure);
    }
    writer.WriteRaw(",");
  }
  writer.WriteRaw("\"fields\":{");
  bool first = true;
  for (const Field& field : record.fields()) {
    if (!first) writer.WriteRaw(",");
    first = false;
    WriteFieldName(writer, field);
    writer.WriteRaw(":{\"name\":");
    WriteFieldName(writer, field);
    writer.WriteRaw(",\"value\":");
    WriteFieldValue(writer, field);
    writer.WriteRaw(",\"type\":\"");
    writer.WriteRaw(FieldTypeName(field.type));
    writer.WriteRaw("\",\"metadata\":");
    WriteMetadata(writer, field.metadata, &field);
    writer.WriteRaw("}");
  }
  writer.WriteRaw("},\"metadata\":");
  WriteMetadata(writer, record.metadata(), nullptr);
  if (record.version() != 0) {
    writer.WriteRaw(",\"_version\":");
    writer.WriteUnsigned(record.version());
  }
  writer.WriteRaw("}");
}

// The type a reader infers for the plain JSON of a value: DetectFieldType, where bytes and
// timestamps become strings and vectors lists.
FieldType PlainJsonType(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kBytes:
    case ValueKind::kTimestamp:
      return FieldType::kString;
    case ValueKind::kVector:
      return FieldType::kJson;
    default:
      return DetectFieldType(value);
  }
}

bool NeedsTypeTag(const Field& field) {
  switch (field.type) {
    case FieldType::kDatetime:
    case FieldType::kBinary:
    case FieldType::kVector:
    case FieldType::kSparseVector:
      return true;
    default:
      break;
  }
  // A flat field named "fields" holding an object could pass for the structured form; the
  // "_types" key tells readers that the document is flat.
  if (field.value.kind() == ValueKind::kObject && field.name == "fields") return true;
  return field.type != PlainJsonType(field.value);
}

void WriteFlat(JsonWriter& writer, const Record& record) {
  writer.WriteRaw("{");
  bool first = true;
  bool any_tagged = false;
  for (const Field& field : record.fields()) {
    if (!first) writer.WriteRaw(",");
    first = false;
    WriteFieldName(writer, field);
    writer.WriteRaw(":");
    WriteFieldValue(writer, field);
    any_tagged = any_tagged || NeedsTypeTag(field);
  }
  if (record.id()) {
    writer.WriteRaw(first ? "\"_id\":" : ",\"_id\":");
    first = false;
    try {
      writer.WriteString(*record.id(), "record id");
    } catch (const EncodeFailure& failure) {
      ThrowEncodeError("the record id", failure);
    }
  }
  if (any_tagged) {
    writer.WriteRaw(first ? "\"_types\":{" : ",\"_types\":{");
    first = false;
    bool first_tag = true;
    for (const Field& field : record.fields()) {
      if (!NeedsTypeTag(field)) continue;
      if (!first_tag) writer.WriteRaw(",");
      first_tag = false;
      WriteFieldName(writer, field);
      writer.WriteRaw(":\"");
      writer.WriteRaw(FieldTypeName(field.type));
      writer.WriteRaw("\"");
    }
    writer.WriteRaw("}");
  }
  if (record.version() != 0) {
    writer.WriteRaw(first ? "\"_version\":" : ",\"_version\":");
    writer.WriteUnsigned(record.version());
  }
  writer.WriteRaw("}");
}

[[noreturn]] void ThrowRecordError(std::string message) {
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

// The value of a field read from JSON, as the representation of its type: datetime from an
// ISO-8601 string, binary from base64, vector from a list of numbers, float from an integer; json
// and sparse_vector as they are. Any other mismatch goes through ConvertValue (so "5" can still be
// an integer); a value that cannot become its type is an error naming the field.
Value DecodeFieldValue(Value value, FieldType type, const std::string& name) {
  switch (value.kind()) {
    case ValueKind::kNull:
      return value;
    case ValueKind::kString:
      if (type == FieldType::kString || type == FieldType::kText || type == FieldType::kJson) {
        return value;
      }
      if (type == FieldType::kDatetime) {
        if (auto t = Timestamp::Parse(*value.Get<std::string>())) return Value(*t);
      } else if (type == FieldType::kBinary) {
        if (auto b = Base64Decode(*value.Get<std::string>())) return Value(Bytes{std::move(*b)});
      }
      break;
    case ValueKind::kInt:
      if (type == FieldType::kInteger || type == FieldType::kJson) return value;
      if (type == FieldType::kFloat) return Value(static_cast<double>(*value.Get<std::int64_t>()));
      break;
    case ValueKind::kFloat:
      if (type == FieldType::kFloat || type == FieldType::kJson) return value;
      break;
    case ValueKind::kBool:
      if (type == FieldType::kBoolean || type == FieldType::kJson) return value;
      break;
    case ValueKind::kList:
      if (type == FieldType::kJson) return value;
      if (type == FieldType::kVector) {
        const List& list = *value.Get<List>();
        Vector vector;
        vector.reserve(list.size());
        for (const Value& element : list) {
          if (!element.is_number()) {
            ThrowRecordError("field " + Quoted(name) + ": a vector holds only numbers, found " +
                             std::string(ValueKindName(element.kind())));
          }
          vector.push_back(static_cast<float>(element.AsDouble()));
        }
        return Value(std::move(vector));
      }
      break;
    case ValueKind::kObject:
      if (type == FieldType::kJson || type == FieldType::kSparseVector) return value;
      break;
    default:
      break;
  }
  try {
    return ConvertValue(value, type);
  } catch (const Error& error) {
    ThrowRecordError("field " + Quoted(name) + ": " + error.what());
  }
}

std::optional<std::string> ReadId(const Value& value, std::string_view key) {
  if (value.is_null()) return std::nullopt;
  if (const auto* s = value.Get<std::string>()) return *s;
  if (const auto* i = value.Get<std::int64_t>()) return std::to_string(*i);
  ThrowRecordError(Quoted(key) + " must be a string or an integer, found " +
                   std::string(ValueKindName(value.kind())));
}

std::uint64_t ReadVersion(const Value& value) {
  const auto* i = value.Get<std::int64_t>();
  if (i == nullptr || *i < 0) ThrowRecordError("\"_version\" must be a non-negative integer");
  return static_cast<std::uint64_t>(*i);
}

Object ReadObject(Value&& value, std::string_view what) {
  if (value.is_null()) return Object();
  Object* object = value.Get<Object>();
  if (object == nullptr) {
    ThrowRecordError(std::string(what) + " must be an object, found " +
                     std::string(ValueKindName(value.kind())));
  }
  return std::move(*object);
}

FieldType ReadFieldType(const Value& value, const std::string& name) {
  const auto* type_name = value.Get<std::string>();
  std::optional<FieldType> type;
  if (type_name != nullptr) type = ParseFieldType(*type_name);
  if (!type) {
    ThrowRecordError("field " + Quoted(name) + ": unknown field type " +
                     (type_name ? Quoted(*type_name) : value.ToDisplayString()));
  }
  return *type;
}

// Whether the members of "fields" are all field objects ({"value": ..}), as in the structured form.
bool AreFieldObjects(std::vector<Object::Member>& fields) {
  return std::all_of(fields.begin(), fields.end(), [](const Object::Member& member) {
    const Object* object = member.second.Get<Object>();
    return object != nullptr && object->Find("value") != nullptr;
  });
}

Field ReadStructuredField(std::string name, Object& object) {
  Value value = std::move(*object.Find("value"));
  FieldType type = DetectFieldType(value);
  if (const Value* type_value = object.Find("type"); type_value && !type_value->is_null()) {
    type = ReadFieldType(*type_value, name);
  }
  Object metadata;
  if (Value* metadata_value = object.Find("metadata")) {
    metadata = ReadObject(std::move(*metadata_value), "metadata of field " + Quoted(name));
  }
  value = DecodeFieldValue(std::move(value), type, name);
  return Field(std::move(name), std::move(value), type, std::move(metadata));
}

// The structured form: {"id", "fields": {name: {"name", "value", "type", "metadata"}}, "metadata",
// "_version"}; other keys are ignored. Reads the reference's output as it writes it.
Record ReadStructured(MemberList& members, std::vector<Object::Member>& fields) {
  Record record;
  if (const Value* id = members.Find("id"); id && !id->is_null()) {
    if (auto value = ReadId(*id, "id")) record.set_id(std::move(*value));
  } else if (const Value* underscore_id = members.Find("_id")) {
    if (auto value = ReadId(*underscore_id, "_id")) record.set_id(std::move(*value));
  }
  record.mutable_fields().reserve(fields.size());
  for (auto& [name, field_value] : fields) {
    record.mutable_fields().push_back(ReadStructuredField(name, *field_value.Get<Object>()));
  }
  if (Value* metadata = members.Find("metadata")) {
    record.metadata() = ReadObject(std::move(*metadata), "record metadata");
  }
  if (const Value* version = members.Find("_version")) record.set_version(ReadVersion(*version));
  return record;
}

bool IsFlatReservedKey(std::string_view key) {
  return key == "_id" || key == "_types" || key == "_version" || key == "_metadata";
}

// The flat form: {field: value, ..., "_id", "_types": {field: type}, "_version"}. "_metadata" (the
// reference's key for record metadata in its flat form) is read as the record metadata.
Record ReadFlat(MemberList& members) {
  Record record;
  if (const Value* id = members.Find("_id")) {
    if (auto value = ReadId(*id, "_id")) record.set_id(std::move(*value));
  } else if (const Value* plain_id = members.Find("id")) {
    // "id" stays a field too; it is data.
    if (plain_id->Get<std::string>() || plain_id->Get<std::int64_t>()) {
      record.set_id(*ReadId(*plain_id, "id"));
    }
  }
  Object types;
  if (Value* types_value = members.Find("_types")) {
    types = ReadObject(std::move(*types_value), "\"_types\"");
  }
  if (Value* metadata = members.Find("_metadata")) {
    record.metadata() = ReadObject(std::move(*metadata), "\"_metadata\"");
  }
  if (const Value* version = members.Find("_version")) record.set_version(ReadVersion(*version));

  std::vector<Field>& fields = record.mutable_fields();
  fields.reserve(members.members().size());
  for (auto& [name, value] : members.members()) {
    if (name.starts_with('_') && IsFlatReservedKey(name)) continue;
    Field& field = fields.emplace_back();
    if (const Value* type_value = types.empty() ? nullptr : types.Find(name)) {
      field.type = ReadFieldType(*type_value, name);
      field.value = DecodeFieldValue(std::move(value), field.type, name);
    } else {
      field.type = DetectFieldType(value);
      field.value = std::move(value);
    }
    field.name = std::move(name);
  }
  return record;
}

bool IsStructured(ValueBuilder::RecordMembers& document) {
  const bool flat_marked = document.members.Find("_types") != nullptr;
  return document.fields && !flat_marked && !document.skipped_non_field_object &&
         AreFieldObjects(document.fields->members());
}

Record ReadRecord(ValueBuilder::RecordMembers& document) {
  if (IsStructured(document)) return ReadStructured(document.members, document.fields->members());
  if (document.fields) {
    // "fields" is an ordinary field after all: put its object back in place.
    *document.members.Find("fields") = Value(std::move(*document.fields).ToObject());
  }
  return ReadFlat(document.members);
}

std::optional<double> FindNonFinite(const Value& value, std::vector<std::string>& path);

// The first NaN or infinity among the members of object, with its path (innermost step first).
std::optional<double> FindNonFiniteIn(const Object& object, std::vector<std::string>& path) {
  for (const auto& [key, member] : object) {
    if (const std::optional<double> bad = FindNonFinite(member, path)) {
      path.push_back(key);
      return bad;
    }
  }
  return std::nullopt;
}

std::optional<double> FindNonFinite(const Value& value, std::vector<std::string>& path) {
  switch (value.kind()) {
    case ValueKind::kFloat: {
      const double d = *value.Get<double>();
      if (!std::isfinite(d)) return d;
      return std::nullopt;
    }
    case ValueKind::kList: {
      const List& list = *value.Get<List>();
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (const std::optional<double> bad = FindNonFinite(list[i], path)) {
          path.push_back(std::to_string(i));
          return bad;
        }
      }
      return std::nullopt;
    }
    case ValueKind::kObject:
      return FindNonFiniteIn(*value.Get<Object>(), path);
    case ValueKind::kVector: {
      const Vector& vector = *value.Get<Vector>();
      for (std::size_t i = 0; i < vector.size(); ++i) {
        if (!std::isfinite(vector[i])) {
          path.push_back(std::to_string(i));
          return vector[i];
        }
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

[[noreturn]] void ThrowNonFiniteIn(const std::string& subject, double bad) {
  throw Error(ErrorCode::kInvalidArgument, subject + " holds " + std::string(NonFiniteName(bad)) +
                                               ", which is not a valid JSON number");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(out, bytes);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  if (padding == 1 && text.back() != '=') return std::nullopt;  // "..=x"
  std::string out;
  out.reserve(text.size() / 4 * 3);
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t data_length = text.size() - padding;
  std::uint32_t word = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_length; ++i) {
    const std::uint8_t v = kBase64Values[in[i]];
    if (v == kNotBase64) return std::nullopt;
    word = (word << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((word >> bits) & 0xFF);
    }
  }
  return out;
}

void AppendJson(std::string& out, const Value& value) {
  const std::size_t start = out.size();
  JsonWriter writer(out);
  try {
    writer.WriteValue(value);
  } catch (const EncodeFailure& failure) {
    out.resize(start);
    ThrowEncodeError(failure.path.empty() ? "value" : "value at " + Quoted(JoinPath(failure.path)),
                     failure);
  }
}

namespace internal {

void AppendJsonString(std::string& out, std::string_view s) {
  const std::size_t start = out.size();
  JsonWriter writer(out);
  try {
    writer.WriteString(s, "string");
  } catch (const EncodeFailure& failure) {
    out.resize(start);
    ThrowEncodeError("string", failure);
  }
}

}  // namespace internal

std::string ToJson(const Value& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

Value ParseJson(std::string_view text) {
  if (std::optional<Value> small = ParseSmallDocument(text)) return std::move(*small);
  return WithDocument(text, [text](od::document& doc, BuildScratch& scratch) {
    return ValueBuilder(scratch).BuildDocument(doc, text);
  });
}

void AppendRecordJson(std::string& out, const Record& record, RecordFormat format) {
  const std::size_t start = out.size();
  JsonWriter writer(out);
  try {
    if (format == RecordFormat::kStructured) {
      WriteStructured(writer, record);
    } else {
      WriteFlat(writer, record);
    }
  } catch (const Error&) {
    out.resize(start);  // leave no half-written record behind
    throw;
  }
}

std::string RecordToJson(const Record& record, RecordFormat format) {
  std::string out;
  AppendRecordJson(out, record, format);
  return out;
}

FieldSelection::FieldSelection(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    names_.push_back(path);
    const std::size_t dot = path.find('.');
    if (dot != std::string::npos) names_.push_back(path.substr(0, dot));
  }
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool FieldSelection::Selects(std::string_view name) const noexcept {
  for (const std::string& selected : names_) {
    if (selected == name) return true;
  }
  return false;
}

namespace internal {

std::optional<Record> ReadWrittenRecord(std::string_view text, const FieldSelection* selection) {
  return WithDocument(text, [selection](od::document& doc, BuildScratch& scratch) {
    return ValueBuilder(scratch).ReadPlainStructured(doc, selection);
  });
}

}  // namespace internal

namespace {

// Decodes text as a record, reading only the selection's fields when there is one.
Record DecodeRecord(std::string_view text, const FieldSelection* selection) {
  if (std::optional<Record> written = internal::ReadWrittenRecord(text, selection)) {
    return std::move(*written);
  }
  std::optional<ValueBuilder::RecordMembers> document =
      WithDocument(text, [selection](od::document& doc, BuildScratch& scratch) {
        return ValueBuilder(scratch).BuildRecordMembers(doc, selection);
      });
  if (!document) {
    // Not an object: parse it as a value for a precise error (or to name what it is).
    const Value value = ParseJson(text);
    ThrowRecordError("a JSON record must be an object, found " +
                     std::string(ValueKindName(value.kind())));
  }
  // A flat record with a data field named "fields" holding an object: that field was read only
  // in part, so read the record whole.
  if (selection && document->fields && !IsStructured(*document)) return DecodeRecord(text, nullptr);
  return ReadRecord(*document);
}

}  // namespace

Record RecordFromJson(std::string_view text) {
  return DecodeRecord(text, nullptr);
}

Record RecordFromJson(std::string_view text, const FieldSelection& selection) {
  return DecodeRecord(text, &selection);
}

Record RecordFromJsonValue(const Value& value) {
  const Object* object = value.Get<Object>();
  if (object == nullptr) {
    ThrowRecordError("a JSON record must be an object, found " +
                     std::string(ValueKindName(value.kind())));
  }
  ValueBuilder::RecordMembers document;
  for (const auto& [key, member] : *object) {
    if (key == "fields" && member.kind() == ValueKind::kObject) {
      document.fields.emplace();
      for (const auto& [name, field] : *member.Get<Object>()) document.fields->Add(name, field);
      document.members.Add(key, Value());
    } else {
      document.members.Add(key, member);
    }
  }
  return ReadRecord(document);
}

void CheckFinite(const Record& record) {
  std::vector<std::string> path;
  for (const Field& field : record.fields()) {
    if (const std::optional<double> bad = FindNonFinite(field.value, path)) {
      ThrowNonFiniteIn(FieldSubject(field.name, path), *bad);
    }
    if (const std::optional<double> bad = FindNonFiniteIn(field.metadata, path)) {
      ThrowNonFiniteIn(MetadataSubject(path) + " of field " + Quoted(field.name), *bad);
    }
  }
  if (const std::optional<double> bad = FindNonFiniteIn(record.metadata(), path)) {
    ThrowNonFiniteIn(MetadataSubject(path) + " of the record", *bad);
  }
}

}  // namespace dkdata
