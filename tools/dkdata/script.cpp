#include "script.hpp"

#include <iostream>
#include <optional>

#include "cli.hpp"

namespace dkdata::cli {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Reads a quoted run starting after the opening quote at pos; returns the position after the
// closing quote.
std::size_t ReadQuoted(std::string_view line, std::size_t pos, char quote, std::string& word) {
  while (pos < line.size() && line[pos] != quote) {
    const bool escape = quote == '"' && line[pos] == '\\' && pos + 1 < line.size() &&
                        (line[pos + 1] == '"' || line[pos + 1] == '\\');
    if (escape) ++pos;
    word += line[pos++];
  }
  if (pos == line.size()) {
    throw UsageError(std::string("unterminated ") + quote + " quote in: " + std::string(line));
  }
  return pos + 1;
}

std::string_view TrimBlanks(std::string_view line) {
  while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  return line;
}

bool IsComment(std::string_view line) {
  return !line.empty() && line.front() == '#';
}

// Prints a line of the script: a blank line between one command's output and what follows,
// "dkdata> " before commands, comments as they are.
void Echo(std::string_view line, bool after_output) {
  if (after_output) std::cout << '\n';
  std::cout << (IsComment(line) ? "" : "dkdata> ") << line << '\n';
}

// Runs one line; returns its exit code, or nullopt for a line that ends the script.
std::optional<int> RunLine(Session& session, std::string_view line) {
  std::vector<std::string> words;
  try {
    words = SplitCommandLine(line);
  } catch (const UsageError& e) {
    PrintError(e.what());
    return kExitUsage;
  }
  if (words.empty()) return kExitOk;
  if (words.size() == 1 && (words[0] == "exit" || words[0] == "quit")) return std::nullopt;
  const int code = RunCommandLine(session, std::move(words), CommandScope::kScriptLine);
  std::cout.flush();
  return code;
}

}  // namespace

std::vector<std::string> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (true) {
    while (pos < line.size() && IsBlank(line[pos])) ++pos;
    if (pos == line.size() || line[pos] == '#') return words;
    std::string& word = words.emplace_back();
    while (pos < line.size() && !IsBlank(line[pos])) {
      const char c = line[pos++];
      if (c == '\'' || c == '"') {
        pos = ReadQuoted(line, pos, c, word);
      } else if (c == '\\' && pos < line.size()) {
        word += line[pos++];
      } else {
        word += c;
      }
    }
  }
}

int RunScript(Session& session, std::istream& input, const ScriptOptions& options) {
  int result = kExitOk;
  bool after_output = false;  // the last line run was a command, which may have printed
  std::string line;
  while (true) {
    if (options.prompt) std::cerr << "dkdata> " << std::flush;
    if (!std::getline(input, line)) break;
    const std::string_view command = TrimBlanks(line);
    if (command.empty()) continue;
    if (options.echo) Echo(command, after_output);
    after_output = !IsComment(command);
    const std::optional<int> code = RunLine(session, command);
    if (!code) break;
    if (*code != kExitOk) {
      if (options.stop_on_error) return *code;
      result = *code;
    }
  }
  if (options.prompt) std::cerr << '\n';
  return result;
}

}  // namespace dkdata::cli
