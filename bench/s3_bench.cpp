// bench/s3_bench.cpp: the S3 backend's batched reads and searches on generated records
// (bench/workload.hpp), each figure printed with the ratio to its baseline measured in the same
// run, on the same server and the same objects:
//   ReadBatch(ids)  of every record, max_pool_connections: 16 (16 requests in flight)
//                   vs the same reads one at a time: Read(id) in a loop (the baseline), and the
//                   same ReadBatch on a database opened with max_pool_connections: 1
//   ReadBatch       vs the Python reference's read_batch (SyncS3Database, serial GETs)
//   Search          (age >= 40: about 2/3 of the records match; S3 has no server-side query, so
//                   every object is listed and fetched) with cache_records: 0, every object
//                   fetched (the headline), vs the reference's search (LIST + a thread pool of
//                   GETs + a Python filter), both with 16 requests in flight; the same search
//                   repeated with the ETag cache on (cache_records: 100000) is printed too
// The reference reads the objects dkdata stored when its reader accepts dkdata's bodies (the
// peer checks every record it reads against the generator), else it stores its own with its
// create_batch and is timed on those (bench/peers/s3_reference.py).
//
// The server is $DKDATA_S3_ENDPOINT (with $DKDATA_S3_ACCESS_KEY, $DKDATA_S3_SECRET_KEY and
// optionally $DKDATA_S3_REGION, $DKDATA_S3_PID) when set; otherwise a private one is started and
// stopped at exit (Ctrl-C included): moto with SigV4 checked (tests/s3/s3_server.sh, the default)
// or, with --server minio, a MinIO binary ($DKDATA_MINIO_BIN, else `minio` on PATH, else
// ~/go/bin/minio) on 127.0.0.1, a free port and a folder of its own under /tmp. The bucket
// dkdata-bench is made if missing; the prefix bench/ (and the reference's ref_bench/) is emptied
// before and after.
//
// With --latency-ms N (N > 0), network latency is emulated: tests/s3/s3_fault_proxy.py is started
// in front of the server (stopped by its PID at exit, Ctrl-C included) with one rule that holds
// every request N ms before forwarding it (mode=delay), and every timed client (dkdata's
// databases, the reference) talks to the proxy; the bucket's housekeeping goes to the server
// directly. The proxy's CPU time is printed beside the server's: it must not be the limit.
//
// Usage: dkdata_s3_bench [--records N] [--runs N] [--server moto|minio] [--latency-ms N] [--quick]
//                        [--reference] [--no-reference]
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/s3/s3_client.hpp"
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

constexpr const char* kBucket = "dkdata-bench";
constexpr const char* kPrefix = "bench/";
constexpr const char* kRefPrefix = "ref_bench/";  // the reference's own objects, if it needs them
constexpr long kConcurrency = 16;
constexpr std::int64_t kMinAge = 40;  // the search: age >= 40

// ---- Cleaning up at a signal ----

// What a signal handler needs to stop the private server: prepared before it is installed, since
// only async-signal-safe calls (kill, fork, execve, waitpid, _exit) may run inside it.
struct SignalCleanup {
  std::string script, data_env, path_env;  // moto: `bash s3_server.sh stop`
  const char* envp[3] = {nullptr, nullptr, nullptr};
  std::string minio_dir;  // MinIO: its folder, removed after it stopped
};
SignalCleanup g_cleanup;
volatile std::sig_atomic_t g_moto_running = 0;
volatile pid_t g_minio_pid = 0;
volatile pid_t g_proxy_pid = 0;  // the latency proxy (--latency-ms)

extern "C" void CleanUpOnSignal(int signal) {
  if (g_proxy_pid > 0) {
    kill(g_proxy_pid, SIGTERM);
    waitpid(g_proxy_pid, nullptr, 0);
  }
  if (g_minio_pid > 0) {
    kill(g_minio_pid, SIGTERM);
    waitpid(g_minio_pid, nullptr, 0);
    const char* argv[] = {"rm", "-rf", "--", g_cleanup.minio_dir.c_str(), nullptr};
    RunAndWait("/bin/rm", argv, g_cleanup.envp);
  }
  if (g_moto_running) {
    const char* argv[] = {"bash", g_cleanup.script.c_str(), "stop", nullptr};
    RunAndWait("/bin/bash", argv, g_cleanup.envp);
  }
  _exit(128 + signal);
}

