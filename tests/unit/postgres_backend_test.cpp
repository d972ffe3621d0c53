// The PostgreSQL backend beyond the conformance suite: a server restarted, stopped or killed in
// the middle of a run (each on a private server: the shared one must stay up for the tests beside
// them), pool exhaustion, statement timeouts, rows written by another program, expression indexes
// serving queries, and many threads on one database (run under TSan).
#if DKDATA_HAVE_POSTGRES
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backends/postgres/pg_translate.hpp"
#include "dkdata/dkdata.hpp"
#include "pg_test_server.hpp"

namespace dkdata {
namespace {

using namespace std::chrono_literals;

// Runs SQL on a libpq connection of its own, as another program would.
class RawConnection {
 public:
  explicit RawConnection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~RawConnection() { PQfinish(conn_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // The first column of each row.
  std::vector<std::string> Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << PQresultErrorMessage(r) << " in " << sql;
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    return out;
  }

  PGconn* get() const { return conn_; }

 private:
  PGconn* conn_;
};

std::unique_ptr<Database> Open(const std::string& url, const std::string& table,
                               const Object& extra = Object()) {
  Object options{{"connection_string", Value(url)}, {"table", Value(table)}};
  for (const auto& [key, value] : extra) options.Set(key, value);
  return CreateDatabase("postgres", options);
}

Record Person(const std::string& id, std::int64_t age) {
  Record r;
  r.set_id(id);
  r.Set("name", "person " + id);
  r.Set("age", age);
  return r;
}

ErrorCode CodeOf(const std::function<void()>& fn, std::string* message = nullptr,
                 std::string* native = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    if (native != nullptr) *native = e.native_code();
    return e.code();
  }
  ADD_FAILURE() << "expected an Error";
  return ErrorCode::kInternal;
}

// ---- A server restarted, stopped, killed ----

TEST(PostgresServerLossTest, TheNextCallAfterARestartSucceeds) {
  pgtest::PrivateServer server;
  DKDATA_REQUIRE_PG_SERVER(server.url(), server.why());
  auto db = Open(server.url(), "restarted", Object{{"min_pool_size", Value(3)}});
  db->Create(Person("a", 30));
  ASSERT_EQ(server.Run("restart"), 0);
  // Every pooled connection died with the old server; the first call after the restart already
  // works, on a new one.
  const auto a = db->Read("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a->Get("age"), Value(30));
  db->Create(Person("b", 40));
  EXPECT_EQ(db->Count(), 2u);
  EXPECT_EQ(db->Search(Query().Filter("age", Op::kGt, 35)).size(), 1u);
}

TEST(PostgresServerLossTest, WhileTheServerIsDownCallsFailAsUnavailableThenRecover) {
  pgtest::PrivateServer server;
  DKDATA_REQUIRE_PG_SERVER(server.url(), server.why());
  auto db = Open(server.url(), "downed", Object{{"connect_timeout", Value(2)}});
  db->Create(Person("a", 30));
  ASSERT_EQ(server.Run("down"), 0);
  std::string message;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(CodeOf([&] { db->Read("a"); }, &message), ErrorCode::kUnavailable);
  EXPECT_NE(message.find("cannot connect"), std::string::npos) << message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << "a refused connection is quick";
  EXPECT_EQ(CodeOf([&] { db->Create(Person("b", 1)); }), ErrorCode::kUnavailable);
  ASSERT_EQ(server.Run("up"), 0);
  EXPECT_TRUE(db->Read("a").has_value());
  EXPECT_FALSE(db->Exists("b")) << "the create that failed stored nothing";
}

TEST(PostgresServerLossTest, AServerKilledDuringACopyLeavesAllOrNothing) {
  pgtest::PrivateServer server;
  DKDATA_REQUIRE_PG_SERVER(server.url(), server.why());
  auto db = Open(server.url(), "killed");
  db->Create(Person("before", 1));
  // Big enough for the COPY to take seconds (the GIN indexes slow it down).
  std::vector<Record> batch;
  for (int i = 0; i < 200000; ++i) {
    Record r = Person("r" + std::to_string(i), i % 90);
    r.Set("tags", List{Value("t" + std::to_string(i % 50)), Value("x")});
    batch.push_back(std::move(r));
  }
  std::atomic<bool> copying{false};
  std::thread killer([&] {
    while (!copying) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(server.Run("kill"), 0);
  });
  bool threw = false;
  try {
    copying = true;
    db->CreateBatch(batch);
  } catch (const Error& e) {
    threw = true;
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << e.what();
  }
  killer.join();
  ASSERT_EQ(server.Run("up"), 0);  // crash recovery
  const std::size_t count = db->Count();
  if (threw) {
    // The batch either committed just before the kill or not at all: never part of it.
    EXPECT_TRUE(count == 1 || count == batch.size() + 1) << count;
  } else {
    EXPECT_EQ(count, batch.size() + 1);
  }
  EXPECT_TRUE(threw) << "the kill came after the COPY: make the batch bigger";
  EXPECT_TRUE(db->Exists("before"));
}

// ---- The pool and timeouts (the shared server) ----

class PostgresSharedServerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    url_ = pgtest::ServerUrl(&why);
    DKDATA_REQUIRE_PG_SERVER(url_, why);
    table_ = pgtest::FreshTableName();
  }
  void TearDown() override {
    if (url_.empty()) return;
    RawConnection raw(url_);
    raw.Query("DROP TABLE IF EXISTS \"" + table_ + "\"");
  }

