// tests/lib/scoped_environment.hpp: environment variables a test sets, with the caller's restored
// afterwards, so that neither the developer's environment leaks into a test nor a test into the
// next one.
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace dkdata::testserver {

class ScopedEnvironment {
 public:
  // Saves and unsets every variable named; the destructor restores them.
  explicit ScopedEnvironment(std::initializer_list<const char*> names) : names_(names) {
    for (const char* name : names_) {
      if (const char* value = std::getenv(name)) saved_[name] = value;
      ::unsetenv(name);
    }
  }
  ~ScopedEnvironment() {
    for (const char* name : names_) {
      const auto it = saved_.find(name);
      if (it == saved_.end()) {
        ::unsetenv(name);
      } else {
        ::setenv(name, it->second.c_str(), 1);
      }
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

  // Only variables named at construction (others would not be restored).
  void Set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void Unset(const char* name) { ::unsetenv(name); }

 private:
  std::vector<const char*> names_;
  std::map<std::string, std::string> saved_;
};

}  // namespace dkdata::testserver
