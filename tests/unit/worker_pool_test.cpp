// WorkerPool (src/core/worker_pool.hpp): every task runs exactly once per round, rounds do not
// mix, a task's exception reaches Wait after the other tasks ran, and the caller may work while a
// round runs, and the exception rethrown is the lowest-numbered task's; RunInOrder finishes tasks
// in order, with one task per thread under way, and stops at the earliest failure. Named
// *Concurrency* so that the TSan job runs it.
#include "core/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

TEST(WorkerPoolConcurrencyTest, TheLowestNumberedTasksExceptionIsRethrown) {
  WorkerPool pool(3);
  for (int round = 0; round < 20; ++round) {
    try {
      pool.Run(50, [&](std::size_t i) {
        if (i == 3) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // fails after task 40
          throw std::runtime_error("task 3");
        }
        if (i == 40) throw std::runtime_error("task 40");
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& error) {
      ASSERT_STREQ(error.what(), "task 3") << "round " << round;
    }
  }
}

TEST(WorkerPoolConcurrencyTest, DestroyingThePoolWaitsForARoundStillRunning) {
  std::atomic<int> ran = 0;
  {
    WorkerPool pool(2);
    pool.Start(20, [&](std::size_t) { ran.fetch_add(1); });
  }  // no Wait: the destructor finishes the round
  EXPECT_EQ(ran.load(), 20);
}

TEST(WorkerPoolConcurrencyTest, RunInOrderFinishesInOrderWithAtMostOneTaskPerThreadUnderWay) {
  for (unsigned threads : {1u, 2u, 3u}) {
    WorkerPool pool(threads);
    std::vector<std::atomic<bool>> slot_busy(threads);
    std::atomic<int> under_way = 0;
    std::atomic<int> most_under_way = 0;
    std::vector<std::size_t> finished;  // written by finish only, one at a time
    pool.RunInOrder(
        40,
        [&](std::size_t i) {
          // Task i's slot is its own until its finish returns.
          EXPECT_FALSE(slot_busy[i % threads].exchange(true)) << "task " << i;
          const int now = under_way.fetch_add(1) + 1;
          int most = most_under_way.load();
          while (now > most && !most_under_way.compare_exchange_weak(most, now)) {
          }
          // Later tasks often finish their work first.
          std::this_thread::sleep_for(std::chrono::microseconds((40 - i) % 7 * 100));
        },
        [&](std::size_t i) {
          finished.push_back(i);
          under_way.fetch_sub(1);
          slot_busy[i % threads] = false;
        });
    ASSERT_EQ(finished.size(), 40u) << threads << " threads";
    for (std::size_t i = 0; i < finished.size(); ++i) ASSERT_EQ(finished[i], i);
    EXPECT_LE(most_under_way.load(), static_cast<int>(threads));
  }
}

TEST(WorkerPoolConcurrencyTest, RunInOrderRethrowsTheEarliestFailureAndFinishesOnlyTasksBefore) {
  WorkerPool pool(3);
  std::vector<std::size_t> finished;
  try {
    pool.RunInOrder(
        30,
        [&](std::size_t i) {
          if (i == 9) throw std::runtime_error("task 9");  // at once
          if (i == 5) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            throw std::runtime_error("task 5");  // later, but earlier in the order
          }
        },
        [&](std::size_t i) { finished.push_back(i); });
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "task 5");
  }
  EXPECT_EQ(finished, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  // A failing finish stops the tasks after it too.
  finished.clear();
  EXPECT_THROW(pool.RunInOrder(
                   10, [](std::size_t) {},
                   [&](std::size_t i) {
                     if (i == 2) throw std::runtime_error("finish 2");
                     finished.push_back(i);
                   }),
               std::runtime_error);
  EXPECT_EQ(finished, (std::vector<std::size_t>{0, 1}));
}

}  // namespace
}  // namespace dkdata::internal
