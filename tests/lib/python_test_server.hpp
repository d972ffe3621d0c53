// tests/lib/python_test_server.hpp: tests/net/http_test_server.py (echo, failures, slow answers,
// a fake EC2 instance metadata service), started for one test and stopped by its PID.
#pragma once

#include <signal.h>

#include <cstdio>
#include <string>

namespace dkdata::testserver {

class PythonTestServer {
 public:
  PythonTestServer() {
    const std::string command =
        "python3 '" + std::string(DKDATA_SOURCE_DIR) + "/tests/net/http_test_server.py'";
    pipe_ = popen(command.c_str(), "r");
    if (pipe_ == nullptr) return;
    if (std::fscanf(pipe_, "%d %d", &port_, &pid_) != 2) port_ = 0;
  }
  ~PythonTestServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_ != nullptr) pclose(pipe_);
  }
  PythonTestServer(const PythonTestServer&) = delete;
  PythonTestServer& operator=(const PythonTestServer&) = delete;

  bool up() const { return port_ > 0; }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Url(const std::string& path) const { return Origin() + path; }

 private:
  FILE* pipe_ = nullptr;
  int port_ = 0;
  int pid_ = 0;
};

}  // namespace dkdata::testserver
