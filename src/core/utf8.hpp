// src/core/utf8.hpp: UTF-8 validation for formats that must not let invalid text in or out.
//
// Thread-safety: reentrant.
#pragma once

#include <string_view>

namespace dkdata::internal {

// Whether text is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). Runs of ASCII are checked eight bytes at a time.
bool ValidUtf8(std::string_view text) noexcept;

}  // namespace dkdata::internal
