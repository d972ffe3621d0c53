#include "core/worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace dkdata::internal {

WorkerPool::WorkerPool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

WorkerPool::~WorkerPool() {
  if (started_) {
    try {
      Wait();
    } catch (...) {  // a task failed: the owner is already leaving by an exception of its own
    }
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

unsigned WorkerPool::DefaultThreads() noexcept {
  return std::max(1u, std::thread::hardware_concurrency());
}

void WorkerPool::Run(std::size_t tasks, std::function<void(std::size_t)> task) {
  Start(tasks, std::move(task));
  Wait();
}

void WorkerPool::RunInOrder(std::size_t tasks, const std::function<void(std::size_t)>& work,
                            const std::function<void(std::size_t)>& finish) {
  std::mutex mutex;
  std::condition_variable finished_one;
  std::size_t finished = 0;          // finish has returned for the tasks before this one
  std::size_t first_failed = tasks;  // the earliest task that threw (tasks: none)
  std::exception_ptr failure;
  Run(tasks, [&](std::size_t i) {
    try {
      {
        std::lock_guard lock(mutex);
        if (first_failed < i) return;
      }
      work(i);
      {
        std::unique_lock lock(mutex);
        finished_one.wait(lock, [&] { return finished == i || first_failed < i; });
        if (first_failed < i) return;
      }
      finish(i);
      std::lock_guard lock(mutex);
      finished = i + 1;
    } catch (...) {
      std::lock_guard lock(mutex);
      if (i < first_failed) {
        first_failed = i;
        failure = std::current_exception();
      }
    }
    finished_one.notify_all();
  });
  if (failure) std::rethrow_exception(failure);
}

void WorkerPool::Start(std::size_t tasks, std::function<void(std::size_t)> task) {
  {
    std::lock_guard lock(mutex_);
    task_ = std::move(task);
    next_task_ = 0;
    task_count_ = tasks;
    unfinished_ = tasks;
    failure_ = nullptr;
    started_ = true;
    ++round_;
  }
  if (!workers_.empty()) wake_.notify_all();
}

void WorkerPool::Wait() {
  if (!started_) return;
  Drain();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return unfinished_ == 0; });
  started_ = false;
  task_ = nullptr;
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void WorkerPool::Drain() {
  std::unique_lock lock(mutex_);
  while (next_task_ < task_count_) {
    const std::size_t index = next_task_++;
    const std::function<void(std::size_t)>& task = task_;
    lock.unlock();
    std::exception_ptr failure;
    try {
      task(index);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (failure && (!failure_ || index < failed_task_)) {
      failure_ = failure;
      failed_task_ = index;
    }
    if (--unfinished_ == 0) done_.notify_one();
  }
}

void WorkerPool::WorkerLoop() {
  std::uint64_t seen_round = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || round_ != seen_round; });
      if (stopping_) return;
      seen_round = round_;
    }
    Drain();
  }
}

}  // namespace dkdata::internal
