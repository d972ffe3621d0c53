// The S3 backend's credentials chain (backends/s3/s3_credentials.hpp): the config's keys, then the
// environment, the shared credentials file, the config file, and the EC2 instance metadata service
// (IMDSv2), each only when the ones before it have no keys at all; a key without its secret, a
// malformed file or no credentials anywhere are errors that name where, never a secret.
//
// Every test runs with the AWS variables cleared, the shared files in a temporary directory of its
// own and the instance metadata service disabled, unless it points the chain at the fake one of
// tests/net/http_test_server.py (on 127.0.0.1): the developer's own ~/.aws and any real metadata
// service stay out of it.
#if DKDATA_HAVE_S3
#include "backends/s3/s3_credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dkdata/errors.hpp"
#include "net/http_client.hpp"
#include "python_test_server.hpp"
#include "scoped_environment.hpp"

namespace dkdata::internal {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The variables the chain reads: saved and unset for each test, restored after it.
class ScopedAwsEnvironment : public testserver::ScopedEnvironment {
 public:
  ScopedAwsEnvironment()
      : ScopedEnvironment({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
                           "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                           "HOME"}) {}
};

// tests/net/http_test_server.py, with its fake instance metadata service.
class TestServer : public testserver::PythonTestServer {
 public:
  // GET path on it; the body.
  std::string Get(const std::string& path) {
    HttpRequest r;
    r.url = Origin() + path;
    const HttpResponse response = http_.Send(r);
    EXPECT_EQ(response.status, 200) << path;
    return response.body;
  }
  // How many requests the fake metadata service counted under key (imds-token, imds-credentials).
  int Count(const std::string& key) { return std::stoi(Get("/count?key=" + key)); }

 private:
  HttpClient http_{HttpOptions{}};
};

// An error the chain throws.
struct Failure {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string backend;
};

class S3CredentialsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dkdata-s3-credentials-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    credentials_file_ = (dir_ / "credentials").string();
    config_file_ = (dir_ / "config").string();
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", credentials_file_);
    env_.Set("AWS_CONFIG_FILE", config_file_);
    env_.Set("HOME", (dir_ / "home").string());
    env_.Set("AWS_EC2_METADATA_DISABLED", "true");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  static CredentialSettings Settings(std::string id = "", std::string secret = "",
                                     std::string token = "", std::string profile = "") {
    CredentialSettings s;
    s.access_key_id = std::move(id);
    s.secret_access_key = std::move(secret);
    s.session_token = std::move(token);
    s.profile = std::move(profile);
    return s;
  }

  static AwsCredentials Resolve(const CredentialSettings& settings = Settings()) {
    CredentialsChain chain(settings);
    return chain.Current();
  }

  // The chain must refuse to resolve; returns what it threw.
  static Failure FailureOf(const CredentialSettings& settings = Settings()) {
    try {
      CredentialsChain chain(settings);
      ADD_FAILURE() << "resolved credentials from " << chain.Current().source;
    } catch (const Error& e) {
      return Failure{e.code(), e.what(), e.backend()};
    }
    return Failure{};
  }

  // Points the chain at the fake metadata service of server (and enables it).
  void UseMetadataService(const TestServer& server) {
    env_.Unset("AWS_EC2_METADATA_DISABLED");
    env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.Origin());
  }

  ScopedAwsEnvironment env_;
  std::filesystem::path dir_;
  std::string credentials_file_, config_file_;
};

// ---- The order of the sources ----

TEST_F(S3CredentialsTest, TheConfigsKeysComeFirst) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  Write(credentials_file_, "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n");
  const AwsCredentials c = Resolve(Settings("AKIACONFIG", "config-secret", "config-token"));
  EXPECT_EQ(c.access_key_id, "AKIACONFIG");
  EXPECT_EQ(c.secret_access_key, "config-secret");
  EXPECT_EQ(c.session_token, "config-token");
  EXPECT_EQ(c.source, "the config");
  EXPECT_FALSE(c.expiration.has_value());
}

