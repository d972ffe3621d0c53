// The text query language: Query::Parse and its inverse, Expr::ToString / Query::ToString.
//
// Grammar (keywords are case-insensitive):
//
//   query     := [select] ['where'] [expr] [order] [limit] [offset]     (limit/offset in any order)
//   select    := 'select' ('*' | field (',' field)*)
//   expr      := and_expr ('or' and_expr)*
//   and_expr  := unary ('and' unary)*
//   unary     := 'not' unary | '(' expr ')' | 'true' | 'false' | predicate
//   predicate := field ('=' | '==' | '!=' | '<>' | '>' | '>=' | '<' | '<=') literal
//              | field ['not'] 'in' list
//              | field ['not'] 'between' (literal 'and' literal | list of two)
//              | field ['not'] ('like' | 'ilike') string
//              | field ('regex' | '~' | 'starts_with' | 'startswith') string
//              | field ['not'] 'exists' | field 'is' ['not'] 'null'
//              | field <any word ParseOp accepts: gte, not_in, NOT_LIKE, ...> operand
//   list      := '(' [literal (',' literal)*] ')' | '[' [literal (',' literal)*] ']'
//   literal   := string | integer | float | 'true' | 'false' | 'null' | 'inf' | '-inf' | 'nan'
//              | ts'<ISO-8601>' | b64'<base64>' | '[' [literal (',' literal)*] ']'
//   order     := 'order' 'by' field ['asc' | 'desc'] (',' field ['asc' | 'desc'])*
//   limit     := 'limit' integer;  offset := 'offset' integer
//   field     := [A-Za-z_][A-Za-z0-9_.]* that is not a keyword | "double quoted" | `back quoted`
//
// Strings take single quotes. Inside single and double quotes, a doubled quote or a backslash
// before it stands for the quote; \\ \n \t \r and \uXXXX (with surrogate pairs) are escapes; a
// backslash before any other character is kept, so that LIKE and regex patterns read naturally:
// '50\%', '\d+'. Back-quoted names have no escapes except a doubled back quote.
//
// An empty text is the match-all query. 'true' and 'false' as conditions are the empty AND and the
// empty OR, so that every tree has a text form. Prefix 'not' and every '(' or '[' count as one
// nesting level; text nesting deeper than kMaxDepth levels is rejected before it can exhaust the
// stack. Error columns count characters (UTF-8 code points), starting at 1.
//
// ToString renders the canonical form: single-quoted strings (a backslash doubled only where it
// would otherwise start an escape), double-quoted field names when they are not plain identifiers
// or are keywords, floats that always read back as floats in shortest round-trip form ("1.0",
// "0.1", "inf", "nan"), AND/OR children that are themselves AND/OR in parentheses, NOT as
// "not (...)". Parse(ToString(e)) == e for every tree whose filters pass Where()'s validation
// (NaN aside, which never equals itself), with two exceptions that have no text form and come back
// as the nearest equivalent: an AND/OR with a single child comes back as that child, and a Vector
// value comes back as a List of floats. Objects have no text form: ToString throws for them.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/query.hpp"
#include "dkdata/value.hpp"

