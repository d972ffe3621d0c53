// Aggregations computed by the core (dkdata/aggregation.hpp; the rules are docs/aggregations.md).
#include "dkdata/aggregation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/aggregation_keys.hpp"
#include "core/civil_time.hpp"
#include "core/evaluator.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata {

namespace {

// Elasticsearch's default search.max_buckets: a histogram with more buckets is an error there, and
// here too, so that a tiny interval cannot fill the memory.
constexpr std::int64_t kMaxBuckets = 65536;
constexpr std::int64_t kMicrosPerMinute = 60'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// A number as the key of its group: 30.0 and 30 are one term.
// Calls fn on each scalar the value holds: itself, or a list's elements (lists of lists
// flattened). Objects and vectors hold none an aggregation counts.
template <typename Fn>
void ForEachScalar(const Value& v, Fn&& fn) {
  switch (v.kind()) {
    case ValueKind::kNull:
    case ValueKind::kObject:
    case ValueKind::kVector:
      return;
    case ValueKind::kList:
      for (const Value& element : *v.Get<List>()) ForEachScalar(element, fn);
      return;
    default:
      fn(v);
  }
}

// The identity of a term (kind and canonical JSON text): equal terms, equal text.
std::string TermText(const Value& canonical) {
  std::string text(1, static_cast<char>('0' + static_cast<int>(canonical.kind())));
  AppendJson(text, canonical);
  return text;
}

// Orders term keys: by kind (as sorting does), then value.
// The start of the calendar bucket holding t.
std::int64_t BucketStart(std::int64_t micros, DateInterval interval) {
  switch (interval) {
    case DateInterval::kMinute:
      return FloorDiv(micros, kMicrosPerMinute) * kMicrosPerMinute;
    case DateInterval::kHour:
      return FloorDiv(micros, 60 * kMicrosPerMinute) * 60 * kMicrosPerMinute;
    case DateInterval::kDay:
      return FloorDiv(micros, kMicrosPerDay) * kMicrosPerDay;
    case DateInterval::kWeek: {
      // 1970-01-01 was a Thursday: Mondays are days 4 + 7k.
      const std::int64_t day = FloorDiv(micros, kMicrosPerDay);
      return (FloorDiv(day - 4, 7) * 7 + 4) * kMicrosPerDay;
    }
    default: {
      std::int64_t y;
      unsigned m, d;
      internal::CivilFromDays(FloorDiv(micros, kMicrosPerDay), y, m, d);
      if (interval == DateInterval::kQuarter) m = (m - 1) / 3 * 3 + 1;
      if (interval == DateInterval::kYear) m = 1;
      return internal::DaysFromCivil(y, m, 1) * kMicrosPerDay;
    }
  }
}

// The start of the bucket after the one starting at start.
std::int64_t NextBucket(std::int64_t start, DateInterval interval) {
  switch (interval) {
    case DateInterval::kMinute:
      return start + kMicrosPerMinute;
    case DateInterval::kHour:
      return start + 60 * kMicrosPerMinute;
    case DateInterval::kDay:
      return start + kMicrosPerDay;
    case DateInterval::kWeek:
      return start + 7 * kMicrosPerDay;
    default: {
      std::int64_t y;
      unsigned m, d;
      internal::CivilFromDays(FloorDiv(start, kMicrosPerDay), y, m, d);
      const unsigned step = interval == DateInterval::kMonth     ? 1
                            : interval == DateInterval::kQuarter ? 3
                                                                 : 12;
      m += step;
      while (m > 12) {
        m -= 12;
        ++y;
      }
      return internal::DaysFromCivil(y, m, 1) * kMicrosPerDay;
    }
  }
}

}  // namespace

std::string_view AggregationOpName(AggregationOp op) noexcept {
  switch (op) {
    case AggregationOp::kCount:
      return "count";
    case AggregationOp::kTerms:
      return "terms";
    case AggregationOp::kMin:
      return "min";
    case AggregationOp::kMax:
      return "max";
    case AggregationOp::kSum:
      return "sum";
    case AggregationOp::kAvg:
      return "avg";
    case AggregationOp::kCardinality:
      return "cardinality";
    case AggregationOp::kHistogram:
      return "histogram";
    case AggregationOp::kDateHistogram:
      return "date_histogram";
  }
  return "?";
}

std::string_view DateIntervalName(DateInterval interval) noexcept {
  switch (interval) {
    case DateInterval::kMinute:
      return "minute";
    case DateInterval::kHour:
      return "hour";
    case DateInterval::kDay:
      return "day";
    case DateInterval::kWeek:
      return "week";
    case DateInterval::kMonth:
      return "month";
    case DateInterval::kQuarter:
      return "quarter";
    case DateInterval::kYear:
      return "year";
  }
  return "?";
}

namespace {

Aggregation Make(std::string name, AggregationOp op, std::string field) {
  Aggregation a;
  a.name = std::move(name);
  a.op = op;
  a.field = std::move(field);
  return a;
}

}  // namespace

