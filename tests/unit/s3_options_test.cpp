// The S3 backend's options: config keys and their aliases, bucket names, the region's environment
// fallback, the s3:// URL form, and that no credential appears in a message or in Describe(); then
// the pieces of a request that need no server: S3's percent-encoding, SHA-256 payload hashes, the
// XML answers' text, and the URLs and headers of requests built by S3Client. No server: these tests
// parse options (S3Options::FromObject, the registry's URL parser) and build requests only.
#if DKDATA_HAVE_S3
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "backends/option_reader.hpp"
#include "backends/s3/s3_client.hpp"
#include "backends/s3/s3_database.hpp"
#include "dkdata/dkdata.hpp"
#include "scoped_environment.hpp"

namespace dkdata {
namespace {

using internal::OptionError;
using internal::S3Addressing;
using internal::S3Options;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::size_t kMiB = 1 << 20;

// The environment variables the options (and the credentials chain of S3Client) read: unset while
// an instance lives, restored on destruction. The instance metadata service is disabled, and the
// shared files point nowhere, so that the developer's own AWS setup cannot leak in.
class ScopedAwsEnvironment : public testserver::ScopedEnvironment {
 public:
  ScopedAwsEnvironment()
      : ScopedEnvironment({"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                           "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                           "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT"}) {
    Set("AWS_EC2_METADATA_DISABLED", "true");
    Set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dkdata-s3-options-test/credentials");
    Set("AWS_CONFIG_FILE", "/nonexistent/dkdata-s3-options-test/config");
  }
};

// The options with a bucket added (most tests are about the other keys).
Object WithBucket(Object options) {
  if (options.Find("bucket") == nullptr) options.Set("bucket", Value("my-bucket"));
  return options;
}

S3Options From(const Object& options) {
  return S3Options::FromObject(WithBucket(options));
}

// Parsing the options (as given: no bucket added) must fail with an invalid_argument OptionError
// naming key; returns the message.
std::string OptionErrorOf(const Object& options, const std::string& key) {
  try {
    S3Options::FromObject(options);
  } catch (const OptionError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_EQ(e.backend(), "s3") << e.what();
    EXPECT_THAT(e.what(), HasSubstr("'" + key + "'"));
    return e.what();
  }
  ADD_FAILURE() << "accepted bad option " << key;
  return "";
}

// The same with a bucket added.
std::string BadOption(const Object& options, const std::string& key) {
  return OptionErrorOf(WithBucket(options), key);
}

// The options the registry's URL parser makes of url ("s3://...").
Object UrlOptions(std::string_view url) {
  const std::size_t colon = url.find(':');
  const BackendInfo* info = BackendRegistry::FindByScheme(url.substr(0, colon));
  EXPECT_NE(info, nullptr) << url;
  if (info == nullptr) return Object{};
  EXPECT_EQ(info->name, "s3");
  return info->url_parser(url.substr(0, colon), url.substr(colon + 1));
}

S3Options FromUrl(std::string_view url) {
  return S3Options::FromObject(UrlOptions(url));
}

class S3OptionsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dkdata-s3-options-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file of that name in the test's directory.
  std::string File(const std::string& name) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << "-----BEGIN CERTIFICATE-----\n";
    return path;
  }

  ScopedAwsEnvironment env_;
  std::filesystem::path dir_;
};

// ---- Defaults and every key ----

TEST_F(S3OptionsTest, Defaults) {
  const S3Options o = S3Options::FromObject(Object{{"bucket", Value("my-bucket")}});
  EXPECT_EQ(o.bucket, "my-bucket");
  EXPECT_EQ(o.prefix, "records/");
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.endpoint_url, "");
  EXPECT_EQ(o.access_key_id, "");
  EXPECT_EQ(o.secret_access_key, "");
  EXPECT_EQ(o.session_token, "");
  EXPECT_EQ(o.profile, "");
  EXPECT_EQ(o.addressing, S3Addressing::kAuto);
  EXPECT_EQ(o.multipart_threshold, 8 * kMiB);
  EXPECT_EQ(o.multipart_chunksize, 8 * kMiB);
  EXPECT_EQ(o.max_pool_connections, 10u);
  EXPECT_EQ(o.max_attempts, 5);
  EXPECT_EQ(o.request_timeout, milliseconds(60000));
  EXPECT_EQ(o.connect_timeout, milliseconds(10000));
  EXPECT_TRUE(o.verify_certs);
  EXPECT_EQ(o.ca_certs, "");
  EXPECT_EQ(o.cache_records, 100000u);
  EXPECT_EQ(o.Describe(), "s3://my-bucket/records/ in us-east-1");
}

