// S3 REST calls (s3_client.hpp).
#include "backends/s3/s3_client.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <pugixml.hpp>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

HttpOptions HttpOptionsFor(const S3Options& options) {
  HttpOptions http;
  http.connect_timeout = options.connect_timeout;
  http.request_timeout = options.request_timeout;
  http.verify_peer = options.verify_certs;
  http.ca_file = options.ca_certs;
  http.backend = std::string(kS3Backend);
  http.retry.max_attempts = options.max_attempts;
  // S3 asks clients to retry InternalError (500) and SlowDown (503) with backoff.
  http.retry.retry_statuses = {429, 500, 502, 503, 504};
  http.retry.initial_backoff = std::chrono::milliseconds(100);
  http.retry.max_backoff = std::chrono::milliseconds(5000);
  return http;
}

}  // namespace

std::string S3Encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "OpenSSL could not compute a SHA-256",
                std::string(kS3Backend));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string XmlText(std::string_view xml, const char* name) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return {};
  const pugi::xpath_node node = doc.select_node((std::string("//") + name).c_str());
  return node ? node.node().text().as_string() : std::string();
}

S3Client::S3Client(const S3Options& options)
    : options_(options),
      credentials_(CredentialSettings{options.access_key_id, options.secret_access_key,
                                      options.session_token, options.profile,
                                      std::string(kS3Backend)}),
      http_(HttpOptionsFor(options)) {
  std::string endpoint = options_.endpoint_url;
  if (endpoint.empty()) endpoint = "https://s3." + options_.region + ".amazonaws.com";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  bool path_style = options_.addressing == S3Addressing::kPath;
  if (options_.addressing == S3Addressing::kAuto) {
    // S3-compatible servers take the bucket in the path; on AWS a bucket with dots cannot be a
    // host name under its TLS certificate.
    path_style = !options_.endpoint_url.empty() || options_.bucket.find('.') != std::string::npos;
  }
  if (path_style) {
    origin_ = endpoint;
    path_prefix_ = "/" + options_.bucket;
  } else {
    const std::size_t host = endpoint.find("://") + 3;
    origin_ = endpoint.substr(0, host) + options_.bucket + "." + endpoint.substr(host);
  }
}

std::string S3Client::ObjectUrl(std::string_view key) const {
  return origin_ + path_prefix_ + "/" + S3Encode(key, true);
}

std::string S3Client::Where(std::string_view key) const {
  return "s3://" + options_.bucket + "/" + std::string(key);
}

HttpRequest S3Client::Request(std::string method, std::string_view key,
                              std::vector<std::pair<std::string, std::string>> query,
                              std::string body, HttpHeaders headers) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = ObjectUrl(key);
  std::sort(query.begin(), query.end());
  for (std::size_t i = 0; i < query.size(); ++i) {
    r.url += i == 0 ? '?' : '&';
    r.url += S3Encode(query[i].first, false) + "=" + S3Encode(query[i].second, false);
  }
  const AwsCredentials credentials = credentials_.Current();
  r.headers = std::move(headers);
  r.headers.emplace_back("x-amz-content-sha256", Sha256Hex(body));
  if (!credentials.session_token.empty()) {
    r.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  r.body = std::move(body);
  r.sigv4 =
      AwsSigV4{options_.region, "s3", credentials.access_key_id, credentials.secret_access_key};
  return r;
}

std::vector<S3ListEntry> S3Client::List(std::string_view prefix, const std::string& token,
                                        std::size_t max_keys, std::string& next_token) {
  std::vector<std::pair<std::string, std::string>> query = {
      {"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"prefix", std::string(prefix)}};
  if (!token.empty()) query.emplace_back("continuation-token", token);
  const HttpResponse response = Send(Request("GET", "", std::move(query)));
  if (response.status != 200) throw ErrorFor(response, "listing " + Where(prefix));
  pugi::xml_document doc;
  if (!doc.load_buffer(response.body.data(), response.body.size())) {
    throw Error(ErrorCode::kUnavailable,
                "listing " + Where(prefix) + ": the server's answer is not XML",
                std::string(kS3Backend));
  }
  const pugi::xml_node result = doc.child("ListBucketResult");
  std::vector<S3ListEntry> out;
  for (pugi::xml_node item : result.children("Contents")) {
    S3ListEntry entry;
    entry.key = item.child("Key").text().as_string();
    entry.etag = item.child("ETag").text().as_string();
    entry.size = item.child("Size").text().as_ullong();
    out.push_back(std::move(entry));
  }
  next_token = result.child("IsTruncated").text().as_bool()
                   ? result.child("NextContinuationToken").text().as_string()
                   : "";
  return out;
}

HttpResponse S3Client::PutMultipart(std::string_view key, const std::string& body,
                                    const HttpHeaders& headers) {
  // Conditions belong to the completion; everything else (type, tags) to the creation.
  HttpHeaders create_headers, complete_headers;
  for (const auto& header : headers) {
    const bool condition = header.first == "If-None-Match" || header.first == "If-Match";
    (condition ? complete_headers : create_headers).push_back(header);
  }
  const std::string what = "uploading " + Where(key) + " in parts";
  const HttpResponse created =
      Send(Request("POST", key, {{"uploads", ""}}, {}, std::move(create_headers)));
  if (created.status != 200) throw ErrorFor(created, what);
  const std::string upload_id = XmlText(created.body, "UploadId");
  if (upload_id.empty()) {
    throw Error(ErrorCode::kUnavailable, what + ": the server gave no upload id",
                std::string(kS3Backend));
  }
  const auto abort = [&] {
    try {
      Send(Request("DELETE", key, {{"uploadId", upload_id}}));
    } catch (const Error&) {
      // The upload stays incomplete; a bucket lifecycle rule removes such uploads.
    }
  };
  try {
    const std::size_t chunk = options_.multipart_chunksize;
    std::vector<HttpRequest> parts;
    for (std::size_t offset = 0, number = 1; offset < body.size(); offset += chunk, ++number) {
      parts.push_back(Request("PUT", key,
                              {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                              body.substr(offset, chunk)));
    }
    std::string complete = "<CompleteMultipartUpload>";
    const std::vector<HttpClient::Outcome> sent = SendAll(parts);
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (sent[i].error) throw *sent[i].error;
      if (sent[i].response.status != 200) throw ErrorFor(sent[i].response, what);
      const std::string* etag = sent[i].response.Header("etag");
      complete += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
                  (etag ? *etag : std::string()) + "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";
    complete_headers.emplace_back("Content-Type", "application/xml");
    HttpResponse done = Send(Request("POST", key, {{"uploadId", upload_id}}, std::move(complete),
                                     std::move(complete_headers)));
    // S3 may answer 200 and put the error in the body, once it has started to complete.
    if (done.status == 200 && done.body.find("<Error>") != std::string::npos) done.status = 500;
    if (done.status != 200) abort();
    if (done.status != 200 && done.status != 412) throw ErrorFor(done, what);
    return done;
  } catch (...) {
    abort();
    throw;
  }
}

}  // namespace dkdata::internal
