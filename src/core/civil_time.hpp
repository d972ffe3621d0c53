// src/core/civil_time.hpp: proleptic Gregorian calendar arithmetic (UTC), shared by timestamps
// and date histograms.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace dkdata::internal {

// Days since 1970-01-01 of year y, month m (1-12), day d (1-31) (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d);
// The date of a day number (the inverse).
void CivilFromDays(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

}  // namespace dkdata::internal