namespace dkdata {
namespace {

constexpr int kMaxDepth = 256;
// How many characters of the query an error message shows on either side of the error.
constexpr std::size_t kEchoContext = 60;
// How much of an offending token an error message quotes.
constexpr std::size_t kMaxQuotedToken = 40;

// Words with a meaning in the grammar. A field with one of these names must be quoted.
constexpr std::string_view kKeywords[] = {
    "select", "where", "and",         "or",         "not",     "order", "by",    "asc",
    "desc",   "limit", "offset",      "in",         "between", "like",  "ilike", "regex",
    "is",     "null",  "starts_with", "startswith", "exists",  "true",  "false",
};

// ---- Characters ----

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentifierChar(char c) {
  return IsIdentifierStart(c) || IsDigit(c) || c == '.';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}
bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7F;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsKeyword(std::string_view word) {
  const std::string lower = Lower(word);
  for (std::string_view keyword : kKeywords) {
    if (lower == keyword) return true;
  }
  return false;
}

// Characters (UTF-8 code points; stray bytes count one each) in text.
std::size_t CountChars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += IsContinuationByte(c) ? 0 : 1;
  return n;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The message of every syntax error: the column, what went wrong, then the query (or the part of it
// around the error) with a caret under the column.
std::string SyntaxErrorMessage(std::string_view text, std::size_t offset, std::string_view detail) {
  std::size_t begin = offset;
  for (std::size_t n = 0; begin > 0 && n < kEchoContext;) {
    --begin;
    if (!IsContinuationByte(text[begin])) ++n;
  }
  std::size_t end = offset;
  for (std::size_t n = 0; end < text.size() && n < kEchoContext; ++n) {
    ++end;
    while (end < text.size() && IsContinuationByte(text[end])) ++end;
  }
  std::string echo = begin > 0 ? "..." : "";
  const std::size_t caret_indent = echo.size() + CountChars(text.substr(begin, offset - begin));
  // Tabs and newlines would break the alignment of the caret.
  for (char c : text.substr(begin, end - begin)) echo += IsControl(c) ? ' ' : c;
  if (end < text.size()) echo += "...";

  std::string message = "query syntax error at column ";
  message += std::to_string(CountChars(text.substr(0, offset)) + 1);
  message += ": ";
  message += detail;
  message += '\n';
  message += echo;
  message += '\n';
  message.append(caret_indent, ' ');
  message += '^';
  return message;
}

// "'foo'", shortened when long, for messages.
std::string QuoteForMessage(std::string_view text) {
  std::string out = "'";
  if (text.size() <= kMaxQuotedToken) {
    out += text;
  } else {
    std::size_t cut = kMaxQuotedToken;
    while (cut > 0 && IsContinuationByte(text[cut])) --cut;
    out += text.substr(0, cut);
    out += "...";
  }
  out += "'";
  return out;
}

// ---- Tokens ----

enum class TokenKind : std::uint8_t {
  kEnd,
  kWord,        // identifier or keyword
  kQuotedName,  // "name" or `name`
  kString,      // 'text'
  kTimestamp,   // ts'...'
  kBytes,       // b64'...'
  kNumber,      // 12, -3.5, 1e9, -inf
  kSymbol,      // = == != <> > >= < <= ~ ( ) [ ] , *
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::size_t offset = 0;  // byte offset of the first character in the query
  std::string_view text;   // the source text of the token
  std::string decoded;     // the content of quoted tokens, escapes resolved
};

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the query";
    case TokenKind::kString:
      return "the string " + QuoteForMessage(token.decoded);
    default:
      return QuoteForMessage(token.text);
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token Next() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    Token token;
    token.offset = pos_;
    if (pos_ >= text_.size()) return token;

    const char c = text_[pos_];
    if (IsIdentifierStart(c)) {
      ReadWord(token);
    } else if (AtNumberStart()) {
      ReadNumber(token);
    } else if (c == '\'') {
      token.kind = TokenKind::kString;
      token.decoded = ReadQuoted('\'', "unterminated string");
    } else if (c == '"' || c == '`') {
      token.kind = TokenKind::kQuotedName;
      token.decoded = ReadQuoted(c, "unterminated quoted field name");
    } else {
      ReadSymbol(token);
    }
    token.text = text_.substr(token.offset, pos_ - token.offset);
    return token;
  }

  [[noreturn]] void Fail(std::size_t offset, std::string_view detail) const {
    throw Error(ErrorCode::kInvalidArgument, SyntaxErrorMessage(text_, offset, detail));
  }

 private:
  // 5, .5, -5, -.5 and -inf.
  bool AtNumberStart() const {
    auto at = [this](std::size_t i) { return pos_ + i < text_.size() ? text_[pos_ + i] : '\0'; };
    const std::size_t sign = at(0) == '-' ? 1 : 0;
    if (sign == 1 && IsIdentifierStart(at(1))) return true;
    return IsDigit(at(sign)) || (at(sign) == '.' && IsDigit(at(sign + 1)));
  }

  void ReadWord(Token& token) {
    while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
    token.kind = TokenKind::kWord;
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      const std::string prefix = Lower(text_.substr(token.offset, pos_ - token.offset));
      if (prefix == "ts" || prefix == "b64") {
        token.kind = prefix == "ts" ? TokenKind::kTimestamp : TokenKind::kBytes;
        token.decoded = ReadQuoted('\'', "unterminated string");
      }
    }
  }