TEST_F(S3OptionsTest, EveryKey) {
  // Every key once, in the order the registry publishes them; of two aliases the later one wins.
  const Object options{{"bucket", Value("data.example-1")},
                       {"prefix", Value("people")},
                       {"region", Value("eu-west-1")},
                       {"region_name", Value("eu-central-1")},
                       {"endpoint_url", Value("http://127.0.0.1:9000")},
                       {"aws_access_key_id", Value("AKIAFIRST")},
                       {"access_key_id", Value("AKIASECOND")},
                       {"aws_secret_access_key", Value("first-secret")},
                       {"secret_access_key", Value("second-secret")},
                       {"aws_session_token", Value("first-token")},
                       {"session_token", Value("second-token")},
                       {"multipart_threshold", Value(16 << 20)},
                       {"multipart_chunksize", Value(5 << 20)},
                       {"max_pool_connections", Value(20)},
                       {"max_workers", Value(4)},
                       {"max_attempts", Value(7)},
                       {"max_retries", Value(2)},
                       {"profile", Value("prod")},
                       {"addressing_style", Value("virtual")},
                       {"timeout", Value(2.5)},
                       {"connect_timeout", Value(1)},
                       {"verify_certs", Value(false)},
                       {"ca_certs", Value(File("ca.pem"))},
                       {"cache_records", Value(0)},
                       {"schema", Value(Object{{"fields", Value(List{})}})},
                       {"vector_enabled", Value(true)},
                       {"vector_metric", Value("cosine")}};
  const S3Options o = S3Options::FromObject(options);
  EXPECT_EQ(o.bucket, "data.example-1");
  EXPECT_EQ(o.prefix, "people/");
  EXPECT_EQ(o.region, "eu-central-1");
  EXPECT_EQ(o.endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(o.access_key_id, "AKIASECOND");
  EXPECT_EQ(o.secret_access_key, "second-secret");
  EXPECT_EQ(o.session_token, "second-token");
  EXPECT_EQ(o.multipart_threshold, 16 * kMiB);
  EXPECT_EQ(o.multipart_chunksize, 5 * kMiB);
  EXPECT_EQ(o.max_pool_connections, 4u);
  EXPECT_EQ(o.max_attempts, 3) << "max_retries: 2 is three attempts";
  EXPECT_EQ(o.profile, "prod");
  EXPECT_EQ(o.addressing, S3Addressing::kVirtual);
  EXPECT_EQ(o.request_timeout, milliseconds(2500));
  EXPECT_EQ(o.connect_timeout, milliseconds(1000));
  EXPECT_FALSE(o.verify_certs);
  EXPECT_EQ(o.ca_certs, (dir_ / "ca.pem").string());
  EXPECT_EQ(o.cache_records, 0u);

  // The registry publishes the same keys, and checks options as the factory does.
  const BackendInfo* info = BackendRegistry::Find("s3");
  ASSERT_NE(info, nullptr);
  std::vector<std::string> given;
  for (const auto& [key, value] : options) given.push_back(key);
  EXPECT_EQ(info->option_keys, given);
  ASSERT_TRUE(info->check_options);
  EXPECT_NO_THROW(info->check_options(options));
  EXPECT_THROW(info->check_options(Object{{"bucket", Value("b-1")}, {"bucekt", Value("x")}}),
               OptionError);
  EXPECT_THROW(info->check_options(Object{}), OptionError);
}

TEST_F(S3OptionsTest, NullMeansTheDefault) {
  Object options{{"bucket", Value("my-bucket")}};
  for (const char* key : {"prefix",
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
                          "vector_metric"}) {
    options.Set(key, Value(nullptr));
  }
  const S3Options o = S3Options::FromObject(options);
  EXPECT_EQ(o.prefix, "records/");
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.endpoint_url, "");
  EXPECT_EQ(o.access_key_id, "");
  EXPECT_EQ(o.multipart_threshold, 8 * kMiB);
  EXPECT_EQ(o.max_pool_connections, 10u);
  EXPECT_EQ(o.max_attempts, 5);
  EXPECT_EQ(o.addressing, S3Addressing::kAuto);
  EXPECT_EQ(o.request_timeout, milliseconds(60000));
  EXPECT_TRUE(o.verify_certs);
  EXPECT_EQ(o.cache_records, 100000u);
  // A null bucket is no bucket; null is no pass for an unknown key.
  EXPECT_THAT(OptionErrorOf(Object{{"bucket", Value(nullptr)}}, "bucket"), HasSubstr("required"));
  BadOption(Object{{"buckets", Value(nullptr)}}, "buckets");
}

// ---- bucket and prefix ----

TEST_F(S3OptionsTest, BucketIsRequired) {
  const std::string message = OptionErrorOf(Object{{"prefix", Value("p")}}, "bucket");
  EXPECT_THAT(message, HasSubstr("option 'bucket' of backend 's3' is required")) << message;
}

TEST_F(S3OptionsTest, BucketNamesFollowS3sRules) {
  for (const std::string& name : std::vector<std::string>{
           "abc", "my-bucket", "my.bucket.example", "1bucket", "bucket9", std::string(63, 'a')}) {
    EXPECT_EQ(From(Object{{"bucket", Value(name)}}).bucket, name);
  }
  for (const std::string& name : std::vector<std::string>{
           "", "ab", std::string(64, 'a'), "My-Bucket", "-bucket", "bucket-", ".bucket", "bucket.",
           "my_bucket", "my bucket", "bücket", "my/bucket"}) {
    SCOPED_TRACE(name);
    const std::string message = OptionErrorOf(Object{{"bucket", Value(name)}}, "bucket");
    EXPECT_THAT(message, HasSubstr("'" + name + "' is not a bucket name"));
    EXPECT_THAT(message, HasSubstr("3-63 lower-case letters, digits, '.' and '-'"));
  }
  EXPECT_THAT(OptionErrorOf(Object{{"bucket", Value(5)}}, "bucket"), HasSubstr("must be a string"));
}

