// Tests of the config layer: loading YAML/JSON and objects, ${VAR} substitution and typing,
// includes, xrefs, DATAKNOBS_ overrides, settings, errors with positions, collecting problems,
// redaction, and constructing databases (backend:, factory:, class:). The fixtures are in
// tests/config/fixtures/; the environment is always injected (ConfigOptions::environment).

#include "dkdata/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"
#include "scoped_environment.hpp"

namespace dkdata {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Fixture(std::string_view name) {
  return (fs::path(DKDATA_CONFIG_FIXTURES) / name).string();
}

ConfigOptions WithEnv(Environment env) {
  ConfigOptions options;
  options.environment = std::move(env);
  return options;
}

// A fresh directory under the system's temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dkdata-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// The Error that fn throws (failing the test when it throws none).
template <class Fn>
Error ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorCode::kInternal, "no error thrown");
}

// The member key of object (keys may hold dots: no path lookup here).
const Value& At(const Object& object, std::string_view key) {
  static const Value kMissing("<missing>");
  if (const Value* v = object.Find(key)) return *v;
  ADD_FAILURE() << "no key " << key;
  return kMissing;
}

Value Path(const Object& object, std::string_view path) {
  const Value root(object);
  const Value* v = root.FindPath(path);
  if (v == nullptr) {
    ADD_FAILURE() << "no value at " << path;
    return Value("<missing>");
  }
  return *v;
}

// Create, read, update, delete and count through a database built from a config.
void SmokeCrud(Database& db) {
  const std::string id = db.Create(Record{{"id", "r1"}, {"name", "Ada"}, {"age", 36}});
  EXPECT_EQ(id, "r1");
  std::optional<Record> read = db.Read(id);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read->Get("name"), Value("Ada"));
  EXPECT_TRUE(db.Update(id, Record{{"name", "Ada L."}, {"age", 37}}));
  EXPECT_EQ(*db.Read(id)->Get("age"), Value(37));
  EXPECT_EQ(db.Count(), 1u);
  EXPECT_TRUE(db.Delete(id));
  EXPECT_FALSE(db.Read(id).has_value());
  db.Close();
}

// ---- The reference README's example, verbatim ----

