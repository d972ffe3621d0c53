// bench/parquet_bench.cpp: dkdata's Parquet reader and writer (dkdata/parquet.hpp) on generated
// rows of 8 mixed columns, snappy, each figure printed with the ratio to its baseline measured in
// the same run, at the same thread count (1, and the machine's cores):
//   read the file into records     vs DuckDB: CREATE TABLE t AS SELECT * FROM read_parquet(...), on
//                                     dkdata's file (the figure) and on DuckDB's own: into
//                                     a vector of records, into a ParquetTable (records built on
//                                     demand), and through a sink that keeps none
//   read 2 of the 8 columns        vs reading all 8 (dkdata against itself)
//   write the records              vs DuckDB: COPY t TO ... (FORMAT parquet), the table loaded
//   first a filter on a sorted column    row groups skipped by their statistics (for information)
// Timings are the best of 3 (DuckDB's too, in its own process: bench/peers/parquet_peers.py).
//
// Usage: dkdata_parquet_bench [--rows N] [--quick] [--no-peers]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "dkdata/diagnostics.hpp"
#include "dkdata/parquet.hpp"
#include "formats/parquet/parquet_records.hpp"
#include "workload.hpp"

namespace {

namespace fs = std::filesystem;
using dkdata::Record;
using dkdata::Value;
using namespace dkdata::bench;

// Row i: 8 columns of mixed types, 3 of them nullable. row_id is sorted (the row-group skipping
// figure filters on it); name has ~50 k values, category 20 (both dictionary-encoded).
Record MakeRow(std::uint64_t i) {
  auto r = [i](std::uint64_t k) { return SplitMix64(0xFACE + i * 8 + k); };
  char name[16], category[16];
  std::snprintf(name, sizeof name, "user_%05llu", static_cast<unsigned long long>(r(0) % 50000));
  std::snprintf(category, sizeof category, "cat_%02llu",
                static_cast<unsigned long long>(r(1) % 20));
  constexpr std::int64_t k2020 = 1577836800;  // 2020-01-01T00:00:00Z
  Record row;
  row.Set("row_id", static_cast<std::int64_t>(i));
  row.Set("name", std::string(name));
  if (r(2) % 10 != 0) row.Set("score", static_cast<double>(r(3) % 1000000) / 10000.0);
  row.Set("active", r(4) % 2 == 0);
  row.Set("created",
          dkdata::Timestamp{(k2020 + static_cast<std::int64_t>(r(5) % (5ULL * 365 * 86400))) *
                            1000000});
  if (r(6) % 20 != 0) row.Set("count", static_cast<std::int64_t>(r(7) % 1000));
  row.Set("category", std::string(category));
  if (r(6) % 5 != 0) row.Set("price", static_cast<double>(r(2) % 100000) / 100.0);
  return row;
}

// The best of reps runs of work, in seconds.
double BestOf(int reps, const std::function<void()>& work) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    work();
    best = std::min(best, Seconds(start));
  }
  return best;
}

// Runs bench/peers/parquet_peers.py with DuckDB from .venv-test (scripts/install-deps.sh makes it,
// so CI's smoke run has DuckDB too); returns the numbers of its "peer" line (seconds, rows, ...).
std::map<std::string, double> RunPeer(const std::string& args) {
  std::map<std::string, double> out;
  RunPython(
      "bench/peers/parquet_peers.py", args,
      [&](const char* line) {
        if (std::strncmp(line, "peer ", 5) != 0) return;
        for (const char* key : {"seconds", "rows", "bytes"}) {
          const std::string field = std::string(" ") + key + "=";
          if (const char* s = std::strstr(line, field.c_str()))
            out[key] = std::atof(s + field.size());
        }
      },
      ".venv-test");
  return out;
}

void PrintSeconds(const std::string& what, double seconds, std::size_t rows) {
  std::printf("%-52s %8.3f s %10.2f M rows/s\n", what.c_str(), seconds, rows / seconds / 1e6);
}

// Reads path into a vector of records, best of reps; checks the row count. The records are freed
// after the clock stops (DuckDB's figure does not include dropping its table either).
double TimeRead(const std::string& path, const dkdata::ParquetReadOptions& options, int reps,
                std::size_t rows) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    std::vector<Record> records = dkdata::ReadParquet(path, options);
    best = std::min(best, Seconds(start));
    if (records.size() != rows) {
      std::printf("ERROR: read %zu records of %s, expected %zu\n", records.size(), path.c_str(),
                  rows);
      std::exit(1);
    }
    g_sink += records.size();
  }
  return best;
}

