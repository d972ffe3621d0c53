// The S3 backend (s3_database.hpp): records as objects, conditional writes, parallel batches,
// searches evaluated by the core over an ETag-validated cache.
#include "backends/s3/s3_database.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "backends/s3/s3_client.hpp"
#include "core/evaluator.hpp"
#include "core/stream_write.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

constexpr std::string_view kSuffix = ".json";
constexpr std::size_t kListPage = 1000;  // S3's most keys per listing
constexpr std::size_t kMaxKeyBytes = 1024;
// Read-modify-write loops give up after this many writers came in between.
constexpr int kMaxRaces = 16;
// Failures named one by one in a batch's error.
constexpr std::size_t kFailuresNamed = 10;
// Object metadata naming the PUT that wrote the object (a UUID per write call, the same on its
// retries), lower case as responses give header names.
constexpr std::string_view kWriteTokenHeader = "x-amz-meta-dk-write";

std::string ResolveOrMakeId(const Record& record) {
  auto id = record.ResolveId();
  return id ? std::move(*id) : GenerateUuid();
}

std::string ItemLabel(std::size_t index, std::string_view id) {
  return "item " + std::to_string(index) + " (id '" + std::string(id) + "')";
}

// S3 object tags (at most 10; keys of 1-128 and values of 0-256 characters among letters, digits,
// space and + - = . _ : / @; no "aws:" keys). Record metadata whose entries are all strings,
// numbers or bools and fit is sent as tags; it is in the body either way.
bool TagText(std::string_view text, std::size_t max) {
  if (text.size() > max) return false;
  return std::all_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || std::string_view(" +-=._:/@").find(ch) != std::string_view::npos;
  });
}

std::string TaggingHeader(const Object& metadata) {
  std::string out;
  std::size_t count = 0;
  for (const auto& [key, value] : metadata) {
    std::string text;
    if (const auto* s = value.Get<std::string>()) {
      text = *s;
    } else if (value.is_number() || value.Get<bool>() != nullptr) {
      text = ToJson(value);
    } else {
      continue;
    }
    if (key.empty() || key.starts_with("aws:") || !TagText(key, 128) || !TagText(text, 256)) {
      continue;
    }
    if (++count > 10) break;
    if (!out.empty()) out += '&';
    out += S3Encode(key, false) + "=" + S3Encode(text, false);
  }
  return out;
}

}  // namespace

// ---- The store: what the database and its cursors share ----

class S3Store {
 public:
  explicit S3Store(const S3Options& options) : client(options), prefix(options.prefix) {}

  S3Client client;
  const std::string prefix;

  void CheckOpen() const {
    if (closed.load()) {
      throw Error(ErrorCode::kUnavailable, "the s3 database " + Describe() + " is closed",
                  std::string(kS3Backend));
    }
  }
  std::string Describe() const { return client.options().Describe(); }

