// src/net/http_client against a real HTTP server of the test's own (tests/net/http_test_server.py,
// Python's http.server on 127.0.0.1 and a free port, stopped by its PID): connections reused,
// gzip bodies decoded, timeouts, retries of 429/503 with backoff and Retry-After, non-idempotent
// requests not retried after they may have been processed, clear errors without credentials.
#if DKDATA_HAVE_CURL
#include "net/http_client.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "python_test_server.hpp"

namespace dkdata::internal {
namespace {

using namespace std::chrono_literals;

using TestServer = testserver::PythonTestServer;

HttpOptions FastRetries() {
  HttpOptions options;
  options.backend = "test";
  options.retry.initial_backoff = 20ms;
  options.retry.max_backoff = 200ms;
  return options;
}

HttpRequest Get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

class HttpClientTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.up()) << "python3 could not run the test server"; }
  TestServer server_;
};

TEST_F(HttpClientTest, SendsMethodHeadersAndBodyAndReusesTheConnection) {
  HttpClient client(FastRetries());
  HttpRequest post;
  post.method = "POST";
  post.url = server_.Url("/echo");
  post.headers = {{"Content-Type", "application/json"}, {"X-Dkdata", "yes"}};
  post.body = R"({"a": 1})";
  const HttpResponse first = client.Send(post);
  ASSERT_EQ(first.status, 200);
  const Value echo = ParseJson(first.body);
  const Object& o = *echo.Get<Object>();
  EXPECT_EQ(*o.Find("method"), Value("POST"));
  EXPECT_EQ(*o.Find("body"), Value(R"({"a": 1})"));
  EXPECT_EQ(*o.Find("headers")->Get<Object>()->Find("x-dkdata"), Value("yes"));
  EXPECT_EQ(*o.Find("headers")->Get<Object>()->Find("user-agent"), Value("dkdata"));
  ASSERT_NE(first.Header("content-type"), nullptr);
  EXPECT_EQ(*first.Header("content-type"), "application/json");
  // The second request comes from the same client port: the connection was kept.
  const HttpResponse second = client.Send(Get(server_.Url("/echo")));
  EXPECT_EQ(*ParseJson(second.body).Get<Object>()->Find("port"), *o.Find("port"));
  EXPECT_EQ(*ParseJson(second.body).Get<Object>()->Find("method"), Value("GET"));
}

TEST_F(HttpClientTest, GzipBodiesAreDecoded) {
  HttpClient client(FastRetries());
  const HttpResponse r = client.Send(Get(server_.Url("/gzip")));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 11000u);
  EXPECT_EQ(r.body.substr(0, 11), "compressed ");
}

