// The Elasticsearch backend (es_database.hpp): single records, batches, searches and their
// cursors, over the store of es_store.hpp.
#include "backends/elasticsearch/es_database.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>
#include <unordered_map>

#include "backends/elasticsearch/es_documents.hpp"
#include "backends/elasticsearch/es_store.hpp"
#include "backends/elasticsearch/es_translate.hpp"
#include "backends/sql/json_rows.hpp"
#include "core/evaluator.hpp"
#include "core/stream_write.hpp"
#include "dkdata/json.hpp"
#include "net/http_client.hpp"

namespace dkdata::internal {

namespace {

// Documents per page of a search (the server's default max_result_window is 10000).
constexpr std::size_t kPageSize = 1000;
constexpr std::size_t kMaxFromSize = 10000;
// Ids per _mget request.
constexpr std::size_t kIdsPerGet = 1000;
// Tries of an unconditional update whose document keeps changing under it.
constexpr int kWriteTries = 10;

std::string ResolveOrMakeId(const Record& record) {
  auto id = record.ResolveId();
  return id ? std::move(*id) : GenerateUuid();
}

std::string ItemLabel(std::size_t index, std::string_view id) {
  return "item " + std::to_string(index) + " (id '" + std::string(id) + "')";
}

// A write's result in a _bulk response.
struct BulkItem {
  long status = 0;
  std::string error_type, error_reason;
  std::int64_t seq_no = -1, primary_term = -1;
};

// ---- Reading documents ----

// Pages through the documents a query matches, in a sort order that ends with the id (so
// search_after is exact). The first page is a plain search; when more are wanted, a point in time
// is opened and the rest is read from it.
class HitPager {
 public:
  HitPager(std::shared_ptr<EsStore> store, std::string query, std::string sort,
           std::size_t page_size, bool source = true)
      : store_(std::move(store)),
        query_(std::move(query)),
        sort_(std::move(sort)),
        page_size_(std::max<std::size_t>(1, std::min(page_size, kMaxFromSize))),
        source_(source) {}
  ~HitPager() {
    if (!pit_.empty()) store_->ClosePointInTime(pit_);
  }
  HitPager(const HitPager&) = delete;
  HitPager& operator=(const HitPager&) = delete;

  // Calls on_hit for each hit of the next page; returns false when there was none.
  template <typename OnHit>
  bool NextPage(OnHit&& on_hit) {
    if (done_) return false;
    if (pages_ > 0 && pit_.empty()) pit_ = store_->OpenPointInTime();
    std::string body = R"({"size":)" + std::to_string(page_size_) + R"(,"query":)" + query_ +
                       R"(,"sort":)" + sort_ +
                       R"(,"track_total_hits":false,"version":true,"seq_no_primary_term":true)";
    if (!source_) body += R"(,"_source":false)";
    if (!search_after_.empty()) body += R"(,"search_after":)" + search_after_;
    std::string path;
    if (!pit_.empty()) {
      body += R"(,"pit":{"id":)";
      AppendJsonString(body, pit_);
      body += R"(,"keep_alive":")" + std::string(kKeepAlive) + "\"}";
      path = "/_search";
    } else {
      path = store_->index_path() + "/_search";
    }
    body += '}';
    HttpResponse response = store_->Expect("POST", path, std::move(body), {200}, "searching");
    ++pages_;
    od::parser parser;
    od::document doc = Must(parser.iterate(Padded(response.body)));
    std::size_t count = 0;
    HitView hit;
    for (auto member : Must(doc.get_object())) {
      const std::string_view key = Must(member.unescaped_key());
      if (key == "pit_id") {
        pit_ = std::string(Must(Must(member.value()).get_string()));
      } else if (key == "hits") {
        od::object hits = Must(Must(member.value()).get_object());
        od::array list = Must(hits.find_field("hits").get_array());
        for (auto item : list) {
          ReadHit(Must(item.get_object()), hit);
          ++count;
          search_after_ = hit.sort;
          on_hit(hit);
        }
      }
    }
    if (count < page_size_) done_ = true;
    return count > 0;
  }