  // The key of id; throws Error(kInvalidArgument) for an id S3 cannot hold.
  std::string KeyOf(std::string_view id) const {
    if (id.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "a record id must not be empty",
                  std::string(kS3Backend));
    }
    std::string key = prefix + std::string(id) + std::string(kSuffix);
    if (key.size() > kMaxKeyBytes) {
      throw Error(ErrorCode::kInvalidArgument,
                  "record id '" + std::string(id.substr(0, 64)) + "...' is too long: its key '" +
                      prefix + "{id}.json' would pass S3's 1024 bytes",
                  std::string(kS3Backend));
    }
    return key;
  }
  // The id a listed key holds, or nullopt for a key that is not a record's.
  std::optional<std::string> IdOf(std::string_view key) const {
    if (!key.starts_with(prefix) || !key.ends_with(kSuffix) ||
        key.size() == prefix.size() + kSuffix.size()) {
      return std::nullopt;
    }
    return std::string(key.substr(prefix.size(), key.size() - prefix.size() - kSuffix.size()));
  }

  // The body of record stored under id at version.
  static std::string Encode(const Record& record, std::string_view id, std::uint64_t version) {
    Record stored = record;
    stored.set_id(id);
    stored.set_version(version);
    return RecordToJson(stored, RecordFormat::kStructured);
  }
  // A stored body as a record, with the id its key gives.
  Record Decode(std::string_view id, std::string_view body) const {
    Record record;
    try {
      record = RecordFromJson(body);
    } catch (const Error& e) {
      throw Error(ErrorCode::kInvalidArgument,
                  client.Where(prefix + std::string(id) + std::string(kSuffix)) +
                      " does not hold a record: " + e.what(),
                  std::string(kS3Backend));
    }
    record.set_id(id);
    if (record.version() == 0) record.set_version(1);  // written without one (the reference)
    return record;
  }

  // A conditional PUT of body at key ("If-None-Match: *" or "If-Match: <etag>").
  HttpRequest PutRequest(const std::string& key, std::string body, const Object& metadata,
                         std::pair<std::string, std::string> condition) {
    HttpHeaders headers = {{"Content-Type", "application/json"},
                           std::move(condition),
                           {std::string(kWriteTokenHeader), GenerateUuid()}};
    if (std::string tags = TaggingHeader(metadata); !tags.empty()) {
      headers.emplace_back("x-amz-tagging", std::move(tags));
    }
    return client.Request("PUT", key, {}, std::move(body), std::move(headers));
  }
  bool Multipart(const HttpRequest& put) const {
    return put.body.size() > client.options().multipart_threshold;
  }
  // Sends a PUT made by PutRequest, in parts when it is large.
  HttpResponse Put(const std::string& key, const HttpRequest& put) {
    if (!Multipart(put)) return client.Send(put);
    HttpHeaders headers;
    for (const auto& h : put.headers) {
      if (h.first != "x-amz-content-sha256" && h.first != "x-amz-security-token") {
        headers.push_back(h);
      }
    }
    return client.PutMultipart(key, put.body, headers);
  }

  struct Stored {
    Record record;
    std::string etag;
  };

  // GET of id, answered from the cache when the object is unchanged (304).
  std::optional<Stored> Get(std::string_view id) {
    const std::string key = KeyOf(id);
    std::optional<Stored> cached;
    return Answer(id, key, client.Send(GetRequest(key, cached)), cached);
  }
  // A GET of key that the cache may answer: sent with If-None-Match when key is cached (then
  // `cached` holds what the cache has).
  HttpRequest GetRequest(const std::string& key, std::optional<Stored>& cached) {
    cached = FromCache(key, "");
    HttpHeaders headers;
    if (cached) headers.emplace_back("If-None-Match", cached->etag);
    return client.Request("GET", key, {}, {}, std::move(headers));
  }
  // What a GET's response says: the record (the cached one on 304), nullopt for 404, else the
  // error.
  std::optional<Stored> Answer(std::string_view id, const std::string& key, const HttpResponse& r,
                               std::optional<Stored>& cached) {
    if (r.status == 304 && cached) return std::move(cached);
    if (r.status == 404) {
      Forget(key);
      return std::nullopt;
    }
    if (r.status != 200) throw client.ErrorFor(r, "reading " + client.Where(key));
    const std::string* etag = r.Header("etag");
    Stored out{Decode(id, r.body), etag ? *etag : std::string()};
    Remember(key, out.etag, out.record);
    return out;
  }

  // The stored state of each key (nullopt where absent), read in parallel past the cache.
  std::vector<std::optional<Stored>> FetchMany(const std::vector<std::string>& ids,
                                               const std::vector<std::string>& keys) {
    std::vector<HttpRequest> gets;
    std::vector<std::optional<Stored>> out(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) gets.push_back(GetRequest(keys[i], out[i]));
    std::optional<Error> failure;
    client.SendAll(gets, [&](std::size_t i, HttpClient::Outcome& outcome) {
      if (failure) return;
      try {
        if (outcome.error) throw *outcome.error;
        out[i] = Answer(ids[i], keys[i], outcome.response, out[i]);
      } catch (const Error& e) {
        failure = e;
      }
    });
    if (failure) throw *failure;
    return out;
  }

  // Whether a conditional PUT made by PutRequest took effect: 200, or a 412 that refused a resend
  // of it whose first answer was lost (by dkdata's retry, or libcurl's own on a kept-alive
  // connection that turned out closed, which the response cannot tell). The object then carries
  // the PUT's own write token: the body cannot tell, as two writers may write the same bytes.
  bool Written(const std::string& key, const HttpResponse& r, const HttpRequest& put) {
    if (r.status == 200) return true;
    if (r.status != 412) return false;
    const std::string* token = nullptr;
    for (const auto& [name, value] : put.headers) {
      if (name == kWriteTokenHeader) token = &value;
    }
    const HttpResponse now = client.Send(client.Request("HEAD", key));
    const std::string* stored = now.Header(kWriteTokenHeader);
    return now.status == 200 && token != nullptr && stored != nullptr && *stored == *token;
  }

  // ---- The cache: records by key, valid while the object's ETag is the one cached ----

  std::optional<Stored> FromCache(const std::string& key, std::string_view etag) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto found = cache_.find(key);
    if (found == cache_.end() || (!etag.empty() && found->second.etag != etag)) {
      return std::nullopt;
    }
    return found->second;
  }
  void Remember(const std::string& key, const std::string& etag, const Record& record) {
    const std::size_t capacity = client.options().cache_records;
    if (capacity == 0 || etag.empty()) return;
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= capacity && cache_.find(key) == cache_.end()) {
      cache_.erase(cache_.begin());  // any one: the cache is a saving, not a promise
    }
    cache_[key] = Stored{record, etag};
  }
  void Forget(const std::string& key) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_.erase(key);
  }
  void ForgetAll() {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_.clear();
  }

  // ---- Listing and loading ----

  // Lists the records' keys one page at a time: fills entries (cleared first) and ids; returns
  // false after the last page.
  struct Lister {
    std::string token;
    bool done = false;
  };
  bool ListPage(Lister& lister, std::vector<S3ListEntry>& entries, std::vector<std::string>& ids) {
    entries.clear();
    ids.clear();
    if (lister.done) return false;
    std::string next;
    std::vector<S3ListEntry> page = client.List(prefix, lister.token, kListPage, next);
    lister.token = next;
    lister.done = next.empty();
    for (S3ListEntry& entry : page) {
      if (std::optional<std::string> id = IdOf(entry.key)) {
        ids.push_back(std::move(*id));
        entries.push_back(std::move(entry));
      }
    }
    return true;
  }

  // The records of listed entries, in their order (objects deleted since the listing are left
  // out): the unchanged ones from the cache, the others fetched in parallel.
  std::vector<Record> Load(const std::vector<S3ListEntry>& entries,
                           const std::vector<std::string>& ids) {
    std::vector<std::optional<Record>> loaded(entries.size());
    std::vector<HttpRequest> requests;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (std::optional<Stored> hit = FromCache(entries[i].key, entries[i].etag)) {
        loaded[i] = std::move(hit->record);
      } else {
        requests.push_back(client.Request("GET", entries[i].key));
        positions.push_back(i);
      }
    }
    std::optional<Error> failure;
    std::optional<Stored> none;
    client.SendAll(requests, [&](std::size_t k, HttpClient::Outcome& outcome) {
      if (failure) return;
      const std::size_t i = positions[k];
      try {
        if (outcome.error) throw *outcome.error;
        if (std::optional<Stored> s = Answer(ids[i], entries[i].key, outcome.response, none)) {
          loaded[i] = std::move(s->record);
        }
      } catch (const Error& e) {
        failure = e;
      }
    });
    if (failure) throw *failure;
    std::vector<Record> out;
    out.reserve(entries.size());
    for (std::optional<Record>& r : loaded) {
      if (r) out.push_back(std::move(*r));
    }
    return out;
  }

  // Every record the filter matches, in the store's order (S3's key order).
  std::vector<Record> LoadMatching(const CompiledFilter& filter) {
    std::vector<Record> out;
    Lister lister;
    std::vector<S3ListEntry> entries;
    std::vector<std::string> ids;
    while (ListPage(lister, entries, ids)) {
      for (Record& r : Load(entries, ids)) {
        if (filter.Matches(r)) out.push_back(std::move(r));
      }
    }
    return out;
  }

  std::atomic<bool> closed{false};

 private:
  std::mutex cache_mutex_;
  std::unordered_map<std::string, Stored> cache_;
};

