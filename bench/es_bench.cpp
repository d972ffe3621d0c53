// bench/es_bench.cpp: the Elasticsearch backend's create_batch on generated records
// (bench/workload.hpp), each figure printed with the ratio to its baseline measured in the same
// run, on the same server:
//   create_batch  vs curl uploading the very _bulk bodies dkdata sends (written beforehand with the
//                 backend's own encoder, es_documents.hpp), cut into the same requests of
//                 --bulk-size documents, sent one after another by ONE curl process (a -K config
//                 with `next`: the connection is reused), each with ?refresh=false, then one
//                 POST /<index>/_refresh; into an index that dkdata created (its mapping and
//                 settings): what dkdata adds to Elasticsearch's bulk load
//   create_batch  vs the Python reference's elasticsearch backends on the same records
//                 (bench/peers/elasticsearch_reference.py), each at its default refresh policy:
//                 dkdata refreshes once at the end of the call (refresh: true), the reference
//                 refreshes every request (SyncElasticsearchDatabase: requests of 500 documents;
//                 AsyncElasticsearchDatabase, called with --bulk-size records at a time: one
//                 request per call)
//
// The server is $DKDATA_ES_URL (http://host:port) when set; otherwise a private node is started
// with tests/elasticsearch/es_server.sh and stopped at exit. The indexes bench_dk and bench_curl
// are deleted before every run and at the end; the reference uses ref_bench and ref_bench_async.
//
// Usage: dkdata_es_bench [--records N] [--bulk-size N] [--runs N] [--reference-records N]
//                        [--quick] [--reference] [--no-reference]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/elasticsearch/es_documents.hpp"
#include "bench_server.hpp"
#include "bench_util.hpp"
#include "dkdata/dkdata.hpp"
#include "dkdata/factory.hpp"
#include "net/http_client.hpp"
#include "workload.hpp"

extern char** environ;

namespace {

using dkdata::Record;
using namespace dkdata::bench;
namespace fs = std::filesystem;

constexpr const char* kDkIndex = "bench_dk";
constexpr const char* kCurlIndex = "bench_curl";
// The backend's default `bulk_bytes`: it also ends a request once the body reaches this size.
constexpr std::size_t kBulkBytes = 8 << 20;

// ---- Cleaning up at a signal ----

// What a signal handler needs to stop curl and the private node and to remove the bodies' folder:
// prepared before it is installed, since only async-signal-safe calls (kill, fork, execve,
// waitpid, _exit) may run inside it.
struct SignalCleanup {
  std::string script, data_env, path_env;
  const char* envp[3] = {nullptr, nullptr, nullptr};
  std::string temp_dir;
};
SignalCleanup g_cleanup;
volatile std::sig_atomic_t g_server_running = 0;
volatile std::sig_atomic_t g_temp_dir_set = 0;
volatile pid_t g_curl_pid = 0;  // the curl process running now, if any

extern "C" void CleanUpOnSignal(int signal) {
  if (g_curl_pid > 0) {
    kill(g_curl_pid, SIGTERM);
    waitpid(g_curl_pid, nullptr, 0);
  }
  if (g_temp_dir_set) {
    const char* argv[] = {"rm", "-rf", "--", g_cleanup.temp_dir.c_str(), nullptr};
    RunAndWait("/bin/rm", argv, g_cleanup.envp);
  }
  if (g_server_running) {
    const char* argv[] = {"bash", g_cleanup.script.c_str(), "stop", nullptr};
    RunAndWait("/bin/bash", argv, g_cleanup.envp);
  }
  _exit(128 + signal);
}

void InstallSignalHandlers() {
  const char* path = std::getenv("PATH");
  g_cleanup.path_env = std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  g_cleanup.envp[0] = g_cleanup.path_env.c_str();
  if (!g_cleanup.data_env.empty()) g_cleanup.envp[1] = g_cleanup.data_env.c_str();
  std::signal(SIGINT, CleanUpOnSignal);
  std::signal(SIGTERM, CleanUpOnSignal);
  std::signal(SIGHUP, CleanUpOnSignal);
}

// ---- The server ----

// A private node from tests/elasticsearch/es_server.sh, stopped (and its folder removed) by Stop()
// or the destructor; never signalled by name.
class PrivateServer {
 public:
  PrivateServer() = default;
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;
  ~PrivateServer() { Stop(); }

