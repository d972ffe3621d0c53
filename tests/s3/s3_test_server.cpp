// The S3 server of the tests (s3_test_server.hpp).
#include "s3_test_server.hpp"

#include <unistd.h>

#include <atomic>

#include "backends/s3/s3_client.hpp"
#include "net/http_client.hpp"

namespace dkdata::s3test {

testserver::ServerKind Kind() {
  return testserver::ServerKind{"S3 (moto)",
                                "tests/s3/s3_server.sh",
                                "",
                                "DKDATA_S3_ENDPOINT",
                                "DKDATA_S3_ENV_FILE",
                                "DKDATA_S3_DATA",
                                "it needs python3 with venv and curl: bash scripts/install-deps.sh",
                                "DKDATA_S3_ENDPOINT"};
}

namespace {

testserver::SharedServer& TheServer() {
  static testserver::SharedServer server(Kind());
  return server;
}

}  // namespace

S3Server Server(std::string* why) {
  S3Server s;
  s.endpoint = TheServer().Url(why);
  if (s.endpoint.empty()) return s;
  s.access_key = TheServer().Export("DKDATA_S3_ACCESS_KEY");
  s.secret_key = TheServer().Export("DKDATA_S3_SECRET_KEY");
  s.region = TheServer().Export("DKDATA_S3_REGION");
  if (s.region.empty()) s.region = "us-east-1";
  s.session_access_key = TheServer().Export("DKDATA_S3_SESSION_ACCESS_KEY");
  s.session_secret_key = TheServer().Export("DKDATA_S3_SESSION_SECRET_KEY");
  s.session_token = TheServer().Export("DKDATA_S3_SESSION_TOKEN");
  return s;
}

S3Server FromExports(const std::map<std::string, std::string>& exports) {
  const auto get = [&](const char* name) {
    const auto found = exports.find(name);
    return found == exports.end() ? std::string() : found->second;
  };
  return S3Server{get("DKDATA_S3_ENDPOINT"),           get("DKDATA_S3_ACCESS_KEY"),
                  get("DKDATA_S3_SECRET_KEY"),         "us-east-1",
                  get("DKDATA_S3_SESSION_ACCESS_KEY"), get("DKDATA_S3_SESSION_SECRET_KEY"),
                  get("DKDATA_S3_SESSION_TOKEN")};
}

std::string UnavailableReason() {
  return TheServer().UnavailableReason();
}

long RawRequest(const S3Server& server, const std::string& method, const std::string& path,
                const std::string& payload, std::string* body,
                const std::vector<std::pair<std::string, std::string>>& headers) {
  internal::HttpOptions options;
  options.retry.max_attempts = 1;
  internal::HttpClient client(options);
  internal::HttpRequest request;
  request.method = method;
  request.url = server.endpoint + path;
  request.headers = headers;
  request.headers.emplace_back("x-amz-content-sha256", internal::Sha256Hex(payload));
  request.body = payload;
  request.sigv4 = internal::AwsSigV4{server.region, "s3", server.access_key, server.secret_key};
  const internal::HttpResponse r = client.Send(request);
  if (body != nullptr) *body = r.body;
  return r.status;
}

std::string FreshBucket(const S3Server& server) {
  static std::atomic<int> counter{0};
  const std::string bucket = "dk-t-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const long status = RawRequest(server, "PUT", "/" + bucket);
  if (status != 200) {
    throw std::runtime_error("could not make bucket " + bucket + ": HTTP " +
                             std::to_string(status));
  }
  return bucket;
}

Object StoreOptions(const S3Server& server, const std::string& bucket, const std::string& prefix) {
  return Object{{"bucket", Value(bucket)},
                {"prefix", Value(prefix)},
                {"endpoint_url", Value(server.endpoint)},
                {"region", Value(server.region)},
                {"aws_access_key_id", Value(server.access_key)},
                {"aws_secret_access_key", Value(server.secret_key)}};
}

}  // namespace dkdata::s3test
