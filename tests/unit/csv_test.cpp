// Tests of the CSV/TSV record format (docs/csv-format.md): every rule of the format has a test
// here, for writing, reading or both.

#include "formats/csv.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"
#include "formats/compression.hpp"

namespace dkdata {

// Failure messages show records as JSON (internal linkage: other tests may print them too).
[[maybe_unused]] static void PrintTo(const Record& record, std::ostream* os) {
  *os << RecordToJson(record);
}

namespace internal {
namespace {

const CsvDialect kCsv = CsvDialectFor("csv");
const CsvDialect kTsv = CsvDialectFor("tsv");

CsvOptions OptionsFor(const CsvDialect& dialect) {
  CsvOptions options;
  options.dialect = dialect;
  return options;
}

std::string Write(const std::vector<Record>& records, const CsvDialect& dialect = kCsv) {
  std::vector<const Record*> pointers;
  for (const Record& r : records) pointers.push_back(&r);
  std::string out;
  WriteCsvRecords(*OutputStream::ToString(&out, Compression::kNone), OptionsFor(dialect), pointers);
  return out;
}

struct ReadResult {
  std::vector<Record> records;
  std::vector<std::size_t> lines;
};

ReadResult ReadWithLines(InputStream& in, const CsvOptions& options) {
  ReadResult result;
  ReadCsvRecords(in, options, "test.csv", [&](Record& record, std::size_t line) {
    result.records.push_back(std::move(record));
    result.lines.push_back(line);
  });
  return result;
}

std::vector<Record> Read(std::string text, const CsvOptions& options = {}) {
  auto in = InputStream::FromString(std::move(text), Compression::kNone, "test.csv");
  return ReadWithLines(*in, options).records;
}

std::vector<Record> Read(std::string text, const CsvDialect& dialect) {
  return Read(std::move(text), OptionsFor(dialect));
}

// The message of the kInvalidArgument Error that reading text throws.
std::string ReadError(std::string text, const CsvOptions& options = {}) {
  try {
    Read(std::move(text), options);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string WriteError(const std::vector<Record>& records, const CsvDialect& dialect = kCsv) {
  try {
    Write(records, dialect);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

Record WithId(std::string id, std::initializer_list<std::pair<std::string, Value>> fields) {
  Record record(fields);
  record.set_id(id);
  return record;
}

Timestamp Ts(std::string_view iso) {
  return Timestamp::Parse(iso).value_or(Timestamp{});
}

std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

// A record with a field of every type.
Record EveryType() {
  Record record;
  record.set_id("r1");
  record.Set(Field("s", "Ada Lovelace"));
  record.Set(Field("i", std::numeric_limits<std::int64_t>::min()));
  record.Set(Field("f", 0.1));
  record.Set(Field("b", true));
  record.Set(Field("d", Ts("2024-05-01T08:00:00.123456Z")));
  record.Set(Field("j", Object{{"a", 1}, {"b", List{Value("x"), Value(nullptr), Value(2.5)}}}));
  record.Set(Field("bin", Bytes{AllBytes()}));
  record.Set(Field("t", std::string(1500, 'x')));
  record.Set(Field("v", Vector{0.1f, -2.5f, 3e-8f}));
  record.Set(Field("sv", Object{{"3", 0.5}, {"17", 1.25}}, FieldType::kSparseVector));
  return record;
}

void ExpectRoundTrip(const std::vector<Record>& records, const CsvDialect& dialect) {
  const std::string text = Write(records, dialect);
  const std::vector<Record> back = Read(text, dialect);
  ASSERT_EQ(back.size(), records.size()) << text;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(back[i], records[i]) << "record " << i << " of\n" << text;
  }
}

class CsvDialectTest : public ::testing::TestWithParam<bool> {
 protected:
  const CsvDialect& dialect() const { return GetParam() ? kTsv : kCsv; }
};

std::string DialectName(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "tsv" : "csv";
}

// ---- The header ----

TEST(CsvWriteTest, HeaderHasIdThenTypedFieldsInFirstSeenOrder) {
  const std::string text = Write({EveryType()});
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "__id__,s:string,i:integer,f:float,b:boolean,d:datetime,j:json,bin:binary,t:text,"
            "v:vector,sv:sparse_vector");

  const std::string two =
      Write({WithId("1", {{"b", 1}, {"a", 2}}), WithId("2", {{"c", 3}, {"a", 4}})});
  EXPECT_EQ(two, "__id__,b:integer,a:integer,c:integer\n1,1,2,\n2,,4,3\n");
}

TEST(CsvWriteTest, VersionAndMetadataColumnsOnlyWhenNeeded) {
  Record plain = WithId("1", {{"a", 1}});
  EXPECT_EQ(Write({plain}), "__id__,a:integer\n1,1\n");

  Record versioned = WithId("2", {{"a", 2}});
  versioned.set_version(7);
  EXPECT_EQ(Write({plain, versioned}), "__id__,__version__,a:integer\n1,0,1\n2,7,2\n");

  Record with_metadata = WithId("3", {{"a", 3}});
  with_metadata.metadata().Set("source", "import");
  with_metadata.mutable_fields()[0].metadata.Set("unit", "cm");
  EXPECT_EQ(Write({plain, with_metadata}),
            "__id__,a:integer,__metadata__\n1,1,\n"
            "3,3,\"{\"\"record\"\":{\"\"source\"\":\"\"import\"\"},\"\"fields\"\":{\"\"a\"\":{"
            "\"\"unit\"\":\"\"cm\"\"}}}\"\n");
}

TEST(CsvWriteTest, NoRecordsIsJustTheIdHeader) {
  EXPECT_EQ(Write({}), "__id__\n");
  EXPECT_TRUE(Read("__id__\n").empty());
  EXPECT_TRUE(Read("").empty());
}

TEST(CsvReadTest, OnlyAKnownTypeNameIsATypeSuffix) {
  Record record = WithId("1", {{"a:b", 5}, {"time:", "noon"}, {"__id__", "data"}});
  const std::string text = Write({record});
  EXPECT_EQ(text.substr(0, text.find('\n')), "__id__,a:b:integer,time::string,__id__:string");
  ExpectRoundTrip({record}, kCsv);

  const std::vector<Record> plain = Read("time:UTC,n:INTEGER,x:\n10:00,5,7\n");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].Get("time:UTC")->AsString(), "10:00");
  EXPECT_EQ(*plain[0].Get("n"), Value(5));
  EXPECT_EQ(plain[0].FindField("n")->type, FieldType::kInteger);
  EXPECT_EQ(*plain[0].Get("x:"), Value(7));
}

TEST(CsvReadTest, DuplicateColumnsAreAnError) {
  EXPECT_NE(
      ReadError("a,b,a:integer\n1,2,3\n").find("test.csv:1: the header names column 'a' twice"),
      std::string::npos);
}

// ---- Values: every type, the three states ----

TEST_P(CsvDialectTest, EveryFieldTypeRoundTrips) {
  Record other = EveryType();
  other.set_id("r2");
  other.Set(Field("s", ""));
  other.Set(Field("i", std::numeric_limits<std::int64_t>::max()));
  other.Set(Field("f", -1e300));
  other.Set(Field("b", false));
  other.Set(Field("d", Ts("1969-12-31T23:59:59Z")));
  other.Set(Field("j", List{}));
  other.Set(Field("bin", Bytes{""}));
  other.Set(Field("v", Vector{}));
  ExpectRoundTrip({EveryType(), other}, dialect());
}

TEST_P(CsvDialectTest, AbsentNullEmptyAndTheStringNullStayApart) {
  std::vector<Record> records = {
      WithId("1", {{"a", "x"}, {"n", 1}}),
      WithId("2", {{"a", nullptr}, {"n", nullptr}}),
      WithId("3", {{"a", ""}}),
      WithId("4", {{"a", "null"}}),
      WithId("5", {}),
  };
  records[1].mutable_fields()[1].type = FieldType::kInteger;  // a null takes its column's type
  ExpectRoundTrip(records, dialect());
}

TEST(CsvWriteTest, ThreeStatesInCsvText) {
  const std::string text =
      Write({WithId("1", {{"a", "x"}}), WithId("2", {{"a", nullptr}}), WithId("3", {{"a", ""}}),
             WithId("4", {{"a", "null"}}), WithId("5", {})});
  EXPECT_EQ(text, "__id__,a:string\n1,x\n2,null\n3,\"\"\n4,\"null\"\n5,\n");
}

TEST(CsvWriteTest, ThreeStatesInTsvText) {
  const std::string text =
      Write({WithId("1", {{"a", "x"}}), WithId("2", {{"a", nullptr}}), WithId("3", {{"a", ""}}),
             WithId("4", {{"a", "null"}}), WithId("5", {})},
            kTsv);
  EXPECT_EQ(text, "__id__\ta:string\n1\tx\n2\t\\N\n3\t\\E\n4\tnull\n5\t\n");
}

TEST(CsvWriteTest, ValuesAreWrittenAsTheFormatSays) {
  Record record;
  record.set_id("x");
  record.Set(Field("i", -42));
  record.Set(Field("f", 1.0));
  record.Set(Field("g", 1e300));
  record.Set(Field("b", false));
  record.Set(Field("d", Ts("2024-05-01T08:00:00Z")));
  record.Set(Field("bin", Bytes{"hi"}));
  record.Set(Field("j", Object{{"a", List{Value(1), Value("q")}}}));
  record.Set(Field("v", Vector{0.5f, 1.0f}));
  EXPECT_EQ(Write({record}),
            "__id__,i:integer,f:float,g:float,b:boolean,d:datetime,bin:binary,j:json,v:vector\n"
            "x,-42,1.0,1e+300,false,2024-05-01T08:00:00Z,aGk=,\"{\"\"a\"\":[1,\"\"q\"\"]}\","
            "\"[0.5,1]\"\n");
}

TEST_P(CsvDialectTest, FloatsRoundTripExactly) {
  std::mt19937_64 rng(42);
  std::vector<Record> records;
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    records.push_back(WithId(std::to_string(i), {{"f", d}, {"small", 1.0 / (i + 1)}}));
  }
  records.push_back(WithId("edge", {{"f", std::numeric_limits<double>::denorm_min()},
                                    {"small", std::numeric_limits<double>::max()}}));
  ExpectRoundTrip(records, dialect());
}

TEST_P(CsvDialectTest, RecordsWithoutIdsOrFields) {
  Record no_id({{"a", 1}});
  Record empty_id = WithId("", {{"a", 2}});
  ExpectRoundTrip({no_id, empty_id}, dialect());
  // With no other column, a record without an id still writes a row (null in __id__).
  ExpectRoundTrip({Record(), WithId("k", {}), Record()}, dialect());
}

TEST_P(CsvDialectTest, MixedTypesMakeAJsonColumnThatRoundTrips) {
  const std::vector<Record> records = {
      WithId("1", {{"v", 1}}),      WithId("2", {{"v", "x"}}),
      WithId("3", {{"v", 2.5}}),    WithId("4", {{"v", List{Value(1), Value(2)}}}),
      WithId("5", {{"v", true}}),   WithId("6", {{"v", nullptr}}),
      WithId("7", {{"v", "null"}}),
  };
  std::vector<Record> expected = records;
  expected[5].mutable_fields()[0].type = FieldType::kJson;  // a null takes its column's type
  const std::string text = Write(records, dialect());
  const std::vector<Record> back = Read(text, dialect());
  EXPECT_EQ(back, expected) << text;
  if (!GetParam()) {
    EXPECT_EQ(text,
              "__id__,v:json\n1,1\n2,\"\"\"x\"\"\"\n3,2.5\n4,\"[1,2]\"\n5,true\n6,null\n"
              "7,\"\"\"null\"\"\"\n");
  }
}

TEST_P(CsvDialectTest, TypesJsonCannotShowAreTaggedInMetadata) {
  // datetime, binary and vector values in a json column, a json field holding a scalar, a text
  // field among strings: each field's type is kept by a "types" entry in __metadata__.
  const std::vector<Record> records = {
      WithId("1", {{"v", Ts("2024-01-02T03:04:05Z")}, {"s", "short"}}),
      WithId("2", {{"v", Bytes{"\x01\x02"}}, {"s", std::string(2000, 'y')}}),
      WithId("3", {{"v", Vector{1.5f}}, {"s", "again"}}),
      WithId("4", {{"v", 3}}),
  };
  std::vector<Record> with_json = records;
  with_json.push_back(Record());
  with_json.back().set_id("5");
  with_json.back().Set(Field("v", 7, FieldType::kJson));
  with_json.back().Set(Field("s", "short text", FieldType::kText));
  const std::string text = Write(with_json, dialect());
  EXPECT_NE(text.find("v:json"), std::string::npos) << text;
  EXPECT_NE(text.find("s:string"), std::string::npos) << text;
  EXPECT_NE(text.find("__metadata__"), std::string::npos) << text;
  if (!GetParam()) {
    EXPECT_NE(text.find("\"\"types\"\":{\"\"v\"\":\"\"datetime\"\"}"), std::string::npos) << text;
  }
  ExpectRoundTrip(with_json, dialect());
}

TEST_P(CsvDialectTest, MetadataAndVersionsRoundTrip) {
  Record a = WithId("a", {{"x", 1}, {"y", "two"}});
  a.set_version(3);
  a.metadata().Set("owner", "ops");
  a.metadata().Set("tags", List{Value("p"), Value("q")});
  a.mutable_fields()[1].metadata.Set("lang", "en");
  Record b = WithId("b", {{"x", 2}});
  Record c = WithId("c", {{"y", "three"}});
  c.set_version(1);
  c.mutable_fields()[0].metadata.Set("n", 1.5);
  ExpectRoundTrip({a, b, c}, dialect());
}

TEST(CsvWriteTest, AValueThatDoesNotFitItsTypeReadsBackAsWhatItIs) {
  Record record;
  record.set_id("1");
  record.Set(Field("b", 5, FieldType::kBoolean));
  record.Set(Field("s", Timestamp{0}, FieldType::kString));
  const std::string text = Write({record});
  EXPECT_EQ(text, "__id__,b:json,s:json\n1,5,\"\"\"1970-01-01T00:00:00Z\"\"\"\n");
  const std::vector<Record> back = Read(text);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], WithId("1", {{"b", 5}, {"s", "1970-01-01T00:00:00Z"}}));
}

