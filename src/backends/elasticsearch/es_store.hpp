// src/backends/elasticsearch/es_store.hpp: what the backend's calls share: the store (hosts and
// failover, requests and their errors, the index, points in time) and the reading of documents
// from responses. Internal to src/backends/elasticsearch/.
//
// Thread-safety: an EsStore may be used by any number of threads at once (the HTTP client is
// thread-safe; its own state is atomic). A HitView belongs to one thread.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>

#include "backends/elasticsearch/es_database.hpp"
#include "backends/elasticsearch/es_documents.hpp"
#include "backends/sql/json_rows.hpp"
#include "dkdata/json.hpp"
#include "net/http_client.hpp"

namespace dkdata::internal {

namespace od = simdjson::ondemand;

// How long a point in time lives between two pages.
constexpr std::string_view kKeepAlive = "2m";

// The index dkdata creates: data and metadata kept but not indexed, the typed projection in _dk
// (es_documents.hpp), the reference's id/created_at/updated_at.
constexpr std::string_view kIndexBody = R"({
 "settings": {"number_of_shards": 1, "number_of_replicas": 0,
              "index.mapping.total_fields.limit": 100000},
 "mappings": {
  "date_detection": false, "numeric_detection": false,
  "dynamic_templates": [
   {"dk_strings": {"path_match": "_dk.s.*", "mapping": {"type": "keyword", "ignore_above": 8191}}},
   {"dk_numbers": {"path_match": "_dk.n.*", "mapping": {"type": "double"}}},
   {"dk_bools": {"path_match": "_dk.b.*", "mapping": {"type": "boolean"}}},
   {"dk_times": {"path_match": "_dk.t.*",
                 "mapping": {"type": "date", "format": "strict_date_optional_time"}}}],
  "properties": {
   "id": {"type": "keyword"},
   "data": {"type": "object", "enabled": false},
   "metadata": {"type": "object", "enabled": false},
   "created_at": {"type": "date"},
   "updated_at": {"type": "date"},
   "_dk": {"properties": {
     "v": {"type": "long"},
     "c": {"type": "keyword", "index": false, "doc_values": false},
     "f": {"type": "object", "enabled": false},
     "p": {"type": "keyword"},
     "o": {"type": "keyword"},
     "s": {"type": "object"}, "n": {"type": "object"}, "b": {"type": "object"},
     "t": {"type": "object"}}}}}})";