  std::string url_;
  std::string table_;
};

using PostgresPoolTest = PostgresSharedServerTest;

TEST_F(PostgresPoolTest, ExhaustionIsATimeoutNamingThePoolSize) {
  auto db = Open(
      url_, table_,
      Object{
          {"min_pool_size", Value(1)}, {"max_pool_size", Value(1)}, {"pool_timeout", Value(0.3)}});
  for (int i = 0; i < 5; ++i) db->Create(Person("p" + std::to_string(i), i));
  StreamOptions one;
  one.batch_size = 1;
  auto cursor = db->StreamRead(Query(), one);  // holds the only connection while open
  std::vector<Record> batch;
  ASSERT_TRUE(cursor->NextBatch(batch));
  std::string message;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(CodeOf([&] { db->Count(); }, &message), ErrorCode::kTimeout);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 5s);
  EXPECT_NE(message.find("max_pool_size 1"), std::string::npos) << message;
  cursor.reset();  // gives the connection back
  EXPECT_EQ(db->Count(), 5u);
}

TEST_F(PostgresPoolTest, ThreadsShareThePool) {
  auto db = Open(url_, table_, Object{{"max_pool_size", Value(3)}});
  constexpr int kThreads = 6;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kEach; ++i) {
          const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          db->Create(Person(id, i));
          if (!db->Update(id, Person(id, i + 1000))) ++failures;
          const auto back = db->Read(id);
          if (!back || *back->Get("age") != Value(i + 1000) || back->version() != 2) ++failures;
          if (i % 10 == 0) db->Search(Query().Filter("age", Op::kGte, 1000).Limit(5));
        }
      } catch (const Error&) {
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db->Count(), static_cast<std::size_t>(kThreads * kEach));
}

using PostgresTimeoutTest = PostgresSharedServerTest;

