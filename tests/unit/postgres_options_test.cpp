// The PostgreSQL backend beyond the conformance suite: its options (config keys, connection
// strings, the environment, libpq parameters), table and schema names that need quoting, SQL
// injection through field names, values, table names and query text, and how its errors map.
//
// PostgresOptionsTest needs no server. The other suites run on the tests' server
// (tests/postgres/pg_test_server.hpp), each test in a database of its own, so that the tables it
// finds in pg_tables are exactly the ones it made, even when ctest runs tests in parallel.
#if DKDATA_HAVE_POSTGRES
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/option_reader.hpp"
#include "backends/postgres/pg_database.hpp"
#include "dkdata/dkdata.hpp"
#include "pg_test_server.hpp"
#include "scoped_environment.hpp"

namespace dkdata {
namespace {

using internal::OptionError;
using internal::PostgresOptions;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs fn, which must throw Error(code); returns the error's message ("" when it did not throw).
std::string ErrorMessage(const std::function<void()>& fn, ErrorCode code) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << ErrorCodeName(e.code()) << ": " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error, expected " << ErrorCodeName(code);
  return "";
}

// Parsing the options must fail with an invalid_argument OptionError naming key; returns the
// message.
std::string OptionErrorOf(const Object& options, const std::string& key) {
  try {
    PostgresOptions::FromObject(options);
  } catch (const OptionError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_EQ(e.backend(), "postgres") << e.what();
    EXPECT_TRUE(Contains(e.what(), "'" + key + "'")) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted bad option " << key;
  return "";
}

PostgresOptions FromUrl(const std::string& url) {
  return PostgresOptions::FromObject(Object{{"connection_string", Value(url)}});
}

// The environment variables the backend reads: unset while an instance lives (so that the
// caller's environment does not leak into the test), restored on destruction.
class ScopedEnvironment : public testserver::ScopedEnvironment {
 public:
  ScopedEnvironment()
      : testserver::ScopedEnvironment({"DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT",
                                       "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}) {}
};

// ==== Options (no server) ====

class PostgresOptionsTest : public testing::Test {
 protected:
  ScopedEnvironment env_;
};

TEST_F(PostgresOptionsTest, DefaultsWithoutAnyOptionOrEnvironment) {
  const PostgresOptions o = PostgresOptions::FromObject(Object{});
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, 5432);
  EXPECT_EQ(o.database, "postgres");
  EXPECT_EQ(o.user, "postgres");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.sslmode, std::nullopt);
  EXPECT_EQ(o.command_timeout, 0);
  EXPECT_EQ(o.min_pool_size, 2u);
  EXPECT_EQ(o.max_pool_size, 5u);
  EXPECT_EQ(o.pool_timeout, 30);
  EXPECT_EQ(o.connect_timeout, 10);
  EXPECT_EQ(o.table, "records");
  EXPECT_EQ(o.schema, "public");
  EXPECT_TRUE(o.ensure_database);
  EXPECT_TRUE(o.auto_create_table);
  EXPECT_TRUE(o.gin_index);
}

TEST_F(PostgresOptionsTest, ConnectionStringFieldsAreDecoded) {
  const PostgresOptions o =
      FromUrl("postgres://u%40x:p%3Aw@db.example:6000/my%2Fdb?table=t1&schema=s1&sslmode=require");
  EXPECT_EQ(o.user, "u@x");
  EXPECT_EQ(o.password, "p:w");
  EXPECT_EQ(o.host, "db.example");
  EXPECT_EQ(o.port, 6000);
  EXPECT_EQ(o.database, "my/db");
  EXPECT_EQ(o.table, "t1");
  EXPECT_EQ(o.schema, "s1");
  EXPECT_EQ(o.sslmode, std::optional<std::string>("require"));
}

TEST_F(PostgresOptionsTest, PostgresqlSchemeAndQueryOptions) {
  const PostgresOptions o = FromUrl(
      "postgresql://ann@h.example:5999/shop?table_name=orders&schema_name=sales&min_pool_size=1&"
      "max_pool_size=3&command_timeout=2.5&gin_index=false&auto_create_table=0");
  EXPECT_EQ(o.user, "ann");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.host, "h.example");
  EXPECT_EQ(o.port, 5999);
  EXPECT_EQ(o.database, "shop");
  EXPECT_EQ(o.table, "orders");
  EXPECT_EQ(o.schema, "sales");
  EXPECT_EQ(o.min_pool_size, 1u);
  EXPECT_EQ(o.max_pool_size, 3u);
  EXPECT_EQ(o.command_timeout, 2.5);
  EXPECT_FALSE(o.gin_index);
  EXPECT_FALSE(o.auto_create_table);
}

TEST_F(PostgresOptionsTest, Ipv6HostInBrackets) {
  const PostgresOptions o = FromUrl("postgres://me@[::1]:5433/db");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 5433);
  EXPECT_EQ(o.user, "me");
  EXPECT_EQ(o.database, "db");
  EXPECT_EQ(o.Describe(), "database 'db' at [::1]:5433 as user 'me'");

  const PostgresOptions no_port = FromUrl("postgres://[fe80::1]/db");
  EXPECT_EQ(no_port.host, "fe80::1");
  EXPECT_EQ(no_port.port, 5432);

  OptionErrorOf(Object{{"connection_string", Value("postgres://[::1:5433/db")}},
                "connection_string");
}

TEST_F(PostgresOptionsTest, UrlWithoutPortKeepsTheDefaultPort) {
  const PostgresOptions o = FromUrl("postgres://u:pw@db.example/inventory");
  EXPECT_EQ(o.host, "db.example");
  EXPECT_EQ(o.port, 5432);
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.password, "pw");
  EXPECT_EQ(o.database, "inventory");

  const PostgresOptions host_only = FromUrl("postgres://db.example");
  EXPECT_EQ(host_only.host, "db.example");
  EXPECT_EQ(host_only.port, 5432);
  EXPECT_EQ(host_only.database, "postgres");
  EXPECT_EQ(host_only.user, "postgres");
}

TEST_F(PostgresOptionsTest, OtherSchemesAndBadPortsAreErrorsNamingTheKey) {
  for (const std::string url :
       {"mysql://u@h:3306/d", "http://h/d", "postgres:/h/d", "h:5432/d", "postgresx://h/d"}) {
    SCOPED_TRACE(url);
    const std::string message =
        OptionErrorOf(Object{{"connection_string", Value(url)}}, "connection_string");
    EXPECT_TRUE(Contains(message, "postgres://")) << message;
  }
  for (const std::string url :
       {"postgres://h:0/d", "postgres://h:65536/d", "postgres://h:99999/d", "postgres://h:abc/d",
        "postgres://h:54x2/d", "postgres://h:-1/d", "postgres://h:5432.5/d"}) {
    SCOPED_TRACE(url);
    OptionErrorOf(Object{{"connection_string", Value(url)}}, "connection_string");
  }
  const std::string message = OptionErrorOf(Object{{"port", Value(70000)}}, "port");
  EXPECT_TRUE(Contains(message, "1 to 65535")) << message;
  OptionErrorOf(Object{{"port", Value("fifty")}}, "port");
  OptionErrorOf(Object{{"connection_string", Value(5432)}}, "connection_string");
}

// A URL's port is decimal digits (RFC 3986): 1e3, 0x1538, +5432 or " 5432" are not ports, even
// though they read as numbers.
TEST_F(PostgresOptionsTest, UrlPortIsDigitsOnly) {
  for (const std::string url :
       {"postgres://h:1e3/d", "postgres://h:0x1538/d", "postgres://h:+5432/d",
        "postgres://h: 5432/d", "postgres://h:5432 /d"}) {
    SCOPED_TRACE(url);
    OptionErrorOf(Object{{"connection_string", Value(url)}}, "connection_string");
  }
}

// ---- Where the connection comes from ----