// Copies the records already in memory into a new vector, best of reps, freed after the clock
// stops: what keeping the read's records costs with no file at all (their allocation and first
// touch), the floor of a read into a vector.
double TimeCopy(const std::vector<Record>& records, int reps) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    std::vector<Record> copy(records);
    best = std::min(best, Seconds(start));
    g_sink += copy.size();
  }
  return best;
}

// Reads path through a sink that looks at each record and keeps none, best of reps.
double TimeStream(const std::string& path, const dkdata::ParquetReadOptions& options, int reps) {
  return BestOf(reps, [&] {
    std::size_t fields = 0;
    dkdata::ReadParquet(path, options, [&](Record& record) { fields += record.fields().size(); });
    g_sink += fields;
  });
}

// Reads path into a ParquetTable (its decoded columns; records built on demand), best of reps;
// checks the row count. The table is freed after the clock stops.
double TimeTableRead(const std::string& path, const dkdata::ParquetReadOptions& options, int reps,
                     std::size_t rows) {
  return BestOf(reps, [&] {
    const dkdata::ParquetTable table = dkdata::ReadParquetTable(path, options);
    if (table.size() != rows) {
      std::printf("ERROR: table of %zu rows from %s, expected %zu\n", table.size(), path.c_str(),
                  rows);
      std::exit(1);
    }
    g_sink += table.size();
  });
}

// How many of read's records differ from expected (fields compared by name, in any order).
std::size_t CountDifferences(const std::vector<Record>& expected, const std::vector<Record>& read) {
  if (expected.size() != read.size()) return std::max(expected.size(), read.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& a = expected[i].fields();
    bool same = a.size() == read[i].fields().size();
    for (std::size_t f = 0; same && f < a.size(); ++f) {
      const dkdata::Field* b = read[i].FindField(a[f].name);
      same = b != nullptr && b->value == a[f].value;
    }
    if (!same) ++differ;
  }
  return differ;
}

