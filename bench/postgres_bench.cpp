// bench/postgres_bench.cpp: the PostgreSQL backend on generated records (bench/workload.hpp), each
// figure printed with the ratio to its baseline measured in the same run, on the same server:
//   create_batch        vs a raw libpq COPY ... FROM STDIN of the very rows the backend stored
//                       (captured with COPY ... TO STDOUT) into the same table, same indexes:
//                       what dkdata adds to PostgreSQL's bulk load
//   ReadBatch(ids)      vs the same ids read one Read(id) round trip at a time
//   UpdateBatch         vs the same updates one Update call at a time
//   create_batch        vs the Python reference's postgres backend (AsyncPostgresDatabase, run by
//                       bench/peers/postgres_reference.py) on the same records, per second
//
// The server is $DKDATA_PG_URL (a postgres:// URL) when set; otherwise a private one is started
// with tests/postgres/pg_server.sh and stopped at exit. The table "bench_records" is dropped
// before and after the run.
//
// Usage: dkdata_postgres_bench [--records N] [--reads N] [--reference-records N] [--quick]
//                              [--reference] [--no-reference]
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench_server.hpp"
#include "bench_util.hpp"
#include "dkdata/dkdata.hpp"
#include "dkdata/factory.hpp"
#include "workload.hpp"

namespace {

using dkdata::Record;
using namespace dkdata::bench;

constexpr const char* kTable = "bench_records";
constexpr const char* kColumns = "id, data, metadata, version, dkdata_fields";

// ---- The server ----

// What a signal handler needs to stop the private server: prepared before it is installed, since
// only async-signal-safe calls (fork, execve, waitpid, _exit) may run inside it.
struct StopCommand {
  std::string script, data_env, path_env;
  const char* envp[3] = {nullptr, nullptr, nullptr};
};
StopCommand g_stop;
volatile std::sig_atomic_t g_server_running = 0;

extern "C" void StopServerOnSignal(int signal) {
  if (g_server_running) {
    const char* argv[] = {"bash", g_stop.script.c_str(), "stop", nullptr};
    RunAndWait("/bin/bash", argv, g_stop.envp);
  }
  _exit(128 + signal);
}

// A private server from tests/postgres/pg_server.sh, stopped (and its folder removed) by Stop()
// or the destructor; never signalled by name.
class PrivateServer {
 public:
  PrivateServer() = default;
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;
  ~PrivateServer() { Stop(); }

  // Starts it; returns its URL. Throws when the script fails.
  std::string Start() {
    const std::string script = SourceDir() + "/tests/postgres/pg_server.sh";
    int status = 0;
    std::map<std::string, std::string> exports = ScriptExports(script, "start", &status);
    data_dir_ = exports["DKDATA_PG_DATA"];
    if (!data_dir_.empty()) {
      g_stop.script = script;
      g_stop.data_env = "DKDATA_PG_DATA=" + data_dir_;
      const char* path = std::getenv("PATH");
      g_stop.path_env = std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
      g_stop.envp[0] = g_stop.data_env.c_str();
      g_stop.envp[1] = g_stop.path_env.c_str();
      g_server_running = 1;
      std::signal(SIGINT, StopServerOnSignal);
      std::signal(SIGTERM, StopServerOnSignal);
      std::signal(SIGHUP, StopServerOnSignal);
    }
    if (status != 0 || exports["DKDATA_PG_URL"].empty()) {
      throw std::runtime_error(script + " start failed (see its messages above)");
    }
    return exports["DKDATA_PG_URL"];
  }

  void Stop() {
    if (data_dir_.empty()) return;
    g_server_running = 0;
    const std::string command =
        "DKDATA_PG_DATA='" + data_dir_ + "' bash '" + g_stop.script + "' stop";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "warning: '%s' failed\n", command.c_str());
    }
    data_dir_.clear();
  }

 private:
  std::string data_dir_;
};

// ---- Raw libpq: the baseline of create_batch, and the table's housekeeping ----

