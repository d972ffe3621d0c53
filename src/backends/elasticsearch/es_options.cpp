// The elasticsearch backend's options: config keys, hosts, the es:// URL form, and its
// registration.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <system_error>

#include "backends/builtin.hpp"
#include "backends/elasticsearch/es_database.hpp"
#include "backends/option_reader.hpp"
#include "core/url_text.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::internal {

namespace {

// Every key the backend takes, in the order of its README's table: the reference's (the union of
// its sync and async configs, ElasticsearchDatabaseConfig and AsyncElasticsearchDatabaseConfig),
// its shared keys, and dkdata's own timeouts, retries, bulk sizes and auto_create_index.
constexpr std::string_view kOptionKeys[] = {"hosts",
                                            "host",
                                            "port",
                                            "index",
                                            "refresh",
                                            "api_key",
                                            "basic_auth",
                                            "verify_certs",
                                            "ca_certs",
                                            "client_cert",
                                            "client_key",
                                            "ssl_show_warn",
                                            "mappings",
                                            "settings",
                                            "vector_dimensions",
                                            "default_vector_field",
                                            "timeout",
                                            "connect_timeout",
                                            "max_retries",
                                            "bulk_size",
                                            "bulk_bytes",
                                            "auto_create_index",
                                            "schema",
                                            "vector_enabled",
                                            "vector_metric"};

constexpr OptionReader kReader(kElasticsearchBackend, kOptionKeys);

constexpr int kDefaultPort = 9200;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// "a, b,,c" -> {"a", "b", "", "c"}.
std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0; start <= s.size();) {
    const std::size_t comma = std::min(s.find(',', start), s.size());
    out.push_back(Trim(s.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

// "a string", "an int": what a value is, for the messages about secrets, which never show it.
std::string KindOf(const Value& value) {
  const std::string_view kind = ValueKindName(value.kind());
  return (kind.find_first_of("aeiou") == 0 ? "an " : "a ") + std::string(kind);
}

// One host as a base URL: "http://h:p", "https://h:p/prefix", or "h:p" / "h" (http), with
// default_port when it names none. Returns "scheme://host:port[/prefix]".
std::string HostUrl(std::string_view key, std::string_view entry, int default_port) {
  // Hosts are shown in messages and by Describe(): credentials go in basic_auth.
  if (entry.find('@') != std::string_view::npos) {
    kReader.Fail(key, "must not hold user:password@ (give basic_auth instead)");
  }
  const auto bad = [&](std::string_view problem) {
    kReader.Fail(key, "cannot use '" + std::string(entry) + "': " + std::string(problem));
  };
  std::string_view rest = entry;
  std::string scheme = "http";
  if (const std::size_t sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = Lower(rest.substr(0, sep));
    if (scheme != "http" && scheme != "https") bad("the scheme must be http or https");
    rest.remove_prefix(sep + 3);
  }
  if (rest.find_first_of("?# \t") != std::string_view::npos) {
    bad("a host is [http[s]://]host[:port][/prefix], without a query, a fragment or spaces");
  }
  std::string_view prefix;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    prefix = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  std::string_view host = rest;
  std::optional<std::string_view> port;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) bad("its '[' is not closed");
    host = rest.substr(0, close + 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') bad("']' must be followed by ':port' or nothing");
    if (!rest.empty()) port = rest.substr(1);
  } else if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    if (rest.find(':', colon + 1) != std::string_view::npos) {
      bad("an IPv6 address must be in brackets, as in [::1]:9200");
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") bad("it names no host");
  int number = default_port;
  if (port) {
    const char* end = port->data() + port->size();
    const auto [ptr, ec] = std::from_chars(port->data(), end, number);
    if (ec != std::errc() || ptr != end || number < 1 || number > 65535) {
      bad("the port must be a number from 1 to 65535");
    }
  }
  return scheme + "://" + std::string(host) + ":" + std::to_string(number) + std::string(prefix);
}

// A list of hosts, or one string of them separated by commas.
std::vector<std::string> HostsOption(std::string_view key, const Value& value) {
  constexpr std::string_view kExpected = "a list of hosts, or a string of them separated by commas";
  std::vector<std::string_view> entries;
  if (const auto* text = value.Get<std::string>()) {
    if (!Trim(*text).empty()) entries = SplitCommas(*text);
  } else if (const auto* list = value.Get<List>()) {
    for (const Value& v : *list) {
      const auto* entry = v.Get<std::string>();
      if (entry == nullptr) kReader.WrongType(key, kExpected, v);
      entries.push_back(*entry);
    }
  } else {
    kReader.WrongType(key, kExpected, value);
  }
  if (entries.empty()) kReader.Fail(key, "must name at least one host");
  std::vector<std::string> out;
  for (std::string_view entry : entries) out.push_back(HostUrl(key, entry, kDefaultPort));
  return out;
}

// Elasticsearch's rules for index names, checked here so that a bad name is an option error rather
// than a failed PUT at the first write.
std::string IndexOption(std::string_view key, const Value& value) {
  std::string name = kReader.String(key, value);
  const auto bad = [&](const std::string& rule) {
    kReader.Fail(key, "is '" + name + "': Elasticsearch index names " + rule);
  };
  if (name.empty()) kReader.Fail(key, "must not be empty");
  if (name.size() > 255) {
    kReader.Fail(key, "is " + std::to_string(name.size()) +
                          " bytes long; Elasticsearch index names hold at most 255");
  }
  if (name == "." || name == "..") bad("cannot be '.' or '..'");
  if (name.find_first_of("-_+") == 0) bad("cannot start with '-', '_' or '+'");
  if (const std::size_t at = name.find_first_of("\\/*?\"<>|,#: "); at != std::string::npos) {
    bad("cannot contain '" + name.substr(at, 1) +
        "' (nor any of \\ / * ? \" < > | , # : or a space)");
  }
  if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    bad("must be lowercase");
  }
  return name;
}

RefreshPolicy RefreshOption(std::string_view key, const Value& value) {
  if (const auto* b = value.Get<bool>()) return *b ? RefreshPolicy::kTrue : RefreshPolicy::kFalse;
  if (const auto* s = value.Get<std::string>()) {
    if (*s == "true") return RefreshPolicy::kTrue;
    if (*s == "false") return RefreshPolicy::kFalse;
    if (*s == "wait_for") return RefreshPolicy::kWaitFor;
  }
  kReader.WrongType(key, "true, false or \"wait_for\"", value);
}

// api_key: a secret, never shown.
std::string ApiKeyOption(std::string_view key, const Value& value) {
  const auto* s = value.Get<std::string>();
  if (s == nullptr) kReader.Fail(key, "must be a string (got " + KindOf(value) + ")");
  if (s->empty()) kReader.Fail(key, "must not be empty");
  return *s;
}

// [user, password] or "user:password"; the password is a secret, so no message shows either.
std::pair<std::string, std::string> BasicAuthOption(std::string_view key, const Value& value) {
  std::pair<std::string, std::string> auth;
  const auto* list = value.Get<List>();
  const auto* text = value.Get<std::string>();
  if (list != nullptr && list->size() == 2 && (*list)[0].Get<std::string>() != nullptr &&
      (*list)[1].Get<std::string>() != nullptr) {
    auth = {(*list)[0].AsString(), (*list)[1].AsString()};
  } else if (text != nullptr && text->find(':') != std::string::npos) {
    const std::size_t colon = text->find(':');
    auth = {text->substr(0, colon), text->substr(colon + 1)};
  } else {
    const std::string got = list != nullptr   ? "a list of length " + std::to_string(list->size())
                            : text != nullptr ? "a string without ':'"
                                              : KindOf(value);
    kReader.Fail(
        key, "must be a list of two strings [user, password] or a string 'user:password' (got " +
                 got + ")");
  }
  if (auth.first.empty()) kReader.Fail(key, "needs a user name");
  return auth;
}

Object MapOption(std::string_view key, const Value& value) {
  if (const auto* object = value.Get<Object>()) return *object;
  kReader.WrongType(key, "a map", value);
}

}  // namespace

