// The Elasticsearch backend's options: config keys, how the hosts are composed, index names, the
// es:// URL form, and that no secret (api_key, a password) appears in a message. No server: these
// tests parse options only (ElasticsearchOptions::FromObject, the registry's URL parser).
#if DKDATA_HAVE_ELASTICSEARCH
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "backends/elasticsearch/es_database.hpp"
#include "backends/option_reader.hpp"
#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

using internal::ElasticsearchOptions;
using internal::OptionError;
using internal::RefreshPolicy;
using std::chrono::milliseconds;
using Hosts = std::vector<std::string>;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

ElasticsearchOptions From(const Object& options) {
  return ElasticsearchOptions::FromObject(options);
}

// Parsing the options must fail with an invalid_argument OptionError naming key; returns the
// message.
std::string OptionErrorOf(const Object& options, const std::string& key) {
  try {
    ElasticsearchOptions::FromObject(options);
  } catch (const OptionError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_EQ(e.backend(), "elasticsearch") << e.what();
    EXPECT_TRUE(Contains(e.what(), "'" + key + "'")) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted bad option " << key;
  return "";
}

// The options the registry's URL parser makes of url ("es://...").
Object UrlOptions(std::string_view url) {
  const std::size_t colon = url.find(':');
  const BackendInfo* info = BackendRegistry::FindByScheme(url.substr(0, colon));
  EXPECT_NE(info, nullptr) << url;
  if (info == nullptr) return Object{};
  EXPECT_EQ(info->name, "elasticsearch");
  return info->url_parser(url.substr(0, colon), url.substr(colon + 1));
}

ElasticsearchOptions FromUrl(std::string_view url) {
  return From(UrlOptions(url));
}

class ElasticsearchOptionsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dkdata-es-options-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file of that name in the test's directory.
  std::string File(const std::string& name) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << "-----BEGIN CERTIFICATE-----\n";
    return path;
  }

  std::filesystem::path dir_;
};

// ---- Defaults and every key ----

TEST_F(ElasticsearchOptionsTest, Defaults) {
  const ElasticsearchOptions o = From(Object{});
  EXPECT_EQ(o.hosts, Hosts{"http://localhost:9200"});
  EXPECT_EQ(o.index, "records");
  EXPECT_EQ(o.refresh, RefreshPolicy::kTrue);
  EXPECT_EQ(o.api_key, "");
  EXPECT_EQ(o.basic_auth, std::nullopt);
  EXPECT_TRUE(o.verify_certs);
  EXPECT_EQ(o.ca_certs, "");
  EXPECT_EQ(o.client_cert, "");
  EXPECT_EQ(o.client_key, "");
  EXPECT_TRUE(o.mappings.empty());
  EXPECT_TRUE(o.settings.empty());
  EXPECT_EQ(o.request_timeout, milliseconds(30000));
  EXPECT_EQ(o.connect_timeout, milliseconds(10000));
  EXPECT_EQ(o.max_retries, 3);
  EXPECT_EQ(o.bulk_size, 5000u);
  EXPECT_EQ(o.bulk_bytes, 8u << 20);
  EXPECT_TRUE(o.auto_create_index);
  EXPECT_EQ(o.Describe(), "index 'records' at http://localhost:9200");
}