TEST_F(S3OptionsTest, PrefixIsAFolderEndingInOneSlash) {
  const std::map<std::string, std::string> cases = {
      {"recs", "recs/"}, {"recs/", "recs/"}, {"recs///", "recs/"},
      {"a/b", "a/b/"},   {"a/b/", "a/b/"},   {"", ""},
      {"/", ""},         {"///", ""}};
  for (const auto& [given, want] : cases) {
    SCOPED_TRACE(given);
    EXPECT_EQ(From(Object{{"prefix", Value(given)}}).prefix, want);
  }
  EXPECT_EQ(From(Object{{"prefix", Value("")}}).Describe(), "s3://my-bucket/ in us-east-1");
  EXPECT_THAT(BadOption(Object{{"prefix", Value(5)}}, "prefix"), HasSubstr("must be a string"));
}

// ---- region ----

TEST_F(S3OptionsTest, RegionFromTheConfigElseTheEnvironmentElseUsEast1) {
  EXPECT_EQ(From(Object{}).region, "us-east-1");
  env_.Set("AWS_DEFAULT_REGION", "eu-west-2");
  EXPECT_EQ(From(Object{}).region, "eu-west-2");
  env_.Set("AWS_REGION", "ap-south-1");
  EXPECT_EQ(From(Object{}).region, "ap-south-1") << "AWS_REGION wins over AWS_DEFAULT_REGION";
  EXPECT_EQ(From(Object{{"region", Value("sa-east-1")}}).region, "sa-east-1");
  EXPECT_EQ(From(Object{{"region_name", Value("ca-central-1")}}).region, "ca-central-1");
  EXPECT_EQ(From(Object{{"region_name", Value("ca-central-1")}}).Describe(),
            "s3://my-bucket/records/ in ca-central-1");
  // An empty variable is an unset one.
  env_.Set("AWS_REGION", "");
  EXPECT_EQ(From(Object{}).region, "eu-west-2");
  env_.Set("AWS_DEFAULT_REGION", "");
  EXPECT_EQ(From(Object{}).region, "us-east-1");
  for (const char* key : {"region", "region_name"}) {
    EXPECT_THAT(BadOption(Object{{key, Value(1)}}, key), HasSubstr("must be a string"));
    // It becomes part of host names and of the signature's scope.
    for (const char* bad : {"", "EU-WEST-1", "eu west 1", "eu-west-1.evil.example/", "x?y"}) {
      EXPECT_THAT(BadOption(Object{{key, Value(bad)}}, key), HasSubstr("is not a region")) << bad;
    }
  }
}

// ---- credentials ----

