// Several processes on one file store: writers killed with SIGKILL at random moments must lose
// nothing they acknowledged under sync: always, and concurrent read-modify-write with versions
// must lose no increment. (Processes, not threads: the store lock is what is under test.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "dkdata/diagnostics.hpp"
#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

namespace fs = std::filesystem;

int IterationsFromEnv(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoi(text) : fallback;
}

fs::path FreshFolder(const std::string& label) {
  fs::path folder = fs::temp_directory_path() /
                    ("dkdata-process-test-" + std::to_string(::getpid()) + "-" + label);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

Record Identified(Record record, const std::string& id) {
  record.set_id(id);
  return record;
}

std::unique_ptr<Database> OpenStore(const std::string& path, const char* sync) {
  return CreateDatabase("file", Object{{"path", Value(path)}, {"sync", Value(sync)}});
}

// Writes "<id>\n" to fd for every create the store acknowledged, then "c<n>\n" for every
// acknowledged upsert of the counter, until killed.
[[noreturn]] void RunWriter(const std::string& path, int iteration, int fd) {
  SetWarningHandler([](std::string_view, std::string_view) {});
  try {
    auto db = OpenStore(path, "always");
    for (int i = 0;; ++i) {
      const std::string id = std::to_string(iteration) + "-" + std::to_string(i);
      db->Create(Identified(
          Record{{"i", i}, {"pad", std::string(static_cast<std::size_t>(i % 300), 'x')}}, id));
      std::string ack = id + "\n";
      if (i % 4 == 0) {
        db->Upsert("counter", Record{{"n", i}});
        ack += "c" + std::to_string(i) + "\n";
      }
      if (::write(fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) _exit(3);
    }
  } catch (...) {
    _exit(2);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

void CrashAndCheck(const std::string& extension) {
  const fs::path folder = FreshFolder("crash" + extension);
  const std::string path = (folder / ("store" + extension)).string();
  const int iterations = IterationsFromEnv("DKDATA_CRASH_ITERATIONS", 50);
  std::mt19937 random(12345);
  std::set<std::string> acknowledged;
  long last_counter = -1;
  SetWarningHandler([](std::string_view, std::string_view) {});  // torn ends are expected here
  for (int iteration = 0; iteration < iterations; ++iteration) {
    // Each writer counts from 0 again, so only this iteration's acknowledgements bound the counter.
    last_counter = -1;
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      RunWriter(path, iteration, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 40));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own, status " << status;
    const std::string acks = ReadAll(pipe_fds[0]);
    ::close(pipe_fds[0]);
    std::size_t start = 0;
    while (true) {
      const std::size_t nl = acks.find('\n', start);
      if (nl == std::string::npos) break;
      const std::string line = acks.substr(start, nl - start);
      start = nl + 1;
      if (line[0] == 'c') {
        last_counter = std::stol(line.substr(1));
      } else {
        acknowledged.insert(line);
      }
    }
    // The store opens, holds every acknowledged write, and is not corrupt.
    auto db = OpenStore(path, "always");
    for (const std::string& id : acknowledged) {
      ASSERT_TRUE(db->Exists(id)) << "iteration " << iteration << ": acknowledged " << id
                                  << " is lost";
    }
    if (last_counter >= 0) {
      auto counter = db->Read("counter");
      ASSERT_TRUE(counter);
      EXPECT_GE(*counter->Get("n")->Get<std::int64_t>(), last_counter);
    }
    EXPECT_GE(db->Count(), acknowledged.size());
    EXPECT_EQ(db->Search(Query()).size(), db->Count());
    db->Close();
  }
  SetWarningHandler({});
  EXPECT_GT(acknowledged.size(), 0u);
  fs::remove_all(folder);
}

TEST(FileProcessTest, KilledWritersLoseNothingAcknowledgedJsonl) {
  CrashAndCheck(".jsonl");
}
TEST(FileProcessTest, KilledWritersLoseNothingAcknowledgedCsv) {
  CrashAndCheck(".csv");
}
TEST(FileProcessTest, KilledWritersLoseNothingAcknowledgedParquet) {
  CrashAndCheck(".parquet");
}

void IncrementConcurrently(const std::string& extension) {
  const fs::path folder = FreshFolder("increment" + extension);
  const std::string path = (folder / ("counter" + extension)).string();
  OpenStore(path, "none")->Create(Identified(Record{{"n", 0}}, "total"));
  constexpr int kProcesses = 4, kIncrements = 500;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        auto db = OpenStore(path, "none");
        for (int i = 0; i < kIncrements;) {
          const Record current = *db->Read("total");
          const std::int64_t n = *current.Get("n")->Get<std::int64_t>();
          try {
            db->Update("total", Record{{"n", n + 1}}, current.version());
            ++i;
          } catch (const Error& error) {
            if (error.code() != ErrorCode::kConflict) _exit(2);
          }
        }
        db->Close();
        _exit(0);
      } catch (...) {
        _exit(3);
      }
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  auto db = OpenStore(path, "none");
  const Record total = *db->Read("total");
  EXPECT_EQ(*total.Get("n")->Get<std::int64_t>(), kProcesses * kIncrements);
  EXPECT_EQ(total.version(), 1u + kProcesses * kIncrements);
  db->Close();
  fs::remove_all(folder);
}

TEST(FileProcessTest, FourProcessesIncrementWithVersionsJsonl) {
  IncrementConcurrently(".jsonl");
}
TEST(FileProcessTest, FourProcessesIncrementWithVersionsCsv) {
  IncrementConcurrently(".csv");
}

}  // namespace
}  // namespace dkdata