 private:
  std::shared_ptr<EsStore> store_;
  std::string query_, sort_;
  std::size_t page_size_;
  bool source_;
  std::string pit_;
  std::string search_after_;
  std::size_t pages_ = 0;
  bool done_ = false;
};

// The records of a query in its order, re-checked by the evaluator where the DSL was uncertain,
// with offset and limit applied here (the server cannot count what the evaluator rejects).
class EsCursor final : public RecordCursor {
 public:
  EsCursor(std::shared_ptr<EsStore> store, const Query& query, std::string sort,
           std::size_t batch_size)
      : filter_(query.where()),
        fields_(query.fields()),
        offset_(query.offset()),
        limit_(query.limit()),
        batch_size_(std::max<std::size_t>(batch_size, 1)) {
    const EsFilter translated = TranslateFilter(query.where());
    recheck_ = !translated.uncertain.none();
    const Dsl superset = DslOr({translated.match, translated.uncertain});
    std::size_t page = kPageSize;
    if (!recheck_ && limit_) page = std::min(kMaxFromSize, offset_ + *limit_);
    pager_.emplace(std::move(store), superset.Json(), std::move(sort),
                   std::max<std::size_t>(page, 1));
  }

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    while (batch.size() < batch_size_ && !Finished()) {
      if (ready_.empty()) {
        if (!Fill()) break;
      }
      while (!ready_.empty() && batch.size() < batch_size_ && !Finished()) {
        batch.push_back(std::move(ready_.front()));
        ready_.pop_front();
        ++returned_;
      }
    }
    return !batch.empty();
  }

 private:
  bool Finished() const { return limit_ && returned_ >= *limit_; }

  bool Fill() {
    return pager_->NextPage([this](const HitView& hit) {
      Record record;
      DecodeHit(hit, record);
      if (recheck_ && !filter_.Matches(record)) return;
      if (skipped_ < offset_) {
        ++skipped_;
        return;
      }
      ready_.push_back(fields_.empty() ? std::move(record) : record.Project(fields_));
    }) || !ready_.empty();
  }

  CompiledFilter filter_;
  std::vector<std::string> fields_;
  std::size_t offset_;
  std::optional<std::size_t> limit_;
  std::size_t batch_size_;
  bool recheck_ = false;
  std::optional<HitPager> pager_;
  std::deque<Record> ready_;
  std::size_t skipped_ = 0, returned_ = 0;
};

constexpr std::string_view kIdOrder = R"([{"id":{"order":"asc"}}])";

// The sort clause to page with, or nullopt when the core must sort (a key on a dotted path, or
// odd values among the documents to sort).
std::optional<std::string> NativeSort(EsStore& store, const Query& query) {
  std::optional<EsSort> sort = TranslateSort(query.sort());
  if (!sort) return std::nullopt;
  if (sort->uncertain.none()) return std::move(sort->json);
  const EsFilter filter = TranslateFilter(query.where());
  const Dsl candidates = DslAnd({DslOr({filter.match, filter.uncertain}), sort->uncertain});
  if (candidates.none()) return std::move(sort->json);
  HttpResponse response = store.Expect("POST", store.index_path() + "/_count",
                                       R"({"query":)" + candidates.Json() + "}", {200}, "counting");
  const Value body = ParseJson(response.body);
  const Value* count = body.Get<Object>()->Find("count");
  if (count && count->Get<std::int64_t>() && *count->Get<std::int64_t>() == 0) {
    return std::move(sort->json);
  }
  return std::nullopt;
}

// ---- Bulk ----

// Sends one _bulk body; returns the per-item results in order. *lost is set when no response came
// although the request may have reached the server (its items may or may not be written).
std::vector<BulkItem> SendBulk(EsStore& store, const std::string& body, std::size_t items,
                               bool idempotent, bool* lost) {
  HttpResponse response;
  try {
    response = store.Send("POST", store.index_path() + "/_bulk?refresh=false", body, idempotent,
                          "application/x-ndjson");
  } catch (const Error& e) {
    *lost = e.native_code() != HttpClient::kNotSent;
    throw;
  }
  if (response.status != 200) store.Fail(response, "bulk request");
  std::vector<BulkItem> out(items);
  od::parser parser;
  od::document doc = Must(parser.iterate(Padded(response.body)));
  od::object root = Must(doc.get_object());
  std::size_t i = 0;
  for (auto member : root) {
    const std::string_view key = Must(member.unescaped_key());
    if (key != "items") continue;
    for (auto item : Must(Must(member.value()).get_array())) {
      if (i >= items) break;
      BulkItem& result = out[i++];
      for (auto action : Must(item.get_object())) {
        for (auto field : Must(Must(action.value()).get_object())) {
          const std::string_view name = Must(field.unescaped_key());
          od::value value = Must(field.value());
          if (name == "status") {
            result.status = static_cast<long>(Must(value.get_int64()));
          } else if (name == "_seq_no") {
            result.seq_no = Must(value.get_int64());
          } else if (name == "_primary_term") {
            result.primary_term = Must(value.get_int64());
          } else if (name == "error") {
            for (auto e : Must(value.get_object())) {
              const std::string_view ek = Must(e.unescaped_key());
              if (ek == "type") {
                result.error_type = std::string(Must(Must(e.value()).get_string()));
              } else if (ek == "reason") {
                result.error_reason = std::string(Must(Must(e.value()).get_string()));
              }
            }
          }
        }
      }
    }
  }
  if (i != items) {
    throw Error(ErrorCode::kIo,
                "bulk response holds " + std::to_string(i) + " results for " +
                    std::to_string(items) + " items",
                std::string(kElasticsearchBackend));
  }
  return out;
}

