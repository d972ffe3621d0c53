// bench/workload.hpp: the generated records every dkdata benchmark uses. The Python reference
// script (bench/reference/bench_reference.py) generates the very same records from the same
// formula, so the two are measured on identical data.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dkdata/record.hpp"

namespace dkdata::bench {

inline std::uint64_t SplitMix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::string UuidFrom(std::uint64_t hi, std::uint64_t lo) {
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

// Record i: a UUID id and 8 fields of mixed types. category has 1000 values (0.1 % selectivity).
inline Record MakeRecord(std::uint64_t i) {
  auto r = [i](std::uint64_t k) { return SplitMix64(0x5EED + i * 16 + k); };
  static const char* const kCities[] = {"SF",      "NYC",    "LA",     "Chicago", "Boston",
                                        "Seattle", "Austin", "Denver", "Miami",   "Portland"};
  char name[16], category[16], tag1[8], tag2[8];
  std::snprintf(name, sizeof name, "user_%07llu", static_cast<unsigned long long>(i));
  std::snprintf(category, sizeof category, "cat_%03llu",
                static_cast<unsigned long long>(r(6) % 1000));
  std::snprintf(tag1, sizeof tag1, "t%llu", static_cast<unsigned long long>(r(8) % 50));
  std::snprintf(tag2, sizeof tag2, "t%llu", static_cast<unsigned long long>(r(9) % 50));
  constexpr std::int64_t k2020 = 1577836800;  // 2020-01-01T00:00:00Z
  Record rec;
  rec.set_id(UuidFrom(r(0), r(1)));
  rec.Set("name", std::string(name));
  rec.Set("age", static_cast<std::int64_t>(18 + r(2) % 63));
  rec.Set("city", std::string(kCities[r(3) % 10]));
  rec.Set("score", static_cast<double>(r(4) % 1000000) / 10000.0);
  rec.Set("active", r(5) % 2 == 0);
  rec.Set("category", std::string(category));
  rec.Set("created",
          Timestamp{(k2020 + static_cast<std::int64_t>(r(7) % (5ULL * 365 * 86400))) * 1000000});
  rec.Set("tags", List{std::string(tag1), std::string(tag2)});
  return rec;
}

inline std::vector<Record> MakeRecords(std::size_t n) {
  std::vector<Record> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(MakeRecord(i));
  return out;
}

}  // namespace dkdata::bench