TEST(ConfigReadmeTest, RequiredVariablesAreNamedWithFileAndKeyPath) {
  const Error e = ErrorOf([] { Config::LoadFile(Fixture("reference_readme.yaml"), WithEnv({})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.backend(), "config");
  EXPECT_THAT(e.what(), HasSubstr("reference_readme.yaml:9:15: databases[0].password: required "
                                  "environment variable DB_PASSWORD is not set"));

  // Both bare placeholders (the README calls the second "Optional"; it is required) at once.
  const std::vector<ConfigProblem> problems =
      CheckConfigFile(Fixture("reference_readme.yaml"), WithEnv({}));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key_path, "databases[0].password");
  EXPECT_EQ(problems[0].where.line, 9);
  EXPECT_EQ(problems[1].key_path, "databases[3].endpoint_url");
  EXPECT_EQ(problems[1].where.line, 26);
  EXPECT_THAT(problems[1].message, HasSubstr("S3_ENDPOINT"));
}

TEST(ConfigReadmeTest, LoadsResolvesAndConstructsWhatDkdataHas) {
  TempDir dir;
  const Config config =
      Config::LoadFile(Fixture("reference_readme.yaml"),
                       WithEnv({{"DB_PASSWORD", "s3cr3t-pw"},
                                {"S3_ENDPOINT", "http://localhost:4566"},
                                {"DATAKNOBS_DATABASES__ARCHIVE__PATH", dir.File("archive.json")}}));
  EXPECT_EQ(config.Types(), std::vector<std::string>{"databases"});
  EXPECT_EQ(config.Names("databases"),
            (std::vector<std::string>{"primary", "cache", "archive", "cloud_storage"}));
  const Object& primary = config.Get("databases", "primary");
  EXPECT_EQ(At(primary, "host"), Value("localhost"));
  EXPECT_EQ(At(primary, "port"), Value(5432));
  EXPECT_EQ(At(primary, "password"), Value("s3cr3t-pw"));
  EXPECT_EQ(At(primary, "type"), Value("databases"));
  const Object& cloud = config.Get("databases", "cloud_storage");
  EXPECT_EQ(At(cloud, "region"), Value("us-east-1"));
  EXPECT_EQ(At(cloud, "prefix"), Value("records/"));
  EXPECT_EQ(At(cloud, "endpoint_url"), Value("http://localhost:4566"));

  auto cache = CreateDatabaseFromConfig(config, "cache");
  EXPECT_EQ(cache->backend_name(), "memory");
  SmokeCrud(*cache);

  auto archive = CreateDatabaseFromConfig(config, "archive");
  EXPECT_EQ(archive->backend_name(), "file");
  SmokeCrud(*archive);
  EXPECT_TRUE(fs::exists(dir.File("archive.json")) || fs::exists(dir.File("archive.json.gz")));

#if DKDATA_HAVE_S3
  {
    // Resolved and tried, with credentials from the environment: nothing listens at the README's
    // LocalStack address. (Without credentials the chain would ask the instance metadata.)
    testserver::ScopedEnvironment aws({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN", "AWS_PROFILE",
                                       "AWS_EC2_METADATA_DISABLED"});
    aws.Set("AWS_ACCESS_KEY_ID", "AKIACONFIGTEST");
    aws.Set("AWS_SECRET_ACCESS_KEY", "config-test-secret");
    aws.Set("AWS_EC2_METADATA_DISABLED", "true");
    const Error s3 = ErrorOf([&] { CreateDatabaseFromConfig(config, "cloud_storage"); });
    EXPECT_EQ(s3.code(), ErrorCode::kUnavailable) << s3.what();
    EXPECT_THAT(s3.what(), HasSubstr("'cloud_storage'"));
    EXPECT_THAT(s3.what(), HasSubstr("localhost:4566"));
    EXPECT_THAT(s3.what(), Not(HasSubstr("config-test-secret")));
  }
#endif
#if DKDATA_HAVE_POSTGRES
  // Resolved and tried: the README's server (localhost:5432) is not there; the password is never
  // in the message.
  const Error pg = ErrorOf([&] { CreateDatabaseFromConfig(config, "primary"); });
  EXPECT_NE(pg.code(), ErrorCode::kInvalidArgument) << pg.what();
  EXPECT_THAT(pg.what(), HasSubstr("database 'myapp' at localhost:5432"));
  EXPECT_THAT(pg.what(), Not(HasSubstr("s3cr3t-pw")));
#endif
}

// ---- Substitution ----

TEST(ConfigSubstitutionTest, EachFormAndTyping) {
  const Config config =
      Config::LoadFile(Fixture("substitution.yaml"), WithEnv({{"PORT", "5432"},
                                                              {"RATIO", "0.25"},
                                                              {"ENABLED", "TRUE"},
                                                              {"VERSION", "v1.2"},
                                                              {"UNDERSCORED", " 1_000 "},
                                                              {"EMPTY", ""},
                                                              {"REQUIRED", "r"},
                                                              {"NAME_VAR", "42"}}));
  const Object& typed = config.Get("databases", "typed");
  EXPECT_EQ(At(typed, "port"), Value(5432));
  EXPECT_EQ(At(typed, "quoted_port"), Value(5432));
  EXPECT_EQ(At(typed, "ratio"), Value(0.25));
  EXPECT_EQ(At(typed, "enabled"), Value(true));
  EXPECT_EQ(At(typed, "disabled"), Value(false));  // the default is typed too
  EXPECT_EQ(At(typed, "version"), Value("v1.2"));  // a string stays a string
  EXPECT_EQ(At(typed, "host"), Value("localhost"));
  EXPECT_EQ(At(typed, "bash_default"), Value("fallback"));
  EXPECT_EQ(At(typed, "empty_default"), Value(""));
  EXPECT_EQ(At(typed, "colon_default"), Value("a:b"));
  EXPECT_EQ(At(typed, "empty_is_used"), Value(""));  // set to "": used, as in the reference
  EXPECT_EQ(At(typed, "mixed"), Value("http://localhost:5432/x"));
  EXPECT_EQ(At(typed, "number_text"), Value("x5432"));  // not a whole placeholder: a string
  EXPECT_EQ(At(typed, "underscore"), Value(1000));      // Python int(): spaces and '_'
  EXPECT_EQ(At(typed, "list"), Value(List{Value(5432), Value("h")}));
  EXPECT_EQ(Path(typed, "nested.deep"), Value(5432));
  EXPECT_EQ(At(typed, "no_rescan"), Value("${PORT}"));  // one pass, no nesting
  EXPECT_EQ(At(typed, "literal_dollar"), Value("$5432"));
  EXPECT_EQ(At(typed, "${PORT}"), Value("keys are not substituted"));
  EXPECT_EQ(At(typed, "required"), Value("r"));
  EXPECT_EQ(At(typed, "timeout"), Value(2.5));  // a settings default, substituted in the object
  // A name is never typed: "42" stays a string.
  EXPECT_EQ(config.Names("databases"), (std::vector<std::string>{"typed", "42"}));
  EXPECT_EQ(At(config.Get("databases", "-1"), "name"), Value("42"));
  // The settings block keeps what was written.
  EXPECT_EQ(At(At(config.Data(), "settings").AsObject(), "databases.timeout"),
            Value("${DEFAULT_TIMEOUT:2.5}"));
}

TEST(ConfigSubstitutionTest, RequiredMessageForm) {
  const Error e = ErrorOf([] {
    Config::LoadFile(Fixture("substitution.yaml"), WithEnv({{"PORT", "1"},
                                                            {"RATIO", "1"},
                                                            {"ENABLED", "no"},
                                                            {"VERSION", "1"},
                                                            {"UNDERSCORED", "1"},
                                                            {"EMPTY", ""}}));
  });
  EXPECT_THAT(e.what(), HasSubstr("substitution.yaml:27:15: databases[0].required: required "
                                  "environment variable REQUIRED is not set: set REQUIRED to run"));
}

TEST(ConfigSubstitutionTest, MissingVariableNamesFileLineAndKeyPath) {
  const Error e = ErrorOf([] { Config::LoadFile(Fixture("missing_var.yaml"), WithEnv({})); });
  EXPECT_THAT(e.what(), HasSubstr("missing_var.yaml:7:17: databases[1].connection.password: "
                                  "required environment variable DKDATA_TEST_UNSET_PASSWORD is "
                                  "not set"));
}

TEST(ConfigSubstitutionTest, PlaceholderTypingFollowsPython) {
  auto typed = [](const char* value) {
    const Config config =
        Config::FromObject(Object{{"t", List{Object{{"v", "${V}"}}}}}, WithEnv({{"V", value}}));
    return At(config.Get("t", "0"), "v");
  };
  EXPECT_EQ(typed("yes"), Value(true));
  EXPECT_EQ(typed("No"), Value(false));
  EXPECT_EQ(typed("1"), Value(1));  // an int, not a bool (overrides differ)
  EXPECT_EQ(typed("-7"), Value(-7));
  EXPECT_EQ(typed("1e5"), Value(100000.0));
  EXPECT_EQ(typed(".5"), Value(0.5));
  EXPECT_EQ(typed("0x10"), Value("0x10"));
  EXPECT_EQ(typed("null"), Value("null"));
  EXPECT_EQ(typed("1__0"), Value("1__0"));
  EXPECT_EQ(typed(""), Value(""));
  EXPECT_TRUE(std::isinf(typed("-inf").AsDouble()));
}

// ---- YAML typing ----

TEST(ConfigYamlTest, ScalarsAreTypedAsYaml11) {
  const Config config = Config::LoadFile(Fixture("yaml11.yaml"), WithEnv({}));
  const Object& s = config.Get("values", "scalars");
  EXPECT_EQ(At(s, "yes_word"), Value(true));
  EXPECT_EQ(At(s, "on_word"), Value(true));
  EXPECT_EQ(At(s, "off_word"), Value(false));
  EXPECT_EQ(At(s, "null_tilde"), Value());
  EXPECT_EQ(At(s, "null_empty"), Value());
  EXPECT_EQ(At(s, "hex"), Value(31));
  EXPECT_EQ(At(s, "octal"), Value(10));
  EXPECT_EQ(At(s, "binary"), Value(5));
  EXPECT_EQ(At(s, "underscored"), Value(1000));
  EXPECT_EQ(At(s, "not_octal"), Value("08"));
  EXPECT_EQ(At(s, "plain_08"), Value("08"));
  EXPECT_EQ(At(s, "exp_string"), Value("1e3"));
  EXPECT_EQ(At(s, "exp_float"), Value(1000.0));
  EXPECT_EQ(At(s, "dot_float"), Value(0.5));
  EXPECT_EQ(At(s, "inf"), Value(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(At(s, "quoted_true"), Value("true"));
  EXPECT_EQ(At(s, "tagged"), Value("5"));
  EXPECT_EQ(At(s, "version"), Value(1.1));
  EXPECT_EQ(At(s, "time"), Value("12:30"));  // no sexagesimal numbers (docs/config.md)
  EXPECT_EQ(Path(s, "merged.retries"), Value(3));
  EXPECT_EQ(Path(s, "merged.timeout"), Value(2));
}

TEST(ConfigYamlTest, ShowReadsBackToTheSameValues) {
  const Config config = Config::LoadFile(Fixture("yaml11.yaml"), WithEnv({}));
  const std::string yaml = config.Show();
  const Config again = Config::FromText(yaml, ConfigFormat::kYaml, "<show>", WithEnv({}));
  EXPECT_EQ(again.Data(), config.Data()) << yaml;
  // JSON has no infinity: Show(kJson) writes it as the string "-Infinity".
  const Config from_json = Config::FromText(config.Show(ConfigFormat::kJson), ConfigFormat::kJson,
                                            "<json>", WithEnv({}));
  Object expected = config.Get("values", "0");
  expected.Set("inf", "-Infinity");
  EXPECT_EQ(from_json.Get("values", "0"), expected);
}

// ---- Includes ----

TEST(ConfigIncludeTest, RelativeNestedAndJsonIncludes) {
  const Config config = Config::LoadFile(Fixture("includes/main.yaml"), WithEnv({}));
  EXPECT_EQ(config.Names("databases"),
            (std::vector<std::string>{"one", "two", "inline", "three", "four"}));
  EXPECT_EQ(At(config.Get("databases", "one"), "port"), Value(99));  // substituted after include
  EXPECT_EQ(At(config.Get("databases", "two"), "ratio"), Value(1000.0));  // JSON: 1e3 is a number
  EXPECT_EQ(At(config.Get("databases", "four"), "path"), Value(":memory:"));
  const Object& cache = config.Get("cache", "0");
  EXPECT_EQ(At(cache, "name"), Value("redis"));
  EXPECT_EQ(At(cache, "type"), Value("cache"));

  // Positions point into the file each value came from.
  const std::optional<SourcePosition> ratio = config.SourceOf("databases[1].ratio");
  ASSERT_TRUE(ratio.has_value());
  EXPECT_THAT(ratio->file, HasSubstr("includes/sub/two.json"));
  EXPECT_EQ(ratio->line, 4);
  const std::optional<SourcePosition> four = config.SourceOf("databases[4].backend");
  ASSERT_TRUE(four.has_value());
  EXPECT_THAT(four->file, HasSubstr("includes/sub/deeper/four.yaml"));
  EXPECT_EQ(four->line, 2);
  EXPECT_EQ(config.SourceOf("databases[2].name")->line, 4);
  // Nearest ancestor for a path with no position of its own.
  EXPECT_EQ(config.SourceOf("databases[2].nope.deeper")->line,
            config.SourceOf("databases[2]")->line);

  auto four_db = CreateDatabaseFromConfig(config, "four");
  SmokeCrud(*four_db);
}

TEST(ConfigIncludeTest, CycleIsReportedWithTheChain) {
  const Error e =
      ErrorOf([] { Config::LoadFile(Fixture("include_cycle/main.yaml"), WithEnv({})); });
  EXPECT_THAT(e.what(),
              ContainsRegex("include cycle: [^ ]*include_cycle/a\\.yaml -> "
                            "[^ ]*include_cycle/b\\.yaml -> [^ ]*include_cycle/a\\.yaml"));
  EXPECT_THAT(e.what(), HasSubstr("include_cycle/b.yaml:1:3"));
}

TEST(ConfigIncludeTest, MissingFileNamesTheIncludeAndWhereItIs) {
  const Error e = ErrorOf([] { Config::LoadFile(Fixture("include_missing.yaml"), WithEnv({})); });
  EXPECT_THAT(e.what(), HasSubstr("include_missing.yaml:4:5: databases[1]: included file "));
  EXPECT_THAT(e.what(), HasSubstr("does_not_exist.yaml cannot be read: No such file"));
}

TEST(ConfigIncludeTest, IncludesStayUnderTheEntryDirectoryUnlessAllowed) {
  const Error e =
      ErrorOf([] { Config::LoadFile(Fixture("include_escape/main.yaml"), WithEnv({})); });
  EXPECT_THAT(e.what(), HasSubstr("reaches outside the config's directory"));
  ConfigOptions options = WithEnv({});
  options.allow_include_outside_root = true;
  const Config config = Config::LoadFile(Fixture("include_escape/main.yaml"), options);
  EXPECT_EQ(config.Names("databases"), std::vector<std::string>{"one"});
}

TEST(ConfigIncludeTest, TextNeedsConfigRootForRelativeIncludes) {
  const std::string text = "databases:\n  - \"@sub/one.yaml\"\n";
  const Error e =
      ErrorOf([&] { Config::FromText(text, ConfigFormat::kYaml, "inline.yaml", WithEnv({})); });
  EXPECT_THAT(e.what(), HasSubstr("no settings.config_root"));
  const std::string rooted = "settings:\n  config_root: " + Fixture("includes") + "\n" + text;
  const Config config = Config::FromText(rooted, ConfigFormat::kYaml, "inline.yaml", WithEnv({}));
  EXPECT_EQ(config.Names("databases"), std::vector<std::string>{"one"});
}

// ---- References ----

TEST(ConfigXrefTest, ByNameIndexLastAndNested) {
  const Config config = Config::LoadFile(Fixture("xref.yaml"), WithEnv({}));
  const Object& primary = config.Get("databases", "primary");
  const Object& replica = config.Get("databases", "replica");
  const Object& main = config.Get("api", "main");
  EXPECT_EQ(At(main, "db"), Value(primary));
  EXPECT_EQ(At(main, "first"), Value(primary));
  EXPECT_EQ(At(main, "second"), Value(replica));
  EXPECT_EQ(At(main, "last"), Value(replica));
  EXPECT_EQ(At(main, "dbs"), Value(List{Value(replica)}));
  EXPECT_EQ(Path(main, "routes.0.target"), Value(replica));  // the reference leaves these alone
  EXPECT_EQ(At(main, "note"), Value("see xref:databases"));
  EXPECT_EQ(At(config.Get("api", "via"), "upstream"), Value(main));
}

TEST(ConfigXrefTest, CycleIsReportedWithTheChain) {
  const Error e = ErrorOf([] { Config::LoadFile(Fixture("xref_cycle.yaml"), WithEnv({})); });
  EXPECT_THAT(e.what(),
              ContainsRegex("xref cycle: cyc\\[0\\] -> xref:cyc\\[b\\] \\([^)]*"
                            "xref_cycle\\.yaml:3:11\\) -> xref:cyc\\[c\\] \\([^)]*:5:11\\)"
                            " -> xref:cyc\\[a\\] \\([^)]*:7:11\\)"));
}

TEST(ConfigXrefTest, BadReferencesSayWhatExists) {
  auto error = [](const char* reference) {
    return std::string(ErrorOf([&] {
                         Config::FromObject(Object{{"db", List{Object{{"name", "a"}}}},
                                                   {"api", List{Object{{"use", reference}}}}},
                                            WithEnv({}));
                       }).what());
  };
  EXPECT_THAT(error("xref:9x"), HasSubstr("invalid reference 'xref:9x'"));
  EXPECT_THAT(error("xref:db[a]b"), HasSubstr("invalid reference"));
  EXPECT_THAT(error("xref:[0]"), HasSubstr("missing type in reference"));
  EXPECT_THAT(error("xref:db[zz]"), HasSubstr("no item of 'db' is named 'zz' (names: 'a')"));
  EXPECT_THAT(error("xref:db[3]"), HasSubstr("index out of range ('db' has 1 item(s))"));
  EXPECT_THAT(error("xref:nope"), HasSubstr("no type 'nope' (types: 'db', 'api')"));
  EXPECT_THAT(error("xref:db[zz]"), HasSubstr("api[0].use"));
}

// ---- Overrides ----

TEST(ConfigOverrideTest, ByNameAndIndexTypedAsTheReference) {
  const Object data{{"databases", List{Object{{"name", "primary"},
                                              {"host", "h"},
                                              {"port", 1},
                                              {"connection", Object{{"retries", 2}}}},
                                       Object{{"name", "Upper"}}}}};
  const Config config =
      Config::FromObject(data, WithEnv({{"DATAKNOBS_DATABASES__PRIMARY__HOST", "prod"},
                                        {"DATAKNOBS_DATABASES__PRIMARY__PORT", "5433"},
                                        {"DATAKNOBS_DATABASES__PRIMARY__SSL", "1"},
                                        {"DATAKNOBS_DATABASES__0__EXTRA", "no"},
                                        {"DATAKNOBS_DATABASES__UPPER__RATIO", "0.5"},
                                        {"DATAKNOBS_DATABASES__-1__Mixed", "Val"},
                                        {"DATAKNOBS_DATABASES__PRIMARY__CONNECTION__TIMEOUT", "7"},
                                        {"DATAKNOBS_BAD", "ignored"},
                                        {"DATAKNOBS_ALSO__IGNORED", "2 parts"}}));
  const Object& primary = config.Get("databases", "primary");
  EXPECT_EQ(At(primary, "host"), Value("prod"));
  EXPECT_EQ(At(primary, "port"), Value(5433));
  EXPECT_EQ(At(primary, "ssl"), Value(true));  // "1" is a bool here, as in the reference
  EXPECT_EQ(At(primary, "extra"), Value(false));
  EXPECT_EQ(Path(primary, "connection.timeout"), Value(7));  // nested, not a flat key
  EXPECT_EQ(Path(primary, "connection.retries"), Value(2));
  const Object& upper = config.Get("databases", "Upper");
  EXPECT_EQ(At(upper, "ratio"), Value(0.5));
  EXPECT_EQ(At(upper, "mixed"), Value("Val"));
  EXPECT_EQ(config.SourceOf("databases[0].host")->file,
            "environment variable DATAKNOBS_DATABASES__PRIMARY__HOST");
}

TEST(ConfigOverrideTest, AnOverrideThatMatchesNothingIsAnError) {
  const Object data{{"databases", List{Object{{"name", "primary"}}}}};
  EXPECT_THAT(ErrorOf([&] {
                Config::FromObject(data, WithEnv({{"DATAKNOBS_DATABASES__NOPE__HOST", "x"}}));
              }).what(),
              AllOf(HasSubstr("environment variable DATAKNOBS_DATABASES__NOPE__HOST"),
                    HasSubstr("no item of 'databases' is named 'nope' (names: 'primary')")));
  EXPECT_THAT(ErrorOf([&] {
                Config::FromObject(data, WithEnv({{"DATAKNOBS_CACHES__0__HOST", "x"}}));
              }).what(),
              HasSubstr("no type 'caches'"));
  EXPECT_THAT(ErrorOf([&] {
                Config::FromObject(data, WithEnv({{"DATAKNOBS_DATABASES__4__HOST", "x"}}));
              }).what(),
              HasSubstr("index 4 is out of range"));
  ConfigOptions off = WithEnv({{"DATAKNOBS_DATABASES__NOPE__HOST", "x"}});
  off.apply_env_overrides = false;
  EXPECT_EQ(Config::FromObject(data, off).Names("databases"), std::vector<std::string>{"primary"});
}

// ---- Settings, names and lookups ----

TEST(ConfigSettingsTest, DefaultsAndPathResolution) {
  const Config config = Config::LoadFile(Fixture("settings.yaml"), WithEnv({}));
  const Object& rel = config.Get("databases", "rel");
  EXPECT_EQ(At(rel, "path"), Value("/srv/db/data/x.db"));  // the type's root wins
  EXPECT_EQ(At(rel, "log_dir"), Value("/srv/db/logs2"));
  EXPECT_EQ(At(rel, "other_dir"), Value("/abs/kept"));
  EXPECT_EQ(At(rel, "default_timeout"), Value(30));
  EXPECT_EQ(At(rel, "pool"), Value(9));  // explicit beats the type default
  EXPECT_EQ(rel.Find("global_root"), nullptr);
  const Object& cache = config.Get("cache", "c");
  EXPECT_EQ(At(cache, "file"), Value("/srv/c.bin"));
  EXPECT_EQ(At(cache, "path"), Value("/srv/p.bin"));
  EXPECT_EQ(At(cache, "default_timeout"), Value(30));
  EXPECT_EQ(cache.Find("pool"), nullptr);
  EXPECT_EQ(config.Types(), (std::vector<std::string>{"databases", "cache"}));
  ASSERT_NE(config.Data().Find("settings"), nullptr);
  // A settings default has the position of its setting.
  EXPECT_EQ(config.SourceOf("databases[0].default_timeout")->line, 5);
}

TEST(ConfigSettingsTest, NamesDefaultToTheIndexAndMustBeUnique) {
  const Config config = Config::FromObject(
      Object{{"databases", List{Object{{"backend", "memory"}}, Object{{"backend", "memory"}}}},
             {"single", Object{{"y", 1}}}},
      WithEnv({}));
  EXPECT_EQ(config.Names("databases"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(config.Names("single"), std::vector<std::string>{"0"});
  EXPECT_EQ(config.IndexOf("databases", "-1"), 1u);
  EXPECT_EQ(config.IndexOf("databases", "2"), std::nullopt);
  EXPECT_THAT(ErrorOf([&] { config.Get("nope", "0"); }).what(),
              HasSubstr("no type 'nope' in the config (types: 'databases', 'single')"));
  EXPECT_THAT(ErrorOf([&] { config.Get("databases", "zz"); }).what(), HasSubstr("names: '0', '1'"));
  EXPECT_EQ(ErrorOf([&] { config.Get("databases", "5"); }).code(), ErrorCode::kNotFound);

  EXPECT_THAT(ErrorOf([] {
                Config::FromObject(
                    Object{{"t", List{Object{{"name", "a"}}, Object{{"name", "a"}}}}}, WithEnv({}));
              }).what(),
              HasSubstr("t[1].name: duplicate name 'a' (also t[0]"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromObject(Object{{"t", List{Object{{"name", 5}}}}}, WithEnv({}));
              }).what(),
              HasSubstr("a name must be a string"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromObject(Object{{"cache", List{Object{{"type", "redis"}}}}}, WithEnv({}));
              }).what(),
              HasSubstr("type mismatch"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromObject(Object{{"t", List{Value("plain string")}}}, WithEnv({}));
              }).what(),
              HasSubstr("must be a mapping or an \"@file\" include"));
}

// ---- Malformed input ----

TEST(ConfigErrorTest, MalformedYamlAndJsonGiveFileLineAndColumn) {
  const Error yaml = ErrorOf([] { Config::LoadFile(Fixture("malformed.yaml"), WithEnv({})); });
  EXPECT_THAT(yaml.what(), ContainsRegex("malformed\\.yaml:[45]:[0-9]+: invalid YAML: "));
  const Error json = ErrorOf([] { Config::LoadFile(Fixture("malformed.json"), WithEnv({})); });
  EXPECT_THAT(json.what(), ContainsRegex("malformed\\.json:3:[0-9]+: invalid JSON: "));

  const std::vector<ConfigProblem> problems =
      CheckConfigFile(Fixture("malformed.json"), WithEnv({}));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].where.line, 3);
  EXPECT_GT(problems[0].where.column, 30);

  EXPECT_THAT(ErrorOf([] {
                Config::FromText("a:\n  - name: x\n    k: 1\n    k: 2\n", ConfigFormat::kYaml,
                                 "dup.yaml", WithEnv({}));
              }).what(),
              HasSubstr("dup.yaml:4:5: a[0].k: duplicate key 'k' (first at line 3)"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromText("{\"a\": [{\"k\": 1, \"k\": 2}]}", ConfigFormat::kJson, "dup.json",
                                 WithEnv({}));
              }).what(),
              HasSubstr("duplicate key 'k'"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromText("a: 1\n---\nb: 2\n", ConfigFormat::kYaml, "two.yaml", WithEnv({}));
              }).what(),
              HasSubstr("2 YAML documents"));
  EXPECT_THAT(ErrorOf([] {
                Config::FromText("- 1\n- 2\n", ConfigFormat::kYaml, "list.yaml", WithEnv({}));
              }).what(),
              HasSubstr("a mapping of types at the top level"));
}