// Builds _bulk bodies of at most bulk_size items and about bulk_bytes, and sends each. Items the
// server refused for back-pressure (429 in a 200 response) are sent again, alone, after a backoff,
// a few times; then their 429 is their result.
class BulkWriter {
 public:
  BulkWriter(EsStore& store, bool idempotent) : store_(store), idempotent_(idempotent) {}
  std::string& body() { return body_; }
  // The items of the request being sent when a Flush threw (it may have been processed):
  // [in_flight_begin, in_flight_end) in the order added.
  std::size_t in_flight_begin() const { return sent_; }
  std::size_t in_flight_end() const { return sent_ + ends_.size(); }
  // Whether the request in flight was lost on the way back: its items may have been written.
  bool in_flight_lost() const { return lost_; }

  // Call after appending an item's lines; sends when the request is full. on_result(index, item)
  // is called for each item sent, with its index in the order added.
  template <typename OnResult>
  void Added(OnResult&& on_result) {
    ends_.push_back(body_.size());
    if (ends_.size() >= store_.options().bulk_size || body_.size() >= store_.options().bulk_bytes) {
      Flush(on_result);
    }
  }

  template <typename OnResult>
  void Flush(OnResult&& on_result) {
    if (ends_.empty()) return;
    std::vector<BulkItem> results = SendBulk(store_, body_, ends_.size(), idempotent_, &lost_);
    for (int round = 1; round <= kItemRetries; ++round) {
      std::vector<std::size_t> refused;
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].status == 429) refused.push_back(i);
      }
      if (refused.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << round));
      std::string again;
      for (const std::size_t i : refused) {
        const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
        again.append(body_, begin, ends_[i] - begin);
      }
      const std::vector<BulkItem> retried =
          SendBulk(store_, again, refused.size(), idempotent_, &lost_);
      for (std::size_t k = 0; k < refused.size(); ++k) results[refused[k]] = retried[k];
    }
    for (std::size_t i = 0; i < results.size(); ++i) on_result(sent_ + i, results[i]);
    sent_ += ends_.size();
    ends_.clear();
    body_.clear();
  }

 private:
  static constexpr int kItemRetries = 3;
  EsStore& store_;
  bool idempotent_;
  std::string body_;
  std::vector<std::size_t> ends_;  // where each pending item's lines end in body_
  std::size_t sent_ = 0;
  bool lost_ = false;
};

std::string BulkFailure(const BulkItem& item) {
  std::string out = "HTTP " + std::to_string(item.status);
  if (!item.error_type.empty()) out += " " + item.error_type;
  if (!item.error_reason.empty()) out += ": " + item.error_reason;
  return out;
}

}  // namespace

// ---- The database ----

ElasticsearchDatabase::ElasticsearchDatabase(const ElasticsearchOptions& options)
    : store_(std::make_shared<EsStore>(options)) {
  store_->EnsureIndex();
}

ElasticsearchDatabase::~ElasticsearchDatabase() = default;

Capabilities ElasticsearchDatabase::capabilities() const noexcept {
  Capabilities c;
  c.persistent = true;
  // create_batch removes what it wrote when an item fails (README.md: not isolated).
  c.atomic_batch = true;
  c.concurrent_readers = true;
  return c;
}

void ElasticsearchDatabase::Close() {
  store_->Close();
}

std::string ElasticsearchDatabase::Create(const Record& record) {
  store_->CheckOpen();
  std::string id = ResolveOrMakeId(record);
  std::string body;
  DocumentEncoder encoder;
  encoder.Append(body, id, record, 1);
  HttpResponse response = store_->Send(
      "PUT", store_->index_path() + "/_create/" + PathSegment(id) + "?" + store_->RefreshQuery(),
      std::move(body), false);
  if (response.status == 201 || response.status == 200) return id;
  if (response.status == 409) {
    throw Error(ErrorCode::kAlreadyExists, "record '" + id + "' exists already",
                std::string(kElasticsearchBackend));
  }
  store_->Fail(response, "creating record '" + id + "'");
}

namespace {

// The stored document of id, or found == false.
HitView GetDocument(EsStore& store, std::string_view id) {
  HttpResponse response = store.Send("GET", store.index_path() + "/_doc/" + PathSegment(id));
  HitView hit;
  if (response.status == 404) {
    std::string type, reason;
    EsStore::ErrorDetails(response, type, reason);
    if (!type.empty()) store.Fail(response, "reading record '" + std::string(id) + "'");
    hit.found = false;
    return hit;
  }
  if (response.status != 200) store.Fail(response, "reading record '" + std::string(id) + "'");
  ParseGet(response, hit);
  // Only the id, version and sequence numbers are used: the views die with the response.
  return hit;
}

}  // namespace

