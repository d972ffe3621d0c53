// Count, Clear, StreamRead and StreamWrite (include/dkdata/database.hpp; docs/query-semantics.md,
// "Counting").
#include <gtest/gtest.h>

#include <limits>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

class CountStreamTest : public BackendTest {
 protected:
  // 100 records n = 0..99 with a few derived fields; ids "s000".."s099".
  void LoadHundred() {
    std::vector<Record> records;
    for (int n = 0; n < 100; ++n) {
      char id[8];
      std::snprintf(id, sizeof id, "s%03d", n);
      Record record = MakeRecord(id, {{"n", n}, {"mod", n % 7}});
      if (n % 10 != 4) record.Set("even", n % 2 == 0);
      records.push_back(std::move(record));
    }
    Load(records);
  }

  // Reads a whole cursor, checking every batch's size.
  std::vector<Record> Drain(RecordCursor& cursor, std::size_t batch_size) {
    std::vector<Record> all;
    std::vector<Record> batch{Record{{"garbage", 1}}};  // NextBatch clears it first
    int guard = 0;
    while (cursor.NextBatch(batch)) {
      EXPECT_FALSE(batch.empty()) << "NextBatch returned true with an empty batch";
      EXPECT_LE(batch.size(), batch_size);
      for (Record& r : batch) all.push_back(std::move(r));
      if (++guard > 10000) {
        ADD_FAILURE() << "the cursor never ends";
        break;
      }
    }
    EXPECT_TRUE(batch.empty()) << "after the last batch NextBatch leaves the batch empty";
    return all;
  }

  // A RecordSource over a vector.
  static RecordSource SourceOf(std::vector<Record> records) {
    auto shared = std::make_shared<std::vector<Record>>(std::move(records));
    auto next = std::make_shared<std::size_t>(0);
    return [shared, next]() -> std::optional<Record> {
      if (*next >= shared->size()) return std::nullopt;
      return (*shared)[(*next)++];
    };
  }
};

// ---- Count and Clear ----

TEST_P(CountStreamTest, CountEqualsTheSizeOfTheUnpagedSearch) {
  EXPECT_EQ(db_->Count(), 0u);
  LoadHundred();
  EXPECT_EQ(db_->Count(), 100u);
  EXPECT_EQ(db_->Count(Expr()), 100u);
  const std::vector<Expr> filters = {
      Where("n", Op::kLt, 10),
      Where("mod", Op::kEq, 3),
      Where("even", Op::kEq, true),
      Where("even", Op::kNotExists),
      !Where("even", Op::kEq, true),
      Where("n", Op::kGt, 1000),
      Where("mod", Op::kIn, List{1, 2}) && Where("n", Op::kBetween, List{10, 60}),
  };
  const std::vector<std::size_t> expected = {10, 14, 40, 10, 60, 0, 14};
  for (std::size_t i = 0; i < filters.size(); ++i) {
    SCOPED_TRACE(Describe(filters[i]));
    EXPECT_EQ(db_->Count(filters[i]), expected[i]);
    EXPECT_EQ(db_->Search(Query(filters[i])).size(), expected[i]);
  }
}

TEST_P(CountStreamTest, ClearReturnsHowManyThereWere) {
  EXPECT_EQ(db_->Clear(), 0u);
  LoadHundred();
  EXPECT_EQ(db_->Clear(), 100u);
  EXPECT_EQ(db_->Count(), 0u);
  EXPECT_TRUE(db_->All().empty());
  EXPECT_FALSE(db_->Exists("s000"));
  EXPECT_EQ(db_->Clear(), 0u);
  // The ids are free again.
  EXPECT_EQ(db_->Create(MakeRecord("s000", {{"n", 0}})), "s000");
  EXPECT_EQ(db_->Read("s000")->version(), 1u);
  EXPECT_EQ(db_->Count(), 1u);
}

// ---- StreamRead ----