TEST_F(PostgresOptionsTest, ExplicitKeysBeatTheConnectionString) {
  const PostgresOptions all = PostgresOptions::FromObject(
      Object{{"connection_string", Value("postgres://su:sp@sh:1111/sd?sslmode=require")},
             {"host", Value("eh")},
             {"port", Value(2222)},
             {"database", Value("ed")},
             {"user", Value("eu")},
             {"password", Value("ep")},
             {"ssl", Value(false)}});
  EXPECT_EQ(all.host, "eh");
  EXPECT_EQ(all.port, 2222);
  EXPECT_EQ(all.database, "ed");
  EXPECT_EQ(all.user, "eu");
  EXPECT_EQ(all.password, "ep");
  EXPECT_EQ(all.sslmode, std::optional<std::string>("disable"));

  // Field by field: what the explicit keys lack comes from the string.
  const PostgresOptions some = PostgresOptions::FromObject(
      Object{{"host", Value("eh")},
             {"connection_string", Value("postgres://su:sp@sh:1111/sd")},
             {"user", Value("eu")}});
  EXPECT_EQ(some.host, "eh");
  EXPECT_EQ(some.port, 1111);
  EXPECT_EQ(some.database, "sd");
  EXPECT_EQ(some.user, "eu");
  EXPECT_EQ(some.password, "sp");

  // An explicit key also beats the same key in the string's query.
  const PostgresOptions query = PostgresOptions::FromObject(
      Object{{"connection_string", Value("postgres://sh/sd?table=from_url&command_timeout=9")},
             {"table", Value("explicit")}});
  EXPECT_EQ(query.table, "explicit");
  EXPECT_EQ(query.command_timeout, 9);
}

TEST_F(PostgresOptionsTest, DatabaseUrlOnlyWithoutConnectionStringOrConnectionKeys) {
  env_.Set("DATABASE_URL", "postgres://du:dp@dh:3333/dd?sslmode=verify-ca");
  // Neither: DATABASE_URL gives every field (other keys, such as table, do not count).
  const PostgresOptions used =
      PostgresOptions::FromObject(Object{{"table", Value("t")}, {"min_pool_size", Value(1)}});
  EXPECT_EQ(used.host, "dh");
  EXPECT_EQ(used.port, 3333);
  EXPECT_EQ(used.database, "dd");
  EXPECT_EQ(used.user, "du");
  EXPECT_EQ(used.password, "dp");
  EXPECT_EQ(used.sslmode, std::optional<std::string>("verify-ca"));
  EXPECT_EQ(used.table, "t");

  // A connection string: DATABASE_URL is ignored, even for the fields the string lacks.
  const PostgresOptions with_string =
      PostgresOptions::FromObject(Object{{"connection_string", Value("postgres://sh")}});
  EXPECT_EQ(with_string.host, "sh");
  EXPECT_EQ(with_string.port, 5432);
  EXPECT_EQ(with_string.database, "postgres");
  EXPECT_EQ(with_string.user, "postgres");
  EXPECT_EQ(with_string.password, "");
  EXPECT_EQ(with_string.sslmode, std::nullopt);

  // Any one explicit connection key: DATABASE_URL is ignored.
  const Object one_key[] = {Object{{"host", Value("eh")}}, Object{{"port", Value(7000)}},
                            Object{{"database", Value("ed")}}, Object{{"user", Value("eu")}},
                            Object{{"password", Value("ep")}}};
  for (const Object& options : one_key) {
    const PostgresOptions o = PostgresOptions::FromObject(options);
    SCOPED_TRACE(o.Describe());
    EXPECT_NE(o.host, "dh");
    EXPECT_NE(o.port, 3333);
    EXPECT_NE(o.database, "dd");
    EXPECT_NE(o.user, "du");
    EXPECT_NE(o.password, "dp");
  }
  const PostgresOptions port_only = PostgresOptions::FromObject(Object{{"port", Value(7000)}});
  EXPECT_EQ(port_only.host, "localhost");
  EXPECT_EQ(port_only.port, 7000);
  EXPECT_EQ(port_only.user, "postgres");

  env_.Set("DATABASE_URL", "mysql://x@y/z");
  OptionErrorOf(Object{}, "DATABASE_URL");
}

TEST_F(PostgresOptionsTest, EnvironmentFillsWhatIsStillUnset) {
  env_.Set("POSTGRES_HOST", "envh");
  env_.Set("POSTGRES_PORT", "4444");
  env_.Set("POSTGRES_DB", "envdb");
  env_.Set("POSTGRES_USER", "envu");
  env_.Set("POSTGRES_PASSWORD", "envpw");

  const PostgresOptions only_env = PostgresOptions::FromObject(Object{});
  EXPECT_EQ(only_env.host, "envh");
  EXPECT_EQ(only_env.port, 4444);
  EXPECT_EQ(only_env.database, "envdb");
  EXPECT_EQ(only_env.user, "envu");
  EXPECT_EQ(only_env.password, "envpw");

  const PostgresOptions explicit_host =
      PostgresOptions::FromObject(Object{{"host", Value("eh")}, {"database", Value("ed")}});
  EXPECT_EQ(explicit_host.host, "eh");
  EXPECT_EQ(explicit_host.port, 4444);
  EXPECT_EQ(explicit_host.database, "ed");
  EXPECT_EQ(explicit_host.user, "envu");
  EXPECT_EQ(explicit_host.password, "envpw");

  const PostgresOptions string_user =
      PostgresOptions::FromObject(Object{{"connection_string", Value("postgres://su@sh/sd")}});
  EXPECT_EQ(string_user.host, "sh");
  EXPECT_EQ(string_user.port, 4444);
  EXPECT_EQ(string_user.database, "sd");
  EXPECT_EQ(string_user.user, "su");
  EXPECT_EQ(string_user.password, "envpw");

  // DATABASE_URL, when it is used, comes before POSTGRES_*.
  env_.Set("DATABASE_URL", "postgres://dh/dd");
  const PostgresOptions database_url = PostgresOptions::FromObject(Object{});
  EXPECT_EQ(database_url.host, "dh");
  EXPECT_EQ(database_url.database, "dd");
  EXPECT_EQ(database_url.port, 4444);
  EXPECT_EQ(database_url.user, "envu");
  EXPECT_EQ(database_url.password, "envpw");

  env_.Set("POSTGRES_PORT", "not-a-port");
  OptionErrorOf(Object{{"host", Value("eh")}}, "POSTGRES_PORT");
}

// ---- ssl ----

TEST_F(PostgresOptionsTest, SslBooleansAndModes) {
  auto ssl = [](Value value) {
    return PostgresOptions::FromObject(Object{{"ssl", std::move(value)}}).sslmode;
  };
  EXPECT_EQ(ssl(true), std::optional<std::string>("require"));
  EXPECT_EQ(ssl(false), std::optional<std::string>("disable"));
  EXPECT_EQ(ssl("true"), std::optional<std::string>("require"));
  EXPECT_EQ(ssl("false"), std::optional<std::string>("disable"));
  for (const char* mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
    EXPECT_EQ(ssl(mode), std::optional<std::string>(mode));
  }
  EXPECT_EQ(ssl(nullptr), std::nullopt);

  const std::string message = OptionErrorOf(Object{{"ssl", Value("bogus")}}, "ssl");
  EXPECT_TRUE(Contains(message, "'bogus'")) << message;
  EXPECT_TRUE(Contains(message, "disable, allow, prefer, require, verify-ca, verify-full"))
      << message;
  OptionErrorOf(Object{{"connection_string", Value("postgres://h/d?sslmode=bogus")}},
                "connection_string");
}

// ---- Table and schema ----

TEST_F(PostgresOptionsTest, TableAndSchemaAliases) {
  auto from = [](const Object& options) { return PostgresOptions::FromObject(options); };
  EXPECT_EQ(from(Object{{"table", Value("a")}, {"table_name", Value("b")}}).table, "a");
  EXPECT_EQ(from(Object{{"table_name", Value("b")}, {"table", Value("a")}}).table, "a");
  EXPECT_EQ(from(Object{{"table_name", Value("b")}}).table, "b");

  EXPECT_EQ(from(Object{{"schema", Value("s")}, {"schema_name", Value("n")}}).schema, "s");
  EXPECT_EQ(from(Object{{"schema_name", Value("n")}, {"schema", Value("s")}}).schema, "s");
  EXPECT_EQ(from(Object{{"schema_name", Value("n")}}).schema, "n");
  // A map schema is the reference's structural schema: accepted, it names no schema.
  const Object structural{{"fields", Value(List{Value(Object{{"name", Value("age")}})})}};
  EXPECT_EQ(from(Object{{"schema", Value(structural)}, {"schema_name", Value("n")}}).schema, "n");
  EXPECT_EQ(from(Object{{"schema", Value(structural)}}).schema, "public");
  EXPECT_EQ(from(Object{{"schema", Value(nullptr)}}).schema, "public");
  OptionErrorOf(Object{{"schema", Value(5)}}, "schema");
  OptionErrorOf(Object{{"schema", Value(List{Value("a")})}}, "schema");
}