std::optional<Record> ElasticsearchDatabase::Read(std::string_view id) {
  HttpResponse response = store_->Send("GET", store_->index_path() + "/_doc/" + PathSegment(id));
  if (response.status == 404) {
    std::string type, reason;
    EsStore::ErrorDetails(response, type, reason);
    if (type.empty()) return std::nullopt;  // the document is missing, not the index
  }
  if (response.status != 200) store_->Fail(response, "reading record '" + std::string(id) + "'");
  HitView hit;
  ParseGet(response, hit);
  if (!hit.found) return std::nullopt;
  Record record;
  DecodeHit(hit, record);
  return record;
}

bool ElasticsearchDatabase::Exists(std::string_view id) {
  HttpResponse response =
      store_->Send("GET", store_->index_path() + "/_doc/" + PathSegment(id) + "?_source=false");
  if (response.status == 404) {
    std::string type, reason;
    EsStore::ErrorDetails(response, type, reason);
    if (type.empty()) return false;
  }
  if (response.status != 200) store_->Fail(response, "reading record '" + std::string(id) + "'");
  HitView hit;
  ParseGet(response, hit);
  return hit.found;
}

namespace {

// The outcome of one conditional write.
enum class WriteOutcome : std::uint8_t { kDone, kAbsent, kRaced };

// Replaces the document of id when it is the state (seq_no, primary_term) read before, with
// record at version.
WriteOutcome ReplaceIf(EsStore& store, std::string_view id, const Record& record,
                       std::uint64_t version, std::int64_t seq_no, std::int64_t primary_term) {
  std::string body;
  DocumentEncoder encoder;
  encoder.Append(body, id, record, version);
  HttpResponse response = store.Send(
      "PUT",
      store.index_path() + "/_doc/" + PathSegment(id) + "?if_seq_no=" + std::to_string(seq_no) +
          "&if_primary_term=" + std::to_string(primary_term) + "&" + store.RefreshQuery(),
      std::move(body), false);
  if (response.status == 200 || response.status == 201) return WriteOutcome::kDone;
  if (response.status == 409) return WriteOutcome::kRaced;
  store.Fail(response, "writing record '" + std::string(id) + "'");
}

WriteOutcome CreateIfAbsent(EsStore& store, std::string_view id, const Record& record) {
  std::string body;
  DocumentEncoder encoder;
  encoder.Append(body, id, record, 1);
  HttpResponse response = store.Send(
      "PUT", store.index_path() + "/_create/" + PathSegment(id) + "?" + store.RefreshQuery(),
      std::move(body), false);
  if (response.status == 200 || response.status == 201) return WriteOutcome::kDone;
  if (response.status == 409) return WriteOutcome::kRaced;
  store.Fail(response, "creating record '" + std::string(id) + "'");
}

[[noreturn]] void ThrowConflict(std::string_view id, std::uint64_t expected,
                                std::optional<std::uint64_t> stored) {
  throw Error(ErrorCode::kConflict,
              "record '" + std::string(id) + "' is at version " +
                  (stored ? std::to_string(*stored) : std::string("none (absent)")) +
                  ", not the expected " + std::to_string(expected),
              std::string(kElasticsearchBackend));
}

[[noreturn]] void ThrowKeptChanging(std::string_view id) {
  throw Error(ErrorCode::kConflict,
              "record '" + std::string(id) + "' kept changing while it was being written (" +
                  std::to_string(kWriteTries) + " tries)",
              std::string(kElasticsearchBackend));
}

}  // namespace

bool ElasticsearchDatabase::Update(std::string_view id, const Record& record,
                                   std::optional<std::uint64_t> expected_version) {
  CheckFinite(record);
  for (int attempt = 0; attempt < kWriteTries; ++attempt) {
    const HitView current = GetDocument(*store_, id);
    if (!current.found) {
      if (expected_version) ThrowConflict(id, *expected_version, std::nullopt);
      return false;
    }
    const std::uint64_t version = VersionOf(current);
    if (expected_version && *expected_version != version) {
      ThrowConflict(id, *expected_version, version);
    }
    switch (ReplaceIf(*store_, id, record, version + 1, current.seq_no, current.primary_term)) {
      case WriteOutcome::kDone:
        return true;
      default:
        // Changed (or deleted) since it was read: the expected version is gone too.
        if (expected_version) ThrowConflict(id, *expected_version, std::nullopt);
        break;
    }
  }
  ThrowKeptChanging(id);
}

