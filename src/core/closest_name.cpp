#include "core/closest_name.hpp"

#include <algorithm>
#include <cctype>

namespace dkdata::internal {

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                       std::tolower(static_cast<unsigned char>(b[j - 1]))
                                   ? 0
                                   : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string ClosestName(std::string_view wrong, std::span<const std::string_view> candidates) {
  const std::size_t limit = std::max<std::size_t>(2, wrong.size() / 3);
  std::string_view best;
  std::size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    const std::size_t d = EditDistance(wrong, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return std::string(best);
}

std::string ClosestName(std::string_view wrong, const std::vector<std::string>& candidates) {
  const std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return ClosestName(wrong, std::span<const std::string_view>(views));
}

std::string DidYouMean(std::string_view wrong, const std::vector<std::string>& candidates) {
  const std::string closest = ClosestName(wrong, candidates);
  return closest.empty() ? std::string() : " (did you mean '" + closest + "'?)";
}

}  // namespace dkdata::internal