namespace {

// Reads a stored object through a cursor: lists a page, loads it, filters, pages.
class S3Cursor final : public RecordCursor {
 public:
  S3Cursor(std::shared_ptr<S3Store> store, const Query& query, std::size_t batch_size)
      : store_(std::move(store)),
        filter_(query.where()),
        fields_(query.fields()),
        skip_(query.offset()),
        left_(query.limit()),
        batch_size_(std::max<std::size_t>(1, batch_size)) {}

  bool NextBatch(std::vector<Record>& batch) override {
    batch.clear();
    while (batch.size() < batch_size_ && (!left_ || *left_ > 0)) {
      if (next_ == pending_.size()) {
        pending_.clear();
        next_ = 0;
        store_->CheckOpen();
        if (!store_->ListPage(lister_, entries_, ids_)) break;
        for (Record& r : store_->Load(entries_, ids_)) {
          if (filter_.Matches(r)) pending_.push_back(std::move(r));
        }
        continue;
      }
      Record& r = pending_[next_++];
      if (skip_ > 0) {
        --skip_;
        continue;
      }
      batch.push_back(fields_.empty() ? std::move(r) : r.Project(fields_));
      if (left_) --*left_;
    }
    return !batch.empty();
  }

 private:
  std::shared_ptr<S3Store> store_;
  CompiledFilter filter_;
  std::vector<std::string> fields_;
  std::size_t skip_;
  std::optional<std::size_t> left_;
  std::size_t batch_size_;
  S3Store::Lister lister_;
  std::vector<S3ListEntry> entries_;
  std::vector<std::string> ids_;
  std::vector<Record> pending_;
  std::size_t next_ = 0;
};

// What one item of a parallel write came to.
struct ItemFailure {
  std::size_t index;
  std::string id;
  Error error;
};

// "create_batch: 2 of 5 records were not created: item 1 (id 'x'): ...; ... The other 3 are
// stored." with the first failure's code.
[[noreturn]] void ThrowBatchFailures(std::string_view call, std::size_t total,
                                     const std::vector<ItemFailure>& failures) {
  std::string message = std::string(call) + ": " + std::to_string(failures.size()) + " of " +
                        std::to_string(total) + " records were not written: ";
  for (std::size_t i = 0; i < failures.size() && i < kFailuresNamed; ++i) {
    if (i > 0) message += "; ";
    message += ItemLabel(failures[i].index, failures[i].id) + ": " + failures[i].error.what();
  }
  if (failures.size() > kFailuresNamed) {
    message += "; and " + std::to_string(failures.size() - kFailuresNamed) + " more";
  }
  message += ". The other " + std::to_string(total - failures.size()) + " are stored.";
  throw Error(failures.front().error.code(), std::move(message), std::string(kS3Backend),
              failures.front().error.native_code());
}

}  // namespace