Aggregation Aggregation::Count(std::string name) {
  return Make(std::move(name), AggregationOp::kCount, "");
}
Aggregation Aggregation::Terms(std::string name, std::string field, std::size_t size) {
  Aggregation a = Make(std::move(name), AggregationOp::kTerms, std::move(field));
  a.size = size;
  return a;
}
Aggregation Aggregation::Min(std::string name, std::string field) {
  return Make(std::move(name), AggregationOp::kMin, std::move(field));
}
Aggregation Aggregation::Max(std::string name, std::string field) {
  return Make(std::move(name), AggregationOp::kMax, std::move(field));
}
Aggregation Aggregation::Sum(std::string name, std::string field) {
  return Make(std::move(name), AggregationOp::kSum, std::move(field));
}
Aggregation Aggregation::Avg(std::string name, std::string field) {
  return Make(std::move(name), AggregationOp::kAvg, std::move(field));
}
Aggregation Aggregation::Cardinality(std::string name, std::string field) {
  return Make(std::move(name), AggregationOp::kCardinality, std::move(field));
}
Aggregation Aggregation::Histogram(std::string name, std::string field, double interval) {
  Aggregation a = Make(std::move(name), AggregationOp::kHistogram, std::move(field));
  a.interval = interval;
  return a;
}
Aggregation Aggregation::DateHistogram(std::string name, std::string field, DateInterval interval) {
  Aggregation a = Make(std::move(name), AggregationOp::kDateHistogram, std::move(field));
  a.date_interval = interval;
  return a;
}

void ValidateAggregations(const std::vector<Aggregation>& aggregations) {
  std::unordered_set<std::string> names;
  for (const Aggregation& a : aggregations) {
    const std::string what =
        "aggregation '" + a.name + "' (" + std::string(AggregationOpName(a.op)) + ")";
    if (a.name.empty()) Invalid("an aggregation needs a name");
    if (!names.insert(a.name).second) Invalid("two aggregations are named '" + a.name + "'");
    if (a.op != AggregationOp::kCount && a.field.empty()) Invalid(what + " needs a field");
    if (a.op == AggregationOp::kTerms && a.size == 0) Invalid(what + " needs a size of 1 or more");
    if (a.op == AggregationOp::kHistogram && !(std::isfinite(a.interval) && a.interval > 0)) {
      Invalid(what + " needs an interval > 0");
    }
  }
}

// ---- Aggregator ----

struct Aggregator::State {
  struct One {
    Aggregation spec;
    std::size_t count = 0;  // kCount; values seen (kAvg)
    std::optional<Value> min_number, max_number;
    std::optional<Timestamp> min_time, max_time;
    double sum = 0;  // kSum, kAvg (Neumaier-compensated)
    double sum_error = 0;
    std::unordered_map<std::string, std::size_t> term_index;  // kTerms, kCardinality
    std::vector<AggregationBucket> terms;
    std::map<std::int64_t, std::size_t> buckets;  // histograms: bucket index or start -> count
  };
  std::vector<One> all;
  std::vector<std::string> seen;  // one record's terms or buckets, counted once per record
  Value id_scratch;
};

Aggregator::Aggregator(std::vector<Aggregation> aggregations) : state_(std::make_unique<State>()) {
  ValidateAggregations(aggregations);
  for (Aggregation& a : aggregations) {
    State::One& one = state_->all.emplace_back();
    one.spec = std::move(a);
  }
}

Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;
Aggregator& Aggregator::operator=(Aggregator&&) noexcept = default;

