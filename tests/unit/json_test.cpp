// Tests of the JSON codec: ToJson/ParseJson, both record forms, error positions and base64.

#include "dkdata/json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata {
namespace {

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

Timestamp Ts(std::string_view iso) {
  const std::optional<Timestamp> t = Timestamp::Parse(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(Timestamp{});
}

std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

// The message of the Error that fn throws (failing the test when it throws none).
template <class Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

struct Position {
  int line = 0;
  int column = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

std::ostream& operator<<(std::ostream& os, const Position& p) {
  return os << "line " << p.line << ", column " << p.column;
}

// The line and column that ParseJson reports for malformed text.
Position ErrorPosition(std::string_view text) {
  const std::string message = ErrorOf([&] { ParseJson(text); });
  std::smatch match;
  static const std::regex kPattern(R"(^invalid JSON at line (\d+), column (\d+): )");
  if (!std::regex_search(message, match, kPattern)) {
    ADD_FAILURE() << "unexpected message: " << message;
    return {};
  }
  return {std::stoi(match[1]), std::stoi(match[2])};
}

// A record with every kind of value, each with its detected type, plus metadata and a version.
Record EveryKindRecord() {
  Record r;
  r.set_id("rec-1");
  r.Set("nothing", Value());
  r.Set("yes", true);
  r.Set("no", false);
  r.Set("zero", 0);
  r.Set("int_min", kInt64Min);
  r.Set("int_max", kInt64Max);
  r.Set("tenth", 0.1);
  r.Set("huge", 1e300);
  r.Set("tiny", 5e-324);
  r.Set("negative_zero", -0.0);
  r.Set("one", 1.0);
  r.Set("empty", "");
  r.Set("unicode", "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE4\xB8\xAD \"quoted\" back\\slash\n\t\x01");
  r.Set("long_text", std::string(kTextThreshold + 5, 'x'));
  r.Set("bytes", Bytes{AllBytes()});
  r.Set("no_bytes", Bytes{});
  r.Set("utc", Ts("2024-05-01T10:00:00.123456+02:00"));
  r.Set("moon", Ts("1969-07-20T20:17:40Z"));
  r.Set("old", Ts("1900-01-01T00:00:00.000001Z"));
  r.Set("tags", List{"a", 1, 2.5, true, Value(), List{}, Object{}});
  r.Set("address", Object{{"city", "Z\xC3\xBCrich"},
                          {"geo", Object{{"lat", 47.37}, {"lon", 8.54}}},
                          {"lines", List{"one", "two"}}});
  r.Set("embedding", Vector{0.1f, -1.5f, 3.4028235e38f, 1e-45f, 0.0f, 1.0f, 0.333333343f});
  r.Set("no_embedding", Vector{});
  r.Set(Field("sparse", Object{{"3", 0.5}, {"17", 1.25}}, FieldType::kSparseVector));
  r.Set(Field("age", 36, FieldType::kInteger, Object{{"unit", "years"}, {"min", 0}}));
  r.metadata() = Object{{"source", "test"}, {"n", 3}, {"nested", Object{{"k", List{1, 2}}}}};
  r.set_version(7);
  return r;
}

Record WithoutFieldMetadata(Record r) {
  for (Field& f : r.mutable_fields()) f.metadata = Object();
  return r;
}

// Field by field, so that a failure says which one differs.
void ExpectSameFields(const Record& actual, const Record& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Field& a = actual.fields()[i];
    const Field& e = expected.fields()[i];
    EXPECT_EQ(a.name, e.name);
    EXPECT_EQ(a.value, e.value) << e.name << ": " << ToJson(a.value) << " vs " << ToJson(e.value);
    EXPECT_EQ(FieldTypeName(a.type), FieldTypeName(e.type)) << e.name;
    EXPECT_EQ(a.metadata, e.metadata) << e.name;
  }
}

// ---- base64 ----

TEST(JsonBase64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> cases[] = {{"", ""},
                                                                 {"f", "Zg=="},
                                                                 {"fo", "Zm8="},
                                                                 {"foo", "Zm9v"},
                                                                 {"foob", "Zm9vYg=="},
                                                                 {"fooba", "Zm9vYmE="},
                                                                 {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(JsonBase64, AllByteValuesRoundTrip) {
  const std::string bytes = AllBytes();
  for (std::size_t n = 0; n <= bytes.size(); n += 37) {
    const std::string part = bytes.substr(bytes.size() - n);
    EXPECT_EQ(Base64Decode(Base64Encode(part)), part);
  }
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Encode("\xFF\xFE\xFD"), "//79");
}

TEST(JsonBase64, InvalidInputIsNullopt) {
  for (std::string_view bad :
       {"Zg", "Zg=", "Zm9", "Z===", "====", "=Zg=", "Zg=a", "Z=g=", "Zg==Zg==", "Zm9v!A==", "Zm 9v",
        "Zm9v\n", "Zm-_", "\xC3\xA9==", "Zm9vYmFy="}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
}

// ---- encoding values ----

TEST(JsonEncode, Scalars) {
  EXPECT_EQ(ToJson(Value()), "null");
  EXPECT_EQ(ToJson(true), "true");
  EXPECT_EQ(ToJson(false), "false");
  EXPECT_EQ(ToJson(0), "0");
  EXPECT_EQ(ToJson(kInt64Min), "-9223372036854775808");
  EXPECT_EQ(ToJson(kInt64Max), "9223372036854775807");
  EXPECT_EQ(ToJson(1.0), "1.0");
  EXPECT_EQ(ToJson(-0.0), "-0.0");
  EXPECT_EQ(ToJson(0.1), "0.1");
  EXPECT_EQ(ToJson(1e300), "1e+300");
  EXPECT_EQ(ToJson(123456789.0), "123456789.0");
  EXPECT_EQ(ToJson(5e-324), "5e-324");
  EXPECT_EQ(ToJson(Bytes{"hello"}), "\"aGVsbG8=\"");
  EXPECT_EQ(ToJson(Ts("2024-05-01T10:00:00+02:00")), "\"2024-05-01T08:00:00Z\"");
  EXPECT_EQ(ToJson(Vector{1.0f, 0.1f, -2.5f}), "[1.0,0.1,-2.5]");
  EXPECT_EQ(ToJson(List{}), "[]");
  EXPECT_EQ(ToJson(Object{}), "{}");
  EXPECT_EQ(ToJson(Object{{"b", 1}, {"a", List{Value(), "x"}}}), R"({"b":1,"a":[null,"x"]})");
}

TEST(JsonEncode, StringEscapes) {
  EXPECT_EQ(ToJson("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(ToJson("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(ToJson(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  // UTF-8 is kept as is, astral plane included.
  EXPECT_EQ(ToJson("\xC3\xA9\xF0\x9F\x98\x80"), "\"\xC3\xA9\xF0\x9F\x98\x80\"");
  EXPECT_EQ(ToJson(Object{{"k\"ey", 1}}), R"({"k\"ey":1})");
}

TEST(JsonEncode, InvalidUtf8IsAnErrorNamingThePath) {
  for (std::string_view bad :
       {"\xFF", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\x80\xAF", "\x80"}) {
    EXPECT_NE(ErrorOf([&] { ToJson(std::string(bad)); }).find("invalid UTF-8"), std::string::npos);
  }
  const std::string message = ErrorOf([] {
    ToJson(Object{{"a", List{"fine", std::string("x\xFFy")}}});
  });
  EXPECT_NE(message.find("value at \"a.1\""), std::string::npos) << message;
  EXPECT_NE(message.find("invalid UTF-8 in string"), std::string::npos) << message;
  const std::string key_message = ErrorOf([] { ToJson(Object{{std::string("\xFE"), 1}}); });
  EXPECT_NE(key_message.find("invalid UTF-8 in object key"), std::string::npos) << key_message;
}

TEST(JsonEncode, NonFiniteNumbersAreRejected) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NE(ErrorOf([&] { ToJson(nan); }).find("NaN is not a valid JSON number"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              ToJson(List{1.0, -inf});
            }).find("value at \"1\" as JSON: -infinity"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              ToJson(Vector{1.0f, static_cast<float>(inf)});
            }).find("\"1\""),
            std::string::npos);
}

TEST(JsonEncode, AppendsToExistingText) {
  std::string out = "prefix:";
  AppendJson(out, List{1, "two"});
  EXPECT_EQ(out, R"(prefix:[1,"two"])");
  // A failed append leaves the text as it was.
  EXPECT_THROW(AppendJson(out, List{1, std::numeric_limits<double>::quiet_NaN()}), Error);
  EXPECT_EQ(out, R"(prefix:[1,"two"])");
}

// ---- parsing values ----

TEST(JsonParse, Scalars) {
  EXPECT_EQ(ParseJson("null"), Value());
  EXPECT_EQ(ParseJson(" true "), Value(true));
  EXPECT_EQ(ParseJson("false"), Value(false));
  EXPECT_EQ(ParseJson("\"x\""), Value("x"));
  EXPECT_EQ(ParseJson("\n42\n"), Value(42));
  EXPECT_EQ(ParseJson("-1.5"), Value(-1.5));
  EXPECT_EQ(ParseJson("[]"), Value(List{}));
  EXPECT_EQ(ParseJson("{}"), Value(Object{}));
}

TEST(JsonParse, NumberKinds) {
  EXPECT_EQ(ParseJson("9223372036854775807"), Value(kInt64Max));
  EXPECT_EQ(ParseJson("-9223372036854775808"), Value(kInt64Min));
  EXPECT_EQ(ParseJson("[-9223372036854775808]"), Value(List{kInt64Min}));
  // Integers beyond int64 become floats, whether uint64 or larger.
  EXPECT_EQ(ParseJson("9223372036854775808"), Value(9223372036854775808.0));
  EXPECT_EQ(ParseJson("[18446744073709551615]"), Value(List{18446744073709551615.0}));
  EXPECT_EQ(ParseJson("[-9223372036854775809]"), Value(List{-9223372036854775809.0}));
  EXPECT_EQ(ParseJson("123456789012345678901234567890"), Value(1.2345678901234568e29));
  EXPECT_EQ(ParseJson("[123456789012345678901234567890, 1]"),
            Value(List{1.2345678901234568e29, 1}));
  EXPECT_EQ(ParseJson("1.0"), Value(1.0));
  EXPECT_EQ(ParseJson("1e2"), Value(100.0));
  EXPECT_EQ(ParseJson("[1E+2, 0.5e-1]"), Value(List{100.0, 0.05}));
  const Value negative_zero = ParseJson("-0.0");
  ASSERT_EQ(negative_zero.kind(), ValueKind::kFloat);
  EXPECT_TRUE(std::signbit(negative_zero.AsDouble()));
  EXPECT_EQ(ParseJson("-0"), Value(0));
  EXPECT_EQ(ParseJson("1e308"), Value(1e308));
  // Many significant digits (simdjson 3.0.1 returns 0 or a wrong value for some of these).
  EXPECT_EQ(ParseJson("-218470626061754144.0"), Value(-218470626061754144.0));
  EXPECT_EQ(ParseJson("[1000000000.000000001]"), Value(List{1e9}));
  EXPECT_EQ(ParseJson("[0.95000000000000000000]"), Value(List{0.95}));
  EXPECT_EQ(ParseJson("{\"a\": 3.14159265358979323846264338327950288}"),
            Value(Object{{"a", 3.141592653589793}}));
  EXPECT_THROW(ParseJson("1e400"), Error);
  EXPECT_THROW(ParseJson("[-1e400]"), Error);
}

TEST(JsonParse, FloatsRoundTripExactly) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    double d;
    const std::uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const Value parsed = ParseJson(ToJson(d));
    ASSERT_EQ(parsed.kind(), ValueKind::kFloat) << ToJson(d);
    EXPECT_EQ(std::memcmp(parsed.Get<double>(), &d, sizeof d), 0) << ToJson(d);
  }
  for (double d : {0.1, 1e300, -0.0, 1.0, 1e21, 1e22, 2.2250738585072014e-308, 4.9e-324,
                   std::numeric_limits<double>::max(), 9007199254740993.0}) {
    EXPECT_EQ(ParseJson(ToJson(d)), Value(d)) << ToJson(d);
  }
}

TEST(JsonParse, ObjectsKeepOrderAndTheLastDuplicateWins) {
  const Value v = ParseJson(R"({"b": 1, "a": 2, "c": {"z": [], "y": null}, "b": 3})");
  const Object& o = v.AsObject();
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o.members()[0], (Object::Member{"b", 3}));
  EXPECT_EQ(o.members()[1], (Object::Member{"a", 2}));
  EXPECT_EQ(o.members()[2].first, "c");
  EXPECT_EQ(o.members()[2].second.AsObject().members()[0].first, "z");
}

TEST(JsonParse, LargeObjectWithDuplicates) {
  std::string text = "{";
  for (int i = 0; i < 3000; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += "\"k5\":\"again\",\"k2999\":-1}";
  const Object o = ParseJson(text).AsObject();
  ASSERT_EQ(o.size(), 3000u);
  EXPECT_EQ(o.members()[5], (Object::Member{"k5", "again"}));
  EXPECT_EQ(o.members()[2999], (Object::Member{"k2999", -1}));
  EXPECT_EQ(*o.Find("k1234"), Value(1234));
}

TEST(JsonParse, Unicode) {
  EXPECT_EQ(ParseJson(R"("\uD83D\uDE00")"), Value("\xF0\x9F\x98\x80"));
  EXPECT_EQ(ParseJson(R"("\u00e9\u4E2D\u0000x")"),
            Value(std::string("\xC3\xA9\xE4\xB8\xAD\0x", 7)));
  EXPECT_EQ(ParseJson("\"\xF0\x9F\x98\x80 raw\""), Value("\xF0\x9F\x98\x80 raw"));
  EXPECT_EQ(ParseJson(R"({"\u00e9": "\/\b\f\n\r\t\"\\"})"),
            Value(Object{{"\xC3\xA9", "/\b\f\n\r\t\"\\"}}));
  EXPECT_THROW(ParseJson(R"(["\uD800"])"), Error);       // lone high surrogate
  EXPECT_THROW(ParseJson(R"(["\uDE00x"])"), Error);      // lone low surrogate
  EXPECT_THROW(ParseJson("[\"\xC3\x28\"]"), Error);      // invalid UTF-8
  EXPECT_THROW(ParseJson("[\"\xED\xA0\x80\"]"), Error);  // UTF-8 encoded surrogate
}

TEST(JsonParse, ValuesRoundTrip) {
  const Value values[] = {
      Value(),
      Value(List{1, -2, 0.5, "s", true, Value(), List{List{List{}}}, Object{{"a", Object{}}}}),
      Value(Object{{"\xF0\x9F\x98\x80", "\xE2\x82\xAC"}, {"", ""}, {"x", kInt64Min}}),
      Value(std::string("ctl\x01\x1f\"\\", 8)),
  };
  for (const Value& v : values) EXPECT_EQ(ParseJson(ToJson(v)), v) << ToJson(v);
}

// Empty containers are finished without a stack frame; they must still nest and sit anywhere.
TEST(JsonParse, EmptyContainersAtEveryPlace) {
  EXPECT_EQ(ParseJson("[]"), Value(List{}));
  EXPECT_EQ(ParseJson(" { } "), Value(Object{}));
  EXPECT_EQ(ParseJson(R"([[],{},[[]],{"a":{}},[1,[]],{"b":[],"c":2}])"),
            Value(List{List{}, Object{}, List{List{}}, Object{{"a", Object{}}}, List{1, List{}},
                       Object{{"b", List{}}, {"c", 2}}}));
  EXPECT_THROW(ParseJson("[{}"), Error);
  EXPECT_THROW(ParseJson("{\"a\":[]]"), Error);
}

// Documents up to 1 KiB take a DOM path; longer ones (here: the same text with trailing spaces)
// take the On-Demand path. Both must give the same value, or both fail.
TEST(JsonParse, SmallAndLargeDocumentPathsAgree) {
  const std::string_view documents[] = {
      "0", "-0", "-0.0", "1.5", "2.5e-3", "1E+2", "1e308", "5e-324", "9223372036854775807",
      "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "123456789012345678901234", "0.95000000000000000000",
      "1000000000.000000001", "12345678901234567890.5", "true", "false", "null", R"("")",
      R"( "x" )", R"("a\"b\\c\/d\n\u00e9\ud83d\ude00")", R"(["t14","t16"])",
      R"([1,2.0,-3,true,null,"s",[],{}])", R"({"a":1,"b":[{"c":{}}],"a":3})",
      R"({"k":{"k":{"k":[[[1]]]}}})", R"({"big":18446744073709551616,"n":1})", "\"\xC3\xA9\"",
      // invalid
      "", " ", "[1,", R"({"a"})", "01", "1.", "tru", R"("\x")", "[1]x", "\xFF", "[\"\xC3\"]",
      "1e999", "{\"a\":1,}", "nan"};
  for (const std::string_view text : documents) {
    const std::string padded = std::string(text) + std::string(2000, ' ');
    std::optional<Value> small, large;
    try {
      small = ParseJson(text);
    } catch (const Error&) {
    }
    try {
      large = ParseJson(padded);
    } catch (const Error&) {
    }
    EXPECT_EQ(small.has_value(), large.has_value()) << text;
    if (small && large) {
      EXPECT_EQ(*small, *large) << text;
      EXPECT_EQ(small->kind(), large->kind()) << text;
    }
  }
  // A lone scalar may have whitespace around it (simdjson's root-scalar getters refuse it).
  EXPECT_EQ(ParseJson(" 5 \n"), Value(5));
  EXPECT_EQ(ParseJson(std::string("5") + std::string(2000, ' ')), Value(5));
  EXPECT_EQ(ParseJson(std::string("true") + std::string(2000, '\n')), Value(true));
  // A document of exactly 1 KiB (the DOM path) and one a byte longer agree too.
  std::string list = "[";
  while (list.size() < 1020) list += "12,";
  list += "1]";
  EXPECT_EQ(ParseJson(list), ParseJson(list + " "));
}

TEST(JsonParse, TrailingContentIsAnError) {
  for (std::string_view text : {"[1] x", "1 2", "\"x\"y", "{} {}", "[1]]", "null null", "1.5x",
                                "123456789012345678901234567890 1", "true false"}) {
    EXPECT_THROW(ParseJson(text), Error) << text;
  }
}

TEST(JsonParse, InvalidDocumentsAreErrors) {
  for (std::string_view text : {"",
                                " ",
                                "[",
                                "]",
                                "{",
                                "}",
                                "[1,]",
                                "[,1]",
                                "[1,,2]",
                                "{\"a\":1,}",
                                "{,}",
                                "{\"a\"}",
                                "{\"a\":}",
                                "{1:2}",
                                "{\"a\" 1}",
                                "[1 2]",
                                "[tru]",
                                "[nul]",
                                "[truex]",
                                "[True]",
                                "[01]",
                                "[1.]",
                                "[.5]",
                                "[-]",
                                "[+1]",
                                "[1e]",
                                "[0x10]",
                                "[NaN]",
                                "[Infinity]",
                                "[-Infinity]",
                                "['a']",
                                "[\"a\tb\"]",
                                "[\"a\nb\"]",
                                "[\"\\x\"]",
                                "[\"\\u12\"]",
                                "{\"a\":[1,2}",
                                "{\"a\":1]",
                                "[{]",
                                "[}",
                                "{]",
                                "[\"abc",
                                "\"abc",
                                "{\"a\":1 \"b\":2}",
                                "[1:2]",
                                "{\"a\"::1}",
                                "[1,2",
                                "{\"a\":[",
                                "\xEF\xBB\xBF[1]",
                                "[1]\xFF"}) {
    EXPECT_THROW(ParseJson(text), Error) << text;
  }
}

// ---- error positions ----

TEST(JsonErrors, LineAndColumnOfCommonMistakes) {
  // Missing comma: at the member that should have been preceded by one.
  EXPECT_EQ(ErrorPosition(R"({"a": 1 "b": 2})"), (Position{1, 9}));
  // Trailing commas: at the closing bracket.
  EXPECT_EQ(ErrorPosition("[1, 2,]"), (Position{1, 7}));
  EXPECT_EQ(ErrorPosition("{\n  \"a\": 1,\n}"), (Position{3, 1}));
  // Unterminated string: at its opening quote.
  EXPECT_EQ(ErrorPosition(R"({"a": "abc)"), (Position{1, 7}));
  EXPECT_EQ(ErrorPosition("{\n  \"a\": \"abc\n}"), (Position{2, 8}));
  // Bad literals.
  EXPECT_EQ(ErrorPosition("[true, nul]"), (Position{1, 8}));
  EXPECT_EQ(ErrorPosition("{\"ok\": True}"), (Position{1, 8}));
  // Truncated documents: at the end of the text.
  EXPECT_EQ(ErrorPosition(R"({"a": [1, 2)"), (Position{1, 12}));
  EXPECT_EQ(ErrorPosition("{\n  \"a\": {\n    \"b\": 1\n"), (Position{4, 1}));
  // Missing colon, single quotes, leading zeros.
  EXPECT_EQ(ErrorPosition(R"({"a" 1})"), (Position{1, 6}));
  EXPECT_EQ(ErrorPosition("{'a': 1}"), (Position{1, 2}));
  EXPECT_EQ(ErrorPosition("[1, 01]"), (Position{1, 5}));
  // Columns count characters, not bytes; CRLF line ends count once.
  EXPECT_EQ(ErrorPosition("{\n  \"\xC3\xA9\xF0\x9F\x98\x80\": 1,\n  \"b\" 2\n}"), (Position{3, 7}));
  EXPECT_EQ(ErrorPosition("{\"\xC3\xA9\": 1 2}"), (Position{1, 9}));
  EXPECT_EQ(ErrorPosition("[1,\r\n 2\r\n,]"), (Position{3, 2}));
  // Empty input, content after the document, bad escapes and control characters.
  EXPECT_EQ(ErrorPosition(""), (Position{1, 1}));
  EXPECT_EQ(ErrorPosition("  \n  "), (Position{2, 3}));
  EXPECT_EQ(ErrorPosition("[1]\n]"), (Position{2, 1}));
  EXPECT_EQ(ErrorPosition(R"(["a\x"])"), (Position{1, 4}));
  EXPECT_EQ(ErrorPosition("[\"a\tb\"]"), (Position{1, 4}));
}

TEST(JsonErrors, MessageSaysWhatIsWrong) {
  const std::string message = ErrorOf([] { ParseJson("[1, 2,]"); });
  EXPECT_EQ(message.rfind("invalid JSON at line 1, column 7: trailing comma", 0), 0u) << message;
  EXPECT_NE(message.find("simdjson"), std::string::npos) << message;
  EXPECT_NE(ErrorOf([] { ParseJson(R"({"a": "abc)"); }).find("unterminated string"),
            std::string::npos);
}

TEST(JsonErrors, DeepNestingIsAnErrorNotACrash) {
  const std::string deep(100000, '[');
  const std::string message = ErrorOf([&] { ParseJson(deep); });
  EXPECT_NE(message.find("line 1, column 1025: nesting deeper than 1024"), std::string::npos)
      << message;
  const std::string closed = std::string(5000, '[') + std::string(5000, ']');
  EXPECT_THROW(ParseJson(closed), Error);
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < 5000; ++i) s += "}";
    return s;
  }();
  EXPECT_THROW(ParseJson(objects), Error);
  EXPECT_THROW(RecordFromJson(objects), Error);
  // The limit itself is fine.
  const std::string limit = std::string(1024, '[') + std::string(1024, ']');
  EXPECT_EQ(ParseJson(limit).kind(), ValueKind::kList);
  const std::string over = std::string(1025, '[') + std::string(1025, ']');
  EXPECT_THROW(ParseJson(over), Error);
}

// simdjson's DOM parser validates fully: on random mutations of valid documents, ParseJson must
// accept exactly what it accepts and build the same values, and every error position must lie
// within the text.
Value FromDom(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      List list;
      for (simdjson::dom::element child : e.get_array()) list.push_back(FromDom(child));
      return list;
    }
    case simdjson::dom::element_type::OBJECT: {
      Object object;
      for (simdjson::dom::key_value_pair member : e.get_object()) {
        object.Set(std::string(member.key), FromDom(member.value));
      }
      return object;
    }
    case simdjson::dom::element_type::INT64:
      return Value(e.get_int64().value());
    case simdjson::dom::element_type::UINT64:
      return Value(static_cast<double>(e.get_uint64().value()));
    case simdjson::dom::element_type::DOUBLE:
      return Value(e.get_double().value());
    case simdjson::dom::element_type::STRING:
      return Value(e.get_string().value());
    case simdjson::dom::element_type::BOOL:
      return Value(e.get_bool().value());
    case simdjson::dom::element_type::NULL_VALUE:
      return Value();
  }
  return Value();
}

TEST(JsonErrors, AgreesWithSimdjsonDomOnMutatedDocuments) {
  const std::string seeds[] = {
      R"({"name": "Ada", "tags": ["a", "b"], "n": -12.5e3, "ok": true, "none": null})",
      R"([1, {"a": [2, 3.25, {"b": "\u00e9\n"}]}, false, "x\"y", -0])",
      "{\n  \"k\": [\n    1,\n    2\n  ],\n  \"s\": \"\xC3\xA9\xF0\x9F\x98\x80\"\n}",
      R"([[[[]]], {}, {"": ""}, 0.5, 10, 1e-3])",
  };
  const std::string alphabet = "{}[],:\"\\ \n0123456789-+.eEtrufalsn\xC3\xA9\x80";
  std::mt19937 rng(7);
  simdjson::dom::parser dom;
  int accepted = 0;
  int rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text = seeds[round % 4];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < edits && !text.empty(); ++i) {
      const std::size_t pos = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0:
          text.erase(pos, 1);
          break;
        case 1:
          text.insert(pos, 1, c);
          break;
        case 2:
          text[pos] = c;
          break;
        case 3:
          text.resize(pos);
          break;
      }
    }
    simdjson::dom::element element;
    const bool dom_ok = !dom.parse(text).get(element);
    try {
      const Value value = ParseJson(text);
      EXPECT_TRUE(dom_ok) << "accepted what simdjson DOM rejects: " << text;
      if (dom_ok) {
        EXPECT_EQ(value, FromDom(element)) << text;
      }
      ++accepted;
    } catch (const Error& e) {
      EXPECT_FALSE(dom_ok) << "rejected what simdjson DOM accepts: " << text << "\n" << e.what();
      const Position p = ErrorPosition(text);
      const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
      EXPECT_GE(p.line, 1);
      EXPECT_LE(p.line, lines) << text;
      EXPECT_GE(p.column, 1);
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 1000);
}