  // Starts it; returns its URL. Throws when the script fails.
  std::string Start() {
    const std::string script = SourceDir() + "/tests/elasticsearch/es_server.sh";
    int status = 0;
    std::map<std::string, std::string> exports = ScriptExports(script, "start", &status);
    data_dir_ = exports["DKDATA_ES_DATA"];
    if (!data_dir_.empty()) {
      script_ = script;
      g_cleanup.script = script;
      g_cleanup.data_env = "DKDATA_ES_DATA=" + data_dir_;
      g_server_running = 1;
      InstallSignalHandlers();
    }
    if (status != 0 || exports["DKDATA_ES_URL"].empty()) {
      throw std::runtime_error(script + " start failed (see its messages above)");
    }
    return exports["DKDATA_ES_URL"];
  }

  void Stop() {
    if (data_dir_.empty()) return;
    g_server_running = 0;
    const std::string command = "DKDATA_ES_DATA='" + data_dir_ + "' bash '" + script_ + "' stop";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "warning: '%s' failed\n", command.c_str());
    }
    data_dir_.clear();
  }

 private:
  std::string script_, data_dir_;
};

// A fresh folder under /tmp for the bodies, responses and curl config; removed by the destructor
// (or at a signal).
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dkdata-es-bench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    g_cleanup.temp_dir = pattern;
    g_temp_dir_set = 1;
    InstallSignalHandlers();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    g_temp_dir_set = 0;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---- Housekeeping on the server (never timed) ----

// The text of the JSON string after "key": in body (the first one), or "".
std::string JsonStringAfter(const std::string& body, std::string_view key) {
  std::size_t at = body.find("\"" + std::string(key) + "\"");
  if (at == std::string::npos) return "";
  at = body.find('"', body.find(':', at) + 1);
  const std::size_t end = at == std::string::npos ? at : body.find('"', at + 1);
  return end == std::string::npos ? "" : body.substr(at + 1, end - at - 1);
}

class Cluster {
 public:
  explicit Cluster(std::string url) : url_(std::move(url)), http_(Options()) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  const std::string& url() const { return url_; }

  // Sends `method path` (no body); returns the response's body. Throws unless the status is 2xx
  // or one of also_ok.
  std::string Call(const std::string& method, const std::string& path,
                   const std::vector<long>& also_ok = {}) {
    dkdata::internal::HttpRequest request;
    request.method = method;
    request.url = url_ + path;
    const dkdata::internal::HttpResponse response = http_.Send(request);
    const bool ok = (response.status >= 200 && response.status < 300) ||
                    std::find(also_ok.begin(), also_ok.end(), response.status) != also_ok.end();
    if (!ok) {
      throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(response.status) +
                               ": " + response.body.substr(0, 500));
    }
    return response.body;
  }

  // Not GET /: the test distribution es_server.sh runs lacks the module that answers it.
  std::string Version() {
    return JsonStringAfter(Call("GET", "/_nodes/_local?filter_path=nodes.*.version"), "version");
  }
  void DropIndex(const std::string& index) { Call("DELETE", "/" + index, {404}); }
  bool IndexExists(const std::string& index) {
    dkdata::internal::HttpRequest request;
    request.method = "HEAD";
    request.url = url_ + "/" + index;
    return http_.Send(request).status == 200;
  }
  // Documents searchable now (no refresh first).
  std::size_t Count(const std::string& index) {
    const std::string body = Call("GET", "/" + index + "/_count");
    const std::size_t at = body.find("\"count\":");
    Expect(at != std::string::npos, "a _count response has a count: " + body);
    return std::strtoull(body.c_str() + at + 8, nullptr, 10);
  }
  // The index's mapping and its shards, replicas and refresh interval as JSON, with the index's
  // name replaced by "INDEX" (so that two indexes can be compared).
  std::string Layout(const std::string& index) {
    std::string text =
        Call("GET", "/" + index + "/_mapping") +
        Call("GET", "/" + index +
                        "/_settings/index.number_of_shards,index.number_of_replicas,"
                        "index.refresh_interval?flat_settings=true&include_defaults=true");
    const std::string name = "\"" + index + "\"";
    for (std::size_t at; (at = text.find(name)) != std::string::npos;) {
      text.replace(at, name.size(), "\"INDEX\"");
    }
    return text;
  }

 private:
  static dkdata::internal::HttpOptions Options() {
    dkdata::internal::HttpOptions options;
    options.request_timeout = std::chrono::milliseconds(300000);
    options.backend = "dkdata_es_bench";
    return options;
  }

  std::string url_;
  dkdata::internal::HttpClient http_;
};