TEST_F(ElasticsearchOptionsTest, EveryKey) {
  const Object mappings{{"dynamic", Value("strict")}};
  const Object settings{{"number_of_shards", Value(2)}};
  const Object options{{"hosts", Value(List{Value("https://a.example:9243"), Value("b.example")})},
                       {"host", Value("ignored.example")},
                       {"port", Value(9999)},
                       {"index", Value("people-2024")},
                       {"refresh", Value("wait_for")},
                       {"api_key", Value("a2V5")},
                       {"basic_auth", Value(List{Value("ann"), Value("pw")})},
                       {"verify_certs", Value(false)},
                       {"ca_certs", Value(File("ca.pem"))},
                       {"client_cert", Value(File("client.pem"))},
                       {"client_key", Value(File("client.key"))},
                       {"ssl_show_warn", Value(false)},
                       {"mappings", Value(mappings)},
                       {"settings", Value(settings)},
                       {"vector_dimensions", Value(768)},
                       {"default_vector_field", Value("embedding")},
                       {"timeout", Value(2.5)},
                       {"connect_timeout", Value(1)},
                       {"max_retries", Value(0)},
                       {"bulk_size", Value(100)},
                       {"bulk_bytes", Value(1 << 20)},
                       {"auto_create_index", Value(false)},
                       {"schema", Value(Object{{"fields", Value(List{})}})},
                       {"vector_enabled", Value(true)},
                       {"vector_metric", Value("cosine")}};
  const ElasticsearchOptions o = From(options);
  EXPECT_EQ(o.hosts, (Hosts{"https://a.example:9243", "http://b.example:9200"}));
  EXPECT_EQ(o.index, "people-2024");
  EXPECT_EQ(o.refresh, RefreshPolicy::kWaitFor);
  EXPECT_EQ(o.api_key, "a2V5");
  EXPECT_EQ(o.basic_auth, std::make_pair(std::string("ann"), std::string("pw")));
  EXPECT_FALSE(o.verify_certs);
  EXPECT_EQ(o.ca_certs, (dir_ / "ca.pem").string());
  EXPECT_EQ(o.client_cert, (dir_ / "client.pem").string());
  EXPECT_EQ(o.client_key, (dir_ / "client.key").string());
  EXPECT_EQ(o.mappings, mappings);
  EXPECT_EQ(o.settings, settings);
  EXPECT_EQ(o.request_timeout, milliseconds(2500));
  EXPECT_EQ(o.connect_timeout, milliseconds(1000));
  EXPECT_EQ(o.max_retries, 0);
  EXPECT_EQ(o.bulk_size, 100u);
  EXPECT_EQ(o.bulk_bytes, 1u << 20);
  EXPECT_FALSE(o.auto_create_index);

  // The registry publishes the same keys, and checks options as the factory does.
  const BackendInfo* info = BackendRegistry::Find("elasticsearch");
  ASSERT_NE(info, nullptr);
  std::vector<std::string> given;
  for (const auto& [key, value] : options) given.push_back(key);
  EXPECT_EQ(info->option_keys, given);
  EXPECT_NO_THROW(info->check_options(options));
  EXPECT_THROW(info->check_options(Object{{"indx", Value("x")}}), OptionError);
}

TEST_F(ElasticsearchOptionsTest, NullMeansTheDefault) {
  const ElasticsearchOptions o = From(Object{{"hosts", Value(nullptr)},
                                             {"host", Value(nullptr)},
                                             {"port", Value(nullptr)},
                                             {"index", Value(nullptr)},
                                             {"api_key", Value(nullptr)},
                                             {"basic_auth", Value(nullptr)},
                                             {"ca_certs", Value(nullptr)},
                                             {"mappings", Value(nullptr)},
                                             {"timeout", Value(nullptr)},
                                             {"schema", Value(nullptr)}});
  EXPECT_EQ(o.hosts, Hosts{"http://localhost:9200"});
  EXPECT_EQ(o.index, "records");
  EXPECT_EQ(o.basic_auth, std::nullopt);
  EXPECT_EQ(o.request_timeout, milliseconds(30000));
  // Not for an unknown key.
  OptionErrorOf(Object{{"hostname", Value(nullptr)}}, "hostname");
}

// ---- Hosts ----

TEST_F(ElasticsearchOptionsTest, HostsEntriesAreNormalised) {
  auto hosts = [](Value value) { return From(Object{{"hosts", std::move(value)}}).hosts; };
  EXPECT_EQ(hosts(List{Value("http://h:1")}), Hosts{"http://h:1"});
  EXPECT_EQ(hosts(List{Value("h")}), Hosts{"http://h:9200"});
  EXPECT_EQ(hosts(List{Value("h:9201")}), Hosts{"http://h:9201"});
  EXPECT_EQ(hosts(List{Value("https://h")}), Hosts{"https://h:9200"});
  EXPECT_EQ(hosts(List{Value("HTTPS://h:443/")}), Hosts{"https://h:443"});
  EXPECT_EQ(hosts(List{Value("https://h/es/prefix//")}), Hosts{"https://h:9200/es/prefix"});
  EXPECT_EQ(hosts(List{Value("[::1]")}), Hosts{"http://[::1]:9200"});
  EXPECT_EQ(hosts(List{Value("https://[fe80::1]:9243/p")}), Hosts{"https://[fe80::1]:9243/p"});
  EXPECT_EQ(hosts(Value("a:1, https://b:2 ,c")),
            (Hosts{"http://a:1", "https://b:2", "http://c:9200"}));
  EXPECT_EQ(hosts(Value("a")), Hosts{"http://a:9200"});
}

