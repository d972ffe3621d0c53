// The SQLite backend and the reference implementation (dataknobs-data) on one table: each reads
// the other's rows. The first cases write rows the way the reference's SQLite backend does (its
// DDL, Python's json.dumps with escaped non-ASCII, its vector fields); the last runs the reference
// itself when it is installed (.venv, scripts/install-deps.sh --peers) and skips otherwise.
#if DKDATA_HAVE_SQLITE
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

// The reference's table, exactly as its SQLTableManager creates it for SQLite.
constexpr const char* kReferenceDdl = R"(
CREATE TABLE IF NOT EXISTS "people" (
    id VARCHAR(255) PRIMARY KEY,
    data TEXT NOT NULL CHECK (json_valid(data)),
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "idx_people_created" ON "people" (created_at);
CREATE INDEX IF NOT EXISTS "idx_people_updated" ON "people" (updated_at);
)";

class SqliteInteropTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("dkdata-sqlite-interop-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    path_ = (folder_ / "shared.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "") << "\n"
        << sql;
    sqlite3_free(message);
    sqlite3_close(db);
  }

  std::unique_ptr<Database> Open() {
    return CreateDatabase("sqlite", Object{{"path", Value(path_)}, {"table", Value("people")}});
  }

  std::filesystem::path folder_;
  std::string path_;
};

std::vector<std::string> Ids(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& r : records) ids.push_back(r.id().value_or("?"));
  return ids;
}

TEST_F(SqliteInteropTest, ReadsAndQueriesRowsWrittenTheReferencesWay) {
  Exec(kReferenceDdl);
  // What json.dumps writes: non-ASCII escaped (keys too), ", " and ": " separators, vector fields
  // as {"name", "value", "type": "vector", "metadata", "dimensions"}.
  Exec(R"(INSERT INTO people (id, data, metadata) VALUES
    ('r1', '{"name": "Zo\u00eb", "age": 30, "caf\u00e9": "yes", "tags": ["a", "b"]}', NULL),
    ('r2', '{"name": "Bo", "age": 41.5, "emb": {"name": "emb", "value": [1.0, 2.5], "type": "vector", "metadata": {"model": "m1"}, "dimensions": 2}}', '{"source": "ref"}'),
    ('r3', '{"name": "Cy", "s": "a\u0000b", "caf\u00e9": "no"}', NULL))");

  auto db = Open();
  EXPECT_EQ(db->Count(), 3u);
  const auto r1 = db->Read("r1");
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->version(), 1u);
  EXPECT_EQ(*r1->Get("name"), Value("Zoë"));
  EXPECT_EQ(*r1->Get("café"), Value("yes"));
  EXPECT_EQ(*r1->Get("tags"), Value(List{"a", "b"}));
  const auto r2 = db->Read("r2");
  ASSERT_TRUE(r2.has_value());
  const Field* emb = r2->FindField("emb");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->value, Value(Vector{1.0f, 2.5f}));
  EXPECT_EQ(emb->type, FieldType::kVector);
  EXPECT_EQ(emb->metadata, (Object{{"model", "m1"}}));
  EXPECT_EQ(r2->metadata(), (Object{{"source", "ref"}}));

  // Queries: escaped keys, the vector form, and a string cut short by U+0000 all answer right.
  EXPECT_EQ(Ids(db->Search(Query(Where("café", Op::kEq, "yes")))), std::vector<std::string>{"r1"});
  EXPECT_EQ(db->Count(Where("café", Op::kExists)), 2u);
  EXPECT_EQ(Ids(db->Search(Query(Where("name", Op::kEq, "Zoë")))), std::vector<std::string>{"r1"});
  EXPECT_EQ(db->Count(Where("emb", Op::kExists)), 1u);
  EXPECT_EQ(db->Count(Where("emb.value", Op::kExists)), 0u) << "a vector has no members";
  EXPECT_EQ(db->Count(Where("emb", Op::kEq, Vector{1.0f, 2.5f})), 1u);
  EXPECT_EQ(db->Count(Where("s", Op::kEq, "a")), 0u);
  EXPECT_EQ(Ids(db->Search(Query(Where("age", Op::kGte, 30)).Sort("age", SortOrder::kDesc))),
            (std::vector<std::string>{"r2", "r1"}));

  // Our writes next to theirs; their update of one of ours is a new version.
  db->Create(Record{{"id", "d1"}, {"name", "Dee"}, {"when", Timestamp{0}}});
  EXPECT_TRUE(db->Update("r1", Record{{"name", "Zoë"}, {"age", 31}}));
  EXPECT_EQ(db->Read("r1")->version(), 2u);
  db->Close();
  Exec(
      R"(UPDATE people SET data = '{"name": "Dee", "when": "later"}', metadata = NULL WHERE id = 'd1')");
  auto again = Open();
  const auto d1 = again->Read("d1");
  ASSERT_TRUE(d1.has_value());
  EXPECT_EQ(d1->version(), 2u);
  EXPECT_EQ(*d1->Get("when"), Value("later"));
}

