// tools/dkdata/cli.hpp: the grammar of the dkdata command line, and running one command.
#pragma once

#include <string>
#include <vector>

#include "session.hpp"

namespace dkdata::cli {

// Where a command line comes from: the process arguments accept the global options (--store,
// --config, --db, --script) and `shell`; a line inside `dkdata shell` or a script accepts the
// commands only.
enum class CommandScope { kProcess, kScriptLine };

// Parses args (without the program name) and runs the command. Prints errors on stderr as
// "dkdata: ..." and returns the exit code: 0 ok, 1 failed operation, 2 usage error. Never throws.
int RunCommandLine(Session& session, std::vector<std::string> args, CommandScope scope);

}  // namespace dkdata::cli
