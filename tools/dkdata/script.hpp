// tools/dkdata/script.hpp: running many dkdata commands in one process.
//
// `dkdata shell` reads commands from stdin and `dkdata --script FILE` from a file, one per line,
// with the same syntax as the command line after `dkdata` (`import examples/people.jsonl`). This is
// what makes the `memory://` store, which lives as long as the process, usable from the command
// line.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "session.hpp"

namespace dkdata::cli {

// Splits one line into words the way a POSIX shell does: blanks separate words, '...' is literal,
// "..." keeps blanks and allows \" and \\, a backslash elsewhere escapes the next character, and a
// # at the start of a word begins a comment. Throws UsageError for an unterminated quote.
std::vector<std::string> SplitCommandLine(std::string_view line);

struct ScriptOptions {
  bool stop_on_error = true;  // return at the first command that fails
  bool echo = false;          // print each command (and comment) before running it
  bool prompt = false;        // print a prompt on stderr before reading each line
};

// Runs each line of input as a command. Blank lines and # comments are skipped; `exit` or `quit`
// ends. Returns 0 when every command succeeded, else the exit code of the (first, when
// stop_on_error) failing one.
int RunScript(Session& session, std::istream& input, const ScriptOptions& options);

}  // namespace dkdata::cli