std::string ElasticsearchDatabase::Upsert(std::string_view id, const Record& record,
                                          std::optional<std::uint64_t> expected_version) {
  CheckFinite(record);
  const std::string key = id.empty() ? ResolveOrMakeId(record) : std::string(id);
  for (int attempt = 0; attempt < kWriteTries; ++attempt) {
    const HitView current = GetDocument(*store_, key);
    WriteOutcome outcome;
    if (!current.found) {
      if (expected_version) ThrowConflict(key, *expected_version, std::nullopt);
      outcome = CreateIfAbsent(*store_, key, record);
    } else {
      const std::uint64_t version = VersionOf(current);
      if (expected_version && *expected_version != version) {
        ThrowConflict(key, *expected_version, version);
      }
      outcome = ReplaceIf(*store_, key, record, version + 1, current.seq_no, current.primary_term);
    }
    if (outcome == WriteOutcome::kDone) return key;
    if (expected_version) ThrowConflict(key, *expected_version, std::nullopt);
  }
  ThrowKeptChanging(key);
}

bool ElasticsearchDatabase::Delete(std::string_view id) {
  HttpResponse response = store_->Send(
      "DELETE", store_->index_path() + "/_doc/" + PathSegment(id) + "?" + store_->RefreshQuery());
  if (response.status == 200) return true;
  if (response.status == 404) {
    std::string type, reason;
    EsStore::ErrorDetails(response, type, reason);
    if (type.empty()) return false;
  }
  store_->Fail(response, "deleting record '" + std::string(id) + "'");
}

namespace {

// The stored documents of ids (in order), through _mget; on_doc(index, hit) for each found one.
template <typename OnDoc>
void MultiGet(EsStore& store, const std::vector<std::string>& ids, bool source, OnDoc&& on_doc) {
  for (std::size_t start = 0; start < ids.size(); start += kIdsPerGet) {
    const std::size_t end = std::min(ids.size(), start + kIdsPerGet);
    std::string body = R"({"ids":[)";
    for (std::size_t i = start; i < end; ++i) {
      if (i > start) body += ',';
      AppendJsonString(body, ids[i]);
    }
    body += "]}";
    HttpResponse response =
        store.Expect("POST", store.index_path() + "/_mget" + (source ? "" : "?_source=false"),
                     std::move(body), {200}, "reading records");
    od::parser parser;
    od::document doc = Must(parser.iterate(Padded(response.body)));
    od::array docs = Must(Must(doc.get_object()).find_field("docs").get_array());
    std::size_t i = start;
    HitView hit;
    for (auto item : docs) {
      if (i >= end) break;
      ReadHit(Must(item.get_object()), hit);
      if (hit.found) on_doc(i, hit);
      ++i;
    }
  }
}

}  // namespace

// ---- Batches ----

