// dkdata: the command line over any dkdata store. `dkdata --help` tells how to use it; the
// commands live in commands.cpp and import.cpp, output rendering in output.cpp, and running many
// commands in one process in script.cpp.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "dkdata/errors.hpp"
#include "session.hpp"

namespace {

// Closes the store, which may flush writes; a failure there fails the process.
int CloseStore(dkdata::cli::Session& session) {
  try {
    session.Close();
    return dkdata::cli::kExitOk;
  } catch (const std::exception& e) {
    dkdata::cli::PrintError(e.what());
    return dkdata::cli::kExitFailed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using dkdata::cli::CommandScope;
  std::ios::sync_with_stdio(false);
  try {
    dkdata::cli::Session session(dkdata::cli::DefaultStoreUrl());
    const int code = dkdata::cli::RunCommandLine(
        session, std::vector<std::string>(argv + 1, argv + argc), CommandScope::kProcess);
    const int close_code = CloseStore(session);
    std::cout.flush();
    return code != dkdata::cli::kExitOk ? code : close_code;
  } catch (const std::exception& e) {
    dkdata::cli::PrintError(e.what());
  } catch (...) {
    dkdata::cli::PrintError("unexpected error");
  }
  return dkdata::cli::kExitFailed;
}