  // Digits with an optional sign, fraction and exponent; or -inf / -infinity.
  void ReadNumber(Token& token) {
    token.kind = TokenKind::kNumber;
    if (text_[pos_] == '-') ++pos_;
    if (IsIdentifierStart(text_[pos_])) {
      while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
      const std::string word = Lower(text_.substr(token.offset + 1, pos_ - token.offset - 1));
      if (word != "inf" && word != "infinity") {
        Fail(token.offset, "unexpected character '-'");
      }
      return;
    }
    auto digits = [&] {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      return pos_ > start;
    };
    bool any = digits();
    if (pos_ + 1 < text_.size() && text_[pos_] == '.' && IsDigit(text_[pos_ + 1])) {
      ++pos_;
      any = digits();
    }
    if (any && pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (p < text_.size() && IsDigit(text_[p])) {
        pos_ = p;
        digits();
      }
    }
    if (!any || (pos_ < text_.size() && IsIdentifierChar(text_[pos_]))) {
      while (pos_ < text_.size() && (IsIdentifierChar(text_[pos_]) || text_[pos_] == '-')) ++pos_;
      Fail(token.offset,
           "malformed number " + QuoteForMessage(text_.substr(token.offset, pos_ - token.offset)));
    }
  }

  // Reads a quoted token whose opening quote is at pos_; returns its content.
  std::string ReadQuoted(char quote, std::string_view unterminated_message) {
    const std::size_t open = pos_;
    const bool escapes = quote != '`';
    std::string out;
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == quote) {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
          out += quote;
          pos_ += 2;
          continue;
        }
        ++pos_;
        return out;
      }
      if (c != '\\' || !escapes || pos_ + 1 >= text_.size()) {
        out += c;
        ++pos_;
        continue;
      }
      const char e = text_[pos_ + 1];
      switch (e) {
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'u':
          ReadUnicodeEscape(out);
          continue;
        default:  // kept as written: '50\%', '\d+'
          out += '\\';
          ++pos_;
          continue;
      }
      pos_ += 2;
    }
    Fail(open, unterminated_message);
  }

  // \uXXXX at pos_, or a surrogate pair \uD83D\uDE00.
  void ReadUnicodeEscape(std::string& out) {
    const std::size_t start = pos_;
    std::uint32_t cp = ReadHex4(start);
    if (cp >= 0xDC00 && cp <= 0xDFFF) Fail(start, "unpaired surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
        Fail(start, "unpaired surrogate in \\u escape");
      }
      const std::uint32_t low = ReadHex4(pos_);
      if (low < 0xDC00 || low > 0xDFFF) Fail(start, "unpaired surrogate in \\u escape");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(out, cp);
  }

  // The four hex digits after the "\u" at escape; moves pos_ past them.
  std::uint32_t ReadHex4(std::size_t escape) {
    std::uint32_t value = 0;
    std::size_t p = escape + 2;
    for (int i = 0; i < 4; ++i, ++p) {
      const char h = p < text_.size() ? text_[p] : '\0';
      std::uint32_t digit = 0;
      if (h >= '0' && h <= '9') {
        digit = static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        digit = static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        digit = static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        Fail(escape, "\\u needs four hex digits");
      }
      value = value * 16 + digit;
    }
    pos_ = p;
    return value;
  }

  void ReadSymbol(Token& token) {
    static constexpr std::string_view kTwoChar[] = {"==", "!=", "<>", ">=", "<="};
    static constexpr std::string_view kOneChar = "=><~()[],*";
    token.kind = TokenKind::kSymbol;
    for (std::string_view symbol : kTwoChar) {
      if (text_.substr(pos_, 2) == symbol) {
        pos_ += 2;
        return;
      }
    }
    if (kOneChar.find(text_[pos_]) != std::string_view::npos) {
      ++pos_;
      return;
    }
    std::size_t end = pos_ + 1;
    while (end < text_.size() && IsContinuationByte(text_[end])) ++end;
    std::string shown;
    if (IsControl(text_[pos_])) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const auto u = static_cast<unsigned char>(text_[pos_]);
      shown = std::string("U+00") + kHex[u >> 4] + kHex[u & 0xF];
    } else {
      shown = QuoteForMessage(text_.substr(pos_, end - pos_));
    }
    Fail(pos_, "unexpected character " + shown);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// "'a', 'b' or 'c'".