TEST_F(S3CredentialsTest, TheEnvironmentComesBeforeTheFiles) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env_.Set("AWS_SESSION_TOKEN", "env-token");
  Write(credentials_file_, "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n");
  Write(config_file_, "[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n");
  const AwsCredentials c = Resolve();
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.secret_access_key, "env-secret");
  EXPECT_EQ(c.session_token, "env-token");
  EXPECT_EQ(c.source, "the environment");
  // A session token alone is no credentials: the chain goes on.
  env_.Unset("AWS_ACCESS_KEY_ID");
  env_.Unset("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(Resolve().access_key_id, "AKIAFILE");
}

TEST_F(S3CredentialsTest, SharedCredentialsFile) {
  Write(credentials_file_,
        "# AWS credentials\n"
        "; another comment\n"
        "\n"
        "[other]\n"
        "aws_access_key_id = AKIAOTHER\n"
        "aws_secret_access_key = other-secret\n"
        "[ default ]\r\n"
        "aws_access_key_id=AKIAFILE\r\n"
        "aws_secret_access_key   =   file/secret+with=signs  \r\n"
        "aws_session_token = file-token\n"
        "s3 =\n"
        "    max_concurrent_requests = 20\n");
  Write(config_file_, "[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n");
  const AwsCredentials c = Resolve();
  EXPECT_EQ(c.access_key_id, "AKIAFILE");
  EXPECT_EQ(c.secret_access_key, "file/secret+with=signs");
  EXPECT_EQ(c.session_token, "file-token");
  EXPECT_EQ(c.source, "shared credentials file '" + credentials_file_ + "' [default]");
  EXPECT_FALSE(c.expiration.has_value());
}

TEST_F(S3CredentialsTest, TheProfileComesFromTheSettingsElseAwsProfileElseDefault) {
  Write(credentials_file_,
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n"
        "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = v\n"
        "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = p\n");
  EXPECT_EQ(Resolve().access_key_id, "AKIADEFAULT");
  env_.Set("AWS_PROFILE", "dev");
  EXPECT_EQ(Resolve().access_key_id, "AKIADEV");
  EXPECT_EQ(Resolve().source, "shared credentials file '" + credentials_file_ + "' [dev]");
  const AwsCredentials prod = Resolve(Settings("", "", "", "prod"));
  EXPECT_EQ(prod.access_key_id, "AKIAPROD");
  EXPECT_EQ(prod.source, "shared credentials file '" + credentials_file_ + "' [prod]");
  env_.Set("AWS_PROFILE", "");
  EXPECT_EQ(Resolve().access_key_id, "AKIADEFAULT");
}

TEST_F(S3CredentialsTest, ConfigFileNamesItsSectionsProfileName) {
  Write(config_file_,
        "[default]\nregion = eu-west-1\naws_access_key_id = AKIACONFDEFAULT\n"
        "aws_secret_access_key = d\n"
        "[dev]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = w\n"
        "[profile dev]\naws_access_key_id = AKIACONFDEV\naws_secret_access_key = v\n");
  const AwsCredentials d = Resolve();
  EXPECT_EQ(d.access_key_id, "AKIACONFDEFAULT");
  EXPECT_EQ(d.source, "config file '" + config_file_ + "' [default]");
  const AwsCredentials dev = Resolve(Settings("", "", "", "dev"));
  EXPECT_EQ(dev.access_key_id, "AKIACONFDEV");
  EXPECT_EQ(dev.source, "config file '" + config_file_ + "' [profile dev]");
  // The credentials file comes first, when it has the profile.
  Write(credentials_file_, "[dev]\naws_access_key_id = AKIACREDDEV\naws_secret_access_key = c\n");
  EXPECT_EQ(Resolve(Settings("", "", "", "dev")).access_key_id, "AKIACREDDEV");
  EXPECT_EQ(Resolve().access_key_id, "AKIACONFDEFAULT");
}