TEST(CsvReadTest, EmptyVersionIsZeroAndUnknownMetadataKeysAreIgnored) {
  const std::vector<Record> records =
      Read("__id__,__version__,__metadata__\n1,,\"{\"\"later\"\":1}\"\n2,null,null\n3,4,\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], WithId("1", {}));
  EXPECT_EQ(records[1], WithId("2", {}));
  EXPECT_EQ(records[2].version(), 4u);
  EXPECT_NE(ReadError("__id__,__metadata__\n1,[]\n").find("metadata must be a JSON object"),
            std::string::npos);
}

TEST(CsvReadTest, MetadataForAMissingFieldIsAnError) {
  const std::string message = ReadError(
      "__id__,a:integer,__metadata__\n1,,\"{\"\"fields\"\":{\"\"a\"\":{\"\"k\"\":1}}}\"\n");
  EXPECT_NE(message.find("test.csv:2: column '__metadata__'"), std::string::npos) << message;
  EXPECT_NE(message.find("'a'"), std::string::npos) << message;
}

// The reader refills one record for every row; nothing a row lacks (a field, the id, a version,
// metadata) may be left over from the row before, and a sink that copies sees what one that
// moves sees.
TEST(CsvReadTest, EachRowGetsOnlyItsOwnCells) {
  const std::string text =
      "__id__,__version__,a:string,b:integer,c,__metadata__\n"
      "r1,3,x,1,7,\"{\"\"record\"\":{\"\"k\"\":1},\"\"fields\"\":{\"\"a\"\":{\"\"m\"\":2}}}\"\n"
      ",,,2,,\n"
      "r3,,a much longer string than the first row held,,true,\n";
  auto in = InputStream::FromString(text, Compression::kNone, "test.csv");
  std::vector<Record> copies;
  ReadCsvRecords(*in, CsvOptions{}, "test.csv",
                 [&](Record& record, std::size_t) { copies.push_back(record); });
  ASSERT_EQ(copies.size(), 3u);
  EXPECT_EQ(copies, Read(text));

  Record first = WithId("r1", {});
  first.set_version(3);
  first.metadata().Set("k", Value(1));
  first.mutable_fields().emplace_back("a", Value("x"), FieldType::kString, Object{{"m", Value(2)}});
  first.mutable_fields().emplace_back("b", Value(1), FieldType::kInteger);
  first.mutable_fields().emplace_back("c", Value(7), FieldType::kInteger);
  EXPECT_EQ(copies[0], first);

  Record second;
  second.mutable_fields().emplace_back("b", Value(2), FieldType::kInteger);
  EXPECT_EQ(copies[1], second);

  Record third = WithId("r3", {});
  third.mutable_fields().emplace_back("a", Value("a much longer string than the first row held"),
                                      FieldType::kString);
  third.mutable_fields().emplace_back("c", Value(true), FieldType::kBoolean);
  EXPECT_EQ(copies[2], third);
}

// ---- CSV text: quoting, line ends, BOM, unicode ----

TEST_P(CsvDialectTest, HardStringsRoundTrip) {
  const std::vector<std::string> strings = {
      "he said \"hi\"",
      "a,b",
      "line1\nline2",
      "crlf\r\nend",
      "lone\rcr",
      " leading",
      "trailing ",
      "\ttab",
      "tab\tinside",
      "back\\slash",
      "\\N",
      "\\E",
      "\\",
      "\"",
      "\"\"",
      ",",
      "日本語 ✓ 🎉 Ünïcödé",
      "null ",
      "NULL",
      "true",
      "42",
  };
  std::vector<Record> records;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    records.push_back(WithId(strings[i], {{"s", strings[i]}, {"n", static_cast<int>(i)}}));
  }
  ExpectRoundTrip(records, dialect());
}