TEST(ConfigErrorTest, UnreadableOrUnsupportedFiles) {
  const Error missing = ErrorOf([] { Config::LoadFile(Fixture("nope.yaml"), WithEnv({})); });
  EXPECT_EQ(missing.code(), ErrorCode::kIo);
  EXPECT_THAT(missing.what(), HasSubstr("nope.yaml: cannot read the config file"));
  TempDir dir;
  std::ofstream(dir.File("config.toml")) << "x = 1\n";
  EXPECT_THAT(ErrorOf([&] { Config::LoadFile(dir.File("config.toml"), WithEnv({})); }).what(),
              HasSubstr("unsupported config file extension '.toml'"));
  // An empty file is an empty config.
  std::ofstream(dir.File("empty.yaml")) << "# nothing yet\n";
  EXPECT_TRUE(Config::LoadFile(dir.File("empty.yaml"), WithEnv({})).Types().empty());
}

// ---- Collecting every problem ----

TEST(ConfigCheckTest, ReportsEveryProblemWithFileAndLine) {
  const std::vector<ConfigProblem> problems =
      CheckConfigFile(Fixture("problems.yaml"), WithEnv({}));
  std::vector<std::string> text;
  for (const ConfigProblem& p : problems) {
    text.push_back(p.ToString());
    EXPECT_THAT(p.where.file, HasSubstr("problems.yaml"));
    EXPECT_GT(p.where.line, 0) << p.ToString();
  }
  EXPECT_THAT(text,
              ::testing::ElementsAre(
                  HasSubstr(":5:15: databases[0].password: required environment variable "
                            "DKDATA_TEST_UNSET_PASSWORD is not set"),
                  HasSubstr(":9:11: databases[2].type: type mismatch"),
                  HasSubstr(":14:11: databases[4].name: duplicate name 'typo' (also databases[1]"),
                  HasSubstr(":13:13: databases[3].schema: reference 'xref:schemas[users]': no "
                            "type 'schemas'"),
                  HasSubstr(":7:14: databases[1].backend: unknown backend 'sqlit' (did you mean "
                            "'sqlite'?)"),
                  HasSubstr(":17:12: databases[5].class: unknown class "
                            "'dataknobs_data.backends.memory.SyncMemoryDB' (did you mean "
                            "'dataknobs_data.backends.memory.SyncMemoryDatabase'?)")));
  EXPECT_TRUE(CheckConfigFile(Fixture("xref.yaml"), WithEnv({})).empty());
}

