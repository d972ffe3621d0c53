// Parquet files written by pyarrow and DuckDB (tests/parquet/make_fixtures.py: every type,
// encoding, codec, page version and nullability of issue 8) read by dkdata as exactly the values
// their writers were given, by the mapping of docs/parquet-format.md.
//
// The fixtures come from the ctest fixture `parquet_fixtures` (DKDATA_PARQUET_FIXTURES); a binary
// run by hand generates them itself. Without pyarrow/DuckDB the tests skip saying how to get them,
// and fail under CI=true.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "formats/parquet/parquet_reader.hpp"
#include "formats/parquet/parquet_records.hpp"
#include "parquet_test_support.hpp"

namespace dkdata::internal::parquet {
namespace {

namespace fs = std::filesystem;

// What the expected-value notation needs to know about a column to give dkdata's value.
struct ColumnFacts {
  bool json = false;
  bool uint64 = false;
  int decimal_precision = 0;  // 0: not a decimal
  bool float_list = false;    // a list of FLOAT without annotation: vectors
};

std::map<std::string, ColumnFacts> FactsOf(const ParquetFileReader& reader) {
  std::map<std::string, ColumnFacts> facts;
  for (const LeafColumn& leaf : reader.leaves()) {
    const SchemaElement& element = reader.metadata().schema[leaf.elements.back()];
    ColumnFacts& f = facts[leaf.path.front()];
    const auto& logical = element.logical_type;
    f.json = (logical && logical->kind == LogicalTypeKind::kJson) ||
             (!logical && element.converted_type == ConvertedType::kJson);
    f.uint64 = (logical && logical->kind == LogicalTypeKind::kInteger && !logical->is_signed &&
                logical->bit_width == 64) ||
               (!logical && element.converted_type == ConvertedType::kUint64);
    if (logical && logical->kind == LogicalTypeKind::kDecimal) {
      f.decimal_precision = logical->decimal_precision;
    } else if (!logical && element.converted_type == ConvertedType::kDecimal) {
      f.decimal_precision = element.precision.value_or(0);
    }
    f.float_list = leaf.max_repetition_level == 1 && element.type == Type::kFloat && !logical &&
                   !element.converted_type;
  }
  return facts;
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

std::int64_t UnitsPerSecond(const std::string& unit) {
  return unit == "ms" ? 1000 : unit == "us" ? 1'000'000 : 1'000'000'000;
}

std::string ExpectedTime(std::int64_t units, const std::string& unit) {
  const std::int64_t per_second = UnitsPerSecond(unit);
  const std::int64_t seconds = FloorDiv(units, per_second);
  const std::int64_t fraction = units - seconds * per_second;
  char buffer[48];
  int n = std::snprintf(
      buffer, sizeof buffer, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
      static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  if (fraction != 0) {
    const int digits = unit == "ms" ? 3 : unit == "us" ? 6 : 9;
    n += std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), ".%0*lld", digits,
                       static_cast<long long>(fraction));
  }
  return std::string(buffer, static_cast<std::size_t>(n));
}

// The dkdata value of one expected cell (notation: make_fixtures.py's docstring).
Value ExpectedValue(const Value& cell, const ColumnFacts& facts) {
  if (const Object* object = cell.Get<Object>()) {
    if (const Value* v = object->Find("$timestamp")) {
      const std::string unit = object->Find("unit")->AsString();
      const std::int64_t n = v->AsInt();
      if (unit == "ms") return Value(Timestamp{n * 1000});
      if (unit == "us") return Value(Timestamp{n});
      return Value(Timestamp{FloorDiv(n, 1000)});
    }
    if (const Value* v = object->Find("$date"))
      return Value(Timestamp{v->AsInt() * 86'400'000'000});
    if (const Value* v = object->Find("$time")) {
      return Value(ExpectedTime(v->AsInt(), object->Find("unit")->AsString()));
    }
    if (const Value* v = object->Find("$uuid")) return *v;
    if (const Value* v = object->Find("$base64")) {
      return Value(Bytes{*Base64Decode(v->AsString())});
    }
    if (const Value* v = object->Find("$float")) {
      const std::string& text = v->AsString();
      if (text == "nan") return Value(std::nan(""));
      return Value(text == "inf" ? HUGE_VAL : -HUGE_VAL);
    }
    if (const Value* v = object->Find("$decimal")) {
      if (facts.decimal_precision <= 15) return Value(std::stod(v->AsString()));
      return *v;
    }
    ADD_FAILURE() << "unknown notation " << ToJson(cell);
    return cell;
  }
  if (const List* list = cell.Get<List>()) {
    bool has_null = false;
    List items;
    for (const Value& item : *list) {
      has_null = has_null || item.is_null();
      items.push_back(ExpectedValue(item, ColumnFacts{}));
    }
    if (facts.float_list && !has_null) {
      Vector vector;
      for (const Value& item : items) vector.push_back(static_cast<float>(item.AsDouble()));
      return Value(std::move(vector));
    }
    return Value(std::move(items));
  }
  if (facts.json && cell.Get<std::string>()) return ParseJson(cell.AsString());
  return cell;
}

// Values equal as the fixtures mean them: NaN equals NaN; uint64 values above 2^63-1 are exact
// text on our side and a (rounded) double in the parsed expectation.
bool SameValue(const Value& actual, const Value& expected, const ColumnFacts& facts) {
  if (expected.kind() == ValueKind::kFloat && actual.kind() == ValueKind::kFloat &&
      std::isnan(expected.AsDouble())) {
    return std::isnan(actual.AsDouble());
  }
  if (facts.uint64 && expected.kind() == ValueKind::kFloat && actual.Get<std::string>()) {
    return std::stod(actual.AsString()) == expected.AsDouble() && expected.AsDouble() >= 9.2e18;
  }
  if (const List* a = actual.Get<List>()) {
    const List* e = expected.Get<List>();
    if (!e || a->size() != e->size()) return false;
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (!SameValue((*a)[i], (*e)[i], ColumnFacts{})) return false;
    }
    return true;
  }
  return actual == expected;
}

std::vector<Record> ReadAll(const ParquetFileReader& reader, RecordReadOptions options = {}) {
  std::vector<Record> records;
  ReadParquetRecords(reader, options,
                     [&](Record& record) { records.push_back(std::move(record)); });
  return records;
}

void ExpectFileMatches(const fs::path& file, const fs::path& expected_path, unsigned threads) {
  SCOPED_TRACE(file.filename().string());
  const ParquetFileReader reader = ParquetFileReader::Open(file.string());
  const auto facts = FactsOf(reader);
  RecordReadOptions options;
  options.threads = threads;
  const std::vector<Record> records = ReadAll(reader, options);
  std::ifstream in(expected_path);
  std::string line;
  std::size_t row = 0;
  int failures = 0;
  while (std::getline(in, line) && failures < 5) {
    ASSERT_LT(row, records.size()) << "dkdata read fewer rows than expected";
    const Record& record = records[row];
    const Value expected = ParseJson(line);
    for (const auto& [name, cell] : expected.AsObject()) {
      const Field* field = record.FindField(name);
      if (cell.is_null()) {
        if (field) {
          ADD_FAILURE() << "row " << row << ", column " << name << ": null expected, got "
                        << field->value.ToDisplayString();
          ++failures;
        }
        continue;
      }
      const ColumnFacts& f = facts.at(name);
      const Value want = ExpectedValue(cell, f);
      if (!field || !SameValue(field->value, want, f)) {
        ADD_FAILURE() << "row " << row << ", column " << name << ": expected "
                      << want.ToDisplayString() << ", got "
                      << (field ? field->value.ToDisplayString() : std::string("(absent)"));
        ++failures;
      }
    }
    if (record.size() > expected.AsObject().size()) {
      ADD_FAILURE() << "row " << row << " has fields the file has not";
      ++failures;
    }
    ++row;
  }
  if (failures == 0) {
    EXPECT_EQ(row, records.size()) << "dkdata read more rows than expected";
  }
}

TEST(ParquetInteropTest, EveryFixtureOfPyarrowAndDuckdbReadsAsItsWriterWasGiven) {
  const fs::path dir = testsupport::ParquetFixtureDir();
  if (dir.empty()) GTEST_SKIP() << testsupport::ParquetFixtureSkipReason();
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".parquet") continue;
    fs::path expected = entry.path();
    expected.replace_extension(".expected.jsonl");
    ASSERT_TRUE(fs::exists(expected)) << expected;
    ExpectFileMatches(entry.path(), expected, 1);
    ++files;
  }
  EXPECT_GE(files, 40u) << "the fixture set is incomplete";
}

TEST(ParquetInteropTest, ThreadsGiveTheSameRows) {
  const fs::path dir = testsupport::ParquetFixtureDir();
  if (dir.empty()) GTEST_SKIP() << testsupport::ParquetFixtureSkipReason();
  ExpectFileMatches(dir / "pa_mixed_snappy_v1.parquet", dir / "pa_mixed_snappy_v1.expected.jsonl",
                    4);
  ExpectFileMatches(dir / "pa_lists_v2.parquet", dir / "pa_lists_v2.expected.jsonl", 3);
}

// Decoded rows (what ReadParquetTable keeps) give every fixture's records exactly as the records
// read does, built one at a time last to first: every type, encoding, codec and list form.
TEST(ParquetInteropTest, DecodedRowsGiveEveryFixturesRecordsAtRandomAccess) {
  const fs::path dir = testsupport::ParquetFixtureDir();
  if (dir.empty()) GTEST_SKIP() << testsupport::ParquetFixtureSkipReason();
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".parquet") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const ParquetFileReader reader = ParquetFileReader::Open(entry.path().string());
    RecordReadOptions options;
    options.threads = 2;
    const DecodedRows rows(reader, options);
    std::vector<Record> got(rows.size());
    for (std::size_t row = rows.size(); row-- > 0;) rows.RecordAt(row, got[row]);
    testsupport::ExpectSameRecords(got, ReadAll(reader));
  }
}