// ---- records ----

TEST(JsonRecord, StructuredFormIsExact) {
  Record r;
  r.set_id("a");
  r.Set("age", 30);
  EXPECT_EQ(RecordToJson(r),
            R"({"id":"a","fields":{"age":{"name":"age","value":30,"type":"integer",)"
            R"("metadata":{}}},"metadata":{}})");
  r.set_version(3);
  r.clear_id();
  r.metadata() = Object{{"m", 1}};
  EXPECT_EQ(RecordToJson(r),
            R"({"fields":{"age":{"name":"age","value":30,"type":"integer","metadata":{}}},)"
            R"("metadata":{"m":1},"_version":3})");
  EXPECT_EQ(RecordToJson(Record()), R"({"fields":{},"metadata":{}})");
}

TEST(JsonRecord, FlatFormIsExact) {
  Record r;
  r.set_id("a");
  r.Set("name", "Ada");
  r.Set("when", Ts("2024-05-01T10:00:00+02:00"));
  r.Set("score", 1.0);
  EXPECT_EQ(RecordToJson(r, RecordFormat::kFlat),
            R"({"name":"Ada","when":"2024-05-01T08:00:00Z","score":1.0,"_id":"a",)"
            R"("_types":{"when":"datetime"}})");
  r.clear_id();
  r.Remove("when");
  r.set_version(2);
  EXPECT_EQ(RecordToJson(r, RecordFormat::kFlat), R"({"name":"Ada","score":1.0,"_version":2})");
  EXPECT_EQ(RecordToJson(Record(), RecordFormat::kFlat), "{}");
}

