// The postgres backend's options: config keys, connection strings and URLs, the environment, and
// its registration.
#include <cmath>
#include <cstdlib>

#include "backends/builtin.hpp"
#include "backends/option_reader.hpp"
#include "backends/postgres/pg_database.hpp"
#include "core/url_text.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::internal {

namespace {

// Every key the backend takes, in the order of its README's table: the reference's
// (PostgresDatabaseConfig), its shared keys, and dkdata's own pool_timeout, connect_timeout and
// gin_index.
constexpr std::string_view kOptionKeys[] = {"host",
                                            "port",
                                            "database",
                                            "user",
                                            "password",
                                            "ssl",
                                            "command_timeout",
                                            "min_pool_size",
                                            "max_pool_size",
                                            "pool_timeout",
                                            "connect_timeout",
                                            "table",
                                            "table_name",
                                            "schema_name",
                                            "schema",
                                            "ensure_database",
                                            "auto_create_table",
                                            "gin_index",
                                            "connection_string",
                                            "vector_enabled",
                                            "vector_metric"};

constexpr OptionReader kReader("postgres", kOptionKeys);

constexpr std::string_view kSslModes[] = {"disable", "allow",     "prefer",
                                          "require", "verify-ca", "verify-full"};

// The connection fields, each set or not.
struct Connection {
  std::optional<std::string> host, database, user, password;
  std::optional<int> port;
  std::optional<std::string> sslmode;
  bool any() const { return host || database || user || password || port; }
  // Fills what this lacks from other.
  void FillFrom(const Connection& other) {
    if (!host) host = other.host;
    if (!port) port = other.port;
    if (!database) database = other.database;
    if (!user) user = other.user;
    if (!password) password = other.password;
    if (!sslmode) sslmode = other.sslmode;
  }
};

int PortOption(std::string_view key, const Value& value) {
  const double d = kReader.Number(key, value);
  if (d != std::floor(d) || d < 1 || d > 65535) {
    kReader.Fail(key, "must be a port number from 1 to 65535");
  }
  return static_cast<int>(d);
}

double SecondsOption(std::string_view key, const Value& value) {
  if (value.is_null()) return 0;
  const double d = kReader.Number(key, value);
  if (!std::isfinite(d) || d < 0) kReader.Fail(key, "must be a number of seconds >= 0");
  return d;
}

std::size_t CountOption(std::string_view key, const Value& value) {
  const double d = kReader.Number(key, value);
  if (d != std::floor(d) || d < 0 || d > 10000) kReader.Fail(key, "must be a whole number >= 0");
  return static_cast<std::size_t>(d);
}

std::string SslOption(std::string_view key, const Value& value) {
  if (const bool* b = value.Get<bool>()) return *b ? "require" : "disable";
  const std::string mode = kReader.String(key, value);
  for (std::string_view m : kSslModes) {
    if (mode == m) return mode;
  }
  if (mode == "true" || mode == "false") return mode == "true" ? "require" : "disable";
  kReader.Fail(key, "is '" + mode +
                        "', not true, false or an sslmode (disable, allow, prefer, require, "
                        "verify-ca, verify-full)");
}

// A table or schema name: any text PostgreSQL can hold as a quoted identifier.
std::string IdentifierOption(std::string_view key, const Value& value) {
  std::string name = kReader.String(key, value);
  if (name.empty() || name.find('\0') != std::string::npos) {
    kReader.Fail(key, "needs a non-empty name without U+0000");
  }
  if (name.size() > 63) {
    kReader.Fail(key, "is " + std::to_string(name.size()) +
                          " bytes long; PostgreSQL identifiers hold at most 63 (longer ones are "
                          "cut short by the server)");
  }
  return name;
}

// postgres://user:password@host:port/database?key=value..., also postgresql:// and
// postgresql+asyncpg://. The query's keys are returned as options (sslmode as ssl).
Connection ParseConnectionString(std::string_view url, std::string_view key,
                                 Object* query_options) {
  const std::size_t colon = url.find("://");
  const std::string_view scheme = colon == std::string_view::npos ? "" : url.substr(0, colon);
  if (scheme != "postgres" && scheme != "postgresql" && scheme != "postgresql+asyncpg") {
    kReader.Fail(key, "must be a postgres:// or postgresql:// URL");
  }
  std::string_view rest = url.substr(colon + 3);
  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  Connection out;
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t c = userinfo.find(':');
    if (!userinfo.substr(0, c).empty()) out.user = PercentDecode(userinfo.substr(0, c), false);
    if (c != std::string_view::npos) out.password = PercentDecode(userinfo.substr(c + 1), false);
  }
  std::string_view port;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) kReader.Fail(key, "has an unclosed '[' in its host");
    if (close > 1) out.host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const std::size_t c = rest.rfind(':');
    if (!rest.substr(0, c).empty()) out.host = PercentDecode(rest.substr(0, c), false);
    if (c != std::string_view::npos) port = rest.substr(c + 1);
  }
  if (!port.empty()) {
    if (port.find_first_not_of("0123456789") != std::string_view::npos) {
      kReader.Fail(key, "has a port that is not a number: '" + std::string(port) + "'");
    }
    out.port = PortOption(key, Value(std::string(port)));
  }
  if (!path.empty()) out.database = PercentDecode(path, false);
  Object options = ParseUrlQuery(query);
  if (const Value* mode = options.Find("sslmode")) {
    out.sslmode = SslOption(key, *mode);
    options.Erase("sslmode");
  }
  if (query_options != nullptr) *query_options = std::move(options);
  return out;
}

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD.
Connection EnvironmentConnection() {
  Connection out;
  out.host = Env("POSTGRES_HOST");
  if (auto port = Env("POSTGRES_PORT")) out.port = PortOption("POSTGRES_PORT", Value(*port));
  out.database = Env("POSTGRES_DB");
  out.user = Env("POSTGRES_USER");
  if (const char* password = std::getenv("POSTGRES_PASSWORD")) out.password = password;
  return out;
}

}  // namespace

