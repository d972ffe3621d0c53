// Records through Parquet (docs/parquet-format.md): dkdata's own files give back exactly the
// records written; pyarrow and DuckDB read them as plain columns with the same values; bad records
// are refused before anything replaces an existing file.
#include "formats/parquet/parquet_records.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/parquet.hpp"
#include "formats/parquet/parquet_reader.hpp"
#include "formats/parquet/parquet_writer.hpp"
#include "parquet_test_support.hpp"

namespace dkdata {
namespace {

namespace fs = std::filesystem;

class ParquetRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dkdata-parquet-records-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string PathOf(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

Record MakeRecord(std::string id, std::initializer_list<std::pair<std::string, Value>> fields) {
  Record record(fields);
  record.set_id(id);
  return record;
}

// Every value kind, with the details that a plain table would lose.
std::vector<Record> EveryKind() {
  std::vector<Record> records;
  Record a = MakeRecord("a", {{"name", "Ada"},
                              {"age", 36},
                              {"score", 1.5},
                              {"ok", true},
                              {"joined", Timestamp{1714550400123456}},
                              {"blob", Bytes{std::string("\0\xff\x01", 3)}},
                              {"tags", List{Value("x"), Value(1), Value()}},
                              {"address", Object{{"city", Value("London")}}},
                              {"embedding", Vector{0.5f, -1.25f, 3e-8f}},
                              {"mixed", 1}});
  a.set_version(3);
  a.metadata().Set("source", Value("import"));
  records.push_back(a);
  Record b = MakeRecord("b", {{"name", std::string(1500, 'x')},  // long: a text field
                              {"score", std::nan("")},
                              {"ok", false},
                              {"embedding", Vector{}},
                              {"mixed", "one"}});
  b.mutable_fields()[0].type = FieldType::kString;  // a long string that says it is a string
  b.Set(Field("note", Value(), FieldType::kText));  // explicitly null, with a type
  b.mutable_fields()[1].metadata.Set("unit", Value("pts"));
  records.push_back(b);
  Record c = MakeRecord("c", {{"score", HUGE_VAL},
                              {"age", std::numeric_limits<std::int64_t>::min()},
                              {"joined", Timestamp{-86'400'000'001}},
                              {"mixed", Timestamp{0}},
                              {"name", ""}});
  records.push_back(c);
  records.push_back(MakeRecord("d", {}));  // no fields at all
  Record e = MakeRecord("e", {{"mixed", Bytes{"\x01"}}, {"text", std::string("日本語")}});
  e.mutable_fields()[1].type = FieldType::kText;
  records.push_back(e);
  return records;
}

TEST_F(ParquetRecordsTest, OwnFilesGiveBackExactlyTheRecordsWritten) {
  const std::vector<Record> records = EveryKind();
  for (const char* codec : {"snappy", "zstd", "gzip", "lz4", "none"}) {
    SCOPED_TRACE(codec);
    const std::string path = PathOf(std::string("every-") + codec + ".parquet");
    ParquetWriteOptions options;
    options.compression = codec;
    options.row_group_size = 2;  // several row groups
    WriteParquet(path, records, options);
    testsupport::ExpectSameRecords(ReadParquet(path), records);
    ParquetReadOptions threads;
    threads.threads = 3;
    testsupport::ExpectSameRecords(ReadParquet(path, threads), records);
  }
}

TEST_F(ParquetRecordsTest, ASchemaFixesColumnTypesAndTheRecordsStillComeBackUnchanged) {
  std::vector<Record> records = {
      MakeRecord("a", {{"price", 3}, {"note", Value()}}),
      MakeRecord("b", {{"price", 2.5}, {"when", "2024-05-01T08:00:00Z"}})};
  records[0].mutable_fields()[1].type = FieldType::kString;
  const std::string path = PathOf("schema.parquet");
  ParquetWriteOptions options;
  options.schema = {
      {"when", FieldType::kDatetime}, {"price", FieldType::kFloat}, {"note", FieldType::kString}};
  WriteParquet(path, records, options);
  testsupport::ExpectSameRecords(ReadParquet(path), records);
  // The columns are typed by the schema, in its order, before the others.
  const auto reader = internal::parquet::ParquetFileReader::Open(path);
  const auto& leaves = reader.leaves();
  ASSERT_GE(leaves.size(), 4u);
  EXPECT_EQ(leaves[1].path.front(), "when");
  EXPECT_EQ(leaves[1].type, internal::parquet::Type::kInt64);  // TIMESTAMP(MICROS)
  EXPECT_EQ(leaves[2].path.front(), "price");
  EXPECT_EQ(leaves[2].type, internal::parquet::Type::kDouble);
  EXPECT_EQ(leaves[3].type, internal::parquet::Type::kByteArray);
  // A value that cannot become the declared type is refused, naming it.
  options.schema = {{"price", FieldType::kBoolean}};
  records[1].Set("price", Value("expensive"));
  try {
    WriteParquet(path, records, options);
    FAIL() << "a string was written in a boolean column";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'price'"), std::string::npos) << error.what();
  }
}

TEST_F(ParquetRecordsTest, AFieldNamedLikeADkdataColumnIsRefused) {
  std::vector<Record> records = {MakeRecord("a", {{"__id__", "x"}})};
  EXPECT_THROW(WriteParquet(PathOf("reserved.parquet"), records), Error);
}

TEST_F(ParquetRecordsTest, AnEmptySetIsAValidFileOfNoRows) {
  const std::string path = PathOf("empty.parquet");
  WriteParquet(path, std::vector<Record>{});
  EXPECT_TRUE(ReadParquet(path).empty());
  const auto reader = internal::parquet::ParquetFileReader::Open(path);
  EXPECT_EQ(reader.metadata().num_rows, 0);
}

TEST_F(ParquetRecordsTest, ProjectionAndFilterReadWhatTheyName) {
  std::vector<Record> records;
  for (int i = 0; i < 1000; ++i) {
    records.push_back(MakeRecord("r" + std::to_string(i), {{"n", i}, {"half", i % 2 == 0}}));
  }
  const std::string path = PathOf("numbers.parquet");
  ParquetWriteOptions write;
  write.row_group_size = 100;
  WriteParquet(path, records, write);
  ParquetReadOptions read;
  read.fields = {"n"};
  read.filter = Where("n", Op::kGte, Value(950)) && Where("half", Op::kEq, Value(true));
  const std::vector<Record> got = ReadParquet(path, read);
  ASSERT_EQ(got.size(), 25u);
  EXPECT_EQ(*got.front().id(), "r950");
  // The filter reads `half`; the projection leaves it out of the records.
  for (const Record& record : got) EXPECT_EQ(record.FindField("half"), nullptr);
  // Skipping: only the last row group can hold n >= 950.
  const auto reader = internal::parquet::ParquetFileReader::Open(path);
  internal::parquet::RecordReadOptions low;
  const Expr n_high = Where("n", Op::kGte, Value(950));
  low.filter = &n_high;
  const auto stats = internal::parquet::ReadParquetRecords(reader, low, [](Record&) {});
  EXPECT_EQ(stats.row_groups_read, 1u);
  EXPECT_EQ(stats.row_groups_skipped, 9u);
}

// Two row groups of 5 000 rows (n = 0..9999, a required INT64, and `__version__` 1), written
// column by column so that row 3000 of the second group can hold a version dkdata refuses (-1).
std::string TwoRowGroupsWithABadVersion(const std::string& path) {
  using namespace internal::parquet;
  std::vector<SchemaElement> schema(3);
  schema[0].name = "schema";
  schema[0].num_children = 2;
  schema[1].name = "__version__";
  schema[1].type = Type::kInt64;
  schema[1].repetition_type = FieldRepetitionType::kOptional;
  schema[2].name = "n";
  schema[2].type = Type::kInt64;
  schema[2].repetition_type = FieldRepetitionType::kRequired;
  std::string bytes;
  ParquetWriter writer(schema, WriterOptions{}, [&](std::string_view out) { bytes.append(out); });
  for (int group = 0; group < 2; ++group) {
    std::vector<ColumnData> columns(2);
    for (int row = 0; row < 5000; ++row) {
      columns[0].definition_levels.push_back(1);
      columns[0].int64s.push_back(group == 1 && row == 3000 ? -1 : 1);
      columns[1].int64s.push_back(group * 5000 + row);
    }
    writer.WriteRowGroup(columns, 5000);
  }
  writer.Finish();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST_F(ParquetRecordsTest, EveryThreadCountDeliversTheRowsBeforeABadRowThenItsError) {
  const std::string path = TwoRowGroupsWithABadVersion(PathOf("bad-version.parquet"));
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(threads);
    ParquetReadOptions options;
    options.threads = threads;
    std::vector<std::int64_t> seen;
    try {
      ReadParquet(path, options, [&](Record& record) {
        seen.push_back(*record.Get("n")->Get<std::int64_t>());
        EXPECT_EQ(record.version(), 1u);
      });
      ADD_FAILURE() << "no error";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("row group 1, row 3000: negative __version__ -1"),
                std::string::npos)
          << error.what();
    }
    ASSERT_EQ(seen.size(), 8000u);
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<std::int64_t>(i));
  }
}

TEST_F(ParquetRecordsTest, AnErrorFromTheSinkStopsAThreadedReadAtOnce) {
  const std::string path = TwoRowGroupsWithABadVersion(PathOf("sink-throws.parquet"));
  for (unsigned threads : {2u, 3u}) {
    SCOPED_TRACE(threads);
    ParquetReadOptions options;
    options.threads = threads;
    std::size_t calls = 0;
    EXPECT_THROW(ReadParquet(path, options,
                             [&](Record&) {
                               if (++calls == 2500) throw std::runtime_error("stop");
                             }),
                 std::runtime_error);
    EXPECT_EQ(calls, 2500u);
  }
}

TEST_F(ParquetRecordsTest, BadRecordsAreRefusedAndAnExistingFileIsKept) {
  const std::string path = PathOf("kept.parquet");
  const std::vector<Record> good = {MakeRecord("a", {{"x", 1}})};
  WriteParquet(path, good);
  std::vector<Record> nan_in_json = {MakeRecord("a", {{"x", 1}}), MakeRecord("b", {{"x", "s"}}),
                                     MakeRecord("c", {{"x", std::nan("")}})};
  try {
    WriteParquet(path, nan_in_json);
    FAIL() << "NaN in a JSON column was written";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("'c'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("'x'"), std::string::npos) << error.what();
  }
  std::vector<Record> bad_utf8 = {MakeRecord("a", {{"s", std::string("\xc3\x28")}})};
  EXPECT_THROW(WriteParquet(path, bad_utf8), Error);
  testsupport::ExpectSameRecords(ReadParquet(path), good);
  EXPECT_THROW(
      {
        ParquetWriteOptions options;
        options.compression = "brotli";
        WriteParquet(path, good, options);
      },
      Error);
}

// ---- ParquetTable: the decoded columns kept, records built on demand ----

// Expects every record of table, taken one at a time last to first (random access) and all in
// order at 1 and 3 threads, to be want's.
void ExpectTableHolds(const ParquetTable& table, const std::vector<Record>& want) {
  ASSERT_EQ(table.size(), want.size());
  for (std::size_t row = want.size(); row-- > 0;) {
    SCOPED_TRACE("row " + std::to_string(row));
    testsupport::ExpectSameRecords({table.record(row)}, {want[row]});
  }
  for (unsigned threads : {1u, 3u}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    testsupport::ExpectSameRecords(table.ToRecords(threads), want);
  }
}

// 1000 rows in row groups of 300 (not a multiple of the table's 64-row checkpoints): a required
// column, an optional one with runs of nulls, lists (absent, empty, with null elements) and
// vectors, so that reaching a row means skipping uneven runs of levels.
std::vector<Record> UnevenRows() {
  std::vector<Record> records;
  for (int i = 0; i < 1000; ++i) {
    Record record = MakeRecord("r" + std::to_string(i), {{"n", i}});
    if (i % 7 < 4) record.Set("maybe", "m" + std::to_string(i));
    if (i % 5 != 0) {
      List tags;
      for (int k = 0; k < i % 4; ++k) tags.push_back(k == 1 ? Value() : Value(i * 10 + k));
      record.Set("tags", Value(std::move(tags)));
    }
    if (i % 3 == 0) record.Set("vec", Vector(static_cast<std::size_t>(i % 5), 0.5f * i));
    record.set_version(static_cast<std::uint64_t>(i % 4 + 1));
    records.push_back(std::move(record));
  }
  return records;
}

// Writes UnevenRows() to path in row groups of group_rows; returns them.
std::vector<Record> WriteUnevenRows(const std::string& path, std::size_t group_rows) {
  std::vector<Record> records = UnevenRows();
  ParquetWriteOptions options;
  options.row_group_size = group_rows;
  WriteParquet(path, records, options);
  return records;
}

TEST_F(ParquetRecordsTest, ATableGivesEachRowTheRecordReadParquetGives) {
  const std::vector<Record> every_kind = EveryKind();
  for (const char* codec : {"snappy", "none"}) {
    SCOPED_TRACE(codec);
    const std::string path = PathOf(std::string("table-") + codec + ".parquet");
    ParquetWriteOptions options;
    options.compression = codec;
    options.row_group_size = 2;
    WriteParquet(path, every_kind, options);
    ExpectTableHolds(ReadParquetTable(path), every_kind);
  }
  const std::string path = PathOf("uneven.parquet");
  const std::vector<Record> uneven = WriteUnevenRows(path, 300);
  for (unsigned threads : {1u, 2u}) {
    ParquetReadOptions read;
    read.threads = threads;
    ExpectTableHolds(ReadParquetTable(path, read), uneven);
  }
}

TEST_F(ParquetRecordsTest, ATableOfNoRowsIsEmpty) {
  const std::string path = PathOf("empty.parquet");
  WriteParquet(path, std::vector<Record>{});
  const ParquetTable table = ReadParquetTable(path);
  EXPECT_TRUE(table.empty());
  EXPECT_TRUE(table.ToRecords().empty());
  EXPECT_TRUE(ParquetTable().empty());
  testsupport::ExpectError([&] { (void)ParquetTable().record(0); }, ErrorCode::kInvalidArgument,
                           {"row 0 is not below its 0 rows"});
}

TEST_F(ParquetRecordsTest, ATableHoldsWhatTheProjectionAndFilterSelect) {
  const std::string path = PathOf("selected.parquet");
  WriteUnevenRows(path, 100);
  ParquetReadOptions read;
  read.fields = {"n", "tags"};
  // The filter names a field outside the projection; statistics skip groups below n = 800.
  read.filter = Where("n", Op::kGte, Value(800)) && Where("maybe", Op::kExists, Value());
  const std::vector<Record> want = ReadParquet(path, read);
  ASSERT_EQ(want.size(), 114u);
  for (const Record& record : want) EXPECT_EQ(record.FindField("maybe"), nullptr);
  const ParquetTable table = ReadParquetTable(path, read);
  ExpectTableHolds(table, want);
  testsupport::ExpectError([&] { (void)table.record(114); }, ErrorCode::kInvalidArgument,
                           {"row 114 is not below its 114 rows"});
  read.filter.reset();
  ExpectTableHolds(ReadParquetTable(path, read), ReadParquet(path, read));
}

TEST_F(ParquetRecordsTest, ATableGivesABadCellsErrorForItsRowAlone) {
  const std::string path = TwoRowGroupsWithABadVersion(PathOf("bad-version.parquet"));
  const ParquetTable table = ReadParquetTable(path);
  ASSERT_EQ(table.size(), 10000u);
  EXPECT_EQ(*table.record(7999).Get("n"), Value(7999));
  EXPECT_EQ(*table.record(8001).Get("n"), Value(8001));
  testsupport::ExpectError(
      [&] { (void)table.record(8000); }, ErrorCode::kInvalidArgument,
      {"bad-version.parquet", "row group 1, row 3000: negative __version__ -1"});
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(threads);
    std::size_t seen = 0;
    testsupport::ExpectError(
        [&] {
          table.ForEach(
              [&](Record& record) {
                ASSERT_EQ(*record.Get("n"), Value(static_cast<std::int64_t>(seen)));
                ++seen;
              },
              threads);
        },
        ErrorCode::kInvalidArgument, {"row group 1, row 3000: negative __version__ -1"});
    EXPECT_EQ(seen, 8000u);
  }
}

TEST_F(ParquetRecordsTest, ConcurrentRecordCallsOnOneTableAgree) {
  const std::string path = PathOf("shared.parquet");
  WriteUnevenRows(path, 300);
  const ParquetTable table = ReadParquetTable(path);
  const std::vector<Record> want = ReadParquet(path);
  std::vector<std::size_t> mismatches(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the rows from its own start, so that they reach the same groups at
      // different times.
      for (std::size_t k = 0; k < want.size(); ++k) {
        const std::size_t row = (k * 7 + t * 250) % want.size();
        if (!(table.record(row) == want[row])) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<std::size_t>(4, 0));
}

// The columns pyarrow and DuckDB see in a file dkdata wrote (tests/parquet/read_back.py's form).
std::string ReadBack(const std::string& python, const std::string& path, const std::string& tool) {
  const std::string command = "'" + python + "' '" + DKDATA_SOURCE_DIR +
                              "/tests/parquet/read_back.py' '" + path + "' " + tool + " 2>&1";
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    ::pclose(pipe);
  }
  return out;
}

TEST_F(ParquetRecordsTest, PyarrowAndDuckdbReadDkdataFilesAsPlainColumns) {
  const std::string python = testsupport::PeersPython();
  if (python.empty()) {
    if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") {
      FAIL() << "pyarrow and DuckDB are required under CI=true (bash scripts/install-deps.sh)";
    }
    GTEST_SKIP() << "no pyarrow/DuckDB: run bash scripts/install-deps.sh";
  }
  std::vector<Record> records;
  records.push_back(MakeRecord("a", {{"name", "Ada"},
                                     {"age", 36},
                                     {"score", 1.5},
                                     {"ok", true},
                                     {"at", Timestamp{1714550400123456}},
                                     {"blob", Bytes{"\x01\x02"}},
                                     {"vec", Vector{0.5f, -2.0f}},
                                     {"doc", Object{{"k", Value(1)}}}}));
  records.push_back(MakeRecord("b", {{"name", "日本"}, {"vec", Vector{}}, {"score", -0.0}}));
  records.push_back(MakeRecord("c", {{"age", -7}}));
  const std::string path = PathOf("peers.parquet");
  ParquetWriteOptions options;
  options.row_group_size = 2;
  WriteParquet(path, records, options);
  const std::string expected_columns =
      "rows=3\n"
      "col __id__=[\"a\",\"b\",\"c\"]\n"
      "col name=[\"Ada\",\"日本\",null]\n"
      "col age=[36,null,-7]\n"
      "col score=[1.5,-0.0,null]\n"
      "col ok=[true,null,null]\n"
      "col at=[\"ts:1714550400123456\",null,null]\n"
      "col blob=[\"hex:0102\",null,null]\n"
      "col vec=[[0.5,-2.0],[],null]\n"
      "col doc=[\"{\\\"k\\\":1}\",null,null]\n";
  for (const char* tool : {"pyarrow", "duckdb"}) {
    SCOPED_TRACE(tool);
    const std::string out = ReadBack(python, path, tool);
    // pyarrow adds statistics lines: compare the row and column lines only.
    std::istringstream lines(out);
    std::string line, columns;
    while (std::getline(lines, line)) {
      if (line.rfind("rows=", 0) == 0 || line.rfind("col ", 0) == 0) columns += line + "\n";
    }
    EXPECT_EQ(columns, expected_columns) << out;
  }
}

}  // namespace
}  // namespace dkdata
