// src/core/closest_name.hpp: "did you mean ...?" for a misspelt name (a backend, a class, an
// option key), shared by the config layer and the backends' option checks.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dkdata::internal {

// The number of single-character insertions, deletions and substitutions (ignoring ASCII case)
// that turn a into b.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to wrong by EditDistance (the first one on a tie), or "" when none is
// within max(2, wrong.size() / 3) edits: a suggestion that far away would only confuse.
std::string ClosestName(std::string_view wrong, std::span<const std::string_view> candidates);
std::string ClosestName(std::string_view wrong, const std::vector<std::string>& candidates);

// " (did you mean 'closest'?)", or "" when nothing is close: for appending to a message.
std::string DidYouMean(std::string_view wrong, const std::vector<std::string>& candidates);

}  // namespace dkdata::internal