std::string JoinAlternatives(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

// ---- Parser ----

class QueryParser {
 public:
  explicit QueryParser(std::string_view text) : text_(text), lexer_(text) {
    current_ = lexer_.Next();
  }

  Query ParseQuery() {
    std::vector<std::string> fields;
    bool need_condition = false;
    if (AtKeyword("select")) {
      Advance();
      fields = ParseSelectList();
      if (AtKeyword("where")) {
        Advance();
        need_condition = true;
      }
    } else if (AtKeyword("where")) {
      Advance();
      need_condition = true;
    }
    const bool has_condition = need_condition || !AtClauseStart();
    Query query(has_condition ? ParseOr(0) : Expr());
    if (!fields.empty()) query.Select(std::move(fields));
    ParseClauses(query, has_condition);
    return query;
  }

 private:
  // ---- Token helpers ----

  void Advance() {
    previous_ = current_.text;
    current_ = lexer_.Next();
  }

  bool AtKeyword(std::string_view keyword) const {
    return current_.kind == TokenKind::kWord && Lower(current_.text) == keyword;
  }

  bool AtSymbol(std::string_view symbol) const {
    return current_.kind == TokenKind::kSymbol && current_.text == symbol;
  }

  bool AtClauseStart() const {
    return current_.kind == TokenKind::kEnd || AtKeyword("order") || AtKeyword("limit") ||
           AtKeyword("offset");
  }

  [[noreturn]] void Fail(std::size_t offset, std::string_view detail) const {
    lexer_.Fail(offset, detail);
  }

  // "expected <what> after '<previous token>' but found <current token><hint>".
  [[noreturn]] void FailExpected(std::string_view what, std::string_view hint = {}) const {
    std::string detail = "expected ";
    detail += what;
    if (!previous_.empty()) detail += " after " + QuoteForMessage(previous_);
    detail += " but found " + DescribeToken(current_);
    detail += hint;
    Fail(current_.offset, detail);
  }

  void CheckDepth(int depth) const {
    if (depth >= kMaxDepth) {
      Fail(current_.offset, "the query nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
  }

  // ---- Clauses ----

  std::vector<std::string> ParseSelectList() {
    std::vector<std::string> fields;
    if (AtSymbol("*")) {
      Advance();
      return fields;  // all fields
    }
    fields.push_back(ParseFieldName());
    while (AtSymbol(",")) {
      Advance();
      fields.push_back(ParseFieldName());
    }
    return fields;
  }

  // order by / limit / offset, with order by first and each at most once.
  void ParseClauses(Query& query, bool after_condition) {
    bool seen_order = false;
    bool seen_limit = false;
    bool seen_offset = false;
    while (current_.kind != TokenKind::kEnd) {
      if (AtKeyword("order") && !seen_order && !seen_limit && !seen_offset) {
        seen_order = true;
        Advance();
        if (!AtKeyword("by")) FailExpected("'by'");
        Advance();
        ParseSortKeys(query);
      } else if (AtKeyword("limit") && !seen_limit) {
        seen_limit = true;
        Advance();
        query.Limit(ParseCount("limit"));
      } else if (AtKeyword("offset") && !seen_offset) {
        seen_offset = true;
        Advance();
        query.Offset(ParseCount("offset"));
      } else if (AtKeyword("order")) {
        Fail(current_.offset, seen_order ? "'order by' may appear only once"
                                         : "'order by' must come before 'limit' and 'offset'");
      } else if (AtKeyword("limit") || AtKeyword("offset")) {
        Fail(current_.offset, "'" + Lower(current_.text) + "' may appear only once");
      } else {
        std::vector<std::string_view> expected;
        const bool no_clause = !seen_order && !seen_limit && !seen_offset;
        if (after_condition && no_clause) expected = {"'and'", "'or'"};
        if (seen_order && !seen_limit && !seen_offset) expected.push_back("','");
        if (no_clause) expected.push_back("'order by'");
        if (!seen_limit) expected.push_back("'limit'");
        if (!seen_offset) expected.push_back("'offset'");
        expected.push_back("the end of the query");
        FailExpected(JoinAlternatives(expected));
      }
    }
  }

  void ParseSortKeys(Query& query) {
    while (true) {
      std::string field = ParseFieldName();
      SortOrder order = SortOrder::kAsc;
      if (AtKeyword("asc")) {
        Advance();
      } else if (AtKeyword("desc")) {
        order = SortOrder::kDesc;
        Advance();
      }
      query.Sort(std::move(field), order);
      if (!AtSymbol(",")) return;
      Advance();
    }
  }

  std::size_t ParseCount(std::string_view clause) {
    if (current_.kind != TokenKind::kNumber) FailExpected("an integer");
    const std::string_view digits = current_.text;
    if (digits.front() == '-')
      Fail(current_.offset, "'" + std::string(clause) + "' must not be negative");
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (end != digits.data() + digits.size()) FailExpected("an integer");
    if (ec != std::errc() || n > std::numeric_limits<std::size_t>::max()) {
      Fail(current_.offset, "'" + std::string(clause) + "' is too large");
    }
    Advance();
    return static_cast<std::size_t>(n);
  }

  bool AtFieldName() const {
    return (current_.kind == TokenKind::kWord && !IsKeyword(current_.text)) ||
           current_.kind == TokenKind::kQuotedName;
  }

  std::string ParseFieldName() {
    if (!AtFieldName()) {
      FailExpected("a field name", current_.kind == TokenKind::kWord
                                       ? " (a field named like a keyword needs double quotes)"
                                       : "");
    }
    std::string name =
        current_.kind == TokenKind::kWord ? std::string(current_.text) : current_.decoded;
    if (name.empty()) Fail(current_.offset, "a field name cannot be empty");
    Advance();
    return name;
  }

  // ---- Conditions ----

  Expr ParseOr(int depth) {
    std::vector<Expr> children;
    children.push_back(ParseAnd(depth));
    while (AtKeyword("or")) {
      Advance();
      children.push_back(ParseAnd(depth));
    }
    return children.size() == 1 ? std::move(children.front()) : Expr::Or(std::move(children));
  }

  Expr ParseAnd(int depth) {
    std::vector<Expr> children;
    children.push_back(ParseUnary(depth));
    while (AtKeyword("and")) {
      Advance();
      children.push_back(ParseUnary(depth));
    }
    return children.size() == 1 ? std::move(children.front()) : Expr::And(std::move(children));
  }

  Expr ParseUnary(int depth) {
    if (AtKeyword("not")) {
      CheckDepth(depth);
      Advance();
      return Expr::Not(ParseUnary(depth + 1));
    }
    if (AtSymbol("(")) {
      CheckDepth(depth);
      const std::size_t open = current_.offset;
      Advance();
      Expr inner = ParseOr(depth + 1);
      if (!AtSymbol(")")) {
        Fail(current_.offset, "expected ')' to close the '(' at column " +
                                  std::to_string(CountChars(text_.substr(0, open)) + 1) +
                                  " but found " + DescribeToken(current_));
      }
      Advance();
      return inner;
    }
    if (AtKeyword("true")) {
      Advance();
      return Expr::And({});
    }
    if (AtKeyword("false")) {
      Advance();
      return Expr::Or({});
    }
    if (AtFieldName()) return ParsePredicate(depth);
    FailExpected("a condition", current_.kind == TokenKind::kWord && !AtClauseStart() &&
                                        !AtKeyword("and") && !AtKeyword("or")
                                    ? " (a field named like a keyword needs double quotes)"
                                    : "");
  }

  Expr ParsePredicate(int depth) {
    std::string field = ParseFieldName();
    const Op op = ParseOperator();
    Value value = ParseOperand(op, depth);
    return Expr::Leaf(Filter{std::move(field), op, std::move(value)});
  }

  Op ParseOperator() {
    static constexpr std::pair<std::string_view, Op> kSymbols[] = {
        {"=", Op::kEq},   {"==", Op::kEq}, {"!=", Op::kNeq}, {"<>", Op::kNeq},  {">", Op::kGt},
        {">=", Op::kGte}, {"<", Op::kLt},  {"<=", Op::kLte}, {"~", Op::kRegex},
    };
    if (current_.kind == TokenKind::kSymbol) {
      for (const auto& [symbol, op] : kSymbols) {
        if (current_.text == symbol) {
          Advance();
          return op;
        }
      }
    }
    if (current_.kind != TokenKind::kWord) FailExpected("an operator");

    const std::string word = Lower(current_.text);
    if (word == "not") {
      Advance();
      static constexpr std::pair<std::string_view, Op> kNegated[] = {
          {"in", Op::kNotIn},       {"between", Op::kNotBetween}, {"like", Op::kNotLike},
          {"ilike", Op::kNotILike}, {"exists", Op::kNotExists},
      };
      if (current_.kind == TokenKind::kWord) {
        for (const auto& [name, op] : kNegated) {
          if (Lower(current_.text) == name) {
            Advance();
            return op;
          }
        }
      }
      FailExpected("'in', 'between', 'like', 'ilike' or 'exists'");
    }
    if (word == "is") {
      Advance();
      if (AtKeyword("null")) {
        Advance();
        return Op::kNotExists;
      }
      if (!AtKeyword("not")) FailExpected("'null' or 'not null'");
      Advance();
      if (!AtKeyword("null")) FailExpected("'null'");
      Advance();
      return Op::kExists;
    }
    if (word == "startswith") {
      Advance();
      return Op::kStartsWith;
    }
    if (AtClauseStart() || word == "and" || word == "or") FailExpected("an operator");
    const std::optional<Op> op = ParseOp(word);
    if (!op) Fail(current_.offset, "unknown operator " + QuoteForMessage(current_.text));
    Advance();
    return *op;
  }

  Value ParseOperand(Op op, int depth) {
    switch (op) {
      case Op::kExists:
      case Op::kNotExists:
        return Value();
      case Op::kIn:
      case Op::kNotIn:
        if (!AtSymbol("(") && !AtSymbol("[")) FailExpected("a list in '(...)' or '[...]'");
        return ParseList(depth);
      case Op::kBetween:
      case Op::kNotBetween:
        return ParseBetweenBounds(depth);
      case Op::kLike:
      case Op::kNotLike:
      case Op::kILike:
      case Op::kNotILike:
      case Op::kRegex:
      case Op::kStartsWith: {
        if (current_.kind != TokenKind::kString) FailExpected("a string pattern in single quotes");
        Value pattern(std::move(current_.decoded));
        Advance();
        return pattern;
      }
      default:
        return ParseLiteral(depth);
    }
  }

  // "lo and hi", or a list of exactly two: "(lo, hi)" / "[lo, hi]".
  Value ParseBetweenBounds(int depth) {
    if (AtSymbol("(") || AtSymbol("[")) {
      const std::size_t start = current_.offset;
      Value bounds = ParseList(depth);
      const std::size_t n = bounds.AsList().size();
      if (n != 2) {
        Fail(start, "'between' needs exactly two values but the list has " + std::to_string(n));
      }
      return bounds;
    }
    Value low = ParseLiteral(depth);
    if (!AtKeyword("and")) FailExpected("'and' between the two bounds");
    Advance();
    Value high = ParseLiteral(depth);
    return Value(List{std::move(low), std::move(high)});
  }

  // A list in '(...)' or '[...]' at the current token.
  Value ParseList(int depth) {
    CheckDepth(depth);
    const std::string_view close = AtSymbol("(") ? ")" : "]";
    Advance();
    List items;
    if (AtSymbol(close)) {
      Advance();
      return Value(std::move(items));
    }
    while (true) {
      items.push_back(ParseLiteral(depth + 1));
      if (AtSymbol(close)) break;
      if (!AtSymbol(",")) FailExpected("',' or '" + std::string(close) + "'");
      Advance();
    }
    Advance();
    return Value(std::move(items));
  }

  Value ParseLiteral(int depth) {
    switch (current_.kind) {
      case TokenKind::kString: {
        Value v(std::move(current_.decoded));
        Advance();
        return v;
      }
      case TokenKind::kNumber: {
        Value v = ParseNumber();
        Advance();
        return v;
      }
      case TokenKind::kTimestamp: {
        const std::optional<Timestamp> t = Timestamp::Parse(current_.decoded);
        if (!t) {
          Fail(current_.offset, "invalid timestamp " + QuoteForMessage(current_.decoded) +
                                    " (expected ISO-8601, e.g. ts'2024-05-01T10:00:00Z')");
        }
        Advance();
        return Value(*t);
      }
      case TokenKind::kBytes: {
        std::optional<std::string> bytes = Base64Decode(current_.decoded);
        if (!bytes) Fail(current_.offset, "invalid base64 " + QuoteForMessage(current_.decoded));
        Advance();
        return Value(Bytes{std::move(*bytes)});
      }
      case TokenKind::kWord: {
        const std::string word = Lower(current_.text);
        std::optional<Value> v;
        if (word == "true") v = Value(true);
        if (word == "false") v = Value(false);
        if (word == "null") v = Value();
        if (word == "inf" || word == "infinity") v = Value(std::numeric_limits<double>::infinity());
        if (word == "nan") v = Value(std::numeric_limits<double>::quiet_NaN());
        if (v) {
          Advance();
          return std::move(*v);
        }
        if (!IsKeyword(word)) FailExpected("a value", " (strings take single quotes)");
        break;
      }
      case TokenKind::kQuotedName:
        if (current_.text.front() == '"') FailExpected("a value", " (strings take single quotes)");
        break;
      case TokenKind::kSymbol:
        if (AtSymbol("[")) return ParseList(depth);
        break;
      case TokenKind::kEnd:
        break;
    }
    FailExpected("a value");
  }

  Value ParseNumber() const {
    const std::string_view text = current_.text;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (text.find_first_of("iI") != std::string_view::npos) {  // -inf / -infinity
      return Value(-std::numeric_limits<double>::infinity());
    }
    if (text.find_first_of(".eE") != std::string_view::npos) {
      double d = 0;
      const auto [end, ec] = std::from_chars(first, last, d);
      if (ec == std::errc::result_out_of_range) {
        Fail(current_.offset, "number " + QuoteForMessage(text) + " is out of range");
      }
      if (ec != std::errc() || end != last) {
        Fail(current_.offset, "malformed number " + QuoteForMessage(text));
      }
      return Value(d);
    }
    std::int64_t i = 0;
    const auto [end, ec] = std::from_chars(first, last, i);
    if (ec == std::errc::result_out_of_range) {
      Fail(current_.offset, "integer " + QuoteForMessage(text) +
                                " is out of the 64-bit range (write a float, like 1e20)");
    }
    if (ec != std::errc() || end != last) {
      Fail(current_.offset, "malformed number " + QuoteForMessage(text));
    }
    return Value(i);
  }

  std::string_view text_;
  Lexer lexer_;
  Token current_;
  std::string_view previous_;  // the source text of the last token consumed
};

// ---- Rendering ----

// Whether the parser keeps a backslash written before c as a plain backslash.
bool KeepsBackslashBefore(char c) {
  return !IsControl(c) && std::string_view("\\'\"ntru").find(c) == std::string_view::npos;
}

void AppendQuoted(std::string& out, std::string_view text, char quote) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += quote;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // A lone backslash keeps '\d+' and '50\%' readable where it cannot start an escape.
    const bool lone_backslash =
        c == '\\' && i + 1 < text.size() && KeepsBackslashBefore(text[i + 1]);
    if (c == quote || (c == '\\' && !lone_backslash)) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (IsControl(c)) {
      const auto u = static_cast<unsigned char>(c);
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += quote;
}

void AppendFieldName(std::string& out, std::string_view name) {
  bool plain = !name.empty() && IsIdentifierStart(name.front()) && !IsKeyword(name);
  for (char c : name) plain = plain && IsIdentifierChar(c);
  if (plain) {
    out += name;
  } else {
    AppendQuoted(out, name, '"');
  }
}

// Shortest text that reads back as the same double, and always as a float ("1.0", not "1").
void AppendFloat(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  out += text;
  if (text.find_first_of(".en") == std::string_view::npos) out += ".0";
}

void AppendValue(std::string& out, const Value& value) {
  switch (value.kind()) {
    case ValueKind::kNull:
      out += "null";
      break;
    case ValueKind::kBool:
      out += *value.Get<bool>() ? "true" : "false";
      break;
    case ValueKind::kInt:
      out += std::to_string(*value.Get<std::int64_t>());
      break;
    case ValueKind::kFloat:
      AppendFloat(out, *value.Get<double>());
      break;
    case ValueKind::kString:
      AppendQuoted(out, *value.Get<std::string>(), '\'');
      break;
    case ValueKind::kBytes:
      out += "b64'";
      out += Base64Encode(value.Get<Bytes>()->data);
      out += "'";
      break;
    case ValueKind::kTimestamp:
      out += "ts'";
      out += value.Get<Timestamp>()->ToIso();
      out += "'";
      break;
    case ValueKind::kList: {
      out += '[';
      const List& items = *value.Get<List>();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        AppendValue(out, items[i]);
      }
      out += ']';
      break;
    }
    case ValueKind::kVector: {  // no vector literal: reads back as a list of floats
      out += '[';
      const Vector& items = *value.Get<Vector>();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        AppendFloat(out, static_cast<double>(items[i]));
      }
      out += ']';
      break;
    }
    case ValueKind::kObject:
      throw Error(ErrorCode::kInvalidArgument, "object values have no text form");
  }
}

bool IsListLike(const Value& value) {
  return value.kind() == ValueKind::kList || value.kind() == ValueKind::kVector;
}

std::string_view OperatorText(Op op) {
  switch (op) {
    case Op::kEq:
      return "=";
    case Op::kNeq:
      return "!=";
    case Op::kGt:
      return ">";
    case Op::kGte:
      return ">=";
    case Op::kLt:
      return "<";
    case Op::kLte:
      return "<=";
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "not in";
    case Op::kBetween:
      return "between";
    case Op::kNotBetween:
      return "not between";
    case Op::kLike:
      return "like";
    case Op::kNotLike:
      return "not like";
    case Op::kRegex:
      return "regex";
    case Op::kStartsWith:
      return "starts_with";
    case Op::kExists:
      return "exists";
    case Op::kNotExists:
      return "not exists";
    case Op::kILike:
      return "ilike";
    case Op::kNotILike:
      return "not ilike";
  }
  return "?";
}

void AppendFilter(std::string& out, const Filter& filter) {
  AppendFieldName(out, filter.field);
  out += ' ';
  out += OperatorText(filter.op);
  const Value& value = filter.value;
  switch (filter.op) {
    case Op::kExists:
    case Op::kNotExists:
      return;
    case Op::kIn:
    case Op::kNotIn:
      if (value.kind() == ValueKind::kList) {
        out += " (";
        const List& items = value.AsList();
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out += ", ";
          AppendValue(out, items[i]);
        }
        out += ')';
        return;
      }
      break;
    case Op::kBetween:
    case Op::kNotBetween:
      // "between [a] and [b]" would read as the list form "between [a, b]".
      if (value.kind() == ValueKind::kList && value.AsList().size() == 2 &&
          !IsListLike(value.AsList()[0])) {
        out += ' ';
        AppendValue(out, value.AsList()[0]);
        out += " and ";
        AppendValue(out, value.AsList()[1]);
        return;
      }
      break;
    default:
      break;
  }
  out += ' ';
  AppendValue(out, value);
}

