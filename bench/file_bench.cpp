// bench/file_bench.cpp: the file backend on generated records (bench/workload.hpp), each figure
// printed with the ratio to its baseline measured in the same run:
//   open a JSONL store + count a filter   vs simdjson On-Demand walking the same file alone (one
//                                           thread), and DuckDB read_json at the same thread count
//                                           (1, and the machine's cores)
//   open (load) a CSV store               vs DuckDB read_csv into a table, at the same thread
//                                           count (1, and the machine's cores)
//   one create into a 100 k-record store  vs the Python reference's file backend
//   one create with sync: always          vs a raw append + fsync of the same line
//
// Usage: dkdata_file_bench [--mb N] [--quick] [--no-peers]
#include <fcntl.h>
#include <malloc.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>

#include "bench_util.hpp"
#include "dkdata/diagnostics.hpp"
#include "dkdata/dkdata.hpp"
#include "workload.hpp"

namespace {

namespace fs = std::filesystem;
using dkdata::Object;
using dkdata::Value;
using namespace dkdata::bench;

std::unique_ptr<dkdata::Database> OpenStore(const std::string& path, const char* sync = "batch",
                                            unsigned threads = 0) {
  return dkdata::CreateDatabase("file", Object{{"path", Value(path)},
                                               {"sync", Value(sync)},
                                               {"threads", Value(std::int64_t{threads})}});
}

// Writes records until the file reaches bytes; returns the record count. A whole-file store (CSV)
// only writes its file at close, so its size is estimated from a sample written first.
std::size_t FillStore(const std::string& path, std::uint64_t bytes) {
  std::size_t batches = std::numeric_limits<std::size_t>::max();
  constexpr std::size_t kBatch = 20000;
  if (!path.ends_with(".jsonl")) {
    const std::string sample = path + ".sample" + fs::path(path).extension().string();
    auto db = OpenStore(sample, "none");
    std::vector<dkdata::Record> batch;
    for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(dkdata::bench::MakeRecord(i));
    db->CreateBatch(batch);
    db->Close();
    batches = std::max<std::size_t>(1, (bytes + fs::file_size(sample) - 1) / fs::file_size(sample));
    fs::remove(sample);
  }
  auto db = OpenStore(path, "none");
  std::size_t n = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    if (fs::exists(path) && fs::file_size(path) >= bytes) break;
    std::vector<dkdata::Record> batch;
    for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(dkdata::bench::MakeRecord(n++));
    db->CreateBatch(batch);
  }
  db->Close();
  return n;
}

// The baseline: simdjson On-Demand touching every value of every line, nothing else.
std::size_t WalkValues(simdjson::ondemand::value value) {
  std::size_t n = 0;
  switch (value.type()) {
    case simdjson::ondemand::json_type::object:
      for (auto field : value.get_object()) n += WalkValues(field.value());
      return n;
    case simdjson::ondemand::json_type::array:
      for (auto element : value.get_array()) n += WalkValues(element.value());
      return n;
    case simdjson::ondemand::json_type::string:
      return value.get_string().value().size() > 0 ? 1 : 1;
    case simdjson::ondemand::json_type::number:
      return value.get_double().value() != 0 ? 1 : 1;
    default:
      return 1;
  }
}

double SimdjsonAlone(const std::string& path) {
  const auto start = Clock::now();
  simdjson::padded_string text = simdjson::padded_string::load(path).value();
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream stream = parser.iterate_many(text).value();
  std::size_t values = 0;
  for (auto doc : stream) {
    simdjson::ondemand::value root = doc.get_value().value();
    values += WalkValues(root);
  }
  const double seconds = Seconds(start);
  if (values == 0) std::printf("(no values)\n");
  return seconds;
}