TEST_F(PostgresTimeoutTest, CommandTimeoutEndsAStatementThatWaitsTooLong) {
  auto db = Open(url_, table_, Object{{"command_timeout", Value(0.3)}});
  db->Create(Person("a", 1));
  RawConnection other(url_);
  other.Query("BEGIN");
  other.Query("LOCK TABLE \"" + table_ + "\" IN ACCESS EXCLUSIVE MODE");
  std::string message, native;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(CodeOf([&] { db->Read("a"); }, &message, &native), ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(native, "57014") << message;
  other.Query("ROLLBACK");
  EXPECT_TRUE(db->Read("a").has_value()) << "the connection is usable after a timeout";
}

// ---- Rows of another program ----

using PostgresForeignRowsTest = PostgresSharedServerTest;

TEST_F(PostgresForeignRowsTest, RowsOfTheReferenceAreReadQueriedAndVersioned) {
  auto db = Open(url_, table_);
  db->Create(Person("mine", 20));
  RawConnection raw(url_);
  // As the reference writes them: data only, its vector-field form, no dkdata_fields.
  raw.Query("INSERT INTO \"" + table_ +
            "\" (id, data) VALUES ('ref', '{\"name\": \"Ada\", \"age\": 36, \"emb\": {\"name\": "
            "\"emb\", \"value\": [1.5, 2], \"type\": \"vector\", \"dimensions\": 2}}')");
  const auto ref = db->Read("ref");
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*ref->Get("name"), Value("Ada"));
  EXPECT_EQ(*ref->Get("emb"), Value(Vector{1.5f, 2.0f}));
  EXPECT_EQ(ref->version(), 1u);
  const auto older = db->Search(Query().Filter("age", Op::kGt, 30));
  ASSERT_EQ(older.size(), 1u);
  EXPECT_EQ(older[0].id(), "ref");
  EXPECT_EQ(db->Count(Where("name", Op::kStartsWith, Value("person"))), 1u);
  // Another program's update is a new version (the trigger), and dkdata's next one counts on.
  raw.Query("UPDATE \"" + table_ + "\" SET data = '{\"name\": \"Bea\"}' WHERE id = 'ref'");
  EXPECT_EQ(db->Read("ref")->version(), 2u);
  EXPECT_TRUE(db->Update("ref", Person("ref", 37), 2));
  EXPECT_EQ(db->Read("ref")->version(), 3u);
  EXPECT_EQ(CodeOf([&] { db->Update("ref", Person("ref", 38), 2); }), ErrorCode::kConflict);
}

// ---- Indexes ----

using PostgresIndexTest = PostgresSharedServerTest;

// The plan of the SQL the translator writes for expr, with sequential scans made unattractive,
// so that it names an index whenever one can serve the expression.
std::string PlanOf(RawConnection& raw, const std::string& table, const Expr& expr) {
  internal::PgQueryTranslator t(internal::PgStoreFacts{});
  const internal::SqlCondition where = t.Where(expr);
  EXPECT_TRUE(where.exact);
  const std::string sql = "EXPLAIN SELECT id FROM \"" + table + "\" WHERE " + where.maybe;
  std::vector<const char*> values;
  for (const auto& p : t.params()) values.push_back(p ? p->c_str() : nullptr);
  std::vector<Oid> types(values.size(), 25);  // text, as the backend declares them
  PQclear(PQexec(raw.get(), "SET enable_seqscan = off"));
  PGresult* r = PQexecParams(raw.get(), sql.c_str(), static_cast<int>(values.size()), types.data(),
                             values.data(), nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  std::string plan;
  for (int i = 0; i < PQntuples(r); ++i) plan += std::string(PQgetvalue(r, i, 0)) + "\n";
  PQclear(r);
  return plan;
}

TEST_F(PostgresIndexTest, ExpressionIndexesServeTheTranslatedQueries) {
  auto db = Open(url_, table_, Object{{"gin_index", Value(false)}});
  std::vector<Record> records;
  for (int i = 0; i < 2000; ++i) records.push_back(Person("p" + std::to_string(i), i % 97));
  db->CreateBatch(records);
  db->CreateIndex(IndexInfo{"age", IndexKind::kHash});
  db->CreateIndex(IndexInfo{"name", IndexKind::kOrdered});
  ASSERT_EQ(db->ListIndexes().size(), 2u);
  RawConnection raw(url_);
  raw.Query("ANALYZE \"" + table_ + "\"");
  const std::vector<Expr> served = {
      Where("age", Op::kEq, Value(30)), Where("age", Op::kIn, Value(List{Value(1), Value(2)})),
      Where("age", Op::kGt, Value(95)), Where("name", Op::kStartsWith, Value("person p19")),
      Where("name", Op::kGte, Value("person p999"))};
  for (const Expr& expr : served) {
    const std::string plan = PlanOf(raw, table_, expr);
    EXPECT_NE(plan.find("dkdata_"), std::string::npos) << expr.ToString() << "\n" << plan;
  }
  // The answers are those of a scan.
  EXPECT_EQ(db->Count(Where("age", Op::kEq, Value(30))), 21u);
  EXPECT_EQ(db->Search(Query().Filter("name", Op::kStartsWith, Value("person p199"))).size(), 11u);
  EXPECT_TRUE(db->DropIndex("name"));
  EXPECT_EQ(db->ListIndexes().size(), 1u);
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_POSTGRES