TEST_F(S3OptionsTest, CredentialKeysAndTheirAliases) {
  const S3Options aws = From(Object{{"aws_access_key_id", Value("AKIA1")},
                                    {"aws_secret_access_key", Value("s1")},
                                    {"aws_session_token", Value("t1")},
                                    {"profile", Value("dev")}});
  EXPECT_EQ(aws.access_key_id, "AKIA1");
  EXPECT_EQ(aws.secret_access_key, "s1");
  EXPECT_EQ(aws.session_token, "t1");
  EXPECT_EQ(aws.profile, "dev");
  const S3Options plain = From(Object{{"access_key_id", Value("AKIA2")},
                                      {"secret_access_key", Value("s2")},
                                      {"session_token", Value("t2")}});
  EXPECT_EQ(plain.access_key_id, "AKIA2");
  EXPECT_EQ(plain.secret_access_key, "s2");
  EXPECT_EQ(plain.session_token, "t2");
  for (const char* key : {"aws_access_key_id", "access_key_id", "aws_secret_access_key",
                          "secret_access_key", "aws_session_token", "session_token", "profile"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(BadOption(Object{{key, Value(List{})}}, key), HasSubstr("must be a string"));
  }
}

TEST_F(S3OptionsTest, NoMessageShowsASecret) {
  const Object cases[] = {
      WithBucket(Object{{"aws_secret_access_key", Value(123456789)}}),
      WithBucket(Object{{"secret_access_key", Value(123456789)}}),
      WithBucket(Object{{"aws_secret_access_key", Value(List{Value("sekret")})}}),
      WithBucket(Object{{"aws_session_token", Value(Object{{"t", Value("sekret")}})}}),
      WithBucket(Object{{"session_token", Value(123456789)}}),
      WithBucket(Object{{"aws_access_key_id", Value(123456789)}}),
      WithBucket(Object{{"access_key_id", Value(List{Value("sekret")})}}),
      WithBucket(Object{{"aws_secret_acess_key", Value("sekret")}}),
      WithBucket(Object{{"endpoint_url", Value("http://AKIA:sekret@127.0.0.1:9000")}}),
      WithBucket(Object{{"endpoint_url", Value("https://sekret@s3.example")}}),
      WithBucket(Object{{"aws_secret_access_key", Value("sekret")}, {"timeout", Value(0)}}),
      Object{{"aws_secret_access_key", Value("sekret")}, {"bucket", Value("Bad")}},
      Object{{"aws_secret_access_key", Value("sekret")}, {"session_token", Value("sekret")}},
      UrlOptions("s3://my-bucket/p?aws_secret_access_key=sekret&timeout=soon"),
      UrlOptions("s3://my-bucket/p?secret_access_key=sekret&endpoint_url=ftp://h"),
      UrlOptions("s3://my-bucket/p?endpoint_url=http://k:sekret@h"),
  };
  for (const Object& options : cases) {
    try {
      S3Options::FromObject(options);
      ADD_FAILURE() << "accepted";
    } catch (const OptionError& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      EXPECT_THAT(e.what(), Not(HasSubstr("sekret")));
      EXPECT_THAT(e.what(), Not(HasSubstr("123456789")));
    }
  }
}

// A URL with "key:secret@" before the bucket (as es:// and postgres:// take a user and password)
// is refused, without the secret in the message.
TEST_F(S3OptionsTest, UrlUserInfoIsRefusedWithoutShowingTheSecret) {
  for (const char* url : {"s3://AKIAEXAMPLE:sekret@my-bucket/p", "s3://sekret@my-bucket"}) {
    SCOPED_TRACE(url);
    try {
      FromUrl(url);
      ADD_FAILURE() << "accepted " << url;
    } catch (const OptionError& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      EXPECT_THAT(e.what(), Not(HasSubstr("sekret")));
    }
  }
}

TEST_F(S3OptionsTest, DescribeNeverShowsCredentials) {
  const S3Options o = From(Object{{"aws_access_key_id", Value("AKIASHOWNOT")},
                                  {"aws_secret_access_key", Value("sekret")},
                                  {"aws_session_token", Value("tokensekret")},
                                  {"profile", Value("prod")},
                                  {"prefix", Value("recs")},
                                  {"endpoint_url", Value("https://minio.example:9000")}});
  EXPECT_EQ(o.Describe(), "s3://my-bucket/recs/ at https://minio.example:9000");
  const S3Options url = FromUrl(
      "s3://my-bucket/recs?aws_access_key_id=AKIASHOWNOT&aws_secret_access_key=sekret&"
      "region=eu-west-1");
  EXPECT_EQ(url.Describe(), "s3://my-bucket/recs/ in eu-west-1");
  EXPECT_EQ(url.secret_access_key, "sekret");
}

// ---- endpoint_url ----

TEST_F(S3OptionsTest, EndpointUrlIsHttpOrHttpsWithoutCredentials) {
  for (const char* url : {"http://127.0.0.1:9000", "https://minio.example", "https://[::1]:9000",
                          "http://localhost:4566/", ""}) {
    EXPECT_EQ(From(Object{{"endpoint_url", Value(url)}}).endpoint_url, url);
  }
  struct Case {
    const char* url;
    const char* says;
  };
  const Case cases[] = {
      {"ftp://h", "'ftp://h' must start with http:// or https://"},
      {"localhost:9000", "'localhost:9000' must start with http:// or https://"},
      {"s3.example", "must start with http:// or https://"},
      {"http://", "'http://' must be http(s)://host[:port]"},
      {"http://:9000", "'http://:9000' must be http(s)://host[:port]"},
      {"https:///path", "must be http(s)://host[:port]"},
      {"http://h:9000?x=1", "must be http(s)://host[:port]"},
      {"https://h#frag", "must be http(s)://host[:port]"},
      {"http://user:pw@h:9000", "must not hold user:password@"},
      {"https://user@h", "must not hold user:password@"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    const std::string message = BadOption(Object{{"endpoint_url", Value(c.url)}}, "endpoint_url");
    EXPECT_THAT(message, HasSubstr(c.says));
  }
  EXPECT_THAT(BadOption(Object{{"endpoint_url", Value("http://user:pw@h")}}, "endpoint_url"),
              Not(HasSubstr("pw")));
  EXPECT_THAT(BadOption(Object{{"endpoint_url", Value(9000)}}, "endpoint_url"),
              HasSubstr("must be a string"));
}

// ---- sizes, pools, retries, timeouts ----

TEST_F(S3OptionsTest, MultipartSizesAreAtLeastFiveMiB) {
  for (const char* key : {"multipart_threshold", "multipart_chunksize"}) {
    SCOPED_TRACE(key);
    auto size = [&](Value v) {
      const S3Options o = From(Object{{key, std::move(v)}});
      return std::string(key) == "multipart_threshold" ? o.multipart_threshold
                                                       : o.multipart_chunksize;
    };
    EXPECT_EQ(size(Value(5 << 20)), 5 * kMiB);
    EXPECT_EQ(size(Value("67108864")), 64 * kMiB);
    EXPECT_EQ(size(Value(std::int64_t{5} << 30)), std::size_t{5} << 30);
    for (const Value& bad : {Value((5 << 20) - 1), Value(0), Value(-1),
                             Value(5.5 * (1 << 20) + 0.5), Value((std::int64_t{5} << 30) + 1)}) {
      SCOPED_TRACE(bad.ToDisplayString());
      EXPECT_THAT(BadOption(Object{{key, bad}}, key),
                  HasSubstr("must be a whole number from 5242880 to 5368709120"));
    }
    EXPECT_THAT(BadOption(Object{{key, Value("big")}}, key), HasSubstr("must be a number"));
  }
}

TEST_F(S3OptionsTest, PoolConnectionsAndItsAliasMaxWorkers) {
  EXPECT_EQ(From(Object{{"max_pool_connections", Value(1)}}).max_pool_connections, 1u);
  EXPECT_EQ(From(Object{{"max_pool_connections", Value("1024")}}).max_pool_connections, 1024u);
  EXPECT_EQ(From(Object{{"max_workers", Value(32)}}).max_pool_connections, 32u);
  for (const char* key : {"max_pool_connections", "max_workers"}) {
    for (const Value& bad : {Value(0), Value(1025), Value(-3), Value(2.5)}) {
      SCOPED_TRACE(std::string(key) + " = " + bad.ToDisplayString());
      EXPECT_THAT(BadOption(Object{{key, bad}}, key), HasSubstr("from 1 to 1024"));
    }
  }
}

TEST_F(S3OptionsTest, MaxAttemptsAndMaxRetriesWhichIsAttemptsLessOne) {
  EXPECT_EQ(From(Object{{"max_attempts", Value(1)}}).max_attempts, 1);
  EXPECT_EQ(From(Object{{"max_attempts", Value("20")}}).max_attempts, 20);
  // The reference's max_retries counts the retries after the first attempt.
  EXPECT_EQ(From(Object{{"max_retries", Value(0)}}).max_attempts, 1);
  EXPECT_EQ(From(Object{{"max_retries", Value(3)}}).max_attempts, 4);
  EXPECT_EQ(From(Object{{"max_retries", Value("19")}}).max_attempts, 20);
  for (const Value& bad : {Value(0), Value(21), Value(1.5), Value("many")}) {
    SCOPED_TRACE(bad.ToDisplayString());
    BadOption(Object{{"max_attempts", bad}}, "max_attempts");
  }
  EXPECT_THAT(BadOption(Object{{"max_attempts", Value(0)}}, "max_attempts"),
              HasSubstr("from 1 to 20"));
  for (const Value& bad : {Value(-1), Value(20), Value(0.5)}) {
    SCOPED_TRACE(bad.ToDisplayString());
    EXPECT_THAT(BadOption(Object{{"max_retries", bad}}, "max_retries"), HasSubstr("from 0 to 19"));
  }
}

TEST_F(S3OptionsTest, TimeoutsAreSeconds) {
  EXPECT_EQ(From(Object{{"timeout", Value("0.5")}}).request_timeout, milliseconds(500));
  EXPECT_EQ(From(Object{{"timeout", Value(120)}}).request_timeout, milliseconds(120000));
  EXPECT_EQ(From(Object{{"connect_timeout", Value(3)}}).connect_timeout, milliseconds(3000));
  for (const char* key : {"timeout", "connect_timeout"}) {
    for (const Value& bad : {Value(0), Value(-1), Value("soon"), Value(1e7)}) {
      SCOPED_TRACE(std::string(key) + " = " + bad.ToDisplayString());
      BadOption(Object{{key, bad}}, key);
    }
  }
  EXPECT_THAT(BadOption(Object{{"connect_timeout", Value(0)}}, "connect_timeout"),
              HasSubstr("seconds > 0"));
}

TEST_F(S3OptionsTest, CacheRecords) {
  EXPECT_EQ(From(Object{{"cache_records", Value(0)}}).cache_records, 0u);
  EXPECT_EQ(From(Object{{"cache_records", Value("500")}}).cache_records, 500u);
  EXPECT_EQ(From(Object{{"cache_records", Value(100000000)}}).cache_records, 100000000u);
  for (const Value& bad : {Value(-1), Value(100000001), Value(1.5), Value("lots")}) {
    SCOPED_TRACE(bad.ToDisplayString());
    BadOption(Object{{"cache_records", bad}}, "cache_records");
  }
  EXPECT_THAT(BadOption(Object{{"cache_records", Value(-1)}}, "cache_records"),
              HasSubstr("from 0 to 100000000"));
}

TEST_F(S3OptionsTest, CertificateOptions) {
  EXPECT_FALSE(From(Object{{"verify_certs", Value("false")}}).verify_certs);
  EXPECT_TRUE(From(Object{{"verify_certs", Value("on")}}).verify_certs);
  BadOption(Object{{"verify_certs", Value("maybe")}}, "verify_certs");
  const std::string missing = (dir_ / "missing.pem").string();
  EXPECT_THAT(BadOption(Object{{"ca_certs", Value(missing)}}, "ca_certs"),
              HasSubstr("'" + missing + "'"));
  EXPECT_THAT(BadOption(Object{{"ca_certs", Value(dir_.string())}}, "ca_certs"),
              HasSubstr("is a directory"));
  EXPECT_EQ(From(Object{{"ca_certs", Value("")}}).ca_certs, "");
}

// ---- addressing_style ----

TEST_F(S3OptionsTest, AddressingStyle) {
  EXPECT_EQ(From(Object{{"addressing_style", Value("auto")}}).addressing, S3Addressing::kAuto);
  EXPECT_EQ(From(Object{{"addressing_style", Value("path")}}).addressing, S3Addressing::kPath);
  EXPECT_EQ(From(Object{{"addressing_style", Value("virtual")}}).addressing,
            S3Addressing::kVirtual);
  for (const Value& bad : {Value("Path"), Value("host"), Value(""), Value(1)}) {
    SCOPED_TRACE(bad.ToDisplayString());
    BadOption(Object{{"addressing_style", bad}}, "addressing_style");
  }
  EXPECT_THAT(BadOption(Object{{"addressing_style", Value("host")}}, "addressing_style"),
              HasSubstr("must be \"auto\", \"path\" or \"virtual\" (got \"host\")"));
}

TEST_F(S3OptionsTest, VirtualAddressingRefusesABucketWithDotsOnAws) {
  const std::string message =
      OptionErrorOf(Object{{"bucket", Value("my.bucket")}, {"addressing_style", Value("virtual")}},
                    "addressing_style");
  EXPECT_THAT(message, HasSubstr("cannot be \"virtual\" for bucket 'my.bucket'"));
  // Path-style takes it, and so does an S3-compatible server of one's own.
  EXPECT_EQ(
      From(Object{{"bucket", Value("my.bucket")}, {"addressing_style", Value("path")}}).addressing,
      S3Addressing::kPath);
  EXPECT_EQ(From(Object{{"bucket", Value("my.bucket")},
                        {"addressing_style", Value("virtual")},
                        {"endpoint_url", Value("http://127.0.0.1:9000")}})
                .addressing,
            S3Addressing::kVirtual);
}

// ---- the reference's shared keys, unknown keys ----

TEST_F(S3OptionsTest, TheReferencesSharedKeysAreAcceptedAndChecked) {
  EXPECT_NO_THROW(From(Object{{"schema", Value(Object{})},
                              {"vector_enabled", Value("false")},
                              {"vector_metric", Value("euclidean")}}));
  BadOption(Object{{"schema", Value("s")}}, "schema");
  BadOption(Object{{"vector_enabled", Value("maybe")}}, "vector_enabled");
  BadOption(Object{{"vector_metric", Value(5)}}, "vector_metric");
}

TEST_F(S3OptionsTest, UnknownKeysSuggestTheClosestKey) {
  struct Case {
    const char* typo;
    const char* meant;
  };
  for (const Case& c :
       {Case{"buckt", "bucket"}, Case{"regoin", "region"}, Case{"endpoint_uri", "endpoint_url"},
        Case{"aws_secret_acces_key", "aws_secret_access_key"}, Case{"max_worker", "max_workers"},
        Case{"cache_record", "cache_records"}}) {
    SCOPED_TRACE(c.typo);
    const std::string message = BadOption(Object{{c.typo, Value(1)}}, c.typo);
    EXPECT_THAT(message, HasSubstr("unknown option '" + std::string(c.typo) +
                                   "' for backend 's3' (did you mean '" + c.meant + "'?"));
  }
  const std::string far = BadOption(Object{{"zzzzzzzz", Value(1)}}, "zzzzzzzz");
  EXPECT_THAT(far, Not(HasSubstr("did you mean")));
  EXPECT_THAT(far, HasSubstr("it takes: bucket, prefix, region, region_name, endpoint_url"));
  // Also in a URL's query.
  const std::string in_url = OptionErrorOf(UrlOptions("s3://my-bucket/p?regin=x"), "regin");
  EXPECT_THAT(in_url, HasSubstr("did you mean 'region'?"));
}

// ---- The registry and URLs ----

TEST_F(S3OptionsTest, RegisteredUnderItsNameAndScheme) {
  const BackendInfo* info = BackendRegistry::Find("s3");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "s3");
  EXPECT_TRUE(info->available) << info->unavailable_reason;
  EXPECT_EQ(BackendRegistry::Find("S3"), info);
  EXPECT_EQ(BackendRegistry::FindByScheme("s3"), info);
  EXPECT_EQ(BackendRegistry::FindByScheme("S3"), info);
  EXPECT_TRUE(info->factory);
  EXPECT_TRUE(info->url_parser);
}

TEST_F(S3OptionsTest, UrlForms) {
  const S3Options o = FromUrl(
      "s3://my-bucket/some/prefix?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&"
      "max_workers=4&addressing_style=path&timeout=2.5");
  EXPECT_EQ(o.bucket, "my-bucket");
  EXPECT_EQ(o.prefix, "some/prefix/");
  EXPECT_EQ(o.endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.max_pool_connections, 4u);
  EXPECT_EQ(o.addressing, S3Addressing::kPath);
  EXPECT_EQ(o.request_timeout, milliseconds(2500));
  EXPECT_EQ(o.Describe(), "s3://my-bucket/some/prefix/ at http://127.0.0.1:9000");

  // Percent-encoded query values and prefixes.
  const S3Options encoded = FromUrl(
      "s3://my-bucket/a%20b%2Bc?endpoint_url=https%3A%2F%2Fminio.example%3A9000&"
      "aws_secret_access_key=ab%2Bcd%2Fef");
  EXPECT_EQ(encoded.prefix, "a b+c/");
  EXPECT_EQ(encoded.endpoint_url, "https://minio.example:9000");
  EXPECT_EQ(encoded.secret_access_key, "ab+cd/ef");

  // No prefix in the URL: the default (or the query's).
  EXPECT_EQ(FromUrl("s3://my-bucket").prefix, "records/");
  EXPECT_EQ(FromUrl("s3://my-bucket?prefix=q").prefix, "q/");
  EXPECT_EQ(FromUrl("s3://my-bucket").bucket, "my-bucket");
}

TEST_F(S3OptionsTest, TheUrlsBucketAndPrefixWinOverTheQuerys) {
  const S3Options o = FromUrl("s3://url-bucket/url-prefix?bucket=query-bucket&prefix=query");
  EXPECT_EQ(o.bucket, "url-bucket");
  EXPECT_EQ(o.prefix, "url-prefix/");
  // What the URL leaves out comes from the query.
  const S3Options q = FromUrl("s3:///p?bucket=query-bucket");
  EXPECT_EQ(q.bucket, "query-bucket");
  EXPECT_EQ(q.prefix, "p/");
  EXPECT_EQ(FromUrl("s3://?bucket=query-bucket&prefix=x").bucket, "query-bucket");
}

TEST_F(S3OptionsTest, BadUrlsAreOptionErrors) {
  struct Case {
    const char* url;
    const char* key;
    const char* says;
  };
  const Case cases[] = {
      {"s3://", "bucket", "is required"},
      {"s3:///p", "bucket", "is required"},
      {"s3://My_Bucket/p", "bucket", "'My_Bucket' is not a bucket name"},
      {"s3://my-bucket/p?endpoint_url=ftp://h", "endpoint_url", "must start with http://"},
      {"s3://my-bucket/p?multipart_chunksize=1024", "multipart_chunksize", "from 5242880"},
      {"s3://my-bucket/p?max_retries=99", "max_retries", "from 0 to 19"},
      {"s3://my.bucket/p?addressing_style=virtual", "addressing_style", "cannot be \"virtual\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_THAT(OptionErrorOf(UrlOptions(c.url), c.key), HasSubstr(c.says));
  }
}

TEST_F(S3OptionsTest, TheFactoriesFailOnOptionsBeforeAnyRequest) {
  // Port 1 of loopback: were a request made, it would fail as unavailable, not as an option error.
  const char* const urls[] = {
      "s3://Bad_Bucket/p?endpoint_url=http://127.0.0.1:1",
      "s3://my-bucket/p?endpoint_url=http://127.0.0.1:1&aws_secret_access_key=sekret&max_workers=0",
  };
  for (const char* url : urls) {
    SCOPED_TRACE(url);
    try {
      OpenDatabase(url);
      ADD_FAILURE() << "opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      EXPECT_THAT(e.what(), HasSubstr("option '"));
      EXPECT_THAT(e.what(), Not(HasSubstr("sekret")));
    }
  }
  try {
    CreateDatabase("s3", Object{{"bucket", Value("my-bucket")},
                                {"endpoint_url", Value("http://127.0.0.1:1")},
                                {"aws_secret_access_key", Value("sekret")},
                                {"multipart_threshold", Value(1)}});
    ADD_FAILURE() << "created";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("option 'multipart_threshold'"));
    EXPECT_THAT(e.what(), Not(HasSubstr("sekret")));
  }
}

// ==== Encoding, hashes, XML and requests (s3_client.hpp) ====

class S3EncodeTest : public testing::Test {
 protected:
  // A client with credentials from the options (the chain then looks nowhere else). It sends
  // nothing: these tests only build requests.
  static internal::S3Client Client(Object options) {
    options.Set("aws_access_key_id", Value("AKIAEXAMPLE"));
    options.Set("aws_secret_access_key", Value("sekret"));
    return internal::S3Client(From(options));
  }
  static const std::string* Header(const internal::HttpRequest& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  ScopedAwsEnvironment env_;
};

TEST_F(S3EncodeTest, UnreservedCharactersStayAsTheyAre) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
  EXPECT_EQ(internal::S3Encode(unreserved, false), unreserved);
  EXPECT_EQ(internal::S3Encode(unreserved, true), unreserved);
  EXPECT_EQ(internal::S3Encode("", false), "");
}

TEST_F(S3EncodeTest, SlashIsKeptOnlyInKeys) {
  EXPECT_EQ(internal::S3Encode("a/b/c.json", true), "a/b/c.json");
  EXPECT_EQ(internal::S3Encode("a/b/c.json", false), "a%2Fb%2Fc.json");
  EXPECT_EQ(internal::S3Encode("//", true), "//");
}

TEST_F(S3EncodeTest, EverythingElseIsUpperCasePercentHex) {
  const std::map<std::string, std::string> cases = {
      {" ", "%20"},    {"+", "%2B"},           {"=", "%3D"},          {"&", "%26"},
      {"%", "%25"},    {"?", "%3F"},           {"#", "%23"},          {"*", "%2A"},
      {":", "%3A"},    {"@", "%40"},           {"!", "%21"},          {"'", "%27"},
      {"(", "%28"},    {",", "%2C"},           {";", "%3B"},          {"\"", "%22"},
      {"\\", "%5C"},   {"\n", "%0A"},          {"ü", "%C3%BC"},       {"€", "%E2%82%AC"},
      {"\xff", "%FF"}, {"a b+c", "a%20b%2Bc"}, {"x=1&y", "x%3D1%26y"}};
  for (const auto& [text, want] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(internal::S3Encode(text, false), want);
    EXPECT_EQ(internal::S3Encode(text, true), want);
  }
  EXPECT_EQ(internal::S3Encode(std::string_view("a\0b", 3), false), "a%00b");
  EXPECT_EQ(internal::S3Encode("dir/ü x.json", true), "dir/%C3%BC%20x.json");
}

TEST_F(S3EncodeTest, Sha256HexMatchesKnownVectors) {
  EXPECT_EQ(internal::Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(internal::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(internal::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(internal::Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Every byte counts, a NUL included.
  EXPECT_EQ(internal::Sha256Hex(std::string_view("a\0b", 3)),
            "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
}

TEST_F(S3EncodeTest, XmlTextFindsTheFirstElement) {
  const std::string error =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The key &amp; its &lt;value&gt; do not exist</Message>"
      "<Key>records/a.json</Key></Error>";
  EXPECT_EQ(internal::XmlText(error, "Code"), "NoSuchKey");
  EXPECT_EQ(internal::XmlText(error, "Message"), "The key & its <value> do not exist");
  EXPECT_EQ(internal::XmlText(error, "RequestId"), "");
  // Nested, under S3's default namespace.
  const std::string upload =
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE-1</UploadId>"
      "</InitiateMultipartUploadResult>";
  EXPECT_EQ(internal::XmlText(upload, "UploadId"), "VXBsb2FkIElE-1");
  EXPECT_EQ(internal::XmlText("<a><b><Key>1</Key></b><Key>2</Key></a>", "Key"), "1");
  EXPECT_EQ(internal::XmlText("<a><Key></Key></a>", "Key"), "");
  // Not XML, or nothing.
  EXPECT_EQ(internal::XmlText("", "Code"), "");
  EXPECT_EQ(internal::XmlText("<Error><Code>NoSuchKey</Cod", "Code"), "");
  EXPECT_EQ(internal::XmlText("502 Bad Gateway", "Code"), "");
}

// ---- Requests built by S3Client ----

TEST_F(S3EncodeTest, PathStyleWithAnEndpointAndVirtualHostedOnAws) {
  EXPECT_EQ(Client(Object{{"endpoint_url", Value("http://127.0.0.1:9000/")}})
                .Request("GET", "records/a b.json")
                .url,
            "http://127.0.0.1:9000/my-bucket/records/a%20b.json");
  EXPECT_EQ(Client(Object{{"region", Value("eu-west-1")}}).Request("GET", "records/x.json").url,
            "https://my-bucket.s3.eu-west-1.amazonaws.com/records/x.json");
  // A bucket with dots goes in the path on AWS (its TLS certificate covers one label only).
  EXPECT_EQ(Client(Object{{"bucket", Value("my.bucket")}}).Request("GET", "k").url,
            "https://s3.us-east-1.amazonaws.com/my.bucket/k");
  EXPECT_EQ(Client(Object{{"addressing_style", Value("path")}}).Request("GET", "k").url,
            "https://s3.us-east-1.amazonaws.com/my-bucket/k");
  EXPECT_EQ(Client(Object{{"endpoint_url", Value("https://minio.example:9000")},
                          {"addressing_style", Value("virtual")}})
                .Request("GET", "k")
                .url,
            "https://my-bucket.minio.example:9000/k");
}

TEST_F(S3EncodeTest, QueriesAreSortedAndEncodedWithAnExplicitEquals) {
  internal::S3Client client = Client(Object{{"endpoint_url", Value("http://127.0.0.1:9000")}});
  EXPECT_EQ(client.Request("POST", "a+b.json", {{"uploads", ""}}).url,
            "http://127.0.0.1:9000/my-bucket/a%2Bb.json?uploads=");
  EXPECT_EQ(
      client
          .Request(
              "GET", "",
              {{"prefix", "records/a b"}, {"list-type", "2"}, {"continuation-token", "x+y/z="}})
          .url,
      "http://127.0.0.1:9000/my-bucket/?continuation-token=x%2By%2Fz%3D&list-type=2&"
      "prefix=records%2Fa%20b");
}

TEST_F(S3EncodeTest, PayloadHashSignatureAndSessionToken) {
  internal::S3Client client = Client(Object{{"region", Value("eu-west-3")}});
  const internal::HttpRequest put = client.Request("PUT", "k", {}, "abc", {{"If-None-Match", "*"}});
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.body, "abc");
  ASSERT_NE(Header(put, "x-amz-content-sha256"), nullptr);
  EXPECT_EQ(*Header(put, "x-amz-content-sha256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_NE(Header(put, "If-None-Match"), nullptr);
  EXPECT_EQ(Header(put, "x-amz-security-token"), nullptr) << "long-term keys carry no token";
  ASSERT_TRUE(put.sigv4.has_value());
  EXPECT_EQ(put.sigv4->region, "eu-west-3");
  EXPECT_EQ(put.sigv4->service, "s3");
  EXPECT_EQ(put.sigv4->access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(put.sigv4->secret_access_key, "sekret");

  internal::S3Client temporary = Client(Object{{"aws_session_token", Value("tok/en+1")}});
  const internal::HttpRequest get = temporary.Request("GET", "k");
  ASSERT_NE(Header(get, "x-amz-security-token"), nullptr);
  EXPECT_EQ(*Header(get, "x-amz-security-token"), "tok/en+1");
  EXPECT_EQ(*Header(get, "x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_S3