TEST_F(PostgresOptionsTest, IdentifiersHoldAtMost63Bytes) {
  const std::string ok(63, 'x');
  EXPECT_EQ(PostgresOptions::FromObject(Object{{"table", Value(ok)}}).table, ok);
  for (const char* key : {"table", "table_name", "schema_name", "schema"}) {
    SCOPED_TRACE(key);
    const std::string message = OptionErrorOf(Object{{key, Value(std::string(64, 'x'))}}, key);
    EXPECT_TRUE(Contains(message, "63")) << message;
    EXPECT_TRUE(Contains(message, "64 bytes")) << message;
  }
  // Bytes, not characters: 32 two-byte characters are 64 bytes.
  std::string accents;
  for (int i = 0; i < 32; ++i) accents += "\xc3\xa9";  // é
  const std::string message = OptionErrorOf(Object{{"table", Value(accents)}}, "table");
  EXPECT_TRUE(Contains(message, "63")) << message;

  OptionErrorOf(Object{{"table", Value("")}}, "table");
  OptionErrorOf(Object{{"table_name", Value("")}}, "table_name");
  OptionErrorOf(Object{{"schema_name", Value("")}}, "schema_name");
  OptionErrorOf(Object{{"table", Value(std::string("a\0b", 3))}}, "table");
  OptionErrorOf(Object{{"table", Value(3)}}, "table");
}

TEST_F(PostgresOptionsTest, PoolSizesAndTimeouts) {
  const std::string message = OptionErrorOf(
      Object{{"min_pool_size", Value(6)}, {"max_pool_size", Value(5)}}, "min_pool_size");
  EXPECT_TRUE(Contains(message, "max_pool_size")) << message;
  OptionErrorOf(Object{{"min_pool_size", Value(6)}}, "min_pool_size");  // default max: 5
  const PostgresOptions equal = PostgresOptions::FromObject(
      Object{{"min_pool_size", Value(3)}, {"max_pool_size", Value("3")}});
  EXPECT_EQ(equal.min_pool_size, 3u);
  EXPECT_EQ(equal.max_pool_size, 3u);
  OptionErrorOf(Object{{"max_pool_size", Value(0)}}, "max_pool_size");
  OptionErrorOf(Object{{"max_pool_size", Value(2.5)}}, "max_pool_size");
  OptionErrorOf(Object{{"command_timeout", Value(-1)}}, "command_timeout");
  OptionErrorOf(Object{{"pool_timeout", Value("soon")}}, "pool_timeout");
  OptionErrorOf(Object{{"connect_timeout", Value(std::numeric_limits<double>::infinity())}},
                "connect_timeout");
  OptionErrorOf(Object{{"gin_index", Value("maybe")}}, "gin_index");
}

TEST_F(PostgresOptionsTest, UnknownKeysSuggestTheClosestKey) {
  const std::string message = OptionErrorOf(Object{{"tabel", Value("t")}}, "tabel");
  EXPECT_TRUE(Contains(message, "unknown option 'tabel' for backend 'postgres'")) << message;
  EXPECT_TRUE(Contains(message, "did you mean 'table'?")) << message;
  // Also in a URL's query.
  const std::string in_url =
      OptionErrorOf(Object{{"connection_string", Value("postgres://h/d?tabel=t")}}, "tabel");
  EXPECT_TRUE(Contains(in_url, "did you mean 'table'?")) << in_url;
  // The reference's shared keys are accepted.
  EXPECT_NO_THROW(PostgresOptions::FromObject(
      Object{{"vector_enabled", Value(true)}, {"vector_metric", Value("cosine")}}));
}

// ---- libpq parameters and messages ----

std::map<std::string, std::string> InfoMap(const internal::ConnInfo& info) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : info) {
    EXPECT_TRUE(out.emplace(key, value).second) << "parameter " << key << " twice";
  }
  return out;
}

TEST_F(PostgresOptionsTest, LibpqParameters) {
  const std::string password = "s3cr3t pw'\\";
  const PostgresOptions o = PostgresOptions::FromObject(Object{{"host", Value("db.example")},
                                                               {"port", Value(6543)},
                                                               {"database", Value("shop")},
                                                               {"user", Value("ann")},
                                                               {"password", Value(password)},
                                                               {"command_timeout", Value(1.5)},
                                                               {"ssl", Value("verify-full")}});
  const internal::ConnInfo info = o.Info();
  const auto params = InfoMap(info);
  EXPECT_EQ(params.at("dbname"), "shop");
  EXPECT_EQ(params.at("host"), "db.example");
  EXPECT_EQ(params.at("port"), "6543");
  EXPECT_EQ(params.at("user"), "ann");
  EXPECT_EQ(params.at("application_name"), "dkdata");
  EXPECT_EQ(params.at("options"), "-c statement_timeout=1500");
  EXPECT_EQ(params.at("password"), password);
  EXPECT_EQ(params.at("sslmode"), "verify-full");
  EXPECT_EQ(params.at("connect_timeout"), "10");
  for (const auto& [key, value] : info) {
    if (key != "password") {
      EXPECT_FALSE(Contains(value, "s3cr3t")) << key << " = " << value;
    }
  }
  EXPECT_EQ(InfoMap(o.Info("postgres")).at("dbname"), "postgres");

  const std::string described = o.Describe();
  EXPECT_EQ(described, "database 'shop' at db.example:6543 as user 'ann'");
  EXPECT_FALSE(Contains(described, "s3cr3t"));

  // Without a password, a command timeout or ssl: no such parameter.
  const auto plain =
      InfoMap(PostgresOptions::FromObject(Object{{"connect_timeout", Value(1)}}).Info());
  EXPECT_EQ(plain.count("password"), 0u);
  EXPECT_EQ(plain.count("options"), 0u);
  EXPECT_EQ(plain.count("sslmode"), 0u);
  EXPECT_EQ(plain.at("connect_timeout"), "2");  // libpq treats 1 as 2
}

TEST_F(PostgresOptionsTest, PasswordFromUrlNeverInMessages) {
  const PostgresOptions o = FromUrl("postgres://ann:sekret@db.example:6000/shop");
  EXPECT_EQ(o.password, "sekret");
  EXPECT_FALSE(Contains(o.Describe(), "sekret")) << o.Describe();
}

TEST_F(PostgresOptionsTest, RegisteredUnderItsAliasesAndSchemes) {
  const BackendInfo* info = BackendRegistry::Find("postgres");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->available);
  EXPECT_EQ(BackendRegistry::Find("pg"), info);
  EXPECT_EQ(BackendRegistry::Find("postgresql"), info);
  EXPECT_EQ(BackendRegistry::FindByScheme("postgres"), info);
  EXPECT_EQ(BackendRegistry::FindByScheme("postgresql"), info);
  const Object options = info->url_parser("postgresql", "//u:p@h:7/d?table=t");
  const PostgresOptions o = PostgresOptions::FromObject(options);
  EXPECT_EQ(o.host, "h");
  EXPECT_EQ(o.port, 7);
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.password, "p");
  EXPECT_EQ(o.database, "d");
  EXPECT_EQ(o.table, "t");
  EXPECT_NO_THROW(info->check_options(options));
  EXPECT_THROW(info->check_options(Object{{"tabel", Value("t")}}), Error);
}

TEST_F(PostgresOptionsTest, UnreachableServerIsUnavailableWithoutThePassword) {
  try {
    OpenDatabase("postgres://postgres:sekret@127.0.0.1:1/x?connect_timeout=2");
    ADD_FAILURE() << "connected to port 1";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << message;
    EXPECT_EQ(e.backend(), "postgres");
    EXPECT_TRUE(Contains(message, "127.0.0.1:1")) << message;
    EXPECT_TRUE(Contains(message, "database 'x'")) << message;
    EXPECT_FALSE(Contains(message, "sekret")) << message;
  }
}

// ==== On the server ====

std::string QuoteId(PGconn* conn, const std::string& name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  std::string out = quoted != nullptr ? quoted : "";
  PQfreemem(quoted);
  return out;
}

std::vector<std::string> Ids(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& r : records) ids.push_back(r.id().value_or("?"));
  return ids;
}

Record WithId(const std::string& id, std::initializer_list<std::pair<std::string, Value>> fields) {
  Record r(fields);
  r.set_id(id);
  return r;
}

