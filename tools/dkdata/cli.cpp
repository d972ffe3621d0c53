#include "cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "dkdata/errors.hpp"
#include "script.hpp"

namespace dkdata::cli {
namespace {

constexpr std::string_view kDescription =
    "dkdata: create, read, query, import and export records in any dkdata store.";

constexpr std::string_view kFooter =
    R"(Stores (--store URL): the default store is a SQLite file that keeps the records
between runs: $DKDATA_HOME/default.sqlite, or without DKDATA_HOME
${XDG_DATA_HOME:-$HOME/.local/share}/dkdata/default.sqlite (`dkdata store` prints the
URL in use). Other stores: sqlite:///path.db, memory:// (lives as long as the process),
and the other backends' URLs (file:///path.jsonl, postgres://..., es://host:port/index,
s3://bucket/prefix) when dkdata was built with them. DKDATA_STORE=URL replaces the default.
`dkdata backends` lists the backends of this build and their config keys.

Config files (docs/config.md): --config FILE --db NAME uses the database entry NAME of
the file's `databases` list (without --db: the one named "default", else the first).
  dkdata config check FILE     every problem, as file:line:column: key.path: message
  dkdata config show FILE      the resolved config, secrets redacted

Several commands in one process (what makes memory:// useful):
  dkdata shell < commands.txt      one command per line, written as after `dkdata`:
                                     import examples/people.jsonl
                                     query "age >= 30" --sort age:desc
  dkdata --script commands.txt     the same from a file (then `-` can still read stdin)
Blank lines and # comments are skipped. The first failing command stops a script and
a shell reading a pipe (shell --keep-going goes on); an interactive shell always goes on.

Output: a table on a terminal, JSON lines when piped; --format table|jsonl|csv chooses.
Errors go to stderr, prefixed "dkdata: ".

Exit codes:
  0  success
  1  not found, or the operation failed (the message says why)
  2  usage error: unknown command or flag, bad flag value, query syntax error)";

// What the process-level options chose.
struct ProcessOptions {
  std::string script_file;
  std::optional<std::string> store_url;  // --store
  std::string config_file;               // --config
  std::string db_name;                   // --db
};

struct ShellOptions {
  bool echo = false;
  bool keep_going = false;
};

int RunShell(Session& session, const ShellOptions& options) {
  const bool interactive = isatty(STDIN_FILENO) == 1;
  session.set_stdin_is_command_stream(true);
  return RunScript(session, std::cin,
                   {.stop_on_error = !interactive && !options.keep_going,
                    .echo = options.echo,
                    .prompt = interactive});
}

int RunScriptFile(Session& session, const std::string& path) {
  if (path == "-") return RunShell(session, {});
  std::ifstream file(path);
  if (!file) throw Error(ErrorCode::kIo, "cannot read script " + path);
  return RunScript(session, file, {});
}

void AddShellCommand(CLI::App& app, Action& action) {
  auto options = std::make_shared<ShellOptions>();
  CLI::App* command = app.add_subcommand("shell", "Run commands read from stdin, one per line");
  command->add_flag("--echo", options->echo,
                    "Print each command (and # comment) before its output");
  command->add_flag("-k,--keep-going", options->keep_going,
                    "Go on after a failing command (exit with the last failure's code)");
  command->footer(
      "Each line is a command as it would follow `dkdata` on the command line, e.g.\n"
      "  import examples/people.jsonl\n"
      "  query \"city = 'Berlin'\" --fields name,age\n"
      "All commands share one store. `exit` or the end of input ends the shell. When stdin is\n"
      "not a terminal, the first failing command stops the shell (unless --keep-going) and its\n"
      "exit code becomes the shell's.");
  command->callback([&action, options] {
    action = [options](Session& session) { return RunShell(session, *options); };
  });
}

void AddProcessOptions(CLI::App& app, ProcessOptions& options, Action& action) {
  app.add_option_function<std::string>(
         "--store", [&options](const std::string& url) { options.store_url = url; },
         "Store URL (default: $DKDATA_STORE, else the default store; now " +
             (DefaultStoreUrl().empty() ? std::string("none: HOME is not set")
                                        : DefaultStoreUrl()) +
             ")")
      ->type_name("URL");
  app.add_option("--config", options.config_file,
                 "Config file (YAML or JSON) whose `databases` entry --db is the store")
      ->type_name("FILE");
  app.add_option("--db", options.db_name,
                 "Name (or index) of the --config database to use (default: the one named "
                 "\"default\", else the first)")
      ->type_name("NAME");
  app.add_option("--script", options.script_file,
                 "Run the commands in FILE (one per line, - for stdin) in one process")
      ->type_name("FILE");
  AddShellCommand(app, action);
}

std::unique_ptr<CLI::App> BuildApp(ProcessOptions& options, Action& action, CommandScope scope) {
  auto app = std::make_unique<CLI::App>(std::string(kDescription), "dkdata");
  app->require_subcommand(0, 1);
  if (scope == CommandScope::kProcess) AddProcessOptions(*app, options, action);
  AddRecordCommands(*app, action);
  app->footer(std::string(kFooter));
  return app;
}

int ReportParseError(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  PrintError(e.what());
  // CLI11 names an ExtrasError after the subcommand that got the extra words.
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr &&
      (e.get_name() == "query" || e.get_name() == "count")) {
    std::cerr << "(A query is one argument: quote it, as in dkdata query \"age > 30\".)\n";
  }
  std::cerr << "Run 'dkdata --help' or 'dkdata COMMAND --help' for usage.\n";
  return kExitUsage;
}

// Gives the session the store that --store or --config --db chose.
void ApplyStoreOptions(Session& session, const ProcessOptions& options) {
  if (options.store_url && !options.config_file.empty()) {
    throw UsageError("give either --store URL or --config FILE (with --db NAME), not both");
  }
  if (!options.db_name.empty() && options.config_file.empty()) {
    throw UsageError("--db NAME selects a database of a config file: give --config FILE too");
  }
  if (options.store_url) session.set_store_url(*options.store_url);
  if (!options.config_file.empty()) session.set_config(options.config_file, options.db_name);
}

// The command the parsed line asked for (after parsing), or a usage error.
Action ChooseAction(const CLI::App& app, const ProcessOptions& options, Action action) {
  if (!options.script_file.empty()) {
    if (action) throw UsageError("--script runs the commands of its file: give no command with it");
    return [file = options.script_file](Session& session) { return RunScriptFile(session, file); };
  }
  if (!action) {
    std::cerr << app.help();
    throw UsageError("no command given");
  }
  return action;
}

int ParseAndRun(Session& session, std::vector<std::string> args, CommandScope scope) {
  ProcessOptions options;
  Action action;
  std::unique_ptr<CLI::App> app = BuildApp(options, action, scope);
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
    app->parse(std::move(args));
  } catch (const CLI::ParseError& e) {
    return ReportParseError(*app, e);
  }
  ApplyStoreOptions(session, options);
  return ChooseAction(*app, options, std::move(action))(session);
}

}  // namespace

int RunCommandLine(Session& session, std::vector<std::string> args, CommandScope scope) {
  try {
    return ParseAndRun(session, std::move(args), scope);
  } catch (const UsageError& e) {
    PrintError(e.what());
    return kExitUsage;
  } catch (const Error& e) {
    PrintError(e.what());
    return kExitFailed;
  } catch (const std::exception& e) {
    PrintError(e.what());
    return kExitFailed;
  }
}

}  // namespace dkdata::cli
