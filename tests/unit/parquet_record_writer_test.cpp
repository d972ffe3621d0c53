// Records written as Parquet (formats/parquet/parquet_record_writer.cpp) on several threads: the
// columns are planned in slices of records and the row groups filled and encoded at once, yet the
// file and any error are those of one thread. Named *Concurrency* so that the TSan job runs it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/parquet.hpp"
#include "formats/parquet/parquet_records.hpp"
#include "parquet_test_support.hpp"

namespace dkdata {
namespace {

namespace fs = std::filesystem;
using internal::parquet::RecordWriteOptions;
using internal::parquet::WriteParquetRecords;

// 15 000 records whose columns the slices of records see differently: "mixed" holds ints, then
// strings (from row 9 000: in the last of 3 slices, inside the second of 2); "late" first appears
// at row 11 000; "price" is declared a float and given ints; plus ids, versions, explicit nulls,
// field metadata, vectors, bytes, timestamps and text fields.
std::vector<Record> VariedRecords() {
  std::vector<Record> records;
  for (int i = 0; i < 15000; ++i) {
    Record record;
    if (i % 17 != 0) record.set_id("r" + std::to_string(i));
    record.set_version(static_cast<std::uint64_t>(i % 5));
    record.Set("n", i);
    record.Set("s", "s" + std::to_string(i % 300));
    record.Set("mixed", i < 9000 ? Value(i) : Value("m" + std::to_string(i)));
    if (i >= 11000) record.Set("late", i / 2.0);
    if (i % 3 == 0) record.Set("vec", Vector{static_cast<float>(i), 0.5f});
    if (i % 2 == 0) record.Set("when", Timestamp{1'700'000'000'000'000 + i});
    if (i % 7 == 0) record.Set("blob", Bytes{std::string(i % 5, '\x01')});
    record.Set(i % 11 == 0 ? Field("maybe", Value(), FieldType::kBoolean)
                           : Field("maybe", Value(i % 2 == 0)));
    if (i % 13 == 0) record.Set(Field("note", Value("long text"), FieldType::kText));
    record.Set("price", i % 100);
    if (i % 500 == 0) record.mutable_fields()[0].metadata.Set("unit", Value("count"));
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<const Record*> Pointers(const std::vector<Record>& records) {
  std::vector<const Record*> pointers;
  for (const Record& record : records) pointers.push_back(&record);
  return pointers;
}

std::string WriteToString(const std::vector<Record>& records, unsigned threads,
                          std::size_t row_group_rows) {
  RecordWriteOptions options;
  options.writer.threads = threads;
  options.row_group_rows = row_group_rows;
  options.schema = {{"price", FieldType::kFloat}};
  std::string file;
  WriteParquetRecords(Pointers(records), options,
                      [&](std::string_view bytes) { file.append(bytes); });
  return file;
}

TEST(ParquetRecordWriterConcurrencyTest, TheFileIsTheSameAtAnyThreadCount) {
  const std::vector<Record> records = VariedRecords();
  // 15 row groups (filled and encoded at once), and one (its rows filled in slices).
  for (std::size_t row_group_rows : {std::size_t{1000}, std::size_t{1} << 20}) {
    const std::string one_thread = WriteToString(records, 1, row_group_rows);
    for (unsigned threads : {2u, 3u}) {
      EXPECT_TRUE(WriteToString(records, threads, row_group_rows) == one_thread)
          << threads << " threads, row groups of " << row_group_rows << " rows";
    }
  }
  // And the file holds the records.
  const fs::path path = fs::temp_directory_path() /
                        ("dkdata-record-writer-" + std::to_string(::getpid()) + ".parquet");
  ParquetWriteOptions options;
  options.threads = 3;
  options.row_group_size = 1000;
  options.schema = {{"price", FieldType::kFloat}};
  WriteParquet(path.string(), records, options);
  const std::vector<Record> read = ReadParquet(path.string());
  fs::remove(path);
  testsupport::ExpectSameRecords(read, records);
}

TEST(ParquetRecordWriterConcurrencyTest, AnErrorNamesTheFirstBadRecordAtAnyThreadCount) {
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    // A reserved field name, in a record of each slice of records.
    std::vector<Record> records = VariedRecords();
    records[14000].Set("__version__", 1);
    records[5000].Set("__version__", 1);
    testsupport::ExpectError([&] { WriteToString(records, threads, 1000); },
                             ErrorCode::kInvalidArgument, {"record 'r5000'", "reserved"});
    // A string that is not UTF-8, in several row groups, or in several slices of one.
    records = VariedRecords();
    records[12345].Set("s", std::string("\xff"));
    records[2345].Set("s", std::string("\xfe"));
    for (std::size_t row_group_rows : {std::size_t{1000}, std::size_t{1} << 20}) {
      testsupport::ExpectError([&] { WriteToString(records, threads, row_group_rows); },
                               ErrorCode::kInvalidArgument, {"record 'r2345'", "UTF-8"});
    }
  }
}

}  // namespace
}  // namespace dkdata
