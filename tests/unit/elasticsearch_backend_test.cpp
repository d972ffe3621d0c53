// The Elasticsearch backend beyond the conformance suite, against a real node: a node killed in the
// middle of a bulk load (a private node: the shared one must stay up), back-pressure and lost
// responses injected by a proxy (tests/elasticsearch/es_fault_proxy.py), mapping conflicts in an
// index made beforehand, every value kind round-tripped and queried, documents written by another
// program, deep paging past Elasticsearch's 10 000-hit window, failover between hosts, credentials
// kept out of messages, optimistic concurrency, and a subset against OpenSearch.
#if DKDATA_HAVE_ELASTICSEARCH
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "dkdata/dkdata.hpp"
#include "es_test_server.hpp"
#include "fault_proxy.hpp"
#include "net/http_client.hpp"

namespace dkdata {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kTwo53 = std::int64_t{1} << 53;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<Database> Open(const Value& hosts, const std::string& index,
                               const Object& extra = Object()) {
  Object options{{"hosts", hosts}, {"index", Value(index)}};
  for (const auto& [key, value] : extra) options.Set(key, value);
  return CreateDatabase("elasticsearch", options);
}

Record Person(const std::string& id, std::int64_t age) {
  Record r;
  r.set_id(id);
  r.Set("name", "person " + id);
  r.Set("age", age);
  return r;
}

// n records "<prefix>00000"... (ids in numeric order are in byte order too).
std::vector<Record> People(const std::string& prefix, int n) {
  std::vector<Record> out;
  out.reserve(static_cast<std::size_t>(n));
  char id[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(id, sizeof id, "%s%05d", prefix.c_str(), i);
    Record r = Person(id, i % 97);
    r.Set("group", static_cast<std::int64_t>(i % 7));
    out.push_back(std::move(r));
  }
  return out;
}

ErrorCode CodeOf(const std::function<void()>& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "expected an Error";
  return ErrorCode::kInternal;
}

std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const Record& r : records) out.push_back(r.id().value_or("<none>"));
  return out;
}

// The records sorted by id: the store's order (src/backends/elasticsearch/README.md).
std::vector<Record> InIdOrder(std::vector<Record> records) {
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return *a.id() < *b.id(); });
  return records;
}

// A port on 127.0.0.1 where nothing listens.
int DeadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Plain HTTP to a node, as another program would talk to it.
class RawHttp {
 public:
  explicit RawHttp(std::string base) : base_(std::move(base)), client_(Options()) {}

  internal::HttpResponse Send(const std::string& method, const std::string& path,
                              const std::string& body = {}) {
    internal::HttpRequest request;
    request.method = method;
    request.url = base_ + path;
    request.body = body;
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    return client_.Send(request);
  }
  // The document count of an index, after a refresh.
  std::size_t CountDocs(const std::string& index) {
    Send("POST", "/" + index + "/_refresh");
    const internal::HttpResponse r = Send("GET", "/" + index + "/_count");
    EXPECT_EQ(r.status, 200) << r.body;
    const Value body = ParseJson(r.body);
    const Value* count = body.Get<Object>() ? body.Get<Object>()->Find("count") : nullptr;
    return count && count->Get<std::int64_t>() ? static_cast<std::size_t>(count->AsInt()) : 0;
  }

 private:
  static internal::HttpOptions Options() {
    internal::HttpOptions options;
    options.retry.max_attempts = 1;
    return options;
  }
  std::string base_;
  internal::HttpClient client_;
};

// tests/elasticsearch/es_fault_proxy.py in front of a node, started per test, stopped by its PID.
class FaultProxy : public testserver::FaultProxy {
 public:
  explicit FaultProxy(const std::string& target)
      : testserver::FaultProxy("tests/elasticsearch/es_fault_proxy.py", target) {}
  void Rule(const std::string& query) { EXPECT_TRUE(testserver::FaultProxy::Rule(query)) << query; }
};

// What a failed create_batch's message says it left stored, of the records it knew it had
// written: 0 for "... so nothing was stored" or "... were removed again" (the request in flight
// aside), K for "K of the W records it had written could not be removed"; nullopt when it says
// none of these.
std::optional<std::size_t> LeftStored(const std::string& message) {
  std::smatch m;
  if (std::regex_search(message, m,
                        std::regex(R"((\d+) of the (\d+) records it had written could not)"))) {
    return std::stoul(m[1].str());
  }
  if (Contains(message, "so nothing was stored")) return 0;
  if (Contains(message, "records it knew it had written were removed again")) return 0;
  if (Contains(message, "no record had been answered as written")) return 0;
  return std::nullopt;
}

// Expects the search of query (and the count of its filter) to give what the reference evaluator
// gives over records (in the store's order: by id); an Error fails the check, naming the query.
void ExpectDkdatasAnswers(Database& db, const Query& query, const std::vector<Record>& records) {
  try {
    EXPECT_EQ(IdsOf(db.Search(query)), IdsOf(EvaluateQuery(query, records))) << query.ToString();
    EXPECT_EQ(db.Count(query.where()), EvaluateQuery(Query(query.where()), records).size())
        << query.ToString();
  } catch (const Error& e) {
    ADD_FAILURE() << query.ToString() << ": " << e.what();
  }
}

// The shared node, a fresh index per test, deleted at the end.
class ElasticsearchServerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    url_ = estest::ServerUrl(&why);
    DKDATA_REQUIRE_ES_SERVER(url_, why);
    index_ = estest::FreshIndexName();
  }
  void TearDown() override {
    if (!url_.empty()) estest::DeleteIndex(url_, index_);
  }
  std::unique_ptr<Database> OpenHere(const Object& extra = Object()) {
    return Open(Value(url_), index_, extra);
  }

  std::string url_;
  std::string index_;
};

// ---- 1. A node killed in the middle of a bulk load ----

