// Many threads on one memory database at once: run under TSan by scripts/test.sh.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

TEST(MemoryConcurrencyTest, ReadersAndWritersInterleaveWithoutLosingWrites) {
  auto db = OpenDatabase("memory://");
  db->CreateIndex({"group", IndexKind::kHash});
  constexpr int kWriters = 3, kPerWriter = 400;
  std::atomic<bool> done{false};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        Record r{{"group", w}, {"n", i}};
        r.set_id(std::to_string(w) + "-" + std::to_string(i));
        db->Create(r);
        if (i % 4 == 0) db->Update(*r.id(), Record{{"group", w}, {"n", i + 1}});
        if (i % 10 == 0) db->Delete(*r.id());
      }
    });
  }
  for (int reader = 0; reader < 2; ++reader) {
    threads.emplace_back([&] {
      while (!done.load()) {
        reads += static_cast<long>(db->Search(Query().Filter("group", Op::kEq, 1).Limit(5)).size());
        reads += static_cast<long>(db->Count(Where("n", Op::kGte, 100)));
        auto cursor = db->StreamRead(Query(), {.batch_size = 50});
        std::vector<Record> batch;
        while (cursor->NextBatch(batch)) reads += static_cast<long>(batch.size());
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  const std::size_t expected_per_writer = kPerWriter - kPerWriter / 10;  // every 10th deleted
  EXPECT_EQ(db->Count(), kWriters * expected_per_writer);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(db->Count(Where("group", Op::kEq, w)), expected_per_writer);
  }
  const auto updated = db->Read("2-4");
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->version(), 2u);
  EXPECT_EQ(*updated->Get("n"), Value(5));
}

}  // namespace
}  // namespace dkdata