TEST(JsonRecord, EveryKindRoundTripsThroughTheStructuredForm) {
  const Record r = EveryKindRecord();
  const std::string text = RecordToJson(r);
  const Record back = RecordFromJson(text);
  EXPECT_EQ(back.id(), r.id());
  EXPECT_EQ(back.version(), 7u);
  EXPECT_EQ(back.metadata(), r.metadata());
  ExpectSameFields(back, r);
  EXPECT_EQ(back, r);
  // Timestamps are written in UTC with microseconds.
  EXPECT_NE(text.find("\"2024-05-01T08:00:00.123456Z\""), std::string::npos);
  EXPECT_NE(text.find("\"1969-07-20T20:17:40Z\""), std::string::npos);
  EXPECT_NE(text.find("\"1900-01-01T00:00:00.000001Z\""), std::string::npos);
  // So does the Value form.
  EXPECT_EQ(RecordFromJsonValue(ParseJson(text)), r);
}

TEST(JsonRecord, EveryKindRoundTripsThroughTheFlatForm) {
  const Record r = EveryKindRecord();
  const std::string text = RecordToJson(r, RecordFormat::kFlat);
  const Record back = RecordFromJson(text);
  EXPECT_EQ(back.id(), r.id());
  EXPECT_EQ(back.version(), 7u);
  // The flat form has no metadata.
  EXPECT_TRUE(back.metadata().empty());
  ExpectSameFields(back, WithoutFieldMetadata(r));
  EXPECT_EQ(RecordFromJsonValue(ParseJson(text)), back);
  // Only the fields whose plain JSON reads back as another type are tagged.
  const Value types = *ParseJson(text).AsObject().Find("_types");
  EXPECT_EQ(ToJson(types), ToJson(Object{{"bytes", "binary"},
                                         {"no_bytes", "binary"},
                                         {"utc", "datetime"},
                                         {"moon", "datetime"},
                                         {"old", "datetime"},
                                         {"embedding", "vector"},
                                         {"no_embedding", "vector"},
                                         {"sparse", "sparse_vector"}}));
  // Readers that ignore "_types" see plain JSON values.
  Object plain = ParseJson(text).AsObject();
  plain.Erase("_types");
  const Record untyped = RecordFromJsonValue(Value(plain));
  EXPECT_EQ(untyped.FindField("utc")->value, Value("2024-05-01T08:00:00.123456Z"));
  EXPECT_EQ(untyped.FindField("utc")->type, FieldType::kString);
  EXPECT_EQ(untyped.FindField("bytes")->value, Value(Base64Encode(AllBytes())));
  EXPECT_EQ(untyped.FindField("embedding")->type, FieldType::kJson);
  EXPECT_EQ(untyped.FindField("embedding")->value.AsList().at(1), Value(-1.5));
}

