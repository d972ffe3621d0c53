// The randomized differential test (leveldb's db_test idea): random records and thousands of random
// queries, the backend's answers compared with the reference evaluator (dkdata::EvaluateQuery and
// dkdata::Matches over the records as the backend stores them).
//
// Reproducible: everything derives from one seed, DKDATA_DIFF_SEED in the environment or
// kDefaultSeed; every failure prints it. A second pass repeats the test with secondary indexes on
// several fields when the backend has them. Between the two halves of each pass, random writes
// (update, upsert, delete, batches, streams) change the data, so indexes and stored order are
// exercised after writes too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "dkdata/query.hpp"

namespace dkdata::conformance {
namespace {

constexpr std::uint64_t kDefaultSeed = 20240501;
constexpr int kMaxReportedFailures = 10;
constexpr std::int64_t kMay1At8Utc = 1714550400000000;  // 2024-05-01T08:00:00Z

std::uint64_t DiffSeed() {
  if (const char* text = std::getenv("DKDATA_DIFF_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  return kDefaultSeed;
}

// DKDATA_DIFF_QUERIES_PERCENT scales every backend's query count (default 100). The sanitizer
// runs in scripts/test.sh use a twentieth: they look for memory and threading errors, which the
// same code paths show with fewer queries, while the release run checks the answers in full.
int QueryPercent() {
  if (const char* text = std::getenv("DKDATA_DIFF_QUERIES_PERCENT"); text != nullptr && *text) {
    const long percent = std::strtol(text, nullptr, 10);
    if (percent >= 1 && percent <= 1000) return static_cast<int>(percent);
  }
  return 100;
}

// A small deterministic random source (the same sequence on every standard library, unlike the
// std distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::size_t Below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(engine_() % n); }
  // True with probability percent/100.
  bool Percent(int percent) { return Below(100) < static_cast<std::size_t>(percent); }
  template <class T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// ---- Pools of values: edges of every rule in docs/query-semantics.md ----

const std::vector<std::string>& Strings() {
  static const std::vector<std::string> kStrings = {
      "",     "a",     "A",     "ab",   "abc",  "ABC",  "Abc",
      "b",    "Z",     "z",     "e",    "é",    "É",    "ä",
      "Ä",    "äpfel", "Äpfel", "x%y",  "x_y",  "%",    "_",
      "100%", "a\\b",  "café",  "cafe", "日本", "😀",    "x😀y",
      "30",   "1",     "1.0",   "true", "a b",  "a\nb", "2024-05-01T08:00:00Z",
      "t1",   "SF",    "LA",    "sf",   "a.c"};
  return kStrings;
}

const std::vector<std::string>& IsoStrings() {
  static const std::vector<std::string> kIso = {
      "2024-05-01T10:00:00+02:00",  "2024-05-01",           "2024-05-01T08:00:00Z",
      "2024-04-30T08:00:00Z",       "1970-01-01T00:00:00Z", "2023-11-14T22:13:20Z",
      "2024-05-01T08:00:00.000001Z"};
  return kIso;
}

const std::vector<Timestamp>& Timestamps() {
  static const std::vector<Timestamp> kTimestamps = {Timestamp{kMay1At8Utc},
                                                     Timestamp{kMay1At8Utc + 1},
                                                     Timestamp{kMay1At8Utc - 86400000000},
                                                     Timestamp{0},
                                                     Timestamp{-1},
                                                     Timestamp{1700000000000000}};
  return kTimestamps;
}

const std::vector<std::string>& ByteStrings() {
  static const std::vector<std::string> kBytes = {
      "", std::string(1, '\0'), "\x01", "\x7f", "\x80", "\xff", std::string("a\0b", 3), "1"};
  return kBytes;
}

const std::vector<std::string>& LikePatterns() {
  static const std::vector<std::string> kPatterns = {
      "%",     "",    "a%",  "A%",  "%a",    "_",     "__",  "caf_", "x\\%y",
      "x\\_y", "x%y", "x_y", "%é%", "É%",    "ä%",    "%😀%", "x_y",  "100\\%",
      "a_c",   "%b%", "30",  "t_",  "T1",    "2024%", "a.c", "[a]%", "a\\\\b",
      "%\\%",  "_%_", "%_",  "S%",  "äpfel", "ÄPFEL", "abc", "a\nb", "%\n%"};
  return kPatterns;
}

// Valid ECMAScript patterns whose meaning does not depend on whether '.' or a bracket reads bytes
// or code points (the docs name std::regex and JavaScript, which differ there).
const std::vector<std::string>& RegexPatterns() {
  static const std::vector<std::string> kPatterns = {
      "a",     "^a",        "a$", "^$",       "b|c",  "^[A-Z]",    "\\d",    "é",
      "😀",     "^t\\d$",    "%",  "_",        "\\\\", "^(ab)+c?$", "\\s",    "[0-9]{2}",
      "^$|^a", "(?:ab|cd)", "1",  "^[a-c]+$", "F$",   "b{2,}",     "^\\w+$", "x\\%"};
  return kPatterns;
}

const std::vector<std::string>& Prefixes() {
  static const std::vector<std::string> kPrefixes = {"",   "a",  "A", "ab",   "é", "%",  "_", "x%",
                                                     "ca", "日", "t", "2024", "1", "\\", "S"};
  return kPrefixes;
}

// ---- Random records ----

Value RandomNumber(Rng& rng) {
  switch (rng.Below(4)) {
    case 0:
    case 1:
      return static_cast<std::int64_t>(rng.Below(7)) - 3;
    case 2: {
      static const std::vector<double> kFloats = {-1.5, 0.5, 1.0, 2.0, 2.5, 3.0, -3.0, 0.0};
      return rng.Pick(kFloats);
    }
    default: {
      static const std::vector<Value> kBig = {Value(kTwoTo53),
                                              Value(kTwoTo53 + 1),
                                              Value(static_cast<double>(kTwoTo53)),
                                              Value(std::numeric_limits<std::int64_t>::max()),
                                              Value(std::numeric_limits<std::int64_t>::min()),
                                              Value(1e300),
                                              Value(30)};
      return rng.Pick(kBig);
    }
  }
}

Value RandomScalar(Rng& rng) {
  switch (rng.Below(9)) {
    case 0:
    case 1:
      return RandomNumber(rng);
    case 2:
    case 3:
      return rng.Pick(Strings());
    case 4:
      return rng.Percent(50);
    case 5:
      return rng.Pick(Timestamps());
    case 6:
      return rng.Pick(IsoStrings());
    case 7:
      return Bytes{rng.Pick(ByteStrings())};
    default:
      return nullptr;
  }
}

Value RandomAny(Rng& rng, int depth = 0) {
  if (depth >= 2) return RandomScalar(rng);
  switch (rng.Below(10)) {
    case 0: {
      List list;
      const std::size_t n = rng.Below(4);
      for (std::size_t i = 0; i < n; ++i) list.push_back(RandomAny(rng, depth + 1));
      return list;
    }
    case 1: {
      Object object;
      if (rng.Percent(70)) object.Set("k", RandomScalar(rng));
      if (rng.Percent(50)) object.Set("j", RandomAny(rng, depth + 1));
      return object;
    }
    case 2:
      return Vector{static_cast<float>(rng.Below(3)), 0.5f};
    default:
      return RandomScalar(rng);
  }
}

Record RandomRecord(Rng& rng, const std::string& id) {
  static const std::vector<std::string> kCities = {"SF", "LA", "NY", "sf", "São Paulo", ""};
  static const std::vector<std::string> kTags = {"t1", "t2", "t3", "T1", "é"};
  Record r;
  r.set_id(id);
  if (rng.Percent(85)) {
    r.Set("a", rng.Percent(92) ? RandomNumber(rng) : Value(nullptr));
  }
  if (rng.Percent(85)) {
    const std::size_t k = rng.Below(20);
    r.Set("b", k < 16 ? Value(rng.Pick(Strings())) : k < 18 ? RandomScalar(rng) : Value(nullptr));
  }
  if (rng.Percent(80)) r.Set("c", RandomAny(rng));
  switch (rng.Below(20)) {
    case 0:
    case 1:
      r.Set("n", nullptr);
      break;
    case 2:
      r.Set("n", "SF");
      break;
    case 3:
      r.Set("n", List{Object{{"city", rng.Pick(kCities)}}});
      break;
    case 4:
    case 5:
    case 6:
      break;
    default: {
      Object n;
      switch (rng.Below(6)) {
        case 0:
          break;
        case 1:
          n.Set("city", nullptr);
          break;
        default:
          n.Set("city", rng.Pick(kCities));
      }
      if (rng.Percent(70)) {
        n.Set("zip", rng.Percent(70) ? Value(static_cast<std::int64_t>(94100 + rng.Below(10)))
                                     : Value(std::to_string(94100 + rng.Below(10))));
      }
      if (rng.Percent(50))
        n.Set("geo", Object{{"lat", 37.0 + 0.5 * static_cast<double>(rng.Below(4))}});
      r.Set("n", std::move(n));
    }
  }
  if (rng.Percent(4)) r.Set("n.city", rng.Pick(kCities));  // a field named exactly like a path
  switch (rng.Below(10)) {
    case 0:
    case 1:
    case 2:
      break;
    case 3:
      r.Set("tags", rng.Pick(kTags));
      break;
    default: {
      List tags;
      const std::size_t n = rng.Below(4);
      for (std::size_t i = 0; i < n; ++i) tags.push_back(rng.Pick(kTags));
      r.Set("tags", std::move(tags));
    }
  }
  switch (rng.Below(10)) {
    case 0:
    case 1:
      break;
    case 2:
      r.Set("flag", static_cast<std::int64_t>(rng.Below(2)));
      break;
    case 3:
      r.Set("flag", nullptr);
      break;
    default:
      r.Set("flag", rng.Percent(50));
  }
  switch (rng.Below(10)) {
    case 0:
    case 1:
    case 2:
      break;
    case 3:
    case 4:
      r.Set("ts", rng.Pick(IsoStrings()));
      break;
    default:
      r.Set("ts", rng.Pick(Timestamps()));
  }
  if (rng.Percent(40)) r.Set("bin", Bytes{rng.Pick(ByteStrings())});
  return r;
}

// ---- Random queries ----

const std::vector<std::string>& FilterPaths() {
  static const std::vector<std::string> kPaths = {
      "a",      "a",     "b",         "b",        "c",        "c",      "n",      "n.city",
      "n.city", "n.zip", "n.geo.lat", "n.0.city", "tags",     "tags.0", "tags.1", "flag",
      "ts",     "ts",    "bin",       "nosuch",   "n.city.x", "c.k",    "c.0"};
  return kPaths;
}

const std::vector<std::string>& SortPaths() {
  static const std::vector<std::string> kPaths = {
      "a", "b", "c", "n.city", "n.zip", "tags", "tags.0", "flag", "ts", "bin", "nosuch", "n"};
  return kPaths;
}

class QueryGenerator {
 public:
  QueryGenerator(Rng& rng, const std::vector<Record>& data) : rng_(rng), data_(data) {}

  Query Next() {
    Query q(RandomExpr(0));
    if (rng_.Percent(55)) {
      const std::size_t keys = 1 + rng_.Below(3);
      for (std::size_t i = 0; i < keys; ++i) {
        q.Sort(rng_.Pick(SortPaths()), rng_.Percent(50) ? SortOrder::kAsc : SortOrder::kDesc);
      }
    }
    if (rng_.Percent(30)) q.Offset(rng_.Below(40));
    if (rng_.Percent(45)) q.Limit(rng_.Below(60));
    if (rng_.Percent(15)) {
      static const std::vector<std::string> kSelectable = {"a",    "b",      "c", "n.city",
                                                           "tags", "nosuch", "n", "ts"};
      std::vector<std::string> fields;
      for (const std::string& f : kSelectable) {
        if (rng_.Percent(35)) fields.push_back(f);
      }
      q.Select(std::move(fields));
    }
    return q;
  }

 private:
  Expr RandomExpr(int depth) {
    if (depth >= 4 || rng_.Percent(depth == 0 ? 30 : 50)) return RandomLeaf();
    const std::size_t kind = rng_.Below(10);
    if (kind >= 8) return Expr::Not(RandomExpr(depth + 1));
    std::vector<Expr> children;
    const std::size_t n = rng_.Percent(6) ? 0 : 1 + rng_.Below(3);
    for (std::size_t i = 0; i < n; ++i) children.push_back(RandomExpr(depth + 1));
    return kind < 4 ? Expr::And(std::move(children)) : Expr::Or(std::move(children));
  }

  // A value found at `path` in a random record, or a value from the pools.
  Value Operand(const std::string& path) {
    if (rng_.Percent(45) && !data_.empty()) {
      if (const Value* v = rng_.Pick(data_).Get(path); v != nullptr) return *v;
    }
    if (rng_.Percent(15)) return RandomAny(rng_);
    return RandomScalar(rng_);
  }

  Expr RandomLeaf() {
    const std::string& path = rng_.Pick(FilterPaths());
    const Op op = static_cast<Op>(rng_.Below(18));
    switch (op) {
      case Op::kIn:
      case Op::kNotIn: {
        List items;
        const std::size_t n = rng_.Below(5);
        for (std::size_t i = 0; i < n; ++i) items.push_back(Operand(path));
        return Where(path, op, std::move(items));
      }
      case Op::kBetween:
      case Op::kNotBetween: {
        Value lo = Operand(path), hi = Operand(path);
        if (rng_.Percent(70)) {
          const auto order = CompareValues(lo, hi);
          if (order && *order > 0) std::swap(lo, hi);
        }
        return Where(path, op, List{std::move(lo), std::move(hi)});
      }
      case Op::kLike:
      case Op::kNotLike:
      case Op::kILike:
      case Op::kNotILike:
        return Where(path, op, rng_.Pick(LikePatterns()));
      case Op::kRegex:
        return Where(path, op, rng_.Pick(RegexPatterns()));
      case Op::kStartsWith:
        return Where(path, op, rng_.Pick(Prefixes()));
      case Op::kExists:
      case Op::kNotExists:
        return Where(path, op);
      default:
        return Where(path, op, Operand(path));
    }
  }

  Rng& rng_;
  const std::vector<Record>& data_;
};

bool ContainsRegex(const Expr& expr) {
  if (expr.kind() == Expr::Kind::kFilter) return expr.filter().op == Op::kRegex;
  for (const Expr& child : expr.children()) {
    if (ContainsRegex(child)) return true;
  }
  return false;
}

void SortFieldsByName(Record& record) {
  std::stable_sort(record.mutable_fields().begin(), record.mutable_fields().end(),
                   [](const Field& a, const Field& b) { return a.name < b.name; });
}

// ---- The test ----

class DifferentialTest : public BackendTest {
 protected:
  // One pass: load, check queries, write at random, check queries again.
  void RunPass(bool with_indexes) {
    const std::uint64_t seed = DiffSeed();
    RecordProperty("seed", std::to_string(seed));
    pass_ = with_indexes ? "with indexes" : "without indexes";
    seed_ = seed;
    Rng rng(seed ^ (with_indexes ? 0x9e3779b97f4a7c15ULL : 0));
    const int record_count = quirks().differential_records;
    const int query_count = std::max(1, quirks().differential_queries * QueryPercent() / 100);

    static const std::vector<IndexInfo> kEarly = {{"a", IndexKind::kOrdered},
                                                  {"c", IndexKind::kOrdered},
                                                  {"n.city", IndexKind::kHash},
                                                  {"ts", IndexKind::kOrdered}};
    static const std::vector<IndexInfo> kLate = {{"b", IndexKind::kOrdered},
                                                 {"tags.0", IndexKind::kHash},
                                                 {"flag", IndexKind::kHash},
                                                 {"bin", IndexKind::kOrdered},
                                                 {"n.zip", IndexKind::kOrdered}};
    if (with_indexes) {
      for (const IndexInfo& index : kEarly) db_->CreateIndex(index);
    }

    std::vector<Record> generated;
    for (int i = 0; i < record_count; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "d%04d", i);
      generated.push_back(Generate(rng, id));
    }
    // Most through Create, a slice through CreateBatch.
    const std::size_t batch_from = generated.size() / 2, batch_to = generated.size() * 2 / 3;
    for (std::size_t i = 0; i < generated.size(); ++i) {
      if (i == batch_from) {
        db_->CreateBatch(std::vector<Record>(generated.begin() + static_cast<long>(batch_from),
                                             generated.begin() + static_cast<long>(batch_to)));
      }
      if (i >= batch_from && i < batch_to) {
        Remember(generated[i], 1);
        continue;
      }
      db_->Create(generated[i]);
      Remember(generated[i], 1);
    }
    if (with_indexes) {
      for (const IndexInfo& index : kLate) db_->CreateIndex(index);
    }

    CheckStoreEqualsModel("after loading");
    RunQueries(rng, query_count / 2, "after loading");
    if (HasFatalFailure() || failures_ >= kMaxReportedFailures) return;

    MutateAtRandom(rng, record_count);
    CheckStoreEqualsModel("after random writes");
    RunQueries(rng, query_count - query_count / 2, "after random writes");
  }

 private:
  // A random record the backend can store as it is (see
  // BackendQuirks::nested_values_as_plain_json).
  Record Generate(Rng& rng, const std::string& id) const {
    Record record = RandomRecord(rng, id);
    if (!quirks().nested_values_as_plain_json) return record;
    const std::vector<Field> fields = record.fields();
    for (const Field& field : fields) {
      if (field.value.Get<List>() != nullptr || field.value.Get<Object>() != nullptr) {
        record.Set(Field(field.name, ParseJson(ToJson(field.value)), field.type, field.metadata));
      }
    }
    return record;
  }

  void Remember(const Record& record, std::uint64_t version) {
    Record stored = record;
    stored.set_version(version);
    model_[*record.id()] = std::move(stored);
  }

  std::string Banner() const {
    std::ostringstream out;
    out << "[differential, " << context().name << ", " << pass_ << ", seed " << seed_
        << " (rerun with DKDATA_DIFF_SEED=" << seed_ << ")]";
    return out.str();
  }

  void CheckStoreEqualsModel(const char* when) {
    const std::vector<Record> all = db_->All();
    ASSERT_EQ(all.size(), model_.size()) << Banner() << " " << when;
    for (const Record& record : all) {
      ASSERT_TRUE(record.id().has_value()) << Banner();
      const auto it = model_.find(*record.id());
      ASSERT_NE(it, model_.end()) << Banner() << " unexpected stored id " << *record.id();
      ASSERT_TRUE(record == it->second)
          << Banner() << " " << when << ": the stored record differs from what was written\n"
          << "stored:  " << DescribeRecord(record) << "\nwritten: " << DescribeRecord(it->second);
    }
  }

  void MutateAtRandom(Rng& rng, int record_count) {
    auto random_existing = [&]() -> std::string {
      auto it = model_.begin();
      std::advance(it, static_cast<long>(rng.Below(model_.size())));
      return it->first;
    };
    int next_new = record_count;
    auto new_id = [&]() {
      char id[16];
      std::snprintf(id, sizeof id, "d%04d", next_new++);
      return std::string(id);
    };
    for (int step = 0; step < 80; ++step) {
      if (model_.size() < 4) break;
      switch (rng.Below(7)) {
        case 0:
        case 1: {  // update
          const std::string id = random_existing();
          Record next = Generate(rng, id);
          ASSERT_TRUE(db_->Update(id, next)) << Banner();
          Remember(next, model_[id].version() + 1);
          break;
        }
        case 2: {  // upsert, existing or new
          const std::string id = rng.Percent(50) ? random_existing() : new_id();
          Record next = Generate(rng, id);
          const auto it = model_.find(id);
          const std::uint64_t version = it == model_.end() ? 1 : it->second.version() + 1;
          db_->Upsert(id, next);
          Remember(next, version);
          break;
        }
        case 3: {  // delete
          const std::string id = random_existing();
          ASSERT_TRUE(db_->Delete(id)) << Banner();
          model_.erase(id);
          break;
        }
        case 4: {  // update and delete batches
          const std::string a = random_existing();
          Record next = Generate(rng, a);
          const std::vector<bool> updated = db_->UpdateBatch({{a, next}, {"d9999", next}});
          ASSERT_EQ(updated, (std::vector<bool>{true, false})) << Banner();
          Remember(next, model_[a].version() + 1);
          const std::string b = random_existing();
          ASSERT_EQ(db_->DeleteBatch({b}), std::vector<bool>{true}) << Banner();
          model_.erase(b);
          break;
        }
        case 5: {  // create batch of new records
          std::vector<Record> batch = {Generate(rng, new_id()), Generate(rng, new_id())};
          db_->CreateBatch(batch);
          for (const Record& r : batch) Remember(r, 1);
          break;
        }
        default: {  // stream write with upsert
          std::vector<Record> items = {Generate(rng, random_existing()), Generate(rng, new_id())};
          std::size_t next = 0;
          StreamOptions options;
          options.upsert = true;
          const StreamResult result = db_->StreamWrite(
              [&]() -> std::optional<Record> {
                if (next >= items.size()) return std::nullopt;
                return items[next++];
              },
              options);
          ASSERT_EQ(result.succeeded, 2u) << Banner();
          for (const Record& r : items) {
            const auto it = model_.find(*r.id());
            Remember(r, it == model_.end() ? 1 : it->second.version() + 1);
          }
        }
      }
      if (HasFatalFailure()) return;
    }
  }

  void RunQueries(Rng& rng, int count, const char* when) {
    const std::vector<Record> stored = db_->All();
    QueryGenerator generator(rng, stored);
    for (int i = 0; i < count && failures_ < kMaxReportedFailures; ++i) {
      Query query;
      try {
        query = generator.Next();
      } catch (const std::exception& e) {
        Fail(i, when, nullptr, std::string("building the query threw: ") + e.what());
        continue;
      }
      CheckQuery(i, when, query, stored);
    }
    if (failures_ >= kMaxReportedFailures) {
      ADD_FAILURE() << Banner() << " stopped after " << kMaxReportedFailures << " failures";
    }
  }

  void Fail(int index, const char* when, const Query* query, const std::string& what) {
    ++failures_;
    ADD_FAILURE() << Banner() << " query #" << index << " " << when << ": " << what << "\n"
                  << (query != nullptr ? Describe(*query) : std::string("<no query>"));
  }

  void CheckQuery(int index, const char* when, const Query& query,
                  const std::vector<Record>& stored) {
    // The reference: filter with Matches (cheap), then EvaluateQuery on the matches for sort,
    // paging and projection (filtering again is a no-op and keeps the store's order).
    std::vector<Record> matched;
    std::size_t matched_count = 0;
    std::string reference_error;
    std::optional<ErrorCode> reference_code;
    std::vector<Record> expected;
    try {
      if (ContainsRegex(query.where())) {
        // Matches() compiles the filter on every call; a regex is costly to compile, so filter the
        // whole store with one EvaluateQuery instead.
        matched = EvaluateQuery(Query(query.where()), stored);
      } else {
        for (const Record& r : stored) {
          if (Matches(query.where(), r)) matched.push_back(r);
        }
      }
      matched_count = matched.size();
      expected = EvaluateQuery(query, std::move(matched));
    } catch (const Error& e) {
      reference_code = e.code();
      reference_error = e.what();
    }

    std::vector<Record> actual;
    std::size_t actual_count = 0;
    try {
      actual = db_->Search(query);
      actual_count = db_->Count(query.where());
    } catch (const Error& e) {
      if (reference_code && *reference_code == e.code()) return;  // both refuse the query alike
      Fail(index, when, &query,
           std::string("the backend threw ") + std::string(ErrorCodeName(e.code())) + ": " +
               e.what() +
               (reference_code ? "; the reference threw " + reference_error
                               : std::string("; the reference answered")));
      return;
    }
    if (reference_code) {
      Fail(index, when, &query,
           "the reference threw (" + reference_error + ") but the backend answered");
      return;
    }

    if (actual_count != matched_count) {
      Fail(index, when, &query,
           "Count = " + std::to_string(actual_count) + ", reference " +
               std::to_string(matched_count));
    }
    if (!query.fields().empty()) {
      // docs/query-semantics.md does not say in which order a projection lists the kept fields
      // (Record::Project uses the order of the select list, a backend may keep the record's): the
      // comparison ignores that order.
      for (Record& r : actual) SortFieldsByName(r);
      for (Record& r : expected) SortFieldsByName(r);
    }
    if (actual == expected) return;
    std::ostringstream diff;
    diff << "Search returned " << actual.size() << " records, the reference " << expected.size();
    const std::size_t n = std::min(actual.size(), expected.size());
    std::size_t first = 0;
    while (first < n && actual[first] == expected[first]) ++first;
    diff << "; first difference at position " << first << ": backend ";
    diff << (first < actual.size() ? actual[first].id().value_or("<no id>") : "<end>");
    diff << ", reference ";
    diff << (first < expected.size() ? expected[first].id().value_or("<no id>") : "<end>");
    if (first < n && actual[first].id() == expected[first].id()) {
      diff << "\nsame id, different content:\nbackend:   " << DescribeRecord(actual[first])
           << "\nreference: " << DescribeRecord(expected[first]);
    } else {
      const auto show = [&diff](const char* label, const std::vector<Record>& records,
                                std::size_t from) {
        diff << "\n" << label << " ids from there:";
        for (std::size_t i = from; i < records.size() && i < from + 8; ++i) {
          diff << " " << records[i].id().value_or("<no id>");
        }
      };
      show("backend  ", actual, first);
      show("reference", expected, first);
      if (first < expected.size()) {
        diff << "\nreference record: " << DescribeRecord(expected[first]);
      }
      if (first < actual.size()) diff << "\nbackend record:   " << DescribeRecord(actual[first]);
    }
    Fail(index, when, &query, diff.str());
  }

  std::map<std::string, Record> model_;
  std::string pass_;
  std::uint64_t seed_ = 0;
  int failures_ = 0;
};

TEST_P(DifferentialTest, MatchesTheReferenceEvaluator) {
  RunPass(/*with_indexes=*/false);
}

TEST_P(DifferentialTest, MatchesTheReferenceEvaluatorWithIndexes) {
  DKDATA_REQUIRE_CAPABILITY(secondary_indexes);
  RunPass(/*with_indexes=*/true);
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(DifferentialTest);

}  // namespace
}  // namespace dkdata::conformance
