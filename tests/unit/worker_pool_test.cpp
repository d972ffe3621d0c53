// WorkerPool (src/core/worker_pool.hpp): every task runs exactly once per round, rounds do not
// mix, a task's exception reaches Wait after the other tasks ran, and the caller may work while a
// round runs. Named *Concurrency* so that the TSan job runs it.
#include "core/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dkdata::internal {
namespace {

TEST(WorkerPoolConcurrencyTest, EveryTaskRunsOnceInEveryRound) {
  for (unsigned threads : {1u, 2u, 4u}) {
    WorkerPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int round = 0; round < 200; ++round) {
      std::vector<std::atomic<int>> runs(37);
      pool.Run(runs.size(), [&](std::size_t i) { runs[i].fetch_add(1); });
      for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << threads << " threads, round " << round;
    }
  }
}

TEST(WorkerPoolConcurrencyTest, StartReturnsBeforeTheRoundAndWaitFinishesIt) {
  WorkerPool pool(2);
  std::atomic<bool> release = false;
  std::atomic<int> sum = 0;
  // The tasks wait for the caller: Start must return while they are not done, and Wait (which
  // runs tasks on the caller too) must end only when all of them are.
  pool.Start(100, [&](std::size_t i) {
    while (!release.load()) std::this_thread::yield();
    sum.fetch_add(static_cast<int>(i));
  });
  EXPECT_LT(sum.load(), 4950);
  release = true;
  pool.Wait();
  EXPECT_EQ(sum.load(), 4950);
  pool.Wait();  // no round: returns at once
}

TEST(WorkerPoolConcurrencyTest, AFailingTaskIsRethrownAfterTheOthersRan) {
  WorkerPool pool(3);
  std::atomic<int> ran = 0;
  EXPECT_THROW(pool.Run(50,
                        [&](std::size_t i) {
                          ran.fetch_add(1);
                          if (i == 7) throw std::runtime_error("task 7");
                        }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 50);
  // The pool is usable after a failure.
  ran = 0;
  pool.Run(10, [&](std::size_t) { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 10);
}

TEST(WorkerPoolConcurrencyTest, DestroyingThePoolWaitsForARoundStillRunning) {
  std::atomic<int> ran = 0;
  {
    WorkerPool pool(2);
    pool.Start(20, [&](std::size_t) { ran.fetch_add(1); });
  }  // no Wait: the destructor finishes the round
  EXPECT_EQ(ran.load(), 20);
}

}  // namespace
}  // namespace dkdata::internal