TEST(JsonRecord, VectorsKeepFloat32Values) {
  std::mt19937 rng(3);
  Vector v;
  for (int i = 0; i < 500; ++i) {
    float f;
    const std::uint32_t bits = rng();
    std::memcpy(&f, &bits, sizeof f);
    if (std::isfinite(f)) v.push_back(f);
  }
  Record r;
  r.Set("v", v);
  for (RecordFormat format : {RecordFormat::kStructured, RecordFormat::kFlat}) {
    const Record back = RecordFromJson(RecordToJson(r, format));
    ASSERT_EQ(back.FindField("v")->value.kind(), ValueKind::kVector);
    const Vector& got = back.FindField("v")->value.AsVector();
    ASSERT_EQ(got.size(), v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(std::memcmp(&got[i], &v[i], sizeof(float)), 0) << v[i];
    }
  }
}

TEST(JsonRecord, FieldTypesThatDifferFromTheDetectedOneSurviveTheFlatForm) {
  Record r;
  r.Set(Field("short_text", "hi", FieldType::kText));
  r.Set(Field("null_int", Value(), FieldType::kInteger));
  r.Set(Field("doc", "not parsed", FieldType::kJson));
  r.Set("fields", Object{{"x", Object{{"value", 1}}}});  // would pass for the structured form
  const std::string text = RecordToJson(r, RecordFormat::kFlat);
  EXPECT_EQ(RecordFromJson(text), r) << text;
}

