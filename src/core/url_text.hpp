// src/core/url_text.hpp: decoding the parts of URLs (backends' URL forms).
//
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>

namespace dkdata::internal {

// Decodes %XX escapes (a malformed escape is kept as written); with plus_is_space, '+' is a space
// (query strings), otherwise a plus (paths, user names, passwords).
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace dkdata::internal
