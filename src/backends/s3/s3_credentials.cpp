// The S3 backend's credentials chain (s3_credentials.hpp).
#include "backends/s3/s3_credentials.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/value.hpp"
#include "net/http_client.hpp"

namespace dkdata::internal {

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string_view Trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// A key without its secret (or the reverse) is a mistake to report, not a reason to look further:
// the next source could sign with somebody else's keys.
std::optional<AwsCredentials> Pair(std::string id, std::string secret, std::string token,
                                   std::string source, const std::string& backend) {
  if (id.empty() && secret.empty()) return std::nullopt;
  if (id.empty() || secret.empty()) {
    throw Error(ErrorCode::kUnauthorized,
                source + " has " +
                    (id.empty() ? "a secret access key but no access key id"
                                : "an access key id but no secret access key"),
                backend);
  }
  return AwsCredentials{std::move(id), std::move(secret), std::move(token), std::move(source),
                        std::nullopt};
}

using IniSections = std::map<std::string, std::map<std::string, std::string>, std::less<>>;

// An AWS shared credentials or config file: "[section]" headers and "key = value" lines; '#' and
// ';' start comments. Continuation lines (nested values) are skipped. A missing file is empty.
IniSections ReadIni(const fs::path& path, const std::string& backend) {
  IniSections out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  std::string section;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string_view text = Trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (line[0] == ' ' || line[0] == '\t') continue;  // a nested value's continuation
    if (text.front() == '[') {
      if (text.back() != ']') {
        throw Error(ErrorCode::kInvalidArgument,
                    path.string() + ":" + std::to_string(number) + ": a section header needs ']'",
                    backend);
      }
      section = std::string(Trim(text.substr(1, text.size() - 2)));
      out[section];
      continue;
    }
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      throw Error(ErrorCode::kInvalidArgument,
                  path.string() + ":" + std::to_string(number) + ": expected 'key = value'",
                  backend);
    }
    out[section][std::string(Trim(text.substr(0, eq)))] = std::string(Trim(text.substr(eq + 1)));
  }
  return out;
}

fs::path HomeFile(const char* env_name, const char* name) {
  const std::string set = Env(env_name);
  if (!set.empty()) return set;
  const std::string home = Env("HOME");
  return home.empty() ? fs::path() : fs::path(home) / ".aws" / name;
}

std::optional<AwsCredentials> FromSection(const IniSections& ini, const std::string& section,
                                          const std::string& source, const std::string& backend) {
  const auto found = ini.find(section);
  if (found == ini.end()) return std::nullopt;
  const auto get = [&](const char* key) {
    const auto v = found->second.find(key);
    return v == found->second.end() ? std::string() : v->second;
  };
  return Pair(get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token"),
              source, backend);
}

// IMDSv2: PUT /latest/api/token, then the role's name and its credentials (JSON).
std::optional<AwsCredentials> FromInstanceMetadata(const std::string& backend,
                                                   std::string& looked) {
  std::string disabled = Env("AWS_EC2_METADATA_DISABLED");
  for (char& c : disabled) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (disabled == "true") {
    looked += ", instance metadata (disabled by AWS_EC2_METADATA_DISABLED)";
    return std::nullopt;
  }
  std::string endpoint = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  looked += ", instance metadata at " + endpoint;
  // botocore's defaults: one second, no retry; off EC2 nothing answers.
  HttpOptions options;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.request_timeout = std::chrono::milliseconds(1000);
  options.retry.max_attempts = 2;
  options.backend = backend;
  HttpClient http(options);
  try {
    HttpRequest token_request;
    token_request.method = "PUT";
    token_request.url = endpoint + "/latest/api/token";
    token_request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    const HttpResponse token = http.Send(token_request);
    if (token.status != 200) return std::nullopt;
    const auto get = [&](const std::string& path) {
      HttpRequest r;
      r.url = endpoint + path;
      r.headers = {{"X-aws-ec2-metadata-token", token.body}};
      return http.Send(r);
    };
    const std::string base = "/latest/meta-data/iam/security-credentials/";
    const HttpResponse roles = get(base);
    if (roles.status != 200) return std::nullopt;
    const std::string role(Trim(std::string_view(roles.body).substr(0, roles.body.find('\n'))));
    if (role.empty()) return std::nullopt;
    const HttpResponse creds = get(base + role);
    if (creds.status != 200) return std::nullopt;
    const Value doc = ParseJson(creds.body);
    const Object* o = doc.Get<Object>();
    const auto text = [&](const char* key) {
      const Value* v = o == nullptr ? nullptr : o->Find(key);
      const std::string* s = v == nullptr ? nullptr : v->Get<std::string>();
      return s == nullptr ? std::string() : *s;
    };
    if (text("Code") != "Success") return std::nullopt;
    std::optional<AwsCredentials> out =
        Pair(text("AccessKeyId"), text("SecretAccessKey"), text("Token"),
             "instance metadata (role '" + role + "')", backend);
    if (out) {
      if (const auto when = Timestamp::Parse(text("Expiration"))) {
        out->expiration =
            std::chrono::system_clock::time_point(std::chrono::microseconds(when->micros));
      }
    }
    return out;
  } catch (const Error&) {
    return std::nullopt;  // not on EC2, or its service is down: no credentials from there
  }
}

}  // namespace