// ---- The database ----

S3Database::S3Database(const S3Options& options) : store_(std::make_shared<S3Store>(options)) {
  // The bucket must exist and the credentials work: a mistyped name or a wrong secret should fail
  // here, not at the first write. A one-key listing (unlike HEAD) says what is wrong in its body.
  try {
    std::string next;
    store_->client.List(store_->prefix, "", 1, next);
  } catch (const Error& e) {
    throw Error(e.code(), "opening " + options.Describe() + ": " + e.what(), e.backend(),
                e.native_code());
  }
}

S3Database::~S3Database() = default;

Capabilities S3Database::capabilities() const noexcept {
  Capabilities c;
  c.persistent = true;
  c.concurrent_readers = true;
  return c;
}

namespace {

// Creates records in parallel, each with If-None-Match: *. Returns one failure per item that was
// not created (an id repeated in the call fails as existing, without a request). Encoding errors
// (NaN, ...) are thrown before anything is sent.
std::vector<ItemFailure> CreateMany(S3Store& store, const std::vector<Record>& records,
                                    std::vector<std::string>& ids) {
  ids.clear();
  std::vector<ItemFailure> failures;
  std::vector<HttpRequest> puts;
  std::vector<std::size_t> positions;
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < records.size(); ++i) {
    ids.push_back(ResolveOrMakeId(records[i]));
    std::string body;
    try {
      keys.push_back(store.KeyOf(ids[i]));
      body = S3Store::Encode(records[i], ids[i], 1);
    } catch (const Error& e) {
      throw Error(e.code(), ItemLabel(i, ids[i]) + ": " + e.what(), std::string(kS3Backend));
    }
    if (!seen.insert(ids[i]).second) {
      failures.push_back({i, ids[i],
                          Error(ErrorCode::kAlreadyExists,
                                "record '" + ids[i] + "' exists already (earlier in the same call)",
                                std::string(kS3Backend))});
      continue;
    }
    puts.push_back(
        store.PutRequest(keys[i], std::move(body), records[i].metadata(), {"If-None-Match", "*"}));
    positions.push_back(i);
  }
  const auto created = [&](std::size_t k, const HttpResponse& r,
                           const HttpRequest& put) -> std::optional<Error> {
    const std::size_t i = positions[k];
    if (store.Written(keys[i], r, put)) {
      const std::string* etag = r.Header("etag");
      if (etag && r.status == 200) store.Remember(keys[i], *etag, store.Decode(ids[i], put.body));
      return std::nullopt;
    }
    if (r.status == 412) {
      return Error(ErrorCode::kAlreadyExists, "record '" + ids[i] + "' exists already",
                   std::string(kS3Backend), "HTTP 412");
    }
    return store.client.ErrorFor(r, "creating " + store.client.Where(keys[i]));
  };
  std::vector<HttpRequest> small;
  std::vector<std::size_t> small_k;
  for (std::size_t k = 0; k < puts.size(); ++k) {
    if (store.Multipart(puts[k])) {
      try {
        if (auto e = created(k, store.Put(keys[positions[k]], puts[k]), puts[k])) {
          failures.push_back({positions[k], ids[positions[k]], *e});
        }
      } catch (const Error& e) {
        failures.push_back({positions[k], ids[positions[k]], e});
      }
    } else {
      small.push_back(std::move(puts[k]));
      small_k.push_back(k);
    }
  }
  store.client.SendAll(small, [&](std::size_t j, HttpClient::Outcome& outcome) {
    const std::size_t k = small_k[j];
    std::optional<Error> e = outcome.error;
    if (!e) e = created(k, outcome.response, small[j]);
    if (e) failures.push_back({positions[k], ids[positions[k]], *e});
  });
  std::sort(failures.begin(), failures.end(),
            [](const ItemFailure& a, const ItemFailure& b) { return a.index < b.index; });
  return failures;
}

}  // namespace