// Each test gets a database of its own on the tests' server (dropped at its end), and a raw
// libpq connection to it, to check what the backend did as another program sees it.
class PostgresServerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_url_ = pgtest::ServerUrl(&why);
    if (server_url_.empty()) {
      const std::string reason = pgtest::UnavailableReason();
      if (!reason.empty()) GTEST_SKIP() << reason;
      FAIL() << "no PostgreSQL server (CI=true): " << why;
    }
    static int counter = 0;
    database_ = "dkdata_unit_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_ = Connect("postgres");
    ASSERT_NE(admin_, nullptr);
    ASSERT_TRUE(Run(admin_, "DROP DATABASE IF EXISTS " + QuoteId(admin_, database_)));
    ASSERT_TRUE(Run(admin_, "CREATE DATABASE " + QuoteId(admin_, database_)));
    conn_ = Connect(database_);
    ASSERT_NE(conn_, nullptr);
    tables_before_ = Tables();
  }

  void TearDown() override {
    if (conn_ != nullptr) PQfinish(conn_);
    if (admin_ != nullptr) {
      Run(admin_, "DROP DATABASE IF EXISTS " + QuoteId(admin_, database_) + " WITH (FORCE)");
      PQfinish(admin_);
    }
  }

  PGconn* Connect(const std::string& database) {
    // The server's URL, then the database over it: with expand_dbname, only the first dbname is
    // read as a connection string.
    const char* keys[] = {"dbname", "dbname", nullptr};
    const char* values[] = {server_url_.c_str(), database.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, 1);
    if (PQstatus(c) != CONNECTION_OK) {
      ADD_FAILURE() << "cannot connect to " << database << ": " << PQerrorMessage(c);
      PQfinish(c);
      return nullptr;
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    return c;
  }

  // Runs SQL (parameters as text); returns whether it succeeded.
  bool Run(PGconn* c, const std::string& sql, const std::vector<std::string>& params = {}) {
    return RawQuery(c, sql, params).has_value();
  }
  // The rows of a query, each column as text ("NULL" for NULL); nullopt (and a failure) on error.
  std::optional<std::vector<std::vector<std::string>>> RawQuery(
      PGconn* c, const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << PQresultErrorMessage(r) << " in " << sql;
      PQclear(r);
      return std::nullopt;
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      auto& row = rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) {
        row.push_back(PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
      }
    }
    PQclear(r);
    return rows;
  }
  // The first column of a query's rows on the test's database.
  std::vector<std::string> Column(const std::string& sql,
                                  const std::vector<std::string>& params = {}) {
    std::vector<std::string> out;
    if (auto rows = RawQuery(conn_, sql, params)) {
      for (const auto& row : *rows) out.push_back(row.empty() ? "" : row[0]);
    }
    return out;
  }

  // Every table of the test's database outside the system schemas, as "schema|table".
  std::vector<std::string> Tables() {
    return Column(
        "SELECT schemaname || '|' || tablename FROM pg_tables WHERE schemaname NOT IN "
        "('pg_catalog', 'information_schema') ORDER BY (schemaname || '|' || tablename) "
        "COLLATE \"C\"");
  }
  // The tables made since SetUp.
  std::vector<std::string> NewTables() {
    std::vector<std::string> out;
    for (const std::string& t : Tables()) {
      if (std::find(tables_before_.begin(), tables_before_.end(), t) == tables_before_.end()) {
        out.push_back(t);
      }
    }
    return out;
  }
  std::string Qualified(const std::string& schema, const std::string& table) {
    return QuoteId(conn_, schema) + "." + QuoteId(conn_, table);
  }
  void DropTable(const std::string& schema, const std::string& table) {
    EXPECT_TRUE(Run(conn_, "DROP TABLE IF EXISTS " + Qualified(schema, table)));
  }
  void DropSchema(const std::string& schema) {
    EXPECT_TRUE(Run(conn_, "DROP SCHEMA IF EXISTS " + QuoteId(conn_, schema) + " CASCADE"));
  }

  std::unique_ptr<Database> Open(Object options) {
    options.Set("connection_string", Value(server_url_));
    options.Set("database", Value(database_));
    if (!options.Find("min_pool_size")) options.Set("min_pool_size", Value(1));
    return CreateDatabase("postgres", options);
  }
  std::unique_ptr<Database> OpenTable(const std::string& table) {
    return Open(Object{{"table", Value(table)}});
  }

  std::string server_url_;
  std::string database_;
  PGconn* admin_ = nullptr;  // on the server's postgres database
  PGconn* conn_ = nullptr;   // on the test's database
  std::vector<std::string> tables_before_;
};

// ==== Quoting of table and schema names ====

class PostgresQuotingTest : public PostgresServerTest {
 protected:
  // Everything a store does with its table, through the backend; then, raw, that its rows are
  // in exactly `schema`.`table`.
  void Exercise(const std::string& schema, const std::string& table, Database& db) {
    db.Create(WithId("r1", {{"n", 1}, {"name", "x'y"}}));
    db.Create(WithId("r2", {{"n", 2}, {"name", "b\"c"}}));
    db.Create(WithId("r3", {{"n", 3}, {"name", "c"}}));
    const auto r1 = db.Read("r1");
    ASSERT_TRUE(r1.has_value());
    EXPECT_EQ(*r1->Get("name"), Value("x'y"));
    EXPECT_EQ(r1->version(), 1u);

    const Query query = Query(Where("n", Op::kGt, 1)).Sort("n", SortOrder::kDesc);
    EXPECT_EQ(Ids(db.Search(query)), (std::vector<std::string>{"r3", "r2"}));
    EXPECT_EQ(Ids(db.Search(Query(Where("name", Op::kLike, "%'%")))),
              std::vector<std::string>{"r1"});
    EXPECT_EQ(db.Count(Where("n", Op::kGte, 2)), 2u);
    EXPECT_EQ(db.Count(), 3u);
    EXPECT_TRUE(db.Update("r2", Record{{"n", 20}, {"name", "b\"c"}}));
    EXPECT_EQ(Ids(db.Search(query)), (std::vector<std::string>{"r2", "r3"}));

    db.CreateIndex({"n", IndexKind::kOrdered});
    db.CreateIndex({"name", IndexKind::kHash});
    const std::vector<IndexInfo> indexes = db.ListIndexes();
    ASSERT_EQ(indexes.size(), 2u);
    std::map<std::string, IndexKind> kinds;
    for (const IndexInfo& i : indexes) kinds[i.field] = i.kind;
    EXPECT_EQ(kinds, (std::map<std::string, IndexKind>{{"n", IndexKind::kOrdered},
                                                       {"name", IndexKind::kHash}}));
    EXPECT_EQ(Ids(db.Search(query)), (std::vector<std::string>{"r2", "r3"}));
    // The indexes are on this table (raw).
    EXPECT_EQ(Column("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 "
                     "AND indexname LIKE 'dkdata\\_%' AND indexdef LIKE '%(data -%'",
                     {schema, table}),
              std::vector<std::string>{"3"})
        << "n: value and text; name: value";
    EXPECT_TRUE(db.DropIndex("n"));
    EXPECT_FALSE(db.DropIndex("n"));
    ASSERT_EQ(db.ListIndexes().size(), 1u);
    EXPECT_EQ(db.ListIndexes()[0].field, "name");
    EXPECT_TRUE(db.DropIndex("name"));
    EXPECT_TRUE(db.ListIndexes().empty());

    // Raw: the rows are in exactly that table, and it is the only new one.
    EXPECT_EQ(NewTables(), std::vector<std::string>{schema + "|" + table});
    EXPECT_EQ(Column("SELECT id FROM " + Qualified(schema, table) + " ORDER BY id"),
              (std::vector<std::string>{"r1", "r2", "r3"}));
    EXPECT_EQ(Column("SELECT data->>'name' FROM " + Qualified(schema, table) + " WHERE id = 'r1'"),
              std::vector<std::string>{"x'y"});

    EXPECT_EQ(db.Clear(), 3u);
    EXPECT_EQ(db.Count(), 0u);
    EXPECT_EQ(Column("SELECT count(*) FROM " + Qualified(schema, table)),
              std::vector<std::string>{"0"});
  }
};

TEST_F(PostgresQuotingTest, OddTableNames) {
  for (const std::string table : {"we\"ird name", "Ünïcödé täble", "a.b", "semi;colon--"}) {
    SCOPED_TRACE(table);
    {
      auto db = OpenTable(table);
      Exercise("public", table, *db);
      db->Close();
    }
    DropTable("public", table);
    EXPECT_TRUE(NewTables().empty());
  }
}

