// HTTP through libcurl (http_client.hpp).
#include "net/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
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

HttpResponse HttpClient::Send(const HttpRequest& request) {
  const RetryPolicy& policy = options_.retry;
  for (int attempt = 1;; ++attempt) {
    HttpResponse response;
    response.attempts = attempt;
    std::unique_ptr<Handle> h = Take();
    CURL* c = h->curl;
    // Reset keeps the handle's open connections; every option is set again.
    curl_easy_reset(c);
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    h->error[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (request.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET" || !request.body.empty()) {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
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
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error);
    const CURLcode code = curl_easy_perform(c);
    curl_slist_free_all(headers);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    const std::string detail = h->error[0] != '\0' ? h->error : curl_easy_strerror(code);
    Give(std::move(h));

    std::chrono::milliseconds wait{0};
    if (code == CURLE_OK) {
      const bool retry_status =
          std::find(policy.retry_statuses.begin(), policy.retry_statuses.end(), response.status) !=
          policy.retry_statuses.end();
      const bool may_retry = request.idempotent || response.status == 429;
      if (!retry_status || !may_retry || attempt >= policy.max_attempts) return response;
      wait = std::min(RetryAfter(response).value_or(Backoff(policy, attempt)), policy.max_backoff);
    } else {
      const bool may_retry = request.idempotent || NeverSent(code);
      if (!may_retry || attempt >= policy.max_attempts) {
        const ErrorCode kind =
            code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
        throw Error(kind,
                    request.method + " " + UrlForMessages(request.url) + ": " + detail +
                        (attempt > 1 ? " (after " + std::to_string(attempt) + " tries)" : ""),
                    options_.backend, NeverSent(code) ? std::string(kNotSent) : std::string());
      }
      wait = Backoff(policy, attempt);
    }
    std::this_thread::sleep_for(wait);
  }
}

}  // namespace dkdata::internal
