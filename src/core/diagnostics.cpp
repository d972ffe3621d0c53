#include "dkdata/diagnostics.hpp"

#include <iostream>
#include <mutex>
#include <string>
#include <utility>

namespace dkdata {

namespace {

void PrintToStderr(std::string_view backend, std::string_view message) {
  std::string line = "dkdata: warning: ";
  line.append(backend).append(": ").append(message).push_back('\n');
  std::cerr << line << std::flush;
}

WarningHandler& Handler() {
  static WarningHandler handler = PrintToStderr;
  return handler;
}

}  // namespace

WarningHandler SetWarningHandler(WarningHandler handler) {
  if (!handler) handler = PrintToStderr;
  return std::exchange(Handler(), std::move(handler));
}

void EmitWarning(std::string_view backend, std::string_view message) {
  Handler()(backend, message);
}

}  // namespace dkdata