std::string S3Database::Create(const Record& record) {
  store_->CheckOpen();
  std::vector<std::string> ids;
  const std::vector<ItemFailure> failures = CreateMany(*store_, {record}, ids);
  if (!failures.empty()) throw failures.front().error;
  return ids.front();
}

std::vector<std::string> S3Database::CreateBatch(const std::vector<Record>& records) {
  store_->CheckOpen();
  std::vector<std::string> ids;
  const std::vector<ItemFailure> failures = CreateMany(*store_, records, ids);
  if (!failures.empty()) ThrowBatchFailures("create_batch", records.size(), failures);
  return ids;
}

std::optional<Record> S3Database::Read(std::string_view id) {
  store_->CheckOpen();
  std::optional<S3Store::Stored> s = store_->Get(id);
  if (!s) return std::nullopt;
  return std::move(s->record);
}

bool S3Database::Exists(std::string_view id) {
  store_->CheckOpen();
  const std::string key = store_->KeyOf(id);
  const HttpResponse r = store_->client.Send(store_->client.Request("HEAD", key));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  throw store_->client.ErrorFor(r, "looking for " + store_->client.Where(key));
}

namespace {

// Replaces (or creates, when upsert) the record at id, conditionally on what was read, again
// until no other writer came in between. Returns false when absent and not upsert.
bool WriteOver(S3Store& store, std::string_view id, const Record& record,
               std::optional<std::uint64_t> expected_version, bool upsert) {
  const std::string key = store.KeyOf(id);
  std::string body;
  for (int race = 0; race < kMaxRaces; ++race) {
    std::optional<S3Store::Stored> current = store.Get(id);
    const std::uint64_t version = current ? current->record.version() : 0;
    if (!current && !upsert) {
      if (expected_version) {
        throw Error(ErrorCode::kConflict,
                    "record '" + std::string(id) + "' expected at version " +
                        std::to_string(*expected_version) + " does not exist",
                    std::string(kS3Backend));
      }
      return false;
    }
    if (expected_version && *expected_version != version) {
      throw Error(ErrorCode::kConflict,
                  "record '" + std::string(id) + "' is at version " + std::to_string(version) +
                      ", expected " + std::to_string(*expected_version),
                  std::string(kS3Backend));
    }
    body = S3Store::Encode(record, id, version + 1);
    std::pair<std::string, std::string> condition =
        current ? std::pair<std::string, std::string>{"If-Match", current->etag}
                : std::pair<std::string, std::string>{"If-None-Match", "*"};
    const HttpRequest put = store.PutRequest(key, body, record.metadata(), std::move(condition));
    const HttpResponse r = store.Put(key, put);
    if (store.Written(key, r, put)) {
      const std::string* etag = r.Header("etag");
      if (etag && r.status == 200) store.Remember(key, *etag, store.Decode(id, body));
      return true;
    }
    if (r.status != 412 && r.status != 404) {
      throw store.client.ErrorFor(r, "writing " + store.client.Where(key));
    }
    // Changed, created or deleted since read: read again.
  }
  throw Error(ErrorCode::kConflict,
              "record '" + std::string(id) + "' changed " + std::to_string(kMaxRaces) +
                  " times while it was being written; try again",
              std::string(kS3Backend));
}

}  // namespace