// Called by each part that starts a process (the server, the proxy); installs once. The data
// directory of moto (g_cleanup.data_env) is set before it is called.
void InstallSignalHandlers() {
  static bool installed = false;
  if (installed) {
    if (!g_cleanup.data_env.empty()) g_cleanup.envp[1] = g_cleanup.data_env.c_str();
    return;
  }
  installed = true;
  const char* path = std::getenv("PATH");
  g_cleanup.path_env = std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  g_cleanup.envp[0] = g_cleanup.path_env.c_str();
  if (!g_cleanup.data_env.empty()) g_cleanup.envp[1] = g_cleanup.data_env.c_str();
  std::signal(SIGINT, CleanUpOnSignal);
  std::signal(SIGTERM, CleanUpOnSignal);
  std::signal(SIGHUP, CleanUpOnSignal);
}

// ---- The server ----

struct Endpoint {
  std::string url, access_key, secret_key, region = "us-east-1";
  pid_t pid = 0;  // the server's process when known (its CPU time is printed), else 0
  std::string name;
  pid_t proxy_pid = 0;  // the latency proxy in front of the server (--latency-ms), else 0
};

// A value as s3_server.sh prints it (printf %q): backslash escapes or '...' quoting removed.
bool IsExecutable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

// The MinIO binary: $DKDATA_MINIO_BIN, `minio` on PATH, ~/go/bin/minio; "" when none.
std::string FindMinio() {
  if (const char* env = std::getenv("DKDATA_MINIO_BIN"); env && *env) return env;
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (std::size_t at = 0; at <= dirs.size();) {
      const std::size_t end = std::min(dirs.find(':', at), dirs.size());
      const std::string candidate = dirs.substr(at, end - at) + "/minio";
      if (end > at && IsExecutable(candidate)) return candidate;
      at = end + 1;
    }
  }
  if (const char* home = std::getenv("HOME")) {
    const std::string candidate = std::string(home) + "/go/bin/minio";
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

// A TCP port on 127.0.0.1 that nobody listens on right now.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// A private server, stopped (and its folder removed) by Stop() or the destructor; never
// signalled by name.
class PrivateServer {
 public:
  PrivateServer() = default;
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;
  ~PrivateServer() { Stop(); }

  // moto from tests/s3/s3_server.sh (SigV4 checked). Throws when the script fails.
  Endpoint StartMoto() {
    const std::string script = SourceDir() + "/tests/s3/s3_server.sh";
    int status = 0;
    std::map<std::string, std::string> exports = ScriptExports(script, "start", &status);
    moto_dir_ = exports["DKDATA_S3_DATA"];
    if (!moto_dir_.empty()) {
      script_ = script;
      g_cleanup.script = script;
      g_cleanup.data_env = "DKDATA_S3_DATA=" + moto_dir_;
      g_moto_running = 1;
      InstallSignalHandlers();
    }
    if (status != 0 || exports["DKDATA_S3_ENDPOINT"].empty()) {
      throw std::runtime_error(script + " start failed (see its messages above)");
    }
    Endpoint e;
    e.url = exports["DKDATA_S3_ENDPOINT"];
    e.access_key = exports["DKDATA_S3_ACCESS_KEY"];
    e.secret_key = exports["DKDATA_S3_SECRET_KEY"];
    if (!exports["DKDATA_S3_REGION"].empty()) e.region = exports["DKDATA_S3_REGION"];
    e.pid = static_cast<pid_t>(std::atoi(exports["DKDATA_S3_PID"].c_str()));
    e.name =
        "moto " + exports["DKDATA_S3_MOTO_VERSION"] + " (tests/s3/s3_server.sh, SigV4 checked)";
    return e;
  }

  // MinIO on 127.0.0.1, a free port, a fresh folder under /tmp, its own root credentials.
  Endpoint StartMinio() {
    const std::string binary = FindMinio();
    if (binary.empty()) {
      throw std::runtime_error(
          "--server minio: no MinIO binary (set DKDATA_MINIO_BIN, or see bench/README.md for how "
          "to build one with `go install`)");
    }
    std::string pattern = (fs::temp_directory_path() / "dkdata-s3-minio.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    minio_dir_ = pattern;
    g_cleanup.minio_dir = minio_dir_;
    const int port = FreePort(), console = FreePort();
    Endpoint e;
    e.url = "http://127.0.0.1:" + std::to_string(port);
    e.access_key = "dkdatabench";
    e.secret_key = "dkdata-bench-" + std::to_string(::getpid()) + "-secret";
    const std::string address = "127.0.0.1:" + std::to_string(port);
    const std::string console_address = "127.0.0.1:" + std::to_string(console);
    const std::string data = minio_dir_ + "/data", log = minio_dir_ + "/server.log";
    fs::create_directories(data);
    std::vector<std::string> env_strings = {
        "MINIO_ROOT_USER=" + e.access_key, "MINIO_ROOT_PASSWORD=" + e.secret_key,
        "MINIO_BROWSER=off", "MINIO_UPDATE=off", "HOME=" + minio_dir_};
    if (const char* path = std::getenv("PATH")) env_strings.push_back(std::string("PATH=") + path);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    const char* argv[] = {binary.c_str(),
                          "server",
                          "--quiet",
                          "--address",
                          address.c_str(),
                          "--console-address",
                          console_address.c_str(),
                          data.c_str(),
                          nullptr};
    InstallSignalHandlers();
    const pid_t pid = fork();
    if (pid == 0) {
      ::setsid();  // a Ctrl-C in the terminal reaches the driver, which stops it
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = ::open("/dev/null", O_RDONLY);
      if (out >= 0) {
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
      }
      if (in >= 0) ::dup2(in, STDIN_FILENO);
      execve(binary.c_str(), const_cast<char* const*>(argv), envp.data());
      _exit(127);
    }
    if (pid < 0) throw std::runtime_error("fork failed");
    minio_pid_ = pid;
    g_minio_pid = pid;
    // Ready when it answers its liveness check.
    dkdata::internal::HttpOptions options;
    options.retry.max_attempts = 1;
    options.connect_timeout = std::chrono::milliseconds(1000);
    options.request_timeout = std::chrono::milliseconds(2000);
    dkdata::internal::HttpClient http(options);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        minio_pid_ = 0;
        g_minio_pid = 0;
        throw std::runtime_error("MinIO exited at start; its log: " + log);
      }
      try {
        dkdata::internal::HttpRequest request;
        request.url = e.url + "/minio/health/live";
        if (http.Send(request).status == 200) {
          e.pid = pid;
          e.name = "MinIO (" + binary + ", one drive in " + data + ")";
          return e;
        }
      } catch (const dkdata::Error&) {
        // not listening yet
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("MinIO did not answer within 30 s; its log: " + log);
  }

  void Stop() {
    if (minio_pid_ > 0) {
      const pid_t pid = minio_pid_;
      minio_pid_ = 0;
      kill(pid, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) break;
        if (i == 99) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      g_minio_pid = 0;
    }
    if (!minio_dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(minio_dir_, ignored);
      minio_dir_.clear();
    }
    if (!moto_dir_.empty()) {
      g_moto_running = 0;
      const std::string command = "DKDATA_S3_DATA='" + moto_dir_ + "' bash '" + script_ + "' stop";
      if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "warning: '%s' failed\n", command.c_str());
      }
      moto_dir_.clear();
    }
  }

 private:
  std::string script_, moto_dir_, minio_dir_;
  pid_t minio_pid_ = 0;
};