TEST_F(S3CredentialsTest, TheFilesAreUnderHomeByDefault) {
  env_.Unset("AWS_SHARED_CREDENTIALS_FILE");
  env_.Unset("AWS_CONFIG_FILE");
  const std::string home = (dir_ / "home").string();
  Write(home + "/.aws/config",
        "[profile dev]\naws_access_key_id = AKIAHOMECONF\naws_secret_access_key = h\n");
  const AwsCredentials conf = Resolve(Settings("", "", "", "dev"));
  EXPECT_EQ(conf.access_key_id, "AKIAHOMECONF");
  EXPECT_EQ(conf.source, "config file '" + home + "/.aws/config' [profile dev]");
  Write(home + "/.aws/credentials",
        "[dev]\naws_access_key_id = AKIAHOMECRED\naws_secret_access_key = h\n");
  const AwsCredentials cred = Resolve(Settings("", "", "", "dev"));
  EXPECT_EQ(cred.access_key_id, "AKIAHOMECRED");
  EXPECT_EQ(cred.source, "shared credentials file '" + home + "/.aws/credentials' [dev]");
}

// ---- Incomplete and malformed sources ----

TEST_F(S3CredentialsTest, AKeyWithoutItsSecretIsAnErrorNotAFallThrough) {
  // Complete credentials further down the chain must not be used instead.
  Write(config_file_, "[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n");

  Failure f = FailureOf(Settings("AKIACONFIG", ""));
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("the config has an access key id but no secret access key"));
  EXPECT_EQ(f.backend, "s3");

  f = FailureOf(Settings("", "sekret-config"));
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("the config has a secret access key but no access key id"));
  EXPECT_THAT(f.message, Not(HasSubstr("sekret")));

  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("the environment has an access key id but no secret"));
  env_.Unset("AWS_ACCESS_KEY_ID");
  env_.Set("AWS_SECRET_ACCESS_KEY", "sekret-env");
  env_.Set("AWS_SESSION_TOKEN", "sekret-token");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("the environment has a secret access key but no access key id"));
  EXPECT_THAT(f.message, Not(HasSubstr("sekret")));
  env_.Unset("AWS_SECRET_ACCESS_KEY");
  env_.Unset("AWS_SESSION_TOKEN");

  Write(credentials_file_, "[default]\naws_secret_access_key = sekret-file\n");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("shared credentials file '" + credentials_file_ +
                                   "' [default] has a secret access key but no access key id"));
  EXPECT_THAT(f.message, Not(HasSubstr("sekret")));

  std::filesystem::remove(credentials_file_);
  Write(config_file_, "[profile dev]\naws_access_key_id = AKIACONF\n");
  f = FailureOf(Settings("", "", "", "dev"));
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("config file '" + config_file_ +
                                   "' [profile dev] has an access key id but no secret"));
}

TEST_F(S3CredentialsTest, ErrorsNameTheBackendOfTheSettings) {
  CredentialSettings settings = Settings("AKIA", "");
  settings.backend = "s3-archive";
  EXPECT_EQ(FailureOf(settings).backend, "s3-archive");
}

TEST_F(S3CredentialsTest, AMalformedFileIsAnErrorNamingFileAndLine) {
  Write(credentials_file_,
        "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key sekret-file\n");
  Failure f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kInvalidArgument) << f.message;
  EXPECT_THAT(f.message, HasSubstr(credentials_file_ + ":3: expected 'key = value'"));
  EXPECT_THAT(f.message, Not(HasSubstr("sekret")));
  EXPECT_EQ(f.backend, "s3");

  Write(credentials_file_, "# comment\n\n[default\naws_access_key_id = A\n");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kInvalidArgument) << f.message;
  EXPECT_THAT(f.message, HasSubstr(credentials_file_ + ":3: a section header needs ']'"));

  std::filesystem::remove(credentials_file_);
  Write(config_file_, "[default]\nregion = eu-west-1\noops\n");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kInvalidArgument) << f.message;
  EXPECT_THAT(f.message, HasSubstr(config_file_ + ":3: expected 'key = value'"));

  // A file the chain does not reach is not read.
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  EXPECT_EQ(Resolve().source, "the environment");
}

// ---- Nothing anywhere ----