TEST(JsonRecord, ReadsTheReferenceStructuredForm) {
  const Record r = RecordFromJson(
      R"({"id": "a", "fields": {"age": {"name": "age", "value": 30, "type": "integer",)"
      R"( "metadata": {}}}, "metadata": {}})");
  EXPECT_EQ(r.id(), std::optional<std::string>("a"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.fields()[0], Field("age", 30, FieldType::kInteger));
  EXPECT_EQ(r.version(), 0u);
}

TEST(JsonRecord, ReadsUpperCaseTypeNames) {
  const Record r = RecordFromJson(R"({
    "id": "b",
    "fields": {
      "n": {"name": "n", "value": 30, "type": "INTEGER", "metadata": {"unit": "s"}},
      "f": {"name": "f", "value": 3, "type": "FLOAT", "metadata": {}},
      "t": {"name": "t", "value": "2024-05-01T10:00:00+02:00", "type": "DATETIME", "metadata": {}},
      "b": {"name": "b", "value": "aGVsbG8=", "type": "BINARY", "metadata": {}},
      "v": {"name": "v", "value": [1, 2.5], "type": "VECTOR", "metadata": {}},
      "j": {"name": "j", "value": {"a": [1]}, "type": "JSON", "metadata": {}},
      "s": {"name": "s", "value": "x", "type": "TEXT", "metadata": {}},
      "ok": {"name": "ok", "value": true, "type": "BOOLEAN", "metadata": {}},
      "none": {"name": "none", "value": null, "type": "STRING", "metadata": {}},
      "sp": {"name": "sp", "value": {"1": 0.5}, "type": "SPARSE_VECTOR", "metadata": {}}
    },
    "metadata": {"id": "b", "created_by": "python"}
  })");
  EXPECT_EQ(r.id(), std::optional<std::string>("b"));
  ExpectSameFields(r, Record{}
                          .Set(Field("n", 30, FieldType::kInteger, Object{{"unit", "s"}}))
                          .Set(Field("f", 3.0, FieldType::kFloat))
                          .Set(Field("t", Ts("2024-05-01T08:00:00Z"), FieldType::kDatetime))
                          .Set(Field("b", Bytes{"hello"}, FieldType::kBinary))
                          .Set(Field("v", Vector{1.0f, 2.5f}, FieldType::kVector))
                          .Set(Field("j", Object{{"a", List{1}}}, FieldType::kJson))
                          .Set(Field("s", "x", FieldType::kText))
                          .Set(Field("ok", true, FieldType::kBoolean))
                          .Set(Field("none", Value(), FieldType::kString))
                          .Set(Field("sp", Object{{"1", 0.5}}, FieldType::kSparseVector)));
  EXPECT_EQ(r.metadata(), (Object{{"id", "b"}, {"created_by", "python"}}));
}

