// HTTP through libcurl (http_client.hpp).
#include "net/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* out) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue or a redirect)
  } else if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers->emplace_back(Lower(line.substr(0, colon)), std::string(value));
  }
  return size * count;
}

// The wait before try number `attempt + 1`: exponential with "equal jitter" (half fixed, half
// random), so that clients that failed together do not come back together.
std::chrono::milliseconds Backoff(const RetryPolicy& policy, int attempt) {
  const double cap =
      std::min(static_cast<double>(policy.max_backoff.count()),
               static_cast<double>(policy.initial_backoff.count()) * std::pow(2.0, attempt - 1));
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> half(0.0, cap / 2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(cap / 2 + half(random)));
}

// Retry-After in seconds (the HTTP-date form is not used by the servers dkdata talks to).
std::optional<std::chrono::milliseconds> RetryAfter(const HttpResponse& response) {
  const std::string* value = response.Header("retry-after");
  if (value == nullptr) return std::nullopt;
  long seconds = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
  if (ec != std::errc() || end != value->data() + value->size() || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(seconds * 1000);
}

// libcurl failures that mean the request never reached the server.
bool NeverSent(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string UrlForMessages(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t host = scheme + 3;
  const std::size_t end = url.find_first_of("/?#", host);
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < host) return std::string(url);
  return std::string(url.substr(0, host)) + std::string(url.substr(at + 1));
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Handle() : curl(curl_easy_init()) {}
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

// A multi handle keeps the connections its transfers opened, for the next SendAll.
struct HttpClient::Multi {
  CURLM* multi = curl_multi_init();
  ~Multi() {
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

// One request on its way: the handle it runs on, the try it is at, and the response so far.
struct HttpClient::Transfer {
  const HttpRequest* request = nullptr;
  std::size_t index = 0;
  std::unique_ptr<Handle> handle;
  HttpResponse response;
  curl_slist* headers = nullptr;
  std::string sigv4_provider;  // libcurl keeps pointers to the option strings during a try
  int attempt = 0;
  std::chrono::steady_clock::time_point ready;  // when a retry may start
  ~Transfer() { curl_slist_free_all(headers); }
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  GlobalInit();
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::Take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Handle> h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  if (h->curl == nullptr) {
    throw Error(ErrorCode::kUnavailable, "libcurl could not make a handle", options_.backend);
  }
  return h;
}

void HttpClient::Give(std::unique_ptr<Handle> handle) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(handle));
}

std::unique_ptr<HttpClient::Multi> HttpClient::TakeMulti() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_multis_.empty()) {
      std::unique_ptr<Multi> m = std::move(idle_multis_.back());
      idle_multis_.pop_back();
      return m;
    }
  }
  auto m = std::make_unique<Multi>();
  if (m->multi == nullptr) {
    throw Error(ErrorCode::kUnavailable, "libcurl could not make a multi handle", options_.backend);
  }
  return m;
}

void HttpClient::GiveMulti(std::unique_ptr<Multi> multi) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_multis_.push_back(std::move(multi));
}

void HttpClient::Prepare(Transfer& t) {
  const HttpRequest& request = *t.request;
  ++t.attempt;
  t.response = HttpResponse();
  t.response.attempts = t.attempt;
  CURL* c = t.handle->curl;
  // Reset keeps the handle's open connections; every option is set again.
  curl_easy_reset(c);
  curl_slist_free_all(t.headers);
  t.headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
  }
  // No 100-continue round trip. A signed request cannot remove the header that way: libcurl 7.88
  // would sign an empty "expect" it does not send. It gets a short wait instead (libcurl asks
  // only for bodies over 1 MiB).
  if (!request.sigv4) t.headers = curl_slist_append(t.headers, "Expect:");
  t.handle->error[0] = '\0';
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // The path goes as built: an S3 key may hold "/../", which is no dot segment to remove.
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t.headers);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || !request.body.empty()) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (request.sigv4) {
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 50L);
    t.sigv4_provider = "aws:amz:" + request.sigv4->region + ":" + request.sigv4->service;
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, t.sigv4_provider.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, request.sigv4->access_key_id.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.sigv4->secret_access_key.c_str());
  }
  // libcurl silently sends a request again when a reused connection turns out closed, which a
  // request that must not run twice cannot allow: it gets a connection of its own.
  if (!request.idempotent) curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip and deflate, decoded
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_peer ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert.c_str());
  }
  if (!options_.client_key.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key.c_str());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t.response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t.response.headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t.handle->error);
}

