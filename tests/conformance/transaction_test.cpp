// Transactions (capabilities().transactions; include/dkdata/database.hpp, class Transaction):
// all-or-nothing, the beginning thread's calls run inside, other threads wait, destruction rolls
// back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

class TransactionTest : public BackendTest {
 protected:
  void LoadThree() {
    Load(
        {MakeRecord("t1", {{"n", 1}}), MakeRecord("t2", {{"n", 2}}), MakeRecord("t3", {{"n", 3}})});
  }

  // The stored value of n for id, or -1 when absent.
  std::int64_t N(const std::string& id) {
    const auto record = db_->Read(id);
    if (!record || record->Get("n") == nullptr) return -1;
    return record->Get("n")->AsInt();
  }
};

TEST_P(TransactionTest, WithoutTheCapabilityBeginIsUnsupported) {
  if (db_->capabilities().transactions) {
    GTEST_SKIP() << "backend " << context().name << " has transactions";
  }
  EXPECT_DKDATA_ERROR(db_->BeginTransaction(), ErrorCode::kUnsupported);
}

TEST_P(TransactionTest, CommitKeepsEveryWrite) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  auto txn = db_->BeginTransaction();
  ASSERT_NE(txn, nullptr);
  EXPECT_TRUE(txn->active());
  db_->Create(MakeRecord("t4", {{"n", 4}}));
  ASSERT_TRUE(db_->Update("t1", Record{{"n", 10}}));
  ASSERT_TRUE(db_->Delete("t2"));
  db_->Upsert("t3", Record{{"n", 30}});
  txn->Commit();
  EXPECT_FALSE(txn->active());
  EXPECT_EQ(N("t1"), 10);
  EXPECT_EQ(N("t2"), -1);
  EXPECT_EQ(N("t3"), 30);
  EXPECT_EQ(N("t4"), 4);
  EXPECT_EQ(db_->Count(), 3u);
  EXPECT_EQ(db_->Read("t1")->version(), 2u);
}

TEST_P(TransactionTest, RollbackUndoesEveryWrite) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  const std::vector<Record> before = db_->All();
  auto txn = db_->BeginTransaction();
  db_->Create(MakeRecord("t4", {{"n", 4}}));
  db_->Update("t1", Record{{"n", 10}});
  db_->Delete("t2");
  db_->CreateBatch({MakeRecord("t5", {{"n", 5}}), MakeRecord("t6", {{"n", 6}})});
  db_->UpdateBatch({{"t3", Record{{"n", 30}}}});
  db_->Clear();
  txn->Rollback();
  EXPECT_FALSE(txn->active());
  EXPECT_TRUE(db_->All() == before) << "a rolled-back transaction leaves no trace";
}

TEST_P(TransactionTest, DestroyingAnUncommittedTransactionRollsBack) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  {
    auto txn = db_->BeginTransaction();
    db_->Create(MakeRecord("t4", {{"n", 4}}));
    db_->Update("t1", Record{{"n", 10}});
  }
  EXPECT_EQ(N("t4"), -1);
  EXPECT_EQ(N("t1"), 1);
  EXPECT_EQ(db_->Read("t1")->version(), 1u);
}

TEST_P(TransactionTest, ReadsInsideSeeTheTransactionsOwnWrites) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  auto txn = db_->BeginTransaction();
  db_->Create(MakeRecord("t4", {{"n", 4}}));
  db_->Delete("t1");
  EXPECT_EQ(N("t4"), 4);
  EXPECT_FALSE(db_->Exists("t1"));
  EXPECT_EQ(db_->Count(), 3u);
  EXPECT_EQ(db_->Count(Where("n", Op::kGte, 3)), 2u);
  EXPECT_EQ(IdsOf(db_->Search(Query().Sort("n", SortOrder::kDesc))),
            (std::vector<std::string>{"t4", "t3", "t2"}));
  txn->Rollback();
  EXPECT_EQ(db_->Count(), 3u);
  EXPECT_TRUE(db_->Exists("t1"));
}

