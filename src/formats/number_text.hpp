// src/formats/number_text.hpp: numbers as text, shared by the JSON and CSV writers so that both
// write a number the same way.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <algorithm>
#include <charconv>
#include <string>
#include <type_traits>

namespace dkdata::internal {

// Appends an integer in decimal.
template <typename Integer>
void AppendInteger(std::string& out, Integer value) {
  static_assert(std::is_integral_v<Integer>);
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Appends the shortest text that reads back as the same (finite) double or float, always with a
// fraction or an exponent, "1.0" rather than "1", so that it reads back as a float.
template <typename Floating>
void AppendFloating(std::string& out, Floating value) {
  static_assert(std::is_floating_point_v<Floating>);
  char digits[32];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
  if (std::find_if(digits, result.ptr, [](char c) { return c == '.' || c == 'e'; }) == result.ptr) {
    out += ".0";
  }
}

}  // namespace dkdata::internal