TEST(ElasticsearchServerFailureTest, ANodeKilledDuringABulkLoadLeavesWhatTheErrorSays) {
  testserver::PrivateServer server(estest::Kind());
  DKDATA_REQUIRE_ES_SERVER(server.url(), server.why());
  const std::string index = "killed";
  auto db = Open(Value(server.url()), index, Object{{"connect_timeout", Value(2)}});
  db->Create(Person("before", 1));
  std::vector<Record> batch;
  for (int i = 0; i < 200000; ++i) {
    Record r = Person("r" + std::to_string(i), i % 90);
    r.Set("tags", List{Value("t" + std::to_string(i % 50)), Value("x")});
    r.Set("score", i * 0.5);
    batch.push_back(std::move(r));
  }
  std::atomic<bool> loading{false};
  std::thread killer([&] {
    while (!loading) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(server.Run("kill"), 0);
  });
  std::string message;
  bool threw = false;
  try {
    loading = true;
    db->CreateBatch(batch);
  } catch (const Error& e) {
    threw = true;
    message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << message;
  }
  killer.join();
  ASSERT_TRUE(threw) << "the kill came after the whole batch: make it bigger";
  // "interrupted after N items had been answered": whole bulk requests of 5000, fewer than all.
  std::smatch sent;
  ASSERT_TRUE(std::regex_search(message, sent, std::regex(R"(interrupted after (\d+) items)")))
      << message;
  const std::size_t sent_items = std::stoul(sent[1].str());
  EXPECT_LT(sent_items, batch.size()) << message;
  EXPECT_EQ(sent_items % 5000, 0u) << message;
  const std::optional<std::size_t> left = LeftStored(message);
  ASSERT_TRUE(left.has_value()) << "the message says nothing of what was kept: " << message;
  EXPECT_LE(*left, sent_items) << message;
  if (*left > 0) {
    EXPECT_TRUE(Contains(message, "could not be removed (first: 'r")) << message;
  }

  // The request the kill cut off may or may not have been written: the message says how many
  // items that leaves in doubt.
  std::size_t in_doubt = 0;
  if (std::smatch doubt; std::regex_search(
          message, doubt, std::regex(R"(the (\d+) items of the request in flight)"))) {
    in_doubt = std::stoul(doubt[1].str());
  }
  EXPECT_LE(in_doubt, 5000u) << message;

  ASSERT_EQ(server.Run("up"), 0);  // recovery from the translog
  RawHttp raw(server.url());
  const std::size_t stored = raw.CountDocs(index);
  EXPECT_GE(stored, *left + 1) << "the node holds " << stored
                               << " records (the batch's and 'before'); the message said: "
                               << message;
  EXPECT_LE(stored, *left + in_doubt + 1)
      << "the node holds " << stored
      << " records (the batch's and 'before'); the message said: " << message;
  EXPECT_EQ(db->Count(), stored) << "the same database object works after the restart";
  EXPECT_TRUE(db->Exists("before"));
}

// ---- 2. Back-pressure, retries, lost responses (the fault proxy) ----

class ElasticsearchServerFaultTest : public ElasticsearchServerTest {
 protected:
  void SetUp() override {
    ElasticsearchServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    proxy_.emplace(url_);
    ASSERT_TRUE(proxy_->up()) << "python3 could not run tests/elasticsearch/es_fault_proxy.py";
  }
  std::unique_ptr<Database> OpenProxied(const Object& extra = Object()) {
    return Open(Value(proxy_->url()), index_, extra);
  }
  std::optional<FaultProxy> proxy_;
};

TEST_F(ElasticsearchServerFaultTest, BulkBackPressureIsRetriedAndEveryRecordStoredOnce) {
  auto db = OpenProxied(Object{{"bulk_size", Value(500)}, {"max_retries", Value(3)}});
  proxy_->Rule("key=bulk&path=/_bulk&method=POST&n=3&status=429&after=0");
  const std::vector<Record> records = People("b", 2000);
  const auto started = std::chrono::steady_clock::now();
  const std::vector<std::string> ids = db->CreateBatch(records);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "Retry-After: 0 means no wait";
  ASSERT_EQ(ids.size(), records.size());
  // 4 bulk requests, the first of them refused three times: 7 sent, none twice once accepted.
  EXPECT_EQ(proxy_->Count("bulk"), 7);
  RawHttp raw(url_);
  EXPECT_EQ(raw.CountDocs(index_), records.size());
  auto direct = OpenHere();
  const auto back = direct->ReadBatch(ids);
  for (std::size_t i = 0; i < back.size(); ++i) {
    ASSERT_TRUE(back[i].has_value()) << ids[i];
    EXPECT_EQ(back[i]->version(), 1u) << ids[i];
    EXPECT_EQ(*back[i]->Get("age"), *records[i].Get("age")) << ids[i];
  }
}

TEST_F(ElasticsearchServerFaultTest, MoreBackPressureThanRetriesFailsAsUnavailableKeepingNothing) {
  auto db = OpenProxied(Object{{"bulk_size", Value(500)}, {"max_retries", Value(2)}});
  // The first bulk passes, the second is refused on all its 3 tries; then everything passes.
  proxy_->Rule("key=bulk&path=/_bulk&method=POST&skip=1&n=3&status=429&after=0");
  std::string message;
  EXPECT_EQ(CodeOf([&] { db->CreateBatch(People("m", 1500)); }, &message), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(message, "429")) << message;
  EXPECT_TRUE(Contains(message, "es_rejected_execution_exception")) << message;
  EXPECT_TRUE(Contains(message, "interrupted after 500 items had been answered")) << message;
  EXPECT_EQ(LeftStored(message), std::optional<std::size_t>(0)) << message;
  // 1 + 3 tries, and the bulk that removed the first 500 again.
  EXPECT_EQ(proxy_->Count("bulk"), 5);
  RawHttp raw(url_);
  EXPECT_EQ(raw.CountDocs(index_), 0u);
}