TEST(ParquetInteropTest, ProjectionReadsOnlyTheNamedColumns) {
  const fs::path dir = testsupport::ParquetFixtureDir();
  if (dir.empty()) GTEST_SKIP() << testsupport::ParquetFixtureSkipReason();
  const ParquetFileReader reader =
      ParquetFileReader::Open((dir / "pa_mixed_snappy_v1.parquet").string());
  RecordReadOptions options;
  options.fields = {"score", "name.anything"};  // a dotted path selects its first part
  RecordReadStats stats;
  std::vector<Record> records;
  stats = ReadParquetRecords(reader, options,
                             [&](Record& record) { records.push_back(std::move(record)); });
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(stats.column_chunks_read, 2 * stats.row_groups_read);
  for (const Record& record : records) {
    for (const Field& field : record.fields()) {
      EXPECT_TRUE(field.name == "score" || field.name == "name") << field.name;
    }
  }
}

TEST(ParquetInteropTest, RowGroupsOutsideAFiltersRangeAreSkipped) {
  const fs::path dir = testsupport::ParquetFixtureDir();
  if (dir.empty()) GTEST_SKIP() << testsupport::ParquetFixtureSkipReason();
  const ParquetFileReader reader =
      ParquetFileReader::Open((dir / "pa_row_groups_sorted.parquet").string());
  ASSERT_GT(reader.metadata().row_groups.size(), 2u);
  const std::vector<Record> all = ReadAll(reader);
  // The fixture's column "key" is sorted: pick a value inside the last row group.
  const std::string column = "key";
  const Value last = all.back().FindField(column)->value;
  const Expr filter = Where(column, Op::kGte, last);
  RecordReadOptions options;
  options.filter = &filter;
  std::vector<Record> read;
  const RecordReadStats stats = ReadParquetRecords(
      reader, options, [&](Record& record) { read.push_back(std::move(record)); });
  EXPECT_EQ(stats.row_groups_read, 1u);
  EXPECT_EQ(stats.row_groups_skipped, reader.metadata().row_groups.size() - 1);
  // Every matching row is among those read.
  std::size_t matching = 0;
  for (const Record& record : all) matching += Matches(filter, record);
  std::size_t matching_read = 0;
  for (const Record& record : read) matching_read += Matches(filter, record);
  EXPECT_GT(matching, 0u);
  EXPECT_EQ(matching_read, matching);
  // A filter no statistic can decide reads everything.
  const Expr undecided = !Where(column, Op::kEq, last);
  options.filter = &undecided;
  const RecordReadStats all_stats = ReadParquetRecords(reader, options, [](Record&) {});
  EXPECT_EQ(all_stats.row_groups_skipped, 0u);
}

}  // namespace
}  // namespace dkdata::internal::parquet