TEST(JsonRecord, StructuredValuesMustFitTheirType) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"integer", R"("abc")"}, {"integer", "1.5"},      {"datetime", R"("yesterday")"},
      {"binary", R"("!!")"},   {"vector", R"(["a"])"},  {"boolean", R"("maybe")"},
      {"color", "1"},          {"sparse_vector", "[1]"}};
  for (const auto& [type, value] : cases) {
    const std::string text = R"({"fields": {"f1": {"name": "f1", "value": )" + std::string(value) +
                             R"(, "type": ")" + std::string(type) + R"("}}})";
    const std::string message = ErrorOf([&] { RecordFromJson(text); });
    EXPECT_NE(message.find("field \"f1\""), std::string::npos) << text << "\n" << message;
  }
  // Values that convert are accepted.
  const Record r = RecordFromJson(
      R"({"fields": {"i": {"value": "42", "type": "integer"}, "f": {"value": 2, "type": "float"}}})");
  EXPECT_EQ(r.FindField("i")->value, Value(42));
  EXPECT_EQ(r.FindField("f")->value, Value(2.0));
}

TEST(JsonRecord, FlatIdsVersionsAndTypes) {
  Record r = RecordFromJson(R"({"name": "x", "id": 5})");
  EXPECT_EQ(r.id(), std::optional<std::string>("5"));
  EXPECT_EQ(r.FindField("id")->value, Value(5));  // "id" stays a field
  r = RecordFromJson(R"({"_id": "k", "id": "other", "_version": 4})");
  EXPECT_EQ(r.id(), std::optional<std::string>("k"));
  EXPECT_EQ(r.version(), 4u);
  ExpectSameFields(r, Record{{"id", "other"}});
  r = RecordFromJson(
      R"({"when": "2024-01-02", "raw": "2024-01-02", "_types": {"when": "DATETIME"}})");
  EXPECT_EQ(r.FindField("when")->value, Value(Ts("2024-01-02T00:00:00Z")));
  EXPECT_EQ(r.FindField("raw")->value, Value("2024-01-02"));
  EXPECT_EQ(r.FindField("raw")->type, FieldType::kString);
  // Metadata as the reference writes it in its flat form.
  r = RecordFromJson(R"({"a": 1, "_metadata": {"m": true}})");
  EXPECT_EQ(r.metadata(), (Object{{"m", true}}));
  ExpectSameFields(r, Record{{"a", 1}});

  EXPECT_NE(ErrorOf([] {
              RecordFromJson(R"({"v": "x", "_types": {"v": "vector"}})");
            }).find("field \"v\""),
            std::string::npos);
  EXPECT_THROW(RecordFromJson(R"({"a": 1, "_types": [1]})"), Error);
  EXPECT_THROW(RecordFromJson(R"({"a": 1, "_version": -1})"), Error);
  EXPECT_THROW(RecordFromJson(R"({"a": 1, "_version": "2"})"), Error);
  EXPECT_THROW(RecordFromJson(R"({"a": 1, "_id": [1]})"), Error);
}