TEST_P(CountStreamTest, StreamReadYieldsSmallBatchesInSearchOrder) {
  LoadHundred();
  StreamOptions options;
  options.batch_size = 7;
  for (const Query& query : {Query(), Query().Sort("mod").Sort("n", SortOrder::kDesc),
                             Query(Where("even", Op::kEq, true)).Sort("n", SortOrder::kDesc),
                             Query().Sort("n").Offset(5).Limit(50)}) {
    SCOPED_TRACE(Describe(query));
    auto cursor = db_->StreamRead(query, options);
    ASSERT_NE(cursor, nullptr);
    const std::vector<Record> streamed = Drain(*cursor, 7);
    const std::vector<Record> searched = db_->Search(query);
    EXPECT_EQ(IdsOf(streamed), IdsOf(searched));
    EXPECT_TRUE(streamed == searched) << "streamed records must equal the searched ones";
  }
}

TEST_P(CountStreamTest, StreamReadOfAllHundredRecordsTakesFifteenBatchesOfAtMostSeven) {
  LoadHundred();
  StreamOptions options;
  options.batch_size = 7;
  auto cursor = db_->StreamRead(Query(), options);
  ASSERT_NE(cursor, nullptr);
  std::vector<Record> batch;
  std::size_t total = 0, batches = 0;
  while (cursor->NextBatch(batch)) {
    ASSERT_LE(batch.size(), 7u);
    ASSERT_FALSE(batch.empty());
    total += batch.size();
    ++batches;
    ASSERT_LT(batches, 1000u);
  }
  EXPECT_EQ(total, 100u);
  EXPECT_GE(batches, 15u) << "100 records in batches of at most 7";
}

TEST_P(CountStreamTest, StreamReadOfNothing) {
  LoadHundred();
  auto cursor = db_->StreamRead(Query(Where("n", Op::kGt, 1000)));
  ASSERT_NE(cursor, nullptr);
  std::vector<Record> batch;
  EXPECT_FALSE(cursor->NextBatch(batch));
  EXPECT_TRUE(batch.empty());
}

// ---- StreamWrite ----

TEST_P(CountStreamTest, StreamWriteReportsEachFailureWithItsIndex) {
  db_->Create(MakeRecord("w3", {{"old", true}}));
  db_->Create(MakeRecord("w7", {{"old", true}}));
  std::vector<Record> input;
  for (int i = 0; i < 10; ++i) input.push_back(MakeRecord("w" + std::to_string(i), {{"i", i}}));
  const StreamResult result = db_->StreamWrite(SourceOf(input));
  EXPECT_EQ(result.processed, 10u);
  EXPECT_EQ(result.succeeded, 8u);
  EXPECT_EQ(result.failed, 2u);
  EXPECT_EQ(result.skipped, 0u);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].index, 3u);
  EXPECT_EQ(result.errors[0].id, std::optional<std::string>("w3"));
  EXPECT_FALSE(result.errors[0].message.empty());
  EXPECT_EQ(result.errors[1].index, 7u);
  EXPECT_EQ(result.errors[1].id, std::optional<std::string>("w7"));
  EXPECT_EQ(db_->Count(), 10u);
  EXPECT_TRUE(db_->Read("w3")->Has("old")) << "a failed item leaves the stored record alone";
  EXPECT_EQ(*db_->Read("w9")->Get("i"), Value(9));
}

TEST_P(CountStreamTest, StreamWriteStopOnErrorCountsTheRestAsSkipped) {
  db_->Create(MakeRecord("w3", {{"old", true}}));
  std::vector<Record> input;
  for (int i = 0; i < 10; ++i) input.push_back(MakeRecord("w" + std::to_string(i), {{"i", i}}));
  StreamOptions options;
  options.stop_on_error = true;
  const StreamResult result = db_->StreamWrite(SourceOf(input), options);
  EXPECT_EQ(result.succeeded, 3u);
  EXPECT_EQ(result.failed, 1u);
  EXPECT_EQ(result.skipped, 6u);
  EXPECT_EQ(result.processed, 10u) << "processed = succeeded + failed + skipped";
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].index, 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(db_->Exists("w" + std::to_string(i))) << i;
  for (int i = 4; i < 10; ++i) EXPECT_FALSE(db_->Exists("w" + std::to_string(i))) << i;
}

