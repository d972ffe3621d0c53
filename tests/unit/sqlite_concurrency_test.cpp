// Several threads on one SQLite store (src/backends/sqlite/README.md, "Thread-safety"): every call
// may come from any thread, cursors and transactions belong to the thread that opened them. Run
// under TSan by scripts/test.sh (the name matches 'Concurren').
#if DKDATA_HAVE_SQLITE
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

class SqliteConcurrencyTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("dkdata-sqlite-concurrency-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    db_ = GetParam() ? OpenDatabase("sqlite://" + (folder_ / "c.db").string())
                     : OpenDatabase("sqlite://:memory:");
  }
  void TearDown() override {
    db_->Close();
    std::filesystem::remove_all(folder_);
  }

  std::filesystem::path folder_;
  std::unique_ptr<Database> db_;
};

TEST_P(SqliteConcurrencyTest, MixedCallsFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  db_->CreateIndex({"thread", IndexKind::kHash});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          db_->Create(Record{{"id", id}, {"thread", t}, {"i", i}});
          if (i % 3 == 0) db_->Update(id, Record{{"thread", t}, {"i", i}, {"updated", true}});
          if (!db_->Read(id)) ++failures;
          if (i % 10 == 0) {
            db_->Count(Where("thread", Op::kEq, t));
            auto cursor = db_->StreamRead(Query(Where("thread", Op::kEq, t)), {7});
            std::vector<Record> batch;
            while (cursor->NextBatch(batch)) {
            }
          }
          if (i % 25 == 0) {
            auto txn = db_->BeginTransaction();
            db_->Create(Record{{"id", id + "-txn"}, {"thread", t}, {"i", -1}});
            txn->Commit();
          }
          if (i % 50 == 0) db_->CreateBatch({Record{{"id", id + "-b"}, {"thread", t}}});
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  // Per thread: kPerThread creates, one per transaction (i % 25), one per batch (i % 50).
  const std::size_t per_thread = kPerThread + kPerThread / 25 + kPerThread / 50;
  EXPECT_EQ(db_->Count(), kThreads * per_thread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(db_->Count(Where("thread", Op::kEq, t)), per_thread);
    EXPECT_EQ(db_->Count(Where("thread", Op::kEq, t) && Where("updated", Op::kEq, true)),
              static_cast<std::size_t>(kPerThread / 3));
  }
}

TEST_P(SqliteConcurrencyTest, CursorsOfSeveralThreadsInterleave) {
  for (int i = 0; i < 300; ++i) db_->Create(Record{{"id", "r" + std::to_string(i)}, {"n", i}});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      auto cursor = db_->StreamRead(Query().Sort("n"), {16});
      std::vector<Record> batch;
      std::int64_t expected = 0;
      while (cursor->NextBatch(batch)) {
        for (const Record& r : batch) {
          if (r.Get("n")->AsInt() != expected++) ++wrong;
        }
      }
      if (expected != 300) ++wrong;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, SqliteConcurrencyTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "file" : "memory";
                         });

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_SQLITE
