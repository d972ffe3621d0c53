// S3's error answers as dkdata errors (S3Client::ErrorFor).
#include <string>

#include "backends/s3/s3_client.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

ErrorCode CodeFor(long status, const std::string& s3_code) {
  if (s3_code == "InvalidToken" || s3_code == "ExpiredToken" || s3_code == "InvalidAccessKeyId" ||
      s3_code == "SignatureDoesNotMatch" || s3_code == "AccessDenied") {
    return ErrorCode::kUnauthorized;
  }
  if (s3_code == "RequestTimeout") return ErrorCode::kTimeout;
  switch (status) {
    case 401:
    case 403:
      return ErrorCode::kUnauthorized;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
    case 412:
      return ErrorCode::kConflict;
    default:
      return status >= 500 || status == 429 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument;
  }
}

}  // namespace

Error S3Client::ErrorFor(const HttpResponse& response, std::string_view what) const {
  // HEAD answers carry no body: the status alone says what happened.
  const std::string code = XmlText(response.body, "Code");
  std::string message = XmlText(response.body, "Message");
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) text += " " + code;
  if (code == "NoSuchBucket") message = "bucket '" + options_.bucket + "' does not exist";
  if (!message.empty()) text += ": " + message;
  if (response.attempts > 1) text += " (after " + std::to_string(response.attempts) + " tries)";
  return Error(CodeFor(response.status, code), std::move(text), std::string(kS3Backend),
               "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code));
}

}  // namespace dkdata::internal