TEST_F(PostgresQuotingTest, OddSchemaName) {
  const std::string schema = "my \"schema\"";
  const std::string table = "we\"ird name";
  {
    auto db = Open(Object{{"schema_name", Value(schema)}, {"table", Value(table)}});
    Exercise(schema, table, *db);
    db->Close();
  }
  EXPECT_EQ(Column("SELECT count(*) FROM pg_namespace WHERE nspname = $1", {schema}),
            std::vector<std::string>{"1"});
  EXPECT_TRUE(Column("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").empty());
  DropSchema(schema);
  EXPECT_TRUE(NewTables().empty());
}

TEST_F(PostgresQuotingTest, TableNamedLikeASchemaQualifiedNameIsItsOwnStore) {
  {
    auto dotted = OpenTable("a.b");
    auto qualified = Open(Object{{"schema_name", Value("a")}, {"table", Value("b")}});
    dotted->Create(WithId("in-dotted", {{"n", 1}}));
    qualified->Create(WithId("in-qualified", {{"n", 2}}));
    EXPECT_EQ(Ids(dotted->All()), std::vector<std::string>{"in-dotted"});
    EXPECT_EQ(Ids(qualified->All()), std::vector<std::string>{"in-qualified"});
    EXPECT_EQ(NewTables(), (std::vector<std::string>{"a|b", "public|a.b"}));
  }
  DropTable("public", "a.b");
  DropSchema("a");
  EXPECT_TRUE(NewTables().empty());
}

TEST_F(PostgresQuotingTest, OddDatabaseNameIsCreatedByEnsureDatabase) {
  const std::string database = "dkdata \"odd\" db;" + std::to_string(::getpid());
  ASSERT_TRUE(Run(admin_, "DROP DATABASE IF EXISTS " + QuoteId(admin_, database)));
  {
    auto db = CreateDatabase("postgres", Object{{"connection_string", Value(server_url_)},
                                                {"database", Value(database)},
                                                {"table", Value("t")},
                                                {"min_pool_size", Value(1)}});
    db->Create(WithId("a", {{"n", 1}}));
    EXPECT_EQ(db->Count(), 1u);
    db->Close();
  }
  EXPECT_EQ(
      RawQuery(admin_, "SELECT count(*) FROM pg_database WHERE datname = $1", {database}).value(),
      (std::vector<std::vector<std::string>>{{"1"}}));
  EXPECT_TRUE(Run(admin_, "DROP DATABASE " + QuoteId(admin_, database) + " WITH (FORCE)"));
}

TEST_F(PostgresQuotingTest, LongestTableNamesKeepTheirGinIndexes) {
  // 63 bytes, the most PostgreSQL holds; two such tables differ only at their end.
  const std::string first = std::string(62, 'l') + "1";
  const std::string second = std::string(62, 'l') + "2";
  {
    auto a = OpenTable(first);
    auto b = OpenTable(second);
    a->Create(WithId("x", {{"n", 1}}));
    b->Create(WithId("y", {{"n", 1}}));
    EXPECT_EQ(Ids(a->Search(Query(Where("n", Op::kEq, 1)))), std::vector<std::string>{"x"});
    EXPECT_EQ(Ids(b->Search(Query(Where("n", Op::kEq, 1)))), std::vector<std::string>{"y"});
  }
  // Each table has the reference's two GIN indexes, one on data and one on metadata.
  for (const std::string& table : {first, second}) {
    SCOPED_TRACE(table);
    EXPECT_EQ(Column("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = "
                     "$1 AND indexdef LIKE '%USING gin (data)'",
                     {table}),
              std::vector<std::string>{"1"});
    EXPECT_EQ(Column("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = "
                     "$1 AND indexdef LIKE '%USING gin (metadata)'",
                     {table}),
              std::vector<std::string>{"1"});
  }
  DropTable("public", first);
  DropTable("public", second);
}

// ==== SQL injection ====

const std::string kDropVictim = "'; DROP TABLE victim; --";

class PostgresInjectionTest : public PostgresServerTest {
 protected:
  void SetUp() override {
    PostgresServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(Run(conn_, "CREATE TABLE public.victim (id int)"));
    ASSERT_TRUE(Run(conn_, "INSERT INTO public.victim VALUES (1)"));
    tables_before_ = Tables();
  }
  void TearDown() override {
    if (conn_ != nullptr) {
      EXPECT_EQ(Column("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = "
                       "'victim'"),
                std::vector<std::string>{"1"})
          << "victim was dropped";
      EXPECT_EQ(Column("SELECT id FROM public.victim"), std::vector<std::string>{"1"});
    }
    PostgresServerTest::TearDown();
  }
};

// Field names holding quotes, backslashes, dots and SQL.
const std::string kF1 = "x'); DROP TABLE victim; --";
const std::string kF2 = "a\"b";
const std::string kF3 = "it's";
const std::string kF4 = "back\\slash";
const std::string kF5 = "dotted.with'quote";