bool S3Database::Update(std::string_view id, const Record& record,
                        std::optional<std::uint64_t> expected_version) {
  store_->CheckOpen();
  return WriteOver(*store_, id, record, expected_version, false);
}

std::string S3Database::Upsert(std::string_view id_arg, const Record& record,
                               std::optional<std::uint64_t> expected_version) {
  store_->CheckOpen();
  const std::string id = id_arg.empty() ? ResolveOrMakeId(record) : std::string(id_arg);
  WriteOver(*store_, id, record, expected_version, true);
  return id;
}

bool S3Database::Delete(std::string_view id) {
  return DeleteBatch({std::string(id)}).front();
}

std::vector<std::optional<Record>> S3Database::ReadBatch(const std::vector<std::string>& ids) {
  store_->CheckOpen();
  std::vector<std::string> keys;
  for (const std::string& id : ids) keys.push_back(store_->KeyOf(id));
  std::vector<std::optional<Record>> out;
  out.reserve(ids.size());
  for (std::optional<S3Store::Stored>& s : store_->FetchMany(ids, keys)) {
    out.push_back(s ? std::optional<Record>(std::move(s->record)) : std::nullopt);
  }
  return out;
}

std::vector<bool> S3Database::UpdateBatch(
    const std::vector<std::pair<std::string, Record>>& updates) {
  store_->CheckOpen();
  std::vector<std::string> ids;
  for (const auto& u : updates) ids.push_back(u.first);
  // Read all, then write each over what was read; an id changed in between (or repeated in the
  // batch) is written again on its own, in order.
  std::vector<std::string> keys;
  for (const std::string& id : ids) keys.push_back(store_->KeyOf(id));
  const std::vector<std::optional<S3Store::Stored>> read = store_->FetchMany(ids, keys);
  std::vector<bool> out(updates.size(), false);
  std::optional<Error> failure;
  std::vector<HttpRequest> puts;
  std::vector<std::size_t> positions;
  std::vector<std::size_t> again;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (!read[i]) continue;  // absent
    HttpRequest put = store_->PutRequest(
        keys[i], S3Store::Encode(updates[i].second, ids[i], read[i]->record.version() + 1),
        updates[i].second.metadata(), {"If-Match", read[i]->etag});
    if (store_->Multipart(put)) {
      again.push_back(i);
      continue;
    }
    puts.push_back(std::move(put));
    positions.push_back(i);
  }
  store_->client.SendAll(puts, [&](std::size_t k, HttpClient::Outcome& outcome) {
    const std::size_t i = positions[k];
    if (outcome.error) {
      if (!failure) failure = *outcome.error;
      return;
    }
    const HttpResponse& r = outcome.response;
    if (store_->Written(keys[i], r, puts[k])) {
      out[i] = true;
      const std::string* etag = r.Header("etag");
      if (etag && r.status == 200)
        store_->Remember(keys[i], *etag, store_->Decode(ids[i], puts[k].body));
    } else if (r.status == 412 || r.status == 404) {
      again.push_back(i);
    } else if (!failure) {
      failure = store_->client.ErrorFor(r, "writing " + store_->client.Where(keys[i]));
    }
  });
  if (failure) throw *failure;
  std::sort(again.begin(), again.end());
  for (const std::size_t i : again) {
    out[i] = WriteOver(*store_, ids[i], updates[i].second, std::nullopt, false);
  }
  return out;
}

