// bench/bench_util.hpp: what every dkdata benchmark driver shares: a clock, the output format of a
// figure and of its ratio to a baseline, and running a Python peer (the reference, DuckDB) from the
// project's .venv. Header-only; each driver is one executable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "dkdata/database.hpp"
#include "dkdata/query.hpp"

namespace dkdata::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Results are added here so that the compiler cannot drop the work that made them.
inline std::atomic<std::size_t> g_sink{0};

// "name   12345 ops/s": ops done in seconds, as a rate.
inline void Print(const char* name, double ops, double seconds, const char* unit = "ops/s") {
  std::printf("%-44s %14.0f %s\n", name, ops / seconds, unit);
}

// "  ratio what   1.23x   (target >= 1)": ours against the baseline, higher is better.
inline void Ratio(const char* what, double ratio, const char* target) {
  std::printf("  ratio %-44s %8.2fx   (target %s)\n", what, ratio, target);
}

// Runs db->Search(query) reps times; prints and returns the seconds of one search.
inline double TimeSearch(Database& db, const char* name, const Query& query, int reps) {
  const auto start = Clock::now();
  for (int i = 0; i < reps; ++i) g_sink += db.Search(query).size();
  const double seconds = Seconds(start) / reps;
  Print(name, 1, seconds, "queries/s");
  return seconds;
}

// Runs `<source>/<venv>/bin/python <source>/<script> <args>`, echoing its output and handing each
// line to on_line. Returns false (after saying how to install it) when the venv is missing. The
// source folder is $DKDATA_SOURCE_DIR, else the one the benchmark was built from. venv: the peers'
// .venv (scripts/install-deps.sh --peers: the Python reference and the others), or .venv-test
// (scripts/install-deps.sh: pyarrow and DuckDB only).
inline bool RunPython(const std::string& script, const std::string& args,
                      const std::function<void(const char* line)>& on_line,
                      const std::string& venv = ".venv") {
  const char* root = std::getenv("DKDATA_SOURCE_DIR");
  const std::string dir = root ? root : DKDATA_SOURCE_DIR;
  const std::string python = dir + "/" + venv + "/bin/python";
  if (FILE* probe = std::fopen(python.c_str(), "r")) {
    std::fclose(probe);
  } else {
    std::printf("%s %s: skipped (%s missing: run scripts/install-deps.sh%s)\n", script.c_str(),
                args.c_str(), python.c_str(), venv == ".venv" ? " --peers" : "");
    return false;
  }
  FILE* pipe = popen((python + " " + dir + "/" + script + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return false;
  char line[1024];
  while (std::fgets(line, sizeof line, pipe)) {
    std::fputs(line, stdout);
    on_line(line);
  }
  pclose(pipe);
  return true;
}

}  // namespace dkdata::bench