PostgresOptions PostgresOptions::FromObject(const Object& options_in) {
  PostgresOptions out;
  Connection explicit_keys, from_string;
  bool has_string = false;
  // A connection string's query holds options too (the URL form); explicit keys win.
  Object options = options_in;
  if (const Value* url = options_in.Find("connection_string"); url != nullptr && !url->is_null()) {
    Object query;
    from_string = ParseConnectionString(kReader.String("connection_string", *url),
                                        "connection_string", &query);
    has_string = true;
    for (const auto& [key, value] : query) {
      if (!options.Find(key)) options.Set(key, value);
    }
  }
  std::optional<std::string> table, table_name, schema_name, schema;
  for (const auto& [key, value] : options) {
    if (key == "host") {
      if (!value.is_null()) explicit_keys.host = kReader.String(key, value);
    } else if (key == "port") {
      if (!value.is_null()) explicit_keys.port = PortOption(key, value);
    } else if (key == "database") {
      if (!value.is_null()) explicit_keys.database = kReader.String(key, value);
    } else if (key == "user") {
      if (!value.is_null()) explicit_keys.user = kReader.String(key, value);
    } else if (key == "password") {
      if (!value.is_null()) explicit_keys.password = kReader.String(key, value);
    } else if (key == "ssl") {
      if (!value.is_null()) explicit_keys.sslmode = SslOption(key, value);
    } else if (key == "command_timeout") {
      out.command_timeout = SecondsOption(key, value);
    } else if (key == "min_pool_size") {
      out.min_pool_size = CountOption(key, value);
    } else if (key == "max_pool_size") {
      out.max_pool_size = CountOption(key, value);
      if (out.max_pool_size == 0) kReader.Fail(key, "must be at least 1");
    } else if (key == "pool_timeout") {
      out.pool_timeout = SecondsOption(key, value);
    } else if (key == "connect_timeout") {
      out.connect_timeout = SecondsOption(key, value);
    } else if (key == "table") {
      table = IdentifierOption(key, value);
    } else if (key == "table_name") {
      table_name = IdentifierOption(key, value);
    } else if (key == "schema_name") {
      schema_name = IdentifierOption(key, value);
    } else if (key == "schema" && value.Get<std::string>() != nullptr) {
      schema =
          IdentifierOption(key, value);  // a string schema names the schema, as in the reference
    } else if (key == "ensure_database") {
      out.ensure_database = kReader.Bool(key, value);
    } else if (key == "auto_create_table") {
      out.auto_create_table = kReader.Bool(key, value);
    } else if (key == "gin_index") {
      out.gin_index = kReader.Bool(key, value);
    } else if (key == "connection_string") {
      // read above
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
  if (out.min_pool_size > out.max_pool_size) {
    kReader.Fail("min_pool_size",
                 "is more than max_pool_size (" + std::to_string(out.max_pool_size) + ")");
  }
  // The reference's precedence: explicit keys, then the connection string; DATABASE_URL only when
  // neither gives anything; then POSTGRES_*; then the defaults.
  Connection c = explicit_keys;
  c.FillFrom(from_string);
  if (!has_string && !explicit_keys.any()) {
    if (auto url = Env("DATABASE_URL")) {
      c.FillFrom(ParseConnectionString(*url, "DATABASE_URL", nullptr));
    }
  }
  c.FillFrom(EnvironmentConnection());
  if (c.host) out.host = *c.host;
  if (c.port) out.port = *c.port;
  if (c.database) out.database = *c.database;
  if (c.user) out.user = *c.user;
  if (c.password) out.password = *c.password;
  out.sslmode = c.sslmode;
  if (out.host.empty()) kReader.Fail("host", "must not be empty");
  if (out.database.empty()) kReader.Fail("database", "must not be empty");
  out.table = table.value_or(table_name.value_or("records"));
  out.schema = schema.value_or(schema_name.value_or("public"));
  return out;
}

ConnInfo PostgresOptions::Info(std::optional<std::string_view> database_name) const {
  ConnInfo info = {{"host", host},
                   {"port", std::to_string(port)},
                   {"dbname", std::string(database_name.value_or(database))},
                   {"user", user},
                   {"application_name", "dkdata"},
                   // A server that vanishes without closing the socket is noticed in ~20 s.
                   {"keepalives", "1"},
                   {"keepalives_idle", "10"},
                   {"keepalives_interval", "5"},
                   {"keepalives_count", "2"}};
  if (!password.empty()) info.emplace_back("password", password);
  if (sslmode) info.emplace_back("sslmode", *sslmode);
  if (connect_timeout > 0) {
    // libpq takes whole seconds and treats 1 as 2.
    info.emplace_back("connect_timeout",
                      std::to_string(std::max<long>(2, std::lround(std::ceil(connect_timeout)))));
  }
  if (command_timeout > 0) {
    info.emplace_back(
        "options", "-c statement_timeout=" + std::to_string(std::llround(command_timeout * 1000)));
  }
  return info;
}

std::string PostgresOptions::Describe() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "database '" + database + "' at " + (ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + " as user '" + user + "'";
}

namespace {

// postgres://user:password@host:port/database?table=...&schema=... (any config key may be in the
// query).
Object ParsePostgresUrl(std::string_view scheme, std::string_view rest) {
  return Object{{"connection_string", Value(std::string(scheme) + ":" + std::string(rest))}};
}

}  // namespace

BackendInfo MakePostgresBackendInfo() {
  BackendInfo info;
  info.name = "postgres";
  info.aliases = {"postgresql", "pg"};
  info.url_schemes = {"postgres", "postgresql"};
  info.description = "PostgreSQL table (libpq), in the reference's jsonb layout";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    return std::make_unique<PostgresDatabase>(PostgresOptions::FromObject(options));
  };
  info.url_parser = ParsePostgresUrl;
  info.option_keys = kReader.Keys();
  info.check_options = [](const Object& options) { PostgresOptions::FromObject(options); };
  return info;
}

}  // namespace dkdata::internal
