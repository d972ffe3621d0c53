// The fault-injecting proxy of the tests (fault_proxy.hpp).
#include "fault_proxy.hpp"

#include <signal.h>

#include "net/http_client.hpp"

namespace dkdata::testserver {

namespace {

internal::HttpResponse Control(const std::string& method, const std::string& url) {
  internal::HttpOptions options;
  options.retry.max_attempts = 1;
  internal::HttpClient client(options);
  internal::HttpRequest request;
  request.method = method;
  request.url = url;
  return client.Send(request);
}

}  // namespace

FaultProxy::FaultProxy(const std::string& script, const std::string& target) {
  const std::string command =
      "python3 '" + std::string(DKDATA_SOURCE_DIR) + "/" + script + "' '" + target + "'";
  pipe_ = popen(command.c_str(), "r");
  if (pipe_ == nullptr) return;
  if (std::fscanf(pipe_, "%d %d", &port_, &pid_) != 2) port_ = 0;
}

bool FaultProxy::Rule(const std::string& query) {
  return Control("POST", url() + "/__fault/rule?" + query).status == 200;
}

int FaultProxy::Count(const std::string& key) {
  return std::stoi(Control("GET", url() + "/__fault/count?key=" + key).body);
}

void FaultProxy::Kill() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  pid_ = 0;
  if (pipe_ != nullptr) pclose(pipe_);
  pipe_ = nullptr;
}

}  // namespace dkdata::testserver
