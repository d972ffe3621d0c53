// Aggregations computed by Elasticsearch (es_database.hpp), with exactly the core's results
// (docs/aggregations.md).
//
// They run on dkdata's projection (es_documents.hpp), so only where every value they look at is
// in it: when a matching document holds an odd value in an aggregated field, was written by
// another program, or the filter leaves documents to the core's evaluator, the core computes them
// instead. One request gives the answer and that check (a filter aggregation), so the fallback
// costs one round trip only when it is taken.
//
// - terms: a terms aggregation per kind (_dk.b, _dk.n, _dk.s), each most frequent first with ties
//   by key, merged here in dkdata's key order; other_count from their sum_other_doc_count.
// - cardinality: the same with 10,000 buckets per kind (exact; more falls back to the core).
// - min, max: the first or last number bucket with the first document (by id) holding it, so the
//   result is the stored value (an int stays an int) as the core, which reads in id order, keeps.
// - sum, avg: on the double field. histogram: min_doc_count 0 (empty buckets between included).
// - date histograms: date_histogram on _dk.t (UTC, weeks from Monday, as the core's buckets).
// Histograms ask the server for the extremes first: too many buckets is the core's error, and a
// server asked for them runs out of memory building them.
#include <cmath>
#include <optional>

#include "backends/elasticsearch/es_database.hpp"
#include "backends/elasticsearch/es_store.hpp"
#include "backends/elasticsearch/es_translate.hpp"
#include "core/aggregation_keys.hpp"
#include "core/evaluator.hpp"