ElasticsearchOptions ElasticsearchOptions::FromObject(const Object& options) {
  ElasticsearchOptions out;
  std::string host = "localhost";
  int port = kDefaultPort;
  for (const auto& [key, value] : options) {
    // null is the reference's None: the default.
    if (value.is_null() && std::ranges::find(kOptionKeys, key) != std::end(kOptionKeys)) continue;
    if (key == "hosts") {
      out.hosts = HostsOption(key, value);
    } else if (key == "host") {
      host = kReader.String(key, value);
    } else if (key == "port") {
      port = static_cast<int>(kReader.WholeNumber(key, value, 1, 65535));
    } else if (key == "index") {
      out.index = IndexOption(key, value);
    } else if (key == "refresh") {
      out.refresh = RefreshOption(key, value);
    } else if (key == "api_key") {
      out.api_key = ApiKeyOption(key, value);
    } else if (key == "basic_auth") {
      out.basic_auth = BasicAuthOption(key, value);
    } else if (key == "verify_certs") {
      out.verify_certs = kReader.Bool(key, value);
    } else if (key == "ca_certs") {
      out.ca_certs = kReader.ReadableFile(key, value);
    } else if (key == "client_cert") {
      out.client_cert = kReader.ReadableFile(key, value);
    } else if (key == "client_key") {
      out.client_key = kReader.ReadableFile(key, value);
    } else if (key == "ssl_show_warn") {
      kReader.Bool(key, value);  // the reference's; dkdata prints no warnings
    } else if (key == "mappings") {
      out.mappings = MapOption(key, value);
    } else if (key == "settings") {
      out.settings = MapOption(key, value);
    } else if (key == "vector_dimensions") {
      kReader.WholeNumber(key, value, 1,
                          4096);  // the reference's (dense_vector's limit); no effect yet
    } else if (key == "default_vector_field") {
      kReader.String(key, value);  // the reference's; no effect yet
    } else if (key == "timeout") {
      out.request_timeout = kReader.Seconds(key, value);
    } else if (key == "connect_timeout") {
      out.connect_timeout = kReader.Seconds(key, value);
    } else if (key == "max_retries") {
      out.max_retries = static_cast<int>(kReader.WholeNumber(key, value, 0, 10));
    } else if (key == "bulk_size") {
      out.bulk_size = static_cast<std::size_t>(kReader.WholeNumber(key, value, 1, 100000));
    } else if (key == "bulk_bytes") {
      // Elasticsearch's http.max_content_length cannot be set above 2 GiB.
      out.bulk_bytes = static_cast<std::size_t>(kReader.WholeNumber(key, value, 1024, 2147483647));
    } else if (key == "auto_create_index") {
      out.auto_create_index = kReader.Bool(key, value);
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
  if (!out.client_key.empty() && out.client_cert.empty()) {
    kReader.Fail("client_key", "needs client_cert, the certificate the key belongs to");
  }
  // hosts wins over host and port, which are checked all the same; a port in host wins over port.
  std::string from_host = HostUrl("host", host, port);
  if (out.hosts.empty()) out.hosts.push_back(std::move(from_host));
  return out;
}

std::string ElasticsearchOptions::Describe() const {
  std::string out = "index '" + index + "' at " + (hosts.empty() ? "(no host)" : hosts.front());
  if (hosts.size() > 1) out += " (+" + std::to_string(hosts.size() - 1) + " more)";
  return out;
}

namespace {

// es://user:password@host:port/index?key=value..., es+https:// for TLS (also es+http:// and
// elasticsearch://), es://h1:9200,h2:9200/index for several hosts. Any config key may be in the
// query; the URL's own parts (hosts, index, user and password) win over the query's.
Object ParseElasticsearchUrl(std::string_view scheme, std::string_view rest) {
  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.starts_with("//")) rest.remove_prefix(2);
  Object options = ParseUrlQuery(query);
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    const std::string password =
        colon == std::string_view::npos ? "" : PercentDecode(userinfo.substr(colon + 1), false);
    options.Set("basic_auth",
                List{Value(PercentDecode(userinfo.substr(0, colon), false)), Value(password)});
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty()) {
    const std::string base = Lower(scheme) == "es+https" ? "https://" : "http://";
    List hosts;
    for (std::string_view entry : SplitCommas(authority)) {
      hosts.emplace_back(base + std::string(entry));
    }
    options.Erase("hosts");
    options.Erase("host");
    // One host goes to `host`, so that a port in the query applies when the URL names none.
    if (hosts.size() == 1) {
      options.Set("host", std::move(hosts.front()));
    } else {
      options.Set("hosts", std::move(hosts));
    }
  }
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash + 1);
    while (path.ends_with('/')) path.remove_suffix(1);
    if (!path.empty()) options.Set("index", PercentDecode(path, false));
  }
  return options;
}

}  // namespace

BackendInfo MakeElasticsearchBackendInfo() {
  BackendInfo info;
  info.name = std::string(kElasticsearchBackend);
  info.aliases = {"es"};
  info.url_schemes = {"es", "es+http", "es+https", "elasticsearch"};
  info.description =
      "Elasticsearch or OpenSearch index (REST over libcurl), in the reference's document layout";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    return std::make_unique<ElasticsearchDatabase>(ElasticsearchOptions::FromObject(options));
  };
  info.url_parser = ParseElasticsearchUrl;
  info.option_keys = kReader.Keys();
  info.check_options = [](const Object& options) { ElasticsearchOptions::FromObject(options); };
  return info;
}

}  // namespace dkdata::internal