// ---- Secrets ----

TEST(ConfigRedactionTest, SecretKeysAndUrlUserInfo) {
  EXPECT_TRUE(IsSecretKey("password"));
  EXPECT_TRUE(IsSecretKey("AWS_SECRET_ACCESS_KEY"));
  EXPECT_TRUE(IsSecretKey("api_key"));
  EXPECT_TRUE(IsSecretKey("db_password"));
  EXPECT_FALSE(IsSecretKey("host"));
  EXPECT_FALSE(IsSecretKey("max_tokens"));
  EXPECT_EQ(RedactUrls("use postgresql://u:p%40x@dbh:6000/db now"),
            "use postgresql://***@dbh:6000/db now");
  EXPECT_EQ(RedactUrls("https://host/path?a=b@c"), "https://host/path?a=b@c");
  EXPECT_EQ(RedactUrls("a s3://key@bucket b http://x:y@h"), "a s3://***@bucket b http://***@h");
  const Object redacted = RedactSecrets(Object{{"password", "pw"},
                                               {"nested", List{Object{{"api_key", 12345}}}},
                                               {"none", Object{{"password", nullptr}}}});
  EXPECT_EQ(At(redacted, "password"), Value("***"));
  EXPECT_EQ(Path(redacted, "nested.0.api_key"), Value("***"));
  EXPECT_EQ(Path(redacted, "none.password"), Value());
}