TEST_P(CountStreamTest, StreamWriteUpsertReplacesExistingRecords) {
  db_->Create(MakeRecord("w1", {{"old", true}}));
  std::vector<Record> input;
  for (int i = 0; i < 4; ++i) input.push_back(MakeRecord("w" + std::to_string(i), {{"i", i}}));
  StreamOptions options;
  options.upsert = true;
  const StreamResult result = db_->StreamWrite(SourceOf(input), options);
  EXPECT_EQ(result.processed, 4u);
  EXPECT_EQ(result.succeeded, 4u);
  EXPECT_EQ(result.failed, 0u);
  EXPECT_TRUE(result.errors.empty());
  const auto w1 = db_->Read("w1");
  ASSERT_TRUE(w1.has_value());
  EXPECT_EQ(*w1->Get("i"), Value(1));
  EXPECT_FALSE(w1->Has("old"));
  EXPECT_EQ(w1->version(), 2u);
  EXPECT_EQ(db_->Count(), 4u);
}

TEST_P(CountStreamTest, StreamWriteOfInvalidRecordsAndGeneratedIds) {
  std::vector<Record> input = {
      Record{{"a", 1}},
      Record{{"bad", std::numeric_limits<double>::quiet_NaN()}},
      Record{{"id", "by-field"}, {"a", 3}},
  };
  const StreamResult result = db_->StreamWrite(SourceOf(input));
  EXPECT_EQ(result.processed, 3u);
  EXPECT_EQ(result.succeeded, 2u);
  EXPECT_EQ(result.failed, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].index, 1u);
  EXPECT_NE(result.errors[0].message.find("bad"), std::string::npos)
      << "the message names the field: " << result.errors[0].message;
  EXPECT_EQ(db_->Count(), 2u);
  EXPECT_TRUE(db_->Exists("by-field"));
}

TEST_P(CountStreamTest, StreamWriteKeepsTheFirstHundredErrors) {
  for (int i = 0; i < 150; ++i) db_->Create(MakeRecord("d" + std::to_string(i), {{"i", i}}));
  std::vector<Record> input;
  for (int i = 0; i < 150; ++i) input.push_back(MakeRecord("d" + std::to_string(i), {{"i", -i}}));
  const StreamResult result = db_->StreamWrite(SourceOf(input));
  EXPECT_EQ(result.processed, 150u);
  EXPECT_EQ(result.failed, 150u);
  ASSERT_EQ(result.errors.size(), 100u);
  EXPECT_EQ(result.errors.front().index, 0u);
  EXPECT_EQ(result.errors.back().index, 99u);
}

TEST_P(CountStreamTest, StreamWriteOfAnEmptySource) {
  const StreamResult result = db_->StreamWrite([]() -> std::optional<Record> { return {}; });
  EXPECT_EQ(result.processed, 0u);
  EXPECT_EQ(result.succeeded, 0u);
  EXPECT_EQ(result.failed, 0u);
  EXPECT_EQ(result.skipped, 0u);
  EXPECT_TRUE(result.errors.empty());
}

TEST_P(CountStreamTest, StreamWriteOfManyRecordsInSmallBatches) {
  std::vector<Record> input;
  for (int i = 0; i < 1000; ++i) input.push_back(MakeRecord("m" + std::to_string(i), {{"i", i}}));
  StreamOptions options;
  options.batch_size = 64;
  const StreamResult result = db_->StreamWrite(SourceOf(input), options);
  EXPECT_EQ(result.processed, 1000u);
  EXPECT_EQ(result.succeeded, 1000u);
  EXPECT_EQ(db_->Count(), 1000u);
  EXPECT_EQ(*db_->Read("m999")->Get("i"), Value(999));
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(CountStreamTest);

}  // namespace
}  // namespace dkdata::conformance