std::optional<std::chrono::milliseconds> HttpClient::Judge(Transfer& t, int result,
                                                           std::optional<Error>& error) const {
  const RetryPolicy& policy = options_.retry;
  const HttpRequest& request = *t.request;
  const auto code = static_cast<CURLcode>(result);
  curl_easy_getinfo(t.handle->curl, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (code == CURLE_OK) {
    const bool retry_status = std::find(policy.retry_statuses.begin(), policy.retry_statuses.end(),
                                        t.response.status) != policy.retry_statuses.end();
    const bool may_retry = request.idempotent || t.response.status == 429;
    if (!retry_status || !may_retry || t.attempt >= policy.max_attempts) return std::nullopt;
    return std::min(RetryAfter(t.response).value_or(Backoff(policy, t.attempt)),
                    policy.max_backoff);
  }
  const bool may_retry = request.idempotent || NeverSent(code);
  if (may_retry && t.attempt < policy.max_attempts) return Backoff(policy, t.attempt);
  const std::string detail =
      t.handle->error[0] != '\0' ? t.handle->error : curl_easy_strerror(code);
  const ErrorCode kind =
      code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
  error.emplace(kind,
                request.method + " " + UrlForMessages(request.url) + ": " + detail +
                    (t.attempt > 1 ? " (after " + std::to_string(t.attempt) + " tries)" : ""),
                options_.backend, NeverSent(code) ? std::string(kNotSent) : std::string());
  return std::nullopt;
}

HttpResponse HttpClient::Send(const HttpRequest& request) {
  Transfer t;
  t.request = &request;
  for (;;) {
    t.handle = Take();
    Prepare(t);
    const CURLcode code = curl_easy_perform(t.handle->curl);
    std::optional<Error> error;
    const std::optional<std::chrono::milliseconds> wait = Judge(t, code, error);
    Give(std::move(t.handle));
    if (error) throw *error;
    if (!wait) return std::move(t.response);
    std::this_thread::sleep_for(*wait);
  }
}

std::vector<HttpClient::Outcome> HttpClient::SendAll(
    const std::vector<HttpRequest>& requests, std::size_t concurrency,
    const std::function<void(std::size_t, Outcome&)>& on_done) {
  using Clock = std::chrono::steady_clock;
  std::vector<Outcome> out(requests.size());
  if (requests.empty()) return out;
  concurrency = std::clamp<std::size_t>(concurrency, 1, requests.size());
  std::unique_ptr<Multi> multi = TakeMulti();
  std::map<CURL*, std::unique_ptr<Transfer>> running;
  std::multimap<Clock::time_point, std::unique_ptr<Transfer>> waiting;  // retries, by start time
  // Whatever happens (on_done may throw), no handle stays in the multi handle given back.
  struct Detach {
    CURLM* multi;
    std::map<CURL*, std::unique_ptr<Transfer>>& running;
    ~Detach() {
      for (auto& entry : running) curl_multi_remove_handle(multi, entry.first);
    }
  } detach{multi->multi, running};

  const auto start = [&](std::unique_ptr<Transfer> t) {
    Prepare(*t);
    CURL* easy = t->handle->curl;
    if (curl_multi_add_handle(multi->multi, easy) != CURLM_OK) {
      throw Error(ErrorCode::kInternal, "libcurl refused a transfer", options_.backend);
    }
    running.emplace(easy, std::move(t));
  };
  std::size_t next = 0;
  while (next < requests.size() || !running.empty() || !waiting.empty()) {
    const Clock::time_point now = Clock::now();
    while (running.size() < concurrency) {
      if (!waiting.empty() && waiting.begin()->first <= now) {
        std::unique_ptr<Transfer> t = std::move(waiting.begin()->second);
        waiting.erase(waiting.begin());
        start(std::move(t));
      } else if (next < requests.size()) {
        auto t = std::make_unique<Transfer>();
        t->request = &requests[next];
        t->index = next++;
        t->handle = Take();
        start(std::move(t));
      } else {
        break;
      }
    }
    if (running.empty()) {
      std::this_thread::sleep_until(waiting.begin()->first);
      continue;
    }
    int still_running = 0;
    curl_multi_perform(multi->multi, &still_running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi->multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(multi->multi, easy);
      auto found = running.find(easy);
      std::unique_ptr<Transfer> t = std::move(found->second);
      running.erase(found);
      std::optional<Error> error;
      const std::optional<std::chrono::milliseconds> wait = Judge(*t, code, error);
      if (wait) {
        waiting.emplace(Clock::now() + *wait, std::move(t));
        continue;
      }
      Outcome& outcome = out[t->index];
      outcome.response = std::move(t->response);
      outcome.error = std::move(error);
      Give(std::move(t->handle));
      if (on_done) on_done(t->index, outcome);
    }
    if (running.empty()) continue;
    int wait_ms = 1000;
    if (!waiting.empty()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          waiting.begin()->first - Clock::now());
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(until.count(), 0, 1000));
    }
    curl_multi_poll(multi->multi, nullptr, 0, wait_ms, nullptr);
  }
  GiveMulti(std::move(multi));
  return out;
}

}  // namespace dkdata::internal