TEST(ConfigRedactionTest, ShowNeverPrintsSecrets) {
  const Config config =
      Config::LoadFile(Fixture("secrets.yaml"), WithEnv({{"DB_PASSWORD", "hunter2pw"},
                                                         {"AWS_SECRET", "awssecretvalue"},
                                                         {"ES_KEY", "eskey123"}}));
  // Data() holds the values in clear, for constructing backends.
  EXPECT_EQ(At(config.Get("databases", "pg"), "password"), Value("hunter2pw"));
  for (ConfigFormat format : {ConfigFormat::kYaml, ConfigFormat::kJson}) {
    const std::string shown = config.Show(format);
    for (const char* secret :
         {"hunter2pw", "awssecretvalue", "eskey123", "miniosecret", "espassword", "admin:"}) {
      EXPECT_THAT(shown, Not(HasSubstr(secret))) << shown;
    }
    EXPECT_THAT(shown, HasSubstr("postgresql://***@db.example.com:5432/app"));
    EXPECT_THAT(shown, HasSubstr("https://***@minio.local:9000"));
  }
}

TEST(ConfigRedactionTest, ErrorMessagesNeverCarrySecrets) {
  // A backend whose error echoes its options, as a careless driver might.
  BackendInfo echo;
  echo.name = "config_test_echo";
  echo.factory = [](const Object& options) -> std::unique_ptr<Database> {
    throw Error(ErrorCode::kUnauthorized, "login refused for " + options.Find("url")->AsString() +
                                              " with password " +
                                              options.Find("password")->AsString());
  };
  BackendRegistry::Register(std::move(echo));
  const Config config =
      Config::FromObject(Object{{"databases", List{Object{{"name", "e"},
                                                          {"backend", "config_test_echo"},
                                                          {"url", "https://bob:bobsecret@h/x"},
                                                          {"password", "${PW}"}}}}},
                         WithEnv({{"PW", "topsecretpw"}}));
  const Error e = ErrorOf([&] { CreateDatabaseFromConfig(config, "e"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthorized);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("databases[0] 'e': login refused for https://***@h/x "
                                        "with password ***"),
                              Not(HasSubstr("topsecretpw")), Not(HasSubstr("bobsecret"))));

  // The loader's own messages redact URL user-info too.
  const Error unknown = ErrorOf([] {
    CreateDatabaseFromConfig(
        Config::FromObject(
            Object{{"databases", List{Object{{"backend", "postgres://u:pw1234@h"}}}}}, WithEnv({})),
        "0");
  });
  EXPECT_THAT(unknown.what(),
              AllOf(HasSubstr("unknown backend 'postgres://***@h'"), Not(HasSubstr("pw1234"))));
}