void AppendExpr(std::string& out, const Expr& expr) {
  switch (expr.kind()) {
    case Expr::Kind::kFilter:
      AppendFilter(out, expr.filter());
      return;
    case Expr::Kind::kNot:
      out += "not (";
      AppendExpr(out, expr.children().front());
      out += ')';
      return;
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      const bool is_and = expr.kind() == Expr::Kind::kAnd;
      if (expr.children().empty()) {
        out += is_and ? "true" : "false";
        return;
      }
      for (std::size_t i = 0; i < expr.children().size(); ++i) {
        if (i > 0) out += is_and ? " and " : " or ";
        const Expr& child = expr.children()[i];
        // Parentheses keep nested groups apart, even where precedence alone would not need them.
        const bool group = (child.kind() == Expr::Kind::kAnd || child.kind() == Expr::Kind::kOr) &&
                           !child.children().empty();
        if (group) out += '(';
        AppendExpr(out, child);
        if (group) out += ')';
      }
      return;
    }
  }
}

}  // namespace

Query Query::Parse(std::string_view text) {
  return QueryParser(text).ParseQuery();
}

std::string Expr::ToString() const {
  std::string out;
  AppendExpr(out, *this);
  return out;
}

std::string Query::ToString() const {
  std::string out;
  auto separate = [&out] {
    if (!out.empty()) out += ' ';
  };
  if (!fields_.empty()) {
    out += "select ";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (i > 0) out += ", ";
      AppendFieldName(out, fields_[i]);
    }
  }
  if (!where_.is_true()) {
    if (!out.empty()) out += " where ";
    AppendExpr(out, where_);
  }
  if (!sort_.empty()) {
    separate();
    out += "order by ";
    for (std::size_t i = 0; i < sort_.size(); ++i) {
      if (i > 0) out += ", ";
      AppendFieldName(out, sort_[i].field);
      if (sort_[i].order == SortOrder::kDesc) out += " desc";
    }
  }
  if (limit_) {
    separate();
    out += "limit " + std::to_string(*limit_);
  }
  if (offset_ != 0) {
    separate();
    out += "offset " + std::to_string(offset_);
  }
  return out;
}

}  // namespace dkdata