TEST(JsonRecord, TellsTheFormsApart) {
  // "fields" whose members are not all field objects: a flat record with a json field "fields".
  Record r = RecordFromJson(R"({"fields": {"a": 1}, "b": 2})");
  ExpectSameFields(r, Record{{"fields", Object{{"a", 1}}}, {"b", 2}});
  r = RecordFromJson(R"({"fields": {"a": {"value": 1}, "b": 2}})");
  ExpectSameFields(r, Record{{"fields", Object{{"a", Object{{"value", 1}}}, {"b", 2}}}});
  r = RecordFromJson(R"({"fields": [1]})");
  ExpectSameFields(r, Record{{"fields", List{1}}});
  // An empty "fields" object is the structured form of an empty record.
  r = RecordFromJson(R"({"fields": {}, "id": "e"})");
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.id(), std::optional<std::string>("e"));
  // A field object without a type gets the detected type.
  r = RecordFromJson(R"({"fields": {"a": {"value": [1]}}})");
  EXPECT_EQ(r.fields()[0], Field("a", List{1}, FieldType::kJson));
}

TEST(JsonRecord, TopLevelMustBeAnObject) {
  for (std::string_view text : {"[1]", "42", "\"x\"", "null"}) {
    EXPECT_NE(ErrorOf([&] { RecordFromJson(text); }).find("must be an object"), std::string::npos);
    EXPECT_THROW(RecordFromJsonValue(ParseJson(text)), Error);
  }
  EXPECT_NE(ErrorOf([] { RecordFromJson("[1,"); }).find("invalid JSON at line 1, column 4"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              RecordFromJson("{\"a\": 1,\n\"b\": }");
            }).find("invalid JSON at line 2, column 6"),
            std::string::npos);
}

TEST(JsonRecord, UnicodeAndEscapes) {
  const Record r = RecordFromJson(R"({"s": "\uD83D\uDE00 \u00e9", "\u00e9": ""})");
  ExpectSameFields(r, Record{{"s", "\xF0\x9F\x98\x80 \xC3\xA9"}, {"\xC3\xA9", ""}});
}

TEST(JsonRecord, NonFiniteNumbersAreRejectedNamingTheField) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    Record record;
    std::string_view expected;
  };
  const Case cases[] = {
      {Record{{"ok", 1}, {"score", nan}}, "field \"score\""},
      {Record{{"scores", List{1.0, inf}}}, "field \"scores.1\""},
      {Record{{"embedding", Vector{0, 1, -static_cast<float>(inf)}}}, "field \"embedding.2\""},
      {Record{{"a", Object{{"b", List{Object{{"c", nan}}}}}}}, "field \"a.b.0.c\""},
  };
  for (const Case& c : cases) {
    for (RecordFormat format : {RecordFormat::kStructured, RecordFormat::kFlat}) {
      const std::string message = ErrorOf([&] { RecordToJson(c.record, format); });
      EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    }
    const std::string message = ErrorOf([&] { CheckFinite(c.record); });
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
  EXPECT_NE(ErrorOf([&] { CheckFinite(Record{{"x", nan}}); }).find("NaN"), std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              CheckFinite(Record{{"x", -inf}});
            }).find("-infinity"),
            std::string::npos);

  Record in_metadata{{"a", 1}};
  in_metadata.metadata() = Object{{"m", List{inf}}};
  EXPECT_NE(ErrorOf([&] { CheckFinite(in_metadata); }).find("metadata \"m.0\" of the record"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { RecordToJson(in_metadata); }).find("metadata \"m.0\" of the record"),
            std::string::npos);
  Record field_metadata;
  field_metadata.Set(Field("f", 1, FieldType::kInteger, Object{{"w", nan}}));
  EXPECT_NE(ErrorOf([&] { CheckFinite(field_metadata); }).find("of field \"f\""),
            std::string::npos);

  EXPECT_NO_THROW(CheckFinite(EveryKindRecord()));
}