std::vector<std::string> ElasticsearchDatabase::CreateBatch(const std::vector<Record>& records) {
  store_->CheckOpen();
  std::vector<std::string> ids;
  ids.reserve(records.size());
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < records.size(); ++i) {
    CheckFinite(records[i]);
    ids.push_back(ResolveOrMakeId(records[i]));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto [it, added] = seen.emplace(ids[i], i);
    if (!added) {
      throw Error(ErrorCode::kAlreadyExists,
                  "create_batch " + ItemLabel(i, ids[i]) + ": the id is also item " +
                      std::to_string(it->second) + "'s; nothing was stored",
                  std::string(kElasticsearchBackend));
    }
  }
  if (records.empty()) return ids;

  std::vector<std::size_t> written;  // items created by this call
  std::vector<std::pair<std::size_t, BulkItem>> failed;
  const auto on_result = [&](std::size_t index, const BulkItem& item) {
    if (item.status == 201 || item.status == 200) {
      written.push_back(index);
    } else {
      failed.emplace_back(index, item);
    }
  };
  // Marks this call's documents, so that after a lost response the ones it wrote can be told from
  // records another client created under the same ids.
  const std::string token = GenerateUuid();
  BulkWriter writer(*store_, false);
  DocumentEncoder encoder;
  std::optional<Error> interrupted;
  try {
    for (std::size_t i = 0; i < records.size(); ++i) {
      AppendBulkAction(writer.body(), "create", ids[i]);
      encoder.Append(writer.body(), ids[i], records[i], 1, token);
      writer.body() += '\n';
      writer.Added(on_result);
    }
    writer.Flush(on_result);
  } catch (const Error& e) {
    interrupted = e;
  }
  if (!interrupted && failed.empty()) {
    store_->RefreshAfterWrites();
    return ids;
  }

  // All or nothing: remove what this call wrote (ids it created, so nobody else's records).
  std::size_t unknown = 0;  // items of a lost request whose fate could not be learned
  if (interrupted && writer.in_flight_lost()) {
    std::vector<std::string> in_flight(ids.begin() + writer.in_flight_begin(),
                                       ids.begin() + writer.in_flight_end());
    try {
      MultiGet(*store_, in_flight, true, [&](std::size_t k, const HitView& hit) {
        if (hit.batch_token == token) written.push_back(writer.in_flight_begin() + k);
      });
    } catch (const Error&) {
      unknown = in_flight.size();
    }
  }
  std::size_t removed = 0;
  std::string cleanup_error;
  try {
    BulkWriter remover(*store_, true);
    const auto count_removed = [&](std::size_t, const BulkItem& item) {
      removed += item.status == 200 ? 1 : 0;
    };
    for (const std::size_t i : written) {
      AppendBulkAction(remover.body(), "delete", ids[i]);
      remover.Added(count_removed);
    }
    remover.Flush(count_removed);
    store_->RefreshAfterWrites();
  } catch (const Error& e) {
    cleanup_error = e.what();
  }
  std::string message = "create_batch of " + std::to_string(records.size()) + " records: ";
  ErrorCode code = ErrorCode::kInternal;
  if (interrupted) {
    code = interrupted->code();
    message += "interrupted after " + std::to_string(writer.in_flight_begin()) +
               " items had been answered: " + interrupted->what() + ";";
  }
  if (!failed.empty()) {
    if (!interrupted) {
      // A create's 409 is an existing id (Elasticsearch calls it a version conflict).
      const BulkItem& first = failed.front().second;
      code = first.status == 409 ? ErrorCode::kAlreadyExists
                                 : CodeForStatus(first.status, first.error_type);
    }
    message += " " + std::to_string(failed.size()) + " items failed:";
    for (std::size_t k = 0; k < failed.size() && k < 10; ++k) {
      message += " " + ItemLabel(failed[k].first, ids[failed[k].first]) + ": " +
                 BulkFailure(failed[k].second) + ";";
    }
    if (failed.size() > 10) message += " ...;";
  }
  if (removed == written.size() && unknown == 0) {
    message += " the " + std::to_string(written.size()) +
               " records it had written were removed again, so nothing was stored";
  } else {
    if (removed < written.size()) {
      message += " " + std::to_string(written.size() - removed) + " of the " +
                 std::to_string(written.size()) +
                 " records it had written could not be removed (first: '" + ids[written.front()] +
                 "')" + (cleanup_error.empty() ? std::string() : ": " + cleanup_error) + ";";
    } else if (written.empty()) {
      message += " no record had been answered as written;";
    } else {
      message += " the " + std::to_string(written.size()) +
                 " records it knew it had written were removed again;";
    }
    if (unknown > 0) {
      message += " the " + std::to_string(unknown) + " items of the request in flight (" +
                 ItemLabel(writer.in_flight_begin(), ids[writer.in_flight_begin()]) +
                 " onwards) may or may not have been stored: the server could not be asked";
    }
  }
  throw Error(code, std::move(message), std::string(kElasticsearchBackend));
}

std::vector<std::optional<Record>> ElasticsearchDatabase::ReadBatch(
    const std::vector<std::string>& ids) {
  store_->CheckOpen();
  std::vector<std::optional<Record>> out(ids.size());
  MultiGet(*store_, ids, true, [&](std::size_t i, const HitView& hit) {
    Record record;
    DecodeHit(hit, record);
    out[i] = std::move(record);
  });
  return out;
}

std::vector<bool> ElasticsearchDatabase::DeleteBatch(const std::vector<std::string>& ids) {
  store_->CheckOpen();
  std::vector<bool> out(ids.size(), false);
  if (ids.empty()) return out;
  BulkWriter writer(*store_, true);
  const auto on_result = [&](std::size_t i, const BulkItem& item) {
    if (item.status == 200) {
      out[i] = true;
    } else if (item.status != 404) {
      throw Error(CodeForStatus(item.status, item.error_type),
                  "delete_batch " + ItemLabel(i, ids[i]) + ": " + BulkFailure(item),
                  std::string(kElasticsearchBackend), item.error_type);
    }
  };
  for (const std::string& id : ids) {
    AppendBulkAction(writer.body(), "delete", id);
    writer.Added(on_result);
  }
  writer.Flush(on_result);
  store_->RefreshAfterWrites();
  return out;
}