TEST_F(PostgresInjectionTest, FieldNames) {
  auto db = OpenTable("fields");
  Record r1 =
      WithId("r1", {{kF1, 1}, {kF2, "p'q"}, {kF3, "it's here"}, {kF4, "c:\\dir"}, {kF5, 10}});
  db->Create(r1);
  db->Create(WithId("r2", {{kF1, 2}, {kF2, "zz"}, {kF3, "nope"}, {kF5, 20}}));
  db->Create(WithId("r3", {{kF1, 3}, {kF4, "other"}}));
  // kF5 as a walk: field "dotted", key "with'quote".
  db->Create(WithId("r4", {{"dotted", Object{{"with'quote", 30}}}}));

  const auto read = db->Read("r1");
  ASSERT_TRUE(read.has_value());
  r1.set_version(1);
  EXPECT_TRUE(*read == r1) << RecordToJson(*read);

  auto check = [&](const std::string& field, int kind) {
    SCOPED_TRACE("field " + field + (kind == 0 ? "" : " (indexed)"));
    const std::vector<std::pair<Expr, std::vector<std::string>>> cases = {
        {Where(kF1, Op::kEq, 2), {"r2"}},
        {Where(kF1, Op::kGt, 1), {"r2", "r3"}},
        {Where(kF1, Op::kIn, List{1, 3, "3"}), {"r1", "r3"}},
        {Where(kF1, Op::kExists), {"r1", "r2", "r3"}},
        {Where(kF1, Op::kNotExists), {"r4"}},
        {Where(kF2, Op::kEq, "p'q"), {"r1"}},
        {Where(kF2, Op::kIn, List{"p'q", "zz", "none"}), {"r1", "r2"}},
        {Where(kF2, Op::kGt, "p"), {"r1", "r2"}},
        {Where(kF2, Op::kNeq, "zz"), {"r1"}},
        {Where(kF3, Op::kLike, "it's%"), {"r1"}},
        {Where(kF3, Op::kILike, "IT'S HERE"), {"r1"}},
        {Where(kF3, Op::kStartsWith, "no"), {"r2"}},
        {Where(kF4, Op::kEq, "c:\\dir"), {"r1"}},
        {Where(kF4, Op::kLike, "c:\\\\d%"), {"r1"}},
        {Where(kF4, Op::kExists), {"r1", "r3"}},
        {Where(kF5, Op::kGte, 10), {"r1", "r2", "r4"}},
        {Where(kF5, Op::kEq, 30), {"r4"}},
        {Where(kF5, Op::kExists), {"r1", "r2", "r4"}},
        {Where(kF1, Op::kLt, 3) && Where(kF2, Op::kExists), {"r1", "r2"}},
        {Where(kF3, Op::kEq, "nope") || Where(kF4, Op::kEq, "other"), {"r2", "r3"}},
    };
    for (const auto& [expr, ids] : cases) {
      SCOPED_TRACE(expr.ToString());
      EXPECT_EQ(Ids(db->Search(Query(expr))), ids);
      EXPECT_EQ(db->Count(expr), ids.size());
    }
    // Sorts.
    EXPECT_EQ(Ids(db->Search(Query().Sort(kF1, SortOrder::kDesc))),
              (std::vector<std::string>{"r3", "r2", "r1", "r4"}));
    EXPECT_EQ(Ids(db->Search(Query().Sort(kF2))),
              (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
    EXPECT_EQ(Ids(db->Search(Query().Sort(kF5, SortOrder::kDesc))),
              (std::vector<std::string>{"r4", "r2", "r1", "r3"}));
    EXPECT_EQ(Ids(db->Search(Query(Where(kF1, Op::kExists)).Sort(kF4).Sort(kF1, SortOrder::kDesc))),
              (std::vector<std::string>{"r1", "r3", "r2"}));
    // Projections.
    const auto projected = db->Search(Query(Where(kF1, Op::kEq, 1)).Select({kF2, kF4}));
    ASSERT_EQ(projected.size(), 1u);
    EXPECT_EQ(projected[0].id(), std::optional<std::string>("r1"));
    ASSERT_EQ(projected[0].size(), 2u) << RecordToJson(projected[0]);
    EXPECT_EQ(projected[0].fields()[0].name, kF2);
    EXPECT_EQ(projected[0].fields()[0].value, Value("p'q"));
    EXPECT_EQ(projected[0].fields()[1].name, kF4);
    EXPECT_EQ(projected[0].fields()[1].value, Value("c:\\dir"));
    const auto walked = db->Search(Query(Where(kF5, Op::kGte, 20)).Select({kF5, kF1}));
    ASSERT_EQ(walked.size(), 2u);
    EXPECT_EQ(walked[0].id(), std::optional<std::string>("r2"));
    ASSERT_EQ(walked[0].size(), 2u) << RecordToJson(walked[0]);
    EXPECT_EQ(*walked[0].Get(kF5), Value(20));
    EXPECT_EQ(*walked[0].Get(kF1), Value(2));
    EXPECT_EQ(walked[1].id(), std::optional<std::string>("r4"));
    ASSERT_EQ(walked[1].size(), 1u) << RecordToJson(walked[1]);
    EXPECT_EQ(*walked[1].Get(kF5), Value(30));
  };
  check("none", 0);

  for (const std::string& field : {kF1, kF2, kF3, kF4, kF5}) {
    db->CreateIndex({field, field == kF2 || field == kF5 ? IndexKind::kOrdered : IndexKind::kHash});
  }
  std::map<std::string, IndexKind> kinds;
  for (const IndexInfo& i : db->ListIndexes()) kinds[i.field] = i.kind;
  EXPECT_EQ(kinds, (std::map<std::string, IndexKind>{{kF1, IndexKind::kHash},
                                                     {kF2, IndexKind::kOrdered},
                                                     {kF3, IndexKind::kHash},
                                                     {kF4, IndexKind::kHash},
                                                     {kF5, IndexKind::kOrdered}}));
  check("all", 1);
  for (const std::string& field : {kF1, kF2, kF3, kF4, kF5}) EXPECT_TRUE(db->DropIndex(field));
  EXPECT_TRUE(db->ListIndexes().empty());

  db->Close();
  EXPECT_EQ(NewTables(), std::vector<std::string>{"public|fields"});
  DropTable("public", "fields");
}

TEST_F(PostgresInjectionTest, Values) {
  auto db = OpenTable("values");
  const std::string backslashes = "back\\slash \\' \\\" $1 $2::text \\x41 E'\\n'";
  const std::vector<std::pair<std::string, std::string>> values = {
      {"s1", kDropVictim},   {"s2", backslashes},
      {"s3", "100%"},        {"s4", "a_b"},
      {"s5", "100 percent"}, {"s6", "axb"},
      {"s7", "it's"},        {"s8", "\"quoted\""},
      {"s9", "{\"a\": 1}"},  {"s10", "$$; DROP TABLE victim; $$"}};
  for (const auto& [id, s] : values) {
    Record r = WithId(id, {{"s", s}});
    r.metadata().Set("note", Value(s));
    db->Create(r);
  }
  for (const auto& [id, s] : values) {
    SCOPED_TRACE(s);
    const auto read = db->Read(id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(*read->Get("s"), Value(s));
    ASSERT_NE(read->metadata().Find("note"), nullptr);
    EXPECT_EQ(*read->metadata().Find("note"), Value(s));
    EXPECT_EQ(Ids(db->Search(Query(Where("s", Op::kEq, s)))), std::vector<std::string>{id});
    EXPECT_EQ(db->Count(Where("s", Op::kEq, s)), 1u);
  }
  const std::vector<std::pair<Expr, std::vector<std::string>>> cases = {
      {Where("s", Op::kLike, "100\\%"), {"s3"}},  // an escaped % is a percent sign
      {Where("s", Op::kLike, "100%"), {"s3", "s5"}},
      {Where("s", Op::kLike, "a\\_b"), {"s4"}},  // an escaped _ is an underscore
      {Where("s", Op::kLike, "a_b"), {"s4", "s6"}},
      {Where("s", Op::kLike, "back\\\\slash%"), {"s2"}},
      {Where("s", Op::kLike, "%$1 $2%"), {"s2"}},
      {Where("s", Op::kILike, "'; drop table%"), {"s1"}},
      {Where("s", Op::kStartsWith, "'; DROP"), {"s1"}},
      {Where("s", Op::kStartsWith, "100%"), {"s3"}},
      {Where("s", Op::kStartsWith, "a_"), {"s4"}},
      {Where("s", Op::kIn, List{kDropVictim, backslashes, "nothing"}), {"s1", "s2"}},
      {Where("s", Op::kNotIn, List{kDropVictim, "100%", "a_b", "axb", "it's", "100 percent"}),
       {"s10", "s2", "s8", "s9"}},
      {Where("s", Op::kGte, "$") && Where("s", Op::kLt, "'"), {"s10"}},
      {Where("s", Op::kRegex, "^'; DROP"), {"s1"}},
      {Where("s", Op::kEq, "100%") || Where("s", Op::kEq, "it's"), {"s3", "s7"}},
  };
  for (const auto& [expr, ids] : cases) {
    SCOPED_TRACE(expr.ToString());
    EXPECT_EQ(Ids(db->Search(Query(expr))), ids);
    EXPECT_EQ(db->Count(expr), ids.size());
  }
  // Ids holding SQL.
  const std::string id = "'); DROP TABLE victim; --";
  db->Create(WithId(id, {{"s", "id"}}));
  EXPECT_TRUE(db->Exists(id));
  EXPECT_EQ(Ids(db->Search(Query(Where("id", Op::kEq, id)))), std::vector<std::string>{id});
  EXPECT_EQ(Ids(db->Search(Query(Where("id", Op::kIn, List{id, "s1"})))),
            (std::vector<std::string>{id, "s1"}));
  const auto batch = db->ReadBatch({id, "s2", "none"});
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_TRUE(batch[0].has_value());
  EXPECT_TRUE(batch[1].has_value());
  EXPECT_FALSE(batch[2].has_value());
  EXPECT_TRUE(db->Update(id, Record{{"s", kDropVictim}}));
  EXPECT_EQ(db->Count(Where("s", Op::kEq, kDropVictim)), 2u);
  EXPECT_EQ(db->DeleteBatch({id, "s1"}), (std::vector<bool>{true, true}));
  EXPECT_EQ(db->Count(), values.size() - 1);
  db->Close();
  EXPECT_EQ(NewTables(), std::vector<std::string>{"public|values"});
  DropTable("public", "values");
}

// COPY's text format (CreateBatch) and array literals (ReadBatch, DeleteBatch, in): tabs,
// newlines, carriage returns, backslashes, COPY's end marker and NULL marker, quotes, commas and
// braces in ids and values.
TEST_F(PostgresInjectionTest, CopyTextAndArrayLiterals) {
  auto db = OpenTable("copy");
  const std::vector<std::string> ids = {"tab\there",   "new\nline", "\\.",
                                        "cr\rx",       "\\N",       "NULL",
                                        "a\"b\\c,{d}", "}",         "'); DROP TABLE victim; --"};
  std::vector<Record> records;
  for (const std::string& id : ids) {
    records.push_back(WithId(id, {{"s", "\\.\n" + id + "\t\\N\r"}, {"id_copy", id}}));
  }
  EXPECT_EQ(db->CreateBatch(records), ids);
  EXPECT_EQ(db->Count(), ids.size());
  const auto read = db->ReadBatch(ids);
  ASSERT_EQ(read.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    ASSERT_TRUE(read[i].has_value());
    EXPECT_EQ(read[i]->id(), std::optional<std::string>(ids[i]));
    EXPECT_EQ(*read[i]->Get("s"), Value("\\.\n" + ids[i] + "\t\\N\r"));
    EXPECT_EQ(Ids(db->Search(Query(Where("id_copy", Op::kEq, ids[i])))),
              std::vector<std::string>{ids[i]});
  }
  EXPECT_EQ(Ids(db->Search(Query(Where("id", Op::kIn, List{"NULL", "a\"b\\c,{d}", "}"})))),
            (std::vector<std::string>{"NULL", "a\"b\\c,{d}", "}"}));
  EXPECT_EQ(db->Count(Where("id_copy", Op::kIn, List{"\\N", "\\.", "cr\rx"})), 3u);
  EXPECT_EQ(db->DeleteBatch({"a\"b\\c,{d}", "NULL", "\\N", "absent"}),
            (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(db->Count(), ids.size() - 3);
  EXPECT_TRUE(db->Exists("}"));
  EXPECT_TRUE(db->Exists("\\."));
  db->Close();
  EXPECT_EQ(NewTables(), std::vector<std::string>{"public|copy"});
  DropTable("public", "copy");
}

TEST_F(PostgresInjectionTest, TableAndSchemaNames) {
  const std::string table = "\"; DROP TABLE victim; --";
  const std::string schema = "public\"; DROP TABLE victim; --";
  {
    auto db = OpenTable(table);
    db->Create(WithId("a", {{"n", 1}}));
    db->CreateBatch({WithId("b", {{"n", 2}}), WithId("c", {{"n", 3}})});
    EXPECT_EQ(Ids(db->Search(Query(Where("n", Op::kGte, 2)).Sort("n", SortOrder::kDesc))),
              (std::vector<std::string>{"c", "b"}));
    EXPECT_EQ(db->Count(Where("n", Op::kLt, 3)), 2u);
    db->CreateIndex({"n", IndexKind::kOrdered});
    EXPECT_EQ(db->ListIndexes().size(), 1u);
    EXPECT_TRUE(db->DropIndex("n"));
    EXPECT_EQ(db->DeleteBatch({"a", "x"}), (std::vector<bool>{true, false}));
    EXPECT_EQ(db->Clear(), 2u);
    db->Close();
  }
  {
    auto db = Open(Object{{"schema_name", Value(schema)}, {"table", Value(table)}});
    db->Create(WithId("a", {{"n", 1}}));
    EXPECT_EQ(db->Count(Where("n", Op::kEq, 1)), 1u);
    db->CreateIndex({"n", IndexKind::kHash});
    EXPECT_EQ(db->ListIndexes().size(), 1u);
    db->Close();
  }
  EXPECT_EQ(NewTables(), (std::vector<std::string>{"public\"; DROP TABLE victim; --|" + table,
                                                   "public|" + table}));
  EXPECT_EQ(Column("SELECT count(*) FROM " + Qualified(schema, table)),
            std::vector<std::string>{"1"});
  DropTable("public", table);
  DropSchema(schema);
}

TEST_F(PostgresInjectionTest, QueryText) {
  auto db = OpenTable("text");
  db->Create(WithId("r1", {{kF1, 1}, {kF2, "p'q"}, {"s", kDropVictim}, {kF4, "100%"}}));
  db->Create(WithId("r2", {{kF1, 2}, {kF2, "zz"}, {"s", "100 percent"}, {kF4, "a_b"}}));
  db->Create(WithId("r3", {{kF1, 3}, {"s", "it's"}, {kF4, "axb"}}));

  struct Case {
    std::string text;
    dkdata::Query parsed;
    std::vector<std::string> ids;
  };
  const std::vector<Case> cases = {
      {"\"x'); DROP TABLE victim; --\" = 2", Query(Where(kF1, Op::kEq, 2)), {"r2"}},
      {"`x'); DROP TABLE victim; --` >= 2 order by `x'); DROP TABLE victim; --` desc",
       Query(Where(kF1, Op::kGte, 2)).Sort(kF1, SortOrder::kDesc),
       {"r3", "r2"}},
      {"\"a\"\"b\" = 'p''q'", Query(Where(kF2, Op::kEq, "p'q")), {"r1"}},
      {"s = '''; DROP TABLE victim; --'", Query(Where("s", Op::kEq, kDropVictim)), {"r1"}},
      {"s in ('''; DROP TABLE victim; --', 'it''s') order by s",
       Query(Where("s", Op::kIn, List{kDropVictim, "it's"})).Sort("s"),
       {"r1", "r3"}},
      {"\"back\\\\slash\" like '100\\%'", Query(Where(kF4, Op::kLike, "100\\%")), {"r1"}},
      {"`back\\slash` like 'a\\_b'", Query(Where(kF4, Op::kLike, "a\\_b")), {"r2"}},
      {"`back\\slash` like 'a_b'", Query(Where(kF4, Op::kLike, "a_b")), {"r2", "r3"}},
      {"s like '%'' %' or \"a\"\"b\" exists",
       Query(Where("s", Op::kLike, "%' %") || Where(kF2, Op::kExists)),
       {"r1", "r2"}},
      {"s like '%''; DROP%'", Query(Where("s", Op::kLike, "%'; DROP%")), {"r1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const dkdata::Query parsed = dkdata::Query::Parse(c.text);
    EXPECT_EQ(parsed, c.parsed) << parsed.ToString();
    EXPECT_EQ(Ids(db->Search(parsed)), c.ids);
    EXPECT_EQ(db->Count(parsed.where()), c.ids.size());
  }
  // A projection by text.
  const dkdata::Query select = dkdata::Query::Parse(
      "select \"a\"\"b\", s where \"x'); DROP TABLE victim; --\" < 3 order by s desc limit 5");
  const auto records = db->Search(select);
  EXPECT_EQ(Ids(records), (std::vector<std::string>{"r2", "r1"}));
  for (const Record& r : records) {
    ASSERT_EQ(r.size(), 2u) << RecordToJson(r);
    EXPECT_EQ(r.fields()[0].name, kF2);
    EXPECT_EQ(r.fields()[1].name, "s");
  }
  db->Close();
  EXPECT_EQ(NewTables(), std::vector<std::string>{"public|text"});
  DropTable("public", "text");
}

// ==== Errors ====

class PostgresErrorsTest : public PostgresServerTest {};

TEST_F(PostgresErrorsTest, CreateOfAStoredIdIsAlreadyExists) {
  auto db = OpenTable("dup");
  db->Create(WithId("a", {{"n", 1}}));
  try {
    db->Create(WithId("a", {{"n", 2}}));
    ADD_FAILURE() << "created 'a' twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists) << e.what();
    EXPECT_EQ(e.native_code(), "23505") << e.what();
    EXPECT_EQ(e.backend(), "postgres");
    EXPECT_TRUE(Contains(e.what(), "'a'")) << e.what();
  }
  EXPECT_EQ(*db->Read("a")->Get("n"), Value(1));
  db->Close();
  DropTable("public", "dup");
}

TEST_F(PostgresErrorsTest, CreateBatchWithAStoredIdStoresNothing) {
  auto db = Open(Object{{"table", Value("batch")}, {"max_pool_size", Value(1)}});
  db->Create(WithId("a", {{"n", 1}}));
  const std::string message = ErrorMessage(
      [&] {
        db->CreateBatch({WithId("b", {{"n", 2}}), WithId("c", {{"n", 3}}), WithId("a", {{"n", 4}}),
                         WithId("d", {{"n", 5}})});
      },
      ErrorCode::kAlreadyExists);
  EXPECT_TRUE(Contains(message, "item 2")) << message;
  EXPECT_TRUE(Contains(message, "'a'")) << message;
  EXPECT_EQ(db->Count(), 1u);
  EXPECT_FALSE(db->Exists("b"));
  EXPECT_FALSE(db->Exists("d"));
  EXPECT_EQ(*db->Read("a")->Get("n"), Value(1));

  // The same id twice in one batch: both items named, nothing stored.
  const std::string twice = ErrorMessage(
      [&] {
        db->CreateBatch(
            {WithId("x", {{"n", 1}}), WithId("y", {{"n", 2}}), WithId("x", {{"n", 3}})});
      },
      ErrorCode::kAlreadyExists);
  EXPECT_TRUE(Contains(twice, "item 2")) << twice;
  EXPECT_TRUE(Contains(twice, "item 0")) << twice;
  EXPECT_TRUE(Contains(twice, "'x'")) << twice;
  EXPECT_EQ(db->Count(), 1u);
  EXPECT_FALSE(db->Exists("x"));
  EXPECT_FALSE(db->Exists("y"));

  // The connection is still good (the pool has one).
  EXPECT_EQ(db->CreateBatch({WithId("b", {{"n", 2}})}), std::vector<std::string>{"b"});
  EXPECT_EQ(db->Count(), 2u);
  db->Close();
  DropTable("public", "batch");
}

TEST_F(PostgresErrorsTest, NanAndU0000) {
  auto db = Open(Object{{"table", Value("nan")}, {"max_pool_size", Value(1)}});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string message = ErrorMessage(
      [&] {
        db->Create(WithId("n", {{"ok", 1}, {"ratio", nan}}));
      },
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "ratio")) << message;
  EXPECT_FALSE(db->Exists("n"));

  message = ErrorMessage(
      [&] {
        db->CreateBatch(
            {WithId("b0", {{"ok", 1}}), WithId("b1", {{"ratio", nan}}), WithId("b2", {{"ok", 2}})});
      },
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "item 1")) << message;
  EXPECT_TRUE(Contains(message, "ratio")) << message;
  EXPECT_EQ(db->Count(), 0u) << "nothing of the batch stored";

  const std::string nul_key("a\0b", 3);
  message = ErrorMessage(
      [&] {
        db->Create(WithId("k", {{nul_key, 1}}));
      },
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "U+0000")) << message;
  EXPECT_FALSE(db->Exists("k"));

  // A string value holding U+0000 round-trips exactly, and queries find it.
  const std::string nul_value("x\0y\0", 4);
  Record r = WithId("v", {{"s", nul_value}, {"plain", "x"}});
  db->Create(r);
  db->Create(WithId("w", {{"s", "xy"}, {"plain", "x"}}));
  const auto read = db->Read("v");
  ASSERT_TRUE(read.has_value());
  ASSERT_NE(read->Get("s"), nullptr);
  EXPECT_EQ(*read->Get("s"), Value(nul_value));
  EXPECT_EQ(read->Get("s")->AsString().size(), 4u);
  r.set_version(1);
  EXPECT_TRUE(*read == r) << RecordToJson(*read);
  EXPECT_EQ(Ids(db->Search(Query(Where("s", Op::kEq, nul_value)))), std::vector<std::string>{"v"});
  EXPECT_EQ(Ids(db->Search(Query(Where("s", Op::kEq, "xy")))), std::vector<std::string>{"w"});
  EXPECT_EQ(db->Count(Where("s", Op::kStartsWith, std::string("x\0", 2))), 1u);
  EXPECT_EQ(db->Count(), 2u);
  db->Close();
  DropTable("public", "nan");
}

TEST_F(PostgresErrorsTest, MissingTableWithoutAutoCreateIsNotFound) {
  const std::string message = ErrorMessage(
      [&] {
        Open(Object{{"table", Value("never made")}, {"auto_create_table", Value(false)}});
      },
      ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(message, "never made")) << message;
  EXPECT_TRUE(NewTables().empty());
  const std::string in_schema = ErrorMessage(
      [&] {
        Open(Object{{"schema_name", Value("nowhere")},
                    {"table", Value("t")},
                    {"auto_create_table", Value(false)}});
      },
      ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(in_schema, "nowhere.t")) << in_schema;
  EXPECT_TRUE(NewTables().empty());

  // A table that exists opens without auto_create_table, whatever its name.
  const std::string schema = "my \"schema\"";
  const std::string table = "we\"ird name";
  Open(Object{{"schema_name", Value(schema)}, {"table", Value(table)}})
      ->Create(WithId("a", {{"n", 1}}));
  {
    auto db = Open(Object{{"schema_name", Value(schema)},
                          {"table", Value(table)},
                          {"auto_create_table", Value(false)}});
    EXPECT_EQ(Ids(db->All()), std::vector<std::string>{"a"});
  }
  DropSchema(schema);
}

// PostgreSQL's text cannot hold U+0000: an id holding one must be refused, never cut short at it
// (which would act on another record: "a\0b" on "a").
TEST_F(PostgresErrorsTest, IdsHoldingU0000AreRefusedNotCutShort) {
  auto db = OpenTable("nulids");
  const std::string x_nul("x\0y", 3);
  ErrorMessage([&] { db->Create(WithId(x_nul, {{"n", 1}})); }, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(db->Exists("x")) << "stored under the id cut short at U+0000";
  EXPECT_EQ(db->Count(), 0u);

  db->Create(WithId("a", {{"n", 1}}));
  const std::string a_nul("a\0b", 3);
  // Each call may refuse the id (invalid_argument) or find nothing; none may touch "a".
  auto refused_or = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    }
  };
  refused_or([&] { EXPECT_FALSE(db->Exists(a_nul)); });
  refused_or([&] { EXPECT_EQ(db->Read(a_nul), std::nullopt); });
  refused_or([&] { EXPECT_FALSE(db->Update(a_nul, Record{{"n", 2}})); });
  refused_or([&] { EXPECT_FALSE(db->Delete(a_nul)); });
  refused_or([&] {
    EXPECT_EQ(db->UpdateBatch({{a_nul, Record{{"n", 3}}}}), std::vector<bool>{false});
  });
  refused_or([&] { EXPECT_EQ(db->DeleteBatch({a_nul}), std::vector<bool>{false}); });
  const auto a = db->Read("a");
  ASSERT_TRUE(a.has_value()) << "'a' was deleted through 'a\\0b'";
  EXPECT_EQ(*a->Get("n"), Value(1));
  EXPECT_EQ(a->version(), 1u);
  db->Close();
  DropTable("public", "nulids");
}

// ±infinity are never stored, but are valid operands (the query text has inf and -inf): every
// backend answers them as the evaluator does.
TEST_F(PostgresErrorsTest, InfiniteOperandsAreAnswered) {
  auto db = OpenTable("inf");
  const std::vector<Record> records = {WithId("a", {{"n", 5}}), WithId("b", {{"n", 1.5}}),
                                       WithId("c", {{"n", "text"}}), WithId("d", {{"m", 1}})};
  db->CreateBatch(records);
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<dkdata::Query, std::vector<std::string>>> cases = {
      {Query(Where("n", Op::kLt, inf)), {"a", "b"}},
      {Query(Where("n", Op::kGt, -inf)), {"a", "b"}},
      {Query(Where("n", Op::kGte, inf)), {}},
      {Query(Where("n", Op::kBetween, List{1, inf})), {"a", "b"}},
      {Query(Where("n", Op::kEq, inf)), {}},
      {Query(Where("n", Op::kNeq, -inf)), {"a", "b", "c"}},
      {Query(Where("n", Op::kIn, List{inf, 5})), {"a"}},
      {Query(Where("n", Op::kNotIn, List{inf, -inf})), {"a", "b", "c"}},
      {dkdata::Query::Parse("n < inf"), {"a", "b"}},
      {dkdata::Query::Parse("n > -inf order by n desc"), {"a", "b"}},
  };
  for (const auto& [query, ids] : cases) {
    SCOPED_TRACE(query.ToString());
    EXPECT_EQ(Ids(EvaluateQuery(query, records)), ids) << "the evaluator";
    try {
      EXPECT_EQ(Ids(db->Search(query)), ids);
      EXPECT_EQ(db->Count(query.where()), ids.size());
    } catch (const Error& e) {
      ADD_FAILURE() << ErrorCodeName(e.code()) << ": " << e.what();
    }
  }
  db->Close();
  DropTable("public", "inf");
}

// A role the server does not know: SQLSTATE 28000 (invalid_authorization_specification), which
// README.md's table maps to unauthorized, not not_found (which would say the database is missing).
TEST_F(PostgresErrorsTest, UnknownRoleIsUnauthorized) {
  const std::string user = "no_such_role_" + std::to_string(::getpid());
  try {
    Open(Object{{"user", Value(user)}, {"password", Value("sekret")}, {"table", Value("t")}});
    ADD_FAILURE() << "connected as an unknown role";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kUnauthorized) << ErrorCodeName(e.code()) << ": " << message;
    EXPECT_TRUE(Contains(message, "'" + user + "'")) << message;
    EXPECT_TRUE(Contains(message, "'" + database_ + "'")) << message;
    EXPECT_FALSE(Contains(message, "sekret")) << message;
  }
  EXPECT_TRUE(NewTables().empty());
}

TEST_F(PostgresErrorsTest, MissingDatabaseWithoutEnsureDatabaseIsNotFound) {
  const std::string missing = "dkdata_missing_" + std::to_string(::getpid());
  ASSERT_TRUE(Run(admin_, "DROP DATABASE IF EXISTS " + QuoteId(admin_, missing)));
  const std::string message = ErrorMessage(
      [&] {
        CreateDatabase("postgres", Object{{"connection_string", Value(server_url_)},
                                          {"database", Value(missing)},
                                          {"ensure_database", Value(false)}});
      },
      ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(message, "database '" + missing + "'")) << message;
  EXPECT_TRUE(Contains(message, "ensure_database")) << message;
  EXPECT_EQ(
      RawQuery(admin_, "SELECT count(*) FROM pg_database WHERE datname = $1", {missing}).value(),
      (std::vector<std::vector<std::string>>{{"0"}}));
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_POSTGRES