TEST_F(S3CredentialsTest, NoCredentialsNamesEveryPlaceItLooked) {
  Write(credentials_file_, "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n");
  env_.Set("AWS_SESSION_TOKEN", "sekret-token");
  const Failure f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_EQ(f.backend, "s3");
  // The default profile is named [default] in both files.
  EXPECT_THAT(f.message, HasSubstr("no AWS credentials found (looked in: the config, the "
                                   "environment, " +
                                   credentials_file_ + " [default], " + config_file_ +
                                   " [default], instance metadata (disabled by "
                                   "AWS_EC2_METADATA_DISABLED))"));
  EXPECT_THAT(f.message, HasSubstr("give aws_access_key_id and aws_secret_access_key"));
  EXPECT_THAT(f.message, Not(HasSubstr("sekret")));
}

TEST_F(S3CredentialsTest, ANamedProfileThatNoFileHasIsAnError) {
  Write(credentials_file_, "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n");
  for (const bool from_environment : {false, true}) {
    SCOPED_TRACE(from_environment ? "AWS_PROFILE" : "the config's profile");
    if (from_environment) env_.Set("AWS_PROFILE", "prod");
    const Failure f = FailureOf(Settings("", "", "", from_environment ? "" : "prod"));
    EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
    EXPECT_THAT(f.message, HasSubstr("the profile 'prod' is in no credentials or config file"));
    EXPECT_THAT(f.message,
                HasSubstr(credentials_file_ + " [prod], " + config_file_ + " [profile prod])"));
    EXPECT_THAT(f.message, Not(HasSubstr("instance metadata"))) << "not the instance's role";
  }
}

TEST_F(S3CredentialsTest, AProfileTheConfigNamesWinsOverTheEnvironmentsKeys) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  Write(credentials_file_, "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = p\n");
  EXPECT_EQ(Resolve(Settings("", "", "", "prod")).access_key_id, "AKIAPROD");
  // AWS_PROFILE does not: the environment's keys come first (botocore's order).
  env_.Set("AWS_PROFILE", "prod");
  EXPECT_EQ(Resolve().access_key_id, "AKIAENV");
}

// ---- The instance metadata service (IMDSv2) ----

TEST_F(S3CredentialsTest, InstanceMetadataGivesTheRolesTemporaryCredentials) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  const auto before = std::chrono::system_clock::now();
  const AwsCredentials c = Resolve();
  EXPECT_EQ(c.access_key_id, "ASIAFAKE1");
  EXPECT_EQ(c.secret_access_key, "imds-secret-1");
  EXPECT_EQ(c.session_token, "imds-token-1");
  EXPECT_EQ(c.source, "instance metadata (role 'dkdata-test-role')");
  ASSERT_TRUE(c.expiration.has_value());
  // The fake's credentials last six hours (to the second).
  EXPECT_GT(*c.expiration, before + 6h - 1min);
  EXPECT_LT(*c.expiration, before + 6h + 1min);
  // One session token (PUT, with its TTL header), then the role and its credentials with it: the
  // fake answers 401 to requests without the token.
  EXPECT_EQ(server.Count("imds-token"), 1);
  EXPECT_EQ(server.Count("imds-roles"), 1);
  EXPECT_EQ(server.Count("imds-credentials"), 1);
}

TEST_F(S3CredentialsTest, InstanceMetadataComesLast) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  Write(config_file_, "[default]\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n");
  EXPECT_EQ(Resolve().access_key_id, "AKIACONF");
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "e");
  EXPECT_EQ(Resolve().access_key_id, "AKIAENV");
  EXPECT_EQ(server.Count("imds-token"), 0) << "the metadata service was asked";
}

TEST_F(S3CredentialsTest, DisabledInstanceMetadataIsNotAsked) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  env_.Set("AWS_EC2_METADATA_DISABLED", "True");  // any case, as botocore
  const Failure f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"));
  EXPECT_THAT(f.message, Not(HasSubstr(server.Origin())));
  EXPECT_EQ(server.Count("imds-token"), 0);
}