void Aggregator::Add(const Record& record) {
  State& s = *state_;
  for (State::One& one : s.all) {
    const Aggregation& spec = one.spec;
    if (spec.op == AggregationOp::kCount) {
      ++one.count;
      continue;
    }
    const Value* value = internal::QueryValue(record, spec.field, s.id_scratch);
    if (value == nullptr) continue;
    s.seen.clear();
    // Counts a key once per record.
    auto first_time = [&s](std::string key) {
      if (std::find(s.seen.begin(), s.seen.end(), key) != s.seen.end()) return false;
      s.seen.push_back(std::move(key));
      return true;
    };
    ForEachScalar(*value, [&](const Value& v) {
      switch (spec.op) {
        case AggregationOp::kTerms:
        case AggregationOp::kCardinality: {
          Value key = v.is_number() ? internal::CanonicalNumber(v) : v;
          std::string text = TermText(key);
          if (!first_time(text)) return;
          const auto [it, fresh] = one.term_index.emplace(std::move(text), one.terms.size());
          if (fresh) one.terms.push_back(AggregationBucket{std::move(key), 0});
          ++one.terms[it->second].count;
          return;
        }
        case AggregationOp::kMin:
        case AggregationOp::kMax:
          if (v.is_number()) {
            if (!one.min_number || internal::AggregationKeyLess(v, *one.min_number))
              one.min_number = v;
            if (!one.max_number || internal::AggregationKeyLess(*one.max_number, v))
              one.max_number = v;
          } else if (const Timestamp* t = v.Get<Timestamp>()) {
            if (!one.min_time || *t < *one.min_time) one.min_time = *t;
            if (!one.max_time || *one.max_time < *t) one.max_time = *t;
          }
          return;
        case AggregationOp::kSum:
        case AggregationOp::kAvg:
          if (v.is_number()) {
            const double x = v.AsDouble();
            const double t = one.sum + x;
            one.sum_error +=
                std::fabs(one.sum) >= std::fabs(x) ? (one.sum - t) + x : (x - t) + one.sum;
            one.sum = t;
            ++one.count;
          }
          return;
        case AggregationOp::kHistogram:
          if (v.is_number()) {
            const double index = std::floor(v.AsDouble() / spec.interval);
            if (std::fabs(index) > 4e18)
              Invalid("aggregation '" + spec.name + "': value out of range");
            const auto key = static_cast<std::int64_t>(index);
            if (first_time(std::to_string(key))) ++one.buckets[key];
          }
          return;
        case AggregationOp::kDateHistogram:
          if (const Timestamp* t = v.Get<Timestamp>()) {
            const std::int64_t start = BucketStart(t->micros, spec.date_interval);
            if (first_time(std::to_string(start))) ++one.buckets[start];
          }
          return;
        default:
          return;
      }
    });
  }
}

std::vector<AggregationResult> Aggregator::Results() const {
  std::vector<AggregationResult> out;
  for (const State::One& one : state_->all) {
    const Aggregation& spec = one.spec;
    AggregationResult r;
    r.name = spec.name;
    r.op = spec.op;
    switch (spec.op) {
      case AggregationOp::kCount:
        r.value = Value(static_cast<std::int64_t>(one.count));
        break;
      case AggregationOp::kCardinality:
        r.value = Value(static_cast<std::int64_t>(one.terms.size()));
        break;
      case AggregationOp::kTerms: {
        std::vector<AggregationBucket> terms = one.terms;
        // Most frequent first; ties by key, as Elasticsearch orders them.
        std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) {
          if (a.count != b.count) return a.count > b.count;
          return internal::AggregationKeyLess(a.key, b.key);
        });
        for (std::size_t i = spec.size; i < terms.size(); ++i) r.other_count += terms[i].count;
        if (terms.size() > spec.size) terms.resize(spec.size);
        r.buckets = std::move(terms);
        break;
      }
      case AggregationOp::kMin:
        if (one.min_number) {
          r.value = *one.min_number;
        } else if (one.min_time) {
          r.value = *one.min_time;
        }
        break;
      case AggregationOp::kMax:
        if (one.max_number) {
          r.value = *one.max_number;
        } else if (one.max_time) {
          r.value = *one.max_time;
        }
        break;
      case AggregationOp::kSum:
        r.value = Value(one.sum + one.sum_error);
        break;
      case AggregationOp::kAvg:
        if (one.count > 0)
          r.value = Value((one.sum + one.sum_error) / static_cast<double>(one.count));
        break;
      case AggregationOp::kHistogram:
      case AggregationOp::kDateHistogram: {
        if (one.buckets.empty()) break;
        // Every bucket from the first to the last, the empty ones too (Elasticsearch's default).
        const bool dates = spec.op == AggregationOp::kDateHistogram;
        const std::int64_t first = one.buckets.begin()->first;
        const std::int64_t last = one.buckets.rbegin()->first;
        std::int64_t n = 0;
        for (std::int64_t at = first;; at = dates ? NextBucket(at, spec.date_interval) : at + 1) {
          if (++n > kMaxBuckets) {
            Invalid("aggregation '" + spec.name + "' would make more than " +
                    std::to_string(kMaxBuckets) + " buckets: use a wider interval");
          }
          const auto it = one.buckets.find(at);
          const std::size_t count = it == one.buckets.end() ? 0 : it->second;
          r.buckets.push_back(AggregationBucket{
              dates ? Value(Timestamp{at}) : Value(static_cast<double>(at) * spec.interval),
              count});
          if (at >= last) break;
        }
        break;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace dkdata

namespace dkdata::internal {

Value CanonicalNumber(const Value& v) {
  if (const double* d = v.Get<double>()) {
    if (std::trunc(*d) == *d && std::fabs(*d) < 9.2e18) {
      return Value(static_cast<std::int64_t>(*d));
    }
  }
  return v;
}

bool AggregationKeyLess(const Value& a, const Value& b) {
  static const std::vector<SortKey> kAscending = {SortKey{"", SortOrder::kAsc}};
  const Value* pa = &a;
  const Value* pb = &b;
  return CompareSortRows(kAscending, &pa, &pb) < 0;
}

}  // namespace dkdata::internal