TEST(CsvWriteTest, QuotesOnlyWhenNeeded) {
  const std::string text = Write({WithId("1", {{"s", "plain words"}}), WithId("2", {{"s", "a,b"}}),
                                  WithId("3", {{"s", "say \"x\""}}), WithId("4", {{"s", " pad"}}),
                                  WithId("5", {{"s", "two\nlines"}}), WithId("6", {{"s", "ünï"}})});
  EXPECT_EQ(text,
            "__id__,s:string\n1,plain words\n2,\"a,b\"\n3,\"say \"\"x\"\"\"\n4,\" pad\"\n"
            "5,\"two\nlines\"\n6,ünï\n");
}

TEST(CsvWriteTest, TsvEscapesBackslashTabNewlineAndCarriageReturn) {
  const std::string text = Write({WithId("a\tb", {{"s", "x\\y\tz\nw\rv"}})}, kTsv);
  EXPECT_EQ(text, "__id__\ts:string\na\\tb\tx\\\\y\\tz\\nw\\rv\n");
}

TEST(CsvReadTest, TsvReadsEscapesAndKeepsUnknownOnesAsTheyAre) {
  const std::vector<Record> records =
      Read("name\tpath\n\\N\tC:\\dir\\file\\q\n\\E\tx\\\\N\nA\\N\t\\\n", kTsv);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[0].Get("name")->is_null());
  EXPECT_EQ(records[0].Get("path")->AsString(), "C:\\dir\\file\\q");
  EXPECT_EQ(records[1].Get("name")->AsString(), "");
  EXPECT_EQ(records[1].Get("path")->AsString(), "x\\N");
  EXPECT_EQ(records[2].Get("name")->AsString(), "A\\N");
  EXPECT_EQ(records[2].Get("path")->AsString(), "\\");
}