TEST_F(HttpClientTest, RetriesBusyAndUnavailableUntilTheyPass) {
  HttpClient client(FastRetries());
  const HttpResponse r = client.Send(Get(server_.Url("/fail/503?key=a&n=2")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 3);
  const HttpResponse busy = client.Send(Get(server_.Url("/fail/429?key=b&n=1")));
  EXPECT_EQ(busy.status, 200);
  EXPECT_EQ(busy.attempts, 2);
}

TEST_F(HttpClientTest, RetriesAreBoundedAndTheLastResponseIsReturned) {
  HttpClient client(FastRetries());
  const auto started = std::chrono::steady_clock::now();
  const HttpResponse r = client.Send(Get(server_.Url("/fail/503?key=c&n=100")));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(client.Send(Get(server_.Url("/count?key=c"))).body, "4");
  // Three waits, each at most max_backoff.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(HttpClientTest, RetryAfterIsHonouredUpToTheMaximum) {
  HttpOptions options = FastRetries();
  options.retry.max_backoff = 1500ms;
  HttpClient client(options);
  const auto started = std::chrono::steady_clock::now();
  const HttpResponse r = client.Send(Get(server_.Url("/fail/429?key=d&n=1&after=1")));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(waited, 900ms) << "Retry-After: 1 asks for a second";
  EXPECT_LT(waited, 3s);
}

TEST_F(HttpClientTest, OtherStatusesAreNotRetried) {
  HttpClient client(FastRetries());
  const HttpResponse r = client.Send(Get(server_.Url("/fail/500?key=e&n=5")));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(client.Send(Get(server_.Url("/nothing"))).status, 404);
}

TEST_F(HttpClientTest, NonIdempotentRequestsRetryOnlyWhatWasNotProcessed) {
  HttpClient client(FastRetries());
  HttpRequest post = Get(server_.Url("/fail/503?key=f&n=1"));
  post.method = "POST";
  post.idempotent = false;
  EXPECT_EQ(client.Send(post).status, 503) << "a 503 may have been processed: not retried";
  post.url = server_.Url("/fail/429?key=g&n=1");
  EXPECT_EQ(client.Send(post).status, 200) << "a 429 was refused: retried";
  post.url = server_.Url("/drop?key=h&n=1");
  try {
    client.Send(post);
    ADD_FAILURE() << "a dropped connection after the request was sent is not retried";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << e.what();
  }
  EXPECT_EQ(client.Send(Get(server_.Url("/count?key=h"))).body, "1");
}

TEST_F(HttpClientTest, DroppedConnectionsOfIdempotentRequestsAreRetried) {
  HttpClient client(FastRetries());
  const HttpResponse r = client.Send(Get(server_.Url("/drop?key=i&n=2")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 3);
}

TEST_F(HttpClientTest, TimeoutsAreTimeoutErrors) {
  HttpOptions options = FastRetries();
  options.request_timeout = 200ms;
  options.retry.max_attempts = 2;
  HttpClient client(options);
  const auto started = std::chrono::steady_clock::now();
  try {
    client.Send(Get(server_.Url("/slow?ms=3000")));
    ADD_FAILURE() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("(after 2 tries)"), std::string::npos) << e.what();
    EXPECT_EQ(e.backend(), "test");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(HttpClientTest, RefusedConnectionsAreUnavailableAndNameTheUrlWithoutCredentials) {
  HttpOptions options = FastRetries();
  options.retry.max_attempts = 2;
  HttpClient client(options);
  HttpRequest r = Get("http://elastic:hunter2@127.0.0.1:1/index/_search");
  r.headers = {{"Authorization", "ApiKey c2VjcmV0"}};
  try {
    client.Send(r);
    ADD_FAILURE() << "nothing listens on port 1";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << message;
    EXPECT_NE(message.find("GET http://127.0.0.1:1/index/_search"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_EQ(message.find("c2VjcmV0"), std::string::npos) << message;
  }
}

TEST_F(HttpClientTest, ThreadsShareOneClient) {
  HttpClient client(FastRetries());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) ok += client.Send(Get(server_.Url("/echo"))).status == 200;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(HttpClientTest, SendAllRunsRequestsConcurrentlyAndAnswersInOrder) {
  HttpClient client(FastRetries());
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(Get(server_.Url("/slow?ms=300")));
  std::vector<std::size_t> finished;
  const auto started = std::chrono::steady_clock::now();
  const std::vector<HttpClient::Outcome> out =
      client.SendAll(requests, 8, [&](std::size_t i, HttpClient::Outcome& o) {
        EXPECT_EQ(o.response.status, 200);
        finished.push_back(i);
      });
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(out.size(), 8u);
  for (const auto& o : out) {
    EXPECT_FALSE(o.error.has_value());
    EXPECT_EQ(o.response.body, "slow");
  }
  EXPECT_EQ(finished.size(), 8u) << "on_done once per request";
  EXPECT_LT(took, 1500ms) << "8 requests of 300 ms at once, not one after another (2.4 s)";
}

TEST_F(HttpClientTest, SendAllKeepsToItsConcurrency) {
  HttpClient client(FastRetries());
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(Get(server_.Url("/slow?ms=300")));
  const auto started = std::chrono::steady_clock::now();
  client.SendAll(requests, 2);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 550ms) << "two rounds of two";
}

TEST_F(HttpClientTest, SendAllRetriesEachRequestOnItsOwnAndReportsErrorsPerItem) {
  HttpOptions options = FastRetries();
  options.request_timeout = 300ms;
  options.retry.max_attempts = 3;
  HttpClient client(options);
  std::vector<HttpRequest> requests = {
      Get(server_.Url("/fail/503?key=all1&n=2")),  // passes on its third try
      Get(server_.Url("/echo")),
      Get("http://127.0.0.1:1/refused"),
      Get(server_.Url("/fail/503?key=all2&n=9")),  // still 503 after three tries
      Get(server_.Url("/slow?ms=3000")),           // times out
  };
  const std::vector<HttpClient::Outcome> out = client.SendAll(requests, 3);
  ASSERT_EQ(out.size(), requests.size());
  EXPECT_EQ(out[0].response.status, 200);
  EXPECT_EQ(out[0].response.attempts, 3);
  EXPECT_EQ(out[1].response.status, 200);
  EXPECT_EQ(out[1].response.attempts, 1);
  ASSERT_TRUE(out[2].error.has_value());
  EXPECT_EQ(out[2].error->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(out[2].error->native_code(), HttpClient::kNotSent);
  EXPECT_FALSE(out[3].error.has_value());
  EXPECT_EQ(out[3].response.status, 503);
  EXPECT_EQ(out[3].response.attempts, 3);
  ASSERT_TRUE(out[4].error.has_value());
  EXPECT_EQ(out[4].error->code(), ErrorCode::kTimeout) << out[4].error->what();
  // The client goes on working: its multi handle came back clean.
  EXPECT_EQ(client.SendAll({Get(server_.Url("/echo"))}, 4)[0].response.status, 200);
}

TEST(HttpUrlTest, UserInfoIsLeftOutOfMessages) {
  EXPECT_EQ(UrlForMessages("https://u:p@h:9200/i?q=1"), "https://h:9200/i?q=1");
  EXPECT_EQ(UrlForMessages("http://h/a@b"), "http://h/a@b");
  EXPECT_EQ(UrlForMessages("http://h:1"), "http://h:1");
}

}  // namespace
}  // namespace dkdata::internal
#endif  // DKDATA_HAVE_CURL