TEST_F(ElasticsearchOptionsTest, HostAndPortMakeOneHost) {
  auto hosts = [](const Object& options) { return From(options).hosts; };
  EXPECT_EQ(hosts(Object{{"host", Value("es.example")}}), Hosts{"http://es.example:9200"});
  EXPECT_EQ(hosts(Object{{"host", Value("es.example")}, {"port", Value(9300)}}),
            Hosts{"http://es.example:9300"});
  // Unlike the reference, port alone is honoured.
  EXPECT_EQ(hosts(Object{{"port", Value("9300")}}), Hosts{"http://localhost:9300"});
  // A scheme, a port and a prefix in host; its port wins over port.
  EXPECT_EQ(hosts(Object{{"host", Value("https://es.example")}, {"port", Value(9243)}}),
            Hosts{"https://es.example:9243"});
  EXPECT_EQ(hosts(Object{{"host", Value("es.example:9201")}, {"port", Value(9300)}}),
            Hosts{"http://es.example:9201"});
  EXPECT_EQ(hosts(Object{{"host", Value("https://es.example/prefix")}}),
            Hosts{"https://es.example:9200/prefix"});
  EXPECT_EQ(hosts(Object{{"host", Value("[::1]")}, {"port", Value(9201)}}),
            Hosts{"http://[::1]:9201"});
  // hosts wins over host and port (which are still checked).
  EXPECT_EQ(hosts(Object{{"host", Value("h")}, {"port", Value(1)}, {"hosts", Value("x:2")}}),
            Hosts{"http://x:2"});
  OptionErrorOf(Object{{"hosts", Value("x:2")}, {"host", Value("::1")}}, "host");
  OptionErrorOf(Object{{"hosts", Value("x:2")}, {"port", Value(0)}}, "port");
}

TEST_F(ElasticsearchOptionsTest, BadHostsNameTheKeyAndTheEntry) {
  struct Case {
    Value value;
    const char* says;
  };
  const Case cases[] = {
      {List{}, "at least one host"},
      {"", "at least one host"},
      {" ", "at least one host"},
      {"a,,b", "cannot use '': it names no host"},
      {"a,", "cannot use '': it names no host"},
      {List{Value("a"), Value(5)}, "must be a list of hosts"},
      {5, "must be a list of hosts"},
      {List{Value("ftp://h")}, "cannot use 'ftp://h': the scheme must be http or https"},
      {List{Value("::1")}, "cannot use '::1': an IPv6 address must be in brackets"},
      {List{Value("fe80::1:9200")}, "in brackets"},
      {List{Value("http://[::1:9200")}, "its '[' is not closed"},
      {List{Value("[::1]9200")}, "']' must be followed by ':port'"},
      {List{Value("http://")}, "it names no host"},
      {List{Value(":9200")}, "it names no host"},
      {List{Value("[]:9200")}, "it names no host"},
      {List{Value("h:0")}, "cannot use 'h:0': the port must be a number from 1 to 65535"},
      {List{Value("h:65536")}, "from 1 to 65535"},
      {List{Value("h:99999999999")}, "from 1 to 65535"},
      {List{Value("h:abc")}, "from 1 to 65535"},
      {List{Value("h:")}, "from 1 to 65535"},
      {List{Value("h:+9200")}, "from 1 to 65535"},
      {List{Value("h:-1")}, "from 1 to 65535"},
      {List{Value("h:1e3")}, "from 1 to 65535"},
      {List{Value("h:9200.5")}, "from 1 to 65535"},
      {List{Value("h:9200?x=1")}, "without a query"},
      {List{Value("h#top")}, "without a query"},
      {List{Value("my host")}, "spaces"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value.ToDisplayString());
    const std::string message = OptionErrorOf(Object{{"hosts", c.value}}, "hosts");
    EXPECT_TRUE(Contains(message, c.says)) << message;
  }
  // The same rules for host.
  for (const char* host : {"::1", "ftp://h", "h:0", "h:x", "[::1", ""}) {
    SCOPED_TRACE(host);
    OptionErrorOf(Object{{"host", Value(host)}}, "host");
  }
  OptionErrorOf(Object{{"host", Value(9200)}}, "host");
}

