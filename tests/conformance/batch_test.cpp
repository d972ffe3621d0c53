// Batch forms: CreateBatch, ReadBatch, UpdateBatch, DeleteBatch (include/dkdata/database.hpp).
// CreateBatch is all-or-nothing where capabilities().atomic_batch; otherwise the items before the
// failing one stay stored.
#include <gtest/gtest.h>

#include <limits>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

class BatchTest : public BackendTest {};

TEST_P(BatchTest, CreateBatchReturnsIdsInInputOrder) {
  const std::vector<Record> records = {
      MakeRecord("b1", {{"n", 1}}),
      Record{{"id", "from-field"}, {"n", 2}},
      Record{{"n", 3}},  // generated id
      MakeRecord("b0", {{"n", 4}}),
  };
  const std::vector<std::string> ids = db_->CreateBatch(records);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], "b1");
  EXPECT_EQ(ids[1], "from-field");
  EXPECT_EQ(ids[3], "b0");
  EXPECT_EQ(ids[2].size(), 36u) << "a generated UUID: " << ids[2];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto got = db_->Read(ids[i]);
    ASSERT_TRUE(got.has_value()) << ids[i];
    EXPECT_EQ(*got->Get("n"), *records[i].Get("n")) << "item " << i << " stored under its id";
    EXPECT_EQ(got->version(), 1u);
  }
  EXPECT_EQ(db_->Count(), 4u);
}