std::vector<bool> ElasticsearchDatabase::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  store_->CheckOpen();
  std::vector<bool> out(updates.size(), false);
  if (updates.empty()) return out;
  for (const auto& [id, record] : updates) CheckFinite(record);
  std::vector<std::string> ids;
  ids.reserve(updates.size());
  for (const auto& u : updates) ids.push_back(u.first);
  // The state of each stored document, for a conditional replace: an update never inserts.
  struct State {
    std::uint64_t version;
    std::int64_t seq_no, primary_term;
  };
  std::vector<std::optional<State>> states(updates.size());
  // dkdata's version lives in _source (_dk.v).
  MultiGet(*store_, ids, true, [&](std::size_t i, const HitView& hit) {
    states[i] = State{VersionOf(hit), hit.seq_no, hit.primary_term};
  });
  std::vector<std::size_t> raced;
  BulkWriter writer(*store_, true);
  std::vector<std::size_t> order;  // bulk item -> update index
  const auto on_result = [&](std::size_t k, const BulkItem& item) {
    const std::size_t i = order[k];
    if (item.status == 200 || item.status == 201) {
      out[i] = true;
    } else if (item.status == 409) {
      raced.push_back(i);
    } else {
      throw Error(CodeForStatus(item.status, item.error_type),
                  "update_batch " + ItemLabel(i, ids[i]) + ": " + BulkFailure(item),
                  std::string(kElasticsearchBackend), item.error_type);
    }
  };
  DocumentEncoder encoder;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (!states[i]) continue;
    // The same id twice: the second must see the first's write, so it goes one at a time.
    const std::string extra = ",\"if_seq_no\":" + std::to_string(states[i]->seq_no) +
                              ",\"if_primary_term\":" + std::to_string(states[i]->primary_term);
    AppendBulkAction(writer.body(), "index", ids[i], extra);
    encoder.Append(writer.body(), ids[i], updates[i].second, states[i]->version + 1);
    writer.body() += '\n';
    order.push_back(i);
    writer.Added(on_result);
  }
  writer.Flush(on_result);
  // Changed since read (or repeated in the batch): one at a time, in order.
  std::sort(raced.begin(), raced.end());
  for (const std::size_t i : raced) out[i] = Update(ids[i], updates[i].second, std::nullopt);
  store_->RefreshAfterWrites();
  return out;
}

// ---- Queries ----

std::vector<Record> ElasticsearchDatabase::Search(const Query& query) {
  store_->CheckOpen();
  CompiledFilter validate(query.where());
  std::optional<std::string> sort = NativeSort(*store_, query);
  std::vector<Record> out;
  if (sort) {
    EsCursor cursor(store_, query, std::move(*sort), kPageSize);
    std::vector<Record> batch;
    while (cursor.NextBatch(batch)) {
      for (Record& r : batch) out.push_back(std::move(r));
    }
    return out;
  }
  // The core sorts: every match, in id order, then a stable sort.
  Query all(query.where());
  EsCursor cursor(store_, all, std::string(kIdOrder), kPageSize);
  std::vector<Record> batch;
  while (cursor.NextBatch(batch)) {
    for (Record& r : batch) out.push_back(std::move(r));
  }
  const std::vector<SortKey>& keys = query.sort();
  std::vector<std::vector<Value>> scratch(out.size(), std::vector<Value>(keys.size()));
  std::vector<std::vector<const Value*>> rows(out.size(), std::vector<const Value*>(keys.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      rows[i][k] = QueryValue(out[i], keys[k].field, scratch[i][k]);
    }
  }
  std::vector<std::size_t> order(out.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return CompareSortRows(keys, rows[a].data(), rows[b].data()) < 0;
  });
  std::vector<Record> sorted;
  const std::size_t begin = std::min(query.offset(), order.size());
  const std::size_t end =
      query.limit() ? std::min(order.size(), begin + *query.limit()) : order.size();
  for (std::size_t i = begin; i < end; ++i) {
    Record& r = out[order[i]];
    sorted.push_back(query.fields().empty() ? std::move(r) : r.Project(query.fields()));
  }
  return sorted;
}

std::unique_ptr<RecordCursor> ElasticsearchDatabase::StreamRead(const Query& query,
                                                                StreamOptions options) {
  store_->CheckOpen();
  CompiledFilter validate(query.where());
  std::optional<std::string> sort = NativeSort(*store_, query);
  if (!sort) return std::make_unique<VectorCursor>(Search(query), options.batch_size);
  return std::make_unique<EsCursor>(store_, query, std::move(*sort), options.batch_size);
}

std::size_t ElasticsearchDatabase::Count(const Expr& expr) {
  store_->CheckOpen();
  CompiledFilter filter(expr);
  const EsFilter translated = TranslateFilter(expr);
  const auto count = [this](const Dsl& dsl) -> std::size_t {
    if (dsl.none()) return 0;
    HttpResponse response = store_->Expect("POST", store_->index_path() + "/_count",
                                           R"({"query":)" + dsl.Json() + "}", {200}, "counting");
    const Value body = ParseJson(response.body);
    const Value* n = body.Get<Object>()->Find("count");
    return n && n->Get<std::int64_t>() ? static_cast<std::size_t>(*n->Get<std::int64_t>()) : 0;
  };
  if (translated.uncertain.none()) return count(translated.match);
  std::size_t total = count(DslAnd({translated.match, DslNot(translated.uncertain)}));
  HitPager pager(store_, translated.uncertain.Json(), std::string(kIdOrder), kPageSize);
  Record record;
  while (pager.NextPage([&](const HitView& hit) {
    DecodeHit(hit, record);
    if (filter.Matches(record)) ++total;
  })) {
  }
  return total;
}