// ---- Construction ----

TEST(ConfigDatabaseTest, BackendFactoryAndClassEntriesConstructAndWork) {
  TempDir dir;
  const Config config = Config::LoadFile(Fixture("construct.yaml"),
                                         WithEnv({{"DKDATA_TEST_DIR", dir.path().string()}}));
  const std::pair<const char*, const char*> cases[] = {
      {"mem", "memory"},
      {"files", "file"},
      {"lite", "sqlite"},
      {"by_class", "memory"},
      {"by_colon_class", "sqlite"},
      {"by_async_class", "file"},
      {"by_factory", "memory"},
      {"by_factory_path", "file"},
  };
  for (const auto& [name, backend] : cases) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ResolveDatabaseSpec(config, name).backend, backend);
    auto db = CreateDatabaseFromConfig(config, name);
    EXPECT_EQ(db->backend_name(), backend);
    SmokeCrud(*db);
  }
  EXPECT_TRUE(fs::exists(dir.File("store.jsonl")));
  EXPECT_TRUE(fs::exists(dir.File("store.db")));
  EXPECT_TRUE(fs::exists(dir.File("factory.csv")));

  const DatabaseSpec spec = ResolveDatabaseSpec(config, "files");
  EXPECT_EQ(spec.options, (Object{{"path", (dir.path() / "store.jsonl").string()}}));
}