TEST_P(TransactionTest, EndingTwice) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  auto txn = db_->BeginTransaction();
  db_->Create(MakeRecord("t1", {{"n", 1}}));
  txn->Commit();
  EXPECT_DKDATA_ERROR(txn->Commit(), ErrorCode::kInvalidArgument);
  EXPECT_NO_THROW(txn->Rollback()) << "Rollback of an ended transaction does nothing";
  EXPECT_EQ(N("t1"), 1) << "a rollback after the commit undoes nothing";
  auto second = db_->BeginTransaction();
  second->Rollback();
  EXPECT_DKDATA_ERROR(second->Commit(), ErrorCode::kInvalidArgument);
}

TEST_P(TransactionTest, TransactionsDoNotNest) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  auto txn = db_->BeginTransaction();
  EXPECT_DKDATA_ERROR(db_->BeginTransaction(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(txn->active()) << "the refused nested begin leaves the open transaction alone";
  db_->Create(MakeRecord("t1", {{"n", 1}}));
  txn->Commit();
  EXPECT_EQ(N("t1"), 1);
  auto next = db_->BeginTransaction();  // a new one once the first has ended
  next->Commit();
}

TEST_P(TransactionTest, AFailedWriteInsideLeavesTheTransactionUsable) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  auto txn = db_->BeginTransaction();
  db_->Create(MakeRecord("t4", {{"n", 4}}));
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("t1", {{"n", 99}})), ErrorCode::kAlreadyExists);
  EXPECT_DKDATA_ERROR(db_->Update("t2", Record{{"n", 99}}, 7), ErrorCode::kConflict);
  if (db_->capabilities().atomic_batch) {
    EXPECT_DKDATA_ERROR(
        db_->CreateBatch({MakeRecord("t5", {{"n", 5}}), MakeRecord("t3", {{"n", 99}})}),
        ErrorCode::kAlreadyExists);
    EXPECT_FALSE(db_->Exists("t5")) << "the failed batch is undone inside the transaction";
  }
  EXPECT_TRUE(txn->active());
  txn->Commit();
  EXPECT_EQ(N("t4"), 4) << "writes before the failures are committed";
  EXPECT_EQ(N("t1"), 1);
  EXPECT_EQ(N("t2"), 2);
  EXPECT_EQ(N("t3"), 3);
  EXPECT_FALSE(db_->Exists("t5"));
}

TEST_P(TransactionTest, OtherThreadsWaitUntilTheTransactionEnds) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  auto txn = db_->BeginTransaction();
  ASSERT_TRUE(db_->Update("t1", Record{{"n", 10}}));
  std::atomic<bool> done{false};
  std::int64_t seen = 0;
  std::thread other([&] {
    seen = N("t1");  // waits: the transaction belongs to the main thread
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load()) << "another thread's call ran inside or beside an open transaction";
  txn->Commit();
  other.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(seen, 10) << "the waiting thread sees the committed write";
}

TEST_P(TransactionTest, AnotherThreadsRolledBackWritesAreNeverSeen) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  LoadThree();
  std::atomic<bool> began{false};
  std::atomic<bool> release{false};
  std::thread writer([&] {
    auto txn = db_->BeginTransaction();
    db_->Update("t1", Record{{"n", 10}});
    db_->Create(MakeRecord("t4", {{"n", 4}}));
    began = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    txn->Rollback();
  });
  while (!began) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  release = true;
  EXPECT_EQ(N("t1"), 1);  // runs after the other thread's rollback
  EXPECT_FALSE(db_->Exists("t4"));
  writer.join();
}

TEST_P(TransactionTest, CloseRollsBackAnOpenTransaction) {
  DKDATA_REQUIRE_CAPABILITY(transactions);
  auto txn = db_->BeginTransaction();
  db_->Create(MakeRecord("t1", {{"n", 1}}));
  db_->Close();
  EXPECT_DKDATA_ERROR(txn->Commit(), ErrorCode::kUnavailable);
  EXPECT_NO_THROW(txn->Rollback());
  EXPECT_DKDATA_ERROR(db_->BeginTransaction(), ErrorCode::kUnavailable);
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(TransactionTest);

}  // namespace
}  // namespace dkdata::conformance