namespace dkdata::internal {

namespace {

constexpr std::size_t kCardinalityBuckets = 10000;
// The core's limit (docs/aggregations.md), also Elasticsearch's default search.max_buckets.
constexpr double kMaxHistogramBuckets = 65536;

const Object& Member(const Object& object, std::string_view key) {
  static const Object kEmpty;
  const Value* v = object.Find(key);
  return v && v->Get<Object>() ? *v->Get<Object>() : kEmpty;
}

// The request's name for aggregation i ("a3"). (Built with +=: GCC 12 under -fsanitize=thread
// reports a false -Wrestrict for "a" + std::to_string(i).)
std::string AggName(char prefix, std::size_t i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

std::size_t CountOf(const Value* v) {
  if (v == nullptr) return 0;
  if (const auto* i = v->Get<std::int64_t>()) return static_cast<std::size_t>(*i);
  return 0;
}

// Builds the request's aggregations, and reads their results back.
class NativeAggregations {
 public:
  NativeAggregations(const std::vector<Aggregation>& aggregations) : aggregations_(aggregations) {}

  // The documents the projection does not hold whole for the aggregations: odd values in their
  // fields (for a date histogram: odd values other than timestamps, which _dk.t holds). False
  // when an aggregation cannot run natively at all (a dotted path).
  bool Translatable(std::vector<Dsl>& odd) const {
    for (const Aggregation& a : aggregations_) {
      if (a.op == AggregationOp::kCount || a.field == kIdPath) continue;
      if (a.field.find('.') != std::string::npos) return false;
      std::string term = R"({"term":{"_dk.o":)";
      AppendJsonString(term, a.field);
      term += "}}";
      if (a.op == AggregationOp::kDateHistogram) {
        std::string field;
        AppendJsonString(field, Slot('t', a.field));
        term = R"({"bool":{"filter":[)" + term + R"(],"must_not":[{"exists":{"field":)" + field +
               "}}]}}";
      }
      odd.push_back(Dsl::Clause(std::move(term)));
    }
    return true;
  }

  // Whether every histogram stays within the core's bucket limit, asked of the server first: a
  // histogram of a tiny interval would make the server build its empty buckets until it runs out
  // of memory (OpenSearch 2.19 does) before its own limit stops it.
  bool HistogramsFit(EsStore& store, const std::string& query) const {
    std::string aggs;
    for (std::size_t i = 0; i < aggregations_.size(); ++i) {
      const Aggregation& a = aggregations_[i];
      if (!IsHistogram(a)) continue;
      for (const char* stat : {"min", "max"}) {
        std::string metric = "{\"";
        metric += stat;
        metric += R"(":{"field":)";
        AppendJsonString(metric, HistogramField(a));
        metric += "}}";
        Add(aggs, AggName('h', i) + stat, metric);
      }
    }
    if (aggs.empty()) return true;
    HttpResponse response = store.Expect(
        "POST", store.index_path() + "/_search",
        R"({"size":0,"query":)" + query + R"(,"aggs":{)" + aggs + "}}", {200}, "aggregating");
    const Value parsed = ParseJson(response.body);
    const Object& results = Member(*parsed.Get<Object>(), "aggregations");
    for (std::size_t i = 0; i < aggregations_.size(); ++i) {
      const Aggregation& a = aggregations_[i];
      if (!IsHistogram(a)) continue;
      const Value* lo = Member(results, AggName('h', i) + "min").Find("value");
      const Value* hi = Member(results, AggName('h', i) + "max").Find("value");
      if (lo == nullptr || hi == nullptr || !lo->is_number() || !hi->is_number()) continue;
      // Date buckets: at least the interval's shortest length (milliseconds) apart.
      const double buckets =
          a.op == AggregationOp::kHistogram
              ? std::floor(hi->AsDouble() / a.interval) - std::floor(lo->AsDouble() / a.interval) +
                    1
              : (hi->AsDouble() - lo->AsDouble()) / ShortestMillis(a.date_interval) + 2;
      if (!(buckets <= kMaxHistogramBuckets)) return false;
    }
    return true;
  }

  // The members of the request's "aggs" object (without braces).
  std::string Requests() const {
    std::string out;
    for (std::size_t i = 0; i < aggregations_.size(); ++i) {
      const Aggregation& a = aggregations_[i];
      const std::string name = AggName('a', i);
      const bool id = a.field == kIdPath;
      switch (a.op) {
        case AggregationOp::kTerms:
        case AggregationOp::kCardinality: {
          const std::size_t size = a.op == AggregationOp::kTerms ? a.size : kCardinalityBuckets;
          if (id) {
            Add(out, name + "s", Terms("id", size));
          } else {
            for (const char slot : {'b', 'n', 's'}) {
              Add(out, name + slot, Terms(Slot(slot, a.field), size));
            }
          }
          break;
        }
        case AggregationOp::kMin:
        case AggregationOp::kMax:
          if (!id) {
            std::string terms = R"({"terms":{"field":)";
            AppendJsonString(terms, Slot('n', a.field));
            terms += R"(,"size":1,"order":{"_key":")";
            terms += a.op == AggregationOp::kMin ? "asc" : "desc";
            terms += R"("}},"aggs":{"first":{"top_hits":{"size":1,"sort":[{"id":"asc"}],)"
                     R"("version":true}}}})";
            Add(out, name, terms);
          }
          break;
        case AggregationOp::kSum:
        case AggregationOp::kAvg:
          if (!id) {
            std::string metric = "{\"";
            metric += a.op == AggregationOp::kSum ? "sum" : "avg";
            metric += R"(":{"field":)";
            AppendJsonString(metric, Slot('n', a.field));
            metric += "}}";
            Add(out, name, metric);
          }
          break;
        case AggregationOp::kHistogram:
          if (!id) {
            std::string histogram = R"({"histogram":{"field":)";
            AppendJsonString(histogram, Slot('n', a.field));
            histogram += R"(,"interval":)";
            AppendJson(histogram, Value(a.interval));
            histogram += R"(,"min_doc_count":0}})";
            Add(out, name, histogram);
          }
          break;
        case AggregationOp::kDateHistogram:
          if (!id) {
            std::string histogram = R"({"date_histogram":{"field":)";
            AppendJsonString(histogram, Slot('t', a.field));
            histogram += R"(,"calendar_interval":")";
            histogram += DateIntervalName(a.date_interval);
            histogram += R"(","min_doc_count":0}})";
            Add(out, name, histogram);
          }
          break;
        default:  // count: the hits' total
          break;
      }
    }
    return out;
  }

  // The results from the response's "aggregations"; nullopt when one must come from the core.
  std::optional<std::vector<AggregationResult>> Results(const Object& results,
                                                        std::size_t total) const {
    std::vector<AggregationResult> out;
    for (std::size_t i = 0; i < aggregations_.size(); ++i) {
      const Aggregation& a = aggregations_[i];
      const std::string name = AggName('a', i);
      AggregationResult r;
      r.name = a.name;
      r.op = a.op;
      switch (a.op) {
        case AggregationOp::kCount:
          r.value = Value(static_cast<std::int64_t>(total));
          break;
        case AggregationOp::kTerms:
        case AggregationOp::kCardinality: {
          std::vector<AggregationBucket> buckets;
          std::size_t values = 0, other = 0;
          for (const char slot : {'b', 'n', 's'}) {
            const Object& terms = Member(results, name + slot);
            other += CountOf(terms.Find("sum_other_doc_count"));
            const Value* list = terms.Find("buckets");
            if (list == nullptr || !list->Get<List>()) continue;
            for (const Value& bucket : *list->Get<List>()) {
              const Object& b = *bucket.Get<Object>();
              const std::size_t count = CountOf(b.Find("doc_count"));
              values += count;
              buckets.push_back(AggregationBucket{Key(slot, *b.Find("key")), count});
            }
          }
          if (a.op == AggregationOp::kCardinality) {
            if (other > 0) return std::nullopt;  // more than the buckets asked for
            r.value = Value(static_cast<std::int64_t>(buckets.size()));
            break;
          }
          std::sort(buckets.begin(), buckets.end(), [](const auto& x, const auto& y) {
            if (x.count != y.count) return x.count > y.count;
            return AggregationKeyLess(x.key, y.key);
          });
          if (buckets.size() > a.size) buckets.resize(a.size);
          std::size_t kept = 0;
          for (const AggregationBucket& b : buckets) kept += b.count;
          r.other_count = values + other - kept;
          r.buckets = std::move(buckets);
          break;
        }
        case AggregationOp::kMin:
        case AggregationOp::kMax: {
          const Value* list = Member(results, name).Find("buckets");
          if (list == nullptr || !list->Get<List>() || list->Get<List>()->empty()) break;
          // The stored value of the first document holding the extreme.
          const Object& bucket = *list->Get<List>()->front().Get<Object>();
          const Value* hits = Member(Member(bucket, "first"), "hits").Find("hits");
          if (hits == nullptr || !hits->Get<List>() || hits->Get<List>()->empty()) {
            return std::nullopt;
          }
          std::string hit_json = ToJson(hits->Get<List>()->front());
          Record record;
          HitView hit;
          ParseHitJson(hit_json, hit);
          DecodeHit(hit, record);
          const Value* v = record.Get(a.field);
          if (v == nullptr || !v->is_number()) return std::nullopt;
          r.value = *v;
          break;
        }
        case AggregationOp::kSum:
          r.value = Value(0.0);
          if (const Value* v = Member(results, name).Find("value"); v && v->is_number()) {
            r.value = Value(v->AsDouble());
          }
          break;
        case AggregationOp::kAvg:
          if (const Value* v = Member(results, name).Find("value"); v && v->is_number()) {
            r.value = Value(v->AsDouble());
          }
          break;
        case AggregationOp::kHistogram: {
          const Value* list = Member(results, name).Find("buckets");
          if (list == nullptr || !list->Get<List>()) break;
          for (const Value& bucket : *list->Get<List>()) {
            const Object& b = *bucket.Get<Object>();
            r.buckets.push_back(
                AggregationBucket{Value(b.Find("key")->AsDouble()), CountOf(b.Find("doc_count"))});
          }
          break;
        }
        case AggregationOp::kDateHistogram: {
          const Value* list = Member(results, name).Find("buckets");
          if (list == nullptr || !list->Get<List>()) break;
          for (const Value& bucket : *list->Get<List>()) {
            const Object& b = *bucket.Get<Object>();
            const auto millis = static_cast<std::int64_t>(b.Find("key")->AsDouble());
            r.buckets.push_back(
                AggregationBucket{Value(Timestamp{millis * 1000}), CountOf(b.Find("doc_count"))});
          }
          break;
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  static std::string Slot(char slot, std::string_view field) {
    std::string out = "_dk.";
    out += slot;
    out += '.';
    AppendProjectionKey(out, field);
    return out;
  }
  static bool IsHistogram(const Aggregation& a) {
    return (a.op == AggregationOp::kHistogram || a.op == AggregationOp::kDateHistogram) &&
           a.field != kIdPath;
  }
  static std::string HistogramField(const Aggregation& a) {
    return Slot(a.op == AggregationOp::kHistogram ? 'n' : 't', a.field);
  }
  static double ShortestMillis(DateInterval interval) {
    constexpr double kDay = 86400000;
    switch (interval) {
      case DateInterval::kMinute:
        return 60000;
      case DateInterval::kHour:
        return 3600000;
      case DateInterval::kDay:
        return kDay;
      case DateInterval::kWeek:
        return 7 * kDay;
      case DateInterval::kMonth:
        return 28 * kDay;
      case DateInterval::kQuarter:
        return 89 * kDay;
      case DateInterval::kYear:
        return 365 * kDay;
    }
    return 60000;
  }
  static std::string Terms(std::string_view field, std::size_t size) {
    std::string out = R"({"terms":{"field":)";
    AppendJsonString(out, field);
    out += R"(,"size":)" + std::to_string(size) + "}}";
    return out;
  }
  static void Add(std::string& out, const std::string& name, const std::string& body) {
    if (!out.empty()) out += ',';
    out += '"' + name + "\":" + body;
  }
  static Value Key(char slot, const Value& key) {
    if (slot == 'b') return Value(key.is_number() ? key.AsDouble() != 0 : key == Value(true));
    if (slot == 'n') return CanonicalNumber(Value(key.AsDouble()));
    return key;
  }
  // A top_hits hit, re-read as the hits of a search are.
  static void ParseHitJson(std::string& json, HitView& hit) {
    od::parser parser;
    od::document doc = Must(parser.iterate(Padded(json)));
    ReadHit(Must(doc.get_object()), hit);
  }

  const std::vector<Aggregation>& aggregations_;
};

}  // namespace

std::vector<AggregationResult> ElasticsearchDatabase::Aggregate(
    const Expr& where, const std::vector<Aggregation>& aggregations) {
  store_->CheckOpen();
  ValidateAggregations(aggregations);
  CompiledFilter validate(where);
  NativeAggregations native(aggregations);
  std::vector<Dsl> doubtful;
  if (!native.Translatable(doubtful)) return Database::Aggregate(where, aggregations);
  const EsFilter filter = TranslateFilter(where);
  doubtful.push_back(filter.uncertain);
  const Dsl check = DslOr(std::move(doubtful));
  std::string aggs = native.Requests();
  if (!check.none()) {
    if (!aggs.empty()) aggs += ',';
    aggs += R"("dk_check":{"filter":)" + check.Json() + "}";
  }
  const std::string query = DslOr({filter.match, filter.uncertain}).Json();
  // Too many buckets: the core reads the values and says so.
  if (!native.HistogramsFit(*store_, query)) return Database::Aggregate(where, aggregations);
  std::string body = R"({"size":0,"track_total_hits":true,"query":)" + query;
  if (!aggs.empty()) body += R"(,"aggs":{)" + aggs + "}";
  body += '}';
  HttpResponse response = store_->Send("POST", store_->index_path() + "/_search", std::move(body));
  if (response.status != 200) {
    std::string type, reason;
    EsStore::ErrorDetails(response, type, reason);
    // More buckets than the server allows: the core says how many is too many.
    if (reason.find("too_many_buckets") != std::string::npos ||
        type.find("too_many_buckets") != std::string::npos) {
      return Database::Aggregate(where, aggregations);
    }
    store_->Fail(response, "aggregating");
  }
  const Value parsed = ParseJson(response.body);
  const Object& root = *parsed.Get<Object>();
  const Object& results = Member(root, "aggregations");
  if (CountOf(Member(results, "dk_check").Find("doc_count")) > 0) {
    return Database::Aggregate(where, aggregations);
  }
  const std::size_t total = CountOf(Member(Member(root, "hits"), "total").Find("value"));
  if (auto out = native.Results(results, total)) return std::move(*out);
  return Database::Aggregate(where, aggregations);
}

}  // namespace dkdata::internal