// ---- Emulated network latency (--latency-ms) ----

// tests/s3/s3_fault_proxy.py in front of the server, with one rule that holds every request (path
// "/" is in every path) latency_ms before forwarding it. Its own session (a Ctrl-C reaches the
// driver, which stops it); stopped by its PID.
class LatencyProxy {
 public:
  LatencyProxy() = default;
  LatencyProxy(const LatencyProxy&) = delete;
  LatencyProxy& operator=(const LatencyProxy&) = delete;
  ~LatencyProxy() { Stop(); }

  // The proxy's URL. Throws when it does not start or refuses the rule.
  std::string Start(const std::string& target, long latency_ms) {
    const std::string script = SourceDir() + "/tests/s3/s3_fault_proxy.py";
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    InstallSignalHandlers();
    const pid_t pid = fork();
    if (pid == 0) {
      ::setsid();
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const char* argv[] = {"python3", script.c_str(), target.c_str(), nullptr};
      execvp("python3", const_cast<char* const*>(argv));
      _exit(127);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      throw std::runtime_error("fork failed");
    }
    pid_ = pid;
    g_proxy_pid = pid;
    // Its first line: "PORT PID"; nothing else is written there.
    FILE* out = ::fdopen(fds[0], "r");
    int port = 0, printed_pid = 0;
    const bool read = out != nullptr && std::fscanf(out, "%d %d", &port, &printed_pid) == 2;
    if (out != nullptr) std::fclose(out);
    if (!read || printed_pid != pid) {
      throw std::runtime_error("python3 " + script + " did not start (see its messages above)");
    }
    url_ = "http://127.0.0.1:" + std::to_string(port);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.6f", latency_ms / 1000.0);
    dkdata::internal::HttpOptions options;
    options.retry.max_attempts = 1;
    dkdata::internal::HttpClient http(options);
    dkdata::internal::HttpRequest request;
    request.method = "POST";
    request.url = url_ + "/__fault/rule?key=latency&path=/&mode=delay&n=2000000000&seconds=" +
                  std::string(seconds);
    const dkdata::internal::HttpResponse r = http.Send(request);
    if (r.status != 200) {
      throw std::runtime_error("the proxy refused its rule: HTTP " + std::to_string(r.status) +
                               ": " + r.body.substr(0, 200));
    }
    return url_;
  }