// A run's wall-clock seconds, and the CPU seconds (user + system) the client spent in it: this
// process for create_batch, the curl process for curl.
struct Timing {
  double seconds = 0, cpu = 0;
};

double CpuSeconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The fastest of runs.
Timing Best(const std::vector<Timing>& runs) {
  return *std::min_element(runs.begin(), runs.end(),
                           [](const Timing& a, const Timing& b) { return a.seconds < b.seconds; });
}

std::string Times(const std::vector<Timing>& runs) {
  std::string out;
  char buf[32];
  for (const Timing& run : runs) {
    std::snprintf(buf, sizeof buf, " %.2f", run.seconds);
    out += buf;
  }
  return out;
}

// ---- dkdata ----

std::unique_ptr<dkdata::Database> OpenEs(const std::string& url, const char* index,
                                         std::size_t bulk_size) {
  return dkdata::CreateDatabase(
      "elasticsearch", dkdata::Object{{"hosts", dkdata::Value(url)},
                                      {"index", dkdata::Value(index)},
                                      {"refresh", dkdata::Value(true)},
                                      {"bulk_size", dkdata::Value(static_cast<long>(bulk_size))}});
}

// Deletes the index, lets dkdata create it again (its mapping and settings) and returns the
// database, open on it.
std::unique_ptr<dkdata::Database> FreshIndex(Cluster& cluster, const char* index,
                                             std::size_t bulk_size) {
  cluster.DropIndex(index);
  auto db = OpenEs(cluster.url(), index, bulk_size);
  Expect(cluster.IndexExists(index),
         std::string("opening the database creates the index ") + index);
  return db;
}

// Times CreateBatch of all records into a fresh bench_dk; checks that every record is searchable
// when it returns.
Timing TimeCreateBatch(Cluster& cluster, const std::vector<Record>& records,
                       std::size_t bulk_size) {
  auto db = FreshIndex(cluster, kDkIndex, bulk_size);
  Timing timing;
  const double cpu = CpuSeconds(RUSAGE_SELF);
  const auto t = Clock::now();
  const std::vector<std::string> ids = db->CreateBatch(records);
  timing.seconds = Seconds(t);
  timing.cpu = CpuSeconds(RUSAGE_SELF) - cpu;
  Expect(ids.size() == records.size(), "create_batch returns an id per record");
  Expect(cluster.Count(kDkIndex) == records.size(),
         "every record is searchable when create_batch returns (refresh: true)");
  db->Close();
  return timing;
}

// ---- The curl baseline ----

// The _bulk bodies dkdata sends for the records, one file per request, and what curl is told.
struct BulkUpload {
  std::vector<fs::path> bodies, responses;
  std::vector<std::size_t> documents;  // per request
  std::size_t bytes = 0;
  bool cut_by_bytes = false;  // some request ended at kBulkBytes before bulk_size documents
  fs::path config, statuses;
};

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The create_batch call's token in a document it stored (_dk.c, es_documents.hpp), or "".
std::string BatchToken(const std::string& document) {
  const std::size_t dk = document.rfind("\"_dk\":{");
  if (dk == std::string::npos) return "";
  const std::size_t at = document.find(",\"c\":\"", dk);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + 6;
  const std::size_t end = document.find('"', begin);
  return end == std::string::npos ? "" : document.substr(begin, end - begin);
}