TEST_F(S3CredentialsTest, InstanceMetadataWithoutCredentialsIsNamedInTheError) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  // No role attached to the instance.
  server.Get("/imds?role=");
  Failure f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr(", instance metadata at " + server.Origin() + ")"));
  EXPECT_EQ(server.Count("imds-roles"), 1);
  EXPECT_EQ(server.Count("imds-credentials"), 0);
  // A role whose credentials the service could not get.
  server.Get("/imds?role=dkdata-test-role&code=Failure");
  f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("instance metadata at " + server.Origin()));
  EXPECT_EQ(server.Count("imds-credentials"), 1);
  // The endpoint may end in '/'.
  server.Get("/imds?code=Success");
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.Origin() + "/");
  EXPECT_THAT(Resolve().access_key_id, StartsWith("ASIAFAKE"));
}

TEST_F(S3CredentialsTest, NoMetadataServiceIsNoCredentialsQuickly) {
  // Nothing listens on port 1 of loopback.
  env_.Unset("AWS_EC2_METADATA_DISABLED");
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  const auto started = std::chrono::steady_clock::now();
  const Failure f = FailureOf();
  EXPECT_EQ(f.code, ErrorCode::kUnauthorized) << f.message;
  EXPECT_THAT(f.message, HasSubstr("instance metadata at http://127.0.0.1:1)"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(S3CredentialsTest, CredentialsNearTheirExpirationAreFetchedAgain) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  // Credentials that expire in a minute: within five minutes, so every Current() fetches anew.
  server.Get("/imds?expires_in=60");
  CredentialsChain chain(Settings());
  EXPECT_EQ(server.Count("imds-credentials"), 1);
  AwsCredentials c = chain.Current();
  EXPECT_EQ(c.access_key_id, "ASIAFAKE2");
  EXPECT_EQ(c.secret_access_key, "imds-secret-2");
  EXPECT_EQ(c.session_token, "imds-token-2");
  EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE3");
  // Credentials good for an hour are kept.
  server.Get("/imds?expires_in=3600");
  EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE4");
  EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE4");
  EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE4");
  EXPECT_EQ(server.Count("imds-credentials"), 4);
}

TEST_F(S3CredentialsTest, LongLivedCredentialsAreNotFetchedAgain) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  CredentialsChain chain(Settings());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE1");
  EXPECT_EQ(server.Count("imds-token"), 1);
  EXPECT_EQ(server.Count("imds-credentials"), 1);
}

TEST_F(S3CredentialsTest, AFailedRefreshKeepsTheCredentialsItHas) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  server.Get("/imds?expires_in=60");
  CredentialsChain chain(Settings());
  server.Get("/imds?role=");
  const AwsCredentials c = chain.Current();
  EXPECT_EQ(c.access_key_id, "ASIAFAKE1");
  EXPECT_EQ(c.secret_access_key, "imds-secret-1");
  EXPECT_EQ(server.Count("imds-roles"), 2) << "the refresh was tried";
  // Once the service answers again, the next call refreshes.
  server.Get("/imds?role=dkdata-test-role");
  EXPECT_EQ(chain.Current().access_key_id, "ASIAFAKE2");
}

TEST_F(S3CredentialsTest, ConcurrentCallsGetMatchingKeysDuringRefreshes) {
  TestServer server;
  ASSERT_TRUE(server.up()) << "python3 could not run the test server";
  UseMetadataService(server);
  server.Get("/imds?expires_in=60");
  CredentialsChain chain(Settings());
  std::vector<std::thread> threads;
  std::vector<std::vector<AwsCredentials>> seen(4);
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) seen[t].push_back(chain.Current());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> ids;
  for (const auto& list : seen) {
    for (const AwsCredentials& c : list) {
      // Key, secret and token of one answer: never a mix of two.
      const std::string n = c.access_key_id.substr(std::string("ASIAFAKE").size());
      EXPECT_THAT(c.access_key_id, StartsWith("ASIAFAKE"));
      EXPECT_EQ(c.secret_access_key, "imds-secret-" + n);
      EXPECT_EQ(c.session_token, "imds-token-" + n);
      ids.insert(c.access_key_id);
    }
  }
  // Each call refreshed once, under the lock: 1 + 12 answers, each handed out once.
  EXPECT_EQ(server.Count("imds-credentials"), 13);
  EXPECT_EQ(ids.size(), 12u);
}

}  // namespace
}  // namespace dkdata::internal
#endif  // DKDATA_HAVE_S3