TEST(JsonRecord, FailedAppendLeavesTheBufferAsItWas) {
  std::string out = "{\"first\":1}\n";
  AppendRecordJson(out, Record{{"a", 1}}, RecordFormat::kFlat);
  out += '\n';
  const std::string before = out;
  EXPECT_THROW(AppendRecordJson(out, Record{{"a", 1}, {"b", std::string("\xFF")}}), Error);
  EXPECT_EQ(out, before);
  EXPECT_EQ(out, "{\"first\":1}\n{\"a\":1}\n");
}

TEST(JsonRecord, InvalidUtf8NamesTheField) {
  const std::string message = ErrorOf([] { RecordToJson(Record{{"name", std::string("\xC3")}}); });
  EXPECT_NE(message.find("field \"name\""), std::string::npos) << message;
  EXPECT_NE(message.find("invalid UTF-8"), std::string::npos) << message;
}

// A partial decode gives what the whole decode gives, projected onto the selection, whatever the
// form of the document; and the same error for a selected field that is wrong.
TEST(JsonRecord, SelectedFieldsAreThoseOfTheWholeRecord) {
  Record structured{{"age", 30}, {"name", "Ada"}, {"address", Object{{"city", Value("Oslo")}}}};
  structured.set_id("r1");
  structured.set_version(3);
  structured.metadata().Set("source", Value("test"));
  Record with_types = structured;
  with_types.mutable_fields().emplace_back("when", Value(*Timestamp::Parse("2024-01-02T03:04:05Z")),
                                           FieldType::kDatetime);
  const std::vector<std::string> documents = {
      RecordToJson(structured),
      RecordToJson(structured, RecordFormat::kFlat),
      RecordToJson(with_types),
      RecordToJson(with_types, RecordFormat::kFlat),
      // Flat, with a data field "fields" that is not a set of field objects.
      R"({"_id":"r2","age":41,"fields":{"age":{"value":1},"other":{"x":2}}})",
      // Flat, with "fields" holding field objects but marked flat by "_types".
      R"({"_id":"r3","fields":{"age":{"value":5}},"age":7,"_types":{"age":"integer"}})",
      // Structured, with keys in another order and "_id" instead of "id".
      R"({"metadata":{},"fields":{"age":{"value":9,"type":"integer"}},"_id":"r4"})",
      // A flat line from another tool.
      R"({"age":12,"name":"x","nested":{"deep":[1,2,3]}})",
      // Members of "fields" that start like the field objects written here but are not one (a
      // key "valuex", a "name" that is not a string), or are one in a form read the long way
      // (an escaped name, "value" after "type", spaces): the text shortcut must not be fooled.
      R"({"_id":"r5","fields":{"age":{"value":2},"other":{"name":"o","valuex":3}}})",
      R"({"_id":"r6","fields":{"age":{"value":2},"other":{"name":5,"value":3}}})",
      R"({"_id":"r7","fields":{"age":{"value":2},"other":{"name":"o\"q","value":3}}})",
      R"({"_id":"r8","fields":{"age":{"value":2},"other":{"type":"integer","value":3}}})",
      R"({"_id":"r9","fields":{"age":{"value":2},"other":{ "name" : "o" , "value" : 3 }}})",
      R"({"_id":"r11","fields":{"age":{"value":2},"other":{"name":"o",  "x":{"value":1}}}})",
  };
  const std::vector<std::vector<std::string>> selections = {
      {"age"}, {"address.city"}, {"when"}, {"fields"}, {"fields.age"}, {"name", "age"}, {"none"}};
  for (const std::string& text : documents) {
    const Record whole = RecordFromJson(text);
    for (const auto& paths : selections) {
      const Record partial = RecordFromJson(text, FieldSelection(paths));
      EXPECT_EQ(partial.id(), whole.id()) << text;
      EXPECT_EQ(partial.version(), whole.version()) << text;
      EXPECT_EQ(partial.metadata(), whole.metadata()) << text;
      for (const std::string& path : paths) {
        const Value* expected = whole.Get(path);
        const Value* got = partial.Get(path);
        ASSERT_EQ(got == nullptr, expected == nullptr) << text << " " << path;
        if (expected) {
          EXPECT_EQ(*got, *expected) << text << " " << path;
        }
        const Field* expected_field = whole.FindField(path);
        if (expected_field) {
          EXPECT_EQ(*partial.FindField(path), *expected_field) << text;
        }
      }
    }
  }
  // Only the selection is built: a field that is not selected is absent from a structured record.
  EXPECT_EQ(RecordFromJson(RecordToJson(structured), FieldSelection({"age"})).fields().size(), 1u);
  // A selected value that does not fit its type is the same error; an unselected one is skipped.
  const std::string bad =
      R"({"id":"b","fields":{"age":{"value":"x","type":"integer"},"ok":{"value":1}}})";
  EXPECT_THROW(RecordFromJson(bad), Error);
  EXPECT_THROW(RecordFromJson(bad, FieldSelection({"age"})), Error);
  EXPECT_EQ(*RecordFromJson(bad, FieldSelection({"ok"})).Get("ok"), Value(1));
}

}  // namespace
}  // namespace dkdata