// A string in a curl config file.
std::string CurlQuoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Writes, into dir, the bodies the backend sends for records (its encoder, `create` actions,
// version 1, the call's token, each line ending in "\n"), cut as it cuts them (a request ends after
// bulk_size documents, or after the document that brings it to kBulkBytes), and the curl config
// that uploads them into index, one after another on one connection, then refreshes the index once.
BulkUpload WriteBulkUpload(const std::vector<Record>& records, std::size_t bulk_size,
                           const std::string& token, const std::string& url,
                           const std::string& index, const fs::path& dir) {
  BulkUpload upload;
  dkdata::internal::DocumentEncoder encoder;
  std::string body, line;
  std::size_t in_body = 0;
  auto flush = [&] {
    char name[32];
    std::snprintf(name, sizeof name, "b%05zu.ndjson", upload.bodies.size());
    upload.bodies.push_back(dir / name);
    std::snprintf(name, sizeof name, "r%05zu.json", upload.responses.size());
    upload.responses.push_back(dir / name);
    upload.documents.push_back(in_body);
    WriteFile(upload.bodies.back(), body);
    upload.bytes += body.size();
    body.clear();
    in_body = 0;
  };
  for (const Record& record : records) {
    const std::string& id = *record.id();
    line.clear();
    dkdata::internal::AppendBulkAction(line, "create", id);
    encoder.Append(line, id, record, 1, token);
    line += '\n';
    body += line;
    ++in_body;
    if (in_body >= bulk_size || body.size() >= kBulkBytes) {
      upload.cut_by_bytes = upload.cut_by_bytes || in_body < bulk_size;
      flush();
    }
  }
  if (in_body > 0) flush();

  std::string config;
  const std::string bulk_url = url + "/" + index + "/_bulk?refresh=false";
  for (std::size_t i = 0; i < upload.bodies.size(); ++i) {
    config += "url = " + CurlQuoted(bulk_url) + "\n";
    config += "data-binary = " + CurlQuoted("@" + upload.bodies[i].string()) + "\n";
    config += "header = \"Content-Type: application/x-ndjson\"\n";
    config += "header = \"Expect:\"\n";  // as dkdata: no 100-continue round trip
    config += "output = " + CurlQuoted(upload.responses[i].string()) + "\n";
    config += "write-out = \"%{http_code}\\n\"\n";
    config += "next\n";
  }
  config += "url = " + CurlQuoted(url + "/" + index + "/_refresh") + "\n";
  config += "request = \"POST\"\n";
  config += "output = " + CurlQuoted((dir / "refresh.json").string()) + "\n";
  config += "write-out = \"%{http_code}\\n\"\n";
  upload.config = dir / "bulk.curlrc";
  upload.statuses = dir / "statuses.txt";
  WriteFile(upload.config, config);
  return upload;
}

// Runs `curl -sS -K config`, its stdout (the statuses) into upload.statuses; returns the time
// from starting it to its exit.
Timing RunCurl(const BulkUpload& upload) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, upload.statuses.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string config = upload.config.string();
  const char* argv[] = {"curl", "-sS", "-K", config.c_str(), nullptr};
  pid_t pid = 0;
  Timing timing;
  const double cpu = CpuSeconds(RUSAGE_CHILDREN);
  const auto t = Clock::now();
  const int spawned =
      posix_spawnp(&pid, "curl", &actions, nullptr, const_cast<char* const*>(argv), environ);
  int status = 0;
  if (spawned == 0) {
    g_curl_pid = pid;
    waitpid(pid, &status, 0);
    g_curl_pid = 0;
  }
  timing.seconds = Seconds(t);
  timing.cpu = CpuSeconds(RUSAGE_CHILDREN) - cpu;
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error(std::string("cannot run curl: ") + strerror(spawned));
  Expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "curl exits with 0");
  return timing;
}