  pid_t pid() const { return pid_; }

  void Stop() {
    if (pid_ <= 0) return;
    const pid_t pid = pid_;
    pid_ = 0;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    g_proxy_pid = 0;
  }

 private:
  pid_t pid_ = 0;
  std::string url_;
};

// ---- Housekeeping on the server (never timed) ----

// Makes the bucket with a signed PUT (x-amz-content-sha256 signed, as moto needs); an existing
// bucket of ours is fine.
void MakeBucket(const Endpoint& e) {
  dkdata::internal::HttpOptions options;
  options.backend = "dkdata_s3_bench";
  dkdata::internal::HttpClient http(options);
  dkdata::internal::HttpRequest request;
  request.method = "PUT";
  request.url = e.url + "/" + kBucket;
  request.headers.emplace_back("x-amz-content-sha256", dkdata::internal::Sha256Hex(""));
  request.sigv4 = dkdata::internal::AwsSigV4{e.region, "s3", e.access_key, e.secret_key};
  const dkdata::internal::HttpResponse r = http.Send(request);
  const bool ours = r.status == 409 && r.body.find("BucketAlreadyOwnedByYou") != std::string::npos;
  if (r.status != 200 && !ours) {
    throw std::runtime_error("PUT /" + std::string(kBucket) + ": HTTP " + std::to_string(r.status) +
                             ": " + r.body.substr(0, 500));
  }
}

std::unique_ptr<dkdata::Database> OpenS3(const Endpoint& e, const char* prefix, long pool,
                                         long cache_records) {
  return dkdata::CreateDatabase(
      "s3", dkdata::Object{{"bucket", dkdata::Value(kBucket)},
                           {"prefix", dkdata::Value(prefix)},
                           {"endpoint_url", dkdata::Value(e.url)},
                           {"region", dkdata::Value(e.region)},
                           {"aws_access_key_id", dkdata::Value(e.access_key)},
                           {"aws_secret_access_key", dkdata::Value(e.secret_key)},
                           {"max_pool_connections", dkdata::Value(pool)},
                           {"cache_records", dkdata::Value(cache_records)}});
}