std::vector<bool> S3Database::DeleteBatch(const std::vector<std::string>& ids) {
  store_->CheckOpen();
  S3Client& client = store_->client;
  std::vector<std::string> keys;
  std::vector<HttpRequest> heads;
  for (const std::string& id : ids) {
    keys.push_back(store_->KeyOf(id));
    heads.push_back(client.Request("HEAD", keys.back()));
  }
  // S3's DELETE answers 204 whether or not the key was there: a HEAD says which.
  std::vector<bool> out(ids.size(), false);
  std::vector<HttpRequest> deletes;
  std::vector<std::size_t> positions;
  std::unordered_set<std::string_view> seen;
  const std::vector<HttpClient::Outcome> found = client.SendAll(heads);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (found[i].error) throw *found[i].error;
    const HttpResponse& r = found[i].response;
    if (r.status == 404) continue;
    if (r.status != 200) throw client.ErrorFor(r, "looking for " + client.Where(keys[i]));
    if (!seen.insert(keys[i]).second) continue;  // the first of a repeated id deletes it
    deletes.push_back(client.Request("DELETE", keys[i]));
    positions.push_back(i);
  }
  const std::vector<HttpClient::Outcome> deleted = client.SendAll(deletes);
  for (std::size_t k = 0; k < deleted.size(); ++k) {
    const std::size_t i = positions[k];
    store_->Forget(keys[i]);
    if (deleted[k].error) throw *deleted[k].error;
    const HttpResponse& r = deleted[k].response;
    if (r.status != 204 && r.status != 200) {
      throw client.ErrorFor(r, "deleting " + client.Where(keys[i]));
    }
    out[i] = true;
  }
  return out;
}

