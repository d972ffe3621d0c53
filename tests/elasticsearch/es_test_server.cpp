// The Elasticsearch node of the tests (es_test_server.hpp).
#include "es_test_server.hpp"

#include <unistd.h>

#include <atomic>

#include "net/http_client.hpp"

namespace dkdata::estest {

testserver::ServerKind Kind(const std::string& flavor) {
  return testserver::ServerKind{
      flavor == "opensearch" ? "OpenSearch" : "Elasticsearch",
      "tests/elasticsearch/es_server.sh",
      flavor,
      "DKDATA_ES_URL",
      "DKDATA_ES_ENV_FILE",
      "DKDATA_ES_DATA",
      "it needs Java, Maven, unzip and curl: bash scripts/install-deps.sh"};
}

namespace {

testserver::SharedServer& TheServer() {
  static testserver::SharedServer server(Kind());
  return server;
}

}  // namespace

std::string ServerUrl(std::string* why) {
  return TheServer().Url(why);
}

std::string UnavailableReason() {
  return TheServer().UnavailableReason();
}

std::string FreshIndexName() {
  static std::atomic<int> counter{0};
  return "dk_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

void DeleteIndex(const std::string& url, const std::string& index) {
  try {
    internal::HttpOptions options;
    options.retry.max_attempts = 1;
    internal::HttpClient client(options);
    internal::HttpRequest request;
    request.method = "DELETE";
    request.url = url + "/" + index;
    client.Send(request);
  } catch (const std::exception&) {
    // Best effort: the node is stopped after the tests anyway.
  }
}

}  // namespace dkdata::estest
