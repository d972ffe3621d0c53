// src/backends/s3/s3_credentials.hpp: where the S3 backend's AWS credentials come from, in the
// order botocore looks: the config's keys, the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials and config files
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or ~/.aws/config; the
// profile from the config, else AWS_PROFILE, else "default"), and the EC2 instance metadata
// service (IMDSv2: a session token first, then the role's credentials; at
// AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254; skipped when
// AWS_EC2_METADATA_DISABLED=true).
//
// Thread-safety: Current() may be called from any thread; credentials from the instance metadata
// are fetched again, under a lock, when they are within five minutes of expiring.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace dkdata::internal {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // never shown in messages
  std::string session_token;      // "" for long-term keys
  std::string source;  // "config", "environment", "shared credentials file '...' [profile]", ...
  std::optional<std::chrono::system_clock::time_point> expiration;
};

struct CredentialSettings {
  std::string access_key_id, secret_access_key, session_token;  // from the config, or empty
  std::string profile;                                          // from the config, or empty
  std::string backend = "s3";                                   // names the backend in errors
};

class CredentialsChain {
 public:
  // Resolves the credentials once. Throws Error(kUnauthorized) when no source has any (naming
  // every place it looked) or a source is incomplete (a key without its secret), and
  // Error(kInvalidArgument) for a malformed credentials file (naming file and line).
  explicit CredentialsChain(CredentialSettings settings);

  // The credentials to sign the next request with.
  AwsCredentials Current();

 private:
  std::optional<AwsCredentials> Resolve(std::string& looked);

  CredentialSettings settings_;
  std::mutex mutex_;
  AwsCredentials current_;
};

}  // namespace dkdata::internal