TEST(CsvReadTest, CrlfLfAndLoneCrLineEndsAllRead) {
  for (const char* text : {"__id__,a:integer\r\n1,5\r\n2,6\r\n", "__id__,a:integer\n1,5\n2,6",
                           "__id__,a:integer\r1,5\r2,6\r"}) {
    const std::vector<Record> records = Read(text);
    ASSERT_EQ(records.size(), 2u) << text;
    EXPECT_EQ(records[0], WithId("1", {{"a", 5}}));
    EXPECT_EQ(records[1], WithId("2", {{"a", 6}}));
  }
  const std::vector<Record> tsv = Read("__id__\ta:integer\r\n1\t5\r\n", kTsv);
  ASSERT_EQ(tsv.size(), 1u);
  EXPECT_EQ(tsv[0], WithId("1", {{"a", 5}}));
}

TEST(CsvReadTest, QuotedCellsKeepCrlfInside) {
  const std::vector<Record> records = Read("__id__,s:string\r\n1,\"a\r\nb\"\r\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Get("s")->AsString(), "a\r\nb");
}

TEST(CsvReadTest, ByteOrderMarkIsSkipped) {
  const std::vector<Record> records = Read("\xEF\xBB\xBFname,age\nAda,36\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0], Record({{"name", "Ada"}, {"age", 36}}));
}

TEST(CsvReadTest, BlankLinesAreSkippedAndLinesCounted) {
  auto in = InputStream::FromString("a,b\n\n1,\"x\ny\"\r\n\r\n2,z\n3,w", Compression::kNone, "m");
  const ReadResult result = ReadWithLines(*in, {});
  ASSERT_EQ(result.records.size(), 3u);
  EXPECT_EQ(result.lines, (std::vector<std::size_t>{3, 6, 7}));
}

TEST(CsvReadTest, QuoteInsideAnUnquotedCellIsKept) {
  const std::vector<Record> records = Read("a,b\nsay \"x\",5\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].Get("a")->AsString(), "say \"x\"");
}

TEST(CsvReadTest, FewerCellsThanColumnsAreAbsent) {
  const std::vector<Record> records = Read("__id__,a:integer,b:string\n1,5\n2\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], WithId("1", {{"a", 5}}));
  EXPECT_EQ(records[1], WithId("2", {}));
}

TEST(CsvDialectForTest, NamesAndDelimiters) {
  EXPECT_EQ(CsvDialectFor("csv").delimiter, ',');
  EXPECT_FALSE(CsvDialectFor("CSV").tsv);
  EXPECT_EQ(CsvDialectFor("tsv").delimiter, '\t');
  EXPECT_TRUE(CsvDialectFor("tsv").tsv);
  EXPECT_THROW(CsvDialectFor("psv"), Error);
}

TEST(CsvDialectForTest, OtherDelimitersWorkAndBadOnesAreRejected) {
  CsvDialect semicolon{';', false};
  const std::vector<Record> records = {WithId("1", {{"s", "a;b"}, {"f", 1.5}}),
                                       WithId("2", {{"s", "a,b"}})};
  EXPECT_EQ(Write(records, semicolon), "__id__;s:string;f:float\n1;\"a;b\";1.5\n2;a,b;\n");
  ExpectRoundTrip(records, semicolon);
  EXPECT_THROW(Write(records, CsvDialect{'"', false}), Error);
  EXPECT_THROW(Write(records, CsvDialect{',', true}), Error);
  EXPECT_THROW(Read("a\n1\n", CsvDialect{'\n', false}), Error);
}

// ---- Plain files from other tools ----

TEST(CsvReadTest, PlainFilesAreInferredCellByCell) {
  const std::vector<Record> records = Read(
      "name,age,score,active,zip,big,quoted,neg,exp,empty,nul,word\n"
      "Ada,36,1.5,TRUE,02134,123456789012345678901,\"42\",-7,1e3,,null,nan\n"
      "Bob,x,2,false,1,0,\"\",-0.5,1E-2,,\"null\",-\n");
  ASSERT_EQ(records.size(), 2u);
  const Record& ada = records[0];
  EXPECT_FALSE(ada.id().has_value());
  EXPECT_EQ(*ada.Get("name"), Value("Ada"));
  EXPECT_EQ(*ada.Get("age"), Value(36));
  EXPECT_EQ(ada.FindField("age")->type, FieldType::kInteger);
  EXPECT_EQ(*ada.Get("score"), Value(1.5));
  EXPECT_EQ(ada.FindField("score")->type, FieldType::kFloat);
  EXPECT_EQ(*ada.Get("active"), Value(true));
  EXPECT_EQ(ada.FindField("active")->type, FieldType::kBoolean);
  EXPECT_EQ(*ada.Get("zip"), Value("02134"));                  // leading zero: kept as text
  EXPECT_EQ(*ada.Get("big"), Value("123456789012345678901"));  // beyond int64: kept as text
  EXPECT_EQ(*ada.Get("quoted"), Value("42"));                  // quoted: always text
  EXPECT_EQ(*ada.Get("neg"), Value(-7));
  EXPECT_EQ(*ada.Get("exp"), Value(1000.0));
  EXPECT_FALSE(ada.Has("empty"));
  EXPECT_TRUE(ada.Get("nul")->is_null());
  EXPECT_EQ(*ada.Get("word"), Value("nan"));
  const Record& bob = records[1];
  EXPECT_EQ(*bob.Get("age"), Value("x"));
  EXPECT_EQ(*bob.Get("score"), Value(2));
  EXPECT_EQ(*bob.Get("active"), Value(false));
  EXPECT_EQ(*bob.Get("quoted"), Value(""));
  EXPECT_EQ(*bob.Get("exp"), Value(0.01));
  EXPECT_EQ(*bob.Get("nul"), Value("null"));
  EXPECT_EQ(*bob.Get("word"), Value("-"));
}

TEST(CsvReadTest, PlainLongStringsAreText) {
  const std::vector<Record> records = Read("s\n" + std::string(1001, 'a') + "\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].FindField("s")->type, FieldType::kText);
}

TEST(CsvReadTest, AnIdColumnIsAFieldAndResolvesTheId) {
  const std::vector<Record> records = Read("id,name\n7,Ada\nabc,Bob\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].id().has_value());
  EXPECT_EQ(*records[0].Get("id"), Value(7));
  EXPECT_EQ(records[0].ResolveId(), "7");
  EXPECT_EQ(records[1].ResolveId(), "abc");
}

TEST(CsvReadTest, ColumnTypesOverrideInference) {
  CsvOptions options;
  options.column_types = {{"zip", FieldType::kString},    {"age", FieldType::kFloat},
                          {"when", FieldType::kDatetime}, {"tags", FieldType::kJson},
                          {"typed", FieldType::kString},  {"absent_column", FieldType::kInteger}};
  const std::vector<Record> records = Read(
      "zip,age,when,tags,other,typed:integer\n02134,36,2024-05-01T10:00:00+02:00,"
      "\"[\"\"a\"\"]\",5,6\n12345,,null,,,\n",
      options);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(*records[0].Get("zip"), Value("02134"));
  EXPECT_EQ(*records[0].Get("age"), Value(36.0));
  EXPECT_EQ(records[0].FindField("age")->type, FieldType::kFloat);
  EXPECT_EQ(*records[0].Get("when"), Value(Ts("2024-05-01T08:00:00Z")));
  EXPECT_EQ(*records[0].Get("tags"), Value(List{Value("a")}));
  EXPECT_EQ(*records[0].Get("other"), Value(5));
  EXPECT_EQ(*records[0].Get("typed"), Value(6));  // the header's type wins over column_types
  EXPECT_EQ(*records[1].Get("zip"), Value("12345"));
  EXPECT_FALSE(records[1].Has("age"));
  EXPECT_TRUE(records[1].Get("when")->is_null());
  EXPECT_EQ(records[1].FindField("when")->type, FieldType::kDatetime);

  // A bad value in a column typed by options is an error like one typed by the header.
  EXPECT_NE(ReadError("age\nold\n", options).find("test.csv:2: column 'age': 'old' is not a"),
            std::string::npos);
}

TEST(CsvReadTest, TypedColumnsReadQuotedCellsAsTheirText) {
  const std::vector<Record> records =
      Read("__id__,n:integer,b:boolean,bin:binary\n\"1\",\"5\",\"True\",\"\"\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0], WithId("1", {{"n", 5}, {"b", true}, {"bin", Bytes{""}}}));
}

// ---- Errors ----

TEST(CsvReadTest, ErrorsNameTheSourceLineAndColumn) {
  EXPECT_EQ(ReadError("__id__,age:integer\n1,36\n2,4x\n"),
            "test.csv:3: column 'age': '4x' is not an integer");
  EXPECT_EQ(ReadError("__id__,f:float\n1,abc\n"),
            "test.csv:2: column 'f': 'abc' is not a finite float");
  EXPECT_EQ(ReadError("__id__,f:float\n1,inf\n"),
            "test.csv:2: column 'f': 'inf' is not a finite float");
  EXPECT_EQ(ReadError("__id__,b:boolean\n1,yes\n"),
            "test.csv:2: column 'b': 'yes' is not a boolean (true or false)");
  EXPECT_EQ(ReadError("__id__,d:datetime\n1,yesterday\n"),
            "test.csv:2: column 'd': 'yesterday' is not an ISO-8601 datetime");
  EXPECT_EQ(ReadError("__id__,x:binary\n1,@@@\n"), "test.csv:2: column 'x': '@@@' is not base64");
  EXPECT_EQ(ReadError("__id__,v:vector\n1,\"[1,x]\"\n"),
            "test.csv:2: column 'v': '[1,x]' is not a vector (a JSON list of numbers)");
  EXPECT_EQ(ReadError("__id__,__version__\n1,-1\n"),
            "test.csv:2: column '__version__': '-1' is not a version (a non-negative integer)");
  const std::string json = ReadError("__id__,j:json\n1,{oops\n");
  EXPECT_EQ(json.rfind("test.csv:2: column 'j': '{oops' is not valid JSON", 0), 0u) << json;
  const std::string long_cell = ReadError("__id__,i:integer\n1," + std::string(100, '9') + "\n");
  EXPECT_NE(long_cell.find("'" + std::string(60, '9') + "...'"), std::string::npos) << long_cell;
}

TEST(CsvReadTest, UnterminatedQuoteIsAnError) {
  EXPECT_EQ(ReadError("__id__,a:string\n1,x\n2,\"abc\n3,y\n"),
            "test.csv:3: column 'a': unterminated quoted cell (no closing quote)");
}

TEST(CsvReadTest, TextAfterAClosingQuoteIsAnError) {
  const std::string message = ReadError("a,b\n\"x\"y,1\n");
  EXPECT_EQ(
      message.rfind("test.csv:2: column 'a': unexpected character after the closing quote", 0), 0u)
      << message;
}

TEST(CsvReadTest, TooManyCellsIsAnError) {
  EXPECT_EQ(ReadError("a,b\n1,2\n1,2,3\n"),
            "test.csv:3: the row has more cells than the header's 2 columns");
  EXPECT_EQ(ReadError("a\tb\n1\t2\t\n", OptionsFor(kTsv)),
            "test.csv:2: the row has more cells than the header's 2 columns");
}

TEST(CsvReadTest, InvalidUtf8IsAnError) {
  EXPECT_EQ(ReadError("name,x\nok,1\nab\xFF,2\n"),
            "test.csv:3: column 'name': invalid UTF-8 (byte 0xFF at byte 2 of the cell)");
  EXPECT_EQ(ReadError("name,x\n1,\"\xC3\x28\"\n"),
            "test.csv:2: column 'x': invalid UTF-8 (byte 0xC3 at byte 0 of the cell)");
  EXPECT_EQ(ReadError("name\n\xED\xA0\x80\n", OptionsFor(kTsv)),
            "test.csv:2: column 'name': invalid UTF-8 (byte 0xED at byte 0 of the cell)");
  EXPECT_EQ(ReadError("a\xE2\x82\n"),
            "test.csv:1: column 1: invalid UTF-8 (byte 0xE2 at byte 1 of the cell)");
}

TEST(CsvWriteTest, NonFiniteNumbersAreRejectedBeforeAnythingIsWritten) {
  std::string out;
  Record good = WithId("1", {{"x", 1.0}});
  Record bad = WithId("2", {{"x", std::nan("")}});
  std::vector<const Record*> records = {&good, &bad};
  try {
    WriteCsvRecords(*OutputStream::ToString(&out, Compression::kNone), {}, records);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("record 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
  EXPECT_EQ(out, "");
  EXPECT_NE(WriteError({WithId("1", {{"v", Vector{1.0f, INFINITY}}})}).find("infinity"),
            std::string::npos);
}

TEST(CsvWriteTest, InvalidUtf8IsRejected) {
  EXPECT_EQ(WriteError({WithId("1", {{"s", "ok"}}), WithId("2", {{"s", "bad\xFF"}})}),
            "record 2: field 's': invalid UTF-8 at byte 3");
  EXPECT_EQ(WriteError({WithId("bad\xC0", {{"s", "ok"}})}, kTsv),
            "record 1: the id: invalid UTF-8 at byte 3");
  EXPECT_EQ(WriteError({WithId("1", {{"bad\xFF", 1}})}),
            "the header: a column name: invalid UTF-8 at byte 3");
  const std::string in_json = WriteError({WithId("1", {{"j", Object{{"k", "\xFF"}}}})});
  EXPECT_EQ(in_json.rfind("record 1: field 'j': ", 0), 0u) << in_json;
}

// ---- Streaming ----

// Hands out its bytes a few at a time, so that rows, cells, escapes, CRLFs and UTF-8 sequences
// are cut at every possible place.
class TrickleStream final : public InputStream {
 public:
  explicit TrickleStream(std::string data) : data_(std::move(data)) {}
  std::size_t Read(char* buf, std::size_t n) override {
    const std::size_t k = std::min({n, data_.size() - pos_, step_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    step_ = step_ % 7 + 1;
    return k;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
  std::size_t step_ = 1;
};

TEST_P(CsvDialectTest, InputArrivingInTinyPiecesReadsTheSame) {
  std::vector<Record> records;
  for (int i = 0; i < 300; ++i) {
    Record r = EveryType();
    r.set_id("id" + std::to_string(i));
    r.Set(Field("s", "a\"b,c\r\nd\te\\f ü€𝄞 " + std::to_string(i)));
    r.Set(Field("n", i % 3 == 0 ? Value(nullptr) : Value(i)));
    if (i % 5 == 0) r.Set(Field("maybe", ""));
    records.push_back(std::move(r));
  }
  const std::string text = Write(records, dialect());
  const std::vector<Record> whole = Read(text, dialect());
  TrickleStream trickle(text);
  const ReadResult pieces = ReadWithLines(trickle, OptionsFor(dialect()));
  EXPECT_EQ(pieces.records, whole);
  ASSERT_EQ(whole.size(), records.size());
}

TEST_P(CsvDialectTest, RowsLongerThanTheBufferAndManyRowsThroughGzip) {
  if (!CompressionAvailable(Compression::kGzip)) GTEST_SKIP() << "built without zlib";
  std::vector<Record> records;
  records.push_back(WithId("huge", {{"s", std::string(3 << 20, 'h') + "\n\"" + "\t,"}}));
  for (int i = 0; i < 50000; ++i) {
    records.push_back(WithId(std::to_string(i), {{"s", "row " + std::to_string(i)}, {"n", i}}));
  }
  std::vector<const Record*> pointers;
  for (const Record& r : records) pointers.push_back(&r);
  std::string packed;
  WriteCsvRecords(*OutputStream::ToString(&packed, Compression::kGzip), OptionsFor(dialect()),
                  pointers);
  auto in = InputStream::FromString(packed, Compression::kGzip, "big.csv.gz");
  std::size_t count = 0;
  ReadCsvRecords(*in, OptionsFor(dialect()), "big.csv.gz", [&](Record& record, std::size_t) {
    ASSERT_LT(count, records.size());
    EXPECT_EQ(record, records[count]);
    ++count;
  });
  EXPECT_EQ(count, records.size());
}

// Rows "i,row i,i*2" for i in [0, n), with a header: about 20 bytes a row, so more than the
// reader's first buffer (1 MiB) from about 60000 rows on, which makes reading pipelined.
std::string ManyRows(std::size_t n) {
  std::string text = "__id__,s:string,n:integer\n";
  for (std::size_t i = 0; i < n; ++i) {
    text += std::to_string(i) + ",row " + std::to_string(i) + "," + std::to_string(i * 2) + "\n";
  }
  return text;
}

CsvOptions Pipelined() {
  CsvOptions options;
  options.pipelined = true;
  return options;
}

TEST(CsvPipelineTest, PipelinedAndSerialReadingAgree) {
  std::string text = ManyRows(120000);
  ASSERT_GT(text.size(), std::size_t{2} << 20);
  auto a = InputStream::FromString(text, Compression::kNone, "a");
  auto b = InputStream::FromString(text, Compression::kNone, "b");
  const ReadResult one = ReadWithLines(*a, CsvOptions{});
  const ReadResult two = ReadWithLines(*b, Pipelined());
  ASSERT_EQ(one.records.size(), 120000u);
  EXPECT_EQ(one.lines, two.lines);
  EXPECT_TRUE(one.records == two.records);
  EXPECT_EQ(two.records[119999], WithId("119999", {{"s", "row 119999"}, {"n", 239998}}));
}

TEST(CsvPipelineTest, AnErrorArrivesAfterTheRecordsBeforeIt) {
  std::string text = ManyRows(100000);
  const std::string bad_row = "\n90000,row 90000,";
  const std::size_t at = text.find(bad_row);
  ASSERT_NE(at, std::string::npos);
  text.insert(at + bad_row.size(), "x");  // "x180000" is not an integer
  auto in = InputStream::FromString(text, Compression::kNone, "m");
  std::size_t delivered = 0;
  try {
    ReadCsvRecords(*in, Pipelined(), "big.csv", [&](Record&, std::size_t) { ++delivered; });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "big.csv:90002: column 'n': 'x180000' is not an integer");
  }
  EXPECT_EQ(delivered, 90000u);
}

TEST(CsvPipelineTest, AnExceptionFromTheSinkStopsReading) {
  struct Stop {};
  auto in = InputStream::FromString(ManyRows(200000), Compression::kNone, "m");
  std::size_t delivered = 0;
  EXPECT_THROW(ReadCsvRecords(*in, Pipelined(), "big.csv",
                              [&](Record&, std::size_t) {
                                if (++delivered == 10) throw Stop();
                              }),
               Stop);
  EXPECT_EQ(delivered, 10u);
}

// ---- Reading parts of a file on several threads ----

// Every row as "line: record JSON", and the error, if any, as the last entry.
std::vector<std::string> RowsInOrder(const std::string& text, const CsvOptions& options,
                                     unsigned threads) {
  std::vector<std::string> out;
  const std::vector<std::string>* names = nullptr;
  auto on_header = [&](const std::vector<std::string>& n) { names = &n; };
  auto render = [&](CsvRow& row) {
    Record record;
    CsvRowToRecord(row, *names, record);
    return std::to_string(row.line) + ": " + RecordToJson(record);
  };
  auto in = InputStream::FromString(text, Compression::kNone, "p.csv");
  try {
    if (threads == 0) {
      ReadCsvRows(*in, options, "p.csv", on_header,
                  [&](CsvRow& row) { out.push_back(render(row)); });
    } else {
      struct Part final : CsvPartSink {
        std::function<std::string(CsvRow&)> render;
        std::vector<std::string> rows;
        void Add(CsvRow& row) override { rows.push_back(render(row)); }
      };
      WorkerPool pool(threads);
      ReadCsvRowsInParallel(
          *in, options, "p.csv", pool, on_header,
          [&]() -> std::unique_ptr<CsvPartSink> {
            auto part = std::make_unique<Part>();
            part->render = render;
            return part;
          },
          [&](CsvPartSink& sink) {
            for (std::string& row : static_cast<Part&>(sink).rows) out.push_back(std::move(row));
          });
    }
  } catch (const Error& error) {
    out.push_back(std::string("error: ") + error.what());
  }
  return out;
}

// A file of many parts whose rows hold what makes cutting hard: quoted cells over several lines
// (some with line feeds right where a cut would fall), a quote inside an unquoted cell (which
// misleads the quote count), CRLF line ends, blank lines, rows without ids.
std::string HardFile(std::size_t rows, bool csv, bool odd_bare_quotes = false) {
  const char d = csv ? ',' : '\t';
  std::string text = std::string("__id__") + d + "age:integer" + d + "note:string" + d + "x\n";
  for (std::size_t i = 0; i < rows; ++i) {
    std::string id = i % 97 == 0 ? "" : "r" + std::to_string(i);
    std::string note;
    if (csv && i % 13 == 0) {
      note = "\"line one\nline \"\"two\"\"\n\nthree\"";
    } else if (csv && i % 17 == 0) {
      note = odd_bare_quotes ? "a \"bare quote" : "a \"bare\" quote";
    } else if (!csv && i % 13 == 0) {
      note = "tab\\there\\nnewline";
    } else {
      note = "plain " + std::to_string(i * 7);
    }
    text += id + d + std::to_string(i % 90) + d + note + d + std::string(40, 'x');
    text += i % 11 == 0 ? "\r\n" : "\n";
    if (i % 501 == 0) text += "\n";
  }
  return text;
}

// The first difference of two readings, or "" (the readings are too long to print whole).
std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) return "entry " + std::to_string(i) + ":\n  " + a[i] + "\n  " + b[i];
  }
  if (a.size() != b.size()) {
    return std::to_string(a.size()) + " entries against " + std::to_string(b.size()) +
           "; last:\n  " + (a.empty() ? "" : a.back()) + "\n  " + (b.empty() ? "" : b.back());
  }
  return "";
}

TEST(CsvPartsTest, ThreadsReadExactlyWhatOneThreadReads) {
  for (bool csv : {true, false}) {
    const std::string text = HardFile(60000, csv);
    ASSERT_GT(text.size(), std::size_t{3} << 20) << "several parts";
    const CsvOptions options = OptionsFor(csv ? kCsv : kTsv);
    const std::vector<std::string> one = RowsInOrder(text, options, 0);
    ASSERT_EQ(one.size(), 60000u);
    for (unsigned threads : {1u, 2u, 4u}) {
      EXPECT_EQ(FirstDifference(RowsInOrder(text, options, threads), one), "")
          << (csv ? "csv " : "tsv ") << threads;
    }
  }
}

TEST(CsvPartsTest, AnErrorFarInNamesTheSameLineAsOneThread) {
  std::string text = HardFile(40000, true);
  const std::size_t at = text.size() * 3 / 4;
  const std::size_t line_start = text.find('\n', at) + 1;
  text.insert(line_start, "bad,notanumber,x,y\n");
  const std::vector<std::string> one = RowsInOrder(text, OptionsFor(kCsv), 0);
  ASSERT_TRUE(one.back().starts_with("error: ")) << one.back();
  EXPECT_NE(one.back().find("notanumber"), std::string::npos) << one.back();
  EXPECT_EQ(FirstDifference(RowsInOrder(text, OptionsFor(kCsv), 3), one), "");
}

TEST(CsvPartsTest, LoneCarriageReturnsAndQuotesThatMisleadTheCutStillReadExactly) {
  // A lone CR ends a line (so line numbers after it cannot be counted by line feeds), and a row
  // of bare quotes makes the quote count odd for the rest of the file: both send the reading
  // back to one thread, which must give the same rows and lines.
  std::string text = HardFile(60000, true, /*odd_bare_quotes=*/true);
  const std::vector<std::string> one = RowsInOrder(text, OptionsFor(kCsv), 0);
  EXPECT_EQ(FirstDifference(RowsInOrder(text, OptionsFor(kCsv), 2), one), "");
  text = HardFile(60000, true);
  text.insert(text.find('\n', text.size() / 3) + 1, "r-cr,1,lone\rr-cr2,2,cr\n");
  const std::vector<std::string> two = RowsInOrder(text, OptionsFor(kCsv), 0);
  ASSERT_EQ(two.size(), 60002u);
  EXPECT_EQ(FirstDifference(RowsInOrder(text, OptionsFor(kCsv), 2), two), "");
}

INSTANTIATE_TEST_SUITE_P(Dialects, CsvDialectTest, ::testing::Bool(), DialectName);

}  // namespace
}  // namespace internal
}  // namespace dkdata