// The id as one percent-encoded path segment ('.' too: ".." must not climb).
inline std::string PathSegment(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(id.size());
  for (const char c : id) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '_' || b == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

// simdjson needs padding after the text: the body gets it as spare capacity.
inline simdjson::padded_string_view Padded(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
}

// The parts of a hit (or of a GET/_mget document) that make a record.
struct HitView {
  std::string id;
  bool found = true;
  std::uint64_t es_version = 0;
  std::int64_t seq_no = -1, primary_term = -1;
  bool has_source = false;
  std::string_view data, metadata, fields;
  bool has_dk = false;
  bool has_metadata = false;
  std::uint64_t version = 0;
  std::string batch_token;  // _dk.c: the create_batch call that wrote it
  std::string sort;         // raw JSON of the hit's sort values

  void Reset() {
    id.clear();
    found = true;
    es_version = 0;
    seq_no = primary_term = -1;
    has_source = has_dk = has_metadata = false;
    data = metadata = fields = {};
    version = 0;
    batch_token.clear();
    sort.clear();
  }
};

template <typename T>
inline T Must(simdjson::simdjson_result<T> result) {
  T value;
  if (const auto error = std::move(result).get(value)) {
    throw Error(
        ErrorCode::kIo,
        std::string("unexpected response from the server: ") + simdjson::error_message(error),
        std::string(kElasticsearchBackend));
  }
  return value;
}

inline void ReadSource(od::object source, HitView& hit) {
  hit.has_source = true;
  for (auto member : source) {
    const std::string_view key = Must(member.unescaped_key());
    od::value value = Must(member.value());
    if (key == "data") {
      hit.data = Must(Must(value.get_object()).raw_json());
    } else if (key == "metadata") {
      if (value.type() == od::json_type::object) {
        hit.metadata = Must(Must(value.get_object()).raw_json());
        hit.has_metadata = true;
      }
    } else if (key == "_dk") {
      hit.has_dk = true;
      for (auto dk : Must(value.get_object())) {
        const std::string_view dk_key = Must(dk.unescaped_key());
        if (dk_key == "v") {
          hit.version = Must(Must(dk.value()).get_uint64());
        } else if (dk_key == "c") {
          hit.batch_token = std::string(Must(Must(dk.value()).get_string()));
        } else if (dk_key == "f") {
          hit.fields = Must(Must(Must(dk.value()).get_object()).raw_json());
        }
      }
    }
  }
}

inline void ReadHit(od::object object, HitView& hit) {
  hit.Reset();
  for (auto member : object) {
    const std::string_view key = Must(member.unescaped_key());
    od::value value = Must(member.value());
    if (key == "_id") {
      hit.id = Must(value.get_string());
    } else if (key == "found") {
      hit.found = Must(value.get_bool());
    } else if (key == "_version") {
      hit.es_version = Must(value.get_uint64());
    } else if (key == "_seq_no") {
      hit.seq_no = Must(value.get_int64());
    } else if (key == "_primary_term") {
      hit.primary_term = Must(value.get_int64());
    } else if (key == "_source") {
      ReadSource(Must(value.get_object()), hit);
    } else if (key == "sort") {
      hit.sort = Must(Must(value.get_array()).raw_json());
    }
  }
}

// dkdata's version of the document: _dk.v, or Elasticsearch's own for another program's.
inline std::uint64_t VersionOf(const HitView& hit) {
  return hit.has_dk ? hit.version : hit.es_version;
}

inline RowDecoder& ThreadDecoder() {
  thread_local RowDecoder decoder{kElasticsearchBackend};
  return decoder;
}

inline void DecodeHit(const HitView& hit, Record& out) {
  if (!hit.has_source || hit.data.empty()) {
    throw Error(ErrorCode::kIo, "document '" + hit.id + "' has no data object",
                std::string(kElasticsearchBackend));
  }
  StoredRow row;
  row.id = hit.id;
  row.data = hit.data;
  if (hit.has_metadata) row.metadata = hit.metadata;
  row.version = VersionOf(hit);
  if (hit.has_dk) row.fields = hit.fields.empty() ? std::string_view("{}") : hit.fields;
  ThreadDecoder().Decode(row, out);
}

inline std::string_view RefreshParam(RefreshPolicy policy) {
  switch (policy) {
    case RefreshPolicy::kTrue:
      return "true";
    case RefreshPolicy::kWaitFor:
      return "wait_for";
    default:
      return "false";
  }
}

inline ErrorCode CodeForStatus(long status, std::string_view type) {
  if (status == 409) {
    return type == "version_conflict_engine_exception" ? ErrorCode::kConflict
                                                       : ErrorCode::kAlreadyExists;
  }
  if (status == 400 || status == 413) return ErrorCode::kInvalidArgument;
  if (status == 401 || status == 403) return ErrorCode::kUnauthorized;
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 408 || status == 504) return ErrorCode::kTimeout;
  if (status == 429 || status == 502 || status == 503) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

// ---- The store ----

class EsStore {
 public:
  explicit EsStore(const ElasticsearchOptions& options)
      : options_(options), client_(MakeHttpOptions(options)) {
    if (!options_.api_key.empty()) {
      auth_header_ = "ApiKey " + options_.api_key;
    } else if (options_.basic_auth) {
      auth_header_ =
          "Basic " + Base64Encode(options_.basic_auth->first + ":" + options_.basic_auth->second);
    }
    index_path_ = "/" + PathSegment(options_.index);
  }

  const ElasticsearchOptions& options() const { return options_; }
  const std::string& index_path() const { return index_path_; }

  void CheckOpen() const {
    if (closed_.load(std::memory_order_acquire)) {
      throw Error(ErrorCode::kUnavailable, "the database was closed",
                  std::string(kElasticsearchBackend));
    }
  }
  void Close() { closed_.store(true, std::memory_order_release); }

  // Sends method path (from the host's root) with body, to the current host; a host that cannot
  // be reached makes the next one current (a request that may have reached it is not resent).
  HttpResponse Send(std::string method, std::string_view path, std::string body = {},
                    bool idempotent = true, std::string_view content_type = "application/json") {
    CheckOpen();
    HttpRequest request;
    request.method = std::move(method);
    request.body = std::move(body);
    request.idempotent = idempotent;
    if (!request.body.empty()) request.headers.emplace_back("Content-Type", content_type);
    if (!auth_header_.empty()) request.headers.emplace_back("Authorization", auth_header_);
    const std::size_t hosts = options_.hosts.size();
    std::size_t first = current_host_.load(std::memory_order_relaxed);
    for (std::size_t tried = 0;; ++tried) {
      const std::size_t host = (first + tried) % hosts;
      request.url = options_.hosts[host];
      request.url += path;
      try {
        HttpResponse response = client_.Send(request);
        if (tried > 0) current_host_.store(host, std::memory_order_relaxed);
        return response;
      } catch (const Error& e) {
        const bool elsewhere = e.code() == ErrorCode::kUnavailable &&
                               (idempotent || e.native_code() == HttpClient::kNotSent);
        if (!elsewhere || tried + 1 >= hosts) throw;
      }
    }
  }

  // Sends and returns the response when its status is one of ok; otherwise throws the mapped
  // error, saying what was being done.
  HttpResponse Expect(std::string method, std::string_view path, std::string body,
                      std::initializer_list<long> ok, std::string_view what, bool idempotent = true,
                      std::string_view content_type = "application/json") {
    HttpResponse response =
        Send(std::move(method), path, std::move(body), idempotent, content_type);
    if (std::find(ok.begin(), ok.end(), response.status) == ok.end()) Fail(response, what);
    return response;
  }

  [[noreturn]] void Fail(HttpResponse& response, std::string_view what) const {
    std::string type, reason;
    ErrorDetails(response, type, reason);
    std::string message(what);
    message += ": HTTP " + std::to_string(response.status);
    if (!type.empty()) message += " " + type;
    if (!reason.empty()) message += ": " + reason;
    message += " (" + options_.Describe() + ")";
    throw Error(CodeForStatus(response.status, type), std::move(message),
                std::string(kElasticsearchBackend), type);
  }

  // error.type and the deepest reason of an error response.
  static void ErrorDetails(HttpResponse& response, std::string& type, std::string& reason) {
    try {
      const Value body = ParseJson(response.body);
      const Object* root = body.Get<Object>();
      const Value* error = root ? root->Find("error") : nullptr;
      if (error == nullptr) return;
      if (const auto* text = error->Get<std::string>()) {
        reason = *text;
        return;
      }
      const Object* e = error->Get<Object>();
      if (e == nullptr) return;
      if (const Value* t = e->Find("type"); t && t->Get<std::string>())
        type = *t->Get<std::string>();
      if (const Value* r = e->Find("reason"); r && r->Get<std::string>()) {
        reason = *r->Get<std::string>();
      }
      // A search failure's cause is in its root_cause or caused_by.
      const Value* cause = e->Find("caused_by");
      if (const Value* roots = e->Find("root_cause");
          roots && roots->Get<List>() && !roots->Get<List>()->empty()) {
        cause = &roots->Get<List>()->front();
      }
      if (cause && cause->Get<Object>()) {
        const Value* r = cause->Get<Object>()->Find("reason");
        if (r && r->Get<std::string>() && *r->Get<std::string>() != reason) {
          reason += " (" + *r->Get<std::string>() + ")";
        }
      }
    } catch (const Error&) {
      reason = response.body.substr(0, 200);
    }
  }

  // Creates the index when it is missing (and allowed to).
  void EnsureIndex() {
    HttpResponse head = Send("HEAD", index_path_);
    if (head.status == 200) return AdoptIndex();
    if (head.status != 404) Fail(head, "checking index '" + options_.index + "'");
    if (!options_.auto_create_index) {
      throw Error(ErrorCode::kNotFound,
                  "index '" + options_.index + "' does not exist and auto_create_index is false (" +
                      options_.Describe() + ")",
                  std::string(kElasticsearchBackend));
    }
    HttpResponse created = Send("PUT", index_path_, IndexBody());
    if (created.status == 200) return;
    std::string type, reason;
    ErrorDetails(created, type, reason);
    if (type == "resource_already_exists_exception") return;  // a concurrent opener made it
    Fail(created, "creating index '" + options_.index + "'");
  }

  // An index dkdata did not create (the reference's, say) gets dkdata's id keyword, _dk mapping and
  // templates before any document of dkdata's is written to it: dynamic mapping would make _dk's
  // strings analysed text and its numbers longs, and the queries would give wrong answers. An
  // index whose _dk or id is mapped otherwise is refused.
  void AdoptIndex() {
    HttpResponse response = Expect("GET", index_path_ + "/_mapping", {}, {200},
                                   "reading the mapping of index '" + options_.index + "'");
    const Value body = ParseJson(response.body);
    const Object* indexes = body.Get<Object>();
    if (indexes == nullptr || indexes->begin() == indexes->end()) return;
    const Object* index = indexes->begin()->second.Get<Object>();
    const Value* mappings = index ? index->Find("mappings") : nullptr;
    const Object* m = mappings ? mappings->Get<Object>() : nullptr;
    const Value* properties = m ? m->Find("properties") : nullptr;
    const Object* props = properties ? properties->Get<Object>() : nullptr;
    const auto type_of = [](const Object* fields, std::string_view name) -> std::string {
      const Value* field = fields ? fields->Find(name) : nullptr;
      const Object* f = field ? field->Get<Object>() : nullptr;
      const Value* type = f ? f->Find("type") : nullptr;
      if (type && type->Get<std::string>()) return *type->Get<std::string>();
      return f ? "object" : "";
    };
    const auto refuse = [this](const std::string& what) {
      throw Error(ErrorCode::kInvalidArgument,
                  "index '" + options_.index + "' maps " + what +
                      "; dkdata cannot query it exactly (" + options_.Describe() + ")",
                  std::string(kElasticsearchBackend));
    };
    const std::string id_type = type_of(props, "id");
    if (!id_type.empty() && id_type != "keyword") refuse("'id' as " + id_type + ", not keyword");
    const Value ours = ParseJson(kIndexBody);
    const Object& our_mappings = *ours.Get<Object>()->Find("mappings")->Get<Object>();
    if (const Value* dk = props ? props->Find("_dk") : nullptr) {
      const Object* dk_props = dk->Get<Object>() && dk->Get<Object>()->Find("properties")
                                   ? dk->Get<Object>()->Find("properties")->Get<Object>()
                                   : nullptr;
      if (type_of(dk_props, "p") != "keyword" || type_of(dk_props, "o") != "keyword" ||
          type_of(dk_props, "v") != "long") {
        refuse("'_dk' otherwise than dkdata does (its documents came before its mapping?)");
      }
      return;
    }
    // Ours first among the templates: the first that matches a new field maps it.
    List templates = *our_mappings.Find("dynamic_templates")->Get<List>();
    if (const Value* theirs = m ? m->Find("dynamic_templates") : nullptr;
        theirs && theirs->Get<List>()) {
      for (const Value& t : *theirs->Get<List>()) templates.push_back(t);
    }
    const Object& our_props = *our_mappings.Find("properties")->Get<Object>();
    Object add;
    add.Set("_dk", *our_props.Find("_dk"));
    if (id_type.empty()) add.Set("id", *our_props.Find("id"));
    Object update;
    update.Set("dynamic_templates", Value(std::move(templates)));
    update.Set("properties", Value(std::move(add)));
    Expect("PUT", index_path_ + "/_mapping", ToJson(Value(std::move(update))), {200},
           "adding dkdata's mapping to index '" + options_.index + "'");
  }

  // dkdata's index body with the `mappings` and `settings` options merged in.
  std::string IndexBody() const {
    Value body = ParseJson(kIndexBody);
    Object& root = *body.Get<Object>();
    Object& settings = *root.Find("settings")->Get<Object>();
    for (const auto& [key, value] : options_.settings) settings.Set(key, value);
    Object& mappings = *root.Find("mappings")->Get<Object>();
    for (const auto& [key, value] : options_.mappings) {
      Value* ours = mappings.Find(key);
      if (key == "properties" && ours && value.Get<Object>()) {
        for (const auto& [name, mapping] : *value.Get<Object>()) {
          ours->Get<Object>()->Set(name, mapping);
        }
      } else if (key == "dynamic_templates" && ours && value.Get<List>()) {
        List merged = *value.Get<List>();  // the caller's first: the first match wins
        for (const Value& t : *ours->Get<List>()) merged.push_back(t);
        *ours = Value(std::move(merged));
      } else {
        mappings.Set(key, value);
      }
    }
    return ToJson(body);
  }

  // Makes the writes so far visible to searches, as the refresh policy says, after a call that
  // wrote with refresh=false. A refresh that fails does not fail the call: its writes are stored,
  // and the server makes them searchable within its refresh interval anyway.
  void RefreshAfterWrites() noexcept {
    if (options_.refresh == RefreshPolicy::kFalse) return;
    // (For wait_for: a refresh is what waiting for the next scheduled one gives, sooner.)
    try {
      Send("POST", index_path_ + "/_refresh");
    } catch (const Error&) {
      // As above.
    }
  }

  std::string RefreshQuery() const {
    return "refresh=" + std::string(RefreshParam(options_.refresh));
  }

  // Point in time: Elasticsearch's _pit, or OpenSearch's _search/point_in_time. Returns the id.
  std::string OpenPointInTime() {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool opensearch = opensearch_pit_.load(std::memory_order_relaxed);
      const std::string path =
          index_path_ + (opensearch ? "/_search/point_in_time?keep_alive=" : "/_pit?keep_alive=") +
          std::string(kKeepAlive);
      HttpResponse response = Send("POST", path);
      if (response.status == 200) {
        const Value body = ParseJson(response.body);
        const Value* id = body.Get<Object>()->Find(opensearch ? "pit_id" : "id");
        if (id && id->Get<std::string>()) return *id->Get<std::string>();
        Fail(response, "opening a point in time");
      }
      // The other server's endpoint: "no handler found" (400/404/405).
      if (attempt == 0 &&
          (response.status == 400 || response.status == 404 || response.status == 405) &&
          response.body.find("no handler") != std::string::npos) {
        opensearch_pit_.store(!opensearch, std::memory_order_relaxed);
        continue;
      }
      Fail(response, "opening a point in time");
    }
    throw Error(ErrorCode::kInternal, "no point in time", std::string(kElasticsearchBackend));
  }

  void ClosePointInTime(const std::string& id) noexcept {
    try {
      std::string body;
      const bool opensearch = opensearch_pit_.load(std::memory_order_relaxed);
      body = opensearch ? R"({"pit_id":[)" : R"({"id":)";
      AppendJsonString(body, id);
      if (opensearch) body += ']';
      body += '}';
      Send("DELETE", opensearch ? "/_search/point_in_time" : "/_pit", std::move(body));
    } catch (...) {
      // The server drops it after keep_alive anyway.
    }
  }

 private:
  static HttpOptions MakeHttpOptions(const ElasticsearchOptions& o) {
    HttpOptions http;
    http.connect_timeout = o.connect_timeout;
    http.request_timeout = o.request_timeout;
    http.verify_peer = o.verify_certs;
    http.ca_file = o.ca_certs;
    http.client_cert = o.client_cert;
    http.client_key = o.client_key;
    http.backend = std::string(kElasticsearchBackend);
    http.retry.max_attempts = o.max_retries + 1;
    return http;
  }

  ElasticsearchOptions options_;
  HttpClient client_;
  std::string auth_header_;
  std::string index_path_;
  std::atomic<std::size_t> current_host_{0};
  std::atomic<bool> opensearch_pit_{false};
  std::atomic<bool> closed_{false};
};

// Parses a GET /_doc response into hit.
inline void ParseGet(HttpResponse& response, HitView& hit) {
  od::parser parser;
  od::document doc = Must(parser.iterate(Padded(response.body)));
  ReadHit(Must(doc.get_object()), hit);
}

}  // namespace dkdata::internal
