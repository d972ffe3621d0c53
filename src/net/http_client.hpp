// src/net/http_client.hpp: HTTP for the backends that talk to a server over it (Elasticsearch,
// S3): libcurl with reused connections (keep-alive), gzip responses, timeouts, and bounded
// retries with exponential backoff and jitter.
//
// Thread-safety: an HttpClient may be used by any number of threads at once. Each request takes an
// idle libcurl handle (which keeps its open connections) from the client's pool, or makes one, and
// gives it back afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

// AWS Signature Version 4, computed by libcurl (CURLOPT_AWS_SIGV4) over the method, the path, the
// query string exactly as given (Debian's libcurl 7.88 does not sort or re-encode it: give it
// sorted and encoded, with an explicit '=' on every parameter), and the headers. The caller adds
// x-amz-content-sha256 (libcurl 7.88 does not) and, for temporary credentials,
// x-amz-security-token.
struct AwsSigV4 {
  std::string region;  // "us-east-1"
  std::string service = "s3";
  std::string access_key_id;
  std::string secret_access_key;  // never shown in messages
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute and already percent-encoded; sent as is (no dot-segment removal)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whether sending it twice does no harm. A request that is not is retried only where the server
  // cannot have processed it: 429 (it refused) and a connection that was never made; and it gets a
  // fresh connection (libcurl would silently resend it when a kept-alive one turns out closed).
  bool idempotent = true;
  // Signs the request when set (each try is signed again, with its own time).
  std::optional<AwsSigV4> sigv4;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // decoded when it came gzip- or deflate-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  int attempts = 1;                                          // how many tries it took

  // The first header of that (lower-case) name, or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct RetryPolicy {
  int max_attempts = 4;  // the first try included
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{3000};
  // Statuses that are retried (besides connection failures and timeouts).
  std::vector<long> retry_statuses{429, 502, 503, 504};
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};  // one try, from connecting to the last byte
  bool verify_peer = true;                           // TLS: check the server's certificate
  std::string ca_file;                               // TLS: the CAs to trust (else the system's)
  std::string client_cert, client_key;               // TLS: a client certificate
  std::string user_agent = "dkdata";
  std::string backend;  // names the backend in errors ("elasticsearch")
  RetryPolicy retry;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The native_code() of the error Send throws when the request never reached the server (no
  // connection could be made): then it is safe to send it elsewhere, even when not idempotent.
  static constexpr std::string_view kNotSent = "not_sent";

  // Sends the request, retrying as the policy says (waiting initial_backoff * 2^n with jitter, or
  // the server's Retry-After, at most max_backoff). Returns the last response, whatever its status.
  // Throws Error(kTimeout) when the last try timed out and Error(kUnavailable) when no response
  // came (refused, reset, unresolvable), naming the method and the URL without its user info;
  // header values (credentials) are never in messages.
  HttpResponse Send(const HttpRequest& request);

  // What SendAll gives for one request: the last response, or the error Send would have thrown.
  struct Outcome {
    HttpResponse response;
    std::optional<Error> error;
  };

  // Sends every request, at most `concurrency` at a time, through libcurl's multi interface on
  // this thread; each is retried as Send retries it, without holding up the others. Returns one
  // Outcome per request, in the order given. `on_done`, when given, is called on this thread as
  // each request finishes (with its index), e.g. to start parsing while others are on the wire.
  std::vector<Outcome> SendAll(const std::vector<HttpRequest>& requests, std::size_t concurrency,
                               const std::function<void(std::size_t, Outcome&)>& on_done = {});

  const HttpOptions& options() const noexcept { return options_; }

 private:
  struct Handle;
  struct Multi;
  struct Transfer;
  std::unique_ptr<Handle> Take();
  void Give(std::unique_ptr<Handle> handle) noexcept;
  std::unique_ptr<Multi> TakeMulti();
  void GiveMulti(std::unique_ptr<Multi> multi) noexcept;
  // Sets every option of one try of request on the handle (reset first); response receives it.
  void Prepare(Transfer& transfer);
  // After one try: nullopt when the outcome is final (the response, or *error set), else how long
  // to wait before the next try.
  std::optional<std::chrono::milliseconds> Judge(Transfer& transfer, int code,
                                                 std::optional<Error>& error) const;

  HttpOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
  std::vector<std::unique_ptr<Multi>> idle_multis_;
};

// The URL as messages may show it: without "user:password@".
std::string UrlForMessages(std::string_view url);

}  // namespace dkdata::internal