TEST(ConfigDatabaseTest, BadEntriesNameTheProblemAndLeaveNothingBehind) {
  TempDir dir;
  const Config config = Config::LoadFile(Fixture("construct.yaml"),
                                         WithEnv({{"DKDATA_TEST_DIR", dir.path().string()}}));
  auto error = [&](const char* name) {
    return ErrorOf([&] { CreateDatabaseFromConfig(config, name); });
  };

  const Error bad_option = error("bad_option");
  EXPECT_EQ(bad_option.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad_option.what(),
              AllOf(HasSubstr("construct.yaml:29:11: databases[8] 'bad_option': option 'sync' of "
                              "backend 'file' is 'sometimes'")));
  EXPECT_FALSE(fs::exists(dir.path() / "never"));

  EXPECT_THAT(error("factory_without_backend").what(), HasSubstr("'factory' needs a 'backend'"));
  EXPECT_THAT(error("class_and_backend_disagree").what(),
              HasSubstr("'backend' says 'sqlite' but 'class' says 'memory'"));
  const Error not_yet = error("not_yet");
  EXPECT_EQ(not_yet.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(not_yet.what(), HasSubstr("backend 'duckdb' is not implemented in dkdata yet"));
#if DKDATA_HAVE_ELASTICSEARCH
  const Error es = error("elasticsearch");
  EXPECT_EQ(es.code(), ErrorCode::kUnavailable) << es.what();
  EXPECT_THAT(es.what(), HasSubstr("127.0.0.1:1"));
#endif
#if DKDATA_HAVE_POSTGRES
  // Nothing listens on port 1: the backend is built, the server is not there.
  const Error pg = error("postgres");
  EXPECT_EQ(pg.code(), ErrorCode::kUnavailable) << pg.what();
  EXPECT_THAT(pg.what(), HasSubstr("'postgres': database 'postgres' at 127.0.0.1:1"));
#endif
  EXPECT_THAT(error("unknown").what(),
              HasSubstr("unknown backend 'sqlit' (did you mean 'sqlite'?)"));
  EXPECT_THAT(error("unknown_class").what(),
              HasSubstr("(did you mean 'dataknobs_data.backends.postgres.SyncPostgresDatabase'?)"));
  EXPECT_THAT(error("nothing").what(), HasSubstr("a database entry needs 'backend'"));
  EXPECT_EQ(error("no_such_entry").code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs::directory_iterator(dir.path()), fs::directory_iterator());
}

TEST(ConfigDatabaseTest, BackendBuiltWithoutItsDependencyGivesTheRegistryMessage) {
  BackendInfo info;
  info.name = "config_test_needs_dep";
  info.available = false;
  info.unavailable_reason = "apt-get install libconfig-test-dev";
  BackendRegistry::Register(std::move(info));
  const Config config = Config::FromObject(
      Object{{"databases", List{Object{{"name", "x"}, {"backend", "config_test_needs_dep"}}}}},
      WithEnv({}));
  const Error e = ErrorOf([&] { CreateDatabaseFromConfig(config, "x"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(e.what(), HasSubstr("backend 'config_test_needs_dep' is not available in this "
                                  "build: apt-get install libconfig-test-dev"));
}

}  // namespace
}  // namespace dkdata