std::size_t ElasticsearchDatabase::Clear() {
  store_->CheckOpen();
  // The integ-test distributions lack _delete_by_query: page through the ids and delete them.
  store_->Expect("POST", store_->index_path() + "/_refresh", {}, {200}, "refreshing");
  std::size_t deleted = 0;
  for (;;) {
    std::vector<std::string> ids;
    {
      HitPager pager(store_, R"({"match_all":{}})", std::string(kIdOrder), kMaxFromSize, false);
      pager.NextPage([&](const HitView& hit) { ids.push_back(hit.id); });
    }
    if (ids.empty()) break;
    BulkWriter writer(*store_, true);
    const auto on_result = [&](std::size_t, const BulkItem& item) {
      deleted += item.status == 200 ? 1 : 0;
    };
    for (const std::string& id : ids) {
      AppendBulkAction(writer.body(), "delete", id);
      writer.Added(on_result);
    }
    writer.Flush(on_result);
    store_->Expect("POST", store_->index_path() + "/_refresh", {}, {200}, "refreshing");
  }
  return deleted;
}

StreamResult ElasticsearchDatabase::StreamWrite(const RecordSource& source, StreamOptions options) {
  store_->CheckOpen();
  // A _bulk request cannot stop at its first failed item: stopping there is one write at a time.
  if (options.stop_on_error) return Database::StreamWrite(source, options);
  StreamWriteProgress progress(options);
  std::vector<Record> batch;
  bool wrote = false;
  DocumentEncoder encoder;
  while (progress.ReadBatch(source, batch)) {
    const std::size_t base = progress.base();
    std::vector<std::string> ids;
    ids.reserve(batch.size());
    for (const Record& r : batch) ids.push_back(ResolveOrMakeId(r));
    // Upsert: the stored state of each id, for a conditional replace with the next version.
    struct State {
      std::uint64_t version;
      std::int64_t seq_no, primary_term;
    };
    std::vector<std::optional<State>> states(batch.size());
    if (options.upsert) {
      MultiGet(*store_, ids, true, [&](std::size_t i, const HitView& hit) {
        states[i] = State{VersionOf(hit), hit.seq_no, hit.primary_term};
      });
    }
    // An id seen earlier in the batch, or a document changed since read: one at a time, after.
    std::vector<std::size_t> later;
    std::unordered_map<std::string_view, std::size_t> seen;
    std::vector<std::size_t> order;  // bulk item -> batch position
    BulkWriter writer(*store_, false);
    const auto on_result = [&](std::size_t k, const BulkItem& item) {
      const std::size_t i = order[k];
      if (item.status == 200 || item.status == 201) {
        progress.Succeeded();
      } else if (item.status == 409 && options.upsert) {
        later.push_back(i);
      } else {
        progress.Fail(
            base + i, ids[i],
            item.status == 409 ? "record '" + ids[i] + "' exists already" : BulkFailure(item));
      }
    };
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!seen.emplace(ids[i], i).second) {
        later.push_back(i);
        continue;
      }
      const std::size_t mark = writer.body().size();
      try {
        CheckFinite(batch[i]);
        if (states[i]) {
          AppendBulkAction(writer.body(), "index", ids[i],
                           ",\"if_seq_no\":" + std::to_string(states[i]->seq_no) +
                               ",\"if_primary_term\":" + std::to_string(states[i]->primary_term));
        } else {
          AppendBulkAction(writer.body(), "create", ids[i]);
        }
        encoder.Append(writer.body(), ids[i], batch[i], states[i] ? states[i]->version + 1 : 1);
        writer.body() += '\n';
      } catch (const Error& e) {
        writer.body().resize(mark);
        progress.Fail(base + i, ids[i], e.what());
        continue;
      }
      order.push_back(i);
      writer.Added(on_result);
    }
    writer.Flush(on_result);
    wrote = wrote || !order.empty();
    std::sort(later.begin(), later.end());
    for (const std::size_t i : later) {
      try {
        if (options.upsert) {
          Upsert(ids[i], batch[i], std::nullopt);
        } else {
          Create(batch[i]);
        }
        progress.Succeeded();
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kUnavailable) throw;
        progress.Fail(base + i, ids[i], e.what());
      }
    }
  }
  if (wrote) store_->RefreshAfterWrites();
  return std::move(progress.result());
}

}  // namespace dkdata::internal