class RawConnection {
 public:
  explicit RawConnection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("libpq connect: " + message);
    }
    // No NOTICE lines ("table ... does not exist, skipping") in the output.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() { PQfinish(conn_); }

  PGconn* get() const { return conn_; }

  // Runs sql; throws unless it succeeded (or, with may_fail, just returns false).
  bool Exec(const std::string& sql, bool may_fail = false) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    const std::string message = ok ? "" : PQresultErrorMessage(result);
    PQclear(result);
    if (!ok && !may_fail) throw std::runtime_error(sql + ": " + message);
    return ok;
  }

  // The first column of every row of a query.
  std::vector<std::string> Column(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      const std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + message);
    }
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(result); ++row) out.emplace_back(PQgetvalue(result, row, 0));
    PQclear(result);
    return out;
  }

  // COPY (...) TO STDOUT: the whole text, in memory.
  std::string CopyOut(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    if (PQresultStatus(result) != PGRES_COPY_OUT) {
      const std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + message);
    }
    PQclear(result);
    std::string text;
    char* buffer = nullptr;
    int got;
    while ((got = PQgetCopyData(conn_, &buffer, 0)) > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
      PQfreemem(buffer);
    }
    Finish(sql, got == -1 ? "" : PQerrorMessage(conn_));
    return text;
  }

  // COPY table (columns) FROM STDIN of text in chunks of about 1 MiB (cut at line ends); returns
  // the rows the server says it stored.
  std::size_t CopyIn(const std::string& sql, const std::string& text) {
    PGresult* result = PQexec(conn_, sql.c_str());
    if (PQresultStatus(result) != PGRES_COPY_IN) {
      const std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + message);
    }
    PQclear(result);
    constexpr std::size_t kChunk = 1 << 20;
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t end = std::min(text.size(), at + kChunk);
      if (end < text.size()) {
        const std::size_t newline = text.rfind('\n', end - 1);
        if (newline != std::string::npos && newline >= at) end = newline + 1;
      }
      if (PQputCopyData(conn_, text.data() + at, static_cast<int>(end - at)) != 1) {
        throw std::runtime_error(sql + ": PQputCopyData: " + PQerrorMessage(conn_));
      }
      at = end;
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) {
      throw std::runtime_error(sql + ": PQputCopyEnd: " + PQerrorMessage(conn_));
    }
    return Finish(sql, "");
  }

 private:
  // Reads the results that end a COPY; throws unless it succeeded. Returns its row count.
  std::size_t Finish(const std::string& sql, const std::string& error) {
    std::string message = error;
    std::size_t rows = 0;
    while (PGresult* result = PQgetResult(conn_)) {
      if (PQresultStatus(result) == PGRES_COMMAND_OK) {
        rows = std::strtoull(PQcmdTuples(result), nullptr, 10);
      } else if (message.empty()) {
        message = PQresultErrorMessage(result);
      }
      PQclear(result);
    }
    if (!message.empty()) throw std::runtime_error(sql + ": " + message);
    return rows;
  }

  PGconn* conn_;
};

std::string Quoted(const std::string& identifier) {
  std::string out = "\"";
  for (char c : identifier) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Empties the table and writes out dirty pages, so that no run pays for the one before it.
// CHECKPOINT needs a superuser (the private server's role is one); elsewhere it is skipped.
void Reset(RawConnection& raw, const std::string& table = kTable) {
  raw.Exec("TRUNCATE " + Quoted(table));
  raw.Exec("CHECKPOINT", /*may_fail=*/true);
}

// Splits items into consecutive slices of size per_call (the last one shorter).
template <typename T>
std::vector<std::vector<T>> Slices(const std::vector<T>& items, std::size_t per_call) {
  std::vector<std::vector<T>> out;
  for (std::size_t at = 0; at < items.size(); at += per_call) {
    out.emplace_back(
        items.begin() + static_cast<std::ptrdiff_t>(at),
        items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), at + per_call)));
  }
  return out;
}

struct Options {
  std::size_t records = 1000000;
  std::size_t reads = 10000;
  std::size_t reference_records = 0;  // 0: as many as records
  bool quick = false;
  int reference = -1;  // -1: unless --quick
};

// Runs bench/peers/postgres_reference.py; returns its per_sec figures by operation name.
std::map<std::string, std::pair<double, double>> RunReference(const std::string& url,
                                                              std::size_t records,
                                                              std::size_t reads) {
  std::map<std::string, std::pair<double, double>> out;  // op -> (records, per_sec)
  const std::string args =
      "'" + url + "' --records " + std::to_string(records) + " --reads " + std::to_string(reads);
  RunPython("bench/peers/postgres_reference.py", args, [&](const char* line) {
    char op[64];
    double n = 0, per_sec = 0;
    if (std::sscanf(line, "reference %63s records=%lf %*s %*s per_sec=%lf", op, &n, &per_sec) ==
        3) {
      out[op] = {n, per_sec};
    }
  });
  return out;
}