TEST_F(ElasticsearchOptionsTest, PortIsANumberFrom1To65535) {
  for (const Value& port : {Value(0), Value(65536), Value(-1), Value(9200.5), Value("abc"),
                            Value(true), Value(List{})}) {
    SCOPED_TRACE(port.ToDisplayString());
    OptionErrorOf(Object{{"port", port}}, "port");
  }
  const std::string message = OptionErrorOf(Object{{"port", Value(70000)}}, "port");
  EXPECT_TRUE(Contains(message, "from 1 to 65535")) << message;
  EXPECT_EQ(From(Object{{"port", Value(65535.0)}}).hosts, Hosts{"http://localhost:65535"});
}

// ---- index ----

TEST_F(ElasticsearchOptionsTest, IndexNamesFollowElasticsearchsRules) {
  for (const std::string& name : std::vector<std::string>{
           "records", "my-index.2024", "a_b+c", "x", ".hidden", "ümlaut", std::string(255, 'a')}) {
    EXPECT_EQ(From(Object{{"index", Value(name)}}).index, name);
  }
  struct Case {
    std::string name;
    const char* says;
  };
  const Case cases[] = {
      {"", "must not be empty"},
      {".", "cannot be '.' or '..'"},
      {"..", "cannot be '.' or '..'"},
      {"-a", "cannot start with '-', '_' or '+'"},
      {"_a", "cannot start with '-', '_' or '+'"},
      {"+a", "cannot start with '-', '_' or '+'"},
      {"People", "is 'People': Elasticsearch index names must be lowercase"},
      {std::string(256, 'a'), "is 256 bytes long; Elasticsearch index names hold at most 255"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string message = OptionErrorOf(Object{{"index", Value(c.name)}}, "index");
    EXPECT_TRUE(Contains(message, c.says)) << message;
  }
  for (const char c : std::string("\\/*?\"<>|,#: ")) {
    const std::string name = std::string("a") + c + "b";
    SCOPED_TRACE(name);
    const std::string message = OptionErrorOf(Object{{"index", Value(name)}}, "index");
    EXPECT_TRUE(Contains(message, std::string("cannot contain '") + c + "'")) << message;
  }
  OptionErrorOf(Object{{"index", Value(5)}}, "index");
}

// ---- refresh, credentials, TLS ----

TEST_F(ElasticsearchOptionsTest, RefreshTakesBooleansAndWaitFor) {
  auto refresh = [](Value value) { return From(Object{{"refresh", std::move(value)}}).refresh; };
  EXPECT_EQ(refresh(true), RefreshPolicy::kTrue);
  EXPECT_EQ(refresh(false), RefreshPolicy::kFalse);
  EXPECT_EQ(refresh("true"), RefreshPolicy::kTrue);
  EXPECT_EQ(refresh("false"), RefreshPolicy::kFalse);
  EXPECT_EQ(refresh("wait_for"), RefreshPolicy::kWaitFor);
  for (const Value& bad : {Value("maybe"), Value("WAIT_FOR"), Value(1), Value(List{})}) {
    SCOPED_TRACE(bad.ToDisplayString());
    const std::string message = OptionErrorOf(Object{{"refresh", bad}}, "refresh");
    EXPECT_TRUE(Contains(message, "must be true, false or \"wait_for\"")) << message;
  }
}

TEST_F(ElasticsearchOptionsTest, ApiKeyAndBasicAuth) {
  EXPECT_EQ(From(Object{{"api_key", Value("aWQ6a2V5")}}).api_key, "aWQ6a2V5");
  auto auth = [](Value value) { return From(Object{{"basic_auth", std::move(value)}}).basic_auth; };
  using Auth = std::pair<std::string, std::string>;
  EXPECT_EQ(auth(List{Value("ann"), Value("pw")}), Auth("ann", "pw"));
  EXPECT_EQ(auth(List{Value("ann"), Value("")}), Auth("ann", ""));
  EXPECT_EQ(auth("ann:p:w"), Auth("ann", "p:w"));  // the first colon ends the user
  // Both: the database uses api_key (the reference drops basic_auth).
  const ElasticsearchOptions both =
      From(Object{{"api_key", Value("k")}, {"basic_auth", Value("u:p")}});
  EXPECT_EQ(both.api_key, "k");
  EXPECT_EQ(both.basic_auth, Auth("u", "p"));

  EXPECT_TRUE(Contains(OptionErrorOf(Object{{"api_key", Value("")}}, "api_key"), "empty"));
  EXPECT_TRUE(Contains(OptionErrorOf(Object{{"api_key", Value(5)}}, "api_key"), "a string"));
  for (const Value& bad :
       {Value(List{Value("ann")}), Value(List{Value("a"), Value("b"), Value("c")}),
        Value(List{Value("ann"), Value(5)}), Value("annpw"), Value(5), Value(Object{})}) {
    SCOPED_TRACE(bad.kind() == ValueKind::kList ? "a list" : bad.ToDisplayString());
    const std::string message = OptionErrorOf(Object{{"basic_auth", bad}}, "basic_auth");
    EXPECT_TRUE(Contains(message, "[user, password]")) << message;
  }
  const std::string no_user = OptionErrorOf(Object{{"basic_auth", Value(":pw")}}, "basic_auth");
  EXPECT_TRUE(Contains(no_user, "needs a user name")) << no_user;
}

TEST_F(ElasticsearchOptionsTest, CertificateFilesMustBeReadable) {
  EXPECT_FALSE(From(Object{{"verify_certs", Value("false")}}).verify_certs);
  OptionErrorOf(Object{{"verify_certs", Value("maybe")}}, "verify_certs");
  const std::string missing = (dir_ / "missing.pem").string();
  for (const char* key : {"ca_certs", "client_cert", "client_key"}) {
    SCOPED_TRACE(key);
    std::string message = OptionErrorOf(Object{{key, Value(missing)}}, key);
    EXPECT_TRUE(Contains(message, "'" + missing + "'")) << message;
    EXPECT_TRUE(Contains(message, "No such file")) << message;
    message = OptionErrorOf(Object{{key, Value(dir_.string())}}, key);
    EXPECT_TRUE(Contains(message, "is a directory")) << message;
    OptionErrorOf(Object{{key, Value(5)}}, key);
  }
  if (::geteuid() != 0) {  // root reads any file
    const std::string locked = File("locked.pem");
    ::chmod(locked.c_str(), 0);
    const std::string message = OptionErrorOf(Object{{"ca_certs", Value(locked)}}, "ca_certs");
    EXPECT_TRUE(Contains(message, "Permission denied")) << message;
  }
  // An empty path is none; a key needs its certificate.
  EXPECT_EQ(From(Object{{"ca_certs", Value("")}}).ca_certs, "");
  const std::string message =
      OptionErrorOf(Object{{"client_key", Value(File("k.pem"))}}, "client_key");
  EXPECT_TRUE(Contains(message, "needs client_cert")) << message;
}

// ---- mappings, settings and dkdata's own keys ----

TEST_F(ElasticsearchOptionsTest, MappingsAndSettingsAreMaps) {
  for (const char* key : {"mappings", "settings"}) {
    SCOPED_TRACE(key);
    const std::string message = OptionErrorOf(Object{{key, Value("{}")}}, key);
    EXPECT_TRUE(Contains(message, "must be a map")) << message;
    OptionErrorOf(Object{{key, Value(List{})}}, key);
  }
}

TEST_F(ElasticsearchOptionsTest, TimeoutsRetriesAndBulkSizes) {
  EXPECT_EQ(From(Object{{"timeout", Value("0.5")}}).request_timeout, milliseconds(500));
  EXPECT_EQ(From(Object{{"timeout", Value(0.0001)}}).request_timeout, milliseconds(1));
  EXPECT_EQ(From(Object{{"connect_timeout", Value(3)}}).connect_timeout, milliseconds(3000));
  for (const char* key : {"timeout", "connect_timeout"}) {
    for (const Value& bad : {Value(0), Value(-1), Value("soon"), Value(1e7),
                             Value(std::numeric_limits<double>::infinity()),
                             Value(std::numeric_limits<double>::quiet_NaN())}) {
      SCOPED_TRACE(std::string(key) + " = " + bad.ToDisplayString());
      OptionErrorOf(Object{{key, bad}}, key);
    }
  }
  EXPECT_TRUE(Contains(OptionErrorOf(Object{{"timeout", Value(0)}}, "timeout"), "seconds > 0"));

  EXPECT_EQ(From(Object{{"max_retries", Value("10")}}).max_retries, 10);
  EXPECT_EQ(From(Object{{"bulk_size", Value(100000)}}).bulk_size, 100000u);
  EXPECT_EQ(From(Object{{"bulk_size", Value(1)}}).bulk_size, 1u);
  EXPECT_EQ(From(Object{{"bulk_bytes", Value(1024)}}).bulk_bytes, 1024u);
  EXPECT_FALSE(From(Object{{"auto_create_index", Value("off")}}).auto_create_index);
  struct Case {
    const char* key;
    Value value;
    const char* says;
  };
  const Case cases[] = {
      {"max_retries", 11, "from 0 to 10"},
      {"max_retries", -1, "from 0 to 10"},
      {"max_retries", 1.5, "from 0 to 10"},
      {"bulk_size", 0, "from 1 to 100000"},
      {"bulk_size", 100001, "from 1 to 100000"},
      {"bulk_bytes", 1023, "from 1024 to"},
      {"bulk_bytes", 1e12, "from 1024 to"},
      {"bulk_bytes", "lots", "must be a number"},
      {"auto_create_index", "maybe", "must be a boolean"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    const std::string message = OptionErrorOf(Object{{c.key, c.value}}, c.key);
    EXPECT_TRUE(Contains(message, c.says)) << message;
  }
}

TEST_F(ElasticsearchOptionsTest, TheReferencesOtherKeysAreChecked) {
  EXPECT_NO_THROW(From(Object{{"ssl_show_warn", Value("false")},
                              {"vector_dimensions", Value(1536)},
                              {"default_vector_field", Value("embedding")},
                              {"schema", Value(nullptr)}}));
  OptionErrorOf(Object{{"ssl_show_warn", Value("maybe")}}, "ssl_show_warn");
  OptionErrorOf(Object{{"vector_dimensions", Value(0)}}, "vector_dimensions");
  OptionErrorOf(Object{{"default_vector_field", Value(5)}}, "default_vector_field");
  OptionErrorOf(Object{{"schema", Value("s")}}, "schema");
  OptionErrorOf(Object{{"vector_enabled", Value("maybe")}}, "vector_enabled");
  OptionErrorOf(Object{{"vector_metric", Value(5)}}, "vector_metric");
}

TEST_F(ElasticsearchOptionsTest, UnknownKeysSuggestTheClosestKey) {
  struct Case {
    const char* typo;
    const char* meant;
  };
  for (const Case& c : {Case{"indx", "index"}, Case{"api-key", "api_key"},
                        Case{"bulksize", "bulk_size"}, Case{"verify_cert", "verify_certs"}}) {
    const std::string message = OptionErrorOf(Object{{c.typo, Value(1)}}, c.typo);
    EXPECT_TRUE(Contains(message, "unknown option '" + std::string(c.typo) +
                                      "' for backend 'elasticsearch' (did you mean '" + c.meant +
                                      "'?"))
        << message;
  }
  const std::string far = OptionErrorOf(Object{{"zzzzzzzz", Value(1)}}, "zzzzzzzz");
  EXPECT_FALSE(Contains(far, "did you mean")) << far;
  EXPECT_TRUE(Contains(far, "it takes: hosts, host, port, index")) << far;
  // Also in a URL's query.
  const std::string in_url = OptionErrorOf(UrlOptions("es://h/i?refesh=false"), "refesh");
  EXPECT_TRUE(Contains(in_url, "did you mean 'refresh'?")) << in_url;
}

// ---- Describe and secrets ----

TEST_F(ElasticsearchOptionsTest, DescribeNamesTheIndexAndTheFirstHost) {
  EXPECT_EQ(
      From(Object{{"index", Value("people")}, {"host", Value("https://es.example")}}).Describe(),
      "index 'people' at https://es.example:9200");
  const ElasticsearchOptions several = From(Object{{"hosts", Value("a:1,b:2,c:3")},
                                                   {"api_key", Value("sekret-key")},
                                                   {"basic_auth", Value("ann:sekret-pw")}});
  EXPECT_EQ(several.Describe(), "index 'records' at http://a:1 (+2 more)");
  EXPECT_EQ(FromUrl("es://ann:sekret-pw@h/i").Describe(), "index 'i' at http://h:9200");
}

TEST_F(ElasticsearchOptionsTest, NoMessageShowsASecret) {
  const Object cases[] = {
      Object{{"api_key", Value(123456789)}},
      Object{{"basic_auth", Value("annsekret")}},
      Object{{"basic_auth", Value(List{Value("ann"), Value(123456789)})}},
      Object{{"basic_auth", Value(List{Value("ann"), Value("sekret"), Value("x")})}},
      Object{{"basic_auth", Value(":sekret")}},
      Object{{"basic_auth", Value(123456789)}},
      Object{{"hosts", Value("http://ann:sekret@h:9200")}},
      Object{{"host", Value("ann:sekret@h")}},
      Object{{"api_key", Value("sekret")}, {"index", Value("Bad")}},
      Object{{"basic_auth", Value("ann:sekret")}, {"port", Value(0)}},
      UrlOptions("es://ann:sekret@h:abc/i"),
      UrlOptions("es+https://ann:sekret@h/Bad"),
      UrlOptions("es://:sekret@h/i"),
      UrlOptions("es://ann:sekret@h/i?timeout=soon"),
  };
  for (const Object& options : cases) {
    try {
      From(options);
      ADD_FAILURE() << "accepted";
    } catch (const OptionError& e) {
      const std::string message = e.what();
      EXPECT_FALSE(Contains(message, "sekret")) << message;
      EXPECT_FALSE(Contains(message, "123456789")) << message;
    }
  }
}

// ---- The registry and URLs ----

TEST_F(ElasticsearchOptionsTest, RegisteredUnderItsAliasAndSchemes) {
  const BackendInfo* info = BackendRegistry::Find("elasticsearch");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->available);
  EXPECT_EQ(BackendRegistry::Find("es"), info);
  for (const char* scheme : {"es", "es+http", "es+https", "elasticsearch", "ES+HTTPS"}) {
    EXPECT_EQ(BackendRegistry::FindByScheme(scheme), info) << scheme;
  }
  EXPECT_EQ(BackendRegistry::FindByScheme("http"), nullptr);
}

TEST_F(ElasticsearchOptionsTest, UrlForms) {
  const ElasticsearchOptions plain = FromUrl("es://localhost:9200/myindex");
  EXPECT_EQ(plain.hosts, Hosts{"http://localhost:9200"});
  EXPECT_EQ(plain.index, "myindex");
  EXPECT_EQ(plain.basic_auth, std::nullopt);

  const ElasticsearchOptions tls = FromUrl(
      "es+https://u%40x:p%3Aw%2F@es.example:9243/logs?refresh=wait_for&timeout=2.5&"
      "verify_certs=false&bulk_size=10");
  EXPECT_EQ(tls.hosts, Hosts{"https://es.example:9243"});
  EXPECT_EQ(tls.index, "logs");
  EXPECT_EQ(tls.basic_auth, std::make_pair(std::string("u@x"), std::string("p:w/")));
  EXPECT_EQ(tls.refresh, RefreshPolicy::kWaitFor);
  EXPECT_EQ(tls.request_timeout, milliseconds(2500));
  EXPECT_FALSE(tls.verify_certs);
  EXPECT_EQ(tls.bulk_size, 10u);

  EXPECT_EQ(FromUrl("es+http://h/i").hosts, Hosts{"http://h:9200"});
  EXPECT_EQ(FromUrl("elasticsearch://h/i").hosts, Hosts{"http://h:9200"});
  EXPECT_EQ(FromUrl("ES+HTTPS://h/i").hosts, Hosts{"https://h:9200"});
  EXPECT_EQ(FromUrl("es://ann@h/i").basic_auth,
            std::make_pair(std::string("ann"), std::string("")));
  EXPECT_EQ(FromUrl("es://h/my%2Bindex").index, "my+index");
}

TEST_F(ElasticsearchOptionsTest, UrlHostsAndPorts) {
  EXPECT_EQ(FromUrl("es://[::1]:9201/i").hosts, Hosts{"http://[::1]:9201"});
  EXPECT_EQ(FromUrl("es+https://[fe80::1]/i").hosts, Hosts{"https://[fe80::1]:9200"});
  EXPECT_EQ(FromUrl("es://u:p@h1:9200,h2:9201,[::1]/i").hosts,
            (Hosts{"http://h1:9200", "http://h2:9201", "http://[::1]:9200"}));
  // A port in the query applies when the URL's host has none.
  EXPECT_EQ(FromUrl("es://h/i?port=9300").hosts, Hosts{"http://h:9300"});
  EXPECT_EQ(FromUrl("es://h:9201/i?port=9300").hosts, Hosts{"http://h:9201"});
  // The URL's own parts win over the query's.
  const ElasticsearchOptions url_wins =
      FromUrl("es://u:p@h:1/i?hosts=x:2&host=y&index=q&basic_auth=v:w");
  EXPECT_EQ(url_wins.hosts, Hosts{"http://h:1"});
  EXPECT_EQ(url_wins.index, "i");
  EXPECT_EQ(url_wins.basic_auth, std::make_pair(std::string("u"), std::string("p")));
  // What the URL leaves out comes from the query, else the defaults.
  const ElasticsearchOptions from_query = FromUrl("es://?hosts=a:1,b:2&index=q");
  EXPECT_EQ(from_query.hosts, (Hosts{"http://a:1", "http://b:2"}));
  EXPECT_EQ(from_query.index, "q");
  EXPECT_EQ(FromUrl("es://").hosts, Hosts{"http://localhost:9200"});
  EXPECT_EQ(FromUrl("es:").index, "records");
  EXPECT_EQ(FromUrl("es:///i").hosts, Hosts{"http://localhost:9200"});
  EXPECT_EQ(FromUrl("es://h").index, "records");
  EXPECT_EQ(FromUrl("es://h/i/").index, "i");
}

TEST_F(ElasticsearchOptionsTest, BadUrlsAreOptionErrors) {
  struct Case {
    const char* url;
    const char* key;
    const char* says;
  };
  const Case cases[] = {
      {"es://h/a/b", "index", "cannot contain '/'"},
      {"es://h//a", "index", "cannot contain '/'"},
      {"es://h/My%20Index", "index", "cannot contain ' '"},
      {"es://h/Records", "index", "must be lowercase"},
      {"es://h:abc/i", "host", "the port must be a number"},
      {"es://h:0/i", "host", "the port must be a number"},
      {"es://::1/i", "host", "in brackets"},
      {"es://[::1/i", "host", "is not closed"},
      {"es://h1,,h2/i", "hosts", "it names no host"},
      {"es://h1,h2:x/i", "hosts", "the port must be a number"},
      {"es://:pw@h/i", "basic_auth", "needs a user name"},
      {"es://h/i?refresh=maybe", "refresh", "wait_for"},
      {"es://h/i?max_retries=99", "max_retries", "from 0 to 10"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    const std::string message = OptionErrorOf(UrlOptions(c.url), c.key);
    EXPECT_TRUE(Contains(message, c.says)) << message;
  }
  // Opening such a URL fails on its options, before any connection, without the password.
  try {
    OpenDatabase("es://ann:sekret@127.0.0.1:1/Bad");
    ADD_FAILURE() << "opened a bad URL";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_TRUE(Contains(e.what(), "option 'index'")) << e.what();
    EXPECT_FALSE(Contains(e.what(), "sekret")) << e.what();
  }
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_ELASTICSEARCH