// The reference implementation, run from the project's virtual environment.
std::string ReferencePython() {
  const std::filesystem::path source =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  const std::filesystem::path python = source / ".venv" / "bin" / "python";
  return std::filesystem::exists(python) ? python.string() : std::string();
}

std::string RunPython(const std::string& python, const std::filesystem::path& script,
                      const std::string& args) {
  const std::string command = python + " " + script.string() + " " + args + " 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

constexpr const char* kReferenceScript = R"(
import json, sys, warnings
warnings.filterwarnings("ignore")
from dataknobs_data.backends.sqlite import SyncSQLiteDatabase
from dataknobs_data.fields import VectorField
from dataknobs_data.query import Query
from dataknobs_data.records import Record
db = SyncSQLiteDatabase.from_config({"path": sys.argv[1], "table": "people"})
db.connect()
if sys.argv[2] == "write":
    db.create(Record({"name": "Zoë", "age": 30, "café": "yes"}, storage_id="ref-1"))
    db.create(Record({"name": "Vec", "emb": VectorField([0.5, 1.5], name="emb")},
                     metadata={"source": "ref"}, storage_id="ref-2"))
else:
    out = {}
    for r in db.search(Query()):
        fields = {}
        for name, f in r.fields.items():
            value = f.value.tolist() if hasattr(f.value, "tolist") else f.value
            fields[name] = [type(f).__name__, value]
        out[r.storage_id] = {"fields": fields, "metadata": r.metadata}
    print(json.dumps(out, sort_keys=True, ensure_ascii=False))
db.close()
)";

TEST_F(SqliteInteropTest, TheReferenceImplementationReadsOurRowsAndWeReadItsRows) {
  const std::string python = ReferencePython();
  if (python.empty())
    GTEST_SKIP() << "the reference is not installed (.venv): run "
                    "scripts/install-deps.sh --peers";
  const std::filesystem::path script = folder_ / "reference.py";
  std::ofstream(script) << kReferenceScript;

  const std::string wrote = RunPython(python, script, path_ + " write");
  ASSERT_TRUE(wrote.empty()) << wrote;
  auto db = Open();
  const auto ref1 = db->Read("ref-1");
  ASSERT_TRUE(ref1.has_value());
  EXPECT_EQ(*ref1->Get("café"), Value("yes"));
  EXPECT_EQ(db->Count(Where("café", Op::kEq, "yes")), 1u);
  const auto ref2 = db->Read("ref-2");
  ASSERT_TRUE(ref2.has_value());
  EXPECT_EQ(*ref2->Get("emb"), Value(Vector{0.5f, 1.5f}));
  EXPECT_EQ(ref2->metadata(), (Object{{"source", "ref"}}));

  Record ours{{"name", "Ours"}, {"age", 7}, {"when", Timestamp{0}}, {"emb", Vector{2.0f, 3.0f}}};
  ours.set_id("ours-1");
  db->Create(ours);
  db->Close();

  const std::string read = RunPython(python, script, path_ + " read");
  const Value all = ParseJson(read.substr(0, read.find('\n')));
  const Value* mine = all.Get<Object>() ? all.AsObject().Find("ours-1") : nullptr;
  ASSERT_NE(mine, nullptr) << read;
  const Object& fields = mine->AsObject().Find("fields")->AsObject();
  EXPECT_EQ(*fields.Find("name"), Value(List{"Field", "Ours"}));
  EXPECT_EQ(*fields.Find("age"), Value(List{"Field", 7}));
  EXPECT_EQ(*fields.Find("when"), Value(List{"Field", "1970-01-01T00:00:00Z"}));
  EXPECT_EQ(*fields.Find("emb"), Value(List{"VectorField", List{2.0, 3.0}})) << read;
  EXPECT_NE(all.AsObject().Find("ref-1"), nullptr) << "the reference still reads its own rows";
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_SQLITE