// ---- Queries ----

std::vector<Record> S3Database::Search(const Query& query) {
  store_->CheckOpen();
  const CompiledFilter filter(query.where());
  Query rest;  // what is left once the filter ran during the load
  for (const SortKey& key : query.sort()) rest.Sort(key.field, key.order);
  rest.Offset(query.offset());
  if (query.limit()) rest.Limit(*query.limit());
  rest.Select(query.fields());
  return EvaluateQuery(rest, store_->LoadMatching(filter));
}

std::size_t S3Database::Count(const Expr& expr) {
  store_->CheckOpen();
  const CompiledFilter filter(expr);
  if (!filter.always_true()) return store_->LoadMatching(filter).size();
  std::size_t n = 0;
  S3Store::Lister lister;
  std::vector<S3ListEntry> entries;
  std::vector<std::string> ids;
  while (store_->ListPage(lister, entries, ids)) n += entries.size();
  return n;
}

std::size_t S3Database::Clear() {
  store_->CheckOpen();
  S3Client& client = store_->client;
  std::size_t n = 0;
  S3Store::Lister lister;
  std::vector<S3ListEntry> entries;
  std::vector<std::string> ids;
  // Page by page: a listing after deletes goes on from its token, which S3 keeps valid.
  while (store_->ListPage(lister, entries, ids)) {
    std::vector<HttpRequest> deletes;
    for (const S3ListEntry& e : entries) deletes.push_back(client.Request("DELETE", e.key));
    const std::vector<HttpClient::Outcome> done = client.SendAll(deletes);
    for (std::size_t i = 0; i < done.size(); ++i) {
      if (done[i].error) throw *done[i].error;
      if (done[i].response.status != 204 && done[i].response.status != 200) {
        throw client.ErrorFor(done[i].response, "deleting " + client.Where(entries[i].key));
      }
      ++n;
    }
  }
  store_->ForgetAll();
  return n;
}

std::unique_ptr<RecordCursor> S3Database::StreamRead(const Query& query, StreamOptions options) {
  store_->CheckOpen();
  if (!query.sort().empty())
    return std::make_unique<VectorCursor>(Search(query), options.batch_size);
  return std::make_unique<S3Cursor>(store_, query, options.batch_size);
}

StreamResult S3Database::StreamWrite(const RecordSource& source, StreamOptions options) {
  store_->CheckOpen();
  // Parallel writes cannot stop at the first failure, and upserts read first: one at a time.
  if (options.stop_on_error || options.upsert) return Database::StreamWrite(source, options);
  StreamWriteProgress progress(options);
  std::vector<Record> batch;
  std::vector<std::string> ids;
  while (progress.ReadBatch(source, batch)) {
    std::vector<ItemFailure> failures;
    try {
      failures = CreateMany(*store_, batch, ids);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kUnavailable) throw;
      // A record that cannot be encoded: the batch one at a time, to name each failure.
      for (std::size_t i = 0; i < batch.size(); ++i) {
        try {
          Create(batch[i]);
          progress.Succeeded();
        } catch (const Error& item) {
          if (item.code() == ErrorCode::kUnavailable) throw;
          progress.Fail(progress.base() + i, batch[i].ResolveId(), item.what());
        }
      }
      continue;
    }
    for (const ItemFailure& f : failures) {
      if (f.error.code() == ErrorCode::kUnavailable) throw f.error;
      progress.Fail(progress.base() + f.index, f.id, f.error.what());
    }
    progress.Succeeded(batch.size() - failures.size());
  }
  return std::move(progress.result());
}

void S3Database::Close() {
  store_->closed.store(true);
}

}  // namespace dkdata::internal
