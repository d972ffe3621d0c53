// src/core/worker_pool.hpp: a few threads that help the calling thread through a list of tasks.
//
//   WorkerPool pool(2);                       // the caller plus one helper thread
//   pool.Run(16, [&](std::size_t i) { Decode(part[i]); });
//
// Used where one call has much independent work (decoding the lines of a file) and the result must
// stay in order: the caller splits the work into tasks, Run spreads them over the threads, and the
// caller consumes the results afterwards on its own thread.
//
// Thread-safety: Run is called by one thread at a time (the pool's owner). Tasks run concurrently
// with each other and must not share mutable state without their own synchronisation.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dkdata::internal {

class WorkerPool {
 public:
  // A pool of `threads` threads in all, the caller of Run included: threads - 1 are started here
  // (none for 0 or 1).
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();  // stops and joins the threads
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, tasks) and returns when all have returned. Each task runs
  // once, on the caller or a pool thread, in no particular order. When tasks throw, the others
  // still run, and the exception of the lowest-numbered task that threw is rethrown here (the
  // error a loop over the tasks would have stopped at).
  void Run(std::size_t tasks, std::function<void(std::size_t)> task);

  // Run as a pipeline whose results come out in order: work(i) for every i in [0, tasks) on the
  // threads, each followed, on the same thread, by finish(i) once finish(i - 1) has returned. A
  // thread takes its next task only when finish is done with its last one, so tasks i and
  // i + threads() never overlap: task i may use state kept at i % threads() (at most threads()
  // tasks' state in memory). When work or finish throws, the later tasks are skipped (those already
  // at work skip their finish), the earlier ones complete, and the exception of the earliest task
  // that threw is rethrown.
  void RunInOrder(std::size_t tasks, const std::function<void(std::size_t)>& work,
                  const std::function<void(std::size_t)>& finish);

  // Run in two halves, so that the caller can do other work while the pool threads start on the
  // tasks: Start returns at once; Wait runs what is left on the caller too, returns when all tasks
  // have returned (rethrowing as Run does). Start must be followed by Wait before the next Start
  // and before the pool is destroyed. Waiting with no round started returns at once.
  void Start(std::size_t tasks, std::function<void(std::size_t)> task);
  void Wait();

  // The number of threads a scan should use when a config leaves it open: the machine's cores.
  static unsigned DefaultThreads() noexcept;
  // The threads an option asks for, where 0 means "the machine's cores" (DefaultThreads()).
  static unsigned ThreadsFor(unsigned requested) noexcept {
    return requested == 0 ? DefaultThreads() : requested;
  }

 private:
  void WorkerLoop();
  // Takes and runs tasks of the current round until none is left.
  void Drain();

  std::mutex mutex_;
  std::condition_variable wake_;  // a round started, or the pool stops
  std::condition_variable done_;  // the last task of a round finished
  std::function<void(std::size_t)> task_;
  bool started_ = false;  // a round was started and not yet waited for
  std::size_t next_task_ = 0;
  std::size_t task_count_ = 0;
  std::size_t unfinished_ = 0;
  std::uint64_t round_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;  // of the lowest-numbered task that threw
  std::size_t failed_task_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace dkdata::internal
