// The S3 backend beyond the conformance suite, against a real S3-compatible server that checks
// SigV4 signatures (moto, tests/s3/): wrong secrets and session tokens, keys with every awkward
// character, the reference's layout and objects written by others, tags, retries on injected 500
// and 503 answers and a timeout on a stalled one (tests/s3/s3_fault_proxy.py), a lost create
// response, a partly failed batch, the ETag cache, multipart uploads, listings of many pages and
// concurrent optimistic updates.
#if DKDATA_HAVE_S3
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dkdata/dkdata.hpp"
#include "fault_proxy.hpp"
#include "s3_test_server.hpp"

namespace dkdata {
namespace {

using testing::HasSubstr;
using testing::Not;

Record Person(const std::string& id, std::int64_t age) {
  Record r;
  r.set_id(id);
  r.Set("name", "person " + id);
  r.Set("age", age);
  return r;
}

std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.id().value_or("?"));
  return out;
}

// The shared server, one bucket per test process, a fresh prefix per test.
class S3ServerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = s3test::Server(&why);
    DKDATA_REQUIRE_S3_SERVER(server_, why);
    static const std::string bucket = s3test::FreshBucket(server_);
    static std::atomic<int> prefixes{0};
    bucket_ = bucket;
    prefix_ = "u" + std::to_string(prefixes++) + "/";
  }
  Object Options(const Object& extra = Object()) const {
    Object options = s3test::StoreOptions(server_, bucket_, prefix_);
    for (const auto& [key, value] : extra) options.Set(key, value);
    return options;
  }
  std::unique_ptr<Database> Open(const Object& extra = Object()) const {
    return CreateDatabase("s3", Options(extra));
  }
  // The object at key (under the test's prefix) as another program reads it: its status.
  long RawGet(const std::string& key, std::string* body) const {
    return s3test::RawRequest(server_, "GET", "/" + bucket_ + "/" + key, "", body);
  }

  s3test::S3Server server_;
  std::string bucket_, prefix_;
};

Error ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a dkdata::Error";
  return Error(ErrorCode::kInternal, "none");
}

TEST_F(S3ServerTest, AWrongSecretIsRefusedAndNeverShown) {
  const Error e = ErrorOf([&] {
    Open(Object{{"aws_secret_access_key", Value("not-the-secret-at-all")}});
  });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthorized) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(e.what(), Not(HasSubstr("not-the-secret-at-all")));
  EXPECT_THAT(e.what(), Not(HasSubstr(server_.secret_key)));
  const Error unknown = ErrorOf([&] { Open(Object{{"aws_access_key_id", Value("AKIANOBODY")}}); });
  EXPECT_EQ(unknown.code(), ErrorCode::kUnauthorized) << unknown.what();
}

TEST_F(S3ServerTest, SessionCredentialsSignWithTheirToken) {
  if (server_.session_token.empty()) GTEST_SKIP() << "the server exported no session credentials";
  const Object session{{"aws_access_key_id", Value(server_.session_access_key)},
                       {"aws_secret_access_key", Value(server_.session_secret_key)},
                       {"aws_session_token", Value(server_.session_token)}};
  auto db = Open(session);
  db->Create(Person("s1", 1));
  EXPECT_EQ(db->Read("s1")->Get("age")->AsInt(), 1);
  Object without = session;
  without.Erase("aws_session_token");
  EXPECT_EQ(ErrorOf([&] { Open(without); }).code(), ErrorCode::kUnauthorized);
}