TEST_P(BatchTest, EmptyBatchesDoNothing) {
  EXPECT_TRUE(db_->CreateBatch({}).empty());
  EXPECT_TRUE(db_->ReadBatch({}).empty());
  EXPECT_TRUE(db_->UpdateBatch({}).empty());
  EXPECT_TRUE(db_->DeleteBatch({}).empty());
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(BatchTest, CreateBatchWithDuplicateIdInsideTheBatchFails) {
  const std::vector<Record> records = {
      MakeRecord("x", {{"n", 1}}),
      MakeRecord("y", {{"n", 2}}),
      MakeRecord("x", {{"n", 3}}),
      MakeRecord("z", {{"n", 4}}),
  };
  EXPECT_DKDATA_ERROR(db_->CreateBatch(records), ErrorCode::kAlreadyExists);
  if (db_->capabilities().atomic_batch) {
    EXPECT_EQ(db_->Count(), 0u) << "an atomic batch stores nothing when one item fails";
    EXPECT_FALSE(db_->Exists("x"));
    EXPECT_FALSE(db_->Exists("y"));
    EXPECT_FALSE(db_->Exists("z"));
  } else {
    // The items before the failure stay stored; the first "x" wins.
    EXPECT_TRUE(db_->Exists("y"));
    const auto x = db_->Read("x");
    ASSERT_TRUE(x.has_value());
    EXPECT_EQ(*x->Get("n"), Value(1));
    EXPECT_EQ(x->version(), 1u);
  }
}

TEST_P(BatchTest, CreateBatchWithAnExistingIdFails) {
  db_->Create(MakeRecord("existing", {{"n", 0}}));
  const std::vector<Record> records = {
      MakeRecord("new1", {{"n", 1}}),
      MakeRecord("existing", {{"n", 2}}),
      MakeRecord("new2", {{"n", 3}}),
  };
  EXPECT_DKDATA_ERROR(db_->CreateBatch(records), ErrorCode::kAlreadyExists);
  const auto existing = db_->Read("existing");
  ASSERT_TRUE(existing.has_value());
  EXPECT_EQ(*existing->Get("n"), Value(0)) << "the stored record is untouched";
  EXPECT_EQ(existing->version(), 1u);
  if (db_->capabilities().atomic_batch) {
    EXPECT_FALSE(db_->Exists("new1"));
    EXPECT_FALSE(db_->Exists("new2"));
    EXPECT_EQ(db_->Count(), 1u);
  } else {
    EXPECT_TRUE(db_->Exists("new1")) << "items before the failure stay stored";
  }
}

TEST_P(BatchTest, CreateBatchWithNanFails) {
  const std::vector<Record> records = {
      MakeRecord("ok", {{"n", 1}}),
      MakeRecord("bad", {{"n", std::numeric_limits<double>::quiet_NaN()}}),
  };
  EXPECT_DKDATA_ERROR(db_->CreateBatch(records), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(db_->Exists("bad"));
  if (db_->capabilities().atomic_batch) {
    EXPECT_FALSE(db_->Exists("ok"));
  }
}

TEST_P(BatchTest, ReadBatchPutsNulloptWhereAnIdIsMissing) {
  db_->CreateBatch({MakeRecord("r1", {{"n", 1}}), MakeRecord("r2", {{"n", 2}})});
  const auto got = db_->ReadBatch({"r2", "missing", "r1", "also-missing", "r2"});
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->id(), std::optional<std::string>("r2"));
  EXPECT_EQ(*got[0]->Get("n"), Value(2));
  EXPECT_EQ(got[0]->version(), 1u);
  EXPECT_FALSE(got[1].has_value());
  ASSERT_TRUE(got[2].has_value());
  EXPECT_EQ(got[2]->id(), std::optional<std::string>("r1"));
  EXPECT_EQ(*got[2]->Get("n"), Value(1));
  EXPECT_FALSE(got[3].has_value());
  ASSERT_TRUE(got[4].has_value());
  EXPECT_EQ(got[4]->id(), std::optional<std::string>("r2"));
}

TEST_P(BatchTest, UpdateBatchReportsPerItem) {
  db_->CreateBatch({MakeRecord("a", {{"n", 1}}), MakeRecord("b", {{"n", 1}})});
  const std::vector<bool> results = db_->UpdateBatch({
      {"a", Record{{"n", 10}}},
      {"missing", Record{{"n", 20}}},
      {"b", Record{{"n", 30}}},
  });
  EXPECT_EQ(results, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(*db_->Read("a")->Get("n"), Value(10));
  EXPECT_EQ(*db_->Read("b")->Get("n"), Value(30));
  EXPECT_EQ(db_->Read("a")->version(), 2u);
  EXPECT_EQ(db_->Read("b")->version(), 2u);
  EXPECT_FALSE(db_->Exists("missing")) << "update never creates";
  EXPECT_EQ(db_->Count(), 2u);
}

TEST_P(BatchTest, DeleteBatchReportsPerItem) {
  db_->CreateBatch(
      {MakeRecord("a", {{"n", 1}}), MakeRecord("b", {{"n", 2}}), MakeRecord("c", {{"n", 3}})});
  const std::vector<bool> results = db_->DeleteBatch({"a", "missing", "c", "a"});
  EXPECT_EQ(results, (std::vector<bool>{true, false, true, false}))
      << "the second delete of 'a' finds nothing";
  EXPECT_FALSE(db_->Exists("a"));
  EXPECT_TRUE(db_->Exists("b"));
  EXPECT_FALSE(db_->Exists("c"));
  EXPECT_EQ(db_->Count(), 1u);
}

TEST_P(BatchTest, CreateBatchDoesNotMutateTheCallersRecords) {
  const std::vector<Record> records = {Record{{"n", 1}}, Record{{"n", 2}}};
  const std::vector<Record> before = records;
  db_->CreateBatch(records);
  EXPECT_EQ(records, before);
}

TEST_P(BatchTest, LargeBatchRoundTrips) {
  std::vector<Record> records;
  std::vector<std::string> want_ids;
  for (int i = 0; i < 1000; ++i) {
    want_ids.push_back("big" + std::to_string(i));
    records.push_back(MakeRecord(want_ids.back(), {{"i", i}}));
  }
  EXPECT_EQ(db_->CreateBatch(records), want_ids);
  EXPECT_EQ(db_->Count(), 1000u);
  const auto got = db_->ReadBatch(want_ids);
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(got[i].has_value()) << i;
    EXPECT_EQ(*got[i]->Get("i"), Value(i));
  }
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(BatchTest);

}  // namespace
}  // namespace dkdata::conformance
