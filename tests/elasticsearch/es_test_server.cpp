// The Elasticsearch node of the tests (es_test_server.hpp).
#include "es_test_server.hpp"

#include <unistd.h>

#include <atomic>

#include "net/http_client.hpp"

namespace dkdata::estest {

testserver::ServerKind Kind(const std::string& flavor) {
  const bool opensearch = flavor == "opensearch";
  return testserver::ServerKind{
      opensearch ? "OpenSearch" : "Elasticsearch",
      "tests/elasticsearch/es_server.sh",
      flavor,
      "DKDATA_ES_URL",
      opensearch ? "DKDATA_OS_ENV_FILE" : "DKDATA_ES_ENV_FILE",
      "DKDATA_ES_DATA",
      "it needs Java, Maven, unzip and curl: bash scripts/install-deps.sh",
      opensearch ? "DKDATA_OS_URL" : "DKDATA_ES_URL"};
}

namespace {

testserver::SharedServer& TheServer(const std::string& flavor) {
  static testserver::SharedServer elasticsearch(Kind("elasticsearch"));
  static testserver::SharedServer opensearch(Kind("opensearch"));
  return flavor == "opensearch" ? opensearch : elasticsearch;
}

}  // namespace

std::string ServerUrl(std::string* why, const std::string& flavor) {
  return TheServer(flavor).Url(why);
}

std::string UnavailableReason(const std::string& flavor) {
  return TheServer(flavor).UnavailableReason();
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
