// Every backend checks its options the same way (src/backends/option_reader.hpp): an unknown key
// names the key, the backend and the closest valid key; a value of the wrong type names the type
// it needs. `config check` reports every bad option of every entry, each at its key's line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/closest_name.hpp"
#include "dkdata/config.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"

namespace dkdata {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The message CreateDatabase gives for options, or "" when it accepts them.
std::string ErrorFor(std::string_view backend, const Object& options) {
  try {
    CreateDatabase(backend, options)->Close();
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_EQ(e.backend(), backend) << e.what();
    return e.what();
  }
}

bool Available(std::string_view backend) {
  const BackendInfo* info = BackendRegistry::Find(backend);
  return info != nullptr && info->available;
}

#define REQUIRE_BACKEND(name) \
  if (!Available(name)) GTEST_SKIP() << "built without the " name " backend"

TEST(ClosestNameTest, SuggestsOnlyWhatIsClose) {
  const std::vector<std::string> keys = {"path", "format", "compression", "lock_timeout"};
  EXPECT_EQ(internal::ClosestName("pathh", keys), "path");
  EXPECT_EQ(internal::ClosestName("PATH", keys), "path");
  EXPECT_EQ(internal::ClosestName("lock_timout", keys), "lock_timeout");
  EXPECT_EQ(internal::ClosestName("compresion", keys), "compression");
  EXPECT_EQ(internal::ClosestName("zzzzzzzz", keys), "");
  EXPECT_EQ(internal::ClosestName("x", std::vector<std::string>{}), "");
  EXPECT_EQ(internal::DidYouMean("fromat", keys), " (did you mean 'format'?)");
  EXPECT_EQ(internal::DidYouMean("host", keys), "");
}

TEST(BackendOptionsTest, UnknownKeysNameTheBackendAndTheClosestKey) {
  struct Case {
    const char* backend;
    const char* typo;
    const char* meant;
  };
  for (const Case& c :
       {Case{"memory", "vector_metrc", "vector_metric"}, Case{"memory", "nmae", "name"},
        Case{"file", "pathh", "path"}, Case{"file", "lock_timout", "lock_timeout"},
        Case{"sqlite", "tabel", "table"}, Case{"sqlite", "jornal_mode", "journal_mode"}}) {
    if (!Available(c.backend)) continue;
    SCOPED_TRACE(c.backend);
    EXPECT_THAT(ErrorFor(c.backend, Object{{c.typo, 1}}),
                HasSubstr("unknown option '" + std::string(c.typo) + "' for backend '" + c.backend +
                          "' (did you mean '" + c.meant + "'? it takes: "));
  }
  for (const char* backend : {"memory", "file", "sqlite"}) {
    if (!Available(backend)) continue;
    SCOPED_TRACE(backend);
    const std::string far = ErrorFor(backend, Object{{"hostname", "h"}});
    EXPECT_THAT(far, AllOf(HasSubstr("unknown option 'hostname' for backend '" +
                                     std::string(backend) + "' (it takes: "),
                           Not(HasSubstr("did you mean"))));
    // The list is the registry's: what BackendInfo::option_keys publishes.
    for (const std::string& key : BackendRegistry::Find(backend)->option_keys) {
      EXPECT_THAT(far, HasSubstr(key));
    }
  }
}

TEST(BackendOptionsTest, WrongTypesNameTheTypeNeeded) {
  struct Case {
    const char* backend;
    Object options;
    const char* message;
  };
  const Case cases[] = {
      {"memory",
       {{"name", 5}},
       "option 'name' of backend 'memory' must be a string (got an int 5)"},
      {"memory", {{"schema", List{1}}}, "option 'schema' of backend 'memory' must be a map"},
      {"memory",
       {{"vector_enabled", "maybe"}},
       "option 'vector_enabled' of backend 'memory' must be a boolean (true or false) (got a "
       "string 'maybe')"},
      {"file",
       {{"lock_timeout", "soon"}},
       "option 'lock_timeout' of backend 'file' must be a number (got a string 'soon')"},
      {"file", {{"path", List{}}}, "option 'path' of backend 'file' must be a string (got a list)"},
      {"file",
       {{"column_types", "int"}},
       "option 'column_types' of backend 'file' must be a map of column to type"},
      {"sqlite",
       {{"timeout", "soon"}},
       "option 'timeout' of backend 'sqlite' must be a number (got a string 'soon')"},
      {"sqlite",
       {{"table", true}},
       "option 'table' of backend 'sqlite' must be a string (got a bool true)"},
      {"sqlite", {{"check_same_thread", 2}}, "must be a boolean"},
  };
  for (const Case& c : cases) {
    if (!Available(c.backend)) continue;
    EXPECT_THAT(ErrorFor(c.backend, c.options), HasSubstr(c.message));
  }
}

TEST(BackendOptionsTest, TheReferencesSharedKeysAreAccepted) {
  const Object shared{{"schema", Object{{"fields", List{}}}},
                      {"vector_enabled", false},
                      {"vector_metric", "cosine"}};
  for (const char* backend : {"memory", "file", "sqlite"}) {
    if (!Available(backend)) continue;
    SCOPED_TRACE(backend);
    EXPECT_EQ(ErrorFor(backend, shared), "");
    EXPECT_EQ(ErrorFor(backend, Object{{"schema", nullptr}}), "");
  }
}

TEST(BackendOptionsTest, CheckingOptionsCreatesNothing) {
  REQUIRE_BACKEND("file");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "dkdata-backend-options-test";
  std::filesystem::remove_all(dir);
  for (const char* backend : {"file", "sqlite"}) {
    const BackendInfo* info = BackendRegistry::Find(backend);
    if (info == nullptr || !info->available) continue;
    ASSERT_TRUE(info->check_options) << backend;
    info->check_options(Object{{"path", (dir / "sub" / "store.jsonl").string()}});
    EXPECT_THROW(info->check_options(Object{{"pathh", "x"}}), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(BackendOptionsTest, ConfigCheckReportsEveryBadOptionAtItsLine) {
  REQUIRE_BACKEND("file");
  REQUIRE_BACKEND("sqlite");
  const std::string text =
      "databases:\n"                 // 1
      "  - name: files\n"            // 2
      "    backend: file\n"          // 3
      "    pathh: /tmp/x.jsonl\n"    // 4
      "    lock_timeout: soon\n"     // 5
      "  - name: lite\n"             // 6
      "    backend: sqlite\n"        // 7
      "    tabel: people\n"          // 8
      "    password: hunter2pw\n"    // 9
      "  - name: fine\n"             // 10
      "    backend: memory\n"        // 11
      "    vector_enabled: true\n";  // 12
  std::vector<std::string> problems;
  for (const ConfigProblem& p : CheckConfigText(text, ConfigFormat::kYaml, "c.yaml",
                                                ConfigOptions{.environment = Environment{}})) {
    problems.push_back(p.ToString());
  }
  EXPECT_THAT(
      problems,
      ElementsAre(
          HasSubstr("c.yaml:4:12: databases[0].pathh: unknown option 'pathh' for backend 'file' "
                    "(did you mean 'path'?"),
          HasSubstr("c.yaml:5:19: databases[0].lock_timeout: option 'lock_timeout' of backend "
                    "'file' must be a number"),
          HasSubstr("c.yaml:8:12: databases[1].tabel: unknown option 'tabel' for backend "
                    "'sqlite' (did you mean 'table'?"),
          AllOf(HasSubstr("c.yaml:9:15: databases[1].password: unknown option 'password'"),
                Not(HasSubstr("hunter2pw")))));
}

}  // namespace
}  // namespace dkdata
