// tests/lib/fault_proxy.hpp: a fault-injecting proxy in front of a test server (a script such as
// tests/elasticsearch/es_fault_proxy.py or tests/s3/s3_fault_proxy.py, which print "PORT PID" and
// take rules at /__fault/rule), started per test and stopped by its PID.
#pragma once

#include <cstdio>
#include <string>

namespace dkdata::testserver {

class FaultProxy {
 public:
  // script: relative to the source tree; target: the server's base URL.
  FaultProxy(const std::string& script, const std::string& target);
  ~FaultProxy() { Kill(); }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  bool up() const { return port_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Adds a rule (the script's /__fault/rule query, e.g. "key=a&path=/_bulk&n=3"); false when the
  // proxy refused it.
  bool Rule(const std::string& query);
  // How many requests rule key matched.
  int Count(const std::string& key);
  void Kill();

 private:
  FILE* pipe_ = nullptr;
  int port_ = 0;
  int pid_ = 0;
};

}  // namespace dkdata::testserver
