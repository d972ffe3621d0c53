// bench/memory_bench.cpp: the memory backend on 1 M generated records (bench/workload.hpp), each
// figure printed with the ratio to its baseline measured in the same run:
//   point read and create_batch       vs std::unordered_map<std::string, Record>
//   sort + limit 10                   vs a full sort of all matches (what the reference does)
//   indexed EQ search (0.1 %)         vs the same search as a full scan
//   bytes per stored record           vs the record's compact JSON size
//   create, sort + limit              vs the Python reference (bench/reference/bench_reference.py)
//
// Usage: dkdata_memory_bench [--records N] [--quick] [--no-reference]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_util.hpp"
#include "dkdata/dkdata.hpp"
#include "workload.hpp"

namespace {

using dkdata::Op;
using dkdata::Query;
using dkdata::Record;
using namespace dkdata::bench;

// Resident set size in bytes.
long ResidentBytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return pages_resident * 4096;
}

// Runs the Python reference script; returns its per_sec figures by operation name.
std::map<std::string, std::pair<double, double>> RunReference(bool quick) {
  std::map<std::string, std::pair<double, double>> out;  // op -> (records, per_sec)
  RunPython("bench/reference/bench_reference.py", quick ? "--quick" : "", [&](const char* line) {
    char op[64];
    double records = 0, per_sec = 0;
    if (std::sscanf(line, "reference %63s records=%lf %*s %*s per_sec=%lf", op, &records,
                    &per_sec) == 3) {
      out[op] = {records, per_sec};
    }
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000000;
  bool quick = false, reference = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--records") && i + 1 < argc) {
      n = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
      n = 20000;
    } else if (!std::strcmp(argv[i], "--no-reference")) {
      reference = false;
    } else {
      std::fprintf(stderr, "usage: %s [--records N] [--quick] [--no-reference]\n", argv[0]);
      return 2;
    }
  }
  std::printf("dkdata memory backend benchmark: %zu records, 8 mixed fields, UUID ids\n", n);
  const std::vector<Record> records = dkdata::bench::MakeRecords(n);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (const Record& r : records) ids.push_back(*r.id());
  std::mt19937_64 rng(42);
  std::vector<std::string> probe_ids(std::min<std::size_t>(n, 1000000));
  for (auto& id : probe_ids) id = ids[rng() % n];

  // ---- create one by one ----
  double create_per_sec = 0;
  {
    auto db = dkdata::OpenDatabase("memory://");
    const auto t = Clock::now();
    for (const Record& r : records) db->Create(r);
    const double s = Seconds(t);
    create_per_sec = n / s;
    Print("create (one by one)", n, s);
  }

  // ---- create_batch vs unordered_map insert ----
  long rss_before = 0, rss_after = 0;
  auto db = dkdata::OpenDatabase("memory://");
  double batch_s = 0, map_insert_s = 0;
  {
    rss_before = ResidentBytes();
    const auto t = Clock::now();
    db->CreateBatch(records);
    batch_s = Seconds(t);
    rss_after = ResidentBytes();
    Print("create_batch", n, batch_s, "records/s");
  }
  std::unordered_map<std::string, Record> map;
  {
    const auto t = Clock::now();
    map.reserve(n);
    for (const Record& r : records) map.emplace(*r.id(), r);
    map_insert_s = Seconds(t);
    Print("baseline unordered_map insert", n, map_insert_s, "records/s");
    Ratio("create_batch / unordered_map insert", map_insert_s / batch_s, ">= 0.5");
  }

  // ---- point reads ----
  {
    auto t = Clock::now();
    for (const std::string& id : probe_ids) g_sink += db->Read(id)->size();
    const double read_s = Seconds(t);
    Print("read by id", probe_ids.size(), read_s);
    t = Clock::now();
    for (const std::string& id : probe_ids) {
      const Record copy = map.find(id)->second;
      g_sink += copy.size();
    }
    const double map_s = Seconds(t);
    Print("baseline unordered_map find+copy", probe_ids.size(), map_s);
    Ratio("read / unordered_map find+copy", map_s / read_s, ">= 0.5");
    t = Clock::now();
    Record reused;
    for (const std::string& id : probe_ids) g_sink += db->ReadInto(id, reused) ? reused.size() : 0;
    const double read_into_s = Seconds(t);
    Print("read by id into a reused record", probe_ids.size(), read_into_s);
    t = Clock::now();
    for (const std::string& id : probe_ids) g_sink += map.count(id);
    const double lookup_s = Seconds(t);
    Print("baseline unordered_map lookup only", probe_ids.size(), lookup_s);
    Ratio("read / unordered_map lookup only", lookup_s / read_s, "(info)");
    Ratio("read into reused record / lookup only", lookup_s / read_into_s, ">= 0.5");
  }
  map.clear();

  // ---- queries ----
  auto time_queries = [&](const char* name, const Query& q, int reps) {
    return TimeSearch(*db, name, q, reps);
  };
  const Query eq = Query().Filter("category", Op::kEq, "cat_042");
  const Query range = Query().Filter("score", Op::kGte, 50.0).Filter("score", Op::kLt, 60.0);
  const double eq_scan = time_queries("search EQ 0.1% (scan)", eq, quick ? 20 : 5);
  const double range_scan = time_queries("search range 10% (scan)", range, quick ? 10 : 3);
  db->CreateIndex({"category", dkdata::IndexKind::kHash});
  db->CreateIndex({"score", dkdata::IndexKind::kOrdered});
  const double eq_index = time_queries("search EQ 0.1% (hash index)", eq, quick ? 200 : 200);
  Ratio("indexed EQ / scan", eq_scan / eq_index, ">= 50");
  const double range_index = time_queries("search range 10% (ordered index)", range, 3);
  Ratio("indexed range / scan", range_scan / range_index, "(info)");
  db->DropIndex("score");

  const Query top = Query().Sort("score", dkdata::SortOrder::kDesc).Limit(10);
  const double topk = time_queries("sort score desc + limit 10", top, quick ? 20 : 5);
  double full_sort = 0;
  {
    const auto t = Clock::now();
    auto all = db->Search(Query().Sort("score", dkdata::SortOrder::kDesc));
    all.resize(std::min<std::size_t>(all.size(), 10));
    g_sink += all.size();
    full_sort = Seconds(t);
    Print("baseline full sort of all, then 10", 1, full_sort, "queries/s");
    Ratio("sort+limit / full sort", full_sort / topk, ">= 20");
  }
  {
    const dkdata::Expr filter =
        dkdata::Where("active", Op::kEq, true) && dkdata::Where("age", Op::kGte, 40);
    const auto t = Clock::now();
    const int reps = quick ? 20 : 5;
    for (int i = 0; i < reps; ++i) g_sink += db->Count(filter);
    Print("count with filter", reps, Seconds(t), "queries/s");
  }

  // ---- memory ----
  {
    std::size_t json_bytes = 0;
    for (const Record& r : records) {
      json_bytes += dkdata::RecordToJson(r, dkdata::RecordFormat::kFlat).size();
    }
    const double per_record = static_cast<double>(rss_after - rss_before) / n;
    const double json_per_record = static_cast<double>(json_bytes) / n;
    std::printf("%-34s %14.1f bytes (compact JSON %.1f bytes)\n", "memory per stored record",
                per_record, json_per_record);
    Ratio("memory / compact JSON size", per_record / json_per_record, "<= 1.5");
  }

  // ---- the Python reference ----
  if (reference) {
    const auto ref = RunReference(quick);
    if (auto it = ref.find("create"); it != ref.end()) {
      Ratio("create vs reference", create_per_sec / it->second.second, ">= 50");
    }
    if (auto it = ref.find("sort_limit"); it != ref.end()) {
      // Normalised per record scanned: the reference runs on fewer records.
      const double ours = n / topk;
      const double theirs = it->second.first * it->second.second;
      Ratio("sort+limit (per record) vs reference", ours / theirs, ">= 100");
    }
    if (auto it = ref.find("search_eq"); it != ref.end()) {
      Ratio("EQ scan (per record) vs reference",
            (n / eq_scan) / (it->second.first * it->second.second), "(info)");
    }
  }
  return g_sink == 42 ? 1 : 0;
}
