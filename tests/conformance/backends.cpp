// tests/conformance/backends.cpp: the backends the conformance suite runs against.
//
// To plug a backend in: add a block guarded by DKDATA_HAVE_<NAME> (tests/CMakeLists.txt defines it
// for every enabled backend) that appends one BackendContext: its name, the capabilities it is
// expected to declare, how to open a fresh empty store (and, for servers, how to tell that the
// server is unreachable), how to clean up after a case, and its quirks. Every case of the suite
// then runs against it, named Backends/<Suite>.<Case>/<name>.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/factory.hpp"

#if DKDATA_HAVE_POSTGRES
#include <libpq-fe.h>

#include <mutex>

#include "pg_test_server.hpp"
#endif

#if DKDATA_HAVE_ELASTICSEARCH
#include "es_test_server.hpp"
#endif

#if DKDATA_HAVE_S3
#include "s3_test_server.hpp"
#endif

namespace dkdata::conformance {

namespace {

#if DKDATA_HAVE_SQLITE
// The sqlite_file context's databases: one folder per test process, emptied after every case.
std::filesystem::path SqliteTempFolder() {
  static const std::filesystem::path folder =
      std::filesystem::temp_directory_path() /
      ("dkdata-sqlite-conformance-" + std::to_string(::getpid()));
  return folder;
}

std::string FreshSqlitePath() {
  static std::atomic<int> counter{0};
  std::filesystem::create_directories(SqliteTempFolder());
  return (SqliteTempFolder() / ("store-" + std::to_string(counter++) + ".db")).string();
}

void RemoveSqliteFiles() {
  std::error_code ec;
  std::filesystem::remove_all(SqliteTempFolder(), ec);
}

// What both SQLite contexts declare and share.
BackendContext SqliteContext(std::string name, bool persistent) {
  BackendContext sqlite;
  sqlite.name = std::move(name);
  sqlite.expected_capabilities.persistent = persistent;
  sqlite.expected_capabilities.transactions = true;
  sqlite.expected_capabilities.atomic_batch = true;
  sqlite.expected_capabilities.secondary_indexes = true;
  // src/backends/sqlite/README.md: one connection per store, one call at a time.
  sqlite.expected_capabilities.concurrent_readers = false;
  // Rows are read in rowid order, which is insertion order; an update keeps the row's rowid.
  sqlite.quirks.insertion_ordered = true;
  return sqlite;
}
#endif

#if DKDATA_HAVE_POSTGRES
// The tables this process made on the tests' server, dropped after every case.
std::vector<std::string>& PostgresTables() {
  static std::vector<std::string> tables;
  return tables;
}

void DropPostgresTables() {
  if (PostgresTables().empty()) return;
  PGconn* conn = PQconnectdb(pgtest::ServerUrl().c_str());
  if (PQstatus(conn) == CONNECTION_OK) {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    for (const std::string& table : PostgresTables()) {
      PQclear(PQexec(conn, ("DROP TABLE IF EXISTS \"" + table + "\"").c_str()));
    }
  }
  PQfinish(conn);
  PostgresTables().clear();
}
#endif

std::vector<BackendContext> MakeBackends() {
  std::vector<BackendContext> backends;

#if DKDATA_HAVE_MEMORY
  {
    BackendContext memory;
    memory.name = "memory";
    memory.expected_capabilities.persistent = false;
    memory.expected_capabilities.atomic_batch = true;
    memory.expected_capabilities.secondary_indexes = true;
    // database.hpp: "the memory backend allows any number of concurrent callers (many readers, one
    // writer at a time)".
    memory.expected_capabilities.concurrent_readers = true;
    // "memory://" without a name is a new private store each time.
    memory.open_empty = [] { return OpenDatabase("memory://"); };
    // docs/query-semantics.md: the memory backend's store order is insertion order.
    memory.quirks.insertion_ordered = true;
    backends.push_back(std::move(memory));
  }
#endif

#if DKDATA_HAVE_SQLITE
  {
    // "sqlite://:memory:" is a new private database at each open.
    BackendContext sqlite = SqliteContext("sqlite_memory", false);
    sqlite.open_empty = [] { return OpenDatabase("sqlite://:memory:"); };
    backends.push_back(std::move(sqlite));
  }
  {
    BackendContext sqlite = SqliteContext("sqlite_file", true);
    sqlite.open_empty = [] { return OpenDatabase("sqlite://" + FreshSqlitePath()); };
    sqlite.teardown = [] { RemoveSqliteFiles(); };
    backends.push_back(std::move(sqlite));
  }
#endif

#if DKDATA_HAVE_FILE
  {
    // Every format x compression the file backend offers, each in a folder of its own.
    struct FileVariant {
      const char* label;
      const char* extension;
      bool log_engine;  // uncompressed JSONL: the file is the log (updates move a record last)
    };
    const FileVariant variants[] = {
        {"file_jsonl", ".jsonl", true},
        {"file_jsonl_gz", ".jsonl.gz", false},
        {"file_jsonl_zst", ".jsonl.zst", false},
        {"file_json", ".json", false},
        {"file_json_gz", ".json.gz", false},
        {"file_json_zst", ".json.zst", false},
        {"file_csv", ".csv", false},
        {"file_csv_gz", ".csv.gz", false},
        {"file_csv_zst", ".csv.zst", false},
        {"file_tsv", ".tsv", false},
        {"file_tsv_gz", ".tsv.gz", false},
        {"file_tsv_zst", ".tsv.zst", false},
        {"file_parquet", ".parquet", false},
    };
    for (const FileVariant& variant : variants) {
      BackendContext file;
      file.name = variant.label;
      file.expected_capabilities.persistent = true;
      file.expected_capabilities.atomic_batch = true;
      // The whole-file formats keep a memory image with the memory backend's indexes.
      file.expected_capabilities.secondary_indexes = !variant.log_engine;
      const std::string extension = variant.extension;
      file.open_empty = [extension] {
        return CreateDatabase("file", Object{{"path", Value(FreshStorePath("store" + extension))},
                                             {"sync", Value("none")}});
      };
      file.teardown = RemoveFreshStores;
      // Writes to a log move the record to the end of the store order; the others keep it.
      file.quirks.insertion_ordered = !variant.log_engine;
      file.quirks.nested_values_as_plain_json = true;
      backends.push_back(std::move(file));
    }
  }
#endif

#if DKDATA_HAVE_POSTGRES
  {
    BackendContext pg;
    pg.name = "postgres";
    pg.expected_capabilities.persistent = true;
    pg.expected_capabilities.transactions = true;
    pg.expected_capabilities.atomic_batch = true;
    pg.expected_capabilities.secondary_indexes = true;
    // src/backends/postgres/README.md: calls run concurrently on the pool's connections.
    pg.expected_capabilities.concurrent_readers = true;
    // A server that cannot be had skips locally, and fails under CI=true (open_empty throws).
    pg.unavailable_reason = [] { return pgtest::UnavailableReason(); };
    pg.open_empty = [] {
      std::string why;
      const std::string url = pgtest::ServerUrl(&why);
      if (url.empty()) throw Error(ErrorCode::kUnavailable, "no PostgreSQL server: " + why);
      const std::string table = pgtest::FreshTableName();
      PostgresTables().push_back(table);
      return CreateDatabase("postgres", Object{{"connection_string", Value(url)},
                                               {"table", Value(table)},
                                               {"min_pool_size", Value(1)}});
    };
    pg.teardown = DropPostgresTables;
    // The store's order is the primary key's (src/backends/postgres/README.md).
    pg.quirks.insertion_ordered = false;
    backends.push_back(std::move(pg));
  }
#endif

#if DKDATA_HAVE_ELASTICSEARCH
  // The same backend on an Elasticsearch 8 node and on an OpenSearch 2 node.
  for (const std::string flavor : {"elasticsearch", "opensearch"}) {
    BackendContext es;
    es.name = flavor;
    es.expected_capabilities.persistent = true;
    // src/backends/elasticsearch/README.md: create_batch removes what it wrote when an item fails.
    es.expected_capabilities.atomic_batch = true;
    es.expected_capabilities.concurrent_readers = true;
    es.unavailable_reason = [flavor] { return estest::UnavailableReason(flavor); };
    es.open_empty = [flavor] {
      std::string why;
      const std::string url = estest::ServerUrl(&why, flavor);
      if (url.empty()) throw Error(ErrorCode::kUnavailable, "no " + flavor + " node: " + why);
      return CreateDatabase("elasticsearch", Object{{"hosts", Value(url)},
                                                    {"index", Value(estest::FreshIndexName())}});
    };
    es.teardown = [flavor] {
      const std::string url = estest::ServerUrl(nullptr, flavor);
      if (!url.empty()) estest::DeleteIndex(url, "dk_t_" + std::to_string(::getpid()) + "_*");
    };
    // The store's order is the id's (src/backends/elasticsearch/README.md).
    es.quirks.insertion_ordered = false;
    // Every query is a round trip or more: fewer random queries keep the test short.
    es.quirks.differential_queries = 600;
    backends.push_back(std::move(es));
  }
#endif

#if DKDATA_HAVE_S3
  {
    // One bucket per test process on the S3 server (moto, checking signatures), one prefix per
    // case: listings under "c7/" never see "c70/".
    BackendContext s3;
    s3.name = "s3";
    s3.expected_capabilities.persistent = true;
    // src/backends/s3/README.md: create_batch writes in parallel and names each failed item.
    s3.expected_capabilities.atomic_batch = false;
    s3.expected_capabilities.concurrent_readers = true;
    s3.unavailable_reason = [] { return s3test::UnavailableReason(); };
    s3.open_empty = [] {
      std::string why;
      const s3test::S3Server server = s3test::Server(&why);
      if (server.endpoint.empty()) throw Error(ErrorCode::kUnavailable, "no S3 server: " + why);
      static const std::string bucket = s3test::FreshBucket(server);
      static std::atomic<int> cases{0};
      return CreateDatabase(
          "s3", s3test::StoreOptions(server, bucket, "c" + std::to_string(cases++) + "/"));
    };
    // The store's order is S3's key order (src/backends/s3/README.md).
    s3.quirks.insertion_ordered = false;
    // The body is the structured JSON form: a json field's nested values are plain JSON.
    s3.quirks.nested_values_as_plain_json = true;
    // Every query lists and reads the store: fewer random queries keep the test short.
    s3.quirks.differential_queries = 300;
    backends.push_back(std::move(s3));
  }
#endif

  return backends;
}

}  // namespace

const std::vector<BackendContext>& AllBackends() {
  static const std::vector<BackendContext> backends = MakeBackends();
  return backends;
}

// ---- The backend's own declarations ----

class BackendContract : public BackendTest {};

TEST_P(BackendContract, DeclaresExpectedCapabilities) {
  const Capabilities want = context().expected_capabilities;
  const Capabilities have = db_->capabilities();
  EXPECT_EQ(have.persistent, want.persistent) << "persistent";
  EXPECT_EQ(have.transactions, want.transactions) << "transactions";
  EXPECT_EQ(have.atomic_batch, want.atomic_batch) << "atomic_batch";
  EXPECT_EQ(have.secondary_indexes, want.secondary_indexes) << "secondary_indexes";
  EXPECT_EQ(have.native_full_text, want.native_full_text) << "native_full_text";
  EXPECT_EQ(have.vector_search, want.vector_search) << "vector_search";
  EXPECT_EQ(have.concurrent_readers, want.concurrent_readers) << "concurrent_readers";
}

TEST_P(BackendContract, NamesItselfAsRegistered) {
  const std::string_view name = db_->backend_name();
  ASSERT_FALSE(name.empty());
  const BackendInfo* info = BackendRegistry::Find(name);
  ASSERT_NE(info, nullptr) << "backend_name() '" << name << "' is not a registered backend";
  EXPECT_EQ(info->name, name) << "backend_name() must be the registry name, not an alias";
}

TEST_P(BackendContract, EachOpenGivesAnIndependentStore) {
  db_->Create(MakeRecord("only-here", {{"x", 1}}));
  std::unique_ptr<Database> other = context().open_empty();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Count(), 0u) << "open_empty must give a store of its own";
  EXPECT_FALSE(other->Exists("only-here"));
  other->Close();
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(BackendContract);

}  // namespace dkdata::conformance
