// `dkdata config check|show FILE` and `dkdata backends`: commands about configuration that never
// open the store.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "dkdata/config.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::cli {
namespace {

struct ConfigFileOptions {
  std::string file;             // "" : --config's
  std::string format = "yaml";  // show only
};

std::string ConfigFileOf(const Session& session, const ConfigFileOptions& options) {
  if (!options.file.empty()) return options.file;
  if (!session.config_path().empty()) return session.config_path();
  throw UsageError("name the config file: dkdata config check FILE (or give --config FILE)");
}

// Prints every problem, one per line; "ok: FILE: N databases (names)" when there is none.
int RunConfigCheck(Session& session, const ConfigFileOptions& options) {
  const std::string file = ConfigFileOf(session, options);
  const std::vector<ConfigProblem> problems = CheckConfigFile(file);
  for (const ConfigProblem& p : problems) std::cout << p.ToString() << '\n';
  if (!problems.empty()) {
    std::cerr << file << ": " << problems.size()
              << (problems.size() == 1 ? " problem" : " problems") << '\n';
    return kExitFailed;
  }
  const std::vector<std::string> names = Config::LoadFile(file).Names("databases");
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  std::cout << "ok: " << file << ": " << names.size()
            << (names.size() == 1 ? " database" : " databases")
            << (list.empty() ? "" : " (" + list + ")") << '\n';
  return kExitOk;
}

int RunConfigShow(Session& session, const ConfigFileOptions& options) {
  const Config config = Config::LoadFile(ConfigFileOf(session, options));
  std::cout << config.Show(options.format == "json" ? ConfigFormat::kJson : ConfigFormat::kYaml);
  return kExitOk;
}

void AddConfigFileArgument(CLI::App& command, ConfigFileOptions& options) {
  command.add_option("FILE", options.file, "Config file, .yaml/.yml or .json (default: --config)")
      ->type_name("");
}

std::string Joined(const std::vector<std::string>& items, std::string_view suffix = "") {
  std::string out;
  for (const std::string& item : items)
    out += (out.empty() ? "" : ", ") + item + std::string(suffix);
  return out;
}

// One block per backend of the registry: whether it is available (or what to install), its
// aliases, URL schemes and config keys.
int RunBackends() {
  for (const BackendInfo* info : BackendRegistry::List()) {
    std::cout << info->name;
    if (!info->aliases.empty()) std::cout << " (aliases: " << Joined(info->aliases) << ")";
    std::cout << ": "
              << (info->available ? "available" : "not available: " + info->unavailable_reason)
              << '\n';
    if (!info->description.empty()) std::cout << "  " << info->description << '\n';
    if (!info->url_schemes.empty()) {
      std::cout << "  URLs: " << Joined(info->url_schemes, "://") << '\n';
    }
    if (!info->option_keys.empty()) {
      std::cout << "  config keys: " << Joined(info->option_keys) << '\n';
    }
  }
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, Action& action) {
  CLI::App* config = app.add_subcommand("config", "Check or show a config file (docs/config.md)");
  config->require_subcommand(1);

  auto check_options = std::make_shared<ConfigFileOptions>();
  CLI::App* check = config->add_subcommand(
      "check", "Report every problem of a config file and its includes (exit 1 if any)");
  AddConfigFileArgument(*check, *check_options);
  check->footer(
      "Checks the file and its includes, ${VAR} placeholders, references, and each database\n"
      "entry's backend and options (unknown keys, wrong types), without creating anything.\n"
      "Prints each problem as FILE:LINE:COLUMN: KEY.PATH: MESSAGE and exits with 1, or\n"
      "\"ok: FILE: N databases (NAMES)\" and exits with 0. Secrets are never printed.");
  check->callback([&action, check_options] {
    action = [check_options](Session& session) { return RunConfigCheck(session, *check_options); };
  });

  auto show_options = std::make_shared<ConfigFileOptions>();
  CLI::App* show = config->add_subcommand(
      "show", "Print the resolved config (variables, includes, references), secrets redacted");
  AddConfigFileArgument(*show, *show_options);
  show->add_option("--format", show_options->format, "yaml (the default) or json")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"yaml", "json"}));
  show->callback([&action, show_options] {
    action = [show_options](Session& session) { return RunConfigShow(session, *show_options); };
  });
}

void AddBackendsCommand(CLI::App& app, Action& action) {
  CLI::App* command = app.add_subcommand(
      "backends", "List the backends of this build: available or what to install, config keys");
  command->callback([&action] { action = [](Session&) { return RunBackends(); }; });
}

}  // namespace dkdata::cli
