// The s3 backend's options: config keys, the s3:// URL form, and its registration.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "backends/builtin.hpp"
#include "backends/option_reader.hpp"
#include "backends/s3/s3_database.hpp"
#include "core/url_text.hpp"
#include "dkdata/factory.hpp"

namespace dkdata::internal {

namespace {

// Every key the backend takes, in the order of its README's table: the reference's (its sync
// class's keys, the later `aws_*`, `region_name` and `max_pool_connections`/`max_attempts`
// spellings), its shared keys, and dkdata's own.
constexpr std::string_view kOptionKeys[] = {"bucket",
                                            "prefix",
                                            "region",
                                            "region_name",
                                            "endpoint_url",
                                            "aws_access_key_id",
                                            "access_key_id",
                                            "aws_secret_access_key",
                                            "secret_access_key",
                                            "aws_session_token",
                                            "session_token",
                                            "multipart_threshold",
                                            "multipart_chunksize",
                                            "max_pool_connections",
                                            "max_workers",
                                            "max_attempts",
                                            "max_retries",
                                            "profile",
                                            "addressing_style",
                                            "timeout",
                                            "connect_timeout",
                                            "verify_certs",
                                            "ca_certs",
                                            "cache_records",
                                            "schema",
                                            "vector_enabled",
                                            "vector_metric"};

constexpr OptionReader kReader(kS3Backend, kOptionKeys);

// S3's smallest part but the last.
constexpr long long kMinPart = 5LL << 20;

// S3's bucket naming rules: 3-63 characters of lower-case letters, digits, '.' and '-', starting
// and ending with a letter or digit.
std::string BucketOption(std::string_view key, const Value& value) {
  std::string name = kReader.String(key, value);
  const auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  const bool ok = name.size() >= 3 && name.size() <= 63 && alnum(name.front()) &&
                  alnum(name.back()) && std::all_of(name.begin(), name.end(), [&](char c) {
                    return alnum(c) || c == '.' || c == '-';
                  });
  if (!ok) {
    kReader.Fail(key, "'" + name +
                          "' is not a bucket name: 3-63 lower-case letters, digits, '.' and '-', "
                          "starting and ending with a letter or digit");
  }
  return name;
}

// A secret: the message never shows it.
std::string SecretOption(std::string_view key, const Value& value) {
  const auto* s = value.Get<std::string>();
  if (s == nullptr) kReader.Fail(key, "must be a string");
  return *s;
}

std::string EndpointOption(std::string_view key, const Value& value) {
  std::string url = kReader.String(key, value);
  if (url.empty()) return url;
  if (url.find('@') != std::string::npos) {
    kReader.Fail(key, "must not hold user:password@ (give the credentials' own keys)");
  }
  const std::size_t scheme = url.find("://");
  const std::string s = scheme == std::string::npos ? "" : url.substr(0, scheme);
  if (s != "http" && s != "https") {
    kReader.Fail(key, "'" + url + "' must start with http:// or https://");
  }
  const std::size_t host = scheme + 3;
  if (url.find_first_of("?#", host) != std::string::npos || host == url.size() ||
      url[host] == ':' || url[host] == '/') {
    kReader.Fail(key, "'" + url + "' must be http(s)://host[:port]");
  }
  return url;
}

// A region goes into host names and the signature's scope: "eu-west-1", "us-gov-east-1", or an
// S3-compatible server's own name of the same letters.
std::string RegionOption(std::string_view key, const Value& value) {
  std::string region = kReader.String(key, value);
  const bool ok = !region.empty() && region.size() <= 64 &&
                  std::all_of(region.begin(), region.end(), [](char c) {
                    return std::islower(static_cast<unsigned char>(c)) ||
                           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
                  });
  if (!ok) {
    kReader.Fail(key, "'" + region + "' is not a region: lower-case letters, digits and '-'");
  }
  return region;
}

S3Addressing AddressingOption(std::string_view key, const Value& value) {
  const std::string s = kReader.String(key, value);
  if (s == "auto") return S3Addressing::kAuto;
  if (s == "path") return S3Addressing::kPath;
  if (s == "virtual") return S3Addressing::kVirtual;
  kReader.Fail(key, "must be \"auto\", \"path\" or \"virtual\" (got \"" + s + "\")");
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

S3Options S3Options::FromObject(const Object& options) {
  S3Options out;
  bool have_bucket = false;
  for (const auto& [key, value] : options) {
    // null is the reference's None: the default.
    if (value.is_null() && std::ranges::find(kOptionKeys, key) != std::end(kOptionKeys)) continue;
    if (key == "bucket") {
      out.bucket = BucketOption(key, value);
      have_bucket = true;
    } else if (key == "prefix") {
      out.prefix = kReader.String(key, value);
      // As the reference: a prefix is a folder, ending in one '/'.
      while (out.prefix.ends_with('/')) out.prefix.pop_back();
      if (!out.prefix.empty()) out.prefix += '/';
    } else if (key == "region" || key == "region_name") {
      out.region = RegionOption(key, value);
    } else if (key == "endpoint_url") {
      out.endpoint_url = EndpointOption(key, value);
    } else if (key == "aws_access_key_id" || key == "access_key_id") {
      out.access_key_id = SecretOption(key, value);
    } else if (key == "aws_secret_access_key" || key == "secret_access_key") {
      out.secret_access_key = SecretOption(key, value);
    } else if (key == "aws_session_token" || key == "session_token") {
      out.session_token = SecretOption(key, value);
    } else if (key == "multipart_threshold") {
      out.multipart_threshold =
          static_cast<std::size_t>(kReader.WholeNumber(key, value, kMinPart, 5LL << 30));
    } else if (key == "multipart_chunksize") {
      out.multipart_chunksize =
          static_cast<std::size_t>(kReader.WholeNumber(key, value, kMinPart, 5LL << 30));
    } else if (key == "max_pool_connections" || key == "max_workers") {
      out.max_pool_connections = static_cast<std::size_t>(kReader.WholeNumber(key, value, 1, 1024));
    } else if (key == "max_attempts") {
      out.max_attempts = static_cast<int>(kReader.WholeNumber(key, value, 1, 20));
    } else if (key == "max_retries") {
      // The reference's sync class passes it to botocore as max_attempts: retries after the first.
      out.max_attempts = 1 + static_cast<int>(kReader.WholeNumber(key, value, 0, 19));
    } else if (key == "profile") {
      out.profile = kReader.String(key, value);
    } else if (key == "addressing_style") {
      out.addressing = AddressingOption(key, value);
    } else if (key == "timeout") {
      out.request_timeout = kReader.Seconds(key, value);
    } else if (key == "connect_timeout") {
      out.connect_timeout = kReader.Seconds(key, value);
    } else if (key == "verify_certs") {
      out.verify_certs = kReader.Bool(key, value);
    } else if (key == "ca_certs") {
      out.ca_certs = kReader.ReadableFile(key, value);
    } else if (key == "cache_records") {
      out.cache_records = static_cast<std::size_t>(kReader.WholeNumber(key, value, 0, 100000000));
    } else if (!kReader.ReferenceSharedKey(key, value)) {
      kReader.Unknown(key);
    }
  }
  if (!have_bucket) kReader.Fail("bucket", "is required: the bucket that holds the records");
  if (out.region.empty())
    out.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1"));
  if (out.addressing == S3Addressing::kVirtual && out.bucket.find('.') != std::string::npos &&
      out.endpoint_url.empty()) {
    kReader.Fail("addressing_style",
                 "cannot be \"virtual\" for bucket '" + out.bucket +
                     "': a name with dots is no host name under S3's TLS certificate");
  }
  return out;
}

std::string S3Options::Describe() const {
  return "s3://" + bucket + "/" + prefix +
         (endpoint_url.empty() ? " in " + region : " at " + endpoint_url);
}

namespace {

// s3://bucket/prefix?key=value...: any config key may be in the query; the URL's bucket and
// prefix win over the query's.
Object ParseS3Url(std::string_view /*scheme*/, std::string_view rest) {
  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.starts_with("//")) rest.remove_prefix(2);
  Object options = ParseUrlQuery(query);
  const std::size_t slash = rest.find('/');
  if (rest.substr(0, slash).find('@') != std::string_view::npos) {
    // Never echoed: what stands before '@' would be a secret.
    kReader.Fail("bucket",
                 "cannot come with user:password@ in an s3:// URL: give aws_access_key_id and "
                 "aws_secret_access_key in the query or the config, or use the environment or "
                 "~/.aws/credentials");
  }
  if (!rest.substr(0, slash).empty()) {
    options.Set("bucket", PercentDecode(rest.substr(0, slash), false));
  }
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    options.Set("prefix", PercentDecode(rest.substr(slash + 1), false));
  }
  return options;
}

}  // namespace

BackendInfo MakeS3BackendInfo() {
  BackendInfo info;
  info.name = std::string(kS3Backend);
  info.url_schemes = {"s3"};
  info.description = "Amazon S3 or an S3-compatible server: one JSON object per record";
  info.factory = [](const Object& options) -> std::unique_ptr<Database> {
    return std::make_unique<S3Database>(S3Options::FromObject(options));
  };
  info.url_parser = ParseS3Url;
  info.option_keys = kReader.Keys();
  info.check_options = [](const Object& options) { S3Options::FromObject(options); };
  return info;
}

}  // namespace dkdata::internal
