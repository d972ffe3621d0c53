// bench/bench_server.hpp: what the benchmark drivers that start a server (PostgreSQL,
// Elasticsearch, S3) share: the source tree, the checks that stop a run, reading the `export`
// lines of a test server script (tests/<backend>/*_server.sh), and running a command from a
// signal handler. Header-only; each driver is one executable.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace dkdata::bench {

// The source tree: $DKDATA_SOURCE_DIR, else the one the benchmark was built from.
inline std::string SourceDir() {
  const char* root = std::getenv("DKDATA_SOURCE_DIR");
  return root ? root : DKDATA_SOURCE_DIR;
}

// A check a run must pass; a failure ends the run with the message.
inline void Expect(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
}

// The value of a shell `export NAME=value` line as the shell would read it: 'single quoted', or
// with backslash escapes.
inline std::string ShellUnquote(const std::string& text) {
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    return text.substr(1, text.size() - 2);
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out += text[i];
  }
  return out;
}

// Runs `bash <script> <args>` (a server script's start) and returns what its `export NAME=value`
// lines set; *status is its exit status (as pclose gives it). Its other output passes through.
inline std::map<std::string, std::string> ScriptExports(const std::string& script,
                                                        const std::string& args, int* status) {
  FILE* pipe = popen(("bash " + script + " " + args).c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + script);
  std::map<std::string, std::string> exports;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.rfind("export ", 0) != 0) continue;
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    exports[text.substr(7, eq - 7)] = ShellUnquote(text.substr(eq + 1));
  }
  *status = pclose(pipe);
  return exports;
}

// Runs path with argv and envp and waits for it. Only async-signal-safe calls (fork, execve,
// waitpid, _exit): usable inside a signal handler, with argv and envp prepared beforehand.
inline void RunAndWait(const char* path, const char* const* argv, const char* const* envp) {
  const pid_t pid = fork();
  if (pid == 0) {
    execve(path, const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    _exit(127);
  }
  if (pid > 0) waitpid(pid, nullptr, 0);
}

}  // namespace dkdata::bench