CredentialsChain::CredentialsChain(CredentialSettings settings) : settings_(std::move(settings)) {
  std::string looked;
  std::optional<AwsCredentials> found = Resolve(looked);
  if (!found) {
    throw Error(ErrorCode::kUnauthorized,
                "no AWS credentials found (looked in: " + looked +
                    "); give aws_access_key_id and aws_secret_access_key, or set "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                settings_.backend);
  }
  current_ = std::move(*found);
}

std::optional<AwsCredentials> CredentialsChain::Resolve(std::string& looked) {
  const std::string& backend = settings_.backend;
  looked = "the config";
  if (auto c = Pair(settings_.access_key_id, settings_.secret_access_key, settings_.session_token,
                    "the config", backend)) {
    return c;
  }
  // As botocore: a profile the config names explicitly is used instead of the environment's keys.
  if (settings_.profile.empty()) {
    looked += ", the environment";
    if (auto c = Pair(Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                      Env("AWS_SESSION_TOKEN"), "the environment", backend)) {
      return c;
    }
  }
  std::string profile = settings_.profile;
  if (profile.empty()) profile = Env("AWS_PROFILE");
  const bool named = !profile.empty();
  if (profile.empty()) profile = "default";
  bool profile_seen = false;
  const fs::path shared = HomeFile("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (!shared.empty()) {
    looked += ", " + shared.string() + " [" + profile + "]";
    const std::string source =
        "shared credentials file '" + shared.string() + "' [" + profile + "]";
    const IniSections ini = ReadIni(shared, backend);
    profile_seen = ini.contains(profile);
    if (auto c = FromSection(ini, profile, source, backend)) return c;
  }
  const fs::path config = HomeFile("AWS_CONFIG_FILE", "config");
  if (!config.empty()) {
    // The config file names its sections "profile NAME", except "default".
    const std::string section = profile == "default" ? profile : "profile " + profile;
    looked += ", " + config.string() + " [" + section + "]";
    const std::string source = "config file '" + config.string() + "' [" + section + "]";
    const IniSections ini = ReadIni(config, backend);
    profile_seen = profile_seen || ini.contains(section);
    if (auto c = FromSection(ini, section, source, backend)) return c;
  }
  // A profile asked for by name that no file has is a mistake (botocore's ProfileNotFound), not a
  // reason to sign with the instance's role.
  if (named && !profile_seen) {
    throw Error(ErrorCode::kUnauthorized,
                "the profile '" + profile +
                    "' is in no credentials or config file (looked in: " + looked + ")",
                backend);
  }
  return FromInstanceMetadata(backend, looked);
}

AwsCredentials CredentialsChain::Current() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_.expiration &&
      std::chrono::system_clock::now() + std::chrono::minutes(5) >= *current_.expiration) {
    std::string looked;
    if (std::optional<AwsCredentials> fresh = FromInstanceMetadata(settings_.backend, looked)) {
      current_ = std::move(*fresh);
    }
    // Otherwise the old ones are tried until they expire; the server then says 403.
  }
  return current_;
}

}  // namespace dkdata::internal