TEST_F(ElasticsearchServerFaultTest, A503OnAReadIsRetriedButACreateIsNotResent) {
  auto db = OpenProxied(Object{{"max_retries", Value(3)}});
  db->Create(Person("a", 30));
  proxy_->Rule("key=get&path=/_doc/a&method=GET&n=2&status=503&after=0");
  const auto a = db->Read("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a->Get("age"), Value(30));
  EXPECT_EQ(proxy_->Count("get"), 3);
  // A create that may have been processed is not sent twice: the 503 is the caller's to see.
  proxy_->Rule("key=create&path=/_create/&method=PUT&n=1&status=503");
  std::string message;
  EXPECT_EQ(CodeOf([&] { db->Create(Person("b", 40)); }, &message), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(message, "503")) << message;
  EXPECT_EQ(proxy_->Count("create"), 1);
  EXPECT_FALSE(db->Exists("b"));
  // A 503 on a search is retried too.
  proxy_->Rule("key=search&path=/_search&method=POST&n=2&status=503&after=0");
  EXPECT_EQ(db->Search(Query().Filter("age", Op::kGte, 30)).size(), 1u);
  EXPECT_EQ(proxy_->Count("search"), 3);
}

// The node wrote a bulk request but its answer never came back (a connection cut on the way, a
// proxy timing out): the call cannot know those items were created. atomic_batch says nothing is
// left, or the message says what is.
TEST_F(ElasticsearchServerFaultTest, ABulkWhoseResponseWasLostLeavesWhatTheErrorSays) {
  auto db = OpenProxied(Object{{"bulk_size", Value(500)}});
  proxy_->Rule("key=bulk&path=/_bulk&method=POST&skip=1&n=1&mode=drop_after");
  std::string message;
  EXPECT_EQ(CodeOf([&] { db->CreateBatch(People("l", 1500)); }, &message), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(message, "interrupted after 500 items had been answered")) << message;
  const std::optional<std::size_t> left = LeftStored(message);
  ASSERT_TRUE(left.has_value()) << message;
  RawHttp raw(url_);
  EXPECT_EQ(raw.CountDocs(index_), *left)
      << "the second bulk request was written by the node and is still there; the message said: "
      << message;
}

// Every bulk request succeeded, then the refresh at the end failed (a 500 is not retried): the
// call may succeed (the records are written) or fail, but a failed call leaves nothing
// (atomic_batch) or says what it left.
TEST_F(ElasticsearchServerFaultTest, ARefreshThatFailsAfterTheBulksLeavesWhatTheErrorSays) {
  auto db = OpenProxied(Object{{"bulk_size", Value(500)}});
  proxy_->Rule("key=refresh&path=/_refresh&method=POST&n=1&status=500");
  std::optional<std::string> message;
  try {
    db->CreateBatch(People("f", 1000));
  } catch (const Error& e) {
    message = e.what();
  }
  RawHttp raw(url_);
  const std::size_t stored = raw.CountDocs(index_);
  if (!message) {
    EXPECT_EQ(stored, 1000u) << "the call succeeded";
    return;
  }
  const std::optional<std::size_t> left = LeftStored(*message);
  EXPECT_TRUE(left.has_value() && *left == stored)
      << "the call failed and " << stored
      << " records of the batch are stored; the message said: " << *message;
}

// ---- 3. Mapping conflicts in an index made beforehand ----

// The reference's index (its default mapping, dynamic everywhere), with data.age mapped as a long,
// as the reference's dynamic mapping does after a first record with an integer age.
constexpr std::string_view kReferenceIndex = R"({
 "settings": {"number_of_shards": 1, "number_of_replicas": 0},
 "mappings": {"properties": {
   "id": {"type": "keyword"},
   "data": {"type": "object", "properties": {"age": {"type": "long"}}},
   "metadata": {"type": "object", "enabled": true},
   "created_at": {"type": "date"},
   "updated_at": {"type": "date"}}}})";

using ElasticsearchServerMappingTest = ElasticsearchServerTest;

