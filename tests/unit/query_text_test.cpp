// Tests of the text query language: Query::Parse, Expr::ToString and Query::ToString.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/query.hpp"
#include "dkdata/value.hpp"

namespace dkdata {
namespace {

Expr Leaf(std::string field, Op op, Value value = {}) {
  return Expr::Leaf(Filter{std::move(field), op, std::move(value)});
}

// The filter of a query text that must be a single leaf.
Filter ParseFilter(std::string_view text) {
  const Query q = Query::Parse(text);
  EXPECT_EQ(q.where().kind(), Expr::Kind::kFilter) << text;
  return q.where().filter();
}

// The error Parse throws for text; fails the test when it does not throw.
std::string ParseError(std::string_view text) {
  try {
    Query::Parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << text;
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

// Checks that text fails at column with a message containing detail.
void ExpectSyntaxError(std::string_view text, int column, std::string_view detail) {
  SCOPED_TRACE(std::string(text));
  const std::string message = ParseError(text);
  const std::string head = "query syntax error at column " + std::to_string(column) + ": ";
  EXPECT_EQ(message.rfind(head, 0), 0u) << message;
  EXPECT_NE(message.find(detail), std::string::npos) << message;
}

void ExpectRoundTrip(const Query& q) {
  const std::string text = q.ToString();
  SCOPED_TRACE(text);
  Query back;
  ASSERT_NO_THROW(back = Query::Parse(text));
  EXPECT_EQ(back, q);
  EXPECT_EQ(back.ToString(), text);
}

// ---- Operators ----

struct OperatorCase {
  std::string_view text;
  Op op;
  Value value;
};

TEST(QueryTextParse, EveryOperatorSpelling) {
  const std::vector<OperatorCase> cases = {
      {"x = 1", Op::kEq, 1},
      {"x == 1", Op::kEq, 1},
      {"x eq 1", Op::kEq, 1},
      {"x EQ 1", Op::kEq, 1},
      {"x != 1", Op::kNeq, 1},
      {"x <> 1", Op::kNeq, 1},
      {"x neq 1", Op::kNeq, 1},
      {"x > 1", Op::kGt, 1},
      {"x gt 1", Op::kGt, 1},
      {"x >= 1", Op::kGte, 1},
      {"x gte 1", Op::kGte, 1},
      {"x GTE 1", Op::kGte, 1},
      {"x < 1", Op::kLt, 1},
      {"x lt 1", Op::kLt, 1},
      {"x <= 1", Op::kLte, 1},
      {"x lte 1", Op::kLte, 1},
      {"x in (1, 2)", Op::kIn, List{1, 2}},
      {"x IN [1, 2]", Op::kIn, List{1, 2}},
      {"x not in (1)", Op::kNotIn, List{1}},
      {"x NOT IN [1]", Op::kNotIn, List{1}},
      {"x not_in (1, 2)", Op::kNotIn, List{1, 2}},
      {"x NOT_IN (1, 2)", Op::kNotIn, List{1, 2}},
      {"x between 1 and 5", Op::kBetween, List{1, 5}},
      {"x BETWEEN [1, 5]", Op::kBetween, List{1, 5}},
      {"x between (1, 5)", Op::kBetween, List{1, 5}},
      {"x not between 1 and 5", Op::kNotBetween, List{1, 5}},
      {"x not_between [1, 5]", Op::kNotBetween, List{1, 5}},
      {"x like 'a%'", Op::kLike, "a%"},
      {"x LIKE 'a%'", Op::kLike, "a%"},
      {"x not like 'a%'", Op::kNotLike, "a%"},
      {"x not_like 'a%'", Op::kNotLike, "a%"},
      {"x ilike 'a%'", Op::kILike, "a%"},
      {"x not ilike 'a%'", Op::kNotILike, "a%"},
      {"x NOT_ILIKE 'a%'", Op::kNotILike, "a%"},
      {"x regex '^a'", Op::kRegex, "^a"},
      {"x ~ '^a'", Op::kRegex, "^a"},
      {"x REGEX '^a'", Op::kRegex, "^a"},
      {"x starts_with 'ab'", Op::kStartsWith, "ab"},
      {"x startswith 'ab'", Op::kStartsWith, "ab"},
      {"x STARTS_WITH 'ab'", Op::kStartsWith, "ab"},
      {"x exists", Op::kExists, {}},
      {"x EXISTS", Op::kExists, {}},
      {"x is not null", Op::kExists, {}},
      {"x IS NOT NULL", Op::kExists, {}},
      {"x not exists", Op::kNotExists, {}},
      {"x not_exists", Op::kNotExists, {}},
      {"x is null", Op::kNotExists, {}},
  };
  for (const OperatorCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const Filter f = ParseFilter(c.text);
    EXPECT_EQ(f.field, "x");
    EXPECT_EQ(f.op, c.op);
    EXPECT_EQ(f.value, c.value);
  }
}

TEST(QueryTextParse, OperatorsNeedNoSpaces) {
  EXPECT_EQ(Query::Parse("age>=25").where(), Leaf("age", Op::kGte, 25));
  EXPECT_EQ(Query::Parse("age<>-3").where(), Leaf("age", Op::kNeq, -3));
  EXPECT_EQ(Query::Parse("x in(1,2)").where(), Leaf("x", Op::kIn, List{1, 2}));
}

TEST(QueryTextParse, UnknownOperatorIsAnErrorNeverEquality) {
  ExpectSyntaxError("age foo 25", 5, "unknown operator 'foo'");
  ExpectSyntaxError("age equals 25", 5, "unknown operator 'equals'");
  ExpectSyntaxError("age not regex 'a'", 9,
                    "expected 'in', 'between', 'like', 'ilike' or 'exists' after 'not' but found "
                    "'regex'");
}

TEST(QueryTextParse, EqualsNullStaysAnEqualityFilter) {
  EXPECT_EQ(Query::Parse("x = null").where(), Leaf("x", Op::kEq, Value()));
  EXPECT_EQ(Query::Parse("x != NULL").where(), Leaf("x", Op::kNeq, Value()));
}

// ---- Structure ----

TEST(QueryTextParse, EmptyTextIsTheMatchAllQuery) {
  EXPECT_EQ(Query::Parse(""), Query());
  EXPECT_EQ(Query::Parse(" \t\n "), Query());
  EXPECT_TRUE(Query::Parse("").where().is_true());
}

TEST(QueryTextParse, AndBindsTighterThanOr) {
  const Expr a = Leaf("a", Op::kEq, 1);
  const Expr b = Leaf("b", Op::kEq, 2);
  const Expr c = Leaf("c", Op::kEq, 3);
  EXPECT_EQ(Query::Parse("a = 1 or b = 2 and c = 3").where(), Expr::Or({a, Expr::And({b, c})}));
  EXPECT_EQ(Query::Parse("a = 1 and b = 2 or c = 3").where(), Expr::Or({Expr::And({a, b}), c}));
  EXPECT_EQ(Query::Parse("(a = 1 or b = 2) and c = 3").where(), Expr::And({Expr::Or({a, b}), c}));
}

TEST(QueryTextParse, NotBindsTightest) {
  const Expr a = Leaf("a", Op::kEq, 1);
  const Expr b = Leaf("b", Op::kEq, 2);
  EXPECT_EQ(Query::Parse("not a = 1 and b = 2").where(), Expr::And({Expr::Not(a), b}));
  EXPECT_EQ(Query::Parse("not a = 1 or b = 2").where(), Expr::Or({Expr::Not(a), b}));
  EXPECT_EQ(Query::Parse("not (a = 1 and b = 2)").where(), Expr::Not(Expr::And({a, b})));
  EXPECT_EQ(Query::Parse("NOT not a = 1").where(), Expr::Not(Expr::Not(a)));
}

TEST(QueryTextParse, ChainsAreFlattenedButParenthesesKeepTheirGroup) {
  const Expr a = Leaf("a", Op::kEq, 1);
  const Expr b = Leaf("b", Op::kEq, 2);
  const Expr c = Leaf("c", Op::kEq, 3);
  EXPECT_EQ(Query::Parse("a = 1 and b = 2 and c = 3").where(), Expr::And({a, b, c}));
  EXPECT_EQ(Query::Parse("a = 1 OR b = 2 Or c = 3").where(), Expr::Or({a, b, c}));
  EXPECT_EQ(Query::Parse("(a = 1 and b = 2) and c = 3").where(), Expr::And({Expr::And({a, b}), c}));
  EXPECT_EQ(Query::Parse("((a = 1))").where(), a);
}

TEST(QueryTextParse, TrueAndFalseAreTheEmptyGroups) {
  EXPECT_TRUE(Query::Parse("true").where().is_true());
  EXPECT_EQ(Query::Parse("false").where(), Expr::Or({}));
  EXPECT_EQ(Query::Parse("not (true)").where(), Expr::Not(Expr::And({})));
}

TEST(QueryTextParse, TheDocumentedExample) {
  const Query q =
      Query::Parse("age >= 25 and (city = 'SF' or name like 'a%') order by age desc limit 10");
  const Query expected =
      Query(Expr::And({Leaf("age", Op::kGte, 25),
                       Expr::Or({Leaf("city", Op::kEq, "SF"), Leaf("name", Op::kLike, "a%")})}))
          .Sort("age", SortOrder::kDesc)
          .Limit(10);
  EXPECT_EQ(q, expected);
  EXPECT_EQ(q.ToString(),
            "age >= 25 and (city = 'SF' or name like 'a%') order by age desc limit 10");
}

TEST(QueryTextParse, HeaderExampleMatchesTheBuilder) {
  EXPECT_EQ(Query::Parse("age >= 25 order by age desc limit 10"),
            Query().Filter("age", Op::kGte, 25).Sort("age", SortOrder::kDesc).Limit(10));
}

TEST(QueryTextParse, SelectClause) {
  Query q = Query::Parse("select name, age where active = true");
  EXPECT_EQ(q.fields(), (std::vector<std::string>{"name", "age"}));
  EXPECT_EQ(q.where(), Leaf("active", Op::kEq, true));

  q = Query::Parse("SELECT * WHERE x > 1");
  EXPECT_TRUE(q.fields().empty());
  EXPECT_EQ(q.where(), Leaf("x", Op::kGt, 1));

  q = Query::Parse("select \"first name\", address.city order by age");
  EXPECT_EQ(q.fields(), (std::vector<std::string>{"first name", "address.city"}));
  EXPECT_TRUE(q.where().is_true());
  EXPECT_EQ(q.sort(), (std::vector<SortKey>{{"age", SortOrder::kAsc}}));

  // 'where' is optional after the field list.
  q = Query::Parse("select a x = 1");
  EXPECT_EQ(q.fields(), std::vector<std::string>{"a"});
  EXPECT_EQ(q.where(), Leaf("x", Op::kEq, 1));

  EXPECT_EQ(Query::Parse("where x = 1"), Query(Leaf("x", Op::kEq, 1)));
}

TEST(QueryTextParse, OrderLimitOffset) {
  Query q = Query::Parse("order by a, b desc, c ASC limit 5 offset 10");
  EXPECT_EQ(q.sort(),
            (std::vector<SortKey>{
                {"a", SortOrder::kAsc}, {"b", SortOrder::kDesc}, {"c", SortOrder::kAsc}}));
  EXPECT_EQ(q.limit(), 5u);
  EXPECT_EQ(q.offset(), 10u);

  q = Query::Parse("x = 1 OFFSET 3 LIMIT 2");
  EXPECT_EQ(q.limit(), 2u);
  EXPECT_EQ(q.offset(), 3u);

  q = Query::Parse("limit 0");
  EXPECT_EQ(q.limit(), 0u);
  EXPECT_EQ(q.offset(), 0u);
  EXPECT_FALSE(Query::Parse("x = 1").limit().has_value());
}

// ---- Literals ----

TEST(QueryTextParse, NumberLiterals) {
  auto value = [](std::string_view text) { return ParseFilter(text).value; };
  EXPECT_EQ(value("x = 42"), Value(42));
  EXPECT_EQ(value("x = -2"), Value(-2));
  EXPECT_EQ(value("x = 9223372036854775807"), Value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(value("x = -9223372036854775808"), Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(value("x = 1.5"), Value(1.5));
  EXPECT_EQ(value("x = 1.0"), Value(1.0));  // a float, not the int 1
  EXPECT_EQ(value("x = 1e3"), Value(1000.0));
  EXPECT_EQ(value("x = 1E-3"), Value(0.001));
  EXPECT_EQ(value("x = 2.5e+2"), Value(250.0));
  EXPECT_EQ(value("x = .5"), Value(0.5));
  EXPECT_EQ(value("x = -.25"), Value(-0.25));
  EXPECT_EQ(value("x = 5e-324"), Value(5e-324));
  EXPECT_EQ(value("x < inf"), Value(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(value("x > -INF"), Value(-std::numeric_limits<double>::infinity()));
  const Value nan = value("x = nan");
  ASSERT_EQ(nan.kind(), ValueKind::kFloat);
  EXPECT_TRUE(std::isnan(nan.AsDouble()));
}

TEST(QueryTextParse, OtherLiterals) {
  auto value = [](std::string_view text) { return ParseFilter(text).value; };
  EXPECT_EQ(value("x = true"), Value(true));
  EXPECT_EQ(value("x = FALSE"), Value(false));
  EXPECT_EQ(value("x = Null"), Value());
  EXPECT_EQ(value("x = 'SF'"), Value("SF"));
  EXPECT_EQ(value("x = ''"), Value(""));
  EXPECT_EQ(value("t = ts'2024-01-01T00:00:00Z'"), Value(Timestamp{1704067200000000}));
  EXPECT_EQ(value("t > TS'2024-01-01T02:00:00+02:00'"), Value(Timestamp{1704067200000000}));
  EXPECT_EQ(value("t = ts'2024-01-01T00:00:00.25Z'"), Value(Timestamp{1704067200250000}));
  EXPECT_EQ(value("b = b64'aGVsbG8='"), Value(Bytes{"hello"}));
  EXPECT_EQ(value("b = b64''"), Value(Bytes{}));
  EXPECT_EQ(value("tags = ['a', 1, [2.5, null]]"), Value(List{"a", 1, List{2.5, Value()}}));
  EXPECT_EQ(value("tags = []"), Value(List{}));
  EXPECT_EQ(value("x in ()"), Value(List{}));
  EXPECT_EQ(
      value("x in (true, 'a', ts'2024-01-01', b64'AA==', [1])"),
      Value(List{true, "a", Timestamp{1704067200000000}, Bytes{std::string(1, '\0')}, List{1}}));
  EXPECT_EQ(value("x between 'a' and 'm'"), Value(List{"a", "m"}));
  EXPECT_EQ(value("x between -1.5 and 2"), Value(List{-1.5, 2}));
}

TEST(QueryTextParse, StringEscapesAndUnicode) {
  auto value = [](std::string_view text) { return ParseFilter(text).value.AsString(); };
  EXPECT_EQ(value("x = 'it''s'"), "it's");
  EXPECT_EQ(value("x = 'it\\'s'"), "it's");
  EXPECT_EQ(value("x = 'a\\\\b'"), "a\\b");
  EXPECT_EQ(value("x = 'a\\nb\\tc\\rd'"), "a\nb\tc\rd");
  EXPECT_EQ(value("x = 'say \"hi\"'"), "say \"hi\"");
  EXPECT_EQ(value("x = '\\u00e9t\\u00C9'"), "\xC3\xA9t\xC3\x89");
  EXPECT_EQ(value("x = '\\ud83d\\ude00'"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(value("x = '\\u0000'"), std::string(1, '\0'));
  EXPECT_EQ(value("x = 'h\xC3\xA9llo \xE5\x90\x8D'"), "h\xC3\xA9llo \xE5\x90\x8D");
  EXPECT_EQ(value("x = 'line\nbreak'"), "line\nbreak");
  // Other backslashes stay, so LIKE escapes and regex classes read naturally.
  EXPECT_EQ(value("x like '50\\%'"), "50\\%");
  EXPECT_EQ(value("x regex '\\d+\\.\\b'"), "\\d+\\.\\b");
}

TEST(QueryTextParse, FieldNames) {
  EXPECT_EQ(ParseFilter("address.city = 'SF'").field, "address.city");
  EXPECT_EQ(ParseFilter("tags.0 = 'a'").field, "tags.0");
  EXPECT_EQ(ParseFilter("_x1 = 1").field, "_x1");
  EXPECT_EQ(ParseFilter("\"first name\" = 'a'").field, "first name");
  EXPECT_EQ(ParseFilter("\"say \\\"hi\\\"\" = 1").field, "say \"hi\"");
  EXPECT_EQ(ParseFilter("\"a\"\"b\" = 1").field, "a\"b");
  EXPECT_EQ(ParseFilter("`odd name` = 1").field, "odd name");
  EXPECT_EQ(ParseFilter("`back``tick\\n` = 1").field, "back`tick\\n");
  EXPECT_EQ(ParseFilter("\"select\" = 1").field, "select");
  EXPECT_EQ(ParseFilter("\"\xE5\x90\x8D\" = 1").field, "\xE5\x90\x8D");
  // Words that are only operator names are fine as bare fields.
  EXPECT_EQ(ParseFilter("eq = 1").field, "eq");
  EXPECT_EQ(ParseFilter("ts = 1").field, "ts");
}

// ---- Errors ----

TEST(QueryTextErrors, MessageShowsTheQueryAndACaret) {
  EXPECT_EQ(ParseError("age >= and x = 1"),
            "query syntax error at column 8: expected a value after '>=' but found 'and'\n"
            "age >= and x = 1\n"
            "       ^");
  // Tabs and newlines are shown as spaces so that the caret stays aligned.
  EXPECT_EQ(ParseError("a = 1\n\tand"),
            "query syntax error at column 11: expected a condition after 'and' but found the end "
            "of the query\n"
            "a = 1  and\n"
            "          ^");
}

TEST(QueryTextErrors, ExactColumns) {
  ExpectSyntaxError("age >= 25 and city >= and x = 1", 23,
                    "expected a value after '>=' but found 'and'");
  ExpectSyntaxError("age >= 25 and city = 'SF", 22, "unterminated string");
  ExpectSyntaxError("\"first name = 1", 1, "unterminated quoted field name");
  ExpectSyntaxError("(a = 1 or b = 2", 16,
                    "expected ')' to close the '(' at column 1 but found the end of the query");
  ExpectSyntaxError("a = 1 limit x", 13, "expected an integer after 'limit' but found 'x'");
  ExpectSyntaxError("a = 1 limit 2.5", 13, "expected an integer after 'limit' but found '2.5'");
  ExpectSyntaxError("limit -1", 7, "'limit' must not be negative");
  ExpectSyntaxError("limit 1 limit 2", 9, "'limit' may appear only once");
  ExpectSyntaxError("limit 1 order by a", 9, "'order by' must come before 'limit' and 'offset'");
  ExpectSyntaxError(
      "a = 1 b = 2", 7,
      "expected 'and', 'or', 'order by', 'limit', 'offset' or the end of the query after '1' "
      "but found 'b'");
  ExpectSyntaxError("a = 1)", 6, "but found ')'");
  ExpectSyntaxError("name = bob", 8,
                    "expected a value after '=' but found 'bob' (strings take single quotes)");
  ExpectSyntaxError("name = \"bob\"", 8, "(strings take single quotes)");
  ExpectSyntaxError("x in 5", 6, "expected a list in '(...)' or '[...]' after 'in' but found '5'");
  ExpectSyntaxError("x in (1, 2", 11, "expected ',' or ')' after '2' but found the end");
  ExpectSyntaxError("x in (1, 2]", 11, "expected ',' or ')' after '2' but found ']'");
  ExpectSyntaxError("x between 1 or 5", 13, "expected 'and' between the two bounds");
  ExpectSyntaxError("x between [1, 2, 3]", 11,
                    "'between' needs exactly two values but the list has 3");
  ExpectSyntaxError("x like 5", 8, "expected a string pattern in single quotes after 'like'");
  ExpectSyntaxError("t < ts'yesterday'", 5, "invalid timestamp 'yesterday'");
  ExpectSyntaxError("b = b64'***'", 5, "invalid base64");
  ExpectSyntaxError("x = 12abc", 5, "malformed number '12abc'");
  ExpectSyntaxError("x = 1.2.3", 5, "malformed number '1.2.3'");
  ExpectSyntaxError("x = 99999999999999999999", 5, "is out of the 64-bit range");
  ExpectSyntaxError("x = 1e999", 5, "is out of range");
  ExpectSyntaxError("order x", 7, "expected 'by' after 'order' but found 'x'");
  ExpectSyntaxError("x = 'a' ! y", 9, "unexpected character '!'");
  ExpectSyntaxError("x = -y", 5, "unexpected character '-'");
  ExpectSyntaxError("where", 6,
                    "expected a condition after 'where' but found the end of the query");
  ExpectSyntaxError("select where x = 1", 8, "expected a field name after 'select'");
  ExpectSyntaxError("x = 1 and", 10, "expected a condition after 'and'");
  ExpectSyntaxError("x", 2, "expected an operator after 'x' but found the end of the query");
  ExpectSyntaxError("x and y = 1", 3, "expected an operator after 'x' but found 'and'");
  ExpectSyntaxError("x is 5", 6, "expected 'null' or 'not null' after 'is'");
  ExpectSyntaxError("in = 5", 1, "(a field named like a keyword needs double quotes)");
  ExpectSyntaxError("\"\" = 5", 1, "a field name cannot be empty");
  ExpectSyntaxError("x = '\\u12'", 6, "\\u needs four hex digits");
  ExpectSyntaxError("x = '\\ud83d'", 6, "unpaired surrogate");
  ExpectSyntaxError("x = 'a'\x01", 8, "unexpected character U+0001");
}

TEST(QueryTextErrors, ColumnsCountCharactersNotBytes) {
  // "名前" is two characters but six bytes.
  ExpectSyntaxError("\"\xE5\x90\x8D\xE5\x89\x8D\" = 'abc", 8, "unterminated string");
  ExpectSyntaxError("x = '\xC3\xA9' y", 9, "but found 'y'");
  ExpectSyntaxError("\xC3\xA9 = 1", 1, "unexpected character '\xC3\xA9'");
}

TEST(QueryTextErrors, LongQueriesShowOnlyTheNeighbourhood) {
  std::string text = "a = 1";
  for (int i = 0; i < 100; ++i) text += " and a = 1";
  text += " ! and a = 1";
  for (int i = 0; i < 100; ++i) text += " and a = 1";
  const std::string message = ParseError(text);
  EXPECT_EQ(message.rfind("query syntax error at column 1007: unexpected character '!'", 0), 0u)
      << message;
  EXPECT_LT(message.size(), 300u);
  // The caret still points at the '!'.
  const std::size_t first_newline = message.find('\n');
  const std::size_t second_newline = message.find('\n', first_newline + 1);
  const std::string echo = message.substr(first_newline + 1, second_newline - first_newline - 1);
  const std::string caret = message.substr(second_newline + 1);
  ASSERT_EQ(caret.back(), '^');
  EXPECT_EQ(echo[caret.size() - 1], '!');
  EXPECT_EQ(echo.substr(0, 3), "...");
}

TEST(QueryTextErrors, NestingDeeperThan256LevelsIsRejected) {
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '(') + "a = 1" +
           std::string(static_cast<std::size_t>(depth), ')');
  };
  EXPECT_EQ(Query::Parse(nested(256)).where(), Leaf("a", Op::kEq, 1));
  ExpectSyntaxError(nested(257), 257, "the query nests deeper than 256 levels");
  ExpectSyntaxError(nested(100000), 257, "the query nests deeper than 256 levels");

  std::string nots;
  for (int i = 0; i < 256; ++i) nots += "not ";
  EXPECT_NO_THROW(Query::Parse(nots + "a = 1"));
  ExpectSyntaxError(nots + "not a = 1", 1025, "nests deeper than 256 levels");
  std::string many_nots;
  for (int i = 0; i < 100000; ++i) many_nots += "not ";
  EXPECT_NE(ParseError(many_nots + "a = 1").find("nests deeper"), std::string::npos);

  EXPECT_NE(ParseError("x = " + std::string(100000, '[')).find("nests deeper"), std::string::npos);
  EXPECT_NE(ParseError("x in (" + std::string(100000, '[')).find("nests deeper"),
            std::string::npos);
}

// Every prefix of valid queries and random token soup either parses or throws Error: never
// crashes, hangs or throws something else; whatever parses also round-trips.
TEST(QueryTextErrors, NeverCrashesOnArbitraryInput) {
  const std::vector<std::string> seeds = {
      "select a, \"b c\" where age >= 25 and (city = 'S\\'F' or name like 'a%') or not x in "
      "(1, 2.5e3, ts'2024-01-01T00:00:00Z', b64'aGk=') order by age desc, b limit 10 offset 5",
      "x between -1 and 2 and y is not null and z ~ '\\d' and `w` not_in [[1], []]",
  };
  for (const std::string& seed : seeds) {
    for (std::size_t n = 0; n <= seed.size(); ++n) {
      const std::string prefix = seed.substr(0, n);
      try {
        ExpectRoundTrip(Query::Parse(prefix));
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << prefix;
      }
    }
  }

  const std::vector<std::string> pieces = {"a",
                                           "b.c",
                                           "\"q\"",
                                           "`r`",
                                           "=",
                                           "!=",
                                           ">=",
                                           "<",
                                           "~",
                                           "(",
                                           ")",
                                           "[",
                                           "]",
                                           ",",
                                           "*",
                                           "and",
                                           "or",
                                           "not",
                                           "in",
                                           "between",
                                           "like",
                                           "is",
                                           "null",
                                           "exists",
                                           "1",
                                           "-2.5",
                                           "1e3",
                                           "'s'",
                                           "'",
                                           "\"",
                                           "ts'2024-01-01'",
                                           "b64'AA=='",
                                           "select",
                                           "where",
                                           "order",
                                           "by",
                                           "desc",
                                           "limit",
                                           "offset",
                                           "true",
                                           "\\",
                                           "-",
                                           "é",
                                           "\n"};
  std::mt19937 rng(12345);
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j) {
      text += pieces[rng() % pieces.size()];
      if (rng() % 3 != 0) text += ' ';
    }
    try {
      ExpectRoundTrip(Query::Parse(text));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << text;
    }
  }
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 20, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 256);
    try {
      Query::Parse(bytes);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    }
  }
}

// ---- ToString ----

TEST(QueryTextToString, CanonicalForms) {
  EXPECT_EQ(Leaf("x", Op::kEq, 1.0).ToString(), "x = 1.0");
  EXPECT_EQ(Leaf("x", Op::kEq, -0.0).ToString(), "x = -0.0");
  EXPECT_EQ(Leaf("x", Op::kEq, 0.1).ToString(), "x = 0.1");
  EXPECT_EQ(Leaf("x", Op::kEq, 1e300).ToString(), "x = 1e+300");
  EXPECT_EQ(Leaf("x", Op::kLt, std::numeric_limits<double>::infinity()).ToString(), "x < inf");
  EXPECT_EQ(Leaf("x", Op::kEq, 1).ToString(), "x = 1");
  EXPECT_EQ(Leaf("x", Op::kEq, "it's\n").ToString(), "x = 'it\\'s\\n'");
  // A backslash is doubled only where the parser would otherwise read an escape.
  EXPECT_EQ(Leaf("x", Op::kRegex, "\\d+ \\.").ToString(), "x regex '\\d+ \\.'");
  EXPECT_EQ(Leaf("x", Op::kLike, "50\\%").ToString(), "x like '50\\%'");
  EXPECT_EQ(Leaf("x", Op::kEq, "a\\").ToString(), "x = 'a\\\\'");
  EXPECT_EQ(Leaf("x", Op::kEq, "\\n\\'\\u").ToString(), "x = '\\\\n\\\\\\'\\\\u'");
  EXPECT_EQ(Leaf("x", Op::kEq, std::string("\x01\x7f", 2)).ToString(), "x = '\\u0001\\u007f'");
  EXPECT_EQ(Leaf("x", Op::kEq, "h\xC3\xA9").ToString(), "x = 'h\xC3\xA9'");
  EXPECT_EQ(Leaf("first name", Op::kExists).ToString(), "\"first name\" exists");
  EXPECT_EQ(Leaf("order", Op::kNotExists).ToString(), "\"order\" not exists");
  EXPECT_EQ(Leaf("a.b_0", Op::kIn, List{1, "a"}).ToString(), "a.b_0 in (1, 'a')");
  EXPECT_EQ(Leaf("x", Op::kNotIn, List{}).ToString(), "x not in ()");
  EXPECT_EQ(Leaf("x", Op::kBetween, List{1, 2}).ToString(), "x between 1 and 2");
  EXPECT_EQ(Leaf("x", Op::kNotBetween, List{List{1}, List{2}}).ToString(),
            "x not between [[1], [2]]");
  EXPECT_EQ(Leaf("x", Op::kNotLike, "a%").ToString(), "x not like 'a%'");
  EXPECT_EQ(Leaf("x", Op::kNotILike, "a%").ToString(), "x not ilike 'a%'");
  EXPECT_EQ(Leaf("x", Op::kRegex, "^a").ToString(), "x regex '^a'");
  EXPECT_EQ(Leaf("x", Op::kStartsWith, "a").ToString(), "x starts_with 'a'");
  EXPECT_EQ(Leaf("t", Op::kGte, Timestamp{1704067200000000}).ToString(),
            "t >= ts'2024-01-01T00:00:00Z'");
  EXPECT_EQ(Leaf("b", Op::kEq, Bytes{"hello"}).ToString(), "b = b64'aGVsbG8='");
  EXPECT_EQ(Leaf("x", Op::kEq, Value()).ToString(), "x = null");
  EXPECT_EQ(Leaf("x", Op::kNeq, false).ToString(), "x != false");
  EXPECT_EQ(Expr().ToString(), "true");
  EXPECT_EQ(Expr::Or({}).ToString(), "false");
  EXPECT_EQ(Expr::Not(Leaf("a", Op::kEq, 1)).ToString(), "not (a = 1)");
  EXPECT_EQ(
      Expr::Or({Expr::And({Leaf("a", Op::kEq, 1), Leaf("b", Op::kEq, 2)}), Leaf("c", Op::kEq, 3)})
          .ToString(),
      "(a = 1 and b = 2) or c = 3");
}

TEST(QueryTextToString, QueryClauses) {
  EXPECT_EQ(Query().ToString(), "");
  EXPECT_EQ(Query().Select({"a", "b c"}).ToString(), "select a, \"b c\"");
  EXPECT_EQ(Query().Select({"*"}).ToString(), "select \"*\"");
  EXPECT_EQ(Query(Leaf("x", Op::kEq, 1)).Select({"a"}).ToString(), "select a where x = 1");
  EXPECT_EQ(Query().Sort("a").Sort("b", SortOrder::kDesc).Limit(0).Offset(7).ToString(),
            "order by a, b desc limit 0 offset 7");
  EXPECT_EQ(Query().Offset(7).ToString(), "offset 7");
}

TEST(QueryTextToString, ObjectsHaveNoTextForm) {
  try {
    Leaf("x", Op::kEq, Object{{"a", 1}}).ToString();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_STREQ(e.what(), "object values have no text form");
  }
  EXPECT_THROW(Query(Leaf("x", Op::kIn, List{Object{}})).ToString(), Error);
}

TEST(QueryTextToString, VectorsComeBackAsListsOfFloats) {
  const Expr e = Leaf("v", Op::kEq, Vector{1.0f, 0.1f, -2.5f});
  EXPECT_EQ(e.ToString(), "v = [1.0, 0.10000000149011612, -2.5]");
  EXPECT_EQ(Query::Parse(e.ToString()).where(),
            Leaf("v", Op::kEq, List{1.0, static_cast<double>(0.1f), -2.5}));
}

TEST(QueryTextRoundTrip, HandBuiltTrees) {
  const Expr a = Leaf("a", Op::kEq, 1);
  const Expr b = Leaf("b", Op::kLike, "x%");
  const Expr c = Leaf("c", Op::kIn, List{1.5, "two", Value(), List{}});
  const std::vector<Query> queries = {
      Query(),
      Query(a),
      Query(Expr::And({a, b, c})),
      Query(Expr::Or({a, Expr::And({b, c})})),
      Query(Expr::And({Expr::And({a, b}), c})),
      Query(Expr::Or({Expr::Or({a, b}), Expr::Or({b, c})})),
      Query(Expr::Not(Expr::Not(a))),
      Query(Expr::Not(Expr::Or({a, b}))),
      Query(Expr::And({Expr(), Expr::Or({})})),
      Query(Expr::Or({})),
      Query(Expr::Not(Expr())),
      Query(Leaf("select", Op::kEq, "where")),
      Query(Leaf("a b", Op::kNotBetween, List{Timestamp{-1}, Timestamp{1}})),
      Query(Leaf("x", Op::kBetween, List{List{1}, 2})),
      Query(Leaf("x", Op::kEq, List{Bytes{std::string("\0\xff", 2)}, 1e-300, -0.0})),
      Query(Leaf("'\"`\\", Op::kNotILike, "\\%'\"")),
      Query(Leaf("x", Op::kGt, std::numeric_limits<double>::max())),
      Query(Leaf("x", Op::kLt, -std::numeric_limits<double>::infinity())),
      Query(Leaf("x", Op::kEq, std::numeric_limits<std::int64_t>::min())),
      Query(a).Select({"a", "b.c", "*", "limit"}),
      Query().Select({"a"}).Sort("z", SortOrder::kDesc).Limit(3).Offset(4),
      Query(b).Sort("order").Sort("x y", SortOrder::kDesc).Offset(1),
  };
  for (const Query& q : queries) ExpectRoundTrip(q);
}

// Random trees of every node kind, operator and value kind.
class RandomQueryGenerator {
 public:
  explicit RandomQueryGenerator(std::uint64_t seed) : rng_(seed) {}

  Query RandomQuery() {
    Query q(Chance(10) ? Expr() : RandomExpr(static_cast<int>(Below(5))));
    if (Chance(30)) {
      std::vector<std::string> fields;
      for (std::size_t n = Below(3) + 1; n > 0; --n) fields.push_back(RandomField());
      q.Select(std::move(fields));
    }
    for (std::size_t n = Below(3); n > 0; --n) {
      q.Sort(RandomField(), Chance(50) ? SortOrder::kAsc : SortOrder::kDesc);
    }
    if (Chance(40)) q.Limit(Below(1000));
    if (Chance(30)) q.Offset(Below(1000));
    return q;
  }

 private:
  std::uint64_t Below(std::uint64_t n) { return rng_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<std::uint64_t>(percent); }
  template <class T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

  Expr RandomExpr(int depth) {
    const std::uint64_t roll = Below(100);
    if (depth == 0 || roll < 35) return RandomLeaf();
    if (roll < 40) return Chance(50) ? Expr() : Expr::Or({});
    if (roll < 55) return Expr::Not(RandomExpr(depth - 1));
    std::vector<Expr> children;
    for (std::size_t n = Below(3) + 2; n > 0; --n) children.push_back(RandomExpr(depth - 1));
    return roll < 78 ? Expr::And(std::move(children)) : Expr::Or(std::move(children));
  }

  Expr RandomLeaf() {
    const auto op = static_cast<Op>(Below(static_cast<std::uint64_t>(Op::kNotILike) + 1));
    Value value;
    switch (op) {
      case Op::kIn:
      case Op::kNotIn: {
        List items;
        for (std::size_t n = Below(4); n > 0; --n) items.push_back(RandomValue(1));
        value = std::move(items);
        break;
      }
      case Op::kBetween:
      case Op::kNotBetween:
        value = List{RandomValue(1), RandomValue(1)};
        break;
      case Op::kLike:
      case Op::kNotLike:
      case Op::kILike:
      case Op::kNotILike:
      case Op::kRegex:
      case Op::kStartsWith:
        value = RandomString();
        break;
      case Op::kExists:
      case Op::kNotExists:
        break;
      default:
        value = RandomValue(2);
    }
    return Expr::Leaf(Filter{RandomField(), op, std::move(value)});
  }

  Value RandomValue(int depth) {
    switch (Below(depth > 0 ? 9 : 8)) {
      case 0:
        return Value();
      case 1:
        return Value(Chance(50));
      case 2: {
        static const std::vector<std::int64_t> kEdges = {0, -1,
                                                         std::numeric_limits<std::int64_t>::min(),
                                                         std::numeric_limits<std::int64_t>::max()};
        return Chance(20) ? Value(Pick(kEdges))
                          : Value(static_cast<std::int64_t>(rng_()) >> Below(64));
      }
      case 3:
        return Value(RandomDouble());
      case 4:
      case 5:
        return Value(RandomString());
      case 6: {
        std::string bytes(Below(8), '\0');
        for (char& c : bytes) c = static_cast<char>(Below(256));
        return Value(Bytes{std::move(bytes)});
      }
      case 7: {
        // 1970 to 2100, with or without microseconds.
        const auto micros = static_cast<std::int64_t>(Below(4102444800ULL * 1000000ULL));
        return Value(Timestamp{Chance(50) ? micros : micros / 1000000 * 1000000});
      }
      default: {
        List items;
        for (std::size_t n = Below(4); n > 0; --n) items.push_back(RandomValue(depth - 1));
        return Value(std::move(items));
      }
    }
  }

  double RandomDouble() {
    constexpr double kMax = std::numeric_limits<double>::max();
    constexpr double kInf = std::numeric_limits<double>::infinity();
    static const std::vector<double> kEdges = {
        0.0, -0.0, 1.0, 0.1, 1e300, 5e-324, 9007199254740993.0, kMax, kInf, -kInf};
    if (Chance(30)) return Pick(kEdges);
    while (true) {
      const std::uint64_t bits = rng_();
      double d;
      static_assert(sizeof d == sizeof bits);
      std::memcpy(&d, &bits, sizeof d);
      if (std::isfinite(d)) return d;
    }
  }

  std::string RandomString() {
    // Quotes, backslashes (before escape letters and others), controls, UTF-8, bad UTF-8, NUL.
    constexpr std::string_view kEAcute = "\xC3\xA9";
    constexpr std::string_view kEmoji = "\xF0\x9F\x98\x80";
    static const std::vector<std::string_view> kPieces = {
        "a",  "Z",       "0",   "d",  "n",   " ",    "'",     "''",   "\"",
        "\\", "\\'",     "%",   "_",  "\n",  "\t",   "\r",    "\x01", "\x7f",
        "`",  "\\u0041", "and", "or", "ts'", "\xff", kEAcute, kEmoji};
    std::string s;
    for (std::size_t n = Below(6); n > 0; --n) {
      if (Chance(5)) {
        s += '\0';
      } else {
        s += Pick(kPieces);
      }
    }
    return s;
  }

  std::string RandomField() {
    static const std::vector<std::string> kFields = {
        "age",        "address.city", "tags.0", "_x",   "a1",           "select",     "AND",
        "Not",        "true",         "in",     "null", "ts",           "b64",        "inf",
        "first name", "a-b",          "1abc",   "*",    "\xE5\x90\x8D", "say \"hi\"", "back`tick",
        "x'y",        "a..b",         "a.",     "eq",   "limit"};
    if (Chance(85)) return Pick(kFields);
    std::string s = RandomString();
    return s.empty() ? "e" : s;
  }

  std::mt19937_64 rng_;
};

TEST(QueryTextRoundTrip, TwoThousandRandomTrees) {
  RandomQueryGenerator generator(20240501);
  for (int i = 0; i < 2000; ++i) {
    const Query q = generator.RandomQuery();
    ExpectRoundTrip(q);
    if (HasFailure()) break;  // one counterexample is enough to read
  }
}

}  // namespace
}  // namespace dkdata