// Reads with the filter through the record mapping itself, which reports the row groups it read.
dkdata::internal::parquet::RecordReadStats FilterStats(const std::string& path,
                                                       const dkdata::Expr& filter) {
  namespace pq = dkdata::internal::parquet;
  const auto reader = pq::ParquetFileReader::Open(path);
  pq::RecordReadOptions options;
  options.filter = &filter;
  return pq::ReadParquetRecords(reader, options, [](Record&) {});
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rows = 1000000;
  bool quick = false, peers = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = std::strtoull(argv[++i], nullptr, 10);
    }
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--no-peers") == 0) peers = false;
  }
  if (quick) rows = std::min<std::size_t>(rows, 20000);
  rows = std::max<std::size_t>(rows, 8);
  const int reps = quick ? 1 : 3;
  const std::string reps_arg = " " + std::to_string(reps);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::vector<unsigned> thread_counts =
      cores > 1 ? std::vector<unsigned>{1, cores} : std::vector<unsigned>{1};
  dkdata::SetWarningHandler([](std::string_view, std::string_view) {});
  const fs::path folder =
      fs::temp_directory_path() / ("dkdata-parquet-bench-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  const std::string ours_file = (folder / "dkdata.parquet").string();
  const std::string duck_file = (folder / "duckdb.parquet").string();

  // At least 8 row groups, at most the default size, so that the skipping figure has groups to
  // skip; DuckDB's COPY is given the same size.
  dkdata::ParquetWriteOptions write_options;
  write_options.compression = "snappy";
  write_options.row_group_size =
      std::min<std::size_t>(write_options.row_group_size, (rows + 7) / 8);
  const std::string group_arg = " " + std::to_string(write_options.row_group_size);

  std::vector<Record> records;
  records.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) records.push_back(MakeRow(i));
  std::printf(
      "%zu rows x 8 columns (row_id, name, score?, active, created, count?, category, "
      "price?), snappy, %zu rows per row group, %u cores, best of %d\n",
      rows, write_options.row_group_size, cores, reps);

  // ---- Write, at each thread count (the last write leaves the file the reads use) ----
  for (unsigned threads : thread_counts) {
    write_options.threads = threads;
    const double write_seconds =
        BestOf(reps, [&] { dkdata::WriteParquet(ours_file, records, write_options); });
    // The same without the file (WriteParquet fsyncs its temp file and renames it): encoding
    // alone.
    const double encode_seconds = BestOf(reps, [&] {
      namespace pq = dkdata::internal::parquet;
      std::vector<const Record*> pointers;
      pointers.reserve(records.size());
      for (const Record& record : records) pointers.push_back(&record);
      pq::RecordWriteOptions options;
      options.row_group_rows = write_options.row_group_size;
      options.writer.threads = threads;
      std::size_t bytes = 0;
      pq::WriteParquetRecords(pointers, options,
                              [&](std::string_view out) { bytes += out.size(); });
      g_sink += bytes;
    });
    const double ours_mb = static_cast<double>(fs::file_size(ours_file)) / (1024 * 1024);
    const std::string suffix = std::to_string(threads) + " thread" + (threads > 1 ? "s" : "");
    PrintSeconds("WriteParquet (" + suffix + ", fsync + rename)", write_seconds, rows);
    std::printf("  file: %.1f MB; encoding alone (no file) %.3f s\n", ours_mb, encode_seconds);
    if (!peers) continue;
    auto duck = RunPeer("duckdb_copy " + ours_file + " " + duck_file + " " +
                        std::to_string(threads) + reps_arg + group_arg);
    if (!duck.count("seconds")) continue;
    std::printf("  DuckDB's file: %.1f MB\n", duck["bytes"] / (1024 * 1024));
    Ratio(("write vs DuckDB COPY, " + suffix).c_str(), duck["seconds"] / write_seconds, ">= 0.5");
  }

  // ---- Read every column ----
  std::map<unsigned, double> read_seconds;
  for (unsigned threads : thread_counts) {
    dkdata::ParquetReadOptions options;
    options.threads = threads;
    read_seconds[threads] = TimeRead(ours_file, options, reps, rows);
    const std::string suffix =
        ", " + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "");
    PrintSeconds("ReadParquet, all 8 columns" + suffix, read_seconds[threads], rows);
    if (!peers) continue;
    auto duck = RunPeer("duckdb_read " + ours_file + " " + std::to_string(threads) + reps_arg);
    if (duck.count("seconds")) {
      Ratio(("read vs DuckDB read_parquet" + suffix).c_str(),
            duck["seconds"] / read_seconds[threads], ">= 0.5");
    }
    if (threads == 1 && duck.count("seconds")) {
      const double copy_seconds = TimeCopy(records, reps);
      PrintSeconds("copy of the records in memory (no file)", copy_seconds, rows);
      Ratio("records alone vs DuckDB read_parquet, 1 thread", duck["seconds"] / copy_seconds,
            "info");
    }
    // Into a table: the decoded columns kept, each record built when asked for.
    const double table_seconds = TimeTableRead(ours_file, options, reps, rows);
    PrintSeconds("ReadParquetTable (records on demand)" + suffix, table_seconds, rows);
    if (duck.count("seconds")) {
      Ratio(("table read vs DuckDB read_parquet" + suffix).c_str(), duck["seconds"] / table_seconds,
            ">= 0.5");
    }
    const dkdata::ParquetTable table = dkdata::ReadParquetTable(ours_file, options);
    const double visit_seconds = BestOf(reps, [&] {
      std::size_t fields = 0;
      table.ForEach([&](Record& record) { fields += record.fields().size(); }, threads);
      g_sink += fields;
    });
    PrintSeconds("  then every record of the table, in order" + suffix, visit_seconds, rows);
    if (duck.count("seconds")) {
      Ratio(("table read + every record vs DuckDB" + suffix).c_str(),
            duck["seconds"] / (table_seconds + visit_seconds), "info");
    }
    if (threads == 1) {
      // Rows in a scattered order (a stride prime to the row count): each record built alone.
      const std::size_t picks = std::min<std::size_t>(rows, 100000);
      const double pick_seconds = BestOf(reps, [&] {
        std::size_t fields = 0;
        for (std::size_t k = 0; k < picks; ++k) {
          fields += table.record((k * 7919 + 13) % rows).fields().size();
        }
        g_sink += fields;
      });
      std::printf("%-52s %8.3f us per record (%zu rows)\n", "  record(row) at scattered rows",
                  pick_seconds / static_cast<double>(picks) * 1e6, picks);
    }
    // The same records handed to a sink one at a time and not kept (no vector of 1 M records).
    const double streamed = TimeStream(ours_file, options, reps);
    PrintSeconds("ReadParquet to a sink, records not kept" + suffix, streamed, rows);
    if (duck.count("seconds")) {
      Ratio(("sink read vs DuckDB read_parquet" + suffix).c_str(), duck["seconds"] / streamed,
            "info");
    }
    if (!fs::exists(duck_file)) continue;
    // DuckDB's own file (its last COPY, at the machine's cores), read by both.
    const double ours_on_duck = TimeRead(duck_file, options, reps, rows);
    PrintSeconds("ReadParquet of DuckDB's file" + suffix, ours_on_duck, rows);
    auto duck_own = RunPeer("duckdb_read " + duck_file + " " + std::to_string(threads) + reps_arg);
    if (duck_own.count("seconds")) {
      Ratio(("read DuckDB's file vs DuckDB" + suffix).c_str(), duck_own["seconds"] / ours_on_duck,
            "info");
    }
  }

  // ---- Projection: 2 of the 8 columns ----
  for (unsigned threads : thread_counts) {
    dkdata::ParquetReadOptions options;
    options.threads = threads;
    options.fields = {"score", "category"};
    const double seconds = TimeRead(ours_file, options, reps, rows);
    const std::string suffix =
        ", " + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "");
    PrintSeconds("ReadParquet, 2 columns (score, category)" + suffix, seconds, rows);
    Ratio(("2 columns vs all 8" + suffix).c_str(), read_seconds[threads] / seconds, ">= 3");
  }

  // ---- Row-group skipping: the last 10 % of a sorted column, and the same share of an unsorted
  // one (no group can be skipped), for information ----
  const auto tail = static_cast<std::int64_t>(rows - rows / 10);
  const dkdata::Expr sorted = dkdata::Where("row_id", dkdata::Op::kGte, Value(tail));
  const dkdata::Expr unsorted = dkdata::Where("count", dkdata::Op::kLt, Value(std::int64_t{100}));
  for (const auto& [what, filter] : {std::pair{"row_id >= 90 % (sorted)", &sorted},
                                     std::pair{"count < 100 (unsorted)", &unsorted}}) {
    dkdata::ParquetReadOptions options;
    options.threads = cores;
    options.filter = *filter;
    std::size_t matched = 0;
    const double seconds = BestOf(reps, [&] {
      matched = 0;
      dkdata::ReadParquet(ours_file, options, [&](Record&) { ++matched; });
    });
    const auto stats = FilterStats(ours_file, *filter);
    std::printf("%-52s %8.3f s  %zu rows, row groups read %zu, skipped %zu\n",
                (std::string("ReadParquet where ") + what).c_str(), seconds, matched,
                stats.row_groups_read, stats.row_groups_skipped);
    Ratio((std::string("full read vs where ") + what).c_str(), read_seconds[cores] / seconds,
          "info");
  }

  // ---- Are the values right? (untimed) ----
  const std::size_t differ = CountDifferences(records, dkdata::ReadParquet(ours_file));
  std::printf(
      "round trip of dkdata's file: %s\n",
      differ == 0 ? "every record equal" : (std::to_string(differ) + " records differ").c_str());
  if (fs::exists(duck_file)) {
    const std::size_t duck_differ = CountDifferences(records, dkdata::ReadParquet(duck_file));
    std::printf("DuckDB's file read by dkdata: %s\n",
                duck_differ == 0 ? "every record equal"
                                 : (std::to_string(duck_differ) + " records differ").c_str());
  }
  const std::size_t table_differ =
      CountDifferences(records, dkdata::ReadParquetTable(ours_file).ToRecords());
  std::printf("dkdata's file through a table: %s\n",
              table_differ == 0 ? "every record equal"
                                : (std::to_string(table_differ) + " records differ").c_str());
  fs::remove_all(folder);
  return differ == 0 && table_differ == 0 ? 0 : 1;
}