int Run(const Options& options, const std::string& url) {
  const std::size_t n = options.records;
  RawConnection raw(url);
  std::printf(
      "dkdata postgres backend benchmark: %zu records, 8 mixed fields, UUID ids, %zu reads; "
      "PostgreSQL %s at %s:%s/%s\n",
      n, options.reads, raw.Column("SHOW server_version")[0].c_str(), PQhost(raw.get()),
      PQport(raw.get()), PQdb(raw.get()));

  const std::vector<Record> records = MakeRecords(n);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (const Record& r : records) ids.push_back(*r.id());

  raw.Exec("DROP TABLE IF EXISTS " + Quoted(kTable));
  auto db = dkdata::CreateDatabase(
      "postgres",
      dkdata::Object{{"connection_string", dkdata::Value(url)}, {"table", dkdata::Value(kTable)}});
  Expect(db->Count() == 0, "a new table is empty");
  for (const std::string& index : raw.Column("SELECT indexdef FROM pg_indexes WHERE tablename = '" +
                                             std::string(kTable) + "' ORDER BY indexname")) {
    std::printf("  index: %s\n", index.c_str());
  }

  // ---- 1. create_batch vs raw COPY of the same rows: dkdata, raw, dkdata, raw ----
  const std::string copy_in = "COPY " + Quoted(kTable) + " (" + kColumns + ") FROM STDIN";
  std::string rows;
  double batch_s = 1e100, copy_s = 1e100;
  for (int run = 0; run < 2; ++run) {
    Reset(raw);
    auto t = Clock::now();
    const std::vector<std::string> created = db->CreateBatch(records);
    batch_s = std::min(batch_s, Seconds(t));
    Expect(created.size() == n, "create_batch returns an id per record");
    if (run == 0) {
      Expect(db->Count() == n, "create_batch stored every record");
      rows = raw.CopyOut("COPY (SELECT " + std::string(kColumns) + " FROM " + Quoted(kTable) +
                         ") TO STDOUT");
    }
    Reset(raw);
    t = Clock::now();
    const std::size_t copied = raw.CopyIn(copy_in, rows);
    copy_s = std::min(copy_s, Seconds(t));
    Expect(copied == n, "COPY stored every row");
  }
  Print("create_batch", n, batch_s, "records/s");
  Print("baseline raw libpq COPY of the same rows", n, copy_s, "records/s");
  std::printf("  (COPY text: %.1f MB, %.0f bytes per row; best of 2 runs each, alternating)\n",
              rows.size() / 1e6, static_cast<double>(rows.size()) / n);
  Ratio("create_batch / raw COPY", copy_s / batch_s, ">= 0.9");
  rows = std::string();

  // ---- 1b. the same into a table without the reference's GIN indexes (gin_index: false) ----
  double plain_s = 1e100;
  {
    const std::string plain_table = std::string(kTable) + "_plain";
    raw.Exec("DROP TABLE IF EXISTS " + Quoted(plain_table));
    auto plain =
        dkdata::CreateDatabase("postgres", dkdata::Object{{"connection_string", dkdata::Value(url)},
                                                          {"table", dkdata::Value(plain_table)},
                                                          {"gin_index", dkdata::Value(false)}});
    for (int run = 0; run < 2; ++run) {
      Reset(raw, plain_table);
      const auto t = Clock::now();
      Expect(plain->CreateBatch(records).size() == n, "create_batch returns an id per record");
      plain_s = std::min(plain_s, Seconds(t));
    }
    plain->Close();
    raw.Exec("DROP TABLE IF EXISTS " + Quoted(plain_table));
  }
  Print("create_batch, gin_index: false", n, plain_s, "records/s");

  // ---- 2. point reads: batched vs one round trip at a time ----
  const std::size_t reads = options.reads;
  const std::size_t per_call = std::min<std::size_t>(reads, options.quick ? 100 : 1000);
  std::vector<std::string> probes(reads);
  for (std::size_t j = 0; j < reads; ++j) probes[j] = ids[SplitMix64(0xBEEF + j) % n];
  const auto probe_slices = Slices(probes, per_call);
  const int rounds = options.quick ? 1 : 3;
  double read_s = 1e100, read_batch_s = 1e100, read_all_s = 1e100;
  for (int round = 0; round < rounds; ++round) {
    std::size_t found = 0;
    auto t = Clock::now();
    for (const std::string& id : probes) found += db->Read(id).has_value();
    read_s = std::min(read_s, Seconds(t));
    Expect(found == reads, "Read finds every id");

    found = 0;
    t = Clock::now();
    for (const auto& slice : probe_slices) {
      for (const auto& record : db->ReadBatch(slice)) found += record.has_value();
    }
    read_batch_s = std::min(read_batch_s, Seconds(t));
    Expect(found == reads, "ReadBatch finds every id");

    found = 0;
    t = Clock::now();
    for (const auto& record : db->ReadBatch(probes)) found += record.has_value();
    read_all_s = std::min(read_all_s, Seconds(t));
    Expect(found == reads, "ReadBatch of all ids finds every id");
  }
  const std::string batch_name = "ReadBatch, " + std::to_string(per_call) + " ids per call";
  const std::string all_name = "ReadBatch, all " + std::to_string(reads) + " ids in one call";
  Print(batch_name.c_str(), reads, read_batch_s, "reads/s");
  Print(all_name.c_str(), reads, read_all_s, "reads/s");
  Print("baseline Read(id), one round trip each", reads, read_s, "reads/s");
  Ratio("ReadBatch (per call) / Read", read_s / read_batch_s, ">= 3");
  Ratio("ReadBatch (all at once) / Read", read_s / read_all_s, ">= 3");

  // ---- updates: UpdateBatch vs one Update at a time, on distinct records ----
  const std::size_t updates = std::min(reads, n);
  std::vector<std::pair<std::string, Record>> changed;
  changed.reserve(updates);
  for (std::size_t i = 0; i < updates; ++i) {
    Record record = records[i];
    record.Set("score", static_cast<double>(i % 1000) + 0.5);
    changed.emplace_back(ids[i], std::move(record));
  }
  const auto changed_slices = Slices(changed, per_call);
  double update_s = 1e100, update_batch_s = 1e100, update_all_s = 1e100;
  for (int round = 0; round < rounds; ++round) {
    std::size_t done = 0;
    auto t = Clock::now();
    for (const auto& [id, record] : changed) done += db->Update(id, record);
    update_s = std::min(update_s, Seconds(t));
    Expect(done == updates, "Update finds every id");

    done = 0;
    t = Clock::now();
    for (const auto& slice : changed_slices) {
      for (bool ok : db->UpdateBatch(slice)) done += ok;
    }
    update_batch_s = std::min(update_batch_s, Seconds(t));
    Expect(done == updates, "UpdateBatch finds every id");

    done = 0;
    t = Clock::now();
    for (bool ok : db->UpdateBatch(changed)) done += ok;
    update_all_s = std::min(update_all_s, Seconds(t));
    Expect(done == updates, "UpdateBatch of all finds every id");
  }
  const std::string update_batch_name =
      "UpdateBatch, " + std::to_string(per_call) + " records per call";
  const std::string update_all_name =
      "UpdateBatch, all " + std::to_string(updates) + " in one call";
  Print(update_batch_name.c_str(), updates, update_batch_s, "updates/s");
  Print(update_all_name.c_str(), updates, update_all_s, "updates/s");
  Print("baseline Update, one call each", updates, update_s, "updates/s");
  Ratio("UpdateBatch (per call) / Update", update_s / update_batch_s, "(info)");
  Ratio("UpdateBatch (all at once) / Update", update_s / update_all_s, "(info)");

  db->Close();
  raw.Exec("DROP TABLE IF EXISTS " + Quoted(kTable));

  // ---- 3. the Python reference, on the same server ----
  if (options.reference == 1 || (options.reference == -1 && !options.quick)) {
    const std::size_t ref_n = options.reference_records ? options.reference_records : n;
    raw.Exec("CHECKPOINT", /*may_fail=*/true);
    const auto ref = RunReference(url, ref_n, reads);
    if (auto it = ref.find("create_batch"); it != ref.end()) {
      if (ref_n != n) {
        std::printf("  (the reference created %zu records, dkdata %zu: rates per second)\n", ref_n,
                    n);
      }
      Ratio("create_batch vs reference", (n / batch_s) / it->second.second, ">= 10");
      Ratio("create_batch (gin_index: false) vs reference", (n / plain_s) / it->second.second,
            ">= 10");
    }
    if (auto it = ref.find("read"); it != ref.end()) {
      Ratio("Read (one round trip) vs reference read", (reads / read_s) / it->second.second,
            "(info)");
      Ratio("ReadBatch (per call) vs reference read", (reads / read_batch_s) / it->second.second,
            "(info)");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--records") && i + 1 < argc) {
      options.records = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--reads") && i + 1 < argc) {
      options.reads = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--reference-records") && i + 1 < argc) {
      options.reference_records = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--quick")) {
      options.quick = true;
      options.records = 2000;
      options.reads = 500;
    } else if (!std::strcmp(argv[i], "--reference")) {
      options.reference = 1;
    } else if (!std::strcmp(argv[i], "--no-reference")) {
      options.reference = 0;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--records N] [--reads N] [--reference-records N] [--quick] "
                   "[--reference] [--no-reference]\n",
                   argv[0]);
      return 2;
    }
  }
  if (options.records == 0 || options.reads == 0) {
    std::fprintf(stderr, "%s: --records and --reads must be positive\n", argv[0]);
    return 2;
  }
  PrivateServer server;
  try {
    std::string url;
    if (const char* env = std::getenv("DKDATA_PG_URL"); env && *env) {
      url = env;
    } else {
      url = server.Start();
    }
    const int rc = Run(options, url);
    server.Stop();
    return rc;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dkdata_postgres_bench: %s\n", e.what());
    server.Stop();
    return 1;
  }
}
