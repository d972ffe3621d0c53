// src/backends/s3/s3_client.hpp: the S3 REST calls the backend makes (objects, listings,
// multipart uploads) on src/net/http_client, signed with SigV4 by libcurl.
//
// libcurl 7.88 signs the query string exactly as given and adds no payload hash, so every request
// built here has its parameters sorted and percent-encoded with an explicit '=' (`?uploads=`) and
// carries x-amz-content-sha256 (the body's SHA-256); keys are percent-encoded per RFC 3986 with
// '/' kept, which is S3's canonical form.
//
// Thread-safety: an S3Client may be used by any number of threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/s3/s3_credentials.hpp"
#include "backends/s3/s3_database.hpp"
#include "net/http_client.hpp"

namespace dkdata::internal {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct S3ListEntry {
  std::string key;
  std::string etag;  // with its quotes, as S3 gives it
  std::uint64_t size = 0;
};

class S3Client {
 public:
  // Resolves the credentials (CredentialsChain) and checks nothing on the server.
  explicit S3Client(const S3Options& options);

  const S3Options& options() const noexcept { return options_; }

  // A signed request on key (or on the bucket when key is empty), with query parameters (names
  // and values unencoded; sorted and encoded here), a body and extra headers.
  HttpRequest Request(std::string method, std::string_view key,
                      std::vector<std::pair<std::string, std::string>> query = {},
                      std::string body = {}, HttpHeaders headers = {});
  HttpResponse Send(const HttpRequest& request) { return http_.Send(request); }
  std::vector<HttpClient::Outcome> SendAll(
      const std::vector<HttpRequest>& requests,
      const std::function<void(std::size_t, HttpClient::Outcome&)>& on_done = {}) {
    return http_.SendAll(requests, options_.max_pool_connections, on_done);
  }

  // One page of the keys under prefix (at most max_keys), in S3's order (UTF-8 bytes), after the
  // continuation token `token` ("" for the first page). Sets next_token ("" after the last page).
  std::vector<S3ListEntry> List(std::string_view prefix, const std::string& token,
                                std::size_t max_keys, std::string& next_token);

  // Uploads body to key in parts of multipart_chunksize, sent in parallel; `headers` (content
  // type, tagging, If-None-Match) go on the upload's creation or completion as S3 expects. Returns
  // the completion's response: 200, or 412 when a condition failed. Aborts the upload on failure.
  HttpResponse PutMultipart(std::string_view key, const std::string& body,
                            const HttpHeaders& headers);

  // The error for a response the caller did not expect, from its status and S3's error code:
  // "<what>: HTTP 403 SignatureDoesNotMatch: <S3's message>".
  Error ErrorFor(const HttpResponse& response, std::string_view what) const;

  // "s3://bucket/" + key, for messages.
  std::string Where(std::string_view key) const;

 private:
  std::string ObjectUrl(std::string_view key) const;

  S3Options options_;
  CredentialsChain credentials_;
  HttpClient http_;
  std::string origin_;       // scheme://host[:port] the requests go to
  std::string path_prefix_;  // "/bucket" (path-style) or "" (virtual-hosted)
};

// S3's canonical encoding: RFC 3986 unreserved characters as they are, everything else %XX (upper
// case); '/' kept when keep_slash (object keys in paths), encoded otherwise (query values).
std::string S3Encode(std::string_view text, bool keep_slash);

// The hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

// The text of the first <name> element's content in an S3 XML document, or "" (errors and small
// answers such as an upload's id).
std::string XmlText(std::string_view xml, const char* name);

}  // namespace dkdata::internal