// Checks what the server answered curl: 200 for every request, "errors":false in every _bulk
// response.
void CheckCurlResponses(const BulkUpload& upload) {
  std::istringstream statuses(ReadFile(upload.statuses));
  std::string status;
  std::size_t answered = 0;
  while (statuses >> status) {
    Expect(status == "200",
           "curl request " + std::to_string(answered) + " answered 200, not " + status);
    ++answered;
  }
  Expect(answered == upload.bodies.size() + 1, "curl sent every request");
  for (const fs::path& path : upload.responses) {
    const std::string response = ReadFile(path);
    Expect(response.substr(0, 200).find("\"errors\":false") != std::string::npos,
           path.filename().string() + " says \"errors\":false: " + response.substr(0, 500));
  }
}

// Times the curl upload into a fresh bench_curl created by dkdata; checks the responses and the
// count afterwards.
Timing TimeCurl(Cluster& cluster, const BulkUpload& upload, std::size_t n, std::size_t bulk_size) {
  FreshIndex(cluster, kCurlIndex, bulk_size)->Close();
  const Timing timing = RunCurl(upload);
  CheckCurlResponses(upload);
  Expect(cluster.Count(kCurlIndex) == n, "curl's upload stored every document");
  return timing;
}

// ---- The reference ----

// Runs bench/peers/elasticsearch_reference.py; returns its per_sec figures by operation name.
std::map<std::string, double> RunReference(const std::string& url, std::size_t records,
                                           std::size_t async_batch) {
  std::map<std::string, double> out;
  const std::string args = "'" + url + "' --records " + std::to_string(records) +
                           " --async-batch " + std::to_string(async_batch);
  RunPython("bench/peers/elasticsearch_reference.py", args, [&](const char* line) {
    char op[64];
    double per_sec = 0;
    if (std::sscanf(line, "reference %63s records=%*s %*s %*s per_sec=%lf", op, &per_sec) == 2) {
      out[op] = per_sec;
    }
  });
  return out;
}

struct Options {
  std::size_t records = 200000;
  std::size_t bulk_size = 5000;
  int runs = 3;
  std::size_t reference_records = 0;  // 0: as many as records
  bool quick = false;
  int reference = -1;  // -1: unless --quick
};

