// The SQLite backend beyond the conformance suite: options and URLs, persistence, table and field
// names that need quoting, error mapping, and the values SQLite's JSON functions handle unlike
// dkdata (strings with U+0000, years outside 0-9999).
#if DKDATA_HAVE_SQLITE
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "dkdata/dkdata.hpp"

namespace dkdata {
namespace {

class SqliteBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("dkdata-sqlite-unit-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  std::string PathOf(const std::string& name) const { return (folder_ / name).string(); }

  // Runs SQL on a connection of its own (as another program would), returning the first column
  // of each row.
  std::vector<std::string> Raw(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = sql.c_str();
    while (*tail != '\0') {
      if (sqlite3_prepare_v2(db, tail, -1, &stmt, &tail) != SQLITE_OK) {
        ADD_FAILURE() << sqlite3_errmsg(db) << " in " << sql;
        break;
      }
      if (stmt == nullptr) break;
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        out.push_back(text == nullptr ? "NULL" : text);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return out;
  }

  std::filesystem::path folder_;
};

std::vector<std::string> Ids(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& r : records) ids.push_back(r.id().value_or("?"));
  return ids;
}

// ---- Registry, URLs and options ----

TEST_F(SqliteBackendTest, RegisteredWithAliasAndSchemes) {
  const BackendInfo* info = BackendRegistry::Find("sqlite3");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "sqlite");
  EXPECT_TRUE(info->available);
  EXPECT_EQ(BackendRegistry::FindByScheme("sqlite3"), info);
  auto db = OpenDatabase("sqlite3://:memory:");
  EXPECT_EQ(db->backend_name(), "sqlite");
  EXPECT_FALSE(db->capabilities().persistent);
  EXPECT_TRUE(db->capabilities().transactions);
}

TEST_F(SqliteBackendTest, UrlForms) {
  const BackendInfo* info = BackendRegistry::Find("sqlite");
  auto options = [&](std::string_view rest) { return info->url_parser("sqlite", rest); };
  EXPECT_EQ(*options("///abs/path.db").Find("path"), Value("/abs/path.db"));
  EXPECT_EQ(*options("//relative.db").Find("path"), Value("relative.db"));
  EXPECT_EQ(*options("//:memory:").Find("path"), Value(":memory:"));
  EXPECT_EQ(options("//").Find("path"), nullptr) << "no path: the default, :memory:";
  const Object with_query = options("///data/my%20store.db?table=people&timeout=2.5");
  EXPECT_EQ(*with_query.Find("path"), Value("/data/my store.db"));
  EXPECT_EQ(*with_query.Find("table"), Value("people"));
  EXPECT_EQ(*with_query.Find("timeout"), Value("2.5"));

  auto db = OpenDatabase("sqlite://" + PathOf("u.db") + "?table=people&journal_mode=delete");
  db->Create(Record{{"id", "a"}, {"n", 1}});
  db->Close();
  EXPECT_EQ(Raw(PathOf("u.db"), "SELECT id FROM people"), std::vector<std::string>{"a"});
  EXPECT_EQ(Raw(PathOf("u.db"), "PRAGMA journal_mode"), std::vector<std::string>{"delete"});
}

TEST_F(SqliteBackendTest, ReferenceConfigKeysAreAccepted) {
  auto db = CreateDatabase("sqlite", Object{{"path", Value(PathOf("k.db"))},
                                            {"table", Value("t")},
                                            {"timeout", Value(1.5)},
                                            {"journal_mode", Value("WAL")},
                                            {"synchronous", Value("normal")},
                                            {"auto_create_table", Value("true")},
                                            {"check_same_thread", Value(false)},
                                            {"vector_enabled", Value(true)},
                                            {"vector_metric", Value("cosine")}});
  EXPECT_TRUE(db->capabilities().persistent);
  db->Close();
  EXPECT_EQ(Raw(PathOf("k.db"), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(SqliteBackendTest, FilesUseWalByDefault) {
  auto db = OpenDatabase("sqlite://" + PathOf("w.db"));
  db->Close();
  EXPECT_EQ(Raw(PathOf("w.db"), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(SqliteBackendTest, BadOptionsNameTheKeyAndTheBackend) {
  auto expect_error = [](const Object& options, const std::string& key) {
    try {
      CreateDatabase("sqlite", options);
      ADD_FAILURE() << "accepted option " << key;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("sqlite"), std::string::npos) << e.what();
    }
  };
  expect_error(Object{{"paht", Value("x.db")}}, "paht");
  expect_error(Object{{"journal_mode", Value("wal; DROP TABLE x")}}, "journal_mode");
  expect_error(Object{{"synchronous", Value("sometimes")}}, "synchronous");
  expect_error(Object{{"timeout", Value("soon")}}, "timeout");
  expect_error(Object{{"auto_create_table", Value("maybe")}}, "auto_create_table");
  expect_error(Object{{"table", Value("")}}, "table");
}

TEST_F(SqliteBackendTest, WithoutAutoCreateAMissingTableIsNotFound) {
  try {
    CreateDatabase("sqlite",
                   Object{{"path", Value(PathOf("n.db"))}, {"auto_create_table", Value(false)}});
    ADD_FAILURE() << "opened a missing table";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
    EXPECT_EQ(e.backend(), "sqlite");
  }
}

TEST_F(SqliteBackendTest, OpeningAFolderThatCannotExistIsAnIoError) {
  std::filesystem::create_directories(folder_ / "dir.db");
  try {
    OpenDatabase("sqlite://" + PathOf("dir.db"));
    ADD_FAILURE() << "opened a folder as a database";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo) << e.what();
    EXPECT_FALSE(e.native_code().empty());
  }
}

// ---- Persistence ----

TEST_F(SqliteBackendTest, DataAndVersionsOutliveTheProcessHandle) {
  const std::string url = "sqlite://" + PathOf("nested/folder/p.db");  // folders are created
  {
    auto db = OpenDatabase(url);
    db->Create(Record{{"id", "a"}, {"when", Timestamp{1714550400123456}}, {"n", 1}});
    db->Update("a", Record{{"when", Timestamp{1714550400123456}}, {"n", 2}});
    db->CreateIndex({"n", IndexKind::kOrdered});
    db->Close();
  }
  auto db = OpenDatabase(url);
  const auto a = db->Read("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->version(), 2u);
  EXPECT_EQ(*a->Get("when"), Value(Timestamp{1714550400123456}));
  ASSERT_EQ(db->ListIndexes().size(), 1u);
  EXPECT_EQ(db->ListIndexes()[0].field, "n");
  EXPECT_EQ(db->ListIndexes()[0].kind, IndexKind::kOrdered);
}

TEST_F(SqliteBackendTest, DataColumnIsPlainJsonThatSqlCanQuery) {
  auto db = OpenDatabase("sqlite://" + PathOf("j.db"));
  Record r{{"name", "Ada"}, {"age", 36}, {"when", Timestamp{0}}, {"raw", Bytes{"\x01\x02"}}};
  r.set_id("ada");
  r.metadata().Set("source", "test");
  db->Create(r);
  db->Close();
  EXPECT_EQ(Raw(PathOf("j.db"),
                "SELECT json_extract(data, '$.age') || ' ' || json_extract(data, '$.name') || ' ' "
                "|| json_extract(data, '$.when') || ' ' || json_extract(data, '$.raw') || ' ' || "
                "json_extract(metadata, '$.source') FROM records"),
            std::vector<std::string>{"36 Ada 1970-01-01T00:00:00Z AQI= test"});
}

TEST_F(SqliteBackendTest, TypesAndMetadataRoundTrip) {
  const std::string path = PathOf("m.db");
  Record r;
  r.set_id("m");
  r.Set(Field("short_text", Value("abc"), FieldType::kText, Object{{"lang", "en"}}));
  r.Set(Field("when", Value(Timestamp{5}), FieldType::kDatetime,
              Object{{"checked", Timestamp{7}}, {"raw", Bytes{"\x01"}}}));
  r.Set(Field("emb", Value(Vector{0.25f, -1.0f}), FieldType::kVector, Object{{"model", "m1"}}));
  r.Set(Field("sparse", Value(Object{{"3", 0.5}}), FieldType::kSparseVector));
  r.Set(Field("nested", Value(List{Object{{"at", Timestamp{9}}}, Vector{1.0f}, Bytes{"x"}})));
  r.Set(Field("number_as_string", Value("42"), FieldType::kInteger));
  r.metadata() = Object{{"source", "unit"}, {"seen", Timestamp{11}}, {"blob", Bytes{"\xff"}}};
  {
    auto db = OpenDatabase("sqlite://" + path);
    db->Create(r);
    db->Close();
  }
  auto db = OpenDatabase("sqlite://" + path);
  auto got = db->Read("m");
  ASSERT_TRUE(got.has_value());
  r.set_version(1);
  EXPECT_TRUE(*got == r) << RecordToJson(*got) << "\n" << RecordToJson(r);
  // What the reference sees in the data column: plain JSON, the vector in its own form.
  db->Close();
  EXPECT_EQ(Raw(path,
                "SELECT json_extract(data, '$.emb.type') || ' ' || "
                "json_extract(data, '$.nested[0].at') || ' ' || "
                "json_extract(metadata, '$.seen') FROM records"),
            std::vector<std::string>{"vector 1970-01-01T00:00:00.000009Z "
                                     "1970-01-01T00:00:00.000011Z"});
}

// ---- Names that need quoting ----

TEST_F(SqliteBackendTest, TableNamesWithQuotesSpacesAndUnicode) {
  for (const std::string table : {"we\"ird tab'le", "día de datos", "select", "a.b"}) {
    SCOPED_TRACE(table);
    auto db = CreateDatabase("sqlite",
                             Object{{"path", Value(PathOf("names.db"))}, {"table", Value(table)}});
    db->Create(Record{{"id", "x"}, {"n", 1}});
    db->CreateIndex({"n", IndexKind::kHash});
    EXPECT_EQ(db->Count(Where("n", Op::kEq, 1)), 1u);
    EXPECT_EQ(db->ListIndexes().size(), 1u);
    EXPECT_TRUE(db->DropIndex("n"));
    db->Close();
  }
  auto again = CreateDatabase(
      "sqlite", Object{{"path", Value(PathOf("names.db"))}, {"table", Value("we\"ird tab'le")}});
  EXPECT_EQ(again->Count(), 1u) << "each table is its own store";
}

TEST_F(SqliteBackendTest, FieldNamesSqlPathsCannotNameStillAnswer) {
  auto db = OpenDatabase("sqlite://:memory:");
  db->Create(Record{{"id", "a"}, {"say \"hi\"", 1}, {"back\\slash", "x"}, {"a.b", 2}, {"é", 3}});
  db->Create(Record{{"id", "b"}, {"say \"hi\"", 2}, {"a", Object{{"b", 5}}}});
  EXPECT_EQ(Ids(db->Search(Query(Where("say \"hi\"", Op::kGt, 1)))), std::vector<std::string>{"b"});
  EXPECT_EQ(db->Count(Where("back\\slash", Op::kEq, "x")), 1u);
  EXPECT_EQ(Ids(db->Search(Query(Where("a.b", Op::kGte, 2)).Sort("a.b", SortOrder::kDesc))),
            (std::vector<std::string>{"b", "a"}))
      << "a field named 'a.b' wins over the walk into 'a'";
  EXPECT_EQ(db->Count(Where("é", Op::kEq, 3)), 1u);
  try {
    db->CreateIndex({"say \"hi\"", IndexKind::kHash});
    ADD_FAILURE() << "indexed a key SQLite cannot name";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
  }
  db->CreateIndex({"é", IndexKind::kHash});
  EXPECT_EQ(db->Count(Where("é", Op::kEq, 3)), 1u);
}

// ---- Errors ----

TEST_F(SqliteBackendTest, DuplicateIdKeepsTheNativeCode) {
  auto db = OpenDatabase("sqlite://:memory:");
  db->Create(Record{{"id", "a"}});
  try {
    db->Create(Record{{"id", "a"}});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.backend(), "sqlite");
    EXPECT_EQ(e.native_code(), "SQLITE_CONSTRAINT_PRIMARYKEY");
  }
}

TEST_F(SqliteBackendTest, ALockHeldByAnotherConnectionIsATimeout) {
  auto db =
      CreateDatabase("sqlite", Object{{"path", Value(PathOf("busy.db"))}, {"timeout", Value(0.2)}});
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(PathOf("busy.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    db->Create(Record{{"id", "a"}});
    ADD_FAILURE() << "wrote while another connection held the write lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
    EXPECT_EQ(e.native_code().rfind("SQLITE_BUSY", 0), 0u) << e.native_code();
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_NO_THROW(db->Create(Record{{"id", "a"}}));
}

// ---- Values SQLite's JSON functions read unlike dkdata ----

TEST_F(SqliteBackendTest, StringsWithNulCharactersQueryCorrectly) {
  auto db = OpenDatabase("sqlite://:memory:");
  db->Create(Record{{"id", "plain"}, {"s", "ab"}});
  EXPECT_EQ(db->Count(Where("s", Op::kEq, "ab")), 1u);
  db->Create(Record{{"id", "nul"}, {"s", std::string("ab\0cd", 5)}});
  // json_extract reads "ab" for the second; the answers must not.
  EXPECT_EQ(Ids(db->Search(Query(Where("s", Op::kEq, "ab")))), std::vector<std::string>{"plain"});
  EXPECT_EQ(db->Count(Where("s", Op::kEq, "ab")), 1u);
  EXPECT_EQ(db->Count(Where("s", Op::kLike, "ab")), 1u);
  EXPECT_EQ(db->Count(Where("s", Op::kNeq, "ab")), 1u);
  EXPECT_EQ(Ids(db->Search(Query().Sort("s", SortOrder::kDesc))),
            (std::vector<std::string>{"nul", "plain"}));
  EXPECT_EQ(*db->Read("nul")->Get("s"), Value(std::string("ab\0cd", 5)));
}

TEST_F(SqliteBackendTest, TimestampsOutsideFourDigitYearsRoundTripAndCompare) {
  auto db = OpenDatabase("sqlite://:memory:");
  constexpr std::int64_t kYear = std::int64_t{365} * 86400 * 1000000;
  const Timestamp far_future{10500 * kYear};
  const Timestamp far_past{-2100 * kYear};
  db->Create(Record{{"id", "future"}, {"t", far_future}});
  db->Create(Record{{"id", "past"}, {"t", far_past}});
  db->Create(Record{{"id", "now"}, {"t", Timestamp{1714550400000000}}});
  EXPECT_EQ(*db->Read("future")->Get("t"), Value(far_future));
  EXPECT_EQ(*db->Read("past")->Get("t"), Value(far_past));
  EXPECT_EQ(Ids(db->Search(Query().Sort("t"))),
            (std::vector<std::string>{"past", "now", "future"}));
  EXPECT_EQ(Ids(db->Search(Query(Where("t", Op::kGt, Timestamp{0})))),
            (std::vector<std::string>{"future", "now"}));
  EXPECT_EQ(db->Count(Where("t", Op::kEq, far_past)), 1u);
}

// ---- Another program's writes ----

TEST_F(SqliteBackendTest, AnotherProgramsUpdateIsANewVersionWithPlainJson) {
  const std::string path = PathOf("o.db");
  auto db = OpenDatabase("sqlite://" + path);
  db->Create(Record{{"id", "a"}, {"t", Timestamp{0}}, {"n", 1}});
  // The reference implementation's update: data and metadata only.
  Raw(path,
      "UPDATE records SET data = '{\"t\": \"hello\", \"n\": 2}', metadata = NULL WHERE id = 'a'");
  const auto a = db->Read("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->version(), 2u) << "a foreign update counts as a version";
  EXPECT_EQ(*a->Get("t"), Value("hello")) << "the old type information no longer applies";
  EXPECT_EQ(db->Count(Where("t", Op::kEq, "hello")), 1u);
  EXPECT_THROW(db->Update("a", Record{{"n", 3}}, 1), Error);
  EXPECT_TRUE(db->Update("a", Record{{"n", 3}}, 2));
}

}  // namespace
}  // namespace dkdata
#endif  // DKDATA_HAVE_SQLITE