// ---- Timing ----

// Wall-clock seconds of one timed call, and the CPU seconds the client (this process), the server
// (its process, when known) and the latency proxy (when there is one) spent in it.
struct Timing {
  double seconds = 0, client_cpu = 0, server_cpu = -1, proxy_cpu = -1;
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// utime + stime of a process (all its threads), or -1.
double ProcessCpuSeconds(pid_t pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) {
      stime = std::atof(field.c_str());
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

template <typename F>
Timing Time(const Endpoint& e, F&& work) {
  Timing timing;
  const double server_cpu = ProcessCpuSeconds(e.pid);
  const double proxy_cpu = ProcessCpuSeconds(e.proxy_pid);
  const double cpu = CpuSeconds();
  const auto t = Clock::now();
  work();
  timing.seconds = Seconds(t);
  timing.client_cpu = CpuSeconds() - cpu;
  if (server_cpu >= 0) timing.server_cpu = ProcessCpuSeconds(e.pid) - server_cpu;
  if (proxy_cpu >= 0) timing.proxy_cpu = ProcessCpuSeconds(e.proxy_pid) - proxy_cpu;
  return timing;
}

Timing Best(const std::vector<Timing>& runs) {
  return *std::min_element(runs.begin(), runs.end(),
                           [](const Timing& a, const Timing& b) { return a.seconds < b.seconds; });
}

// " (seconds of each run: 1.23 1.20; in the best: client CPU 0.10 s, server CPU 0.95 s)"
std::string Detail(const std::vector<Timing>& runs) {
  std::string out = "    seconds of each run:";
  char buf[96];
  for (const Timing& run : runs) {
    std::snprintf(buf, sizeof buf, " %.3f", run.seconds);
    out += buf;
  }
  const Timing best = Best(runs);
  std::snprintf(buf, sizeof buf, "; in the best: client CPU %.2f s", best.client_cpu);
  out += buf;
  if (best.server_cpu >= 0) {
    std::snprintf(buf, sizeof buf, ", server CPU %.2f s", best.server_cpu);
    out += buf;
  }
  if (best.proxy_cpu >= 0) {
    std::snprintf(buf, sizeof buf, ", proxy CPU %.2f s", best.proxy_cpu);
    out += buf;
    // The proxy is Python: its threads share one core for their Python code (the GIL).
    if (best.proxy_cpu > 0.5 * best.seconds) {
      std::snprintf(
          buf, sizeof buf,
          "\n    note: the proxy was busy %.0f%% of the run: it may be a limit of its own",
          100 * best.proxy_cpu / best.seconds);
      out += buf;
    }
  }
  return out + "\n";
}

// ---- The reference ----

struct ReferenceResult {
  std::map<std::string, double> per_sec;  // by operation
  std::size_t search_hits = 0;
  std::string objects;  // "dkdata" (read dkdata's objects) or "own" (stored its own)
};

// Runs bench/peers/s3_reference.py; the endpoint and the credentials go in its environment.
ReferenceResult RunReference(const Endpoint& e, std::size_t records, int runs) {
  ::setenv("DKDATA_S3_ENDPOINT", e.url.c_str(), 1);
  ::setenv("DKDATA_S3_ACCESS_KEY", e.access_key.c_str(), 1);
  ::setenv("DKDATA_S3_SECRET_KEY", e.secret_key.c_str(), 1);
  ::setenv("DKDATA_S3_REGION", e.region.c_str(), 1);
  ReferenceResult out;
  const std::string args = std::string("--bucket ") + kBucket + " --prefix " + kPrefix +
                           " --own-prefix " + kRefPrefix + " --records " + std::to_string(records) +
                           " --runs " + std::to_string(runs) + " --workers " +
                           std::to_string(kConcurrency) + " --min-age " + std::to_string(kMinAge);
  RunPython("bench/peers/s3_reference.py", args, [&](const char* line) {
    char op[64];
    double per_sec = 0;
    std::size_t hits = 0;
    char objects[16];
    if (std::sscanf(line, "reference %63s records=%*s %*s %*s per_sec=%lf", op, &per_sec) == 2) {
      out.per_sec[op] = per_sec;
    } else if (std::sscanf(line, "reference_search_hits %zu", &hits) == 1) {
      out.search_hits = hits;
    } else if (std::sscanf(line, "reference_objects %15s", objects) == 1) {
      out.objects = objects;
    }
  });
  return out;
}

struct Options {
  std::size_t records = 2000;
  int runs = 3;
  bool quick = false;
  int reference = -1;  // -1: unless --quick
  std::string server = "moto";
  long latency_ms = 0;  // > 0: every request held this long by a proxy (emulated latency)
};

// Checks that the records read back are the ones generated (same fields, same values).
void CheckRead(const std::vector<std::optional<Record>>& got, const std::vector<Record>& records,
               const char* what) {
  Expect(got.size() == records.size(), std::string(what) + " returns one entry per id");
  for (std::size_t i = 0; i < got.size(); ++i) {
    Expect(got[i].has_value(), std::string(what) + " finds record " + std::to_string(i));
    Expect(got[i]->fields() == records[i].fields(),
           std::string(what) + " returns record " + std::to_string(i) +
               " as it was stored: " + dkdata::RecordToJson(*got[i], dkdata::RecordFormat::kFlat) +
               " vs " + dkdata::RecordToJson(records[i], dkdata::RecordFormat::kFlat));
  }
}

// server: the server itself (housekeeping: the bucket, emptying the prefixes); e: what the timed
// clients talk to, the server or, with --latency-ms, the proxy in front of it.
int Run(const Options& options, const Endpoint& server, const Endpoint& e) {
  const std::size_t n = options.records;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "dkdata s3 backend benchmark: %zu records, 8 mixed fields, UUID ids; %s at %s, bucket %s, "
      "prefix %s (load average %.2f)\n",
      n, server.name.c_str(), server.url.c_str(), kBucket, kPrefix, load[0]);
  if (options.latency_ms > 0) {
    std::printf(
        "network latency: EMULATED, %ld ms a request: every request of the timed clients (dkdata "
        "and the reference) goes through tests/s3/s3_fault_proxy.py at %s (PID %d, mode=delay), "
        "which holds it %ld ms before forwarding it to the server (a new connection to the "
        "server for each request); the server itself is local\n",
        options.latency_ms, e.url.c_str(), static_cast<int>(e.proxy_pid), options.latency_ms);
  } else {
    std::printf("network latency: none (a local server; --latency-ms N emulates some)\n");
  }

  const std::vector<Record> records = MakeRecords(n);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (const Record& r : records) ids.push_back(*r.id());
  std::size_t expected_hits = 0;
  for (const Record& r : records) {
    expected_hits += *r.Get("age")->Get<std::int64_t>() >= kMinAge;
  }

  MakeBucket(server);
  auto admin = OpenS3(server, kPrefix, kConcurrency, 0);  // housekeeping, never timed
  auto db = OpenS3(e, kPrefix, kConcurrency, 0);          // 16 in flight, no cache
  auto db1 = OpenS3(e, kPrefix, 1, 0);                    // one request at a time, no cache
  auto warm = OpenS3(e, kPrefix, kConcurrency, 100000);   // the ETag cache on
  {
    auto ref_prefix = OpenS3(server, kRefPrefix, kConcurrency, 0);
    ref_prefix->Clear();  // what an earlier run of the reference left, if anything
  }
  admin->Clear();

  // ---- Loading (timed for information) ----
  const Timing created = Time(e, [&] {
    Expect(db->CreateBatch(records).size() == n, "create_batch returns an id per record");
  });
  Expect(db->Count() == n, "create_batch stored every record");
  Print("create_batch (16 in flight, load, info)", n, created.seconds, "records/s");

  // ---- 1. ReadBatch (16 in flight) vs the same reads one at a time ----
  // Rounds alternate the order; every read fetches its object (cache_records: 0).
  const int runs = options.runs;
  std::vector<Timing> batch_runs, one_runs, loop_runs;
  const auto time_batch = [&] {
    std::vector<std::optional<Record>> got;
    batch_runs.push_back(Time(e, [&] { got = db->ReadBatch(ids); }));
    CheckRead(got, records, "ReadBatch (16 in flight)");
  };
  const auto time_one = [&] {
    std::vector<std::optional<Record>> got;
    one_runs.push_back(Time(e, [&] { got = db1->ReadBatch(ids); }));
    CheckRead(got, records, "ReadBatch (max_pool_connections: 1)");
  };
  const auto time_loop = [&] {
    std::vector<std::optional<Record>> got(n);
    loop_runs.push_back(Time(e, [&] {
      for (std::size_t i = 0; i < n; ++i) got[i] = db->Read(ids[i]);
    }));
    CheckRead(got, records, "Read in a loop");
  };
  for (int run = 0; run < runs; ++run) {
    if (run % 2 == 0) {
      time_batch();
      time_loop();
      time_one();
    } else {
      time_one();
      time_loop();
      time_batch();
    }
  }
  const Timing batch = Best(batch_runs), one = Best(one_runs), loop = Best(loop_runs);
  Print("ReadBatch, 16 in flight", n, batch.seconds, "reads/s");
  std::fputs(Detail(batch_runs).c_str(), stdout);
  Print("baseline Read(id) in a loop, one at a time", n, loop.seconds, "reads/s");
  std::fputs(Detail(loop_runs).c_str(), stdout);
  Print("baseline ReadBatch, max_pool_connections: 1", n, one.seconds, "reads/s");
  std::fputs(Detail(one_runs).c_str(), stdout);
  Ratio("ReadBatch (16) / Read in a loop", loop.seconds / batch.seconds, ">= 8");
  Ratio("ReadBatch (16) / ReadBatch (pool 1)", one.seconds / batch.seconds, ">= 8");

  // ---- 2. Search: cold (cache_records: 0, every object fetched) and warm (ETag cache) ----
  const dkdata::Query query = dkdata::Query().Filter("age", dkdata::Op::kGte, kMinAge);
  std::vector<Timing> cold_runs, warm_runs;
  Expect(warm->Search(query).size() == expected_hits, "the warm-up search finds every match");
  for (int run = 0; run < runs; ++run) {
    std::size_t hits = 0;
    cold_runs.push_back(Time(e, [&] { hits = db->Search(query).size(); }));
    Expect(hits == expected_hits, "Search (cache_records: 0) finds every match");
    warm_runs.push_back(Time(e, [&] { hits = warm->Search(query).size(); }));
    Expect(hits == expected_hits, "Search (cached) finds every match");
  }
  const Timing cold = Best(cold_runs), cached = Best(warm_runs);
  std::printf("search age >= %lld: %zu of %zu records match\n", static_cast<long long>(kMinAge),
              expected_hits, n);
  Print("Search, cache_records: 0 (every object)", n, cold.seconds, "records scanned/s");
  std::fputs(Detail(cold_runs).c_str(), stdout);
  Print("Search, ETag cache warm (info)", n, cached.seconds, "records scanned/s");
  std::fputs(Detail(warm_runs).c_str(), stdout);

  // ---- 3. The Python reference, on the same server ----
  if (options.reference == 1 || (options.reference == -1 && !options.quick)) {
    const ReferenceResult ref = RunReference(e, n, runs);  // through the proxy, if any
    if (!ref.objects.empty()) {
      std::printf("  (the reference read %s)\n",
                  ref.objects == "dkdata"
                      ? "the objects dkdata stored (its reader accepts dkdata's bodies)"
                      : "its own objects of the same records (it could not read dkdata's)");
    }
    if (auto it = ref.per_sec.find("read_batch"); it != ref.per_sec.end()) {
      Ratio("ReadBatch (16) vs reference read_batch", (n / batch.seconds) / it->second, ">= 3");
      Ratio("Read in a loop vs reference read_batch", (n / loop.seconds) / it->second, "(info)");
    }
    if (auto it = ref.per_sec.find("search"); it != ref.per_sec.end()) {
      Expect(ref.search_hits == expected_hits, "the reference's search finds the same records (" +
                                                   std::to_string(ref.search_hits) + " vs " +
                                                   std::to_string(expected_hits) + ")");
      Ratio("Search (cache_records: 0) vs reference search", (1 / cold.seconds) / it->second,
            ">= 3");
      Ratio("Search (ETag cache warm) vs reference search", (1 / cached.seconds) / it->second,
            "(info)");
    }
    if (auto it = ref.per_sec.find("create_batch"); it != ref.per_sec.end()) {
      Ratio("create_batch vs reference create_batch", (n / created.seconds) / it->second, "(info)");
    }
  }

  admin->Clear();
  admin->Close();
  db->Close();
  db1->Close();
  warm->Close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--records") && i + 1 < argc) {
      options.records = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      options.runs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--server") && i + 1 < argc) {
      options.server = argv[++i];
    } else if (!std::strcmp(argv[i], "--latency-ms") && i + 1 < argc) {
      options.latency_ms = std::strtol(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--quick")) {
      options.quick = true;
      options.records = 200;
      options.runs = 1;
    } else if (!std::strcmp(argv[i], "--reference")) {
      options.reference = 1;
    } else if (!std::strcmp(argv[i], "--no-reference")) {
      options.reference = 0;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--records N] [--runs N] [--server moto|minio] [--latency-ms N] "
                   "[--quick] [--reference] [--no-reference]\n",
                   argv[0]);
      return 2;
    }
  }
  if (options.records == 0 || options.runs <= 0 || options.latency_ms < 0 ||
      (options.server != "moto" && options.server != "minio")) {
    std::fprintf(stderr,
                 "%s: --records and --runs must be positive, --latency-ms at least 0, --server "
                 "moto or minio\n",
                 argv[0]);
    return 2;
  }
  PrivateServer server;
  LatencyProxy proxy;  // stopped before the server
  try {
    Endpoint endpoint;
    if (const char* env = std::getenv("DKDATA_S3_ENDPOINT"); env && *env) {
      const char* key = std::getenv("DKDATA_S3_ACCESS_KEY");
      const char* secret = std::getenv("DKDATA_S3_SECRET_KEY");
      if (!key || !secret) {
        throw std::runtime_error(
            "DKDATA_S3_ENDPOINT is set: DKDATA_S3_ACCESS_KEY and DKDATA_S3_SECRET_KEY are needed "
            "too");
      }
      endpoint.url = env;
      endpoint.access_key = key;
      endpoint.secret_key = secret;
      if (const char* region = std::getenv("DKDATA_S3_REGION"); region && *region) {
        endpoint.region = region;
      }
      if (const char* pid = std::getenv("DKDATA_S3_PID"); pid && *pid) {
        endpoint.pid = static_cast<pid_t>(std::atoi(pid));
      }
      endpoint.name = "the server of $DKDATA_S3_ENDPOINT";
    } else if (options.server == "minio") {
      endpoint = server.StartMinio();
    } else {
      endpoint = server.StartMoto();
    }
    Endpoint timed = endpoint;  // what the timed clients talk to
    if (options.latency_ms > 0) {
      timed.url = proxy.Start(endpoint.url, options.latency_ms);
      timed.proxy_pid = proxy.pid();
    }
    const int rc = Run(options, endpoint, timed);
    proxy.Stop();
    server.Stop();
    return rc;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dkdata_s3_bench: %s\n", e.what());
    proxy.Stop();
    server.Stop();
    return 1;
  }
}