int Run(const Options& options, const std::string& url) {
  const std::size_t n = options.records;
  Cluster cluster(url);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "dkdata elasticsearch backend benchmark: %zu records, 8 mixed fields, UUID ids, "
      "bulk_size %zu; Elasticsearch %s at %s (load average %.2f)\n",
      n, options.bulk_size, cluster.Version().c_str(), cluster.url().c_str(), load[0]);

  const std::vector<Record> records = MakeRecords(n);

  // Untimed: warms the node up; takes the document create_batch stored for record 0, which says
  // which call token (_dk.c) create_batch puts into its documents, so that curl's carry one too.
  const double first_s = TimeCreateBatch(cluster, records, options.bulk_size).seconds;
  const std::string& first_id = *records[0].id();
  const std::string stored =
      cluster.Call("GET", "/" + std::string(kDkIndex) + "/_source/" + first_id);
  const std::string token = BatchToken(stored);
  {
    std::string expected;
    dkdata::internal::DocumentEncoder().Append(expected, first_id, records[0], 1, token);
    Expect(stored == expected,
           "create_batch stored the document curl sends:\n" + stored + "\n" + expected);
  }
  TempDir dir;
  const BulkUpload upload =
      WriteBulkUpload(records, options.bulk_size, token, cluster.url(), kCurlIndex, dir.path());
  std::printf(
      "  _bulk bodies: %zu requests of <= %zu documents%s, %.1f MB, %.0f bytes per record\n",
      upload.bodies.size(), options.bulk_size, upload.cut_by_bytes ? " (some cut at 8 MiB)" : "",
      upload.bytes / 1e6, static_cast<double>(upload.bytes) / n);
  TimeCurl(cluster, upload, n, options.bulk_size);
  const std::string dk_layout = cluster.Layout(kDkIndex);
  const std::string curl_layout = cluster.Layout(kCurlIndex);
  Expect(curl_layout == dk_layout, "bench_curl and bench_dk have the same mapping and settings:\n" +
                                       curl_layout + "\n" + dk_layout);
  std::printf(
      "  warm-up (untimed): create_batch and curl once each (create_batch %.2f s); same mapping "
      "and settings, same documents%s\n",
      first_s, token.empty() ? "" : " (curl's with the warm-up call's token in _dk.c)");

  // create_batch vs curl, alternating which goes first; the best of each counts.
  std::vector<Timing> dk_runs, curl_runs;
  for (int run = 0; run < options.runs; ++run) {
    if (run % 2 == 0) {
      dk_runs.push_back(TimeCreateBatch(cluster, records, options.bulk_size));
      curl_runs.push_back(TimeCurl(cluster, upload, n, options.bulk_size));
    } else {
      curl_runs.push_back(TimeCurl(cluster, upload, n, options.bulk_size));
      dk_runs.push_back(TimeCreateBatch(cluster, records, options.bulk_size));
    }
  }
  cluster.DropIndex(kDkIndex);
  cluster.DropIndex(kCurlIndex);
  const Timing dk = Best(dk_runs), curl = Best(curl_runs);
  const double dk_s = dk.seconds, curl_s = curl.seconds;
  Print("create_batch (refresh once, at the end)", n, dk_s, "records/s");
  Print("baseline curl _bulk of the same bodies", n, curl_s, "records/s");
  std::printf(
      "  (curl: one process, ?refresh=false per request, then one _refresh; best of %d runs each, "
      "alternating; seconds: create_batch%s, curl%s; client CPU in the best: create_batch "
      "%.2f s, curl %.2f s)\n",
      options.runs, Times(dk_runs).c_str(), Times(curl_runs).c_str(), dk.cpu, curl.cpu);
  Ratio("create_batch / curl _bulk", curl_s / dk_s, ">= 0.9");

  if (options.reference == 1 || (options.reference == -1 && !options.quick)) {
    const std::size_t ref_n = options.reference_records ? options.reference_records : n;
    std::printf("the reference, each class at its default refresh: true (a refresh per request)\n");
    const auto ref = RunReference(cluster.url(), ref_n, options.bulk_size);
    if (ref_n != n) {
      std::printf("  (the reference created %zu records, dkdata %zu: rates per second)\n", ref_n,
                  n);
    }
    if (auto it = ref.find("create_batch"); it != ref.end()) {
      Ratio("create_batch vs reference (sync class)", (n / dk_s) / it->second, ">= 5");
      Ratio("curl _bulk vs reference (sync class)", (n / curl_s) / it->second, "(info)");
    }
    if (auto it = ref.find("create_batch_async"); it != ref.end()) {
      Ratio("create_batch vs reference (async class)", (n / dk_s) / it->second, "(info)");
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
    } else if (!std::strcmp(argv[i], "--bulk-size") && i + 1 < argc) {
      options.bulk_size = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      options.runs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--reference-records") && i + 1 < argc) {
      options.reference_records = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--quick")) {
      options.quick = true;
      options.records = 2000;
      options.runs = 1;
    } else if (!std::strcmp(argv[i], "--reference")) {
      options.reference = 1;
    } else if (!std::strcmp(argv[i], "--no-reference")) {
      options.reference = 0;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--records N] [--bulk-size N] [--runs N] [--reference-records N] "
                   "[--quick] [--reference] [--no-reference]\n",
                   argv[0]);
      return 2;
    }
  }
  if (options.records == 0 || options.bulk_size == 0 || options.runs <= 0) {
    std::fprintf(stderr, "%s: --records, --bulk-size and --runs must be positive\n", argv[0]);
    return 2;
  }
  PrivateServer server;
  try {
    std::string url;
    if (const char* env = std::getenv("DKDATA_ES_URL"); env && *env) {
      url = env;
    } else {
      url = server.Start();
    }
    const int rc = Run(options, url);
    server.Stop();
    return rc;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dkdata_es_bench: %s\n", e.what());
    server.Stop();
    return 1;
  }
}