TEST_F(ElasticsearchServerMappingTest, ADocumentTheMappingRejectsIsInvalidArgumentNamingIt) {
  RawHttp raw(url_);
  const auto made = raw.Send("PUT", "/" + index_, std::string(kReferenceIndex));
  ASSERT_EQ(made.status, 200) << made.body;
  auto db = OpenHere();
  // Opening left the index as it was: data.age is still a long.
  const auto mapping = raw.Send("GET", "/" + index_ + "/_mapping");
  EXPECT_TRUE(Contains(mapping.body, R"("age":{"type":"long"})")) << mapping.body;
  db->Create(Person("good", 30));

  Record bad = Person("bad1", 0);
  bad.Set("age", "abc");
  std::string message;
  EXPECT_EQ(CodeOf([&] { db->Create(bad); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "'bad1'")) << message;
  EXPECT_TRUE(Contains(message, "data.age")) << message;
  EXPECT_TRUE(Contains(message, "long")) << message;
  EXPECT_FALSE(db->Exists("bad1"));

  // Update and Upsert name it the same way.
  EXPECT_EQ(CodeOf([&] { db->Update("good", bad); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "'good'") && Contains(message, "data.age")) << message;
  EXPECT_EQ(CodeOf([&] { db->Upsert("good", bad); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "'good'") && Contains(message, "data.age")) << message;
  EXPECT_EQ(CodeOf([&] { db->Upsert("new1", bad); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "'new1'") && Contains(message, "data.age")) << message;
  EXPECT_EQ(*db->Read("good")->Get("age"), Value(30));
  EXPECT_EQ(db->Read("good")->version(), 1u);
  EXPECT_FALSE(db->Exists("new1"));

  // In a batch: the error names the bad item's index and id; nothing of the batch is kept.
  std::vector<Record> batch = People("p", 1200);
  batch[777].Set("age", "abc");
  EXPECT_EQ(CodeOf([&] { db->CreateBatch(batch); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(message, "item 777 (id 'p00777')")) << message;
  EXPECT_TRUE(Contains(message, "data.age")) << message;
  EXPECT_TRUE(Contains(message, "1 items failed")) << message;
  EXPECT_EQ(LeftStored(message), std::optional<std::size_t>(0)) << message;
  EXPECT_EQ(db->Count(), 1u);
  EXPECT_EQ(raw.CountDocs(index_), 1u);
  EXPECT_FALSE(db->Exists("p00000"));
}

// dkdata's own records in an index it did not create (the reference's, dynamic mapping): _dk is
// mapped by Elasticsearch's dynamic rules there (strings as analysed text, the first number's type
// for every later one), not by dkdata's templates. The answers must still be dkdata's.
TEST_F(ElasticsearchServerMappingTest, QueriesInAnIndexTheReferenceMadeGiveDkdatasAnswers) {
  RawHttp raw(url_);
  ASSERT_EQ(raw.Send("PUT", "/" + index_, std::string(kReferenceIndex)).status, 200);
  auto db = OpenHere();
  std::vector<Record> records;
  const auto add = [&](const std::string& id, const std::string& name, Value score) {
    Record r;
    r.set_id(id);
    r.Set("name", name);
    r.Set("score", std::move(score));
    r.Set("age", static_cast<std::int64_t>(records.size() * 10));
    records.push_back(r);
    db->Create(r);
  };
  add("a", "Ann", Value(30));  // the first score is an integer: a dynamic long
  add("b", "ann", Value(30.5));
  add("c", "Bob Smith", Value(31));
  add("d", "Zed", Value(29.9));
  const std::vector<Expr> exprs = {
      Where("name", Op::kEq, Value("Ann")),       Where("name", Op::kEq, Value("Bob Smith")),
      Where("name", Op::kStartsWith, Value("B")), Where("name", Op::kGt, Value("Zac")),
      Where("score", Op::kEq, Value(30)),         Where("score", Op::kGt, Value(30)),
      Where("score", Op::kLt, Value(30)),         Where("score", Op::kEq, Value(30.5))};
  for (const Expr& expr : exprs) ExpectDkdatasAnswers(*db, Query(expr), InIdOrder(records));
  ExpectDkdatasAnswers(*db, Query().Sort("name"), InIdOrder(records));
  ExpectDkdatasAnswers(*db, Query().Sort("score", SortOrder::kDesc), InIdOrder(records));
}

// ---- 4. Every value kind, round-tripped and queried ----

std::string LongString(std::size_t n, char c) {
  return std::string(n, c);
}

// One value of each kind and edge, in field "v" of record "t<NN>".
std::vector<Value> EdgeValues() {
  const std::string nul("nul\0inside", 10);
  return {
      Value(),
      Value(true),
      Value(false),
      Value(0),
      Value(-1),
      Value(42),
      Value(kTwo53),
      Value(kTwo53 + 1),
      Value(-kTwo53 - 1),
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(std::numeric_limits<std::int64_t>::max()),
      Value(0.0),
      Value(-0.0),
      Value(0.1),
      Value(1e300),
      Value(-1e300),
      Value(5e-324),
      Value(42.0),
      Value(9007199254740992.0),
      Value(""),
      Value("a"),
      Value("héllo wörld ✓ 😀 中文"),
      Value(nul),
      Value(LongString(10000, 'x')),
      Value(LongString(8191, 'y')),
      Value(LongString(8192, 'y')),
      Value("2024-05-01T10:00:00.123456Z"),  // a string that spells an instant below
      Value(Bytes{std::string("\x00\x01\xfe\xff binary", 11)}),
      Value(Bytes{}),
      Value(Timestamp{1714557600123456}),    // 2024-05-01T10:00:00.123456Z
      Value(Timestamp{-1}),                  // 1969-12-31T23:59:59.999999Z
      Value(Timestamp{-2208988800000000}),   // 1900-01-01
      Value(Timestamp{-62135596800000000}),  // 0001-01-01
      Value(List{Value(1), Value("a"), Value(List{Value(true), Value()}),
                 Value(Object{{"k", Value(1.5)}})}),
      Value(List{}),
      Value(Object{{"inner", Value(Object{{"k", Value("v")}, {"n", Value(kTwo53 + 1)}})},
                   {"when", Value(Timestamp{-1})},
                   {"blob", Value(Bytes{"\x01"})}}),
      Value(Object{}),
      Value(Vector{1.5f, -0.0f, 3.25f, 1e-7f}),
  };
}

std::vector<Record> EdgeRecords() {
  std::vector<Record> out;
  const std::vector<Value> values = EdgeValues();
  char id[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::snprintf(id, sizeof id, "t%02zu", i);
    Record r;
    r.set_id(id);
    r.Set("v", values[i]);
    r.Set("kind", std::string(ValueKindName(values[i].kind())));
    r.Set("n", static_cast<std::int64_t>(i));
    out.push_back(std::move(r));
  }
  Record missing;  // no "v" at all
  missing.set_id("t_missing");
  missing.Set("n", -1);
  out.push_back(std::move(missing));

  // Every kind in one record, with field types, field metadata and record metadata.
  Record wide;
  wide.set_id("wide ✓/..");
  for (std::size_t i = 0; i < values.size(); ++i) wide.Set("f" + std::to_string(i), values[i]);
  wide.Set(Field("price", Value(9.5), FieldType::kFloat, Object{{"unit", Value("EUR")}}));
  wide.Set(Field("code", Value("0042"), FieldType::kText, Object{}));
  wide.Set(Field("emb", Value(Vector{0.25f, 0.5f}), FieldType::kVector,
                 Object{{"model", Value("m1")}, {"dims", Value(2)}}));
  wide.Set(Field("when", Value(Timestamp{1}), FieldType::kDatetime,
                 Object{{"tz", Value("UTC")}, {"nested", Value(List{Value(1), Value()})}}));
  wide.Set("with space", "spaced");
  wide.Set("dotted.name", "dotted");
  wide.Set("ünï", "unicode name");
  wide.metadata() = Object{{"source", Value("test")},
                           {"at", Value(Timestamp{5})},
                           {"nested", Value(Object{{"a", Value(List{Value(1), Value(2.5)})}})}};
  out.push_back(std::move(wide));
  return out;
}

// Value equality that also tells -0.0 from 0.0 (Value's == does not), in vectors too.
bool SameBits(const Value& a, const Value& b) {
  if (!(a == b)) return false;
  if (const auto* d = a.Get<double>()) return std::signbit(*d) == std::signbit(*b.Get<double>());
  if (const auto* v = a.Get<Vector>()) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (std::signbit((*v)[i]) != std::signbit((*b.Get<Vector>())[i])) return false;
    }
  }
  if (const auto* l = a.Get<List>()) {
    for (std::size_t i = 0; i < l->size(); ++i) {
      if (!SameBits((*l)[i], (*b.Get<List>())[i])) return false;
    }
  }
  if (const auto* o = a.Get<Object>()) {
    for (const auto& [key, value] : *o) {
      if (!SameBits(value, *b.Get<Object>()->Find(key))) return false;
    }
  }
  return true;
}

void ExpectSameRecord(const Record& got, const Record& want) {
  Record expected = want;
  expected.set_version(1);
  EXPECT_EQ(got, expected) << "got " << RecordToJson(got) << "\nwant " << RecordToJson(expected);
  if (got.fields().size() != want.fields().size()) return;
  for (std::size_t i = 0; i < got.fields().size(); ++i) {
    EXPECT_TRUE(SameBits(got.fields()[i].value, want.fields()[i].value))
        << *want.id() << "." << want.fields()[i].name << ": the sign of a zero was lost";
  }
}

TEST_F(ElasticsearchServerTest, EveryValueKindRoundTripsExactly) {
  auto db = OpenHere();
  const std::vector<Record> records = EdgeRecords();
  // Half one by one, half in a batch: both paths encode.
  const std::size_t half = records.size() / 2;
  for (std::size_t i = 0; i < half; ++i) db->Create(records[i]);
  db->CreateBatch(
      std::vector<Record>(records.begin() + static_cast<std::ptrdiff_t>(half), records.end()));
  std::vector<std::string> ids;
  for (const Record& r : records) {
    ids.push_back(*r.id());
    const auto back = db->Read(*r.id());
    ASSERT_TRUE(back.has_value()) << *r.id();
    ExpectSameRecord(*back, r);
  }
  const auto batch = db->ReadBatch(ids);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_TRUE(batch[i].has_value()) << ids[i];
    ExpectSameRecord(*batch[i], records[i]);
  }
  const std::vector<Record> all = db->Search(Query());
  const std::vector<Record> want = InIdOrder(records);
  ASSERT_EQ(all.size(), want.size());
  for (std::size_t i = 0; i < all.size(); ++i) ExpectSameRecord(all[i], want[i]);
  // An update keeps them exact too (the version goes on).
  Record wide = records.back();
  ASSERT_TRUE(db->Update(*wide.id(), wide, 1));
  wide.set_version(2);
  EXPECT_EQ(*db->Read(*wide.id()), wide);
}

TEST_F(ElasticsearchServerTest, QueriesOnEveryValueKindGiveDkdatasAnswers) {
  auto db = OpenHere();
  const std::vector<Record> records = InIdOrder(EdgeRecords());
  db->CreateBatch(records);
  const std::string nul("nul\0inside", 10);
  const std::vector<Expr> exprs = {
      Where("v", Op::kEq, Value(LongString(10000, 'x'))),
      Where("v", Op::kEq, Value(LongString(8191, 'y'))),
      Where("v", Op::kGt, Value("yyyy")),
      Where("v", Op::kStartsWith, Value("yyyy")),
      Where("v", Op::kLike, Value("%x")),
      Where("v", Op::kEq, Value("")),
      Where("v", Op::kEq, Value(nul)),
      Where("v", Op::kEq, Value("héllo wörld ✓ 😀 中文")),
      Where("v", Op::kLike, Value("%ö%")),
      Where("v", Op::kILike, Value("HÉLLO%")),
      Where("v", Op::kGt, Value("z")),
      Where("v", Op::kGt, Value(kTwo53)),
      Where("v", Op::kGte, Value(kTwo53)),
      Where("v", Op::kGt, Value(kTwo53 - 1)),
      Where("v", Op::kEq, Value(kTwo53 + 1)),
      Where("v", Op::kLt, Value(-kTwo53)),
      Where("v", Op::kGte, Value(std::numeric_limits<std::int64_t>::max())),
      Where("v", Op::kLte, Value(std::numeric_limits<std::int64_t>::min())),
      Where("v", Op::kGt, Value(1e299)),
      Where("v", Op::kLt, Value(-1e299)),
      Where("v", Op::kEq, Value(0)),
      Where("v", Op::kEq, Value(-0.0)),
      Where("v", Op::kEq, Value(0.1)),
      Where("v", Op::kEq, Value(42)),
      Where("v", Op::kBetween, Value(List{Value(-1), Value(1)})),
      Where("v", Op::kGt, Value(0)),
      Where("v", Op::kNeq, Value(0)),
      Where("v", Op::kIn, Value(List{Value(42), Value("a"), Value(true), Value()})),
      Where("v", Op::kNotIn, Value(List{Value(42), Value("a")})),
      Where("v", Op::kEq, Value(true)),
      Where("v", Op::kEq, Value(false)),
      Where("v", Op::kEq, Value(Timestamp{1714557600123456})),
      Where("v", Op::kEq, Value(Timestamp{-1})),
      Where("v", Op::kLt, Value(Timestamp{0})),
      Where("v", Op::kGte, Value(Timestamp{-2208988800000000})),
      Where("v", Op::kEq, Value(Bytes{std::string("\x00\x01\xfe\xff binary", 11)})),
      Where("v", Op::kExists),
      Where("v", Op::kNotExists),
      Where("v", Op::kEq, Value()),
      Where("v.inner.k", Op::kEq, Value("v")),
      Where("v.inner.n", Op::kGt, Value(kTwo53)),
      Where("v.when", Op::kLt, Value(Timestamp{0})),
      Where("v.0", Op::kEq, Value(1)),
      Where("v.2.0", Op::kEq, Value(true)),
      Where("v.inner", Op::kExists),
      Where("v.inner", Op::kNotExists),
      Where("v", Op::kRegex, Value("^x+$")),
      Where("f21", Op::kStartsWith, Value("hé")),
      Where("with space", Op::kEq, Value("spaced")),
      Where("dotted.name", Op::kEq, Value("dotted")),
      Where("ünï", Op::kExists),
      Where("kind", Op::kEq, Value("int")) && Where("v", Op::kGte, Value(0)),
      Where("kind", Op::kEq, Value("float")) || Where("v", Op::kEq, Value("a")),
      !Where("v", Op::kGt, Value(0)),
      Where("id", Op::kStartsWith, Value("t1")),
      Where("id", Op::kGt, Value("t3")),
  };
  for (const Expr& expr : exprs) ExpectDkdatasAnswers(*db, Query(expr), records);
  // Sorts on a field of every kind (the core's order), on a plain one (the server's), paged.
  const std::vector<Query> sorts = {
      Query().Sort("v"),
      Query().Sort("v", SortOrder::kDesc),
      Query().Sort("n", SortOrder::kDesc),
      Query().Sort("kind").Sort("n", SortOrder::kDesc),
      Query().Filter("kind", Op::kIn, Value(List{Value("int"), Value("float")})).Sort("v"),
      Query()
          .Filter("kind", Op::kIn, Value(List{Value("int"), Value("float")}))
          .Sort("v", SortOrder::kDesc)
          .Offset(2)
          .Limit(5),
      Query().Filter("kind", Op::kEq, Value("string")).Sort("v").Limit(3),
  };
  for (const Query& query : sorts) ExpectDkdatasAnswers(*db, query, records);
}

// Operands of 1000 bytes and more: Lucene builds an automaton for a keyword range, a wildcard or a
// prefix, and refuses one that long (index.max_regex_length, "input automaton is too large"). The
// query is valid all the same: the answer must be dkdata's, not an error.
TEST_F(ElasticsearchServerTest, LongStringOperandsAreAnsweredNotRefused) {
  auto db = OpenHere();
  std::vector<Record> records;
  for (const auto& [id, text] :
       std::vector<std::pair<std::string, std::string>>{{"a", "short"},
                                                        {"b", LongString(999, 'x')},
                                                        {"c", LongString(1000, 'x')},
                                                        {"d", LongString(1500, 'x') + "end"},
                                                        {"e", LongString(8191, 'y')},
                                                        {"f", LongString(10000, 'y')}}) {
    Record r;
    r.set_id(id);
    r.Set("s", text);
    records.push_back(std::move(r));
  }
  db->CreateBatch(records);
  const std::vector<Expr> exprs = {
      Where("s", Op::kGt, Value(LongString(1000, 'x'))),
      Where("s", Op::kGte, Value(LongString(8191, 'y'))),
      Where("s", Op::kLt, Value(LongString(1200, 'x'))),
      Where("s", Op::kBetween, Value(List{Value("a"), Value(LongString(2000, 'x'))})),
      Where("s", Op::kStartsWith, Value(LongString(1200, 'x'))),
      Where("s", Op::kLike, Value(LongString(1100, 'x') + "%")),
      Where("s", Op::kNotLike, Value("%" + LongString(1100, 'x') + "%")),
      Where("s", Op::kILike, Value(LongString(1100, 'X') + "%end")),
      Where("id", Op::kLt, Value(LongString(1000, 'c'))),
  };
  for (const Expr& expr : exprs) ExpectDkdatasAnswers(*db, Query(expr), records);
}

// ---- 5. Documents written by another program ----

TEST_F(ElasticsearchServerTest, DocumentsInTheReferencesLayoutAreReadAndQueried) {
  auto db = OpenHere();
  std::vector<Record> mine;
  for (const auto& [id, name, age] : std::vector<std::tuple<std::string, std::string, int>>{
           {"m1", "Mia", 25}, {"m2", "Ben", 41}, {"m3", "Cy", 33}}) {
    Record r = Person(id, age);
    r.Set("name", name);
    r.Set("tags", List{Value("mine")});
    mine.push_back(r);
  }
  db->CreateBatch(mine);
  RawHttp raw(url_);
  // As the reference writes them: PUT /index/_doc/id, {"id", "data", "metadata"}, no _dk.
  const auto put = [&](const std::string& id, const std::string& data) {
    const auto r =
        raw.Send("PUT", "/" + index_ + "/_doc/" + id + "?refresh=true",
                 R"({"id":")" + id + R"(","data":)" + data + R"(,"metadata":{"src":"reference"}})");
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.body;
  };
  put("x1", R"({"name":"Ada","age":36,"tags":["a","b"],"address":{"city":"SF"}})");
  put("x2", R"({"name":"Bea","age":52.5,"when":"2024-05-01T10:00:00Z"})");
  put("x3", R"({"name":"Cal","emb":{"name":"emb","value":[1.5,2],"type":"vector",)"
            R"("dimensions":2}})");
  put("x1", R"({"name":"Ada","age":37,"tags":["a","b"],"address":{"city":"SF"}})");  // _version 2

  const auto x1 = db->Read("x1");
  ASSERT_TRUE(x1.has_value());
  EXPECT_EQ(x1->version(), 2u) << "the version of another program's document is its _version";
  EXPECT_EQ(*x1->Get("name"), Value("Ada"));
  EXPECT_EQ(*x1->Get("age"), Value(37));
  EXPECT_EQ(*x1->Get("address.city"), Value("SF"));
  EXPECT_EQ(*x1->Get("tags"), Value(List{Value("a"), Value("b")}));
  EXPECT_EQ(x1->metadata(), (Object{{"src", Value("reference")}}));
  EXPECT_EQ(db->Read("x2")->version(), 1u);
  EXPECT_EQ(*db->Read("x2")->Get("age"), Value(52.5));
  EXPECT_EQ(*db->Read("x3")->Get("emb"), Value(Vector{1.5f, 2.0f}));
  EXPECT_TRUE(db->Exists("x3"));

  // All of them, as dkdata reads them, for the evaluator to answer the queries with.
  std::vector<Record> records;
  for (const auto& r : db->ReadBatch({"m1", "m2", "m3", "x1", "x2", "x3"})) {
    ASSERT_TRUE(r.has_value());
    records.push_back(*r);
  }
  const std::vector<Query> queries = {
      Query().Filter("age", Op::kGt, 35),
      Query().Filter("age", Op::kGt, 30).Sort("age", SortOrder::kDesc),
      Query().Filter("name", Op::kStartsWith, Value("B")).Sort("name"),
      Query().Filter("tags", Op::kExists).Sort("name", SortOrder::kDesc),
      Query().Filter("address.city", Op::kEq, Value("SF")),
      Query().Filter("when", Op::kEq, Value(Timestamp{1714557600000000})),
      Query().Filter("emb", Op::kExists),
      Query().Filter("age", Op::kNotExists),
      Query().Sort("age").Limit(4),
      Query().Sort("name").Offset(1).Limit(3),
      Query(Where("age", Op::kLt, Value(30)) || Where("name", Op::kEq, Value("Ada"))),
      Query(),
  };
  for (const Query& query : queries) {
    ExpectDkdatasAnswers(*db, query, records);
    const std::vector<Record> expected = EvaluateQuery(query, records);
    StreamOptions two;
    two.batch_size = 2;
    auto cursor = db->StreamRead(query, two);
    std::vector<Record> streamed, batch;
    while (cursor->NextBatch(batch)) streamed.insert(streamed.end(), batch.begin(), batch.end());
    EXPECT_EQ(IdsOf(streamed), IdsOf(expected)) << query.ToString();
  }
  // dkdata's update of another program's document continues its version.
  Record ada = *x1;
  ada.Set("age", 38);
  EXPECT_EQ(CodeOf([&] { db->Update("x1", ada, 1); }), ErrorCode::kConflict);
  ASSERT_TRUE(db->Update("x1", ada, 2));
  EXPECT_EQ(db->Read("x1")->version(), 3u);
  EXPECT_EQ(db->Count(Where("age", Op::kEq, Value(38))), 1u);
  EXPECT_TRUE(db->Delete("x3"));
  EXPECT_EQ(db->Count(), 5u);
}

// ---- 6. No 10-hit or 10 000-hit ceiling ----

TEST_F(ElasticsearchServerTest, SearchesAndCursorsReadPastTheResultWindow) {
  auto db = OpenHere();
  const std::vector<Record> records = People("d", 25000);
  db->CreateBatch(records);
  EXPECT_EQ(db->Count(), records.size());
  const std::vector<Record> all = db->Search(Query());
  ASSERT_EQ(all.size(), records.size());
  EXPECT_EQ(IdsOf(all), IdsOf(records));

  StreamOptions options;
  options.batch_size = 3000;
  auto cursor = db->StreamRead(Query(), options);
  std::vector<std::string> streamed;
  std::vector<Record> batch;
  while (cursor->NextBatch(batch)) {
    EXPECT_LE(batch.size(), 3000u);
    for (const Record& r : batch) streamed.push_back(*r.id());
  }
  EXPECT_EQ(streamed, IdsOf(records)) << "every id once, in id order";

  const std::vector<Record> page = db->Search(Query().Offset(12000).Limit(5));
  EXPECT_EQ(IdsOf(page),
            (std::vector<std::string>{"d12000", "d12001", "d12002", "d12003", "d12004"}));
  // Past the window with a filter and a sort on the server, and with the count of a filter.
  const Query deep = Query().Filter("age", Op::kLt, 80).Sort("group", SortOrder::kDesc).Sort("age");
  const std::vector<Record> expected = EvaluateQuery(deep, records);
  ASSERT_GT(expected.size(), 10000u);
  EXPECT_EQ(IdsOf(db->Search(deep)), IdsOf(expected));
  const Query deep_page = Query(deep).Offset(15000).Limit(7);
  EXPECT_EQ(IdsOf(db->Search(deep_page)), IdsOf(EvaluateQuery(deep_page, records)));
  EXPECT_EQ(db->Count(Where("age", Op::kLt, Value(80))), expected.size());
}

// ---- 7. Failover ----

TEST_F(ElasticsearchServerTest, ADeadFirstHostFailsOverToTheLiveOne) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(DeadPort());
  const auto started = std::chrono::steady_clock::now();
  auto db = Open(Value(List{Value(dead), Value(url_)}), index_);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  db->Create(Person("a", 30));
  EXPECT_TRUE(db->Read("a").has_value());
  EXPECT_EQ(db->CreateBatch(People("f", 50)).size(), 50u);
  EXPECT_EQ(db->Search(Query().Filter("age", Op::kGte, 30)).size(), 21u);
  EXPECT_EQ(db->Count(), 51u);
  // The same as one string of hosts.
  auto again = Open(Value(dead + "," + url_), index_);
  EXPECT_EQ(again->Count(), 51u);
}

TEST_F(ElasticsearchServerFaultTest, AHostThatDiesFailsOverToTheNextOne) {
  proxy_->Rule("key=all&path=/&n=0");  // counts what goes through the proxy
  auto db = Open(Value(List{Value(proxy_->url()), Value(url_)}), index_);
  db->Create(Person("a", 30));
  const int through_proxy = proxy_->Count("all");
  EXPECT_GE(through_proxy, 2) << "the first host is used while it is up";
  proxy_->Kill();
  // A create is not idempotent: it goes elsewhere only because no connection could be made.
  db->Create(Person("b", 40));
  EXPECT_TRUE(db->Read("b").has_value());
  EXPECT_EQ(db->Count(), 2u);
  EXPECT_EQ(db->CreateBatch(People("g", 10)).size(), 10u);
  RawHttp raw(url_);
  EXPECT_EQ(raw.CountDocs(index_), 12u);
}

// ---- 8. Credentials never in messages ----

TEST_F(ElasticsearchServerFaultTest, CredentialsNeverAppearInMessages) {
  const std::string key = "S3cr3tApiKey-dkdata-9a8b7c==";
  const std::string user = "elastic-user", password = "pa55-S3CRET-w0rd";
  const std::string basic = Base64Encode(user + ":" + password);
  const auto clean = [&](const std::string& message) {
    EXPECT_FALSE(Contains(message, key)) << message;
    EXPECT_FALSE(Contains(message, password)) << message;
    EXPECT_FALSE(Contains(message, basic)) << message;
    EXPECT_FALSE(Contains(message, "S3cr3t")) << message;
  };
  const Object with_key{{"api_key", Value(key)}};
  const Object with_basic{{"basic_auth", Value(List{Value(user), Value(password)})}};
  const Object with_text{{"basic_auth", Value(user + ":" + password)}};
  std::string message;

  // A node that rejects the credentials, from the first request on.
  proxy_->Rule("key=deny&path=/&n=1000000&status=401");
  for (const Object* auth : {&with_key, &with_basic, &with_text}) {
    EXPECT_EQ(CodeOf([&] { OpenProxied(*auth); }, &message), ErrorCode::kUnauthorized);
    EXPECT_TRUE(Contains(message, "401")) << message;
    clean(message);
  }
  // ... or from a later one: the errors of a read, a search, a batch.
  for (const Object* auth : {&with_key, &with_basic}) {
    FaultProxy later(url_);
    ASSERT_TRUE(later.up());
    auto db = Open(Value(later.url()), index_, *auth);
    db->Create(Person("a" + std::to_string(auth == &with_key), 1));
    later.Rule("key=deny&path=/" + index_ + "/&n=1000000&status=401");
    EXPECT_EQ(CodeOf([&] { db->Read("a"); }, &message), ErrorCode::kUnauthorized);
    clean(message);
    EXPECT_EQ(CodeOf([&] { db->Search(Query().Filter("age", Op::kGt, 0)); }, &message),
              ErrorCode::kUnauthorized);
    clean(message);
    EXPECT_EQ(CodeOf([&] { db->CreateBatch(People("c", 3)); }, &message), ErrorCode::kUnauthorized);
    clean(message);
  }
  // A host that cannot be reached.
  const std::string dead = "http://127.0.0.1:" + std::to_string(DeadPort());
  for (const Object* auth : {&with_key, &with_basic}) {
    Object options = *auth;
    options.Set("connect_timeout", Value(1));
    options.Set("max_retries", Value(0));
    EXPECT_EQ(CodeOf([&] { Open(Value(dead), index_, options); }, &message),
              ErrorCode::kUnavailable);
    EXPECT_TRUE(Contains(message, "127.0.0.1")) << message;
    clean(message);
  }
}

// ---- 9. Optimistic concurrency ----

TEST_F(ElasticsearchServerTest, ConcurrentUpdatesWithOneExpectedVersionLetExactlyOneWin) {
  auto db = OpenHere(Object{{"refresh", Value(false)}});
  db->Create(Person("x", 0));
  constexpr int kThreads = 4;
  constexpr int kRounds = 15;
  for (int round = 0; round < kRounds; ++round) {
    const std::uint64_t expected = static_cast<std::uint64_t>(round) + 1;
    std::barrier start(kThreads);
    std::atomic<int> won{0}, conflicts{0}, other{0};
    std::atomic<int> winner{-1};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Record r = Person("x", round * 100 + t);
        start.arrive_and_wait();
        try {
          if (db->Update("x", r, expected)) {
            ++won;
            winner = t;
          } else {
            ++other;
          }
        } catch (const Error& e) {
          (e.code() == ErrorCode::kConflict ? conflicts : other)++;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(won.load(), 1) << "round " << round;
    ASSERT_EQ(conflicts.load(), kThreads - 1) << "round " << round;
    ASSERT_EQ(other.load(), 0) << "round " << round;
    const auto stored = db->Read("x");
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->version(), expected + 1) << "round " << round;
    EXPECT_EQ(*stored->Get("age"), Value(round * 100 + winner.load())) << "round " << round;
  }
  // And an Upsert with a stale expected version is a conflict too.
  EXPECT_EQ(CodeOf([&] { db->Upsert("x", Person("x", 1), 1); }), ErrorCode::kConflict);
  EXPECT_EQ(db->Read("x")->version(), static_cast<std::uint64_t>(kRounds) + 1);
}

// ---- 10. OpenSearch ----

TEST(ElasticsearchServerOpenSearchTest, CrudSearchDeepPagingAndClear) {
  testserver::PrivateServer server(estest::Kind("opensearch"));
  if (server.url().empty()) GTEST_SKIP() << "no OpenSearch node: " << server.why();
  auto db = Open(Value(server.url()), "os_subset");
  // CRUD.
  db->Create(Person("a", 30));
  EXPECT_EQ(CodeOf([&] { db->Create(Person("a", 31)); }), ErrorCode::kAlreadyExists);
  auto a = db->Read("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->version(), 1u);
  EXPECT_TRUE(db->Update("a", Person("a", 32), 1));
  EXPECT_EQ(CodeOf([&] { db->Update("a", Person("a", 33), 1); }), ErrorCode::kConflict);
  EXPECT_EQ(*db->Read("a")->Get("age"), Value(32));
  EXPECT_TRUE(db->Delete("a"));
  EXPECT_FALSE(db->Exists("a"));
  EXPECT_FALSE(db->Delete("a"));
  // A filtered search with a sort, past the result window, through a point in time.
  const std::vector<Record> records = People("o", 12000);
  db->CreateBatch(records);
  const Query query =
      Query().Filter("group", Op::kNeq, 3).Filter("age", Op::kGte, 5).Sort("age", SortOrder::kDesc);
  const std::vector<Record> expected = EvaluateQuery(query, records);
  ASSERT_GT(expected.size(), 9000u);
  EXPECT_EQ(IdsOf(db->Search(query)), IdsOf(expected));
  StreamOptions options;
  options.batch_size = 2500;
  auto cursor = db->StreamRead(Query(), options);
  std::vector<std::string> streamed;
  std::vector<Record> batch;
  while (cursor->NextBatch(batch)) {
    for (const Record& r : batch) streamed.push_back(*r.id());
  }
  EXPECT_EQ(streamed, IdsOf(records));
  cursor.reset();
  EXPECT_EQ(db->Count(Where("age", Op::kLt, Value(10))),
            EvaluateQuery(Query(Where("age", Op::kLt, Value(10))), records).size());
  EXPECT_EQ(db->Clear(), records.size());
  EXPECT_EQ(db->Count(), 0u);
  EXPECT_TRUE(db->Search(Query()).empty());
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_ELASTICSEARCH