// Resident memory (VmRSS) or its peak since ResetPeakMemory (VmHWM), in bytes; Linux only.
std::uint64_t MemoryFromStatus(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0)
      return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10) * 1024;
  }
  return 0;
}
void ResetPeakMemory() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// Runs bench/peers/file_peers.py; returns "seconds" and "per_sec" of its output line.
// Runs bench/peers/file_peers.py; returns its "seconds" and "per_sec" figures.
std::map<std::string, double> RunPeer(const std::string& args) {
  std::map<std::string, double> out;
  RunPython("bench/peers/file_peers.py", args, [&](const char* line) {
    if (const char* s = std::strstr(line, "seconds=")) out["seconds"] = std::atof(s + 8);
    if (const char* s = std::strstr(line, "per_sec=")) out["per_sec"] = std::atof(s + 8);
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double megabytes = 200;
  bool quick = false, peers = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mb") == 0 && i + 1 < argc) megabytes = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--no-peers") == 0) peers = false;
  }
  if (quick) megabytes = std::min(megabytes, 4.0);
  dkdata::SetWarningHandler([](std::string_view, std::string_view) {});
  const fs::path folder =
      fs::temp_directory_path() / ("dkdata-file-bench-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  const auto bytes = static_cast<std::uint64_t>(megabytes * 1024 * 1024);

  // ---- Open a JSONL store and count a filter ----
  const std::string jsonl = (folder / "records.jsonl").string();
  const std::size_t n = FillStore(jsonl, bytes);
  const double file_mb = static_cast<double>(fs::file_size(jsonl)) / (1024 * 1024);
  std::printf("JSONL store: %zu records, %.1f MB\n", n, file_mb);
  const double simdjson_seconds = SimdjsonAlone(jsonl);
  // Open + count with one thread, and with the machine's cores (the default, as DuckDB's).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::size_t matched = 0;
  auto open_and_count = [&](unsigned threads) {
    const auto start = Clock::now();
    auto db = OpenStore(jsonl, "batch", threads);
    matched = db->Count(dkdata::Where("age", dkdata::Op::kGte, 50));
    return Seconds(start);
  };
  const double ours = open_and_count(1);
  const double ours_all = open_and_count(cores);
  // Memory: a search that returns 1 record in 1000 holds the index and the result, not the file.
  ::malloc_trim(0);  // what earlier steps freed goes back to the system, out of the baseline
  const std::uint64_t resident = MemoryFromStatus("VmRSS:");
  ResetPeakMemory();
  std::size_t found = 0;
  {
    auto searched = OpenStore(jsonl);
    found = searched->Search(dkdata::Query().Filter("category", dkdata::Op::kEq, "cat_007")).size();
  }
  const std::uint64_t peak = MemoryFromStatus("VmHWM:");
  std::printf("%-44s %10.1f MB peak growth for a %.0f MB file (%zu of %zu records found)\n",
              "open + search, memory", (peak > resident ? peak - resident : 0) / 1048576.0, file_mb,
              found, n);
  std::printf("%-44s %10.1f MB/s (%zu matched)\n", "open + count(age >= 50), 1 thread",
              file_mb / ours, matched);
  std::printf("open + count(age >= 50), %u threads%-18s %10.1f MB/s\n", cores, "",
              file_mb / ours_all);
  std::printf("%-44s %10.1f MB/s\n", "simdjson On-Demand alone (1 thread)",
              file_mb / simdjson_seconds);
  Ratio("open+count vs simdjson alone (1 thread)", simdjson_seconds / ours, ">= 0.5");
  if (peers) {
    // The figure is at the same thread count: both at 1, and both at every core.
    auto duck = RunPeer("duckdb_json " + jsonl + " 1");
    if (duck.count("seconds"))
      Ratio("open+count vs DuckDB read_json, 1 thread", duck["seconds"] / ours, ">= 2");
    auto duck_all = RunPeer("duckdb_json " + jsonl + " " + std::to_string(cores));
    if (duck_all.count("seconds")) {
      Ratio(("open+count vs DuckDB read_json, " + std::to_string(cores) + " threads").c_str(),
            duck_all["seconds"] / ours_all, ">= 2");
    }
  }

  // ---- Load a CSV store ----
  const std::string csv = (folder / "records.csv").string();
  FillStore(csv, bytes);
  const double csv_mb = static_cast<double>(fs::file_size(csv)) / (1024 * 1024);
  std::size_t rows = 0;
  auto load_csv = [&](unsigned threads) {
    const auto start = Clock::now();
    auto loaded = OpenStore(csv, "batch", threads);
    rows = loaded->Count();
    return Seconds(start);
  };
  const double csv_seconds = load_csv(1);
  const double csv_seconds_all = load_csv(cores);
  std::printf("%-44s %10.1f MB/s (%zu rows, %.1f MB)\n", "open (load) a CSV store, 1 thread",
              csv_mb / csv_seconds, rows, csv_mb);
  std::printf("open (load) a CSV store, %u threads%-19s %10.1f MB/s\n", cores, "",
              csv_mb / csv_seconds_all);
  if (peers) {
    auto duck = RunPeer("duckdb_csv " + csv + " 1");
    if (duck.count("seconds")) {
      Ratio("CSV load vs DuckDB read_csv, 1 thread", duck["seconds"] / csv_seconds, ">= 1");
    }
    auto duck_all = RunPeer("duckdb_csv " + csv + " " + std::to_string(cores));
    if (duck_all.count("seconds")) {
      Ratio(("CSV load vs DuckDB read_csv, " + std::to_string(cores) + " threads").c_str(),
            duck_all["seconds"] / csv_seconds_all, ">= 1");
    }
  }

  // ---- One create into a 100 k-record store ----
  const std::size_t store_records = quick ? 10000 : 100000;
  const std::string big = (folder / "store.jsonl").string();
  {
    auto store = OpenStore(big, "none");
    std::vector<dkdata::Record> batch;
    for (std::size_t i = 0; i < store_records; ++i) batch.push_back(dkdata::bench::MakeRecord(i));
    store->CreateBatch(batch);
  }
  auto store = OpenStore(big);
  // A JSONL store reads its file at its first call; the reference reads its file when it is
  // constructed. Both reads stay out of the timing, which is of creates into a loaded store.
  store->Exists("warm-up");
  const int creates = quick ? 500 : 5000;
  auto start = Clock::now();
  for (int i = 0; i < creates; ++i) store->Create(dkdata::bench::MakeRecord(store_records + i));
  const double create_per_sec = creates / Seconds(start);
  std::printf("%-44s %10.0f ops/s\n", "create into a store of 100 k (sync: batch)", create_per_sec);

  auto durable = OpenStore(big, "always");
  durable->Exists("warm-up");
  const int durable_creates = quick ? 50 : 500;
  start = Clock::now();
  for (int i = 0; i < durable_creates; ++i) {
    durable->Create(dkdata::bench::MakeRecord(store_records + creates + i));
  }
  const double durable_per_sec = durable_creates / Seconds(start);
  // The raw rate: append the same kind of line to a file and fsync, nothing else.
  std::string line;
  dkdata::AppendRecordJson(line, dkdata::bench::MakeRecord(1));
  line.push_back('\n');
  const std::string raw = (folder / "raw.log").string();
  const int raw_fd = ::open(raw.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  start = Clock::now();
  for (int i = 0; i < durable_creates; ++i) {
    if (::write(raw_fd, line.data(), line.size()) < 0 || ::fsync(raw_fd) != 0) return 1;
  }
  const double raw_per_sec = durable_creates / Seconds(start);
  ::close(raw_fd);
  std::printf("%-44s %10.0f ops/s\n", "create with sync: always", durable_per_sec);
  std::printf("%-44s %10.0f ops/s\n", "raw append + fsync", raw_per_sec);
  Ratio("sync: always create vs raw append+fsync", durable_per_sec / raw_per_sec, ">= 0.5");
  if (peers) {
    const std::string ref = (folder / "reference.json").string();
    auto reference = RunPeer("reference_create " + ref + " " + std::to_string(store_records));
    if (reference.count("per_sec")) {
      Ratio("create vs the reference's file backend", create_per_sec / reference["per_sec"],
            ">= 1000");
    }
  }
  store.reset();
  durable.reset();
  fs::remove_all(folder);
  return 0;
}