TEST_F(S3ServerTest, AMissingBucketIsNotFoundAtOpen) {
  Object options = Options();
  options.Set("bucket", Value("dk-no-such-bucket"));
  const Error e = ErrorOf([&] { CreateDatabase("s3", options); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("bucket 'dk-no-such-bucket' does not exist"));
}

TEST_F(S3ServerTest, IdsWithAwkwardCharactersRoundTrip) {
  auto db = Open();
  const std::vector<std::string> ids = {"a b",   "a+b",       "a=b",   "a&b",   "é ü 中文",
                                        "x/y/z", "../escape", "a%20b", "q?x#y", "~tilde.dot"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    db->Create(Person(ids[i], static_cast<std::int64_t>(i)));
  }
  std::set<std::string> listed;
  for (const Record& r : db->All()) listed.insert(*r.id());
  EXPECT_EQ(listed, std::set<std::string>(ids.begin(), ids.end()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    const std::optional<Record> r = db->Read(ids[i]);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->Get("age")->AsInt(), static_cast<std::int64_t>(i));
    EXPECT_TRUE(db->Exists(ids[i]));
    EXPECT_TRUE(db->Update(ids[i], Person(ids[i], 100)));
    EXPECT_EQ(db->Read(ids[i])->version(), 2u);
  }
  // The key is exactly {prefix}{id}.json: another program finds it there.
  std::string body;
  EXPECT_EQ(RawGet(prefix_ + "a%20b.json", &body), 200);
  EXPECT_THAT(body, HasSubstr("person a b"));
  EXPECT_EQ(RawGet(prefix_ + "x/y/z.json", &body), 200);
  for (const std::string& id : ids) EXPECT_TRUE(db->Delete(id)) << id;
  EXPECT_EQ(db->Count(), 0u);
}

TEST_F(S3ServerTest, VirtualHostedAddressingReachesTheSameBucket) {
  // http://BUCKET.localhost:PORT/KEY: libcurl resolves *.localhost to the loopback address.
  const std::string port = server_.endpoint.substr(server_.endpoint.rfind(':') + 1);
  auto db = Open(Object{{"endpoint_url", Value("http://localhost:" + port)},
                        {"addressing_style", Value("virtual")}});
  db->Create(Person("v1", 1));
  EXPECT_EQ(db->Search(Query::Parse("age = 1")).size(), 1u);
  std::string body;
  EXPECT_EQ(RawGet(prefix_ + "v1.json", &body), 200) << "path-style finds what virtual wrote";
}

TEST_F(S3ServerTest, TheLayoutIsTheReferencesAndMetadataBecomesTags) {
  auto db = Open();
  Record r = Person("p1", 42);
  r.metadata().Set("owner", Value("team-a"));
  r.metadata().Set("priority", Value(3));
  r.metadata().Set("nested", Value(Object{{"x", Value(1)}}));  // no tag: not a scalar
  db->Create(r);
  std::string body;
  ASSERT_EQ(RawGet(prefix_ + "p1.json", &body), 200);
  const Value doc = ParseJson(body);
  const Object& o = *doc.Get<Object>();
  EXPECT_EQ(*o.Find("id"), Value("p1"));
  ASSERT_NE(o.Find("fields"), nullptr);
  EXPECT_NE(o.Find("fields")->Get<Object>()->Find("age"), nullptr);
  EXPECT_EQ(*o.Find("_version"), Value(1));
  std::string tags;
  ASSERT_EQ(s3test::RawRequest(server_, "GET",
                               "/" + bucket_ + "/" + prefix_ + "p1.json?tagging=", "", &tags),
            200);
  EXPECT_THAT(tags, HasSubstr("<Key>owner</Key><Value>team-a</Value>"));
  EXPECT_THAT(tags, HasSubstr("<Key>priority</Key><Value>3</Value>"));
  EXPECT_THAT(tags, Not(HasSubstr("nested")));
  EXPECT_EQ(*db->Read("p1")->metadata().Find("nested"), Value(Object{{"x", Value(1)}}));
}

TEST_F(S3ServerTest, ObjectsWrittenByOthersAreRead) {
  // The reference's body: no "_version" (version 1 then), metadata with its timestamps.
  const std::string body =
      R"({"id":"r1","fields":{"name":{"name":"name","value":"Ada","type":"string","metadata":{}}},)"
      R"("metadata":{"created_at":"2024-01-01T00:00:00"}})";
  ASSERT_EQ(s3test::RawRequest(server_, "PUT", "/" + bucket_ + "/" + prefix_ + "r1.json", body,
                               nullptr, {{"Content-Type", "application/json"}}),
            200);
  // Not a record's key: ignored by listings.
  ASSERT_EQ(s3test::RawRequest(server_, "PUT", "/" + bucket_ + "/" + prefix_ + "notes.txt", "x"),
            200);
  auto db = Open();
  const std::optional<Record> r = db->Read("r1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r->Get("name"), Value("Ada"));
  EXPECT_EQ(r->version(), 1u);
  EXPECT_EQ(db->Count(), 1u);
  EXPECT_TRUE(db->Update("r1", Person("r1", 5), 1));
  // Not JSON: an error naming the object.
  ASSERT_EQ(s3test::RawRequest(server_, "PUT", "/" + bucket_ + "/" + prefix_ + "bad.json", "{oops"),
            200);
  const Error e = ErrorOf([&] { db->Read("bad"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("s3://" + bucket_ + "/" + prefix_ + "bad.json"));
}

// The proxy in front of the server, and a store that goes through it.
class S3ServerFaultTest : public S3ServerTest {
 protected:
  void SetUp() override {
    S3ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    proxy_.emplace("tests/s3/s3_fault_proxy.py", server_.endpoint);
    ASSERT_TRUE(proxy_->up()) << "python3 could not run tests/s3/s3_fault_proxy.py";
  }
  std::unique_ptr<Database> OpenThroughProxy(const Object& extra = Object()) {
    Object options = Options(extra);
    options.Set("endpoint_url", Value(proxy_->url()));
    return CreateDatabase("s3", options);
  }
  std::string ObjectPath(const std::string& id) const {
    return "/" + bucket_ + "/" + prefix_ + id + ".json";
  }
  std::optional<testserver::FaultProxy> proxy_;
};

TEST_F(S3ServerFaultTest, Injected500And503AreRetried) {
  auto db = OpenThroughProxy();
  db->Create(Person("a", 1));
  ASSERT_TRUE(proxy_->Rule("key=busy&path=" + ObjectPath("a") + "&method=GET&n=2&status=503"));
  EXPECT_EQ(db->Read("a")->Get("age")->AsInt(), 1);
  EXPECT_EQ(proxy_->Count("busy"), 3) << "two SlowDown answers, then the read";
  ASSERT_TRUE(proxy_->Rule("key=err&path=" + ObjectPath("b") + "&method=PUT&n=1&status=500"));
  db->Create(Person("b", 2));
  EXPECT_EQ(proxy_->Count("err"), 2);
  EXPECT_EQ(db->Read("b")->version(), 1u);
}

TEST_F(S3ServerFaultTest, RetriesAreBoundedAndTheErrorSaysWhat) {
  auto db = OpenThroughProxy(Object{{"max_attempts", Value(3)}});
  db->Create(Person("a", 1));
  ASSERT_TRUE(proxy_->Rule("key=down&path=" + ObjectPath("a") + "&method=GET&n=100&status=503"));
  const Error e = ErrorOf([&] { db->Read("a"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("SlowDown"));
  EXPECT_THAT(e.what(), HasSubstr("after 3 tries"));
  EXPECT_EQ(proxy_->Count("down"), 3);
}

TEST_F(S3ServerFaultTest, AStalledResponseIsRetriedThenATimeout) {
  auto db = OpenThroughProxy(Object{{"timeout", Value(0.5)}, {"max_attempts", Value(2)}});
  db->Create(Person("a", 1));
  ASSERT_TRUE(proxy_->Rule("key=stall&path=" + ObjectPath("a") +
                           "&method=GET&n=1&mode=stall_before&seconds=3"));
  EXPECT_EQ(db->Read("a")->Get("age")->AsInt(), 1) << "the second try is not stalled";
  // (The first rule that matches a request decides it: another record for the next rule.)
  db->Create(Person("b", 2));
  ASSERT_TRUE(proxy_->Rule("key=stall2&path=" + ObjectPath("b") +
                           "&method=GET&n=5&mode=stall_before&seconds=3"));
  const Error e = ErrorOf([&] { db->Read("b"); });
  EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
  EXPECT_THAT(e.what(), HasSubstr("after 2 tries"));
}

TEST_F(S3ServerFaultTest, ALostCreateResponseIsNoError) {
  auto db = OpenThroughProxy();
  // The server stores the object, the answer never arrives; the retry finds its own object.
  ASSERT_TRUE(proxy_->Rule("key=lost&path=" + ObjectPath("l") + "&method=PUT&n=1&mode=drop_after"));
  EXPECT_EQ(db->Create(Person("l", 7)), "l");
  EXPECT_EQ(proxy_->Count("lost"), 2);
  EXPECT_EQ(db->Read("l")->version(), 1u);
  // An object that was there before is still "exists already", retried or not.
  ASSERT_TRUE(
      proxy_->Rule("key=lost2&path=" + ObjectPath("l") + "&method=PUT&n=1&mode=drop_after"));
  EXPECT_EQ(ErrorOf([&] { db->Create(Person("l", 8)); }).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(db->Read("l")->Get("age")->AsInt(), 7);
}

TEST_F(S3ServerFaultTest, ALostUpdateResponseIsNeitherAConflictNorAppliedTwice) {
  auto db = OpenThroughProxy();
  db->Create(Person("u", 1));
  db->Create(Person("w", 1));
  ASSERT_TRUE(proxy_->Rule("key=lost&path=" + ObjectPath("u") + "&method=PUT&n=1&mode=drop_after"));
  EXPECT_TRUE(db->Update("u", Person("u", 2), 1));
  EXPECT_EQ(db->Read("u")->version(), 2u);
  EXPECT_EQ(db->Read("u")->Get("age")->AsInt(), 2);
  ASSERT_TRUE(
      proxy_->Rule("key=lost2&path=" + ObjectPath("w") + "&method=PUT&n=1&mode=drop_after"));
  EXPECT_EQ(db->UpdateBatch({{"w", Person("w", 3)}}), std::vector<bool>{true});
  EXPECT_EQ(db->Read("w")->version(), 2u) << "written once";
}

TEST_F(S3ServerFaultTest, APartlyFailedBatchNamesEachItemAndKeepsTheRest) {
  auto db = OpenThroughProxy(Object{{"max_attempts", Value(2)}});
  db->Create(Person("old", 0));
  ASSERT_TRUE(proxy_->Rule("key=f1&path=" + ObjectPath("b2") + "&method=PUT&n=10&status=500"));
  ASSERT_TRUE(proxy_->Rule("key=f2&path=" + ObjectPath("b4") + "&method=PUT&n=10&status=503"));
  std::vector<Record> batch;
  for (const char* id : {"b0", "b1", "b2", "old", "b4", "b5"}) batch.push_back(Person(id, 1));
  const Error e = ErrorOf([&] { db->CreateBatch(batch); });
  const std::string message = e.what();
  EXPECT_THAT(message, HasSubstr("3 of 6 records were not written"));
  EXPECT_THAT(message, HasSubstr("item 2 (id 'b2'): "));
  EXPECT_THAT(message, HasSubstr("InternalError"));
  EXPECT_THAT(message, HasSubstr("item 3 (id 'old'): record 'old' exists already"));
  EXPECT_THAT(message, HasSubstr("item 4 (id 'b4'): "));
  EXPECT_THAT(message, HasSubstr("SlowDown"));
  EXPECT_THAT(message, HasSubstr("The other 3 are stored."));
  for (const char* id : {"b0", "b1", "b5"}) EXPECT_TRUE(db->Exists(id)) << id;
  for (const char* id : {"b2", "b4"}) EXPECT_FALSE(db->Exists(id)) << id;
  EXPECT_EQ(db->Read("old")->Get("age")->AsInt(), 0);
}

TEST_F(S3ServerFaultTest, ARepeatedSearchFetchesOnlyWhatChanged) {
  auto db = OpenThroughProxy();
  std::vector<Record> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(Person("c" + std::to_string(i), i));
  db->CreateBatch(batch);
  // Counts object reads (the listing's path is "/bucket/?list-type=...", not under the prefix).
  ASSERT_TRUE(
      proxy_->Rule("key=gets&path=/" + bucket_ + "/" + prefix_ + "&method=GET&skip=1000000"));
  auto other = Open();  // a second client, straight to the server, with a cache of its own
  EXPECT_EQ(db->Search(Query::Parse("age >= 10")).size(), 10u);
  EXPECT_EQ(proxy_->Count("gets"), 0) << "every object was cached when it was written";
  other->Update("c3", Person("c3", 30));
  other->Create(Person("c99", 99));
  const std::vector<Record> found = db->Search(Query::Parse("age >= 10"));
  EXPECT_EQ(found.size(), 12u);
  EXPECT_EQ(proxy_->Count("gets"), 2) << "the changed and the new object only";
  // A store without a cache fetches all 21.
  auto uncached = OpenThroughProxy(Object{{"cache_records", Value(0)}});
  uncached->Search(Query());
  EXPECT_EQ(proxy_->Count("gets"), 23);
}

TEST_F(S3ServerTest, LargeRecordsGoInParts) {
  auto db = Open(
      Object{{"multipart_threshold", Value(5 << 20)}, {"multipart_chunksize", Value(5 << 20)}});
  Record big = Person("big", 1);
  big.Set("blob", std::string(6 << 20, 'x'));
  db->Create(big);
  std::optional<Record> back = db->Read("big");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->Get("blob")->Get<std::string>()->size(), std::size_t{6} << 20);
  EXPECT_EQ(ErrorOf([&] { db->Create(big); }).code(), ErrorCode::kAlreadyExists)
      << "If-None-Match on the upload's completion";
  big.Set("age", 2);
  EXPECT_TRUE(db->Update("big", big));
  EXPECT_EQ(db->Read("big")->version(), 2u);
  EXPECT_EQ(db->Read("big")->Get("age")->AsInt(), 2);
}

TEST_F(S3ServerTest, ListingsOfManyPagesStreamAndCount) {
  auto db = Open(Object{{"max_pool_connections", Value(16)}});
  std::vector<Record> batch;
  for (int i = 0; i < 1150; ++i) batch.push_back(Person("m" + std::to_string(10000 + i), i % 10));
  db->CreateBatch(batch);
  EXPECT_EQ(db->Count(), 1150u);
  EXPECT_EQ(db->Count(Query::Parse("age = 3").where()), 115u);
  Query q = Query::Parse("age < 5");
  q.Offset(10).Limit(500).Select({"age"});
  auto cursor = db->StreamRead(q, StreamOptions{.batch_size = 64});
  std::vector<Record> batch_out;
  std::size_t n = 0, batches = 0;
  while (cursor->NextBatch(batch_out)) {
    EXPECT_LE(batch_out.size(), 64u);
    for (const Record& r : batch_out) {
      EXPECT_LT(r.Get("age")->AsInt(), 5);
      EXPECT_EQ(r.Get("name"), nullptr) << "projected";
    }
    n += batch_out.size();
    ++batches;
  }
  EXPECT_EQ(n, 500u);
  EXPECT_GE(batches, 8u);
  EXPECT_EQ(IdsOf(db->Search(q)).size(), 500u);
  EXPECT_EQ(db->Clear(), 1150u);
  EXPECT_EQ(db->Count(), 0u);
}

TEST_F(S3ServerTest, ConcurrentUpdatesLoseNothing) {
  auto db = Open();
  db->Create(Person("counter", 0));
  constexpr int kThreads = 4, kEach = 8;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        for (;;) {
          const Record r = *db->Read("counter");
          Record next = Person("counter", r.Get("age")->AsInt() + 1);
          try {
            db->Update("counter", next, r.version());
            break;
          } catch (const Error& e) {
            if (e.code() != ErrorCode::kConflict) throw;
            ++conflicts;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const Record final_record = *db->Read("counter");
  EXPECT_EQ(final_record.Get("age")->AsInt(), kThreads * kEach);
  EXPECT_EQ(final_record.version(), std::uint64_t{kThreads * kEach + 1});
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_S3
